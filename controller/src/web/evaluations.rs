//! The evaluations: a list, and one evaluation with its progress per site (agents in scope
//! against devices that reported), live while it is open.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use maud::{Markup, html};

use super::layout::{Frame, Section, page, report_link, short, time_ms};
use super::{Page, PageError, Viewer, encode};
use crate::clock;
use crate::edge::error::Failure;
use crate::edge::state::AppState;
use crate::evaluation::decision::{decision_of, parties_of};
use crate::evaluation::scope::{in_scope, profile_of, spec_of};
use crate::store::{AgentRow, EvaluationRow, ProfileRow, ReportSummary};
use crate::types::NewEvaluation;
use fitcheck_engine::NO_SITE;

/// How often an open evaluation's page reloads itself, seconds.
pub const REFRESH_S: u32 = 15;

/// One site's progress.
#[derive(Debug, Default, Clone)]
pub struct SiteProgress {
    /// Enrolled, unrevoked agents in scope.
    pub agents: u32,
    /// Distinct agents that reported.
    pub devices_reported: u32,
    /// Reports received (an agent may report more than once).
    pub reports: u32,
}

/// An evaluation with what a page shows about it.
#[derive(Debug)]
pub struct Progress {
    pub row: EvaluationRow,
    pub spec: NewEvaluation,
    pub profile: ProfileRow,
    pub open: bool,
    pub sites: BTreeMap<String, SiteProgress>,
    pub reports: Vec<ReportSummary>,
}

impl Progress {
    pub fn agents(&self) -> u32 {
        self.sites.values().map(|s| s.agents).sum()
    }
    pub fn devices_reported(&self) -> u32 {
        self.sites.values().map(|s| s.devices_reported).sum()
    }
}

/// Reads an evaluation's progress; `agents` is the store's agent list (read once per page).
pub async fn progress(
    state: &AppState,
    row: EvaluationRow,
    agents: &[AgentRow],
) -> Result<Progress, Failure> {
    let spec = spec_of(&row)?;
    let profile = profile_of(&state.store, &row).await?;
    let reports = state.store.reports_for_evaluation(&row.id).await?;
    let mut sites: BTreeMap<String, SiteProgress> = spec
        .sites
        .iter()
        .map(|s| (s.clone(), SiteProgress::default()))
        .collect();
    for a in agents {
        if a.revoked_at.is_none() && in_scope(&spec, a) {
            sites
                .entry(a.site.clone().unwrap_or_else(|| NO_SITE.to_owned()))
                .or_default()
                .agents += 1;
        }
    }
    let mut seen: BTreeSet<(&str, &str)> = BTreeSet::new();
    for r in &reports {
        let site = r.site.as_deref().unwrap_or(NO_SITE);
        let entry = sites.entry(site.to_owned()).or_default();
        entry.reports += 1;
        if seen.insert((site, &r.agent_id)) {
            entry.devices_reported += 1;
        }
    }
    let now = clock::now_ms();
    Ok(Progress {
        open: row.window_start <= now && now < row.window_end,
        row,
        spec,
        profile,
        sites,
        reports,
    })
}

/// An evaluation's stored row, or a 404 page.
pub async fn row_or_404(state: &AppState, id: &str) -> Result<EvaluationRow, Failure> {
    state
        .store
        .get_evaluation(id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("There is no evaluation {id}.")))
}

fn meter(done: u32, of: u32) -> Markup {
    let label = format!("{done} of {of}");
    html! {
        span.meter {
            progress max=(of.max(1)) value=(done.min(of.max(1))) aria-hidden="true" {}
            " " (label)
        }
    }
}

fn open_words(p: &Progress) -> Markup {
    if p.open {
        html! { span.chip.v-open { "Open" } }
    } else if clock::now_ms() < p.row.window_start {
        html! { span.chip.v-closed { "Not started" } }
    } else {
        html! { span.chip.v-closed { "Closed" } }
    }
}

