/**
 * What the browser agent checks for one assignment: the plan the controller sends with it,
 * made by core (`fitcheck_core::plan`) as the native agent's is, with its requirement ids,
 * sampled ports and latency host. The extension runs what it is given and plans nothing itself.
 * What a browser cannot observe (raw TCP ports, the TCP 443 fallback beside STUN) is left out:
 * the report leaves it unknown rather than guessing.
 */

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
  const checks = Array.isArray(assignment.plan) ? assignment.plan : [];
  const of = (kind) => checks.filter((c) => c && c.check === kind);
  const profile = assignment.profile ?? {};
  const latency = of("latency")[0];
  return {
    http: of("http").map((c) => ({
      requirement: c.requirement,
      url: c.url,
      expectStatus: c.expect_status ?? [],
      followRedirects: c.follow_redirects !== false,
    })),
    dns: of("dns").map((c) => ({ requirement: c.requirement, name: c.name })),
    stun: of("stun").map((c) => ({ requirement: c.requirement, host: c.host, port: c.port })),
    network: profile.network !== undefined && profile.network !== null,
    latency: latency ? { host: latency.host, url: latency.url } : null,
    bandwidth: bandwidthPlan(profile, assignment.bandwidth),
  };
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
