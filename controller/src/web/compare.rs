//! Two runs of one evaluation side by side: the verdict before and after, the conditions
//! resolved, new and remaining, and the matrix cells that changed. The comparison itself is
//! [`super::diff`].

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use maud::{Markup, html};
use serde::Deserialize;

use super::evaluations::{other_runs, row_or_404};
use super::layout::{Frame, Section, page as frame, status, time_ms, verdict_chip};
use super::recommendation::{Place, Titles, cell_href};
use super::{Page, PageError, Viewer, encode};
use crate::clock;
use crate::edge::error::Failure;
use crate::edge::state::AppState;
use crate::evaluation::dossier;
use crate::store::{EvaluationRow, ProfileRow};
use fitcheck_engine::diff::{CellPlace, Comparison, compare};
use fitcheck_engine::{Condition, Recommendation};

#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    with: Option<String>,
}

fn status_or_none(s: Option<fitcheck_core::evaluate::Status>) -> Markup {
    match s {
        Some(s) => status(s),
        None => html! { span.muted { "no cell" } },
    }
}

fn condition_line(c: &Condition) -> Markup {
    html! {
        (c.action)
        " "
        @if c.required { span.need.required { "Required" } } @else { span.need.recommended { "Recommended" } }
    }
}

fn run_facts(row: &EvaluationRow, r: &Recommendation, label: &str) -> Markup {
    let devices: u32 = r.coverage.iter().map(|c| c.devices_reported).sum();
    let required = r.conditions.iter().filter(|c| c.required).count();
    html! {
        div.run {
            h3 { (label) }
            p { a href={ "/evaluations/" (encode(&row.id)) "/recommendation" } { (row.title) } }
            dl.facts {
                dt { "Started" } dd { (time_ms(row.created_at)) }
                dt { "Verdict" } dd { (verdict_chip(r.verdict)) }
                dt { "Devices reported" } dd { (devices) }
                dt { "Required actions" } dd { (required) }
            }
        }
    }
}

fn render(
    before: (&EvaluationRow, &Recommendation),
    after: (&EvaluationRow, &Recommendation),
    c: &Comparison,
    titles: &Titles,
    profile_changed: bool,
) -> Markup {
    let product = &after.1.evaluation.product;
    html! {
        p.crumbs { a href="/evaluations" { "Evaluations" } " / " a href={ "/evaluations/" (encode(&after.0.id)) } { (after.0.title) } " / " }
        h1 { (product) span.h1-sub { " — before and after" } }
        p.lede { "Two runs of the same profile, the earlier one first. Conditions are matched by what they are about, so a fix at some of the sites shows as a condition that remains, now narrower." }
        @if profile_changed {
            div.notice role="note" { p { "The profile file changed between the runs (" code { (before.1.evaluation.profile_digest) } " → " code { (after.1.evaluation.profile_digest) } "); requirements only one of them has show as cells that appeared or disappeared." } }
        }
        div.runs {
            (run_facts(before.0, before.1, "Earlier run"))
            (run_facts(after.0, after.1, "Later run"))
        }
        (verdict_change(c))
        (condition_changes(c))
        @if !c.blockers_resolved.is_empty() || !c.blockers_new.is_empty() {
            (blocker_changes(c, titles))
        }
        (cell_changes(&before.0.id, &after.0.id, c, titles))
        @if c.gaps_before != c.gaps_after {
            (gap_changes(c))
        }
    }
}

/// The verdict of the earlier run beside the later one's.
fn verdict_change(c: &Comparison) -> Markup {
    html! {
        section aria-labelledby="verdict-change-h" {
            h2 id="verdict-change-h" { "Verdict" }
            p.verdict-change {
                (verdict_chip(c.verdict_before)) " " span aria-hidden="true" { "→" } span.visually-hidden { " became " } " " (verdict_chip(c.verdict_after))
                @if c.verdict_before == c.verdict_after { " " span.muted { "(unchanged)" } }
            }
        }
    }
}

