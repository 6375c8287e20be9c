//! Profiles (`/api/v1/profiles`): uploaded by administrators, validated with the command line's
//! errors, read by everyone signed in.

use crate::clock;
use crate::edge::error::Failure;
use crate::edge::extract::{Admin, Body, Person};
use crate::edge::state::AppState;
use crate::store::ProfileRow;
use crate::types::ProfileInfo;
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fitcheck_core::api::ErrorDetail;
use fitcheck_core::profile::Profile;
use serde::Deserialize;
use uuid::Uuid;

/// The largest profile accepted.
pub const PROFILE_MAX_BYTES: usize = 1 << 20;

pub(crate) fn profile_info(p: &ProfileRow) -> ProfileInfo {
    ProfileInfo {
        id: p.id.clone(),
        profile_id: p.profile_id.clone(),
        name: p.name.clone(),
        vendor: p.vendor.clone(),
        digest: p.digest.clone(),
        file_name: p.file_name.clone(),
        uploaded_by: p.uploaded_by.clone(),
        uploaded_at: clock::rfc3339(p.uploaded_at),
    }
}

#[derive(Debug, Deserialize)]
pub struct UploadQuery {
    /// The file name errors are reported against.
    name: Option<String>,
}

/// `POST /api/v1/profiles?name=FILE`: the body is the profile's TOML. Errors are the same as
/// `fitcheck-agent profile check` prints, one detail each with line, column and key path.
pub async fn upload_profile(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Query(q): Query<UploadQuery>,
    Body(body): Body,
) -> Result<(StatusCode, Json<ProfileInfo>), Failure> {
    let file_name = q
        .name
        .filter(|n| !n.is_empty() && n.len() <= 200)
        .unwrap_or_else(|| "profile.toml".to_owned());
    if body.len() > PROFILE_MAX_BYTES {
        return Err(Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!(
                "{file_name}: a profile is at most {PROFILE_MAX_BYTES} bytes (the bundled ones are a \
                 few KiB); list the product's domains, not every host name"
            ),
        ));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|e| {
            Failure::bad_request(
                "not_utf8",
                format!("{file_name}: a profile must be UTF-8 text ({e})"),
            )
        })?
        .to_owned();
    // Parsing and locating errors take CPU in proportion to the file: off the async workers,
    // one file at a time, so an upload never holds up /healthz or the agents.
    let parsed = {
        let _turn = state
            .profile_parsing
            .acquire()
            .await
            .map_err(|_| Failure::internal("the profile parser is closed"))?;
        let (name, source) = (file_name.clone(), text.clone());
        tokio::task::spawn_blocking(move || Profile::parse(&name, &source))
            .await
            .map_err(|e| Failure::internal(format!("profile parsing failed: {e}")))?
    };
    let text = text.as_str();
    let profile = parsed.map_err(|errors| {
        let details: Vec<ErrorDetail> = errors
            .errors
            .iter()
            .map(|e| ErrorDetail {
                line: u32::try_from(e.line).ok(),
                column: u32::try_from(e.column).ok(),
                path: (!e.path.is_empty()).then(|| e.path.clone()),
                message: e.to_string(),
            })
            .collect();
        let first = details
            .first()
            .map(|d| d.message.clone())
            .unwrap_or_default();
        Failure::unprocessable(
            "invalid_profile",
            format!(
                "the profile has {} error(s){}; nothing was stored. First: {first}",
                details.len() + errors.more,
                if errors.more > 0 {
                    format!(" (the first {} are listed)", details.len())
                } else {
                    String::new()
                }
            ),
        )
        .field(
            details
                .first()
                .and_then(|d| d.path.clone())
                .unwrap_or_default(),
        )
        .details(details)
    })?;
    let row = ProfileRow {
        id: Uuid::new_v4().to_string(),
        profile_id: profile.id.clone(),
        name: profile.name.clone(),
        vendor: profile.vendor.clone(),
        digest: fitcheck_core::digest(&body),
        file_name,
        toml: text.to_owned(),
        uploaded_by: admin.user.username.clone(),
        uploaded_at: clock::now_ms(),
    };
    let stored = state.store.insert_profile(&row).await?;
    let status = if stored.id == row.id {
        tracing::info!(by = %admin.user.username, profile = %stored.profile_id, digest = %stored.digest, "Profile stored.");
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(profile_info(&stored))))
}

/// `GET /api/v1/profiles`.
pub async fn list_profiles(
    State(state): State<AppState>,
    _who: Person,
) -> Result<Json<Vec<ProfileInfo>>, Failure> {
    Ok(Json(
        state
            .store
            .list_profiles()
            .await?
            .iter()
            .map(profile_info)
            .collect(),
    ))
}

/// `GET /api/v1/profiles/{id}`: the stored file itself, as TOML.
pub async fn get_profile(
    State(state): State<AppState>,
    _who: Person,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let p = state
        .store
        .get_profile(&id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("no profile {id}")))?;
    Ok((
        [(header::CONTENT_TYPE, "application/toml; charset=utf-8")],
        p.toml,
    )
        .into_response())
}
