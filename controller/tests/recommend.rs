//! Golden recommendations: fixed sets of reports, one per verdict, covering every kind of
//! condition, rendered as Markdown and JSON and compared with `tests/golden/` (set
//! `UPDATE_EXPECT=1` to rewrite them, then review the diff).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use fitcheck_controller::clock;
use fitcheck_controller::present::render;
use fitcheck_controller::types::{BandwidthPlan, NewEvaluation, Proposal};
use fitcheck_core::evaluate::FixKind;
use fitcheck_core::profile::Profile;
use fitcheck_core::report::Report;
use fitcheck_engine::{
    Arrival, ConditionKind, FleetVerdict, Input, Recommendation, ScopeAgent, judge, recommend,
};
use serde_json::{Value, json};

#[path = "fixtures/mod.rs"]
mod fixtures;

use fixtures::{RUN_START_MS, bandwidth, dns, http, latency, passing, samples, tcp, udp};

const PROFILE: &str = include_str!("data/recommend/lab-product.toml");

/// A lab device.
#[derive(Clone)]
struct Dev {
    n: u32,
    site: &'static str,
    model: &'static str,
    ram_gib: u64,
    os: (&'static str, &'static str, &'static str),
    /// The enclosure as the firmware names it (`desktop`, `portable`); `None`: not said.
    form_factor: Option<&'static str>,
    /// Whether the browser agent reported, rather than the native one.
    browser: bool,
}

fn agent_id(n: u32) -> String {
    format!("00000000-0000-4000-8000-{n:012}")
}

fn chromebook(n: u32, site: &'static str) -> Dev {
    Dev {
        n,
        site,
        model: "Acme Chromebook 11",
        ram_gib: 8,
        os: ("chromeos", "ChromeOS", "126.0.6478"),
        form_factor: None,
        browser: false,
    }
}

/// A stored report: what the controller keeps beside its body.
struct InputReport {
    report_id: String,
    site: Option<String>,
    /// RFC 3339.
    received_at: String,
    report: Report,
}

fn report(d: &Dev, results: Vec<Value>, received: &str) -> InputReport {
    report_for(PROFILE, d, results, received, None)
}

/// A report on the profile `text`, with the software the agent found.
fn report_for(
    text: &str,
    d: &Dev,
    results: Vec<Value>,
    received: &str,
    software: Option<Value>,
) -> InputReport {
    let digest = fitcheck_core::digest(text.as_bytes());
    let id = Profile::parse("p.toml", text).unwrap().id;
    let mut device = json!({
        "os": {"family": d.os.0, "name": format!("{} {}", d.os.1, d.os.2), "version": d.os.2, "architecture": "x86_64"},
        "cpu": {"model": "Intel Celeron N4020", "logical_cores": 2},
        "memory": {"total_bytes": d.ram_gib * (1 << 30)},
        "gpu": {"detection": "none_found", "adapters": []},
        "screen": {"detection": "none_found", "source": "drm"},
        "browsers": {"detection": "detected", "installed": []},
    });
    let (vendor, product) = d.model.split_once(' ').unwrap();
    device["model"] = json!({"vendor": vendor, "product": product});
    if let Some(f) = d.form_factor {
        device["form_factor"] = json!(f);
    }
    if d.os.0 == "linux" {
        device["os"]["distribution"] = json!("debian");
    }
    if let Some(sw) = software {
        device["software"] = sw;
    }
    let value = json!({
        "schema": "fitcheck.report/v1",
        // Time-ordered like the agent's (UUID v7): every report of the run shares its first
        // block, and only the random tail tells them apart.
        "report_id": format!("019ab3c2-5d10-7000-8000-{:012x}", 0x5e3a_91c0_0000u64 + u64::from(d.n) * 0x1_2f47),
        "agent": {"agent_id": agent_id(d.n), "version": "0.1.0", "labels": {"site": d.site}, "kind": if d.browser { "browser" } else { "native" }},
        "profile": {"id": id, "name": "Lab Product", "vendor": "Lab Vendor", "digest": digest},
        "started_at": "2026-11-20T10:00:00Z",
        "finished_at": "2026-11-20T10:01:00Z",
        "device": device,
        "results": results,
        "notes": ["Web filters that run inside a managed browser are invisible to network checks."],
    });
    InputReport {
        report_id: value["report_id"].as_str().unwrap().to_owned(),
        site: Some(d.site.to_owned()),
        received_at: received.to_owned(),
        report: serde_json::from_value(value).unwrap(),
    }
}

fn spec(sites: &[&str], users: &[(&str, u32)], coordinated: bool) -> NewEvaluation {
    NewEvaluation {
        title: "Lab Product for grades 6-8".into(),
        profile: "p".into(),
        sites: sites.iter().map(|s| (*s).to_owned()).collect(),
        groups: vec![],
        concurrent_users: users.iter().map(|(s, n)| ((*s).to_owned(), *n)).collect(),
        window_start: Some("2026-11-16T00:00:00Z".into()),
        window_end: "2026-11-30T00:00:00Z".into(),
        bandwidth: Some(BandwidthPlan {
            start_at: coordinated.then(|| "2026-11-20T10:00:30Z".to_owned()),
            site_start_at: BTreeMap::new(),
            controller_endpoint: true,
            max_seconds: 10.0,
        }),
        proposal: Proposal {
            sponsor: Some("Middle school mathematics".into()),
            deadline: Some("2026-12-10".into()),
            data_needs: vec!["nightly roster upload (student names, ids, classes)".into()],
            budget_code: Some("IT-2027-031".into()),
            ..Proposal::default()
        },
        min_devices_per_site: 2,
        data_senders: None,
        os_updates_end: Default::default(),
    }
}

fn run(spec: &NewEvaluation, devices: &[Dev], reports: Vec<InputReport>) -> Recommendation {
    run_for(PROFILE, spec, devices, reports)
}

fn run_for(
    text: &str,
    spec: &NewEvaluation,
    devices: &[Dev],
    reports: Vec<InputReport>,
) -> Recommendation {
    let profile = Profile::parse("p.toml", text).unwrap();
    let agents: Vec<ScopeAgent> = devices
        .iter()
        .map(|d| ScopeAgent {
            id: agent_id(d.n),
            site: Some(d.site.to_owned()),
        })
        .collect();
    let digest = fitcheck_core::digest(text.as_bytes());
    // Judged as the controller judges them when they arrive, and as it reads them back.
    let judgements: Vec<_> = reports
        .iter()
        .map(|r| {
            let j = judge(
                &profile,
                &digest,
                Arrival {
                    report_id: r.report_id.clone(),
                    agent_id: r.report.agent.agent_id.to_string(),
                    site: r.site.clone(),
                    received_at_ms: clock::parse_rfc3339(&r.received_at).unwrap(),
                },
                &r.report,
            );
            serde_json::from_str(&serde_json::to_string(&j).unwrap()).unwrap()
        })
        .collect();
    recommend(&Input {
        evaluation_id: "e0000000-0000-4000-8000-000000000001",
        title: &spec.title,
        plan: &spec.plan(),
        profile: &profile,
        profile_digest: &digest,
        agents: &agents,
        judgements: &judgements,
        generated_at: "2026-11-21T08:00:00Z",
        sis: None,
    })
}

fn golden(name: &str, r: &Recommendation) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    for (ext, text) in [
        ("md", render::markdown(r)),
        ("json", render::json(r) + "\n"),
    ] {
        expect_test::expect_file![dir.join(format!("recommendation-{name}.{ext}"))]
            .assert_eq(&text);
    }
}

#[test]
fn everything_passing_is_compatible() {
    let devices = [
        chromebook(1, "lincoln"),
        chromebook(2, "lincoln"),
        chromebook(3, "roosevelt"),
        chromebook(4, "roosevelt"),
    ];
    let reports = devices
        .iter()
        .map(|d| report(d, passing(300.0, 150.0), "2026-11-20T10:02:00Z"))
        .collect();
    let s = spec(
        &["lincoln", "roosevelt"],
        &[("lincoln", 250), ("roosevelt", 120)],
        true,
    );
    let r = run(&s, &devices, reports);
    assert_eq!(r.verdict, FleetVerdict::Compatible, "{:#?}", r.gaps);
    assert!(r.conditions.is_empty(), "{:#?}", r.conditions);
    // Two devices measuring at once: the site's aggregate is their sum.
    assert_eq!(r.throughput[0].download_measured_mbps, Some(600.0));
    assert_eq!(r.throughput[0].max_users, Some(300));
    golden("compatible", &r);
    pdf_renders_with_the_verdict_first("compatible", &r);
}

