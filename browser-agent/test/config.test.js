import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { isLabHost, readConfig } from "../src/config.js";

const GOOD = { controller_url: "https://fitcheck.district.example:8443/", enrollment_secret: " fcs_abc ", labels: { site: "lincoln", room: "204" } };

describe("readConfig", () => {
  it("reads a district's policy, the base URL without its trailing slash", () => {
    assert.deepEqual(readConfig(GOOD), {
      config: {
        controllerUrl: "https://fitcheck.district.example:8443",
        enrollmentSecret: "fcs_abc",
        labels: { site: "lincoln", room: "204" },
      },
    });
  });

  it("keeps a path prefix for a controller behind a reverse proxy", () => {
    assert.equal(readConfig({ ...GOOD, controller_url: "https://district.example/fitcheck//" }).config.controllerUrl, "https://district.example/fitcheck");
  });

  it("labels and the secret are optional", () => {
    assert.deepEqual(readConfig({ controller_url: "https://c.example" }).config, { controllerUrl: "https://c.example", enrollmentSecret: null, labels: {} });
  });

  const bad = [
    [{}, /controller_url is not set in the extension's policy/],
    [{ controller_url: "  " }, /controller_url is not set/],
    [{ controller_url: 42 }, /controller_url is not set/],
    [{ controller_url: "fitcheck.district.example" }, /is not a URL/],
    [{ controller_url: "http://fitcheck.district.example" }, /must start with https:\/\//],
    [{ controller_url: "ftp://fitcheck.test" }, /must start with https:\/\//],
    [{ controller_url: "http://10.0.0.1:8443" }, /must start with https:\/\//],
    [{ controller_url: "https://user:pw@c.example" }, /without user name, password, query or fragment/],
    [{ controller_url: "https://c.example/?x=1" }, /without user name/],
    [{ ...GOOD, enrollment_secret: 7 }, /enrollment_secret must be a string/],
    [{ ...GOOD, labels: ["lincoln"] }, /labels must be an object/],
    [{ ...GOOD, labels: { Site: "x" } }, /label name "Site" must be 1-32 lowercase letters/],
    [{ ...GOOD, labels: { site: "" } }, /label "site": the value must be a string of 1-128 printable characters/],
    [{ ...GOOD, labels: { site: 5 } }, /label "site": the value must be/],
    [{ ...GOOD, labels: { site: "a\nb" } }, /label "site": the value must be/],
    [{ ...GOOD, labels: { site: "x".repeat(129) } }, /label "site"/],
    [{ ...GOOD, labels: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`k${i}`, "v"])) }, /at most 16/],
  ];
  for (const [managed, message] of bad) {
    it(`refuses ${JSON.stringify(managed).slice(0, 70)}`, () => {
      const read = readConfig(managed);
      assert.equal(read.config, undefined);
      assert.match(read.error, message);
    });
  }

  it("a missing policy is a missing controller_url", () => {
    assert.match(readConfig(undefined).error, /controller_url is not set/);
  });
});

describe("isLabHost: plain http only where nothing on the way can read the credential", () => {
  for (const host of ["127.0.0.1", "127.8.9.10", "[::1]", "controller.lab.test", "fitcheck.test."]) {
    it(`${host} is a lab host`, () => assert.equal(isLabHost(host), true));
  }
  for (const host of ["10.0.0.1", "128.0.0.1", "fitcheck.district.example", "testing.example", "localhost"]) {
    it(`${host} is not`, () => assert.equal(isLabHost(host), false));
  }

  it("http to a lab host is accepted", () => {
    assert.equal(readConfig({ controller_url: "http://127.0.0.1:8080" }).config.controllerUrl, "http://127.0.0.1:8080");
    assert.equal(readConfig({ controller_url: "http://controller.lab.test" }).config.controllerUrl, "http://controller.lab.test");
  });
});
