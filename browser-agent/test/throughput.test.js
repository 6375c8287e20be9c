import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Buckets, bucketsFromProgress, MAX_SECONDS, measureBandwidth, measureLatency, rateMbps, SLOT_GAP_MS, slots } from "../src/checks/throughput.js";

const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);
const ACCESS = { controllerUrl: "https://fitcheck.district.example:8443", credential: "fca_x" };

describe("Buckets", () => {
  it("counts bytes into 100 ms intervals from an absolute start", () => {
    const b = new Buckets(T0);
    b.add(100, T0 + 5);
    b.add(50, T0 + 99);
    b.add(7, T0 + 100);
    b.add(3, T0 + 350);
    assert.deepEqual(b.samples(T0 + 500), { start_unix_ms: T0, interval_ms: 100, bytes: [150, 7, 0, 3, 0] });
  });

  it("a start with a fraction of a millisecond is written in whole milliseconds", () => {
    const b = new Buckets(T0 + 0.4);
    b.add(1, T0 + 100.5);
    assert.deepEqual(b.samples(T0 + 200.4), { start_unix_ms: T0, interval_ms: 100, bytes: [0, 1] });
  });
});

describe("bucketsFromProgress", () => {
  it("interpolates the server's running total at each interval's edge", () => {
    const s = bucketsFromProgress(
      [
        { atMs: T0 + 100, bytes: 1000 },
        { atMs: T0 + 300, bytes: 3000 },
      ],
      T0,
      T0 + 400,
    );
    assert.deepEqual(s, { start_unix_ms: T0, interval_ms: 100, bytes: [1000, 1000, 1000, 0] });
  });

  it("adds up to what the server had by the end, readings out of order or going back included", () => {
    const readings = [
      { atMs: T0 + 250, bytes: 900 },
      { atMs: T0 + 50, bytes: 100 },
      { atMs: T0 + 260, bytes: 800 },
      { atMs: T0 + 1000, bytes: 5000 },
    ];
    const s = bucketsFromProgress(readings, T0, T0 + 1000);
    assert.equal(s.bytes.length, 10);
    assert.equal(s.bytes.reduce((a, b) => a + b, 0), 5000);
    assert.ok(s.bytes.every((b) => b >= 0));
  });

  it("nothing read is nothing carried", () => {
    assert.deepEqual(bucketsFromProgress([], T0, T0 + 200).bytes, [0, 0]);
  });
});

describe("rateMbps", () => {
  it("leaves the ramp-up second out of three seconds or more", () => {
    const bytes = [...Array(10).fill(0), ...Array(20).fill(125_000)];
    assert.equal(rateMbps({ interval_ms: 100, bytes }), 10);
  });

  it("counts everything of a shorter run", () => {
    assert.equal(rateMbps({ interval_ms: 100, bytes: [125_000, 125_000] }), 10);
  });

  it("no intervals, no rate", () => {
    assert.equal(rateMbps({ interval_ms: 100, bytes: [] }), undefined);
  });
});

describe("slots", () => {
  it("a coordinated run: the download at the agreed start, the upload a slot and a gap later", () => {
    assert.deepEqual(slots({ startAtMs: T0, maxSeconds: 10 }), { seconds: 10, downloadAtMs: T0, uploadAtMs: T0 + 10_000 + SLOT_GAP_MS });
  });

  it("never longer than the hard cap; no start means at once", () => {
    assert.deepEqual(slots({ startAtMs: null, maxSeconds: 60 }), { seconds: MAX_SECONDS, downloadAtMs: null, uploadAtMs: null });
    assert.equal(slots({ startAtMs: null, maxSeconds: 0 }).seconds, MAX_SECONDS);
  });
});

/** Virtual time: `sleep` waits on it, `run` advances it from timer to timer until `promise` ends. */
function virtualTime(start) {
  let clock = start;
  const timers = [];
  const sleep = (ms) => new Promise((resolve) => timers.push({ at: clock + Math.max(0, ms), resolve }));
  const settle = async () => {
    for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
  };
  async function run(promise) {
    let done = false;
    promise.then(
      () => (done = true),
      () => (done = true),
    );
    for (;;) {
      await settle();
      if (done) return promise;
      timers.sort((a, b) => a.at - b.at);
      const next = timers.shift();
      if (!next) throw new Error("nothing left to wait for, and the measurement has not ended");
      clock = Math.max(clock, next.at);
      next.resolve();
    }
  }
  return { now: () => clock, sleep, run };
}

/** The controller's bandwidth endpoint over virtual time. */
function fakeEndpoint(time, { streamingUploads = false } = {}) {
  const requests = [];
  let received = 0;
  const aborted = () => new DOMException("The operation was aborted.", "AbortError");
  const fetch = async (url, init = {}) => {
    const u = new URL(url);
    requests.push({ path: u.pathname, search: u.search, method: init.method ?? "GET", auth: init.headers?.Authorization });
    if (init.signal?.aborted) throw aborted();
    if (u.pathname.endsWith("/download")) {
      let left = Number(u.searchParams.get("bytes"));
      const body = new ReadableStream({
        async pull(c) {
          await time.sleep(10);
          const n = Math.min(12_500, left);
          left -= n;
          if (n > 0) c.enqueue(new Uint8Array(n));
          if (left === 0) c.close();
        },
      });
      return new Response(body, { status: 200 });
    }
    if (u.pathname.endsWith("/upload")) {
      if (init.body instanceof ReadableStream && !streamingUploads) throw new TypeError("Failed to fetch");
      for (let sent = 0; sent < init.body.byteLength; sent += 250_000) {
        await time.sleep(25);
        if (init.signal?.aborted) throw aborted();
        received += 250_000;
      }
      return Response.json({ bytes: init.body.byteLength, duration_ms: 1 });
    }
    if (u.pathname.endsWith("/upload/progress")) {
      await time.sleep(2);
      return Response.json({ bytes: received });
    }
    return new Response("", { status: 404 });
  };
  return { fetch, requests, received: () => received };
}

