import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { bypassed, connectsDirectly, proxySettings, readProxySettings } from "../src/proxy.js";

describe("proxy settings", () => {
  it("reads the mode, the bypass list and the web proxy from a ProxyConfig", () => {
    assert.deepEqual(
      proxySettings({ mode: "fixed_servers", rules: { singleProxy: { scheme: "http", host: "10.0.0.3", port: 3128 }, bypassList: ["app.example"] } }),
      { mode: "fixed_servers", bypass: ["app.example"], proxy: "http://10.0.0.3:3128" },
    );
    assert.deepEqual(proxySettings({ mode: "direct" }), { mode: "direct", bypass: [], proxy: undefined });
    assert.equal(proxySettings(undefined), undefined);
  });

  it("a browser that will not say is taken as connecting directly", async () => {
    assert.equal(await readProxySettings({}), undefined);
    assert.equal(connectsDirectly("app.example", undefined), true);
  });

  it("fixed servers: only the bypassed hosts go direct", () => {
    const s = { mode: "fixed_servers", bypass: ["app.example", "*.cdn.example", ".internal.example", "<local>", "10.9.0.0/16", "https://secure.example:443"], proxy: "http://10.0.0.3:3128" };
    for (const host of ["app.example", "a.cdn.example", "x.internal.example", "intranet", "10.9.3.4", "secure.example"]) {
      assert.equal(connectsDirectly(host, s), true, host);
    }
    for (const host of ["other.example", "appx.example", "cdn.example", "internal.example", "10.8.0.1", "vendor.example"]) {
      assert.equal(connectsDirectly(host, s), false, host);
    }
  });

  it("a PAC script or WPAD decides per URL: unknown; direct and system settings connect directly", () => {
    assert.equal(connectsDirectly("app.example", { mode: "pac_script", bypass: [] }), undefined);
    assert.equal(connectsDirectly("app.example", { mode: "auto_detect", bypass: [] }), undefined);
    assert.equal(connectsDirectly("app.example", { mode: "direct", bypass: [] }), true);
    assert.equal(connectsDirectly("app.example", { mode: "system", bypass: [] }), true);
  });

  it("bypass rules follow Chrome's forms", () => {
    assert.equal(bypassed("a.b.example", ["*.example"]), true);
    assert.equal(bypassed("example", ["*.example"]), false, "a wildcard pattern needs a label before the suffix");
    assert.equal(bypassed("badexample", ["*.example"]), false);
    assert.equal(bypassed("::1", ["[::1]:8080"]), true);
    assert.equal(bypassed("host.example", ["host.example:8080"]), true);
  });
});
