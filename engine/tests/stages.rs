//! Each stage of the engine on its own, from judgements written by hand: what it decides from
//! exactly the devices given, without the other stages.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeSet;

use fitcheck_core::evaluate::{FixKind, Status};
use fitcheck_core::profile::{Browser, Profile, Protocol};
use fitcheck_core::report::BrowserPolicyBlock;
use fitcheck_engine::judge::{Cause, Series, Throughput};
use fitcheck_engine::{
    ConditionKind, Fleet, FleetVerdict, Input, JUDGEMENT_VERSION, Judged, Judgement, Plan,
    ScopeAgent, capacity, coverage, devices, network, verdict,
};

/// Two DNS names, a TCP port, a throughput need per user and a RAM minimum: requirements
/// `dns[0]`, `dns[1]`, `ports[0]`, `network.download_mbps_per_user`, `device.ram_min_gib`.
const PROFILE: &str = r#"format = 1
id = "stage"
name = "Stage Product"
vendor = "Stage Vendor"
reviewed = "2026-11-01"
sources = ["https://vendor.example/requirements"]

[[dns]]
name = "app.vendor.example"

[[dns]]
name = "cdn.vendor.example"

[[ports]]
protocol = "tcp"
host = "media.vendor.example"
port = 8801

[network]
download_mbps_per_user = 2.0

[device]
ram_min_gib = 4
"#;

fn profile() -> Profile {
    Profile::parse("stage.toml", PROFILE).unwrap()
}

fn pass(observed: &str) -> Judged {
    Judged {
        status: Status::Pass,
        observed: observed.into(),
        remedy: None,
        fix: None,
        cause: None,
    }
}

fn fail(observed: &str, fix: FixKind, cause: Option<Cause>) -> Judged {
    Judged {
        status: Status::Fail,
        observed: observed.into(),
        remedy: Some("do something".into()),
        fix: Some(fix),
        cause: cause.map(Box::new),
    }
}

fn unknown() -> Judged {
    Judged {
        status: Status::Unknown,
        observed: "not measured on this device (judged per site)".into(),
        remedy: None,
        fix: None,
        cause: None,
    }
}

/// A device at `site` of `model` whose outcomes are, in profile order, everything passing but
/// what `change` alters.
fn device(n: u32, site: &str, model: &str, change: impl FnOnce(&mut Vec<Judged>)) -> Judgement {
    let mut outcomes = vec![
        pass("198.51.100.10"),
        pass("198.51.100.11"),
        pass("open"),
        unknown(),
        pass("8.0 GiB usable (8 GiB installed)"),
    ];
    change(&mut outcomes);
    Judgement {
        version: JUDGEMENT_VERSION,
        profile_digest: "sha256:stage".into(),
        report_id: format!("019ab3c2-5d10-7000-8000-{n:012}"),
        agent_id: format!("00000000-0000-4000-8000-{n:012}"),
        site: site.into(),
        received_at_ms: 1_000 + i64::from(n),
        model: model.into(),
        device: format!("agent {n:08}"),
        agent_version: "0.1.0".into(),
        kind: Default::default(),
        os_family: None,
        outcomes,
        bandwidth: None,
        notes: Vec::new(),
        transfer: None,
    }
}

fn plan(sites: &[&str], users: u32) -> Plan {
    Plan {
        sites: sites.iter().map(|s| (*s).to_owned()).collect(),
        concurrent_users: sites.iter().map(|s| ((*s).to_owned(), users)).collect(),
        min_devices_per_site: 2,
        coordinated: true,
        window_start: None,
        window_end: "2026-12-01T00:00:00Z".into(),
        proposal: Default::default(),
        data_senders: None,
        os_updates_end: Default::default(),
    }
}

fn input<'a>(
    plan: &'a Plan,
    profile: &'a Profile,
    agents: &'a [ScopeAgent],
    judgements: &'a [Judgement],
) -> Input<'a> {
    Input {
        evaluation_id: "e",
        title: "t",
        plan,
        profile,
        profile_digest: "sha256:stage",
        agents,
        judgements,
        generated_at: "2026-11-30T00:00:00Z",
        sis: None,
    }
}

fn agents(judgements: &[Judgement]) -> Vec<ScopeAgent> {
    judgements
        .iter()
        .map(|j| ScopeAgent {
            id: j.agent_id.clone(),
            site: Some(j.site.clone()),
        })
        .collect()
}

