//! Drill-downs: the devices behind one cell of the recommendation, and one report with every
//! result and what it saw.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use std::collections::{HashMap, HashSet};

use fitcheck_core::report::{CheckResult, Detection, DeviceFacts, Report};
use fitcheck_core::requirement::RequirementId;
use maud::{Markup, html};
use serde::Deserialize;

use super::layout::{Frame, Section, page, report_link, short, status, time_ms, time_text};
use super::recommendation::Titles;
use super::{Page, PageError, Viewer, encode};
use crate::clock;
use crate::edge::error::Failure;
use crate::edge::state::AppState;
use crate::evaluation::dossier;
use crate::store::{EvaluationRow, ReportSummary};
use fitcheck_engine::{Cell, Judged, Judgement, NO_SITE, Recommendation, model_of};

#[derive(Debug, Deserialize)]
pub struct CellQuery {
    requirement: Option<String>,
    site: Option<String>,
    model: Option<String>,
}

fn gib(bytes: u64) -> String {
    format!("{:.1} GiB", bytes as f64 / (1u64 << 30) as f64)
}

fn ms(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0} ms")
    } else {
        format!("{v:.1} ms")
    }
}

fn mbit(v: Option<f64>) -> String {
    v.map_or("—".to_owned(), |v| format!("{v:.1} Mbit/s"))
}

/// Whether `result` is evidence for requirement `id`: its own results, a port's extra checks
/// (`ports[1].tcp443`), and for network quality the latency or throughput measurement.
pub fn serves(result: &CheckResult, id: &RequirementId) -> bool {
    let throughput = matches!(result, CheckResult::Bandwidth(_));
    id.served_by(result.requirement(), throughput)
}

