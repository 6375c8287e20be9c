import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { inBlock, isUnspecified, parseIp } from "../src/ip.js";

describe("parseIp", () => {
  it("reads IPv4, IPv6 (bracketed too) and IPv4-mapped IPv6", () => {
    assert.deepEqual(parseIp("10.77.0.66"), { version: 4, value: 0x0a4d0042n });
    assert.deepEqual(parseIp("[2001:db8::1]"), { version: 6, value: 0x20010db8000000000000000000000001n });
    assert.deepEqual(parseIp("::"), { version: 6, value: 0n });
    assert.deepEqual(parseIp("::ffff:10.77.0.66"), parseIp("10.77.0.66"));
    assert.equal(parseIp("1:2:3:4:5:6:7:8").version, 6);
  });

  it("refuses what is no address", () => {
    for (const text of ["", "256.1.1.1", "1.2.3", "fitcheck.test", "1::2::3", "1:2:3:4:5:6:7", "12345::", undefined]) {
      assert.equal(parseIp(text), null, String(text));
    }
  });
});

describe("inBlock", () => {
  it("an address or a CIDR block, either family", () => {
    assert.equal(inBlock("146.112.61.104", "146.112.61.104"), true);
    assert.equal(inBlock("146.112.61.111", "146.112.61.104/29"), true);
    assert.equal(inBlock("146.112.61.112", "146.112.61.104/29"), false);
    assert.equal(inBlock("2001:db8:ffff::1", "2001:db8::/32"), true);
    assert.equal(inBlock("2001:db9::1", "2001:db8::/32"), false);
    assert.equal(inBlock("10.0.0.1", "0.0.0.0/0"), true);
  });

  it("never across families, never for a malformed entry", () => {
    assert.equal(inBlock("10.0.0.1", "::/0"), false);
    assert.equal(inBlock("10.0.0.1", "10.0.0.0/33"), false);
    assert.equal(inBlock("10.0.0.1", "ten/8"), false);
  });
});

describe("isUnspecified", () => {
  it("0.0.0.0/8 and ::, nothing else", () => {
    for (const ip of ["0.0.0.0", "0.255.1.2", "::", "[::]", "::ffff:0.0.0.0"]) assert.equal(isUnspecified(ip), true, ip);
    for (const ip of ["127.0.0.1", "::1", "1.0.0.0", "10.77.0.66"]) assert.equal(isUnspecified(ip), false, ip);
  });
});
