//! The agents' routes (`/api/agent/v1`): enrollment, assignments, report delivery. An agent
//! reaches only these, and only its own data: a report must carry the agent's own id, and an
//! evaluation must have the agent in scope.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use fitcheck_core::api::{
    AgentKind, Assignment, Assignments, BandwidthAssignment, EnrollRequest, EnrollResponse,
    ExtensionsSeen, IngestResponse, Ingested,
};
use fitcheck_core::plan::PlannedCheck;
use fitcheck_core::report::{REPORT_SCHEMA, Report};
use fitcheck_engine::{Arrival, judge_with};
use serde::Deserialize;
use uuid::Uuid;

use crate::edge::error::Failure;
use crate::edge::extract::{AgentAuth, Body, parse_json};
use crate::edge::state::AppState;
use crate::evaluation::scope::{in_scope, sends, spec_of};
use crate::store::{EvaluationRow, IngestCheck, NewAgent, NewReport, StoredJudgement};
use crate::{auth, clock};

/// Checks district labels: keys of 1–32 lowercase letters, digits, `-`, `_`; values of 1–128
/// printable characters; at most 16 labels. `at` is where they sit in the body (`labels`, or
/// `agent.labels` in a report), for the error's field.
pub fn check_labels(labels: &BTreeMap<String, String>, at: &str) -> Result<(), Failure> {
    if labels.len() > 16 {
        return Err(Failure::unprocessable("invalid_labels", "at most 16 labels").field(at));
    }
    for (k, v) in labels {
        let key_ok = !k.is_empty()
            && k.len() <= 32
            && k.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !key_ok {
            return Err(Failure::unprocessable(
                "invalid_labels",
                format!("label key {k:?} must be 1-32 lowercase letters, digits, '-' or '_'"),
            )
            .field(format!("{at}.{}", printable(k))));
        }
        if v.is_empty() || v.chars().count() > 128 || v.chars().any(char::is_control) {
            return Err(Failure::unprocessable(
                "invalid_labels",
                format!("label {k:?}: the value must be 1-128 printable characters"),
            )
            .field(format!("{at}.{}", printable(k))));
        }
    }
    Ok(())
}

/// A key as it can appear in an error's field: at most 32 characters, control characters
/// escaped (the key is the caller's, and may be anything).
fn printable(key: &str) -> String {
    key.chars()
        .take(32)
        .flat_map(char::escape_default)
        .collect()
}

/// Checks an agent's version: 1–64 printable characters. `at` names the field.
pub fn check_version(version: &str, at: &str) -> Result<(), Failure> {
    if version.is_empty() || version.len() > 64 || version.chars().any(char::is_control) {
        return Err(Failure::unprocessable(
            "invalid_body",
            "version must be 1-64 printable characters",
        )
        .field(at));
    }
    Ok(())
}

/// `POST /api/agent/v1/enroll`.
pub async fn enroll(
    State(state): State<AppState>,
    Body(body): Body,
) -> Result<(StatusCode, Json<EnrollResponse>), Failure> {
    let req: EnrollRequest = parse_json(&body, "enrollment request")?;
    check_labels(&req.labels, "labels")?;
    check_version(&req.version, "version")?;
    let now = clock::now_ms();
    let secret = state
        .store
        .usable_secret(&auth::token_hash(req.secret.trim()), now)
        .await?
        .ok_or_else(|| {
            Failure::unauthorized(
                "the enrollment secret is unknown, expired or revoked; ask the administrator for a current one",
            )
            .field("secret")
        })?;
    let credential = auth::new_token(auth::TokenKind::Agent);
    let labels_json = serde_json::to_string(&req.labels)
        .map_err(|e| Failure::internal(format!("labels: {e}")))?;
    state
        .store
        .enroll_agent(&NewAgent {
            id: req.agent_id,
            credential_hash: auth::token_hash(&credential),
            labels_json,
            site: req.labels.get("site").cloned(),
            group: req.labels.get("group").cloned(),
            version: req.version.clone(),
            enrolled_with: secret.id.clone(),
            now_ms: now,
            kind: req.kind.unwrap_or_default(),
        })
        .await?;
    tracing::info!(agent_id = %req.agent_id, kind = req.kind.unwrap_or_default().as_str(), secret = %secret.name, site = ?req.labels.get("site"), "Agent enrolled.");
    Ok((
        StatusCode::CREATED,
        Json(EnrollResponse {
            agent_id: req.agent_id,
            credential,
            poll_interval_s: state.limits.poll_interval_for(req.kind.unwrap_or_default()),
        }),
    ))
}

