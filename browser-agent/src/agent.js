/**
 * The agent core: enrollment, polling, running assignments and store-and-forward delivery,
 * with everything it touches handed in, so node tests drive it with a fake controller, fake
 * storage and a fake clock.
 *
 * A service worker may be stopped at any moment, so nothing here lives past one call but in
 * storage: the agent id, the credential and the labels it enrolled with, the evaluations already
 * run, the spool of reports not yet acknowledged, the refused ones, the delivery backoff and a
 * status line for the district's administrator. A report enters the spool — and its evaluation
 * counts as run — in one storage write, before any delivery is tried; it leaves the spool only
 * when the controller has stored it (201) or had it already (200).
 */

import { readConfig } from "./config.js";
import { plan } from "./plan.js";
import { buildReport, uuidv7 } from "./report.js";

/** `chrome.storage.local` keys. */
export const KEYS = Object.freeze({
  agentId: "agent_id",
  enrollment: "enrollment",
  ran: "ran",
  attempts: "attempts",
  spool: "spool",
  rejected: "rejected",
  abandoned: "abandoned",
  delivery: "delivery",
  status: "status",
  pollInterval: "poll_interval_s",
  extensionsSent: "extensions_sent",
});

const API = "/api/agent/v1";
/** Refused reports, and evaluations given up, kept for a person to read. */
export const MAX_REJECTED = 20;
/** Reports waiting at most; beyond it the oldest is dropped, and the status says so. */
export const MAX_SPOOL = 50;
/** Evaluations remembered as run. */
const MAX_RAN = 1000;
/** Starts of one evaluation that did not end in a report before it is given up. */
export const MAX_ATTEMPTS = 3;
/** Delivery retries: 30 s, doubling to an hour, ±20 %. */
const FIRST_RETRY_MS = 30_000;
const MAX_RETRY_MS = 3_600_000;
/**
 * A coordinated bandwidth start further away than this is not waited for: the evaluation
 * starts `WAKE_BEFORE_MS` before it, woken by an alarm, so the worker is not held for minutes.
 */
const START_LEAD_MS = 60_000;
const WAKE_BEFORE_MS = 45_000;
const REQUEST_TIMEOUT_MS = 30_000;
/** Statuses with which the controller refuses a report for good (the native agent's list). */
const REFUSED = new Set([400, 403, 413, 422]);

/** What an answer to a report delivery means. */
export function deliveryVerdict(status) {
  if (status === 200 || status === 201) return "delivered";
  if (status === 401) return "reenroll";
  if (REFUSED.has(status)) return "refused";
  return "retry";
}

/**
 * How long to wait before the `failures`-th retry in a row: 30 s doubling to an hour, ±20 %
 * (`random` in [0, 1)), and never less than the controller's `Retry-After` (up to an hour).
 */
export function retryDelayMs(failures, random, retryAfterS) {
  const ceiling = Math.min(FIRST_RETRY_MS * 2 ** Math.max(0, failures - 1), MAX_RETRY_MS);
  const jittered = ceiling * (0.8 + 0.4 * random);
  const floor = retryAfterS > 0 ? Math.min(retryAfterS * 1000, MAX_RETRY_MS) : 0;
  return Math.round(Math.max(jittered, floor));
}

/**
 * When to wake for an assignment whose coordinated bandwidth run starts too far ahead to wait
 * for; null when it can run now.
 */
export function deferredStart(assignment, nowMs) {
  const startAtMs = plan(assignment).bandwidth?.startAtMs ?? null;
  if (startAtMs === null || startAtMs - nowMs <= START_LEAD_MS) return null;
  return startAtMs - WAKE_BEFORE_MS;
}

