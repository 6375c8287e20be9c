//! The watched products: a board of approved products × sites (green, watching, regressed,
//! silent, from each watch's latest decided round), each cell linking to that site on the
//! product's page; and a product's page — its schedule, alerts with cause and owner, the latest
//! round's standings per site and requirement (each linking to the devices' evidence), and the
//! rounds before.

use std::collections::{BTreeMap, BTreeSet};

use axum::extract::{Path, State};
use maud::{Markup, html};

use super::layout::{Frame, Section, page};
use super::recommendation::{Place, cell_href};
use super::{Page, PageError, Viewer, encode};
use crate::api::watches::{detail_of, list_of};
use crate::edge::state::AppState;
use crate::types::{RoundInfo, WatchDetail, WatchInfo};
use fitcheck_core::requirement::RequirementId;

/// How a site stands in a round: its worst requirement.
fn site_standing(round: &RoundInfo, site: &str) -> &'static str {
    let rank = |s: &str| match s {
        "regressed" => 3,
        "watching" => 2,
        "silent" => 1,
        _ => 0,
    };
    let worst = round
        .standings
        .iter()
        .filter(|s| s.site == site)
        .map(|s| s.standing.as_str())
        .max_by_key(|s| rank(s))
        .unwrap_or("silent");
    match worst {
        "regressed" => "regressed",
        "watching" => "watching",
        "green" => "green",
        _ => "silent",
    }
}

/// `GET /watches`: the board.
pub async fn board(State(state): State<AppState>, viewer: Viewer) -> Result<Page, PageError> {
    let watches = list_of(&state)
        .await
        .map_err(|e| PageError::from(e).for_user(&viewer.user))?;
    let sites: BTreeSet<String> = watches
        .iter()
        .filter_map(|w| w.last_round.as_ref())
        .flat_map(|r| r.standings.iter().map(|s| s.site.clone()))
        .collect();
    let body = html! {
        h1 { "Watched products" }
        p { "Each approved product is checked again on its schedule by the agents in its scope; a requirement that passed at approval and now fails on enough agents for two rounds in a row is a regression." }
        @if watches.is_empty() {
            p.muted { "No product is watched yet. An administrator watches a product once Business, Curriculum and Technology have approved it." }
        } @else {
            table {
                caption { "Approved products by site, as of each product's latest round" }
                thead { tr {
                    th scope="col" { "Product" }
                    @for s in &sites { th scope="col" { (s) } }
                    th scope="col" { "Open alerts" }
                } }
                tbody {
                    @for w in &watches { (board_row(w, &sites)) }
                }
            }
        }
    };
    Ok(Page::ok(page(
        Frame {
            title: "Watched products",
            user: Some(&viewer.user),
            section: Section::Watches,
            refresh_s: Some(60),
        },
        body,
    )))
}

fn board_row(w: &WatchInfo, sites: &BTreeSet<String>) -> Markup {
    let eid = encode(&w.evaluation_id);
    html! {
        tr {
            th scope="row" { a href={ "/watches/" (eid) } { (w.product) } br; span.muted { (w.title) } }
            @for s in sites {
                @let standing = w.last_round.as_ref().map_or("silent", |r| site_standing(r, s));
                td class=(standing) {
                    a href={ "/watches/" (eid) "#site-" (encode(s)) } { (standing) }
                }
            }
            td { (w.open_alerts) }
        }
    }
}

/// `GET /watches/{id}`: one watched product's history.
pub async fn product(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Page, PageError> {
    let d = detail_of(&state, &id)
        .await
        .map_err(|e| PageError::from(e).for_user(&viewer.user))?;
    let title = format!("{} — watched", d.watch.product);
    let body = html! {
        p.crumbs { a href="/watches" { "Watched products" } " / " }
        h1 { (title) }
        p {
            "Checked on " code { (d.watch.schedule) } " (" (d.watch.zone) "); next round " (d.watch.next_round_at) ". "
            (d.watch.watched) " site and requirement pairs passed at approval and are watched."
            @if !d.watch.maintenance.is_empty() {
                " Maintenance windows: " (d.watch.maintenance.join("; ")) "."
            }
            " " a href={ "/evaluations/" (encode(&id)) } { "The approved evaluation" }
        }
        (alerts_section(&d))
        @if let Some(r) = d.rounds.iter().find(|r| r.decided_at.is_some()) {
            (standings_section(&id, r))
        }
        (rounds_section(&d))
    };
    Ok(Page::ok(page(
        Frame {
            title: &title,
            user: Some(&viewer.user),
            section: Section::Watches,
            refresh_s: Some(60),
        },
        body,
    )))
}

/// The alerts, open ones first: cause and owner, where, since when.
fn alerts_section(d: &WatchDetail) -> Markup {
    let mut alerts: Vec<_> = d.alerts.iter().collect();
    alerts.sort_by_key(|a| a.resolved_at.is_some());
    html! {
        section {
            h2 { "Alerts" }
            @if alerts.is_empty() {
                p.muted { "No regression so far." }
            } @else {
                table {
                    thead { tr {
                        th scope="col" { "Site" }
                        th scope="col" { "Requirement" }
                        th scope="col" { "What happened" }
                        th scope="col" { "Who acts" }
                        th scope="col" { "Opened" }
                        th scope="col" { "Resolved" }
                    } }
                    tbody {
                        @for a in alerts {
                            tr {
                                td { (a.site) }
                                td { code { (a.requirement) } }
                                td { (a.summary) }
                                td { (a.owner) }
                                td { (a.opened_at) }
                                td { @match &a.resolved_at { Some(t) => (t), None => strong { "open" } } }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The latest decided round's standing of every watched requirement, site by site, each
/// linking to what the devices there saw.
fn standings_section(id: &str, r: &RoundInfo) -> Markup {
    let mut by_site: BTreeMap<&str, Vec<&crate::types::Standing>> = BTreeMap::new();
    for s in &r.standings {
        by_site.entry(s.site.as_str()).or_default().push(s);
    }
    html! {
        section {
            h2 { "Latest round" }
            p.muted { "Started " (r.started_at) @if r.maintenance { " (in a maintenance window: recorded, not alerted on)" } "." }
            @for (site, rows) in by_site {
                h3 id={ "site-" (encode(site)) } { (site) }
                ul {
                    @for s in rows {
                        li {
                            a href=(cell_href(id, &RequirementId::parse(&s.requirement), Place::Site(site))) { code { (s.requirement) } }
                            ": " (s.standing)
                        }
                    }
                }
            }
        }
    }
}

/// Every round shown, newest first, with how many requirements stood how.
fn rounds_section(d: &WatchDetail) -> Markup {
    html! {
        section {
            h2 { "Rounds" }
            table {
                thead { tr {
                    th scope="col" { "Started" }
                    th scope="col" { "Decided" }
                    th scope="col" { "Green" }
                    th scope="col" { "Watching" }
                    th scope="col" { "Regressed" }
                    th scope="col" { "Silent" }
                } }
                tbody {
                    @for r in &d.rounds {
                        @let count = |w: &str| r.standings.iter().filter(|s| s.standing == w).count();
                        tr {
                            td { (r.started_at) @if r.maintenance { " (maintenance)" } }
                            td { @match &r.decided_at { Some(t) => (t), None => "under way" } }
                            td { (count("green")) }
                            td { (count("watching")) }
                            td { (count("regressed")) }
                            td { (count("silent")) }
                        }
                    }
                }
            }
        }
    }
}
