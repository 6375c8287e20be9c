//! What a technician reads after a run, as a golden file (`UPDATE_EXPECT=1` rewrites it; review
//! the diff).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use fitcheck_agent::render::verdict_text;
use fitcheck_core::evaluate::{device_results, evaluate};
use fitcheck_core::profile::{Browser, OsFamily, Profile};
use fitcheck_core::report::*;

#[test]
fn the_printed_verdict_is_stable() {
    let profile = Profile::parse(
        "demo.toml",
        r#"format = 1
id = "demo"
name = "Demo Classroom"
vendor = "Demo Inc."
reviewed = "2026-11-01"
sources = ["https://demo.example/requirements"]
[[dns]]
name = "demo.example"
[[dns]]
name = "cdn.demo.example"
critical = false
[[http]]
url = "https://demo.example/"
[[ports]]
protocol = "udp"
host = "media.demo.example"
range = "3478-3479"
probe = "stun"
[network]
download_mbps_per_user = 1.5
[device]
ram_min_gib = 8
[[device.os]]
family = "linux"
[[device.browser]]
name = "firefox"
min_version = "115"
"#,
    )
    .unwrap();
    let device = DeviceFacts {
        os: OsFacts {
            family: Some(OsFamily::Linux),
            name: "Debian GNU/Linux 12 (bookworm)".into(),
            version: Some("12".into()),
            distribution: Some("debian".into()),
            kernel: Some("6.1.0-18-amd64".into()),
            architecture: "x86_64".into(),
        },
        cpu: CpuFacts {
            model: Some("Intel(R) Core(TM) i3-10110U CPU @ 2.10GHz".into()),
            logical_cores: 4,
            physical_cores: Some(2),
            max_frequency_mhz: Some(4100),
            frequency_source: Some("cpufreq".into()),
        },
        memory: MemoryFacts {
            total_bytes: 4_000_000_000,
        },
        disk: None,
        gpu: GpuFacts {
            detection: Detection::Detected,
            adapters: vec![],
        },
        screen: ScreenFacts {
            detection: Detection::NoneFound,
            width: None,
            height: None,
            source: Some("drm".into()),
        },
        browsers: BrowserFacts {
            detection: Detection::Detected,
            installed: vec![InstalledBrowser {
                name: Browser::Firefox,
                version: "128.5.0".into(),
            }],
        },
        model: None,
        form_factor: None,
        extensions: None,
        software: None,
    };
    let mut results = vec![
        CheckResult::Dns(DnsResult {
            requirement: "dns[0]".into(),
            target: "demo.example".into(),
            outcome: DnsOutcome::Resolved,
            evidence: DnsEvidence {
                a: vec!["203.0.113.10".parse().unwrap()],
                ..DnsEvidence::default()
            },
            duration_ms: 2.0,
        }),
        CheckResult::Dns(DnsResult {
            requirement: "dns[1]".into(),
            target: "cdn.demo.example".into(),
            outcome: DnsOutcome::Sinkholed,
            evidence: DnsEvidence {
                a: vec!["0.0.0.0".parse().unwrap()],
                sinkhole_reason: Some("0.0.0.0 is in 0.0.0.0/8".into()),
                ..DnsEvidence::default()
            },
            duration_ms: 2.0,
        }),
        CheckResult::Http(HttpResult {
            requirement: "http[0]".into(),
            target: "https://demo.example/".into(),
            outcome: HttpOutcome::Reachable,
            evidence: HttpEvidence {
                status: Some(200),
                ..HttpEvidence::default()
            },
            timings: HttpTimings {
                total_ms: 40.0,
                ..HttpTimings::default()
            },
        }),
    ];
    for port in [3478, 3479] {
        results.push(CheckResult::Udp(UdpResult {
            requirement: "ports[0]".into(),
            target: format!("media.demo.example:{port}"),
            port,
            outcome: if port == 3478 {
                UdpOutcome::Answered
            } else {
                UdpOutcome::NoAnswer
            },
            address: None,
            attempts: 3,
            detail: None,
            duration_ms: 3500.0,
        }));
    }
    results.extend(device_results(&profile, &device));
    let evaluation = evaluate(&profile, &device, &results);
    let report = Report {
        schema: REPORT_SCHEMA.into(),
        report_id: uuid::Uuid::nil(),
        agent: AgentInfo {
            agent_id: uuid::Uuid::nil(),
            version: "0.1.0".into(),
            labels: BTreeMap::from([("site".to_owned(), "lincoln".to_owned())]),
            kind: None,
        },
        profile: ProfileRef {
            id: "demo".into(),
            name: "Demo Classroom".into(),
            vendor: "Demo Inc.".into(),
            digest: "sha256:0123456789abcdef0123456789abcdef".into(),
        },
        started_at: "2026-11-23T10:00:00Z".into(),
        finished_at: "2026-11-23T10:00:05Z".into(),
        device,
        results,
        notes: Vec::new(),
        evaluation: Some(evaluation.clone()),
    };
    let got = verdict_text(&report, &evaluation);
    // `UPDATE_EXPECT=1` rewrites the file; review the diff before committing it.
    expect_test::expect_file![
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/verdict.txt")
    ]
    .assert_eq(&got);
}
