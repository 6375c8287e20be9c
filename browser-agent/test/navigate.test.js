import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { closeLeftoverProbeWindow, evidenceHeaders, navigate, NavigationRecorder } from "../src/checks/navigate.js";

const URL_ = "https://app.vendor.example/start";
const EXT_PAGE = "chrome-extension://haldlgldplgnggkjaafhelgiaglafanh/blocked.html?url=x";

function replay(events) {
  const r = new NavigationRecorder();
  for (const [method, details] of events) r[method](details);
  return r;
}

describe("NavigationRecorder", () => {
  it("a page that answers: status, address, evidence headers, where it ended", () => {
    const r = replay([
      ["navigationStarted", { url: URL_ }],
      ["requestStarted", { requestId: "1", url: URL_ }],
      ["responded", { requestId: "1", url: URL_, statusCode: 200, ip: "203.0.113.7", responseHeaders: [{ name: "Server", value: "nginx" }, { name: "Set-Cookie", value: "s=1" }] }],
      ["committed", { url: URL_ }],
    ]);
    assert.equal(r.settled(), false, "the main-frame request is still loading");
    r.completed({ requestId: "1", url: URL_, statusCode: 200, ip: "203.0.113.7" });
    assert.equal(r.settled(), true);
    const o = r.observation({ timeLimitHit: false });
    assert.equal(o.status, 200);
    assert.equal(o.ip, "203.0.113.7");
    assert.equal(o.finalUrl, URL_);
    assert.deepEqual(o.headers, { server: "nginx" });
    assert.equal(o.error, undefined);
    assert.equal(o.timedOut, false);
    assert.deepEqual([...o.addresses.get("app.vendor.example")], ["203.0.113.7"]);
  });

  it("an error of a request whose start was not seen is still the navigation's error", () => {
    const r = replay([
      ["navigationStarted", { url: URL_ }],
      ["requestFailed", { requestId: "9", url: URL_, error: "net::ERR_TUNNEL_CONNECTION_FAILED" }],
      ["committed", { url: URL_ }],
    ]);
    assert.equal(r.settled(), true);
    const o = r.observation({ timeLimitHit: false });
    assert.equal(o.error, "net::ERR_TUNNEL_CONNECTION_FAILED");
    // A later request of another id is not mixed in.
    r.requestFailed({ requestId: "10", url: URL_, error: "net::ERR_ABORTED" });
    assert.equal(r.observation({ timeLimitHit: false }).error, "net::ERR_TUNNEL_CONNECTION_FAILED");
  });

  it("the browser reloading a network error page keeps the error until the reload ends", () => {
    const r = replay([
      ["navigationStarted", { url: URL_ }],
      ["requestStarted", { requestId: "1", url: URL_ }],
      ["requestFailed", { requestId: "1", url: URL_, error: "net::ERR_TUNNEL_CONNECTION_FAILED" }],
      ["navigationFailed", { url: URL_, error: "net::ERR_TUNNEL_CONNECTION_FAILED" }],
      ["committed", { url: URL_ }],
      // Chrome's automatic reload of the error page.
      ["navigationStarted", { url: URL_ }],
      ["requestStarted", { requestId: "2", url: URL_ }],
    ]);
    assert.equal(r.observation({ timeLimitHit: false }).error, "net::ERR_TUNNEL_CONNECTION_FAILED");
    r.responded({ requestId: "2", url: URL_, statusCode: 200, ip: "203.0.113.7" });
    r.navigationStarted({ url: "https://elsewhere.example/" });
    const o = r.observation({ timeLimitHit: false });
    assert.equal(o.status, 200);
    assert.equal(o.error, undefined, "an answer replaces the earlier error");
  });

  it("server redirects are listed with each hop's address", () => {
    const r = replay([
      ["navigationStarted", { url: URL_ }],
      ["requestStarted", { requestId: "1", url: URL_ }],
      ["redirected", { requestId: "1", url: URL_, statusCode: 302, redirectUrl: "https://login.vendor.example/", ip: "203.0.113.7" }],
      ["completed", { requestId: "1", url: "https://login.vendor.example/", statusCode: 200, ip: "203.0.113.8" }],
      ["committed", { url: "https://login.vendor.example/" }],
    ]);
    const o = r.observation({});
    assert.deepEqual(o.redirects, [{ from: URL_, status: 302, location: "https://login.vendor.example/" }]);
    assert.deepEqual([...o.addresses.keys()], ["app.vendor.example", "login.vendor.example"]);
  });

  it("a filter extension's redirect to its own page ends the request there", () => {
    const r = replay([
      ["navigationStarted", { url: URL_ }],
      ["requestStarted", { requestId: "1", url: URL_ }],
      ["redirected", { requestId: "1", url: URL_, statusCode: 307, redirectUrl: EXT_PAGE }],
    ]);
    assert.equal(r.settled(), false, "the tab has not committed yet");
    r.committed({ url: EXT_PAGE });
    assert.equal(r.settled(), true);
    const o = r.observation({ timeLimitHit: true });
    assert.equal(o.finalUrl, EXT_PAGE);
    assert.equal(o.timedOut, false, "a landing on an extension page is an answer");
  });

  it("a tab a filter extension sent elsewhere after it loaded: the stale abort is ignored", () => {
    const r = replay([
      ["navigationStarted", { url: URL_ }],
      ["requestStarted", { requestId: "1", url: URL_ }],
      ["completed", { requestId: "1", url: URL_, statusCode: 200, ip: "203.0.113.7" }],
      ["committed", { url: URL_ }],
      ["navigationStarted", { url: "https://blocked.goguardian.com/" }],
      ["navigationFailed", { url: URL_, error: "net::ERR_ABORTED" }],
      ["requestStarted", { requestId: "2", url: "https://blocked.goguardian.com/" }],
      ["completed", { requestId: "2", url: "https://blocked.goguardian.com/", statusCode: 200, ip: "198.51.100.1" }],
      ["committed", { url: "https://blocked.goguardian.com/" }],
    ]);
    const o = r.observation({});
    assert.equal(o.finalUrl, "https://blocked.goguardian.com/");
    assert.equal(o.error, undefined);
    assert.equal(o.ip, "198.51.100.1");
  });

  it("events of a replaced request are ignored", () => {
    const r = replay([
      ["requestStarted", { requestId: "1", url: URL_ }],
      ["requestStarted", { requestId: "2", url: URL_ }],
      ["completed", { requestId: "1", url: URL_, statusCode: 200, ip: "203.0.113.7" }],
      ["requestFailed", { requestId: "2", url: URL_, error: "net::ERR_CONNECTION_RESET", ip: "203.0.113.7" }],
    ]);
    const o = r.observation({});
    assert.equal(o.status, undefined);
    assert.equal(o.error, "net::ERR_CONNECTION_RESET");
    assert.equal(o.addresses.size, 0, "no answer came from it");
  });

  it("ERR_ABORTED after an answer (a download) is no failure", () => {
    const r = replay([
      ["requestStarted", { requestId: "1", url: URL_ }],
      ["responded", { requestId: "1", url: URL_, statusCode: 200, ip: "203.0.113.7" }],
      ["requestFailed", { requestId: "1", url: URL_, error: "net::ERR_ABORTED" }],
    ]);
    assert.equal(r.observation({}).error, undefined);
    assert.equal(r.observation({}).status, 200);
  });

  it("an extension cancelling the request", () => {
    const r = replay([
      ["navigationStarted", { url: URL_ }],
      ["requestStarted", { requestId: "1", url: URL_ }],
      ["requestFailed", { requestId: "1", url: URL_, error: "net::ERR_BLOCKED_BY_CLIENT" }],
      ["navigationFailed", { url: URL_, error: "net::ERR_BLOCKED_BY_CLIENT" }],
    ]);
    assert.equal(r.settled(), true);
    assert.equal(r.observation({}).error, "net::ERR_BLOCKED_BY_CLIENT");
  });

  it("a policy block the network never sees comes from webNavigation", () => {
    const r = replay([
      ["navigationStarted", { url: URL_ }],
      ["navigationFailed", { url: URL_, error: "net::ERR_BLOCKED_BY_ADMINISTRATOR" }],
    ]);
    assert.equal(r.observation({}).error, "net::ERR_BLOCKED_BY_ADMINISTRATOR");
  });

  it("a sinkhole address on a failed connection is kept for the classification", () => {
    const r = replay([
      ["requestStarted", { requestId: "1", url: URL_ }],
      ["requestFailed", { requestId: "1", url: URL_, error: "net::ERR_CONNECTION_REFUSED", ip: "0.0.0.0" }],
    ]);
    assert.equal(r.observation({}).ip, "0.0.0.0");
  });

  it("nothing before the time limit is a timeout; an answer that never finished is not", () => {
    const silent = replay([
      ["navigationStarted", { url: URL_ }],
      ["requestStarted", { requestId: "1", url: URL_ }],
    ]);
    assert.equal(silent.settled(), false);
    assert.equal(silent.observation({ timeLimitHit: true, tabUrl: URL_ }).timedOut, true);
    const slow = replay([
      ["requestStarted", { requestId: "1", url: URL_ }],
      ["responded", { requestId: "1", url: URL_, statusCode: 200 }],
    ]);
    assert.equal(slow.observation({ timeLimitHit: true }).timedOut, false);
  });

  it("the tab's URL stands in for a landing no commit reported, but not about:blank", () => {
    assert.equal(new NavigationRecorder().observation({ tabUrl: "https://x.example/" }).finalUrl, "https://x.example/");
    assert.equal(new NavigationRecorder().observation({ tabUrl: "about:blank" }).finalUrl, undefined);
  });

  it("evidenceHeaders keeps the fixed list only, names lower-case", () => {
    assert.deepEqual(
      evidenceHeaders([
        { name: "Via", value: "1.1 squid" },
        { name: "X-Squid-Error", value: "ERR_ACCESS_DENIED 0" },
        { name: "Location", value: "https://x/?token=1" },
        { name: "Cookie", value: "c" },
      ]),
      { via: "1.1 squid", "x-squid-error": "ERR_ACCESS_DENIED 0" },
    );
    assert.equal(evidenceHeaders(undefined), undefined);
  });
});

