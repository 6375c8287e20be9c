//! The extractors every route relies on: who is calling (an agent by its bearer credential, a
//! person by the session cookie, an administrator), the client's address, a bounded body, and
//! JSON read with the field at fault named.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use uuid::Uuid;

use crate::edge::error::Failure;
use crate::edge::state::AppState;
use crate::store::{AgentRow, UserRow};
use crate::{auth, clock};

/// An authenticated agent: its bearer credential is known and not revoked, and it is within
/// its request budget.
#[derive(Debug)]
pub struct AgentAuth {
    pub id: Uuid,
    pub row: AgentRow,
}

impl FromRequestParts<AppState> for AgentAuth {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let token = bearer(parts).ok_or_else(|| {
            Failure::unauthorized(
                "this route needs the agent's credential (Authorization: Bearer …); enroll the agent first",
            )
        })?;
        let row = state
            .store
            .agent_by_credential(&auth::token_hash(token))
            .await?
            .ok_or_else(|| {
                Failure::unauthorized("unknown agent credential; enroll the agent again")
            })?;
        if row.revoked_at.is_some() {
            return Err(Failure::unauthorized(
                "this agent was revoked by an administrator; it must be enrolled again",
            ));
        }
        let id = Uuid::parse_str(&row.id)
            .map_err(|_| Failure::internal("stored agent id is not a UUID"))?;
        let admission = state.limiter.admit(id, Instant::now());
        if admission.touch {
            state.store.touch_agent(id, clock::now_ms());
        }
        if !admission.allowed {
            return Err(Failure::rate_limited(admission.retry_after_s));
        }
        Ok(AgentAuth { id, row })
    }
}

fn bearer(parts: &Parts) -> Option<&str> {
    parts
        .headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// The client's address, when the server knows it.
#[derive(Debug, Clone, Copy)]
pub struct Peer(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(
            parts
                .extensions
                .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
                .map(|c| c.0.ip()),
        ))
    }
}

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "fitcheck_session";

fn session_token(parts: &Parts) -> Option<String> {
    session_cookie(&parts.headers)
}

/// The session cookie's value among a request's cookies (read with the `cookie` crate).
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(cookie::Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == SESSION_COOKIE)
        .map(|c| c.value().to_owned())
}

/// The `Set-Cookie` value for the session cookie: `token` for `max_age_s` seconds, or the
/// cookie cleared (no token, no time). Only this server's pages send it back (`SameSite=Strict`),
/// no script reads it (`HttpOnly`), and over HTTPS only when `secure`.
pub fn session_set_cookie(token: Option<&str>, max_age_s: i64, secure: bool) -> String {
    cookie::Cookie::build((SESSION_COOKIE, token.unwrap_or_default()))
        .path("/")
        .http_only(true)
        .same_site(cookie::SameSite::Strict)
        .max_age(cookie::time::Duration::seconds(if token.is_some() {
            max_age_s
        } else {
            0
        }))
        .secure(secure)
        .build()
        .to_string()
}

/// What a person whose password is one-time may reach: the API's way to change it, and the
/// page's.
const ONE_TIME_PATHS: [&str; 5] = [
    "/api/v1/me",
    "/api/v1/me/password",
    "/api/v1/logout",
    "/password",
    "/logout",
];

/// A logged-in person (admin or reviewer).
#[derive(Debug)]
pub struct Person {
    pub user: UserRow,
    /// The session token's hash (for log-out).
    pub session_hash: String,
}

impl FromRequestParts<AppState> for Person {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let token = session_token(parts)
            .ok_or_else(|| Failure::unauthorized("log in first (POST /api/v1/login)"))?;
        let hash = auth::token_hash(&token);
        let user = state
            .store
            .session_user(&hash, clock::now_ms())
            .await?
            .ok_or_else(|| Failure::unauthorized("the session has ended; log in again"))?;
        // A one-time password opens nothing but the way to choose one's own.
        // Inside the nested /api/v1 router the URI has lost its prefix; the original has it.
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(parts.uri.path(), |u| u.0.path());
        if user.must_change_password() && !ONE_TIME_PATHS.contains(&path) {
            return Err(Failure::forbidden(
                "choose your own password first: POST /api/v1/me/password with the one-time \
                 password as `current` (or log in on the web page)",
            )
            .code("password_change_required"));
        }
        Ok(Person {
            user,
            session_hash: hash,
        })
    }
}

/// A logged-in administrator (technology operations).
#[derive(Debug)]
pub struct Admin(pub Person);

impl FromRequestParts<AppState> for Admin {
    type Rejection = Failure;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Failure> {
        let person = Person::from_request_parts(parts, state).await?;
        if person.user.role != "admin" {
            return Err(Failure::forbidden(
                "this needs an administrator; reviewers can read evaluations and reports",
            ));
        }
        Ok(Admin(person))
    }
}

/// A request body read up to the configured limit; larger ones are refused with 413 before
/// anything is parsed or stored.
#[derive(Debug)]
pub struct Body(pub Bytes);

impl FromRequest<AppState> for Body {
    type Rejection = Failure;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Failure> {
        let limit = state.limits.max_body_bytes;
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > limit as u64) {
            return Err(Failure::too_large(limit));
        }
        match axum::body::to_bytes(req.into_body(), limit).await {
            Ok(bytes) => Ok(Body(bytes)),
            Err(e) => {
                let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
                while let Some(s) = source {
                    if s.is::<http_body_util::LengthLimitError>() {
                        return Err(Failure::too_large(limit));
                    }
                    source = s.source();
                }
                Err(Failure::bad_request(
                    "unreadable_body",
                    format!("the request body could not be read: {e}"),
                ))
            }
        }
    }
}

/// Parses a JSON body into `T`, naming the field at fault.
pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, Failure> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let value: T =
        serde_path_to_error::deserialize(&mut de).map_err(|e| Failure::from_json(e, what))?;
    de.end().map_err(|e| {
        Failure::bad_request(
            "malformed_json",
            format!("{what}: trailing characters after the JSON value: {e}"),
        )
    })?;
    Ok(value)
}