/// The conditions resolved, the new ones, and those that remain, each as its own section.
fn condition_changes(c: &Comparison) -> Markup {
    html! {
        section aria-labelledby="resolved-h" {
            h2 id="resolved-h" { "Conditions resolved (" (c.resolved.len()) ")" }
            @if c.resolved.is_empty() { p { "None." } } @else {
                ul.changes { @for x in &c.resolved { li.better { span.sym aria-hidden="true" { "✓" } " " (condition_line(x)) } } }
            }
        }
        section aria-labelledby="new-h" {
            h2 id="new-h" { "New conditions (" (c.new.len()) ")" }
            @if c.new.is_empty() { p { "None." } } @else {
                ul.changes { @for x in &c.new { li.worse { span.sym aria-hidden="true" { "+" } " " (condition_line(x)) } } }
            }
        }
        section aria-labelledby="remaining-h" {
            h2 id="remaining-h" { "Conditions remaining (" (c.remaining.len()) ")" }
            @if c.remaining.is_empty() { p { "None." } } @else {
                ul.changes {
                    @for x in &c.remaining {
                        li.same {
                            (condition_line(&x.after))
                            @if x.before.action != x.after.action {
                                br; span.muted.small { "was: " (x.before.action) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The requirements that stopped blocking and those that now block.
fn blocker_changes(c: &Comparison, titles: &Titles) -> Markup {
    html! {
        section aria-labelledby="blockers-h" {
            h2 id="blockers-h" { "Blockers" }
            ul {
                @for b in &c.blockers_resolved { li { "No longer blocking: " (titles.title(b)) " " code.muted { (b) } } }
                @for b in &c.blockers_new { li { "Now blocking: " (titles.title(b)) " " code.muted { (b) } } }
            }
        }
    }
}

/// The matrix cells whose status changed, each linked to its drill-down in either run.
fn cell_changes(before_id: &str, after_id: &str, c: &Comparison, titles: &Titles) -> Markup {
    html! {
        section aria-labelledby="cells-h" {
            h2 id="cells-h" { "Cells that changed (" (c.cells.len()) ")" }
            @if c.cells.is_empty() { p { "No site or device model changed status." } } @else {
                div.scroll {
                    table {
                        caption { "Site × requirement and model × requirement cells whose status differs" }
                        thead { tr {
                            th scope="col" { "Requirement" }
                            th scope="col" { "Where" }
                            th scope="col" { "Earlier" }
                            th scope="col" { "Later" }
                            th scope="col" { "Change" }
                        } }
                        tbody {
                            @for x in &c.cells {
                                @let place = match &x.place { CellPlace::Site(s) => Place::Site(s), CellPlace::Model(m) => Place::Model(m) };
                                tr {
                                    th scope="row" { (titles.title(&x.requirement)) br; code.muted { (x.requirement) } }
                                    td { @match &x.place { CellPlace::Site(s) => { "site " (s) }, CellPlace::Model(m) => { "model " (m) } } }
                                    td {
                                        @if x.before.is_some() { a href=(cell_href(before_id, &x.requirement, place)) { (status_or_none(x.before)) } }
                                        @else { (status_or_none(x.before)) }
                                    }
                                    td {
                                        @if x.after.is_some() { a href=(cell_href(after_id, &x.requirement, place)) { (status_or_none(x.after)) } }
                                        @else { (status_or_none(x.after)) }
                                    }
                                    td { @if x.improved() { span.better { "Better" } } @else { span.worse { "Worse or new" } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The evidence each run was missing, side by side.
fn gap_changes(c: &Comparison) -> Markup {
    html! {
        section aria-labelledby="gaps-h" {
            h2 id="gaps-h" { "Evidence missing" }
            div.runs {
                div.run { h3 { "Earlier run" } @if c.gaps_before.is_empty() { p { "Nothing missing." } } ul { @for g in &c.gaps_before { li { (g) } } } }
                div.run { h3 { "Later run" } @if c.gaps_after.is_empty() { p { "Nothing missing." } } ul { @for g in &c.gaps_after { li { (g) } } } }
            }
        }
    }
}

/// `GET /evaluations/{id}/compare?with={other}`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    query: Result<Query<CompareQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Page, PageError> {
    let user = &viewer.user;
    let fail = |e: Failure| PageError::from(e).for_user(user);
    let Query(q) = query.map_err(|e| {
        PageError::bad_request(format!("The address is not one this page reads: {e}."))
            .for_user(user)
    })?;
    let this = row_or_404(&state, &id).await.map_err(fail)?;
    let this_profile = crate::evaluation::scope::profile_of(&state.store, &this)
        .await
        .map_err(fail)?;
    let Some(other_id) = q.with.filter(|w| !w.is_empty()) else {
        // No second run named: offer the runs of the same profile.
        let runs = other_runs(&state, &this.id, &this_profile.profile_id)
            .await
            .map_err(fail)?;
        return Ok(Page::ok(frame(
            Frame {
                title: "Compare runs",
                user: Some(user),
                section: Section::Evaluations,
                refresh_s: None,
            },
            choose_run(&this, &this_profile, &runs),
        )));
    };
    if other_id == this.id {
        return Err(PageError::bad_request(
            "An evaluation compared with itself shows no change; choose another run.",
        )
        .for_user(user));
    }
    let other = row_or_404(&state, &other_id).await.map_err(fail)?;
    let other_profile = crate::evaluation::scope::profile_of(&state.store, &other)
        .await
        .map_err(fail)?;
    if other_profile.profile_id != this_profile.profile_id {
        return Err(
            different_products((&this, &this_profile), (&other, &other_profile)).for_user(user),
        );
    }
    let (earlier, later) = if (other.created_at, &other.id) < (this.created_at, &this.id) {
        (other, this)
    } else {
        (this, other)
    };
    let ((r_before, before_digest), (r_after, after_digest)) =
        judge_both(&state, &earlier.id, &later.id)
            .await
            .map_err(fail)?;
    let mut titles = Titles::of(&r_after);
    if titles.is_empty() {
        titles = Titles::of(&r_before);
    }
    let c = compare(&r_before, &r_after);
    let changed = before_digest != after_digest;
    let title = format!("{} — before and after", r_after.evaluation.product);
    Ok(Page::ok(frame(
        Frame {
            title: &title,
            user: Some(user),
            section: Section::Evaluations,
            refresh_s: None,
        },
        render(
            (&earlier, &r_before),
            (&later, &r_after),
            &c,
            &titles,
            changed,
        ),
    )))
}

/// The form that picks a second run of the same profile, or a line saying there is none.
fn choose_run(this: &EvaluationRow, this_profile: &ProfileRow, runs: &[EvaluationRow]) -> Markup {
    html! {
        p.crumbs { a href="/evaluations" { "Evaluations" } " / " a href={ "/evaluations/" (encode(&this.id)) } { (this.title) } " / " }
        h1 { "Compare runs" }
        @if runs.is_empty() {
            p { "There is no other evaluation of " (this_profile.name) " to compare with. Start a second run of the same profile (for example after a fix) and come back." }
        } @else {
            form.stack method="get" action={ "/evaluations/" (encode(&this.id)) "/compare" } {
                div.field {
                    label for="with" { "Compare " strong { (this.title) } " with" }
                    select id="with" name="with" {
                        @for r in runs { option value=(r.id) { (r.title) " — " (clock::rfc3339(r.created_at)) } }
                    }
                }
                button.primary type="submit" { "Compare" }
            }
        }
    }
}

/// The refusal to compare two evaluations that run different profiles.
fn different_products(
    (this, this_profile): (&EvaluationRow, &ProfileRow),
    (other, other_profile): (&EvaluationRow, &ProfileRow),
) -> PageError {
    PageError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        format!(
            "These evaluations test different products: “{}” runs profile {} ({}) and “{}” runs profile {} ({}). A comparison needs two runs of the same profile.",
            this.title,
            this_profile.profile_id,
            this_profile.name,
            other.title,
            other_profile.profile_id,
            other_profile.name
        ),
    )
}

/// Both runs read and judged: each one's recommendation and its profile's digest.
async fn judge_both(
    state: &AppState,
    earlier: &str,
    later: &str,
) -> Result<((Recommendation, String), (Recommendation, String)), Failure> {
    let now = clock::rfc3339(clock::now_ms());
    // The two runs are read and judged at once, each on its own task (a core each), and each
    // dossier is let go as soon as its recommendation is written.
    let written = |id: String| {
        let (store, catalog, now) = (state.store.clone(), state.catalog.clone(), now.clone());
        tokio::spawn(async move {
            let d = dossier::load(&store, &catalog, &id).await?;
            Ok::<_, Failure>((d.recommend(&now), d.stored.digest))
        })
    };
    let (before, after) = (written(earlier.to_owned()), written(later.to_owned()));
    let joined = |r: Result<_, tokio::task::JoinError>| {
        r.map_err(|e| Failure::internal(format!("a run could not be read: {e}")))
            .and_then(|r| r)
    };
    let r_before = joined(before.await)?;
    let r_after = joined(after.await)?;
    Ok((r_before, r_after))
}