/** A browser event: listeners added and removed, fired by the test. */
class Event {
  constructor() {
    this.listeners = [];
    this.added = [];
  }
  addListener(fn, ...options) {
    this.listeners.push({ fn, options });
    this.added.push(options);
  }
  removeListener(fn) {
    this.listeners = this.listeners.filter((l) => l.fn !== fn);
  }
  fire(details) {
    for (const { fn } of this.listeners) fn(details);
  }
}

/** The parts of `chrome` a navigation probe uses; `script(tabId, url)` plays the browser. */
function fakeChrome(script) {
  const session = new Map();
  const calls = [];
  const chrome = {
    calls,
    session,
    webRequest: Object.fromEntries(["onBeforeRequest", "onBeforeRedirect", "onResponseStarted", "onCompleted", "onErrorOccurred"].map((n) => [n, new Event()])),
    webNavigation: Object.fromEntries(["onBeforeNavigate", "onCommitted", "onErrorOccurred"].map((n) => [n, new Event()])),
    tabs: {
      onRemoved: new Event(),
      update: async (tabId, { url }) => {
        calls.push(["update", tabId, url]);
        setImmediate(() => script(chrome, tabId, url));
      },
      get: async (tabId) => ({ id: tabId, url: "about:blank" }),
    },
    windows: {
      create: async (opts) => {
        calls.push(["create", opts]);
        return { id: 5, tabs: [{ id: 9 }] };
      },
      remove: async (id) => calls.push(["remove", id]),
    },
    storage: {
      session: {
        get: async (key) => (session.has(key) ? { [key]: session.get(key) } : {}),
        set: async (items) => Object.entries(items).forEach(([k, v]) => session.set(k, v)),
        remove: async (key) => session.delete(key),
      },
    },
  };
  return chrome;
}

