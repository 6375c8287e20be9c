//! The recommendation engine: a pure function from an evaluation, its profile, the agents in
//! its scope and their reports to the document the review committee reads.
//!
//! Every report is judged again against the stored profile (`fitcheck_core::evaluate`), so one
//! rule decides for every device. Only each agent's latest report counts. Network requirements
//! are judged per site (the network is shared: a site fails a requirement when any of its
//! devices fails it), hardware per device model. Every failure becomes a condition — a concrete
//! action, who takes it, the sites or models concerned and the reports that show it — unless no
//! district action can fix it, which makes the product not compatible. Renderers only format
//! what this module decides.

use std::collections::{BTreeMap, BTreeSet};

use fitcheck_core::evaluate::{FixKind, RequirementKind, RequirementOutcome, Status, evaluate};
use fitcheck_core::profile::Profile;
use fitcheck_core::report::{
    BandwidthResult, BlockingLayer, CheckResult, DeviceFacts, DnsOutcome, HttpOutcome,
    MeasureOutcome, Report, TcpOutcome, ThroughputSamples, UdpOutcome,
};
use fitcheck_core::site;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::api::{NewEvaluation, Proposal};

/// The schema identifier of a recommendation's JSON form.
pub const RECOMMENDATION_SCHEMA: &str = "fitcheck.recommendation/v1";

/// The label used for agents without a `site` label.
pub const NO_SITE: &str = "(no site)";

/// Most reports cited as evidence for one condition or cell.
const MAX_EVIDENCE: usize = 12;

/// An agent in the evaluation's scope.
#[derive(Debug, Clone)]
pub struct ScopeAgent {
    pub id: String,
    pub site: Option<String>,
}

/// A stored report of the evaluation.
#[derive(Debug, Clone)]
pub struct InputReport {
    pub report_id: String,
    pub site: Option<String>,
    /// RFC 3339; the latest per agent counts.
    pub received_at: String,
    pub report: Report,
}

/// Everything the engine reads.
#[derive(Debug)]
pub struct Input<'a> {
    pub evaluation_id: &'a str,
    pub title: &'a str,
    pub spec: &'a NewEvaluation,
    pub profile: &'a Profile,
    pub profile_digest: &'a str,
    pub agents: &'a [ScopeAgent],
    pub reports: &'a [InputReport],
    /// When the recommendation is written (RFC 3339), as the caller's clock says.
    pub generated_at: &'a str,
}

/// The committee's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FleetVerdict {
    Compatible,
    CompatibleWithConditions,
    NotCompatible,
    InsufficientEvidence,
}

impl FleetVerdict {
    /// The words people read.
    pub fn words(self) -> &'static str {
        match self {
            FleetVerdict::Compatible => "Compatible",
            FleetVerdict::CompatibleWithConditions => "Compatible with conditions",
            FleetVerdict::NotCompatible => "Not compatible",
            FleetVerdict::InsufficientEvidence => "Insufficient evidence",
        }
    }
}

/// A report cited as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    pub report_id: String,
    pub agent_id: String,
    pub site: String,
    /// The requirement it concerns (`http[0]`).
    pub requirement: String,
    /// What that device saw, in words.
    pub observed: String,
}

/// What kind of action a condition is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConditionKind {
    /// Allow names in the web or DNS filter.
    FilterAllow,
    /// Exempt names from TLS inspection.
    InspectionBypass,
    /// Open outbound ports in the firewall.
    FirewallRule,
    /// Upgrade or replace devices of a model.
    DeviceUpgrade,
    /// More uplink capacity at a site.
    UplinkCapacity,
    /// Fix latency, jitter or loss on a site's path.
    NetworkPath,
    /// Something the district cannot see the cause of: the vendor or the resolver answered
    /// wrongly. Still an action: whom to ask, about what.
    Investigate,
}

/// One action the district takes before the product can be used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Condition {
    pub kind: ConditionKind,
    /// The action, in one sentence.
    pub action: String,
    /// Who takes it.
    pub owner: String,
    /// Whether the product needs it (a critical requirement) or it only improves things.
    pub required: bool,
    /// Exact names, ports or models the action is about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// Sites concerned (network conditions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<String>,
    /// The filter or inspection product seen, where one was recognised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<String>,
    /// Devices concerned (device conditions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<u32>,
    /// The requirements behind it.
    pub requirements: Vec<String>,
    /// Reports that show it.
    pub evidence: Vec<Evidence>,
}

/// Something no district action fixes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Blocker {
    pub requirement: String,
    pub title: String,
    pub reason: String,
    pub evidence: Vec<Evidence>,
}

/// One requirement at one site, or on one device model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Cell {
    pub status: Status,
    pub pass: u32,
    pub warn: u32,
    pub fail: u32,
    pub unknown: u32,
    /// Distinct observations, at most three.
    pub observed: Vec<String>,
    /// The reports behind the cell (failures first).
    pub reports: Vec<String>,
}

/// A network requirement across sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatrixRow {
    pub requirement: String,
    pub title: String,
    pub critical: bool,
    pub expected: String,
    /// Site → cell; a site without reports has no cell.
    pub sites: BTreeMap<String, Cell>,
}

/// A device model and how it fares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceModelRow {
    pub model: String,
    /// Devices of this model that reported.
    pub devices: u32,
    pub sites: Vec<String>,
    /// The worst status over its requirements.
    pub status: Status,
    /// Requirement → cell.
    pub requirements: BTreeMap<String, Cell>,
}

/// Coverage of one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SiteCoverage {
    pub site: String,
    /// Enrolled agents in scope.
    pub agents: u32,
    /// Agents that reported.
    pub devices_reported: u32,
    /// Whether the site has enough devices to judge it.
    pub enough: bool,
}