#[test]
fn every_kind_of_condition() {
    let old = Dev {
        n: 5,
        site: "roosevelt",
        model: "Acme Chromebook 3",
        ram_gib: 2,
        os: ("chromeos", "ChromeOS", "118.0.5993"),
        form_factor: None,
        browser: false,
    };
    let devices = [
        chromebook(1, "lincoln"),
        chromebook(2, "lincoln"),
        chromebook(3, "roosevelt"),
        chromebook(4, "roosevelt"),
        old.clone(),
    ];
    let e2 = json!({"vendor": "e2guardian", "id": "e2guardian-access-denied", "matched": "title"});
    let mut lincoln = passing(40.0, 30.0);
    lincoln[1] = dns(
        1,
        "cdn.vendor.example",
        "sinkholed",
        json!({"a": ["146.112.61.106"], "sinkhole_reason": "known block address", "signature": {"vendor": "Cisco Umbrella", "id": "umbrella-block", "matched": "146.112.61.106"}}),
    );
    lincoln[2] = http(
        0,
        "https://app.vendor.example/",
        "blocked_by_filter",
        json!({"blocking_layer": "http_filter", "signature": e2}),
    );
    lincoln[6] = latency(40.0, 4.5);
    let mut roosevelt = passing(200.0, 100.0);
    roosevelt[3] = http(
        1,
        "https://cdn.vendor.example/",
        "tls_intercepted",
        json!({"blocking_layer": "tls_interception", "certificate": {"subject": "cdn.vendor.example", "issuer": "Fortinet_CA_SSL", "not_after": "2027-01-01T00:00:00Z", "trusted_by_system": true, "publicly_trusted": false}}),
    );
    roosevelt[4] = tcp("filtered");
    roosevelt[5] = udp("no_answer");
    let reports = vec![
        report(&devices[0], lincoln.clone(), "2026-11-20T10:02:00Z"),
        report(&devices[1], lincoln, "2026-11-20T10:02:00Z"),
        report(&devices[2], roosevelt.clone(), "2026-11-20T10:02:00Z"),
        report(&devices[3], roosevelt.clone(), "2026-11-20T10:02:00Z"),
        report(&old, roosevelt, "2026-11-20T10:02:00Z"),
    ];
    let s = spec(
        &["lincoln", "roosevelt"],
        &[("lincoln", 60), ("roosevelt", 120)],
        true,
    );
    let r = run(&s, &devices, reports);
    assert_eq!(
        r.verdict,
        FleetVerdict::CompatibleWithConditions,
        "{:#?}",
        r.gaps
    );
    let kinds: Vec<ConditionKind> = r.conditions.iter().map(|c| c.kind).collect();
    for k in [
        ConditionKind::FilterAllow,
        ConditionKind::InspectionBypass,
        ConditionKind::FirewallRule,
        ConditionKind::DeviceUpgrade,
        ConditionKind::UplinkCapacity,
        ConditionKind::NetworkPath,
    ] {
        assert!(kinds.contains(&k), "no {k:?} in {kinds:?}");
    }
    let text = render::markdown(&r);
    for needle in [
        "allow app.vendor.example in the web filter (seen: e2guardian) — blocked at lincoln",
        "allow cdn.vendor.example in the DNS filter (seen: Cisco Umbrella)",
        "exempt cdn.vendor.example from TLS inspection (seen: Fortinet_CA_SSL)",
        "open outbound TCP 8801-8802 to media.vendor.example in the firewall — closed at roosevelt",
        "open outbound UDP 3478-3479 to media.vendor.example in the firewall — closed at roosevelt",
        "Acme Chromebook 3",
        "lincoln: raise uplink capacity or plan at most 40 concurrent users",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    // Every condition cites reports.
    assert!(r.conditions.iter().all(|c| !c.evidence.is_empty()));
    golden("conditions", &r);
    pdf_renders_with_the_verdict_first("conditions", &r);
}

/// The PDF opens in poppler (Debian's poppler-utils), renders to PNG, and its first page
/// carries the verdict and the conditions as a table; the matrices are tables headed by the
/// sites and listing the models. The same document stretched to 30 sites and 40 requirements
/// must split its tables into column groups and across pages, the header repeated on each.
/// The PNG is kept under target/ for people to look at.
fn pdf_renders_with_the_verdict_first(name: &str, r: &Recommendation) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/recommendation-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    let pdf = dir.join(format!("{name}.pdf"));
    std::fs::write(
        &pdf,
        fitcheck_controller::present::pdf::recommendation_pdf(r),
    )
    .unwrap();
    let run = |cmd: &mut std::process::Command| {
        let out = cmd.output().unwrap_or_else(|e| {
            panic!("{cmd:?}: {e} (install Debian's poppler-utils; .ci/run does)")
        });
        assert!(
            out.status.success(),
            "{cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let first = run(std::process::Command::new("pdftotext")
        .args(["-f", "1", "-l", "1"])
        .arg(&pdf)
        .arg("-"));
    let verdict = format!("Verdict: {}", r.verdict.words());
    assert!(
        first.contains(&verdict),
        "no {verdict:?} on page 1:\n{first}"
    );
    assert!(first.contains(&r.evaluation.product));
    // Laid out, a table row is one line of text; the conditions table is on page 1.
    let first_rows = pdf_lines(&run(std::process::Command::new("pdftotext")
        .args(["-layout", "-f", "1", "-l", "1"])
        .arg(&pdf)
        .arg("-")));
    if r.conditions.is_empty() {
        assert!(first.contains("None: nothing needs to change."), "{first}");
    } else {
        assert!(
            first_rows.iter().any(|l| l == "# Action Owner Need"),
            "no conditions table header on page 1:\n{first_rows:#?}"
        );
    }
    for (i, c) in r.conditions.iter().enumerate() {
        let head: String = c
            .action
            .split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ");
        let row = format!("{} {head}", i + 1);
        assert!(
            first_rows.iter().any(|l| l.starts_with(&row)),
            "condition row {row:?} not on page 1:\n{first_rows:#?}"
        );
    }
    let all = run(std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&pdf)
        .arg("-"));
    let rows = pdf_lines(&all);
    let site_header: Vec<&String> = rows
        .iter()
        .filter(|l| l.starts_with("Requirement "))
        .collect();
    if !r.matrix.is_empty() {
        for c in &r.coverage {
            assert!(
                site_header.iter().any(|h| h.contains(&c.site)),
                "site {:?} not in the matrix header {site_header:#?}",
                c.site
            );
        }
    }
    if !r.device_models.is_empty() {
        assert!(rows.iter().any(|l| l.starts_with("Model ")), "{rows:#?}");
    }
    for m in &r.device_models {
        assert!(
            rows.iter().any(|l| l.starts_with(&m.model)
                && ["Pass ", "Warn ", "Fail ", "Unknown "]
                    .iter()
                    .any(|w| l.contains(w))),
            "no table row for model {:?}:\n{rows:#?}",
            m.model
        );
    }

    let wide = many_sites(r);
    let wide_pdf = dir.join(format!("{name}-many-sites.pdf"));
    std::fs::write(
        &wide_pdf,
        fitcheck_controller::present::pdf::recommendation_pdf(&wide),
    )
    .unwrap();
    let wide_text = run(std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&wide_pdf)
        .arg("-"));
    let pages: Vec<Vec<String>> = wide_text
        .split('\u{c}')
        .map(pdf_lines)
        .filter(|p| !p.is_empty())
        .collect();
    assert!(pages.len() > 1, "one page only:\n{wide_text}");
    let headers: Vec<&String> = pages
        .iter()
        .flatten()
        .filter(|l| l.starts_with("Requirement "))
        .collect();
    for c in &wide.coverage {
        assert!(
            headers.iter().any(|h| h.contains(&c.site)),
            "site {:?} in no table header {headers:#?}",
            c.site
        );
    }
    // Cut into column groups: no header holds every site, and each group repeats the rows.
    assert!(
        headers
            .iter()
            .all(|h| wide.coverage.iter().any(|c| !h.contains(&c.site))),
        "{headers:#?}"
    );
    let groups = pages
        .iter()
        .flatten()
        .filter(|l| l.starts_with("check-00 "))
        .count();
    assert!(groups > 1, "the first column is not repeated:\n{wide_text}");
    // Run across pages: every page with a row of the table has the header above it, and
    // there are more headers than groups.
    let mut pages_with_rows = 0;
    for page in &pages {
        if page.iter().any(|l| l.starts_with("check-")) {
            pages_with_rows += 1;
            assert!(
                page.iter().any(|l| l.starts_with("Requirement ")),
                "a page of the site table without its header:\n{page:#?}"
            );
        }
    }
    assert!(pages_with_rows > 1 && headers.len() > groups, "{wide_text}");
    // The model with 12 requirements is cut into column groups too.
    let model_rows = pages
        .iter()
        .flatten()
        .filter(|l| l.starts_with("Zeta Tablet 10 "))
        .count();
    assert!(model_rows > 1, "{wide_text}");

    let png = dir.join(name);
    // A PNG left by an earlier run must not stand in for this one.
    for e in std::fs::read_dir(&dir).unwrap().filter_map(Result::ok) {
        let file = e.file_name().to_string_lossy().into_owned();
        if file.starts_with(name) && file.ends_with(".png") {
            std::fs::remove_file(e.path()).unwrap();
        }
    }
    run(std::process::Command::new("pdftoppm")
        .args(["-png", "-r", "60", "-f", "1", "-l", "1"])
        .arg(&pdf)
        .arg(&png));
    let rendered = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name().to_string_lossy().starts_with(name)
                && e.file_name().to_string_lossy().ends_with(".png")
        });
    assert!(rendered, "pdftoppm wrote no PNG in {}", dir.display());
    eprintln!(
        "PDF and its first page: {} {}-1.png",
        pdf.display(),
        png.display()
    );
}