#[test]
fn gathering_keeps_each_agents_latest_judgement() {
    let (profile, plan) = (profile(), plan(&["east"], 0));
    let old = device(1, "east", "M", |o| {
        o[0] = fail("sinkholed", FixKind::ConfigureNetwork, None)
    });
    let mut new = device(1, "east", "M", |_| {});
    new.report_id = "newer".into();
    new.received_at_ms = old.received_at_ms + 1;
    let all = [new.clone(), old];
    let fleet = Fleet::gather(&input(&plan, &profile, &[], &all));
    assert_eq!(fleet.devices.len(), 1);
    assert_eq!(fleet.devices[0].report_id, "newer");
    assert_eq!(fleet.at("east").len(), 1);
}

#[test]
fn coverage_names_who_enrolls_how_many_devices_where() {
    let (profile, plan) = (profile(), plan(&["east", "west", "north"], 0));
    let judged = [
        device(1, "east", "M", |_| {}),
        device(2, "east", "M", |_| {}),
        device(3, "west", "M", |_| {}),
    ];
    let mut scope = agents(&judged);
    scope.push(ScopeAgent {
        id: "idle".into(),
        site: Some("north".into()),
    });
    let fleet = Fleet::gather(&input(&plan, &profile, &scope, &judged));
    let (sites, gaps) = coverage::assess(&fleet, &scope);
    let enough: Vec<(&str, bool)> = sites.iter().map(|c| (c.site.as_str(), c.enough)).collect();
    assert_eq!(enough, [("east", true), ("north", false), ("west", false)]);
    assert_eq!(gaps.len(), 2, "{gaps:?}");
    assert!(
        gaps.iter()
            .any(|g| g.starts_with("north: no device has reported")
                && g.contains("its 1 enrolled agent(s)")
                && g.contains("enroll 1 more"))
    );
    assert!(
        gaps.iter()
            .any(|g| g.starts_with("west: 1 device(s) reported")
                && g.contains("enroll and run 1 more device(s) there"))
    );
}

/// Failures with one cause are one condition for the items that failed at the same sites: a
/// condition's sites are where each of its items failed, never the union over its items.
#[test]
fn network_failures_with_one_cause_become_one_condition_per_set_of_sites() {
    let (profile, plan) = (profile(), plan(&["east", "west"], 0));
    let blocked = |name: &str| {
        Some(Cause::DnsFilter {
            host: name.into(),
            vendor: Some("Cisco Umbrella".into()),
        })
    };
    let judged = [
        device(1, "east", "M", |o| {
            o[0] = fail(
                "sinkholed",
                FixKind::ConfigureNetwork,
                blocked("app.vendor.example"),
            )
        }),
        device(2, "east", "M", |_| {}),
        device(3, "west", "M", |o| {
            o[1] = fail(
                "sinkholed",
                FixKind::ConfigureNetwork,
                blocked("cdn.vendor.example"),
            )
        }),
        device(4, "west", "M", |o| {
            o[0] = fail(
                "sinkholed",
                FixKind::ConfigureNetwork,
                blocked("app.vendor.example"),
            )
        }),
    ];
    let fleet = Fleet::gather(&input(&plan, &profile, &[], &judged));
    let n = network::assess(&fleet);
    // Per-user throughput is the capacity stage's; device requirements the devices stage's.
    let rows: Vec<String> = n.matrix.iter().map(|r| r.requirement.to_string()).collect();
    assert_eq!(rows, ["dns[0]", "dns[1]", "ports[0]"]);
    assert_eq!(n.matrix[0].sites["east"].status, Status::Fail);
    assert_eq!(n.matrix[0].sites["east"].fail, 1);
    assert_eq!(n.matrix[1].sites["east"].status, Status::Pass);
    assert_eq!(n.conditions.len(), 2, "{:?}", n.conditions);
    let of = |item: &str| {
        n.conditions
            .iter()
            .find(|c| c.items == [item])
            .unwrap_or_else(|| panic!("no condition for {item}: {:#?}", n.conditions))
    };
    let app = of("app.vendor.example");
    assert_eq!(app.kind, ConditionKind::FilterAllow);
    assert_eq!(app.owner, "DNS filter administrator");
    assert_eq!(app.sites, ["east", "west"]);
    assert_eq!(app.requirements, ["dns[0]"]);
    assert!(app.required);
    assert_eq!(app.evidence.len(), 2);
    let cdn = of("cdn.vendor.example");
    assert_eq!(cdn.sites, ["west"], "only where it failed");
    assert!(cdn.action.ends_with("blocked at west"), "{}", cdn.action);
}

