//! Gathers what the recommendation engine reads from the store: the evaluation, its profile,
//! the agents in its scope and their reports. The engine itself ([`crate::recommend`]) is pure.

use fitcheck_core::profile::Profile;
use fitcheck_core::report::Report;

use crate::agent_api::{in_scope, spec_of};
use crate::clock;
use crate::error::Failure;
use crate::recommend::{Input, InputReport, Recommendation, ScopeAgent, recommend};
use crate::store::Store;

/// The recommendation for one evaluation, as of now.
pub async fn recommendation(store: &Store, evaluation_id: &str) -> Result<Recommendation, Failure> {
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
    let now = clock::rfc3339(clock::now_ms());
    Ok(recommend(&Input {
        evaluation_id: &row.id,
        title: &row.title,
        spec: &spec,
        profile: &profile,
        profile_digest: &stored.digest,
        agents: &agents,
        reports: &reports,
        generated_at: &now,
    }))
}