/// `pdftotext -layout` output as lines, each with its words joined by single spaces.
fn pdf_lines(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .filter(|l| !l.is_empty())
        .collect()
}

/// `r` with 30 sites, 40 network requirements (`check-00` …) and one more model measured on
/// 12 device requirements: more columns than fit across a page and more rows than fit down it.
fn many_sites(r: &Recommendation) -> Recommendation {
    use fitcheck_core::evaluate::Status;
    use fitcheck_engine::{Cell, DeviceModelRow, MatrixRow, SiteCoverage};
    let sites: Vec<String> = (1..=30).map(|i| format!("site-{i:02}")).collect();
    // Every status, and now and then no cell at all.
    let cell = |k: usize| {
        let status = [Status::Pass, Status::Warn, Status::Fail, Status::Unknown]
            .get(k % 5)
            .copied()?;
        Some(Cell {
            status,
            pass: u32::from(status == Status::Pass) * 3,
            warn: u32::from(status == Status::Warn) * 2,
            fail: u32::from(status == Status::Fail) * 2,
            unknown: u32::from(status == Status::Unknown),
            observed: vec!["seen".into()],
            reports: vec![],
        })
    };
    let mut r = r.clone();
    r.coverage = sites
        .iter()
        .map(|s| SiteCoverage {
            site: s.clone(),
            agents: 3,
            devices_reported: 3,
            browsers_reported: 0,
            enough: true,
        })
        .collect();
    r.matrix = (0..40)
        .map(|i| MatrixRow {
            requirement: fitcheck_core::requirement::RequirementId::Port(i),
            title: format!("check-{i:02}"),
            critical: i % 3 != 0,
            expected: "open".into(),
            sites: sites
                .iter()
                .enumerate()
                .filter_map(|(j, s)| Some((s.clone(), cell(i + j)?)))
                .collect(),
        })
        .collect();
    r.device_models.push(DeviceModelRow {
        model: "Zeta Tablet 10".into(),
        devices: 30,
        sites: sites.clone(),
        status: Status::Fail,
        requirements: (0..12)
            .filter_map(|i| {
                Some((
                    fitcheck_core::requirement::RequirementId::Other(format!("device.r{i:02}")),
                    cell(i)?,
                ))
            })
            .collect(),
    });
    r
}

#[test]
fn an_os_no_device_can_run_is_not_compatible() {
    let windows = |n, site| Dev {
        n,
        site,
        model: "Acme Laptop 14",
        ram_gib: 8,
        os: ("windows", "Windows 11 Pro", "10.0.22631"),
        form_factor: None,
        browser: false,
    };
    let devices = [windows(1, "lincoln"), windows(2, "lincoln")];
    let reports = devices
        .iter()
        .map(|d| report(d, passing(300.0, 150.0), "2026-11-20T10:02:00Z"))
        .collect();
    let s = spec(&["lincoln"], &[("lincoln", 30)], true);
    let r = run(&s, &devices, reports);
    assert_eq!(r.verdict, FleetVerdict::NotCompatible);
    assert_eq!(r.blockers[0].requirement, "device.os");
    golden("not-compatible", &r);
    pdf_renders_with_the_verdict_first("not-compatible", &r);
}

/// Memory is soldered into student devices: RAM that no sampled model has is not a condition
/// to meet by an upgrade; the product cannot run on the district's devices.
#[test]
fn memory_no_sampled_model_has_is_not_compatible() {
    let small = |n, model, ram_gib| Dev {
        n,
        site: "lincoln",
        model,
        ram_gib,
        os: ("chromeos", "ChromeOS", "126.0.6478"),
        form_factor: None,
        browser: false,
    };
    let devices = [
        small(1, "Acme Chromebook 3", 2),
        small(2, "Acme Chromebook 3", 2),
        small(3, "Zed Book 5", 3),
    ];
    let reports = devices
        .iter()
        .map(|d| report(d, passing(300.0, 150.0), "2026-11-20T10:02:00Z"))
        .collect();
    let s = spec(&["lincoln"], &[("lincoln", 30)], true);
    let r = run(&s, &devices, reports);
    assert_eq!(r.verdict, FleetVerdict::NotCompatible, "{:#?}", r.blockers);
    assert_eq!(r.blockers.len(), 1);
    let b = &r.blockers[0];
    assert_eq!(b.requirement, "device.ram_min_gib");
    assert!(
        b.reason.contains("Acme Chromebook 3 (2 device(s)")
            && b.reason.contains("Zed Book 5 (1 device(s)"),
        "the models and their counts: {}",
        b.reason
    );
    let ram: Vec<_> = r
        .conditions
        .iter()
        .filter(|c| c.requirements == ["device.ram_min_gib"])
        .collect();
    assert_eq!(ram.len(), 2, "{:#?}", r.conditions);
    assert!(
        ram.iter()
            .all(|c| c.action.contains("replace") && !c.action.contains("upgrade to")),
        "{:#?}",
        ram
    );
    golden("not-compatible-memory", &r);
}

/// An HTTPS answer with a server error from a server whose certificate the public roots trust,
/// with no proxy or filter in the path: the vendor's own server failing.
fn vendor_error(i: usize, url: &str) -> Value {
    http(
        i,
        url,
        "unexpected_status",
        json!({"status": 503, "certificate": {"subject": "CN=app.vendor.example", "issuer": "CN=Public CA R3", "not_after": "2027-01-01T00:00:00Z", "trusted_by_system": true, "publicly_trusted": true}}),
    )
}

/// Each fix kind, decided where the requirement is judged, reaches the condition: an
/// allow-list entry (network), an OS update (software), memory for a desktop that takes it
/// (part), memory a Chromebook has soldered in (replace), and the vendor's own server failing
/// at one site while the other gets through (vendor, a condition rather than a blocker).
#[test]
fn every_kind_of_fix() {
    let old = Dev {
        n: 3,
        site: "roosevelt",
        model: "Acme Chromebook 3",
        ram_gib: 2,
        os: ("chromeos", "ChromeOS", "118.0.5993"),
        form_factor: Some("portable"),
        browser: false,
    };
    let tower = Dev {
        n: 4,
        site: "roosevelt",
        model: "Acme Tower 5",
        ram_gib: 2,
        os: ("linux", "Debian GNU/Linux", "12"),
        form_factor: Some("desktop"),
        browser: false,
    };
    let devices = [
        chromebook(1, "lincoln"),
        chromebook(2, "lincoln"),
        old.clone(),
        tower.clone(),
        chromebook(5, "roosevelt"),
    ];
    let mut lincoln = passing(200.0, 100.0);
    lincoln[2] = http(
        0,
        "https://app.vendor.example/",
        "blocked_by_filter",
        json!({"blocking_layer": "http_filter"}),
    );
    lincoln[3] = vendor_error(1, "https://cdn.vendor.example/");
    let reports = vec![
        report(&devices[0], lincoln.clone(), "2026-11-20T10:02:00Z"),
        report(&devices[1], lincoln, "2026-11-20T10:02:00Z"),
        report(&old, passing(200.0, 100.0), "2026-11-20T10:02:00Z"),
        report(&tower, passing(200.0, 100.0), "2026-11-20T10:02:00Z"),
        report(&devices[4], passing(200.0, 100.0), "2026-11-20T10:02:00Z"),
    ];
    let s = two_sites_of_sixty();
    let r = run(&s, &devices, reports);
    assert_eq!(
        r.verdict,
        FleetVerdict::CompatibleWithConditions,
        "{:#?}",
        r.blockers
    );
    let fix_of = |needle: &str| {
        let c = r
            .conditions
            .iter()
            .find(|c| c.action.contains(needle))
            .unwrap_or_else(|| panic!("no condition with {needle:?}: {:#?}", r.conditions));
        c.fix
    };
    assert_eq!(
        fix_of("allow app.vendor.example"),
        FixKind::ConfigureNetwork
    );
    assert_eq!(fix_of("upgrade the OS"), FixKind::UpdateSoftware);
    assert_eq!(fix_of("Acme Tower 5: add memory"), FixKind::UpgradePart);
    assert_eq!(fix_of("Acme Chromebook 3: replace"), FixKind::ReplaceDevice);
    assert_eq!(
        fix_of("ask the vendor to fix cdn.vendor.example"),
        FixKind::NonePossible
    );
    // Roosevelt reaches the vendor's server, so lincoln's errors do not make it unusable.
    assert!(r.blockers.is_empty(), "{:#?}", r.blockers);
    golden("fixes", &r);
}