/// `GET /api/agent/v1/assignments`: the open evaluations that take in this agent and that it
/// has not reported on, and the rounds under way of watched products it has not reported on
/// since they started.
pub async fn assignments(
    State(state): State<AppState>,
    agent: AgentAuth,
) -> Result<Json<Assignments>, Failure> {
    let now = clock::now_ms();
    let open = state.store.open_evaluations(now).await?;
    let mut out: Vec<Assignment> = Vec::new();
    if !open.is_empty() {
        let done = state.store.reported_by(agent.id, now).await?;
        for row in open {
            if !done.contains(&row.id)
                && let Some(a) = assignment_for(&state, &agent, &row, None).await?
            {
                out.push(a);
            }
        }
    }
    for (id, _started_at, bandwidth, round) in
        state.store.watch_assignments(&agent.id.to_string()).await?
    {
        let Some(row) = state.store.get_evaluation(&id).await? else {
            continue;
        };
        let round = Uuid::parse_str(&round)
            .map_err(|_| Failure::internal("stored round id is not a UUID"))?;
        if let Some(a) = assignment_for(&state, &agent, &row, Some((round, bandwidth != 0))).await?
        {
            // A round replaces the evaluation's own run, never doubles it.
            out.retain(|o| o.evaluation_id != a.evaluation_id);
            out.push(a);
        }
    }
    let kind = if agent.row.kind == AgentKind::Browser.as_str() {
        AgentKind::Browser
    } else {
        AgentKind::Native
    };
    Ok(Json(Assignments {
        assignments: out,
        poll_interval_s: state.limits.poll_interval_for(kind),
    }))
}

/// The assignment of evaluation `row` to `agent`, if the evaluation takes it in: as a device,
/// or as a machine that sends the roster files where the profile names an endpoint. For a
/// watch's round (`round`, and whether it measures throughput again), the round's id.
async fn assignment_for(
    state: &AppState,
    agent: &AgentAuth,
    row: &EvaluationRow,
    round: Option<(Uuid, bool)>,
) -> Result<Option<Assignment>, Failure> {
    let spec = spec_of(row)?;
    let data_sender = sends(&spec, &agent.row);
    if !data_sender && !in_scope(&spec, &agent.row) {
        return Ok(None);
    }
    // A sending machine has something to check only where the profile names an endpoint (the
    // parsed profile is kept after its first read).
    if data_sender {
        let check = state.store.ingest_check(&row.id).await?;
        let endpoint = check
            .as_ref()
            .and_then(|c| c.profile.as_ref())
            .and_then(|p| p.data.as_ref())
            .and_then(|d| d.endpoint_target());
        if endpoint.is_none() {
            return Ok(None);
        }
    }
    let Some(profile) = state.store.get_profile(&row.profile).await? else {
        return Ok(None);
    };
    let evaluation_id = Uuid::parse_str(&row.id)
        .map_err(|_| Failure::internal("stored evaluation id is not a UUID"))?;
    // A watch's round measures throughput again only when the watch says so.
    let measure = round.is_none_or(|(_, bandwidth)| bandwidth);
    let bandwidth = spec
        .bandwidth
        .as_ref()
        .filter(|_| measure)
        .map(|b| BandwidthAssignment {
            start_at: agent
                .row
                .site
                .as_ref()
                .and_then(|s| b.site_start_at.get(s))
                .or(b.start_at.as_ref())
                .cloned()
                .filter(|_| round.is_none()),
            controller_endpoint: b.controller_endpoint,
            max_seconds: b.max_seconds,
        });
    // The browser agent reads the profile as JSON and names what a tab landed on from the
    // catalog's block hosts and filter extensions.
    let browser = agent.row.kind == AgentKind::Browser.as_str();
    let (json, plan) = if browser {
        browser_plan(&profile.toml)?
    } else {
        (None, Vec::new())
    };
    Ok(Some(Assignment {
        evaluation_id,
        profile_toml: profile.toml,
        profile: json,
        plan,
        profile_digest: profile.digest,
        window_end: clock::rfc3339(row.window_end),
        bandwidth,
        block_signatures: if browser {
            state.block_signatures.clone()
        } else {
            Vec::new()
        },
        data_sender,
        round: round.map(|(id, _)| id),
    }))
}

