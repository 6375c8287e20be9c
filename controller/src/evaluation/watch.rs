//! Watching approved products: a watch is created on an evaluation all three parties approved,
//! with the baseline of what passed then; its rounds start when its schedule says (the agents
//! in scope are assigned the evaluation again), and each is decided once its agents had their
//! time to report — compared with the baseline through the engine's regression rule
//! ([`fitcheck_engine::watch`]), alerts opened and resolved, and the messages they owe the
//! channels written in the same transaction.

use std::collections::BTreeMap;

use fitcheck_core::api::SeenExtension;
use fitcheck_core::evaluate::{Requirement, requirements};
use fitcheck_core::profile::Profile;
use fitcheck_engine::judge::{JUDGEMENT_VERSION, Judgement};
use fitcheck_engine::watch::regression::{Change, Thresholds, Tracker};
use fitcheck_engine::watch::schedule::Schedule;
use fitcheck_engine::watch::{Alerting, Baseline, Spot, alert_words, assess_round};
use uuid::Uuid;

use crate::clock;
use crate::edge::error::Failure;
use crate::edge::state::AppState;
use crate::evaluation::scope::profile_of;
use crate::notify::Message;
use crate::store::{AgentRow, AlertRow, RoundDecision, RoundRow, Store, WatchRow};
use crate::types::NewWatch;

/// The longest a round waits for its agents by default, seconds.
pub const DEFAULT_COLLECT_S: u32 = 600;

/// What a browser agent's browser lists now, kept; a filter extension's change against what it
/// listed before (updated, installed, removed, enabled or disabled) is recorded at the agent's
/// site, and starts a round now of every watch that takes the agent in and has none under way.
pub async fn extensions_seen(
    state: &AppState,
    agent: &AgentRow,
    seen: &[SeenExtension],
) -> Result<(), Failure> {
    let before: Option<Vec<SeenExtension>> = state
        .store
        .agent_extensions(&agent.id)
        .await?
        .map(|text| serde_json::from_str(&text))
        .transpose()
        .map_err(|e| Failure::internal(format!("agent {}: stored extensions: {e}", agent.id)))?;
    let filters: BTreeMap<&str, &str> = state
        .block_signatures
        .iter()
        .flat_map(|s| {
            s.extension_ids
                .iter()
                .map(|id| (id.as_str(), s.vendor.as_str()))
        })
        .collect();
    let site = agent
        .site
        .clone()
        .unwrap_or_else(|| fitcheck_engine::NO_SITE.to_owned());
    let changes: Vec<(String, String, String)> = before
        .as_deref()
        .map(|b| filter_changes(b, seen, &filters))
        .unwrap_or_default()
        .into_iter()
        .map(|what| (Uuid::now_v7().to_string(), site.clone(), what))
        .collect();
    state
        .store
        .put_agent_extensions(&agent.id, &json(&seen)?, clock::now_ms(), &changes)
        .await?;
    if changes.is_empty() {
        return Ok(());
    }
    for w in state.store.list_watches().await? {
        let Some(row) = state.store.get_evaluation(&w.evaluation_id).await? else {
            continue;
        };
        let spec = crate::evaluation::scope::spec_of(&row)?;
        if crate::evaluation::scope::in_scope(&spec, agent)
            && !state.store.round_under_way(&w.evaluation_id).await?
        {
            round_now(state, &w.evaluation_id).await?;
            tracing::info!(evaluation = %w.evaluation_id, agent = %agent.id, "A filter extension changed: watch round started.");
        }
    }
    Ok(())
}

/// The filter extensions' changes from `before` to `now`, in words.
fn filter_changes(
    before: &[SeenExtension],
    now: &[SeenExtension],
    filters: &BTreeMap<&str, &str>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (id, vendor) in filters {
        let old = before.iter().find(|e| e.id == *id);
        let new = now.iter().find(|e| e.id == *id);
        match (old, new) {
            (Some(o), Some(n)) => {
                if o.version != n.version {
                    out.push(format!(
                        "the {vendor} extension updated from {} to {}",
                        o.version, n.version
                    ));
                }
                if o.enabled != n.enabled {
                    let state = if n.enabled { "enabled" } else { "disabled" };
                    out.push(format!("the {vendor} extension {state}"));
                }
            }
            (None, Some(n)) => out.push(format!("the {vendor} extension {} installed", n.version)),
            (Some(_), None) => out.push(format!("the {vendor} extension removed")),
            (None, None) => {}
        }
    }
    out
}

