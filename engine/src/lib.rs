//! The recommendation engine: pure functions from an evaluation's plan, its profile, the agents
//! in its scope and their judged reports to the document the review committee reads; and the
//! comparison of two such documents. No I/O: the controller reads the store and renders.
//!
//! [`recommend`] runs in stages, each a function of its own module that can be tested alone:
//!
//! 1. [`judge`](judge::judge) each report against the profile (done once, at ingestion);
//! 2. [`Fleet::gather`]: each agent's latest judgement, grouped per site and per device model;
//! 3. [`coverage`]: which sites have enough devices to judge, and who enrolls more where not;
//! 4. [`network`]: site × network requirement, and the conditions that fix what fails;
//! 5. [`devices`]: model × device requirement, device conditions, and what no model meets;
//! 6. [`capacity`]: each site's uplink against its planned users;
//! 7. [`data`]: the vendor's data files against the district's SIS summary and the signed
//!    Exhibit B;
//! 8. [`verdict`]: what could not be measured, the verdict and the summary.
//!
//! Network requirements are judged per site (the network is shared: a site fails a requirement
//! when any of its devices fails it), hardware per device model. Every failure becomes a
//! condition — a concrete action, who takes it, the sites or models concerned and the reports
//! that show it — unless no district action can fix it, which makes the product not compatible.

use std::collections::{BTreeMap, BTreeSet};

use fitcheck_core::data::summary::SisSummary;
use fitcheck_core::evaluate::{Requirement, Status, requirements};
use fitcheck_core::profile::Profile;
use fitcheck_core::requirement::RequirementId;

pub mod capacity;
pub mod coverage;
pub mod data;
pub mod devices;
pub mod diff;
pub mod document;
pub mod judge;
pub mod network;
pub mod verdict;
pub mod watch;

pub use document::*;
pub use judge::{
    Arrival, JUDGEMENT_VERSION, Judged, Judgement, judge, judge_with, latest_per_agent, model_of,
};

/// Most reports cited as evidence for one condition or cell.
pub const MAX_EVIDENCE: usize = 12;

/// An agent in the evaluation's scope.
#[derive(Debug, Clone)]
pub struct ScopeAgent {
    pub id: String,
    pub site: Option<String>,
}

/// What the evaluation plans, as the engine reads it.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// Sites in scope; empty: every site an agent or report names.
    pub sites: Vec<String>,
    /// Planned concurrent users per site.
    pub concurrent_users: BTreeMap<String, u32>,
    /// Devices a site needs to have reported before it can be judged.
    pub min_devices_per_site: u32,
    /// Whether the devices measure throughput at one moment (per site or for all), so a site's
    /// figure is what they carried together.
    pub coordinated: bool,
    pub window_start: Option<String>,
    pub window_end: String,
    pub proposal: Proposal,
    /// The group label of the machines that send the roster files.
    pub data_senders: Option<String>,
    /// Device models whose OS updates have ended, each with the last release it receives (the
    /// district's inventory: the Google Admin console's auto-update expiration, a maker's
    /// end-of-support list). A model that cannot reach a version the profile needs is to be
    /// replaced, not updated.
    pub os_updates_end: BTreeMap<String, String>,
}

/// Everything the engine reads.
#[derive(Debug)]
pub struct Input<'a> {
    pub evaluation_id: &'a str,
    pub title: &'a str,
    pub plan: &'a Plan,
    pub profile: &'a Profile,
    pub profile_digest: &'a str,
    pub agents: &'a [ScopeAgent],
    /// The evaluation's judged reports; only each agent's latest counts.
    pub judgements: &'a [Judgement],
    /// When the recommendation is written (RFC 3339), as the caller's clock says.
    pub generated_at: &'a str,
    /// The district's latest SIS summary, if one was uploaded.
    pub sis: Option<&'a SisSummary>,
}

/// The judged devices of one evaluation, grouped the ways the stages read them.
#[derive(Debug)]
pub struct Fleet<'a> {
    pub plan: &'a Plan,
    pub profile: &'a Profile,
    /// The profile's requirements, in profile order; each judgement's outcomes follow it.
    pub requirements: Vec<Requirement>,
    /// Sites in scope, in order.
    pub sites: BTreeSet<String>,
    /// Each agent's latest judgement, in agent order.
    pub devices: Vec<&'a Judgement>,
    pub by_site: BTreeMap<&'a str, Vec<&'a Judgement>>,
    pub by_model: BTreeMap<&'a str, Vec<&'a Judgement>>,
}

