//! What changed between two runs of one evaluation (two evaluations of the same profile, the
//! later one typically started after the district acted on the first's conditions). Pure: two
//! recommendations in, the differences out.
//!
//! Conditions are matched by what they are about, not by their wording, which names the sites
//! still affected and so changes when a fix is partial: two conditions are the same when they
//! are of one kind and share a requirement — and, for device upgrades, a model; for uplink
//! capacity, a site. A matched pair is *remaining* (its wording may have narrowed), a
//! condition only in the earlier run is *resolved*, one only in the later run is *new*.

use std::collections::{BTreeMap, BTreeSet};

use fitcheck_core::evaluate::Status;
use fitcheck_core::requirement::RequirementId;

use crate::{Cell, Condition, ConditionKind, FleetVerdict, Recommendation};

/// A condition found in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Remaining {
    pub before: Condition,
    pub after: Condition,
}

/// Where a cell is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum CellPlace {
    Site(String),
    Model(String),
}

/// A matrix cell whose status differs between the runs.
#[derive(Debug, Clone, PartialEq)]
pub struct CellChange {
    pub requirement: RequirementId,
    /// The requirement's title (from whichever run has it).
    pub title: String,
    pub place: CellPlace,
    /// `None`: no cell in that run (no report there, or the requirement did not exist).
    pub before: Option<Status>,
    pub after: Option<Status>,
}

impl CellChange {
    /// Whether the later run is better here.
    pub fn improved(&self) -> bool {
        rank(self.after) < rank(self.before)
    }
}

fn rank(s: Option<Status>) -> u8 {
    match s {
        Some(Status::Pass) => 0,
        None | Some(Status::Unknown) => 1,
        Some(Status::Warn) => 2,
        Some(Status::Fail) => 3,
    }
}

/// The differences between two runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    pub verdict_before: FleetVerdict,
    pub verdict_after: FleetVerdict,
    pub resolved: Vec<Condition>,
    pub new: Vec<Condition>,
    pub remaining: Vec<Remaining>,
    pub cells: Vec<CellChange>,
    /// Blockers (by requirement) gone, and new ones.
    pub blockers_resolved: Vec<RequirementId>,
    pub blockers_new: Vec<RequirementId>,
    /// Gaps in evidence of each run, as written.
    pub gaps_before: Vec<String>,
    pub gaps_after: Vec<String>,
}

/// Whether two conditions are about the same thing.
pub fn same_condition(a: &Condition, b: &Condition) -> bool {
    if a.kind != b.kind {
        return false;
    }
    fn shares<T: PartialEq>(x: &[T], y: &[T]) -> bool {
        x.iter().any(|i| y.contains(i))
    }
    if !shares(&a.requirements, &b.requirements) {
        return false;
    }
    match a.kind {
        ConditionKind::DeviceUpgrade => shares(&a.items, &b.items),
        ConditionKind::UplinkCapacity => shares(&a.sites, &b.sites),
        _ => true,
    }
}

/// Compares an earlier run (`before`) with a later one (`after`).
pub fn compare(before: &Recommendation, after: &Recommendation) -> Comparison {
    let mut taken = vec![false; after.conditions.len()];
    let mut resolved = Vec::new();
    let mut remaining = Vec::new();
    for b in &before.conditions {
        let found = after
            .conditions
            .iter()
            .enumerate()
            .find(|(i, a)| !taken[*i] && same_condition(b, a));
        match found {
            Some((i, a)) => {
                taken[i] = true;
                remaining.push(Remaining {
                    before: b.clone(),
                    after: a.clone(),
                });
            }
            None => resolved.push(b.clone()),
        }
    }
    let new = after
        .conditions
        .iter()
        .zip(&taken)
        .filter(|(_, t)| !**t)
        .map(|(c, _)| c.clone())
        .collect();

    let mut cells = Vec::new();
    // Network requirements by site, in the later run's order, then any only the earlier has.
    let mut rows: Vec<(&RequirementId, &str)> = after
        .matrix
        .iter()
        .map(|r| (&r.requirement, r.title.as_str()))
        .collect();
    for r in &before.matrix {
        if !rows.iter().any(|(id, _)| **id == r.requirement) {
            rows.push((&r.requirement, &r.title));
        }
    }
    for (id, title) in rows {
        let b = before.matrix.iter().find(|r| r.requirement == *id);
        let a = after.matrix.iter().find(|r| r.requirement == *id);
        for (site, sb, sa) in changed(b.map(|r| &r.sites), a.map(|r| &r.sites)) {
            cells.push(CellChange {
                requirement: id.clone(),
                title: title.to_owned(),
                place: CellPlace::Site(site.clone()),
                before: sb,
                after: sa,
            });
        }
    }
    // Device requirements by model.
    let models: BTreeSet<&String> = before
        .device_models
        .iter()
        .chain(&after.device_models)
        .map(|m| &m.model)
        .collect();
    for model in models {
        let b = before.device_models.iter().find(|m| &m.model == model);
        let a = after.device_models.iter().find(|m| &m.model == model);
        let (b, a) = (b.map(|m| &m.requirements), a.map(|m| &m.requirements));
        for (req, sb, sa) in changed(b, a) {
            cells.push(CellChange {
                requirement: req.clone(),
                title: req.to_string(),
                place: CellPlace::Model(model.clone()),
                before: sb,
                after: sa,
            });
        }
    }

    let blockers = |r: &Recommendation| -> BTreeSet<RequirementId> {
        r.blockers.iter().map(|b| b.requirement.clone()).collect()
    };
    let (bb, ba) = (blockers(before), blockers(after));
    Comparison {
        verdict_before: before.verdict,
        verdict_after: after.verdict,
        resolved,
        new,
        remaining,
        cells,
        blockers_resolved: bb.difference(&ba).cloned().collect(),
        blockers_new: ba.difference(&bb).cloned().collect(),
        gaps_before: before.gaps.clone(),
        gaps_after: after.gaps.clone(),
    }
}

