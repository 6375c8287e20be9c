//! A site-wide coordinated bandwidth run with the real binaries on loopback: two agents of one
//! site get an evaluation whose bandwidth plan names one moment, wait for it, measure against
//! the controller's endpoint together, and the recommendation adds their figures up as the
//! site's aggregate.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::time::Duration;

use fitcheck_tests::controller::ControllerProcess;
use fitcheck_tests::lab::{agent_binary, run_bounded, without_proxies};
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
                "bandwidth": {"start_at": start_at, "max_seconds": 2},
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
        let f = run_bounded(
            without_proxies(&mut Command::new(agent_binary().unwrap()))
                .args([
                    "enroll",
                    "--controller",
                    &controller.base(),
                    "--secret",
                    &secret,
                ])
                .args([
                    "--fingerprint",
                    &controller.fingerprint,
                    "--label",
                    "site=lincoln",
                ])
                .arg("--state-dir")
                .arg(&state),
            Duration::from_secs(60),
        )
        .unwrap();
        assert!(f.status.success(), "{}{}", f.stdout, f.stderr);
        daemons.push(
            without_proxies(&mut Command::new(agent_binary().unwrap()))
                .args(["daemon", "--once", "--state-dir"])
                .arg(&state)
                .stdout(Stdio::null())
                .stderr(std::fs::File::create(dir.path().join(format!("daemon-{n}.log"))).unwrap())
                .spawn()
                .unwrap(),
        );
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
    let mut downloads = Vec::new();
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
    assert_eq!(site["devices_measured"], 2);
    let total = site["download_measured_mbps"].as_f64().unwrap();
    assert!(
        (total - downloads.iter().sum::<f64>()).abs() < 1e-6,
        "site total {total} ≠ sum of {downloads:?}"
    );
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
