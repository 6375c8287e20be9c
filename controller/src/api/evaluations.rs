//! Evaluations (`/api/v1/evaluations`): created by administrators, read by reviewers, with the
//! recommendation and the Data Projects Form in their formats.

use crate::api::profiles::profile_info;
use crate::clock;
use crate::edge::error::Failure;
use crate::edge::extract::{Admin, Body, Person, parse_json};
use crate::edge::state::AppState;
use crate::evaluation::scope::{in_scope, profile_of, spec_of};
use crate::store::EvaluationRow;
use crate::types::{EvaluationInfo, NewEvaluation};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use std::collections::BTreeMap;
use uuid::Uuid;

/// Checks an evaluation definition; fills in the start of its window.
fn check_evaluation(spec: &mut NewEvaluation, now: i64) -> Result<(i64, i64), Failure> {
    let bad =
        |field: &str, msg: String| Failure::unprocessable("invalid_evaluation", msg).field(field);
    if spec.title.trim().is_empty() || spec.title.len() > 200 {
        return Err(bad("title", "title must be 1-200 characters".into()));
    }
    let start = match &spec.window_start {
        Some(t) => clock::parse_rfc3339(t).map_err(|e| bad("window_start", e))?,
        None => {
            spec.window_start = Some(clock::rfc3339(now));
            now
        }
    };
    let end = clock::parse_rfc3339(&spec.window_end).map_err(|e| bad("window_end", e))?;
    if end <= start {
        return Err(bad(
            "window_end",
            "window_end must be after window_start".into(),
        ));
    }
    for site in spec.concurrent_users.keys() {
        if !spec.sites.is_empty() && !spec.sites.contains(site) {
            return Err(bad(
                &format!("concurrent_users.{site}"),
                format!("site {site:?} has planned users but is not in sites"),
            ));
        }
    }
    if let Some(b) = &spec.bandwidth {
        if !(b.max_seconds.is_finite() && b.max_seconds > 0.0 && b.max_seconds <= 15.0) {
            return Err(bad(
                "bandwidth.max_seconds",
                "max_seconds must be more than 0 and at most 15".into(),
            ));
        }
        if let Some(t) = &b.start_at {
            clock::parse_rfc3339(t).map_err(|e| bad("bandwidth.start_at", e))?;
        }
        for (site, t) in &b.site_start_at {
            clock::parse_rfc3339(t)
                .map_err(|e| bad(&format!("bandwidth.site_start_at.{site}"), e))?;
        }
    }
    // A ticked element the schedule does not have would read as "not covered" with no reason.
    for (i, t) in spec.proposal.dpa_exhibit_b.iter().flatten().enumerate() {
        let known = fitcheck_core::data::exhibit_b::element(t).is_some()
            || fitcheck_core::data::exhibit_b::Category::parse(t).is_some();
        if !known {
            return Err(bad(
                &format!("proposal.dpa_exhibit_b[{i}]"),
                format!(
                    "{t:?} is neither an Exhibit B element id (\"demographics.date_of_birth\") nor a category (\"student_identifiers\"); see core/src/data/exhibit_b.rs"
                ),
            ));
        }
    }
    if spec.os_updates_end.len() > 10_000 {
        return Err(bad(
            "os_updates_end",
            "names more than 10,000 device models; give the models in scope".to_owned(),
        ));
    }
    for (model, last) in &spec.os_updates_end {
        if model.trim().is_empty() || model.len() > 200 {
            return Err(bad(
                "os_updates_end",
                "a device model is empty or longer than 200 characters; use the model as the recommendation names it".to_owned(),
            ));
        }
        if last.parse::<fitcheck_core::version::Version>().is_err() {
            return Err(bad(
                &format!("os_updates_end.{model}"),
                format!(
                    "{last:?} is not a release; give the last OS release the model receives as dotted numbers (\"118\", \"13.7\")"
                ),
            ));
        }
    }
    if let Some(g) = &spec.data_senders
        && (g.trim().is_empty() || g.len() > 200)
    {
        return Err(bad(
            "data_senders",
            "data_senders is the group label of the machines that send the roster files (1-200 characters)".into(),
        ));
    }
    Ok((start, end))
}

/// `POST /api/v1/evaluations`.
pub async fn create_evaluation(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Body(body): Body,
) -> Result<(StatusCode, Json<EvaluationInfo>), Failure> {
    let mut spec: NewEvaluation = parse_json(&body, "evaluation")?;
    let now = clock::now_ms();
    let (start, end) = check_evaluation(&mut spec, now)?;
    if state.store.get_profile(&spec.profile).await?.is_none() {
        return Err(Failure::unprocessable(
            "invalid_evaluation",
            format!(
                "no stored profile {}; upload it first (POST /api/v1/profiles)",
                spec.profile
            ),
        )
        .field("profile"));
    }
    let row = EvaluationRow {
        id: Uuid::new_v4().to_string(),
        title: spec.title.clone(),
        profile: spec.profile.clone(),
        spec: serde_json::to_string(&spec).map_err(|e| Failure::internal(e.to_string()))?,
        window_start: start,
        window_end: end,
        created_by: admin.user.username.clone(),
        created_at: now,
    };
    state.store.insert_evaluation(&row).await?;
    tracing::info!(by = %admin.user.username, id = %row.id, title = %row.title, "Evaluation created.");
    Ok((
        StatusCode::CREATED,
        Json(evaluation_info(&state, row).await?),
    ))
}

