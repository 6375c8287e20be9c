//! Load benchmark of the controller: report ingestion rate and latency, memory with many
//! enrolled agents, and the agent daemon's footprint while it waits between evaluations.
//!
//! ```text
//! cargo build --release -p fitcheck-controller -p fitcheck-agent
//! cargo build --release -p fitcheck-tests --bin controller-bench
//! target/release/controller-bench [--backend sqlite|postgres|both] [--seconds 15]
//!     [--agents 100000] [--api-agents 2000] [--concurrency 16,64] [--daemon-seconds 30]
//! ```
//!
//! For each backend it starts the release `fitcheck-controller serve` on 127.0.0.1 (for
//! PostgreSQL on a private server from `scripts/test-postgres`), enrolls `--api-agents` agents
//! through the API (timed) and inserts the rest of `--agents` straight into the controller's
//! tables, uploads `profiles/kahoot.toml`, opens an evaluation, and drives many concurrent HTTPS
//! clients posting the realistic fixture report (`controller/tests/data/report.json`, a fresh
//! `report_id` each time) as every enrolled agent in turn. Beside the report load it measures, in
//! the same run, references: `/healthz` (TLS, HTTP and one database ping, no report work), the
//! agents' `/assignments` poll, reports over a new TLS connection each, reports from only
//! `--few-agents` agents (so `last_seen` is rarely written), and the raw `INSERT` rate of the
//! same rows into a fresh database of the same kind and settings. It ends by
//! checking that the controller stored exactly the reports it acknowledged. Then it enrolls one
//! real `fitcheck-agent`, runs its daemon with nothing assigned and watches its memory, CPU and
//! context switches next to its polls.
//!
//! It prints figures and never asserts timings; the client runs on the same machine as the
//! controller, so its CPU is shown beside the controller's. All traffic is on 127.0.0.1.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail, ensure};
use clap::{Parser, ValueEnum};
use fitcheck_tests::bench::{Memory, memory};
use fitcheck_tests::lab::run_bounded;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, AssertSqlSafe, Executor};
use uuid::Uuid;

/// The controller's own migrations.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("../controller/migrations");
const REPORT: &str = include_str!("../../../controller/tests/data/report.json");
const PROFILE: &str = include_str!("../../../profiles/kahoot.toml");
const PG_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/test-postgres");

/// The site of the agents that carry the load; the evaluation is scoped to it, so the idle
/// daemon (site `bench`) has nothing assigned.
const LOAD_SITE: &str = "load";
/// Longest any single request may take before it counts as a transport error.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
/// Upper bound on requests one client task makes in a phase (besides the phase's duration).
const MAX_REQUESTS_PER_TASK: u64 = 2_000_000;

#[derive(Parser, Debug)]
#[command(
    name = "controller-bench",
    about = "Load benchmark of fitcheck-controller (SQLite and PostgreSQL) and the idle agent daemon."
)]
struct Opts {
    /// Which database backends to measure.
    #[arg(long, value_enum, default_value = "both")]
    backend: BackendArg,
    /// Measured seconds of each report-load phase (after the warm-up); reference phases take
    /// half.
    #[arg(long, default_value_t = 15, value_parser = clap::value_parser!(u64).range(2..=600))]
    seconds: u64,
    /// Warm-up seconds before each phase's measurement.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=60))]
    warmup: u64,
    /// Agents enrolled in all; those beyond --api-agents are inserted into the database directly.
    #[arg(long, default_value_t = 100_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    agents: u64,
    /// Agents enrolled through the API (timed).
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=100_000))]
    api_agents: u64,
    /// Client concurrencies of the report-load phases (comma-separated).
    #[arg(long, value_delimiter = ',', default_values_t = [16_usize, 64])]
    concurrency: Vec<usize>,
    /// Client concurrency of the reference phases (/healthz, polls, a new connection per report,
    /// reports from few agents).
    #[arg(long, default_value_t = 64)]
    reference_concurrency: usize,
    /// Agents of the few-agents phase: each is seen often, so `last_seen` is written about once
    /// a minute per agent instead of with nearly every report.
    #[arg(long, default_value_t = 1_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    few_agents: u64,
    /// Seconds the idle agent daemon is watched (0 skips it).
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(0..=600))]
    daemon_seconds: u64,
    /// Poll interval the controller gives agents, seconds (so the daemon's window sees polls).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(10..=3600))]
    poll_interval: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum BackendArg {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "SQLite",
            Backend::Postgres => "PostgreSQL",
        }
    }
}

// ---- processes ----

