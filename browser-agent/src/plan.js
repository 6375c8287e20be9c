/**
 * From an assignment's profile (the JSON form the controller sends) to what the browser agent
 * checks. Only targets the profile names are planned. What a browser cannot observe (raw TCP
 * ports, UDP services that answer nothing, free disk) is not planned at all: the report leaves
 * it unknown rather than guessing.
 */

/** The most ports of one range probed, spread from first to last, as the native agent does. */
export const MAX_PROBED_PORTS_PER_RANGE = 8;

/**
 * @returns {{
 *   http: {requirement: string, url: string, expectStatus: number[], followRedirects: boolean}[],
 *   dns: {requirement: string, name: string}[],
 *   stun: {requirement: string, host: string, port: number}[],
 *   network: boolean,
 *   latency: {host: string, url: string}|null,
 *   bandwidth: {startAtMs: number|null, maxSeconds: number}|null,
 * }}
 */
export function plan(assignment) {
  const profile = assignment.profile ?? {};
  return {
    http: (profile.http ?? []).map((h, i) => ({
      requirement: `http[${i}]`,
      url: h.url,
      expectStatus: h.expect_status ?? [],
      followRedirects: h.follow_redirects !== false,
    })),
    dns: (profile.dns ?? []).map((d, i) => ({ requirement: `dns[${i}]`, name: d.name })),
    stun: stunTargets(profile.ports ?? []),
    network: profile.network !== undefined && profile.network !== null,
    latency: latencyTarget(profile),
    bandwidth: bandwidthPlan(profile, assignment.bandwidth),
  };
}

function stunTargets(ports) {
  const out = [];
  ports.forEach((p, i) => {
    if (p.protocol !== "udp" || p.probe !== "stun") return;
    for (const port of probedPorts(p)) out.push({ requirement: `ports[${i}]`, host: p.host, port });
  });
  return out;
}

/** The ports of a `port` or `range` entry that are probed; none for a malformed entry. */
export function probedPorts(entry) {
  if (Number.isInteger(entry.port)) return [entry.port];
  const m = /^\s*(\d+)\s*-\s*(\d+)\s*$/.exec(entry.range ?? "");
  if (!m) return [];
  const [first, last] = [Number(m[1]), Number(m[2])];
  if (first < 1 || last > 65535 || first > last) return [];
  const n = last - first + 1;
  if (n <= MAX_PROBED_PORTS_PER_RANGE) return Array.from({ length: n }, (_, i) => first + i);
  const k = MAX_PROBED_PORTS_PER_RANGE;
  const spread = Array.from({ length: k }, (_, i) => first + Math.floor(((last - first) * i) / (k - 1)));
  return [...new Set(spread)];
}

/**
 * The throughput measurement: only against the controller's own endpoint, which the browser
 * reaches with the agent's credential, and only when the profile has network needs.
 */
function bandwidthPlan(profile, bandwidth) {
  if (!profile.network || !bandwidth || bandwidth.controller_endpoint !== true) return null;
  const startAtMs = bandwidth.start_at ? Date.parse(bandwidth.start_at) : NaN;
  return {
    startAtMs: Number.isFinite(startAtMs) ? startAtMs : null,
    maxSeconds: Number(bandwidth.max_seconds) || 0,
  };
}

/**
 * Where round trips to the product are timed, as the native agent chooses (core
 * `Profile::latency_host`): only when the profile has a tolerance to compare with, at
 * `network.probe_host`, else the host of the first critical URL, else the first DNS name.
 * `host` is written as the profile writes it, since the report's target is matched against it;
 * `url` is the root of that host, by the scheme and port of the profile's first URL there, else
 * HTTPS.
 */
export function latencyTarget(profile) {
  const n = profile.network;
  if (!n || (n.max_rtt_ms == null && n.max_jitter_ms == null && n.max_loss_percent == null)) return null;
  const urls = profile.http ?? [];
  const host =
    n.probe_host ??
    urls.filter((h) => h.critical !== false).map((h) => urlHost(h.url)).find((h) => h) ??
    profile.dns?.[0]?.name;
  if (!host) return null;
  const same = urls.find((h) => urlHost(h.url)?.toLowerCase() === host.toLowerCase());
  if (same) {
    try {
      return { host, url: `${new URL(same.url).origin}/` };
    } catch {
      // Fall back to HTTPS on the host itself.
    }
  }
  return { host, url: `https://${host.includes(":") ? `[${host}]` : host}/` };
}

/**
 * The host of an `http(s)://` URL as written there (core `url_host`): no user, no port, an IPv6
 * literal without its brackets; null for anything else.
 */
export function urlHost(url) {
  const m = /^https?:\/\/([^/?#]*)/.exec(String(url));
  if (!m) return null;
  const authority = m[1].slice(m[1].lastIndexOf("@") + 1);
  const host = authority.startsWith("[") ? authority.slice(1).split("]")[0] : authority.split(":")[0];
  return host || null;
}
