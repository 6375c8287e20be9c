/**
 * Device facts as a browser sees them: the OS and processor from `chrome.runtime` and
 * `chrome.system.*`, the browser from User-Agent Client Hints, graphics from WebGL, the make
 * and model where the district's policy lets a force-installed extension ask, and the other
 * extensions. Free disk space is never guessed (the browser does not tell it), so `disk` is
 * absent. Nothing here reads who uses the device.
 *
 * The mapping functions are pure; `collectFacts` asks the browser, each source on its own, so
 * one missing API leaves that fact unknown and the rest intact.
 */

import { compact } from "./results.js";

/** `chrome.runtime.PlatformOs` → the report's family and a display name. */
const OS_FAMILIES = {
  cros: { family: "chromeos", name: "ChromeOS" },
  win: { family: "windows", name: "Windows" },
  mac: { family: "macos", name: "macOS" },
  linux: { family: "linux", name: "Linux" },
  android: { family: "android", name: "Android" },
};

/** `chrome.runtime.PlatformArch` → the architecture as `uname -m` names it. */
const ARCHITECTURES = {
  "x86-64": "x86_64",
  "x86-32": "i686",
  arm64: "aarch64",
  aarch64: "aarch64",
  arm: "armv7l",
};

/** Client Hints brands, most specific first: Chrome and Edge also list `Chromium`. */
const BRANDS = [
  ["Google Chrome", "chrome"],
  ["Microsoft Edge", "edge"],
  ["Chromium", "chromium"],
];

/** Permissions that let an extension cancel or redirect a request. */
const BLOCKING_PERMISSIONS = ["declarativeNetRequest", "declarativeNetRequestWithHostAccess", "webRequestBlocking"];
/** Permissions that let an extension see a tab's navigations and send the tab elsewhere. */
const NAVIGATING_PERMISSIONS = ["tabs", "webNavigation"];

/** GPU vendors by the words their renderer strings use. */
const GPU_VENDORS = [
  [/nvidia|geforce|quadro|tesla/i, "nvidia", "NVIDIA"],
  [/\bamd\b|radeon|\bati\b|advanced micro devices/i, "amd", "AMD"],
  [/intel/i, "intel", "Intel"],
  [/apple/i, "apple", "Apple"],
  [/qualcomm|adreno/i, "qualcomm", "Qualcomm"],
  [/\barm\b|mali/i, "arm", "Arm"],
];

/** Renderers that draw on the processor: the browser has no graphics adapter to use. */
const SOFTWARE_RENDERER = /swiftshader|llvmpipe|softpipe|microsoft basic render/i;

/**
 * The operating system. On ChromeOS the release is the browser's own version (ChromeOS 120
 * ships Chrome 120, and profiles name ChromeOS minimums that way); Client Hints' platform
 * version there is a build number. On Linux Client Hints give the kernel, not the distribution
 * release that requirements name, so the version is left out.
 */
export function osFacts(platform, platformVersion, browserVersion) {
  const known = OS_FAMILIES[platform?.os];
  const architecture = ARCHITECTURES[platform?.arch] ?? platform?.arch ?? "unknown";
  if (!known) return { name: platform?.os ?? "unknown", architecture };
  const version = {
    chromeos: browserVersion,
    windows: windowsRelease(platformVersion),
    macos: platformVersion || undefined,
    android: platformVersion || undefined,
    linux: undefined,
  }[known.family];
  const name = known.family === "windows" && version ? `Windows ${version}` : known.name;
  return compact({ family: known.family, name, version, architecture });
}

/**
 * Windows' Client Hints platform version is not the release: 13 and above is Windows 11,
 * 1 to 12 Windows 10, and 0.1 to 0.3 Windows 7, 8 and 8.1 (Microsoft, "Detect Windows 11
 * using User-Agent Client Hints").
 */
export function windowsRelease(platformVersion) {
  const m = /^(\d+)\.(\d+)/.exec(platformVersion ?? "");
  if (!m) return undefined;
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major >= 13) return "11";
  if (major >= 1) return "10";
  return { 1: "7", 2: "8", 3: "8.1" }[minor];
}