const TESTING: &str = include_str!("data/recommend/lab-testing.toml");

/// A managed Chromebook on ChromeOS `version` whose browser agent reported.
fn managed_chromebook(
    n: u32,
    site: &'static str,
    model: &'static str,
    version: &'static str,
) -> Dev {
    Dev {
        n,
        site,
        model,
        ram_gib: 8,
        os: ("chromeos", "ChromeOS", version),
        form_factor: None,
        browser: true,
    }
}

/// What a browser agent reads through chrome.management, and what a native agent reads from
/// dpkg: `(kind, id, version, enabled)` of what the profile names.
fn software(source: &str, found: &[(&str, &str, &str, bool)]) -> Value {
    json!({
        "sources": [{"source": source, "detection": "detected"}],
        "found": found.iter().map(|(kind, id, version, enabled)| {
            let mut f = json!({"kind": kind, "id": id, "version": version, "source": source});
            if source == "chrome_management" {
                f["enabled"] = json!(enabled);
                f["install_type"] = json!("admin");
            }
            f
        }).collect::<Vec<_>>(),
    })
}

/// A product whose needs are mostly software: every kind of software action, counted per
/// device model and owned where the change is made. Chromebooks on an excluded ChromeOS
/// release, a model without the extension, a model with it too old, Linux laptops without the
/// client, with it too old, and with a conflicting program; an Android app no agent can see
/// is said to be unobservable, never passed.
#[test]
fn software_shortfalls_are_installs_updates_removals_and_excluded_releases() {
    const READER: &str = "inoeonmfapjbbkmdafoankkfajkcphgd";
    let chromebook = managed_chromebook;
    let laptop = |n, site| Dev {
        n,
        site,
        model: "Acme Laptop 5",
        ram_gib: 8,
        os: ("linux", "Debian GNU/Linux", "12"),
        form_factor: Some("portable"),
        browser: false,
    };
    let devices = [
        chromebook(1, "lincoln", "Acme Chromebook 11", "131.0.6778.85"),
        chromebook(2, "lincoln", "Acme Chromebook 11", "131.0.6778.85"),
        chromebook(3, "lincoln", "Acme Chromebook 14", "133.0.6943.137"),
        chromebook(4, "roosevelt", "Acme Chromebook 14", "132.0.6834.164"),
        laptop(5, "roosevelt"),
        laptop(6, "roosevelt"),
    ];
    let ext = "chrome_extension";
    let found = [
        software("chrome_management", &[(ext, READER, "2.3.0", true)]),
        software("chrome_management", &[(ext, READER, "2.3.0", true)]),
        software("chrome_management", &[]),
        software("chrome_management", &[(ext, READER, "1.8.2", true)]),
        software(
            "dpkg",
            &[("package", "lab-testing-client", "3.0.2-1", true)],
        ),
        software("dpkg", &[("package", "lab-screen-recorder", "1.2-1", true)]),
    ];
    let reports = devices
        .iter()
        .zip(found)
        .map(|(d, sw)| report_for(TESTING, d, Vec::new(), "2026-11-20T10:02:00Z", Some(sw)))
        .collect();
    let s = spec(
        &["lincoln", "roosevelt"],
        &[("lincoln", 60), ("roosevelt", 60)],
        false,
    );
    let r = run_for(TESTING, &s, &devices, reports);
    let condition = |needle: &str| {
        r.conditions
            .iter()
            .find(|c| c.action.contains(needle))
            .unwrap_or_else(|| panic!("no condition with {needle:?}: {:#?}", r.conditions))
    };
    let excluded = condition("ChromeOS 131 is excluded by the vendor");
    assert!(
        excluded
            .action
            .contains("update to 132 or later, or hold at 130"),
        "{}",
        excluded.action
    );
    assert_eq!(excluded.items, ["Acme Chromebook 11"]);
    assert_eq!(excluded.devices, Some(2));
    assert_eq!(excluded.fix, FixKind::UpdateSoftware);
    assert_eq!(
        excluded.owner,
        "technology operations (Google Admin console)"
    );

    let update = condition("update Lab Reader from 1.8.2 to 2.0 or later");
    assert_eq!(update.items, ["Acme Chromebook 14"]);
    assert_eq!(update.owner, "technology operations (Google Admin console)");
    assert_eq!(update.fix, FixKind::UpdateSoftware);

    let remove = condition("remove Lab screen recorder (lab-screen-recorder)");
    assert_eq!(remove.fix, FixKind::RemoveSoftware);
    assert_eq!(remove.owner, "technology operations (device management)");
    assert_eq!(remove.devices, Some(1));

    let client =
        condition("Acme Laptop 5: update Lab Testing client from 3.0.2-1 to 3.1 or later (1 of 2");
    assert!(
        client.action.contains(
            "; install the lab-testing-client package 3.1 or later (Lab Testing client) (1 of 2"
        ),
        "one too old, one without it, each its own action: {}",
        client.action
    );
    assert_eq!(client.items, ["Acme Laptop 5"]);
    assert_eq!(client.devices, Some(2));
    assert!(client.required);
    let install = condition(
        "Acme Chromebook 14: force-install Lab Reader (inoeonmfapjbbkmdafoankkfajkcphgd) 2.0 or later",
    );
    assert!(
        install
            .action
            .contains("; update Lab Reader from 1.8.2 to 2.0 or later"),
        "missing at lincoln, too old at roosevelt: {}",
        install.action
    );
    assert!(
        r.notes.iter().any(|n| n.starts_with(
            "Android app Lab Testing for Android (software[3]) could not be checked on Acme Chromebook 11, Acme Chromebook 14: not observable"
        )),
        "{:#?}",
        r.notes
    );
    assert!(
        !r.conditions.iter().any(|c| c.action.contains("Android")),
        "an unobservable, non-critical app is no action: {:#?}",
        r.conditions
    );
    assert_eq!(
        r.verdict,
        FleetVerdict::CompatibleWithConditions,
        "{:#?} {:#?}",
        r.blockers,
        r.gaps
    );
    golden("software", &r);
}

/// A model whose OS updates have ended (the district's inventory says so) below what the
/// product needs is replaced, not updated; one whose last release is excluded but whose
/// release before it is allowed holds there, an update like any other.
#[test]
fn a_model_whose_updates_ended_too_early_is_replaced() {
    let chromebook = |n, model, version| managed_chromebook(n, "lincoln", model, version);
    let devices = [
        chromebook(1, "Acme Chromebook 3", "118.0.5993.164"),
        chromebook(2, "Acme Chromebook 3", "118.0.5993.164"),
        chromebook(3, "Acme Chromebook 11", "131.0.6778.85"),
        chromebook(4, "Acme Chromebook 14", "133.0.6943.137"),
    ];
    let reader = software(
        "chrome_management",
        &[(
            "chrome_extension",
            "inoeonmfapjbbkmdafoankkfajkcphgd",
            "2.3.0",
            true,
        )],
    );
    let reports = || {
        devices
            .iter()
            .map(|d| {
                report_for(
                    TESTING,
                    d,
                    Vec::new(),
                    "2026-11-20T10:02:00Z",
                    Some(reader.clone()),
                )
            })
            .collect::<Vec<_>>()
    };
    let mut s = spec(&["lincoln"], &[("lincoln", 60)], false);
    s.os_updates_end = BTreeMap::from([
        ("Acme Chromebook 3".to_owned(), "118".to_owned()),
        ("Acme Chromebook 11".to_owned(), "131".to_owned()),
    ]);
    let r = run_for(TESTING, &s, &devices, reports());
    let of = |model: &str| {
        r.conditions
            .iter()
            .find(|c| c.items == [model] && c.requirements.iter().any(|q| *q == "device.os"))
            .unwrap_or_else(|| panic!("no OS condition for {model}: {:#?}", r.conditions))
    };
    let old = of("Acme Chromebook 3");
    assert_eq!(old.fix, FixKind::ReplaceDevice);
    assert!(
        old.action.starts_with(
            "Acme Chromebook 3: replace 2 device(s): their OS updates end at ChromeOS 118 (the district's device list)"
        ) && old.action.ends_with("use or buy models that meet it: Acme Chromebook 14"),
        "{}",
        old.action
    );
    let held = of("Acme Chromebook 11");
    assert_eq!(
        held.fix,
        FixKind::UpdateSoftware,
        "130 is still allowed: {}",
        held.action
    );
    assert!(held.action.contains("hold at 130"), "{}", held.action);
    // Another model meets it, so this is a condition, not a blocker.
    assert!(r.blockers.is_empty(), "{:#?}", r.blockers);

    // Without the inventory's word, the same shortfall is an update.
    let plain = run_for(
        TESTING,
        &spec(&["lincoln"], &[("lincoln", 60)], false),
        &devices,
        reports(),
    );
    let update = plain
        .conditions
        .iter()
        .find(|c| c.items == ["Acme Chromebook 3"])
        .unwrap();
    assert_eq!(update.fix, FixKind::UpdateSoftware, "{}", update.action);
}

