/**
 * One assignment's checks, in the browser: the device facts, then round trips and throughput
 * (first, so a coordinated run waits only for its own start) and round trips to the product,
 * then each URL as a navigation, then the STUN ports. One at a time, so no check shares the
 * link with another. Returns what the report needs: `{device, results, notes}`, results in
 * profile order (dns, http, ports, network).
 */

import { classify } from "../classify.js";
import { collectFacts } from "../facts.js";
import { plan } from "../plan.js";
import { connectsDirectly, readProxySettings } from "../proxy.js";
import { dnsResults, httpResult } from "../results.js";
import { hostOf } from "../url.js";
import { measureProductLatency } from "./latency.js";
import { lookUp, needsLookup } from "./lookup.js";
import { QUICK_SETTLE_MS, SETTLE_MS, navigate } from "./navigate.js";
import { closeOffscreen, probeStun, webglInfo } from "./stun.js";
import { measureBandwidth, measureLatency } from "./throughput.js";

/**
 * @param {object} assignment as the controller sent it
 * @param {{controllerUrl: string, credential: string}} access how to reach the controller
 * @param {object} env `{chrome, navigator, fetch, now, sleep, randomBytes, randomId}`
 */
export async function runChecks(assignment, access, env) {
  try {
    return await checks(assignment, access, env);
  } finally {
    await closeOffscreen(env.chrome);
  }
}

async function checks(assignment, access, env) {
  const planned = plan(assignment);
  const signatures = assignment.block_signatures ?? [];
  const facts = await collectFacts({
    chrome: env.chrome,
    navigator: env.navigator,
    webgl: () => webglInfo(env.chrome),
    signatures,
    software: assignment.profile?.software ?? [],
  });
  const network = await networkResults(planned, access, env);
  const extensions = facts.device.extensions?.installed ?? [];
  const proxy = await readProxySettings(env.chrome);
  const navigations = [];
  for (const spec of planned.http) navigations.push(await navigation(spec, signatures, extensions, proxy, env));
  const udp = await probeStun(env.chrome, planned.stun);
  const dns = dnsResults(planned.dns, addressesSeen(navigations), signatures);
  return {
    device: facts.device,
    results: [...dns, ...navigations.map((n) => n.result), ...udp, ...network],
    notes: [...facts.notes, ...coverageNotes(assignment, planned, dns)],
  };
}

/**
 * Round trips to the controller (they put the throughput figures in context), the throughput,
 * then round trips to the product, which are what the profile's tolerances are judged on.
 */
async function networkResults(planned, access, env) {
  if (!planned.network) return [];
  const out = [await measureLatency(env, access)];
  if (planned.bandwidth) out.push(await measureBandwidth(env, access, planned.bandwidth));
  if (planned.latency) out.push(await measureProductLatency(env, planned.latency));
  return out;
}

async function navigation(spec, signatures, extensions, proxy, env) {
  const seen = await navigate(env.chrome, spec.url, { now: env.now, settleMs: settleTime(extensions) });
  // Behind a proxy the address the browser connected to is the proxy's, never the name's DNS
  // answer; where a PAC script decides, the browser does not say which it was.
  const direct = (host) => connectsDirectly(host, proxy) === true;
  const host = hostOf(spec.url);
  const route = connectsDirectly(host, proxy);
  // A connection that failed before any server answered names no address; the browser's
  // resolver, asked where it can be, tells a DNS filter's sinkhole answer from a firewall.
  const looked = route === true && needsLookup(seen) ? await lookUp(env.chrome, host) : undefined;
  if (looked) seen.addresses.set(host, new Set([...(seen.addresses.get(host) ?? []), looked]));
  const nav = {
    ...seen,
    ip: route === true ? (seen.ip ?? looked) : undefined,
    lookedUp: looked !== undefined,
    proxy: route === false ? proxy?.proxy : undefined,
    url: spec.url,
    expectStatus: spec.expectStatus,
    followRedirects: spec.followRedirects,
    signatures,
    extensions,
    selfId: env.chrome.runtime.id,
  };
  const verdict = classify(nav);
  return {
    addresses: new Map([...seen.addresses].filter(([host]) => direct(host))),
    result: httpResult({ requirement: spec.requirement, url: spec.url, nav, verdict, windowMs: seen.windowMs, totalMs: seen.totalMs }),
  };
}

/**
 * How long a settled page is watched before its outcome is read. An extension that can send a
 * tab elsewhere after its page commits (one that sees navigations or tabs) may do so a moment
 * later, so the agent waits a full second where one is enabled; an extension that blocks
 * requests does it before the page commits, and nothing else moves a settled tab.
 */
export function settleTime(extensions) {
  const moves = (extensions ?? []).some((e) => e.enabled && e.can_navigate);
  return moves ? SETTLE_MS : QUICK_SETTLE_MS;
}

/** Every host's addresses over all navigations. */
function addressesSeen(navigations) {
  const all = new Map();
  for (const { addresses } of navigations) {
    for (const [host, ips] of addresses) all.set(host, new Set([...(all.get(host) ?? []), ...ips]));
  }
  return all;
}

/** What the report must say the browser could not check for this profile. */
function coverageNotes(assignment, planned, dns) {
  const notes = [];
  const reached = new Set(dns.map((d) => d.requirement));
  const unreached = planned.dns.filter((d) => !reached.has(d.requirement)).map((d) => d.name);
  if (unreached.length > 0) {
    notes.push(`A browser cannot look names up itself: DNS names no navigation reached (${unreached.join(", ")}) are unknown.`);
  }
  const needs = assignment.profile?.network ?? {};
  const wantsThroughput = needs.download_mbps_per_user != null || needs.upload_mbps_per_user != null;
  if (wantsThroughput && !planned.bandwidth) {
    notes.push("Throughput was not measured: the browser agent measures only against the controller's bandwidth endpoint, and this evaluation assigns no run against it.");
  }
  return notes;
}
