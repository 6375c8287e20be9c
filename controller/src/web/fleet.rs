//! The fleet overview for technology operations: sites, agents and counts.

use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use maud::{Markup, html};

use super::layout::{Frame, Section, page, time_ms};
use super::{AdminViewer, Page, PageError, Viewer, see_other};
use crate::clock;
use crate::edge::state::AppState;
use crate::store::{AgentRow, EvaluationRow};
use fitcheck_engine::NO_SITE;

/// An agent counts as active when seen within this long.
const ACTIVE_MS: i64 = 15 * 60 * 1000;

/// `GET /`: the fleet for administrators; reviewers go to the evaluations.
pub async fn landing(State(state): State<AppState>, viewer: Viewer) -> Result<Response, PageError> {
    if !viewer.is_admin() {
        return Ok(see_other("/evaluations"));
    }
    Ok(overview(&state, viewer).await?.into_response())
}

/// `GET /fleet`: administrators only.
pub async fn fleet(
    State(state): State<AppState>,
    AdminViewer(viewer): AdminViewer,
) -> Result<Page, PageError> {
    overview(&state, viewer).await
}

#[derive(Default)]
struct SiteRow {
    agents: u32,
    active: u32,
    revoked: u32,
    last_seen: Option<i64>,
}

async fn overview(state: &AppState, viewer: Viewer) -> Result<Page, PageError> {
    let user = &viewer.user;
    let fail = |e: crate::store::StoreError| {
        PageError::from(crate::edge::error::Failure::from(e)).for_user(user)
    };
    let agents = state.store.list_agents().await.map_err(fail)?;
    let evaluations = state.store.list_evaluations().await.map_err(fail)?;
    let reports = state.store.count_reports().await.map_err(fail)?;
    let now = clock::now_ms();
    let sites = site_rows(&agents, now);
    let body = html! {
        h1 { "Fleet" }
        p.lede { "The agents enrolled with this controller, by site. An agent is active when it was seen in the last 15 minutes." }
        (counts_section(&sites, &agents, &evaluations, reports, now))
        (sites_section(&sites))
        (agents_section(&agents, now))
    };
    Ok(Page::ok(page(
        Frame {
            title: "Fleet",
            user: Some(user),
            section: Section::Fleet,
            refresh_s: None,
        },
        body,
    )))
}

/// Each site's agents: enrolled, active and revoked, and when one was last seen.
fn site_rows(agents: &[AgentRow], now: i64) -> BTreeMap<String, SiteRow> {
    let mut sites: BTreeMap<String, SiteRow> = BTreeMap::new();
    for a in agents {
        let row = sites
            .entry(a.site.clone().unwrap_or_else(|| NO_SITE.to_owned()))
            .or_default();
        if a.revoked_at.is_some() {
            row.revoked += 1;
            continue;
        }
        row.agents += 1;
        if now - a.last_seen_at < ACTIVE_MS {
            row.active += 1;
        }
        row.last_seen = Some(
            row.last_seen
                .map_or(a.last_seen_at, |s| s.max(a.last_seen_at)),
        );
    }
    sites
}

/// The fleet at a glance: sites, agents enrolled, active and revoked, evaluations and reports.
fn counts_section(
    sites: &BTreeMap<String, SiteRow>,
    agents: &[AgentRow],
    evaluations: &[EvaluationRow],
    reports: i64,
    now: i64,
) -> Markup {
    let open = evaluations
        .iter()
        .filter(|e| e.window_start <= now && now < e.window_end)
        .count();
    let enrolled = agents.iter().filter(|a| a.revoked_at.is_none()).count();
    let active: u32 = sites.values().map(|s| s.active).sum();
    let revoked = agents.len() - enrolled;
    html! {
        section aria-labelledby="counts-h" {
            h2 id="counts-h" { "At a glance" }
            dl.counts {
                div { dt { "Sites" } dd { (sites.len()) } }
                div { dt { "Agents enrolled" } dd { (enrolled) } }
                div { dt { "Active now" } dd { (active) } }
                div { dt { "Revoked" } dd { (revoked) } }
                div { dt { "Evaluations open" } dd { (open) " of " (evaluations.len()) } }
                div { dt { "Reports stored" } dd { (reports) } }
            }
        }
    }
}

/// The agents per site, or a line saying how to enroll the first one.
fn sites_section(sites: &BTreeMap<String, SiteRow>) -> Markup {
    html! {
        section aria-labelledby="sites-h" {
            h2 id="sites-h" { "Sites" }
            @if sites.is_empty() {
                p { "No agent has enrolled yet. Create an enrollment secret (" code { "POST /api/v1/enrollment-secrets" } ") and enroll an agent on a lab machine." }
            } @else {
                table {
                    caption { "Agents per site" }
                    thead { tr {
                        th scope="col" { "Site" }
                        th scope="col" class="num" { "Enrolled" }
                        th scope="col" class="num" { "Active" }
                        th scope="col" class="num" { "Revoked" }
                        th scope="col" { "Last seen" }
                    } }
                    tbody {
                        @for (site, s) in sites {
                            tr {
                                th scope="row" { (site) }
                                td.num { (s.agents) }
                                td.num { (s.active) }
                                td.num { (s.revoked) }
                                td { @if let Some(t) = s.last_seen { (time_ms(t)) } @else { "—" } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// Every enrolled agent: its site, labels, version, when it was last seen and its state.
fn agents_section(agents: &[AgentRow], now: i64) -> Markup {
    html! {
        section aria-labelledby="agents-h" {
            h2 id="agents-h" { "Agents" }
            @if !agents.is_empty() {
                div.scroll {
                    table {
                        caption { "Every enrolled agent, by site" }
                        thead { tr {
                            th scope="col" { "Agent" }
                            th scope="col" { "Site" }
                            th scope="col" { "Labels" }
                            th scope="col" { "Version" }
                            th scope="col" { "Last seen" }
                            th scope="col" { "State" }
                        } }
                        tbody {
                            @for a in agents {
                                @let labels: BTreeMap<String, String> = serde_json::from_str(&a.labels).unwrap_or_default();
                                tr {
                                    th scope="row" { code title=(a.id) { (super::layout::short(&a.id)) } }
                                    td { (a.site.as_deref().unwrap_or(NO_SITE)) }
                                    td {
                                        @for (k, v) in labels.iter().filter(|(k, _)| k.as_str() != "site") {
                                            span.label { (k) "=" (v) } " "
                                        }
                                    }
                                    td { (a.version) }
                                    td { (time_ms(a.last_seen_at)) }
                                    td {
                                        @if let Some(t) = a.revoked_at {
                                            span.st.st-fail { "Revoked " (time_ms(t)) }
                                        } @else if now - a.last_seen_at < ACTIVE_MS {
                                            span.st.st-pass { "Active" }
                                        } @else {
                                            span.st.st-unknown { "Quiet" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
