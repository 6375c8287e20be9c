//! People and their sessions (`/api/v1/login`, `/logout`, `/me`, `/users`): log-in, sessions,
//! passwords, roles. Administrators manage people; everyone manages their own password.

use crate::edge::error::Failure;
use crate::edge::extract::{Admin, Body, Peer, Person, parse_json};
use crate::edge::state::AppState;
use crate::store::UserRow;
use crate::types::{Login, Me, NewUser, PasswordChange, RoleChange, UserCreated};
use crate::{auth, clock};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

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
    let cookie = crate::edge::extract::session_set_cookie(
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
    HeaderValue::from_str(&crate::edge::extract::session_set_cookie(
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
