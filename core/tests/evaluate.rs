//! The per-device verdict: each outcome the agent can report, judged against a profile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::IpAddr;

use fitcheck_core::evaluate::{Status, Verdict, evaluate};
use fitcheck_core::profile::{Browser, OsFamily, Profile};
use fitcheck_core::report::*;

const BASE: &str = r#"format = 1
id = "t"
name = "T"
vendor = "V"
reviewed = "2026-01-01"
sources = ["https://example.com/r"]
"#;

fn profile(body: &str) -> Profile {
    Profile::parse("t.toml", &format!("{BASE}{body}")).unwrap()
}

fn device() -> DeviceFacts {
    DeviceFacts {
        os: OsFacts {
            family: Some(OsFamily::Windows),
            name: "Windows 10 Pro".into(),
            version: Some("10.0.19045".into()),
            distribution: None,
            kernel: None,
            architecture: "x86_64".into(),
        },
        cpu: CpuFacts {
            model: Some("Intel(R) Celeron(R) N4020".into()),
            logical_cores: 2,
            physical_cores: Some(2),
            max_frequency_mhz: Some(2800),
            frequency_source: Some("cpufreq".into()),
        },
        memory: MemoryFacts {
            total_bytes: 3_900_000_000,
        },
        disk: Some(DiskFacts {
            mount_point: "C:\\".into(),
            total_bytes: 64 << 30,
            free_bytes: 10 << 30,
        }),
        gpu: GpuFacts {
            detection: Detection::Detected,
            adapters: vec![],
        },
        screen: ScreenFacts {
            detection: Detection::Detected,
            width: Some(1366),
            height: Some(768),
            source: Some("drm".into()),
        },
        browsers: BrowserFacts {
            detection: Detection::Detected,
            installed: vec![InstalledBrowser {
                name: Browser::Chrome,
                version: "119.0.6045.200".into(),
            }],
        },
        model: None,
        form_factor: None,
        extensions: None,
        software: None,
    }
}

fn dns(req: &str, name: &str, outcome: DnsOutcome, a: &[&str]) -> CheckResult {
    CheckResult::Dns(DnsResult {
        requirement: req.into(),
        target: name.into(),
        outcome,
        evidence: DnsEvidence {
            a: a.iter().map(|s| s.parse::<IpAddr>().unwrap()).collect(),
            sinkhole_reason: (outcome == DnsOutcome::Sinkholed)
                .then(|| "0.0.0.0 is a bogon".into()),
            ..DnsEvidence::default()
        },
        duration_ms: 3.0,
    })
}

fn http(req: &str, outcome: HttpOutcome, status: Option<u16>) -> CheckResult {
    CheckResult::Http(HttpResult {
        requirement: req.into(),
        target: "https://app.example/".into(),
        outcome,
        evidence: HttpEvidence {
            status,
            ..HttpEvidence::default()
        },
        timings: HttpTimings::default(),
    })
}

fn tcp(req: &str, port: u16, outcome: TcpOutcome) -> CheckResult {
    CheckResult::Tcp(TcpResult {
        requirement: req.into(),
        target: format!("app.example:{port}"),
        port,
        outcome,
        address: None,
        detail: None,
        duration_ms: 1.0,
        banner: None,
    })
}

fn get(e: &fitcheck_core::evaluate::Evaluation, id: &str) -> (Status, String, Option<String>) {
    let r = e.requirements.iter().find(|r| r.id == id).unwrap();
    (r.status, r.observed.clone(), r.remedy.clone())
}

#[test]
fn everything_passing_is_compatible() {
    let p = profile(
        "[[dns]]\nname = \"app.example\"\n[[http]]\nurl = \"https://app.example/\"\n[[ports]]\nprotocol = \"tcp\"\nhost = \"app.example\"\nrange = \"8801-8802\"\n",
    );
    let results = [
        dns(
            "dns[0]",
            "app.example",
            DnsOutcome::Resolved,
            &["203.0.113.7"],
        ),
        http("http[0]", HttpOutcome::Reachable, Some(200)),
        tcp("ports[0]", 8801, TcpOutcome::Open),
        tcp("ports[0]", 8802, TcpOutcome::Open),
    ];
    let e = evaluate(&p, &device(), &results);
    assert_eq!(e.verdict, Verdict::Compatible);
    assert_eq!(get(&e, "dns[0]").1, "203.0.113.7");
    assert_eq!(get(&e, "ports[0]").1, "open (8801, 8802)");
    assert!(e.requirements.iter().all(|r| r.remedy.is_none()));
}