/// The places in either run's cells (sites of a matrix row, requirements of a model) whose
/// status differs, in order, with the status before and after (`None`: no cell in that run).
fn changed<'m, K: Ord>(
    before: Option<&'m BTreeMap<K, Cell>>,
    after: Option<&'m BTreeMap<K, Cell>>,
) -> Vec<(&'m K, Option<Status>, Option<Status>)> {
    let keys: BTreeSet<&K> = before
        .into_iter()
        .chain(after)
        .flat_map(BTreeMap::keys)
        .collect();
    keys.into_iter()
        .map(|k| {
            let status = |m: Option<&BTreeMap<K, Cell>>| m.and_then(|m| m.get(k)).map(|c| c.status);
            (k, status(before), status(after))
        })
        .filter(|(_, b, a)| b != a)
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::Proposal;
    use crate::{Cell, DeviceModelRow, EvaluationRef, MatrixRow};

    fn cell(status: Status) -> Cell {
        Cell {
            status,
            pass: u32::from(status == Status::Pass),
            warn: 0,
            fail: u32::from(status == Status::Fail),
            unknown: 0,
            observed: vec![],
            reports: vec![],
        }
    }

    fn condition(kind: ConditionKind, req: &str, items: &[&str], sites: &[&str]) -> Condition {
        Condition {
            kind,
            fix: fitcheck_core::evaluate::FixKind::ConfigureNetwork,
            action: format!("{kind:?} {req} {items:?} at {sites:?}"),
            owner: "someone".into(),
            required: true,
            items: items.iter().map(|s| (*s).to_owned()).collect(),
            sites: sites.iter().map(|s| (*s).to_owned()).collect(),
            seen: None,
            devices: None,
            requirements: vec![(*req).into()],
            evidence: vec![],
        }
    }

    fn rec(
        verdict: FleetVerdict,
        conditions: Vec<Condition>,
        matrix: &[(&str, &[(&str, Status)])],
        models: &[(&str, &[(&str, Status)])],
    ) -> Recommendation {
        Recommendation {
            schema: "fitcheck.recommendation/v1".into(),
            generated_at: "2026-11-21T08:00:00Z".into(),
            evaluation: EvaluationRef {
                id: "e".into(),
                title: "t".into(),
                product: "p".into(),
                vendor: "v".into(),
                profile_id: "p".into(),
                profile_digest: "sha256:0".into(),
                sources: vec![],
                window_start: None,
                window_end: "2026-11-30T00:00:00Z".into(),
                proposal: Proposal::default(),
            },
            verdict,
            summary: String::new(),
            conditions,
            requirements: vec![],
            blockers: vec![],
            gaps: vec![],
            coverage: vec![],
            data: None,
            matrix: matrix
                .iter()
                .map(|(req, sites)| MatrixRow {
                    requirement: (*req).into(),
                    title: format!("title of {req}"),
                    critical: true,
                    expected: String::new(),
                    sites: sites
                        .iter()
                        .map(|(s, st)| ((*s).to_owned(), cell(*st)))
                        .collect(),
                })
                .collect(),
            device_models: models
                .iter()
                .map(|(m, reqs)| DeviceModelRow {
                    model: (*m).to_owned(),
                    devices: 1,
                    sites: vec![],
                    status: Status::Pass,
                    requirements: reqs
                        .iter()
                        .map(|(r, st)| ((*r).into(), cell(*st)))
                        .collect::<BTreeMap<_, _>>(),
                })
                .collect(),
            throughput: vec![],
            notes: vec![],
        }
    }

    #[test]
    fn a_fixed_filter_is_resolved_and_the_rest_remains() {
        use ConditionKind::*;
        use Status::*;
        let before = rec(
            FleetVerdict::CompatibleWithConditions,
            vec![
                condition(
                    FilterAllow,
                    "http[0]",
                    &["app.vendor.example"],
                    &["lincoln", "roosevelt"],
                ),
                condition(FirewallRule, "ports[0]", &["tcp 8801-8802"], &["roosevelt"]),
                condition(DeviceUpgrade, "device.ram_min_gib", &["Acme 3"], &[]),
                condition(
                    UplinkCapacity,
                    "network.download_mbps_per_user",
                    &[],
                    &["lincoln"],
                ),
            ],
            &[
                ("http[0]", &[("lincoln", Fail), ("roosevelt", Fail)]),
                ("ports[0]", &[("lincoln", Pass), ("roosevelt", Fail)]),
            ],
            &[("Acme 3", &[("device.ram_min_gib", Fail)])],
        );
        let after = rec(
            FleetVerdict::CompatibleWithConditions,
            vec![
                // Still blocked at one site: the same condition, narrower.
                condition(
                    FilterAllow,
                    "http[0]",
                    &["app.vendor.example"],
                    &["roosevelt"],
                ),
                condition(DeviceUpgrade, "device.ram_min_gib", &["Acme 3"], &[]),
                // Another site is now short of uplink: new, though of a kind seen before.
                condition(
                    UplinkCapacity,
                    "network.download_mbps_per_user",
                    &[],
                    &["roosevelt"],
                ),
                condition(
                    InspectionBypass,
                    "http[1]",
                    &["cdn.vendor.example"],
                    &["lincoln"],
                ),
            ],
            &[
                ("http[0]", &[("lincoln", Pass), ("roosevelt", Fail)]),
                ("ports[0]", &[("lincoln", Pass), ("roosevelt", Pass)]),
                ("http[1]", &[("lincoln", Fail)]),
            ],
            &[("Acme 3", &[("device.ram_min_gib", Fail)])],
        );
        let c = compare(&before, &after);
        let kinds = |v: &[Condition]| {
            v.iter()
                .map(|c| (c.kind, c.sites.clone()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            kinds(&c.resolved),
            vec![
                (FirewallRule, vec!["roosevelt".to_owned()]),
                (UplinkCapacity, vec!["lincoln".to_owned()]),
            ]
        );
        assert_eq!(
            kinds(&c.new),
            vec![
                (UplinkCapacity, vec!["roosevelt".to_owned()]),
                (InspectionBypass, vec!["lincoln".to_owned()]),
            ]
        );
        assert_eq!(c.remaining.len(), 2);
        assert_eq!(c.remaining[0].before.sites, ["lincoln", "roosevelt"]);
        assert_eq!(c.remaining[0].after.sites, ["roosevelt"]);

        let changed: Vec<(String, CellPlace, Option<Status>, Option<Status>)> = c
            .cells
            .iter()
            .map(|x| {
                (
                    x.requirement.to_string(),
                    x.place.clone(),
                    x.before,
                    x.after,
                )
            })
            .collect();
        assert_eq!(
            changed,
            vec![
                (
                    "http[0]".to_owned(),
                    CellPlace::Site("lincoln".into()),
                    Some(Fail),
                    Some(Pass)
                ),
                (
                    "ports[0]".to_owned(),
                    CellPlace::Site("roosevelt".into()),
                    Some(Fail),
                    Some(Pass)
                ),
                (
                    "http[1]".to_owned(),
                    CellPlace::Site("lincoln".into()),
                    None,
                    Some(Fail)
                ),
            ]
        );
        assert!(c.cells[0].improved());
        assert!(!c.cells[2].improved());
    }

    #[test]
    fn identical_runs_differ_in_nothing() {
        let r = rec(
            FleetVerdict::Compatible,
            vec![],
            &[("dns[0]", &[("lincoln", Status::Pass)])],
            &[("Acme 11", &[("device.os", Status::Pass)])],
        );
        let c = compare(&r, &r);
        assert!(c.resolved.is_empty() && c.new.is_empty() && c.remaining.is_empty());
        assert!(c.cells.is_empty());
        assert_eq!(c.verdict_before, c.verdict_after);
    }

    #[test]
    fn models_appearing_or_leaving_are_changes() {
        let before = rec(
            FleetVerdict::Compatible,
            vec![],
            &[],
            &[("Old", &[("device.ram_min_gib", Status::Fail)])],
        );
        let after = rec(
            FleetVerdict::Compatible,
            vec![],
            &[],
            &[("New", &[("device.ram_min_gib", Status::Pass)])],
        );
        let c = compare(&before, &after);
        assert_eq!(c.cells.len(), 2);
        assert_eq!(c.cells[0].place, CellPlace::Model("New".into()));
        assert_eq!(
            (c.cells[0].before, c.cells[0].after),
            (None, Some(Status::Pass))
        );
        assert_eq!(c.cells[1].place, CellPlace::Model("Old".into()));
        assert_eq!(
            (c.cells[1].before, c.cells[1].after),
            (Some(Status::Fail), None)
        );
    }
}
