//! A realistic evaluation seeded through the real API, for the page and browser tests: the
//! profile uploaded, agents enrolled at two schools, and reports like the recommendation's
//! golden ones posted to `/api/agent/v1/reports`, so the recommendation has conditions of
//! every kind, a device model to upgrade and a throughput chart.

use fitcheck_core::profile::Profile;
use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::fixtures::{dns, http, latency, passing, tcp, udp};
use crate::helpers::{Agent, Auth, TestApp};

/// The product the golden recommendations use: one of each kind of requirement.
pub const LAB_PROFILE: &str = include_str!("../data/recommend/lab-product.toml");

/// What a device is.
#[derive(Debug, Clone)]
pub struct Device {
    pub site: String,
    pub model: &'static str,
    pub ram_gib: u64,
    pub os_version: &'static str,
}

pub fn chromebook(site: &str) -> Device {
    Device {
        site: site.to_owned(),
        model: "Acme Chromebook 11",
        ram_gib: 8,
        os_version: "126.0.6478",
    }
}

pub fn old_chromebook(site: &str) -> Device {
    Device {
        site: site.to_owned(),
        model: "Acme Chromebook 3",
        ram_gib: 2,
        os_version: "118.0.5993",
    }
}

/// Lincoln's results: the DNS filter sinkholes the CDN, e2guardian blocks the app, the path
/// loses packets, and two devices together measure 80 of the 120 Mbit/s 60 users need.
pub fn lincoln_blocked() -> Vec<Value> {
    let mut r = passing(40.0, 30.0);
    r[1] = dns(
        1,
        "cdn.vendor.example",
        "sinkholed",
        json!({"a": ["146.112.61.106"], "sinkhole_reason": "known block address", "signature": {"vendor": "Cisco Umbrella", "id": "umbrella-block", "matched": "146.112.61.106"}}),
    );
    r[2] = http(
        0,
        "https://app.vendor.example/",
        "blocked_by_filter",
        json!({"blocking_layer": "http_filter", "signature": {"vendor": "e2guardian", "id": "e2guardian-access-denied", "matched": "title"}, "headers": {"server": "e2guardian"}}),
    );
    r[6] = latency(40.0, 4.5);
    r
}

/// Roosevelt's results: the CDN's TLS is re-signed by a FortiGate, the media ports are closed.
pub fn roosevelt_inspected() -> Vec<Value> {
    let mut r = passing(200.0, 100.0);
    r[3] = http(
        1,
        "https://cdn.vendor.example/",
        "tls_intercepted",
        json!({"blocking_layer": "tls_interception", "certificate": {"subject": "CN=cdn.vendor.example", "issuer": "CN=Fortinet_CA_SSL", "not_after": "2027-01-01T00:00:00Z", "trusted_by_system": true, "publicly_trusted": false}}),
    );
    r[4] = tcp("filtered");
    r[5] = udp("no_answer");
    r
}

/// A report of `device` made by `agent`, with the agent's own evaluation as a real agent
/// writes it.
pub fn report(agent: &Agent, device: &Device, digest: &str, results: Vec<Value>) -> Value {
    let (vendor, product) = device
        .model
        .split_once(' ')
        .unwrap_or(("Acme", device.model));
    let device_facts = json!({
        "os": {"family": "chromeos", "name": format!("ChromeOS {}", device.os_version), "version": device.os_version, "architecture": "x86_64"},
        "cpu": {"model": "Intel Celeron N4020", "logical_cores": 2},
        "memory": {"total_bytes": device.ram_gib * (1 << 30)},
        "gpu": {"detection": "none_found", "adapters": []},
        "screen": {"detection": "detected", "width": 1366, "height": 768, "source": "drm"},
        "browsers": {"detection": "detected", "installed": [{"name": "chrome", "version": device.os_version}]},
        "model": {"vendor": vendor, "product": product},
    });
    let mut value = json!({
        "schema": "fitcheck.report/v1",
        "report_id": Uuid::new_v4(),
        "agent": {"agent_id": agent.id, "version": "0.1.0", "labels": agent.labels},
        "profile": {"id": "lab-product", "name": "Lab Product", "vendor": "Lab Vendor", "digest": digest},
        "started_at": "2026-11-20T10:00:00Z",
        "finished_at": "2026-11-20T10:01:00Z",
        "device": device_facts,
        "results": results,
        "notes": ["Web filters that run inside a managed browser are invisible to network checks."],
    });
    let parsed: fitcheck_core::report::Report =
        serde_json::from_value(value.clone()).expect("the scenario's report is a valid report");
    let profile = Profile::parse("lab-product.toml", LAB_PROFILE).expect("the lab profile");
    let own = fitcheck_core::evaluate::evaluate(&profile, &parsed.device, &parsed.results);
    value["evaluation"] = serde_json::to_value(own).expect("an evaluation serialises");
    value
}

