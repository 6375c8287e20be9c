//! Enrolled agents (`/api/v1/agents`): listed and revoked by administrators.

use crate::clock;
use crate::edge::error::Failure;
use crate::edge::extract::Admin;
use crate::edge::state::AppState;
use crate::types::AgentSummary;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// `GET /api/v1/agents`.
pub async fn list_agents(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<AgentSummary>>, Failure> {
    Ok(Json(
        state
            .store
            .list_agents()
            .await?
            .into_iter()
            .map(|a| AgentSummary {
                agent_id: a.id,
                labels: serde_json::from_str(&a.labels).unwrap_or_default(),
                version: a.version,
                enrolled_at: clock::rfc3339(a.enrolled_at),
                last_seen_at: clock::rfc3339(a.last_seen_at),
                revoked_at: a.revoked_at.map(clock::rfc3339),
            })
            .collect(),
    ))
}

/// `POST /api/v1/agents/{id}/revoke`: the agent is refused from its next request on.
pub async fn revoke_agent(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Failure> {
    if state.store.revoke_agent(&id, clock::now_ms()).await? {
        tracing::info!(by = %admin.user.username, agent_id = %id, "Agent revoked.");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Failure::not_found(format!(
            "no agent {id} that is not revoked already"
        )))
    }
}