function env(time, endpoint) {
  return { fetch: endpoint.fetch, now: time.now, sleep: time.sleep, randomBytes: (n) => new Uint8Array(n), randomId: () => "session-1" };
}

describe("measureBandwidth", () => {
  it("measures both ways against the controller, with the credential, into absolute intervals", async () => {
    const time = virtualTime(T0);
    const ep = fakeEndpoint(time);
    const r = await time.run(measureBandwidth(env(time, ep), ACCESS, { startAtMs: null, maxSeconds: 2 }));
    assert.equal(r.outcome, "measured");
    assert.equal(r.method, "browser_fetch");
    assert.equal(r.target, "https://fitcheck.district.example:8443/api/agent/v1/bandwidth/");
    assert.equal(r.streams, 4);
    // Four streams of 12 500 bytes every 10 ms: the chunk due at the slot's end is not counted.
    assert.equal(r.download_samples.start_unix_ms, T0);
    assert.equal(r.download_samples.bytes.length, 20);
    assert.equal(r.download_samples.bytes.reduce((a, b) => a + b, 0), 4 * 199 * 12_500);
    assert.equal(r.download_mbps, 39.8);
    assert.equal(r.download_duration_ms, 2000);
    assert.equal(r.upload_samples.start_unix_ms, T0 + 2000);
    const uploaded = r.upload_samples.bytes.reduce((a, b) => a + b, 0);
    assert.ok(uploaded > 0 && uploaded <= ep.received());
    assert.ok(Math.abs(r.upload_mbps - 320) < 20, `upload ${r.upload_mbps} Mbit/s`);
    assert.equal(r.bytes, 4 * 199 * 12_500 + uploaded);
    assert.deepEqual(r.validity, ["upload:chunked_requests"]);
    assert.equal(r.detail, undefined);
    assert.ok(ep.requests.every((q) => q.auth === "Bearer fca_x"));
    assert.ok(ep.requests.some((q) => q.path === "/api/agent/v1/bandwidth/upload/progress" && q.search === "?session=session-1"));
  });

  it("a coordinated run waits for its start and holds the upload to its own slot", async () => {
    const time = virtualTime(T0);
    const r = await time.run(measureBandwidth(env(time, fakeEndpoint(time)), ACCESS, { startAtMs: T0 + 5000, maxSeconds: 2 }));
    assert.equal(r.download_samples.start_unix_ms, T0 + 5000);
    assert.equal(r.upload_samples.start_unix_ms, T0 + 5000 + 2000 + SLOT_GAP_MS);
    assert.deepEqual(r.validity, ["upload:chunked_requests"]);
  });

  it("a start already well past runs at once and says so", async () => {
    const time = virtualTime(T0);
    const r = await time.run(measureBandwidth(env(time, fakeEndpoint(time)), ACCESS, { startAtMs: T0 - 60_000, maxSeconds: 1 }));
    assert.equal(r.download_samples.start_unix_ms, T0);
    assert.deepEqual(r.validity.slice(0, 2), ["download:late_start", "upload:late_start"]);
  });

  it("a refused measurement is unreachable, with the controller's answer", async () => {
    const time = virtualTime(T0);
    const refuse = { fetch: async () => new Response("daily allowance spent", { status: 429 }), requests: [] };
    const r = await time.run(measureBandwidth(env(time, refuse), ACCESS, { startAtMs: null, maxSeconds: 1 }));
    assert.equal(r.outcome, "unreachable");
    assert.equal(r.bytes, 0);
    assert.equal("download_samples" in r, false);
    assert.equal(r.detail, "download: HTTP 429: daily allowance spent; upload: HTTP 429: daily allowance spent");
  });
});

describe("measureLatency", () => {
  it("ten round trips after one that opens the connection; a failed one is loss", async () => {
    let clock = T0;
    const rtts = [50, 10, 12, 11, null, 13, 10, 12, 11, 10, 14];
    let i = 0;
    const e = {
      now: () => clock,
      fetch: async (url, init) => {
        assert.equal(url, "https://fitcheck.district.example:8443/api/agent/v1/bandwidth/download?bytes=1");
        assert.equal(init.headers.Authorization, "Bearer fca_x");
        const rtt = rtts[i++];
        if (rtt === null) throw new TypeError("Failed to fetch");
        clock += rtt;
        return new Response("x");
      },
    };
    const r = await measureLatency(e, ACCESS);
    assert.equal(r.check, "latency");
    assert.equal(r.target, "fitcheck.district.example");
    assert.equal(r.probes, 10);
    assert.equal(r.rtt_min_ms, 10);
    assert.equal(r.rtt_max_ms, 14);
    assert.equal(r.rtt_ms, 11);
    assert.equal(r.loss_percent, 10);
    assert.equal(r.method, "http_fetch");
  });
});
