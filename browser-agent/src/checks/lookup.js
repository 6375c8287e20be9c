/**
 * The browser's own answer for a name, where the browser offers one: `chrome.dns.resolve` asks
 * the resolver navigations use. A navigation that failed before any server answered (a refused
 * or reset connection, a timeout) carries no address, and without one a DNS filter's sinkhole
 * answer (`0.0.0.0`, `::`, a block server) looks like a firewall refusing the connection.
 *
 * Chromium builds outside Google's stable channel offer `chrome.dns`; Google Chrome's stable
 * channel (Chromebooks included) does not, and there the address stays unknown and the report
 * says so.
 */

/** Longest a lookup may take: a resolver that does not answer must not hold the run. */
export const LOOKUP_TIMEOUT_MS = 5_000;

/** Navigation errors after which the name's address decides what stopped the navigation. */
const ADDRESSLESS = /^net::ERR_(CONNECTION_(REFUSED|RESET|FAILED|CLOSED|TIMED_OUT)|TIMED_OUT|ADDRESS_(INVALID|UNREACHABLE)|EMPTY_RESPONSE)$/;

/** Whether the browser can be asked for a name's address. */
export function canLookUp(chrome) {
  return typeof chrome?.dns?.resolve === "function";
}

/** Whether a failed navigation needs the name's address to be judged: it failed with none. */
export function needsLookup(seen) {
  return !seen.ip && (Boolean(seen.timedOut) || ADDRESSLESS.test(seen.error ?? ""));
}

/**
 * The address the browser's resolver gives `host`, or undefined when it gives none, fails,
 * takes longer than `timeoutMs` or cannot be asked.
 */
export async function lookUp(chrome, host, { timeoutMs = LOOKUP_TIMEOUT_MS } = {}) {
  if (!canLookUp(chrome)) return undefined;
  let timer;
  const late = new Promise((resolve) => (timer = setTimeout(() => resolve(undefined), timeoutMs)));
  try {
    const answer = await Promise.race([chrome.dns.resolve(host).catch(() => undefined), late]);
    return answer?.resultCode === 0 && typeof answer.address === "string" ? answer.address : undefined;
  } finally {
    clearTimeout(timer);
  }
}
