/**
 * URLs as the agent reads them and as a report may show them.
 *
 * A block page or a sign-in redirect often carries the student's identity or a session token in
 * its query (`?user=…&token=…`), so every URL the agent records beyond the profile's own target
 * keeps only scheme, host and path.
 */

/** `url` without query and fragment; the text as given when it does not parse. */
export function withoutQuery(url) {
  const u = parse(url);
  if (!u) return String(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}

/** The host of `url`, lower-case, without a trailing dot or IPv6 brackets; null when none. */
export function hostOf(url) {
  const u = parse(url);
  if (!u || !u.hostname) return null;
  return bareHost(u.hostname);
}

/** A host name or address as comparisons need it: lower-case, no trailing dot, no brackets. */
export function bareHost(host) {
  return String(host).toLowerCase().replace(/\.$/, "").replace(/^\[(.*)\]$/, "$1");
}

/** The id of the extension a `chrome-extension://ID/…` URL belongs to, else null. */
export function extensionIdOf(url) {
  const u = parse(url);
  return u && u.protocol === "chrome-extension:" ? u.host.toLowerCase() : null;
}

/** Whether `url` is an http or https URL (the only kind a server answers with a status). */
export function isWebUrl(url) {
  const u = parse(url);
  return Boolean(u) && (u.protocol === "http:" || u.protocol === "https:");
}

function parse(url) {
  try {
    return new URL(url);
  } catch {
    return null;
  }
}
