//! The recommendation from a lab's reports, as the controller writes it: each report judged
//! on arrival against the profile, then the engine over the judgements.

use fitcheck_core::profile::Profile;
use fitcheck_core::report::Report;
use fitcheck_engine::{Arrival, Input, Plan, Recommendation, ScopeAgent, judge, recommend};

/// Judges `reports` (each with its site) against the profile `text` and writes the
/// recommendation under `plan`.
pub fn from_reports(
    title: &str,
    text: &str,
    reports: &[(&str, Report)],
    plan: &Plan,
) -> Result<Recommendation, fitcheck_core::profile::ProfileErrors> {
    let profile = Profile::parse("lab.toml", text)?;
    let digest = fitcheck_core::digest(text.as_bytes());
    let judgements: Vec<_> = reports
        .iter()
        .map(|(site, r)| {
            judge(
                &profile,
                &digest,
                Arrival {
                    report_id: r.report_id.to_string(),
                    agent_id: r.agent.agent_id.to_string(),
                    site: Some((*site).to_owned()),
                    received_at_ms: 1,
                },
                r,
            )
        })
        .collect();
    Ok(recommend(&Input {
        evaluation_id: "e",
        title,
        plan,
        profile: &profile,
        profile_digest: &digest,
        agents: &[] as &[ScopeAgent],
        judgements: &judgements,
        generated_at: "2026-12-06T08:00:00Z",
        sis: None,
    }))
}
