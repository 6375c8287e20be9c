//! Cross-site request guard. A browser sends the session cookie with requests that another
//! site's page makes (a form, an image, `fetch` in `no-cors` mode), and `SameSite=Strict`
//! does not stop another host of the district's own site. So every state-changing request that
//! a cookie authenticates — and every log-in — must show that it came from this server's own
//! pages: an `Origin` naming this host (or, from a browser that sends none, `Sec-Fetch-Site:
//! same-origin` or a `Referer` on this host), and for the JSON API a content type that a page
//! on another site cannot send without the server's consent (`application/json`, or
//! `application/toml` for a profile). Agents authenticate with a bearer credential, which a
//! browser never adds on its own, and are not concerned.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::edge::error::Failure;
use crate::edge::public_url::PublicUrl;
use crate::edge::state::AppState;

/// Why a request was taken for one from another site.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrossSite {
    /// The request names no host to compare with.
    NoHost,
    /// Neither `Origin`, `Sec-Fetch-Site` nor `Referer` says where it came from.
    Unknown,
    /// It came from another origin.
    Foreign,
}

impl CrossSite {
    /// What went wrong, and what to do, for a person or a script.
    pub fn message(self) -> &'static str {
        match self {
            CrossSite::NoHost => "the request names no host; send it to this server's address",
            CrossSite::Unknown => {
                "the request says neither where it came from (no Origin, Sec-Fetch-Site or \
                 Referer), so it cannot be told apart from one made by another site's page; \
                 send it from this server's own pages, or set Origin to this server's address"
            }
            CrossSite::Foreign => {
                "the request came from another site (its Origin or Referer names another \
                 host); send it from this server's own pages"
            }
        }
    }
}

/// Whether a request came from one of this server's own pages: the `Origin` header (or, without
/// one, `Sec-Fetch-Site: same-origin`, or the `Referer`) must name the host the request was
/// sent to (`Host`, or the URI's authority over HTTP/2), or the `public` address a reverse
/// proxy serves the controller at (the proxy may have rewritten `Host`).
pub fn same_origin(
    headers: &HeaderMap,
    uri: &Uri,
    public: Option<&PublicUrl>,
) -> Result<(), CrossSite> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
        .ok_or(CrossSite::NoHost)?;
    let text = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let source = match text("origin") {
        Some(origin) => origin,
        None => {
            if text("sec-fetch-site") == Some("same-origin") {
                return Ok(());
            }
            text("referer").ok_or(CrossSite::Unknown)?
        }
    };
    if public.is_some_and(|p| p.is_origin_of(source)) {
        return Ok(());
    }
    let authority = source
        .strip_prefix("https://")
        .or_else(|| source.strip_prefix("http://"))
        .map(|rest| rest.split(['/', '?', '#']).next().unwrap_or(rest));
    match authority {
        Some(a) if a.eq_ignore_ascii_case(host) => Ok(()),
        _ => Err(CrossSite::Foreign),
    }
}

/// The media types the people's API takes in a request body.
const API_TYPES: [&str; 2] = ["application/json", "application/toml"];

/// Whether the request's `Content-Type` is one of [`API_TYPES`] (parameters such as `charset`
/// aside). A page on another site can send only form encodings and `text/plain` without the
/// server's consent, and a request without a body carries no type at all.
fn api_content_type(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|t| API_TYPES.iter().any(|a| t.trim().eq_ignore_ascii_case(a)))
}