async fn evaluation_info(state: &AppState, row: EvaluationRow) -> Result<EvaluationInfo, Failure> {
    let spec = spec_of(&row)?;
    let profile = profile_of(&state.store, &row).await?;
    let mut reports_by_site: BTreeMap<String, u64> = BTreeMap::new();
    for r in state.store.reports_for_evaluation(&row.id).await? {
        *reports_by_site
            .entry(r.site.unwrap_or_else(|| "(no site)".into()))
            .or_default() += 1;
    }
    let mut agents_by_site: BTreeMap<String, u64> = BTreeMap::new();
    for a in state.store.list_agents().await? {
        if a.revoked_at.is_none() && in_scope(&spec, &a) {
            *agents_by_site
                .entry(a.site.clone().unwrap_or_else(|| "(no site)".into()))
                .or_default() += 1;
        }
    }
    let now = clock::now_ms();
    let id = row.id.clone();
    Ok(EvaluationInfo {
        id: row.id,
        title: row.title,
        profile: profile_info(&profile),
        spec,
        created_by: row.created_by,
        created_at: clock::rfc3339(row.created_at),
        open: row.window_start <= now && now < row.window_end,
        reports_by_site,
        agents_by_site,
        decision: crate::evaluation::decision::decision_of(&state.store, &id).await?,
    })
}

/// `GET /api/v1/evaluations`.
pub async fn list_evaluations(
    State(state): State<AppState>,
    _who: Person,
) -> Result<Json<Vec<EvaluationInfo>>, Failure> {
    let mut out = Vec::new();
    for row in state.store.list_evaluations().await? {
        out.push(evaluation_info(&state, row).await?);
    }
    Ok(Json(out))
}

/// `GET /api/v1/evaluations/{id}`: with progress per site.
pub async fn get_evaluation(
    State(state): State<AppState>,
    _who: Person,
    Path(id): Path<String>,
) -> Result<Json<EvaluationInfo>, Failure> {
    let row = state
        .store
        .get_evaluation(&id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("no evaluation {id}")))?;
    Ok(Json(evaluation_info(&state, row).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    format: Option<String>,
}

/// The `format` a download asks for, one of `allowed` (the first when none is given); a format
/// outside them is refused before anything is read.
fn format_of(
    query: Result<Query<FormatQuery>, axum::extract::rejection::QueryRejection>,
    allowed: &[&str],
) -> Result<String, Failure> {
    let Query(q) = query.map_err(|e| {
        Failure::bad_request(
            "invalid_query",
            format!("{e}; give format={}", allowed.join(", format=")),
        )
    })?;
    let format = q
        .format
        .unwrap_or_else(|| allowed.first().copied().unwrap_or_default().to_owned());
    if !allowed.contains(&format.as_str()) {
        return Err(not_a_format(&format, allowed));
    }
    Ok(format)
}

fn not_a_format(format: &str, allowed: &[&str]) -> Failure {
    Failure::bad_request(
        "invalid_query",
        format!("format {format:?} is not {}", allowed.join(" or ")),
    )
    .field("format")
}

/// `GET /api/v1/evaluations/{id}/recommendation[?format=json|md]`: the committee's document as
/// of now.
pub async fn get_recommendation(
    State(state): State<AppState>,
    _who: Person,
    Path(id): Path<String>,
    query: Result<Query<FormatQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Failure> {
    let format = format_of(query, &["json", "md"])?;
    let r = crate::evaluation::dossier::recommendation(&state.store, &state.catalog, &id).await?;
    match format.as_str() {
        "json" => Ok(Json(r).into_response()),
        "md" => {
            let decision = crate::evaluation::decision::decision_of(&state.store, &id).await?;
            let mut md = crate::present::render::markdown(&r);
            md.push_str(&crate::present::render::decision_markdown(&decision));
            Ok(([(header::CONTENT_TYPE, "text/markdown; charset=utf-8")], md).into_response())
        }
        other => Err(not_a_format(other, &["json", "md"])),
    }
}

/// `GET /api/v1/evaluations/{id}/data-form?format=md|csv|pdf`: the Data Projects Form.
pub async fn get_data_form(
    State(state): State<AppState>,
    _who: Person,
    Path(id): Path<String>,
    query: Result<Query<FormatQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Failure> {
    let format = format_of(query, &["md", "csv", "pdf"])?;
    let r = crate::evaluation::dossier::recommendation(&state.store, &state.catalog, &id).await?;
    let none = || {
        Failure::not_found(format!(
            "evaluation {id}'s profile states no data needs ([data]); there is no Data Projects Form"
        ))
    };
    match format.as_str() {
        "md" => Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            crate::present::render::data_form_markdown(&r).ok_or_else(none)?,
        )
            .into_response()),
        "csv" => Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            crate::present::render::data_form_csv(&r).ok_or_else(none)?,
        )
            .into_response()),
        "pdf" => {
            let bytes = crate::present::pdf::data_form(&r).ok_or_else(none)?;
            Ok(([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response())
        }
        other => Err(not_a_format(other, &["md", "csv", "pdf"])),
    }
}
