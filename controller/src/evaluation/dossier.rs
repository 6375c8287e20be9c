//! Gathers what the recommendation engine reads from the store: the evaluation, its profile,
//! the agents in its scope and each agent's judged latest report. The engine itself
//! (`fitcheck_engine`) is pure.
//!
//! Reports are judged once, when they arrive, and the judgement stored beside them
//! (`judgements`). Here those are read — never the bodies — unless the evaluation is due
//! (`judgements_due`: reports stored before judgements were kept, or one that could not be
//! judged on arrival) or a judgement is stale (another engine version, another profile): then
//! the evaluation's reports are judged again from their bodies and the judgements stored, so
//! the next reader finds them current.

use std::collections::BTreeMap;

use fitcheck_core::data::summary::SisSummary;
use fitcheck_core::profile::Profile;
use fitcheck_core::report::Report;
use fitcheck_core::signatures::Catalog;
use fitcheck_engine::{
    Arrival, Input, JUDGEMENT_VERSION, Judgement, Plan, Recommendation, ScopeAgent, judge_with,
    recommend,
};

use crate::clock;
use crate::edge::error::Failure;
use crate::evaluation::scope::{Scope, profile_of, spec_of};
use crate::store::{EvaluationRow, JudgementRow, ProfileRow, SisSummaryRow, Store};
use crate::types::NewEvaluation;

/// Everything stored about one evaluation that a recommendation is written from.
#[derive(Debug)]
pub struct Dossier {
    pub row: EvaluationRow,
    pub spec: NewEvaluation,
    pub plan: Plan,
    /// The stored profile file.
    pub stored: ProfileRow,
    pub profile: Profile,
    /// Enrolled, unrevoked agents in the evaluation's scope.
    pub agents: Vec<ScopeAgent>,
    /// Each agent's latest report, judged, in agent order.
    pub judgements: Vec<Judgement>,
    /// The district's latest SIS summary, read where the profile states data needs.
    pub sis: Option<SisSummary>,
}

impl Dossier {
    /// The recommendation, written at `generated_at` (RFC 3339).
    pub fn recommend(&self, generated_at: &str) -> Recommendation {
        recommend(&Input {
            evaluation_id: &self.row.id,
            title: &self.row.title,
            plan: &self.plan,
            profile: &self.profile,
            profile_digest: &self.stored.digest,
            agents: &self.agents,
            judgements: &self.judgements,
            generated_at,
            sis: self.sis.as_ref(),
        })
    }
}

/// Reads one evaluation's dossier.
pub async fn load(
    store: &Store,
    catalog: &Catalog,
    evaluation_id: &str,
) -> Result<Dossier, Failure> {
    let row = store
        .get_evaluation(evaluation_id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("no evaluation {evaluation_id}")))?;
    let spec = spec_of(&row)?;
    let stored = profile_of(store, &row).await?;
    let profile = Profile::parse(&stored.file_name, &stored.toml).map_err(|e| {
        Failure::internal(format!(
            "stored profile {} no longer validates: {e}",
            stored.id
        ))
    })?;
    let scope = Scope::of(&spec);
    let agents: Vec<ScopeAgent> = store
        .agent_places()
        .await?
        .into_iter()
        .filter(|(_, site, group)| scope.takes(site.as_deref(), group.as_deref()))
        .map(|(id, site, _)| ScopeAgent { id, site })
        .collect();
    let judgements = judgements(store, catalog, &row.id, &profile, &stored.digest).await?;
    let sis = match (&profile.data, store.latest_sis_summary().await?) {
        (Some(_), Some(row)) => Some(summary_of(&row)?),
        _ => None,
    };
    Ok(Dossier {
        sis,
        plan: spec.plan(),
        row,
        spec,
        stored,
        profile,
        agents,
        judgements,
    })
}

