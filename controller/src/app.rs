//! The HTTP application: shared state, the router, and the extractors every route relies on
//! (who is calling, a bounded body).

use std::sync::Arc;
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::middleware::{self, Next};
use axum::response::Response;
use uuid::Uuid;

use crate::error::Failure;
use crate::metrics::{Metrics, RequestLabels};
use crate::ratelimit::Limiter;
use crate::store::{AgentRow, Store, UserRow};
use crate::{auth, clock};

/// Limits and intervals, with defaults for a district of a few thousand devices.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body, bytes (a report with every check is a few hundred KiB at most).
    pub max_body_bytes: usize,
    /// Requests per second one agent may make, sustained.
    pub agent_requests_per_s: f64,
    /// Requests one agent may make at once after being quiet.
    pub agent_burst: u32,
    /// How often agents poll, seconds.
    pub poll_interval_s: u32,
    /// How long a log-in lasts, seconds.
    pub session_s: i64,
    /// Log-in attempts one address may make at once, and then per second (a log-in that
    /// succeeds gives its attempt back).
    pub login_burst_per_address: u32,
    pub login_per_s_per_address: f64,
    /// Log-in attempts for one user name at once, and then per second.
    pub login_burst_per_user: u32,
    pub login_per_s_per_user: f64,
    /// Bytes one agent may move through the bandwidth endpoint a day (UTC), both directions;
    /// never more than an agent's own daily cap.
    pub bandwidth_bytes_per_day: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 2 << 20,
            agent_requests_per_s: 10.0,
            agent_burst: 120,
            poll_interval_s: 60,
            session_s: 12 * 3600,
            login_burst_per_address: 20,
            login_per_s_per_address: 1.0 / 3.0,
            login_burst_per_user: 10,
            login_per_s_per_user: 0.1,
            bandwidth_bytes_per_day: fitcheck_core::api::bandwidth_caps::BYTES_PER_DAY,
        }
    }
}

/// What every handler can reach.
#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub limits: Limits,
    pub limiter: Limiter,
    /// Log-in budgets by client address and by user name.
    pub logins_by_address: Limiter<std::net::IpAddr>,
    pub logins_by_user: Limiter<String>,
    /// What each agent moved through the bandwidth endpoint today.
    pub bandwidth: crate::bandwidth_budget::Budget,
    /// One profile is parsed at a time.
    pub profile_parsing: tokio::sync::Semaphore,
    /// Where passwords are hashed and checked.
    pub passwords: crate::passwords::PasswordPool,
    pub metrics: Metrics,
    pub fingerprint: String,
    /// Whether session cookies are marked `Secure` (always, when serving HTTPS).
    pub secure_cookies: bool,
    /// The signature catalog's block hosts and filter extensions, handed to browser agents.
    pub block_signatures: Vec<fitcheck_core::api::BlockSignature>,
    /// The signature catalog in force (bundled and district files): a browser agent's
    /// navigations are judged against its block pages.
    pub catalog: Arc<fitcheck_core::signatures::Catalog>,
    /// Where the packed browser agent and its update manifest are, to serve them.
    pub browser_agent_dir: Option<std::path::PathBuf>,
    /// The address behind a reverse proxy, when one is set.
    pub public_url: Option<crate::public_url::PublicUrl>,
}

pub type AppState = Arc<Shared>;

/// The whole router: the API's routes from `routes::api()` (agent API, people's API — behind
/// the cross-site guard —, operations endpoints), the bandwidth endpoint, and the pages.
pub fn router(state: AppState) -> Router {
    const AGENT_API: &str = "/api/agent/v1";
    let mut agent: Router<AppState> = Router::new();
    let mut people: Router<AppState> = Router::new();
    let mut others: Router<AppState> = Router::new();
    for route in crate::routes::api() {
        let Some(handler) = route.handler else {
            continue;
        };
        if let Some(rest) = route.path.strip_prefix(AGENT_API) {
            agent = agent.route(rest, handler);
        } else if route.path.starts_with("/api/v1/") {
            people = people.route(route.path, handler);
        } else {
            others = others.route(route.path, handler);
        }
    }
    let people = people.route_layer(middleware::from_fn_with_state(
        state.clone(),
        crate::guard::people_api,
    ));
    // The bandwidth router's own paths start with /bandwidth/; mount each as it is, behind
    // agent authentication and each agent's daily budget, so agents find it at
    // /api/agent/v1/bandwidth/…. No request may ask more than an agent ever would.
    let caps = fitcheck_bandwidth::Limits {
        download_bytes: fitcheck_core::api::bandwidth_caps::DOWNLOAD_REQUEST_BYTES,
        upload_bytes: fitcheck_core::api::bandwidth_caps::TEST_BYTES,
    };
    let bandwidth = fitcheck_bandwidth::router_with(caps).layer(middleware::from_fn_with_state(
        state.clone(),
        crate::bandwidth_budget::guard,
    ));
    let agent = fitcheck_bandwidth::PATHS
        .iter()
        .fold(agent, |r, path| r.route_service(path, bandwidth.clone()));
    Router::new()
        .nest(AGENT_API, agent)
        .merge(people)
        .merge(others)
        .merge(crate::web::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), measure))
        .with_state(state)
}

async fn not_found() -> Failure {
    Failure::not_found("no such route; see /api/openapi.json")
}

/// Times every request into the latency histogram, labelled by the declared route; and marks
/// every answer `X-Content-Type-Options: nosniff`, so that no browser takes a download (a
/// Markdown or JSON export carrying text from profiles and reports) for a page.
async fn measure(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(axum::http::HeaderValue::from_static("nosniff"));
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: response.status().as_u16().to_string(),
        })
        .observe(started.elapsed().as_secs_f64());
    response
}

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
