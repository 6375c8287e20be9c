// The browser lab's screenshots: what each URL shows in the lab's Chromium, error pages
// included (Chromium's own --screenshot takes none of an error page), through WebDriver.
// Run inside the device namespace, where chromedriver listens on loopback:
//
//   node screenshots.mjs DRIVER_URL OUT_DIR CHROMIUM_ARGS_JSON URL...
//
// Writes OUT_DIR/http-<i>.png for the i-th URL and prints, as one JSON line, for each URL the
// page it ended on, the navigation's error and whether a screenshot was written. Every request
// has a time limit, and the session (and its browser) is closed whatever happens. Each step is
// logged to stderr, so a run stopped for taking too long says where it was.

import { writeFile } from "node:fs/promises";

const [driver, out, argsJson, ...urls] = process.argv.slice(2);
/** Time a filter extension gets to send a tab to its block page after the load. */
const SETTLE_MS = 1500;
/** The longest a navigation is waited for. */
const PAGE_LOAD_MS = 10_000;
/** The longest one WebDriver request is waited for (a navigation's included). */
const REQUEST_MS = 20_000;
/**
 * The whole run's limit, less than the lab's own bound on this script: past it every request
 * fails at once, and the session is still closed, so no browser outlives the run.
 */
const TOTAL_MS = 100_000;
const deadline = Date.now() + TOTAL_MS;

async function call(method, path, body, limitMs = Math.min(REQUEST_MS, deadline - Date.now())) {
  if (limitMs <= 0) throw new Error(`${method} ${path}: the run's ${TOTAL_MS} ms are spent`);
  const res = await fetch(`${driver}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(limitMs),
  });
  const json = await res.json().catch(() => ({}));
  return { ok: res.ok, value: json.value };
}

async function ready() {
  for (let i = 0; i < 100; i++) {
    try {
      const s = await call("GET", "/status");
      if (s.ok && s.value?.ready) return;
    } catch {
      // Not listening yet.
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`chromedriver at ${driver} did not become ready in 10 s`);
}

const step = (what) => console.error(`${new Date().toISOString()} ${what}`);
step("waiting for chromedriver");
await ready();
const capabilities = {
  alwaysMatch: {
    "goog:chromeOptions": { binary: "/usr/bin/chromium", args: JSON.parse(argsJson) },
    // A page that never finishes loading is shown as it is after this, not waited for.
    timeouts: { pageLoad: PAGE_LOAD_MS, script: 5_000, implicit: 0 },
  },
};
// A browser that does not come up in time is started once more.
let session = { ok: false, value: "not tried" };
for (let attempt = 1; attempt <= 2 && !session.ok; attempt++) {
  step(`starting a session (attempt ${attempt})`);
  session = await call("POST", "/session", { capabilities }).catch((e) => ({ ok: false, value: String(e) }));
}
if (!session.ok) {
  console.error(`no WebDriver session: ${JSON.stringify(session.value)}`);
  process.exit(1);
}
const id = session.value.sessionId;
const results = [];
try {
  await call("POST", `/session/${id}/window/rect`, { width: 1024, height: 640 });
  for (const [i, url] of urls.entries()) {
    step(`navigating to ${url}`);
    const t0 = Date.now();
    const nav = await call("POST", `/session/${id}/url`, { url }).catch((e) => ({ ok: false, value: { message: String(e) } }));
    const navigationMs = Date.now() - t0;
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    const shown = await call("GET", `/session/${id}/url`);
    step(`taking a screenshot of ${url}`);
    const shot = await call("GET", `/session/${id}/screenshot`);
    if (shot.ok) await writeFile(`${out}/http-${i}.png`, Buffer.from(shot.value, "base64"));
    results.push({
      url,
      shown: shown.value ?? null,
      error: nav.ok ? null : String(nav.value?.message ?? "").split("\n")[0],
      navigation_ms: navigationMs,
      screenshot: shot.ok,
    });
  }
} finally {
  step("closing the session");
  await call("DELETE", `/session/${id}`, undefined, REQUEST_MS).catch(() => {});
}
console.log(JSON.stringify(results));
