//! Stage 3: whether each site has enough devices to be judged; where not, who enrolls how many
//! more devices where.

use std::collections::BTreeMap;

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
        let reported = fleet.at(site).len() as u32;
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
            enough,
        });
    }
    (coverage, gaps)
}