/// Asks a child to stop (SIGTERM through `kill`, as the tests crate forbids unsafe code), waits
/// up to `grace`, then kills it.
fn terminate(child: &mut Child, grace: Duration) {
    if matches!(child.try_wait(), Ok(Some(_))) {
        return;
    }
    let _ = run_bounded(
        Command::new("kill").args(["-TERM", &child.id().to_string()]),
        Duration::from_secs(5),
    );
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if matches!(child.try_wait(), Ok(Some(_))) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// A command under `setpriv --pdeathsig KILL`: `setpriv` execs in place, so the child's PID is
/// the program's, and the kernel kills it should this benchmark die without cleaning up. The
/// signal follows the thread that spawned the child, so children are spawned only from the
/// main task (the runtime's own thread), never from a spawned or blocking task.
fn guarded(program: &Path) -> Command {
    if Path::new("/usr/bin/setpriv").exists() {
        let mut c = Command::new("/usr/bin/setpriv");
        c.args(["--pdeathsig", "KILL", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

/// The controller as a child process.
struct ControllerProc {
    child: Child,
    pid: u32,
    base: String,
    admin_password: String,
    fingerprint: String,
    cert_pem: Vec<u8>,
    log: PathBuf,
}

impl ControllerProc {
    fn start(
        bin: &Path,
        data_dir: &Path,
        database: Option<&str>,
        poll_interval: u32,
        log: &Path,
    ) -> Result<ControllerProc> {
        let err = std::fs::File::create(log)
            .with_context(|| format!("cannot create {}", log.display()))?;
        let mut cmd = guarded(bin);
        cmd.arg("serve")
            .arg("--data-dir")
            .arg(data_dir)
            .args(["--listen", "127.0.0.1:0"])
            // High enough that no agent of the benchmark is ever throttled.
            .args(["--agent-rate", "100000", "--agent-burst", "100000"])
            .args(["--poll-interval", &poll_interval.to_string()]);
        if let Some(url) = database {
            cmd.args(["--database", url]);
        }
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(err)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let pid = child.id();
        let stdout = child.stdout.take().context("no pipe from the controller")?;
        let (tx, rx) = std::sync::mpsc::channel::<String>();
        // Reads (and keeps draining) the controller's standard output.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let mut me = ControllerProc {
            child,
            pid,
            base: String::new(),
            admin_password: String::new(),
            fingerprint: String::new(),
            cert_pem: Vec::new(),
            log: log.to_owned(),
        };
        let mut cert_path = None;
        let deadline = Instant::now() + Duration::from_secs(60);
        while me.base.is_empty()
            || me.admin_password.is_empty()
            || me.fingerprint.is_empty()
            || cert_path.is_none()
        {
            let left = deadline.saturating_duration_since(Instant::now());
            let line = match rx.recv_timeout(left) {
                Ok(l) => l,
                Err(_) => bail!(
                    "the controller did not print its address, certificate and password within 60 s; its log:\n{}",
                    tail(&me.log)
                ),
            };
            if let Some(url) = line.strip_prefix("fitcheck-controller listening on ") {
                me.base = url.trim().to_owned();
            } else if let Some(rest) = line.strip_prefix("certificate: ") {
                cert_path = rest.split(" (").next().map(PathBuf::from);
            } else if let Some(fp) = line.trim_start().strip_prefix("SHA-256 ") {
                me.fingerprint = fp.trim().to_owned();
            } else if let Some((_, pw)) = line.split_once("with one-time password ") {
                me.admin_password = pw.trim().to_owned();
            }
        }
        let cert_path = cert_path.context("no certificate path")?;
        me.cert_pem = std::fs::read(&cert_path)
            .with_context(|| format!("cannot read {}", cert_path.display()))?;
        // The first administrator's password is one-time: choose one, as a provisioning
        // script would, before logging in.
        let chosen = format!("bench-{}", uuid::Uuid::new_v4().simple());
        let file = data_dir.with_extension("admin-password");
        std::fs::write(&file, &chosen)
            .with_context(|| format!("cannot write {}", file.display()))?;
        let mut set = guarded(bin);
        set.args(["user", "set-password", "admin", "--password-file"])
            .arg(&file)
            .arg("--data-dir")
            .arg(data_dir);
        if let Some(url) = database {
            set.args(["--database", url]);
        }
        let out = set
            .stdin(Stdio::null())
            .output()
            .context("cannot set the administrator's password")?;
        ensure!(
            out.status.success(),
            "setting the administrator's password failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        me.admin_password = chosen;
        Ok(me)
    }

    fn stop(&mut self) {
        terminate(&mut self.child, Duration::from_secs(20));
    }
}

impl Drop for ControllerProc {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The last lines of a log file, for error messages.
fn tail(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A private PostgreSQL server (`scripts/test-postgres`), stopped and removed on drop.
struct Postgres {
    dir: PathBuf,
    /// `postgres://postgres@127.0.0.1:PORT/postgres`.
    url: String,
}

impl Postgres {
    fn start() -> Result<Postgres> {
        let dir = std::env::temp_dir().join(format!(
            "controller-bench-pg.{}.{}",
            std::process::id(),
            Uuid::new_v4().simple()
        ));
        let mut me = Postgres {
            dir,
            url: String::new(),
        };
        let f = run_bounded(
            Command::new(PG_SCRIPT).arg("start").arg(&me.dir),
            Duration::from_secs(120),
        )?;
        if !f.status.success() {
            bail!(
                "scripts/test-postgres start failed ({}): {}",
                f.status,
                f.stderr.trim()
            );
        }
        me.url = f
            .stdout
            .lines()
            .rev()
            .find(|l| l.starts_with("postgres://"))
            .context("scripts/test-postgres printed no URL")?
            .to_owned();
        Ok(me)
    }

    /// The URL of another database on the same server.
    fn database(&self, name: &str) -> Result<String> {
        let (head, _) = self
            .url
            .rsplit_once('/')
            .context("PostgreSQL URL without a database")?;
        Ok(format!("{head}/{name}"))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let _ = run_bounded(
            Command::new(PG_SCRIPT).arg("stop").arg(&self.dir),
            Duration::from_secs(90),
        );
    }
}

// ---- /proc ----

/// User plus system CPU time of a process (all its threads, dead ones included), in clock
/// ticks.
fn cpu_ticks(pid: &str) -> u64 {
    let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let Some((_, after)) = text.rsplit_once(')') else {
        return 0;
    };
    let fields: Vec<&str> = after.split_whitespace().collect();
    // After the command: state is field 3, utime 14, stime 15.
    let get = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    get(11) + get(12)
}

/// (busy, total) ticks over all CPUs.
fn machine_ticks() -> (u64, u64) {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let Some(line) = text.lines().find(|l| l.starts_with("cpu ")) else {
        return (0, 0);
    };
    let v: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|x| x.parse().ok())
        .collect();
    let total: u64 = v.iter().take(8).sum();
    let idle = v.get(3).copied().unwrap_or(0) + v.get(4).copied().unwrap_or(0);
    (total.saturating_sub(idle), total)
}

fn clock_ticks_per_s() -> f64 {
    run_bounded(
        Command::new("getconf").arg("CLK_TCK"),
        Duration::from_secs(5),
    )
    .ok()
    .and_then(|f| f.stdout.trim().parse().ok())
    .unwrap_or(100.0)
}

/// Context switches (voluntary and not) of each thread of a process, by thread id.
fn thread_switches(pid: u32) -> HashMap<u32, u64> {
    let mut out = HashMap::new();
    let Ok(dir) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return out;
    };
    for entry in dir.flatten() {
        let Some(tid) = entry.file_name().to_str().and_then(|t| t.parse().ok()) else {
            continue;
        };
        let text = std::fs::read_to_string(entry.path().join("status")).unwrap_or_default();
        let n: u64 = text
            .lines()
            .filter(|l| {
                l.starts_with("voluntary_ctxt_switches:")
                    || l.starts_with("nonvoluntary_ctxt_switches:")
            })
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum();
        out.insert(tid, n);
    }
    out
}

// ---- HTTP ----

/// An HTTPS client trusting only the controller's certificate. `fresh`: a new connection
/// (and full handshake, no session resumption) for every request, as distinct agents make.
fn client(cert_pem: &[u8], pool: usize, fresh: bool) -> Result<reqwest::Client> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(cert_pem) {
        roots
            .add(cert.context("the controller's certificate is not PEM")?)
            .context("the controller's certificate is not usable as a root")?;
    }
    let mut tls = rustls::ClientConfig::builder()
        .with_root_certificates(roots)
        .with_no_client_auth();
    tls.alpn_protocols = vec![b"http/1.1".to_vec()];
    if fresh {
        tls.resumption = rustls::client::Resumption::disabled();
    }
    reqwest::Client::builder()
        .tls_backend_preconfigured(tls)
        .no_proxy()
        .pool_max_idle_per_host(if fresh { 0 } else { pool })
        .connect_timeout(Duration::from_secs(10))
        .timeout(REQUEST_TIMEOUT)
        .build()
        .context("cannot build the HTTPS client")
}

/// The people's API, logged in as the first administrator.
struct Admin {
    client: reqwest::Client,
    base: String,
    cookie: String,
}

impl Admin {
    async fn login(ctl: &ControllerProc) -> Result<Admin> {
        let client = client(&ctl.cert_pem, 4, false)?;
        let resp = client
            .post(format!("{}/api/v1/login", ctl.base))
            .header(CONTENT_TYPE, "application/json")
            .header("Origin", &ctl.base)
            .body(json!({"username": "admin", "password": ctl.admin_password}).to_string())
            .send()
            .await
            .context("cannot log in")?;
        ensure!(resp.status() == StatusCode::OK, "log-in: {}", resp.status());
        let cookie = resp
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .context("log-in answered without a session cookie")?
            .to_owned();
        Ok(Admin {
            client,
            base: ctl.base.clone(),
            cookie,
        })
    }

    async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        content_type: &str,
        body: String,
    ) -> Result<(StatusCode, Value)> {
        let resp = self
            .client
            .request(method, format!("{}{path}", self.base))
            .header("Cookie", &self.cookie)
            .header("Origin", &self.base)
            .header(CONTENT_TYPE, content_type)
            .body(body)
            .send()
            .await
            .with_context(|| format!("request to {path} failed"))?;
        let status = resp.status();
        let bytes = resp
            .bytes()
            .await
            .with_context(|| format!("answer of {path} unreadable"))?;
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        Ok((status, value))
    }

    async fn post(&self, path: &str, body: Value) -> Result<Value> {
        let (s, v) = self
            .send(
                reqwest::Method::POST,
                path,
                "application/json",
                body.to_string(),
            )
            .await?;
        ensure!(s.is_success(), "POST {path}: {s}: {v}");
        Ok(v)
    }

    /// Requests to the agents' poll route, counted by the controller's own metrics.
    async fn polls_served(&self) -> Result<u64> {
        let text = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .context("GET /metrics failed")?
            .text()
            .await
            .context("GET /metrics unreadable")?;
        Ok(text
            .lines()
            .filter(|l| {
                l.starts_with("fitcheck_http_request_duration_seconds_count{")
                    && l.contains("route=\"/api/agent/v1/assignments\"")
            })
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum::<f64>() as u64)
    }
}

fn str_field<'a>(v: &'a Value, key: &str) -> Result<&'a str> {
    v[key]
        .as_str()
        .with_context(|| format!("the answer has no {key:?}: {v}"))
}

// ---- the report body ----

const REPORT_SLOT: &str = "00000000-0000-4000-8000-00000000aaaa";
const AGENT_SLOT: &str = "00000000-0000-4000-8000-00000000bbbb";

/// The fixture report with slots for its id and its agent's id, so a request body costs the
/// client one copy rather than a JSON round trip.
#[derive(Debug)]
struct Template {
    pieces: Vec<String>,
    /// Between piece i and i+1: true for the report id, false for the agent id.
    slots: Vec<bool>,
    digest: String,
}

impl Template {
    fn new(text: &str) -> Result<Template> {
        let mut v: Value = serde_json::from_str(text).context("the fixture report is not JSON")?;
        let digest = v["profile"]["digest"]
            .as_str()
            .context("the fixture report has no profile digest")?
            .to_owned();
        *v.get_mut("report_id").context("no report_id")? = json!(REPORT_SLOT);
        *v.get_mut("agent")
            .and_then(|a| a.get_mut("agent_id"))
            .context("no agent.agent_id")? = json!(AGENT_SLOT);
        // The load agents are enrolled with these labels; a report carries its agent's.
        *v.get_mut("agent")
            .and_then(|a| a.get_mut("labels"))
            .context("no agent.labels")? = json!({"site": LOAD_SITE});
        let text = serde_json::to_string(&v)?;
        ensure!(
            text.matches(REPORT_SLOT).count() == 1 && text.matches(AGENT_SLOT).count() == 1,
            "the fixture report repeats its ids"
        );
        let mut pieces = Vec::new();
        let mut slots = Vec::new();
        let mut rest = text.as_str();
        loop {
            let r = rest.find(REPORT_SLOT);
            let a = rest.find(AGENT_SLOT);
            let (at, is_report) = match (r, a) {
                (Some(r), Some(a)) if r < a => (r, true),
                (Some(r), None) => (r, true),
                (_, Some(a)) => (a, false),
                (None, None) => break,
            };
            pieces.push(rest[..at].to_owned());
            slots.push(is_report);
            rest = &rest[at + REPORT_SLOT.len()..];
        }
        pieces.push(rest.to_owned());
        Ok(Template {
            pieces,
            slots,
            digest,
        })
    }

    fn render(&self, report_id: Uuid, agent_id: Uuid) -> String {
        let mut out =
            String::with_capacity(self.pieces.iter().map(String::len).sum::<usize>() + 80);
        for (i, piece) in self.pieces.iter().enumerate() {
            out.push_str(piece);
            if let Some(&is_report) = self.slots.get(i) {
                let id = if is_report { report_id } else { agent_id };
                out.push_str(id.hyphenated().encode_lower(&mut Uuid::encode_buffer()));
            }
        }
        out
    }
}

// ---- load ----

#[derive(Debug, Clone)]
struct BenchAgent {
    id: Uuid,
    bearer: HeaderValue,
}

fn bearer(credential: &str) -> Result<HeaderValue> {
    HeaderValue::from_str(&format!("Bearer {credential}")).context("credential not a header value")
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Load {
    Healthz,
    Polls,
    Reports,
}

/// What every client task shares.
#[derive(Debug)]
struct Shared {
    base: String,
    reports_url: String,
    agents: Vec<BenchAgent>,
    /// Next agent to send as (round robin over all enrolled agents, across phases).
    next: AtomicU64,
    template: Template,
}

#[derive(Debug, Default)]
struct Tally {
    /// Latency of each request started in the measured window, microseconds.
    latencies_us: Vec<u32>,
    /// Requests started in the measured window, by status or transport error.
    statuses: BTreeMap<String, u64>,
    ok: u64,
    /// 201 answers over the whole phase, warm-up included (reports acknowledged as stored).
    created: u64,
    first_error: Option<String>,
}

impl Tally {
    fn merge(&mut self, o: Tally) {
        self.latencies_us.extend(o.latencies_us);
        for (k, v) in o.statuses {
            *self.statuses.entry(k).or_default() += v;
        }
        self.ok += o.ok;
        self.created += o.created;
        if self.first_error.is_none() {
            self.first_error = o.first_error;
        }
    }
}

fn transport_kind(e: &reqwest::Error) -> &'static str {
    if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else {
        "transport"
    }
}

async fn client_task(
    shared: Arc<Shared>,
    client: reqwest::Client,
    load: Load,
    cycle: usize,
    measure_from: Instant,
    deadline: Instant,
) -> Tally {
    let mut t = Tally::default();
    let healthz = format!("{}/healthz", shared.base);
    let polls = format!("{}/api/agent/v1/assignments", shared.base);
    let success = match load {
        Load::Reports => StatusCode::CREATED,
        Load::Healthz | Load::Polls => StatusCode::OK,
    };
    for _ in 0..MAX_REQUESTS_PER_TASK {
        if Instant::now() >= deadline {
            break;
        }
        let i = shared.next.fetch_add(1, Ordering::Relaxed) as usize % cycle;
        let agent = &shared.agents[i];
        let request = match load {
            Load::Healthz => client.get(&healthz),
            Load::Polls => client
                .get(&polls)
                .header(AUTHORIZATION, agent.bearer.clone()),
            Load::Reports => client
                .post(&shared.reports_url)
                .header(AUTHORIZATION, agent.bearer.clone())
                .header(CONTENT_TYPE, "application/json")
                .body(shared.template.render(Uuid::now_v7(), agent.id)),
        };
        let started = Instant::now();
        let outcome = match request.send().await {
            Ok(resp) => {
                let status = resp.status();
                resp.bytes().await.map(|_| status)
            }
            Err(e) => Err(e),
        };
        let took = started.elapsed();
        if matches!(outcome, Ok(StatusCode::CREATED)) {
            t.created += 1;
        }
        if started < measure_from {
            continue;
        }
        let key = match &outcome {
            Ok(s) => {
                if *s == success {
                    t.ok += 1;
                }
                s.as_u16().to_string()
            }
            Err(e) => {
                if t.first_error.is_none() {
                    t.first_error = Some(format!("{e:#}"));
                }
                transport_kind(e).to_owned()
            }
        };
        *t.statuses.entry(key).or_default() += 1;
        t.latencies_us
            .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX));
    }
    t
}