/// Middleware for the people's API (`/api/v1`): a request that changes state and carries the
/// session cookie, and every log-in, must come from this server's pages with an API content
/// type. Reads (`GET`, `HEAD`, `OPTIONS`) pass: they change nothing, and their answers are not
/// readable by another site's page.
pub async fn people_api(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, Failure> {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    let log_in = request.uri().path().ends_with("/login");
    let cookie = crate::edge::extract::session_cookie(request.headers()).is_some();
    if !safe && (cookie || log_in) {
        if !api_content_type(request.headers()) {
            return Err(Failure::unsupported_media_type(
                "a request that changes something must send Content-Type: application/json \
                 (application/toml for a profile), even without a body",
            ));
        }
        same_origin(request.headers(), request.uri(), state.public_url.as_ref())
            .map_err(|why| Failure::forbidden(why.message()).code("cross_site"))?;
    }
    Ok(next.run(request).await)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn only_this_host_is_the_same_origin() {
        let uri = Uri::from_static("/api/v1/users");
        let host = ("host", "controller.district.test:8443");
        let cases = [
            (vec![host], Err(CrossSite::Unknown)),
            (
                vec![host, ("origin", "https://controller.district.test:8443")],
                Ok(()),
            ),
            (
                vec![host, ("origin", "https://evil.example")],
                Err(CrossSite::Foreign),
            ),
            (
                vec![host, ("origin", "https://www.district.test")],
                Err(CrossSite::Foreign),
            ),
            (
                vec![
                    host,
                    (
                        "origin",
                        "https://controller.district.test:8443.evil.example",
                    ),
                ],
                Err(CrossSite::Foreign),
            ),
            (vec![host, ("origin", "null")], Err(CrossSite::Foreign)),
            (vec![host, ("sec-fetch-site", "same-origin")], Ok(())),
            (
                vec![host, ("sec-fetch-site", "same-site")],
                Err(CrossSite::Unknown),
            ),
            (
                vec![
                    host,
                    ("sec-fetch-site", "same-origin"),
                    ("origin", "https://evil.example"),
                ],
                Err(CrossSite::Foreign),
            ),
            (
                vec![
                    host,
                    ("referer", "https://controller.district.test:8443/login"),
                ],
                Ok(()),
            ),
            (
                vec![("origin", "https://controller.district.test:8443")],
                Err(CrossSite::NoHost),
            ),
        ];
        for (pairs, want) in cases {
            assert_eq!(same_origin(&headers(&pairs), &uri, None), want, "{pairs:?}");
        }
        // HTTP/2 carries the host in the URI.
        let h2 = Uri::from_static("https://controller.district.test:8443/api/v1/users");
        let h = headers(&[("origin", "https://controller.district.test:8443")]);
        assert_eq!(same_origin(&h, &h2, None), Ok(()));
    }

    /// Behind a reverse proxy that sends the controller its own address as `Host`, pages of the
    /// public address are the controller's own; other sites still are not.
    #[test]
    fn behind_a_proxy_the_public_address_is_the_same_origin() {
        let uri = Uri::from_static("/api/v1/users");
        let public = PublicUrl::parse("https://fitcheck.district.test").unwrap();
        let rewritten = ("host", "127.0.0.1:8443");
        for (pairs, want) in [
            (
                vec![rewritten, ("origin", "https://fitcheck.district.test")],
                Ok(()),
            ),
            (
                vec![
                    rewritten,
                    ("referer", "https://fitcheck.district.test/evaluations"),
                ],
                Ok(()),
            ),
            (
                vec![rewritten, ("origin", "https://fitcheck.district.test:8443")],
                Err(CrossSite::Foreign),
            ),
            (
                vec![rewritten, ("origin", "http://fitcheck.district.test")],
                Err(CrossSite::Foreign),
            ),
            (
                vec![rewritten, ("origin", "https://evil.example")],
                Err(CrossSite::Foreign),
            ),
            // The controller's own address still counts (a person on the server itself).
            (
                vec![rewritten, ("origin", "https://127.0.0.1:8443")],
                Ok(()),
            ),
        ] {
            let h = headers(&pairs);
            assert_eq!(same_origin(&h, &uri, Some(&public)), want, "{pairs:?}");
        }
        // Without the setting, the proxied page is another site: what --public-url is for.
        let h = headers(&[rewritten, ("origin", "https://fitcheck.district.test")]);
        assert_eq!(same_origin(&h, &uri, None), Err(CrossSite::Foreign));
    }

    #[test]
    fn forms_and_plain_text_are_not_api_bodies() {
        for ok in [
            "application/json",
            "application/json; charset=utf-8",
            "Application/JSON",
            "application/toml",
        ] {
            let h = headers(&[("content-type", ok)]);
            assert!(api_content_type(&h), "{ok}");
        }
        for bad in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "text/plain; a=application/json",
        ] {
            let h = headers(&[("content-type", bad)]);
            assert!(!api_content_type(&h), "{bad}");
        }
        assert!(!api_content_type(&HeaderMap::new()), "no type at all");
    }
}