/// A site's uplink against the planned use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SiteThroughput {
    pub site: String,
    /// Planned concurrent users.
    pub users: u32,
    pub download_needed_mbps: Option<f64>,
    pub upload_needed_mbps: Option<f64>,
    /// Measured at the site: what a coordinated run's devices carried together over the time
    /// they shared, else the best single device.
    pub download_measured_mbps: Option<f64>,
    pub upload_measured_mbps: Option<f64>,
    /// Devices whose measurements make the figure.
    pub devices_measured: u32,
    /// Whether the figures come from devices measuring together over a common window.
    pub coordinated: bool,
    /// The most concurrent users the measured capacity carries today.
    pub max_users: Option<u32>,
    pub status: Status,
    pub evidence: Vec<String>,
    /// How each direction's figure was made; absent for a direction no device measured.
    pub download: Option<SiteDirection>,
    pub upload: Option<SiteDirection>,
}

/// How one direction of a site's figure was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SiteDirection {
    /// Mbit/s: in a coordinated run, what the devices counted carried together over their
    /// common window; otherwise the best single device.
    pub mbps: f64,
    /// Devices counted in the figure.
    pub devices: u32,
    /// Length of the common window the devices shared, milliseconds (coordinated runs).
    pub common_window_ms: Option<f64>,
    /// Every device that measured this direction is counted, together: the figure is the
    /// site's, and a shortfall is a failure. Otherwise it is a lower bound.
    pub together: bool,
    /// Reports whose figures are counted.
    pub counted: Vec<String>,
    /// Devices that measured but are not counted, and why.
    pub left_out: Vec<String>,
}

/// A direction judged against the site's need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Enough,
    /// Short, and the figure is what every device carried together.
    Short,
    /// Short, but the figure is a lower bound (devices apart, or not coordinated).
    ShortLowerBound,
    NotMeasured,
}

/// A direction of a bandwidth measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Download,
    Upload,
}

impl Way {
    fn word(self) -> &'static str {
        match self {
            Way::Download => "download",
            Way::Upload => "upload",
        }
    }

    fn of(self, b: &BandwidthResult) -> (Option<f64>, Option<&ThroughputSamples>) {
        match self {
            Way::Download => (b.download_mbps, b.download_samples.as_ref()),
            Way::Upload => (b.upload_mbps, b.upload_samples.as_ref()),
        }
    }
}

/// A device as a reader tells it apart: the last characters of its agent id (random) and its
/// room when labelled.
fn device_name(j: &Judged<'_>) -> String {
    let id = j.input.report.agent.agent_id.simple().to_string();
    let short = id.get(id.len().saturating_sub(8)..).unwrap_or(&id);
    match j.input.report.agent.labels.get("room") {
        Some(room) => format!("agent {short} (room {room})"),
        None => format!("agent {short}"),
    }
}

