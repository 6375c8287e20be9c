/**
 * The offscreen document: what a service worker cannot do. STUN probes through
 * `RTCPeerConnection` (a server-reflexive candidate means the server answered) and WebGL's
 * renderer for the device facts. It answers only messages addressed to it.
 */

import { isServerReflexive, OFFSCREEN_TARGET, STUN_PARALLEL, stunUrl } from "./checks/stun.js";

chrome.runtime.onMessage.addListener((message, _sender, sendResponse) => {
  if (message?.target !== OFFSCREEN_TARGET) return false;
  answer(message).then(sendResponse, (e) => sendResponse({ error: String(e?.message ?? e) }));
  return true;
});

async function answer(message) {
  switch (message.op) {
    case "stun":
      return inPool(message.targets, STUN_PARALLEL, (t) => stunProbe(t.host, t.port, message.timeoutMs));
    case "webgl":
      return webgl();
    default:
      throw new Error(`the offscreen document has no operation ${JSON.stringify(message.op)}`);
  }
}

/** `fn` over `items`, at most `limit` at once; results in the items' order. */
async function inPool(items, limit, fn) {
  const out = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}

/**
 * Gathers ICE candidates against one STUN server until a server-reflexive one appears,
 * gathering completes or `timeoutMs` pass. Returns `{answered, errors, durationMs}`.
 */
async function stunProbe(host, port, timeoutMs) {
  const started = performance.now();
  const errors = [];
  const pc = new RTCPeerConnection({ iceServers: [{ urls: stunUrl(host, port) }] });
  try {
    const answered = await new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      const end = (value) => {
        clearTimeout(timer);
        resolve(value);
      };
      pc.onicecandidate = (e) => {
        if (!e.candidate) end(false);
        else if (isServerReflexive(e.candidate.candidate)) end(true);
      };
      pc.onicecandidateerror = (e) => errors.push(`${e.errorCode} ${e.errorText ?? ""}`.trim());
      pc.createDataChannel("x");
      pc.createOffer()
        .then((offer) => pc.setLocalDescription(offer))
        .catch((e) => {
          errors.push(String(e?.message ?? e));
          end(false);
        });
    });
    return { answered, errors, durationMs: Math.round(performance.now() - started) };
  } finally {
    pc.close();
  }
}

/** WebGL's unmasked vendor and renderer; the masked ones where the browser hides them. */
function webgl() {
  const canvas = document.createElement("canvas");
  const gl = canvas.getContext("webgl2") ?? canvas.getContext("webgl");
  if (!gl) return null;
  const info = gl.getExtension("WEBGL_debug_renderer_info");
  return {
    vendor: gl.getParameter(info ? info.UNMASKED_VENDOR_WEBGL : gl.VENDOR),
    renderer: gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER),
  };
}