export class Agent {
  /**
   * @param {object} deps
   * @param {typeof fetch} deps.fetch
   * @param {{get(keys): Promise<object>, set(items): Promise<void>, remove(keys): Promise<void>}} deps.storage
   * @param {() => Promise<object>} deps.readManaged the managed settings
   * @param {() => number} deps.now Unix milliseconds
   * @param {() => number} deps.random in [0, 1)
   * @param {() => string} deps.randomUUID
   * @param {(n: number) => Uint8Array} deps.randomBytes
   * @param {(assignment: object, access: object) => Promise<{device, results, notes}>} deps.runChecks
   * @param {{pollEvery(s), deliverAt(ms|null), wakeAt(evaluationId, ms)}} deps.schedule
   * @param {string} deps.version
   * @param {() => Promise<{id, name, version, enabled}[]>} [deps.extensions] the browser's
   *   installed extensions, sent with a poll when they change
   */
  constructor(deps) {
    this.deps = deps;
  }

  /** One poll: enroll if needed, deliver what waits, fetch assignments, run them, deliver. */
  async cycle() {
    const config = await this.config();
    if (!config) return;
    const enrollment = await this.enrolled(config);
    if (!enrollment) return;
    if ((await this.deliver(config, enrollment)) === "reenroll") return;
    const answer = await this.poll(config, enrollment);
    if (!answer) return;
    await this.deps.schedule.pollEvery(answer.poll_interval_s);
    const log = { spooled: 0, notes: [] };
    for (const assignment of answer.assignments) await this.consider(config, enrollment, assignment, log);
    if (log.spooled > 0 && (await this.deliver(config, enrollment)) === "reenroll") return;
    await this.summary(config, enrollment, log.notes);
  }

  /** The `deliver` alarm: try the spool again, without polling. */
  async retryDelivery() {
    const config = await this.config();
    const enrollment = await this.load(KEYS.enrollment, null);
    if (!config || !enrollment) return;
    if ((await this.deliver(config, enrollment)) === "reenroll") return;
    await this.summary(config, enrollment, []);
  }

  async config() {
    const read = readConfig(await this.deps.readManaged().catch(() => ({})));
    if (read.error) {
      await this.status("problem", `Not configured: ${read.error}.`);
      return null;
    }
    return read.config;
  }

  // ---- enrollment -------------------------------------------------------------------------

  async enrolled(config) {
    const enrollment = await this.load(KEYS.enrollment, null);
    return enrollment?.credential ? enrollment : this.enroll(config);
  }

  async enroll(config) {
    if (!config.enrollmentSecret) {
      await this.status("problem", "Not enrolled: enrollment_secret is not set in the extension's policy; set it to an enrollment secret an administrator created in the controller.");
      return null;
    }
    const agentId = await this.agentId();
    const answer = await this.request(config, "POST", "/enroll", {
      body: { secret: config.enrollmentSecret, agent_id: agentId, labels: config.labels, version: this.deps.version, kind: "browser" },
    });
    const body = answer.json;
    if (answer.status === 201 && typeof body?.credential === "string") {
      const enrollment = {
        agent_id: agentId,
        credential: body.credential,
        labels: { ...config.labels },
        enrolled_at: new Date(this.deps.now()).toISOString(),
      };
      await this.deps.storage.set({ [KEYS.enrollment]: enrollment });
      return enrollment;
    }
    if (answer.status === 409) {
      // The controller knows this id but the credential it issued is gone (the worker stopped
      // between the answer and the write): only a new id can enroll without an administrator.
      await this.deps.storage.set({ [KEYS.agentId]: this.deps.randomUUID() });
      await this.status("problem", `Not enrolled: agent ${agentId} is enrolled already but its credential was lost (${describe(answer)}); enrolling under a new id at the next poll.`);
      return null;
    }
    await this.status("problem", `Not enrolled: the enrollment was refused or failed (${describe(answer)}); trying again at the next poll.`);
    return null;
  }

  async agentId() {
    const id = await this.load(KEYS.agentId, null);
    if (id) return id;
    const made = this.deps.randomUUID();
    await this.deps.storage.set({ [KEYS.agentId]: made });
    return made;
  }

  /** Drops a credential the controller no longer accepts; the next poll enrolls again. */
  async forgetCredential(answer, during) {
    await this.deps.storage.remove(KEYS.enrollment);
    await this.status("problem", `The controller no longer accepts this agent's credential (${during}: ${describe(answer)}); enrolling again at the next poll.`);
  }

  // ---- assignments ------------------------------------------------------------------------