/** The browser the agent runs in, from Client Hints' full version list, else the user agent. */
export function browserFacts(fullVersionList, userAgent) {
  for (const [brand, name] of BRANDS) {
    const hit = (fullVersionList ?? []).find((b) => b.brand === brand);
    if (hit) return { detection: "detected", installed: [{ name, version: hit.version }] };
  }
  const edge = /Edg\/([\d.]+)/.exec(userAgent ?? "");
  if (edge) return { detection: "detected", installed: [{ name: "edge", version: edge[1] }] };
  // Without Client Hints Chrome and Chromium send the same user agent: name the family.
  const chromium = /Chrome\/([\d.]+)/.exec(userAgent ?? "");
  const installed = chromium ? [{ name: "chromium", version: chromium[1] }] : [];
  return { detection: "detected", installed };
}

/**
 * Graphics from WebGL's unmasked vendor and renderer (`{vendor, renderer}`, or null when WebGL
 * could not be asked). Returns `{gpu, note}`: a software renderer is no adapter, and the note
 * says why the list is empty.
 */
export function gpuFacts(webgl) {
  if (!webgl || !webgl.renderer) return { gpu: { detection: "unsupported", adapters: [] } };
  if (SOFTWARE_RENDERER.test(webgl.renderer)) {
    return {
      gpu: { detection: "none_found", adapters: [] },
      note: `The browser draws WebGL in software (${webgl.renderer}): it has no graphics adapter to use.`,
    };
  }
  const { vendorText, model } = splitRenderer(webgl.renderer, webgl.vendor ?? "");
  const known = GPU_VENDORS.find(([re]) => re.test(vendorText) || re.test(model));
  const adapter = {
    vendor: known ? known[1] : "other",
    vendor_name: known ? known[2] : vendorText || "unknown",
    model,
    source: "webgl",
  };
  return { gpu: { detection: "detected", adapters: [adapter] } };
}

/**
 * A renderer string's vendor and model. Chrome wraps them as `ANGLE (Vendor, Model, Backend)`;
 * the model carries device ids and shader models that name no product, which are dropped.
 */
function splitRenderer(renderer, vendor) {
  const angle = /^ANGLE \((.*)\)$/.exec(renderer.trim());
  if (!angle) return { vendorText: vendor, model: renderer.trim() };
  const [vendorText = vendor, model = renderer] = topLevelFields(angle[1]);
  const cleaned = model
    .replace(/^ANGLE Metal Renderer:\s*/, "")
    .replace(/\s*\(0x[0-9a-f]+\)/gi, "")
    .replace(/\s+Direct3D\S*\s+vs_\S+\s+ps_\S+$/, "")
    .replace(/\s+/g, " ")
    .trim();
  return { vendorText, model: cleaned || model };
}

/** Comma-separated fields, commas inside parentheses kept. */
function topLevelFields(text) {
  const fields = [];
  let depth = 0;
  let current = "";
  for (const ch of text) {
    if (ch === "," && depth === 0) {
      fields.push(current.trim());
      current = "";
      continue;
    }
    if (ch === "(") depth++;
    if (ch === ")") depth = Math.max(0, depth - 1);
    current += ch;
  }
  fields.push(current.trim());
  return fields;
}

/** The primary display's size in the browser's pixels, from `chrome.system.display.getInfo()`. */
export function screenFacts(displays) {
  if (!Array.isArray(displays)) return { detection: "unsupported" };
  const primary = displays.find((d) => d.isPrimary) ?? displays[0];
  if (!primary) return { detection: "none_found" };
  return {
    detection: "detected",
    width: primary.bounds.width,
    height: primary.bounds.height,
    source: "chrome.system.display",
  };
}

/** Make and model from `chrome.enterprise.hardwarePlatform`, where both are given. */
export function modelFacts(info) {
  if (!info?.manufacturer || !info?.model) return undefined;
  return { vendor: info.manufacturer, product: info.model };
}

/**
 * The other extensions (`chrome.management.getAll()`), each with the filter vendor the
 * signature catalog names for its id, whether it may block requests (`can_block`) and whether
 * it may send a tab elsewhere (`can_navigate`): used to say who could have stopped a
 * navigation; the report leaves both out.
 */
