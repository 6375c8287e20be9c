/**
 * UDP through STUN, from a browser: a service worker has no `RTCPeerConnection`, so the probes
 * run in the extension's offscreen document (`offscreen.html`, `src/offscreen.js`), which also
 * reads the WebGL renderer for the device facts. This module is the service worker's side: it
 * opens that document once and asks it. A server-reflexive ICE candidate means the STUN server
 * answered a binding request; its address (the district's public one) is never recorded.
 */

import { udpResult } from "../results.js";

/** Longest one STUN probe waits for a server-reflexive candidate. */
export const STUN_TIMEOUT_MS = 5_000;
/** Probes run at once in the offscreen document. */
export const STUN_PARALLEL = 8;
/** Messages for the offscreen document carry this `target`. */
export const OFFSCREEN_TARGET = "fitcheck-offscreen";
const OFFSCREEN_URL = "offscreen.html";

/** Whether an ICE candidate line is server-reflexive (`… typ srflx …`). */
export function isServerReflexive(candidate) {
  return / typ srflx(\s|$)/.test(candidate ?? "");
}

/** The `stun:` URL for a host (an IPv6 literal bracketed) and port. */
export function stunUrl(host, port) {
  const h = host.includes(":") && !host.startsWith("[") ? `[${host}]` : host;
  return `stun:${h}:${port}`;
}

/** What a probe saw, in words for the report's `detail`. */
export function stunDetail({ answered, errors }, timeoutMs = STUN_TIMEOUT_MS) {
  if (answered) return "STUN binding answered: a server-reflexive candidate was gathered (its address is not recorded)";
  const seconds = Math.round(timeoutMs / 1000);
  const base = `no server-reflexive candidate within ${seconds} s: the STUN server did not answer (UDP to this port is likely blocked)`;
  return errors?.length ? `${base}; ICE errors: ${errors.join("; ")}` : base;
}

/** Probes every planned STUN target; returns their UdpResults in plan order. */
export async function probeStun(chrome, targets) {
  if (targets.length === 0) return [];
  const answers = await ask(chrome, { op: "stun", targets: targets.map(({ host, port }) => ({ host, port })), timeoutMs: STUN_TIMEOUT_MS });
  return targets.map((t, i) => {
    const a = answers?.[i] ?? { answered: false, errors: [answers?.error ?? "the offscreen document did not answer"], durationMs: 0 };
    return udpResult({ ...t, answered: a.answered, detail: stunDetail(a), durationMs: a.durationMs });
  });
}

/** WebGL's unmasked vendor and renderer, or null when the offscreen document cannot tell. */
export async function webglInfo(chrome) {
  const answer = await ask(chrome, { op: "webgl" });
  return answer?.renderer ? answer : null;
}

async function ask(chrome, message) {
  await openOffscreen(chrome);
  return chrome.runtime.sendMessage({ target: OFFSCREEN_TARGET, ...message });
}

/**
 * Closes the offscreen document: it is a page of its own (a renderer process) and is needed
 * only while a run asks it something, never between runs.
 */
export async function closeOffscreen(chrome) {
  try {
    const open = await chrome.runtime.getContexts({ contextTypes: ["OFFSCREEN_DOCUMENT"] });
    if (open.length > 0) await chrome.offscreen.closeDocument();
  } catch {
    // Closed already, or the browser has no offscreen documents: nothing is kept open.
  }
}

/** Opens the offscreen document unless it is open: the browser allows one per extension. */
async function openOffscreen(chrome) {
  const open = await chrome.runtime.getContexts({ contextTypes: ["OFFSCREEN_DOCUMENT"] });
  if (open.length > 0) return;
  try {
    await chrome.offscreen.createDocument({
      url: OFFSCREEN_URL,
      reasons: ["WEB_RTC"],
      justification: "STUN probes of the UDP ports an instructional product needs, and the WebGL renderer for the device facts",
    });
  } catch (e) {
    // Another call opened it in the meantime.
    if (!/single offscreen/i.test(String(e?.message))) throw e;
  }
}
