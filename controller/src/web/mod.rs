//! The pages people read: server-rendered HTML that works without JavaScript, behind the same
//! session cookie as the API.
//!
//! - [`layout`]: the page shell (landmarks, navigation, the stylesheet in `assets/`), shared
//!   pieces (status words, times, links) and the error page.
//! - [`fleet`]: `/` and `/fleet`, sites and agents (administrators).
//! - [`evaluations`]: `/evaluations` and `/evaluations/{id}` with progress per site.
//! - [`recommendation`]: `/evaluations/{id}/recommendation`, its chart and its exports.
//! - [`drill`]: a matrix cell's devices (`/evaluations/{id}/cells`) and one report
//!   (`/reports/{id}`).
//! - [`compare`]: two runs of one evaluation side by side; [`diff`] is the pure comparison.
//!
//! Templates are maud's: every value interpolated into a page is HTML-escaped by the compiler's
//! templates, so text from reports and profiles (agent labels, targets, filter names) cannot
//! become markup. Pages send a Content-Security-Policy without any script source.

pub mod compare;
pub mod decision;
pub mod drill;
pub mod evaluations;
pub mod fleet;
pub mod layout;
pub mod recommendation;
pub mod sis;
pub mod watches;

use axum::Router;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use maud::Markup;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde::Deserialize;

use crate::api::people;
use crate::edge::error::Failure;
use crate::edge::extract::{Body, Person};
use crate::edge::state::AppState;
use crate::store::UserRow;

/// The pages' routes (merged into the application's router).
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/", get(fleet::landing))
        .route("/fleet", get(fleet::fleet))
        .route("/login", get(login_form).post(login_submit))
        .route("/logout", get(logout_form).post(logout_submit))
        .route("/password", get(password_form).post(password_submit))
        .route("/evaluations", get(evaluations::list))
        .route("/evaluations/{id}", get(evaluations::detail))
        .route("/evaluations/{id}/approvals", post(decision::submit))
        .route(
            "/evaluations/{id}/recommendation",
            get(recommendation::page),
        )
        .route(
            "/evaluations/{id}/recommendation.md",
            get(recommendation::markdown),
        )
        .route(
            "/evaluations/{id}/recommendation.json",
            get(recommendation::json),
        )
        .route(
            "/evaluations/{id}/recommendation.pdf",
            get(recommendation::pdf),
        )
        .route(
            "/evaluations/{id}/data-form.md",
            get(recommendation::data_form_md),
        )
        .route(
            "/evaluations/{id}/data-form.csv",
            get(recommendation::data_form_csv),
        )
        .route(
            "/evaluations/{id}/data-form.pdf",
            get(recommendation::data_form_pdf),
        )
        .route("/sis", get(sis::list).post(sis::upload))
        .route("/watches", get(watches::board))
        .route("/watches/{id}", get(watches::product))
        .route("/evaluations/{id}/cells", get(drill::cell))
        .route("/evaluations/{id}/compare", get(compare::page))
        .route("/reports/{id}", get(drill::report))
        .route("/assets/fitcheck.css", get(stylesheet))
}

pub(crate) const STYLESHEET: &str = include_str!("../../assets/fitcheck.css");

async fn stylesheet() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        STYLESHEET,
    )
        .into_response()
}

/// What a page's answer carries besides its body: no caching of what a person sees, no
/// scripts, no framing.
fn page_headers(response: &mut Response) {
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
}

/// A rendered page with its status.
#[derive(Debug)]
pub struct Page {
    pub status: StatusCode,
    pub markup: Markup,
}

impl Page {
    pub fn ok(markup: Markup) -> Page {
        Page {
            status: StatusCode::OK,
            markup,
        }
    }
}

impl IntoResponse for Page {
    fn into_response(self) -> Response {
        let mut response = (self.status, self.markup.into_string()).into_response();
        page_headers(&mut response);
        response
    }
}

/// A request a page could not answer: the status and the sentence a person reads.
#[derive(Debug)]
pub struct PageError {
    pub status: StatusCode,
    pub message: String,
    /// Who asked, when known (for the navigation).
    pub user: Option<Box<UserRow>>,
}

