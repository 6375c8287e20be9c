import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { settleTime } from "../src/checks/run.js";
import { QUICK_SETTLE_MS, SETTLE_MS } from "../src/checks/navigate.js";
import { closeOffscreen } from "../src/checks/stun.js";

describe("what a run keeps and waits for", () => {
  it("waits the full second only where an enabled extension can move a tab after it commits", () => {
    assert.equal(settleTime([]), QUICK_SETTLE_MS);
    assert.equal(settleTime([{ enabled: true, can_block: true, can_navigate: false }]), QUICK_SETTLE_MS);
    assert.equal(settleTime([{ enabled: false, can_navigate: true }]), QUICK_SETTLE_MS);
    assert.equal(settleTime([{ enabled: true, can_navigate: true }]), SETTLE_MS);
  });

  it("closes the offscreen document after a run, and only when one is open", async () => {
    let closed = 0;
    const chrome = (open) => ({
      runtime: { getContexts: async () => (open ? [{ contextType: "OFFSCREEN_DOCUMENT" }] : []) },
      offscreen: { closeDocument: async () => void closed++ },
    });
    await closeOffscreen(chrome(true));
    assert.equal(closed, 1);
    await closeOffscreen(chrome(false));
    assert.equal(closed, 1);
    await closeOffscreen({});
    assert.equal(closed, 1, "a browser without offscreen documents keeps nothing open");
  });
});
