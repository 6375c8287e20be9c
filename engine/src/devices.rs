//! Stage 5: every device requirement on every device model. A model falls short where any of
//! its sampled devices does; what that takes is the requirement's fix kind, decided where it
//! was judged. A replace-class shortfall (memory, processor, graphics, screen, architecture)
//! names the models that meet it; one that no sampled model meets is a blocker: the product
//! cannot run on the district's devices as they are. An OS shortfall on a model whose updates
//! have ended (the plan's `os_updates_end`, from the district's inventory) below every release
//! the profile allows is replace-class too.

use std::collections::{BTreeMap, BTreeSet};

use fitcheck_core::api::AgentKind;
use fitcheck_core::evaluate::{FixKind, Requirement, Status, os_release_reachable};
use fitcheck_core::profile::OsFamily;
use fitcheck_core::requirement::{DeviceKey, RequirementId};

use crate::judge::{Judged, Judgement};
use crate::{
    Blocker, Cell, Condition, ConditionKind, DeviceModelRow, Evidence, Fleet, MAX_EVIDENCE,
    cell_of, evidence,
};

/// The model × requirement matrix, device conditions and blockers.
#[derive(Debug)]
pub struct Devices {
    pub models: Vec<DeviceModelRow>,
    pub conditions: Vec<Condition>,
    pub blockers: Vec<Blocker>,
    /// Non-critical requirements no device could check, and why: said beside the caveats
    /// (the critical ones are gaps in the evidence).
    pub unchecked: Vec<String>,
}

/// One model's devices on one requirement.
struct Judging<'j> {
    cell: Cell,
    failing: Vec<(&'j Judgement, &'j Judged)>,
    passing: usize,
}

impl Judging<'_> {
    /// Every sampled device of the model meets the requirement.
    fn met(&self) -> bool {
        self.failing.is_empty() && self.passing > 0
    }
}

/// Judges every device requirement per model.
pub fn assess(fleet: &Fleet<'_>) -> Devices {
    let reqs: Vec<(usize, &Requirement)> = fleet
        .requirements
        .iter()
        .enumerate()
        .filter(|(_, r)| r.kind.is_per_device())
        .collect();
    // The cells first, so that a condition can say which models meet what another fails.
    let judging = cells(fleet, &reqs);
    let (models, conditions, replace) = rows(fleet, &reqs, &judging);
    let blockers = replace
        .into_iter()
        .filter(|(req, _)| {
            !fleet
                .by_model
                .keys()
                .any(|m| judging.get(&(*m, *req)).is_some_and(|o| o.passing > 0))
        })
        .filter_map(|(req, failing)| {
            let (_, r) = reqs.iter().find(|(_, r)| r.id == *req)?;
            Some(blocker(r, &failing, &judging, &conditions))
        })
        .collect();
    Devices {
        models,
        conditions,
        blockers,
        unchecked: unchecked(fleet, &reqs, &judging),
    }
}

/// Each model's devices judged on each device requirement, by (model, requirement).
type Cells<'a> = BTreeMap<(&'a str, &'a RequirementId), Judging<'a>>;

/// Requirement → models whose devices fail it and cannot be brought to it.
type Replace<'a> = BTreeMap<&'a RequirementId, BTreeSet<&'a str>>;

/// Every model's cell of every device requirement.
fn cells<'a>(fleet: &'a Fleet<'_>, reqs: &[(usize, &'a Requirement)]) -> Cells<'a> {
    let mut judging = Cells::new();
    for (model, devices) in &fleet.by_model {
        for (i, req) in reqs {
            let items: Vec<(&Judgement, &Judged)> = devices
                .iter()
                .filter_map(|j| j.outcome(*i).map(|o| (*j, o)))
                .collect();
            let passing = items
                .iter()
                .filter(|(_, o)| o.status == Status::Pass)
                .count();
            judging.insert(
                (model, &req.id),
                Judging {
                    cell: cell_of(items.iter().copied()),
                    failing: items
                        .into_iter()
                        .filter(|(_, o)| o.status.falls_short())
                        .collect(),
                    passing,
                },
            );
        }
    }
    judging
}

