import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { MAX_PROBED_PORTS_PER_RANGE, plan, probedPorts } from "../src/plan.js";

const PROFILE = {
  format: 1,
  id: "zoom",
  name: "Zoom",
  vendor: "Zoom",
  reviewed: "2026-01-01",
  sources: [],
  dns: [{ name: "zoom.us", critical: true }],
  http: [
    { url: "https://zoom.us/", expect_status: [], follow_redirects: true, critical: true },
    { url: "https://zoom.us/signin", expect_status: [302], follow_redirects: false, critical: false },
  ],
  ports: [
    { protocol: "tcp", host: "zoom.us", port: 443, critical: true },
    { protocol: "udp", host: "zoom.us", range: "8801-8810", probe: "stun", critical: true },
    { protocol: "udp", host: "media.zoom.us", port: 3478, probe: "stun", critical: true },
    { protocol: "udp", host: "zoom.us", port: 5000, critical: false },
    { protocol: "udp", host: "zoom.us", port: 5001, probe: "none", critical: false },
  ],
  network: null,
};

describe("plan", () => {
  it("plans URLs, names and STUN ports with their requirement ids, and no raw TCP", () => {
    const p = plan({ profile: PROFILE });
    assert.deepEqual(p.http, [
      { requirement: "http[0]", url: "https://zoom.us/", expectStatus: [], followRedirects: true },
      { requirement: "http[1]", url: "https://zoom.us/signin", expectStatus: [302], followRedirects: false },
    ]);
    assert.deepEqual(p.dns, [{ requirement: "dns[0]", name: "zoom.us" }]);
    assert.equal(p.stun.filter((s) => s.requirement === "ports[1]").length, MAX_PROBED_PORTS_PER_RANGE);
    assert.deepEqual(p.stun.at(-1), { requirement: "ports[2]", host: "media.zoom.us", port: 3478 });
    assert.ok(p.stun.every((s) => s.requirement !== "ports[0]" && s.requirement !== "ports[3]" && s.requirement !== "ports[4]"));
    assert.equal(p.network, false);
    assert.equal(p.bandwidth, null);
  });

  it("absent lists and serde defaults are read as the Rust side writes them", () => {
    const p = plan({ profile: { id: "x", http: [{ url: "https://x.example/" }] } });
    assert.deepEqual(p.http, [{ requirement: "http[0]", url: "https://x.example/", expectStatus: [], followRedirects: true }]);
    assert.deepEqual(p.dns, []);
    assert.deepEqual(p.stun, []);
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

describe("probedPorts", () => {
  it("a single port", () => assert.deepEqual(probedPorts({ port: 3478 }), [3478]));
  it("a small range in full", () => assert.deepEqual(probedPorts({ range: "8801-8803" }), [8801, 8802, 8803]));
  it("a large range sampled evenly with both ends, as the native agent does", () => {
    assert.deepEqual(probedPorts({ range: "3478-3497" }), [3478, 3480, 3483, 3486, 3488, 3491, 3494, 3497]);
    assert.deepEqual(probedPorts({ range: "1-65535" }).length, MAX_PROBED_PORTS_PER_RANGE);
  });
  it("nothing for a malformed entry", () => {
    for (const range of ["80", "90-80", "0-10", "80-70000", "a-b"]) assert.deepEqual(probedPorts({ range }), []);
    assert.deepEqual(probedPorts({}), []);
  });
});