/// One direction of a site's figure from its devices' measurements. A direction a device did
/// not measure is not a zero: it is left out and named.
fn site_direction(
    measured: &[(&Judged<'_>, &BandwidthResult)],
    way: Way,
    coordinated: bool,
) -> Option<SiteDirection> {
    let mut left_out: Vec<String> = measured
        .iter()
        .filter(|(_, b)| way.of(b).0.is_none())
        .map(|(j, _)| format!("{} measured no {}", device_name(j), way.word()))
        .collect();
    let with: Vec<(&Judged<'_>, f64, Option<&ThroughputSamples>)> = measured
        .iter()
        .filter_map(|(j, b)| {
            let (mbps, samples) = way.of(b);
            mbps.map(|m| (*j, m, samples))
        })
        .collect();
    let best = |with: &[(&Judged<'_>, f64, Option<&ThroughputSamples>)]| {
        with.iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(j, m, _)| (j.input.report_id.clone(), *m))
    };
    if !coordinated {
        let (id, mbps) = best(&with)?;
        return Some(SiteDirection {
            mbps,
            devices: with.len() as u32,
            common_window_ms: None,
            together: false,
            counted: vec![id],
            left_out,
        });
    }
    let timed: Vec<(&Judged<'_>, &ThroughputSamples)> = with
        .iter()
        .filter_map(|(j, _, s)| s.map(|s| (*j, s)))
        .collect();
    for (j, _, _) in with.iter().filter(|(_, _, s)| s.is_none()) {
        left_out.push(format!(
            "{} sent no timed samples (agent {}), so it cannot be placed in time",
            device_name(j),
            j.input.report.agent.version
        ));
    }
    let series: Vec<&ThroughputSamples> = timed.iter().map(|(_, s)| *s).collect();
    let Some(t) = site::together(&series) else {
        let (id, mbps) = best(&with)?;
        return Some(SiteDirection {
            mbps,
            devices: 1,
            common_window_ms: None,
            together: false,
            counted: vec![id],
            left_out,
        });
    };
    for i in &t.left_out {
        if let Some((j, _)) = timed.get(*i) {
            left_out.push(format!(
                "{} did not measure at the same time as the others",
                device_name(j)
            ));
        }
    }
    Some(SiteDirection {
        mbps: t.mbps,
        devices: t.counted.len() as u32,
        common_window_ms: Some(t.window_ms() as f64),
        together: left_out.is_empty(),
        counted: t
            .counted
            .iter()
            .filter_map(|i| timed.get(*i).map(|(j, _)| j.input.report_id.clone()))
            .collect(),
        left_out,
    })
}

/// The evaluation the recommendation is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EvaluationRef {
    pub id: String,
    pub title: String,
    pub product: String,
    pub vendor: String,
    pub profile_id: String,
    pub profile_digest: String,
    /// The profile's vendor sources.
    pub sources: Vec<String>,
    pub window_start: Option<String>,
    pub window_end: String,
    pub proposal: Proposal,
}

/// The committee's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Recommendation {
    /// Always `fitcheck.recommendation/v1`.
    pub schema: String,
    pub generated_at: String,
    pub evaluation: EvaluationRef,
    pub verdict: FleetVerdict,
    /// One paragraph saying why.
    pub summary: String,
    /// Actions the district takes, required ones first.
    pub conditions: Vec<Condition>,
    /// What no district action fixes.
    pub blockers: Vec<Blocker>,
    /// What is missing to judge.
    pub gaps: Vec<String>,
    pub coverage: Vec<SiteCoverage>,
    pub matrix: Vec<MatrixRow>,
    pub device_models: Vec<DeviceModelRow>,
    pub throughput: Vec<SiteThroughput>,
    /// Fixed caveats (what the checks cannot see).
    pub notes: Vec<String>,
}

/// A device's model as people name it: the firmware's make and model where known, else its
/// processor and memory.
pub fn model_of(d: &DeviceFacts) -> String {
    if let Some(m) = &d.model {
        return format!("{} {}", m.vendor, m.product).trim().to_owned();
    }
    let gib = fitcheck_core::evaluate::installed_ram_gib(d.memory.total_bytes);
    format!(
        "unnamed model ({}, {} GiB, {})",
        d.cpu.model.as_deref().unwrap_or("unknown CPU"),
        gib,
        d.os.name
    )
}

/// The reports that count: each agent's latest (by `received_at`), in agent order. A re-run
/// supersedes what the same device reported before.
pub fn latest_per_agent(reports: &[InputReport]) -> Vec<&InputReport> {
    let mut by_agent: BTreeMap<String, &InputReport> = BTreeMap::new();
    for r in reports {
        let agent = r.report.agent.agent_id.to_string();
        match by_agent.get(&agent) {
            Some(prev) if prev.received_at >= r.received_at => {}
            _ => {
                by_agent.insert(agent, r);
            }
        }
    }
    by_agent.into_values().collect()
}

struct Judged<'a> {
    input: &'a InputReport,
    site: String,
    model: String,
    outcomes: Vec<RequirementOutcome>,
}

fn evidence(j: &Judged<'_>, r: &RequirementOutcome) -> Evidence {
    Evidence {
        report_id: j.input.report_id.clone(),
        agent_id: j.input.report.agent.agent_id.to_string(),
        site: j.site.clone(),
        requirement: r.id.clone(),
        observed: r.observed.clone(),
    }
}

fn cell_of<'a>(items: impl Iterator<Item = (&'a Judged<'a>, &'a RequirementOutcome)>) -> Cell {
    let mut c = Cell {
        status: Status::Unknown,
        pass: 0,
        warn: 0,
        fail: 0,
        unknown: 0,
        observed: Vec::new(),
        reports: Vec::new(),
    };
    let mut failing = Vec::new();
    let mut others = Vec::new();
    for (j, r) in items {
        match r.status {
            Status::Pass => c.pass += 1,
            Status::Warn => c.warn += 1,
            Status::Fail => c.fail += 1,
            Status::Unknown => c.unknown += 1,
        }
        if c.observed.len() < 3 && !c.observed.contains(&r.observed) {
            c.observed.push(r.observed.clone());
        }
        if r.status == Status::Fail || r.status == Status::Warn {
            failing.push(j.input.report_id.clone());
        } else {
            others.push(j.input.report_id.clone());
        }
    }
    failing.extend(others);
    failing.truncate(MAX_EVIDENCE);
    c.reports = failing;
    c.status = if c.fail > 0 {
        Status::Fail
    } else if c.warn > 0 {
        Status::Warn
    } else if c.pass > 0 {
        Status::Pass
    } else {
        Status::Unknown
    };
    c
}

fn result_for<'a>(report: &'a Report, requirement: &str) -> Option<&'a CheckResult> {
    // A port check records its DNS lookup under the same requirement; prefer the port's own.
    let mut found = None;
    for r in &report.results {
        if r.requirement() == requirement {
            match r {
                CheckResult::Dns(_) if found.is_some() => {}
                _ => found = Some(r),
            }
        }
    }
    found
}

fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let host_port = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host = host_port.rsplit_once('@').map_or(host_port, |(_, h)| h);
    if let Some(inner) = host.strip_prefix('[') {
        return inner.split(']').next().unwrap_or(inner).to_owned();
    }
    host.split(':').next().unwrap_or(host).to_owned()
}

/// Key under which network failures are grouped into one condition.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct ConditionKey {
    kind: ConditionKind,
    /// Distinguishes conditions of one kind (a protocol, a filter layer, a metric).
    detail: String,
}

#[derive(Debug, Default)]
struct Pending {
    items: BTreeSet<String>,
    sites: BTreeSet<String>,
    seen: BTreeSet<String>,
    requirements: BTreeSet<String>,
    required: bool,
    evidence: Vec<Evidence>,
    remedy: Option<String>,
}