#[test]
fn a_blocked_critical_requirement_is_not_compatible_with_a_remedy() {
    let p = profile(
        "[[dns]]\nname = \"app.example\"\n[[ports]]\nprotocol = \"tcp\"\nhost = \"app.example\"\nrange = \"8801-8802\"\n",
    );
    let results = [
        dns("dns[0]", "app.example", DnsOutcome::Sinkholed, &["0.0.0.0"]),
        tcp("ports[0]", 8801, TcpOutcome::Open),
        tcp("ports[0]", 8802, TcpOutcome::Filtered),
    ];
    let e = evaluate(&p, &device(), &results);
    assert_eq!(e.verdict, Verdict::NotCompatible);
    let d = get(&e, "dns[0]");
    assert_eq!(d.0, Status::Fail);
    assert!(d.1.starts_with("sinkholed: 0.0.0.0"), "{}", d.1);
    assert!(d.2.unwrap().contains("allow app.example"));
    let port = get(&e, "ports[0]");
    assert_eq!(port.0, Status::Fail);
    assert_eq!(port.1, "8801 open, 8802 filtered");
    assert_eq!(
        port.2.unwrap(),
        "open outbound TCP 8801-8802 to app.example in the firewall"
    );
}

/// The network lets the URL through, but the device's managed browser refuses it by its own
/// URL policy: a fail that names the entry; where the network fails too, the network's remedy
/// comes first and the policy is said beside it.
#[test]
fn a_browser_url_policy_read_on_the_device_is_a_fail_naming_its_entry() {
    let p = profile(
        "[[http]]\nurl = \"https://app.example/\"\n[[http]]\nurl = \"https://app.example/\"\n",
    );
    let blocked = |r: CheckResult| match r {
        CheckResult::Http(mut h) => {
            h.evidence.browser_policy = vec![BrowserPolicyBlock {
                browser: Browser::Chrome,
                policy: "URLBlocklist".into(),
                entry: "example/".into(),
                source: "/etc/opt/chrome/policies/managed/lab.json".into(),
            }];
            CheckResult::Http(h)
        }
        other => other,
    };
    let results = [
        blocked(http("http[0]", HttpOutcome::Reachable, Some(200))),
        blocked(http("http[1]", HttpOutcome::ConnectionRefused, None)),
    ];
    let e = evaluate(&p, &device(), &results);
    let (status, observed, remedy) = get(&e, "http[0]");
    assert_eq!(status, Status::Fail);
    assert_eq!(
        observed,
        "reachable (status 200) through the network; blocked in the browser by the entry `example/` of Chrome's URLBlocklist (/etc/opt/chrome/policies/managed/lab.json)"
    );
    assert_eq!(
        remedy.as_deref(),
        Some(
            "remove the entry `example/` of Chrome's URLBlocklist (/etc/opt/chrome/policies/managed/lab.json), or add a URLAllowlist entry as specific as the one that blocks https://app.example/"
        )
    );
    let (status, observed, remedy) = get(&e, "http[1]");
    assert_eq!(status, Status::Fail);
    assert!(
        observed.starts_with(
            "connection refused; the browser would refuse it too (the entry `example/`"
        ),
        "{observed}"
    );
    assert_eq!(
        remedy.as_deref(),
        Some("allow outbound TCP 443 to app.example in the firewall")
    );
}

#[test]
fn a_failing_optional_requirement_only_warns() {
    let p = profile(
        "[[http]]\nurl = \"https://app.example/\"\ncritical = false\nexpect_status = [200]\n",
    );
    let e = evaluate(
        &p,
        &device(),
        &[http("http[0]", HttpOutcome::UnexpectedStatus, Some(404))],
    );
    assert_eq!(get(&e, "http[0]").0, Status::Warn);
    assert_eq!(get(&e, "http[0]").1, "unexpected status (status 404)");
    assert_eq!(e.verdict, Verdict::CompatibleWithWarnings);
}

#[test]
fn an_unmeasured_critical_requirement_is_insufficient_evidence() {
    let p = profile("[[http]]\nurl = \"https://app.example/\"\n");
    let e = evaluate(&p, &device(), &[]);
    assert_eq!(
        get(&e, "http[0]"),
        (Status::Unknown, "not checked".into(), None)
    );
    assert_eq!(e.verdict, Verdict::InsufficientEvidence);
}

#[test]
fn unprobeable_ports_are_listed_to_confirm_but_do_not_decide() {
    let p = profile(
        "[[dns]]\nname = \"app.example\"\n[[ports]]\nprotocol = \"udp\"\nhost = \"app.example\"\nrange = \"3478-3481\"\n",
    );
    let e = evaluate(
        &p,
        &device(),
        &[dns(
            "dns[0]",
            "app.example",
            DnsOutcome::Resolved,
            &["203.0.113.7"],
        )],
    );
    let port = get(&e, "ports[0]");
    assert_eq!(port.0, Status::Unknown);
    assert!(port.2.unwrap().contains("outbound UDP 3478-3481"));
    assert_eq!(e.verdict, Verdict::Compatible);
}

