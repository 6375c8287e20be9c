//! The people's routes (`/api/v1`) and the operations endpoints. Administrators manage
//! enrollment secrets, agents, profiles and evaluations; reviewers read evaluations, their
//! reports and the profiles behind them, nothing else.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fitcheck_core::api::ErrorDetail;
use fitcheck_core::profile::Profile;
use serde::Deserialize;
use uuid::Uuid;

use crate::agent_api::{in_scope, spec_of};
use crate::api::{
    AgentSummary, EvaluationInfo, Login, Me, NewEvaluation, NewSecret, NewUser, PasswordChange,
    ProfileInfo, ReportInfo, RoleChange, SecretInfo, ServerInfo, UserCreated,
};
use crate::error::Failure;
use crate::extract::{Admin, Body, Peer, Person, parse_json};
use crate::state::AppState;
use crate::store::{Backend, EvaluationRow, ProfileRow, ReportSummary, UserRow};
use crate::{auth, clock};

/// The largest profile accepted.
pub const PROFILE_MAX_BYTES: usize = 1 << 20;

/// `POST /api/v1/login`: sets the session cookie.
pub async fn login(
    State(state): State<AppState>,
    peer: Peer,
    Body(body): Body,
) -> Result<Response, Failure> {
    let req: Login = parse_json(&body, "log-in")?;
    let (user, cookie) = open_session(&state, peer, &req.username, &req.password).await?;
    let mut response = Json(me_of(&user)).into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

/// One password check, counted against the log-in budgets of its client's address (when
/// known) and of its user name: refused (429) when either is spent, before any password is
/// hashed; [`Attempt::succeeded`] gives the attempt back.
struct Attempt<'s> {
    state: &'s AppState,
    peer: Option<std::net::IpAddr>,
    name: String,
}

impl<'s> Attempt<'s> {
    fn begin(
        state: &'s AppState,
        peer: Option<std::net::IpAddr>,
        username: &str,
    ) -> Result<Attempt<'s>, Failure> {
        let now = std::time::Instant::now();
        // A user name longer than any allowed one is still one key, never a large one.
        let name: String = username.chars().take(64).collect::<String>().to_lowercase();
        if let Some(ip) = peer {
            let a = state.logins_by_address.admit(ip, now);
            if !a.allowed {
                tracing::info!(%ip, "Log-in refused: address over its budget.");
                return Err(Failure::too_many_logins(a.retry_after_s));
            }
        }
        let a = state.logins_by_user.admit(name.clone(), now);
        if !a.allowed {
            tracing::info!(username = %name, "Log-in refused: user name over its budget.");
            return Err(Failure::too_many_logins(a.retry_after_s));
        }
        Ok(Attempt { state, peer, name })
    }

    /// The password was right: the attempt costs nothing.
    fn succeeded(self) {
        if let Some(ip) = self.peer {
            self.state.logins_by_address.refund(&ip);
        }
        self.state.logins_by_user.refund(&self.name);
    }
}

/// A new Argon2id hash of `password`, on the password threads.
async fn hash_on_pool(state: &AppState, password: &str) -> Result<String, Failure> {
    state
        .passwords
        .hash(password)
        .await?
        .map_err(Failure::internal)
}