/// One cause per host per site: where a DNS filter's block of a name is shown, a report that
/// could only say the name did not resolve (a browser's) asks nothing else about it there; at
/// a site where nothing stronger was seen it stands.
#[test]
fn the_stronger_evidence_about_a_host_at_a_site_decides() {
    let (profile, plan) = (profile(), plan(&["east", "west"], 0));
    let host = || "app.vendor.example".to_owned();
    let judged = [
        device(1, "east", "M", |o| {
            o[0] = fail(
                "nxdomain against the control resolver",
                FixKind::ConfigureNetwork,
                Some(Cause::DnsFilter {
                    host: host(),
                    vendor: None,
                }),
            )
        }),
        device(2, "east", "M", |o| {
            o[0] = fail(
                "did not resolve",
                FixKind::ConfigureNetwork,
                Some(Cause::Resolver { host: host() }),
            )
        }),
        device(3, "west", "M", |o| {
            o[0] = fail(
                "did not resolve",
                FixKind::ConfigureNetwork,
                Some(Cause::Resolver { host: host() }),
            )
        }),
        device(4, "west", "M", |_| {}),
    ];
    let fleet = Fleet::gather(&input(&plan, &profile, &[], &judged));
    let n = network::assess(&fleet);
    let dns: Vec<_> = n
        .conditions
        .iter()
        .filter(|c| c.kind == ConditionKind::FilterAllow)
        .collect();
    assert_eq!(dns.len(), 1, "{:#?}", n.conditions);
    assert_eq!(dns[0].sites, ["east"]);
    let resolver: Vec<_> = n
        .conditions
        .iter()
        .filter(|c| c.kind == ConditionKind::Investigate)
        .collect();
    assert_eq!(resolver.len(), 1, "{:#?}", n.conditions);
    assert_eq!(
        resolver[0].sites,
        ["west"],
        "never at east, where the DNS filter's block is shown"
    );
}

/// The vendor's own server failing is a blocker only where no site got through: at one site
/// beside another that passes, it is a condition (ask the vendor), never the verdict.
#[test]
fn a_vendor_failure_at_every_site_is_a_blocker_and_at_some_a_condition() {
    let (profile, plan) = (profile(), plan(&["east", "west"], 0));
    let vendor = |o: &mut Vec<Judged>| {
        o[2] = fail(
            "the vendor's server answered with an error (status 503)",
            FixKind::NonePossible,
            Some(Cause::VendorServer {
                host: "media.vendor.example".into(),
                status: Some(503),
            }),
        )
    };
    let everywhere = [
        device(1, "east", "M", vendor),
        device(2, "east", "M", vendor),
        device(3, "west", "M", vendor),
    ];
    let n = network::assess(&Fleet::gather(&input(&plan, &profile, &[], &everywhere)));
    assert_eq!(n.conditions.len(), 1, "{:?}", n.conditions);
    assert_eq!(n.conditions[0].fix, FixKind::NonePossible);
    assert_eq!(n.blockers.len(), 1, "{:?}", n.blockers);
    assert_eq!(n.blockers[0].requirement, "ports[0]");
    assert!(
        n.blockers[0].reason.contains("east, west") && n.blockers[0].reason.contains("503"),
        "{}",
        n.blockers[0].reason
    );
    let one_site = [
        device(1, "east", "M", vendor),
        device(2, "east", "M", vendor),
        device(3, "west", "M", |_| {}),
    ];
    let n = network::assess(&Fleet::gather(&input(&plan, &profile, &[], &one_site)));
    assert_eq!(n.conditions.len(), 1, "{:?}", n.conditions);
    assert_eq!(n.conditions[0].sites, ["east"]);
    assert!(n.blockers.is_empty(), "{:?}", n.blockers);
}