#[test]
fn a_port_whose_host_does_not_resolve_fails_with_the_dns_outcome() {
    let p = profile("[[ports]]\nprotocol = \"tcp\"\nhost = \"media.example\"\nport = 443\n");
    let e = evaluate(
        &p,
        &device(),
        &[dns("ports[0]", "media.example", DnsOutcome::Nxdomain, &[])],
    );
    let port = get(&e, "ports[0]");
    assert_eq!(port.0, Status::Fail);
    assert_eq!(
        port.1,
        "not reachable: media.example did not resolve (nxdomain)"
    );
}

#[test]
fn device_minimums_compare_expected_with_observed() {
    let p = profile(
        "[device]\nram_min_gib = 4\ncpu_cores_min = 4\ncpu_min_ghz = 1.1\ndisk_free_min_gib = 20\nscreen_min_width = 1024\nscreen_min_height = 768\n[[device.os]]\nfamily = \"windows\"\nmin_version = \"10\"\n[[device.os]]\nfamily = \"chromeos\"\n[[device.browser]]\nname = \"chrome\"\nmin_version = \"120\"\n[[device.browser]]\nname = \"edge\"\n[device.gpu]\nrequired = true\n",
    );
    let e = evaluate(&p, &device(), &[]);
    assert_eq!(get(&e, "device.os").0, Status::Pass);
    // 3.6 GiB usable is what a 4 GiB machine shows.
    assert_eq!(get(&e, "device.ram_min_gib").0, Status::Pass);
    assert_eq!(
        get(&e, "device.ram_min_gib").1,
        "3.6 GiB usable (4 GiB installed)"
    );
    assert_eq!(
        get(&e, "device.cpu_cores_min"),
        (
            Status::Fail,
            "2 logical cores".into(),
            Some("replace the device with one that has more cores".into())
        )
    );
    assert_eq!(get(&e, "device.cpu_min_ghz").0, Status::Pass);
    assert_eq!(get(&e, "device.disk_free_min_gib").0, Status::Fail);
    assert_eq!(get(&e, "device.screen").0, Status::Pass);
    assert_eq!(get(&e, "device.gpu").1, "no display adapter");
    let browser = get(&e, "device.browser");
    assert_eq!(browser.0, Status::Fail, "Chrome 119 < 120 and no Edge");
    assert_eq!(browser.1, "Chrome 119.0.6045.200");
    assert_eq!(e.verdict, Verdict::NotCompatible);
}

#[test]
fn unsupported_os_and_old_versions_fail_and_say_what_to_do() {
    let mut d = device();
    let p = profile(
        "[device]\n[[device.os]]\nfamily = \"windows\"\nmin_version = \"11\"\n[[device.os]]\nfamily = \"macos\"\nmin_version = \"13\"\n",
    );
    let e = evaluate(&p, &d, &[]);
    assert_eq!(get(&e, "device.os").0, Status::Fail);
    assert_eq!(
        get(&e, "device.os").2.unwrap(),
        "upgrade the OS to Windows 11 or later"
    );
    d.os = OsFacts {
        family: Some(OsFamily::Linux),
        name: "Debian GNU/Linux 12".into(),
        version: Some("12".into()),
        distribution: Some("debian".into()),
        kernel: None,
        architecture: "x86_64".into(),
    };
    let e = evaluate(&p, &d, &[]);
    assert_eq!(
        get(&e, "device.os").2.unwrap(),
        "this OS is not supported; use a device running Windows or macOS"
    );
    let ubuntu_only =
        profile("[device]\n[[device.os]]\nfamily = \"linux\"\ndistribution = \"ubuntu\"\n");
    let os = get(&evaluate(&ubuntu_only, &d, &[]), "device.os");
    assert_eq!(os.0, Status::Fail);
    assert_eq!(
        os.2.unwrap(),
        "debian is not among the supported Linux distributions (ubuntu); use one of them"
    );
}

#[test]
fn undetectable_facts_are_unknown_never_fail() {
    let mut d = device();
    d.screen = ScreenFacts {
        detection: Detection::NoneFound,
        width: None,
        height: None,
        source: Some("drm".into()),
    };
    d.gpu.detection = Detection::Unsupported;
    d.browsers.detection = Detection::Unsupported;
    d.cpu.max_frequency_mhz = None;
    let p = profile(
        "[device]\ncpu_min_ghz = 2\nscreen_min_width = 1024\nscreen_min_height = 768\n[device.gpu]\nrequired = true\n[[device.browser]]\nname = \"chrome\"\n",
    );
    let e = evaluate(&p, &d, &[]);
    for id in [
        "device.screen",
        "device.gpu",
        "device.browser",
        "device.cpu_min_ghz",
    ] {
        assert_eq!(get(&e, id).0, Status::Unknown, "{id}");
    }
    assert_eq!(e.verdict, Verdict::InsufficientEvidence);
}