/// Checks a user name and password and opens a session: the person and the `Set-Cookie` value
/// that carries it. The log-in API and the web pages' log-in form both go through here.
///
/// Each attempt takes one from the budget of the client's address and one from the user
/// name's (given back when the log-in succeeds); past either, 429 with `Retry-After` before
/// any password is hashed. Hashing runs on the password threads; when they are all busy and
/// their queue is full, 503.
pub async fn open_session(
    state: &AppState,
    Peer(peer): Peer,
    username: &str,
    password: &str,
) -> Result<(UserRow, HeaderValue), Failure> {
    let attempt = Attempt::begin(state, peer, username)?;
    let user = state.store.user_by_name(username).await?;
    let stored = user.as_ref().map(|u| u.password_hash.clone());
    let ok = state.passwords.verify(password, stored).await?;
    let user = match (ok, user) {
        (true, Some(u)) => u,
        _ => {
            tracing::info!(%username, "Log-in refused.");
            return Err(Failure::unauthorized("wrong user name or password"));
        }
    };
    attempt.succeeded();
    let token = auth::new_token(auth::TokenKind::Session);
    let now = clock::now_ms();
    state
        .store
        .create_session(
            &auth::token_hash(&token),
            &user.id,
            now,
            now + state.limits.session_s * 1000,
        )
        .await?;
    let cookie = crate::extract::session_set_cookie(
        Some(&token),
        state.limits.session_s,
        state.secure_cookies,
    );
    let cookie = HeaderValue::from_str(&cookie)
        .map_err(|_| Failure::internal("a session cookie could not be written"))?;
    Ok((user, cookie))
}

/// Ends a person's session; the answer is the `Set-Cookie` value that clears the cookie.
pub async fn close_session(state: &AppState, person: &Person) -> Result<HeaderValue, Failure> {
    state.store.delete_session(&person.session_hash).await?;
    HeaderValue::from_str(&crate::extract::session_set_cookie(
        None,
        0,
        state.secure_cookies,
    ))
    .map_err(|_| Failure::internal("a session cookie could not be cleared"))
}