/// `GET /evaluations`.
pub async fn list(State(state): State<AppState>, viewer: Viewer) -> Result<Page, PageError> {
    let user = &viewer.user;
    let load = async {
        let agents = state.store.list_agents().await?;
        let mut out = Vec::new();
        for row in state.store.list_evaluations().await? {
            out.push(progress(&state, row, &agents).await?);
        }
        Ok::<_, Failure>(out)
    };
    let all = load.await.map_err(|e| PageError::from(e).for_user(user))?;
    let body = html! {
        h1 { "Evaluations" }
        p.lede { "Each evaluation runs one product's profile on the agents of the sites in its scope. Open one to follow its progress and read the recommendation." }
        @if all.is_empty() {
            p { "No evaluation yet." }
            @if viewer.is_admin() {
                p { "Start one with " code { "POST /api/v1/evaluations" } " (see the README's controller section)." }
            }
        } @else {
            div.scroll {
                table {
                    caption { "Every evaluation, newest first" }
                    thead { tr {
                        th scope="col" { "Evaluation" }
                        th scope="col" { "Product" }
                        th scope="col" { "State" }
                        th scope="col" { "Devices reported" }
                        th scope="col" { "Created" }
                        th scope="col" { span.visually-hidden { "Recommendation" } }
                    } }
                    tbody {
                        @for p in &all {
                            tr {
                                th scope="row" { a href={ "/evaluations/" (encode(&p.row.id)) } { (p.row.title) } }
                                td { (p.profile.name) " " span.muted { "(" (p.profile.vendor) ")" } }
                                td { (open_words(p)) }
                                td { (meter(p.devices_reported(), p.agents())) }
                                td { (time_ms(p.row.created_at)) " by " (p.row.created_by) }
                                td { a href={ "/evaluations/" (encode(&p.row.id)) "/recommendation" } { "Recommendation" span.visually-hidden { " for " (p.row.title) } } }
                            }
                        }
                    }
                }
            }
        }
    };
    Ok(Page::ok(page(
        Frame {
            title: "Evaluations",
            user: Some(user),
            section: Section::Evaluations,
            refresh_s: None,
        },
        body,
    )))
}

