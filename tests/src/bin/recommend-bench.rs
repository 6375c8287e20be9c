//! Scale benchmark of the recommendation: a district of `--devices` devices (50,000 by default)
//! at `--sites` sites with `--models` device models, stored in the controller's database as two
//! runs of one evaluation, and the time and controller memory of what a committee opens: the
//! recommendation (JSON), its page, a drill-down page and the comparison of the two runs, next
//! to the floor — merely reading the stored report bodies (and parsing them).
//!
//! ```text
//! cargo build --release --workspace --bins
//! target/release/recommend-bench [--devices 50000] [--sites 150] [--models 40] [--backend sqlite|postgres|both]
//! ```
//!
//! Reports are realistic: every check kind of `controller/tests/data/recommend/lab-product.toml`,
//! device facts, bandwidth with timed samples; about one device in eight fails something, in
//! every way the engine knows (DNS sinkhole and timeout, filter block, TLS interception, closed
//! TCP and UDP ports, loss, slow uplink, too little memory, an old or unsupported OS). They are
//! inserted straight into the controller's tables (the ingestion path is `controller-bench`'s
//! subject); the controller itself serves every measured request. Figures are printed, never
//! asserted. Everything runs on 127.0.0.1.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use fitcheck_tests::controller::ControllerProcess;
use serde_json::{Value, json};
use sqlx::any::AnyPoolOptions;
use sqlx::{AnyPool, AssertSqlSafe, Executor, Row};

const PROFILE: &str = include_str!("../../../controller/tests/data/recommend/lab-product.toml");
const PG_SCRIPT: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../scripts/test-postgres");
/// 2026-11-20T10:00:00Z, when the stored runs' coordinated measurement starts.
const RUN_START_MS: i64 = 1_795_168_800_000;

struct Opts {
    devices: usize,
    sites: usize,
    models: usize,
    backends: Vec<&'static str>,
}

fn opts() -> Result<Opts> {
    let args: Vec<String> = std::env::args().collect();
    let value = |name: &str| {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .cloned()
    };
    let number = |name: &str, default: usize| -> Result<usize> {
        value(name).map_or(Ok(default), |v| {
            v.parse()
                .with_context(|| format!("{name} {v:?} is not a whole number"))
        })
    };
    let backends = match value("--backend").as_deref() {
        None | Some("sqlite") => vec!["sqlite"],
        Some("postgres") => vec!["postgres"],
        Some("both") => vec!["sqlite", "postgres"],
        Some(other) => bail!("--backend {other:?}: give sqlite, postgres or both"),
    };
    Ok(Opts {
        devices: number("--devices", 50_000)?,
        sites: number("--sites", 150)?,
        models: number("--models", 40)?,
        backends,
    })
}

fn site_name(i: usize) -> String {
    format!("school-{i:03}")
}

fn model_name(i: usize) -> (String, String) {
    (format!("Vendor{}", i % 7), format!("Book {}", 100 + i))
}

/// A cheap deterministic mix, so runs are repeatable.
fn mix(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x
}

fn samples(start_ms: i64, mbps: f64) -> Value {
    let per = (mbps * 1e6 / 8.0 / 10.0).round() as u64;
    json!({"start_unix_ms": start_ms, "interval_ms": 100, "bytes": vec![per; 80]})
}

