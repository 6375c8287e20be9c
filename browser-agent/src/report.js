/**
 * The report (`fitcheck.report/v1`) as the controller reads it: the envelope, the agent, the
 * profile run, the device and the results. Pure. The controller refuses any field its schema
 * does not name, so the device facts are copied here field by field rather than passed through.
 */

import { compact } from "./results.js";

export const REPORT_SCHEMA = "fitcheck.report/v1";

/** What a browser cannot see, said in every browser report. */
export const BROWSER_NOTE =
  "Checked from inside the browser: raw TCP ports and free disk space cannot be observed there and are unknown.";

/**
 * @param {object} input
 * @param {string} input.reportId fixed when the report is built, so a repeated delivery is one report
 * @param {{agentId: string, version: string, labels: object}} input.agent
 * @param {object} input.assignment as the controller sent it
 * @param {number} input.startedAtMs
 * @param {number} input.finishedAtMs
 * @param {object} input.device from `facts.js`
 * @param {object[]} input.results from `results.js`
 * @param {string[]} input.notes
 */
export function buildReport({ reportId, agent, assignment, startedAtMs, finishedAtMs, device, results, notes }) {
  const profile = assignment.profile ?? {};
  return {
    schema: REPORT_SCHEMA,
    report_id: reportId,
    agent: { agent_id: agent.agentId, version: agent.version, labels: { ...agent.labels }, kind: "browser" },
    profile: {
      id: profile.id,
      name: profile.name,
      vendor: profile.vendor,
      digest: assignment.profile_digest,
    },
    started_at: new Date(startedAtMs).toISOString(),
    finished_at: new Date(finishedAtMs).toISOString(),
    device: deviceFacts(device),
    results,
    notes: [BROWSER_NOTE, ...notes],
  };
}

/** The device section, exactly the schema's fields. */
export function deviceFacts(d) {
  const out = {
    os: compact({ family: d.os.family, name: d.os.name, version: d.os.version, architecture: d.os.architecture }),
    cpu: compact({ model: d.cpu.model, logical_cores: d.cpu.logical_cores }),
    memory: { total_bytes: d.memory.total_bytes },
    gpu: {
      detection: d.gpu.detection,
      adapters: d.gpu.adapters.map((a) => ({
        vendor: a.vendor,
        vendor_name: a.vendor_name,
        model: a.model,
        source: a.source,
      })),
    },
    screen: compact({ detection: d.screen.detection, width: d.screen.width, height: d.screen.height, source: d.screen.source }),
    browsers: {
      detection: d.browsers.detection,
      installed: d.browsers.installed.map((b) => ({ name: b.name, version: b.version })),
    },
  };
  if (d.model) out.model = { vendor: d.model.vendor, product: d.model.product };
  if (d.extensions) {
    out.extensions = {
      detection: d.extensions.detection,
      installed: d.extensions.installed.map((e) =>
        compact({ id: e.id, name: e.name, version: e.version, enabled: e.enabled, filter_vendor: e.filter_vendor }),
      ),
    };
  }
  if (d.software) {
    out.software = {
      sources: d.software.sources.map((s) => compact({ source: s.source, detection: s.detection, note: s.note })),
      found: d.software.found.map((f) =>
        compact({ kind: f.kind, id: f.id, version: f.version, source: f.source, enabled: f.enabled, install_type: f.install_type }),
      ),
    };
  }
  return out;
}

/**
 * A UUID version 7 (RFC 9562): the Unix time in milliseconds, then random bits, so report ids
 * sort by when they were made. `random` is 16 random bytes.
 */
export function uuidv7(nowMs, random) {
  const bytes = Uint8Array.from(random.slice(0, 16));
  let ms = Math.floor(nowMs);
  for (let i = 5; i >= 0; i--) {
    bytes[i] = ms % 256;
    ms = Math.floor(ms / 256);
  }
  bytes[6] = 0x70 | (bytes[6] & 0x0f);
  bytes[8] = 0x80 | (bytes[8] & 0x3f);
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