/// A shortfall a part fixes (memory for a desktop) is a condition naming the part, never a
/// blocker, even when no model sampled meets the minimum as it stands.
#[test]
fn a_part_upgrade_is_a_condition_even_when_no_model_meets_it_yet() {
    let (profile, plan) = (profile(), plan(&["east"], 0));
    let short = |o: &mut Vec<Judged>| {
        o[4] = fail("2.0 GiB usable", FixKind::UpgradePart, None);
    };
    let towers = [
        device(1, "east", "Tower", short),
        device(2, "east", "Tower", short),
    ];
    let d = devices::assess(&Fleet::gather(&input(&plan, &profile, &[], &towers)));
    assert!(d.blockers.is_empty(), "{:?}", d.blockers);
    assert_eq!(d.conditions.len(), 1);
    assert_eq!(d.conditions[0].fix, FixKind::UpgradePart);
    assert!(
        d.conditions[0].action.starts_with("Tower: do something"),
        "{}",
        d.conditions[0].action
    );
}

#[test]
fn a_replace_class_shortfall_no_model_meets_is_a_blocker_and_one_some_meet_is_a_condition() {
    let (profile, plan) = (profile(), plan(&["east"], 0));
    let short = |o: &mut Vec<Judged>| {
        o[4] = fail("2.0 GiB usable", FixKind::ReplaceDevice, None);
    };
    // Only the old model sampled: nothing meets the RAM minimum.
    let only_old = [
        device(1, "east", "Old", short),
        device(2, "east", "Old", short),
    ];
    let fleet = Fleet::gather(&input(&plan, &profile, &[], &only_old));
    let d = devices::assess(&fleet);
    assert_eq!(d.blockers.len(), 1, "{:?}", d.blockers);
    assert_eq!(d.blockers[0].requirement, "device.ram_min_gib");
    assert!(
        d.blockers[0].reason.contains("Old (2 device(s)"),
        "{}",
        d.blockers[0].reason
    );
    // A model that meets it: a condition naming it, no blocker.
    let mixed = [
        device(1, "east", "Old", short),
        device(2, "east", "New", |_| {}),
    ];
    let fleet = Fleet::gather(&input(&plan, &profile, &[], &mixed));
    let d = devices::assess(&fleet);
    assert!(d.blockers.is_empty(), "{:?}", d.blockers);
    assert_eq!(d.conditions.len(), 1);
    let c = &d.conditions[0];
    assert_eq!(c.kind, ConditionKind::DeviceUpgrade);
    assert!(
        c.action
            .starts_with("Old: replace 1 device(s), RAM falls short")
            && c.action.ends_with("use or buy models that meet it: New"),
        "{}",
        c.action
    );
    let old = d.models.iter().find(|m| m.model == "Old").unwrap();
    assert_eq!(old.status, Status::Fail);
    let new = d.models.iter().find(|m| m.model == "New").unwrap();
    assert_eq!(new.status, Status::Pass);
}

fn measured(j: &mut Judgement, mbps: f64, from: i64) {
    let per = (mbps * 1e6 / 8.0 / 10.0) as u32;
    j.bandwidth = Some(Throughput {
        download_mbps: Some(mbps),
        upload_mbps: None,
        download_series: Some(Series {
            start_unix_ms: from,
            interval_ms: 100,
            bytes: vec![per; 60],
        }),
        upload_series: None,
    });
}

#[test]
fn capacity_counts_devices_together_and_leaves_out_one_that_measured_apart() {
    let (profile, plan) = (profile(), plan(&["east"], 10));
    let mut judged = [
        device(1, "east", "M", |_| {}),
        device(2, "east", "M", |_| {}),
        device(3, "east", "M", |_| {}),
    ];
    measured(&mut judged[0], 8.0, 10_000);
    measured(&mut judged[1], 8.0, 10_000);
    // Twenty seconds late: alone on the link, it must not count as measuring at once.
    measured(&mut judged[2], 16.0, 30_000);
    let fleet = Fleet::gather(&input(&plan, &profile, &[], &judged));
    let (cov, _) = coverage::assess(&fleet, &[]);
    let c = capacity::assess(&fleet, &cov);
    let site = &c.sites[0];
    let down = site.download.as_ref().unwrap();
    assert_eq!(down.devices, 2);
    assert!((down.mbps - 16.0).abs() < 0.01, "{}", down.mbps);
    assert!(!down.together);
    assert_eq!(down.left_out.len(), 1, "{:?}", down.left_out);
    // 16 of the 20 Mbit/s ten users need, but one device measured apart: a lower bound, so
    // not a failure of the site, a gap in the evidence; the upload nobody measured is unknown.
    assert_eq!(site.status, Status::Unknown);
    assert!(c.conditions.is_empty());
    assert!(site.upload.is_none());
    assert!(
        c.gaps
            .iter()
            .any(|g| g.contains("run the coordinated measurement again")),
        "{:?}",
        c.gaps
    );
}

