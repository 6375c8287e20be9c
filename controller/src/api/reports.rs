//! Reports (`/api/v1/reports`, `/api/v1/evaluations/{id}/reports`): what agents delivered, read
//! by people.

use crate::clock;
use crate::edge::error::Failure;
use crate::edge::extract::Person;
use crate::edge::state::AppState;
use crate::store::ReportSummary;
use crate::types::ReportInfo;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

fn report_info(r: ReportSummary) -> ReportInfo {
    ReportInfo {
        report_id: r.report_id,
        agent_id: r.agent_id,
        evaluation_id: r.evaluation_id,
        profile_digest: r.profile_digest,
        site: r.site,
        started_at: r.started_at,
        received_at: clock::rfc3339(r.received_at),
    }
}

/// `GET /api/v1/evaluations/{id}/reports`.
pub async fn evaluation_reports(
    State(state): State<AppState>,
    _who: Person,
    Path(id): Path<String>,
) -> Result<Json<Vec<ReportInfo>>, Failure> {
    if state.store.get_evaluation(&id).await?.is_none() {
        return Err(Failure::not_found(format!("no evaluation {id}")));
    }
    Ok(Json(
        state
            .store
            .reports_for_evaluation(&id)
            .await?
            .into_iter()
            .map(report_info)
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsQuery {
    agent: String,
}

/// `GET /api/v1/reports?agent=ID`: an agent's reports, newest first (at most 10,000).
pub async fn agent_reports(
    State(state): State<AppState>,
    _who: Person,
    query: Result<Query<ReportsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<ReportInfo>>, Failure> {
    let Query(q) = query.map_err(|e| {
        Failure::bad_request("invalid_query", format!("{e}; give agent=<agent id>"))
    })?;
    Ok(Json(
        state
            .store
            .reports_for_agent(&q.agent, 10_000)
            .await?
            .into_iter()
            .map(report_info)
            .collect(),
    ))
}

/// `GET /api/v1/reports/{id}`: the report as the agent sent it.
pub async fn get_report(
    State(state): State<AppState>,
    _who: Person,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let (_, body) = state
        .store
        .get_report(&id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("no report {id}")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}
