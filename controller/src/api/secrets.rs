//! Enrollment secrets (`/api/v1/enrollment-secrets`): what an agent enrolls with, shown once,
//! revocable.

use crate::edge::error::Failure;
use crate::edge::extract::{Admin, Body, parse_json};
use crate::edge::state::AppState;
use crate::types::{NewSecret, SecretInfo};
use crate::{auth, clock};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

fn secret_info(s: crate::store::SecretRow, secret: Option<String>) -> SecretInfo {
    SecretInfo {
        id: s.id,
        name: s.name,
        created_at: clock::rfc3339(s.created_at),
        expires_at: s.expires_at.map(clock::rfc3339),
        revoked_at: s.revoked_at.map(clock::rfc3339),
        secret,
    }
}

/// `GET /api/v1/enrollment-secrets`.
pub async fn list_secrets(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<SecretInfo>>, Failure> {
    Ok(Json(
        state
            .store
            .list_secrets()
            .await?
            .into_iter()
            .map(|s| secret_info(s, None))
            .collect(),
    ))
}

/// `POST /api/v1/enrollment-secrets`: several may be valid at once, so a new one can be
/// rolled out before the old one is revoked.
pub async fn create_secret(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Body(body): Body,
) -> Result<(StatusCode, Json<SecretInfo>), Failure> {
    let req: NewSecret = parse_json(&body, "new enrollment secret")?;
    if req.name.trim().is_empty() || req.name.len() > 200 {
        return Err(
            Failure::unprocessable("invalid_body", "name must be 1-200 characters").field("name"),
        );
    }
    let now = clock::now_ms();
    let expires = match &req.expires_at {
        None => None,
        Some(t) => {
            let ms = clock::parse_rfc3339(t)
                .map_err(|e| Failure::unprocessable("invalid_body", e).field("expires_at"))?;
            if ms <= now {
                return Err(
                    Failure::unprocessable("invalid_body", "expires_at is in the past")
                        .field("expires_at"),
                );
            }
            Some(ms)
        }
    };
    let secret = auth::new_token(auth::TokenKind::Enrollment);
    let id = state
        .store
        .create_secret(&req.name, &auth::token_hash(&secret), now, expires)
        .await?;
    tracing::info!(by = %admin.user.username, %id, name = %req.name, "Enrollment secret created.");
    Ok((
        StatusCode::CREATED,
        Json(SecretInfo {
            id,
            name: req.name,
            created_at: clock::rfc3339(now),
            expires_at: expires.map(clock::rfc3339),
            revoked_at: None,
            secret: Some(secret),
        }),
    ))
}

/// `POST /api/v1/enrollment-secrets/{id}/revoke`: agents enrolled with it stay enrolled.
pub async fn revoke_secret(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Failure> {
    if state.store.revoke_secret(&id, clock::now_ms()).await? {
        tracing::info!(by = %admin.user.username, %id, "Enrollment secret revoked.");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Failure::not_found(format!(
            "no enrollment secret {id} that is not revoked already"
        )))
    }
}
