import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { INTERVAL_MS, measureProductLatency, PROBE_TIMEOUT_MS, PROBES } from "../src/checks/latency.js";

const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);
const TARGET = { host: "App.vendor.example", url: "https://app.vendor.example/" };

/**
 * A clock that only moves when the code under test sleeps or a request takes time, and a
 * server whose answer to request k takes `rtts[k]` ms (null: the request fails, "slow": it
 * outlives the timeout) and is `answers[k]` (a Response; 204 by default).
 */
function world(rtts, answers = []) {
  let clock = T0;
  const requests = [];
  const sleeps = [];
  return {
    requests,
    sleeps,
    env: {
      now: () => clock,
      sleep: async (ms) => {
        sleeps.push(ms);
        clock += ms;
      },
      fetch: async (url, init) => {
        const k = requests.length;
        requests.push({ url, init });
        const rtt = rtts[k];
        if (rtt === null) throw new TypeError("Failed to fetch");
        if (rtt === "slow") {
          clock += PROBE_TIMEOUT_MS;
          throw new DOMException("The operation timed out.", "TimeoutError");
        }
        clock += rtt;
        return answers[k] ?? new Response(null, { status: 204 });
      },
    },
  };
}

describe("measureProductLatency", () => {
  it("times 20 paced HEAD requests after the one that opens the connection", async () => {
    const rtts = [80, ...Array.from({ length: PROBES }, (_, i) => 30 + (i % 3))];
    const w = world(rtts);
    const r = await measureProductLatency(w.env, TARGET);
    assert.equal(w.requests.length, PROBES + 1);
    for (const { url, init } of w.requests) {
      assert.equal(url, "https://app.vendor.example/");
      assert.equal(init.method, "HEAD");
      assert.equal(init.credentials, "omit", "the student's cookies never go to the product");
      assert.equal(init.redirect, "manual", "one request is one round trip");
      assert.equal(init.cache, "no-store");
      assert.ok(init.signal instanceof AbortSignal);
    }
    // Each request starts INTERVAL_MS after the one before (its own time included).
    assert.deepEqual(w.sleeps, rtts.slice(1, -1).map((rtt) => INTERVAL_MS - rtt));
    assert.equal(r.check, "latency");
    assert.equal(r.requirement, "network");
    assert.equal(r.target, "App.vendor.example", "the target is the profile's host as written");
    assert.equal(r.outcome, "measured");
    assert.equal(r.method, "http_fetch");
    assert.equal(r.probes, PROBES);
    assert.equal(r.rtt_min_ms, 30);
    assert.equal(r.rtt_max_ms, 32);
    assert.equal(r.rtt_ms, 31);
    assert.equal(r.loss_percent, 0);
    assert.match(r.detail, /^HTTP HEAD requests to https:\/\/app\.vendor\.example\/ over an open connection, 200 ms apart/);
  });

  it("a redirect or an error status is still a round trip; a failure or a timeout is not", async () => {
    const rtts = [50, 20, null, 20, "slow", ...Array(PROBES - 4).fill(20)];
    const answers = [];
    answers[1] = Response.error(); // what an unfollowed redirect looks like: an opaque answer
    answers[3] = new Response(null, { status: 503 });
    const r = await measureProductLatency(world(rtts, answers).env, TARGET);
    assert.equal(r.outcome, "measured");
    assert.equal(r.probes, PROBES);
    assert.equal(r.loss_percent, 10);
    assert.equal(r.rtt_max_ms, 20);
    assert.match(r.detail, /failed requests: Failed to fetch; no answer within 2000 ms$/);
  });

  it("an answer slower than the timeout is lost, not a long round trip", async () => {
    const rtts = [10, PROBE_TIMEOUT_MS + 1, ...Array(PROBES - 1).fill(40)];
    const r = await measureProductLatency(world(rtts).env, TARGET);
    assert.equal(r.loss_percent, 5);
    assert.equal(r.rtt_max_ms, 40);
  });

  it("a host that never answers is unreachable, with why and no figures", async () => {
    const w = world(Array(PROBES + 1).fill(null));
    const r = await measureProductLatency(w.env, TARGET);
    assert.equal(w.requests.length, PROBES + 1, "the count is bounded when nothing answers");
    assert.equal(r.outcome, "unreachable");
    assert.equal(r.probes, PROBES);
    assert.equal("rtt_ms" in r, false);
    assert.equal("loss_percent" in r, false);
    assert.match(r.detail, /failed requests: Failed to fetch$/);
  });
});