/// `POST /api/v1/logout`: ends the session.
pub async fn logout(State(state): State<AppState>, person: Person) -> Result<Response, Failure> {
    let cookie = close_session(&state, &person).await?;
    let mut response = StatusCode::NO_CONTENT.into_response();
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

fn me_of(user: &UserRow) -> Me {
    Me {
        username: user.username.clone(),
        role: user.role.clone(),
        password_change_required: user.must_change_password(),
    }
}

/// `GET /api/v1/me`.
pub async fn me(person: Person) -> Json<Me> {
    Json(me_of(&person.user))
}

/// The rule for a password a person chooses: 12 to 1024 characters.
pub fn check_new_password(password: &str) -> Result<(), Failure> {
    let n = password.chars().count();
    if !(12..=1024).contains(&n) {
        return Err(Failure::unprocessable(
            "weak_password",
            "a password must be 12 to 1,024 characters (a phrase of several words is easiest)",
        )
        .field("new"));
    }
    Ok(())
}

/// `POST /api/v1/me/password`: the person's own password, checked against the one in force;
/// their other sessions end. The way out of a one-time password.
pub async fn change_password(
    State(state): State<AppState>,
    person: Person,
    Body(body): Body,
) -> Result<StatusCode, Failure> {
    let req: PasswordChange = parse_json(&body, "password change")?;
    change_own_password(&state, &person, &req.current, &req.new).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Changes `person`'s password from `current` to `new` (the API and the page).
pub async fn change_own_password(
    state: &AppState,
    person: &Person,
    current: &str,
    new: &str,
) -> Result<(), Failure> {
    check_new_password(new)?;
    if new == current {
        return Err(Failure::unprocessable(
            "weak_password",
            "the new password must differ from the current one",
        )
        .field("new"));
    }
    let attempt = Attempt::begin(state, None, &person.user.username)?;
    let ok = state
        .passwords
        .verify(current, Some(person.user.password_hash.clone()))
        .await?;
    if !ok {
        return Err(Failure::forbidden("the current password is wrong").field("current"));
    }
    attempt.succeeded();
    let hash = hash_on_pool(state, new).await?;
    state
        .store
        .change_own_password(&person.user.id, &hash, &person.session_hash)
        .await?;
    tracing::info!(username = %person.user.username, "Password changed by its owner.");
    Ok(())
}

/// `POST /api/v1/users/{username}/reset-password`: a new one-time password (in the answer);
/// the person's sessions end at once and they choose their own at the next log-in.
pub async fn reset_password(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(username): Path<String>,
) -> Result<Json<UserCreated>, Failure> {
    let user = state
        .store
        .user_by_name(&username)
        .await?
        .ok_or_else(|| Failure::not_found(format!("no user named {username:?}")))?;
    let password = auth::new_password();
    let hash = hash_on_pool(&state, &password).await?;
    if !state.store.set_password(&username, &hash, true).await? {
        return Err(Failure::not_found(format!("no user named {username:?}")));
    }
    tracing::info!(by = %admin.user.username, %username, "Password reset; sessions ended.");
    Ok(Json(UserCreated {
        username: user.username,
        role: user.role,
        password,
    }))
}

/// `DELETE /api/v1/users/{username}`: removes a person; their sessions end at once.
pub async fn remove_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(username): Path<String>,
) -> Result<StatusCode, Failure> {
    if !state.store.remove_user(&username).await? {
        return Err(Failure::not_found(format!("no user named {username:?}")));
    }
    tracing::info!(by = %admin.user.username, %username, "User removed.");
    Ok(StatusCode::NO_CONTENT)
}

/// `POST /api/v1/users/{username}/role`: another role; their sessions end at once.
pub async fn set_role(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(username): Path<String>,
    Body(body): Body,
) -> Result<StatusCode, Failure> {
    let req: RoleChange = parse_json(&body, "role change")?;
    check_new_user(&NewUser {
        username: username.clone(),
        role: req.role.clone(),
    })?;
    if !state.store.set_role(&username, &req.role).await? {
        return Err(Failure::not_found(format!("no user named {username:?}")));
    }
    tracing::info!(by = %admin.user.username, %username, role = %req.role, "Role changed.");
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /api/v1/server`: version, certificate fingerprint, database kind.
pub async fn server_info(State(state): State<AppState>, _who: Person) -> Json<ServerInfo> {
    Json(ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        certificate_sha256: state.fingerprint.clone(),
        certificate_sha256_colons: crate::tls::fingerprint_colons(&state.fingerprint),
        database: match state.store.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
        .to_owned(),
        public_url: state.public_url.as_ref().map(ToString::to_string),
    })
}

/// `GET /api/v1/users`.
pub async fn list_users(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<Me>>, Failure> {
    Ok(Json(
        state
            .store
            .list_users()
            .await?
            .into_iter()
            .map(|u| me_of(&u))
            .collect(),
    ))
}

/// Checks a user name and role.
pub fn check_new_user(u: &NewUser) -> Result<(), Failure> {
    let name_ok = !u.username.is_empty()
        && u.username.len() <= 64
        && u.username
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@'));
    if !name_ok {
        return Err(Failure::unprocessable(
            "invalid_body",
            "username must be 1-64 letters, digits, '.', '-', '_' or '@'",
        )
        .field("username"));
    }
    if u.role != "admin" && u.role != "reviewer" {
        return Err(
            Failure::unprocessable("invalid_body", "role must be admin or reviewer").field("role"),
        );
    }
    Ok(())
}

/// `POST /api/v1/users`: answers with a one-time password.
pub async fn create_user(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Body(body): Body,
) -> Result<(StatusCode, Json<UserCreated>), Failure> {
    let req: NewUser = parse_json(&body, "new user")?;
    check_new_user(&req)?;
    let password = auth::new_password();
    let hash = hash_on_pool(&state, &password).await?;
    state
        .store
        .create_user(&req.username, &req.role, &hash, clock::now_ms())
        .await?;
    tracing::info!(by = %admin.user.username, username = %req.username, role = %req.role, "User created.");
    Ok((
        StatusCode::CREATED,
        Json(UserCreated {
            username: req.username,
            role: req.role,
            password,
        }),
    ))
}

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

/// `GET /api/v1/agents`.
pub async fn list_agents(
    State(state): State<AppState>,
    _admin: Admin,
) -> Result<Json<Vec<AgentSummary>>, Failure> {
    Ok(Json(
        state
            .store
            .list_agents()
            .await?
            .into_iter()
            .map(|a| AgentSummary {
                agent_id: a.id,
                labels: serde_json::from_str(&a.labels).unwrap_or_default(),
                version: a.version,
                enrolled_at: clock::rfc3339(a.enrolled_at),
                last_seen_at: clock::rfc3339(a.last_seen_at),
                revoked_at: a.revoked_at.map(clock::rfc3339),
            })
            .collect(),
    ))
}

/// `POST /api/v1/agents/{id}/revoke`: the agent is refused from its next request on.
pub async fn revoke_agent(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<String>,
) -> Result<StatusCode, Failure> {
    if state.store.revoke_agent(&id, clock::now_ms()).await? {
        tracing::info!(by = %admin.user.username, agent_id = %id, "Agent revoked.");
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(Failure::not_found(format!(
            "no agent {id} that is not revoked already"
        )))
    }
}

fn profile_info(p: &ProfileRow) -> ProfileInfo {
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

/// Checks an evaluation definition; fills in the start of its window.
fn check_evaluation(spec: &mut NewEvaluation, now: i64) -> Result<(i64, i64), Failure> {
    let bad =
        |field: &str, msg: String| Failure::unprocessable("invalid_evaluation", msg).field(field);
    if spec.title.trim().is_empty() || spec.title.len() > 200 {
        return Err(bad("title", "title must be 1-200 characters".into()));
    }
    let start = match &spec.window_start {
        Some(t) => clock::parse_rfc3339(t).map_err(|e| bad("window_start", e))?,
        None => {
            spec.window_start = Some(clock::rfc3339(now));
            now
        }
    };
    let end = clock::parse_rfc3339(&spec.window_end).map_err(|e| bad("window_end", e))?;
    if end <= start {
        return Err(bad(
            "window_end",
            "window_end must be after window_start".into(),
        ));
    }
    for site in spec.concurrent_users.keys() {
        if !spec.sites.is_empty() && !spec.sites.contains(site) {
            return Err(bad(
                &format!("concurrent_users.{site}"),
                format!("site {site:?} has planned users but is not in sites"),
            ));
        }
    }
    if let Some(b) = &spec.bandwidth {
        if !(b.max_seconds.is_finite() && b.max_seconds > 0.0 && b.max_seconds <= 15.0) {
            return Err(bad(
                "bandwidth.max_seconds",
                "max_seconds must be more than 0 and at most 15".into(),
            ));
        }
        if let Some(t) = &b.start_at {
            clock::parse_rfc3339(t).map_err(|e| bad("bandwidth.start_at", e))?;
        }
        for (site, t) in &b.site_start_at {
            clock::parse_rfc3339(t)
                .map_err(|e| bad(&format!("bandwidth.site_start_at.{site}"), e))?;
        }
    }
    // A ticked element the schedule does not have would read as "not covered" with no reason.
    for (i, t) in spec.proposal.dpa_exhibit_b.iter().flatten().enumerate() {
        let known = fitcheck_core::data::exhibit_b::element(t).is_some()
            || fitcheck_core::data::exhibit_b::Category::parse(t).is_some();
        if !known {
            return Err(bad(
                &format!("proposal.dpa_exhibit_b[{i}]"),
                format!(
                    "{t:?} is neither an Exhibit B element id (\"demographics.date_of_birth\") nor a category (\"student_identifiers\"); see core/src/data/exhibit_b.rs"
                ),
            ));
        }
    }
    if spec.os_updates_end.len() > 10_000 {
        return Err(bad(
            "os_updates_end",
            "names more than 10,000 device models; give the models in scope".to_owned(),
        ));
    }
    for (model, last) in &spec.os_updates_end {
        if model.trim().is_empty() || model.len() > 200 {
            return Err(bad(
                "os_updates_end",
                "a device model is empty or longer than 200 characters; use the model as the recommendation names it".to_owned(),
            ));
        }
        if last.parse::<fitcheck_core::version::Version>().is_err() {
            return Err(bad(
                &format!("os_updates_end.{model}"),
                format!(
                    "{last:?} is not a release; give the last OS release the model receives as dotted numbers (\"118\", \"13.7\")"
                ),
            ));
        }
    }
    if let Some(g) = &spec.data_senders
        && (g.trim().is_empty() || g.len() > 200)
    {
        return Err(bad(
            "data_senders",
            "data_senders is the group label of the machines that send the roster files (1-200 characters)".into(),
        ));
    }
    Ok((start, end))
}

/// `POST /api/v1/evaluations`.
pub async fn create_evaluation(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Body(body): Body,
) -> Result<(StatusCode, Json<EvaluationInfo>), Failure> {
    let mut spec: NewEvaluation = parse_json(&body, "evaluation")?;
    let now = clock::now_ms();
    let (start, end) = check_evaluation(&mut spec, now)?;
    if state.store.get_profile(&spec.profile).await?.is_none() {
        return Err(Failure::unprocessable(
            "invalid_evaluation",
            format!(
                "no stored profile {}; upload it first (POST /api/v1/profiles)",
                spec.profile
            ),
        )
        .field("profile"));
    }
    let row = EvaluationRow {
        id: Uuid::new_v4().to_string(),
        title: spec.title.clone(),
        profile: spec.profile.clone(),
        spec: serde_json::to_string(&spec).map_err(|e| Failure::internal(e.to_string()))?,
        window_start: start,
        window_end: end,
        created_by: admin.user.username.clone(),
        created_at: now,
    };
    state.store.insert_evaluation(&row).await?;
    tracing::info!(by = %admin.user.username, id = %row.id, title = %row.title, "Evaluation created.");
    Ok((
        StatusCode::CREATED,
        Json(evaluation_info(&state, row).await?),
    ))
}

async fn evaluation_info(state: &AppState, row: EvaluationRow) -> Result<EvaluationInfo, Failure> {
    let spec = spec_of(&row)?;
    let profile = state
        .store
        .get_profile(&row.profile)
        .await?
        .ok_or_else(|| Failure::internal(format!("evaluation {} lost its profile", row.id)))?;
    let mut reports_by_site: BTreeMap<String, u64> = BTreeMap::new();
    for r in state.store.reports_for_evaluation(&row.id).await? {
        *reports_by_site
            .entry(r.site.unwrap_or_else(|| "(no site)".into()))
            .or_default() += 1;
    }
    let mut agents_by_site: BTreeMap<String, u64> = BTreeMap::new();
    for a in state.store.list_agents().await? {
        if a.revoked_at.is_none() && in_scope(&spec, &a) {
            *agents_by_site
                .entry(a.site.clone().unwrap_or_else(|| "(no site)".into()))
                .or_default() += 1;
        }
    }
    let now = clock::now_ms();
    Ok(EvaluationInfo {
        id: row.id,
        title: row.title,
        profile: profile_info(&profile),
        spec,
        created_by: row.created_by,
        created_at: clock::rfc3339(row.created_at),
        open: row.window_start <= now && now < row.window_end,
        reports_by_site,
        agents_by_site,
    })
}

/// `GET /api/v1/evaluations`.
pub async fn list_evaluations(
    State(state): State<AppState>,
    _who: Person,
) -> Result<Json<Vec<EvaluationInfo>>, Failure> {
    let mut out = Vec::new();
    for row in state.store.list_evaluations().await? {
        out.push(evaluation_info(&state, row).await?);
    }
    Ok(Json(out))
}

/// `GET /api/v1/evaluations/{id}`: with progress per site.
pub async fn get_evaluation(
    State(state): State<AppState>,
    _who: Person,
    Path(id): Path<String>,
) -> Result<Json<EvaluationInfo>, Failure> {
    let row = state
        .store
        .get_evaluation(&id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("no evaluation {id}")))?;
    Ok(Json(evaluation_info(&state, row).await?))
}

fn report_info(r: ReportSummary) -> ReportInfo {
    ReportInfo {
        report_id: r.report_id,
        agent_id: r.agent_id,
        evaluation_id: r.evaluation_id,
        profile_digest: r.profile_digest,
        site: r.site,
        started_at: r.started_at,
        received_at: clock::rfc3339(r.received_at),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FormatQuery {
    format: Option<String>,
}

/// The `format` a download asks for, one of `allowed` (the first when none is given); a format
/// outside them is refused before anything is read.
fn format_of(
    query: Result<Query<FormatQuery>, axum::extract::rejection::QueryRejection>,
    allowed: &[&str],
) -> Result<String, Failure> {
    let Query(q) = query.map_err(|e| {
        Failure::bad_request(
            "invalid_query",
            format!("{e}; give format={}", allowed.join(", format=")),
        )
    })?;
    let format = q
        .format
        .unwrap_or_else(|| allowed.first().copied().unwrap_or_default().to_owned());
    if !allowed.contains(&format.as_str()) {
        return Err(not_a_format(&format, allowed));
    }
    Ok(format)
}

fn not_a_format(format: &str, allowed: &[&str]) -> Failure {
    Failure::bad_request(
        "invalid_query",
        format!("format {format:?} is not {}", allowed.join(" or ")),
    )
    .field("format")
}

/// `GET /api/v1/evaluations/{id}/recommendation[?format=json|md]`: the committee's document as
/// of now.
pub async fn get_recommendation(
    State(state): State<AppState>,
    _who: Person,
    Path(id): Path<String>,
    query: Result<Query<FormatQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Failure> {
    let format = format_of(query, &["json", "md"])?;
    let r = crate::dossier::recommendation(&state.store, &state.catalog, &id).await?;
    match format.as_str() {
        "json" => Ok(Json(r).into_response()),
        "md" => Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            crate::render::markdown(&r),
        )
            .into_response()),
        other => Err(not_a_format(other, &["json", "md"])),
    }
}

/// `GET /api/v1/evaluations/{id}/data-form?format=md|csv|pdf`: the Data Projects Form.
pub async fn get_data_form(
    State(state): State<AppState>,
    _who: Person,
    Path(id): Path<String>,
    query: Result<Query<FormatQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, Failure> {
    let format = format_of(query, &["md", "csv", "pdf"])?;
    let r = crate::dossier::recommendation(&state.store, &state.catalog, &id).await?;
    let none = || {
        Failure::not_found(format!(
            "evaluation {id}'s profile states no data needs ([data]); there is no Data Projects Form"
        ))
    };
    match format.as_str() {
        "md" => Ok((
            [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
            crate::render::data_form_markdown(&r).ok_or_else(none)?,
        )
            .into_response()),
        "csv" => Ok((
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
            crate::render::data_form_csv(&r).ok_or_else(none)?,
        )
            .into_response()),
        "pdf" => {
            let bytes = crate::pdf::data_form(&r).ok_or_else(none)?;
            Ok(([(header::CONTENT_TYPE, "application/pdf")], bytes).into_response())
        }
        other => Err(not_a_format(other, &["md", "csv", "pdf"])),
    }
}

/// `GET /api/v1/evaluations/{id}/reports`.
pub async fn evaluation_reports(
    State(state): State<AppState>,
    _who: Person,
    Path(id): Path<String>,
) -> Result<Json<Vec<ReportInfo>>, Failure> {
    if state.store.get_evaluation(&id).await?.is_none() {
        return Err(Failure::not_found(format!("no evaluation {id}")));
    }
    Ok(Json(
        state
            .store
            .reports_for_evaluation(&id)
            .await?
            .into_iter()
            .map(report_info)
            .collect(),
    ))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsQuery {
    agent: String,
}

/// `GET /api/v1/reports?agent=ID`: an agent's reports, newest first (at most 10,000).
pub async fn agent_reports(
    State(state): State<AppState>,
    _who: Person,
    query: Result<Query<ReportsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Vec<ReportInfo>>, Failure> {
    let Query(q) = query.map_err(|e| {
        Failure::bad_request("invalid_query", format!("{e}; give agent=<agent id>"))
    })?;
    Ok(Json(
        state
            .store
            .reports_for_agent(&q.agent, 10_000)
            .await?
            .into_iter()
            .map(report_info)
            .collect(),
    ))
}

/// `GET /api/v1/reports/{id}`: the report as the agent sent it.
pub async fn get_report(
    State(state): State<AppState>,
    _who: Person,
    Path(id): Path<String>,
) -> Result<Response, Failure> {
    let (_, body) = state
        .store
        .get_report(&id)
        .await?
        .ok_or_else(|| Failure::not_found(format!("no report {id}")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

/// The packed browser agent's file name, as `scripts/build-browser-agent` writes it.
pub const BROWSER_AGENT_CRX: &str = "fitcheck-browser-agent.crx";

/// A file of the browser-agent directory, or why it cannot be served.
async fn browser_agent_file(state: &AppState, name: &str, kind: &'static str) -> Response {
    let Some(dir) = &state.browser_agent_dir else {
        return Failure::not_found(
            "this controller serves no browser agent; start it with --browser-agent DIR (what scripts/build-browser-agent writes)",
        )
        .into_response();
    };
    match tokio::fs::read(dir.join(name)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, kind)], bytes).into_response(),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), file = name, error = %e, "Browser agent file unreadable.");
            Failure::not_found(format!(
                "{name} is not in the browser-agent directory {} ({e}); run scripts/build-browser-agent into it",
                dir.display()
            ))
            .into_response()
        }
    }
}

/// `GET /browser-agent/update.xml`: the update manifest Chrome reads for a force-installed
/// extension. Behind a reverse proxy (`--public-url`) the package's address in it is the public
/// one, whatever address the agent was packed for.
pub async fn browser_agent_update(State(state): State<AppState>) -> Response {
    let file = browser_agent_file(&state, "update.xml", "application/xml").await;
    let Some(public) = &state.public_url else {
        return file;
    };
    if !file.status().is_success() {
        return file;
    }
    let crx = public.at(&format!("/browser-agent/{BROWSER_AGENT_CRX}"));
    match axum::body::to_bytes(file.into_body(), 1 << 20).await {
        Ok(bytes) => match with_codebase(&String::from_utf8_lossy(&bytes), &crx) {
            Some(xml) => ([(header::CONTENT_TYPE, "application/xml")], xml).into_response(),
            None => Failure::internal(
                "the browser agent's update.xml names no codebase; run scripts/build-browser-agent again",
            )
            .into_response(),
        },
        Err(e) => Failure::internal(format!("reading update.xml: {e}")).into_response(),
    }
}

/// `xml` with the value of its `codebase` attribute replaced by `url` (an address the `url`
/// crate wrote: no quote or `<` in it), or `None` where it has no such attribute.
fn with_codebase(xml: &str, url: &str) -> Option<String> {
    let at = xml.find("codebase=")? + "codebase=".len();
    let quote = xml
        .get(at..)?
        .chars()
        .next()
        .filter(|c| *c == '\'' || *c == '"')?;
    let end = at + 1 + xml.get(at + 1..)?.find(quote)?;
    Some(format!("{}{url}{}", xml.get(..at + 1)?, xml.get(end..)?))
}

/// `GET /browser-agent/fitcheck-browser-agent.crx`.
pub async fn browser_agent_crx(State(state): State<AppState>) -> Response {
    browser_agent_file(&state, BROWSER_AGENT_CRX, "application/x-chrome-extension").await
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "Health check: database unreachable.");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let since = clock::now_ms() - 15 * 60 * 1000;
    if let Ok((total, seen)) = state.store.count_agents(since).await {
        state.metrics.agents_enrolled.set(total);
        state.metrics.agents_seen.set(seen);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}
