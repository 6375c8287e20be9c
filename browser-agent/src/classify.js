/**
 * What one top-level navigation means, in the report's vocabulary: its outcome
 * (`reachable`, `blocked_by_filter`, `dns_failed`, …), the layer that stopped it, the filter
 * signature that matched and a detail in the browser's words. Pure: the navigation probe
 * (`checks/navigate.js`) records what the browser showed and hands it in.
 *
 * The rules run in order and the first that recognises the navigation decides. Where the tab
 * landed comes first: a block page usually answers 200, so a status check alone would call it
 * reachable.
 */

import { inBlock, isUnspecified } from "./ip.js";
import { bareHost, extensionIdOf, hostOf, isWebUrl, withoutQuery } from "./url.js";

/**
 * @typedef {object} Navigation
 * @property {string} url the URL the profile names
 * @property {string} [finalUrl] where the tab ended (a filter extension's page included)
 * @property {{from: string, status: number, location: string}[]} [redirects] server redirects
 * @property {number} [status] the last HTTP status of the main frame
 * @property {string} [ip] the address the browser connected to for it; where the connection
 *   failed before any server answered, the one the browser's resolver gives the name
 * @property {boolean} [lookedUp] `ip` is the resolver's answer, asked after the navigation failed
 * @property {string} [error] the browser's error (`net::ERR_BLOCKED_BY_CLIENT`)
 * @property {boolean} [timedOut] nothing answered before the probe's time limit
 * @property {number} [timeoutMs] that limit
 * @property {object[]} [signatures] the assignment's BlockSignatures: block hosts and block-page
 *   URLs, filter extensions' ids, and DNS filters' block-server `addresses`
 * @property {{id: string, name: string, enabled: boolean, filter_vendor?: string,
 *   can_block?: boolean, can_navigate?: boolean}[]} [extensions] the browser's other extensions
 * @property {number[]} [expectStatus] the profile's accepted statuses (empty: any below 400)
 * @property {boolean} [followRedirects] false: the first answer's status is judged
 * @property {string} [selfId] this extension's id
 * @property {boolean} [clientRedirect] the page itself sent the tab to where it ended (a script
 *   or a meta refresh), as the last commit's transition qualifiers say
 */

/** The signature a URLBlocklist block gets: the policy names no vendor. */
export const POLICY_SIGNATURE = Object.freeze({
  id: "chrome-policy-urlblocklist",
  vendor: "Chrome policy",
  matched: "URLBlocklist",
});

/** @param {Navigation} nav */
export function classify(nav) {
  for (const rule of RULES) {
    const verdict = rule(nav);
    if (verdict) return verdict;
  }
  throw new Error("classify: the status rule always decides");
}

/** The status the profile's `expect_status` is held to: without following redirects, the first answer's. */
export function judgedStatus(nav) {
  const redirects = nav.redirects ?? [];
  if (nav.followRedirects === false && redirects.length > 0) return redirects[0].status;
  return nav.status;
}

/** Whether `status` is accepted: one of `expect`, or below 400 when `expect` is empty. */
export function accepts(status, expect) {
  if (!expect || expect.length === 0) return status >= 100 && status < 400;
  return expect.includes(status);
}

/**
 * Whether a DNS filter answered `ip` instead of the real address: an unspecified address
 * (0.0.0.0/8, `::`), or a block server a signature lists under `addresses`.
 */
export function isSinkholeAddress(ip, signatures) {
  return isUnspecified(ip) || sinkholeSignature(ip, signatures) !== null;
}

/** The signature whose `addresses` (addresses or CIDR blocks) hold `ip`, and the entry that did. */
export function sinkholeSignature(ip, signatures) {
  for (const signature of signatures ?? []) {
    const entry = (signature.addresses ?? []).find((a) => inBlock(ip, a));
    if (entry) return { signature, entry };
  }
  return null;
}

