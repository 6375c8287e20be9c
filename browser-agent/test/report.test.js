import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import { classify } from "../src/classify.js";
import { BROWSER_NOTE, buildReport, REPORT_SCHEMA, uuidv7 } from "../src/report.js";
import { bandwidthResult, dnsResults, httpResult, latencyResult, udpResult } from "../src/results.js";

/** Every field a report may carry, as the controller's privacy test lists them. */
const ALLOWED = new Set(
  readFileSync(new URL("../../core/report-fields.allow", import.meta.url), "utf8")
    .split("\n")
    .map((l) => l.split("#")[0].trim())
    .filter((l) => l),
);
/** Objects whose keys are data (label names, header names), not fields. */
const MAPS = new Set(["agent.labels", "results[](http).evidence.headers"]);

/** Every key path of `value` as the allow-list writes them. */
function keyPaths(value, path = "", out = new Set()) {
  if (Array.isArray(value)) {
    for (const item of value) {
      const kind = path === "results" ? `[](${item.check})` : "[]";
      keyPaths(item, `${path}${kind}`, out);
    }
    return out;
  }
  if (value === null || typeof value !== "object") return out;
  for (const [k, v] of Object.entries(value)) {
    const child = MAPS.has(path) ? `${path}.*` : path ? `${path}.${k}` : k;
    out.add(child);
    keyPaths(v, child, out);
  }
  return out;
}

function nulls(value, path = "$") {
  if (value === null || value === undefined) return [path];
  if (typeof value !== "object") return [];
  return Object.entries(value).flatMap(([k, v]) => nulls(v, `${path}.${k}`));
}

const ASSIGNMENT = {
  evaluation_id: "0b9e4c1e-8a63-4a43-9a7c-0c2fd1d1a001",
  profile_toml: "format = 1\n",
  profile: { format: 1, id: "zoom", name: "Zoom", vendor: "Zoom Video Communications", reviewed: "2026-01-01", sources: [], network: {} },
  profile_digest: "sha256:00aa",
  window_end: "2026-04-01T00:00:00Z",
  block_signatures: [],
};

const DEVICE = {
  os: { family: "chromeos", name: "ChromeOS", version: "126.0.6478.132", architecture: "x86_64" },
  cpu: { model: "Intel(R) Celeron(R) N4020", logical_cores: 2 },
  memory: { total_bytes: 4_000_000_000 },
  gpu: { detection: "detected", adapters: [{ vendor: "intel", vendor_name: "Intel", model: "Mesa Intel(R) UHD Graphics 600", source: "webgl", extra: 1 }] },
  screen: { detection: "detected", width: 1366, height: 768, source: "chrome.system.display" },
  browsers: { detection: "detected", installed: [{ name: "chrome", version: "126.0.6478.132" }] },
  model: { vendor: "HP", product: "Chromebook 11 G8 EE" },
  extensions: {
    detection: "detected",
    installed: [
      { id: "haldlgldplgnggkjaafhelgiaglafanh", name: "GoGuardian", version: "1.2", enabled: true, filter_vendor: "GoGuardian", can_block: true },
      { id: "b".repeat(32), name: "Notes", version: "3", enabled: false, can_block: false },
    ],
  },
  software: {
    sources: [{ source: "chrome_management", detection: "detected" }],
    found: [{ kind: "chrome_extension", id: "c".repeat(32), version: "2.1.3", source: "chrome_management", enabled: true, install_type: "admin", extra: 1 }],
  },
};

