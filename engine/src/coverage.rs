//! Stage 3: whether each site has enough devices to be judged; where not, who enrolls how many
//! more devices where. Native agents and browser agents are counted apart: one machine may run
//! both, so per OS family a site's devices are the larger of the two counts, never their sum.

use std::collections::BTreeMap;

use fitcheck_core::api::AgentKind;
use fitcheck_core::profile::OsFamily;

use crate::judge::Judgement;
use crate::{Fleet, NO_SITE, ScopeAgent, SiteCoverage};

/// Each site's coverage, and a gap — an action — for each site without enough devices.
pub fn assess(fleet: &Fleet<'_>, agents: &[ScopeAgent]) -> (Vec<SiteCoverage>, Vec<String>) {
    let min_devices = fleet.plan.min_devices_per_site.max(1);
    let mut coverage = Vec::new();
    let mut gaps = Vec::new();
    let mut enrolled_at: BTreeMap<&str, u32> = BTreeMap::new();
    for a in agents {
        *enrolled_at
            .entry(a.site.as_deref().unwrap_or(NO_SITE))
            .or_default() += 1;
    }
    for site in &fleet.sites {
        let enrolled = enrolled_at.get(site.as_str()).copied().unwrap_or(0);
        let (reported, browsers) = devices_at(fleet.at(site));
        let enough = reported >= min_devices;
        if reported == 0 && enrolled == 0 {
            gaps.push(format!(
                "{site}: no device has reported and no agent is enrolled there; technology operations to enroll agents on at least {min_devices} representative device(s)"
            ));
        } else if reported == 0 {
            gaps.push(format!(
                "{site}: no device has reported; technology operations to check that its {enrolled} enrolled agent(s) are running and reach the controller{}",
                if enrolled < min_devices {
                    format!(", and to enroll {} more", min_devices - enrolled)
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
            agents: enrolled,
            devices_reported: reported,
            browsers_reported: browsers,
            enough,
        });
    }
    (coverage, gaps)
}

/// The devices that reported at a site, and how many of the reports are browser agents'. A
/// browser agent and a native agent may run on one machine, so they are counted apart: per OS
/// family, the larger of the two counts (a browser on a Chromebook shares it with no native
/// agent; browsers on Windows may be on the machines whose native agents reported).
fn devices_at(reports: &[&Judgement]) -> (u32, u32) {
    let mut per_family: BTreeMap<Option<OsFamily>, (u32, u32)> = BTreeMap::new();
    for j in reports {
        let (native, browser) = per_family.entry(j.os_family).or_default();
        if j.kind == AgentKind::Browser {
            *browser += 1;
        } else {
            *native += 1;
        }
    }
    let devices = per_family.values().map(|(n, b)| (*n).max(*b)).sum();
    let browsers = per_family.values().map(|(_, b)| *b).sum();
    (devices, browsers)
}
