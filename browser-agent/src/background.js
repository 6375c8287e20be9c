/**
 * The service worker: wires the browser to the agent core. Alarms drive it — `poll` every
 * poll interval (the controller's, ±10 % so a district's devices spread out), `deliver` for a
 * report delivery's retry, `start:<evaluation>` for a coordinated bandwidth run — and a poll
 * runs at once when the extension is installed, when the browser starts and when the district's
 * policy changes.
 *
 * The browser stops an idle worker at any moment, so every piece of state is in
 * `chrome.storage`, and each poll starts by closing a probe window a stopped worker left open.
 */

import { Agent, KEYS } from "./agent.js";
import { closeLeftoverProbeWindow } from "./checks/navigate.js";
import { runChecks } from "./checks/run.js";

const POLL_ALARM = "poll";
const DELIVER_ALARM = "deliver";
/** The controller's default poll interval, used until its first answer. */
const DEFAULT_POLL_S = 60;
const POLL_JITTER = 0.1;
/** Chrome's shortest alarm period, minutes. */
const MIN_ALARM_MINUTES = 0.5;
/**
 * While work runs, an extension API call this often keeps the browser from stopping the worker
 * as idle (a navigation or a coordinated start can wait longer than its 30 s idle limit).
 */
const HEARTBEAT_MS = 20_000;

/** Unix milliseconds with sub-millisecond resolution, for round trips on a fast network. */
const now = () => performance.timeOrigin + performance.now();
const randomBytes = (n) => crypto.getRandomValues(new Uint8Array(n));

const checkEnv = {
  chrome,
  navigator: self.navigator,
  fetch: (...args) => fetch(...args),
  now,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
  randomBytes,
  randomId: () => crypto.randomUUID(),
};

const agent = new Agent({
  fetch: (...args) => fetch(...args),
  storage: {
    get: (keys) => chrome.storage.local.get(keys),
    set: (items) => chrome.storage.local.set(items),
    remove: (keys) => chrome.storage.local.remove(keys),
  },
  readManaged: () => chrome.storage.managed.get(null),
  now,
  random: Math.random,
  randomUUID: () => crypto.randomUUID(),
  randomBytes,
  runChecks: (assignment, access) => runChecks(assignment, access, checkEnv),
  schedule: { pollEvery, deliverAt, wakeAt },
  version: chrome.runtime.getManifest().version,
  extensions: async () =>
    (await chrome.management.getAll())
      .filter((e) => e.type === "extension" && e.id !== chrome.runtime.id)
      .map(({ id, name, version, enabled }) => ({ id, name, version, enabled })),
});

/**
 * The work this worker is doing now. Only one poll or delivery runs at a time; a trigger while
 * one runs joins it (the running poll delivers too). A stopped worker stops its work with it.
 */
let busy = null;

function exclusive(work) {
  busy ??= (async () => {
    const heartbeat = setInterval(() => chrome.runtime.getPlatformInfo(), HEARTBEAT_MS);
    try {
      await closeLeftoverProbeWindow(chrome);
      await work();
    } catch (e) {
      await agent.status("problem", `The agent stopped on an unexpected error (${e?.message ?? e}); it tries again at the next poll.`);
    } finally {
      clearInterval(heartbeat);
      busy = null;
    }
  })();
  return busy;
}

/** Re-arms the poll alarm when the interval changed or the alarm is missing. */
async function pollEvery(seconds) {
  const interval = seconds > 0 ? seconds : DEFAULT_POLL_S;
  const { [KEYS.pollInterval]: current } = await chrome.storage.local.get(KEYS.pollInterval);
  if (current === interval && (await chrome.alarms.get(POLL_ALARM))) return;
  await chrome.storage.local.set({ [KEYS.pollInterval]: interval });
  const jittered = interval * (1 - POLL_JITTER + 2 * POLL_JITTER * Math.random());
  const minutes = Math.max(MIN_ALARM_MINUTES, jittered / 60);
  await chrome.alarms.create(POLL_ALARM, { delayInMinutes: minutes, periodInMinutes: minutes });
}

async function deliverAt(ms) {
  if (ms === null) await chrome.alarms.clear(DELIVER_ALARM);
  else await chrome.alarms.create(DELIVER_ALARM, { when: ms });
}

async function wakeAt(evaluationId, ms) {
  await chrome.alarms.create(`start:${evaluationId}`, { when: ms });
}

async function start() {
  const { [KEYS.pollInterval]: current } = await chrome.storage.local.get(KEYS.pollInterval);
  await pollEvery(current ?? DEFAULT_POLL_S);
  await exclusive(() => agent.cycle());
}

chrome.runtime.onInstalled.addListener(() => start());
chrome.runtime.onStartup.addListener(() => start());
chrome.alarms.onAlarm.addListener((alarm) =>
  exclusive(() => (alarm.name === DELIVER_ALARM ? agent.retryDelivery() : agent.cycle())),
);
chrome.storage.onChanged.addListener((_changes, area) => {
  if (area === "managed") exclusive(() => agent.cycle());
});
