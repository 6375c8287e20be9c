//! What a flood of wrong log-ins and a pathological profile cost the controller, measured
//! against a quiet reference in the same run.
//!
//! ```text
//! cargo build --release --bins -p fitcheck-controller -p fitcheck-tests
//! target/release/hostile-bench [--seconds 10] [--clients 64]
//! ```
//!
//! It starts the release controller (SQLite, in a temporary directory) on 127.0.0.1 and prints,
//! side by side: `/healthz` latency while nothing else happens; the same while `--clients`
//! clients log in with wrong passwords as fast as they can, from as many loopback addresses
//! (127.0.1.x) with made-up user names (so no per-address or per-name budget applies: the
//! password pool alone bounds the work), then from one address (the budget answers); the
//! controller's resident memory before, at its peak and after each; and the time to parse
//! profiles of 10,000 to 100,000 duplicate entries (linear, not quadratic), and `/healthz` while
//! two such uploads run. Traffic stays on loopback; every loop is bounded in time.
//! `HOSTILE_BENCH_DEBUG=1` also prints, after each phase, the controller's thread count and its
//! mappings over 4 MiB resident (how the glibc arenas that once held Argon2 buffers were found).

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use fitcheck_core::profile::Profile;
use fitcheck_tests::controller::ControllerProcess;

#[derive(Debug, Clone, Copy)]
struct Opts {
    seconds: u64,
    clients: u8,
}

fn opts() -> Result<Opts> {
    let mut o = Opts {
        seconds: 10,
        clients: 64,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().context("a value must follow");
        match a.as_str() {
            "--seconds" => o.seconds = value()?.parse().context("--seconds")?,
            "--clients" => o.clients = value()?.parse().context("--clients (1-200)")?,
            other => anyhow::bail!("unknown argument {other}; see the file's header"),
        }
    }
    o.clients = o.clients.clamp(1, 200);
    Ok(o)
}

/// Resident memory now and at its peak, MiB.
fn memory(pid: u32) -> (f64, f64) {
    let m = fitcheck_tests::bench::memory(pid);
    (m.rss_mib(), m.peak_mib())
}

fn client(cert: &[u8], from: Option<IpAddr>) -> Result<reqwest::Client> {
    let mut b = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert)?)
        .no_proxy()
        .timeout(Duration::from_secs(30));
    if let Some(ip) = from {
        b = b.local_address(ip);
    }
    Ok(b.build()?)
}