#[test]
fn network_needs_are_reported_but_never_decide_a_device_verdict() {
    let p = profile(
        "[[dns]]\nname = \"app.example\"\n[network]\ndownload_mbps_per_user = 1.5\nmax_rtt_ms = 100\n",
    );
    let latency = CheckResult::Latency(LatencyResult {
        requirement: "network".into(),
        target: "app.example".into(),
        outcome: MeasureOutcome::Measured,
        method: "icmp".into(),
        probes: 20,
        rtt_min_ms: Some(140.0),
        rtt_ms: Some(150.0),
        rtt_max_ms: Some(170.0),
        jitter_ms: Some(4.0),
        loss_percent: Some(0.0),
        detail: None,
    });
    let e = evaluate(
        &p,
        &device(),
        &[
            dns(
                "dns[0]",
                "app.example",
                DnsOutcome::Resolved,
                &["203.0.113.7"],
            ),
            latency,
        ],
    );
    assert_eq!(get(&e, "network.max_rtt_ms").0, Status::Warn);
    assert_eq!(get(&e, "network.max_rtt_ms").1, "150 ms");
    assert_eq!(get(&e, "network.download_mbps_per_user").0, Status::Unknown);
    assert_eq!(e.verdict, Verdict::CompatibleWithWarnings);
}

fn latency(target: &str, method: &str, rtt: f64, loss: f64) -> CheckResult {
    CheckResult::Latency(LatencyResult {
        requirement: "network".into(),
        target: target.into(),
        outcome: MeasureOutcome::Measured,
        method: method.into(),
        probes: 20,
        rtt_min_ms: Some(rtt),
        rtt_ms: Some(rtt),
        rtt_max_ms: Some(rtt),
        jitter_ms: Some(1.0),
        loss_percent: Some(loss),
        detail: None,
    })
}

#[test]
fn only_round_trips_to_the_latency_host_are_judged() {
    let p = profile(
        "[[http]]\nurl = \"https://optional.example/\"\ncritical = false\n[[http]]\nurl = \"https://App.example:8443/start\"\n[network]\nmax_rtt_ms = 100\nmax_loss_percent = 1\n",
    );
    assert_eq!(p.latency_host().as_deref(), Some("app.example"));
    // A browser agent's round trips to its controller come first; they are not the product's.
    let e = evaluate(
        &p,
        &device(),
        &[
            latency("fitcheck.district.example", "http_fetch", 2.0, 0.0),
            latency("app.example", "http_fetch", 150.0, 5.0),
        ],
    );
    assert_eq!(get(&e, "network.max_rtt_ms").0, Status::Warn);
    assert_eq!(
        get(&e, "network.max_rtt_ms").1,
        "150 ms (timed HTTP requests, the server's time to answer included)"
    );
    // HTTP requests ride on TCP: their failures are not packet loss, so loss stays unknown.
    let (status, observed, _) = get(&e, "network.max_loss_percent");
    assert_eq!(status, Status::Unknown);
    assert!(observed.contains("HTTP requests"), "{observed}");

    // The controller alone says nothing about the product's path.
    let e = evaluate(
        &p,
        &device(),
        &[latency("fitcheck.district.example", "http_fetch", 2.0, 0.0)],
    );
    assert_eq!(get(&e, "network.max_rtt_ms").0, Status::Unknown);

    // ICMP to the product: both judged.
    let e = evaluate(&p, &device(), &[latency("app.example", "icmp", 20.0, 5.0)]);
    assert_eq!(get(&e, "network.max_rtt_ms").0, Status::Pass);
    assert_eq!(get(&e, "network.max_rtt_ms").1, "20 ms");
    assert_eq!(get(&e, "network.max_loss_percent").0, Status::Warn);
}

#[test]
fn the_latency_host_is_the_probe_host_then_a_critical_url_then_a_dns_name() {
    let host = |body: &str| profile(body).latency_host();
    assert_eq!(
        host("[[dns]]\nname = \"a.example\"\n[[http]]\nurl = \"https://b.example/\"\n[network]\nmax_jitter_ms = 30\nprobe_host = \"c.example\"\n").as_deref(),
        Some("c.example")
    );
    assert_eq!(
        host("[[dns]]\nname = \"a.example\"\n[[http]]\nurl = \"https://b.example/\"\n[network]\nmax_jitter_ms = 30\n").as_deref(),
        Some("b.example")
    );
    assert_eq!(
        host("[[dns]]\nname = \"a.example\"\n[network]\nmax_rtt_ms = 30\n").as_deref(),
        Some("a.example")
    );
    // No tolerance: nothing to compare a measurement with, so none is planned.
    assert_eq!(
        host("[[dns]]\nname = \"a.example\"\n[network]\ndownload_mbps_per_user = 1\n"),
        None
    );
}

#[test]
fn reports_round_trip_and_reject_unknown_fields() {
    let r = http("http[0]", HttpOutcome::BlockedByFilter, Some(403));
    let json = serde_json::to_value(&r).unwrap();
    assert_eq!(json["check"], "http");
    assert_eq!(json["outcome"], "blocked_by_filter");
    let back: CheckResult = serde_json::from_value(json.clone()).unwrap();
    assert_eq!(back, r);
    let mut extra = json;
    extra["user_name"] = "jsmith".into();
    assert!(serde_json::from_value::<CheckResult>(extra).is_err());
}

