/**
 * Round trips and throughput against the controller's bandwidth endpoint
 * (`/api/agent/v1/bandwidth/…`), from inside the browser with `fetch`.
 *
 * Download: parallel streams read with a reader, their bytes counted into 100 ms intervals from
 * an absolute start time. Upload: parallel POSTs, counted by the server (its progress answer),
 * since bytes a browser has handed to `fetch` may still sit in a socket buffer. A coordinated run
 * (`start_at`) holds each direction for its whole time slot, the download from the agreed moment
 * and the upload in its own slot after it, as the native agent does, so a site's devices share
 * the link over the same seconds and the controller can add them up interval by interval.
 *
 * The pure parts (intervals, rates, slots) are exported for tests; the measuring functions take
 * `env = {fetch, now, sleep, randomBytes, randomId}` so they never touch a global.
 */

import { bandwidthResult, latencyResult } from "../results.js";
import { hostOf } from "../url.js";
import { timeRoundTrips } from "./latency.js";

/** Length of one sample interval, milliseconds. */
export const INTERVAL_MS = 100;
/** Parallel streams per direction. */
export const STREAMS = 4;
/** The agent's hard caps on one direction (core `bandwidth_caps`): seconds and bytes. */
export const MAX_SECONDS = 15;
export const MAX_BYTES = 2 * 1024 ** 3;
/**
 * Bytes one download request asks for. The controller charges a download what it asks before
 * it starts, so a smaller ask wastes less of the day's allowance when time runs out; asking
 * again costs one round trip.
 */
export const DOWNLOAD_REQUEST_BYTES = 64 * 1024 ** 2;
/**
 * Bytes one upload request sends when request streaming is not available (Chrome streams a
 * request body only over HTTP/2). Large, so that the requests a fast link needs stay within the
 * controller's per-agent request rate.
 */
const UPLOAD_REQUEST_BYTES = 32 * 1024 ** 2;
/** One piece of a streamed upload body. */
const UPLOAD_PIECE_BYTES = 64 * 1024;
/** Pause between a coordinated run's download and upload slots (the native agent's). */
export const SLOT_GAP_MS = 2000;
/** A slot missed by more than this is run at once and marked `late_start`. */
export const LATE_MS = 3000;
/** The start of a direction left out of its rate: TCP is still ramping up. */
const RAMP_UP_MS = 1000;
/** Round-trip probes. */
const RTT_PROBES = 10;

/** Bytes counted into fixed intervals from an absolute start time (Unix milliseconds). */
export class Buckets {
  constructor(startMs, intervalMs = INTERVAL_MS) {
    this.startMs = startMs;
    this.intervalMs = intervalMs;
    this.bytes = [];
  }

  /** Counts `n` bytes that arrived at `atMs`. */
  add(n, atMs) {
    const i = Math.max(0, Math.floor((atMs - this.startMs) / this.intervalMs));
    while (this.bytes.length <= i) this.bytes.push(0);
    this.bytes[i] += n;
  }

  /** The report's `ThroughputSamples` up to `endMs`: intervals without bytes are zeros. */
  samples(endMs) {
    const n = Math.max(this.bytes.length, Math.ceil((endMs - this.startMs) / this.intervalMs));
    const bytes = Array.from({ length: n }, (_, i) => this.bytes[i] ?? 0);
    return { start_unix_ms: Math.round(this.startMs), interval_ms: this.intervalMs, bytes };
  }
}

/**
 * Intervals from the server's running totals: `readings` are `{atMs, bytes}`, bytes received
 * so far. The total at each interval's edge is interpolated between readings and never
 * extrapolated past the last, so the intervals add up to what the server had at the end.
 */
export function bucketsFromProgress(readings, startMs, endMs, intervalMs = INTERVAL_MS) {
  const points = monotonic([{ atMs: startMs, bytes: 0 }, ...readings].sort((a, b) => a.atMs - b.atMs));
  const n = Math.max(0, Math.ceil((endMs - startMs) / intervalMs));
  const edges = Array.from({ length: n + 1 }, (_, k) => Math.round(totalAt(points, Math.min(startMs + k * intervalMs, endMs))));
  const bytes = edges.slice(1).map((e, k) => e - edges[k]);
  return { start_unix_ms: Math.round(startMs), interval_ms: intervalMs, bytes };
}

function monotonic(points) {
  let most = 0;
  return points.map((p) => {
    most = Math.max(most, p.bytes);
    return { atMs: p.atMs, bytes: most };
  });
}

function totalAt(points, t) {
  if (t <= points[0].atMs) return points[0].bytes;
  for (let i = 1; i < points.length; i++) {
    const [a, b] = [points[i - 1], points[i]];
    if (t <= b.atMs) {
      const span = b.atMs - a.atMs;
      return span === 0 ? b.bytes : a.bytes + ((b.bytes - a.bytes) * (t - a.atMs)) / span;
    }
  }
  return points[points.length - 1].bytes;
}