/// Each agent's latest judgement: as stored, or judged again from the reports where any is
/// missing or stale.
async fn judgements(
    store: &Store,
    catalog: &Catalog,
    evaluation_id: &str,
    profile: &Profile,
    digest: &str,
) -> Result<Vec<Judgement>, Failure> {
    // A judgement holds one outcome per requirement of the profile it was judged against.
    let count = fitcheck_core::evaluate::requirements(profile).len();
    let mut current = Vec::new();
    let mut stale = store.judgements_due(evaluation_id).await?;
    if !stale {
        store
        .each_judgement(evaluation_id, |row| {
            if row.version != i64::from(JUDGEMENT_VERSION) || row.profile_digest != digest {
                stale = true;
                return false;
            }
            match serde_json::from_str::<Judgement>(&row.judgement) {
                Ok(j) if j.outcomes.len() == count => {
                    current.push(j);
                    true
                }
                Ok(_) => {
                    tracing::warn!(report_id = %row.report_id, "A stored judgement does not match its profile's requirements; judging the evaluation's reports again.");
                    stale = true;
                    false
                }
                Err(e) => {
                    tracing::warn!(report_id = %row.report_id, error = %e, "A stored judgement does not parse; judging the evaluation's reports again.");
                    stale = true;
                    false
                }
            }
        })
            .await?;
    }
    if !stale {
        return Ok(current);
    }
    rejudge(store, catalog, evaluation_id, profile, digest).await
}

/// Judges every report of the evaluation from its body, keeps each agent's latest, and stores
/// those judgements.
async fn rejudge(
    store: &Store,
    catalog: &Catalog,
    evaluation_id: &str,
    profile: &Profile,
    digest: &str,
) -> Result<Vec<Judgement>, Failure> {
    let mut latest: BTreeMap<String, (Judgement, Option<String>)> = BTreeMap::new();
    store
        .each_report_body(evaluation_id, |summary, body| {
            let newer = latest
                .get(&summary.agent_id)
                .is_none_or(|(j, _)| summary.received_at > j.received_at_ms);
            if !newer {
                return;
            }
            let report = match serde_json::from_str::<Report>(&body) {
                Ok(report) => report,
                Err(e) => {
                    tracing::error!(report_id = %summary.report_id, error = %e, "A stored report no longer parses; left out.");
                    return;
                }
            };
            let j = judge_with(
                catalog,
                profile,
                digest,
                Arrival {
                    report_id: summary.report_id,
                    agent_id: summary.agent_id.clone(),
                    site: summary.site.clone(),
                    received_at_ms: summary.received_at,
                },
                &report,
            );
            latest.insert(summary.agent_id, (j, summary.site));
        })
        .await?;
    let rows = latest.values().map(|(j, site)| {
        let json = serde_json::to_string(j).map_err(|e| {
            format!(
                "the judgement of report {} could not be encoded: {e}",
                j.report_id
            )
        })?;
        Ok((
            JudgementRow {
                agent_id: j.agent_id.clone(),
                report_id: j.report_id.clone(),
                received_at: j.received_at_ms,
                version: i64::from(j.version),
                profile_digest: j.profile_digest.clone(),
                judgement: json,
            },
            site.clone(),
            j.model.clone(),
        ))
    });
    if let Err(e) = store.put_judgements(evaluation_id, Box::new(rows)).await {
        // The recommendation is still right; the next reader judges again.
        tracing::warn!(evaluation = %evaluation_id, error = %e, "Judgements made again could not be stored.");
    }
    Ok(latest.into_values().map(|(j, _)| j).collect())
}

/// The recommendation for one evaluation, as of now.
pub async fn recommendation(
    store: &Store,
    catalog: &Catalog,
    evaluation_id: &str,
) -> Result<Recommendation, Failure> {
    let dossier = load(store, catalog, evaluation_id).await?;
    Ok(dossier.recommend(&clock::rfc3339(clock::now_ms())))
}

/// A kept summary, parsed.
pub fn summary_of(row: &SisSummaryRow) -> Result<SisSummary, Failure> {
    serde_json::from_str(&row.body)
        .map_err(|e| Failure::internal(format!("SIS summary {}: stored body: {e}", row.id)))
}