/// `GET /evaluations/{id}`.
pub async fn detail(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Page, PageError> {
    let user = &viewer.user;
    let load = async {
        let row = row_or_404(&state, &id).await?;
        let agents = state.store.list_agents().await?;
        let p = progress(&state, row, &agents).await?;
        // Other runs of the same profile, for a comparison.
        let runs = other_runs(&state, &p.row.id, &p.profile.profile_id).await?;
        let decision = decision_of(&state.store, &p.row.id).await?;
        let mine = parties_of(&state.store, user).await?;
        Ok::<_, Failure>((p, runs, decision, mine))
    };
    let (p, runs, decision, mine) = load.await.map_err(|e| PageError::from(e).for_user(user))?;
    let eid = encode(&p.row.id);
    let body = html! {
        p.crumbs { a href="/evaluations" { "Evaluations" } " / " }
        h1 { (p.row.title) }
        div.actions {
            a.button.primary href={ "/evaluations/" (eid) "/recommendation" } { "Read the recommendation" }
            " "
            (open_words(&p))
        }
        @if p.open {
            p.muted role="status" { "Open until " (time_ms(p.row.window_end)) ". This page reloads every " (REFRESH_S) " seconds while agents report." }
        }
        (progress_section(&p))
        (super::decision::section(&eid, &decision, &mine))
        (facts_section(&p))
        @if !runs.is_empty() {
            (runs_section(&eid, &runs))
        }
        (reports_section(&p))
    };
    Ok(Page::ok(page(
        Frame {
            title: &p.row.title,
            user: Some(user),
            section: Section::Evaluations,
            refresh_s: p.open.then_some(REFRESH_S),
        },
        body,
    )))
}

/// The other evaluations that run the same profile (`profile_id`), for a comparison.
pub async fn other_runs(
    state: &AppState,
    id: &str,
    profile_id: &str,
) -> Result<Vec<EvaluationRow>, Failure> {
    let mut runs = Vec::new();
    for other in state.store.list_evaluations().await? {
        if other.id == id {
            continue;
        }
        if let Some(op) = state.store.get_profile(&other.profile).await?
            && op.profile_id == profile_id
        {
            runs.push(other);
        }
    }
    Ok(runs)
}

/// The progress table: per site, devices that reported against agents in scope, with totals.
fn progress_section(p: &Progress) -> Markup {
    let spec = &p.spec;
    html! {
        section aria-labelledby="progress-h" {
            h2 id="progress-h" { "Progress by site" }
            table {
                caption { "Devices that reported, against the agents in scope" }
                thead { tr {
                    th scope="col" { "Site" }
                    th scope="col" { "Devices reported" }
                    th scope="col" class="num" { "Reports received" }
                    th scope="col" class="num" { "Planned users" }
                } }
                tbody {
                    @for (site, s) in &p.sites {
                        tr {
                            th scope="row" { (site) }
                            td { (meter(s.devices_reported, s.agents)) }
                            td.num { (s.reports) }
                            td.num { (spec.concurrent_users.get(site).map_or("—".to_owned(), |n| n.to_string())) }
                        }
                    }
                }
                tfoot { tr {
                    th scope="row" { "All sites" }
                    td { (meter(p.devices_reported(), p.agents())) }
                    td.num { (p.reports.len()) }
                    td.num { (spec.concurrent_users.values().sum::<u32>()) }
                } }
            }
        }
    }
}

/// The evaluation's facts: product, profile, window, scope, throughput plan and proposal.
fn facts_section(p: &Progress) -> Markup {
    let spec = &p.spec;
    html! {
        section aria-labelledby="facts-h" {
            h2 id="facts-h" { "The evaluation" }
            dl.facts {
                dt { "Product" } dd { (p.profile.name) " — " (p.profile.vendor) }
                dt { "Profile" } dd { code { (p.profile.profile_id) } " " span.muted.digest { (p.profile.digest) } }
                dt { "Window" } dd { (time_ms(p.row.window_start)) " to " (time_ms(p.row.window_end)) }
                dt { "Sites" } dd { @if spec.sites.is_empty() { "every site" } @else { (spec.sites.join(", ")) } }
                dt { "Device groups" } dd { @if spec.groups.is_empty() { "every group" } @else { (spec.groups.join(", ")) } }
                dt { "Devices needed per site" } dd { (spec.min_devices_per_site) }
                @if !spec.os_updates_end.is_empty() {
                    dt { "OS updates end (district inventory)" } dd {
                        @for (i, (model, last)) in spec.os_updates_end.iter().enumerate() {
                            @if i > 0 { "; " }
                            (model) " at " (last)
                        }
                    }
                }
                dt { "Throughput" } dd {
                    @match &spec.bandwidth {
                        None => "not measured beyond what the profile asks",
                        Some(b) => {
                            @if let Some(t) = &b.start_at { "coordinated run at " (super::layout::time_text(t)) }
                            @else if !b.site_start_at.is_empty() { "coordinated per site" }
                            @else { "each device on its own (not coordinated)" }
                            ", at most " (b.max_seconds) " s per direction"
                        }
                    }
                }
                @if let Some(s) = &spec.proposal.sponsor { dt { "Sponsor" } dd { (s) } }
                @if let Some(d) = &spec.proposal.deadline { dt { "Decision needed by" } dd { (d) } }
                @if let Some(b) = &spec.proposal.budget_code { dt { "Budget code" } dd { (b) } }
                @if !spec.proposal.data_needs.is_empty() { dt { "Data the product needs" } dd { (spec.proposal.data_needs.join("; ")) } }
                dt { "Created" } dd { (time_ms(p.row.created_at)) " by " (p.row.created_by) }
            }
        }
    }
}

/// The other runs of this profile, each with a link comparing it with this one.
fn runs_section(eid: &str, runs: &[EvaluationRow]) -> Markup {
    html! {
        section aria-labelledby="runs-h" {
            h2 id="runs-h" { "Other runs of this profile" }
            ul {
                @for r in runs {
                    li {
                        a href={ "/evaluations/" (encode(&r.id)) } { (r.title) }
                        " (" (time_ms(r.created_at)) ") — "
                        a href={ "/evaluations/" (eid) "/compare?with=" (encode(&r.id)) } { "compare with this one" }
                    }
                }
            }
        }
    }
}

/// The reports received, newest first, or a line saying there is none yet.
fn reports_section(p: &Progress) -> Markup {
    html! {
        section aria-labelledby="reports-h" {
            h2 id="reports-h" { "Reports received" }
            @if p.reports.is_empty() {
                p { "No report yet." }
            } @else {
                div.scroll {
                    table {
                        caption { "Reports, newest first" }
                        thead { tr {
                            th scope="col" { "Report" }
                            th scope="col" { "Site" }
                            th scope="col" { "Agent" }
                            th scope="col" { "Received" }
                        } }
                        tbody {
                            @for r in p.reports.iter().rev() {
                                tr {
                                    th scope="row" { (report_link(&r.report_id)) }
                                    td { (r.site.as_deref().unwrap_or(NO_SITE)) }
                                    td { code title=(r.agent_id) { (short(&r.agent_id)) } }
                                    td { (time_ms(r.received_at)) }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