#[derive(Debug, Clone)]
struct Phase {
    label: String,
    load: Load,
    concurrency: usize,
    fresh: bool,
    /// How many of the enrolled agents take turns sending.
    agents: usize,
    measure: Duration,
}

#[derive(Debug, Clone, Default)]
struct PhaseResult {
    label: String,
    per_s: f64,
    p50_ms: f64,
    p90_ms: f64,
    p99_ms: f64,
    max_ms: f64,
    errors: String,
    created: u64,
    controller_cpu: f64,
    bench_cpu: f64,
    machine_busy: f64,
    memory: Memory,
}

impl PhaseResult {
    fn line(&self) -> String {
        format!(
            "{:<34} {:>8.0}/s  p50 {:>6.1}  p90 {:>6.1}  p99 {:>6.1}  max {:>7.1} ms  errors: {}  | CPU controller {:.0}%, bench {:.0}%, machine {:.0}% | RSS {}",
            self.label,
            self.per_s,
            self.p50_ms,
            self.p90_ms,
            self.p99_ms,
            self.max_ms,
            self.errors,
            self.controller_cpu,
            self.bench_cpu,
            self.machine_busy,
            self.memory.show()
        )
    }
}

fn percentile_ms(sorted_us: &[u32], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return f64::NAN;
    }
    let rank = ((q * sorted_us.len() as f64).ceil() as usize).clamp(1, sorted_us.len());
    f64::from(sorted_us[rank - 1]) / 1000.0
}

