/**
 * The HTTP check from inside the browser: each profile URL opened as a top-level navigation in
 * a minimized window of the agent's own, so that every filter in the browser's path — filter
 * extensions, the browser's URLBlocklist, the network's filters and proxies — treats it as a
 * student's click would be treated. The window is a popup: its tab is a tab like any other to
 * those filters, and without a tab strip and toolbar it leaves the browser less to keep after
 * it closes (`browser-bench`: some 15 MB less after twelve URLs than normal windows).
 *
 * One window per URL: every probe starts from a blank tab, so nothing of the previous URL (its
 * page's unload handlers, a filter extension's state about the tab) reaches the next outcome,
 * and the window is open only while one URL loads.
 *
 * Only the probe tab's events are read: webRequest listeners are filtered to its tab id, and
 * webNavigation events of any other tab are dropped unread. `NavigationRecorder` is pure and
 * folds those events into what `classify` reads.
 */

import { isWebUrl } from "../url.js";

/** Longest a navigation may take. */
export const NAVIGATION_TIMEOUT_MS = 20_000;
/**
 * Quiet time after the page answered before the outcome is read: filter extensions send a tab
 * to their block page right after it commits, and that navigation must be seen.
 */
export const SETTLE_MS = 1_000;
/**
 * The same, where no enabled extension can send a tab elsewhere after it commits: long enough
 * for a page's own immediate redirect (a script or a meta refresh) to start.
 */
export const QUICK_SETTLE_MS = 300;
/** Response headers kept as evidence: those that say who answered (the native agent's list). */
export const EVIDENCE_HEADERS = ["server", "via", "content-type", "x-squid-error", "x-cache", "proxy-status", "x-frame-options"];

/** Where the open probe window's id is kept: survives a stopped service worker, not a restart. */
const WINDOW_KEY = "probe_window";

/** Folds a probe tab's webRequest and webNavigation events into one observation. */
export class NavigationRecorder {
  constructor() {
    this.redirects = [];
    /** host → addresses the browser got an answer from. */
    this.addresses = new Map();
    this.requestId = null;
    this.response = null;
    this.requestError = null;
    this.navigationUrl = null;
    this.navigationError = null;
    this.committedUrl = null;
    this.clientRedirect = false;
    this.pendingRequest = false;
    this.pendingNavigation = false;
    this.started = false;
  }

  /**
   * webRequest.onBeforeRequest: a main-frame request. A new one is followed from now on, but
   * what the last one ended with stands until the new one ends: Chrome reloads a network error
   * page by itself, and a probe that ends during that reload must still report the error.
   */
  requestStarted({ requestId }) {
    this.requestId = requestId;
    this.pendingRequest = true;
    this.started = true;
  }

  /** webRequest.onBeforeRedirect. A redirect out of the web (to an extension page) ends the request. */
  redirected({ url, statusCode, redirectUrl, ip }) {
    this.redirects.push({ from: url, status: statusCode, location: redirectUrl });
    this.saw(url, ip);
    if (!isWebUrl(redirectUrl)) this.pendingRequest = false;
  }

  /**
   * Whether an event belongs to the request being recorded. One whose start was not seen (a
   * listener registered just as the request began) is adopted: it is the tab's only request.
   */
  ours(requestId) {
    if (this.requestId === null) {
      this.requestId = requestId;
      this.started = true;
    }
    return requestId === this.requestId;
  }

  /** webRequest.onResponseStarted: the answer's status, address and headers. */
  responded({ requestId, url, statusCode, ip, responseHeaders }) {
    if (!this.ours(requestId)) return;
    const headers = evidenceHeaders(responseHeaders);
    this.response = { url, status: statusCode, ip, headers: headers ?? this.response?.headers ?? {} };
    // An answer replaces whatever an earlier attempt ended with.
    this.requestError = null;
    this.navigationError = null;
    this.saw(url, ip);
  }