/// The watch's schedule, read.
pub fn schedule_of(w: &WatchRow) -> Result<Schedule, Failure> {
    let maintenance: Vec<String> = serde_json::from_str(&w.maintenance).map_err(|e| {
        Failure::internal(format!(
            "watch {}: stored maintenance: {e}",
            w.evaluation_id
        ))
    })?;
    Schedule::parse(&w.schedule, &w.zone, &maintenance)
        .map_err(|e| Failure::internal(format!("watch {}: {e}", w.evaluation_id)))
}

/// Starts watching evaluation `id`, which all three parties approved: the baseline is what
/// passed in its agents' latest judgements.
pub async fn create(
    state: &AppState,
    id: &str,
    req: &NewWatch,
    by: &str,
) -> Result<WatchRow, Failure> {
    let row = state
        .store
        .get_evaluation(id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("no evaluation {id}")))?;
    let decision = crate::evaluation::decision::decision_of(&state.store, id).await?;
    if !decision.approved {
        return Err(Failure::unprocessable(
            "not_approved",
            "only a product Business, Curriculum and Technology all approved is watched; record the committee's decision first",
        ));
    }
    let schedule = Schedule::parse(&req.schedule, &req.zone, &req.maintenance)
        .map_err(|e| Failure::unprocessable("invalid_watch", e.to_string()).field("schedule"))?;
    let thresholds = thresholds_of(req)?;
    let stored = profile_of(&state.store, &row).await?;
    let judged = judgements(&state.store, id, &stored.digest, i64::MIN).await?;
    let baseline = Baseline::of(&judged);
    if baseline.passed.is_empty() {
        return Err(Failure::unprocessable(
            "nothing_to_watch",
            "no requirement passed at any site in this evaluation's reports; a watch compares rounds with what passed at approval",
        ));
    }
    let now = clock::now_ms();
    let next = schedule.next_after_ms(now).ok_or_else(|| {
        Failure::unprocessable("invalid_watch", "the schedule has no time after now")
            .field("schedule")
    })?;
    let w = WatchRow {
        evaluation_id: id.to_owned(),
        schedule: req.schedule.clone(),
        zone: req.zone.clone(),
        maintenance: json(&req.maintenance)?,
        thresholds: json(&thresholds)?,
        bandwidth: i64::from(req.bandwidth),
        collect_s: i64::from(req.collect_s.unwrap_or(DEFAULT_COLLECT_S).max(1)),
        baseline: json(&baseline)?,
        trackers: json(&Vec::<Tracker>::new())?,
        next_round_at: next,
        created_by: by.to_owned(),
        created_at: now,
    };
    state.store.insert_watch(&w).await?;
    Ok(w)
}

/// A value a watch stores, as JSON.
fn json<T: serde::Serialize>(v: &T) -> Result<String, Failure> {
    serde_json::to_string(v).map_err(|e| Failure::internal(format!("stored as JSON: {e}")))
}

/// The regression rule's thresholds a request asks for, within reason.
fn thresholds_of(req: &NewWatch) -> Result<Thresholds, Failure> {
    let d = Thresholds::default();
    let t = Thresholds {
        min_agents: req.min_agents.unwrap_or(d.min_agents),
        min_share: req.min_share.unwrap_or(d.min_share),
        open_after: req.open_after.unwrap_or(d.open_after),
        resolve_after: req.resolve_after.unwrap_or(d.resolve_after),
    };
    if t.min_agents == 0 || !(t.min_share > 0.0 && t.min_share <= 1.0) {
        return Err(Failure::unprocessable(
            "invalid_watch",
            "min_agents must be 1 or more and min_share above 0 and at most 1",
        )
        .field("min_share"));
    }
    if t.open_after == 0 || t.resolve_after == 0 || t.open_after > 50 || t.resolve_after > 50 {
        return Err(Failure::unprocessable(
            "invalid_watch",
            "open_after and resolve_after are rounds in a row, 1 to 50",
        )
        .field("open_after"));
    }
    Ok(t)
}