struct Ctx {
    shared: Arc<Shared>,
    cert_pem: Vec<u8>,
    controller_pid: u32,
    warmup: Duration,
    ticks_per_s: f64,
}

async fn run_phase(ctx: &Ctx, phase: &Phase) -> Result<PhaseResult> {
    let client = client(&ctx.cert_pem, phase.concurrency, phase.fresh)?;
    let start = Instant::now();
    let measure_from = start + ctx.warmup;
    let deadline = measure_from + phase.measure;
    let tasks: Vec<_> = (0..phase.concurrency)
        .map(|_| {
            tokio::spawn(client_task(
                ctx.shared.clone(),
                client.clone(),
                phase.load,
                phase.agents.clamp(1, ctx.shared.agents.len()),
                measure_from,
                deadline,
            ))
        })
        .collect();
    tokio::time::sleep_until(measure_from.into()).await;
    let pid = ctx.controller_pid.to_string();
    let cpu0 = (cpu_ticks(&pid), cpu_ticks("self"), machine_ticks());
    let mut tally = Tally::default();
    let all = futures_join(tasks);
    match tokio::time::timeout(phase.measure + REQUEST_TIMEOUT * 2, all).await {
        Ok(results) => {
            for r in results {
                tally.merge(r.context("a client task failed")?);
            }
        }
        Err(_) => bail!("{}: client tasks did not finish in time", phase.label),
    }
    let end = Instant::now();
    let cpu1 = (cpu_ticks(&pid), cpu_ticks("self"), machine_ticks());
    let secs = end.duration_since(measure_from).as_secs_f64().max(1e-3);
    let pct = |a: u64, b: u64| (b.saturating_sub(a)) as f64 / ctx.ticks_per_s / secs * 100.0;
    let machine = {
        let busy = (cpu1.2.0.saturating_sub(cpu0.2.0)) as f64;
        let total = (cpu1.2.1.saturating_sub(cpu0.2.1)) as f64;
        if total > 0.0 {
            busy / total * 100.0
        } else {
            0.0
        }
    };
    tally.latencies_us.sort_unstable();
    let success = match phase.load {
        Load::Reports => "201",
        Load::Healthz | Load::Polls => "200",
    };
    let errors: Vec<String> = tally
        .statuses
        .iter()
        .filter(|(k, _)| k.as_str() != success)
        .map(|(k, v)| format!("{k}x{v}"))
        .collect();
    let mut errors = if errors.is_empty() {
        "none".to_owned()
    } else {
        errors.join(", ")
    };
    if let Some(e) = &tally.first_error {
        errors.push_str(&format!(" (first: {e})"));
    }
    let l = &tally.latencies_us;
    Ok(PhaseResult {
        label: phase.label.clone(),
        per_s: tally.ok as f64 / secs,
        p50_ms: percentile_ms(l, 0.50),
        p90_ms: percentile_ms(l, 0.90),
        p99_ms: percentile_ms(l, 0.99),
        max_ms: l.last().map_or(f64::NAN, |m| f64::from(*m) / 1000.0),
        errors,
        created: tally.created,
        controller_cpu: pct(cpu0.0, cpu1.0),
        bench_cpu: pct(cpu0.1, cpu1.1),
        machine_busy: machine,
        memory: memory(ctx.controller_pid),
    })
}

/// Awaits every task (the crate has no futures dependency; tasks run concurrently anyway).
async fn futures_join<T>(
    tasks: Vec<tokio::task::JoinHandle<T>>,
) -> Vec<Result<T, tokio::task::JoinError>> {
    let mut out = Vec::with_capacity(tasks.len());
    for t in tasks {
        out.push(t.await);
    }
    out
}

// ---- enrollment ----

#[derive(Debug, Clone, Default)]
struct Enrollment {
    api: u64,
    api_per_s: f64,
    api_p50_ms: f64,
    api_p99_ms: f64,
    api_failures: String,
    direct: u64,
    direct_s: f64,
}

