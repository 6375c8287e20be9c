import assert from "node:assert/strict";
import { describe, it } from "node:test";

import { Agent, deferredStart, deliveryVerdict, KEYS, MAX_ATTEMPTS, MAX_REJECTED, MAX_SPOOL, retryDelayMs } from "../src/agent.js";

const CONTROLLER = "https://fitcheck.district.example:8443";
const MANAGED = { controller_url: `${CONTROLLER}/`, enrollment_secret: "fcs_secret", labels: { site: "lincoln" } };
const T0 = Date.UTC(2026, 2, 2, 8, 0, 0);

/** A controller that answers the agent API from scripted state, and records every request. */
class FakeController {
  constructor() {
    this.requests = [];
    this.assignments = [];
    this.credentials = 0;
    this.valid = null;
    this.enrollStatus = 201;
    this.reportStatus = () => 201;
    this.stored = new Map();
    this.fetch = this.fetch.bind(this);
  }

  revoke() {
    this.valid = null;
  }

  async fetch(url, init = {}) {
    const u = new URL(url);
    const body = init.body === undefined ? undefined : JSON.parse(init.body);
    const auth = init.headers?.Authorization;
    this.requests.push({ method: init.method ?? "GET", path: u.pathname, query: u.search, body, auth, contentType: init.headers?.["Content-Type"] });
    if (u.pathname === "/api/agent/v1/enroll") return this.enroll(body);
    if (auth !== `Bearer ${this.valid}` || this.valid === null) return json(401, { error: "unauthorized", message: "unknown agent credential; enroll the agent again" });
    if (u.pathname === "/api/agent/v1/assignments") return json(200, { assignments: this.assignments, poll_interval_s: 60 });
    if (u.pathname === "/api/agent/v1/reports") return this.report(body);
    if (u.pathname === "/api/agent/v1/extensions") return new Response(null, { status: 204 });
    return json(404, { error: "not_found", message: u.pathname });
  }

  enroll(body) {
    if (this.enrollStatus !== 201) return json(this.enrollStatus, { error: "refused", message: `enroll answered ${this.enrollStatus}` });
    this.valid = `fca_credential_${++this.credentials}`;
    return json(201, { agent_id: body.agent_id, credential: this.valid, poll_interval_s: 60 });
  }

  report(body) {
    const status = this.reportStatus(body);
    if (status === 201 && this.stored.has(body.report_id)) return json(200, { report_id: body.report_id, result: "duplicate" });
    if (status === 201) this.stored.set(body.report_id, body);
    if (status === 201 || status === 200) return json(status, { report_id: body.report_id, result: status === 201 ? "stored" : "duplicate" });
    return json(status, { error: "refused", message: `the controller answered ${status}` }, status === 429 ? { "Retry-After": "120" } : {});
  }

  of(path, method) {
    return this.requests.filter((r) => r.path === path && (!method || r.method === method));
  }
}

function json(status, value, headers = {}) {
  return new Response(JSON.stringify(value), { status, headers: { "Content-Type": "application/json", ...headers } });
}

/** `chrome.storage.local` in memory; values go through structuredClone, as they do through the browser's store. */
class FakeStorage {
  constructor() {
    this.data = new Map();
    this.writes = [];
  }

  async get(keys) {
    const list = keys === null ? [...this.data.keys()] : [keys].flat();
    return Object.fromEntries(list.filter((k) => this.data.has(k)).map((k) => [k, structuredClone(this.data.get(k))]));
  }

  async set(items) {
    this.writes.push(Object.keys(items));
    for (const [k, v] of Object.entries(items)) this.data.set(k, structuredClone(v));
  }

  async remove(keys) {
    for (const k of [keys].flat()) this.data.delete(k);
  }

  value(key) {
    return this.data.get(key);
  }
}