/// `/healthz` latencies (ms) until `stop` or `limit`, one request at a time.
async fn probe_health(
    http: reqwest::Client,
    base: String,
    stop: Arc<AtomicBool>,
    limit: Duration,
) -> Vec<f64> {
    let started = Instant::now();
    let mut out = Vec::new();
    while !stop.load(Ordering::Relaxed) && started.elapsed() < limit && out.len() < 100_000 {
        let t = Instant::now();
        if http.get(format!("{base}/healthz")).send().await.is_ok() {
            out.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    out
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

struct Phase {
    name: String,
    health: Vec<f64>,
    statuses: BTreeMap<u16, u64>,
    rss_before: f64,
    rss_peak: f64,
    rss_after: f64,
}

impl Phase {
    fn print(&mut self) {
        let n = self.health.len();
        let p50 = percentile(&mut self.health, 0.5);
        let p99 = percentile(&mut self.health, 0.99);
        let max = self.health.iter().copied().fold(0.0, f64::max);
        let statuses: Vec<String> = self
            .statuses
            .iter()
            .map(|(s, n)| format!("{s}×{n}"))
            .collect();
        println!(
            "{:<44} {:>6} {:>8.1} {:>8.1} {:>8.1} {:>9.1} {:>9.1} {:>9.1}  {}",
            self.name,
            n,
            p50,
            p99,
            max,
            self.rss_before,
            self.rss_peak,
            self.rss_after,
            statuses.join(" ")
        );
    }
}

/// Wrong log-ins from `clients` clients for `seconds`, beside a `/healthz` probe.
async fn flood(
    ctl: &ControllerProcess,
    name: &str,
    clients: &[reqwest::Client],
    seconds: u64,
    made_up_names: bool,
) -> Result<Phase> {
    let pid = ctl.pid().context("the controller is not running")?;
    let base = ctl.base();
    let (rss_before, _) = memory(pid);
    let stop = Arc::new(AtomicBool::new(false));
    let limit = Duration::from_secs(seconds);
    let health = tokio::spawn(probe_health(
        client(&ctl.cert_pem, None)?,
        base.clone(),
        stop.clone(),
        limit + Duration::from_secs(5),
    ));
    let mut tasks = Vec::new();
    for (n, http) in clients.iter().enumerate() {
        let (http, base, stop) = (http.clone(), base.clone(), stop.clone());
        tasks.push(tokio::spawn(async move {
            let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
            let started = Instant::now();
            let mut i = 0u64;
            while !stop.load(Ordering::Relaxed) && started.elapsed() < limit && i < 1_000_000 {
                i += 1;
                let user = if made_up_names {
                    format!("guess-{n}-{i}")
                } else {
                    "admin".to_owned()
                };
                let sent = http
                    .post(format!("{base}/api/v1/login"))
                    .header("Origin", &base)
                    .json(&serde_json::json!({"username": user, "password": "wrong"}))
                    .send()
                    .await;
                let code = sent.map_or(0, |r| r.status().as_u16());
                *statuses.entry(code).or_default() += 1;
                if code == 429 {
                    // A client told to wait asks again soon, as a script would.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            }
            statuses
        }));
    }
    let mut rss_peak = rss_before;
    let started = Instant::now();
    while started.elapsed() < limit {
        tokio::time::sleep(Duration::from_millis(200)).await;
        rss_peak = rss_peak.max(memory(pid).0);
    }
    if std::env::var_os("HOSTILE_BENCH_DEBUG").is_some() {
        let threads = std::fs::read_dir(format!("/proc/{pid}/task")).map_or(0, |d| d.count());
        let maps = std::fs::read_to_string(format!("/proc/{pid}/smaps")).unwrap_or_default();
        let mut big: Vec<(u64, String)> = Vec::new();
        let mut head = String::new();
        for line in maps.lines() {
            if line.contains('-') && !line.starts_with(|c: char| c.is_ascii_uppercase()) {
                head = line.to_owned();
            } else if let Some(v) = line.strip_prefix("Rss:") {
                let kib: u64 = v.trim().trim_end_matches(" kB").trim().parse().unwrap_or(0);
                if kib > 4096 {
                    big.push((kib, head.clone()));
                }
            }
        }
        big.sort();
        eprintln!("{name}: {threads} threads; mappings over 4 MiB resident:");
        for (kib, h) in big.iter().rev().take(30) {
            eprintln!("  {kib:>8} KiB  {h}");
        }
    }
    stop.store(true, Ordering::Relaxed);
    let mut statuses: BTreeMap<u16, u64> = BTreeMap::new();
    for t in tasks {
        for (s, n) in t.await? {
            *statuses.entry(s).or_default() += n;
        }
    }
    let health = health.await?;
    // Memory a moment after the flood.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (rss_after, _) = memory(pid);
    Ok(Phase {
        name: name.to_owned(),
        health,
        statuses,
        rss_before,
        rss_peak,
        rss_after,
    })
}

fn duplicates(n: usize) -> String {
    format!(
        "format = 1\nid = \"dup\"\nname = \"Dup\"\nvendor = \"Lab\"\nreviewed = \"2026-11-23\"\nsources = [\"https://lab.example/\"]\n{}",
        "[[dns]]\nname = \"same.example\"\n".repeat(n)
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let o = opts()?;
    let _ = rustls::crypto::ring::default_provider().install_default();
    let dir = tempfile::tempdir()?;
    let ctl = ControllerProcess::start(&dir.path().join("controller"), None)?;
    let pid = ctl.pid().context("the controller is not running")?;
    println!(
        "controller PID {pid} at {}; {} s a phase, {} clients",
        ctl.base(),
        o.seconds,
        o.clients
    );
    println!(
        "\n{:<44} {:>6} {:>8} {:>8} {:>8} {:>9} {:>9} {:>9}  answers",
        "phase (/healthz ms; RSS MiB)",
        "probes",
        "p50",
        "p99",
        "max",
        "RSS pre",
        "RSS peak",
        "RSS post"
    );
    // Reference: nothing but the probe.
    let quiet = flood(&ctl, "quiet (reference)", &[], o.seconds, true).await?;
    let many: Vec<reqwest::Client> = (1..=o.clients)
        .map(|n| client(&ctl.cert_pem, Some(IpAddr::from([127, 0, 1, n]))))
        .collect::<Result<_>>()?;
    let flood_many = flood(
        &ctl,
        &format!("{} addresses, made-up names, wrong passwords", o.clients),
        &many,
        o.seconds,
        true,
    )
    .await?;
    let one: Vec<reqwest::Client> = (0..o.clients)
        .map(|_| client(&ctl.cert_pem, Some(IpAddr::from([127, 0, 2, 1]))))
        .collect::<Result<_>>()?;
    let flood_one = flood(
        &ctl,
        &format!("one address, {} clients, `admin`", o.clients),
        &one,
        o.seconds,
        false,
    )
    .await?;
    for mut p in [quiet, flood_many, flood_one] {
        p.print();
    }

    println!("\nprofile parsing (Profile::parse, in this process, release build)");
    println!(
        "{:>10} {:>10} {:>10} {:>14}",
        "entries", "bytes", "seconds", "µs per entry"
    );
    for n in [10_000usize, 30_000, 100_000] {
        let text = duplicates(n);
        let t = Instant::now();
        let errors = Profile::parse("dup.toml", &text)
            .err()
            .map_or(0, |e| e.errors.len() + e.more);
        let secs = t.elapsed().as_secs_f64();
        println!(
            "{n:>10} {:>10} {secs:>10.3} {:>14.2}   ({errors} errors found)",
            text.len(),
            secs * 1e6 / n as f64
        );
    }

    // Two uploads of 30,000 duplicates at once (under the 1 MiB limit), beside the probe.
    let admin = client(&ctl.cert_pem, None)?;
    let login = admin
        .post(format!("{}/api/v1/login", ctl.base()))
        .header("Origin", ctl.base())
        .json(&serde_json::json!({"username": "admin", "password": ctl.admin_password}))
        .send()
        .await?;
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .context("no session cookie")?
        .to_owned();
    let stop = Arc::new(AtomicBool::new(false));
    let probe = tokio::spawn(probe_health(
        client(&ctl.cert_pem, None)?,
        ctl.base(),
        stop.clone(),
        Duration::from_secs(120),
    ));
    let text = duplicates(30_000);
    let t = Instant::now();
    let uploads: Vec<_> = (0..2)
        .map(|_| {
            let (http, base, cookie, text) =
                (admin.clone(), ctl.base(), cookie.clone(), text.clone());
            tokio::spawn(async move {
                http.post(format!("{base}/api/v1/profiles?name=dup.toml"))
                    .header("Origin", &base)
                    .header("Cookie", cookie)
                    .header("Content-Type", "application/toml")
                    .body(text)
                    .send()
                    .await
                    .map(|r| r.status().as_u16())
                    .unwrap_or(0)
            })
        })
        .collect();
    let mut codes = Vec::new();
    for u in uploads {
        codes.push(u.await?);
    }
    let upload_s = t.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let mut health = probe.await?;
    println!(
        "\ntwo uploads of 30,000 duplicates ({} bytes each): answered {codes:?} in {upload_s:.2} s; \
         /healthz meanwhile p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms over {} probes",
        text.len(),
        percentile(&mut health, 0.5),
        percentile(&mut health, 0.99),
        health.iter().copied().fold(0.0, f64::max),
        health.len()
    );
    Ok(())
}