  async poll(config, enrollment) {
    await this.reportExtensions(config, enrollment);
    const answer = await this.request(config, "GET", "/assignments", { credential: enrollment.credential });
    if (answer.status === 200 && Array.isArray(answer.json?.assignments)) return answer.json;
    if (answer.status === 401) {
      await this.forgetCredential(answer, "polling");
      return null;
    }
    await this.status("problem", `Polling for assignments failed (${describe(answer)}); trying again at the next poll.`);
    return null;
  }

  /**
   * Sends the browser's installed extensions with the poll when they changed since the last
   * list the controller took: a filter extension's update starts a round of the watched
   * products at once. A failure is tried again at the next poll.
   */
  async reportExtensions(config, enrollment) {
    if (typeof this.deps.extensions !== "function") return;
    let list;
    try {
      list = await this.deps.extensions();
    } catch {
      return;
    }
    if (!Array.isArray(list)) return;
    const extensions = list
      .map((e) => ({ id: String(e.id), name: String(e.name ?? ""), version: String(e.version ?? ""), enabled: Boolean(e.enabled) }))
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    const seen = JSON.stringify(extensions);
    if ((await this.load(KEYS.extensionsSent, null)) === seen) return;
    const answer = await this.request(config, "POST", "/extensions", { credential: enrollment.credential, body: { extensions } });
    if (answer.status === 204 || answer.status === 200) await this.deps.storage.set({ [KEYS.extensionsSent]: seen });
  }

  /**
   * Runs an assignment unless it ran already, waits for a coordinated start or was given up.
   * `log` collects the reports spooled and `{message, problem}` notes for the status line.
   */
  async consider(config, enrollment, assignment, log) {
    const id = assignment.evaluation_id;
    const key = runKey(assignment);
    if (await this.hasRun(key)) return;
    if (!assignment.profile || typeof assignment.profile !== "object") {
      log.notes.push({ problem: true, message: `evaluation ${id} came without its profile as JSON, which the browser agent needs (the controller is older than this agent)` });
      return;
    }
    const wakeAtMs = deferredStart(assignment, this.deps.now());
    if (wakeAtMs !== null) {
      await this.deps.schedule.wakeAt(id, wakeAtMs);
      log.notes.push({ problem: false, message: `evaluation ${id} starts with its coordinated bandwidth run at ${assignment.bandwidth.start_at}` });
      return;
    }
    const attempt = await this.countAttempt(key);
    if (attempt.count > MAX_ATTEMPTS) {
      await this.giveUp(key, attempt);
      const why = attempt.error ?? "the browser stopped the agent during each run";
      log.notes.push({ problem: true, message: `evaluation ${id} was started ${MAX_ATTEMPTS} times without a report and is skipped (${why})` });
      return;
    }
    await this.run(config, enrollment, assignment, log);
  }

  async run(config, enrollment, assignment, log) {
    const id = assignment.evaluation_id;
    const key = runKey(assignment);
    const startedAtMs = this.deps.now();
    let outcome;
    try {
      outcome = await this.deps.runChecks(assignment, { controllerUrl: config.controllerUrl, credential: enrollment.credential });
    } catch (e) {
      const error = String(e?.message ?? e);
      await this.recordAttemptError(key, error);
      log.notes.push({ problem: true, message: `running evaluation ${id} failed (${error}); it is tried again at the next poll` });
      return;
    }
    const report = buildReport({
      reportId: uuidv7(this.deps.now(), this.deps.randomBytes(16)),
      agent: { agentId: enrollment.agent_id, version: this.deps.version, labels: enrollment.labels },
      assignment,
      startedAtMs,
      finishedAtMs: this.deps.now(),
      device: outcome.device,
      results: outcome.results,
      notes: outcome.notes,
    });
    await this.spoolReport(id, key, report, log);
  }

  async hasRun(id) {
    const ran = await this.load(KEYS.ran, []);
    return ran.some((r) => r.evaluation_id === id);
  }

