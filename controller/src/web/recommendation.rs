//! The recommendation page the review committee reads, its throughput chart, and its exports.
//! Everything shown is the engine's [`Recommendation`]; this module only lays it out.

use std::collections::BTreeMap;
use std::fmt::Write;

use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use fitcheck_core::evaluate::Status;
use fitcheck_core::requirement::RequirementId;
use maud::{Markup, html};

use super::layout::{
    Frame, Section, page as frame, report_link, short, status, status_parts, time_text,
    verdict_parts,
};
use super::{Page, PageError, Viewer, encode};
use crate::clock;
use crate::edge::state::AppState;
use crate::evaluation::dossier;
use crate::store::UserRow;
use fitcheck_engine::{
    Cell, Condition, ConditionKind, DataSection, ElementStatus, Recommendation, SiteThroughput,
};

/// Requirement id → (title, expected), in profile order.
#[derive(Debug, Default)]
pub struct Titles {
    order: Vec<RequirementId>,
    by_id: BTreeMap<RequirementId, (String, String)>,
}

impl Titles {
    /// Titles as the profile words them, as the recommendation carries them.
    pub fn of(r: &Recommendation) -> Titles {
        let mut t = Titles::default();
        for q in &r.requirements {
            t.order.push(q.id.clone());
            t.by_id
                .insert(q.id.clone(), (q.title.clone(), q.expected.clone()));
        }
        t
    }

    /// Whether the recommendation named no requirement to take titles from.
    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The requirement's title, or its id where the profile has none.
    pub fn title(&self, id: &RequirementId) -> String {
        self.by_id
            .get(id)
            .map_or_else(|| id.to_string(), |(t, _)| t.clone())
    }

    pub fn expected(&self, id: &RequirementId) -> Option<&str> {
        self.by_id.get(id).map(|(_, e)| e.as_str())
    }

    fn rank(&self, id: &RequirementId) -> usize {
        self.order
            .iter()
            .position(|o| o == id)
            .unwrap_or(usize::MAX)
    }
}

/// Where a cell is: a site (network requirements) or a device model.
#[derive(Debug, Clone, Copy)]
pub enum Place<'a> {
    Site(&'a str),
    Model(&'a str),
}

/// The drill-down page behind one cell.
pub fn cell_href(evaluation_id: &str, requirement: &RequirementId, place: Place<'_>) -> String {
    let (key, value) = match place {
        Place::Site(s) => ("site", s),
        Place::Model(m) => ("model", m),
    };
    format!(
        "/evaluations/{}/cells?requirement={}&{key}={}",
        encode(evaluation_id),
        encode(&requirement.to_string()),
        encode(value)
    )
}

fn cell_words(c: &Cell) -> String {
    let total = c.pass + c.warn + c.fail + c.unknown;
    match c.status {
        Status::Pass => format!("{} of {total} pass", c.pass),
        Status::Fail => format!("{} of {total} fail", c.fail),
        Status::Warn => format!("{} of {total} below", c.warn),
        Status::Unknown => format!("{total} not measured"),
    }
}

/// A matrix cell: status and counts, linking to the devices behind it.
fn cell(
    evaluation_id: &str,
    requirement: &RequirementId,
    place: Place<'_>,
    c: Option<&Cell>,
) -> Markup {
    match c {
        None => {
            html! { td.cell.none { span aria-hidden="true" { "—" } span.visually-hidden { "no report" } } }
        }
        Some(c) => {
            let (class, symbol, words) = status_parts(c.status);
            html! {
                td class={ "cell " (class) } {
                    a href=(cell_href(evaluation_id, requirement, place)) {
                        span.word { span aria-hidden="true" { (symbol) } " " (words) }
                        span.count { (cell_words(c)) }
                    }
                }
            }
        }
    }
}

fn mbps(v: Option<f64>) -> String {
    match v {
        None => "—".to_owned(),
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
    }
}

fn kind_words(k: ConditionKind) -> &'static str {
    match k {
        ConditionKind::FilterAllow => "Web or DNS filter",
        ConditionKind::InspectionBypass => "TLS inspection",
        ConditionKind::FirewallRule => "Firewall",
        ConditionKind::DeviceUpgrade => "Devices",
        ConditionKind::UplinkCapacity => "Uplink capacity",
        ConditionKind::NetworkPath => "Network path",
        ConditionKind::Investigate => "Investigate",
        ConditionKind::DataComplete => "SIS data",
        ConditionKind::DataAdd => "SIS export",
        ConditionKind::DataFormat => "Export format",
        ConditionKind::DataMinimise => "Data minimisation",
        ConditionKind::DataAgreement => "Data agreement",
    }
}

