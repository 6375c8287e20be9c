/**
 * Round trips to the product, from inside the browser: HTTP `HEAD` requests to the root of the
 * profile's latency host (as core plans it, `fitcheck_core::plan`), one every `INTERVAL_MS` over
 * the connection the first one opened, each timed from sending to the answer's headers.
 *
 * A browser cannot send ICMP or time a TCP handshake to another origin, so this is the closest
 * figure it has. It is an upper bound on the network's round trip: each includes the server's
 * time to answer (and a proxy's, where one is set). Any answer counts, a redirect or an error
 * status included, since it came back over the path; a request that fails or takes longer than
 * `PROBE_TIMEOUT_MS` is counted as lost, which is not packet loss (TCP resends a lost packet
 * and the request is only late), so the recommendation judges only the round trip and jitter.
 *
 * The requests carry no cookies and follow no redirect: nothing of the student's session goes
 * to the product, and one request is one round trip.
 *
 * `timeRoundTrips` is the timing itself, shared with the round trips to the controller
 * (`throughput.js`).
 */

import { latencyResult } from "../results.js";
import { withoutQuery } from "../url.js";

/** Timed requests, after the one that opens the connection (as the native agent's 20 pings). */
export const PROBES = 20;
/** Time between the starts of two requests (the native agent's ping interval). */
export const INTERVAL_MS = 200;
/** A request not answered within this is lost. */
export const PROBE_TIMEOUT_MS = 2000;

/**
 * Times `probes` round trips, `intervalMs` apart from start to start, after one that opens the
 * connection and is not counted (its handshakes are no round trip). `send(signal)` makes one
 * request and resolves to whether its answer counts; a probe that fails, does not count, or
 * takes longer than `timeoutMs` is lost (null). Returns the round trips and why probes failed.
 */
export async function timeRoundTrips(env, send, { probes, intervalMs = 0, timeoutMs = PROBE_TIMEOUT_MS }) {
  const errors = new Set();
  const probe = async () => {
    const t0 = env.now();
    try {
      const counts = await send(AbortSignal.timeout(timeoutMs));
      const rtt = env.now() - t0;
      return counts && rtt <= timeoutMs ? rtt : null;
    } catch (e) {
      errors.add(e?.name === "TimeoutError" ? `no answer within ${timeoutMs} ms` : String(e?.message ?? e));
      return null;
    }
  };
  await probe();
  const rtts = [];
  for (let i = 0; i < probes; i++) {
    const sent = env.now();
    rtts.push(await probe());
    if (intervalMs > 0 && i + 1 < probes) await env.sleep(Math.max(0, intervalMs - (env.now() - sent)));
  }
  return { rtts, errors: [...errors] };
}

/**
 * @param {{fetch: Function, now: () => number, sleep: (ms: number) => Promise<void>}} env
 * @param {{host: string, url: string}} target
 */
export async function measureProductLatency(env, target) {
  // Any answer came back over the path: a redirect or an error status counts too.
  const send = async (signal) => {
    await env.fetch(target.url, { method: "HEAD", cache: "no-store", credentials: "omit", redirect: "manual", signal });
    return true;
  };
  const { rtts, errors } = await timeRoundTrips(env, send, { probes: PROBES, intervalMs: INTERVAL_MS });
  const failed = errors.length > 0 ? `; failed requests: ${errors.join("; ")}` : "";
  return latencyResult({
    target: target.host,
    rtts,
    detail:
      `HTTP HEAD requests to ${withoutQuery(target.url)} over an open connection, ${INTERVAL_MS} ms apart; ` +
      `each includes the server's time to answer, and a failed request is not a lost packet${failed}`,
  });
}