function everyKindOfResult() {
  const nav = {
    url: "https://zoom.us/",
    finalUrl: "https://zoom.us/home?session=secret",
    redirects: [{ from: "https://zoom.us/", status: 302, location: "https://zoom.us/home?session=secret" }],
    status: 200,
    ip: "203.0.113.7",
    headers: { server: "nginx" },
    expectStatus: [],
  };
  const samples = { start_unix_ms: 1_795_168_830_000, interval_ms: 100, bytes: [10, 20] };
  return [
    ...dnsResults([{ requirement: "dns[0]", name: "zoom.us" }], new Map([["zoom.us", new Set(["203.0.113.7", "2001:db8::7"])]])),
    httpResult({ requirement: "http[0]", url: nav.url, nav, verdict: classify(nav), windowMs: 1500, totalMs: 900 }),
    httpResult({ requirement: "http[1]", url: "https://x.zoom.us/", nav: { url: "https://x.zoom.us/", error: "net::ERR_BLOCKED_BY_ADMINISTRATOR" }, verdict: classify({ url: "https://x.zoom.us/", error: "net::ERR_BLOCKED_BY_ADMINISTRATOR" }), windowMs: 300, totalMs: 100 }),
    udpResult({ requirement: "ports[2]", host: "zoom.us", port: 8801, answered: true, detail: "answered", durationMs: 40 }),
    latencyResult({ target: "fitcheck.district.example", rtts: [10, 12, null, 11], detail: "http" }),
    bandwidthResult({
      target: "https://fitcheck.district.example/api/agent/v1/bandwidth/",
      streams: 4,
      download: { mbps: 94.1, bytes: 30, durationMs: 15000, samples },
      upload: { mbps: 20.5, bytes: 30, durationMs: 15000, samples },
      durationMs: 32000,
      validity: ["download:late_start"],
      detail: "upload: HTTP 429",
    }),
  ];
}

function report(overrides = {}) {
  return buildReport({
    reportId: "01900000-0000-7000-8000-000000000000",
    agent: { agentId: "6c0e5b8e-0f55-4e8e-9d2a-6f1a2b3c4d5e", version: "0.1.0", labels: { site: "lincoln", room: "204" } },
    assignment: ASSIGNMENT,
    startedAtMs: Date.UTC(2026, 2, 2, 8, 0, 0),
    finishedAtMs: Date.UTC(2026, 2, 2, 8, 1, 30, 250),
    device: DEVICE,
    results: everyKindOfResult(),
    notes: [],
    ...overrides,
  });
}

describe("buildReport", () => {
  it("writes the envelope, agent and profile exactly", () => {
    const r = report();
    assert.deepEqual(Object.keys(r), ["schema", "report_id", "agent", "profile", "started_at", "finished_at", "device", "results", "notes"]);
    assert.equal(r.schema, REPORT_SCHEMA);
    assert.deepEqual(r.agent, { agent_id: "6c0e5b8e-0f55-4e8e-9d2a-6f1a2b3c4d5e", version: "0.1.0", labels: { site: "lincoln", room: "204" }, kind: "browser" });
    assert.deepEqual(r.profile, { id: "zoom", name: "Zoom", vendor: "Zoom Video Communications", digest: "sha256:00aa" });
    assert.equal(r.started_at, "2026-03-02T08:00:00.000Z");
    assert.equal(r.finished_at, "2026-03-02T08:01:30.250Z");
    assert.deepEqual(r.notes, [BROWSER_NOTE]);
  });

  it("carries no field the controller's schema does not name", () => {
    const stray = [...keyPaths(report())].filter((p) => !ALLOWED.has(p));
    assert.deepEqual(stray, []);
  });

  it("never writes null or undefined: optional fields are left out", () => {
    assert.deepEqual(nulls(report()), []);
    const bare = report({
      device: {
        ...DEVICE,
        os: { name: "unknown", architecture: "unknown" },
        cpu: { logical_cores: 0 },
        screen: { detection: "unsupported" },
        model: undefined,
        extensions: undefined,
      },
    });
    assert.deepEqual(nulls(bare), []);
    assert.equal("model" in bare.device, false);
    assert.equal("extensions" in bare.device, false);
    assert.deepEqual(bare.device.screen, { detection: "unsupported" });
  });

  it("copies the device facts field by field, leaving internal ones out", () => {
    const d = report().device;
    assert.deepEqual(d.gpu.adapters[0], { vendor: "intel", vendor_name: "Intel", model: "Mesa Intel(R) UHD Graphics 600", source: "webgl" });
    assert.deepEqual(d.extensions.installed[1], { id: "b".repeat(32), name: "Notes", version: "3", enabled: false });
    assert.equal("disk" in d, false, "free disk is never guessed");
    assert.deepEqual(d.software.found, [{ kind: "chrome_extension", id: "c".repeat(32), version: "2.1.3", source: "chrome_management", enabled: true, install_type: "admin" }]);
  });

  it("keeps URLs in evidence without their query", () => {
    const http = report().results.find((r) => r.check === "http");
    assert.equal(http.target, "https://zoom.us/");
    assert.equal(http.evidence.final_url, "https://zoom.us/home");
    assert.deepEqual(http.evidence.redirects, [{ from: "https://zoom.us/", status: 302, location: "https://zoom.us/home" }]);
    assert.equal(http.evidence.method, "navigation");
    assert.equal(http.evidence.window_ms, 1500);
    assert.deepEqual(http.timings, { total_ms: 900 });
  });

  it("writes each result kind with the schema's required fields", () => {
    const [dns, http, blocked, udp, latency, bandwidth] = report().results;
    assert.deepEqual(dns, {
      check: "dns",
      requirement: "dns[0]",
      target: "zoom.us",
      outcome: "resolved",
      evidence: { resolvers: [], a: ["203.0.113.7"], aaaa: ["2001:db8::7"] },
      duration_ms: 0,
    });
    assert.equal(http.outcome, "reachable");
    assert.deepEqual(blocked.evidence.headers, {});
    assert.deepEqual(blocked.evidence.redirects, []);
    assert.equal(blocked.evidence.net_error, "net::ERR_BLOCKED_BY_ADMINISTRATOR");
    assert.deepEqual(udp, { check: "udp", requirement: "ports[2]", target: "zoom.us:8801", port: 8801, outcome: "answered", attempts: 1, detail: "answered", duration_ms: 40 });
    assert.deepEqual(latency, {
      check: "latency",
      requirement: "network",
      target: "fitcheck.district.example",
      outcome: "measured",
      method: "http_fetch",
      probes: 4,
      rtt_min_ms: 10,
      rtt_ms: 11,
      rtt_max_ms: 12,
      jitter_ms: 1.5,
      loss_percent: 25,
      detail: "http",
    });
    assert.equal(bandwidth.method, "browser_fetch");
    assert.equal(bandwidth.bytes, 60);
    assert.deepEqual(bandwidth.validity, ["download:late_start"]);
  });
});