/** The BlockSignature a URL is a block page of, and the host or URL pattern that matched. */
export function matchSignature(url, signatures) {
  if (!isWebUrl(url)) return null;
  const host = hostOf(url);
  const path = new URL(url).pathname.toLowerCase().replace(/^\/+/, "");
  for (const signature of signatures ?? []) {
    const pattern =
      (signature.hosts ?? []).find((p) => hostMatches(p, host)) ??
      (signature.urls ?? []).find((p) => urlMatches(p, host, path));
    if (pattern) return { signature, pattern };
  }
  return null;
}

function hostMatches(pattern, host) {
  const p = bareHost(pattern);
  if (p.startsWith("*.")) {
    const base = p.slice(2);
    return host === base || host.endsWith(`.${base}`);
  }
  return host === p;
}

function urlMatches(pattern, host, path) {
  const slash = pattern.indexOf("/");
  const hostPart = slash < 0 ? pattern : pattern.slice(0, slash);
  const prefix = slash < 0 ? "" : pattern.slice(slash + 1).toLowerCase();
  return hostMatches(hostPart, host) && path.startsWith(prefix);
}

/** Every URL the navigation was sent to, in order: redirect targets, then where it ended. */
function landings(nav) {
  return [...(nav.redirects ?? []).map((r) => r.location), nav.finalUrl].filter(Boolean);
}

function enabledFilters(nav) {
  return (nav.extensions ?? []).filter((e) => e.enabled && e.filter_vendor);
}

function blockSignatureLanding(nav) {
  for (const url of landings(nav)) {
    const hit = matchSignature(url, nav.signatures);
    if (!hit) continue;
    const { signature } = hit;
    const inBrowser =
      (signature.extension_ids ?? []).length > 0 ||
      enabledFilters(nav).some((e) => e.filter_vendor === signature.vendor);
    return verdict("blocked_by_filter", inBrowser ? "browser_extension" : "http_filter", {
      signature: { id: signature.id, vendor: signature.vendor, matched: hit.pattern },
      detail: `the tab was sent to ${withoutQuery(url)}, ${signature.vendor}'s block page`,
    });
  }
  return null;
}

function extensionPageLanding(nav) {
  for (const url of landings(nav)) {
    const id = extensionIdOf(url);
    if (!id || id === nav.selfId) continue;
    const signature = (nav.signatures ?? []).find((s) => (s.extension_ids ?? []).includes(id));
    const name = (nav.extensions ?? []).find((e) => e.id === id)?.name ?? "an extension";
    const matched = withoutQuery(url);
    return verdict("blocked_by_filter", "browser_extension", {
      signature: signature
        ? { id: signature.id, vendor: signature.vendor, matched }
        : { id: `extension:${id}`, vendor: name, matched },
      detail: `the tab was sent to a page of the extension ${name} (${id})`,
    });
  }
  return null;
}

/**
 * The tab ended on another host with no redirect that led there and no script or meta refresh
 * of the page sending it: its URL was replaced, as filter extensions do. That is a block in the
 * browser by an extension, whichever; never the product answering, never a network layer.
 */
function replacedNavigation(nav) {
  const asked = hostOf(nav.url);
  const landed = nav.finalUrl && isWebUrl(nav.finalUrl) ? hostOf(nav.finalUrl) : null;
  if (!asked || !landed || landed === asked || nav.clientRedirect) return null;
  const led = (nav.redirects ?? []).some((r) => hostOf(r.location) === landed);
  if (led) return null;
  const suspects = (nav.extensions ?? []).filter((e) => e.enabled && e.id !== nav.selfId && (e.can_block || e.can_navigate));
  const named = suspects.map((e) => `${e.name} (${e.id})`).join(", ");
  const only = suspects.length === 1 ? suspects[0] : null;
  const to = withoutQuery(nav.finalUrl);
  return verdict("blocked_by_filter", "browser_extension", {
    signature: {
      id: only ? `extension:${only.id}` : "extension:unlisted",
      vendor: only ? only.name : "an extension the catalog does not list",
      matched: `the tab was sent from ${asked} to ${to} with no redirect`,
    },
    detail: `the tab was sent from ${asked} to ${to} with no redirect in between: an extension replaced the navigation; ${
      suspects.length > 0 ? `enabled extensions that could have: ${named}` : "no enabled extension is known to redirect tabs"
    }`,
  });
}

