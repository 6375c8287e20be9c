/**
 * Whether the browser connects to a host itself or through a proxy, from its proxy settings
 * (`chrome.proxy.settings`, which include what policy sets). Behind a proxy the address a
 * navigation connected to is the proxy's, never the name's DNS answer.
 *
 * Pure but for `readProxySettings`.
 */

import { bareHost } from "./url.js";
import { inBlock, parseIp } from "./ip.js";

/**
 * How the browser reaches hosts: `{mode, bypass}` from `chrome.proxy.settings.get` — `mode` is
 * `direct`, `system`, `fixed_servers`, `pac_script` or `auto_detect`, `bypass` the fixed
 * servers' bypass list. Undefined when the browser would not say.
 */
export async function readProxySettings(chrome) {
  try {
    const got = await chrome.proxy.settings.get({ incognito: false });
    return proxySettings(got?.value);
  } catch {
    return undefined;
  }
}

/**
 * The parts of a `chrome.types.ProxyConfig` the agent uses: the mode, the bypass list and the
 * fixed server for web pages (`http://host:port`, what a report's `proxy` field holds).
 */
export function proxySettings(value) {
  if (!value?.mode) return undefined;
  const rules = value.rules ?? {};
  const server = rules.singleProxy ?? rules.proxyForHttp ?? rules.proxyForHttps;
  const proxy = server?.host ? `${server.scheme ?? "http"}://${server.host}${server.port ? `:${server.port}` : ""}` : undefined;
  return { mode: value.mode, bypass: rules.bypassList ?? [], proxy };
}

/**
 * Whether a navigation to `host` went to the host itself: true for a direct connection, false
 * through a proxy, undefined when the settings cannot tell (a PAC script or WPAD decides per
 * URL, and the browser does not say what it decided). `system` follows the device's own
 * settings, which an extension cannot read: taken as direct, as Chrome does without any.
 */
export function connectsDirectly(host, settings) {
  if (!settings) return true;
  switch (settings.mode) {
    case "direct":
    case "system":
      return true;
    case "fixed_servers":
      return bypassed(bareHost(host), settings.bypass ?? []);
    default:
      return undefined;
  }
}

/**
 * Chrome's bypass rules (net/proxy_resolution/proxy_bypass_rules.h): a host, `*.suffix` or
 * `.suffix`, an IP literal or CIDR block, `<local>` (names without a dot), each optionally with
 * a scheme or port, which are ignored here (the agent's navigations are http and https).
 */
export function bypassed(host, rules) {
  for (const raw of rules) {
    let rule = String(raw).trim().toLowerCase();
    if (!rule) continue;
    if (rule === "<local>") {
      if (!host.includes(".") && !parseIp(host)) return true;
      continue;
    }
    rule = rule.replace(/^[a-z]+:\/\//, "");
    if (rule.includes("/") && parseIp(host)) {
      if (inBlock(host, rule)) return true;
      continue;
    }
    rule = stripPort(rule);
    if (rule.startsWith("*")) {
      const suffix = rule.slice(1);
      if (host.endsWith(suffix)) return true;
    } else if (rule.startsWith(".")) {
      if (host.endsWith(rule)) return true;
    } else if (bareHost(rule) === host) {
      return true;
    }
  }
  return false;
}

function stripPort(rule) {
  if (rule.startsWith("[")) return rule.replace(/\]:\d+$/, "]");
  const colons = rule.split(":").length - 1;
  return colons === 1 ? rule.replace(/:\d+$/, "") : rule;
}