  /** Counts a start before the run, so a run the browser stops still counts. */
  async countAttempt(id) {
    const attempts = await this.load(KEYS.attempts, {});
    const attempt = { ...attempts[id], count: (attempts[id]?.count ?? 0) + 1 };
    await this.deps.storage.set({ [KEYS.attempts]: { ...attempts, [id]: attempt } });
    return attempt;
  }

  async recordAttemptError(id, error) {
    const attempts = await this.load(KEYS.attempts, {});
    await this.deps.storage.set({ [KEYS.attempts]: { ...attempts, [id]: { count: attempts[id]?.count ?? 1, error } } });
  }

  /** Marks an evaluation run without a report, and keeps why in `abandoned`. */
  async giveUp(id, attempt) {
    const keys = [KEYS.ran, KEYS.attempts, KEYS.abandoned];
    const { [KEYS.ran]: ran = [], [KEYS.attempts]: attempts = {}, [KEYS.abandoned]: abandoned = [] } = await this.deps.storage.get(keys);
    const entry = { evaluation_id: id, attempts: MAX_ATTEMPTS, error: attempt.error ?? null, at: new Date(this.deps.now()).toISOString() };
    await this.deps.storage.set({
      [KEYS.ran]: withRun(ran, id, this.deps.now()),
      [KEYS.attempts]: without(attempts, id),
      [KEYS.abandoned]: [...abandoned, entry].slice(-MAX_REJECTED),
    });
  }

  /** The report enters the spool and its run (`key`) counts as done, in one write. */
  async spoolReport(id, key, report, log) {
    const got = await this.deps.storage.get([KEYS.spool, KEYS.ran, KEYS.attempts]);
    const spool = [...(got[KEYS.spool] ?? []), { evaluation_id: id, report }];
    const dropped = spool.splice(0, Math.max(0, spool.length - MAX_SPOOL));
    await this.deps.storage.set({
      [KEYS.spool]: spool,
      [KEYS.ran]: withRun(got[KEYS.ran] ?? [], key, this.deps.now()),
      [KEYS.attempts]: without(got[KEYS.attempts] ?? {}, key),
    });
    log.spooled += 1;
    for (const d of dropped) {
      log.notes.push({ problem: true, message: `the spool was full (${MAX_SPOOL} reports): the oldest, for evaluation ${d.evaluation_id}, was dropped undelivered` });
    }
  }

  // ---- delivery ---------------------------------------------------------------------------

  /**
   * Delivers the spool, oldest first. Returns "done" when it is empty, "waiting" when a retry
   * is scheduled, "reenroll" when the credential was refused.
   */
  async deliver(config, enrollment) {
    for (;;) {
      const [entry] = await this.load(KEYS.spool, []);
      if (!entry) {
        await this.deliveredAll();
        return "done";
      }
      const answer = await this.request(config, "POST", `/reports?evaluation=${encodeURIComponent(entry.evaluation_id)}`, {
        credential: enrollment.credential,
        body: entry.report,
      });
      const verdict = deliveryVerdict(answer.status);
      if (verdict === "reenroll") {
        await this.forgetCredential(answer, "delivering a report");
        return "reenroll";
      }
      if (verdict === "retry") {
        await this.backOff(answer);
        return "waiting";
      }
      await this.unspool(entry, verdict === "refused" ? answer : null);
    }
  }

  /** Takes a report out of the spool; a refused one goes to `rejected` with the controller's answer. */
  async unspool(entry, refusal) {
    const got = await this.deps.storage.get([KEYS.spool, KEYS.rejected]);
    const spool = (got[KEYS.spool] ?? []).filter((e) => e.report.report_id !== entry.report.report_id);
    const items = { [KEYS.spool]: spool };
    if (refusal) {
      const rejected = [
        ...(got[KEYS.rejected] ?? []),
        { ...entry, status: refusal.status, error: refusal.text.slice(0, 4000), rejected_at: new Date(this.deps.now()).toISOString() },
      ];
      items[KEYS.rejected] = rejected.slice(-MAX_REJECTED);
    }
    await this.deps.storage.set(items);
  }