const DEVICE = {
  os: { family: "chromeos", name: "ChromeOS", version: "126.0.1", architecture: "x86_64" },
  cpu: { logical_cores: 4 },
  memory: { total_bytes: 8e9 },
  gpu: { detection: "unsupported", adapters: [] },
  screen: { detection: "unsupported" },
  browsers: { detection: "detected", installed: [{ name: "chrome", version: "126.0.1" }] },
};

function assignment(id = "00000000-0000-4000-8000-00000000000a", extra = {}) {
  return {
    evaluation_id: id,
    profile_toml: "format = 1",
    profile: { format: 1, id: "zoom", name: "Zoom", vendor: "Zoom", reviewed: "2026-01-01", sources: [] },
    profile_digest: "sha256:abc",
    window_end: "2026-04-01T00:00:00Z",
    block_signatures: [],
    ...extra,
  };
}

/** An agent over `storage` and `controller`, as the service worker builds it; a new one is a restarted worker. */
function agentOver({ storage, controller, managed = MANAGED, runChecks, extensions }) {
  let clock = T0;
  let uuids = 0;
  const schedule = { polls: [], deliveries: [], wakes: [] };
  const ran = [];
  const agent = new Agent({
    fetch: controller.fetch,
    storage,
    readManaged: async () => structuredClone(managed),
    now: () => (clock += 10),
    random: () => 0.5,
    randomUUID: () => `6c0e5b8e-0f55-4e8e-9d2a-${String(++uuids).padStart(12, "0")}`,
    randomBytes: (n) => new Uint8Array(n).fill(7),
    runChecks:
      runChecks ??
      (async (a, access) => {
        ran.push({ id: a.evaluation_id, access });
        return { device: DEVICE, results: [], notes: [] };
      }),
    schedule: {
      pollEvery: async (s) => schedule.polls.push(s),
      // As a delay from now, to compare retries with the backoff.
      deliverAt: async (ms) => schedule.deliveries.push(ms === null ? null : ms - clock),
      wakeAt: async (id, ms) => schedule.wakes.push({ id, ms }),
    },
    version: "0.1.0",
    extensions,
  });
  return { agent, schedule, ran, advance: (ms) => (clock += ms), now: () => clock };
}

function setup(opts = {}) {
  const storage = opts.storage ?? new FakeStorage();
  const controller = opts.controller ?? new FakeController();
  return { storage, controller, ...agentOver({ storage, controller, ...opts }) };
}

describe("configuration", () => {
  it("without a policy the agent does nothing and says what to set", async () => {
    const { agent, storage, controller } = setup({ managed: {} });
    await agent.cycle();
    assert.equal(controller.requests.length, 0);
    assert.equal(storage.value(KEYS.status).level, "problem");
    assert.match(storage.value(KEYS.status).message, /controller_url is not set/);
  });

  it("an invalid policy is reported, not acted on", async () => {
    const { agent, storage, controller } = setup({ managed: { ...MANAGED, controller_url: "http://fitcheck.district.example" } });
    await agent.cycle();
    assert.equal(controller.requests.length, 0);
    assert.match(storage.value(KEYS.status).message, /must start with https/);
  });

  it("without an enrollment secret it cannot enroll and says so", async () => {
    const { agent, storage, controller } = setup({ managed: { controller_url: CONTROLLER } });
    await agent.cycle();
    assert.equal(controller.requests.length, 0);
    assert.match(storage.value(KEYS.status).message, /enrollment_secret is not set/);
  });
});

