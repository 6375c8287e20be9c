import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";

import { browserFacts, collectFacts, extensionFacts, gpuFacts, modelFacts, osFacts, screenFacts, softwareFacts, windowsRelease } from "../src/facts.js";
import { deviceFacts } from "../src/report.js";

describe("osFacts", () => {
  it("ChromeOS takes the browser's version as its release", () => {
    assert.deepEqual(osFacts({ os: "cros", arch: "x86-64" }, "15917.71.0", "126.0.6478.132"), {
      family: "chromeos",
      name: "ChromeOS",
      version: "126.0.6478.132",
      architecture: "x86_64",
    });
  });

  it("Windows: the Client Hints platform version names the release", () => {
    assert.deepEqual(osFacts({ os: "win", arch: "x86-64" }, "15.0.0", "126"), { family: "windows", name: "Windows 11", version: "11", architecture: "x86_64" });
    assert.equal(windowsRelease("10.0.0"), "10");
    assert.equal(windowsRelease("1.0.0"), "10");
    assert.equal(windowsRelease("0.3.0"), "8.1");
    assert.equal(windowsRelease("0.1.0"), "7");
    assert.equal(windowsRelease(""), undefined);
  });

  it("macOS and Android keep the platform version; Linux leaves it out", () => {
    assert.deepEqual(osFacts({ os: "mac", arch: "arm64" }, "14.6.1"), { family: "macos", name: "macOS", version: "14.6.1", architecture: "aarch64" });
    assert.deepEqual(osFacts({ os: "android", arch: "arm" }, "14.0.0"), { family: "android", name: "Android", version: "14.0.0", architecture: "armv7l" });
    assert.deepEqual(osFacts({ os: "linux", arch: "x86-32" }, "6.1.0"), { family: "linux", name: "Linux", architecture: "i686" });
  });

  it("an unknown system has no family; no platform at all is unknown", () => {
    assert.deepEqual(osFacts({ os: "openbsd", arch: "mips64" }), { name: "openbsd", architecture: "mips64" });
    assert.deepEqual(osFacts(undefined), { name: "unknown", architecture: "unknown" });
  });
});

describe("browserFacts", () => {
  const list = (...brands) => brands.map(([brand, version]) => ({ brand, version }));

  it("prefers the product brand over Chromium", () => {
    assert.deepEqual(browserFacts(list(["Not)A;Brand", "99.0.0.0"], ["Google Chrome", "126.0.6478.132"], ["Chromium", "126.0.6478.132"])).installed, [{ name: "chrome", version: "126.0.6478.132" }]);
    assert.deepEqual(browserFacts(list(["Chromium", "126.0.1"], ["Microsoft Edge", "126.0.2"])).installed, [{ name: "edge", version: "126.0.2" }]);
    assert.deepEqual(browserFacts(list(["Chromium", "156.0.8078.114"])).installed, [{ name: "chromium", version: "156.0.8078.114" }]);
  });

  it("falls back to the user agent", () => {
    const ua = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";
    assert.deepEqual(browserFacts(undefined, ua), { detection: "detected", installed: [{ name: "chromium", version: "126.0.0.0" }] });
    assert.deepEqual(browserFacts(undefined, `${ua} Edg/126.0.0.0`).installed, [{ name: "edge", version: "126.0.0.0" }]);
  });
});