/// Classifies one failed network requirement on one device.
fn network_condition(
    profile: &Profile,
    report: &Report,
    r: &RequirementOutcome,
) -> (ConditionKey, Option<String>, Option<String>) {
    let key = |kind, detail: &str| ConditionKey {
        kind,
        detail: detail.to_owned(),
    };
    if r.kind == RequirementKind::Network {
        // Latency, jitter and loss: the path, judged from the device's latency measurement.
        return (
            key(ConditionKind::NetworkPath, &r.id),
            Some(format!("{} {} (needs {})", r.title, r.observed, r.expected)),
            None,
        );
    }
    let found = result_for(report, &r.id);
    match found {
        Some(CheckResult::Dns(d)) => {
            let vendor = d.evidence.signature.as_ref().map(|s| s.vendor.clone());
            match d.outcome {
                DnsOutcome::Sinkholed | DnsOutcome::Nxdomain | DnsOutcome::Refused => (
                    key(ConditionKind::FilterAllow, "dns"),
                    Some(d.target.clone()),
                    vendor,
                ),
                _ => (
                    key(ConditionKind::Investigate, "resolver"),
                    Some(d.target.clone()),
                    None,
                ),
            }
        }
        Some(CheckResult::Http(h)) => {
            let host = host_of(&h.target);
            let vendor = h.evidence.signature.as_ref().map(|s| s.vendor.clone());
            match (h.outcome, h.evidence.blocking_layer) {
                (HttpOutcome::TlsIntercepted, _) => {
                    let issuer = h.evidence.certificate.as_ref().map(|c| c.issuer.clone());
                    (
                        key(ConditionKind::InspectionBypass, "tls"),
                        Some(host),
                        vendor.or(issuer),
                    )
                }
                (HttpOutcome::BlockedByFilter, Some(BlockingLayer::Dns)) => {
                    // The DNS filter's answer, seen by the web check itself: an allow-list entry
                    // there, whether or not the profile also lists the name under [[dns]].
                    (key(ConditionKind::FilterAllow, "dns"), Some(host), vendor)
                }
                (_, Some(BlockingLayer::Dns)) => {
                    // The name did not resolve: a DNS filter's doing only if the lookup was
                    // answered with a block; a resolver that timed out is not a filter.
                    let lookup = report.results.iter().find_map(|r| match r {
                        CheckResult::Dns(d) if d.target.eq_ignore_ascii_case(&host) => Some(d),
                        _ => None,
                    });
                    match lookup {
                        Some(d)
                            if matches!(
                                d.outcome,
                                DnsOutcome::Sinkholed | DnsOutcome::Nxdomain | DnsOutcome::Refused
                            ) =>
                        {
                            let vendor = d.evidence.signature.as_ref().map(|s| s.vendor.clone());
                            (key(ConditionKind::FilterAllow, "dns"), Some(host), vendor)
                        }
                        _ => (
                            key(ConditionKind::Investigate, "resolver"),
                            Some(host),
                            None,
                        ),
                    }
                }
                (HttpOutcome::BlockedByFilter, _)
                | (_, Some(BlockingLayer::TlsSni))
                | (_, Some(BlockingLayer::HttpProxy))
                | (_, Some(BlockingLayer::HttpFilter)) => {
                    (key(ConditionKind::FilterAllow, "web"), Some(host), vendor)
                }
                (_, Some(BlockingLayer::Tcp)) => {
                    let port = fitcheck_core::evaluate::url_port(&h.target);
                    (
                        key(ConditionKind::FirewallRule, "tcp"),
                        Some(format!("tcp {port} to {host}")),
                        None,
                    )
                }
                _ => (key(ConditionKind::Investigate, "vendor"), Some(host), None),
            }
        }
        Some(CheckResult::Tcp(t)) => {
            let spec = port_spec(profile, &r.id).unwrap_or_else(|| t.port.to_string());
            match t.outcome {
                TcpOutcome::Open => (key(ConditionKind::Investigate, "vendor"), None, None),
                _ => (
                    key(ConditionKind::FirewallRule, "tcp"),
                    Some(format!("TCP {spec} to {}", host_only(&t.target))),
                    None,
                ),
            }
        }
        Some(CheckResult::Udp(u)) => {
            let spec = port_spec(profile, &r.id).unwrap_or_else(|| u.port.to_string());
            match u.outcome {
                UdpOutcome::Answered => (key(ConditionKind::Investigate, "vendor"), None, None),
                UdpOutcome::NoAnswer => (
                    key(ConditionKind::FirewallRule, "udp"),
                    Some(format!("UDP {spec} to {}", host_only(&u.target))),
                    None,
                ),
            }
        }
        _ => (
            key(ConditionKind::Investigate, &r.id),
            Some(r.title.clone()),
            None,
        ),
    }
}

/// A port check's target (always `host:port`) without its port (`10.0.0.5:6667` → `10.0.0.5`),
/// so a rule reads "TCP 6667 to 10.0.0.5"; a bracketed IPv6 address loses its brackets.
fn host_only(target: &str) -> &str {
    let host = match target.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => target,
    };
    host.trim_start_matches('[').trim_end_matches(']')
}

/// The profile's port or range for a `ports[i]` requirement (the whole range, not the
/// sampled ports), so a firewall rule opens what the product uses.
fn port_spec(profile: &Profile, id: &str) -> Option<String> {
    let i: usize = id.strip_prefix("ports[")?.strip_suffix(']')?.parse().ok()?;
    let p = profile.ports.get(i)?;
    match (p.port, &p.range) {
        (Some(port), _) => Some(port.to_string()),
        (None, Some(range)) => Some(range.clone()),
        _ => None,
    }
}

