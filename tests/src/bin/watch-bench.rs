//! Scale benchmark of watching: `--products` approved products (200 by default) × `--sites`
//! sites (150) × `--agents` agents per site (3), one round. For each product the round's stored
//! judgements (each agent's latest, as JSON, the way the controller's store hands them over)
//! are read, and decided: compared with the approval baseline through the regression rule, the
//! trackers moved on, alerts opened (about one site in ten regresses on one requirement). The
//! floor beside it is merely reading the same judgements (parsing the JSON). Printed side by
//! side, with the process's peak resident memory; figures are printed, never asserted.
//!
//! ```text
//! cargo build --release -p fitcheck-tests --bin watch-bench
//! target/release/watch-bench [--products 200] [--sites 150] [--agents 3] [--rounds 3]
//! ```

use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use fitcheck_core::cause::Cause;
use fitcheck_core::evaluate::{FixKind, Status};
use fitcheck_engine::judge::{JUDGEMENT_VERSION, Judged, Judgement};
use fitcheck_engine::watch::regression::{Thresholds, Tracker};
use fitcheck_engine::watch::{Baseline, assess_round};

/// Requirements per product (DNS names, URLs, ports, device needs).
const REQUIREMENTS: usize = 20;

fn number(args: &[String], name: &str, default: usize) -> Result<usize> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .map_or(Ok(default), |v| {
            v.parse()
                .with_context(|| format!("{name} {v:?} is not a whole number"))
        })
}

/// One agent's judgement: every requirement passing but, where `regressed`, the first, which
/// a DNS filter now blocks.
fn judgement(product: usize, site: usize, agent: usize, regressed: bool) -> Judgement {
    let outcomes = (0..REQUIREMENTS)
        .map(|i| {
            if regressed && i == 0 {
                Judged {
                    status: Status::Fail,
                    observed: "nxdomain against the control resolver".into(),
                    remedy: Some("allow the name in the DNS filter".into()),
                    fix: Some(FixKind::ConfigureNetwork),
                    cause: Some(Box::new(Cause::DnsFilter {
                        host: format!("app{product}.vendor.example"),
                        vendor: Some("Cisco Umbrella".into()),
                    })),
                }
            } else {
                Judged {
                    status: Status::Pass,
                    observed: "203.0.113.10".into(),
                    remedy: None,
                    fix: None,
                    cause: None,
                }
            }
        })
        .collect();
    Judgement {
        version: JUDGEMENT_VERSION,
        profile_digest: format!("sha256:{product:064}"),
        report_id: format!(
            "019ab3c2-5d10-7000-8000-{:012}",
            product * 1_000_000 + site * 10 + agent
        ),
        agent_id: format!(
            "00000000-0000-4000-8000-{:012}",
            product * 1_000_000 + site * 10 + agent
        ),
        site: format!("site-{site:03}"),
        received_at_ms: 1_795_168_800_000,
        model: "Acme Chromebook 11".into(),
        device: format!("agent {agent:08}"),
        agent_version: "0.1.0".into(),
        kind: Default::default(),
        os_family: None,
        outcomes,
        bandwidth: None,
        notes: Vec::new(),
        transfer: None,
    }
}

/// The process's peak resident memory so far, MiB (Linux).
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() -> Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let products = number(&args, "--products", 200)?;
    let sites = number(&args, "--sites", 150)?;
    let agents = number(&args, "--agents", 3)?;
    let rounds = number(&args, "--rounds", 3)?.max(1);
    println!(
        "watch-bench: {products} products × {sites} sites × {agents} agents = {} judgements a round, {REQUIREMENTS} requirements each",
        products * sites * agents
    );
    // The stored round, as the store hands it over: one JSON text per agent, per product.
    let stored: Vec<Vec<String>> = (0..products)
        .map(|p| {
            (0..sites)
                .flat_map(|s| (0..agents).map(move |a| (s, a)))
                .map(|(s, a)| {
                    let regressed = s % 10 == p % 10 && a < 2;
                    serde_json::to_string(&judgement(p, s, a, regressed)).unwrap_or_default()
                })
                .collect()
        })
        .collect();
    let bytes: usize = stored.iter().flatten().map(String::len).sum();
    println!(
        "  stored judgements: {:.1} MB of JSON; peak RSS after building them {:.1} MiB",
        bytes as f64 / 1e6,
        peak_mib()
    );
    // What passed at approval: everything, everywhere.
    let baseline = Baseline {
        passed: (0..sites)
            .flat_map(|s| (0..REQUIREMENTS).map(move |i| (format!("site-{s:03}"), i)))
            .collect(),
        layers: Default::default(),
    };
    let thresholds = Thresholds::default();
    let mut trackers: Vec<Vec<Tracker>> = vec![Vec::new(); products];
    let mut floor = Vec::new();
    let mut work = Vec::new();
    let mut opened = 0;
    for round in 0..rounds {
        // The floor: reading the round's judgements.
        let t = Instant::now();
        let mut read = 0usize;
        for product in &stored {
            let judged: Vec<Judgement> = product
                .iter()
                .filter_map(|j| serde_json::from_str(j).ok())
                .collect();
            read += judged.len();
        }
        floor.push(t.elapsed());
        // The round decided: read, compared with the baseline, trackers moved, alerts decided.
        let t = Instant::now();
        let mut changes = 0usize;
        for (product, tracker) in stored.iter().zip(trackers.iter_mut()) {
            let judged: Vec<Judgement> = product
                .iter()
                .filter_map(|j| serde_json::from_str(j).ok())
                .collect();
            changes += assess_round(&baseline, &thresholds, tracker, &judged, true)
                .changes
                .len();
        }
        work.push(t.elapsed());
        opened += changes;
        println!(
            "  round {}: read {read} judgements in {:.0} ms; decided in {:.0} ms ({changes} alerts opened or resolved)",
            round + 1,
            ms(floor[round]),
            ms(work[round])
        );
    }
    let best = |v: &[Duration]| v.iter().min().copied().unwrap_or_default();
    let (f, w) = (best(&floor), best(&work));
    println!(
        "  best of {rounds}: reading (floor) {:.0} ms; a round's decisions {:.0} ms = {:.2}× the floor (target ≤ 2×, ≤ 1000 ms); {opened} alert changes over the rounds; peak RSS {:.1} MiB",
        ms(f),
        ms(w),
        ms(w) / ms(f).max(0.001),
        peak_mib()
    );
    Ok(())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
