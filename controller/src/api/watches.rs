//! Watches and where their alerts go: `/api/v1/evaluations/{id}/watch` (an approved product
//! watched on a schedule; its rounds and alerts), `/api/v1/watches`, and `/api/v1/channels`
//! (webhooks, with a test send).

use std::net::IpAddr;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use uuid::Uuid;

use crate::clock;
use crate::edge::error::Failure;
use crate::edge::extract::{Admin, Body, Person, parse_json};
use crate::edge::state::AppState;
use crate::evaluation::watch;
use crate::notify::{Message, webhook};
use crate::store::{AlertRow, ChannelRow, RoundRow, WatchRow};
use crate::types::{
    AlertInfo, ChannelInfo, NewChannel, NewWatch, RoundInfo, Standing, WatchDetail, WatchInfo,
};

/// Rounds a watch's detail shows.
const ROUNDS_SHOWN: i64 = 48;

/// `POST /api/v1/evaluations/{id}/watch`: watch an approved product.
pub async fn create(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
    Body(body): Body,
) -> Result<(StatusCode, Json<WatchDetail>), Failure> {
    let req: NewWatch = parse_json(&body, "watch")?;
    let w = watch::create(&state, &id, &req, &admin.user.username).await?;
    tracing::info!(by = %admin.user.username, evaluation = %id, schedule = %w.schedule, zone = %w.zone, "Watch created.");
    Ok((StatusCode::CREATED, Json(detail(&state, w).await?)))
}

/// `GET /api/v1/evaluations/{id}/watch`: the watch, its recent rounds and its alerts.
pub async fn get(
    State(state): State<AppState>,
    _who: Person,
    Path(id): Path<String>,
) -> Result<Json<WatchDetail>, Failure> {
    Ok(Json(detail_of(&state, &id).await?))
}

/// Evaluation `id`'s watch with its recent rounds and alerts (the API's and the page's).
pub async fn detail_of(state: &AppState, id: &str) -> Result<WatchDetail, Failure> {
    let w = state
        .store
        .get_watch(id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("evaluation {id} is not watched")))?;
    detail(state, w).await
}

/// `POST /api/v1/evaluations/{id}/watch/rounds`: a round now, outside the schedule.
pub async fn round_now(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Failure> {
    watch::round_now(&state, &id).await?;
    tracing::info!(by = %admin.user.username, evaluation = %id, "Watch round asked for.");
    Ok(StatusCode::ACCEPTED)
}

/// `GET /api/v1/watches`: every watch and how it stands.
pub async fn list(
    State(state): State<AppState>,
    _who: Person,
) -> Result<Json<Vec<WatchInfo>>, Failure> {
    Ok(Json(list_of(&state).await?))
}

/// Every watch and how it stands (the API's and the board's).
pub async fn list_of(state: &AppState) -> Result<Vec<WatchInfo>, Failure> {
    let mut out = Vec::new();
    for w in state.store.list_watches().await? {
        let alerts = state.store.alerts_of(&w.evaluation_id).await?;
        let last = state.store.rounds_of(&w.evaluation_id, 4).await?;
        let decided = last.iter().find(|r| r.decided_at.is_some());
        out.push(info(state, &w, &alerts, decided).await?);
    }
    Ok(out)
}

async fn detail(state: &AppState, w: WatchRow) -> Result<WatchDetail, Failure> {
    let alerts = state.store.alerts_of(&w.evaluation_id).await?;
    let rounds = state
        .store
        .rounds_of(&w.evaluation_id, ROUNDS_SHOWN)
        .await?;
    let watch = info(
        state,
        &w,
        &alerts,
        rounds.iter().find(|r| r.decided_at.is_some()),
    )
    .await?;
    Ok(WatchDetail {
        watch,
        rounds: rounds.iter().map(round_info).collect::<Result<_, _>>()?,
        alerts: alerts.into_iter().map(alert_info).collect(),
    })
}

async fn info(
    state: &AppState,
    w: &WatchRow,
    alerts: &[AlertRow],
    last: Option<&RoundRow>,
) -> Result<WatchInfo, Failure> {
    let row = state
        .store
        .get_evaluation(&w.evaluation_id)
        .await?
        .ok_or_else(|| Failure::internal(format!("watch {}: evaluation gone", w.evaluation_id)))?;
    let profile = crate::evaluation::scope::profile_of(&state.store, &row).await?;
    let baseline: fitcheck_engine::watch::Baseline =
        serde_json::from_str(&w.baseline).map_err(|e| {
            Failure::internal(format!("watch {}: stored baseline: {e}", w.evaluation_id))
        })?;
    Ok(WatchInfo {
        evaluation_id: w.evaluation_id.clone(),
        title: row.title,
        product: profile.name,
        schedule: w.schedule.clone(),
        zone: w.zone.clone(),
        maintenance: serde_json::from_str(&w.maintenance).unwrap_or_default(),
        next_round_at: clock::rfc3339(w.next_round_at),
        watched: baseline.passed.len(),
        open_alerts: alerts.iter().filter(|a| a.resolved_at.is_none()).count(),
        last_round: last.map(round_info).transpose()?,
    })
}

fn round_info(r: &RoundRow) -> Result<RoundInfo, Failure> {
    let standings: Vec<Standing> = match &r.standings {
        Some(text) => serde_json::from_str(text)
            .map_err(|e| Failure::internal(format!("round {}: stored standings: {e}", r.id)))?,
        None => Vec::new(),
    };
    Ok(RoundInfo {
        started_at: clock::rfc3339(r.started_at),
        decided_at: r.decided_at.map(clock::rfc3339),
        maintenance: r.maintenance != 0,
        standings,
    })
}

fn alert_info(a: AlertRow) -> AlertInfo {
    AlertInfo {
        id: a.id,
        site: a.site,
        requirement: a.requirement,
        opened_at: clock::rfc3339(a.opened_at),
        resolved_at: a.resolved_at.map(clock::rfc3339),
        summary: a.summary,
        owner: a.owner,
    }
}

/// `POST /api/v1/channels`: a webhook alerts go to.
pub async fn create_channel(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Body(body): Body,
) -> Result<(StatusCode, Json<ChannelInfo>), Failure> {
    let req: NewChannel = parse_json(&body, "channel")?;
    let invalid = |field: &str, message: String| {
        Failure::unprocessable("invalid_channel", message).field(field)
    };
    let name = req.name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(invalid(
            "name",
            "name the channel in up to 100 printable characters".to_owned(),
        ));
    }
    let target = match req.kind.as_str() {
        "webhook" | "slack" | "teams" => webhook_target(&req).map_err(|e| invalid("url", e))?,
        "smtp" => {
            let smtp = req.smtp.as_ref().ok_or_else(|| {
                invalid(
                    "smtp",
                    "an smtp channel needs its `smtp` settings".to_owned(),
                )
            })?;
            crate::notify::smtp::check(smtp, req.secret.is_some())
                .map_err(|e| invalid("smtp", e))?;
            let literal: Option<IpAddr> = smtp.host.parse().ok();
            if !req.allow_private && literal.is_some_and(webhook::forbidden) {
                return Err(invalid(
                    "smtp",
                    format!(
                        "{} is a loopback, link-local or cloud-metadata address; set allow_private if this server is meant",
                        smtp.host
                    ),
                ));
            }
            serde_json::to_string(smtp).map_err(|e| Failure::internal(e.to_string()))?
        }
        other => {
            return Err(invalid(
                "kind",
                format!("{other:?} is not a channel kind; use webhook, slack, teams or smtp"),
            ));
        }
    };
    let row = ChannelRow {
        id: Uuid::now_v7().to_string(),
        name: name.to_owned(),
        kind: req.kind.clone(),
        target,
        secret: req.secret.filter(|s| !s.is_empty()),
        allow_private: i64::from(req.allow_private),
        created_by: admin.user.username.clone(),
        created_at: clock::now_ms(),
    };
    state.store.insert_channel(&row).await?;
    tracing::info!(by = %admin.user.username, channel = %row.id, kind = %row.kind, "Alert channel created.");
    Ok((StatusCode::CREATED, Json(channel_info(&state, row).await?)))
}

