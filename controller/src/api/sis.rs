//! The district's SIS capability: summaries of its OneRoster exports, from an agent on the
//! machine where the export lies (`fitcheck-agent sis upload`) or from a person (the API and the
//! SIS page). A summary is held to its shape (`SisSummary::check`) before it is kept: typed
//! fields and short names only, so no cell value can ride in it; a refused one stores nothing.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fitcheck_core::api::{Ingested, SisIngestResponse};
use fitcheck_core::data::summary::{SIS_SUMMARY_SCHEMA, SisSummary};

use crate::clock;
use crate::edge::error::Failure;
use crate::edge::extract::{Admin, AgentAuth, Body, Person, parse_json};
use crate::edge::state::AppState;
use crate::evaluation::dossier::summary_of;
use crate::store::SisSummaryRow;
use crate::types::SisSummaryInfo;

/// The largest summary taken: a summary is a few KiB (names and counts of at most 1000 files).
pub const MAX_SUMMARY_BYTES: usize = 4 << 20;

/// Reads and checks a summary body; the error names the field at fault.
pub fn accept(body: &[u8]) -> Result<SisSummary, Failure> {
    if body.len() > MAX_SUMMARY_BYTES {
        return Err(Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "an SIS summary is at most {MAX_SUMMARY_BYTES} bytes; upload the summary `fitcheck-agent sis inspect --out` wrote, not the export"
            ),
        ));
    }
    let summary: SisSummary = parse_json(body, "SIS summary")?;
    if summary.schema != SIS_SUMMARY_SCHEMA {
        return Err(Failure::unprocessable(
            "unknown_schema",
            format!("schema {:?} is not {SIS_SUMMARY_SCHEMA}", summary.schema),
        )
        .field("schema"));
    }
    summary
        .check()
        .map_err(|e| Failure::unprocessable("invalid_summary", e.message).field(e.field))?;
    Ok(summary)
}

/// Keeps a checked summary.
pub async fn keep(
    state: &AppState,
    summary: &SisSummary,
    uploaded_by: String,
) -> Result<Ingested, Failure> {
    let body = serde_json::to_string(summary)
        .map_err(|e| Failure::internal(format!("SIS summary: {e}")))?;
    let row = SisSummaryRow {
        id: summary.summary_id.to_string(),
        received_at: clock::now_ms(),
        generated_at: summary.generated_at.clone(),
        source_system: summary.source_system().to_owned(),
        oneroster_version: summary.oneroster_version.map(|v| v.as_str().to_owned()),
        uploaded_by,
        body,
    };
    let stored = state.store.insert_sis_summary(&row).await?;
    tracing::info!(summary_id = %row.id, stored, "SIS summary received.");
    Ok(if stored {
        Ingested::Stored
    } else {
        Ingested::Duplicate
    })
}

fn answer(summary: &SisSummary, result: Ingested) -> (StatusCode, Json<SisIngestResponse>) {
    let status = match result {
        Ingested::Stored => StatusCode::CREATED,
        Ingested::Duplicate => StatusCode::OK,
    };
    (
        status,
        Json(SisIngestResponse {
            summary_id: summary.summary_id,
            result,
        }),
    )
}

/// `POST /api/agent/v1/sis-summaries`: an agent delivers the summary it made.
pub async fn submit_from_agent(
    State(state): State<AppState>,
    agent: AgentAuth,
    Body(body): Body,
) -> Result<(StatusCode, Json<SisIngestResponse>), Failure> {
    // A browser on a student device is no place an export lies: only the native agent, on a
    // machine an administrator enrolled, speaks for the SIS.
    if agent.row.kind != fitcheck_core::api::AgentKind::Native.as_str() {
        return Err(Failure::forbidden(
            "only a native agent (fitcheck-agent on the machine that holds the export) sends SIS summaries",
        ));
    }
    let summary = accept(&body)?;
    let result = keep(&state, &summary, format!("agent:{}", agent.id)).await?;
    Ok(answer(&summary, result))
}

/// `POST /api/v1/sis-summaries`: an administrator uploads a summary.
pub async fn upload(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Body(body): Body,
) -> Result<(StatusCode, Json<SisIngestResponse>), Failure> {
    let summary = accept(&body)?;
    let result = keep(&state, &summary, format!("user:{}", admin.user.username)).await?;
    Ok(answer(&summary, result))
}

/// What a list shows of a kept summary.
pub fn info(row: &SisSummaryRow) -> Result<SisSummaryInfo, Failure> {
    let s = summary_of(row)?;
    Ok(SisSummaryInfo {
        id: row.id.clone(),
        received_at: clock::rfc3339(row.received_at),
        generated_at: row.generated_at.clone(),
        source_system: row.source_system.clone(),
        oneroster_version: row.oneroster_version.clone(),
        uploaded_by: row.uploaded_by.clone(),
        files: s.files.len() as u32,
        users: s.users_by_role.values().sum::<u64>() + s.users_without_role,
        findings: s.findings.len() as u32,
    })
}

/// `GET /api/v1/sis-summaries`: every summary, newest first.
pub async fn list(
    State(state): State<AppState>,
    _: Person,
) -> Result<Json<Vec<SisSummaryInfo>>, Failure> {
    let rows = state.store.list_sis_summaries().await?;
    Ok(Json(rows.iter().map(info).collect::<Result<_, _>>()?))
}

/// `GET /api/v1/sis-summaries/{id}`: one summary.
pub async fn get(
    State(state): State<AppState>,
    _: Person,
    Path(id): Path<String>,
) -> Result<Json<SisSummary>, Failure> {
    let row = state
        .store
        .get_sis_summary(&id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("no SIS summary {id}")))?;
    Ok(Json(summary_of(&row)?))
}