function sinkholeAddress(nav) {
  if (!nav.ip) return null;
  const ip = bareHost(nav.ip);
  // Where the address was looked up after the connection failed, say how it failed too.
  const failed = nav.lookedUp ? ` (the browser's resolver answers it; the connection failed: ${nav.error ?? "no answer in time"})` : "";
  if (isUnspecified(ip)) {
    return verdict("blocked_by_filter", "dns", { detail: `the name resolved to ${ip}, a DNS filter's sinkhole answer${failed}` });
  }
  const hit = sinkholeSignature(ip, nav.signatures);
  if (!hit) return null;
  const { signature, entry } = hit;
  return verdict("blocked_by_filter", "dns", {
    signature: { id: signature.id, vendor: signature.vendor, matched: `address ${ip} (${entry})` },
    detail: `the name resolved to ${ip}, the address of ${signature.vendor}'s block server${failed}`,
  });
}

function netError(nav) {
  if (!nav.error) return null;
  const name = nav.error.replace(/^net::/, "");
  if (name === "ERR_HTTP_RESPONSE_CODE_FAILURE") return emptyErrorPage(nav);
  const rule =
    NET_ERRORS[name] ??
    PREFIXED_NET_ERRORS.find(([prefix]) => name.startsWith(prefix))?.[1] ??
    UNKNOWN_NET_ERROR;
  return verdict(rule.outcome, rule.layer, {
    signature: rule.signature?.(nav),
    detail: rule.detail(nav.error, nav),
  });
}

/**
 * An HTTP error status with an empty body: Chrome shows its own error page instead, but the
 * server answered. That is the status, judged like any other (a block page has a body).
 */
function emptyErrorPage(nav) {
  const status = judgedStatus(nav);
  const said = status === undefined || status === null ? "an HTTP error status" : `status ${status}`;
  const out = status === undefined || status === null ? "unexpected_status" : accepts(status, nav.expectStatus) ? "reachable" : "unexpected_status";
  return verdict(out, undefined, { detail: `${nav.error}: the server answered ${said} with an empty body` });
}

function probeTimeout(nav) {
  if (!nav.timedOut) return null;
  const limit = nav.timeoutMs ? `within ${Math.round(nav.timeoutMs / 1000)} s` : "before the probe's time limit";
  return verdict("timeout", "tcp", { detail: `no answer ${limit}` });
}

function httpStatus(nav) {
  const status = judgedStatus(nav);
  if (status === undefined || status === null) {
    return verdict("unexpected_status", undefined, {
      detail: `no HTTP answer: the tab ended on ${withoutQuery(nav.finalUrl ?? nav.url)}`,
    });
  }
  return verdict(accepts(status, nav.expectStatus) ? "reachable" : "unexpected_status");
}

const RULES = [blockSignatureLanding, extensionPageLanding, replacedNavigation, sinkholeAddress, netError, probeTimeout, httpStatus];

/** An extension cancelled the request: named when exactly one filter extension is enabled. */
function clientBlocker(nav) {
  const filters = enabledFilters(nav);
  if (filters.length !== 1) return undefined;
  const [only] = filters;
  const signature = (nav.signatures ?? []).find((s) => (s.extension_ids ?? []).includes(only.id));
  return {
    id: signature?.id ?? `extension:${only.id}`,
    vendor: only.filter_vendor,
    matched: `${nav.error}; ${only.name} (${only.id}) is the only filter extension enabled`,
  };
}

function clientBlockerDetail(error, nav) {
  const filters = enabledFilters(nav);
  if (filters.length === 1) {
    return `${error}: an extension cancelled the request; ${filters[0].name} is the only filter extension enabled`;
  }
  const suspects = filters.length > 1 ? filters : (nav.extensions ?? []).filter((e) => e.enabled && e.can_block);
  if (suspects.length === 0) {
    return `${error}: an extension cancelled the request; no enabled extension is known to block requests`;
  }
  const names = suspects.map((e) => `${e.name} (${e.id})`).join(", ");
  return `${error}: an extension cancelled the request; enabled extensions that could have: ${names}`;
}