  /** webRequest.onCompleted. */
  completed(details) {
    if (!this.ours(details.requestId)) return;
    this.responded(details);
    this.pendingRequest = false;
  }

  /** webRequest.onErrorOccurred. */
  requestFailed({ requestId, error, ip }) {
    if (!this.ours(requestId)) return;
    this.requestError = { error, ip };
    this.pendingRequest = false;
  }

  /**
   * webNavigation.onBeforeNavigate of the top frame. A navigation elsewhere (a filter sending
   * the tab to its block page) makes an earlier error stale; the browser reloading the same URL
   * after an error does not.
   */
  navigationStarted({ url }) {
    if (url !== this.navigationUrl) this.navigationError = null;
    this.navigationUrl = url;
    this.pendingNavigation = true;
    this.started = true;
  }

  /**
   * webNavigation.onCommitted of the top frame: where the tab is now, and whether the page sent
   * it there itself (a `client_redirect`: a script or a meta refresh).
   */
  committed({ url, transitionQualifiers }) {
    this.committedUrl = url;
    this.clientRedirect = (transitionQualifiers ?? []).includes("client_redirect");
    this.pendingNavigation = false;
    if (!isWebUrl(url)) this.pendingRequest = false;
  }

  /** webNavigation.onErrorOccurred of the top frame; one of a navigation since replaced is stale. */
  navigationFailed({ url, error }) {
    if (this.navigationUrl && url !== this.navigationUrl) return;
    this.navigationError = error;
    this.pendingNavigation = false;
  }

  /** Whether nothing is loading: the outcome can be read once it stays so for a moment. */
  settled() {
    return this.started && !this.pendingRequest && !this.pendingNavigation;
  }

  /**
   * What the navigation showed. `timeLimitHit`: the probe gave up waiting; `tabUrl`: the tab's
   * URL at the end, for a landing no commit reported.
   */
  observation({ timeLimitHit, tabUrl }) {
    const error = this.error();
    const landedOffWeb = Boolean(this.committedUrl) && !isWebUrl(this.committedUrl);
    const finalUrl = this.committedUrl ?? (tabUrl && !tabUrl.startsWith("about:") ? tabUrl : undefined);
    return {
      finalUrl,
      redirects: [...this.redirects],
      status: this.response?.status,
      ip: this.response?.ip ?? this.requestError?.ip,
      error,
      headers: this.response?.headers ?? {},
      addresses: this.addresses,
      clientRedirect: this.clientRedirect,
      timedOut: Boolean(timeLimitHit) && !this.response && !error && !landedOffWeb,
    };
  }

  /**
   * The browser's error: the request's, else the navigation's. `ERR_ABORTED` after an answer
   * is the browser stopping a page it had (a download, a replaced navigation), not a failure.
   */
  error() {
    const error = this.requestError?.error ?? this.navigationError ?? undefined;
    if (error && this.response && error.endsWith("ERR_ABORTED")) return undefined;
    return error;
  }

  saw(url, ip) {
    if (!ip || !isWebUrl(url)) return;
    const host = new URL(url).hostname.toLowerCase().replace(/\.$/, "");
    if (!this.addresses.has(host)) this.addresses.set(host, new Set());
    this.addresses.get(host).add(ip);
  }
}

/** The evidence headers of a webRequest header list, lower-case names; undefined when none given. */
export function evidenceHeaders(list) {
  if (!Array.isArray(list)) return undefined;
  const out = {};
  for (const { name, value } of list) {
    const key = String(name).toLowerCase();
    if (EVIDENCE_HEADERS.includes(key) && typeof value === "string") out[key] = value;
  }
  return out;
}

/**
 * Opens `url` in a new minimized popup window and watches it until it settles or `timeoutMs` pass.
 * The window is closed in every case. Returns the recorder's observation with `totalMs` (from
 * the navigation's start) and `windowMs` (how long the window was open).
 */
