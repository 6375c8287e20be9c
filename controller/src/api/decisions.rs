//! The committee's decision (`/api/v1/evaluations/{id}/approvals`): Business, Curriculum and
//! Technology each approve, approve with conditions, or decline, with a note; whoever the
//! administrator has named for a party records its decision (`/api/v1/users/{name}/approvals`).
//! The Technology approval cites the recommendation as it stood when it was recorded. A product
//! all three approve is approved, and can be watched.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use uuid::Uuid;

use crate::clock;
use crate::edge::error::Failure;
use crate::edge::extract::{Admin, Body, Person, parse_json};
use crate::edge::state::AppState;
use crate::evaluation::decision::decision_of;
use crate::store::{ApprovalRow, UserRow};
use crate::types::{ApproverChange, Decision, NewApproval, Party, RecommendationRef};

/// The longest note kept.
pub const NOTE_MAX_CHARS: usize = 2_000;

/// `POST /api/v1/evaluations/{id}/approvals`: records one party's decision; answers the
/// decision as it now stands.
pub async fn record(
    State(state): State<AppState>,
    person: Person,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<(StatusCode, Json<Decision>), Failure> {
    let req: NewApproval = parse_json(&body, "approval")?;
    let decision = record_decision(&state, &person.user, &id, &req).await?;
    Ok((StatusCode::CREATED, Json(decision)))
}

/// Records `req` on evaluation `id` for `user`, who must be named for its party; the API and
/// the evaluation page both record through here.
pub async fn record_decision(
    state: &AppState,
    user: &UserRow,
    id: &str,
    req: &NewApproval,
) -> Result<Decision, Failure> {
    check_note(&req.note)?;
    if state.store.get_evaluation(id).await?.is_none() {
        return Err(Failure::not_found(format!("no evaluation {id}")));
    }
    let allowed = state.store.approver_parties(&user.id).await?;
    if !allowed.iter().any(|p| p == req.party.as_str()) {
        return Err(Failure::forbidden(format!(
            "{} may not record the {} approval; an administrator names who records each party's (POST /api/v1/users/{}/approvals)",
            user.username,
            req.party.words(),
            user.username
        ))
        .field("party"));
    }
    // Technology approves what the recommendation says now: cite it.
    let recommendation = match req.party {
        Party::Technology => Some(cite(state, id).await?),
        _ => None,
    };
    let row = ApprovalRow {
        id: Uuid::now_v7().to_string(),
        evaluation_id: id.to_owned(),
        party: req.party.as_str().to_owned(),
        outcome: req.outcome.as_str().to_owned(),
        note: req.note.trim().to_owned(),
        decided_by: user.username.clone(),
        decided_at: clock::now_ms(),
        recommendation: recommendation
            .map(|r| serde_json::to_string(&r))
            .transpose()
            .map_err(|e| Failure::internal(format!("recommendation reference: {e}")))?,
    };
    state.store.insert_approval(&row).await?;
    tracing::info!(by = %user.username, evaluation = %id, party = %row.party, outcome = %row.outcome, "Approval recorded.");
    decision_of(&state.store, id).await
}

/// `GET /api/v1/evaluations/{id}/approvals`.
pub async fn get(
    State(state): State<AppState>,
    _who: Person,
    Path(id): Path<String>,
) -> Result<Json<Decision>, Failure> {
    if state.store.get_evaluation(&id).await?.is_none() {
        return Err(Failure::not_found(format!("no evaluation {id}")));
    }
    Ok(Json(decision_of(&state.store, &id).await?))
}

/// `POST /api/v1/users/{username}/approvals`: which parties' approvals the person may record
/// (an empty list: none).
pub async fn set_approver(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(username): Path<String>,
    Body(body): Body,
) -> Result<StatusCode, Failure> {
    let req: ApproverChange = parse_json(&body, "approver change")?;
    let mut parties: Vec<&str> = req.parties.iter().map(|p| p.as_str()).collect();
    parties.sort_unstable();
    parties.dedup();
    if !state.store.set_approver(&username, &parties).await? {
        return Err(Failure::not_found(format!("no user named {username:?}")));
    }
    tracing::info!(by = %admin.user.username, %username, parties = ?parties, "Approvers changed.");
    Ok(StatusCode::NO_CONTENT)
}

/// A note within its length, with no control characters but line breaks.
fn check_note(note: &str) -> Result<(), Failure> {
    if note.chars().count() > NOTE_MAX_CHARS {
        return Err(Failure::unprocessable(
            "invalid_approval",
            format!("the note is longer than {NOTE_MAX_CHARS} characters; shorten it"),
        )
        .field("note"));
    }
    if note
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Err(Failure::unprocessable(
            "invalid_approval",
            "the note holds control characters; write plain text",
        )
        .field("note"));
    }
    Ok(())
}

/// The recommendation as it stands now: its verdict, when it was written, and its digest.
async fn cite(state: &AppState, id: &str) -> Result<RecommendationRef, Failure> {
    let r = crate::evaluation::dossier::recommendation(&state.store, &state.catalog, id).await?;
    let json = serde_json::to_vec(&r)
        .map_err(|e| Failure::internal(format!("recommendation as JSON: {e}")))?;
    let verdict = serde_json::to_value(r.verdict)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    Ok(RecommendationRef {
        verdict,
        generated_at: r.generated_at.clone(),
        digest: fitcheck_core::digest(&json),
    })
}