const CERTIFICATE_HIDDEN = "Chrome does not show the certificate to extensions, so its issuer is unknown";

const DNS_FAILED = {
  outcome: "dns_failed",
  layer: "dns",
  detail: (e) => `${e}: the name did not resolve; a browser cannot tell a DNS filter's refusal (NXDOMAIN) from a failing resolver`,
};
const PROXY_UNREACHABLE = {
  outcome: "connection_refused",
  layer: "http_proxy",
  detail: (e) => `${e}: the browser could not use its configured proxy`,
};
const TLS_FAILED = {
  outcome: "tls_failed",
  detail: (e) => `${e}: the TLS connection failed; ${CERTIFICATE_HIDDEN}`,
};
const TIMED_OUT = { outcome: "timeout", layer: "tcp", detail: (e) => `${e}: the connection timed out` };
const CLOSED_UNANSWERED = {
  outcome: "connection_reset",
  detail: (e) => `${e}: the connection closed before any answer`,
};

/** The browser's network errors (net/base/net_error_list.h) by name, without `net::`. */
const NET_ERRORS = {
  ERR_BLOCKED_BY_CLIENT: {
    outcome: "blocked_by_filter",
    layer: "browser_extension",
    signature: clientBlocker,
    detail: clientBlockerDetail,
  },
  ERR_BLOCKED_BY_ADMINISTRATOR: {
    outcome: "blocked_by_filter",
    layer: "browser_policy",
    signature: () => ({ ...POLICY_SIGNATURE }),
    detail: (e) => `${e}: the browser's URLBlocklist policy blocks this address`,
  },
  ERR_NAME_NOT_RESOLVED: DNS_FAILED,
  ERR_NAME_RESOLUTION_FAILED: DNS_FAILED,
  // Chrome refuses to connect to 0.0.0.0 and ::, which a public name resolves to only when a
  // DNS filter answers for it.
  ERR_ADDRESS_INVALID: {
    outcome: "blocked_by_filter",
    layer: "dns",
    detail: (e) => `${e}: the name resolved to an address the browser will not connect to (0.0.0.0 or ::), a DNS filter's sinkhole answer`,
  },
  ERR_TUNNEL_CONNECTION_FAILED: {
    outcome: "blocked_by_filter",
    layer: "http_proxy",
    detail: (e) => `${e}: the proxy refused to open a tunnel (CONNECT) to the site`,
  },
  ERR_MANDATORY_PROXY_CONFIGURATION_FAILED: PROXY_UNREACHABLE,
  ERR_CERT_AUTHORITY_INVALID: {
    outcome: "tls_failed",
    detail: (e) => `${e}: the certificate's issuer is not trusted on this device (a filter inspecting TLS with a CA the device lacks does this); ${CERTIFICATE_HIDDEN}`,
  },
  ERR_CONNECTION_RESET: { outcome: "connection_reset", layer: "tcp", detail: (e) => `${e}: the connection was reset` },
  ERR_CONNECTION_REFUSED: { outcome: "connection_refused", layer: "tcp", detail: (e) => `${e}: the connection was refused` },
  ERR_CONNECTION_TIMED_OUT: TIMED_OUT,
  ERR_TIMED_OUT: TIMED_OUT,
  ERR_CONNECTION_CLOSED: CLOSED_UNANSWERED,
  ERR_EMPTY_RESPONSE: CLOSED_UNANSWERED,
};

/** Families of errors, by name prefix, for those the table does not name one by one. */
const PREFIXED_NET_ERRORS = [
  ["ERR_PROXY_", PROXY_UNREACHABLE],
  ["ERR_CERT_", TLS_FAILED],
  ["ERR_SSL_", TLS_FAILED],
];

/** Any other error: the navigation failed in a way the table does not know; the detail says how. */
const UNKNOWN_NET_ERROR = {
  outcome: "connection_reset",
  detail: (e) => `${e}: the navigation failed`,
};

function verdict(outcome, blockingLayer, { signature, detail } = {}) {
  const out = { outcome };
  if (blockingLayer) out.blocking_layer = blockingLayer;
  if (signature) out.signature = signature;
  if (detail) out.detail = detail;
  return out;
}
