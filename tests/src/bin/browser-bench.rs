//! browser-bench: the browser agent's figures in the browser lab (`fitcheck_tests::browser`),
//! each beside its reference measured in the same run:
//!
//! - a 12-URL profile in headless Chromium: the run's time and how long each URL's probe window
//!   was open;
//! - throughput against the controller over a link shaped to `--rate` Mbit/s, next to the
//!   native agent's on the same link and the link's TCP ceiling;
//! - round trips to the product over that link, which a delay line holds to `--rtt` ms: the
//!   browser's timed HTTP requests next to the native agent's ICMP echo and the configured
//!   figure;
//! - memory while idle: the browser with the agent force-installed, next to the same browser
//!   without it, and the agent's own extension process.
//!
//! Needs root and what the browser lab needs (see `tests/tests/browser_agent.rs`).
//!
//!   cargo build --release --workspace --bins && target/release/browser-bench [--rate 50] [--rtt 40]

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use fitcheck_tests::bench::{Shape, ceiling, memory};
use fitcheck_tests::browser::{
    BrowserLab, browser_processes, browser_report, evaluation, reports, upload,
};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

#[derive(Debug, Parser)]
#[command(about = "The browser agent's run time, throughput and idle memory in the browser lab")]
struct Args {
    /// The access link's rate, Mbit/s.
    #[arg(long, default_value_t = 50)]
    rate: u32,
    /// The link's round-trip time, ms, added by a delay line (0: none).
    #[arg(long, default_value_t = 40)]
    rtt: u32,
    /// Seconds each throughput direction runs.
    #[arg(long, default_value_t = 8.0)]
    seconds: f64,
    /// Seconds the browsers sit idle before their memory is read: past Chrome's 30 s idle
    /// limit, so an agent whose work is done has had its service worker stopped.
    #[arg(long, default_value_t = 45)]
    idle: u64,
    /// Seconds over which each browser's idle memory is then sampled, every 2 s: a poll period
    /// by default, so the figure covers the agent's worker both woken by its alarm and stopped
    /// by the browser.
    #[arg(long, default_value_t = 300)]
    window: u64,
    /// How often agents poll, seconds: the controller's default for browser agents, as a
    /// district runs it (the tests' 5 s wakes the agent before Chrome would stop it).
    #[arg(long, default_value_t = 300)]
    poll: u32,
}

const URLS: usize = 12;

fn profile() -> String {
    let mut p = String::from(
        "format = 1\nid = \"browser-bench\"\nname = \"Browser bench\"\nvendor = \"fitcheck\"\nreviewed = \"2026-11-30\"\nsources = [\"https://fitcheck.example/browser-bench\"]\n",
    );
    for i in 1..=URLS {
        p.push_str(&format!(
            "\n[[http]]\nurl = \"http://app.lab.test/page-{i}\"\n"
        ));
    }
    p.push_str(
        "\n[network]\ndownload_mbps_per_user = 1.0\nupload_mbps_per_user = 0.5\nmax_rtt_ms = 150\n",
    );
    p
}

fn bandwidth(report: &Value) -> (Option<f64>, Option<f64>) {
    let b = report["results"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["check"] == "bandwidth"));
    (
        b.and_then(|b| b["download_mbps"].as_f64()),
        b.and_then(|b| b["upload_mbps"].as_f64()),
    )
}

/// The round trips to `host`: (median, min, max, method).
fn round_trips(report: &Value, host: &str) -> String {
    let l = report["results"].as_array().and_then(|r| {
        r.iter()
            .find(|x| x["check"] == "latency" && x["target"] == host)
    });
    match l {
        Some(l) if l["outcome"] == "measured" => format!(
            "{} ({}–{}, {})",
            show(l["rtt_ms"].as_f64()),
            show(l["rtt_min_ms"].as_f64()),
            show(l["rtt_max_ms"].as_f64()),
            l["method"].as_str().unwrap_or("?")
        ),
        Some(l) => format!("{} ({})", l["outcome"], l["detail"]),
        None => "—".to_owned(),
    }
}

fn show(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}"))
}

/// Samples of a memory figure, MB.
#[derive(Debug, Clone, Copy)]
struct Sampled {
    n: usize,
    /// Samples in which it was above zero (a process was there).
    present: usize,
    mean: f64,
    min: f64,
    max: f64,
}