describe("enrollment", () => {
  it("enrolls once with its own id and the policy's labels, then polls with the credential", async () => {
    const { agent, storage, controller } = setup();
    await agent.cycle();
    await agent.cycle();
    const enrolls = controller.of("/api/agent/v1/enroll");
    assert.equal(enrolls.length, 1);
    assert.deepEqual(enrolls[0].body, {
      secret: "fcs_secret",
      agent_id: storage.value(KEYS.agentId),
      labels: { site: "lincoln" },
      version: "0.1.0",
      kind: "browser",
    });
    assert.equal(enrolls[0].contentType, "application/json");
    const polls = controller.of("/api/agent/v1/assignments", "GET");
    assert.equal(polls.length, 2);
    assert.ok(polls.every((p) => p.auth === "Bearer fca_credential_1"));
    assert.equal(storage.value(KEYS.status).level, "ok");
  });

  it("a 401 on a poll forgets the credential and the next poll enrolls again under the same id", async () => {
    const { agent, storage, controller } = setup();
    await agent.cycle();
    const id = storage.value(KEYS.agentId);
    controller.revoke();
    await agent.cycle();
    assert.equal(storage.value(KEYS.enrollment), undefined);
    assert.match(storage.value(KEYS.status).message, /no longer accepts this agent's credential/);
    await agent.cycle();
    const enrolls = controller.of("/api/agent/v1/enroll");
    assert.equal(enrolls.length, 2);
    assert.equal(enrolls[1].body.agent_id, id);
    assert.equal(storage.value(KEYS.enrollment).credential, "fca_credential_2");
  });

  it("an id enrolled already whose credential was lost is replaced by a new one", async () => {
    const { agent, storage, controller } = setup();
    controller.enrollStatus = 409;
    await agent.cycle();
    const first = controller.of("/api/agent/v1/enroll")[0].body.agent_id;
    assert.notEqual(storage.value(KEYS.agentId), first);
    controller.enrollStatus = 201;
    await agent.cycle();
    assert.equal(controller.of("/api/agent/v1/enroll")[1].body.agent_id, storage.value(KEYS.agentId));
  });

  it("a refused enrollment secret is reported with the controller's message", async () => {
    const { agent, storage, controller } = setup();
    controller.enrollStatus = 401;
    await agent.cycle();
    assert.match(storage.value(KEYS.status).message, /Not enrolled.*HTTP 401: enroll answered 401/);
  });

  it("reports carry the labels the agent enrolled with; a changed policy is pointed out", async () => {
    const storage = new FakeStorage();
    const controller = new FakeController();
    await agentOver({ storage, controller }).agent.cycle();
    controller.assignments = [assignment()];
    const moved = { ...MANAGED, labels: { site: "washington" } };
    await agentOver({ storage, controller, managed: moved }).agent.cycle();
    const [report] = controller.stored.values();
    assert.deepEqual(report.agent.labels, { site: "lincoln" });
    assert.match(storage.value(KEYS.status).message, /policy's labels \(site=washington\) differ/);
    assert.equal(controller.of("/api/agent/v1/enroll").length, 1);
  });
});

describe("installed extensions", () => {
  it("are sent with a poll when they changed, so a filter's update starts a watch round", async () => {
    let installed = [{ id: "joflmkccibkooplaeoinecjbmdebglab", name: "Securly", version: "2.1", enabled: true, installType: "admin" }];
    const { agent, controller } = setup({ extensions: async () => installed });
    await agent.cycle();
    await agent.cycle();
    const sent = () => controller.of("/api/agent/v1/extensions", "POST");
    assert.equal(sent().length, 1, "the same list once");
    assert.deepEqual(sent()[0].body, { extensions: [{ id: "joflmkccibkooplaeoinecjbmdebglab", name: "Securly", version: "2.1", enabled: true }] });
    assert.match(sent()[0].auth, /^Bearer fca_/);
    installed = [{ ...installed[0], version: "2.2" }];
    await agent.cycle();
    assert.equal(sent().length, 2, "an update is sent at the next poll");
    assert.equal(sent()[1].body.extensions[0].version, "2.2");
    const order = controller.requests.map((r) => r.path).filter((p) => p !== "/api/agent/v1/enroll");
    assert.ok(order.indexOf("/api/agent/v1/extensions") < order.indexOf("/api/agent/v1/assignments"), "before the assignments, so the round is there to pick up");
  });

  it("a browser that cannot list them sends nothing and still polls", async () => {
    const { agent, controller } = setup({ extensions: async () => { throw new Error("no management permission"); } });
    await agent.cycle();
    assert.equal(controller.of("/api/agent/v1/extensions").length, 0);
    assert.equal(controller.of("/api/agent/v1/assignments").length, 1);
  });
});

describe("running assignments", () => {
  it("runs an assignment once, spools its report and delivers it", async () => {
    const { agent, storage, controller, ran } = setup();
    controller.assignments = [assignment()];
    await agent.cycle();
    await agent.cycle();
    assert.equal(ran.length, 1, "an evaluation is never run twice");
    assert.deepEqual(ran[0].access, { controllerUrl: CONTROLLER, credential: "fca_credential_1" });
    const posts = controller.of("/api/agent/v1/reports", "POST");
    assert.equal(posts.length, 1);
    assert.equal(posts[0].query, "?evaluation=00000000-0000-4000-8000-00000000000a");
    assert.equal(posts[0].contentType, "application/json");
    const report = posts[0].body;
    assert.equal(report.schema, "fitcheck.report/v1");
    assert.equal(report.agent.agent_id, storage.value(KEYS.agentId));
    assert.equal(report.agent.kind, "browser");
    assert.equal(report.profile.digest, "sha256:abc");
    assert.match(report.report_id, /^[0-9a-f]{8}-[0-9a-f]{4}-7/);
    assert.deepEqual(storage.value(KEYS.spool), []);
    assert.deepEqual(storage.value(KEYS.ran).map((r) => r.evaluation_id), ["00000000-0000-4000-8000-00000000000a"]);
  });

  it("the report enters the spool in the same write that marks its evaluation run", async () => {
    const { agent, storage, controller } = setup();
    controller.assignments = [assignment()];
    controller.reportStatus = () => 503;
    await agent.cycle();
    const spoolWrite = storage.writes.find((w) => w.includes(KEYS.spool));
    assert.ok(spoolWrite.includes(KEYS.ran));
  });

  it("a run that throws is tried again, and given up after the last attempt", async () => {
    const calls = [];
    const { agent, storage, controller } = setup({
      runChecks: async (a) => {
        calls.push(a.evaluation_id);
        throw new Error("offscreen document missing");
      },
    });
    controller.assignments = [assignment()];
    for (let i = 0; i < MAX_ATTEMPTS + 1; i++) await agent.cycle();
    assert.equal(calls.length, MAX_ATTEMPTS);
    assert.match(storage.value(KEYS.status).message, /skipped \(offscreen document missing\)/);
    assert.equal(storage.value(KEYS.status).level, "problem");
    await agent.cycle();
    assert.equal(calls.length, MAX_ATTEMPTS);
    assert.deepEqual(
      storage.value(KEYS.abandoned).map(({ evaluation_id, error }) => ({ evaluation_id, error })),
      [{ evaluation_id: "00000000-0000-4000-8000-00000000000a", error: "offscreen document missing" }],
    );
  });

  it("a run the browser stopped counts as an attempt", async () => {
    const { agent, storage, controller } = setup({ runChecks: () => new Promise(() => {}) });
    controller.assignments = [assignment()];
    void agent.cycle();
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setTimeout(r, 5));
    assert.equal(storage.value(KEYS.attempts)["00000000-0000-4000-8000-00000000000a"].count, 1);
  });

  it("waits for a coordinated bandwidth start that is far ahead, and wakes before it", async () => {
    const { agent, controller, ran, schedule, now } = setup();
    await agent.cycle();
    const startAt = new Date(now() + 10 * 60_000).toISOString();
    controller.assignments = [
      assignment(undefined, {
        profile: { ...assignment().profile, network: { download_mbps_per_user: 3 } },
        bandwidth: { start_at: startAt, controller_endpoint: true, max_seconds: 10 },
      }),
    ];
    await agent.cycle();
    assert.equal(ran.length, 0);
    assert.deepEqual(schedule.wakes, [{ id: "00000000-0000-4000-8000-00000000000a", ms: Date.parse(startAt) - 45_000 }]);
  });

  it("an assignment without the profile as JSON is not run", async () => {
    const { agent, storage, controller, ran } = setup();
    controller.assignments = [assignment(undefined, { profile: undefined })];
    await agent.cycle();
    assert.equal(ran.length, 0);
    assert.match(storage.value(KEYS.status).message, /without its profile as JSON/);
  });
});

describe("delivery", () => {
  it("keeps the report through 5xx, backs off, and a restarted agent delivers the same report", async () => {
    const storage = new FakeStorage();
    const controller = new FakeController();
    controller.assignments = [assignment()];
    controller.reportStatus = () => 503;
    const first = agentOver({ storage, controller });
    await first.agent.cycle();
    assert.equal(storage.value(KEYS.spool).length, 1);
    assert.equal(storage.value(KEYS.delivery).failures, 1);
    const [retryIn] = first.schedule.deliveries;
    assert.equal(retryIn, 30_000);
    assert.match(storage.value(KEYS.status).message, /1 report\(s\) wait for delivery.*HTTP 503/);

    controller.reportStatus = () => 201;
    const restarted = agentOver({ storage, controller });
    await restarted.agent.retryDelivery();
    const posts = controller.of("/api/agent/v1/reports", "POST");
    assert.equal(posts.length, 2);
    assert.deepEqual(posts[1].body, posts[0].body, "the same report, the same report_id");
    assert.deepEqual(storage.value(KEYS.spool), []);
    assert.equal(storage.value(KEYS.delivery), undefined);
    assert.deepEqual(restarted.schedule.deliveries, [null]);
    assert.equal(restarted.ran.length, 0, "the restarted agent does not run the evaluation again");
  });

  it("each failure in a row waits longer", async () => {
    const { agent, storage, controller, schedule } = setup();
    controller.assignments = [assignment()];
    controller.reportStatus = () => 502;
    await agent.cycle();
    for (let i = 0; i < 3; i++) await agent.retryDelivery();
    assert.equal(storage.value(KEYS.delivery).failures, 4);
    assert.deepEqual(schedule.deliveries, [30_000, 60_000, 120_000, 240_000]);
  });

  it("a 422 moves the report to rejected with the controller's answer, and it is not retried", async () => {
    const { agent, storage, controller } = setup();
    controller.assignments = [assignment()];
    controller.reportStatus = () => 422;
    await agent.cycle();
    await agent.cycle();
    assert.equal(controller.of("/api/agent/v1/reports", "POST").length, 1);
    assert.deepEqual(storage.value(KEYS.spool), []);
    const [rejected] = storage.value(KEYS.rejected);
    assert.equal(rejected.status, 422);
    assert.match(rejected.error, /the controller answered 422/);
    assert.equal(rejected.evaluation_id, "00000000-0000-4000-8000-00000000000a");
    assert.equal(rejected.report.schema, "fitcheck.report/v1");
  });

  it("keeps at most the last refused reports", async () => {
    const { agent, storage, controller } = setup();
    controller.reportStatus = () => 400;
    controller.assignments = Array.from({ length: MAX_REJECTED + 3 }, (_, i) => assignment(`00000000-0000-4000-8000-${String(i).padStart(12, "0")}`));
    await agent.cycle();
    const rejected = storage.value(KEYS.rejected);
    assert.equal(rejected.length, MAX_REJECTED);
    assert.equal(rejected.at(-1).evaluation_id, "00000000-0000-4000-8000-000000000022");
  });

  it("a full spool drops its oldest report and says so", async () => {
    const { agent, storage, controller } = setup();
    controller.reportStatus = () => 503;
    controller.assignments = Array.from({ length: MAX_SPOOL + 2 }, (_, i) => assignment(`00000000-0000-4000-8000-${String(i).padStart(12, "0")}`));
    await agent.cycle();
    const spool = storage.value(KEYS.spool);
    assert.equal(spool.length, MAX_SPOOL);
    assert.equal(spool[0].evaluation_id, "00000000-0000-4000-8000-000000000002");
    assert.match(storage.value(KEYS.status).message, /The spool was full \(50 reports\): the oldest, for evaluation 00000000-0000-4000-8000-000000000000, was dropped undelivered/);
  });

  it("a duplicate (200) clears the spool like a store (201)", async () => {
    const { agent, storage, controller } = setup();
    controller.assignments = [assignment()];
    controller.reportStatus = () => 200;
    await agent.cycle();
    assert.deepEqual(storage.value(KEYS.spool), []);
    assert.equal(storage.value(KEYS.rejected), undefined);
  });

  it("a 401 on delivery keeps the report, enrolls again and then delivers it", async () => {
    const { agent, storage, controller } = setup();
    await agent.cycle();
    controller.assignments = [assignment()];
    controller.reportStatus = () => 503;
    await agent.cycle();
    controller.reportStatus = () => 201;
    controller.revoke();
    await agent.retryDelivery();
    assert.equal(storage.value(KEYS.spool).length, 1);
    assert.equal(storage.value(KEYS.enrollment), undefined);
    await agent.cycle();
    assert.equal(controller.of("/api/agent/v1/enroll").length, 2);
    assert.deepEqual(storage.value(KEYS.spool), []);
    assert.equal(controller.stored.size, 1);
  });

  it("an unreachable controller is retried later", async () => {
    const { agent, storage, controller } = setup();
    controller.assignments = [assignment()];
    controller.reportStatus = () => 503;
    await agent.cycle();
    const offline = {
      fetch: async () => {
        throw new TypeError("Failed to fetch");
      },
    };
    await agentOver({ storage, controller: offline }).agent.retryDelivery();
    assert.equal(storage.value(KEYS.spool).length, 1);
    assert.equal(storage.value(KEYS.delivery).failures, 2);
    assert.match(storage.value(KEYS.delivery).last_error, /cannot reach the controller at https:\/\/fitcheck\S+\/reports\?evaluation=\S+: Failed to fetch/);
  });
});

describe("delivery rules", () => {
  it("classifies the controller's answers to a report", () => {
    assert.equal(deliveryVerdict(201), "delivered");
    assert.equal(deliveryVerdict(200), "delivered");
    assert.equal(deliveryVerdict(401), "reenroll");
    for (const s of [400, 403, 413, 422]) assert.equal(deliveryVerdict(s), "refused");
    for (const s of [0, 404, 408, 409, 429, 500, 502, 503]) assert.equal(deliveryVerdict(s), "retry");
  });

  it("backs off from 30 s, doubling to an hour, ±20 %", () => {
    assert.equal(retryDelayMs(1, 0.5), 30_000);
    assert.equal(retryDelayMs(2, 0.5), 60_000);
    assert.equal(retryDelayMs(3, 0.5), 120_000);
    assert.equal(retryDelayMs(30, 0.5), 3_600_000);
    assert.equal(retryDelayMs(1, 0), 24_000);
    assert.equal(retryDelayMs(1, 1), 36_000);
  });

  it("never retries sooner than Retry-After, up to an hour", () => {
    assert.equal(retryDelayMs(1, 0.5, 120), 120_000);
    assert.equal(retryDelayMs(1, 0.5, 999_999), 3_600_000);
  });

  it("defers only a coordinated start more than a minute ahead", () => {
    const a = (start_at) =>
      assignment(undefined, {
        profile: { ...assignment().profile, network: {} },
        bandwidth: { start_at, controller_endpoint: true, max_seconds: 15 },
      });
    assert.equal(deferredStart(a(new Date(T0 + 30_000).toISOString()), T0), null);
    assert.equal(deferredStart(a(new Date(T0 + 120_000).toISOString()), T0), T0 + 75_000);
    assert.equal(deferredStart(assignment(), T0), null);
  });
});