/// Writes the recommendation.
pub fn recommend(input: &Input<'_>) -> Recommendation {
    let spec = input.spec;
    let profile = input.profile;
    // Sites in scope: named ones, else every site an agent in scope or a report has.
    let mut sites: BTreeSet<String> = spec.sites.iter().cloned().collect();
    if sites.is_empty() {
        for a in input.agents {
            sites.insert(a.site.clone().unwrap_or_else(|| NO_SITE.to_owned()));
        }
        for r in input.reports {
            sites.insert(r.site.clone().unwrap_or_else(|| NO_SITE.to_owned()));
        }
    }

    let judged: Vec<Judged<'_>> = latest_per_agent(input.reports)
        .into_iter()
        .map(|r| Judged {
            input: r,
            site: r.site.clone().unwrap_or_else(|| NO_SITE.to_owned()),
            model: model_of(&r.report.device),
            outcomes: evaluate(profile, &r.report.device, &r.report.results).requirements,
        })
        .collect();

    // Coverage.
    let min_devices = spec.min_devices_per_site.max(1);
    let mut coverage = Vec::new();
    let mut gaps = Vec::new();
    for site in &sites {
        let agents = input
            .agents
            .iter()
            .filter(|a| a.site.as_deref().unwrap_or(NO_SITE) == site)
            .count() as u32;
        let reported = judged.iter().filter(|j| &j.site == site).count() as u32;
        let enough = reported >= min_devices;
        // Each gap is an action: who does what, where.
        if reported == 0 && agents == 0 {
            gaps.push(format!(
                "{site}: no device has reported and no agent is enrolled there; technology operations to enroll agents on at least {min_devices} representative device(s)"
            ));
        } else if reported == 0 {
            gaps.push(format!(
                "{site}: no device has reported; technology operations to check that its {agents} enrolled agent(s) are running and reach the controller{}",
                if agents < min_devices {
                    format!(", and to enroll {} more", min_devices - agents)
                } else {
                    String::new()
                }
            ));
        } else if !enough {
            gaps.push(format!(
                "{site}: {reported} device(s) reported, {min_devices} are needed to judge a site; technology operations to enroll and run {} more device(s) there",
                min_devices - reported
            ));
        }
        coverage.push(SiteCoverage {
            site: site.clone(),
            agents,
            devices_reported: reported,
            enough,
        });
    }

    // Requirements in profile order (the first judged report has them all).
    let order: Vec<&RequirementOutcome> = judged
        .first()
        .map(|j| j.outcomes.iter().collect())
        .unwrap_or_default();

    // Site × network requirement.
    let mut matrix = Vec::new();
    let mut pending: BTreeMap<ConditionKey, Pending> = BTreeMap::new();
    let mut blockers = Vec::new();
    for req in order.iter().filter(|r| r.kind != RequirementKind::Device) {
        // Throughput per device is judged per site below, not per device.
        if req.id.ends_with("_mbps_per_user") {
            continue;
        }
        let mut row = MatrixRow {
            requirement: req.id.clone(),
            title: req.title.clone(),
            critical: req.critical,
            expected: req.expected.clone(),
            sites: BTreeMap::new(),
        };
        for site in &sites {
            let items: Vec<(&Judged<'_>, &RequirementOutcome)> = judged
                .iter()
                .filter(|j| &j.site == site)
                .filter_map(|j| j.outcomes.iter().find(|o| o.id == req.id).map(|o| (j, o)))
                .collect();
            if items.is_empty() {
                continue;
            }
            row.sites
                .insert(site.clone(), cell_of(items.iter().copied()));
            for (j, o) in items {
                if o.status != Status::Fail && o.status != Status::Warn {
                    continue;
                }
                let (key, item, seen) = network_condition(profile, &j.input.report, o);
                let p = pending.entry(key).or_default();
                if let Some(i) = item {
                    p.items.insert(i);
                }
                if let Some(s) = seen {
                    p.seen.insert(s);
                }
                p.sites.insert(site.clone());
                p.requirements.insert(o.id.clone());
                p.required |= o.critical && o.status == Status::Fail;
                if p.remedy.is_none() {
                    p.remedy = o.remedy.clone();
                }
                let cited = p.evidence.iter().any(|e| e.report_id == j.input.report_id);
                if !cited && p.evidence.len() < MAX_EVIDENCE {
                    p.evidence.push(evidence(j, o));
                }
            }
        }
        matrix.push(row);
    }

    // Device model × device requirement.
    let mut models: BTreeMap<String, Vec<&Judged<'_>>> = BTreeMap::new();
    for j in &judged {
        models.entry(j.model.clone()).or_default().push(j);
    }
    let mut device_models = Vec::new();
    let mut device_conditions = Vec::new();
    let device_reqs: Vec<&&RequirementOutcome> = order
        .iter()
        .filter(|r| r.kind == RequirementKind::Device)
        .collect();
    // Each model's devices judged on each device requirement: the cells first, so that a
    // condition can say which models meet what another model fails.
    struct Judging<'j> {
        cell: Cell,
        failing: Vec<(&'j Judged<'j>, &'j RequirementOutcome)>,
        passing: usize,
    }
    let mut judging: BTreeMap<(String, String), Judging<'_>> = BTreeMap::new();
    for (model, devices) in &models {
        for req in &device_reqs {
            let items: Vec<(&Judged<'_>, &RequirementOutcome)> = devices
                .iter()
                .filter_map(|j| j.outcomes.iter().find(|o| o.id == req.id).map(|o| (*j, o)))
                .collect();
            let cell = cell_of(items.iter().copied());
            let passing = items
                .iter()
                .filter(|(_, o)| o.status == Status::Pass)
                .count();
            let failing = items
                .into_iter()
                .filter(|(_, o)| o.status == Status::Fail || o.status == Status::Warn)
                .collect();
            judging.insert(
                (model.clone(), req.id.clone()),
                Judging {
                    cell,
                    failing,
                    passing,
                },
            );
        }
    }
    // Requirement → models whose devices fail it and cannot be brought to it.
    let mut replace: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (model, devices) in &models {
        let mut row = DeviceModelRow {
            model: model.clone(),
            devices: devices.len() as u32,
            sites: devices
                .iter()
                .map(|j| j.site.clone())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect(),
            status: Status::Pass,
            requirements: BTreeMap::new(),
        };
        for req in &device_reqs {
            let Some(jd) = judging.get(&(model.clone(), req.id.clone())) else {
                continue;
            };
            if let Some((_, first)) = jd.failing.first() {
                let required = jd
                    .failing
                    .iter()
                    .any(|(_, o)| o.critical && o.status == Status::Fail);
                let fix = first.fix.unwrap_or(FixKind::UpgradePart);
                let n = jd.failing.len();
                let seen = format!(
                    "{} of {} device(s) sampled: {} where {} is needed",
                    n,
                    devices.len(),
                    first.observed,
                    first.expected
                );
                let action = if fix.needs_other_hardware() {
                    if required {
                        replace
                            .entry(req.id.clone())
                            .or_default()
                            .insert(model.clone());
                    }
                    // Models whose every sampled device meets it.
                    let meeting: Vec<&str> = models
                        .keys()
                        .filter(|m| {
                            judging
                                .get(&((*m).clone(), req.id.clone()))
                                .is_some_and(|o| o.failing.is_empty() && o.passing > 0)
                        })
                        .map(String::as_str)
                        .collect();
                    let instead = if meeting.is_empty() {
                        "no model sampled meets it".to_owned()
                    } else {
                        format!("use or buy models that meet it: {}", meeting.join(", "))
                    };
                    format!(
                        "{model}: replace {n} device(s), {} falls short ({seen}); {instead}",
                        first.title
                    )
                } else {
                    let remedy = first
                        .remedy
                        .clone()
                        .unwrap_or_else(|| format!("bring {} to {}", first.title, first.expected));
                    format!("{model}: {remedy} ({seen})")
                };
                device_conditions.push(Condition {
                    kind: ConditionKind::DeviceUpgrade,
                    action,
                    owner: "technology operations (device management)".to_owned(),
                    required,
                    items: vec![model.clone()],
                    sites: Vec::new(),
                    seen: None,
                    devices: Some(n as u32),
                    requirements: vec![req.id.clone()],
                    evidence: jd
                        .failing
                        .iter()
                        .take(MAX_EVIDENCE)
                        .map(|(j, o)| evidence(j, o))
                        .collect(),
                });
            }
            row.status = worst(row.status, jd.cell.status);
            row.requirements.insert(req.id.clone(), jd.cell.clone());
        }
        device_models.push(row);
    }
    // A requirement no sampled device meets, that only other devices would: the product cannot
    // run on the district's devices as they are.
    for (req, failing_models) in &replace {
        let met = models.keys().any(|m| {
            judging
                .get(&(m.clone(), req.clone()))
                .is_some_and(|o| o.passing > 0)
        });
        if met {
            continue;
        }
        let title = device_reqs
            .iter()
            .find(|r| &r.id == req)
            .map(|r| r.title.clone())
            .unwrap_or_else(|| req.clone());
        let counts: Vec<String> = failing_models
            .iter()
            .filter_map(|m| {
                let o = judging.get(&(m.clone(), req.clone()))?;
                let (_, first) = o.failing.first()?;
                Some(format!(
                    "{m} ({} device(s): {})",
                    o.failing.len(),
                    first.observed
                ))
            })
            .collect();
        let expected = device_reqs
            .iter()
            .find(|r| &r.id == req)
            .map(|r| r.expected.clone())
            .unwrap_or_default();
        let evidence: Vec<Evidence> = device_conditions
            .iter()
            .filter(|c| c.requirements.contains(req))
            .flat_map(|c| c.evidence.iter().cloned())
            .take(MAX_EVIDENCE)
            .collect();
        blockers.push(Blocker {
            requirement: req.clone(),
            title,
            reason: format!(
                "no device sampled meets it ({expected} is needed), and only other devices would: {}",
                counts.join("; ")
            ),
            evidence,
        });
    }

    // Uplink capacity per site.
    let needs = profile.network.as_ref();
    let per_user_down = needs.and_then(|n| n.download_mbps_per_user);
    let per_user_up = needs.and_then(|n| n.upload_mbps_per_user);
    let coordinated = spec
        .bandwidth
        .as_ref()
        .is_some_and(|b| b.start_at.is_some() || !b.site_start_at.is_empty());
    let mut throughput = Vec::new();
    if per_user_down.is_some() || per_user_up.is_some() {
        for site in &sites {
            let users = spec.concurrent_users.get(site).copied().unwrap_or(0);
            let measured: Vec<(&Judged<'_>, &BandwidthResult)> = judged
                .iter()
                .filter(|j| &j.site == site)
                .filter_map(|j| {
                    j.input.report.results.iter().find_map(|r| match r {
                        CheckResult::Bandwidth(b) if b.outcome == MeasureOutcome::Measured => {
                            Some((j, b))
                        }
                        _ => None,
                    })
                })
                .collect();
            let down = site_direction(&measured, Way::Download, coordinated);
            let up = site_direction(&measured, Way::Upload, coordinated);
            let need_down = per_user_down.map(|p| p * f64::from(users));
            let need_up = per_user_up.map(|p| p * f64::from(users));
            let carried = |d: &Option<SiteDirection>, per_user: Option<f64>| -> Option<u32> {
                match (d, per_user) {
                    (Some(d), Some(p)) if p > 0.0 => Some((d.mbps / p).floor().min(1e9) as u32),
                    _ => None,
                }
            };
            let max_users = match (carried(&down, per_user_down), carried(&up, per_user_up)) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            };
            // Each needed direction: short (and whether that figure can fail the site: only what
            // every measuring device carried together), enough, or not measured.
            let judge = |d: &Option<SiteDirection>, need: Option<f64>| -> Option<Verdict> {
                let need = need?;
                Some(match d {
                    None => Verdict::NotMeasured,
                    Some(d) if d.mbps < need && d.together => Verdict::Short,
                    Some(d) if d.mbps < need => Verdict::ShortLowerBound,
                    Some(_) => Verdict::Enough,
                })
            };
            let verdicts = [
                (Way::Download, judge(&down, need_down)),
                (Way::Upload, judge(&up, need_up)),
            ];
            let any = |v: Verdict| verdicts.iter().any(|(_, x)| *x == Some(v));
            let status = if users == 0 || measured.is_empty() {
                Status::Unknown
            } else if any(Verdict::Short) {
                Status::Fail
            } else if any(Verdict::ShortLowerBound) || any(Verdict::NotMeasured) {
                Status::Unknown
            } else {
                Status::Pass
            };
            let counted: BTreeSet<&str> = [&down, &up]
                .into_iter()
                .flatten()
                .flat_map(|d| d.counted.iter().map(String::as_str))
                .collect();
            let t = SiteThroughput {
                site: site.clone(),
                users,
                download_needed_mbps: need_down,
                upload_needed_mbps: need_up,
                download_measured_mbps: down.as_ref().map(|d| d.mbps),
                upload_measured_mbps: up.as_ref().map(|d| d.mbps),
                devices_measured: [&down, &up]
                    .into_iter()
                    .flatten()
                    .map(|d| d.devices)
                    .max()
                    .unwrap_or(0),
                coordinated: [&down, &up]
                    .into_iter()
                    .flatten()
                    .any(|d| d.common_window_ms.is_some()),
                max_users,
                status,
                evidence: counted
                    .iter()
                    .take(MAX_EVIDENCE)
                    .map(|id| (*id).to_owned())
                    .collect(),
                download: down.clone(),
                upload: up.clone(),
            };
            match status {
                Status::Fail => {
                    let mut parts = Vec::new();
                    let mut requirements = Vec::new();
                    for (way, v) in &verdicts {
                        let (d, need, per_user) = match way {
                            Way::Download => (&down, need_down, per_user_down),
                            Way::Upload => (&up, need_up, per_user_up),
                        };
                        if let (Some(Verdict::Short), Some(d), Some(n)) = (v, d, need) {
                            parts.push(format!(
                                "{}: {users} users × {} Mbit/s = {} Mbit/s needed, {} Mbit/s measured",
                                way.word(),
                                fmt(per_user.unwrap_or(0.0)),
                                fmt(n),
                                fmt(d.mbps)
                            ));
                            requirements.push(format!("network.{}_mbps_per_user", way.word()));
                        }
                    }
                    let observed: BTreeMap<&str, String> = measured
                        .iter()
                        .map(|(j, b)| {
                            let figure = |m: Option<f64>| {
                                m.map_or_else(
                                    || "not measured".to_owned(),
                                    |v| format!("{} Mbit/s", fmt(v)),
                                )
                            };
                            (
                                j.input.report_id.as_str(),
                                format!(
                                    "download {}, upload {}",
                                    figure(b.download_mbps),
                                    figure(b.upload_mbps)
                                ),
                            )
                        })
                        .collect();
                    device_conditions.push(Condition {
                        kind: ConditionKind::UplinkCapacity,
                        action: format!(
                            "{site}: raise uplink capacity or plan at most {} concurrent users ({})",
                            max_users.unwrap_or(0),
                            parts.join("; ")
                        ),
                        owner: "network operations (uplink / ISP contract)".to_owned(),
                        required: true,
                        items: Vec::new(),
                        sites: vec![site.clone()],
                        seen: None,
                        devices: None,
                        requirements,
                        evidence: measured
                            .iter()
                            .filter(|(j, _)| counted.contains(j.input.report_id.as_str()))
                            .take(MAX_EVIDENCE)
                            .map(|(j, _)| Evidence {
                                report_id: j.input.report_id.clone(),
                                agent_id: j.input.report.agent.agent_id.to_string(),
                                site: site.clone(),
                                requirement: "network".to_owned(),
                                observed: observed
                                    .get(j.input.report_id.as_str())
                                    .cloned()
                                    .unwrap_or_default(),
                            })
                            .collect(),
                    });
                }
                Status::Unknown
                    if users > 0
                        && coverage
                            .iter()
                            .any(|c| &c.site == site && c.devices_reported > 0) =>
                {
                    if measured.is_empty() {
                        gaps.push(format!(
                            "{site}: throughput was not measured (give the evaluation a bandwidth plan)"
                        ));
                    }
                    for (way, v) in &verdicts {
                        let d = match way {
                            Way::Download => &down,
                            Way::Upload => &up,
                        };
                        match (v, d) {
                            (Some(Verdict::NotMeasured), _) if !measured.is_empty() => {
                                gaps.push(format!(
                                    "{site}: no device measured the {}, so the uplink's {} capacity was not assessed",
                                    way.word(),
                                    way.word()
                                ));
                            }
                            (Some(Verdict::ShortLowerBound), Some(d)) if !coordinated => {
                                gaps.push(format!(
                                    "{site}: the best single device's {} ({} Mbit/s) is less than {users} users need; only a coordinated run (bandwidth.start_at) measures the site's aggregate",
                                    way.word(),
                                    fmt(d.mbps)
                                ));
                            }
                            (Some(Verdict::ShortLowerBound), Some(d)) => {
                                gaps.push(format!(
                                    "{site}: the {} figure ({} Mbit/s) is less than {users} users need, but it counts {} device(s) measuring together while {} measured apart or not at all ({}); run the coordinated measurement again",
                                    way.word(),
                                    fmt(d.mbps),
                                    d.devices,
                                    d.left_out.len(),
                                    d.left_out.join("; ")
                                ));
                            }
                            _ => {}
                        }
                    }
                }
                _ => {}
            }
            throughput.push(t);
        }
    }

    // Network conditions, worded.
    let mut conditions: Vec<Condition> = pending
        .into_iter()
        .map(|(key, p)| network_condition_words(key, p))
        .collect();
    conditions.extend(device_conditions);
    conditions.sort_by(|a, b| b.required.cmp(&a.required).then(a.kind.cmp(&b.kind)));

    // Critical requirements nobody could measure.
    for row in &matrix {
        if row.critical
            && !row.sites.is_empty()
            && row.sites.values().all(|c| c.status == Status::Unknown)
        {
            gaps.push(format!(
                "{} ({}) could not be measured on any device",
                row.title, row.requirement
            ));
        }
    }
    for req in &device_reqs {
        if req.critical
            && !device_models.is_empty()
            && device_models.iter().all(|m| {
                m.requirements
                    .get(&req.id)
                    .is_none_or(|c| c.status == Status::Unknown)
            })
        {
            gaps.push(format!(
                "{} ({}) could not be measured on any device",
                req.title, req.id
            ));
        }
    }
    if judged.is_empty() {
        gaps.push("no device has reported yet".to_owned());
    }

    let required = conditions.iter().filter(|c| c.required).count();
    let verdict = if !blockers.is_empty() {
        FleetVerdict::NotCompatible
    } else if !gaps.is_empty() {
        FleetVerdict::InsufficientEvidence
    } else if required > 0 {
        FleetVerdict::CompatibleWithConditions
    } else {
        FleetVerdict::Compatible
    };
    let devices = judged.len();
    // Whether the uplink was judged at all, said plainly where it was not.
    let capacity = if per_user_down.is_none() && per_user_up.is_none() {
        " Uplink capacity was not assessed: the profile states no bandwidth per user.".to_owned()
    } else if spec.concurrent_users.values().all(|n| *n == 0) {
        " Uplink capacity was not assessed: the evaluation plans no concurrent users at any site."
            .to_owned()
    } else {
        let unmeasured: Vec<&str> = throughput
            .iter()
            .filter(|t| t.users > 0 && t.download.is_none() && t.upload.is_none())
            .map(|t| t.site.as_str())
            .collect();
        if unmeasured.is_empty() {
            String::new()
        } else {
            format!(
                " Uplink capacity was not assessed at {}: no device there measured throughput.",
                unmeasured.join(", ")
            )
        }
    };
    let summary = match verdict {
        FleetVerdict::NotCompatible => format!(
            "{} cannot be used as planned: {}. {} device(s) at {} site(s) reported.",
            profile.name,
            blockers
                .iter()
                .map(|b| format!("{} — {}", b.title, b.reason))
                .collect::<Vec<_>>()
                .join("; "),
            devices,
            coverage.iter().filter(|c| c.devices_reported > 0).count()
        ),
        FleetVerdict::InsufficientEvidence => format!(
            "Not enough evidence to recommend {} yet: {}.{}",
            profile.name,
            gaps.join("; "),
            if required > 0 {
                format!(" {required} required action(s) are already known.")
            } else {
                String::new()
            }
        ),
        FleetVerdict::CompatibleWithConditions => format!(
            "{} works on the district's devices and network once {required} action(s) are taken; {} device(s) at {} site(s) reported.{capacity}",
            profile.name,
            devices,
            coverage.len()
        ),
        FleetVerdict::Compatible => format!(
            "{} works on the district's devices and network as they are: every requirement passed on {} device(s) at {} site(s).{capacity}",
            profile.name,
            devices,
            coverage.len()
        ),
    };
    let mut notes: Vec<String> = Vec::new();
    for j in &judged {
        for n in &j.input.report.notes {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
    }
    Recommendation {
        schema: RECOMMENDATION_SCHEMA.to_owned(),
        generated_at: input.generated_at.to_owned(),
        evaluation: EvaluationRef {
            id: input.evaluation_id.to_owned(),
            title: input.title.to_owned(),
            product: spec
                .proposal
                .product
                .clone()
                .unwrap_or_else(|| profile.name.clone()),
            vendor: spec
                .proposal
                .vendor
                .clone()
                .unwrap_or_else(|| profile.vendor.clone()),
            profile_id: profile.id.clone(),
            profile_digest: input.profile_digest.to_owned(),
            sources: profile.sources.clone(),
            window_start: spec.window_start.clone(),
            window_end: spec.window_end.clone(),
            proposal: spec.proposal.clone(),
        },
        verdict,
        summary,
        conditions,
        blockers,
        gaps,
        coverage,
        matrix,
        device_models,
        throughput,
        notes,
    }
}

fn worst(a: Status, b: Status) -> Status {
    let rank = |s: Status| match s {
        Status::Pass => 0,
        Status::Unknown => 1,
        Status::Warn => 2,
        Status::Fail => 3,
    };
    if rank(b) > rank(a) { b } else { a }
}

fn fmt(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

fn list(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

fn network_condition_words(key: ConditionKey, p: Pending) -> Condition {
    let sites = list(&p.sites);
    let seen = (!p.seen.is_empty()).then(|| list(&p.seen));
    let by = seen
        .as_ref()
        .map_or(String::new(), |s| format!(" (seen: {s})"));
    let items = list(&p.items);
    let (action, owner) = match (key.kind, key.detail.as_str()) {
        (ConditionKind::FilterAllow, "dns") => (
            format!("allow {items} in the DNS filter{by} — blocked at {sites}"),
            "DNS filter administrator",
        ),
        (ConditionKind::FilterAllow, _) => (
            format!("allow {items} in the web filter{by} — blocked at {sites}"),
            "web filter administrator",
        ),
        (ConditionKind::InspectionBypass, _) => (
            format!("exempt {items} from TLS inspection{by} — re-signed at {sites}"),
            "web filter administrator",
        ),
        (ConditionKind::FirewallRule, _) => (
            format!("open outbound {items} in the firewall — closed at {sites}"),
            "network operations (firewall)",
        ),
        (ConditionKind::NetworkPath, _) => (
            format!("fix the path or prioritise the product's traffic at {sites}: {items}"),
            "network operations",
        ),
        (ConditionKind::Investigate, "resolver") => (
            format!("make the district resolver answer {items} (timeouts or failures at {sites})"),
            "network operations (DNS)",
        ),
        (ConditionKind::Investigate, "vendor") => (
            format!("ask the vendor why {items} answered wrongly at {sites}"),
            "the sponsor, with the vendor",
        ),
        _ => (
            format!(
                "{} at {sites}",
                p.remedy
                    .clone()
                    .unwrap_or_else(|| format!("look into {items}"))
            ),
            "technology operations",
        ),
    };
    Condition {
        kind: key.kind,
        action,
        owner: owner.to_owned(),
        required: p.required,
        items: p.items.into_iter().collect(),
        sites: p.sites.into_iter().collect(),
        seen,
        devices: None,
        requirements: p.requirements.into_iter().collect(),
        evidence: p.evidence,
    }
}