async fn enroll_through_api(
    ctl: &ControllerProc,
    secret: &str,
    n: u64,
    concurrency: usize,
) -> Result<(Vec<BenchAgent>, f64, Vec<u32>, BTreeMap<String, u64>)> {
    let client = client(&ctl.cert_pem, concurrency, false)?;
    let url = format!("{}/api/agent/v1/enroll", ctl.base);
    let next = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + Duration::from_secs(300);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|_| {
            let (client, url, next, secret) =
                (client.clone(), url.clone(), next.clone(), secret.to_owned());
            tokio::spawn(async move {
                let mut agents = Vec::new();
                let mut lat = Vec::new();
                let mut failures: BTreeMap<String, u64> = BTreeMap::new();
                while next.fetch_add(1, Ordering::Relaxed) < n && Instant::now() < deadline {
                    let id = Uuid::new_v4();
                    let body = json!({"secret": secret, "agent_id": id,
                        "labels": {"site": LOAD_SITE}, "version": "0.1.0"});
                    let t0 = Instant::now();
                    let outcome = client
                        .post(&url)
                        .header(CONTENT_TYPE, "application/json")
                        .body(body.to_string())
                        .send()
                        .await;
                    let resp = match outcome {
                        Ok(r) => r,
                        Err(e) => {
                            *failures.entry(transport_kind(&e).to_owned()).or_default() += 1;
                            continue;
                        }
                    };
                    let status = resp.status();
                    let bytes = resp.bytes().await.unwrap_or_default();
                    lat.push(u32::try_from(t0.elapsed().as_micros()).unwrap_or(u32::MAX));
                    let credential = serde_json::from_slice::<Value>(&bytes)
                        .ok()
                        .and_then(|v| v["credential"].as_str().map(str::to_owned));
                    match (status, credential) {
                        (StatusCode::CREATED, Some(c)) => {
                            if let Ok(bearer) = bearer(&c) {
                                agents.push(BenchAgent { id, bearer });
                            }
                        }
                        (s, _) => *failures.entry(s.as_u16().to_string()).or_default() += 1,
                    }
                }
                (agents, lat, failures)
            })
        })
        .collect();
    let mut agents = Vec::new();
    let mut lat = Vec::new();
    let mut failures = BTreeMap::new();
    for r in futures_join(tasks).await {
        let (a, l, f) = r.context("an enrollment task failed")?;
        agents.extend(a);
        lat.extend(l);
        for (k, v) in f {
            *failures.entry(k).or_default() += v;
        }
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort_unstable();
    Ok((agents, secs, lat, failures))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn token_hash(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

async fn open_pool(url: &str, sqlite_wal: bool) -> Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    AnyPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(30))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if sqlite {
                    if sqlite_wal {
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                    }
                    // The controller's settings: every commit durable.
                    conn.execute("PRAGMA synchronous = FULL").await?;
                    conn.execute("PRAGMA busy_timeout = 10000").await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .with_context(|| format!("cannot open the database {url}"))
}

/// Inserts `n` agents straight into the controller's `agents` table, with the controller's
/// schema: the credential's lowercase hex SHA-256 is what the controller looks up.
async fn insert_agents(pool: &AnyPool, n: u64, secret_id: &str) -> Result<Vec<BenchAgent>> {
    const ROWS: u64 = 500;
    let now = now_ms();
    let labels = json!({"site": LOAD_SITE}).to_string();
    let mut agents = Vec::with_capacity(n as usize);
    let mut done = 0;
    while done < n {
        let rows = ROWS.min(n - done);
        let mut sql = String::from(
            "INSERT INTO agents (id, credential_hash, labels, site, grp, version, enrolled_at, enrolled_with, last_seen_at) VALUES ",
        );
        for r in 0..rows {
            let b = r * 6;
            if r > 0 {
                sql.push(',');
            }
            sql.push_str(&format!(
                "(${}, ${}, ${}, ${}, NULL, '0.1.0', ${}, ${}, ${})",
                b + 1,
                b + 2,
                b + 3,
                b + 4,
                b + 5,
                b + 6,
                b + 5
            ));
        }
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for _ in 0..rows {
            let id = Uuid::new_v4();
            let credential = format!("fca_{}{}", Uuid::new_v4().simple(), Uuid::new_v4().simple());
            q = q
                .bind(id.to_string())
                .bind(token_hash(&credential))
                .bind(labels.clone())
                .bind(LOAD_SITE)
                .bind(now)
                .bind(secret_id.to_owned());
            agents.push(BenchAgent {
                id,
                bearer: bearer(&credential)?,
            });
        }
        q.execute(pool).await.context("inserting agents failed")?;
        done += rows;
    }
    Ok(agents)
}

// ---- raw INSERT reference ----

#[derive(Debug, Clone, Default)]
struct RawRate {
    rows_per_commit: u64,
    /// All rows of a commit in one multi-row `INSERT` (else one statement per row).
    one_statement: bool,
    rows_per_s: f64,
    commits_per_s: f64,
}

/// The backend's own ceiling for report rows: the controller's schema in a fresh database of
/// the same kind and settings, one connection (as the controller's single writer), the same
/// rows (time-ordered ids, as agents make them), committed `batch` at a time, one statement
/// per row, and once with all rows of a commit in one statement as the controller's writer
/// does.
async fn raw_insert_reference(
    url: &str,
    body: &str,
    digest: &str,
    seconds_each: f64,
) -> Result<Vec<RawRate>> {
    let pool = open_pool(url, true).await?;
    MIGRATOR
        .run(&pool)
        .await
        .context("cannot create the controller's schema in the reference database")?;
    let now = now_ms();
    for sql in [
        "INSERT INTO enrollment_secrets (id, name, secret_hash, created_at) VALUES ('s', 's', 'h', 0)",
        "INSERT INTO agents (id, credential_hash, labels, version, enrolled_at, enrolled_with, last_seen_at) VALUES ('a', 'c', '{}', '0', 0, 's', 0)",
        "INSERT INTO profiles (id, profile_id, name, vendor, digest, file_name, toml, uploaded_by, uploaded_at) VALUES ('p', 'p', 'p', 'p', 'd', 'f', 't', 'u', 0)",
        "INSERT INTO evaluations (id, title, profile, spec, window_start, window_end, created_by, created_at) VALUES ('e', 't', 'p', '{}', 0, 0, 'u', 0)",
    ] {
        sqlx::query(sql).execute(&pool).await?;
    }
    let mut out = Vec::new();
    // (rows per commit, all of them in one statement)
    for (batch, one_statement) in [(1_u64, false), (16, false), (64, false), (64, true)] {
        let sql = if one_statement {
            let rows: Vec<String> = (0..batch)
                .map(|r| {
                    let b = r * 2;
                    format!(
                        "(${}, 'a', 'e', ${}, '{LOAD_SITE}', '2026-11-23T10:00:00Z', {now}, ${})",
                        b + 1,
                        b + 2,
                        2 * batch + 1
                    )
                })
                .collect();
            format!(
                "INSERT INTO reports (report_id, agent_id, evaluation_id, profile_digest, site, started_at, received_at, body) \
                 VALUES {} ON CONFLICT (report_id) DO NOTHING",
                rows.join(", ")
            )
        } else {
            "INSERT INTO reports (report_id, agent_id, evaluation_id, profile_digest, site, started_at, received_at, body) \
             VALUES ($1, 'a', 'e', $2, $3, '2026-11-23T10:00:00Z', $4, $5) ON CONFLICT (report_id) DO NOTHING"
                .to_owned()
        };
        let sql: Arc<str> = sql.into();
        let started = Instant::now();
        let mut rows = 0_u64;
        let mut commits = 0_u64;
        while started.elapsed().as_secs_f64() < seconds_each && rows < 5_000_000 {
            let mut tx = pool.begin().await?;
            if one_statement {
                // The body is bound once: a multi-row statement's parameters are limited.
                let mut q = sqlx::query(AssertSqlSafe(sql.clone()));
                for _ in 0..batch {
                    q = q.bind(Uuid::now_v7().to_string()).bind(digest);
                }
                q.bind(body).execute(&mut *tx).await?;
            } else {
                for _ in 0..batch {
                    sqlx::query(AssertSqlSafe(sql.clone()))
                        .bind(Uuid::now_v7().to_string())
                        .bind(digest)
                        .bind(LOAD_SITE)
                        .bind(now)
                        .bind(body)
                        .execute(&mut *tx)
                        .await?;
                }
            }
            tx.commit().await?;
            rows += batch;
            commits += 1;
        }
        let secs = started.elapsed().as_secs_f64();
        out.push(RawRate {
            rows_per_commit: batch,
            one_statement,
            rows_per_s: rows as f64 / secs,
            commits_per_s: commits as f64 / secs,
        });
    }
    pool.close().await;
    Ok(out)
}

// ---- one backend ----

#[derive(Debug, Default)]
struct BackendResult {
    backend: Option<Backend>,
    enrollment: Enrollment,
    memory_start: Memory,
    memory_idle: Memory,
    memory_end: Memory,
    phases: Vec<PhaseResult>,
    raw: Vec<RawRate>,
    acknowledged: u64,
    stored: i64,
    /// SQLite only: the write-ahead log's size once the load is over (checkpoints keep it
    /// from growing without bound).
    wal_bytes: Option<u64>,
    daemon: Option<DaemonFigures>,
}

async fn run_backend(
    opts: &Opts,
    backend: Backend,
    bins: &Bins,
    tmp: &Path,
    with_daemon: bool,
) -> Result<BackendResult> {
    let mut res = BackendResult {
        backend: Some(backend),
        ..Default::default()
    };
    println!("\n== {} ==", backend.name());
    let tag = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    let data_dir = tmp.join(format!("controller-{tag}"));
    // The server (PostgreSQL) must outlive the controller: declared first, dropped last.
    let pg = match backend {
        Backend::Sqlite => None,
        Backend::Postgres => {
            let pg = Postgres::start()?;
            let admin = open_pool(&pg.url, false).await?;
            sqlx::raw_sql("CREATE DATABASE fitcheck_bench")
                .execute(&admin)
                .await?;
            sqlx::raw_sql("CREATE DATABASE raw_reference")
                .execute(&admin)
                .await?;
            admin.close().await;
            Some(pg)
        }
    };
    let (controller_url, raw_url) = match &pg {
        None => (
            format!("sqlite:{}", data_dir.join("fitcheck.db").display()),
            format!("sqlite:{}?mode=rwc", tmp.join("raw-reference.db").display()),
        ),
        Some(pg) => (
            pg.database("fitcheck_bench")?,
            pg.database("raw_reference")?,
        ),
    };
    let mut ctl = ControllerProc::start(
        &bins.controller,
        &data_dir,
        pg.as_ref().map(|_| controller_url.as_str()),
        opts.poll_interval,
        &tmp.join(format!("controller-{tag}.log")),
    )?;
    println!(
        "controller PID {} at {} (log {})",
        ctl.pid,
        ctl.base,
        ctl.log.display()
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    res.memory_start = memory(ctl.pid);
    let admin = Admin::login(&ctl).await?;
    let secret = admin
        .post(
            "/api/v1/enrollment-secrets",
            json!({"name": "controller-bench"}),
        )
        .await?;
    let secret_id = str_field(&secret, "id")?.to_owned();
    let secret = str_field(&secret, "secret")?.to_owned();

    // Enrollment: some through the API, timed; the rest straight into the database.
    let api_n = opts.api_agents.min(opts.agents);
    let (mut agents, secs, lat, failures) = enroll_through_api(&ctl, &secret, api_n, 16).await?;
    let e = &mut res.enrollment;
    e.api = agents.len() as u64;
    e.api_per_s = agents.len() as f64 / secs.max(1e-3);
    e.api_p50_ms = percentile_ms(&lat, 0.5);
    e.api_p99_ms = percentile_ms(&lat, 0.99);
    e.api_failures = if failures.is_empty() {
        "none".to_owned()
    } else {
        format!("{failures:?}")
    };
    println!(
        "enrolled {} agents through the API (16 clients) in {secs:.1} s: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms, failures {}",
        e.api, e.api_per_s, e.api_p50_ms, e.api_p99_ms, e.api_failures
    );
    let pool = open_pool(&controller_url, false).await?;
    let direct_n = opts.agents - api_n;
    let started = Instant::now();
    agents.extend(insert_agents(&pool, direct_n, &secret_id).await?);
    e.direct = direct_n;
    e.direct_s = started.elapsed().as_secs_f64();
    if backend == Backend::Sqlite {
        // Start the load from a checkpointed database, not a WAL full of agent rows.
        sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .execute(&pool)
            .await?;
    }
    println!(
        "inserted {direct_n} more agents directly into the controller's agents table in {:.1} s ({} enrolled in all)",
        e.direct_s,
        agents.len()
    );
    tokio::time::sleep(Duration::from_secs(2)).await;
    res.memory_idle = memory(ctl.pid);
    println!(
        "controller RSS idle with {} enrolled agents: {}",
        agents.len(),
        res.memory_idle.show()
    );

    // The profile and an evaluation scoped to the load agents' site.
    let (s, profile) = admin
        .send(
            reqwest::Method::POST,
            "/api/v1/profiles?name=kahoot.toml",
            "application/toml",
            PROFILE.to_owned(),
        )
        .await?;
    ensure!(s.is_success(), "profile upload: {s}: {profile}");
    let template = Template::new(REPORT)?;
    ensure!(
        str_field(&profile, "digest")? == template.digest,
        "the fixture report ran another profile than profiles/kahoot.toml"
    );
    let evaluation = admin
        .post(
            "/api/v1/evaluations",
            json!({"title": "controller-bench", "profile": profile["id"],
                   "sites": [LOAD_SITE], "window_end": "2099-01-01T00:00:00Z"}),
        )
        .await?;
    let evaluation = str_field(&evaluation, "id")?.to_owned();
    let body_bytes = template.render(Uuid::new_v4(), Uuid::new_v4());
    println!(
        "evaluation {evaluation}; report body {} bytes; warm-up {} s per phase",
        body_bytes.len(),
        opts.warmup
    );

    let ctx = Ctx {
        shared: Arc::new(Shared {
            base: ctl.base.clone(),
            reports_url: format!("{}/api/agent/v1/reports?evaluation={evaluation}", ctl.base),
            agents,
            next: AtomicU64::new(0),
            template,
        }),
        cert_pem: ctl.cert_pem.clone(),
        controller_pid: ctl.pid,
        warmup: Duration::from_secs(opts.warmup),
        ticks_per_s: clock_ticks_per_s(),
    };
    let full = Duration::from_secs(opts.seconds);
    let half = Duration::from_secs(opts.seconds.div_ceil(2));
    let rc = opts.reference_concurrency;
    let all = ctx.shared.agents.len();
    let phase = |label: String, load, concurrency, fresh, agents, measure| Phase {
        label,
        load,
        concurrency,
        fresh,
        agents,
        measure,
    };
    let mut phases = vec![phase(
        format!("/healthz, c={rc} (reference)"),
        Load::Healthz,
        rc,
        false,
        all,
        half,
    )];
    for &c in &opts.concurrency {
        phases.push(phase(
            format!("reports, c={c}"),
            Load::Reports,
            c,
            false,
            all,
            full,
        ));
    }
    let few = usize::try_from(opts.few_agents).unwrap_or(all).min(all);
    phases.extend([
        phase(
            format!("reports, c={rc}, {few} agents only"),
            Load::Reports,
            rc,
            false,
            few,
            half,
        ),
        phase(
            format!("reports, c={rc}, new TLS conn each"),
            Load::Reports,
            rc,
            true,
            all,
            half,
        ),
        phase(
            format!("assignment polls, c={rc}"),
            Load::Polls,
            rc,
            false,
            all,
            half,
        ),
    ]);
    for phase in &phases {
        let r = run_phase(&ctx, phase).await?;
        println!("{}", r.line());
        res.acknowledged += r.created;
        res.phases.push(r);
    }

    res.stored = sqlx::query_scalar("SELECT COUNT(*) FROM reports WHERE evaluation_id = $1")
        .bind(&evaluation)
        .fetch_one(&pool)
        .await
        .context("cannot count the stored reports")?;
    println!(
        "reports acknowledged (201) {}, stored in the database {}: {}",
        res.acknowledged,
        res.stored,
        if res.stored == res.acknowledged as i64 {
            "equal"
        } else {
            "DIFFERENT"
        }
    );
    pool.close().await;
    if backend == Backend::Sqlite {
        let wal = data_dir.join("fitcheck.db-wal");
        res.wal_bytes = Some(std::fs::metadata(&wal).map_or(0, |m| m.len()));
        println!(
            "SQLite WAL after the load: {:.1} MB",
            res.wal_bytes.unwrap_or(0) as f64 / 1e6
        );
    }

    let seconds_each = 3.0;
    res.raw = raw_insert_reference(
        &raw_url,
        &body_bytes,
        &ctx.shared.template.digest,
        seconds_each,
    )
    .await?;
    for r in &res.raw {
        println!(
            "raw INSERT reference ({}, one connection, {} rows per commit{}): {:.0} rows/s, {:.0} commits/s",
            backend.name(),
            r.rows_per_commit,
            if r.one_statement {
                " in one statement"
            } else {
                ""
            },
            r.rows_per_s,
            r.commits_per_s
        );
    }

    if with_daemon {
        res.daemon = daemon_idle(opts, bins, &ctl, &admin, &secret, tmp).await?;
    }
    res.memory_end = memory(ctl.pid);
    println!("controller RSS at the end: {}", res.memory_end.show());
    drop(admin);
    ctl.stop();
    drop(pg);
    Ok(res)
}

// ---- the agent daemon ----

#[derive(Debug, Clone, Default)]
struct DaemonFigures {
    memory: Memory,
    threads: usize,
    seconds: u64,
    polls: u64,
    cpu_ms: f64,
    switches: u64,
    switches_away_from_polls: u64,
    threads_started: u64,
    per_second_switches: Vec<u64>,
    per_second_polls: Vec<u64>,
}

async fn daemon_idle(
    opts: &Opts,
    bins: &Bins,
    ctl: &ControllerProc,
    admin: &Admin,
    secret: &str,
    tmp: &Path,
) -> Result<Option<DaemonFigures>> {
    if opts.daemon_seconds == 0 {
        return Ok(None);
    }
    let help = run_bounded(
        Command::new(&bins.agent).arg("--help"),
        Duration::from_secs(10),
    )?;
    if !help
        .stdout
        .lines()
        .any(|l| l.trim_start().starts_with("daemon "))
    {
        println!("fitcheck-agent has no daemon command yet: the idle daemon is not measured");
        return Ok(None);
    }
    let state = tmp.join("agent-state");
    let enrolled = run_bounded(
        Command::new(&bins.agent)
            .arg("enroll")
            .args(["--controller", &ctl.base, "--secret", secret])
            .args(["--fingerprint", &ctl.fingerprint])
            .arg("--state-dir")
            .arg(&state)
            .args(["--label", "site=bench"]),
        Duration::from_secs(60),
    )?;
    ensure!(
        enrolled.status.success(),
        "fitcheck-agent enroll failed ({}): {}",
        enrolled.status,
        enrolled.stderr.trim()
    );
    let log_path = tmp.join("agent-daemon.log");
    let log = std::fs::File::create(&log_path)
        .with_context(|| format!("cannot create {}", log_path.display()))?;
    let mut child = guarded(&bins.agent)
        .arg("daemon")
        .arg("--state-dir")
        .arg(&state)
        .stdin(Stdio::null())
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()
        .context("cannot start fitcheck-agent daemon")?;
    let result = watch_daemon(opts, admin, &mut child).await;
    terminate(&mut child, Duration::from_secs(10));
    let figures = result?;
    println!(
        "agent daemon idle (nothing assigned, poll every {} s), {} s window: RSS {}, {} threads; {} polls; CPU {:.0} ms; {} context switches ({:.2}/s), {} of them in seconds with no poll nearby; {} threads started",
        opts.poll_interval,
        figures.seconds,
        figures.memory.show(),
        figures.threads,
        figures.polls,
        figures.cpu_ms,
        figures.switches,
        figures.switches as f64 / figures.seconds as f64,
        figures.switches_away_from_polls,
        figures.threads_started
    );
    println!(
        "  context switches per second: {:?}\n  polls per second:            {:?}",
        figures.per_second_switches, figures.per_second_polls
    );
    Ok(Some(figures))
}

async fn watch_daemon(opts: &Opts, admin: &Admin, child: &mut Child) -> Result<DaemonFigures> {
    let pid = child.id();
    // Let it start, enroll its first poll and settle.
    tokio::time::sleep(Duration::from_secs(6)).await;
    if let Ok(Some(status)) = child.try_wait() {
        bail!("the agent daemon exited early ({status})");
    }
    let ticks_per_s = clock_ticks_per_s();
    let mut fig = DaemonFigures {
        seconds: opts.daemon_seconds,
        ..Default::default()
    };
    let mut switches = thread_switches(pid);
    let cpu0 = cpu_ticks(&pid.to_string());
    let mut polls = admin.polls_served().await?;
    let start = Instant::now();
    for s in 1..=opts.daemon_seconds {
        tokio::time::sleep_until((start + Duration::from_secs(s)).into()).await;
        let now = thread_switches(pid);
        let mut delta = 0;
        for (tid, n) in &now {
            match switches.get(tid) {
                Some(before) => delta += n.saturating_sub(*before),
                None => {
                    fig.threads_started += 1;
                    delta += n;
                }
            }
        }
        switches = now;
        let p = admin.polls_served().await?;
        fig.per_second_switches.push(delta);
        fig.per_second_polls.push(p.saturating_sub(polls));
        polls = p;
    }
    if let Ok(Some(status)) = child.try_wait() {
        bail!("the agent daemon exited during the window ({status})");
    }
    fig.cpu_ms = cpu_ticks(&pid.to_string()).saturating_sub(cpu0) as f64 / ticks_per_s * 1000.0;
    fig.memory = memory(pid);
    fig.threads = switches.len();
    fig.polls = fig.per_second_polls.iter().sum();
    fig.switches = fig.per_second_switches.iter().sum();
    let near_poll = |i: usize| {
        let lo = i.saturating_sub(1);
        let hi = (i + 1).min(fig.per_second_polls.len() - 1);
        fig.per_second_polls[lo..=hi].iter().any(|&p| p > 0)
    };
    fig.switches_away_from_polls = fig
        .per_second_switches
        .iter()
        .enumerate()
        .filter(|(i, _)| !near_poll(*i))
        .map(|(_, n)| n)
        .sum();
    Ok(fig)
}

// ---- summary ----

struct Bins {
    controller: PathBuf,
    agent: PathBuf,
}

fn bins() -> Result<Bins> {
    let dir = std::env::current_exe()?
        .parent()
        .context("no directory for this program")?
        .to_owned();
    let b = Bins {
        controller: dir.join("fitcheck-controller"),
        agent: dir.join("fitcheck-agent"),
    };
    for p in [&b.controller, &b.agent] {
        if !p.exists() {
            bail!(
                "{} is missing: run `cargo build --release -p fitcheck-controller -p fitcheck-agent` first",
                p.display()
            );
        }
    }
    Ok(b)
}

fn summary(opts: &Opts, results: &[BackendResult]) {
    let mut rows: Vec<(String, Vec<String>)> = Vec::new();
    let mut row = |label: &str, f: &dyn Fn(&BackendResult) -> String| {
        rows.push((label.to_owned(), results.iter().map(f).collect()));
    };
    row("agents enrolled through the API", &|r| {
        format!(
            "{} at {:.0}/s (p99 {:.0} ms)",
            r.enrollment.api, r.enrollment.api_per_s, r.enrollment.api_p99_ms
        )
    });
    row("agents inserted into the DB directly", &|r| {
        format!("{} in {:.1} s", r.enrollment.direct, r.enrollment.direct_s)
    });
    row("controller RSS at start", &|r| r.memory_start.show());
    row("controller RSS idle, all enrolled", &|r| {
        r.memory_idle.show()
    });
    let labels: Vec<String> = results
        .first()
        .map(|r| r.phases.iter().map(|p| p.label.clone()).collect())
        .unwrap_or_default();
    for (i, label) in labels.iter().enumerate() {
        let get = |r: &BackendResult| r.phases.get(i).cloned().unwrap_or_default();
        row(&format!("{label}: per s"), &|r| {
            format!("{:.0}", get(r).per_s)
        });
        row("  p50 / p90 / p99 / max ms", &|r| {
            let p = get(r);
            format!(
                "{:.1} / {:.1} / {:.1} / {:.0}",
                p.p50_ms, p.p90_ms, p.p99_ms, p.max_ms
            )
        });
        row("  errors", &|r| {
            let e = get(r).errors;
            e.split(" (first").next().unwrap_or("").to_owned()
        });
        row("  CPU controller / bench / machine", &|r| {
            let p = get(r);
            format!(
                "{:.0}% / {:.0}% / {:.0}%",
                p.controller_cpu, p.bench_cpu, p.machine_busy
            )
        });
    }
    let raw_labels: Vec<String> = results
        .first()
        .map(|r| {
            r.raw
                .iter()
                .map(|x| {
                    format!(
                        "raw INSERT, {} per commit{}: rows/s",
                        x.rows_per_commit,
                        if x.one_statement { ", 1 stmt" } else { "" }
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    for (i, label) in raw_labels.iter().enumerate() {
        row(label, &|r| {
            r.raw
                .get(i)
                .map_or("-".to_owned(), |x| format!("{:.0}", x.rows_per_s))
        });
    }
    row("reports acknowledged / stored", &|r| {
        format!(
            "{} / {} {}",
            r.acknowledged,
            r.stored,
            if r.stored == r.acknowledged as i64 {
                "(equal)"
            } else {
                "(DIFFERENT)"
            }
        )
    });
    row("SQLite WAL after the load", &|r| {
        r.wal_bytes
            .map_or("-".to_owned(), |b| format!("{:.1} MB", b as f64 / 1e6))
    });
    row("controller RSS at the end", &|r| r.memory_end.show());
    let width = 30;
    println!(
        "\n== Summary ({} agents enrolled; {} s per report phase after {} s warm-up; client and controller share the machine) ==\n",
        opts.agents, opts.seconds, opts.warmup
    );
    print!("{:<42}", "");
    for r in results {
        print!(" | {:<width$}", r.backend.map_or("", Backend::name));
    }
    println!();
    for (label, values) in rows {
        print!("{label:<42}");
        for v in values {
            print!(" | {v:<width$}");
        }
        println!();
    }
    println!(
        "\nTargets: >= 2000 reports/s with p99 <= 50 ms on SQLite; controller RSS <= 150 MB with 100,000 agents; idle agent daemon RSS <= 12 MB, no wake-ups beyond its poll."
    );
    for r in results {
        let best = r
            .phases
            .iter()
            // The headline is the load from every agent: not the reference phases (a few
            // agents only, a new TLS connection per report).
            .filter(|p| {
                p.label.starts_with("reports, c=")
                    && !p.label.contains("new TLS")
                    && !p.label.contains("agents only")
            })
            .filter(|p| p.p99_ms <= 50.0)
            .map(|p| p.per_s)
            .fold(0.0_f64, f64::max);
        println!(
            "  {}: best keep-alive report rate from all {} agents with p99 <= 50 ms: {:.0}/s; controller peak RSS {:.1} MB",
            r.backend.map_or("", Backend::name),
            opts.agents,
            best,
            r.memory_end.hwm_kib as f64 / 1024.0
        );
        if let Some(d) = &r.daemon {
            println!(
                "  agent daemon: RSS {:.1} MB (peak {:.1} MB); {} context switches in {} s, {} of them away from its {} polls; CPU {:.0} ms",
                d.memory.rss_kib as f64 / 1024.0,
                d.memory.hwm_kib as f64 / 1024.0,
                d.switches,
                d.seconds,
                d.switches_away_from_polls,
                d.polls,
                d.cpu_ms
            );
        }
    }
}

async fn run(opts: Opts) -> Result<()> {
    ensure!(
        opts.concurrency.iter().all(|&c| (1..=4096).contains(&c))
            && (1..=4096).contains(&opts.reference_concurrency),
        "concurrency must be 1-4096"
    );
    let bins = bins()?;
    let tmp = tempfile::Builder::new()
        .prefix("controller-bench.")
        .tempdir()
        .context("cannot create a temporary directory")?;
    let backends: &[Backend] = match opts.backend {
        BackendArg::Sqlite => &[Backend::Sqlite],
        BackendArg::Postgres => &[Backend::Postgres],
        BackendArg::Both => &[Backend::Sqlite, Backend::Postgres],
    };
    println!(
        "controller-bench: {} agents ({} through the API), report phases {} s at concurrency {:?}, references at {}; working in {}",
        opts.agents,
        opts.api_agents.min(opts.agents),
        opts.seconds,
        opts.concurrency,
        opts.reference_concurrency,
        tmp.path().display()
    );
    let mut results = Vec::new();
    for (i, &b) in backends.iter().enumerate() {
        results.push(run_backend(&opts, b, &bins, tmp.path(), i == 0).await?);
    }
    summary(&opts, &results);
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let opts = Opts::parse();
    let _ = rustls::crypto::ring::default_provider().install_default();
    // On Ctrl-C the run is dropped, and with it the controller, the daemon and the database.
    tokio::select! {
        r = run(opts) => r,
        _ = tokio::signal::ctrl_c() => bail!("interrupted; stopped what the benchmark started"),
    }
}