/// A webhook's URL, checked; a literal address on loopback, link-local or cloud-metadata
/// ranges refused unless the channel allows private addresses (names are checked when sent).
fn webhook_target(req: &NewChannel) -> Result<String, String> {
    let text = req
        .url
        .as_deref()
        .ok_or_else(|| "a webhook channel needs its `url`".to_owned())?;
    let url = webhook::check_url(text)?;
    let literal: Option<IpAddr> = url
        .host_str()
        .and_then(|h| h.trim_start_matches('[').trim_end_matches(']').parse().ok());
    if !req.allow_private && literal.is_some_and(webhook::forbidden) {
        return Err(format!(
            "{} is a loopback, link-local or cloud-metadata address; set allow_private if this receiver is meant",
            url.host_str().unwrap_or_default()
        ));
    }
    Ok(url.to_string())
}

/// `GET /api/v1/channels`.
pub async fn list_channels(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<ChannelInfo>>, Failure> {
    let mut out = Vec::new();
    for c in state.store.list_channels().await? {
        out.push(channel_info(&state, c).await?);
    }
    Ok(Json(out))
}

/// `DELETE /api/v1/channels/{id}`: no more messages go there (those owed are dropped).
pub async fn remove_channel(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Failure> {
    if !state.store.remove_channel(&id).await? {
        return Err(Failure::not_found(format!("no channel {id}")));
    }
    tracing::info!(by = %admin.user.username, channel = %id, "Alert channel removed.");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/channels/{id}/test`: queues a test message, delivered like an alert.
pub async fn test_channel(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Failure> {
    let channel = state
        .store
        .get_channel(&id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("no channel {id}")))?;
    let now = clock::now_ms();
    let message = Message {
        event_id: Uuid::now_v7().to_string(),
        kind: "test".to_owned(),
        evaluation_id: String::new(),
        product: "fitcheck".to_owned(),
        requirement: String::new(),
        title: "Test message".to_owned(),
        sites: Vec::new(),
        since: clock::rfc3339(now),
        summary: format!(
            "a test of channel {:?}, sent by {}",
            channel.name, admin.user.username
        ),
        owner: "no one".to_owned(),
    };
    let text = serde_json::to_string(&message).map_err(|e| Failure::internal(e.to_string()))?;
    state
        .store
        .insert_message(&Uuid::now_v7().to_string(), &channel.id, &text, now)
        .await?;
    Ok(StatusCode::ACCEPTED)
}

async fn channel_info(state: &AppState, c: ChannelRow) -> Result<ChannelInfo, Failure> {
    let messages = state.store.messages_of(&c.id, 100).await?;
    Ok(ChannelInfo {
        pending: messages.iter().filter(|m| m.delivered_at.is_none()).count(),
        last_error: messages
            .iter()
            .find(|m| m.delivered_at.is_none())
            .and_then(|m| m.last_error.clone()),
        id: c.id,
        name: c.name,
        url: match c.kind.as_str() {
            "smtp" => serde_json::from_str::<crate::types::SmtpTarget>(&c.target)
                .map(|t| format!("smtp://{} ({}) to {}", t.host, t.security, t.to.join(", ")))
                .unwrap_or_default(),
            _ => c.target,
        },
        kind: c.kind,
        signed: c.secret.is_some(),
        allow_private: c.allow_private != 0,
    })
}