impl<'a> Fleet<'a> {
    /// Stage 2: each agent's latest judgement, grouped per site and per model.
    pub fn gather(input: &Input<'a>) -> Fleet<'a> {
        let requirements = requirements(input.profile);
        // A judgement of another profile cannot be read against this one's requirements; the
        // caller judges such reports again (their digest differs).
        // A machine that sends the roster files is no device: the data stage reads it.
        let devices = latest_per_agent(
            input
                .judgements
                .iter()
                .filter(|j| j.outcomes.len() == requirements.len() && j.transfer.is_none()),
        );
        let mut sites: BTreeSet<String> = input.plan.sites.iter().cloned().collect();
        if sites.is_empty() {
            for a in input.agents {
                sites.insert(a.site.clone().unwrap_or_else(|| NO_SITE.to_owned()));
            }
            for j in &devices {
                sites.insert(j.site.clone());
            }
        }
        let mut by_site: BTreeMap<&str, Vec<&Judgement>> = BTreeMap::new();
        let mut by_model: BTreeMap<&str, Vec<&Judgement>> = BTreeMap::new();
        for j in &devices {
            by_site.entry(j.site.as_str()).or_default().push(j);
            by_model.entry(j.model.as_str()).or_default().push(j);
        }
        Fleet {
            plan: input.plan,
            profile: input.profile,
            requirements,
            sites,
            devices,
            by_site,
            by_model,
        }
    }

    /// The devices that reported at `site`.
    pub fn at(&self, site: &str) -> &[&'a Judgement] {
        self.by_site.get(site).map_or(&[], Vec::as_slice)
    }
}

/// Writes the recommendation.
pub fn recommend(input: &Input<'_>) -> Recommendation {
    let fleet = Fleet::gather(input);
    let (coverage, mut gaps) = coverage::assess(&fleet, input.agents);
    let network = network::assess(&fleet);
    let devices = devices::assess(&fleet);
    let capacity = capacity::assess(&fleet, &coverage);
    gaps.extend(capacity.gaps);
    gaps.extend(verdict::unmeasured(
        &fleet,
        &network.matrix,
        &devices.models,
    ));

    let data = assess_data(input);
    gaps.extend(data.section.as_ref().map(data::gaps).unwrap_or_default());

    let mut conditions = network.conditions;
    conditions.extend(devices.conditions);
    conditions.extend(capacity.conditions);
    conditions.extend(data.conditions);
    conditions.sort_by(|a, b| b.required.cmp(&a.required).then(a.kind.cmp(&b.kind)));

    let mut blockers = network.blockers;
    blockers.extend(devices.blockers);
    blockers.extend(data.blockers);
    let verdict = verdict::decide(&blockers, &gaps, &conditions);
    let mut summary = verdict::summary(
        &fleet,
        verdict,
        &blockers,
        &gaps,
        &conditions,
        &coverage,
        &capacity.sites,
    );
    if let Some(d) = &data.section
        && d.status == DataStatus::NotAssessed
    {
        summary.push_str(" The data part is not assessed: no SIS summary has been uploaded.");
    }
    let notes = notes(&fleet, devices.unchecked);
    Recommendation {
        schema: RECOMMENDATION_SCHEMA.to_owned(),
        generated_at: input.generated_at.to_owned(),
        evaluation: evaluation_ref(input),
        verdict,
        summary,
        conditions,
        blockers,
        gaps,
        coverage,
        requirements: fleet.requirements,
        matrix: network.matrix,
        device_models: devices.models,
        throughput: capacity.sites,
        notes,
        data: data.section,
    }
}

/// The data stage: the profile's data files against the SIS summary, the signed agreement and
/// the sending machines' transfer checks.
fn assess_data(input: &Input<'_>) -> data::Data {
    let dpa = input
        .plan
        .proposal
        .dpa_exhibit_b
        .as_ref()
        .map(|ticked| data::SignedExhibitB {
            ticked: ticked.clone(),
        });
    let senders = latest_per_agent(input.judgements.iter().filter(|j| j.transfer.is_some()));
    data::assess(
        input.profile.data.as_ref(),
        input.sis,
        dpa.as_ref(),
        &data::Transfer {
            group: input.plan.data_senders.as_deref(),
            reports: &senders,
        },
    )
}

/// The notes: what no device checked from inside a browser first, then the agents' caveats
/// (each once), then the device requirements no model could check.
fn notes(fleet: &Fleet<'_>, unchecked: Vec<String>) -> Vec<String> {
    let mut notes: Vec<String> = Vec::new();
    for j in &fleet.devices {
        for n in &j.notes {
            if !notes.contains(n) {
                notes.push(n.clone());
            }
        }
    }
    notes.extend(unchecked);
    if let Some(n) = browser_layer(fleet) {
        notes.insert(0, n);
    }
    notes
}

/// What the recommendation is about: the evaluation, the product as proposed, and the profile.
fn evaluation_ref(input: &Input<'_>) -> EvaluationRef {
    let (plan, profile) = (input.plan, input.profile);
    EvaluationRef {
        id: input.evaluation_id.to_owned(),
        title: input.title.to_owned(),
        product: plan
            .proposal
            .product
            .clone()
            .unwrap_or_else(|| profile.name.clone()),
        vendor: plan
            .proposal
            .vendor
            .clone()
            .unwrap_or_else(|| profile.vendor.clone()),
        profile_id: profile.id.clone(),
        profile_digest: input.profile_digest.to_owned(),
        sources: profile.sources.clone(),
        window_start: plan.window_start.clone(),
        window_end: plan.window_end.clone(),
        proposal: plan.proposal.clone(),
    }
}

/// What no device checked from inside a student's browser: filters that live there (extensions,
/// Chrome policy) act only on what the browser opens, so only the browser agent sees them.
fn browser_layer(fleet: &Fleet<'_>) -> Option<String> {
    let browsers = fleet
        .devices
        .iter()
        .filter(|j| j.kind == fitcheck_core::api::AgentKind::Browser)
        .count();
    (browsers == 0 && !fleet.profile.http.is_empty() && !fleet.devices.is_empty()).then(|| {
        "The browser layer is unverified: no browser agent reported, so filters that run inside \
         students' browsers (extensions such as GoGuardian or Securly, Chrome's URLBlocklist) were \
         not checked. Force-install the browser agent on a test organisational unit to check them."
            .to_owned()
    })
}

/// A report cited as evidence for requirement `id`.
pub fn evidence(j: &Judgement, id: &RequirementId, o: &Judged) -> Evidence {
    Evidence {
        report_id: j.report_id.clone(),
        agent_id: j.agent_id.clone(),
        site: j.site.clone(),
        requirement: id.clone(),
        observed: o.observed.clone(),
    }
}

/// The cell of one requirement over some devices: counts, the worst that counts (a failure,
/// else a shortfall, else a pass, else unknown: one device that measured outweighs those that
/// could not), up to three distinct observations, and the reports, failures first.
pub fn cell_of<'a>(items: impl IntoIterator<Item = (&'a Judgement, &'a Judged)>) -> Cell {
    let mut c = Cell {
        status: Status::Unknown,
        pass: 0,
        warn: 0,
        fail: 0,
        unknown: 0,
        observed: Vec::new(),
        reports: Vec::new(),
    };
    let mut others = Vec::new();
    for (j, o) in items {
        match o.status {
            Status::Pass => c.pass += 1,
            Status::Warn => c.warn += 1,
            Status::Fail => c.fail += 1,
            Status::Unknown => c.unknown += 1,
        }
        if c.observed.len() < 3 && !c.observed.contains(&o.observed) {
            c.observed.push(o.observed.clone());
        }
        if o.status.falls_short() {
            if c.reports.len() < MAX_EVIDENCE {
                c.reports.push(j.report_id.clone());
            }
        } else if others.len() < MAX_EVIDENCE {
            others.push(j.report_id.clone());
        }
    }
    c.reports.extend(others);
    c.reports.truncate(MAX_EVIDENCE);
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

/// A figure as people read it: whole where it is nearly whole, else one decimal.
pub fn fmt(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}