/// Each agent's latest judgement of evaluation `id` received at or after `since`, judged
/// against the profile with `digest` by this engine version (another is not this round's).
async fn judgements(
    store: &Store,
    id: &str,
    digest: &str,
    since: i64,
) -> Result<Vec<Judgement>, Failure> {
    let mut out = Vec::new();
    let mut bad = None;
    store
        .each_judgement(id, |row| {
            if row.received_at >= since
                && row.version == i64::from(JUDGEMENT_VERSION)
                && row.profile_digest == digest
            {
                match serde_json::from_str::<Judgement>(&row.judgement) {
                    Ok(j) => out.push(j),
                    Err(e) => bad = Some(format!("stored judgement of {}: {e}", row.agent_id)),
                }
            }
            true
        })
        .await?;
    if let Some(e) = bad {
        tracing::warn!(evaluation = %id, error = %e, "A stored judgement was unreadable; its agent counts as silent.");
    }
    Ok(out)
}

/// One pass of the watcher: rounds that are due started, rounds whose agents had their time
/// decided.
pub async fn tick(state: &AppState) -> Result<(), Failure> {
    let now = clock::now_ms();
    for w in state.store.list_watches().await? {
        if w.next_round_at <= now
            && let Err(e) = start_round(state, &w, now).await
        {
            tracing::warn!(evaluation = %w.evaluation_id, error = %e.body.message, "A watch round could not start.");
        }
    }
    let watches: BTreeMap<String, WatchRow> = state
        .store
        .list_watches()
        .await?
        .into_iter()
        .map(|w| (w.evaluation_id.clone(), w))
        .collect();
    for round in state.store.undecided_rounds().await? {
        let Some(w) = watches.get(&round.evaluation_id) else {
            continue;
        };
        if round.started_at + w.collect_s * 1000 <= now
            && let Err(e) = decide(state, w, &round).await
        {
            tracing::warn!(evaluation = %w.evaluation_id, error = %e.body.message, "A watch round could not be decided.");
        }
    }
    Ok(())
}

/// Starts a round of evaluation `id`'s watch now, whatever its schedule says (its next
/// scheduled round stays): what an administrator asks for after a change, to see at once.
pub async fn round_now(state: &AppState, id: &str) -> Result<(), Failure> {
    let w = state
        .store
        .get_watch(id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("evaluation {id} is not watched")))?;
    let now = clock::now_ms();
    let round = new_round(&w, &schedule_of(&w)?, now);
    if !state
        .store
        .start_round(&round, w.next_round_at, w.next_round_at)
        .await?
    {
        return Err(Failure::conflict(
            "a scheduled round started at the same moment; it runs instead",
        ));
    }
    tracing::info!(evaluation = %id, round = %round.id, "Watch round started on request.");
    Ok(())
}

/// A round of `w` starting at `now`, in a maintenance window or not.
fn new_round(w: &WatchRow, schedule: &Schedule, now: i64) -> RoundRow {
    RoundRow {
        id: Uuid::now_v7().to_string(),
        evaluation_id: w.evaluation_id.clone(),
        started_at: now,
        decided_at: None,
        maintenance: i64::from(schedule.in_maintenance_ms(now)),
        standings: None,
    }
}

/// Starts the watch's round that is due now; the next is the schedule's first time after now
/// (a round missed while the controller was down is not run twice).
async fn start_round(state: &AppState, w: &WatchRow, now: i64) -> Result<(), Failure> {
    let schedule = schedule_of(w)?;
    let next = schedule
        .next_after_ms(now)
        .unwrap_or(now + 24 * 3600 * 1000);
    let round = new_round(w, &schedule, now);
    if state
        .store
        .start_round(&round, w.next_round_at, next)
        .await?
    {
        tracing::info!(evaluation = %w.evaluation_id, round = %round.id, "Watch round started.");
    }
    Ok(())
}