describe("gpuFacts", () => {
  const adapter = (renderer, vendor = "Google Inc.") => gpuFacts({ vendor, renderer }).gpu.adapters[0];

  it("reads ANGLE's vendor and model", () => {
    assert.deepEqual(adapter("ANGLE (Intel, Mesa Intel(R) UHD Graphics 600 (GLK 2), OpenGL ES 3.2)", "Google Inc. (Intel)"), {
      vendor: "intel",
      vendor_name: "Intel",
      model: "Mesa Intel(R) UHD Graphics 600 (GLK 2)",
      source: "webgl",
    });
    assert.deepEqual(adapter("ANGLE (NVIDIA, NVIDIA GeForce RTX 3060 (0x00002504) Direct3D11 vs_5_0 ps_5_0, D3D11)"), {
      vendor: "nvidia",
      vendor_name: "NVIDIA",
      model: "NVIDIA GeForce RTX 3060",
      source: "webgl",
    });
    assert.equal(adapter("ANGLE (Apple, ANGLE Metal Renderer: Apple M1, Unspecified Version)").model, "Apple M1");
    assert.equal(adapter("ANGLE (AMD, AMD Radeon(TM) Graphics (0x00001636) Direct3D11 vs_5_0 ps_5_0, D3D11)").vendor, "amd");
    assert.equal(adapter("ANGLE (Qualcomm, Adreno (TM) 618, OpenGL ES 3.2)").vendor, "qualcomm");
    assert.equal(adapter("ANGLE (ARM, Mali-G72, OpenGL ES 3.2)").vendor, "arm");
  });

  it("an unknown vendor is other, named as WebGL names it", () => {
    assert.deepEqual(adapter("PowerVR Rogue GE8320", "Imagination Technologies"), { vendor: "other", vendor_name: "Imagination Technologies", model: "PowerVR Rogue GE8320", source: "webgl" });
  });

  it("a software renderer is no adapter, and a note says so", () => {
    const { gpu, note } = gpuFacts({ vendor: "Google Inc. (Google)", renderer: "ANGLE (Google, Vulkan 1.3.0 (SwiftShader Device (Subzero) (0x0000C0DE)), SwiftShader driver)" });
    assert.deepEqual(gpu, { detection: "none_found", adapters: [] });
    assert.match(note, /in software/);
  });

  it("no WebGL is unsupported (unknown)", () => {
    assert.deepEqual(gpuFacts(null), { gpu: { detection: "unsupported", adapters: [] } });
  });
});

describe("screen, model and extensions", () => {
  it("the primary display's size", () => {
    const displays = [
      { isPrimary: false, bounds: { width: 3840, height: 2160 } },
      { isPrimary: true, bounds: { width: 1366, height: 768 } },
    ];
    assert.deepEqual(screenFacts(displays), { detection: "detected", width: 1366, height: 768, source: "chrome.system.display" });
    assert.deepEqual(screenFacts([]), { detection: "none_found" });
    assert.deepEqual(screenFacts(undefined), { detection: "unsupported" });
  });

  it("make and model only when both are given", () => {
    assert.deepEqual(modelFacts({ manufacturer: "HP", model: "Chromebook 11 G8 EE" }), { vendor: "HP", product: "Chromebook 11 G8 EE" });
    assert.equal(modelFacts({ manufacturer: "", model: "" }), undefined);
    assert.equal(modelFacts(undefined), undefined);
  });

  it("other extensions with the catalogued filter vendor; apps and the agent itself left out", () => {
    const self = "okobjgclhkclajilfkkoaeakgobmceep";
    const all = [
      { id: self, name: "fitcheck browser agent", version: "0.1.0", enabled: true, type: "extension" },
      { id: "haldlgldplgnggkjaafhelgiaglafanh", name: "GoGuardian", version: "1.2", enabled: true, type: "extension", permissions: ["webRequestBlocking"] },
      { id: "c".repeat(32), name: "Docs", version: "1", enabled: true, type: "hosted_app" },
      { id: "d".repeat(32), name: "Reader", version: "2", enabled: false, type: "extension", permissions: ["storage", "tabs"] },
    ];
    const signatures = [{ id: "goguardian-extension", vendor: "GoGuardian", extension_ids: ["haldlgldplgnggkjaafhelgiaglafanh"] }];
    assert.deepEqual(extensionFacts(all, signatures, self), {
      detection: "detected",
      installed: [
        { id: "haldlgldplgnggkjaafhelgiaglafanh", name: "GoGuardian", version: "1.2", enabled: true, filter_vendor: "GoGuardian", can_block: true, can_navigate: false },
        { id: "d".repeat(32), name: "Reader", version: "2", enabled: false, can_block: false, can_navigate: true },
      ],
    });
    assert.deepEqual(extensionFacts(undefined, signatures, self), { detection: "unsupported", installed: [] });
  });
});

describe("collectFacts", () => {
  it("a missing API leaves its fact unknown and the rest intact", async () => {
    const refuse = () => Promise.reject(new Error("not allowed"));
    const chrome = {
      runtime: { id: "self", getPlatformInfo: async () => ({ os: "cros", arch: "arm64" }) },
      system: { cpu: { getInfo: refuse }, memory: { getInfo: async () => ({ capacity: 4294967296 }) }, display: { getInfo: refuse } },
      management: { getAll: refuse },
    };
    const navigator = { userAgentData: { getHighEntropyValues: async () => ({ platformVersion: "15917.71.0", fullVersionList: [{ brand: "Google Chrome", version: "126.0.1" }] }) } };
    const { device, notes } = await collectFacts({ chrome, navigator, webgl: refuse, signatures: [] });
    assert.deepEqual(device, {
      os: { family: "chromeos", name: "ChromeOS", version: "126.0.1", architecture: "aarch64" },
      cpu: { logical_cores: 0 },
      memory: { total_bytes: 4294967296 },
      gpu: { detection: "unsupported", adapters: [] },
      screen: { detection: "unsupported" },
      browsers: { detection: "detected", installed: [{ name: "chrome", version: "126.0.1" }] },
      extensions: { detection: "unsupported", installed: [] },
    });
    assert.deepEqual(notes, []);
  });
});

