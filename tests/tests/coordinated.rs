//! A site-wide coordinated bandwidth run with the real binaries on loopback: two agents of one
//! site get an evaluation whose bandwidth plan names one moment, wait for it, measure against
//! the controller's endpoint together (each direction held for the plan's seconds, the upload
//! in its own slot after the download), and the recommendation adds up what they carried over
//! the time they shared as the site's aggregate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;
use std::time::Duration;

use fitcheck_tests::controller::{ControllerProcess, spawn_agent_daemon};
use fitcheck_tests::lab::run_bounded;
use serde_json::{Value, json};

fn rfc3339_in(seconds: i64) -> String {
    let out = run_bounded(
        Command::new("date").args([
            "-u",
            "-d",
            &format!("+{seconds} seconds"),
            "+%Y-%m-%dT%H:%M:%SZ",
        ]),
        Duration::from_secs(5),
    )
    .unwrap();
    out.stdout.trim().to_owned()
}

fn epoch(rfc3339: &str) -> i64 {
    let out = run_bounded(
        Command::new("date").args(["-u", "-d", rfc3339, "+%s"]),
        Duration::from_secs(5),
    )
    .unwrap();
    out.stdout.trim().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_of_a_site_measure_together_and_the_site_total_is_their_sum() {
    let dir = tempfile::tempdir().unwrap();
    let controller = ControllerProcess::start(&dir.path().join("controller"), None).unwrap();
    let mut client = controller.client().unwrap();
    client
        .login("admin", &controller.admin_password)
        .await
        .unwrap();
    let profile = format!(
        "format = 1\nid = \"lab-video\"\nname = \"Lab Video\"\nvendor = \"Lab\"\nreviewed = \"2026-11-23\"\nsources = [\"https://lab.example/\"]\n\
         [[ports]]\nprotocol = \"tcp\"\nhost = \"127.0.0.1\"\nport = {}\n\
         [network]\ndownload_mbps_per_user = 1.0\nupload_mbps_per_user = 0.5\n",
        controller.port
    );
    let (s, p) = client
        .post(
            "/api/v1/profiles?name=lab-video.toml",
            profile,
            "application/toml",
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{p}");
    let start_at = rfc3339_in(20);
    let (s, e) = client
        .post(
            "/api/v1/evaluations",
            json!({
                "title": "Lab Video, coordinated",
                "profile": p["id"],
                "sites": ["lincoln"],
                "concurrent_users": {"lincoln": 10},
                "window_end": "2099-01-01T00:00:00Z",
                "bandwidth": {"start_at": start_at, "max_seconds": 4},
            })
            .to_string(),
            "application/json",
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{e}");
    let evaluation = e["id"].as_str().unwrap().to_owned();

    let secret = controller.secret().unwrap();
    let mut daemons = Vec::new();
    for n in 0..2 {
        let state = dir.path().join(format!("agent-{n}"));
        controller
            .enroll_agent(&secret, &state, "lincoln")
            .unwrap_or_else(|e| panic!("{e:#}"));
        let log = dir.path().join(format!("daemon-{n}.log"));
        daemons.push(spawn_agent_daemon(&["--once"], &state, &log).unwrap());
    }
    for (n, mut d) in daemons.into_iter().enumerate() {
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(s) = d.try_wait().unwrap() {
                break s;
            }
            if std::time::Instant::now() > deadline {
                let _ = d.kill();
                panic!("daemon {n} did not finish within 120 s");
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        let log = std::fs::read_to_string(dir.path().join(format!("daemon-{n}.log"))).unwrap();
        assert!(status.success(), "daemon {n}: {status}\n{log}");
    }

    let (_, reports) = client
        .get(&format!("/api/v1/evaluations/{evaluation}/reports"))
        .await
        .unwrap();
    let reports = reports.as_array().unwrap().clone();
    assert_eq!(reports.len(), 2);
    let start = epoch(&start_at);
    let start_ms = start * 1000;
    // The upload slot: the download's 4 s and the agent's 2 s gap after the start. (4 s, so
    // that each window after ramp-up, at least 1 s, leaves the two devices a common second.)
    let upload_slot_ms = start_ms + 6000;
    let mut downloads = Vec::new();
    // Each device's measured window per direction (Unix ms), from its timed samples.
    let mut windows: Vec<(&str, i64, i64)> = Vec::new();
    for r in &reports {
        let (_, body) = client
            .get(&format!(
                "/api/v1/reports/{}",
                r["report_id"].as_str().unwrap()
            ))
            .await
            .unwrap();
        let bw: &Value = body["results"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["check"] == "bandwidth")
            .expect("a bandwidth result");
        assert_eq!(bw["outcome"], "measured", "{bw:#}");
        downloads.push(bw["download_mbps"].as_f64().unwrap());
        for way in ["download", "upload"] {
            let t = &bw[format!("{way}_samples")];
            let from = t["start_unix_ms"].as_i64().unwrap();
            let n = t["bytes"].as_array().unwrap().len() as i64;
            windows.push((way, from, from + t["interval_ms"].as_i64().unwrap() * n));
        }
        // Timed samples, the download's from the agreed moment and the upload's from its slot.
        let down_from = bw["download_samples"]["start_unix_ms"].as_i64().unwrap();
        let up_from = bw["upload_samples"]["start_unix_ms"].as_i64().unwrap();
        assert!(
            down_from >= start_ms,
            "download samples from {down_from}, start {start_ms}"
        );
        assert!(
            up_from >= upload_slot_ms,
            "upload samples from {up_from}, before its slot at {upload_slot_ms}"
        );
        // Each waited for the agreed moment before measuring. How close together the two ended
        // depends on the machine's load, not on the product, so it is not asserted here.
        let end = epoch(body["finished_at"].as_str().unwrap());
        assert!(end >= start, "finished {end} before the start {start}");
    }

    let (_, rec) = client
        .get(&format!("/api/v1/evaluations/{evaluation}/recommendation"))
        .await
        .unwrap();
    let site = &rec["throughput"][0];
    assert_eq!(site["site"], "lincoln");
    assert_eq!(site["coordinated"], true);
    // Both devices waited for the agreed moment (asserted above) and held their streams to the
    // time cap; on loopback, though, a device can spend its byte budget within a second and
    // stop early, so how long the two windows shared depends on the machine's load. Whatever
    // they shared, the site figure must count exactly the devices that measured at once for
    // the engine's minimum: both, together, over that window; or one, the other named.
    let mut counted_most = 0;
    for way in ["download", "upload"] {
        let d = &site[way];
        let mine: Vec<&(&str, i64, i64)> = windows.iter().filter(|w| w.0 == way).collect();
        assert_eq!(mine.len(), 2, "{way}: {windows:?}");
        let shared =
            mine.iter().map(|w| w.2).min().unwrap() - mine.iter().map(|w| w.1).max().unwrap();
        if shared >= fitcheck_core::site::MIN_COMMON_MS {
            assert_eq!(d["devices"], 2, "{way} (shared {shared} ms): {d:#}");
            assert_eq!(d["together"], true, "{way}: {d:#}");
            assert!(d["left_out"].as_array().unwrap().is_empty(), "{way}: {d:#}");
            let window = d["common_window_ms"].as_f64().unwrap();
            assert!(
                (window - shared as f64).abs() <= 100.0,
                "{way}: window {window} ms, shared {shared} ms: {d:#}"
            );
            counted_most = 2;
        } else {
            eprintln!("{way}: the two windows shared only {shared} ms under this load");
            assert_eq!(d["devices"], 1, "{way} (shared {shared} ms): {d:#}");
            assert_eq!(d["together"], false, "{way}: {d:#}");
            let left_out = d["left_out"].as_array().unwrap();
            assert_eq!(left_out.len(), 1, "{way}: {d:#}");
            assert!(
                left_out[0]
                    .as_str()
                    .unwrap()
                    .contains("did not measure at the same time"),
                "{way}: {d:#}"
            );
            counted_most = counted_most.max(1);
        }
    }
    assert_eq!(site["devices_measured"], counted_most, "{site:#}");
    let total = site["download_measured_mbps"].as_f64().unwrap();
    assert!(total > 0.0, "{site:#}");
    eprintln!("coordinated run: {downloads:?} Mbit/s, site total {total:.0} Mbit/s");

    // The committee packet from the command line, in every format.
    let verdict = match rec["verdict"].as_str().unwrap() {
        "compatible" => "Compatible",
        "compatible_with_conditions" => "Compatible with conditions",
        "not_compatible" => "Not compatible",
        _ => "Insufficient evidence",
    };
    for format in ["md", "json", "html", "pdf"] {
        let out = dir.path().join(format!("recommendation.{format}"));
        let f = controller
            .cli(&[
                "report",
                &evaluation,
                "--format",
                format,
                "--output",
                out.to_str().unwrap(),
            ])
            .unwrap();
        assert!(f.status.success(), "report --format {format}: {}", f.stderr);
        let bytes = std::fs::read(&out).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        match format {
            "md" => assert!(text.contains(&format!("**Verdict: {verdict}**")), "{text}"),
            "json" => {
                let v: Value = serde_json::from_slice(&bytes).unwrap();
                assert_eq!(v["verdict"], rec["verdict"]);
            }
            "html" => {
                assert!(
                    text.starts_with("<!DOCTYPE html>") && text.contains(verdict),
                    "{text}"
                );
                assert!(!text.contains("<script"), "no scripts in the file");
            }
            _ => {
                assert!(bytes.starts_with(b"%PDF-"));
                let page1 = run_bounded(
                    Command::new("pdftotext")
                        .args(["-f", "1", "-l", "1"])
                        .arg(&out)
                        .arg("-"),
                    Duration::from_secs(30),
                )
                .unwrap();
                assert!(
                    page1.stdout.contains(&format!("Verdict: {verdict}")),
                    "{}",
                    page1.stdout
                );
            }
        }
    }
}