#[test]
fn filtered_udp_media_says_whether_tcp_443_is_a_fallback() {
    let p = profile(
        "[[ports]]\nprotocol = \"udp\"\nhost = \"media.example\"\nport = 3478\nprobe = \"stun\"\n",
    );
    let udp = CheckResult::Udp(UdpResult {
        requirement: "ports[0]".into(),
        target: "media.example:3478".into(),
        port: 3478,
        outcome: UdpOutcome::NoAnswer,
        address: None,
        attempts: 3,
        detail: None,
        duration_ms: 3500.0,
    });
    let e = evaluate(
        &p,
        &device(),
        &[udp.clone(), tcp("ports[0].tcp443", 443, TcpOutcome::Open)],
    );
    let (status, observed, remedy) = get(&e, "ports[0]");
    assert_eq!(status, Status::Fail);
    assert_eq!(
        observed,
        "3478 no answer; TCP 443 open: UDP is filtered, media will fall back to TCP"
    );
    assert!(remedy.unwrap().contains("open outbound UDP 3478"));
    let e = evaluate(
        &p,
        &device(),
        &[
            udp.clone(),
            tcp("ports[0].tcp443", 443, TcpOutcome::Filtered),
        ],
    );
    assert!(
        get(&e, "ports[0]")
            .1
            .ends_with("TCP 443 filtered too (no answer): no media path")
    );
    // Refused is the host's answer (nothing listens), not a block: said as seen.
    let e = evaluate(
        &p,
        &device(),
        &[udp, tcp("ports[0].tcp443", 443, TcpOutcome::Refused)],
    );
    let observed = get(&e, "ports[0]").1;
    assert!(
        observed.ends_with("TCP 443 refused by the host (nothing listens there), so a fallback to TCP could not be checked on this host"),
        "{observed}"
    );
    assert!(!observed.contains("blocked"), "{observed}");
}

/// Every requirement that is not met says what kind of fix it takes, decided where it is
/// judged: soldered parts and the device's own platform take other devices, software takes an
/// update, the network takes configuration; a pass takes none.
#[test]
fn each_shortfall_names_its_kind_of_fix() {
    use fitcheck_core::evaluate::FixKind;
    let fix = |e: &fitcheck_core::evaluate::Evaluation, id: &str| {
        e.requirements
            .iter()
            .find(|r| r.id == id)
            .and_then(|r| r.fix)
    };
    let p = profile(
        "[device]\nram_min_gib = 512\ncpu_cores_min = 4\ndisk_free_min_gib = 20\n[[device.os]]\nfamily = \"windows\"\nmin_version = \"11\"\n[[device.browser]]\nname = \"chrome\"\nmin_version = \"120\"\n[device.gpu]\nrequired = true\n",
    );
    let e = evaluate(&p, &device(), &[]);
    assert_eq!(fix(&e, "device.ram_min_gib"), Some(FixKind::ReplaceDevice));
    assert_eq!(
        fix(&e, "device.cpu_cores_min"),
        Some(FixKind::ReplaceDevice)
    );
    assert_eq!(fix(&e, "device.gpu"), Some(FixKind::ReplaceDevice));
    assert_eq!(
        fix(&e, "device.disk_free_min_gib"),
        Some(FixKind::UpdateSoftware)
    );
    assert_eq!(fix(&e, "device.browser"), Some(FixKind::UpdateSoftware));
    // An old version of a supported OS is an update; an OS family the profile does not support
    // is other devices.
    assert_eq!(fix(&e, "device.os"), Some(FixKind::UpdateSoftware));
    let mac_only = profile("[device]\n[[device.os]]\nfamily = \"macos\"\nmin_version = \"13\"\n");
    assert_eq!(
        fix(&evaluate(&mac_only, &device(), &[]), "device.os"),
        Some(FixKind::ReplaceDevice)
    );
    let net = profile("[[dns]]\nname = \"app.example\"\n");
    let blocked = [dns(
        "dns[0]",
        "app.example",
        DnsOutcome::Sinkholed,
        &["0.0.0.0"],
    )];
    assert_eq!(
        fix(&evaluate(&net, &device(), &blocked), "dns[0]"),
        Some(FixKind::ConfigureNetwork)
    );
    let resolved = [dns(
        "dns[0]",
        "app.example",
        DnsOutcome::Resolved,
        &["192.0.2.1"],
    )];
    assert_eq!(fix(&evaluate(&net, &device(), &resolved), "dns[0]"), None);
}