/// What one check saw, as a short definition list.
pub fn seen(result: &CheckResult) -> Markup {
    html! {
        dl.seen {
            dt { "Outcome" } dd { code { (result.outcome_word()) } }
            @match result {
                CheckResult::Dns(d) => {
                    dt { "Name" } dd { code { (d.target) } }
                    @if !d.evidence.a.is_empty() || !d.evidence.aaaa.is_empty() {
                        dt { "Answers" } dd { @for (i, a) in d.evidence.a.iter().chain(d.evidence.aaaa.iter()).enumerate() { @if i > 0 { ", " } code { (a) } } }
                    }
                    @if !d.evidence.resolvers.is_empty() { dt { "Resolvers" } dd { (d.evidence.resolvers.join(", ")) } }
                    @if let Some(s) = &d.evidence.sinkhole_reason { dt { "Why a block" } dd { (s) } }
                    @if let Some(s) = &d.evidence.signature { dt { "Signature" } dd { strong { (s.vendor) } " (" code { (s.id) } ", matched " code { (s.matched) } ")" } }
                    @if let Some(c) = &d.evidence.control {
                        dt { "Control resolver" } dd {
                            (c.resolver) ": " code { (c.outcome) }
                            @for a in &c.addresses { " " code { (a) } }
                            @if let Some(v) = c.district_answer_validates { " · district answer validates against the public roots: " (if v { "yes" } else { "no" }) }
                        }
                        @if let Some(cert) = &c.district_answer_certificate {
                            dt { "District answer's certificate" } dd {
                                "issued by " code { (cert.issuer) }
                                @if cert.trusted_by_system == Some(true) && cert.publicly_trusted == Some(false) { " (trusted by this device, by no public root)" }
                            }
                        }
                    }
                    @if let Some(s) = &d.evidence.detail { dt { "Detail" } dd { (s) } }
                    dt { "Time" } dd { (ms(d.duration_ms)) }
                }
                CheckResult::Http(h) => {
                    dt { "URL" } dd { code { (h.target) } }
                    @if let Some(s) = h.evidence.status { dt { "Status" } dd { (s) } }
                    @if let Some(l) = h.evidence.blocking_layer { dt { "Blocking layer" } dd { code { (serde_json::to_value(l).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default()) } } }
                    @if let Some(s) = &h.evidence.signature { dt { "Signature" } dd { strong { (s.vendor) } " (" code { (s.id) } ", matched " code { (s.matched) } ")" } }
                    @if let Some(c) = &h.evidence.certificate {
                        dt { "Certificate issuer" } dd { (c.issuer) }
                        dt { "Certificate subject" } dd { (c.subject) " · valid to " (c.not_after) }
                        dt { "Trusted" } dd {
                            "by the device: " (c.trusted_by_system.map_or("not known", |v| if v { "yes" } else { "no" }))
                            " · publicly: " (c.publicly_trusted.map_or("not known", |v| if v { "yes" } else { "no" }))
                        }
                    }
                    @if !h.evidence.redirects.is_empty() {
                        dt { "Redirects" } dd { ol.plain { @for r in &h.evidence.redirects { li { (r.status) " " code { (r.from) } " → " code { (r.location) } } } } }
                    }
                    @if let Some(u) = &h.evidence.final_url { dt { "Final URL" } dd { code { (u) } } }
                    @if let Some(a) = &h.evidence.address { dt { "Address" } dd { code { (a) } } }
                    @if let Some(p) = &h.evidence.proxy { dt { "Proxy" } dd { code { (p) } } }
                    @if !h.evidence.headers.is_empty() {
                        dt { "Headers" } dd { @for (k, v) in &h.evidence.headers { code { (k) ": " (v) } br; } }
                    }
                    @if let Some(s) = &h.evidence.detail { dt { "Detail" } dd { (s) } }
                    dt { "Time" } dd { (ms(h.timings.total_ms)) " total"
                        @if let Some(t) = h.timings.tls_ms { " · TLS " (ms(t)) }
                        @if let Some(t) = h.timings.first_byte_ms { " · first byte " (ms(t)) } }
                }
                CheckResult::Tcp(t) => {
                    dt { "Target" } dd { code { (t.target) } " port " (t.port) }
                    @if let Some(a) = &t.address { dt { "Address" } dd { code { (a) } } }
                    @if let Some(s) = &t.detail { dt { "Detail" } dd { (s) } }
                    dt { "Time" } dd { (ms(t.duration_ms)) }
                }
                CheckResult::Udp(u) => {
                    dt { "Target" } dd { code { (u.target) } " port " (u.port) " (STUN, " (u.attempts) " attempt(s))" }
                    @if let Some(a) = &u.address { dt { "Address" } dd { code { (a) } } }
                    @if let Some(s) = &u.detail { dt { "Detail" } dd { (s) } }
                    dt { "Time" } dd { (ms(u.duration_ms)) }
                }
                CheckResult::Latency(l) => {
                    dt { "Host" } dd { code { (l.target) } " by " (l.method) ", " (l.probes) " probes" }
                    dt { "Round trip" } dd {
                        @if let Some(v) = l.rtt_ms { "median " (ms(v)) } @else { "—" }
                        @if let (Some(a), Some(b)) = (l.rtt_min_ms, l.rtt_max_ms) { " (" (ms(a)) " to " (ms(b)) ")" }
                    }
                    @if let Some(j) = l.jitter_ms { dt { "Jitter" } dd { (ms(j)) } }
                    @if let Some(p) = l.loss_percent { dt { "Loss" } dd { (format!("{p:.1}")) " %" } }
                    @if let Some(s) = &l.detail { dt { "Detail" } dd { (s) } }
                }
                CheckResult::Bandwidth(b) => {
                    dt { "Endpoint" } dd { code { (b.target) } " by " (b.method) ", " (b.streams) " stream(s)" }
                    dt { "Download" } dd { (mbit(b.download_mbps)) }
                    dt { "Upload" } dd { (mbit(b.upload_mbps)) }
                    @if let (Some(i), Some(l)) = (b.rtt_idle_ms, b.rtt_loaded_ms) { dt { "Round trip" } dd { (ms(i)) " idle, " (ms(l)) " under load" } }
                    @if !b.validity.is_empty() { dt { "Caveats" } dd { (b.validity.join(", ")) } }
                    @if let Some(s) = &b.detail { dt { "Detail" } dd { (s) } }
                }
                CheckResult::Device(d) => {
                    dt { "Fact" } dd { (d.target) }
                    dt { "Observed" } dd { (d.observed) }
                }
            }
        }
    }
}

fn facts_brief(d: &DeviceFacts) -> String {
    format!(
        "{} · {} · {}",
        d.os.name,
        gib(d.memory.total_bytes),
        d.cpu.model.as_deref().unwrap_or("unknown CPU")
    )
}

