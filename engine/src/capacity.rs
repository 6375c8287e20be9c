//! Stage 6: each site's uplink against its planned concurrent users. In a coordinated run the
//! site's figure is what its devices carried together over the time they all measured
//! ([`fitcheck_core::site::together`]); otherwise the best single device, a lower bound that
//! cannot fail a site by itself. A direction no device measured is unknown, never zero.

use std::collections::BTreeSet;

use fitcheck_core::evaluate::{FixKind, Status};
use fitcheck_core::report::ThroughputSamples;
use fitcheck_core::requirement::{NetworkKey, RequirementId};
use fitcheck_core::site;

use crate::judge::{Judgement, Series, Throughput};
use crate::{
    Condition, ConditionKind, Evidence, Fleet, MAX_EVIDENCE, SiteCoverage, SiteDirection,
    SiteThroughput, fmt,
};

/// Each site's capacity, the uplink conditions, and what could not be assessed.
#[derive(Debug)]
pub struct Capacity {
    pub sites: Vec<SiteThroughput>,
    pub conditions: Vec<Condition>,
    pub gaps: Vec<String>,
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

    /// The profile's need per user this way.
    fn need(self) -> NetworkKey {
        match self {
            Way::Download => NetworkKey::DownloadMbpsPerUser,
            Way::Upload => NetworkKey::UploadMbpsPerUser,
        }
    }

    fn of(self, b: &Throughput) -> (Option<f64>, Option<&Series>) {
        match self {
            Way::Download => (b.download_mbps, b.download_series.as_ref()),
            Way::Upload => (b.upload_mbps, b.upload_series.as_ref()),
        }
    }
}

/// One direction at one site: the figure, and the need and per-user figure it is judged by.
struct Direction {
    way: Way,
    figure: Option<SiteDirection>,
    per_user: Option<f64>,
    need: Option<f64>,
    verdict: Option<Verdict>,
}

/// Assesses every site's uplink, where the profile states bandwidth per user.
pub fn assess(fleet: &Fleet<'_>, coverage: &[SiteCoverage]) -> Capacity {
    let mut out = Capacity {
        sites: Vec::new(),
        conditions: Vec::new(),
        gaps: Vec::new(),
    };
    let needs = fleet.profile.network.as_ref();
    let per_user = (
        needs.and_then(|n| n.download_mbps_per_user),
        needs.and_then(|n| n.upload_mbps_per_user),
    );
    if per_user.0.is_none() && per_user.1.is_none() {
        return out;
    }
    for site in &fleet.sites {
        assess_site(fleet, coverage, site, per_user, &mut out);
    }
    out
}

/// One site: what its devices carried each way against what its users need, and the condition
/// or gap that follows.
fn assess_site(
    fleet: &Fleet<'_>,
    coverage: &[SiteCoverage],
    site: &str,
    (per_user_down, per_user_up): (Option<f64>, Option<f64>),
    out: &mut Capacity,
) {
    let coordinated = fleet.plan.coordinated;
    let users = fleet.plan.concurrent_users.get(site).copied().unwrap_or(0);
    let measured: Vec<(&Judgement, &Throughput)> = fleet
        .at(site)
        .iter()
        .filter_map(|j| j.bandwidth.as_ref().map(|b| (*j, b)))
        .collect();
    let ways = [
        direction(&measured, Way::Download, per_user_down, users, coordinated),
        direction(&measured, Way::Upload, per_user_up, users, coordinated),
    ];
    let max_users = max_users(&ways);
    let status = site_status(users, measured.is_empty(), &ways);
    let counted: BTreeSet<&str> = ways
        .iter()
        .filter_map(|d| d.figure.as_ref())
        .flat_map(|d| d.counted.iter().map(String::as_str))
        .collect();
    match status {
        Status::Fail => out.conditions.push(uplink_condition(
            site, users, max_users, &ways, &measured, &counted,
        )),
        Status::Unknown
            if users > 0
                && coverage
                    .iter()
                    .any(|c| c.site == site && c.devices_reported > 0) =>
        {
            out.gaps.extend(not_assessed(
                site,
                users,
                &ways,
                measured.is_empty(),
                coordinated,
            ));
        }
        _ => {}
    }
    let [down, up] = &ways;
    out.sites.push(SiteThroughput {
        site: site.to_owned(),
        users,
        download_needed_mbps: down.need,
        upload_needed_mbps: up.need,
        download_measured_mbps: down.figure.as_ref().map(|d| d.mbps),
        upload_measured_mbps: up.figure.as_ref().map(|d| d.mbps),
        devices_measured: ways
            .iter()
            .filter_map(|d| d.figure.as_ref())
            .map(|d| d.devices)
            .max()
            .unwrap_or(0),
        coordinated: ways
            .iter()
            .filter_map(|d| d.figure.as_ref())
            .any(|d| d.common_window_ms.is_some()),
        max_users,
        status,
        evidence: counted
            .iter()
            .take(MAX_EVIDENCE)
            .map(|id| (*id).to_owned())
            .collect(),
        download: down.figure.clone(),
        upload: up.figure.clone(),
    });
}

