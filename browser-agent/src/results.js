/**
 * Check results exactly as the report schema (`fitcheck.report/v1`, core/src/report.rs) has
 * them. The controller reads reports with unknown fields refused, so every result is built
 * here and nowhere else, and an optional field that has no value is left out, never `null`.
 */

import { isSinkholeAddress, judgedStatus } from "./classify.js";
import { parseIp } from "./ip.js";
import { bareHost, withoutQuery } from "./url.js";

/** One top-level navigation. `verdict` is `classify`'s answer for `nav`. */
export function httpResult({ requirement, url, nav, verdict, windowMs, totalMs }) {
  const evidence = compact({
    status: judgedStatus(nav),
    redirects: (nav.redirects ?? []).map((r) => ({
      from: withoutQuery(r.from),
      status: r.status,
      location: withoutQuery(r.location),
    })),
    final_url: nav.finalUrl ? withoutQuery(nav.finalUrl) : undefined,
    address: ipAddress(nav.ip),
    proxy: nav.proxy,
    blocking_layer: verdict.blocking_layer,
    signature: verdict.signature,
    headers: { ...(nav.headers ?? {}) },
    detail: verdict.detail,
    method: "navigation",
    net_error: nav.error,
    window_ms: windowMs,
  });
  return {
    check: "http",
    requirement,
    target: url,
    outcome: verdict.outcome,
    evidence,
    timings: { total_ms: totalMs },
  };
}

/** One STUN probe through WebRTC: a server-reflexive candidate means the server answered. */
export function udpResult({ requirement, host, port, answered, detail, durationMs }) {
  return compact({
    check: "udp",
    requirement,
    target: `${host}:${port}`,
    port,
    outcome: answered ? "answered" : "no_answer",
    attempts: 1,
    detail,
    duration_ms: durationMs,
  });
}

/** Round trips by HTTP fetch: `rtts` holds one entry per probe, null for one that failed. */
export function latencyResult({ target, rtts, detail }) {
  const ok = rtts.filter((r) => typeof r === "number");
  const base = { check: "latency", requirement: "network", target };
  if (ok.length === 0) {
    return compact({ ...base, outcome: "unreachable", method: "http_fetch", probes: rtts.length, detail });
  }
  const sorted = [...ok].sort((a, b) => a - b);
  const steps = ok.slice(1).map((r, i) => Math.abs(r - ok[i]));
  return compact({
    ...base,
    outcome: "measured",
    method: "http_fetch",
    probes: rtts.length,
    rtt_min_ms: round1(sorted[0]),
    rtt_ms: round1(median(sorted)),
    rtt_max_ms: round1(sorted[sorted.length - 1]),
    jitter_ms: steps.length > 0 ? round1(steps.reduce((a, b) => a + b, 0) / steps.length) : 0,
    loss_percent: round1(((rtts.length - ok.length) / rtts.length) * 100),
    detail,
  });
}

/**
 * Throughput both ways. `download` and `upload` are `{mbps, bytes, durationMs, samples}` or
 * null for a direction that was not measured.
 */
export function bandwidthResult({ target, streams, download, upload, durationMs, validity, detail }) {
  const measured = [download, upload].some((d) => d && typeof d.mbps === "number");
  return compact({
    check: "bandwidth",
    requirement: "network",
    target,
    outcome: measured ? "measured" : "unreachable",
    method: "browser_fetch",
    download_mbps: download?.mbps,
    upload_mbps: upload?.mbps,
    streams,
    bytes: (download?.bytes ?? 0) + (upload?.bytes ?? 0),
    duration_ms: durationMs,
    download_duration_ms: download?.durationMs,
    upload_duration_ms: upload?.durationMs,
    download_samples: download?.samples,
    upload_samples: upload?.samples,
    validity: [...validity],
    detail,
  });
}

/**
 * The profile's DNS names that a navigation reached, each with the addresses the browser
 * connected to for it. A browser sees no DNS answer itself; a name no navigation reached has
 * no result (unknown), and a sinkhole address (see `isSinkholeAddress`) is the HTTP result's
 * business, not a resolution. `seen` maps host names to the addresses seen for them.
 */
export function dnsResults(dns, seen, signatures) {
  const out = [];
  for (const { requirement, name } of dns) {
    const addresses = [...(seen.get(bareHost(name)) ?? [])]
      .map(ipAddress)
      .filter((a) => a && !isSinkholeAddress(a, signatures));
    if (addresses.length === 0) continue;
    const unique = [...new Set(addresses)];
    out.push({
      check: "dns",
      requirement,
      target: name,
      outcome: "resolved",
      evidence: {
        resolvers: [],
        a: unique.filter((a) => !a.includes(":")),
        aaaa: unique.filter((a) => a.includes(":")),
      },
      duration_ms: 0,
    });
  }
  return out;
}

/** An address as the report's IP fields take it, or undefined when `ip` is not one. */
function ipAddress(ip) {
  return parseIp(ip) ? bareHost(ip) : undefined;
}

function median(sorted) {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function round1(x) {
  return Math.round(x * 10) / 10;
}

/** `obj` without its undefined and null fields: optional fields are omitted, never null. */
export function compact(obj) {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined && v !== null));
}