/// The vendor's own server failing at every site is nothing the district can fix: not
/// compatible, naming the server and what it answered. The same error through a proxy is the
/// district's path to look into, never the vendor's fault by default.
#[test]
fn the_vendors_server_failing_everywhere_is_not_compatible() {
    let devices = [
        chromebook(1, "lincoln"),
        chromebook(2, "lincoln"),
        chromebook(3, "roosevelt"),
        chromebook(4, "roosevelt"),
    ];
    let failing = |proxied: bool| {
        let mut results = passing(300.0, 150.0);
        results[2] = vendor_error(0, "https://app.vendor.example/");
        if proxied {
            results[2]["evidence"]["proxy"] = json!("http://proxy.district.example:3128");
        }
        results
    };
    let s = spec(
        &["lincoln", "roosevelt"],
        &[("lincoln", 30), ("roosevelt", 30)],
        true,
    );
    let reports = devices
        .iter()
        .map(|d| report(d, failing(false), "2026-11-20T10:02:00Z"))
        .collect();
    let r = run(&s, &devices, reports);
    assert_eq!(
        r.verdict,
        FleetVerdict::NotCompatible,
        "{:#?}",
        r.conditions
    );
    assert_eq!(r.blockers.len(), 1, "{:#?}", r.blockers);
    let b = &r.blockers[0];
    assert_eq!(b.requirement, "http[0]");
    assert!(
        b.reason.contains("app.vendor.example")
            && b.reason.contains("status 503")
            && b.reason.contains("lincoln, roosevelt"),
        "{}",
        b.reason
    );
    assert!(!b.evidence.is_empty());
    golden("not-compatible-vendor", &r);

    let reports = devices
        .iter()
        .map(|d| report(d, failing(true), "2026-11-20T10:02:00Z"))
        .collect();
    let r = run(&s, &devices, reports);
    assert_eq!(r.verdict, FleetVerdict::CompatibleWithConditions);
    assert!(r.blockers.is_empty(), "{:#?}", r.blockers);
    assert!(
        r.conditions.iter().all(|c| c.fix != FixKind::NonePossible),
        "{:#?}",
        r.conditions
    );
}

/// A browser agent's navigation to the product's CDN refused by the browser's own policy.
fn refused_by_browser_policy() -> Value {
    http(
        1,
        "https://cdn.vendor.example/",
        "blocked_by_filter",
        json!({"blocking_layer": "browser_policy", "method": "navigation", "net_error": "net::ERR_BLOCKED_BY_ADMINISTRATOR"}),
    )
}

/// An evaluation at lincoln and roosevelt, 60 users each, coordinated.
fn two_sites_of_sixty() -> NewEvaluation {
    spec(
        &["lincoln", "roosevelt"],
        &[("lincoln", 60), ("roosevelt", 60)],
        true,
    )
}

/// Two Chromebooks with native agents and one browser agent at each of lincoln and roosevelt.
fn two_sites_with_a_browser_each() -> [Dev; 6] {
    let in_browser = |n, site| Dev {
        browser: true,
        ..chromebook(n, site)
    };
    [
        chromebook(1, "lincoln"),
        chromebook(2, "lincoln"),
        in_browser(3, "lincoln"),
        chromebook(4, "roosevelt"),
        chromebook(5, "roosevelt"),
        in_browser(6, "roosevelt"),
    ]
}

/// A product the network lets through but a filter inside the students' browsers blocks: the
/// condition names the browser layer, its owner and the vendor, and says the network allows it.
#[test]
fn a_block_only_in_the_browser_names_the_browser_layer() {
    let devices = two_sites_with_a_browser_each();
    let mut extension = passing(200.0, 100.0);
    extension[2] = http(
        0,
        "https://app.vendor.example/",
        "blocked_by_filter",
        json!({"blocking_layer": "browser_extension", "method": "navigation", "final_url": "https://blocked.goguardian.com/?ctx=x", "signature": {"id": "goguardian-block-host", "vendor": "GoGuardian", "matched": "redirect to blocked.goguardian.com"}}),
    );
    let mut policy = passing(200.0, 100.0);
    policy[3] = refused_by_browser_policy();
    let reports = devices
        .iter()
        .map(|d| {
            let results = match (d.browser, d.site) {
                (true, "lincoln") => extension.clone(),
                (true, _) => policy.clone(),
                _ => passing(200.0, 100.0),
            };
            report(d, results, "2026-11-20T10:02:00Z")
        })
        .collect();
    let s = two_sites_of_sixty();
    let r = run(&s, &devices, reports);
    assert_eq!(r.verdict, FleetVerdict::CompatibleWithConditions);
    let text = render::markdown(&r);
    for needle in [
        "allow app.vendor.example in GoGuardian's policy for the student OU — blocked in the browser at 1 site(s) (lincoln); the network allows it",
        "remove the Chrome URLBlocklist entry that matches cdn.vendor.example (a host, a parent domain, a path or `*`; the browser does not say which) or add cdn.vendor.example to URLAllowlist, for the student OU in Google Admin — blocked in the browser at 1 site(s) (roosevelt); the network allows it",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    assert!(
        !text.contains("browser layer is unverified"),
        "browser agents reported: {text}"
    );
    golden("browser-layer", &r);
}

/// A browser cannot say which URLBlocklist entry stopped it; a native agent on a device reads
/// the browsers' policy files and names the entry, and where it did, the entry is the action
/// for the browsers' blocks of that host at that site too.
#[test]
fn a_url_policy_entry_read_on_the_device_is_named() {
    let devices = two_sites_with_a_browser_each();
    let refused = refused_by_browser_policy();
    let read = http(
        1,
        "https://cdn.vendor.example/",
        "reachable",
        json!({"status": 200, "browser_policy": [{
            "browser": "chromium",
            "policy": "URLBlocklist",
            "entry": "vendor.example/",
            "source": "/etc/chromium/policies/managed/district.json",
        }]}),
    );
    let reports = devices
        .iter()
        .map(|d| {
            let mut results = passing(200.0, 100.0);
            match (d.n, d.browser) {
                (1, _) => results[3] = read.clone(),
                (_, true) => results[3] = refused.clone(),
                _ => {}
            }
            report(d, results, "2026-11-20T10:02:00Z")
        })
        .collect();
    let s = two_sites_of_sixty();
    let r = run(&s, &devices, reports);
    assert_eq!(r.verdict, FleetVerdict::CompatibleWithConditions);
    let policy: Vec<_> = r
        .conditions
        .iter()
        .filter(|c| c.action.contains("URLBlocklist"))
        .collect();
    assert_eq!(policy.len(), 2, "{policy:#?}");
    let at = |site: &str| {
        policy
            .iter()
            .find(|c| c.sites == [site])
            .unwrap_or_else(|| panic!("no URLBlocklist condition at {site} alone: {policy:#?}"))
    };
    let (lincoln, roosevelt) = (at("lincoln"), at("roosevelt"));
    assert_eq!(
        lincoln.action,
        "remove the entry `vendor.example/` of Chromium's URLBlocklist (/etc/chromium/policies/managed/district.json), or add a URLAllowlist entry as specific, to allow cdn.vendor.example — blocked in the browser at 1 site(s) (lincoln); the network allows it"
    );
    assert_eq!(lincoln.owner, "device management (browser policy)");
    assert!(
        lincoln.evidence.len() == 1
            && lincoln.evidence[0]
                .observed
                .contains("blocked in the browser by the entry `vendor.example/`"),
        "{:#?}",
        lincoln.evidence
    );
    // Where no device read the policy, the browser's block stands as it was seen.
    assert!(
        roosevelt
            .action
            .starts_with("remove the Chrome URLBlocklist entry that matches cdn.vendor.example"),
        "{}",
        roosevelt.action
    );
    assert_eq!(
        roosevelt.owner,
        "Google Admin (Chrome policy) administrator"
    );
}

#[test]
fn thin_coverage_is_insufficient_evidence() {
    let devices = [
        chromebook(1, "lincoln"),
        chromebook(2, "lincoln"),
        chromebook(3, "roosevelt"),
    ];
    // roosevelt has one device of two needed; washington none; an older report of device 1
    // is superseded by its newer one.
    let mut stale = passing(300.0, 150.0);
    stale[2] = http(
        0,
        "https://app.vendor.example/",
        "blocked_by_filter",
        json!({"blocking_layer": "http_filter"}),
    );
    let mut older = report(&devices[0], stale, "2026-11-19T09:00:00Z");
    older.report_id = "20000001-0000-4000-8000-000000000000".into();
    let reports = vec![
        older,
        report(&devices[0], passing(300.0, 150.0), "2026-11-20T10:02:00Z"),
        report(&devices[1], passing(300.0, 150.0), "2026-11-20T10:02:00Z"),
        report(&devices[2], passing(90.0, 50.0), "2026-11-20T10:02:00Z"),
    ];
    let s = spec(
        &["lincoln", "roosevelt", "washington"],
        &[("lincoln", 100), ("roosevelt", 100), ("washington", 100)],
        false,
    );
    let r = run(&s, &devices, reports);
    assert_eq!(r.verdict, FleetVerdict::InsufficientEvidence);
    assert!(
        r.conditions.is_empty(),
        "the superseded block is not a condition"
    );
    let gaps = r.gaps.join("\n");
    assert!(
        gaps.contains("washington: no device has reported and no agent is enrolled there; technology operations to enroll agents on at least 2"),
        "{gaps}"
    );
    assert!(
        gaps.contains("roosevelt: 1 device(s) reported, 2 are needed to judge a site; technology operations to enroll and run 1 more device(s) there"),
        "{gaps}"
    );
    // Not coordinated: one device's 90 Mbit/s cannot say whether 200 Mbit/s are there.
    assert!(gaps.contains("coordinated run"), "{gaps}");
    golden("insufficient", &r);
    pdf_renders_with_the_verdict_first("insufficient", &r);
}

#[test]
fn a_resolver_that_times_out_is_not_a_filter() {
    let devices = [chromebook(1, "lincoln"), chromebook(2, "lincoln")];
    let mut results = passing(300.0, 150.0);
    results[0] = dns(
        0,
        "app.vendor.example",
        "timeout",
        json!({"detail": "no answer"}),
    );
    results[2] = http(
        0,
        "https://app.vendor.example/",
        "dns_failed",
        json!({"status": null, "blocking_layer": "dns", "detail": "timeout: no answer"}),
    );
    let reports = devices
        .iter()
        .map(|d| report(d, results.clone(), "2026-11-20T10:02:00Z"))
        .collect();
    let s = spec(&["lincoln"], &[("lincoln", 30)], true);
    let r = run(&s, &devices, reports);
    let kinds: Vec<ConditionKind> = r.conditions.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ConditionKind::Investigate], "{:#?}", r.conditions);
    assert!(
        r.conditions[0]
            .action
            .contains("make the district resolver answer app.vendor.example"),
        "{}",
        r.conditions[0].action
    );
    // Each report is cited once, however many of its requirements show the problem.
    assert_eq!(r.conditions[0].evidence.len(), 2);
}