/// Device `n`'s report in run `run`: mostly passing, one in eight failing one thing.
fn report_body(
    n: usize,
    run: usize,
    o: &Opts,
    agent_id: &str,
    report_id: &str,
    digest: &str,
) -> Value {
    let h = mix((n as u64) << 8 | run as u64);
    let model = n % o.models;
    let (vendor, product) = model_name(model);
    let site = site_name(n % o.sites);
    let failure = if h % 8 == 0 { (h >> 8) % 11 } else { 99 };
    let ram_gib: u64 = if model == 0 || failure == 7 { 2 } else { 8 };
    let os = match (model, failure) {
        (1, _) => ("windows", "Windows 11 Pro", "10.0.22631"),
        (_, 8) => ("chromeos", "ChromeOS", "118.0.5993"),
        _ => ("chromeos", "ChromeOS", "126.0.6478"),
    };
    let dns = |i: usize, name: &str, outcome: &str| {
        let a: Vec<&str> = match outcome {
            "resolved" => vec!["198.51.100.10"],
            "sinkholed" => vec!["0.0.0.0"],
            _ => vec![],
        };
        json!({"check": "dns", "requirement": format!("dns[{i}]"), "target": name, "outcome": outcome,
            "evidence": {"resolvers": ["10.0.0.53:53"], "a": a, "aaaa": []}, "duration_ms": 3.0})
    };
    let http = |i: usize, url: &str, outcome: &str, layer: Option<&str>| {
        json!({"check": "http", "requirement": format!("http[{i}]"), "target": url, "outcome": outcome,
            "evidence": {"status": if outcome == "reachable" { json!(200) } else { Value::Null }, "redirects": [], "headers": {"server": "nginx"},
                "blocking_layer": layer, "detail": if outcome == "reachable" { Value::Null } else { json!("seen at the district edge") }},
            "timings": {"dns_ms": 3.0, "connect_ms": 9.0, "tls_ms": 21.0, "first_byte_ms": 40.0, "total_ms": 80.0}})
    };
    let down = if failure == 6 { 2.0 } else { 12.0 };
    let results = json!([
        dns(0, "app.vendor.example", if failure == 0 { "sinkholed" } else { "resolved" }),
        dns(1, "cdn.vendor.example", if failure == 1 { "timeout" } else { "resolved" }),
        if failure == 2 {
            http(0, "https://app.vendor.example/", "blocked_by_filter", Some("http_filter"))
        } else {
            http(0, "https://app.vendor.example/", "reachable", None)
        },
        if failure == 3 {
            http(1, "https://cdn.vendor.example/", "tls_intercepted", Some("tls_interception"))
        } else {
            http(1, "https://cdn.vendor.example/", "reachable", None)
        },
        {"check": "tcp", "requirement": "ports[0]", "target": "media.vendor.example:8801", "port": 8801,
            "outcome": if failure == 4 { "filtered" } else { "open" }, "duration_ms": 5.0},
        {"check": "udp", "requirement": "ports[1]", "target": "media.vendor.example:3478", "port": 3478,
            "outcome": if failure == 5 { "no_answer" } else { "answered" }, "attempts": 3, "duration_ms": 900.0},
        {"check": "latency", "requirement": "network", "target": "app.vendor.example", "outcome": "measured", "method": "icmp",
            "probes": 20, "rtt_ms": 20.0, "rtt_min_ms": 18.0, "rtt_max_ms": 29.0, "jitter_ms": 1.0,
            "loss_percent": if failure == 9 { 5.0 } else { 0.0 }},
        {"check": "bandwidth", "requirement": "network", "target": "https://controller.district.example/api/agent/v1/",
            "outcome": "measured", "method": "http, 4 parallel TCP streams, ramp-up discarded", "download_mbps": down, "upload_mbps": 6.0,
            "streams": 4, "bytes": 100_000_000u64, "duration_ms": 9000.0, "validity": [],
            "download_samples": samples(RUN_START_MS, down), "upload_samples": samples(RUN_START_MS + 12_000, 6.0)},
    ]);
    json!({
        "schema": "fitcheck.report/v1",
        "report_id": report_id,
        "agent": {"agent_id": agent_id, "version": "0.1.0", "labels": {"site": site}},
        "profile": {"id": "lab-product", "name": "Lab Product", "vendor": "Lab Vendor", "digest": digest},
        "started_at": "2026-11-20T10:00:00Z",
        "finished_at": "2026-11-20T10:01:00Z",
        "device": {
            "os": {"family": os.0, "name": format!("{} {}", os.1, os.2), "version": os.2, "architecture": "x86_64"},
            "model": {"vendor": vendor, "product": product},
            "cpu": {"model": "Intel Celeron N4020", "logical_cores": 2},
            "memory": {"total_bytes": ram_gib << 30},
            "gpu": {"detection": "none_found", "adapters": []},
            "screen": {"detection": "none_found", "source": "drm"},
            "browsers": {"detection": "detected", "installed": []},
        },
        "results": results,
        "notes": ["Web filters that run inside a managed browser are invisible to network checks."],
    })
}