#[test]
fn the_verdict_is_the_worst_that_applies() {
    let blocker = fitcheck_engine::Blocker {
        requirement: "device.ram_min_gib".into(),
        title: "RAM".into(),
        reason: "no device sampled meets it".into(),
        evidence: Vec::new(),
    };
    let condition = |required| fitcheck_engine::Condition {
        kind: ConditionKind::FirewallRule,
        fix: FixKind::ConfigureNetwork,
        action: "open".into(),
        owner: "network operations (firewall)".into(),
        required,
        items: Vec::new(),
        sites: Vec::new(),
        seen: None,
        devices: None,
        requirements: Vec::new(),
        evidence: Vec::new(),
    };
    let gap = vec!["west: 1 device(s) reported".to_owned()];
    let b = std::slice::from_ref(&blocker);
    assert_eq!(
        verdict::decide(b, &gap, &[condition(true)]),
        FleetVerdict::NotCompatible
    );
    assert_eq!(
        verdict::decide(&[], &gap, &[condition(true)]),
        FleetVerdict::InsufficientEvidence
    );
    assert_eq!(
        verdict::decide(&[], &[], &[condition(true)]),
        FleetVerdict::CompatibleWithConditions
    );
    assert_eq!(
        verdict::decide(&[], &[], &[condition(false)]),
        FleetVerdict::Compatible
    );
    assert_eq!(verdict::decide(&[], &[], &[]), FleetVerdict::Compatible);
}

/// Over many mixes of native and browser reports at two sites, each device failing names at
/// random with one of the causes a report can carry: no two conditions about one host at one
/// site disagree on how strong the evidence is (a block seen never stands beside a "look into
/// it" or a closed port about the same host there), and every condition names exactly the
/// sites where each of its items failed with its cause.
#[test]
fn conditions_about_one_host_at_one_site_never_contradict_each_other() {
    let (profile, plan) = (profile(), plan(&["east", "west"], 0));
    let strength = |kind: ConditionKind, detail: &str| match (kind, detail) {
        (ConditionKind::FilterAllow | ConditionKind::InspectionBypass, _) => 3,
        (ConditionKind::FirewallRule, _) => 2,
        _ => 1,
    };
    // A seeded generator: the same mixes every run.
    let mut state: u64 = 0x5eed_f17c_4ec6;
    let mut next = |n: u64| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (state >> 33) % n
    };
    for round in 0..300 {
        let mut judged = Vec::new();
        // (site, kind, detail, item) of every failure made.
        let mut made: Vec<(String, ConditionKind, String, String)> = Vec::new();
        for n in 0..8u32 {
            let site = if n % 2 == 0 { "east" } else { "west" };
            let host = if next(2) == 0 {
                "a.example"
            } else {
                "b.example"
            };
            let policy = next(7);
            let entry = (policy == 5).then(|| BrowserPolicyBlock {
                browser: Browser::Chrome,
                policy: "URLBlocklist".into(),
                entry: format!("{host}/"),
                source: "/etc/opt/chrome/policies/managed/d.json".into(),
            });
            let h = host.to_owned();
            let (kind, detail, item, cause) = match policy {
                5 | 6 => (
                    ConditionKind::FilterAllow,
                    "browser_policy",
                    h.clone(),
                    Cause::BrowserPolicy { host: h, entry },
                ),
                0 => (
                    ConditionKind::FilterAllow,
                    "dns",
                    h.clone(),
                    Cause::DnsFilter {
                        host: h,
                        vendor: None,
                    },
                ),
                1 => (
                    ConditionKind::Investigate,
                    "resolver",
                    h.clone(),
                    Cause::Resolver { host: h },
                ),
                2 => (
                    ConditionKind::FirewallRule,
                    "tcp",
                    format!("TCP 443 to {host}"),
                    Cause::Firewall {
                        protocol: Protocol::Tcp,
                        ports: "443".into(),
                        host: h,
                        address_unseen: false,
                    },
                ),
                3 => (
                    ConditionKind::Investigate,
                    "vendor",
                    h.clone(),
                    Cause::VendorAnswer { host: Some(h) },
                ),
                _ => (
                    ConditionKind::FilterAllow,
                    "browser_extension",
                    h.clone(),
                    Cause::BrowserExtension {
                        host: h,
                        vendor: None,
                    },
                ),
            };
            let slot = usize::try_from(next(3)).unwrap_or(0);
            let fails = next(4) != 0;
            let mut j = device(round * 10 + n, site, "M", |o| {
                if fails {
                    o[slot] = fail("failed", FixKind::ConfigureNetwork, Some(cause.clone()));
                }
            });
            if next(2) == 0 {
                j.kind = fitcheck_core::api::AgentKind::Browser;
            }
            if fails {
                made.push((site.to_owned(), kind, detail.to_owned(), item));
            }
            judged.push(j);
        }
        let fleet = Fleet::gather(&input(&plan, &profile, &[], &judged));
        let n = network::assess(&fleet);
        let host_of = |item: &str| item.rsplit(" to ").next().unwrap_or(item).to_owned();
        for site in ["east", "west"] {
            for host in ["a.example", "b.example"] {
                let strengths: BTreeSet<u8> = n
                    .conditions
                    .iter()
                    .filter(|c| c.sites.iter().any(|s| s == site))
                    .filter(|c| c.items.iter().any(|i| host_of(i) == host))
                    .map(|c| {
                        let detail = match c.owner.as_str() {
                            "DNS filter administrator" => "dns",
                            "browser filter administrator (extension policy)" => {
                                "browser_extension"
                            }
                            _ => "",
                        };
                        strength(c.kind, detail)
                    })
                    .collect();
                // A URLBlocklist entry read on a device stands for the browsers' blocks of
                // that host at that site: never also "the entry that matches, unknown".
                let owners: BTreeSet<&str> = n
                    .conditions
                    .iter()
                    .filter(|c| c.sites.iter().any(|s| s == site))
                    .filter(|c| c.items.iter().any(|i| host_of(i) == host))
                    .map(|c| c.owner.as_str())
                    .collect();
                assert!(
                    !(owners.contains("device management (browser policy)")
                        && owners.contains("Google Admin (Chrome policy) administrator")),
                    "round {round}: {host} at {site}: the policy's entry both named and unknown: {:#?}",
                    n.conditions
                );
                assert!(
                    strengths.len() <= 1,
                    "round {round}: {host} at {site} has conditions of strengths {strengths:?}: {:#?}",
                    n.conditions
                );
            }
        }
        for c in &n.conditions {
            for item in &c.items {
                let failed_at: BTreeSet<&str> = made
                    .iter()
                    .filter(|(_, kind, _, i)| *kind == c.kind && i == item)
                    .map(|(s, ..)| s.as_str())
                    .collect();
                let named: BTreeSet<&str> = c.sites.iter().map(String::as_str).collect();
                assert!(
                    named.is_subset(&failed_at),
                    "round {round}: {item} is named at {named:?} but failed with this cause only at {failed_at:?}: {c:#?}"
                );
            }
        }
    }
}

