import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { latencyTarget, MAX_PROBED_PORTS_PER_RANGE, plan, probedPorts, urlHost } from "../src/plan.js";

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

  it("times round trips to the product only against a tolerance, where the native agent would", () => {
    const network = { max_rtt_ms: 150 };
    assert.equal(plan({ profile: PROFILE }).latency, null);
    assert.equal(plan({ profile: { ...PROFILE, network: { download_mbps_per_user: 3 } } }).latency, null);
    assert.deepEqual(plan({ profile: { ...PROFILE, network } }).latency, { host: "zoom.us", url: "https://zoom.us/" });
  });
});

describe("latencyTarget", () => {
  const http = (url, critical = true) => ({ url, critical });
  it("is the probe host, else the first critical URL's host, else the first DNS name", () => {
    const dns = [{ name: "names.example" }];
    const urls = [http("https://optional.example/", false), http("http://App.example:8080/start?x=1")];
    assert.deepEqual(latencyTarget({ dns, http: urls, network: { max_jitter_ms: 30, probe_host: "probe.example" } }), {
      host: "probe.example",
      url: "https://probe.example/",
    });
    assert.deepEqual(latencyTarget({ dns, http: urls, network: { max_loss_percent: 1 } }), {
      host: "App.example",
      url: "http://app.example:8080/",
    });
    assert.deepEqual(latencyTarget({ dns, http: [urls[0]], network: { max_rtt_ms: 100 } }), {
      host: "names.example",
      url: "https://names.example/",
    });
    assert.equal(latencyTarget({ network: { max_rtt_ms: 100 } }), null);
  });

  it("a probe host the profile also reaches by URL is timed by that URL's scheme and port", () => {
    assert.deepEqual(latencyTarget({ http: [http("http://lab.example:8000/a")], network: { max_rtt_ms: 1, probe_host: "LAB.example" } }), {
      host: "LAB.example",
      url: "http://lab.example:8000/",
    });
    assert.deepEqual(latencyTarget({ network: { max_rtt_ms: 1, probe_host: "2001:db8::5" } }), {
      host: "2001:db8::5",
      url: "https://[2001:db8::5]/",
    });
  });
});

describe("urlHost", () => {
  it("reads the host as core's url_host does", () => {
    assert.equal(urlHost("https://user@Host.example:8443/p?q#f"), "Host.example");
    assert.equal(urlHost("http://[2001:db8::1]:80/"), "2001:db8::1");
    assert.equal(urlHost("ftp://x.example/"), null);
    assert.equal(urlHost("https:///nohost"), null);
  });
});