/// One condition as a checklist item.
pub fn condition_item(evaluation_id: &str, c: &Condition, titles: &Titles) -> Markup {
    let first_req = c.requirements.first();
    html! {
        li.condition {
            span.box aria-hidden="true" {}
            div.body {
                p.action { (c.action) }
                p.tags {
                    @if c.required {
                        span.need.required { "Required" }
                    } @else {
                        span.need.recommended { "Recommended" }
                    }
                    " "
                    span.kind { (kind_words(c.kind)) }
                    " · " span.fix { (c.fix.words()) }
                    " · Owner: " strong { (c.owner) }
                }
                dl.meta {
                    @if !c.sites.is_empty() {
                        dt { "Sites" }
                        dd {
                            @for (i, s) in c.sites.iter().enumerate() {
                                @if i > 0 { ", " }
                                @if let Some(req) = first_req {
                                    a href=(cell_href(evaluation_id, req, Place::Site(s))) { (s) }
                                } @else { (s) }
                            }
                        }
                    }
                    @if c.kind == ConditionKind::DeviceUpgrade && !c.items.is_empty() {
                        dt { "Models" }
                        dd {
                            @for (i, m) in c.items.iter().enumerate() {
                                @if i > 0 { ", " }
                                @if let Some(req) = first_req {
                                    a href=(cell_href(evaluation_id, req, Place::Model(m))) { (m) }
                                } @else { (m) }
                            }
                            @if let Some(n) = c.devices { " (" (n) " device(s) sampled)" }
                        }
                    } @else if !c.items.is_empty() {
                        dt { "What" }
                        dd { @for (i, item) in c.items.iter().enumerate() { @if i > 0 { ", " } code { (item) } } }
                    }
                    @if let Some(s) = &c.seen {
                        dt { "Seen" } dd { (s) }
                    }
                    dt { "Requirements" }
                    dd { @for (i, r) in c.requirements.iter().enumerate() { @if i > 0 { ", " } (titles.title(r)) " " code.muted { (r) } } }
                }
                @if !c.evidence.is_empty() {
                    div.evidence {
                        p.small { strong { "Evidence" } " (" (c.evidence.len()) " report(s))" }
                        ul {
                            @for e in &c.evidence {
                                li {
                                    (report_link(&e.report_id)) " · " (e.site)
                                    @if !e.observed.is_empty() { " — " span.observed { (e.observed) } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn nice_step(max: f64) -> f64 {
    let raw = (max / 4.0).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    let n = raw / magnitude;
    let f = if n <= 1.0 {
        1.0
    } else if n <= 2.0 {
        2.0
    } else if n <= 5.0 {
        5.0
    } else {
        10.0
    };
    f * magnitude
}

/// A scale tick: whole numbers without decimals.
fn tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

/// Direction of a throughput chart.
#[derive(Debug, Clone, Copy)]
enum Direction {
    Download,
    Upload,
}

impl Direction {
    fn figures(self, t: &SiteThroughput) -> (Option<f64>, Option<f64>) {
        match self {
            Direction::Download => (t.download_measured_mbps, t.download_needed_mbps),
            Direction::Upload => (t.upload_measured_mbps, t.upload_needed_mbps),
        }
    }
    fn word(self) -> &'static str {
        match self {
            Direction::Download => "Download",
            Direction::Upload => "Upload",
        }
    }
    fn key(self) -> &'static str {
        match self {
            Direction::Download => "down",
            Direction::Upload => "up",
        }
    }
}

/// One direction's bars: per site, the capacity measured and the capacity the planned users
/// need, on one scale. Short bars are hatched as well as red, so colour is never the only cue.
fn bar_chart(throughput: &[SiteThroughput], dir: Direction) -> Option<Markup> {
    let rows: Vec<(&SiteThroughput, Option<f64>, Option<f64>)> = throughput
        .iter()
        .map(|t| {
            let (m, n) = dir.figures(t);
            (t, m, n)
        })
        .filter(|(_, m, n)| m.is_some() || n.is_some())
        .collect();
    if rows.is_empty() {
        return None;
    }
    let max = rows
        .iter()
        .flat_map(|(_, m, n)| [m.unwrap_or(0.0), n.unwrap_or(0.0)])
        .fold(0.0f64, f64::max)
        .max(1.0);
    let step = nice_step(max);
    let top = (max / step).ceil() * step;
    let (label_w, x0, bar_w, bar_h, gap) = (118.0, 128.0, 400.0, 17.0, 3.0);
    let group_h = 2.0 * bar_h + gap + 18.0;
    let head = 8.0;
    let height = head + group_h * rows.len() as f64 + 28.0;
    let width = 680.0;
    let x = |v: f64| x0 + bar_w * (v / top).clamp(0.0, 1.0);
    let id = dir.key();
    let mut desc = String::new();
    for (t, m, n) in &rows {
        let _ = write!(
            desc,
            "{}: {} Mbit/s measured, {} Mbit/s needed for {} users{}. ",
            t.site,
            mbps(*m),
            mbps(*n),
            t.users,
            match (m, n) {
                (Some(m), Some(n)) if m < n => " (short)",
                (Some(_), Some(_)) => " (enough)",
                _ => "",
            }
        );
    }
    let ticks: Vec<f64> = (0..=((top / step).round() as u32))
        .map(|i| f64::from(i) * step)
        .collect();
    let title_id = format!("chart-{id}-title");
    let desc_id = format!("chart-{id}-desc");
    Some(html! {
        svg.chart viewBox={ "0 0 " (width) " " (height) } role="img"
            aria-labelledby={ (title_id) " " (desc_id) } xmlns="http://www.w3.org/2000/svg" {
            title id=(title_id) { (dir.word()) " throughput by site: measured against needed (Mbit/s)" }
            desc id=(desc_id) { (desc) }
            defs {
                pattern id={ "hatch-" (id) } width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)" {
                    rect width="6" height="6" fill="#b3261e" {}
                    line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2.5" {}
                }
            }
            @for tk in &ticks {
                line x1=(x(*tk)) x2=(x(*tk)) y1=(head - 4.0) y2=(height - 22.0) stroke="#d0d4da" stroke-width="1" {}
                text x=(x(*tk)) y=(height - 8.0) font-size="12" text-anchor="middle" fill="#3b4049" { (tick(*tk)) }
            }
            text x=(x0 + bar_w) y=(height - 8.0) font-size="12" text-anchor="start" dx="16" fill="#3b4049" { "Mbit/s" }
            @for (i, (t, m, n)) in rows.iter().enumerate() {
                @let y = head + group_h * i as f64;
                @let short_of = matches!((m, n), (Some(m), Some(n)) if m < n);
                text x=(label_w) y=(y + bar_h + 2.0) font-size="14" font-weight="600" text-anchor="end" fill="#1b1f24" { (t.site) }
                text x=(label_w) y=(y + 2.0 * bar_h + gap + 1.0) font-size="12" text-anchor="end" fill="#3b4049" { (t.users) " users" }
                @if let Some(m) = m {
                    rect x=(x0) y=(y) width=((x(*m) - x0).max(1.0)) height=(bar_h)
                        fill=(if short_of { format!("url(#hatch-{id})") } else { "#1e6b34".to_owned() }) {}
                    text x=(x(*m) + 6.0) y=(y + bar_h - 4.0) font-size="13" fill="#1b1f24" {
                        (mbps(Some(*m))) " measured" @if short_of { " — short" }
                    }
                } @else {
                    text x=(x0 + 4.0) y=(y + bar_h - 4.0) font-size="13" fill="#3b4049" { "not measured" }
                }
                @if let Some(n) = n {
                    rect x=(x0) y=(y + bar_h + gap) width=((x(*n) - x0).max(1.0)) height=(bar_h)
                        fill="#e4e7eb" stroke="#59606b" stroke-width="1" stroke-dasharray="4 2" {}
                    text x=(x(*n) + 6.0) y=(y + 2.0 * bar_h + gap - 4.0) font-size="13" fill="#3b4049" { (mbps(Some(*n))) " needed" }
                }
            }
        }
    })
}

/// The throughput figure: a chart per direction, a legend, and the same figures as a table.
pub fn throughput_section(r: &Recommendation) -> Markup {
    let charts: Vec<(Direction, Markup)> = [Direction::Download, Direction::Upload]
        .into_iter()
        .filter_map(|d| bar_chart(&r.throughput, d).map(|m| (d, m)))
        .collect();
    html! {
        figure.throughput {
            div.charts {
                @for (d, chart) in &charts {
                    div.chart-box {
                        p.chart-title { (d.word()) }
                        (chart)
                    }
                }
            }
            ul.legend aria-label="Legend" {
                li { span.key.k-enough aria-hidden="true" {} "Measured, enough for the planned users" }
                li { span.key.k-short aria-hidden="true" {} "Measured, short of the need (hatched)" }
                li { span.key.k-needed aria-hidden="true" {} "Needed: planned users × the profile's Mbit/s per user" }
            }
            figcaption { "Uplink capacity per site, measured against what the planned concurrent users need. The table below gives the same figures." }
        }
        div.scroll {
            table.throughput-table {
                caption { "Uplink capacity by site (Mbit/s)" }
                thead { tr {
                    th scope="col" { "Site" }
                    th scope="col" class="num" { "Planned users" }
                    th scope="col" class="num" { "Download measured" }
                    th scope="col" class="num" { "Download needed" }
                    th scope="col" class="num" { "Upload measured" }
                    th scope="col" class="num" { "Upload needed" }
                    th scope="col" { "How measured" }
                    th scope="col" class="num" { "Users it carries" }
                    th scope="col" { "Result" }
                } }
                tbody {
                    @for t in &r.throughput {
                        tr {
                            th scope="row" { (t.site) }
                            td.num { (t.users) }
                            td.num { (mbps(t.download_measured_mbps)) }
                            td.num { (mbps(t.download_needed_mbps)) }
                            td.num { (mbps(t.upload_measured_mbps)) }
                            td.num { (mbps(t.upload_needed_mbps)) }
                            td {
                                @if let Some(d) = &t.download { "download: " (crate::present::render::direction_words(d)) }
                                @if t.download.is_some() && t.upload.is_some() { br; }
                                @if let Some(d) = &t.upload { "upload: " (crate::present::render::direction_words(d)) }
                                @if t.download.is_none() && t.upload.is_none() { "not measured" }
                            }
                            td.num { (t.max_users.map_or("—".to_owned(), |n| n.to_string())) }
                            td { (status(t.status)) }
                        }
                    }
                }
            }
        }
    }
}

/// Which exports the page links to.
#[derive(Debug, Clone, Copy)]
pub struct Exports {
    pub pdf: bool,
}

/// The whole recommendation page.
pub fn render(r: &Recommendation, titles: &Titles, user: &UserRow, exports: Exports) -> Markup {
    let (title, body) = content(r, titles, Some(exports));
    frame(
        Frame {
            title: &title,
            user: Some(user),
            section: Section::Evaluations,
            refresh_s: None,
        },
        body,
    )
}

/// The recommendation as one self-contained HTML file (the stylesheet inline, no scripts),
/// for the committee packet: `fitcheck-controller report --format html`. Its links (drill-downs,
/// reports) are relative to the controller; with `base_url` they lead to it.
pub fn standalone(r: &Recommendation, titles: &Titles, base_url: Option<&str>) -> String {
    let (title, body) = content(r, titles, None);
    html! {
        (maud::DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                @if let Some(base) = base_url {
                    base href=(base);
                }
                title { (title) " — fitcheck" }
                style { (maud::PreEscaped(super::STYLESHEET)) }
            }
            body {
                main id="main" { (body) }
            }
        }
    }
    .into_string()
}

/// The page's title and body; `exports` None leaves out the download links (a file has no
/// server beside it).
fn content(r: &Recommendation, titles: &Titles, exports: Option<Exports>) -> (String, Markup) {
    let e = &r.evaluation;
    let eid = encode(&e.id);
    let title = format!("{} — technology recommendation", e.product);
    let body = html! {
        p.crumbs { a href="/evaluations" { "Evaluations" } " / " a href={ "/evaluations/" (eid) } { (e.title) } " / " }
        h1 { (e.product) span.h1-sub { " — technology recommendation" } }
        p.lede { "For the review committee: whether " (e.product) " works on the district's devices and network, and what must change first. Written " (time_text(&r.generated_at)) " from the reports agents sent." }
        @if let Some(exports) = exports {
            (export_links(&eid, exports))
        }
        (verdict_section(r))
        (contents_nav(r))
        (proposal_section(r, &eid))
        @if !r.blockers.is_empty() {
            (blockers_section(r))
        }
        @if !r.gaps.is_empty() {
            section.gaps aria-labelledby="gaps-h" {
                h2 id="gaps-h" { "Evidence still missing" }
                ul { @for g in &r.gaps { li { (g) } } }
            }
        }
        (conditions_section(r, titles))
        (coverage_section(r))
        @if !r.matrix.is_empty() {
            (matrix_section(r))
        }
        @if !r.device_models.is_empty() {
            (models_section(r, titles))
        }
        @if !r.throughput.is_empty() {
            section aria-labelledby="throughput-h" {
                h2 id="throughput-h" { "Uplink capacity" }
                (throughput_section(r))
            }
        }
        @if let Some(d) = &r.data {
            (data_section(&eid, d, &r.conditions, exports.is_some()))
        }
        @if !r.notes.is_empty() {
            section aria-labelledby="notes-h" {
                h2 id="notes-h" { "What the checks cannot see" }
                ul { @for n in &r.notes { li { (n) } } }
            }
        }
        (sources_section(r))
    };
    (title, body)
}

/// The download links: Markdown and JSON, and PDF where the server can make one.
fn export_links(eid: &str, exports: Exports) -> Markup {
    html! {
        nav.exports aria-label="Exports" {
            span { "Download: " }
            a href={ "/evaluations/" (eid) "/recommendation.md" } { "Markdown (.md)" }
            " · "
            a href={ "/evaluations/" (eid) "/recommendation.json" } { "JSON (.json)" }
            @if exports.pdf {
                " · "
                a href={ "/evaluations/" (eid) "/recommendation.pdf" } { "PDF (.pdf)" }
            }
            span.muted { " · or print this page" }
        }
    }
}

/// The verdict box: the verdict, the summary, and the counts of actions, blockers and devices.
fn verdict_section(r: &Recommendation) -> Markup {
    let (vclass, vsymbol) = verdict_parts(r.verdict);
    let required = r.conditions.iter().filter(|c| c.required).count();
    let recommended = r.conditions.len() - required;
    let devices: u32 = r.coverage.iter().map(|c| c.devices_reported).sum();
    html! {
        section class={ "verdict " (vclass) } aria-labelledby="verdict-h" {
            p.verdict-label { "Verdict" }
            h2 id="verdict-h" { span.symbol aria-hidden="true" { (vsymbol) } " " (r.verdict.words()) }
            p.summary { (r.summary) }
            ul.figures {
                li { strong { (required) } " required action(s)" }
                li { strong { (recommended) } " recommended" }
                li { strong { (r.blockers.len()) } " blocker(s)" }
                li { strong { (devices) } " device(s) at " strong { (r.coverage.iter().filter(|c| c.devices_reported > 0).count()) } " of " (r.coverage.len()) " site(s) reported" }
            }
        }
    }
}

/// The table of contents: a link to each section the page shows.
fn contents_nav(r: &Recommendation) -> Markup {
    html! {
        nav.toc aria-label="On this page" {
            p { "On this page" }
            ol {
                li { a href="#proposal-h" { "The proposal" } }
                @if !r.blockers.is_empty() { li { a href="#blockers-h" { "Why it cannot be used" } } }
                @if !r.gaps.is_empty() { li { a href="#gaps-h" { "Evidence still missing" } } }
                li { a href="#conditions-h" { "Conditions" } }
                li { a href="#coverage-h" { "Coverage" } }
                @if !r.matrix.is_empty() { li { a href="#matrix-h" { "Network requirements by site" } } }
                @if !r.device_models.is_empty() { li { a href="#models-h" { "Devices by model" } } }
                @if !r.throughput.is_empty() { li { a href="#throughput-h" { "Uplink capacity" } } }
                @if r.data.is_some() { li { a href="#data-h" { "Data files" } } }
                @if !r.notes.is_empty() { li { a href="#notes-h" { "What the checks cannot see" } } }
                li { a href="#sources-h" { "Sources" } }
            }
        }
    }
}

/// The proposal: product, sponsor, deadline, budget, data needs, window and profile.
fn proposal_section(r: &Recommendation, eid: &str) -> Markup {
    let e = &r.evaluation;
    let p = &e.proposal;
    html! {
        section aria-labelledby="proposal-h" {
            h2 id="proposal-h" { "The proposal" }
            dl.facts {
                dt { "Product" } dd { (e.product) " — " (e.vendor) }
                dt { "Evaluation" } dd { a href={ "/evaluations/" (eid) } { (e.title) } }
                @if let Some(s) = &p.sponsor { dt { "Sponsor" } dd { (s) } }
                @if let Some(d) = &p.deadline { dt { "Decision needed by" } dd { (d) } }
                @if let Some(b) = &p.budget_code { dt { "Budget code" } dd { (b) } }
                @if !p.data_needs.is_empty() {
                    dt { "Data the product needs" }
                    dd { ul.plain { @for d in &p.data_needs { li { (d) } } } }
                }
                dt { "Window" } dd {
                    @if let Some(s) = &e.window_start { (time_text(s)) } @else { "—" }
                    " to " (time_text(&e.window_end))
                }
                dt { "Profile" } dd { code { (e.profile_id) } " " span.muted.digest { (e.profile_digest) } }
                dt { "Written" } dd { (time_text(&r.generated_at)) }
            }
        }
    }
}

/// The blockers: each requirement that rules the product out, why, and the reports that show it.
fn blockers_section(r: &Recommendation) -> Markup {
    html! {
        section.blockers aria-labelledby="blockers-h" {
            h2 id="blockers-h" { "Why it cannot be used" }
            ul {
                @for b in &r.blockers {
                    li {
                        strong { (b.title) } " " code.muted { (b.requirement) } ": " (b.reason)
                        @if !b.evidence.is_empty() {
                            " — evidence: "
                            @for (i, ev) in b.evidence.iter().enumerate() { @if i > 0 { ", " } (report_link(&ev.report_id)) }
                        }
                    }
                }
            }
        }
    }
}

/// The conditions as a checklist, required actions first, or a line saying there are none.
fn conditions_section(r: &Recommendation, titles: &Titles) -> Markup {
    html! {
        section aria-labelledby="conditions-h" {
            h2 id="conditions-h" { "Conditions" }
            @if r.conditions.is_empty() {
                p { "None: nothing needs to change." }
            } @else {
                p { "What the district does before the product is used, required actions first. Each item names who acts, where, and the reports that show it." }
                ol.checklist {
                    @for c in &r.conditions { (condition_item(&r.evaluation.id, c, titles)) }
                }
            }
        }
    }
}

/// The coverage table: per site, agents in scope, devices that reported, and whether enough did.
fn coverage_section(r: &Recommendation) -> Markup {
    html! {
        section aria-labelledby="coverage-h" {
            h2 id="coverage-h" { "Coverage" }
            table {
                caption { "Devices that reported per site" }
                thead { tr {
                    th scope="col" { "Site" }
                    th scope="col" class="num" { "Agents in scope" }
                    th scope="col" class="num" { "Devices reported" }
                    th scope="col" { "Enough to judge" }
                } }
                tbody {
                    @for c in &r.coverage {
                        tr {
                            th scope="row" { (c.site) }
                            td.num { (c.agents) }
                            td.num { (c.devices_reported) }
                            td { @if c.enough { span.st.st-pass { span aria-hidden="true" { "✓" } " Yes" } } @else { span.st.st-fail { span aria-hidden="true" { "✗" } " Not yet" } } }
                        }
                    }
                }
            }
        }
    }
}

/// The site × requirement matrix of the network requirements, each cell a drill-down link.
fn matrix_section(r: &Recommendation) -> Markup {
    let e = &r.evaluation;
    let sites: Vec<&str> = r.coverage.iter().map(|c| c.site.as_str()).collect();
    html! {
        section aria-labelledby="matrix-h" {
            h2 id="matrix-h" { "Network requirements by site" }
            p { "Each cell counts the devices of that site; a site fails a requirement when any of its devices fails it, since the network is shared. Open a cell for the devices behind it." }
            div.scroll {
                table.matrix {
                    caption { "Site × requirement" }
                    thead { tr {
                        th scope="col" { "Requirement" }
                        th scope="col" { "Expected" }
                        @for s in &sites { th scope="col" { (s) } }
                    } }
                    tbody {
                        @for row in &r.matrix {
                            tr {
                                th scope="row" {
                                    (row.title)
                                    @if !row.critical { " " span.muted { "(optional)" } }
                                    br; code.muted { (row.requirement) }
                                }
                                td.expected { (row.expected) }
                                @for s in &sites {
                                    (cell(&e.id, &row.requirement, Place::Site(s), row.sites.get(*s)))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The device requirements any model was judged on, in profile order, each once.
fn device_requirements<'a>(r: &'a Recommendation, titles: &Titles) -> Vec<&'a RequirementId> {
    let mut device_reqs: Vec<&RequirementId> = r
        .device_models
        .iter()
        .flat_map(|m| m.requirements.keys())
        .collect();
    device_reqs.sort_by_key(|id| (titles.rank(id), (*id).clone()));
    device_reqs.dedup();
    device_reqs
}

/// The device model × requirement matrix, each cell a drill-down link.
fn models_section(r: &Recommendation, titles: &Titles) -> Markup {
    let e = &r.evaluation;
    let device_reqs = device_requirements(r, titles);
    html! {
        section aria-labelledby="models-h" {
            h2 id="models-h" { "Devices by model" }
            p { "Hardware is judged per model: a model fails a requirement when its devices do." }
            div.scroll {
                table.matrix {
                    caption { "Device model × requirement" }
                    thead { tr {
                        th scope="col" { "Model" }
                        th scope="col" class="num" { "Devices" }
                        th scope="col" { "Sites" }
                        th scope="col" { "Overall" }
                        @for id in &device_reqs {
                            th scope="col" { (titles.title(id)) @if let Some(x) = titles.expected(id) { br; span.muted.small { (x) } } }
                        }
                    } }
                    tbody {
                        @for m in &r.device_models {
                            tr {
                                th scope="row" { (m.model) }
                                td.num { (m.devices) }
                                td { (m.sites.join(", ")) }
                                td { (status(m.status)) }
                                @for id in &device_reqs {
                                    (cell(&e.id, id, Place::Model(&m.model), m.requirements.get(*id)))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The vendor's sources for the requirements, and the evaluation, profile and schema used.
fn sources_section(r: &Recommendation) -> Markup {
    let e = &r.evaluation;
    html! {
        section aria-labelledby="sources-h" {
            h2 id="sources-h" { "Sources" }
            p { "The product's requirements come from the vendor's published documentation:" }
            ul.sources {
                @for s in &e.sources {
                    li {
                        @if s.starts_with("https://") || s.starts_with("http://") {
                            a href=(s) rel="noreferrer" { (s) }
                        } @else { (s) }
                    }
                }
            }
            p.muted.small { "Evaluation " code { (e.id) } " · profile " code { (e.profile_id) } " " (e.profile_digest) " · schema " (r.schema) }
        }
    }
}

/// The data files: the vendor's needs, each element against the district's export, what the
/// export would send beyond them, and the data actions; links to the Data Projects Form.
fn data_section(eid: &str, d: &DataSection, conditions: &[Condition], links: bool) -> Markup {
    let actions: Vec<&Condition> = conditions
        .iter()
        .filter(|c| crate::present::render::is_data(c))
        .collect();
    html! {
        section aria-labelledby="data-h" {
            h2 id="data-h" { "Data files" }
            p { strong { (d.status.words()) "." } " " (d.summary) }
            @if links {
                (data_form_links(eid))
            }
            (data_facts(d))
            @if !d.elements.is_empty() {
                (elements_table(d))
            }
            @if !d.minimisation.is_empty() {
                h3 { "Sent but not needed" }
                ul {
                    @for x in &d.minimisation {
                        li { code { (x.file) } " " code { (x.column) } " — " (x.filled) " rows; " (x.category) ": " (x.exhibit_b) @if x.sensitive { " " strong { "(sensitive)" } } }
                    }
                }
            }
            @if !d.findings.is_empty() {
                h3 { "The export's format" }
                ul { @for f in &d.findings { li { (f) } } }
            }
            @if !actions.is_empty() {
                (data_actions(&actions))
            }
        }
    }
}

/// The links to the Data Projects Form: Markdown, CSV for the SIS provider, and PDF.
fn data_form_links(eid: &str) -> Markup {
    html! {
        nav.exports aria-label="Data Projects Form" {
            span { "Data Projects Form: " }
            a href={ "/evaluations/" (eid) "/data-form.md" } { "Markdown (.md)" }
            " · "
            a href={ "/evaluations/" (eid) "/data-form.csv" } { "CSV for the SIS provider (.csv)" }
            " · "
            a href={ "/evaluations/" (eid) "/data-form.pdf" } { "PDF (.pdf)" }
        }
    }
}

/// How the data travels: method, endpoint, the district's export, the transfer check, Exhibit B.
fn data_facts(d: &DataSection) -> Markup {
    html! {
        dl.facts {
            dt { "Method" } dd { (d.method) @if !d.versions.is_empty() { " " (d.versions.join(" or ")) } }
            @if let Some(v) = &d.delivery { dt { "Delivery" } dd { (v) } }
            @if let Some(v) = &d.schedule { dt { "Schedule" } dd { (v) } }
            @if let Some(v) = &d.endpoint { dt { "Transfer endpoint" } dd { code { (v) } } }
            @if let Some(v) = &d.contact { dt { "Vendor contact" } dd { (v) } }
            @if let Some(v) = &d.note { dt { "Vendor's note" } dd { (v) } }
            @if let Some(x) = &d.export {
                dt { "District export" }
                dd { (x.source_system) ", OneRoster " (x.oneroster_version.as_deref().unwrap_or("?")) ", read " (time_text(&x.generated_at)) }
            }
            @if let Some(t) = &d.transfer {
                dt { "Transfer check" }
                dd {
                    (status(t.status)) " " (t.observed)
                    @if !t.machines.is_empty() {
                        ul.plain { @for m in &t.machines { li { (m.site) ": " (status(m.status)) " " (m.observed) " — " (report_link(&m.report_id)) } } }
                    }
                }
            }
            dt { "Signed Exhibit B" } dd { @if d.dpa_recorded { "recorded" } @else { "not recorded" } }
        }
    }
}

/// The table of the data elements the vendor needs, each against the district's export.
fn elements_table(d: &DataSection) -> Markup {
    html! {
        div.scroll {
            table {
                caption { "What the vendor needs, against the district's export" }
                thead { tr {
                    th scope="col" { "Element" }
                    th scope="col" { "Needed" }
                    th scope="col" { "State" }
                    th scope="col" { "Filled" }
                    th scope="col" { "Exhibit B" }
                    th scope="col" { "Agreement" }
                } }
                tbody {
                    @for e in &d.elements {
                        tr {
                            th scope="row" {
                                @if let Some(n) = &e.name { (n) br; }
                                code { (e.source) }
                                @if let Some(h) = &e.header_misspelt { br; span.muted.small { "spelt " code { (h) } } }
                            }
                            td {
                                @if e.required { "required" } @else { "optional" }
                                @if !e.roles.is_empty() { " (" (e.roles.join(", ")) ")" }
                                @if let Some(p) = &e.purpose { br; span.muted.small { (p) } }
                            }
                            td { (element_status(e.status)) }
                            td { (crate::present::render::fill_words(e)) }
                            td {
                                @match (&e.category, &e.exhibit_b) {
                                    (Some(c), Some(x)) => { (c) ": " (x) @if e.sensitive { " " strong { "sensitive" } } }
                                    _ => { "—" }
                                }
                            }
                            td {
                                @match e.dpa_covered {
                                    Some(true) => { "covered" }
                                    Some(false) => { span.st.st-fail { "not covered" } }
                                    None => { "—" }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The data actions: each data condition, who acts, and what it covers.
fn data_actions(actions: &[&Condition]) -> Markup {
    html! {
        h3 { "Data actions" }
        ul {
            @for c in actions {
                li {
                    (c.action) " — " em { (c.owner) } ", " @if c.required { "required" } @else { "recommended" }
                    @if !c.items.is_empty() { ul { @for i in &c.items { li { (i) } } } }
                }
            }
        }
    }
}

fn element_status(s: ElementStatus) -> Markup {
    let class = match s {
        ElementStatus::Met => "st st-pass",
        ElementStatus::Partly | ElementStatus::Missing => "st st-warn",
        ElementStatus::NotCarried => "st st-fail",
        ElementStatus::NotAssessed => "st st-unknown",
    };
    html! { span class=(class) { (s.words()) } }
}

async fn recommendation_of(
    state: &AppState,
    id: &str,
) -> Result<(Recommendation, Titles), crate::edge::error::Failure> {
    let d = dossier::load(&state.store, &state.catalog, id).await?;
    let r = d.recommend(&clock::rfc3339(clock::now_ms()));
    let titles = Titles::of(&r);
    Ok((r, titles))
}

/// `GET /evaluations/{id}/recommendation`.
pub async fn page(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Page, PageError> {
    let (r, titles) = recommendation_of(&state, &id)
        .await
        .map_err(|e| PageError::from(e).for_user(&viewer.user))?;
    Ok(Page::ok(render(
        &r,
        &titles,
        &viewer.user,
        Exports { pdf: true },
    )))
}

fn download(content_type: &'static str, name: String, body: impl IntoResponse) -> Response {
    let mut response = ([(header::CONTENT_TYPE, content_type)], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}\"")) {
        response
            .headers_mut()
            .insert(header::CONTENT_DISPOSITION, v);
    }
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn file_name(id: &str, ext: &str) -> String {
    // The id is a UUID; keep only what is safe in a header either way.
    let safe: String = short(id)
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
    format!("fitcheck-recommendation-{safe}.{ext}")
}

/// A download of the recommendation: which file, and how it is made.
#[derive(Debug, Clone, Copy)]
enum Export {
    Markdown,
    Json,
    Pdf,
    FormMarkdown,
    FormCsv,
    FormPdf,
}

impl Export {
    async fn respond(
        self,
        state: &AppState,
        viewer: &Viewer,
        id: &str,
    ) -> Result<Response, PageError> {
        let (r, decision) = async {
            let r = dossier::recommendation(&state.store, &state.catalog, id).await?;
            let decision = crate::evaluation::decision::decision_of(&state.store, id).await?;
            Ok::<_, crate::edge::error::Failure>((r, decision))
        }
        .await
        .map_err(|e| PageError::from(e).for_user(&viewer.user))?;
        Ok(match self {
            Export::Markdown => download(
                "text/markdown; charset=utf-8",
                file_name(id, "md"),
                crate::present::render::markdown(&r)
                    + &crate::present::render::decision_markdown(&decision),
            ),
            Export::Json => download(
                "application/json",
                file_name(id, "json"),
                crate::present::render::json(&r),
            ),
            Export::Pdf => download(
                "application/pdf",
                file_name(id, "pdf"),
                crate::present::pdf::recommendation_pdf_decided(&r, Some(&decision)),
            ),
            Export::FormMarkdown | Export::FormCsv | Export::FormPdf => {
                let form = match self {
                    Export::FormCsv => crate::present::render::data_form_csv(&r)
                        .map(|t| ("text/csv; charset=utf-8", "csv", t.into_bytes())),
                    Export::FormPdf => {
                        crate::present::pdf::data_form(&r).map(|b| ("application/pdf", "pdf", b))
                    }
                    _ => crate::present::render::data_form_markdown(&r)
                        .map(|t| ("text/markdown; charset=utf-8", "md", t.into_bytes())),
                };
                let Some((content_type, ext, body)) = form else {
                    return Err(PageError::from(crate::edge::error::Failure::not_found(
                        "this evaluation's profile states no data needs, so it has no Data Projects Form",
                    ))
                    .for_user(&viewer.user));
                };
                download(
                    content_type,
                    file_name(id, ext).replace("recommendation", "data-form"),
                    body,
                )
            }
        })
    }
}

/// `GET /evaluations/{id}/recommendation.md`.
pub async fn markdown(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    Export::Markdown.respond(&state, &viewer, &id).await
}

/// `GET /evaluations/{id}/recommendation.pdf`: the printable document (`crate::present::pdf`).
pub async fn pdf(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    Export::Pdf.respond(&state, &viewer, &id).await
}

/// `GET /evaluations/{id}/data-form.md`: the Data Projects Form.
pub async fn data_form_md(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    Export::FormMarkdown.respond(&state, &viewer, &id).await
}

/// `GET /evaluations/{id}/data-form.csv`: the form's elements for the SIS provider.
pub async fn data_form_csv(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    Export::FormCsv.respond(&state, &viewer, &id).await
}

/// `GET /evaluations/{id}/data-form.pdf`: the form to print and sign.
pub async fn data_form_pdf(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    Export::FormPdf.respond(&state, &viewer, &id).await
}

/// `GET /evaluations/{id}/recommendation.json`.
pub async fn json(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Response, PageError> {
    Export::Json.respond(&state, &viewer, &id).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chart_steps_are_round() {
        assert_eq!(nice_step(600.0), 200.0);
        assert_eq!(nice_step(120.0), 50.0);
        assert_eq!(nice_step(40.0), 10.0);
        assert_eq!(nice_step(3.0), 1.0);
    }

    #[test]
    fn cell_links_encode_their_values() {
        assert_eq!(
            cell_href("e1", &"http[0]".into(), Place::Site("<b>&x")),
            "/evaluations/e1/cells?requirement=http%5B0%5D&site=%3Cb%3E%26x"
        );
        assert_eq!(
            cell_href(
                "e1",
                &"device.ram_min_gib".into(),
                Place::Model("Acme Chromebook 3")
            ),
            "/evaluations/e1/cells?requirement=device.ram_min_gib&model=Acme%20Chromebook%203"
        );
    }
}