impl std::fmt::Display for Sampled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:.1} ({:.0}–{:.0})", self.mean, self.min, self.max)
    }
}

fn sampled(values: &[f64]) -> Sampled {
    let n = values.len().max(1);
    Sampled {
        n: values.len(),
        present: values.iter().filter(|v| **v > 0.0).count(),
        mean: values.iter().sum::<f64>() / n as f64,
        min: values.iter().copied().fold(f64::INFINITY, f64::min),
        max: values.iter().copied().fold(0.0, f64::max),
    }
}

/// A browser's idle memory, sampled: in all, its extension processes', and the mean by
/// process kind (`browser`, `renderer`, `extension`, `gpu-process`, `utility:<what>`, …).
#[derive(Debug)]
struct Idle {
    all: Sampled,
    extensions: Sampled,
    by_kind: std::collections::BTreeMap<String, f64>,
}

/// What kind of Chromium process `pid` is, from its command line.
fn kind(pid: u32) -> String {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let cmdline = String::from_utf8_lossy(&raw);
    let arg = |name: &str| {
        cmdline
            .split(['\0', ' '])
            .find_map(|a| a.strip_prefix(name))
            .map(str::to_owned)
    };
    if cmdline.contains("--extension-process") {
        return "extension".to_owned();
    }
    match (arg("--type="), arg("--utility-sub-type=")) {
        (None, _) => "browser".to_owned(),
        (Some(t), Some(sub)) => format!("{t}:{sub}"),
        (Some(t), None) => t,
    }
}