export function extensionFacts(all, signatures, selfId) {
  if (!Array.isArray(all)) return { detection: "unsupported", installed: [] };
  const installed = all
    .filter((e) => e.type === "extension" && e.id !== selfId)
    .map((e) =>
      compact({
        id: e.id,
        name: e.name,
        version: e.version,
        enabled: Boolean(e.enabled),
        filter_vendor: (signatures ?? []).find((s) => (s.extension_ids ?? []).includes(e.id))?.vendor,
        can_block: BLOCKING_PERMISSIONS.some((p) => (e.permissions ?? []).includes(p)),
        can_navigate: NAVIGATING_PERMISSIONS.some((p) => (e.permissions ?? []).includes(p)),
      }),
    );
  return { detection: "detected", installed };
}

/** The kinds of software `chrome.management` lists (extensions and Chrome apps alike). */
const MANAGEMENT_KINDS = ["chrome_extension", "chrome_app"];

/**
 * The software the profile names (`[[software]]`) that an extension can see, from
 * `chrome.management.getAll()`: each named extension or app with its version, whether it is
 * enabled and how it was installed (`admin` when force-installed). Only what the profile names
 * is reported. Android apps, installed web apps and kiosk apps are not listed there: the
 * judgement says they are not observable, never that they pass. Undefined when the profile
 * names no software.
 */
export function softwareFacts(all, wanted) {
  if (!Array.isArray(wanted) || wanted.length === 0) return undefined;
  if (!Array.isArray(all)) {
    return {
      sources: [{ source: "chrome_management", detection: "unsupported", note: "chrome.management did not answer (the extension needs its management permission)" }],
      found: [],
    };
  }
  const named = new Map();
  for (const s of wanted) if (MANAGEMENT_KINDS.includes(s.kind)) named.set(`${s.kind} ${s.id}`, s);
  const found = [...named.values()].flatMap((s) => {
    const hit = all.find((e) => e.id === s.id);
    if (!hit) return [];
    return [compact({ kind: s.kind, id: s.id, version: hit.version, source: "chrome_management", enabled: Boolean(hit.enabled), install_type: hit.installType })];
  });
  return { sources: [{ source: "chrome_management", detection: "detected" }], found };
}

/**
 * Asks the browser for every fact. `env.webgl()` asks the offscreen document for WebGL's
 * vendor and renderer; `env.software` is the profile's `[[software]]`. Returns `{device, notes}`.
 */
export async function collectFacts(env) {
  const { chrome, navigator } = env;
  const [platform, hints, cpu, memory, displays, hardware, extensions, webgl] = await Promise.all([
    attempt(() => chrome.runtime.getPlatformInfo()),
    attempt(() => navigator.userAgentData.getHighEntropyValues(["platformVersion", "fullVersionList"])),
    attempt(() => chrome.system.cpu.getInfo()),
    attempt(() => chrome.system.memory.getInfo()),
    attempt(() => chrome.system.display.getInfo()),
    attempt(() => chrome.enterprise?.hardwarePlatform?.getHardwarePlatformInfo()),
    attempt(() => chrome.management.getAll()),
    attempt(() => env.webgl()),
  ]);
  const browsers = browserFacts(hints?.fullVersionList, navigator?.userAgent);
  const { gpu, note } = gpuFacts(webgl);
  const device = compact({
    os: osFacts(platform, hints?.platformVersion, browsers.installed[0]?.version),
    cpu: compact({ model: cpu?.modelName || undefined, logical_cores: cpu?.numOfProcessors ?? 0 }),
    memory: { total_bytes: memory?.capacity ?? 0 },
    gpu,
    screen: screenFacts(displays),
    browsers,
    model: modelFacts(hardware),
    extensions: extensionFacts(extensions, env.signatures, chrome.runtime.id),
    software: softwareFacts(extensions, env.software),
  });
  return { device, notes: note ? [note] : [] };
}

/** The value of `fn()`, or undefined when the API is missing or refuses. */
async function attempt(fn) {
  try {
    return await fn();
  } catch {
    return undefined;
  }
}