#[test]
fn a_name_the_dns_filter_blocks_in_a_web_check_is_a_dns_filter_entry() {
    let devices = [chromebook(1, "lincoln"), chromebook(2, "lincoln")];
    // The web check saw the DNS filter's answer itself (0.0.0.0, or NXDOMAIN where the control
    // resolver has the name); the profile's [[dns]] check of that name was not in this report.
    let mut results = passing(300.0, 150.0);
    results.remove(1);
    results[2] = http(
        1,
        "https://cdn.vendor.example/",
        "blocked_by_filter",
        json!({"status": null, "blocking_layer": "dns", "detail": "the district's DNS answer for cdn.vendor.example is a block (0.0.0.0 is in 0.0.0.0/8, the unspecified network a DNS filter answers to block)"}),
    );
    let reports = devices
        .iter()
        .map(|d| report(d, results.clone(), "2026-11-20T10:02:00Z"))
        .collect();
    let s = spec(&["lincoln"], &[("lincoln", 30)], true);
    let r = run(&s, &devices, reports);
    let kinds: Vec<ConditionKind> = r.conditions.iter().map(|c| c.kind).collect();
    assert_eq!(kinds, [ConditionKind::FilterAllow], "{:#?}", r.conditions);
    let c = &r.conditions[0];
    assert!(
        c.action
            .contains("allow cdn.vendor.example in the DNS filter"),
        "{}",
        c.action
    );
    assert_eq!(c.owner, "DNS filter administrator");
    assert!(
        !c.action.contains("resolver"),
        "not a resolver problem: {}",
        c.action
    );
}

/// One device's bandwidth result with its own windows: download from `down_at`, upload from
/// `up_at` (ms after the run's start), or no upload at all.
fn timed_bandwidth(down: f64, down_at: i64, up: Option<(f64, i64)>) -> Value {
    let mut b = bandwidth(down, 0.0);
    b["download_samples"] = samples(RUN_START_MS + down_at, down);
    match up {
        Some((mbps, at)) => {
            b["upload_mbps"] = json!(mbps);
            b["upload_samples"] = samples(RUN_START_MS + at, mbps);
        }
        None => {
            b["upload_mbps"] = Value::Null;
            b["upload_samples"] = Value::Null;
        }
    }
    b
}

fn with_bandwidth(b: Value) -> Vec<Value> {
    let mut results = passing(0.0, 0.0);
    let last = results.len() - 1;
    results[last] = b;
    results
}

#[test]
fn a_late_device_neither_raises_the_site_figure_nor_counts_as_measuring_at_once() {
    let devices = [
        chromebook(1, "lincoln"),
        chromebook(2, "lincoln"),
        chromebook(3, "lincoln"),
    ];
    // Two devices shared a 19 Mbit/s link; the third started 16 s late and had it alone.
    let figures = [
        timed_bandwidth(9.5, 0, Some((9.5, 12_000))),
        timed_bandwidth(9.5, 0, Some((9.5, 12_000))),
        timed_bandwidth(19.0, 16_000, Some((19.0, 28_000))),
    ];
    let reports = devices
        .iter()
        .zip(figures)
        .map(|(d, b)| report(d, with_bandwidth(b), "2026-11-20T10:02:00Z"))
        .collect();
    // 10 users need 20 Mbit/s down and 10 up.
    let s = spec(&["lincoln"], &[("lincoln", 10)], true);
    let r = run(&s, &devices, reports);
    let t = &r.throughput[0];
    let down = t.download.as_ref().unwrap();
    assert!((down.mbps - 19.0).abs() < 0.01, "{t:#?}");
    assert_eq!(down.devices, 2);
    assert_eq!(down.common_window_ms, Some(8000.0));
    assert!(!down.together);
    assert_eq!(down.left_out.len(), 1, "{:?}", down.left_out);
    assert_eq!(
        down.left_out[0],
        "agent 00000003 did not measure at the same time as the others"
    );
    // Short, but of a figure that leaves a device out: not passed, not failed, asked again.
    assert_eq!(t.status, fitcheck_core::evaluate::Status::Unknown);
    assert!(
        r.conditions
            .iter()
            .all(|c| c.kind != ConditionKind::UplinkCapacity),
        "{:#?}",
        r.conditions
    );
    let gaps = r.gaps.join("\n");
    assert!(
        gaps.contains("did not measure at the same time") && gaps.contains("again"),
        "{gaps}"
    );
    let words = render::markdown(&r);
    assert!(
        words.contains("2 devices measuring together over a common 8.0 s window; left out: agent"),
        "{words}"
    );
}