/// `GET /evaluations/{id}/cells?requirement=…&site=…` (or `&model=…`).
pub async fn cell(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
    query: Result<Query<CellQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Page, PageError> {
    let user = &viewer.user;
    let (requirement, place) =
        cell_address(query).map_err(|m| PageError::bad_request(m).for_user(user))?;
    let d = dossier::load(&state.store, &state.catalog, &id)
        .await
        .map_err(|e| PageError::from(e).for_user(user))?;
    let r = d.recommend(&clock::rfc3339(clock::now_ms()));
    let titles = Titles::of(&r);
    let index = requirement_index(&r, &place, &requirement).map_err(|e| e.for_user(user))?;
    // The devices of the cell, as the engine counted them (each agent's latest report), and
    // every report of theirs, bodies included, for what each check saw.
    let here = judgements_at(&d.judgements, &place);
    let agents: Vec<&str> = here.iter().map(|j| j.agent_id.as_str()).collect();
    let theirs = state
        .store
        .reports_of_agents(&d.row.id, &agents)
        .await
        .map_err(|e| PageError::from(Failure::from(e)).for_user(user))?;
    let (bodies, superseded) = sort_reports(&here, &theirs);
    let judged: Vec<DeviceRow<'_>> = here
        .iter()
        .map(|j| (*j, j.outcome(index), bodies.get(j.report_id.as_str())))
        .collect();
    let summary = cell_summary(&r, &place, &requirement);
    let req_title = titles.title(&requirement).to_owned();
    let (where_words, where_value) = match &place {
        Place::Site(s) => ("at site", s.as_str()),
        Place::Model(m) => ("on model", m.as_str()),
    };
    let title = format!("{req_title} {where_words} {where_value}");
    let eid = encode(&d.row.id);
    let body = html! {
        p.crumbs {
            a href="/evaluations" { "Evaluations" } " / "
            a href={ "/evaluations/" (eid) } { (d.row.title) } " / "
            a href={ "/evaluations/" (eid) "/recommendation" } { "Recommendation" } " / "
        }
        h1 { (req_title) " " span.h1-sub { (where_words) " " (where_value) } }
        (cell_facts(&requirement, &titles, summary, judged.len()))
        @if judged.is_empty() {
            p { "No device reported here yet." }
        } @else {
            (devices_table(&judged, &req_title, &requirement))
        }
        @if !superseded.is_empty() {
            p.muted {
                "Older reports of these devices, superseded and not counted: "
                @for (i, o) in superseded.iter().enumerate() { @if i > 0 { ", " } (report_link(o)) }
            }
        }
    };
    Ok(Page::ok(page(
        Frame {
            title: &title,
            user: Some(user),
            section: Section::Evaluations,
            refresh_s: None,
        },
        body,
    )))
}

/// One device of a cell: its judgement, its outcome for the requirement, and its report.
type DeviceRow<'a> = (&'a Judgement, Option<&'a Judged>, Option<&'a Report>);

/// The requirement and the place a cell's address names, or the sentence saying what is wrong.
fn cell_address(
    query: Result<Query<CellQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<(RequirementId, Place), String> {
    let Query(q) = query.map_err(|e| format!("The address is not one this page reads: {e}."))?;
    let requirement = q
        .requirement
        .filter(|r| !r.is_empty())
        .map(|r| RequirementId::parse(&r))
        .ok_or_else(|| String::from("Say which requirement: ?requirement=…&site=… or &model=…."))?;
    let place = match (&q.site, &q.model) {
        (Some(s), None) => Place::Site(s.clone()),
        (None, Some(m)) => Place::Model(m.clone()),
        _ => {
            return Err("Give either a site or a device model, not both and not neither.".into());
        }
    };
    Ok((requirement, place))
}

/// The requirement's index in the recommendation; a 404 where the place or requirement is not.
fn requirement_index(
    r: &Recommendation,
    place: &Place,
    requirement: &RequirementId,
) -> Result<usize, PageError> {
    let known_place = match place {
        Place::Site(s) => r.coverage.iter().any(|c| &c.site == s),
        Place::Model(m) => r.device_models.iter().any(|x| &x.model == m),
    };
    if !known_place {
        return Err(PageError::not_found(match place {
            Place::Site(s) => format!("Site {s:?} is not in this evaluation's scope."),
            Place::Model(m) => format!("No device of model {m:?} reported in this evaluation."),
        }));
    }
    let Some(index) = r.requirements.iter().position(|q| &q.id == requirement) else {
        return Err(PageError::not_found(format!(
            "This evaluation's profile has no requirement {requirement:?}."
        )));
    };
    Ok(index)
}

/// The judgements of the devices at the place: a site's, or a model's.
fn judgements_at<'a>(judgements: &'a [Judgement], place: &Place) -> Vec<&'a Judgement> {
    judgements
        .iter()
        .filter(|j| match place {
            Place::Site(s) => &j.site == s,
            Place::Model(m) => &j.model == m,
        })
        .collect()
}