/// A browser agent and a native agent on one machine are one device: per OS family the larger
/// count is the site's devices, never the sum; a Chromebook's browser shares no machine with a
/// native agent.
#[test]
fn devices_and_browsers_are_counted_apart() {
    use fitcheck_core::api::AgentKind;
    use fitcheck_core::profile::OsFamily;
    let (profile, plan) = (profile(), plan(&["east"], 0));
    let agent = |n: u32, kind: AgentKind, family: OsFamily| {
        let mut j = device(n, "east", "M", |_| {});
        j.kind = kind;
        j.os_family = Some(family);
        j
    };
    let judged = [
        agent(1, AgentKind::Native, OsFamily::Linux),
        agent(2, AgentKind::Native, OsFamily::Linux),
        agent(3, AgentKind::Browser, OsFamily::Linux),
        agent(4, AgentKind::Browser, OsFamily::Linux),
        agent(5, AgentKind::Browser, OsFamily::Chromeos),
    ];
    let fleet = Fleet::gather(&input(&plan, &profile, &[], &judged));
    let (coverage, _) = fitcheck_engine::coverage::assess(&fleet, &[]);
    assert_eq!(coverage[0].devices_reported, 3, "{coverage:#?}");
    assert_eq!(coverage[0].browsers_reported, 3);
    assert!(coverage[0].enough);
    let two = [
        agent(1, AgentKind::Native, OsFamily::Windows),
        agent(2, AgentKind::Browser, OsFamily::Windows),
    ];
    let fleet = Fleet::gather(&input(&plan, &profile, &[], &two));
    let (coverage, gaps) = fitcheck_engine::coverage::assess(&fleet, &[]);
    assert_eq!(coverage[0].devices_reported, 1, "one machine, two agents");
    assert!(!coverage[0].enough);
    assert!(
        gaps[0].starts_with("east: 1 device(s) reported, 2 are needed"),
        "{gaps:?}"
    );
}