describe("results", () => {
  it("latency with no answer is unreachable with no figures", () => {
    assert.deepEqual(latencyResult({ target: "h", rtts: [null, null] }), {
      check: "latency",
      requirement: "network",
      target: "h",
      outcome: "unreachable",
      method: "http_fetch",
      probes: 2,
    });
  });

  it("bandwidth with nothing moved is unreachable with no figures", () => {
    const r = bandwidthResult({ target: "t", streams: 4, download: null, upload: null, durationMs: 10, validity: [], detail: "download: HTTP 429" });
    assert.deepEqual(r, { check: "bandwidth", requirement: "network", target: "t", outcome: "unreachable", method: "browser_fetch", streams: 4, bytes: 0, duration_ms: 10, validity: [], detail: "download: HTTP 429" });
  });

  it("DNS results only for names a navigation reached, never for a sinkhole answer", () => {
    const dns = [
      { requirement: "dns[0]", name: "Zoom.US." },
      { requirement: "dns[1]", name: "unseen.zoom.us" },
      { requirement: "dns[2]", name: "sink.zoom.us" },
      { requirement: "dns[3]", name: "filtered.zoom.us" },
    ];
    const seen = new Map([
      ["zoom.us", new Set(["203.0.113.7"])],
      ["sink.zoom.us", new Set(["0.0.0.0"])],
      ["filtered.zoom.us", new Set(["146.112.61.106"])],
    ]);
    const signatures = [{ id: "umbrella", vendor: "Cisco Umbrella", addresses: ["146.112.61.104/29"] }];
    const out = dnsResults(dns, seen, signatures);
    assert.deepEqual(out.map((r) => r.requirement), ["dns[0]"]);
    assert.equal(out[0].target, "Zoom.US.");
  });
});

describe("uuidv7", () => {
  it("is a version 7, variant 10 UUID holding the time", () => {
    const id = uuidv7(Date.UTC(2026, 0, 1), new Uint8Array(16).fill(0xff));
    assert.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(parseInt(id.replace(/-/g, "").slice(0, 12), 16), Date.UTC(2026, 0, 1));
  });

  it("sorts by time", () => {
    const a = uuidv7(1_700_000_000_000, new Uint8Array(16).fill(0xff));
    const b = uuidv7(1_700_000_000_001, new Uint8Array(16).fill(0x00));
    assert.ok(a < b);
  });
});
