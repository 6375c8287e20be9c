//! Stage 7: what could not be measured anywhere, the verdict, and the paragraph that says why.
//!
//! The verdict is the worst that applies: a blocker makes the product not compatible; else a
//! gap in the evidence makes it insufficient; else required conditions make it compatible with
//! conditions; else compatible.

use fitcheck_core::evaluate::Status;

use crate::{
    Blocker, Condition, DeviceModelRow, Fleet, FleetVerdict, MatrixRow, SiteCoverage,
    SiteThroughput,
};

/// Critical requirements no device could measure, and the absence of any report.
pub fn unmeasured(
    fleet: &Fleet<'_>,
    matrix: &[MatrixRow],
    models: &[DeviceModelRow],
) -> Vec<String> {
    let mut gaps = Vec::new();
    for row in matrix {
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
    let device_reqs = fleet
        .requirements
        .iter()
        .filter(|r| r.kind.is_per_device() && r.critical);
    for req in device_reqs {
        if !models.is_empty()
            && models.iter().all(|m| {
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
    if fleet.devices.is_empty() {
        gaps.push("no device has reported yet".to_owned());
    }
    gaps
}

/// The verdict.
pub fn decide(blockers: &[Blocker], gaps: &[String], conditions: &[Condition]) -> FleetVerdict {
    if !blockers.is_empty() {
        FleetVerdict::NotCompatible
    } else if !gaps.is_empty() {
        FleetVerdict::InsufficientEvidence
    } else if conditions.iter().any(|c| c.required) {
        FleetVerdict::CompatibleWithConditions
    } else {
        FleetVerdict::Compatible
    }
}

/// One paragraph saying why, and whether the uplink was judged at all.
pub fn summary(
    fleet: &Fleet<'_>,
    verdict: FleetVerdict,
    blockers: &[Blocker],
    gaps: &[String],
    conditions: &[Condition],
    coverage: &[SiteCoverage],
    throughput: &[SiteThroughput],
) -> String {
    let name = &fleet.profile.name;
    // Devices, not agents: a machine running both agents is one device.
    let devices: u32 = coverage.iter().map(|c| c.devices_reported).sum();
    let required = conditions.iter().filter(|c| c.required).count();
    match verdict {
        FleetVerdict::NotCompatible => format!(
            "{name} cannot be used as planned: {}. {devices} device(s) at {} site(s) reported.",
            blockers
                .iter()
                .map(|b| format!("{} — {}", b.title, b.reason))
                .collect::<Vec<_>>()
                .join("; "),
            coverage.iter().filter(|c| c.devices_reported > 0).count()
        ),
        FleetVerdict::InsufficientEvidence => format!(
            "Not enough evidence to recommend {name} yet: {}.{}",
            gaps.join("; "),
            if required > 0 {
                format!(" {required} required action(s) are already known.")
            } else {
                String::new()
            }
        ),
        FleetVerdict::CompatibleWithConditions => format!(
            "{name} works on the district's devices and network once {required} action(s) are taken; {devices} device(s) at {} site(s) reported.{}",
            coverage.len(),
            capacity(fleet, throughput)
        ),
        FleetVerdict::Compatible => format!(
            "{name} works on the district's devices and network as they are: every requirement passed on {devices} device(s) at {} site(s).{}",
            coverage.len(),
            capacity(fleet, throughput)
        ),
    }
}

/// Whether the uplink was judged, said plainly where it was not.
fn capacity(fleet: &Fleet<'_>, throughput: &[SiteThroughput]) -> String {
    let needs = fleet.profile.network.as_ref();
    let per_user = needs
        .is_some_and(|n| n.download_mbps_per_user.is_some() || n.upload_mbps_per_user.is_some());
    if !per_user {
        return " Uplink capacity was not assessed: the profile states no bandwidth per user."
            .to_owned();
    }
    if fleet.plan.concurrent_users.values().all(|n| *n == 0) {
        return " Uplink capacity was not assessed: the evaluation plans no concurrent users at any site."
            .to_owned();
    }
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
}
