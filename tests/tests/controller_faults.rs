//! Faults between agents and the controller, with the real binaries on loopback:
//!
//! - the controller killed (SIGKILL) while agents deliver: after a restart every acknowledged
//!   report is stored, and delivering everything again stores nothing twice (SQLite and
//!   PostgreSQL);
//! - the controller down while agents work: their reports wait in the spool and all arrive
//!   once it is back;
//! - an agent killed while it delivers its spool: a restarted agent delivers the rest, with
//!   no loss and no duplicate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use fitcheck_tests::controller::{Client, ControllerProcess, sample_report, spawn_agent_daemon};
use fitcheck_tests::lab::{Finished, agent_cli, run_bounded};
use serde_json::{Value, json};

/// A fresh database on the PostgreSQL server the suite was given.
fn postgres_database() -> String {
    let base = std::env::var("FITCHECK_TEST_POSTGRES").expect(
        "FITCHECK_TEST_POSTGRES is not set: scripts/test starts a PostgreSQL server for these tests",
    );
    let name = format!("fitcheck_faults_{}", uuid::Uuid::new_v4().simple());
    let f = run_bounded(
        Command::new("psql").args([&base, "-qc", &format!("CREATE DATABASE {name}")]),
        Duration::from_secs(30),
    )
    .unwrap();
    assert!(f.status.success(), "psql: {}", f.stderr);
    let (head, _) = base.rsplit_once('/').unwrap();
    format!("{head}/{name}")
}

async fn enroll_by_api(client: &Client, secret: &str, site: &str) -> (String, String) {
    let id = uuid::Uuid::new_v4().to_string();
    let (s, v) = client
        .post(
            "/api/agent/v1/enroll",
            json!({"secret": secret, "agent_id": id, "labels": {"site": site}, "version": "0.1.0"})
                .to_string(),
            "application/json",
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{v}");
    (id, v["credential"].as_str().unwrap().to_owned())
}

/// What one delivery attempt came to.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Delivery {
    /// 201 or 200: the controller said it has it.
    Acknowledged,
    /// No answer or an error: unknown whether it was stored.
    Unknown,
}

/// Delivers one report as an agent does: a 429 is waited out (its Retry-After) and tried
/// again, a bounded number of times; any other answer, or none, ends the attempt.
async fn deliver(client: &Client, credential: &str, report: &Value) -> Delivery {
    for _ in 0..30 {
        let sent = client
            .http
            .post(format!("{}/api/agent/v1/reports", client.base))
            .bearer_auth(credential)
            .header("Content-Type", "application/json")
            .body(report.to_string())
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        match sent {
            Ok(r) if r.status().as_u16() == 201 || r.status().as_u16() == 200 => {
                return Delivery::Acknowledged;
            }
            Ok(r) if r.status().as_u16() == 429 => {
                let wait = r
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.parse::<u64>().ok())
                    .unwrap_or(1)
                    .min(10);
                tokio::time::sleep(Duration::from_secs(wait)).await;
            }
            _ => return Delivery::Unknown,
        }
    }
    Delivery::Unknown
}

/// Waits until `done` holds, checking every 20 ms; panics naming `what` after `limit` (a bound
/// against a hang, far above how long it takes even on a loaded machine).
async fn wait_until(limit: Duration, what: &str, done: impl Fn() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "no {what} within {limit:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn stored_ids(client: &Client, agent: &str) -> Vec<String> {
    let (s, v) = client
        .get(&format!("/api/v1/reports?agent={agent}"))
        .await
        .unwrap();
    assert_eq!(s, 200, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["report_id"].as_str().unwrap().to_owned())
        .collect()
}