/// The browser's memory sampled every 2 s for `window` seconds (the process tree read again
/// each time: the worker's process comes and goes).
async fn idle_memory(browser: u32, window: u64) -> Idle {
    let (mut all, mut extensions) = (Vec::new(), Vec::new());
    let mut by_kind = std::collections::BTreeMap::<String, f64>::new();
    let samples = (window / 2).max(1);
    for _ in 0..samples {
        let (pids, ext) = browser_processes(browser);
        all.push(pss_mb(&pids));
        extensions.push(pss_mb(&ext));
        for p in pids {
            *by_kind.entry(kind(p)).or_default() += pss_mb(&[p]) / samples as f64;
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
    Idle {
        all: sampled(&all),
        extensions: sampled(&extensions),
        by_kind,
    }
}

/// The mean by process kind, for printing.
fn kinds(idle: &Idle) -> String {
    idle.by_kind
        .iter()
        .map(|(k, v)| format!("{k} {v:.1}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Memory of the processes, MB, summed: each one's proportional share (`Pss`, shared pages
/// divided among the processes sharing them, so the sum counts them once), else its `VmRSS`.
fn pss_mb(pids: &[u32]) -> f64 {
    pids.iter()
        .map(|p| {
            std::fs::read_to_string(format!("/proc/{p}/smaps_rollup"))
                .ok()
                .and_then(|t| {
                    t.lines()
                        .find_map(|l| l.strip_prefix("Pss:"))
                        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
                })
                .map_or_else(|| memory(*p).rss_mib(), |kib| kib / 1024.0)
        })
        .sum::<f64>()
        // An empty sum is -0.0.
        + 0.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> Result<()> {
    let args = Args::parse();
    let t0 = Instant::now();
    let mut b = BrowserLab::start_polling(
        Some(Shape {
            rate_mbps: args.rate,
            rtt_ms: args.rtt,
            loss_percent: 0.0,
        }),
        Some(args.poll),
    )?;
    let mut client = b.controller.client()?;
    client.login("admin", &b.controller.admin_password).await?;
    let profile_id = upload(&client, "browser-bench.toml", &profile()).await?;
    let eval = evaluation(
        &client,
        "Browser bench",
        &profile_id,
        json!({"max_seconds": args.seconds}),
    )
    .await?;
    let policy = b.policy(&json!({}));
    b.write_policy(&policy)?;
    let profile_dir = b.d().join("bench-profile");
    let browser_started = Instant::now();
    let browser = b.start_browser(&profile_dir, "bench-chromium.log", &[])?;
    let report = browser_report(&client, &eval, Duration::from_secs(300)).await?;
    let run_s = seconds_between(&report["started_at"], &report["finished_at"])?;
    let windows: Vec<f64> = report["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(|x| x["evidence"]["window_ms"].as_f64())
                .collect()
        })
        .unwrap_or_default();
    if windows.len() != URLS {
        bail!("{} of {URLS} URLs were probed: {report:#}", windows.len());
    }
    let navigations_s: f64 = windows.iter().sum::<f64>() / 1000.0;
    let mean_ms = windows.iter().sum::<f64>() / windows.len() as f64;
    let max_ms = windows.iter().copied().fold(0.0, f64::max);
    let (b_down, b_up) = bandwidth(&report);
    let b_rtt = round_trips(&report, "app.lab.test");

    // The native agent on the same link, after the browser has finished.
    b.native_agent()?;
    let native = reports(&client, &eval)
        .await?
        .into_iter()
        .find(|r| r["agent"]["kind"] != "browser")
        .context("the native agent's report")?;
    let (n_down, n_up) = bandwidth(&native);
    let n_rtt = round_trips(&native, "app.lab.test");

    // Idle memory: this browser with the agent, then a fresh one without it, read at the same
    // age (a browser starts services of its own minutes after it starts).
    tokio::time::sleep(Duration::from_secs(args.idle)).await;
    let age = browser_started.elapsed();
    let with = idle_memory(browser, args.window).await;
    let (with_agent, agent_process) = (with.all, with.extensions);
    b.lab.kill(browser)?;
    let mut plain = policy.clone();
    if let Some(p) = plain.as_object_mut() {
        p.remove("ExtensionInstallForcelist");
        p.remove("3rdparty");
    }
    b.write_policy(&plain)?;
    let reference = b.start_browser(&b.d().join("reference-profile"), "reference.log", &[])?;
    tokio::time::sleep(age).await;
    let without = idle_memory(reference, args.window).await;
    let without_agent = without.all;

    let ceiling = ceiling(args.rate);
    println!(
        "browser-bench: {URLS}-URL profile, link {} Mbit/s (TCP ceiling {ceiling:.1} Mbit/s) with a {} ms round trip, {} s per direction",
        args.rate, args.rtt, args.seconds
    );
    println!();
    println!("| | browser agent | native agent | ceiling |");
    println!("|---|---|---|---|");
    println!(
        "| download, Mbit/s | {} | {} | {ceiling:.1} |",
        show(b_down),
        show(n_down)
    );
    println!(
        "| upload, Mbit/s | {} | {} | {ceiling:.1} |",
        show(b_up),
        show(n_up)
    );
    println!(
        "| round trip to the product, ms: median (min–max, method) | {b_rtt} | {n_rtt} | {} configured |",
        args.rtt
    );
    println!();
    println!(
        "run: {run_s:.1} s in all, of which the {URLS} navigations {navigations_s:.1} s; probe window open {mean_ms:.0} ms per URL on average, {max_ms:.0} ms at most"
    );
    println!(
        "idle memory (PSS, MB, mean (min–max) of {} samples over {} s, from {:.0} s after each browser started): browser with the agent {with_agent}, of which extension processes {agent_process} (present in {} samples); the same browser without it {without_agent}; the agent costs {:.1} MB on average",
        with_agent.n,
        args.window,
        age.as_secs_f64(),
        agent_process.present,
        with_agent.mean - without_agent.mean
    );
    println!(
        "  by process kind, mean MB, with the agent: {}",
        kinds(&with)
    );
    println!(
        "  by process kind, mean MB, without it:     {}",
        kinds(&without)
    );
    println!("browser-bench: done in {:.0} s", t0.elapsed().as_secs_f64());
    Ok(())
}

/// Seconds from one RFC 3339 time to another.
fn seconds_between(from: &Value, to: &Value) -> Result<f64> {
    let at = |v: &Value| -> Result<OffsetDateTime> {
        let text = v.as_str().context("a time")?;
        OffsetDateTime::parse(text, &Rfc3339)
            .with_context(|| format!("not an RFC 3339 time: {text:?}"))
    };
    Ok((at(to)? - at(from)?).as_seconds_f64())
}