/**
 * Megabits per second over the samples, the ramp-up second left out when at least three
 * seconds were measured; undefined when nothing was.
 */
export function rateMbps(samples) {
  const skip = samples.bytes.length * samples.interval_ms >= 3000 ? Math.round(RAMP_UP_MS / samples.interval_ms) : 0;
  const kept = samples.bytes.slice(skip);
  const seconds = (kept.length * samples.interval_ms) / 1000;
  if (seconds === 0) return undefined;
  const bits = kept.reduce((a, b) => a + b, 0) * 8;
  return Math.round((bits / seconds / 1e6) * 100) / 100;
}

/**
 * When each direction runs and for how long. With `startAtMs` (a coordinated run) the download
 * starts then and the upload one slot and a gap later; without it each starts at once.
 */
export function slots(bandwidth) {
  const seconds = Math.min(MAX_SECONDS, bandwidth.maxSeconds > 0 ? bandwidth.maxSeconds : MAX_SECONDS);
  if (bandwidth.startAtMs === null) return { seconds, downloadAtMs: null, uploadAtMs: null };
  return {
    seconds,
    downloadAtMs: bandwidth.startAtMs,
    uploadAtMs: bandwidth.startAtMs + seconds * 1000 + SLOT_GAP_MS,
  };
}

/** The controller's bandwidth routes for one agent. */
function endpoint(access) {
  const base = `${access.controllerUrl}/api/agent/v1/bandwidth`;
  const headers = { Authorization: `Bearer ${access.credential}` };
  return {
    base: `${base}/`,
    download: (bytes) => `${base}/download?bytes=${bytes}`,
    upload: (session) => `${base}/upload?session=${session}`,
    progress: (session) => `${base}/upload/progress?session=${session}`,
    headers,
  };
}

/** Round trips: one-byte downloads in a row; only a successful answer counts. */
export async function measureLatency(env, access) {
  const ep = endpoint(access);
  const send = async (signal) => {
    const res = await env.fetch(ep.download(1), { headers: ep.headers, cache: "no-store", signal });
    await res.arrayBuffer();
    return res.ok;
  };
  const { rtts } = await timeRoundTrips(env, send, { probes: RTT_PROBES });
  return latencyResult({
    target: hostOf(access.controllerUrl),
    rtts,
    detail: "HTTP round trips to the controller's bandwidth endpoint over an open connection; each includes the controller's time to answer",
  });
}

/** Both directions, each in its slot. Returns the BandwidthResult. */
export async function measureBandwidth(env, access, bandwidth) {
  const ep = endpoint(access);
  const plan = slots(bandwidth);
  const validity = [];
  await waitFor(env, plan.downloadAtMs, "download", validity);
  const began = env.now();
  const download = await measureDownload(env, ep, plan.seconds);
  await waitFor(env, plan.uploadAtMs, "upload", validity);
  const upload = await measureUpload(env, ep, plan.seconds);
  validity.push(...download.validity, ...upload.validity);
  const errors = [...download.errors.map((e) => `download: ${e}`), ...upload.errors.map((e) => `upload: ${e}`)];
  return bandwidthResult({
    target: ep.base,
    streams: STREAMS,
    download: download.figures,
    upload: upload.figures,
    durationMs: env.now() - began,
    validity,
    detail: errors.length > 0 ? [...new Set(errors)].join("; ") : undefined,
  });
}

/** Waits for a slot; one already past by more than `LATE_MS` runs at once, marked late. */
async function waitFor(env, atMs, direction, validity) {
  if (atMs === null) return;
  const wait = atMs - env.now();
  if (wait > 0) await env.sleep(wait);
  else if (-wait > LATE_MS) validity.push(`${direction}:late_start`);
}

/** Runs `workers` until they finish or `ms` pass, then stops them and waits for them to end. */
async function forAtMost(env, ms, controller, workers) {
  await Promise.race([Promise.allSettled(workers), env.sleep(ms)]);
  controller.abort();
  return Promise.allSettled(workers);
}

/** A direction's figures, or null when it moved nothing. */
function figures(samples, bytes, durationMs) {
  if (bytes === 0) return null;
  return { mbps: rateMbps(samples), bytes, durationMs, samples };
}

async function measureDownload(env, ep, seconds) {
  const startMs = env.now();
  const endMs = startMs + seconds * 1000;
  const tally = { buckets: new Buckets(startMs), bytes: 0, endMs };
  const controller = new AbortController();
  const workers = Array.from({ length: STREAMS }, () => downloadStream(env, ep, tally, controller.signal));
  const settled = await forAtMost(env, endMs - startMs, controller, workers);
  const stoppedMs = Math.min(env.now(), endMs);
  const samples = tally.buckets.samples(stoppedMs);
  return {
    figures: figures(samples, tally.bytes, stoppedMs - startMs),
    validity: tally.bytes >= MAX_BYTES ? ["download:byte_cap"] : [],
    errors: failures(settled, controller.signal),
  };
}

