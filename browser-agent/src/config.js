/**
 * The district's settings for this agent, as Google Admin (or the `3rdparty` policy on Windows
 * and macOS) hands them to the extension through managed storage (`managed_schema.json`).
 * Checked here, before any request, so that a mistake shows in the extension's status with the
 * setting's name instead of as a refused enrollment.
 */

/** The controller's rules for labels (`check_labels` in the controller), repeated here. */
const MAX_LABELS = 16;
const LABEL_KEY = /^[a-z0-9_-]{1,32}$/;
const MAX_LABEL_VALUE_CHARS = 128;
// Control characters: C0, DEL and C1, as Rust's `char::is_control` counts them.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

const EXAMPLE_URL = "https://fitcheck.district.example:8443";

/**
 * Reads the managed settings. Returns `{config}` with `controllerUrl` (no trailing slash),
 * `enrollmentSecret` (a string, or null when unset: only enrolling needs it) and `labels`, or
 * `{error}` saying which setting is wrong and how to fix it.
 */
export function readConfig(managed) {
  const settings = managed ?? {};
  const url = controllerUrl(settings.controller_url);
  if (url.error) return url;
  const secret = enrollmentSecret(settings.enrollment_secret);
  if (secret.error) return secret;
  const labels = checkLabels(settings.labels);
  if (labels.error) return labels;
  return {
    config: { controllerUrl: url.value, enrollmentSecret: secret.value, labels: labels.value },
  };
}

function controllerUrl(value) {
  if (typeof value !== "string" || value.trim() === "") {
    return fail(`controller_url is not set in the extension's policy; set it to the controller's address, such as ${EXAMPLE_URL}`);
  }
  let u;
  try {
    u = new URL(value.trim());
  } catch {
    return fail(`controller_url ${JSON.stringify(value)} is not a URL; give the controller's address, such as ${EXAMPLE_URL}`);
  }
  if (u.protocol !== "https:" && !(u.protocol === "http:" && isLabHost(u.hostname))) {
    return fail(`controller_url ${JSON.stringify(value)} must start with https:// (plain http is accepted only for a loopback address or a .test host)`);
  }
  if (u.username || u.password || u.search || u.hash) {
    return fail(`controller_url ${JSON.stringify(value)} must be the controller's base address, without user name, password, query or fragment`);
  }
  return { value: `${u.origin}${u.pathname}`.replace(/\/+$/, "") };
}

/**
 * Plain http is allowed only where nothing on the way can read the credential: a loopback
 * address, or a `.test` name (RFC 6761 reserves it), which only a lab's own resolver answers.
 * Both exist for lab testing; a district's controller is reached over https.
 */
export function isLabHost(hostname) {
  const host = hostname.toLowerCase().replace(/\.$/, "");
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host) || host === "[::1]" || host.endsWith(".test");
}

function enrollmentSecret(value) {
  if (value === undefined || value === null || value === "") return { value: null };
  if (typeof value !== "string") {
    return fail("enrollment_secret must be a string: the enrollment secret an administrator created in the controller");
  }
  return { value: value.trim() || null };
}

function checkLabels(value) {
  if (value === undefined || value === null) return { value: {} };
  if (typeof value !== "object" || Array.isArray(value)) {
    return fail('labels must be an object of names to values, such as {"site": "lincoln", "room": "204"}');
  }
  const entries = Object.entries(value);
  if (entries.length > MAX_LABELS) {
    return fail(`labels has ${entries.length} entries; the controller accepts at most ${MAX_LABELS}`);
  }
  for (const [key, v] of entries) {
    if (!LABEL_KEY.test(key)) {
      return fail(`label name ${JSON.stringify(key)} must be 1-32 lowercase letters, digits, '-' or '_'`);
    }
    const chars = typeof v === "string" ? [...v].length : 0;
    if (chars === 0 || chars > MAX_LABEL_VALUE_CHARS || CONTROL.test(v)) {
      return fail(`label ${JSON.stringify(key)}: the value must be a string of 1-${MAX_LABEL_VALUE_CHARS} printable characters`);
    }
  }
  return { value: Object.fromEntries(entries) };
}

function fail(error) {
  return { error };
}