/// The counted reports' bodies by report id, and the ids of the older reports not counted.
fn sort_reports<'a>(
    here: &[&Judgement],
    theirs: &'a [(ReportSummary, String)],
) -> (HashMap<&'a str, Report>, Vec<&'a str>) {
    let counted: HashSet<&str> = here.iter().map(|j| j.report_id.as_str()).collect();
    let mut bodies: HashMap<&str, Report> = HashMap::new();
    let mut superseded: Vec<&str> = Vec::new();
    for (summary, body) in theirs {
        if !counted.contains(summary.report_id.as_str()) {
            superseded.push(&summary.report_id);
            continue;
        }
        match serde_json::from_str::<Report>(body) {
            Ok(report) => {
                bodies.insert(&summary.report_id, report);
            }
            Err(e) => {
                tracing::error!(report_id = %summary.report_id, error = %e, "A stored report no longer parses.");
            }
        }
    }
    (bodies, superseded)
}

/// The recommendation's cell for the requirement at the place, where the matrix has one.
fn cell_summary<'a>(
    r: &'a Recommendation,
    place: &Place,
    requirement: &RequirementId,
) -> Option<&'a Cell> {
    match place {
        Place::Site(s) => r
            .matrix
            .iter()
            .find(|row| &row.requirement == requirement)
            .and_then(|row| row.sites.get(s)),
        Place::Model(m) => r
            .device_models
            .iter()
            .find(|x| &x.model == m)
            .and_then(|x| x.requirements.get(requirement)),
    }
}

/// The cell's facts: the requirement, what it expects, the result here and how many devices.
fn cell_facts(
    requirement: &RequirementId,
    titles: &Titles,
    summary: Option<&Cell>,
    devices: usize,
) -> Markup {
    html! {
        dl.facts {
            dt { "Requirement" } dd { code { (requirement) } }
            @if let Some(x) = titles.expected(requirement) { dt { "Expected" } dd { (x) } }
            dt { "Result here" } dd {
                @if let Some(c) = summary {
                    (status(c.status)) " — " (c.pass) " pass, " (c.warn) " below, " (c.fail) " fail, " (c.unknown) " not measured"
                } @else { "not part of the matrix (judged per device)" }
            }
            dt { "Devices" } dd { (devices) " device(s), each by its latest report" }
        }
    }
}