#[test]
fn partly_overlapping_devices_count_over_the_time_they_shared() {
    let devices = [chromebook(1, "lincoln"), chromebook(2, "lincoln")];
    // Device 2 started 3 s after device 1; they shared 5 s of each 8 s window.
    let figures = [
        timed_bandwidth(10.0, 0, Some((4.0, 12_000))),
        timed_bandwidth(10.0, 3_000, Some((4.0, 15_000))),
    ];
    let reports = devices
        .iter()
        .zip(figures)
        .map(|(d, b)| report(d, with_bandwidth(b), "2026-11-20T10:02:00Z"))
        .collect();
    // 15 users need 30 Mbit/s down and 15 up: both short, and every device is counted.
    let s = spec(&["lincoln"], &[("lincoln", 15)], true);
    let r = run(&s, &devices, reports);
    let t = &r.throughput[0];
    let down = t.download.as_ref().unwrap();
    assert!((down.mbps - 20.0).abs() < 0.01, "{t:#?}");
    assert_eq!(down.common_window_ms, Some(5000.0));
    assert!(down.together && down.left_out.is_empty());
    assert_eq!(t.status, fitcheck_core::evaluate::Status::Fail);
    let uplink: Vec<_> = r
        .conditions
        .iter()
        .filter(|c| c.kind == ConditionKind::UplinkCapacity)
        .collect();
    assert_eq!(uplink.len(), 1, "{:#?}", r.conditions);
    assert_eq!(
        uplink[0].requirements,
        [
            "network.download_mbps_per_user",
            "network.upload_mbps_per_user"
        ]
    );
    assert!(
        uplink[0]
            .evidence
            .iter()
            .all(|e| !e.agent_id.is_empty() && e.observed.contains("download 10 Mbit/s")),
        "{:#?}",
        uplink[0].evidence
    );
}

#[test]
fn a_direction_not_measured_is_unknown_not_zero() {
    let devices = [chromebook(1, "lincoln"), chromebook(2, "lincoln")];
    // Device 2 measured the download only.
    let figures = [
        timed_bandwidth(100.0, 0, Some((4.0, 12_000))),
        timed_bandwidth(100.0, 0, None),
    ];
    let reports = devices
        .iter()
        .zip(figures)
        .map(|(d, b)| report(d, with_bandwidth(b), "2026-11-20T10:02:00Z"))
        .collect();
    // 10 users: 20 Mbit/s down (200 measured), 10 up (4 measured by one device of two).
    let s = spec(&["lincoln"], &[("lincoln", 10)], true);
    let r = run(&s, &devices, reports);
    let t = &r.throughput[0];
    let up = t.upload.as_ref().unwrap();
    assert!((up.mbps - 4.0).abs() < 0.01, "{t:#?}");
    assert_eq!(up.devices, 1);
    assert!(!up.together);
    assert!(up.left_out[0].contains("measured no upload"), "{up:#?}");
    assert_eq!(t.status, fitcheck_core::evaluate::Status::Unknown);
    assert!(
        r.conditions
            .iter()
            .all(|c| c.kind != ConditionKind::UplinkCapacity),
        "no uplink condition from a direction one device did not measure: {:#?}",
        r.conditions
    );
    // Nobody measured the upload at all: not a failure either.
    let figures = [
        timed_bandwidth(100.0, 0, None),
        timed_bandwidth(100.0, 0, None),
    ];
    let reports = devices
        .iter()
        .zip(figures)
        .map(|(d, b)| report(d, with_bandwidth(b), "2026-11-20T10:02:00Z"))
        .collect();
    let r = run(&s, &devices, reports);
    let t = &r.throughput[0];
    assert!(
        t.upload.is_none() && t.upload_measured_mbps.is_none(),
        "{t:#?}"
    );
    assert_eq!(t.status, fitcheck_core::evaluate::Status::Unknown);
    assert!(
        r.gaps
            .iter()
            .any(|g| g.contains("no device measured the upload")),
        "{:?}",
        r.gaps
    );
}

#[test]
fn capacity_that_was_not_assessed_is_said_plainly() {
    let devices = [chromebook(1, "lincoln"), chromebook(2, "lincoln")];
    let reports = || {
        devices
            .iter()
            .map(|d| report(d, passing(300.0, 150.0), "2026-11-20T10:02:00Z"))
            .collect()
    };
    // No planned users.
    let s = spec(&["lincoln"], &[], true);
    let r = run(&s, &devices, reports());
    assert!(
        r.summary
            .contains("Uplink capacity was not assessed: the evaluation plans no concurrent users"),
        "{}",
        r.summary
    );
    // Planned users, but no device measured throughput.
    let mut results = passing(300.0, 150.0);
    results.pop();
    let unmeasured = devices
        .iter()
        .map(|d| report(d, results.clone(), "2026-11-20T10:02:00Z"))
        .collect();
    let s = spec(&["lincoln"], &[("lincoln", 30)], true);
    let r = run(&s, &devices, unmeasured);
    assert_eq!(r.verdict, FleetVerdict::InsufficientEvidence);
    assert!(
        r.summary.contains(
            "lincoln: throughput was not measured (give the evaluation a bandwidth plan)"
        ),
        "{}",
        r.summary
    );
    // Measured: nothing to say.
    let r = run(&s, &devices, reports());
    assert!(!r.summary.contains("not assessed"), "{}", r.summary);
}

/// How bad a verdict is: a worse report may only keep it or move it down this list.
fn severity(v: FleetVerdict) -> u8 {
    match v {
        FleetVerdict::Compatible => 0,
        FleetVerdict::CompatibleWithConditions => 1,
        FleetVerdict::InsufficientEvidence => 2,
        FleetVerdict::NotCompatible => 3,
    }
}

/// One way a device's report gets worse: a result's outcome, a figure, or a device fact.
const DEGRADATIONS: usize = 13;

fn degrade(kind: usize, dev: &mut Dev, results: &mut [Value]) {
    match kind {
        0 => {
            results[0] = dns(
                0,
                "app.vendor.example",
                "sinkholed",
                json!({"a": ["0.0.0.0"]}),
            )
        }
        1 => results[1] = dns(1, "cdn.vendor.example", "timeout", json!({})),
        2 => {
            results[2] = http(
                0,
                "https://app.vendor.example/",
                "blocked_by_filter",
                json!({"blocking_layer": "http_filter"}),
            )
        }
        3 => {
            results[3] = http(
                1,
                "https://cdn.vendor.example/",
                "tls_intercepted",
                json!({"blocking_layer": "tls_interception"}),
            )
        }
        4 => results[4] = tcp("filtered"),
        5 => results[5] = udp("no_answer"),
        6 => results[6] = latency(400.0, 9.0),
        7 => {
            let b = &results[7];
            let (d, u) = (
                b["download_mbps"].as_f64().unwrap_or(0.0),
                b["upload_mbps"].as_f64().unwrap_or(0.0),
            );
            results[7] = bandwidth(d / 10.0, u / 10.0);
        }
        8 => dev.ram_gib = 2,
        // An older ChromeOS is worse only than a current one, not than an OS not supported.
        9 if dev.os.0 == "chromeos" => dev.os = ("chromeos", "ChromeOS", "118.0.5993"),
        9 => {}
        10 => dev.os = ("windows", "Windows 11 Pro", "10.0.22631"),
        // The vendor's server failing is worse only than reaching it.
        12 if results[2]["outcome"] == "reachable" => {
            results[2] = vendor_error(0, "https://app.vendor.example/")
        }
        12 => {}
        _ => {
            // The upload not measured at all.
            results[7]["upload_mbps"] = Value::Null;
            results[7]["upload_samples"] = Value::Null;
        }
    }
}

/// Degradations that leave a passing fleet's verdict as it is, and why: a round-trip time over
/// the tolerance is a warning (a recommended condition, not a required one), and one device's
/// lower throughput or unmeasured upload is carried by the other device of its site, which
/// measured with it. `every_worsening_changes_the_judgement_it_targets` shows each still
/// changes what it targets.
const SOFT_OR_SHARED: [usize; 3] = [6, 7, 11];

/// The requirement each degradation worsens, as the recommendation shows it: a site cell, a
/// model cell, or a site's uplink.
fn target(kind: usize) -> &'static str {
    match kind {
        0 => "dns[0]",
        1 => "dns[1]",
        2 | 12 => "http[0]",
        3 => "http[1]",
        4 => "ports[0]",
        5 => "ports[1]",
        6 => "network.max_rtt_ms",
        7 => "network.download_mbps_per_user",
        11 => "network.upload_mbps_per_user",
        8 => "device.ram_min_gib",
        _ => "device.os",
    }
}

/// The status the recommendation gives `id` where device 1 (a Chromebook at lincoln) is: its
/// site's cell, or the worst cell of the models.
fn status_of(r: &Recommendation, id: &str) -> fitcheck_core::evaluate::Status {
    use fitcheck_core::evaluate::Status;
    if let Some(row) = r.matrix.iter().find(|m| m.requirement == id) {
        return row.sites["lincoln"].status;
    }
    let cells: Vec<Status> = r
        .device_models
        .iter()
        .filter_map(|m| m.requirements.get(&id.into()))
        .map(|c| c.status)
        .collect();
    assert!(!cells.is_empty(), "{id} is in no matrix");
    cells
        .iter()
        .copied()
        .find(|s| *s != Status::Pass)
        .unwrap_or(Status::Pass)
}