/// One row per model, the conditions its shortfalls take, and which requirements some model
/// can only meet on other hardware.
fn rows<'a>(
    fleet: &'a Fleet<'_>,
    reqs: &[(usize, &'a Requirement)],
    judging: &Cells<'a>,
) -> (Vec<DeviceModelRow>, Vec<Condition>, Replace<'a>) {
    let meeting = |req: &RequirementId| -> Vec<&str> {
        fleet
            .by_model
            .keys()
            .filter(|m| judging.get(&(**m, req)).is_some_and(Judging::met))
            .copied()
            .collect()
    };
    let mut models = Vec::new();
    let mut conditions = Vec::new();
    let mut replace = Replace::new();
    for (model, devices) in &fleet.by_model {
        let mut row = DeviceModelRow {
            model: (*model).to_owned(),
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
        for (_, req) in reqs {
            let Some(jd) = judging.get(&(*model, &req.id)) else {
                continue;
            };
            let ended = updates_ended(fleet, model, &req.id, jd);
            if let Some(c) = condition(model, devices.len(), req, jd, &meeting, ended.as_ref()) {
                if c.required
                    && (ended.is_some()
                        || jd
                            .failing
                            .first()
                            .is_some_and(|(_, o)| needs_other_hardware(o)))
                {
                    replace.entry(&req.id).or_default().insert(model);
                }
                conditions.push(c);
            }
            row.status = row.status.max(jd.cell.status);
            row.requirements.insert(req.id.clone(), jd.cell.clone());
        }
        models.push(row);
    }
    (models, conditions, replace)
}

/// Non-critical requirements some model left unknown on all its devices, in words (a model
/// that does not need one passes it).
fn unchecked(
    fleet: &Fleet<'_>,
    reqs: &[(usize, &Requirement)],
    judging: &Cells<'_>,
) -> Vec<String> {
    reqs.iter()
        .filter(|(_, r)| !r.critical)
        .filter_map(|(_, r)| {
            let blind: Vec<(&str, &Judging<'_>)> = fleet
                .by_model
                .keys()
                .filter_map(|m| judging.get(&(*m, &r.id)).map(|j| (*m, j)))
                .filter(|(_, j)| j.cell.pass + j.cell.warn + j.cell.fail == 0 && j.cell.unknown > 0)
                .collect();
            let why = blind.iter().find_map(|(_, j)| j.cell.observed.first())?;
            let models: Vec<&str> = blind.iter().map(|(m, _)| *m).collect();
            Some(format!(
                "{} ({}) could not be checked on {}: {why}",
                r.title,
                r.id,
                models.join(", ")
            ))
        })
        .collect()
}

/// Where the district's inventory says a model's OS updates have ended, and no release it can
/// still take meets the profile's OS requirement for any of its failing devices: the model's
/// family and its last release. Those devices are replaced, not updated.
fn updates_ended(
    fleet: &Fleet<'_>,
    model: &str,
    req: &RequirementId,
    jd: &Judging<'_>,
) -> Option<(OsFamily, String)> {
    if req.device_key() != Some(DeviceKey::Os) || jd.failing.is_empty() {
        return None;
    }
    let last = fleet.plan.os_updates_end.get(model)?;
    let entries = &fleet.profile.device.as_ref()?.os;
    let mut family = None;
    for (j, _) in &jd.failing {
        let f = j.os_family?;
        let of_family: Vec<_> = entries.iter().filter(|e| e.family == f).collect();
        // A family the profile does not support is already a replacement; one it does, with a
        // reachable release, is an update.
        if of_family.is_empty() || of_family.iter().any(|e| os_release_reachable(e, last)) {
            return None;
        }
        family = Some(f);
    }
    family.map(|f| (f, last.clone()))
}

fn needs_other_hardware(o: &Judged) -> bool {
    o.fix.unwrap_or(FixKind::UpgradePart).needs_other_hardware()
}

/// The action for a model whose devices fall short of a requirement.
fn condition<'j>(
    model: &str,
    sampled: usize,
    req: &Requirement,
    jd: &Judging<'j>,
    meeting: &dyn Fn(&RequirementId) -> Vec<&'j str>,
    ended: Option<&(OsFamily, String)>,
) -> Option<Condition> {
    let (_, first) = jd.failing.first()?;
    let required = req.critical && jd.failing.iter().any(|(_, o)| o.status == Status::Fail);
    let n = jd.failing.len();
    let seen = format!(
        "{n} of {sampled} device(s) sampled: {} where {} is needed",
        first.observed, req.expected
    );
    let instead = || {
        let meeting = meeting(&req.id);
        if meeting.is_empty() {
            "no model sampled meets it".to_owned()
        } else {
            format!("use or buy models that meet it: {}", meeting.join(", "))
        }
    };
    let action = if let Some((family, last)) = ended {
        format!(
            "{model}: replace {n} device(s): their OS updates end at {family} {last} (the district's device list), which cannot reach what is needed ({seen}); {}",
            instead()
        )
    } else if needs_other_hardware(first) {
        let instead = instead();
        format!(
            "{model}: replace {n} device(s), {} falls short ({seen}); {instead}",
            req.title
        )
    } else {
        // Devices of one model can fall short in different ways (an app missing on one, too
        // old on another): each way is its own action, with its own count.
        let remedy_of = |o: &Judged| {
            o.remedy
                .clone()
                .unwrap_or_else(|| format!("bring {} to {}", req.title, req.expected))
        };
        let mut ways: Vec<(String, &Judged, usize)> = Vec::new();
        for (_, o) in &jd.failing {
            let remedy = remedy_of(o);
            match ways.iter_mut().find(|(r, _, _)| *r == remedy) {
                Some(way) => way.2 += 1,
                None => ways.push((remedy, o, 1)),
            }
        }
        if ways.len() == 1 {
            format!("{model}: {} ({seen})", remedy_of(first))
        } else {
            let parts: Vec<String> = ways
                .iter()
                .map(|(remedy, o, k)| {
                    format!(
                        "{remedy} ({k} of {sampled} device(s) sampled: {} where {} is needed)",
                        o.observed, req.expected
                    )
                })
                .collect();
            format!("{model}: {}", parts.join("; "))
        }
    };
    Some(Condition {
        kind: ConditionKind::DeviceUpgrade,
        fix: if ended.is_some() {
            FixKind::ReplaceDevice
        } else {
            first.fix.unwrap_or(FixKind::UpgradePart)
        },
        action,
        owner: owner(jd).to_owned(),
        required,
        items: vec![model.to_owned()],
        sites: Vec::new(),
        seen: None,
        devices: Some(n as u32),
        requirements: vec![req.id.clone()],
        evidence: jd
            .failing
            .iter()
            .take(MAX_EVIDENCE)
            .map(|(j, o)| evidence(j, &req.id, o))
            .collect(),
    })
}

/// Who makes the change: managed Chrome devices and browsers (where the browser agent saw the
/// shortfall) are set up in the Google Admin console; anything else through the district's
/// device management.
fn owner(jd: &Judging<'_>) -> &'static str {
    if !jd.failing.is_empty() && jd.failing.iter().all(|(j, _)| j.kind == AgentKind::Browser) {
        "technology operations (Google Admin console)"
    } else {
        "technology operations (device management)"
    }
}

/// A requirement no sampled device meets, that only other devices would.
fn blocker(
    req: &Requirement,
    failing: &BTreeSet<&str>,
    judging: &BTreeMap<(&str, &RequirementId), Judging<'_>>,
    conditions: &[Condition],
) -> Blocker {
    let counts: Vec<String> = failing
        .iter()
        .filter_map(|m| {
            let o = judging.get(&(*m, &req.id))?;
            let (_, first) = o.failing.first()?;
            Some(format!(
                "{m} ({} device(s): {})",
                o.failing.len(),
                first.observed
            ))
        })
        .collect();
    let evidence: Vec<Evidence> = conditions
        .iter()
        .filter(|c| c.requirements.contains(&req.id))
        .flat_map(|c| c.evidence.iter().cloned())
        .take(MAX_EVIDENCE)
        .collect();
    Blocker {
        requirement: req.id.clone(),
        title: req.title.clone(),
        reason: format!(
            "no device sampled meets it ({} is needed), and only other devices would: {}",
            req.expected,
            counts.join("; ")
        ),
        evidence,
    }
}
