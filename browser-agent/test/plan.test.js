import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { plan } from "../src/plan.js";

const PROFILE = {
  format: 1,
  id: "zoom",
  name: "Zoom",
  vendor: "Zoom",
  reviewed: "2026-01-01",
  sources: [],
  network: null,
};

/** A plan as the controller sends it (core's `PlannedCheck`, serialized). */
const PLAN = [
  { check: "dns", requirement: "dns[0]", name: "zoom.us" },
  { check: "http", requirement: "http[0]", url: "https://zoom.us/", follow_redirects: true },
  { check: "http", requirement: "http[1]", url: "https://zoom.us/signin", follow_redirects: false, expect_status: [302] },
  { check: "tcp", requirement: "ports[0]", host: "zoom.us", port: 443 },
  { check: "tcp", requirement: "ports[1].tcp443", host: "zoom.us", port: 443 },
  { check: "stun", requirement: "ports[1]", host: "zoom.us", port: 8801 },
  { check: "stun", requirement: "ports[1]", host: "zoom.us", port: 8810 },
  { check: "latency", requirement: "network", host: "zoom.us", url: "https://zoom.us/" },
];

describe("plan", () => {
  it("runs the checks it is given, with their requirement ids, and no raw TCP", () => {
    const p = plan({ profile: PROFILE, plan: PLAN });
    assert.deepEqual(p.http, [
      { requirement: "http[0]", url: "https://zoom.us/", expectStatus: [], followRedirects: true },
      { requirement: "http[1]", url: "https://zoom.us/signin", expectStatus: [302], followRedirects: false },
    ]);
    assert.deepEqual(p.dns, [{ requirement: "dns[0]", name: "zoom.us" }]);
    assert.deepEqual(p.stun, [
      { requirement: "ports[1]", host: "zoom.us", port: 8801 },
      { requirement: "ports[1]", host: "zoom.us", port: 8810 },
    ]);
    assert.deepEqual(p.latency, { host: "zoom.us", url: "https://zoom.us/" });
    assert.equal(p.network, false);
    assert.equal(p.bandwidth, null);
  });

  it("plans nothing of its own: without a plan there is nothing to check", () => {
    const p = plan({ profile: { ...PROFILE, dns: [{ name: "zoom.us" }], http: [{ url: "https://zoom.us/" }] } });
    assert.deepEqual(p.http, []);
    assert.deepEqual(p.dns, []);
    assert.deepEqual(p.stun, []);
    assert.equal(p.latency, null);
  });

  it("skips checks of kinds it does not know", () => {
    const p = plan({ profile: PROFILE, plan: [{ check: "icmp", requirement: "network", host: "x" }, null, ...PLAN.slice(0, 1)] });
    assert.deepEqual(p.dns, [{ requirement: "dns[0]", name: "zoom.us" }]);
    assert.deepEqual(p.http, []);
  });

  it("measures throughput only against the controller's endpoint, when the profile has network needs", () => {
    const network = { download_mbps_per_user: 3 };
    const bw = { start_at: "2026-03-02T08:00:00Z", controller_endpoint: true, max_seconds: 10 };
    assert.deepEqual(plan({ profile: { ...PROFILE, network }, bandwidth: bw }).bandwidth, { startAtMs: Date.UTC(2026, 2, 2, 8), maxSeconds: 10 });
    assert.deepEqual(plan({ profile: { ...PROFILE, network }, bandwidth: { controller_endpoint: true, max_seconds: 15 } }).bandwidth, { startAtMs: null, maxSeconds: 15 });
    assert.equal(plan({ profile: { ...PROFILE, network }, bandwidth: { ...bw, controller_endpoint: false } }).bandwidth, null);
    assert.equal(plan({ profile: PROFILE, bandwidth: bw }).bandwidth, null);
    assert.equal(plan({ profile: { ...PROFILE, network } }).network, true);
  });
});