/// A watched product's rounds: only what passed at approval is watched; two rounds in which
/// two of a site's three agents fail open an alert with their cause; a maintenance window
/// moves nothing; a silent site is neither failing nor passing; two clean rounds resolve it.
#[test]
fn a_watch_alerts_on_a_regression_with_its_cause_and_resolves_it() {
    use fitcheck_engine::watch::regression::{Change, Standing, Thresholds};
    use fitcheck_engine::watch::{Baseline, assess_round};
    let blocked = || {
        Some(Cause::DnsFilter {
            host: "app.vendor.example".into(),
            vendor: Some("Cisco Umbrella".into()),
        })
    };
    let approval = [
        device(1, "east", "M", |_| {}),
        device(2, "east", "M", |_| {}),
        device(3, "east", "M", |_| {}),
        device(4, "west", "M", |o| {
            o[0] = fail("sinkholed", FixKind::ConfigureNetwork, blocked())
        }),
    ];
    let baseline = Baseline::of(&approval);
    assert!(baseline.passed.contains(&("east".to_owned(), 0)));
    let known = blocked().unwrap_or(Cause::Unexplained);
    assert_eq!(
        baseline.new_layer(std::slice::from_ref(&known)),
        None,
        "seen at approval"
    );
    let extension = Cause::BrowserExtension {
        host: "app.vendor.example".into(),
        vendor: Some("Securly".into()),
    };
    assert_eq!(
        baseline.new_layer(&[known, extension]),
        Some(fitcheck_core::cause::Layer::BrowserExtension),
        "a filter extension that blocked nothing at approval is a layer new since"
    );
    assert!(
        !baseline.passed.contains(&("west".to_owned(), 0)),
        "what failed at approval is a known condition, not watched"
    );
    let th = Thresholds::default();
    let mut trackers = Default::default();
    let regressed = [
        device(1, "east", "M", |o| {
            o[0] = fail("sinkholed", FixKind::ConfigureNetwork, blocked())
        }),
        device(2, "east", "M", |o| {
            o[0] = fail("sinkholed", FixKind::ConfigureNetwork, blocked())
        }),
        device(3, "east", "M", |_| {}),
        device(4, "west", "M", |o| {
            o[0] = fail("sinkholed", FixKind::ConfigureNetwork, blocked())
        }),
    ];
    let spot = ("east".to_owned(), 0);
    let first = assess_round(&baseline, &th, &mut trackers, &regressed, true);
    assert!(first.changes.is_empty(), "{first:?}");
    assert_eq!(
        first.standing(&spot).unwrap_or(Standing::Silent),
        Standing::Watching
    );
    let held = assess_round(&baseline, &th, &mut trackers, &regressed, false);
    assert!(
        held.changes.is_empty(),
        "nothing alerts in a maintenance window"
    );
    let second = assess_round(&baseline, &th, &mut trackers, &regressed, true);
    assert_eq!(second.changes.len(), 1, "{second:?}");
    let alert = &second.changes[0];
    assert_eq!((alert.site.as_str(), alert.requirement), ("east", 0));
    assert_eq!(alert.change, Change::Opened);
    assert_eq!((alert.failing, alert.reporting), (2, 3));
    assert_eq!(alert.causes, [blocked().unwrap_or(Cause::Unexplained)]);
    let silent = assess_round(&baseline, &th, &mut trackers, &[], true);
    assert_eq!(
        silent.standing(&spot).unwrap_or(Standing::Silent),
        Standing::Regressed
    );
    assert!(silent.changes.is_empty());
    let clean = [
        device(1, "east", "M", |_| {}),
        device(2, "east", "M", |_| {}),
    ];
    assert!(
        assess_round(&baseline, &th, &mut trackers, &clean, true)
            .changes
            .is_empty()
    );
    let resolved = assess_round(&baseline, &th, &mut trackers, &clean, true);
    assert_eq!(
        resolved
            .changes
            .iter()
            .map(|c| c.change)
            .collect::<Vec<_>>(),
        [Change::Resolved]
    );
    assert_eq!(
        resolved.standing(&spot).unwrap_or(Standing::Silent),
        Standing::Green
    );
}