async fn kill9_while_agents_deliver(database: Option<String>) {
    let dir = tempfile::tempdir().unwrap();
    let mut controller =
        ControllerProcess::start(&dir.path().join("controller"), database.as_deref()).unwrap();
    let secret = controller.secret().unwrap();
    let client = controller.client().unwrap();
    let mut agents = Vec::new();
    for _ in 0..8 {
        agents.push(enroll_by_api(&client, &secret, "lincoln").await);
    }

    // Eight agents deliver as fast as they can; the controller is killed under them once it
    // has acknowledged a good number of reports (counted, not timed), and the agents stop once
    // a delivery has found it dead.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicUsize::new(0));
    let failed = Arc::new(AtomicUsize::new(0));
    let mut tasks = Vec::new();
    for (id, credential) in agents.clone() {
        let client = client.clone();
        let stop = stop.clone();
        let (acked, failed) = (acked.clone(), failed.clone());
        tasks.push(tokio::spawn(async move {
            let mut attempts: Vec<(Value, Delivery)> = Vec::new();
            let started = Instant::now();
            while !stop.load(Ordering::Relaxed)
                && attempts.len() < 5_000
                && started.elapsed() < Duration::from_secs(300)
            {
                let report = sample_report(&id, "lincoln").unwrap();
                let outcome = deliver(&client, &credential, &report).await;
                match outcome {
                    Delivery::Acknowledged => acked.fetch_add(1, Ordering::Relaxed),
                    Delivery::Unknown => failed.fetch_add(1, Ordering::Relaxed),
                };
                attempts.push((report, outcome));
            }
            (id, credential, attempts)
        }));
    }
    wait_until(Duration::from_secs(240), "40 acknowledged reports", || {
        acked.load(Ordering::Relaxed) >= 40
    })
    .await;
    controller.kill9().unwrap();
    wait_until(
        Duration::from_secs(240),
        "a delivery to the dead controller",
        || failed.load(Ordering::Relaxed) > 0,
    )
    .await;
    stop.store(true, Ordering::Relaxed);
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap());
    }
    let acknowledged: usize = results
        .iter()
        .map(|(_, _, a)| {
            a.iter()
                .filter(|(_, d)| *d == Delivery::Acknowledged)
                .count()
        })
        .sum();
    let unknown: usize = results
        .iter()
        .map(|(_, _, a)| a.iter().filter(|(_, d)| *d == Delivery::Unknown).count())
        .sum();
    assert!(
        acknowledged >= 40,
        "{acknowledged} acknowledged before the kill"
    );
    assert!(unknown > 0, "no delivery found the controller dead");
    eprintln!("before the kill: {acknowledged} acknowledged, {unknown} without an answer");

    controller.restart().unwrap();
    let mut client = controller.client().unwrap();
    client
        .login("admin", &controller.admin_password)
        .await
        .unwrap();
    for (id, _, attempts) in &results {
        let stored: BTreeSet<String> = stored_ids(&client, id).await.into_iter().collect();
        for (report, outcome) in attempts {
            let rid = report["report_id"].as_str().unwrap();
            if *outcome == Delivery::Acknowledged {
                assert!(stored.contains(rid), "acknowledged report {rid} was lost");
            }
        }
    }
    // The agents deliver everything again (as a spool would), each agent on its own: all of
    // it is acknowledged and each report is stored exactly once.
    let mut again = Vec::new();
    for (_, credential, attempts) in results.clone() {
        let client = client.clone();
        again.push(tokio::spawn(async move {
            for (report, _) in &attempts {
                assert_eq!(
                    deliver(&client, &credential, report).await,
                    Delivery::Acknowledged
                );
            }
        }));
    }
    for t in again {
        t.await.unwrap();
    }
    for (id, _, attempts) in &results {
        let after = stored_ids(&client, id).await;
        let distinct: BTreeSet<&String> = after.iter().collect();
        assert_eq!(after.len(), distinct.len(), "a report is stored twice");
        assert_eq!(
            after.len(),
            attempts.len(),
            "stored ≠ distinct reports sent"
        );
    }
    controller.terminate().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_killed_while_agents_deliver_sqlite() {
    kill9_while_agents_deliver(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controller_killed_while_agents_deliver_postgres() {
    kill9_while_agents_deliver(Some(postgres_database())).await;
}

/// An agent (its state in `dir/agent`) enrolled with a controller that then stops, and `n`
/// reports it made (as `run --json` would have) handed to `upload` while the controller is down.
struct Offline {
    controller: ControllerProcess,
    state: PathBuf,
    /// The ids of the reports made.
    sent: BTreeSet<String>,
    /// What `upload` did.
    upload: Finished,
}

fn offline_agent(dir: &Path, n: usize) -> Offline {
    let state = dir.join("agent");
    let mut controller = ControllerProcess::start(&dir.join("controller"), None).unwrap();
    controller
        .enroll_agent(&controller.secret().unwrap(), &state, "lincoln")
        .unwrap_or_else(|e| panic!("{e:#}"));
    controller.terminate().unwrap();
    let id = std::fs::read_to_string(state.join("agent-id")).unwrap();
    let mut paths = Vec::new();
    let mut sent = BTreeSet::new();
    for i in 0..n {
        let r = sample_report(id.trim(), "lincoln").unwrap();
        let path = dir.join(format!("report-{i}.json"));
        std::fs::write(&path, r.to_string()).unwrap();
        paths.push(path.display().to_string());
        sent.insert(r["report_id"].as_str().unwrap().to_owned());
    }
    let mut args = vec!["upload"];
    args.extend(paths.iter().map(String::as_str));
    let upload = agent_cli(&args, &state).unwrap();
    Offline {
        controller,
        state,
        sent,
        upload,
    }
}

fn daemon_log(dir: &Path) -> String {
    format!(
        "daemon log:\n{}",
        std::fs::read_to_string(dir.join("daemon.log")).unwrap_or_default()
    )
}

async fn wait_for_empty_spool(state: &Path, limit: Duration) {
    let deadline = Instant::now() + limit;
    while spool_len(state) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn spool_len(state: &Path) -> usize {
    std::fs::read_dir(state.join("spool"))
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| e.path().extension().is_some_and(|x| x == "json"))
                .count()
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reports_made_while_the_controller_is_down_arrive_when_it_returns() {
    let dir = tempfile::tempdir().unwrap();
    // The controller is down: reports are kept, the upload says so.
    let Offline {
        mut controller,
        state,
        sent,
        upload: f,
    } = offline_agent(dir.path(), 12);
    assert!(
        !f.status.success(),
        "upload cannot succeed with the controller down"
    );
    assert_eq!(spool_len(&state), 12, "{}{}", f.stdout, f.stderr);

    // The daemon retries; the controller comes back once the daemon has tried and failed. Its
    // backoff (1 s doubling, at most 300 s) decides when it tries again: the wait allows for
    // the longest.
    let mut daemon = spawn_agent_daemon(&[], &state, &dir.path().join("daemon.log")).unwrap();
    let log = dir.path().join("daemon.log");
    wait_until(
        Duration::from_secs(120),
        "failed delivery in the daemon's log",
        || std::fs::read_to_string(&log).is_ok_and(|l| l.contains("retry_in_s")),
    )
    .await;
    controller.restart().unwrap();
    wait_for_empty_spool(&state, Duration::from_secs(400)).await;
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert_eq!(spool_len(&state), 0, "{}", daemon_log(dir.path()));
    let mut client = controller.client().unwrap();
    client
        .login("admin", &controller.admin_password)
        .await
        .unwrap();
    let id = std::fs::read_to_string(state.join("agent-id")).unwrap();
    let stored: BTreeSet<String> = stored_ids(&client, id.trim()).await.into_iter().collect();
    assert_eq!(stored, sent);
    controller.terminate().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_killed_mid_delivery_neither_loses_nor_doubles() {
    let dir = tempfile::tempdir().unwrap();
    let Offline {
        mut controller,
        state,
        sent,
        ..
    } = offline_agent(dir.path(), 200);
    assert_eq!(spool_len(&state), 200);
    controller.restart().unwrap();

    // Kill the delivering agent part-way, twice: each time once it has delivered something
    // (the spool shrank), then let one run until the spool is empty. The controller's per-agent
    // budget (a burst of 120, then 10 a second) keeps 200 reports from all going at once.
    let mut left = vec![spool_len(&state)];
    for _ in 0..2 {
        let before = left[left.len() - 1];
        let mut daemon = spawn_agent_daemon(&[], &state, &dir.path().join("daemon.log")).unwrap();
        wait_until(Duration::from_secs(120), "delivery from the spool", || {
            spool_len(&state) < before
        })
        .await;
        let _ = daemon.kill();
        let _ = daemon.wait();
        left.push(spool_len(&state));
    }
    eprintln!("spooled before and after each kill: {left:?}");
    let mut daemon = spawn_agent_daemon(&[], &state, &dir.path().join("daemon.log")).unwrap();
    wait_for_empty_spool(&state, Duration::from_secs(300)).await;
    let _ = daemon.kill();
    let _ = daemon.wait();
    assert_eq!(spool_len(&state), 0, "{}", daemon_log(dir.path()));

    let mut client = controller.client().unwrap();
    client
        .login("admin", &controller.admin_password)
        .await
        .unwrap();
    let id = std::fs::read_to_string(state.join("agent-id")).unwrap();
    let stored = stored_ids(&client, id.trim()).await;
    let distinct: BTreeSet<String> = stored.iter().cloned().collect();
    assert_eq!(stored.len(), distinct.len(), "a report is stored twice");
    assert_eq!(distinct, sent, "reports lost");
    controller.terminate().unwrap();
}
