//! Gathers what the recommendation engine reads from the store: the evaluation, its profile,
//! the agents in its scope and their reports. The engine itself ([`crate::recommend`]) is pure.

use fitcheck_core::profile::Profile;
use fitcheck_core::report::Report;

use crate::agent_api::{in_scope, spec_of};
use crate::api::NewEvaluation;
use crate::clock;
use crate::error::Failure;
use crate::recommend::{Input, InputReport, Recommendation, ScopeAgent, recommend};
use crate::store::{EvaluationRow, ProfileRow, Store};

/// Everything stored about one evaluation that a recommendation is written from.
#[derive(Debug)]
pub struct Dossier {
    pub row: EvaluationRow,
    pub spec: NewEvaluation,
    /// The stored profile file.
    pub stored: ProfileRow,
    pub profile: Profile,
    /// Enrolled, unrevoked agents in the evaluation's scope.
    pub agents: Vec<ScopeAgent>,
    /// Every report of the evaluation that parses, oldest first.
    pub reports: Vec<InputReport>,
}

impl Dossier {
    /// The recommendation, written at `generated_at` (RFC 3339).
    pub fn recommend(&self, generated_at: &str) -> Recommendation {
        recommend(&Input {
            evaluation_id: &self.row.id,
            title: &self.row.title,
            spec: &self.spec,
            profile: &self.profile,
            profile_digest: &self.stored.digest,
            agents: &self.agents,
            reports: &self.reports,
            generated_at,
        })
    }
}

/// Reads one evaluation's dossier.
pub async fn load(store: &Store, evaluation_id: &str) -> Result<Dossier, Failure> {
    let row = store
        .get_evaluation(evaluation_id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("no evaluation {evaluation_id}")))?;
    let spec = spec_of(&row)?;
    let stored = store
        .get_profile(&row.profile)
        .await?
        .ok_or_else(|| Failure::internal(format!("evaluation {} lost its profile", row.id)))?;
    let profile = Profile::parse(&stored.file_name, &stored.toml).map_err(|e| {
        Failure::internal(format!(
            "stored profile {} no longer validates: {e}",
            stored.id
        ))
    })?;
    let agents: Vec<ScopeAgent> = store
        .list_agents()
        .await?
        .into_iter()
        .filter(|a| a.revoked_at.is_none() && in_scope(&spec, a))
        .map(|a| ScopeAgent {
            id: a.id,
            site: a.site,
        })
        .collect();
    let mut reports = Vec::new();
    for (summary, body) in store.report_bodies(&row.id).await? {
        match serde_json::from_str::<Report>(&body) {
            Ok(report) => reports.push(InputReport {
                report_id: summary.report_id,
                site: summary.site,
                received_at: clock::rfc3339_millis(summary.received_at),
                report,
            }),
            Err(e) => {
                tracing::error!(report_id = %summary.report_id, error = %e, "A stored report no longer parses; left out.")
            }
        }
    }
    Ok(Dossier {
        row,
        spec,
        stored,
        profile,
        agents,
        reports,
    })
}

/// The recommendation for one evaluation, as of now.
pub async fn recommendation(store: &Store, evaluation_id: &str) -> Result<Recommendation, Failure> {
    let dossier = load(store, evaluation_id).await?;
    Ok(dossier.recommend(&clock::rfc3339(clock::now_ms())))
}