/// A seeded evaluation.
#[derive(Debug)]
pub struct Scenario {
    pub admin: String,
    pub profile: String,
    pub digest: String,
    pub evaluation: String,
    pub agents: Vec<(Agent, Device)>,
    /// Report ids, in the order posted.
    pub reports: Vec<String>,
}

/// Uploads the lab profile (once; the same file again is the same profile).
pub async fn upload_lab_profile(app: &TestApp, admin: &str) -> (String, String) {
    let (s, p) = app
        .upload_profile(admin, "lab-product.toml", LAB_PROFILE)
        .await;
    assert!(s.is_success(), "{p}");
    (
        p["id"].as_str().unwrap().to_owned(),
        p["digest"].as_str().unwrap().to_owned(),
    )
}

/// Opens an evaluation of the lab profile at lincoln (60 users) and roosevelt (120 users) with
/// a coordinated throughput run; `sites` empty means every site.
pub async fn open_evaluation(
    app: &TestApp,
    admin: &str,
    profile: &str,
    title: &str,
    sites: &[&str],
) -> String {
    let (s, e) = app
        .post(
            "/api/v1/evaluations",
            Auth::Session(admin),
            &json!({
                "title": title,
                "profile": profile,
                "sites": sites,
                "concurrent_users": if sites.is_empty() { json!({}) } else { json!({"lincoln": 60, "roosevelt": 120}) },
                "window_end": "2099-01-01T00:00:00Z",
                "bandwidth": {"start_at": "2026-11-20T10:00:30Z", "max_seconds": 10},
                "proposal": {
                    "sponsor": "Middle school mathematics",
                    "deadline": "2026-12-10",
                    "data_needs": ["nightly roster upload (student names, ids, classes)"],
                    "budget_code": "IT-2027-031"
                },
                "min_devices_per_site": 2,
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    e["id"].as_str().unwrap().to_owned()
}

/// The whole scenario: two sites, five devices (one an old model), every kind of condition.
pub async fn seed(app: &TestApp) -> Scenario {
    let admin = app.admin().await;
    let (profile, digest) = upload_lab_profile(app, &admin).await;
    let evaluation = open_evaluation(
        app,
        &admin,
        &profile,
        "Lab Product for grades 6-8",
        &["lincoln", "roosevelt"],
    )
    .await;
    let (_, secret) = app.secret(&admin).await;
    let devices = [
        chromebook("lincoln"),
        chromebook("lincoln"),
        chromebook("roosevelt"),
        chromebook("roosevelt"),
        old_chromebook("roosevelt"),
    ];
    let mut agents = Vec::new();
    let mut reports = Vec::new();
    for d in devices {
        let agent = app
            .enroll(&secret, &[("site", d.site.as_str()), ("group", "lab")])
            .await;
        let results = if d.site == "lincoln" {
            lincoln_blocked()
        } else {
            roosevelt_inspected()
        };
        let body = report(&agent, &d, &digest, results);
        let (s, v) = app.submit(&agent, &body, Some(&evaluation)).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        reports.push(body["report_id"].as_str().unwrap().to_owned());
        agents.push((agent, d));
    }
    Scenario {
        admin,
        profile,
        digest,
        evaluation,
        agents,
        reports,
    }
}

/// A second run of the same evaluation after the web filter was fixed at lincoln: the same
/// agents report again, lincoln's filter now lets the product through.
pub async fn second_run(app: &TestApp, s: &Scenario) -> String {
    let evaluation = open_evaluation(
        app,
        &s.admin,
        &s.profile,
        "Lab Product for grades 6-8, after the filter change",
        &["lincoln", "roosevelt"],
    )
    .await;
    for (agent, d) in &s.agents {
        let results = if d.site == "lincoln" {
            let mut r = passing(40.0, 30.0);
            r[6] = latency(40.0, 4.5);
            r
        } else {
            roosevelt_inspected()
        };
        let body = report(agent, d, &s.digest, results);
        let (st, v) = app.submit(agent, &body, Some(&evaluation)).await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }
    evaluation
}