impl PageError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> PageError {
        PageError {
            status,
            message: message.into(),
            user: None,
        }
    }

    pub fn not_found(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn bad_request(message: impl Into<String>) -> PageError {
        PageError::new(StatusCode::BAD_REQUEST, message)
    }

    /// The same error, shown with the navigation of the person who asked.
    pub fn for_user(mut self, user: &UserRow) -> PageError {
        self.user = Some(Box::new(user.clone()));
        self
    }
}

impl From<Failure> for PageError {
    fn from(f: Failure) -> PageError {
        PageError::new(f.status, f.body.message)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        Page {
            status: self.status,
            markup: layout::error_page(self.status, &self.message, self.user.as_deref()),
        }
        .into_response()
    }
}

/// A logged-in person looking at pages. Without a session the answer is a redirect to the
/// log-in form, which brings them back here afterwards.
#[derive(Debug)]
pub struct Viewer {
    pub user: UserRow,
    pub session_hash: String,
}

impl Viewer {
    pub fn is_admin(&self) -> bool {
        self.user.role == "admin"
    }
}

impl FromRequestParts<AppState> for Viewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        match Person::from_request_parts(parts, state).await {
            Ok(person) => Ok(Viewer {
                user: person.user,
                session_hash: person.session_hash,
            }),
            Err(f) if f.status == StatusCode::UNAUTHORIZED => Err(to_login(&parts.uri)),
            Err(f) if f.body.error == "password_change_required" => {
                let here = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                Err(see_other(&format!("/password?next={}", encode(here))))
            }
            Err(f) => Err(PageError::from(f).into_response()),
        }
    }
}

/// A logged-in administrator looking at pages; a reviewer gets a 403 page.
#[derive(Debug)]
pub struct AdminViewer(pub Viewer);

impl FromRequestParts<AppState> for AdminViewer {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let viewer = Viewer::from_request_parts(parts, state).await?;
        if !viewer.is_admin() {
            return Err(PageError::new(
                StatusCode::FORBIDDEN,
                "This page is for administrators (technology operations). Reviewers can read \
                 every evaluation and its recommendation.",
            )
            .for_user(&viewer.user)
            .into_response());
        }
        Ok(AdminViewer(viewer))
    }
}

/// Characters left as they are in a query value: RFC 3986's unreserved ones.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `text` encoded for a URL's query value or path segment.
pub fn encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

fn see_other(location: &str) -> Response {
    let mut response = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        response.headers_mut().insert(header::LOCATION, v);
    }
    response
}

fn to_login(uri: &Uri) -> Response {
    let here = uri.path_and_query().map_or("/", |p| p.as_str());
    if here == "/" {
        return see_other("/login");
    }
    see_other(&format!("/login?next={}", encode(here)))
}

/// `next` when it is a path on this server, and nothing else: no scheme, no other host
/// (`//host`, `/\host`), no control characters.
pub fn local_path(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && next.len() <= 2048
        && !next.chars().any(|c| c.is_control() || c == '\\');
    ok.then_some(next)
}

/// Whether a form was posted from one of this server's own pages ([`crate::edge::guard`]'s rule, the
/// same as the JSON API's). The session cookie is `SameSite=Strict` as well; this also covers
/// log-in forms posted from elsewhere.
pub fn same_origin(
    headers: &HeaderMap,
    uri: &Uri,
    public: Option<&crate::edge::public_url::PublicUrl>,
) -> Result<(), PageError> {
    crate::edge::guard::same_origin(headers, uri, public).map_err(|why| {
        let message = match why {
            crate::edge::guard::CrossSite::NoHost => {
                "The form was refused: the request names no host."
            }
            crate::edge::guard::CrossSite::Unknown => {
                "The form was refused: the browser sent neither Origin nor Referer, so it cannot \
                 be told apart from a form on another site. Post it from this server's own page."
            }
            crate::edge::guard::CrossSite::Foreign => {
                "The form was refused: it was posted from another site. Open this server's own \
                 page and send it from there."
            }
        };
        PageError::new(StatusCode::FORBIDDEN, message)
    })
}

#[derive(Debug, Deserialize)]
struct NextQuery {
    next: Option<String>,
}

async fn login_form(Query(q): Query<NextQuery>) -> Page {
    let next = next_page(q.next.as_deref());
    Page::ok(layout::login_page(&next, None, ""))
}

