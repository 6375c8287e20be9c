import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { canLookUp, lookUp, needsLookup } from "../src/checks/lookup.js";

const browser = (answer) => ({ dns: { resolve: async (host) => answer(host) } });

describe("asking the browser's resolver after a navigation failed", () => {
  it("only a failure that named no address needs the name's address", () => {
    assert.equal(needsLookup({ error: "net::ERR_CONNECTION_REFUSED" }), true);
    assert.equal(needsLookup({ error: "net::ERR_CONNECTION_RESET" }), true);
    assert.equal(needsLookup({ error: "net::ERR_CONNECTION_TIMED_OUT" }), true);
    assert.equal(needsLookup({ timedOut: true }), true);
    assert.equal(needsLookup({ error: "net::ERR_CONNECTION_REFUSED", ip: "192.0.2.1" }), false, "the connection's own address decides");
    assert.equal(needsLookup({ error: "net::ERR_NAME_NOT_RESOLVED" }), false, "no address to ask for");
    assert.equal(needsLookup({ error: "net::ERR_BLOCKED_BY_CLIENT" }), false, "an extension's block needs no address");
    assert.equal(needsLookup({ status: 200 }), false);
  });

  it("gives the resolver's address for the host", async () => {
    const asked = [];
    const chrome = browser((host) => (asked.push(host), { resultCode: 0, address: "0.0.0.0" }));
    assert.equal(await lookUp(chrome, "zeroed.example"), "0.0.0.0");
    assert.deepEqual(asked, ["zeroed.example"]);
  });

  it("gives nothing where the name fails, the call throws or the browser has no resolver API", async () => {
    assert.equal(await lookUp(browser(() => ({ resultCode: -105 })), "x.example"), undefined);
    assert.equal(await lookUp(browser(() => Promise.reject(new Error("no"))), "x.example"), undefined);
    assert.equal(await lookUp({}, "x.example"), undefined);
    assert.equal(canLookUp({}), false, "Google Chrome's stable channel has no chrome.dns");
    assert.equal(canLookUp(browser(() => null)), true);
  });

  it("a resolver that never answers does not hold the run", async () => {
    // Without the time limit this await never settles and the test fails unfinished.
    const answer = await lookUp(browser(() => new Promise(() => {})), "x.example", { timeoutMs: 50 });
    assert.equal(answer, undefined);
  });
});