describe("softwareFacts", () => {
  const READER = "inoeonmfapjbbkmdafoankkfajkcphgd";
  const KIOSK = "mdmkkicfmmkgmpkmkdikhlbggogpicma";
  const installed = [
    { id: READER, name: "Read&Write", version: "2.1.3", enabled: true, type: "extension", installType: "admin" },
    { id: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", name: "Other", version: "1.0", enabled: false, type: "extension", installType: "normal" },
    { id: "cccccccccccccccccccccccccccccccc", name: "Old app", version: "4.0.1", enabled: false, type: "packaged_app", installType: "admin" },
  ];
  const wanted = [
    { kind: "chrome_extension", id: READER, name: "Read&Write", min_version: "2.0" },
    { kind: "chrome_extension", id: READER, name: "Read&Write", presence: "absent", os: ["windows"] },
    { kind: "chrome_app", id: "cccccccccccccccccccccccccccccccc", name: "Old app" },
    { kind: "chrome_extension", id: "dddddddddddddddddddddddddddddddd", name: "Missing" },
    { kind: "kiosk_app", id: KIOSK, name: "TestNav" },
    { kind: "android_app", id: "com.example.reader", name: "Reader" },
  ];

  it("reports only the extensions and apps the profile names, once each, with version, state and install type", () => {
    assert.deepEqual(softwareFacts(installed, wanted), {
      sources: [{ source: "chrome_management", detection: "detected" }],
      found: [
        { kind: "chrome_extension", id: READER, version: "2.1.3", source: "chrome_management", enabled: true, install_type: "admin" },
        { kind: "chrome_app", id: "cccccccccccccccccccccccccccccccc", version: "4.0.1", source: "chrome_management", enabled: false, install_type: "admin" },
      ],
    });
  });

  it("never reports a kiosk, Android or web app as seen: chrome.management does not list them", () => {
    const seen = softwareFacts([...installed, { id: KIOSK, version: "9.9", enabled: true, type: "packaged_app" }], wanted);
    assert.equal(seen.found.some((f) => f.id === KIOSK || f.kind === "android_app"), false);
  });

  it("a refused chrome.management is said, and nothing is reported missing", () => {
    assert.deepEqual(softwareFacts(undefined, wanted), {
      sources: [{ source: "chrome_management", detection: "unsupported", note: "chrome.management did not answer (the extension needs its management permission)" }],
      found: [],
    });
    assert.equal(softwareFacts(installed, []), undefined);
    assert.equal(softwareFacts(installed, undefined), undefined);
  });

  it("a Chromebook on an excluded ChromeOS release reports that release and its extensions, as the report carries them", async () => {
    const chrome = {
      runtime: { id: "self", getPlatformInfo: async () => ({ os: "cros", arch: "x86-64" }) },
      system: { cpu: { getInfo: async () => ({ numOfProcessors: 4 }) }, memory: { getInfo: async () => ({ capacity: 8589934592 }) }, display: { getInfo: async () => [] } },
      management: { getAll: async () => installed },
    };
    const navigator = { userAgentData: { getHighEntropyValues: async () => ({ platformVersion: "16093.45.0", fullVersionList: [{ brand: "Google Chrome", version: "131.0.6778.85" }] }) } };
    const { device } = await collectFacts({ chrome, navigator, webgl: async () => undefined, signatures: [], software: wanted });
    const report = deviceFacts(device);
    assert.deepEqual(report.os, { family: "chromeos", name: "ChromeOS", version: "131.0.6778.85", architecture: "x86_64" });
    // The same device facts are what core's tests judge against a [[device.os]] exclusion
    // (core/tests/evaluate.rs reads this file): the two sides cannot drift apart.
    const fixture = JSON.parse(readFileSync(new URL("./fixtures/chromeos-131-device.json", import.meta.url), "utf8"));
    assert.deepEqual(report, fixture);
    assert.deepEqual(report.software.found.map((f) => [f.id, f.version, f.enabled]), [
      [READER, "2.1.3", true],
      ["cccccccccccccccccccccccccccccccc", "4.0.1", false],
    ]);
  });
});