function listenerCount(chrome) {
  return [...Object.values(chrome.webRequest), ...Object.values(chrome.webNavigation), chrome.tabs.onRemoved].reduce((n, e) => n + e.listeners.length, 0);
}

describe("navigate", () => {
  it("opens a minimized popup window, records the navigation of its tab only, and closes the window", async () => {
    const chrome = fakeChrome((c, tabId, url) => {
      c.webNavigation.onBeforeNavigate.fire({ tabId: 77, frameId: 0, url: "https://student.example/" });
      c.webNavigation.onBeforeNavigate.fire({ tabId, frameId: 0, url });
      c.webRequest.onBeforeRequest.fire({ tabId, requestId: "1", url });
      c.webRequest.onResponseStarted.fire({ tabId, requestId: "1", url, statusCode: 200, ip: "203.0.113.7", responseHeaders: [] });
      c.webNavigation.onCommitted.fire({ tabId, frameId: 0, url });
      c.webNavigation.onCommitted.fire({ tabId, frameId: 3, url: "https://ads.example/" });
      c.webRequest.onCompleted.fire({ tabId, requestId: "1", url, statusCode: 200, ip: "203.0.113.7" });
      assert.ok(chrome.session.has("probe_window"), "the open window is remembered while it is open");
    });
    let t = 1000;
    const seen = await navigate(chrome, URL_, { settleMs: 1, timeoutMs: 2000, now: () => (t += 5) });
    assert.deepEqual(chrome.calls[0], ["create", { url: "about:blank", focused: false, state: "minimized", type: "popup" }]);
    assert.deepEqual(chrome.calls[1], ["update", 9, URL_]);
    assert.deepEqual(chrome.calls.at(-1), ["remove", 5]);
    assert.equal(seen.status, 200);
    assert.equal(seen.finalUrl, URL_);
    assert.equal(seen.timedOut, false);
    assert.ok(seen.windowMs > seen.totalMs);
    assert.equal(listenerCount(chrome), 0, "every listener is removed");
    assert.deepEqual(chrome.webRequest.onCompleted.added, [[{ urls: ["<all_urls>"], types: ["main_frame"], tabId: 9 }, ["responseHeaders"]]]);
    assert.equal(chrome.session.has("probe_window"), false);
  });

  it("gives up at the time limit and still closes the window", async () => {
    const chrome = fakeChrome(() => {});
    const seen = await navigate(chrome, URL_, { settleMs: 1, timeoutMs: 5 });
    assert.equal(seen.timedOut, true);
    assert.deepEqual(chrome.calls.at(-1), ["remove", 5]);
  });

  it("closes the window when the browser refuses the navigation", async () => {
    const chrome = fakeChrome(() => {});
    chrome.tabs.update = async () => {
      throw new Error("Cannot navigate to this URL");
    };
    await assert.rejects(navigate(chrome, URL_, { settleMs: 1, timeoutMs: 5 }), /Cannot navigate/);
    assert.deepEqual(chrome.calls.at(-1), ["remove", 5]);
    assert.equal(listenerCount(chrome), 0);
  });

  it("closeLeftoverProbeWindow closes the window a stopped worker left", async () => {
    const chrome = fakeChrome(() => {});
    chrome.session.set("probe_window", 12);
    await closeLeftoverProbeWindow(chrome);
    assert.deepEqual(chrome.calls, [["remove", 12]]);
    assert.equal(chrome.session.has("probe_window"), false);
    await closeLeftoverProbeWindow(chrome);
    assert.equal(chrome.calls.length, 1);
  });
});