/// The fleet the worsenings are tried on: two Chromebooks at each of two sites, measuring
/// together.
fn worsening_fleet() -> ([Dev; 4], NewEvaluation) {
    let devices = [
        chromebook(1, "lincoln"),
        chromebook(2, "lincoln"),
        chromebook(3, "roosevelt"),
        chromebook(4, "roosevelt"),
    ];
    let s = spec(
        &["lincoln", "roosevelt"],
        &[("lincoln", 100), ("roosevelt", 100)],
        true,
    );
    (devices, s)
}

/// The recommendation from these devices and their results.
fn written(s: &NewEvaluation, state: &[(Dev, Vec<Value>)]) -> Recommendation {
    let devs: Vec<Dev> = state.iter().map(|(d, _)| d.clone()).collect();
    let reports = state
        .iter()
        .map(|(d, r)| report(d, r.clone(), "2026-11-20T10:02:00Z"))
        .collect();
    run(s, &devs, reports)
}

/// Each degradation does what it says: from a fleet where everything passes, worsening one
/// device changes the judgement of the requirement it targets from a pass, so none of them is
/// a no-op that the monotonicity property below would take for "keeps the verdict".
#[test]
fn every_worsening_changes_the_judgement_it_targets() {
    let (devices, s) = worsening_fleet();
    let write = |state: &[(Dev, Vec<Value>)]| written(&s, state);
    let base: Vec<(Dev, Vec<Value>)> = devices
        .iter()
        .map(|d| (d.clone(), passing(300.0, 150.0)))
        .collect();
    let r0 = write(&base);
    let lincoln = |r: &Recommendation| {
        r.throughput
            .iter()
            .find(|t| t.site == "lincoln")
            .cloned()
            .unwrap()
    };
    for kind in 0..DEGRADATIONS {
        let id = target(kind);
        let mut one = base.clone();
        {
            let (d, r) = &mut one[0];
            degrade(kind, d, r);
        }
        let r1 = write(&one);
        match kind {
            // The site's figure is its devices' together: lower, and still enough.
            7 => {
                let (before, after) = (lincoln(&r0), lincoln(&r1));
                assert!(
                    after.download_measured_mbps < before.download_measured_mbps,
                    "worsening 7 left lincoln's download at {:?}",
                    after.download_measured_mbps
                );
            }
            // The upload is the other device's alone.
            11 => {
                let devices = |r: &Recommendation| lincoln(r).upload.map(|u| u.devices);
                assert_eq!(devices(&r0), Some(2));
                assert_eq!(devices(&r1), Some(1), "worsening 11");
            }
            _ => {
                assert_eq!(
                    status_of(&r0, id),
                    fitcheck_core::evaluate::Status::Pass,
                    "{id} passes before worsening {kind}"
                );
                assert_ne!(
                    status_of(&r1, id),
                    fitcheck_core::evaluate::Status::Pass,
                    "worsening {kind} leaves {id} passing"
                );
                assert_ne!(
                    r1.conditions, r0.conditions,
                    "worsening {kind} asks nothing"
                );
            }
        }
    }
}

/// The verdict never gets better when a report gets worse: every single worsening and every
/// pair of worsenings of any device's report, from a fleet where everything passes, one that
/// already has conditions, one a step from not compatible (three of four devices on an OS the
/// profile does not support) and one not compatible, keeps the verdict or makes it worse. Exhaustive over the
/// degradations above (no sampling, so the test cannot pass or fail by chance).
#[test]
fn the_verdict_never_gets_better_when_a_report_gets_worse() {
    let (devices, s) = worsening_fleet();
    let verdict = |state: &[(Dev, Vec<Value>)]| written(&s, state).verdict;
    let starts: [&[(usize, usize)]; 4] = [
        &[],
        &[(0, 2)],
        &[(0, 10), (1, 10), (2, 10)],
        &[(0, 10), (1, 10), (2, 10), (3, 10)],
    ];
    for start in starts {
        let mut base: Vec<(Dev, Vec<Value>)> = devices
            .iter()
            .map(|d| (d.clone(), passing(300.0, 150.0)))
            .collect();
        for (device, kind) in start {
            let (d, r) = &mut base[*device];
            degrade(*kind, d, r);
        }
        let v0 = verdict(&base);
        let mut checked = 0;
        for first in 0..devices.len() * DEGRADATIONS {
            let mut one = base.clone();
            {
                let (d, r) = &mut one[first / DEGRADATIONS];
                degrade(first % DEGRADATIONS, d, r);
            }
            let v1 = verdict(&one);
            assert!(
                severity(v1) >= severity(v0),
                "worsening {first} of {start:?}: {v0:?} became {v1:?}"
            );
            // From a fleet where everything passes, a worsening the profile makes a condition
            // of makes the verdict worse: an engine that always says "compatible" fails here.
            if start.is_empty() && !SOFT_OR_SHARED.contains(&(first % DEGRADATIONS)) {
                assert!(
                    severity(v1) > severity(v0),
                    "worsening {first} of a passing fleet left it {v1:?}"
                );
            }
            for second in first..devices.len() * DEGRADATIONS {
                let mut two = one.clone();
                {
                    let (d, r) = &mut two[second / DEGRADATIONS];
                    degrade(second % DEGRADATIONS, d, r);
                }
                let v2 = verdict(&two);
                assert!(
                    severity(v2) >= severity(v1),
                    "worsening {second} after {first} of {start:?}: {v1:?} became {v2:?}"
                );
                checked += 1;
            }
        }
        assert!(checked > 900, "{checked} pairs checked");
    }
}

/// A DNS filter's `0.0.0.0` is refused by a browser like a firewall's refusal, and Google
/// Chrome shows its extensions no address: where a native agent at the site saw the DNS
/// filter's answer, that decides; where only browsers saw the refusal, the firewall's action
/// says the sinkhole is not ruled out and how to tell — never a bare "open the port".
#[test]
fn a_refusal_only_a_browser_saw_does_not_rule_out_a_sinkhole() {
    let in_browser = |n, site| Dev {
        browser: true,
        ..chromebook(n, site)
    };
    let devices = [
        chromebook(1, "lincoln"),
        chromebook(2, "lincoln"),
        in_browser(3, "lincoln"),
        in_browser(4, "roosevelt"),
        in_browser(5, "roosevelt"),
    ];
    let refused = http(
        1,
        "https://cdn.vendor.example/",
        "connection_refused",
        json!({"status": null, "blocking_layer": "tcp", "method": "navigation", "net_error": "net::ERR_CONNECTION_REFUSED", "detail": "net::ERR_CONNECTION_REFUSED: the connection was refused"}),
    );
    let sinkholed = http(
        1,
        "https://cdn.vendor.example/",
        "blocked_by_filter",
        json!({"status": null, "address": "0.0.0.0", "blocking_layer": "dns", "detail": "the district's DNS answer for cdn.vendor.example is a block (0.0.0.0)"}),
    );
    let reports = devices
        .iter()
        .map(|d| {
            let mut results = passing(200.0, 100.0);
            results[3] = if d.browser {
                refused.clone()
            } else {
                sinkholed.clone()
            };
            report(d, results, "2026-11-20T10:02:00Z")
        })
        .collect();
    let s = two_sites_of_sixty();
    let r = run(&s, &devices, reports);
    let about: Vec<&fitcheck_engine::Condition> = r
        .conditions
        .iter()
        .filter(|c| c.action.contains("cdn.vendor.example"))
        .collect();
    assert_eq!(about.len(), 2, "{about:#?}");
    let dns = about
        .iter()
        .find(|c| c.owner == "DNS filter administrator")
        .unwrap_or_else(|| panic!("the DNS filter's condition: {about:#?}"));
    assert_eq!(dns.sites, ["lincoln"], "{dns:#?}");
    let firewall = about
        .iter()
        .find(|c| c.owner == "network operations (firewall)")
        .unwrap_or_else(|| panic!("the firewall's condition: {about:#?}"));
    assert_eq!(firewall.sites, ["roosevelt"], "{firewall:#?}");
    assert_eq!(
        firewall.action,
        "open outbound TCP 443 to cdn.vendor.example in the firewall — refused in the browser at roosevelt; unless the DNS filter answers cdn.vendor.example with a sinkhole address (0.0.0.0), which the browser refuses the same way but could not show: a native agent at the site tells the two apart"
    );
}