/// `POST /api/agent/v1/extensions`: what the agent's browser has installed, sent with a poll
/// when it changed; a filter extension's change starts a round of the watched products that
/// take the agent in.
pub async fn extensions(
    State(state): State<AppState>,
    agent: AgentAuth,
    Body(body): Body,
) -> Result<StatusCode, Failure> {
    let seen: ExtensionsSeen = parse_json(&body, "extensions")?;
    if seen.extensions.len() > 1_000 {
        return Err(Failure::unprocessable(
            "invalid_extensions",
            "more than 1,000 extensions; send the browser's list as it is",
        )
        .field("extensions"));
    }
    for (i, e) in seen.extensions.iter().enumerate() {
        let id_ok = e.id.len() == 32 && e.id.chars().all(|c| ('a'..='p').contains(&c));
        let short = |t: &str, n: usize| t.chars().count() <= n && !t.chars().any(char::is_control);
        if !id_ok || !short(&e.name, 200) || !short(&e.version, 64) {
            return Err(Failure::unprocessable(
                "invalid_extensions",
                "an extension needs a 32-letter id (a to p), a name of at most 200 and a version of at most 64 printable characters",
            )
            .field(format!("extensions[{i}]")));
        }
    }
    crate::evaluation::watch::extensions_seen(&state, &agent.row, &seen.extensions).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// What a browser agent is sent beside the profile's text: the profile as JSON (the serde form
/// of the parsed profile, which passed validation when it was uploaded) and its checks, planned
/// by core as the native agent plans them.
fn browser_plan(toml: &str) -> Result<(Option<serde_json::Value>, Vec<PlannedCheck>), Failure> {
    let profile = fitcheck_core::profile::Profile::parse("stored profile", toml)
        .map_err(|e| Failure::internal(format!("a stored profile no longer parses: {e}")))?;
    let json = serde_json::to_value(&profile)
        .map_err(|e| Failure::internal(format!("profile as JSON: {e}")))?;
    Ok((Some(json), fitcheck_core::plan::plan(&profile)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportQuery {
    evaluation: Option<String>,
}

/// `POST /api/agent/v1/reports[?evaluation=ID]`: 201 stored now, 200 stored before.
pub async fn submit_report(
    State(state): State<AppState>,
    agent: AgentAuth,
    query: Result<Query<ReportQuery>, QueryRejection>,
    Body(body): Body,
) -> Result<(StatusCode, Json<IngestResponse>), Failure> {
    let result = ingest(&state, &agent, query, &body).await;
    match &result {
        Ok((_, r)) => state.metrics.report(match r.result {
            Ingested::Stored => "stored",
            Ingested::Duplicate => "duplicate",
        }),
        Err(f) if f.status.is_client_error() => state.metrics.report("rejected"),
        Err(_) => {}
    }
    result
}

/// A report every rule of ingestion has passed: read, its schema, its sender's identity and
/// labels, its times, and — when it names an evaluation — the evaluation's scope, the agent's
/// role in it and the profile it ran.
struct Accepted {
    report: Report,
    evaluation_id: Option<Uuid>,
    check: Option<Arc<IngestCheck>>,
}

/// What a delivery holds, checked: the first step of ingestion, which stores nothing.
async fn accept(
    state: &AppState,
    agent: &AgentAuth,
    query: Result<Query<ReportQuery>, QueryRejection>,
    body: &[u8],
) -> Result<Accepted, Failure> {
    let Query(query) = query.map_err(|e| {
        Failure::bad_request(
            "invalid_query",
            format!("{e}; the only parameter is evaluation=<id>"),
        )
    })?;
    let report: Report = parse_json(body, "report")?;
    check_author(&report, agent)?;
    for (field, value) in [
        ("started_at", &report.started_at),
        ("finished_at", &report.finished_at),
    ] {
        clock::parse_rfc3339(value)
            .map_err(|e| Failure::unprocessable("invalid_report", e).field(field))?;
    }
    let (evaluation_id, check) = match query.evaluation.as_deref() {
        None => (None, None),
        Some(text) => {
            let (id, check) = check_evaluation(state, agent, &report, text).await?;
            (Some(id), Some(check))
        }
    };
    Ok(Accepted {
        report,
        evaluation_id,
        check,
    })
}

/// A report in a schema this controller reads, from the agent that sends it, carrying the
/// version and labels it enrolled with.
fn check_author(report: &Report, agent: &AgentAuth) -> Result<(), Failure> {
    if report.schema != REPORT_SCHEMA {
        return Err(Failure::unprocessable(
            "unknown_schema",
            format!(
                "report schema {:?} is not one this controller reads ({REPORT_SCHEMA}); upgrade the controller or use a matching agent",
                report.schema
            ),
        )
        .field("schema"));
    }
    if report.agent.agent_id != agent.id {
        return Err(Failure::forbidden(format!(
            "the report names agent {} but was sent by agent {}; an agent delivers only its own reports",
            report.agent.agent_id, agent.id
        ))
        .field("agent.agent_id"));
    }
    // A report says who made it the way enrollment did, and carries the labels it was enrolled
    // with: pages group reports by them, so a report may not move itself to another site.
    check_version(&report.agent.version, "agent.version")?;
    check_labels(&report.agent.labels, "agent.labels")?;
    let enrolled: BTreeMap<String, String> = serde_json::from_str(&agent.row.labels)
        .map_err(|e| Failure::internal(format!("agent {}: stored labels: {e}", agent.id)))?;
    if report.agent.labels != enrolled {
        let shown = |l: &BTreeMap<String, String>| {
            l.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        return Err(Failure::unprocessable(
            "labels_mismatch",
            format!(
                "the report's labels ({}) are not the ones this agent enrolled with ({}); an agent \
                 reports with its enrolled labels (enroll it again to change them)",
                shown(&report.agent.labels),
                shown(&enrolled)
            ),
        )
        .field("agent.labels"));
    }
    Ok(())
}

/// The evaluation a report is delivered for: one that exists, takes in this agent in the role
/// the report plays (a device, or a machine that sends the roster files), and runs the profile
/// the report ran.
async fn check_evaluation(
    state: &AppState,
    agent: &AgentAuth,
    report: &Report,
    text: &str,
) -> Result<(Uuid, Arc<IngestCheck>), Failure> {
    let id = Uuid::parse_str(text).map_err(|_| {
        Failure::bad_request(
            "invalid_query",
            format!("evaluation {text:?} is not a UUID"),
        )
        .field("evaluation")
    })?;
    let check = state
        .store
        .ingest_check(&id.to_string())
        .await?
        .ok_or_else(|| {
            Failure::unprocessable("unknown_evaluation", format!("no evaluation {id}"))
                .field("evaluation")
        })?;
    let spec = spec_of(&check.evaluation)?;
    let sender = sends(&spec, &agent.row);
    if !in_scope(&spec, &agent.row) && !sender {
        return Err(Failure::forbidden(format!(
            "evaluation {id} does not include this agent's site or group"
        ))
        .field("evaluation"));
    }
    // What a report is, a device's or a sending machine's, follows the agent's group: a device
    // cannot pass a transfer check, nor a sending machine a device's checks.
    if fitcheck_core::transfer::is_sender_report(&report.results) != sender {
        let why = if sender {
            "this agent is one of the evaluation's data senders: it checks the transfer endpoint alone (an agent that ignores data_sender is older than this controller: upgrade it)"
        } else {
            "only the evaluation's data senders check the transfer endpoint (data.endpoint)"
        };
        return Err(Failure::unprocessable("wrong_role", why).field("results"));
    }
    let digest = &check.profile_digest;
    if &report.profile.digest != digest {
        return Err(Failure::unprocessable(
            "profile_mismatch",
            format!(
                "the report ran profile {} but evaluation {id} uses {digest}",
                report.profile.digest
            ),
        )
        .field("profile.digest"));
    }
    Ok((id, check))
}

/// Ingestion in three steps: the report accepted, judged once against the evaluation's
/// profile (what a recommendation reads), then stored with its judgement.
async fn ingest(
    state: &AppState,
    agent: &AgentAuth,
    query: Result<Query<ReportQuery>, QueryRejection>,
    body: &[u8],
) -> Result<(StatusCode, Json<IngestResponse>), Failure> {
    let accepted = accept(state, agent, query, body).await?;
    let received_at_ms = clock::now_ms();
    let judgement = judge(state, agent, &accepted, received_at_ms)?;
    store(state, agent, accepted, judgement, received_at_ms).await
}

/// The accepted report judged against its evaluation's profile; none without one.
fn judge(
    state: &AppState,
    agent: &AgentAuth,
    accepted: &Accepted,
    received_at_ms: i64,
) -> Result<Option<StoredJudgement>, Failure> {
    let Some((c, profile)) = accepted
        .check
        .as_ref()
        .and_then(|c| c.profile.as_ref().map(|p| (c, p)))
    else {
        return Ok(None);
    };
    let j = judge_with(
        &state.catalog,
        profile,
        &c.profile_digest,
        Arrival {
            report_id: accepted.report.report_id.to_string(),
            agent_id: agent.id.to_string(),
            site: agent.row.site.clone(),
            received_at_ms,
        },
        &accepted.report,
    );
    let json = serde_json::to_string(&j).map_err(|e| {
        Failure::internal(format!("the report's judgement could not be encoded: {e}"))
    })?;
    Ok(Some(StoredJudgement {
        model: j.model,
        version: j.version,
        json,
    }))
}

/// The accepted report and its judgement stored in one write: 201 stored now, 200 stored
/// before (delivery is idempotent on the report id).
async fn store(
    state: &AppState,
    agent: &AgentAuth,
    accepted: Accepted,
    judgement: Option<StoredJudgement>,
    received_at_ms: i64,
) -> Result<(StatusCode, Json<IngestResponse>), Failure> {
    let Accepted {
        report,
        evaluation_id,
        ..
    } = accepted;
    let stored_body = serde_json::to_string(&report)
        .map_err(|e| Failure::internal(format!("report could not be re-encoded: {e}")))?;
    let report_id = report.report_id;
    let result = state
        .store
        .ingest(NewReport {
            report_id,
            agent_id: agent.id,
            evaluation_id,
            profile_digest: report.profile.digest,
            site: agent.row.site.clone(),
            started_at: report.started_at,
            received_at_ms,
            body: stored_body,
            judgement,
        })
        .await?;
    tracing::debug!(%report_id, agent_id = %agent.id, ?result, "Report ingested.");
    let status = match result {
        Ingested::Stored => StatusCode::CREATED,
        Ingested::Duplicate => StatusCode::OK,
    };
    Ok((status, Json(IngestResponse { report_id, result })))
}