/// One way at a site: its figure, what its users need, and the verdict.
fn direction(
    measured: &[(&Judgement, &Throughput)],
    way: Way,
    per_user: Option<f64>,
    users: u32,
    coordinated: bool,
) -> Direction {
    let figure = site_direction(measured, way, coordinated);
    let need = per_user.map(|p| p * f64::from(users));
    let verdict = need.map(|need| match &figure {
        None => Verdict::NotMeasured,
        Some(d) if d.mbps < need && d.together => Verdict::Short,
        Some(d) if d.mbps < need => Verdict::ShortLowerBound,
        Some(_) => Verdict::Enough,
    });
    Direction {
        way,
        figure,
        per_user,
        need,
        verdict,
    }
}

/// How many users the measured figures carry, the fewer of the two ways.
fn max_users(ways: &[Direction; 2]) -> Option<u32> {
    let carried = |d: &Direction| -> Option<u32> {
        match (&d.figure, d.per_user) {
            (Some(f), Some(p)) if p > 0.0 => Some((f.mbps / p).floor().min(1e9) as u32),
            _ => None,
        }
    };
    match (carried(&ways[0]), carried(&ways[1])) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// A site's status: short only where devices measuring together carried less than needed;
/// unknown where nothing, or only a lower bound, was measured.
fn site_status(users: u32, none_measured: bool, ways: &[Direction; 2]) -> Status {
    let any = |v: Verdict| ways.iter().any(|d| d.verdict == Some(v));
    if users == 0 || none_measured {
        Status::Unknown
    } else if any(Verdict::Short) {
        Status::Fail
    } else if any(Verdict::ShortLowerBound) || any(Verdict::NotMeasured) {
        Status::Unknown
    } else {
        Status::Pass
    }
}

/// The condition for a site whose devices, measuring together, carried less than its users need.
fn uplink_condition(
    site: &str,
    users: u32,
    max_users: Option<u32>,
    ways: &[Direction],
    measured: &[(&Judgement, &Throughput)],
    counted: &BTreeSet<&str>,
) -> Condition {
    let mut parts = Vec::new();
    let mut requirements = Vec::new();
    for d in ways {
        if let (Some(Verdict::Short), Some(f), Some(n)) = (d.verdict, &d.figure, d.need) {
            parts.push(format!(
                "{}: {users} users × {} Mbit/s = {} Mbit/s needed, {} Mbit/s measured",
                d.way.word(),
                fmt(d.per_user.unwrap_or(0.0)),
                fmt(n),
                fmt(f.mbps)
            ));
            requirements.push(RequirementId::Network(d.way.need()));
        }
    }
    let figure = |m: Option<f64>| {
        m.map_or_else(
            || "not measured".to_owned(),
            |v| format!("{} Mbit/s", fmt(v)),
        )
    };
    Condition {
        kind: ConditionKind::UplinkCapacity,
        fix: FixKind::ConfigureNetwork,
        action: format!(
            "{site}: raise uplink capacity or plan at most {} concurrent users ({})",
            max_users.unwrap_or(0),
            parts.join("; ")
        ),
        owner: "network operations (uplink / ISP contract)".to_owned(),
        required: true,
        items: Vec::new(),
        sites: vec![site.to_owned()],
        seen: None,
        devices: None,
        requirements,
        evidence: measured
            .iter()
            .filter(|(j, _)| counted.contains(j.report_id.as_str()))
            .take(MAX_EVIDENCE)
            .map(|(j, b)| Evidence {
                report_id: j.report_id.clone(),
                agent_id: j.agent_id.clone(),
                site: site.to_owned(),
                requirement: RequirementId::NetworkMeasure,
                observed: format!(
                    "download {}, upload {}",
                    figure(b.download_mbps),
                    figure(b.upload_mbps)
                ),
            })
            .collect(),
    }
}

/// Why a site with planned users and reporting devices could not be assessed, as actions.
fn not_assessed(
    site: &str,
    users: u32,
    ways: &[Direction],
    none_measured: bool,
    coordinated: bool,
) -> Vec<String> {
    let mut gaps = Vec::new();
    if none_measured {
        gaps.push(format!(
            "{site}: throughput was not measured (give the evaluation a bandwidth plan)"
        ));
    }
    for d in ways {
        let word = d.way.word();
        match (d.verdict, &d.figure) {
            (Some(Verdict::NotMeasured), _) if !none_measured => gaps.push(format!(
                "{site}: no device measured the {word}, so the uplink's {word} capacity was not assessed"
            )),
            (Some(Verdict::ShortLowerBound), Some(f)) if !coordinated => gaps.push(format!(
                "{site}: the best single device's {word} ({} Mbit/s) is less than {users} users need; only a coordinated run (bandwidth.start_at) measures the site's aggregate",
                fmt(f.mbps)
            )),
            (Some(Verdict::ShortLowerBound), Some(f)) => gaps.push(format!(
                "{site}: the {word} figure ({} Mbit/s) is less than {users} users need, but it counts {} device(s) measuring together while {} measured apart or not at all ({}); run the coordinated measurement again",
                fmt(f.mbps),
                f.devices,
                f.left_out.len(),
                f.left_out.join("; ")
            )),
            _ => {}
        }
    }
    gaps
}

/// One direction of a site's figure from its devices' measurements. A direction a device did
/// not measure is not a zero: it is left out and named.
fn site_direction(
    measured: &[(&Judgement, &Throughput)],
    way: Way,
    coordinated: bool,
) -> Option<SiteDirection> {
    let mut left_out: Vec<String> = measured
        .iter()
        .filter(|(_, b)| way.of(b).0.is_none())
        .map(|(j, _)| format!("{} measured no {}", j.device, way.word()))
        .collect();
    let with: Vec<(&Judgement, f64, Option<&Series>)> = measured
        .iter()
        .filter_map(|(j, b)| {
            let (mbps, samples) = way.of(b);
            mbps.map(|m| (*j, m, samples))
        })
        .collect();
    let best = |with: &[(&Judgement, f64, Option<&Series>)]| {
        with.iter()
            .max_by(|a, b| a.1.total_cmp(&b.1))
            .map(|(j, m, _)| (j.report_id.clone(), *m))
    };
    let alone = |id: String, mbps: f64, devices: u32, left_out: Vec<String>| SiteDirection {
        mbps,
        devices,
        common_window_ms: None,
        together: false,
        counted: vec![id],
        left_out,
    };
    if !coordinated {
        let (id, mbps) = best(&with)?;
        return Some(alone(id, mbps, with.len() as u32, left_out));
    }
    let timed: Vec<(&Judgement, ThroughputSamples)> = with
        .iter()
        .filter_map(|(j, _, s)| s.map(|s| (*j, s.samples())))
        .collect();
    for (j, _, _) in with.iter().filter(|(_, _, s)| s.is_none()) {
        left_out.push(format!(
            "{} sent no timed samples (agent {}), so it cannot be placed in time",
            j.device, j.agent_version
        ));
    }
    let series: Vec<&ThroughputSamples> = timed.iter().map(|(_, s)| s).collect();
    let Some(t) = site::together(&series) else {
        let (id, mbps) = best(&with)?;
        return Some(alone(id, mbps, 1, left_out));
    };
    for i in &t.left_out {
        if let Some((j, _)) = timed.get(*i) {
            left_out.push(format!(
                "{} did not measure at the same time as the others",
                j.device
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
            .filter_map(|i| timed.get(*i).map(|(j, _)| j.report_id.clone()))
            .collect(),
        left_out,
    })
}
