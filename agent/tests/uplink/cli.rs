//! The controller commands as a user (or systemd) runs them: `daemon`, `upload`, `status`,
//! `install`.

use std::path::Path;
use std::process::Output;
use std::time::Duration;

use fitcheck_core::api::{Assignment, BandwidthAssignment};
use fitcheck_core::report::{CheckResult, MeasureOutcome, TcpOutcome};
use uuid::Uuid;

use crate::mock;

fn agent() -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_fitcheck-agent"));
    // Everything stays on loopback: no proxy may take the traffic elsewhere.
    for v in crate::common::PROXY_VARS {
        cmd.env_remove(v);
    }
    cmd.env("FITCHECK_LOG", "info").kill_on_drop(true);
    cmd
}

async fn output(cmd: &mut tokio::process::Command) -> Output {
    tokio::time::timeout(Duration::from_secs(90), cmd.output())
        .await
        .expect("the agent finished within 90 s")
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn loopback_profile(port: u16) -> String {
    format!(
        r#"format = 1
id = "loopback"
name = "Loopback product"
vendor = "Test"
reviewed = "2026-11-23"
sources = ["https://example.invalid/requirements"]

[[http]]
url = "https://127.0.0.1:{port}/healthz"

[[ports]]
protocol = "tcp"
host = "127.0.0.1"
port = {port}

[network]
download_mbps_per_user = 1.0
upload_mbps_per_user = 1.0
"#
    )
}

fn assignment(profile: &str, bandwidth: Option<BandwidthAssignment>) -> Assignment {
    Assignment {
        evaluation_id: Uuid::new_v4(),
        profile_toml: profile.to_owned(),
        profile_digest: fitcheck_core::digest(profile.as_bytes()),
        window_end: "2099-01-01T00:00:00Z".to_owned(),
        bandwidth,
        profile: None,
        plan: Vec::new(),
        block_signatures: Vec::new(),
        data_sender: false,
        round: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemon_once_runs_an_assignment_end_to_end_and_never_twice() {
    let m = mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let enrollment = mock::enroll_into(&m, dir.path()).await;
    let good = assignment(
        &loopback_profile(m.addr.port()),
        // Long enough that a window after the engine's ramp-up (at least 1 s) always remains.
        Some(BandwidthAssignment {
            start_at: None,
            controller_endpoint: true,
            max_seconds: 3.0,
        }),
    );
    let broken_text = "format = 1\nid = \"broken\"\n[[ports]]\nprotocol = \"tcp\"\n";
    let broken = assignment(broken_text, None);
    m.state().assignments = vec![good.clone(), broken.clone()];

    let out = output(
        agent()
            .args(["daemon", "--once", "--state-dir"])
            .arg(dir.path()),
    )
    .await;
    let stderr = text(&out.stderr);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{stderr}",
        text(&out.stdout)
    );
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ran 1, refused 1") && stdout.contains("stored 1"),
        "{stdout}"
    );
    assert!(stderr.contains("Assigned profile has errors"), "{stderr}");

    let deliveries = m.state().deliveries.clone();
    assert_eq!(deliveries.len(), 1, "only the valid profile ran");
    let d = &deliveries[0];
    assert_eq!(d.evaluation, Some(good.evaluation_id));
    assert_eq!(d.report.agent.agent_id, enrollment.agent_id);
    assert_eq!(
        d.report.agent.labels.get("site").map(String::as_str),
        Some("lincoln")
    );
    assert_eq!(d.report.profile.digest, good.profile_digest);
    let tcp_open = d.report.results.iter().any(|r| {
        matches!(r, CheckResult::Tcp(t) if t.outcome == TcpOutcome::Open && t.port == m.addr.port())
    });
    assert!(tcp_open, "{:#?}", d.report.results);
    let bandwidth = d.report.results.iter().find_map(|r| match r {
        CheckResult::Bandwidth(b) => Some(b.clone()),
        _ => None,
    });
    let bandwidth = bandwidth.expect("a bandwidth result");
    assert_eq!(bandwidth.outcome, MeasureOutcome::Measured, "{bandwidth:?}");
    assert!(
        bandwidth.target.contains("/api/agent/v1"),
        "{}",
        bandwidth.target
    );
    assert!(m.state().bandwidth_requests > 0);
    assert_eq!(
        m.state().bandwidth_unauthorized,
        0,
        "every bandwidth request carried the credential"
    );
    assert!(
        std::fs::read_dir(dir.path().join("spool"))
            .unwrap()
            .filter_map(Result::ok)
            .all(|e| e.file_type().unwrap().is_dir()),
        "the delivered report left the spool"
    );

    // Restarted, with the controller still listing both: neither runs again.
    let again = output(
        agent()
            .args(["daemon", "--once", "--state-dir"])
            .arg(dir.path()),
    )
    .await;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(text(&again.stdout).contains("ran 0, refused 0"));
    assert_eq!(m.state().deliveries.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn upload_spools_and_delivers_each_file_and_says_what_happened() {
    let m = mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    let enrollment = mock::enroll_into(&m, &state).await;
    let report = mock::report(enrollment.agent_id);
    let good = dir.path().join("report.json");
    std::fs::write(&good, serde_json::to_vec_pretty(&report).unwrap()).unwrap();
    let bad = dir.path().join("notes.json");
    std::fs::write(&bad, "{\"hello\": 1}").unwrap();

    let out = output(
        agent()
            .arg("upload")
            .arg(&good)
            .arg(&bad)
            .arg("--state-dir")
            .arg(&state),
    )
    .await;
    let stdout = text(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{stdout}\n{}",
        text(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{}: stored", good.display())),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("{}: failed: not a fitcheck report", bad.display())),
        "{stdout}"
    );
    let seen = m.state().deliveries.clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].report_id, report.report_id);
    assert_eq!(
        seen[0].evaluation, None,
        "an offline report names no evaluation"
    );

    let again = output(
        agent()
            .arg("upload")
            .arg(&good)
            .arg("--state-dir")
            .arg(&state),
    )
    .await;
    assert_eq!(again.status.code(), Some(0));
    assert!(text(&again.stdout).contains("duplicate"));

    m.state().script = [(422, None)].into();
    let refused = dir.path().join("refused.json");
    std::fs::write(
        &refused,
        serde_json::to_vec(&mock::report(enrollment.agent_id)).unwrap(),
    )
    .unwrap();
    let out = output(
        agent()
            .arg("upload")
            .arg(&refused)
            .arg("--state-dir")
            .arg(&state),
    )
    .await;
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stdout).contains("rejected: HTTP 422"),
        "{}",
        text(&out.stdout)
    );

    let status = output(agent().arg("status").arg("--state-dir").arg(&state)).await;
    assert_eq!(status.status.code(), Some(0));
    let s = text(&status.stdout);
    assert!(s.contains("Enrolled:        yes"), "{s}");
    assert!(s.contains(&m.fingerprint.to_string()), "{s}");
    assert!(s.contains("0 report(s) waiting"), "{s}");
    assert!(s.contains("Rejected:        1 report(s)"), "{s}");
    assert!(s.contains("Dropped:         0 report(s)"), "{s}");
    assert!(
        !s.contains(&m.state().credential),
        "status never shows the credential"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_daemon_stops_cleanly_on_sigterm_and_needs_an_enrollment() {
    let empty = tempfile::tempdir().unwrap();
    let out = output(agent().args(["daemon", "--state-dir"]).arg(empty.path())).await;
    assert_eq!(out.status.code(), Some(78), "EX_CONFIG: a person must act");
    assert!(text(&out.stderr).contains("not enrolled"));

    let m = mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    mock::enroll_into(&m, dir.path()).await;
    let child = agent()
        .args(["daemon", "--state-dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Bounds here only end a hung test; each wait returns as soon as its event happens.
    for _ in 0..600 {
        if m.state().assignment_polls > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(m.state().assignment_polls, 1, "polled once, then sleeps");
    let pid = child.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("stopped within 60 s of SIGTERM")
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("Daemon stopped."), "{stderr}");
}

/// The processes whose parent is `pid`.
fn children_of(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(child) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(status) = std::fs::read_to_string(format!("/proc/{child}/status")) else {
            continue;
        };
        let ppid = status
            .lines()
            .find_map(|l| l.strip_prefix("PPid:"))
            .and_then(|v| v.trim().parse::<u32>().ok());
        if ppid == Some(pid) {
            out.push(child);
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_in_progress_is_abandoned_on_sigterm_and_runs_after_a_restart() {
    let m = mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    mock::enroll_into(&m, dir.path()).await;
    // The run waits for a coordinated start five minutes away: still running when stopped.
    let start = time::OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let a = assignment(
        &loopback_profile(m.addr.port()),
        Some(BandwidthAssignment {
            start_at: Some(
                start
                    .format(&time::format_description::well_known::Rfc3339)
                    .unwrap(),
            ),
            controller_endpoint: true,
            max_seconds: 1.0,
        }),
    );
    m.state().assignments = vec![a.clone()];
    let child = agent()
        .args(["daemon", "--state-dir"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let mut runs = Vec::new();
    for _ in 0..600 {
        runs = children_of(pid);
        if !runs.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(runs.len(), 1, "one run in a child process");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("stopped within 60 s of SIGTERM")
        .unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("Run abandoned on stop"), "{stderr}");
    // The daemon kills its run and reaps it; should the reaping outlast the daemon's own
    // wait, whoever inherits the process reaps it: wait for that, bounded.
    let run = format!("/proc/{}", runs[0]);
    for _ in 0..600 {
        if !Path::new(&run).exists() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(!Path::new(&run).exists(), "the run's process is gone");
    assert!(m.state().deliveries.is_empty());
    let waiting = fitcheck_agent::uplink::spool::stats(dir.path()).unwrap();
    assert_eq!((waiting.waiting, waiting.rejected), (0, 0));
    assert!(
        !fitcheck_agent::uplink::record::Record::open(dir.path()).contains(a.evaluation_id, None),
        "an abandoned run is not recorded as run"
    );
}

#[tokio::test]
async fn install_with_a_root_writes_the_unit_and_the_binary() {
    let root = tempfile::tempdir().unwrap();
    let out = output(agent().args(["install", "--root"]).arg(root.path())).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let unit = root
        .path()
        .join("etc/systemd/system/fitcheck-agent.service");
    let bin = root.path().join("usr/local/bin/fitcheck-agent");
    assert_eq!(
        std::fs::read_to_string(&unit).unwrap(),
        fitcheck_agent::install::UNIT
    );
    assert_eq!(
        std::fs::read(&bin).unwrap(),
        std::fs::read(env!("CARGO_BIN_EXE_fitcheck-agent")).unwrap()
    );
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&bin).unwrap().permissions().mode() & 0o777,
            0o755
        );
        assert_eq!(
            std::fs::metadata(&unit).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }
    let stdout = text(&out.stdout);
    assert!(stdout.contains("useradd --system"), "{stdout}");
    assert!(
        stdout.contains("enable --now fitcheck-agent.service"),
        "{stdout}"
    );

    verify_unit(&unit, &bin).await;

    let out = output(agent().args(["uninstall", "--root"]).arg(root.path())).await;
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(!unit.exists() && !bin.exists());
}

/// `systemd-analyze verify` on the unit with its ExecStart pointed at the binary just written.
/// The tool is required (`.ci/run` installs it): a missing verifier fails, never passes quietly.
async fn verify_unit(unit: &Path, bin: &Path) {
    match std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
    {
        Ok(found) if found.status.success() => {}
        other => panic!(
            "systemd-analyze is needed to verify the unit (apt-get install systemd): {other:?}"
        ),
    }
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("fitcheck-agent.service");
    let text = std::fs::read_to_string(unit)
        .unwrap()
        .replace("/usr/local/bin/fitcheck-agent", &bin.display().to_string());
    std::fs::write(&copy, text).unwrap();
    let out = tokio::time::timeout(
        Duration::from_secs(60),
        tokio::process::Command::new("systemd-analyze")
            .arg("verify")
            .arg(&copy)
            .kill_on_drop(true)
            .output(),
    )
    .await
    .unwrap()
    .unwrap();
    assert!(
        out.status.success(),
        "systemd-analyze verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Prints the daemon's resident memory idle after its first poll, and idle again after it ran
/// an assignment: a measurement, not an assertion. Measure the release build with
/// `FITCHECK_AGENT_BIN=target/release/fitcheck-agent cargo test -p fitcheck-agent --test uplink
/// -- --ignored --nocapture idle_memory`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a measurement; run it by name"]
async fn idle_memory() {
    let m = mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    mock::enroll_into(&m, dir.path()).await;
    m.state().poll_interval_s = 10;
    let bin = std::env::var("FITCHECK_AGENT_BIN")
        .unwrap_or_else(|_| env!("CARGO_BIN_EXE_fitcheck-agent").to_owned());
    let mut child = tokio::process::Command::new(&bin)
        .args(["daemon", "--state-dir"])
        .arg(dir.path())
        .env("FITCHECK_LOG", "warn")
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let pid = child.id().unwrap();
    let measure = |when: &str| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
        let fields: Vec<String> = ["VmRSS", "RssAnon", "RssFile", "VmHWM", "Threads"]
            .iter()
            .filter_map(|name| {
                status
                    .lines()
                    .find(|l| l.starts_with(&format!("{name}:")))
                    .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
            })
            .collect();
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        let after = stat.rsplit_once(')').unwrap().1.to_owned();
        let f: Vec<&str> = after.split_whitespace().collect();
        println!(
            "{when}: {} | cpu ticks (user+system) {}",
            fields.join(", "),
            f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
        );
    };
    for _ in 0..100 {
        if m.state().assignment_polls > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Long enough for the idle connection to the controller to be let go.
    tokio::time::sleep(Duration::from_secs(35)).await;
    measure("idle after the first poll");
    tokio::time::sleep(Duration::from_secs(20)).await;
    measure("20 s later");

    let profile = loopback_profile(m.addr.port());
    m.state().assignments = vec![assignment(
        &profile,
        Some(BandwidthAssignment {
            start_at: None,
            controller_endpoint: true,
            max_seconds: 2.0,
        }),
    )];
    for _ in 0..600 {
        if !m.state().deliveries.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(m.state().deliveries.len(), 1, "the assignment ran");
    m.state().assignments.clear();
    tokio::time::sleep(Duration::from_secs(35)).await;
    measure("idle after running an assignment");
    child.kill().await.unwrap();
}