#[derive(Debug, Deserialize)]
struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /login`: the same check and session as `POST /api/v1/login`, then back to the page
/// the person wanted.
async fn login_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    peer: crate::edge::extract::Peer,
    Body(body): Body,
) -> Result<Response, PageError> {
    let form: LoginForm = read_form(&state, &headers, &uri, &body, "log-in")?;
    let next = next_page(form.next.as_deref());
    match people::open_session(&state, peer, &form.username, &form.password).await {
        Ok((_, cookie)) => {
            let mut response = see_other(&next);
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            Ok(response)
        }
        Err(f) if f.status == StatusCode::UNAUTHORIZED => Ok(Page {
            status: StatusCode::UNAUTHORIZED,
            markup: layout::login_page(
                &next,
                Some("Wrong user name or password. Try again."),
                &form.username,
            ),
        }
        .into_response()),
        Err(f) => Err(f.into()),
    }
}

async fn password_form(viewer: Viewer, Query(q): Query<NextQuery>) -> Page {
    let next = next_page(q.next.as_deref());
    Page::ok(layout::password_page(&viewer.user, &next, None))
}

/// A form posted from one of this server's pages (the `which` page), read.
fn read_form<T: serde::de::DeserializeOwned>(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    body: &[u8],
    which: &str,
) -> Result<T, PageError> {
    same_origin(headers, uri, state.public_url.as_ref())?;
    serde_urlencoded::from_bytes(body).map_err(|e| {
        PageError::bad_request(format!(
            "The {which} form could not be read ({e}); send it from the {which} page."
        ))
    })
}

/// Where a form leads afterwards: the page asked for when it is on this server, else `/`.
fn next_page(next: Option<&str>) -> String {
    next.and_then(local_path).unwrap_or("/").to_owned()
}

#[derive(Debug, Deserialize)]
struct PasswordForm {
    current: String,
    new: String,
    confirm: String,
    #[serde(default)]
    next: Option<String>,
}

/// `POST /password`: the same change as `POST /api/v1/me/password`, then on to the page the
/// person wanted.
async fn password_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    viewer: Viewer,
    Body(body): Body,
) -> Result<Response, PageError> {
    let form: PasswordForm = read_form(&state, &headers, &uri, &body, "password")?;
    let next = next_page(form.next.as_deref());
    let again = |problem: &str| {
        Page {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            markup: layout::password_page(&viewer.user, &next, Some(problem)),
        }
        .into_response()
    };
    if form.new != form.confirm {
        return Ok(again(
            "The two new passwords differ. Type the same one twice.",
        ));
    }
    let person = Person {
        user: viewer.user.clone(),
        session_hash: viewer.session_hash.clone(),
    };
    match people::change_own_password(&state, &person, &form.current, &form.new).await {
        Ok(()) => Ok(see_other(&next)),
        Err(f) if f.status.is_client_error() && f.status != StatusCode::TOO_MANY_REQUESTS => {
            Ok(again(&f.body.message))
        }
        Err(f) => Err(f.into()),
    }
}

async fn logout_form(viewer: Viewer) -> Page {
    Page::ok(layout::logout_page(&viewer.user))
}

async fn logout_submit(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    viewer: Viewer,
) -> Result<Response, PageError> {
    same_origin(&headers, &uri, state.public_url.as_ref())?;
    let person = Person {
        user: viewer.user,
        session_hash: viewer.session_hash,
    };
    let cookie = people::close_session(&state, &person).await?;
    let mut response = see_other("/login");
    response.headers_mut().insert(header::SET_COOKIE, cookie);
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_log_in() {
        assert_eq!(local_path("/evaluations/x?y=1"), Some("/evaluations/x?y=1"));
        for bad in [
            "https://evil.example/",
            "//evil.example/",
            "/\\evil.example",
            "evil",
            "",
            "/x\r\nSet-Cookie: a=b",
        ] {
            assert_eq!(local_path(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn query_values_are_encoded() {
        assert_eq!(encode("http[0]"), "http%5B0%5D");
        assert_eq!(encode("a b&c=<d>"), "a%20b%26c%3D%3Cd%3E");
        assert_eq!(encode("/evaluations/1"), "%2Fevaluations%2F1");
    }
}