/** One download stream: asks again until the slot ends or the byte cap is reached. */
async function downloadStream(env, ep, tally, signal) {
  while (!signal.aborted && tally.bytes < MAX_BYTES) {
    const ask = Math.min(DOWNLOAD_REQUEST_BYTES, MAX_BYTES - tally.bytes);
    const res = await env.fetch(ep.download(ask), { headers: ep.headers, cache: "no-store", signal });
    if (!res.ok) throw await refusal(res);
    const reader = res.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      const at = env.now();
      if (at >= tally.endMs || tally.bytes >= MAX_BYTES) {
        await reader.cancel();
        return;
      }
      const n = Math.min(value.byteLength, MAX_BYTES - tally.bytes);
      tally.buckets.add(n, at);
      tally.bytes += n;
    }
  }
}

async function measureUpload(env, ep, seconds) {
  const session = env.randomId();
  const startMs = env.now();
  const endMs = startMs + seconds * 1000;
  const controller = new AbortController();
  const block = randomBlock(env, UPLOAD_REQUEST_BYTES);
  const mode = { chunked: false };
  const workers = Array.from({ length: STREAMS }, () => uploadStream(env, ep, session, block, mode, controller.signal));
  const progress = pollProgress(env, ep, session, endMs, controller.signal);
  const settled = await forAtMost(env, endMs - startMs, controller, workers);
  const readings = await progress;
  const stoppedMs = Math.min(env.now(), endMs);
  const samples = bucketsFromProgress(readings, startMs, stoppedMs);
  const bytes = samples.bytes.reduce((a, b) => a + b, 0);
  const validity = [];
  if (mode.chunked) validity.push("upload:chunked_requests");
  if (bytes >= MAX_BYTES) validity.push("upload:byte_cap");
  return { figures: figures(samples, bytes, stoppedMs - startMs), validity, errors: failures(settled, controller.signal) };
}

/**
 * One upload stream: a streamed body where the browser can (HTTP/2), else the same block sent
 * again and again, each stream within its share of the byte cap.
 */
async function uploadStream(env, ep, session, block, mode, signal) {
  const share = MAX_BYTES / STREAMS;
  if (!mode.chunked) {
    try {
      const res = await env.fetch(ep.upload(session), {
        method: "POST",
        headers: ep.headers,
        body: streamedBody(block, share),
        duplex: "half",
        signal,
      });
      if (!res.ok) throw await refusal(res);
      return;
    } catch (e) {
      if (signal.aborted || e instanceof RefusedError) throw e;
      mode.chunked = true;
    }
  }
  for (let sent = 0; !signal.aborted && sent < share; sent += block.byteLength) {
    const res = await env.fetch(ep.upload(session), { method: "POST", headers: ep.headers, body: block, signal });
    if (!res.ok) throw await refusal(res);
  }
}

function streamedBody(block, share) {
  let sent = 0;
  return new ReadableStream({
    pull(controller) {
      if (sent >= share) {
        controller.close();
        return;
      }
      const at = sent % block.byteLength;
      controller.enqueue(block.slice(at, at + UPLOAD_PIECE_BYTES));
      sent += UPLOAD_PIECE_BYTES;
    },
  });
}

/**
 * The server's running total every interval until `endMs` or until the uploads stop, as
 * `{atMs, bytes}` readings.
 */
async function pollProgress(env, ep, session, endMs, signal) {
  const readings = [];
  while (env.now() < endMs && !signal.aborted) {
    const sentMs = env.now();
    try {
      const res = await env.fetch(ep.progress(session), { headers: ep.headers, cache: "no-store" });
      if (res.ok) {
        const { bytes } = await res.json();
        // The server counted at some moment during the request: take its middle.
        readings.push({ atMs: (sentMs + env.now()) / 2, bytes: Number(bytes) || 0 });
      }
    } catch {
      // A missed reading only makes the intervals around it coarser.
    }
    await env.sleep(Math.max(0, INTERVAL_MS - (env.now() - sentMs)));
  }
  return readings;
}

/** Incompressible bytes: no compressing proxy on the way can shrink the upload. */
function randomBlock(env, size) {
  const block = new Uint8Array(size);
  const step = 65536;
  for (let at = 0; at < size; at += step) block.set(env.randomBytes(Math.min(step, size - at)), at);
  return block;
}

/** An answer that is not a success: its status and what the controller said. */
class RefusedError extends Error {}

/** The error for an answer that is not a success. */
async function refusal(res) {
  let said = "";
  try {
    said = (await res.text()).slice(0, 300);
  } catch {
    // The status alone says enough.
  }
  return new RefusedError(`HTTP ${res.status}${said ? `: ${said}` : ""}`);
}

/** What went wrong in streams that failed, leaving out the stop at the end of the slot. */
function failures(settled, signal) {
  return settled
    .filter((s) => s.status === "rejected" && !(signal.aborted && s.reason?.name === "AbortError"))
    .map((s) => String(s.reason?.message ?? s.reason));
}