/// Decides a round: its agents' judgements since it started, compared with the baseline;
/// alerts opened and resolved, and a message for every channel about each.
async fn decide(state: &AppState, w: &WatchRow, round: &RoundRow) -> Result<(), Failure> {
    let row = state
        .store
        .get_evaluation(&w.evaluation_id)
        .await?
        .ok_or_else(|| Failure::internal(format!("watch {}: evaluation gone", w.evaluation_id)))?;
    let stored = profile_of(&state.store, &row).await?;
    let profile = Profile::parse(&stored.file_name, &stored.toml)
        .map_err(|e| Failure::internal(format!("stored profile no longer validates: {e}")))?;
    let reqs = requirements(&profile);
    let read = |what: &str, e: serde_json::Error| {
        Failure::internal(format!("watch {}: stored {what}: {e}", w.evaluation_id))
    };
    let baseline: Baseline = serde_json::from_str(&w.baseline).map_err(|e| read("baseline", e))?;
    let thresholds: Thresholds =
        serde_json::from_str(&w.thresholds).map_err(|e| read("thresholds", e))?;
    let mut trackers: Vec<Tracker> =
        serde_json::from_str(&w.trackers).map_err(|e| read("trackers", e))?;
    let judged = judgements(
        &state.store,
        &w.evaluation_id,
        &stored.digest,
        round.started_at,
    )
    .await?;
    let decided = assess_round(
        &baseline,
        &thresholds,
        &mut trackers,
        &judged,
        round.maintenance == 0,
    );
    let now = clock::now_ms();
    let mut d = RoundDecision {
        standings: standings_json(&decided.standings, &reqs)?,
        trackers: serde_json::to_string(&trackers).map_err(|e| Failure::internal(e.to_string()))?,
        ..RoundDecision::default()
    };
    let window_start = window_start(&state.store, round, thresholds.open_after).await?;
    let channels: Vec<String> = state
        .store
        .list_channels()
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    for group in group_changes(&decided.changes) {
        let Some(req) = reqs.get(group.requirement) else {
            continue;
        };
        let change = Recorded {
            evaluation_id: &w.evaluation_id,
            baseline: &baseline,
            product: &profile.name,
            req,
            now,
        };
        change
            .record(&state.store, &group, window_start, &channels, &mut d)
            .await?;
    }
    if state.store.decide_round(round, now, &d).await? {
        state.metrics.rounds.inc();
        tracing::info!(evaluation = %w.evaluation_id, round = %round.id, opened = d.opened.len(), resolved = d.resolved.len(), "Watch round decided.");
    }
    Ok(())
}

/// Where "what changed meanwhile" starts: the start of the last round before an alert opening
/// now could have started failing — `open_after` rounds before this one, since it takes that
/// many in a row — so a change that made the first of them fail is in it (an hour before the
/// earliest round for a watch with fewer).
async fn window_start(store: &Store, round: &RoundRow, open_after: u32) -> Result<i64, Failure> {
    let earlier: Vec<i64> = store
        .rounds_of(&round.evaluation_id, i64::from(open_after) + 1)
        .await?
        .iter()
        .map(|r| r.started_at)
        .filter(|t| *t < round.started_at)
        .collect();
    let oldest = earlier.iter().copied().min();
    Ok(match oldest {
        Some(t) if earlier.len() >= open_after as usize => t,
        _ => oldest.unwrap_or(round.started_at) - 3600 * 1000,
    })
}

/// One change of one requirement, as the round decides it.
struct Recorded<'a> {
    evaluation_id: &'a str,
    baseline: &'a Baseline,
    product: &'a str,
    req: &'a Requirement,
    now: i64,
}

