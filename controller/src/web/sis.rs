//! `/sis`: the district's SIS capability — every summary of its OneRoster export, newest first
//! (the newest is what recommendations judge data needs against) — and, for administrators, a
//! form to upload one (the JSON `fitcheck-agent sis inspect --out` wrote, pasted).

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{Frame, Section, page};
use super::{Page, PageError, Viewer, read_form, see_other};
use crate::api::sis;
use crate::edge::extract::Body;
use crate::edge::state::AppState;

fn body(state_rows: &[crate::types::SisSummaryInfo], admin: bool, problem: Option<&str>) -> Markup {
    html! {
        h1 { "SIS exports" }
        p.lede { "What the district's Student Information System export holds — files, columns, how full each is per role, format findings — as the inspector summarised it on the machine where the export lies. No student's data is here: only names of columns and counts. Recommendations judge a product's data needs against the newest summary." }
        @if state_rows.is_empty() {
            p { "No summary yet. On the machine that holds the export, run " code { "fitcheck-agent sis inspect EXPORT.zip --out summary.json" } ", then " code { "fitcheck-agent sis upload summary.json" } " (an enrolled agent) or paste it below." }
        } @else {
            div.scroll {
                table {
                    caption { "Summaries, newest first" }
                    thead { tr {
                        th scope="col" { "Read" }
                        th scope="col" { "Source system" }
                        th scope="col" { "OneRoster" }
                        th scope="col" class="num" { "Files" }
                        th scope="col" class="num" { "Users" }
                        th scope="col" class="num" { "Findings" }
                        th scope="col" { "Uploaded by" }
                    } }
                    tbody {
                        @for (i, s) in state_rows.iter().enumerate() {
                            tr {
                                th scope="row" { (s.generated_at) @if i == 0 { " " span.muted { "(in use)" } } }
                                td { (s.source_system) }
                                td { (s.oneroster_version.as_deref().unwrap_or("?")) }
                                td.num { (s.files) }
                                td.num { (s.users) }
                                td.num { (s.findings) }
                                td { (s.uploaded_by) }
                            }
                        }
                    }
                }
            }
        }
        @if admin {
            section aria-labelledby="upload-h" {
                h2 id="upload-h" { "Upload a summary" }
                @if let Some(p) = problem { div.notice.bad role="alert" { p { (p) } } }
                form method="post" action="/sis" {
                    label for="summary" { "The summary's JSON (" code { "sis inspect --out" } " writes it)" }
                    textarea id="summary" name="summary" rows="12" cols="80" required {}
                    button type="submit" { "Upload" }
                }
            }
        }
    }
}

fn frame<'a>(viewer: &'a Viewer) -> Frame<'a> {
    Frame {
        title: "SIS exports",
        user: Some(&viewer.user),
        section: Section::Sis,
        refresh_s: None,
    }
}

async fn rows(
    state: &AppState,
) -> Result<Vec<crate::types::SisSummaryInfo>, crate::edge::error::Failure> {
    let rows = state.store.list_sis_summaries().await?;
    rows.iter().map(sis::info).collect()
}

/// `GET /sis`.
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Page, PageError> {
    let all = rows(&state)
        .await
        .map_err(|e| PageError::from(e).for_user(&viewer.user))?;
    Ok(Page::ok(page(
        frame(&viewer),
        body(&all, viewer.is_admin(), None),
    )))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UploadForm {
    summary: String,
}

/// `POST /sis`: an administrator uploads a summary; a refused one stores nothing and the page
/// says why, with the field at fault.
pub async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    viewer: Viewer,
    Body(raw): Body,
) -> Result<Response, PageError> {
    if !viewer.is_admin() {
        return Err(PageError::from(crate::edge::error::Failure::forbidden(
            "only an administrator uploads SIS summaries",
        ))
        .for_user(&viewer.user));
    }
    let form: UploadForm = read_form(&state, &headers, &uri, &raw, "upload")?;
    let outcome = match sis::accept(form.summary.as_bytes()) {
        Ok(summary) => sis::keep(&state, &summary, format!("user:{}", viewer.user.username))
            .await
            .map(|_| ()),
        Err(f) => Err(f),
    };
    match outcome {
        Ok(()) => Ok(see_other("/sis")),
        Err(f) if f.status.is_client_error() => {
            let all = rows(&state)
                .await
                .map_err(|e| PageError::from(e).for_user(&viewer.user))?;
            let problem = match &f.body.field {
                Some(field) => format!("The summary was refused ({field}): {}", f.body.message),
                None => format!("The summary was refused: {}", f.body.message),
            };
            Ok(Page {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                markup: page(frame(&viewer), body(&all, true, Some(&problem))),
            }
            .into_response())
        }
        Err(f) => Err(PageError::from(f).for_user(&viewer.user)),
    }
}