/// A desktop takes parts: its memory, graphics, monitor and drive are an upgrade, where the
/// same shortfall on a portable (or a device whose enclosure is not known) takes another
/// device. A volume smaller than the free space needed cannot be freed to it.
#[test]
fn a_desktop_takes_parts_where_a_portable_is_replaced() {
    use fitcheck_core::evaluate::FixKind;
    let p = profile(
        "[device]\nram_min_gib = 8\ncpu_cores_min = 4\ndisk_free_min_gib = 100\nscreen_min_width = 1920\nscreen_min_height = 1080\n[device.gpu]\nrequired = true\n",
    );
    let judged = |form: Option<FormFactor>| {
        let mut d = device();
        d.form_factor = form;
        let e = evaluate(&p, &d, &[]);
        let of = |id: &str| {
            let r = e.requirements.iter().find(|r| r.id == id).unwrap();
            (r.fix, r.remedy.clone().unwrap_or_default())
        };
        [
            of("device.ram_min_gib"),
            of("device.gpu"),
            of("device.screen"),
            of("device.disk_free_min_gib"),
            of("device.cpu_cores_min"),
        ]
    };
    let desktop = judged(Some(FormFactor::Desktop));
    let want = [
        (FixKind::UpgradePart, "add memory"),
        (FixKind::UpgradePart, "fit a graphics card"),
        (FixKind::UpgradePart, "connect a monitor"),
        (FixKind::UpgradePart, "fit a drive larger than 100 GiB"),
        // A processor is the device, desktop or not.
        (FixKind::ReplaceDevice, "replace the device"),
    ];
    for ((fix, remedy), (want_fix, want_words)) in desktop.iter().zip(want) {
        assert_eq!(*fix, Some(want_fix), "{remedy}");
        assert!(remedy.starts_with(want_words), "{remedy}");
    }
    for form in [None, Some(FormFactor::Portable), Some(FormFactor::AllInOne)] {
        for (fix, remedy) in judged(form) {
            assert_eq!(fix, Some(FixKind::ReplaceDevice), "{form:?}: {remedy}");
        }
    }
    // A volume large enough that freeing space reaches the need is a software matter.
    let p = profile("[device]\ndisk_free_min_gib = 20\n");
    let mut d = device();
    d.form_factor = Some(FormFactor::Desktop);
    let e = evaluate(&p, &d, &[]);
    assert_eq!(e.requirements[0].fix, Some(FixKind::UpdateSoftware));
}

/// A server error from the vendor's own server (a publicly trusted certificate, no proxy or
/// filter in the path) is the vendor's to fix; the same status through a proxy, from a server
/// the public roots do not vouch for, or a client error is the district's to look into.
#[test]
fn only_the_vendors_own_server_failing_is_the_vendors_fix() {
    use fitcheck_core::evaluate::FixKind;
    let p = profile("[[http]]\nurl = \"https://app.example/\"\n");
    let answer = |status: u16, public: bool, proxy: Option<&str>, via: bool| {
        let mut headers = std::collections::BTreeMap::new();
        if via {
            headers.insert("via".to_owned(), "1.1 gateway".to_owned());
        }
        let r = CheckResult::Http(HttpResult {
            requirement: "http[0]".into(),
            target: "https://app.example/".into(),
            outcome: HttpOutcome::UnexpectedStatus,
            evidence: HttpEvidence {
                status: Some(status),
                proxy: proxy.map(str::to_owned),
                headers,
                certificate: Some(CertificateEvidence {
                    subject: "CN=app.example".into(),
                    issuer: "CN=Public CA".into(),
                    not_after: "2027-01-01T00:00:00Z".into(),
                    trusted_by_system: Some(true),
                    publicly_trusted: Some(public),
                }),
                ..HttpEvidence::default()
            },
            timings: HttpTimings::default(),
        });
        let e = evaluate(&p, &device(), &[r]);
        (
            e.requirements[0].fix,
            e.requirements[0].remedy.clone().unwrap_or_default(),
        )
    };
    let (fix, remedy) = answer(503, true, None, false);
    assert_eq!(fix, Some(FixKind::NonePossible));
    assert!(
        remedy.starts_with("ask V to fix https://app.example/"),
        "{remedy}"
    );
    for (status, public, proxy, via) in [
        (503, true, Some("http://proxy:3128"), false),
        (503, true, None, true),
        (503, false, None, false),
        (404, true, None, false),
    ] {
        assert_eq!(
            answer(status, public, proxy, via).0,
            Some(FixKind::ConfigureNetwork),
            "{status} public={public} proxy={proxy:?} via={via}"
        );
    }
}