async fn open_pool(url: &str) -> Result<AnyPool> {
    sqlx::any::install_default_drivers();
    let sqlite = url.starts_with("sqlite:");
    AnyPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(60))
        .after_connect(move |conn, _meta| {
            Box::pin(async move {
                if sqlite {
                    conn.execute("PRAGMA busy_timeout = 30000").await?;
                }
                Ok(())
            })
        })
        .connect(url)
        .await
        .with_context(|| format!("cannot open the database {url}"))
}

/// Agents and both runs' reports, straight into the controller's tables, 500 rows a statement.
async fn fill(
    pool: &AnyPool,
    o: &Opts,
    runs: &[String],
    profile: &fitcheck_core::profile::Profile,
    digest: &str,
) -> Result<u64> {
    pool.execute(
        "INSERT INTO enrollment_secrets (id, name, secret_hash, created_at) VALUES ('bench', 'bench', 'bench', 0)",
    )
    .await?;
    let agents: Vec<String> = (0..o.devices)
        .map(|n| format!("00000000-0000-4000-8000-{n:012}"))
        .collect();
    for (c, ids) in agents.chunks(500).enumerate() {
        let sql = format!(
            "INSERT INTO agents (id, credential_hash, labels, site, grp, version, enrolled_at, enrolled_with, last_seen_at) VALUES {}",
            values(ids.len(), "(?, ?, ?, ?, NULL, '0.1.0', 0, 'bench', 0)")
        );
        let mut q = sqlx::query(AssertSqlSafe(sql));
        for (k, id) in ids.iter().enumerate() {
            let site = site_name((c * 500 + k) % o.sites);
            q = q
                .bind(id.clone())
                .bind(format!("bench-{id}"))
                .bind(json!({"site": site}).to_string())
                .bind(site);
        }
        q.execute(pool).await.context("inserting agents")?;
    }
    let mut bytes = 0u64;
    for (run, evaluation) in runs.iter().enumerate() {
        for start in (0..o.devices).step_by(200) {
            let end = (start + 200).min(o.devices);
            // Each report once: its body, and the judgement ingestion stores beside it (one
            // per agent here).
            let mut rows = Vec::with_capacity(end - start);
            for (n, agent) in agents.iter().enumerate().take(end).skip(start) {
                let report_id = format!("019ab3c2-5d10-7000-8{run:03x}-{n:012x}");
                let value = report_body(n, run, o, agent, &report_id, digest);
                let body = value.to_string();
                let report: fitcheck_core::report::Report = serde_json::from_value(value)?;
                let site = site_name(n % o.sites);
                let j = fitcheck_engine::judge(
                    profile,
                    digest,
                    fitcheck_engine::Arrival {
                        report_id: report_id.clone(),
                        agent_id: agent.clone(),
                        site: Some(site.clone()),
                        received_at_ms: 0,
                    },
                    &report,
                );
                bytes += body.len() as u64;
                rows.push((agent, report_id, site, body, j));
            }
            let sql = format!(
                "INSERT INTO reports (report_id, agent_id, evaluation_id, profile_digest, site, started_at, received_at, body) VALUES {}",
                values(rows.len(), "(?, ?, ?, ?, ?, '2026-11-20T10:00:00Z', 0, ?)")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (agent, report_id, site, body, _) in &rows {
                q = q
                    .bind(report_id.clone())
                    .bind((*agent).clone())
                    .bind(evaluation.clone())
                    .bind(digest.to_owned())
                    .bind(site.clone())
                    .bind(body.clone());
            }
            q.execute(pool).await.context("inserting reports")?;
            let sql = format!(
                "INSERT INTO judgements (evaluation_id, agent_id, report_id, received_at, site, model, version, profile_digest, judgement) VALUES {}",
                values(rows.len(), "(?, ?, ?, 0, ?, ?, ?, ?, ?)")
            );
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (agent, report_id, site, _, j) in &rows {
                q = q
                    .bind(evaluation.clone())
                    .bind((*agent).clone())
                    .bind(report_id.clone())
                    .bind(site.clone())
                    .bind(j.model.clone())
                    .bind(i64::from(j.version))
                    .bind(digest.to_owned())
                    .bind(serde_json::to_string(j)?);
            }
            q.execute(pool).await.context("inserting judgements")?;
        }
    }
    Ok(bytes)
}

/// `rows` copies of `row`, comma-separated, its `?`s numbered `$1`, `$2`, … across all rows:
/// the VALUES of a multi-row INSERT whose every value is bound.
fn values(rows: usize, row: &str) -> String {
    let mut n = 0;
    let mut out = String::new();
    for r in 0..rows {
        if r > 0 {
            out.push(',');
        }
        for ch in row.chars() {
            if ch == '?' {
                n += 1;
                out.push_str(&format!("${n}"));
            } else {
                out.push(ch);
            }
        }
    }
    out
}

/// Peak and current resident memory of a process, MB (`VmHWM`, `VmRSS`).
fn memory(pid: u32) -> (f64, f64) {
    let m = fitcheck_tests::bench::memory(pid);
    (m.peak_mib(), m.rss_mib())
}

struct Figure {
    what: String,
    seconds: Vec<f64>,
    bytes: usize,
    peak_mb: f64,
}

async fn backend(o: &Opts, name: &str) -> Result<Vec<Figure>> {
    let dir = tempfile::Builder::new()
        .prefix("recommend-bench-")
        .tempdir()?;
    let pg_dir = dir.path().join("pg");
    let database = if name == "postgres" {
        let out = fitcheck_tests::lab::run_bounded(
            std::process::Command::new(PG_SCRIPT)
                .arg("start")
                .arg(&pg_dir),
            Duration::from_secs(120),
        )?;
        if !out.status.success() {
            bail!("scripts/test-postgres start failed: {}", out.stderr);
        }
        Some(out.stdout.trim().to_owned())
    } else {
        None
    };
    let result = measure(o, dir.path(), database.as_deref()).await;
    if database.is_some() {
        let _ = fitcheck_tests::lab::run_bounded(
            std::process::Command::new(PG_SCRIPT)
                .arg("stop")
                .arg(&pg_dir),
            Duration::from_secs(60),
        );
    }
    result
}

async fn measure(o: &Opts, dir: &std::path::Path, database: Option<&str>) -> Result<Vec<Figure>> {
    let controller = ControllerProcess::start(&dir.join("controller"), database)?;
    let pid = controller.pid().context("no controller process")?;
    let mut client = controller.client()?;
    client.login("admin", &controller.admin_password).await?;
    let (s, p) = client
        .post(
            "/api/v1/profiles?name=lab-product.toml",
            PROFILE.to_owned(),
            "application/toml",
        )
        .await?;
    if s != 201 {
        bail!("profile refused ({s}): {p}");
    }
    let sites: Vec<String> = (0..o.sites).map(site_name).collect();
    let users: serde_json::Map<String, Value> =
        sites.iter().map(|s| (s.clone(), json!(300))).collect();
    let mut runs = Vec::new();
    for run in ["run A", "run B"] {
        let (s, e) = client
            .post(
                "/api/v1/evaluations",
                json!({
                    "title": format!("Lab Product, {run}"),
                    "profile": p["id"],
                    "sites": sites,
                    "concurrent_users": users,
                    "window_start": "2026-11-01T00:00:00Z",
                    "window_end": "2099-01-01T00:00:00Z",
                    "bandwidth": {"start_at": "2026-11-20T10:00:00Z", "max_seconds": 10},
                })
                .to_string(),
                "application/json",
            )
            .await?;
        if s != 201 {
            bail!("evaluation refused ({s}): {e}");
        }
        runs.push(e["id"].as_str().context("no evaluation id")?.to_owned());
    }
    let url = database.map_or_else(
        || {
            format!(
                "sqlite:{}",
                dir.join("controller").join("fitcheck.db").display()
            )
        },
        str::to_owned,
    );
    let pool = open_pool(&url).await?;
    let digest = fitcheck_core::digest(PROFILE.as_bytes());
    let t = Instant::now();
    let profile = fitcheck_core::profile::Profile::parse("lab-product.toml", PROFILE)?;
    let stored = fill(&pool, o, &runs, &profile, &digest).await?;
    eprintln!(
        "  stored {} agents and {} reports ({:.0} MB of bodies) in {:.1} s",
        o.devices,
        2 * o.devices,
        stored as f64 / 1e6,
        t.elapsed().as_secs_f64()
    );
    let mut figures = Vec::new();
    // The floor: every body of one run read, then read and parsed as reports.
    for parse in [false, true] {
        let mut seconds = Vec::new();
        let mut bytes = 0;
        for _ in 0..2 {
            let t = Instant::now();
            let rows = sqlx::query("SELECT body FROM reports WHERE evaluation_id = $1")
                .bind(runs[0].clone())
                .fetch_all(&pool)
                .await?;
            bytes = 0;
            for r in &rows {
                let body: String = r.try_get(0)?;
                bytes += body.len();
                if parse {
                    let _: fitcheck_core::report::Report = serde_json::from_str(&body)?;
                }
            }
            seconds.push(t.elapsed().as_secs_f64());
        }
        figures.push(Figure {
            what: if parse {
                "floor: read + parse every body (this process)".to_owned()
            } else {
                "floor: read every body (this process)".to_owned()
            },
            seconds,
            bytes,
            peak_mb: 0.0,
        });
    }
    // What a recommendation reads instead: every stored judgement of the run.
    let mut seconds = Vec::new();
    let mut bytes = 0;
    let mut judged = Vec::new();
    for _ in 0..2 {
        let before = memory(std::process::id()).1;
        let t = Instant::now();
        let rows = sqlx::query("SELECT judgement FROM judgements WHERE evaluation_id = $1")
            .bind(runs[0].clone())
            .fetch_all(&pool)
            .await?;
        bytes = 0;
        let mut held: Vec<fitcheck_engine::Judgement> = Vec::with_capacity(rows.len());
        for r in &rows {
            let text: String = r.try_get(0)?;
            bytes += text.len();
            held.push(serde_json::from_str(&text)?);
        }
        seconds.push(t.elapsed().as_secs_f64());
        drop(rows);
        eprintln!(
            "  {} judgements held parsed: {:.0} MB more resident in this process",
            held.len(),
            memory(std::process::id()).1 - before
        );
        judged = held;
    }
    figures.push(Figure {
        what: "read + parse every judgement (this process)".to_owned(),
        seconds,
        bytes,
        peak_mb: 0.0,
    });
    // The engine alone on those judgements, and its answer as JSON: what the controller adds
    // to the reading.
    let plan = fitcheck_engine::Plan {
        sites: sites.clone(),
        concurrent_users: sites.iter().map(|s| (s.clone(), 300)).collect(),
        min_devices_per_site: 2,
        coordinated: true,
        window_start: Some("2026-11-01T00:00:00Z".to_owned()),
        window_end: "2099-01-01T00:00:00Z".to_owned(),
        proposal: fitcheck_engine::Proposal::default(),
        data_senders: None,
        os_updates_end: Default::default(),
    };
    let agents: Vec<fitcheck_engine::ScopeAgent> = (0..o.devices)
        .map(|n| fitcheck_engine::ScopeAgent {
            id: format!("00000000-0000-4000-8000-{n:012}"),
            site: Some(site_name(n % o.sites)),
        })
        .collect();
    let mut seconds = Vec::new();
    let mut json_seconds = Vec::new();
    let mut bytes = 0;
    for _ in 0..2 {
        let t = Instant::now();
        let r = fitcheck_engine::recommend(&fitcheck_engine::Input {
            evaluation_id: &runs[0],
            title: "Lab Product, run A",
            plan: &plan,
            profile: &profile,
            profile_digest: &digest,
            agents: &agents,
            judgements: &judged,
            generated_at: "2026-11-30T00:00:00Z",
            sis: None,
        });
        seconds.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        bytes = serde_json::to_string(&r)?.len();
        json_seconds.push(t.elapsed().as_secs_f64());
    }
    drop(judged);
    figures.push(Figure {
        what: "the engine on those judgements (this process)".to_owned(),
        seconds,
        bytes: 0,
        peak_mb: 0.0,
    });
    figures.push(Figure {
        what: "its recommendation as JSON (this process)".to_owned(),
        seconds: json_seconds,
        bytes,
        peak_mb: 0.0,
    });
    let a = &runs[0];
    let b = &runs[1];
    let pages = [
        (
            "recommendation (JSON API)",
            format!("/api/v1/evaluations/{a}/recommendation"),
        ),
        (
            "recommendation page",
            format!("/evaluations/{a}/recommendation"),
        ),
        (
            "drill-down page (one cell)",
            format!("/evaluations/{a}/cells?requirement=dns%5B0%5D&site=school-000"),
        ),
        (
            "comparison of the two runs",
            format!("/evaluations/{a}/compare?with={b}"),
        ),
    ];
    for (what, path) in pages {
        let mut seconds = Vec::new();
        let mut bytes = 0;
        for _ in 0..2 {
            let t = Instant::now();
            let (status, text) = client.get_text(&path).await?;
            seconds.push(t.elapsed().as_secs_f64());
            if status != 200 {
                bail!(
                    "{path}: {status}: {}",
                    text.chars().take(300).collect::<String>()
                );
            }
            bytes = text.len();
        }
        figures.push(Figure {
            what: what.to_owned(),
            seconds,
            bytes,
            peak_mb: memory(pid).0,
        });
    }
    // A store written before judgements were kept: the first view judges every body again and
    // stores the judgements; the next reads those.
    sqlx::query("DELETE FROM judgements WHERE evaluation_id = $1")
        .bind(a.clone())
        .execute(&pool)
        .await?;
    // As the migration that added judgements marks every evaluation that had reports.
    sqlx::query("INSERT INTO judgements_due (evaluation_id) VALUES ($1)")
        .bind(a.clone())
        .execute(&pool)
        .await?;
    let path = format!("/api/v1/evaluations/{a}/recommendation");
    let mut seconds = Vec::new();
    let mut bytes = 0;
    for _ in 0..2 {
        let t = Instant::now();
        let (status, text) = client.get_text(&path).await?;
        seconds.push(t.elapsed().as_secs_f64());
        if status != 200 {
            bail!("{path}: {status}");
        }
        bytes = text.len();
    }
    figures.push(Figure {
        what: "recommendation, judgements missing (JSON API)".to_owned(),
        seconds,
        bytes,
        peak_mb: memory(pid).0,
    });
    pool.close().await;
    let (_, rss) = memory(pid);
    eprintln!("  controller resident memory after the pages: {rss:.0} MB");
    Ok(figures)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let o = opts()?;
    println!(
        "Recommendation at scale: {} devices at {} sites, {} models; two stored runs. Each request twice (first, then again); peak = the controller's VmHWM after it.\n",
        o.devices, o.sites, o.models
    );
    for name in &o.backends {
        eprintln!("{name}:");
        let figures = backend(&o, name).await?;
        println!("{name}");
        println!(
            "  {:<46} {:>8} {:>8} {:>10} {:>9}",
            "what", "first s", "again s", "bytes", "peak MB"
        );
        for f in figures {
            println!(
                "  {:<46} {:>8.2} {:>8.2} {:>10} {:>9}",
                f.what,
                f.seconds.first().copied().unwrap_or(0.0),
                f.seconds.get(1).copied().unwrap_or(0.0),
                f.bytes,
                if f.peak_mb > 0.0 {
                    format!("{:.0}", f.peak_mb)
                } else {
                    "—".to_owned()
                }
            );
        }
        println!();
    }
    Ok(())
}