export async function navigate(chrome, url, { timeoutMs = NAVIGATION_TIMEOUT_MS, settleMs = SETTLE_MS, now = Date.now } = {}) {
  const opened = now();
  const win = await chrome.windows.create({ url: "about:blank", focused: false, state: "minimized", type: "popup" });
  await chrome.storage.session.set({ [WINDOW_KEY]: win.id });
  let seen;
  try {
    seen = await watch(chrome, win.tabs[0].id, url, { timeoutMs, settleMs, now });
  } finally {
    await chrome.windows.remove(win.id).catch(() => {});
    await chrome.storage.session.remove(WINDOW_KEY);
  }
  return { ...seen, windowMs: now() - opened };
}

/**
 * Closes a probe window a stopped service worker left open. Its id is kept in session storage,
 * which a browser restart clears, so the id can never name a window of a later session.
 */
export async function closeLeftoverProbeWindow(chrome) {
  const { [WINDOW_KEY]: id } = await chrome.storage.session.get(WINDOW_KEY);
  if (id === undefined) return;
  await chrome.windows.remove(id).catch(() => {});
  await chrome.storage.session.remove(WINDOW_KEY);
}

/** Sends the tab to `url` with the listeners in place, and resolves once it settles. */
async function watch(chrome, tabId, url, { timeoutMs, settleMs, now }) {
  const recorder = new NavigationRecorder();
  let finish;
  const done = new Promise((resolve) => (finish = resolve));
  let quiet;
  const poke = () => {
    clearTimeout(quiet);
    if (recorder.settled()) quiet = setTimeout(() => finish(false), settleMs);
  };
  const listeners = listen(chrome, tabId, recorder, poke, () => finish(false));
  const limit = setTimeout(() => finish(true), timeoutMs);
  const started = now();
  try {
    // A round trip to the browser before navigating: the listeners' registrations, sent first
    // on the same channel, are in place before the request starts, so its first events are seen.
    await chrome.tabs.get(tabId);
    await chrome.tabs.update(tabId, { url });
    const timeLimitHit = await done;
    const tab = await chrome.tabs.get(tabId).catch(() => null);
    return { ...recorder.observation({ timeLimitHit, tabUrl: tab?.url }), totalMs: now() - started };
  } finally {
    clearTimeout(quiet);
    clearTimeout(limit);
    listeners.forEach(([event, fn]) => event.removeListener(fn));
  }
}

/** Adds the probe tab's listeners; returns them as `[event, listener]` pairs to remove. */
function listen(chrome, tabId, recorder, poke, closed) {
  const filter = { urls: ["<all_urls>"], types: ["main_frame"], tabId };
  const wr = chrome.webRequest;
  const nav = chrome.webNavigation;
  const onRequest = (method) => (details) => {
    recorder[method](details);
    poke();
  };
  const onTopFrame = (method) => (details) => {
    if (details.tabId !== tabId || details.frameId !== 0 || details.url.startsWith("about:")) return;
    recorder[method](details);
    poke();
  };
  const onRemoved = (removedId) => removedId === tabId && closed();
  const pairs = [
    [wr.onBeforeRequest, onRequest("requestStarted"), filter],
    [wr.onBeforeRedirect, onRequest("redirected"), filter],
    [wr.onResponseStarted, onRequest("responded"), filter, ["responseHeaders"]],
    [wr.onCompleted, onRequest("completed"), filter, ["responseHeaders"]],
    [wr.onErrorOccurred, onRequest("requestFailed"), filter],
    [nav.onBeforeNavigate, onTopFrame("navigationStarted")],
    [nav.onCommitted, onTopFrame("committed")],
    [nav.onErrorOccurred, onTopFrame("navigationFailed")],
    [chrome.tabs.onRemoved, onRemoved],
  ];
  for (const [event, fn, ...options] of pairs) event.addListener(fn, ...options);
  return pairs.map(([event, fn]) => [event, fn]);
}