#[test]
fn a_requirements_title_and_expectation_come_from_the_profile_whatever_the_device() {
    let p = profile(
        r#"
[[dns]]
name = "a.example"

[[http]]
url = "https://a.example/"
critical = false

[[ports]]
protocol = "tcp"
host = "m.example"
range = "8801-8802"

[network]
download_mbps_per_user = 2.0
max_rtt_ms = 150

[device]
ram_min_gib = 4
cpu_cores_min = 2
screen_min_width = 1366
screen_min_height = 768
disk_free_min_gib = 5

[[device.os]]
family = "windows"
min_version = "10.0.19041"

[[device.os]]
family = "chromeos"
min_version = "120"

[[device.browser]]
name = "chrome"
min_version = "120"
"#,
    );
    let heads = fitcheck_core::evaluate::requirements(&p);
    assert!(heads.len() >= 9, "{heads:?}");
    for device in [device(), DeviceFacts::unknown()] {
        let judged = evaluate(
            &p,
            &device,
            &[dns(
                "dns[0]",
                "a.example",
                DnsOutcome::Resolved,
                &["192.0.2.1"],
            )],
        );
        let seen: Vec<_> = judged
            .requirements
            .iter()
            .map(|o| {
                (
                    o.id.clone(),
                    o.kind,
                    o.title.clone(),
                    o.critical,
                    o.expected.clone(),
                )
            })
            .collect();
        let want: Vec<_> = heads
            .iter()
            .map(|h| {
                (
                    h.id.clone(),
                    h.kind,
                    h.title.clone(),
                    h.critical,
                    h.expected.clone(),
                )
            })
            .collect();
        assert_eq!(seen, want);
    }
}

#[test]
fn the_worst_of_several_statuses_is_their_maximum() {
    let worst = |s: &[Status]| s.iter().copied().max();
    assert_eq!(
        worst(&[Status::Pass, Status::Unknown]),
        Some(Status::Unknown)
    );
    assert_eq!(worst(&[Status::Unknown, Status::Warn]), Some(Status::Warn));
    assert_eq!(
        worst(&[Status::Fail, Status::Warn, Status::Pass]),
        Some(Status::Fail)
    );
    for s in [Status::Pass, Status::Unknown, Status::Warn, Status::Fail] {
        assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
    }
}

#[test]
fn every_outcome_word_is_the_reports_word() {
    fn check<T: serde::Serialize + Copy>(all: &[T], word: impl Fn(T) -> &'static str) {
        for o in all {
            assert_eq!(serde_json::to_value(o).unwrap(), word(*o));
        }
    }
    check(DnsOutcome::ALL, DnsOutcome::as_str);
    check(HttpOutcome::ALL, HttpOutcome::as_str);
    check(TcpOutcome::ALL, TcpOutcome::as_str);
    check(UdpOutcome::ALL, UdpOutcome::as_str);
    check(MeasureOutcome::ALL, MeasureOutcome::as_str);
    check(DeviceOutcome::ALL, DeviceOutcome::as_str);
    assert_eq!(DnsOutcome::ALL.len(), 7);
    assert_eq!(HttpOutcome::ALL.len(), 9);
}

/// What the browser agent reports of a Chromebook on ChromeOS 131 (the node tests build this
/// very file from a faked platform and `chrome.management`), judged against a window that
/// excludes 131 and the software its profile names.
#[test]
fn a_chromebook_on_an_excluded_release_is_told_the_ways_around_it() {
    let text = include_str!("../../browser-agent/test/fixtures/chromeos-131-device.json");
    let d: DeviceFacts = serde_json::from_str(text).unwrap();
    let p = profile(
        "[device]\n[[device.os]]\nfamily = \"chromeos\"\nmin_version = \"130\"\nexclude_versions = [\"131\"]\n\
         [[device.browser]]\nname = \"chrome\"\nexclude_versions = [\"131.0.6778.85\"]\n\
         [[software]]\nkind = \"chrome_extension\"\nid = \"inoeonmfapjbbkmdafoankkfajkcphgd\"\nname = \"Read&Write\"\nmin_version = \"2.0\"\n\
         [[software]]\nkind = \"chrome_app\"\nid = \"cccccccccccccccccccccccccccccccc\"\nname = \"Old app\"\n\
         [[software]]\nkind = \"chrome_extension\"\nid = \"dddddddddddddddddddddddddddddddd\"\nname = \"Missing\"\n\
         [[software]]\nkind = \"kiosk_app\"\nid = \"mdmkkicfmmkgmpkmkdikhlbggogpicma\"\nname = \"TestNav\"\n\
         [[software]]\nkind = \"package\"\nid = \"lab-client\"\nname = \"Lab client\"\n",
    );
    let e = evaluate(&p, &d, &[]);
    let os = get(&e, "device.os");
    assert_eq!(os.0, Status::Fail);
    assert_eq!(
        os.2.as_deref(),
        Some("ChromeOS 131 is excluded by the vendor: update to 132 or later, or hold at 130")
    );
    let browser = get(&e, "device.browser");
    assert_eq!(browser.0, Status::Fail);
    assert_eq!(
        browser.2.as_deref(),
        Some(
            "Chrome 131.0.6778.85 is excluded by the vendor (131.0.6778.85): update to 131.0.6778.86 or later, or hold at 131.0.6778.84"
        )
    );
    assert_eq!(get(&e, "software[0]").0, Status::Pass);
    let disabled = get(&e, "software[1]");
    assert_eq!(disabled.0, Status::Fail);
    assert!(disabled.2.unwrap().starts_with("enable Old app"));
    assert_eq!(get(&e, "software[2]").0, Status::Fail);
    assert_eq!(get(&e, "software[3]").0, Status::Unknown);
    // A package on a Chromebook: not a kind ChromeOS has.
    assert_eq!(get(&e, "software[4]").1, "not needed on ChromeOS");
    assert_eq!(e.verdict, Verdict::NotCompatible);
}

