import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { isServerReflexive, OFFSCREEN_TARGET, probeStun, stunDetail, stunUrl } from "../src/checks/stun.js";

describe("STUN from the offscreen document", () => {
  it("recognises a server-reflexive candidate", () => {
    assert.equal(isServerReflexive("candidate:842163049 1 udp 1677729535 198.51.100.4 48201 typ srflx raddr 0.0.0.0 rport 0 generation 0"), true);
    assert.equal(isServerReflexive("candidate:1 1 udp 2122260223 1a2b.local 52344 typ host generation 0"), false);
    assert.equal(isServerReflexive("candidate:1 1 udp 1 10.0.0.1 1 typ srflxx"), false);
    assert.equal(isServerReflexive(undefined), false);
  });

  it("writes stun: URLs, an IPv6 literal bracketed", () => {
    assert.equal(stunUrl("stun.zoom.us", 3478), "stun:stun.zoom.us:3478");
    assert.equal(stunUrl("2001:db8::1", 3478), "stun:[2001:db8::1]:3478");
  });

  it("never records the reflexive address; says what failed", () => {
    assert.doesNotMatch(stunDetail({ answered: true }), /\d+\.\d+\.\d+\.\d+/);
    assert.equal(
      stunDetail({ answered: false, errors: ["701 STUN binding request timed out."] }, 5000),
      "no server-reflexive candidate within 5 s: the STUN server did not answer (UDP to this port is likely blocked); ICE errors: 701 STUN binding request timed out.",
    );
  });

  it("opens the offscreen document once and turns its answers into UdpResults in plan order", async () => {
    const calls = [];
    let open = false;
    const chrome = {
      runtime: {
        getContexts: async () => (open ? [{ contextType: "OFFSCREEN_DOCUMENT" }] : []),
        sendMessage: async (m) => {
          calls.push(m);
          return [
            { answered: true, errors: [], durationMs: 40 },
            { answered: false, errors: [], durationMs: 5000 },
          ];
        },
      },
      offscreen: {
        createDocument: async (opts) => {
          calls.push(opts);
          open = true;
        },
      },
    };
    const targets = [
      { requirement: "ports[1]", host: "zoom.us", port: 8801 },
      { requirement: "ports[1]", host: "zoom.us", port: 8810 },
    ];
    const results = await probeStun(chrome, targets);
    assert.deepEqual(calls[0].reasons, ["WEB_RTC"]);
    assert.equal(calls[0].url, "offscreen.html");
    assert.deepEqual(calls[1], { target: OFFSCREEN_TARGET, op: "stun", targets: [{ host: "zoom.us", port: 8801 }, { host: "zoom.us", port: 8810 }], timeoutMs: 5000 });
    assert.deepEqual(results.map((r) => [r.target, r.outcome, r.attempts]), [
      ["zoom.us:8801", "answered", 1],
      ["zoom.us:8810", "no_answer", 1],
    ]);
    await probeStun(chrome, targets);
    assert.equal(calls.filter((c) => c.reasons).length, 1, "the document is opened once");
    assert.deepEqual(await probeStun(chrome, []), []);
  });
});