  async backOff(answer) {
    const delivery = await this.load(KEYS.delivery, { failures: 0 });
    const failures = delivery.failures + 1;
    const nextAtMs = this.deps.now() + retryDelayMs(failures, this.deps.random(), answer.retryAfterS);
    await this.deps.storage.set({ [KEYS.delivery]: { failures, next_at_ms: nextAtMs, last_error: describe(answer) } });
    await this.deps.schedule.deliverAt(nextAtMs);
  }

  async deliveredAll() {
    const delivery = await this.load(KEYS.delivery, null);
    if (!delivery) return;
    await this.deps.storage.remove(KEYS.delivery);
    await this.deps.schedule.deliverAt(null);
  }

  // ---- status and plumbing ----------------------------------------------------------------

  /** The status line after a poll: who the agent is, what waits, and anything to act on. */
  async summary(config, enrollment, notes) {
    const got = await this.deps.storage.get([KEYS.spool, KEYS.delivery]);
    const parts = [`Enrolled as agent ${enrollment.agent_id} with ${config.controllerUrl}.`];
    const spooled = (got[KEYS.spool] ?? []).length;
    const delivery = got[KEYS.delivery];
    const stuck = spooled > 0 && Boolean(delivery);
    if (stuck) {
      parts.push(`${spooled} report(s) wait for delivery; the last try failed (${delivery.last_error}), next try at ${new Date(delivery.next_at_ms).toISOString()}.`);
    }
    parts.push(...notes.map((n) => `${n.message[0].toUpperCase()}${n.message.slice(1)}.`));
    const labels = labelsNote(config.labels, enrollment.labels);
    if (labels) parts.push(labels);
    const problem = stuck || Boolean(labels) || notes.some((n) => n.problem);
    await this.status(problem ? "problem" : "ok", parts.join(" "));
  }

  async status(level, message) {
    await this.deps.storage.set({ [KEYS.status]: { at: new Date(this.deps.now()).toISOString(), level, message } });
  }

  async load(key, fallback) {
    const got = await this.deps.storage.get(key);
    return got[key] ?? fallback;
  }

  /**
   * One request to the agent API. Returns `{status, json, text, retryAfterS}`; status 0 when
   * the controller could not be reached, with the reason in `text`.
   */
  async request(config, method, path, { body, credential } = {}) {
    const url = `${config.controllerUrl}${API}${path}`;
    const headers = {};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (credential) headers.Authorization = `Bearer ${credential}`;
    let res;
    try {
      res = await this.deps.fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
    } catch (e) {
      return { status: 0, text: `cannot reach the controller at ${url}: ${e?.message ?? e}`, json: null };
    }
    const text = await res.text().catch(() => "");
    return { status: res.status, text, json: parseJson(text), retryAfterS: Number(res.headers.get("retry-after")) || undefined };
  }
}

/** An answer in words: the controller's message where it gave one. */
function describe(answer) {
  if (answer.status === 0) return answer.text;
  const said = answer.json?.message ?? answer.text?.slice(0, 200);
  return `HTTP ${answer.status}${said ? `: ${said}` : ""}`;
}

/**
 * The controller files a report under the labels the agent enrolled with and refuses others,
 * so reports carry those; a change in the policy takes effect once an administrator revokes
 * the agent and it enrolls again.
 */
function labelsNote(policy, enrolled) {
  const text = (l) => Object.entries(l).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => `${k}=${v}`).join(", ") || "none";
  if (text(policy) === text(enrolled)) return null;
  return `The policy's labels (${text(policy)}) differ from those this agent enrolled with (${text(enrolled)}); reports carry the enrolled ones until an administrator revokes the agent in the controller, after which it enrolls again with the policy's.`;
}

/**
 * What a run is remembered by: its evaluation, and for a watched product's round the round too,
 * so each round runs once and the evaluation itself only once.
 */
export function runKey(assignment) {
  return assignment.round ? `${assignment.evaluation_id}/${assignment.round}` : assignment.evaluation_id;
}

function withRun(ran, id, nowMs) {
  return [...ran.filter((r) => r.evaluation_id !== id), { evaluation_id: id, at_ms: nowMs }].slice(-MAX_RAN);
}

function without(map, key) {
  const { [key]: _gone, ...rest } = map;
  return rest;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