impl Recorded<'_> {
    /// The alert rows opened or resolved for `group`'s sites, in words with who acts (and what
    /// changed meanwhile, for one opened), and the message each channel is owed.
    async fn record(
        &self,
        store: &Store,
        group: &Group,
        window_start: i64,
        channels: &[String],
        d: &mut RoundDecision,
    ) -> Result<(), Failure> {
        let (req, now) = (self.req, self.now);
        let since = clock::rfc3339(now);
        let (mut summary, owner) = alert_words(
            group.change,
            &req.title,
            &group.sites,
            &group.causes,
            &since,
        );
        if group.change == Change::Opened {
            if let Some(layer) = self.baseline.new_layer(&group.causes) {
                summary.push_str(&format!(
                    "; a blocking layer not seen at approval: {}",
                    layer.words()
                ));
            }
            summary.push_str(&changed_meanwhile(store, &group.sites, window_start).await?);
        }
        for site in &group.sites {
            match group.change {
                Change::Opened => d.opened.push(AlertRow {
                    id: Uuid::now_v7().to_string(),
                    evaluation_id: self.evaluation_id.to_owned(),
                    site: site.clone(),
                    requirement: req.id.to_string(),
                    opened_at: now,
                    resolved_at: None,
                    summary: summary.clone(),
                    owner: owner.clone(),
                }),
                Change::Resolved => d.resolved.push((site.clone(), req.id.to_string())),
            }
        }
        let message = Message {
            event_id: Uuid::now_v7().to_string(),
            kind: match group.change {
                Change::Opened => "opened",
                Change::Resolved => "resolved",
            }
            .to_owned(),
            evaluation_id: self.evaluation_id.to_owned(),
            product: self.product.to_owned(),
            requirement: req.id.to_string(),
            title: req.title.clone(),
            sites: group.sites.clone(),
            since,
            summary,
            owner,
        };
        let text = serde_json::to_string(&message).map_err(|e| Failure::internal(e.to_string()))?;
        for c in channels {
            d.messages
                .push((Uuid::now_v7().to_string(), c.clone(), text.clone()));
        }
        Ok(())
    }
}

/// What changed at `sites` since `since` (a filter extension updated on some devices), as a
/// clause to add to an alert; nothing when nothing did.
async fn changed_meanwhile(store: &Store, sites: &[String], since: i64) -> Result<String, Failure> {
    let mut seen: BTreeMap<String, i64> = BTreeMap::new();
    for site in sites {
        for (what, devices) in store.changes_at(site, since).await? {
            *seen.entry(what).or_default() += devices;
        }
    }
    if seen.is_empty() {
        return Ok(String::new());
    }
    let said: Vec<String> = seen
        .into_iter()
        .map(|(what, n)| format!("{what} on {n} device(s)"))
        .collect();
    Ok(format!("; changed meanwhile: {}", said.join("; ")))
}

/// Changes of one requirement, one kind and one cause list, over the sites they happened at.
struct Group {
    requirement: usize,
    change: Change,
    causes: Vec<fitcheck_core::cause::Cause>,
    sites: Vec<String>,
}

/// One message per requirement and change with the same causes: "… at north, south".
fn group_changes(changes: &[Alerting]) -> Vec<Group> {
    let mut out: Vec<Group> = Vec::new();
    for c in changes {
        match out.iter_mut().find(|g| {
            g.requirement == c.requirement && g.change == c.change && g.causes == c.causes
        }) {
            Some(g) => g.sites.push(c.site.clone()),
            None => out.push(Group {
                requirement: c.requirement,
                change: c.change,
                causes: c.causes.clone(),
                sites: vec![c.site.clone()],
            }),
        }
    }
    out
}

/// The round's standings as stored: site, requirement id, standing.
fn standings_json(
    standings: &[(Spot, fitcheck_engine::watch::regression::Standing)],
    reqs: &[Requirement],
) -> Result<String, Failure> {
    let rows: Vec<crate::types::Standing> = standings
        .iter()
        .filter_map(|((site, i), s)| {
            let req = reqs.get(*i)?;
            Some(crate::types::Standing {
                site: site.clone(),
                requirement: req.id.to_string(),
                standing: serde_json::to_value(s).ok()?.as_str()?.to_owned(),
            })
        })
        .collect();
    serde_json::to_string(&rows).map_err(|e| Failure::internal(e.to_string()))
}