/// Each network shortfall carries its cause, decided with its status: the layer, what it is
/// about and who must act; a pass, an unknown and a device requirement carry none.
#[test]
fn each_network_shortfall_carries_its_typed_cause() {
    use fitcheck_core::cause::{Cause, Side};
    use fitcheck_core::profile::Protocol;
    let p = profile(
        "[[dns]]\nname = \"app.example\"\n[[dns]]\nname = \"cdn.example\"\n\
         [[http]]\nurl = \"https://app.example/\"\n[[http]]\nurl = \"https://app.example/b\"\n\
         [[ports]]\nprotocol = \"tcp\"\nhost = \"app.example\"\nrange = \"8801-8802\"\n\
         [[ports]]\nprotocol = \"tcp\"\nhost = \"media.example\"\nport = 443\n\
         [[ports]]\nprotocol = \"tcp\"\nhost = \"up.example\"\nport = 22\n\
         [device]\nram_min_gib = 8\n",
    );
    let mut dns_blocked = http("http[0]", HttpOutcome::DnsFailed, None);
    if let CheckResult::Http(h) = &mut dns_blocked {
        h.evidence.blocking_layer = Some(BlockingLayer::Dns);
    }
    let results = [
        dns("dns[0]", "app.example", DnsOutcome::Nxdomain, &[]),
        dns("dns[1]", "cdn.example", DnsOutcome::Timeout, &[]),
        dns_blocked,
        http("http[1]", HttpOutcome::Timeout, None),
        tcp("ports[0]", 8801, TcpOutcome::Filtered),
        tcp("ports[0]", 8802, TcpOutcome::Open),
        dns(
            "ports[1]",
            "media.example",
            DnsOutcome::Sinkholed,
            &["0.0.0.0"],
        ),
        tcp("ports[2]", 22, TcpOutcome::Open),
    ];
    let e = evaluate(&p, &device(), &results);
    let cause = |id: &str| {
        e.requirements
            .iter()
            .find(|r| r.id == id)
            .unwrap()
            .cause
            .clone()
    };
    let host = |h: &str| h.to_owned();
    assert_eq!(
        cause("dns[0]"),
        Some(Cause::DnsFilter {
            host: host("app.example"),
            vendor: None
        })
    );
    assert_eq!(
        cause("dns[1]"),
        Some(Cause::Resolver {
            host: host("cdn.example")
        }),
        "a resolver that timed out is no filter"
    );
    // The web check's name failure, explained by the lookup of the same name: NXDOMAIN.
    assert_eq!(
        cause("http[0]"),
        Some(Cause::DnsFilter {
            host: host("app.example"),
            vendor: None
        })
    );
    assert_eq!(
        cause("http[1]"),
        Some(Cause::VendorAnswer {
            host: Some(host("app.example"))
        })
    );
    assert_eq!(
        cause("ports[0]"),
        Some(Cause::Firewall {
            protocol: Protocol::Tcp,
            ports: "8801-8802".into(),
            host: host("app.example"),
            address_unseen: false,
        }),
        "the profile's whole range, not the sampled port"
    );
    assert_eq!(
        cause("ports[1]"),
        Some(Cause::DnsFilter {
            host: host("media.example"),
            vendor: None
        })
    );
    assert_eq!(cause("ports[2]"), None, "a pass has no cause");
    assert_eq!(
        cause("device.ram_min_gib"),
        None,
        "a device's shortfall is no network cause"
    );
    assert_eq!(cause("dns[0]").map(|c| c.side()), Some(Side::District));
}

/// The vendor's own server answering 5xx over a publicly trusted connection, nothing in the
/// path: the vendor must act.
#[test]
fn the_vendors_failing_server_is_the_vendors_cause() {
    use fitcheck_core::cause::{Cause, Side};
    let p = profile("[[http]]\nurl = \"https://app.example/\"\n");
    let mut r = http("http[0]", HttpOutcome::UnexpectedStatus, Some(503));
    if let CheckResult::Http(h) = &mut r {
        h.evidence.certificate = Some(CertificateEvidence {
            subject: "CN=app.example".into(),
            issuer: "CN=Public CA".into(),
            not_after: "2027-01-01T00:00:00Z".into(),
            trusted_by_system: Some(true),
            publicly_trusted: Some(true),
        });
    }
    let e = evaluate(&p, &device(), &[r]);
    let cause = e.requirements[0].cause.clone();
    assert_eq!(
        cause,
        Some(Cause::VendorServer {
            host: "app.example".into(),
            status: Some(503)
        })
    );
    assert_eq!(cause.map(|c| c.side()), Some(Side::Vendor));
}