/// The table of the cell's devices: each one's result, what it observed and what its checks saw.
fn devices_table(judged: &[DeviceRow<'_>], req_title: &str, requirement: &RequirementId) -> Markup {
    html! {
        div.scroll {
            table.drill {
                caption { "What each device saw for " (req_title) }
                thead { tr {
                    th scope="col" { "Device" }
                    th scope="col" { "Site" }
                    th scope="col" { "Model" }
                    th scope="col" { "Result" }
                    th scope="col" { "Observed" }
                    th scope="col" { "What the check saw" }
                } }
                tbody {
                    @for (j, o, report) in judged {
                        tr {
                            th scope="row" {
                                (report_link(&j.report_id)) br;
                                span.muted.small { "agent " code { (short(&j.agent_id)) } }
                            }
                            td { (j.site) }
                            td { (j.model) @if let Some(rep) = report { br; span.muted.small { (facts_brief(&rep.device)) } } }
                            td { @if let Some(o) = o { (status(o.status)) } @else { "not judged" } }
                            td { @if let Some(o) = o { (o.observed) @if let Some(m) = &o.remedy { br; span.muted.small { (m) } } } }
                            td {
                                @let results: Vec<&CheckResult> = report.map(|rep| rep.results.iter().filter(|x| serves(x, requirement)).collect()).unwrap_or_default();
                                @if report.is_none() { span.muted { "the stored report could not be read" } }
                                @else if results.is_empty() { span.muted { "no check result (judged from the device's facts)" } }
                                @for x in results { (seen(x)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

#[derive(Debug, Clone)]
enum Place {
    Site(String),
    Model(String),
}

fn detection(d: Detection) -> &'static str {
    match d {
        Detection::Detected => "detected",
        Detection::NoneFound => "none found",
        Detection::Unsupported => "this system cannot tell",
    }
}

fn device_table(d: &DeviceFacts) -> Markup {
    html! {
        table.facts-table {
            caption { "Device facts" }
            tbody {
                tr { th scope="row" { "Model" } td { (model_of(d)) } }
                tr { th scope="row" { "Operating system" } td {
                    (d.os.name)
                    @if let Some(v) = &d.os.version { " · version " (v) }
                    @if let Some(x) = &d.os.distribution { " · " (x) }
                    " · " (d.os.architecture)
                    @if let Some(k) = &d.os.kernel { " · kernel " (k) }
                } }
                tr { th scope="row" { "Processor" } td {
                    (d.cpu.model.as_deref().unwrap_or("unknown"))
                    " · " (d.cpu.logical_cores) " logical core(s)"
                    @if let Some(p) = d.cpu.physical_cores { ", " (p) " physical" }
                    @if let Some(f) = d.cpu.max_frequency_mhz { " · " (f) " MHz" }
                } }
                tr { th scope="row" { "Memory" } td { (gib(d.memory.total_bytes)) " usable" } }
                tr { th scope="row" { "Disk" } td {
                    @if let Some(x) = &d.disk { (gib(x.free_bytes)) " free of " (gib(x.total_bytes)) " on " code { (x.mount_point) } } @else { "not found" }
                } }
                tr { th scope="row" { "Graphics" } td {
                    (detection(d.gpu.detection))
                    @for a in &d.gpu.adapters {
                        br; (a.vendor_name) " " (a.model)
                        @if let Some(v) = a.vram_bytes { " · " (gib(v)) " video memory" }
                    }
                } }
                tr { th scope="row" { "Screen" } td {
                    @if let (Some(w), Some(h)) = (d.screen.width, d.screen.height) { (w) " × " (h) } @else { (detection(d.screen.detection)) }
                } }
                tr { th scope="row" { "Browsers" } td {
                    @if d.browsers.installed.is_empty() { (detection(d.browsers.detection)) }
                    @for (i, b) in d.browsers.installed.iter().enumerate() {
                        @if i > 0 { ", " }
                        (b.name.to_string()) " " (b.version)
                    }
                } }
            }
        }
    }
}

/// `GET /reports/{id}`: one report as a person reads it.
pub async fn report(
    State(state): State<AppState>,
    viewer: Viewer,
    Path(id): Path<String>,
) -> Result<Page, PageError> {
    let user = &viewer.user;
    let (summary, report, evaluation) = load_report(&state, &id)
        .await
        .map_err(|e| e.for_user(user))?;
    let title = format!("Report {}", short(&summary.report_id));
    let page_body = html! {
        p.crumbs {
            a href="/evaluations" { "Evaluations" } " / "
            @if let Some(e) = &evaluation {
                a href={ "/evaluations/" (encode(&e.id)) } { (e.title) } " / "
            }
        }
        h1 { "Report " code { (short(&summary.report_id)) } span.h1-sub { " — " (model_of(&report.device)) " at " (summary.site.as_deref().unwrap_or(NO_SITE)) } }
        p.exports { a href={ "/api/v1/reports/" (encode(&summary.report_id)) } { "The report as the agent sent it (JSON)" } }
        (report_facts(&summary, &report, evaluation.as_ref()))
        section aria-labelledby="device-h" {
            h2 id="device-h" { "The device" }
            (device_table(&report.device))
        }
        (results_section(&report))
        (agent_evaluation_section(&report))
        @if !report.notes.is_empty() {
            section aria-labelledby="notes-h" {
                h2 id="notes-h" { "Notes" }
                ul { @for n in &report.notes { li { (n) } } }
            }
        }
    };
    Ok(Page::ok(page(
        Frame {
            title: &title,
            user: Some(user),
            section: Section::Evaluations,
            refresh_s: None,
        },
        page_body,
    )))
}

/// The stored report: its summary, its body read as a report, and the evaluation it belongs to.
async fn load_report(
    state: &AppState,
    id: &str,
) -> Result<(ReportSummary, Report, Option<EvaluationRow>), PageError> {
    let (summary, body) = state
        .store
        .get_report(id)
        .await
        .map_err(|e| PageError::from(Failure::from(e)))?
        .ok_or_else(|| PageError::not_found(format!("There is no report {id}.")))?;
    let report: Report = serde_json::from_str(&body).map_err(|e| {
        PageError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("The stored report {id} no longer reads as a report: {e}"),
        )
    })?;
    let evaluation = match &summary.evaluation_id {
        Some(e) => state
            .store
            .get_evaluation(e)
            .await
            .map_err(|e| PageError::from(Failure::from(e)))?,
        None => None,
    };
    Ok((summary, report, evaluation))
}

/// The report's facts: its id, the agent, labels, profile, when it ran and where it belongs.
fn report_facts(
    summary: &ReportSummary,
    report: &Report,
    evaluation: Option<&EvaluationRow>,
) -> Markup {
    html! {
        dl.facts {
            dt { "Report" } dd { code { (summary.report_id) } }
            dt { "Agent" } dd { code { (report.agent.agent_id) } " · version " (report.agent.version) }
            dt { "Labels" } dd {
                @if report.agent.labels.is_empty() { "none" }
                @for (k, v) in &report.agent.labels { span.label { (k) "=" (v) } " " }
            }
            dt { "Profile" } dd { (report.profile.name) " — " (report.profile.vendor) " · " code { (report.profile.id) } " " span.muted.digest { (report.profile.digest) } }
            dt { "Ran" } dd { (time_text(&report.started_at)) " to " (time_text(&report.finished_at)) }
            dt { "Received" } dd { (time_ms(summary.received_at)) }
            @if let Some(e) = evaluation {
                dt { "Evaluation" } dd { a href={ "/evaluations/" (encode(&e.id)) } { (e.title) } }
            }
        }
    }
}

/// Every check of the report, in the order the agent ran them, with what each saw.
fn results_section(report: &Report) -> Markup {
    html! {
        section aria-labelledby="results-h" {
            h2 id="results-h" { "Every check" }
            div.scroll {
                table.drill {
                    caption { "Results in the order the agent ran them" }
                    thead { tr {
                        th scope="col" { "Check" }
                        th scope="col" { "Requirement" }
                        th scope="col" { "Target" }
                        th scope="col" { "What it saw" }
                    } }
                    tbody {
                        @for x in &report.results {
                            tr {
                                th scope="row" { (check_word(x)) }
                                td { code { (x.requirement()) } }
                                td { code.target { (x.target()) } }
                                td { (seen(x)) }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// The agent's own evaluation of the device, requirement by requirement, where it sent one.
fn agent_evaluation_section(report: &Report) -> Markup {
    html! {
        section aria-labelledby="agent-eval-h" {
            h2 id="agent-eval-h" { "The agent's own evaluation" }
            @match &report.evaluation {
                None => p { "The agent sent no evaluation of its own." },
                Some(ev) => {
                    p { "Verdict on this device: " strong { (ev.verdict.to_string()) } ". The recommendation judges every report again against the stored profile, so the two agree unless the profile changed." }
                    div.scroll {
                        table {
                            caption { "Requirements as the agent judged them" }
                            thead { tr {
                                th scope="col" { "Requirement" }
                                th scope="col" { "Expected" }
                                th scope="col" { "Observed" }
                                th scope="col" { "Result" }
                            } }
                            tbody {
                                @for o in &ev.requirements {
                                    tr {
                                        th scope="row" { (o.title) br; code.muted { (o.id) } }
                                        td { (o.expected) }
                                        td { (o.observed) @if let Some(m) = &o.remedy { br; span.muted.small { (m) } } }
                                        td { (status(o.status)) }
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

fn check_word(x: &CheckResult) -> &'static str {
    match x {
        CheckResult::Dns(_) => "DNS",
        CheckResult::Http(_) => "HTTP(S)",
        CheckResult::Tcp(_) => "TCP port",
        CheckResult::Udp(_) => "UDP port",
        CheckResult::Latency(_) => "Latency",
        CheckResult::Bandwidth(_) => "Throughput",
        CheckResult::Device(_) => "Device",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn result(v: serde_json::Value) -> CheckResult {
        serde_json::from_value(v).expect("a check result")
    }

    #[test]
    fn results_serve_their_requirements() {
        let tcp443 = result(
            json!({"check": "tcp", "requirement": "ports[1].tcp443", "target": "a:443", "port": 443, "outcome": "open", "duration_ms": 1.0}),
        );
        assert!(serves(&tcp443, &"ports[1]".into()));
        assert!(!serves(&tcp443, &"ports[10]".into()));
        let latency = result(
            json!({"check": "latency", "requirement": "network", "target": "a", "outcome": "measured", "method": "icmp", "probes": 3}),
        );
        assert!(serves(&latency, &"network.max_rtt_ms".into()));
        assert!(!serves(&latency, &"network.download_mbps_per_user".into()));
        let bw = result(
            json!({"check": "bandwidth", "requirement": "network", "target": "a", "outcome": "measured", "method": "http", "streams": 1, "bytes": 1, "duration_ms": 1.0, "validity": []}),
        );
        assert!(serves(&bw, &"network.download_mbps_per_user".into()));
        assert!(!serves(&bw, &"network.max_loss_percent".into()));
    }
}
