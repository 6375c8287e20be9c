//! The controller's agent API (`/api/agent/v1/`) over the pinned connection: enroll, poll for
//! assignments, submit reports.
//!
//! Every answer is classified here, once, into what the caller does next: go on, retry later
//! ([`UplinkError::Retry`], with the controller's `Retry-After` where it gave one), give the
//! report up ([`UplinkError::Rejected`]: the controller will never take it), or stop and ask a
//! person ([`UplinkError::Unauthorized`], [`UplinkError::CertificateChanged`]).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use fitcheck_core::api::{
    ApiError, Assignments, EnrollRequest, EnrollResponse, IngestResponse, Ingested,
    SisIngestResponse,
};
use http::{HeaderValue, StatusCode, header};
use reqwest::Url;
use serde::de::DeserializeOwned;
use uuid::Uuid;

use super::pin::{self, Fingerprint, Mismatch};
use super::state::{Credential, Enrollment};
use crate::checks::bandwidth::EndpointAccess;

/// Where the agent API lives under a controller's base URL.
pub const API_PATH: &str = "api/agent/v1/";
/// The longest answer read from a controller (assignments carry profile texts).
const MAX_ANSWER_BYTES: usize = 4 << 20;
const USER_AGENT: &str = concat!("fitcheck-agent/", env!("CARGO_PKG_VERSION"));

/// Time limits on controller requests.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// TCP connect and TLS handshake.
    pub connect: Duration,
    /// A whole enrollment or assignments request.
    pub request: Duration,
    /// A whole report delivery (reports are the largest bodies sent).
    pub submit: Duration,
}

impl Default for Timeouts {
    fn default() -> Timeouts {
        Timeouts {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(30),
            submit: Duration::from_secs(120),
        }
    }
}

/// What went wrong talking to the controller, classified by what to do about it.
#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    /// The controller URL cannot be used.
    #[error("controller URL {url:?}: {reason}")]
    BadUrl { url: String, reason: String },
    /// A server answered with another certificate than the pinned one.
    #[error(
        "{url}: the controller presented certificate {presented}, not {pinned} pinned at enrollment. The connection may be intercepted; nothing was sent. If the controller's certificate was replaced on purpose, enroll this agent again (fitcheck-agent enroll --fingerprint <the new fingerprint> …)"
    )]
    CertificateChanged {
        url: String,
        pinned: Fingerprint,
        presented: Fingerprint,
    },
    /// 401: the credential is unknown or the agent was revoked.
    #[error(
        "{url}: the controller does not accept this agent's credential ({message}); the agent was revoked or the controller does not know it. Re-enroll: fitcheck-agent enroll --controller … --secret-file …"
    )]
    Unauthorized { url: String, message: String },
    /// Unreachable, timed out, busy (429) or failing (5xx): try again later.
    #[error("{url}: {reason}")]
    Retry {
        url: String,
        reason: String,
        /// The controller's `Retry-After`, where it sent one.
        after: Option<Duration>,
    },
    /// The controller refused the request for good (for a report: 400, 403, 413, 422).
    #[error("{url}: the controller refused it (HTTP {status}, {}): {}{}", error.error, error.message, field_text(error))]
    Rejected {
        url: String,
        status: u16,
        error: Box<ApiError>,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up the connection to the controller: {0}")]
    Setup(String),
}

fn field_text(e: &ApiError) -> String {
    e.field
        .as_ref()
        .map(|f| format!(" (field {f})"))
        .unwrap_or_default()
}

/// The agent API's base URL (`…/api/agent/v1/`) under a controller URL. Only `https://`:
/// the controller's certificate is what the agent pins.
pub fn api_base(controller: &str) -> Result<Url, UplinkError> {
    let bad = |reason: &str| UplinkError::BadUrl {
        url: controller.to_owned(),
        reason: reason.to_owned(),
    };
    let mut url = Url::parse(controller.trim()).map_err(|e| bad(&e.to_string()))?;
    if url.scheme() != "https" {
        return Err(bad(
            "use an https:// URL: the agent pins the controller's certificate",
        ));
    }
    if url.host_str().is_none() {
        return Err(bad("the URL has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(bad("leave credentials out of the URL"));
    }
    url.set_query(None);
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let p = format!("{}/", url.path());
        url.set_path(&p);
    }
    url.join(API_PATH).map_err(|e| bad(&e.to_string()))
}

/// Which request an answer belongs to: the same status means different things.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Route {
    Enroll,
    Assignments,
    Submit,
    SisSummary,
}

/// A client for one controller, pinned to its certificate.
#[derive(Clone)]
pub struct Controller {
    api: Url,
    http: reqwest::Client,
    tls: Arc<rustls::ClientConfig>,
    mismatch: Mismatch,
    pin: Fingerprint,
    auth: Option<HeaderValue>,
    timeouts: Timeouts,
}

impl fmt::Debug for Controller {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Controller")
            .field("api", &self.api.as_str())
            .field("pin", &self.pin)
            .field("authenticated", &self.auth.is_some())
            .finish()
    }
}

fn setup(e: impl fmt::Display) -> UplinkError {
    UplinkError::Setup(e.to_string())
}

impl Controller {
    /// A client for `controller` that talks only to a server presenting the certificate `pin`,
    /// sending `credential` (when given) as a bearer token.
    pub fn new(
        controller: &str,
        pin: Fingerprint,
        credential: Option<&Credential>,
        timeouts: Timeouts,
    ) -> Result<Controller, UplinkError> {
        let api = api_base(controller)?;
        let (config, mismatch) = pin::pinned_config(pin).map_err(setup)?;
        let auth = match credential {
            Some(c) => {
                let mut v =
                    HeaderValue::from_str(&format!("Bearer {}", c.expose())).map_err(|_| {
                        UplinkError::Setup(
                            "the stored credential cannot be sent in an HTTP header; enroll again"
                                .to_owned(),
                        )
                    })?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        let http = reqwest::Client::builder()
            .tls_backend_preconfigured(config.clone())
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(timeouts.connect)
            // Between polls the daemon holds at most one idle connection, and not for long:
            // well under any server's idle limit (the controller's is 30 s), so a request
            // seldom starts on a connection the server is closing.
            .pool_idle_timeout(POOL_IDLE)
            .pool_max_idle_per_host(1)
            .user_agent(USER_AGENT)
            .build()
            .map_err(setup)?;
        Ok(Controller {
            api,
            http,
            tls: Arc::new(config),
            mismatch,
            pin,
            auth,
            timeouts,
        })
    }

    /// The client an enrollment on disk describes.
    pub fn from_enrollment(e: &Enrollment, timeouts: Timeouts) -> Result<Controller, UplinkError> {
        Controller::new(&e.controller, e.fingerprint, Some(&e.credential), timeouts)
    }

    /// `…/api/agent/v1/`: also the base of the controller's bandwidth endpoint.
    pub fn api_base(&self) -> &Url {
        &self.api
    }

    /// The pinned certificate's fingerprint.
    pub fn pin(&self) -> Fingerprint {
        self.pin
    }

    /// The pinned TLS set-up and credential, for measuring against the controller's bandwidth
    /// endpoint; `None` before enrollment.
    pub fn bandwidth_access(&self) -> Option<Arc<EndpointAccess>> {
        self.auth.as_ref().map(|a| {
            Arc::new(EndpointAccess {
                tls: self.tls.clone(),
                authorization: a.clone(),
            })
        })
    }

    fn url(&self, route: &str) -> Result<Url, UplinkError> {
        self.api.join(route).map_err(|e| UplinkError::BadUrl {
            url: self.api.to_string(),
            reason: e.to_string(),
        })
    }

    /// `POST enroll`: exchanges a district secret for this agent's credential.
    pub async fn enroll(&self, request: &EnrollRequest) -> Result<EnrollResponse, UplinkError> {
        let url = self.url("enroll")?;
        let body = serde_json::to_vec(request).map_err(setup)?;
        let req = self
            .http
            .post(url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(body)
            .timeout(self.timeouts.request);
        self.exchange(Route::Enroll, &url, req).await
    }

    /// `GET assignments`: the evaluations this agent should run now.
    pub async fn assignments(&self) -> Result<Assignments, UplinkError> {
        let url = self.url("assignments")?;
        let req = self.http.get(url.clone()).timeout(self.timeouts.request);
        self.exchange(Route::Assignments, &url, req).await
    }

    /// `POST reports[?evaluation=…]`: delivers one report (its JSON as stored).
    pub async fn submit(
        &self,
        report_json: Vec<u8>,
        report_id: Uuid,
        evaluation: Option<Uuid>,
    ) -> Result<Ingested, UplinkError> {
        let mut url = self.url("reports")?;
        if let Some(e) = evaluation {
            url.query_pairs_mut()
                .append_pair("evaluation", &e.to_string());
        }
        let req = self
            .http
            .post(url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(report_json)
            .timeout(self.timeouts.submit);
        let answer: IngestResponse = self.exchange(Route::Submit, &url, req).await?;
        if answer.report_id != report_id {
            // Not an acknowledgement of this report: keep it.
            return Err(UplinkError::Retry {
                url: url.to_string(),
                reason: format!(
                    "the controller acknowledged report {} instead of {report_id}",
                    answer.report_id
                ),
                after: None,
            });
        }
        Ok(answer.result)
    }

    /// `POST sis-summaries`: delivers the district's SIS summary (structure and counts only).
    pub async fn submit_sis_summary(
        &self,
        summary_json: Vec<u8>,
        summary_id: Uuid,
    ) -> Result<Ingested, UplinkError> {
        let url = self.url("sis-summaries")?;
        let req = self
            .http
            .post(url.clone())
            .header(header::CONTENT_TYPE, "application/json")
            .body(summary_json)
            .timeout(self.timeouts.submit);
        let answer: SisIngestResponse = self.exchange(Route::SisSummary, &url, req).await?;
        if answer.summary_id != summary_id {
            return Err(UplinkError::Retry {
                url: url.to_string(),
                reason: format!(
                    "the controller acknowledged summary {} instead of {summary_id}",
                    answer.summary_id
                ),
                after: None,
            });
        }
        Ok(answer.result)
    }

    async fn exchange<T: DeserializeOwned>(
        &self,
        route: Route,
        url: &Url,
        req: reqwest::RequestBuilder,
    ) -> Result<T, UplinkError> {
        let req = match &self.auth {
            Some(a) => req.header(header::AUTHORIZATION, a.clone()),
            None => req,
        };
        // Polls and deliveries are idempotent: one that went out on a kept-alive connection the
        // server closed before answering is sent again at once, on a fresh connection.
        let again = match route {
            Route::Assignments | Route::Submit | Route::SisSummary => req.try_clone(),
            Route::Enroll => None,
        };
        let resp = match req.send().await {
            Ok(resp) => resp,
            Err(e) if closed_unanswered(&e) => {
                let Some(again) = again else {
                    return Err(self.transport(url, &e));
                };
                tracing::debug!(%url, error = %error_chain(&e), "Connection closed before an answer; sending again.");
                again.send().await.map_err(|e| self.transport(url, &e))?
            }
            Err(e) => return Err(self.transport(url, &e)),
        };
        let status = resp.status();
        let retry_after = resp
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(parse_retry_after);
        let body = read_capped(resp)
            .await
            .map_err(|reason| UplinkError::Retry {
                url: url.to_string(),
                reason,
                after: None,
            })?;
        if status.is_success() {
            return serde_json::from_slice(&body).map_err(|e| UplinkError::Retry {
                url: url.to_string(),
                reason: format!("unexpected answer to a {route:?} request (HTTP {status}): {e}"),
                after: None,
            });
        }
        Err(classify(route, url, status, retry_after, &body))
    }

    fn transport(&self, url: &Url, e: &reqwest::Error) -> UplinkError {
        if let Some(presented) = self.mismatch.take() {
            return UplinkError::CertificateChanged {
                url: url.to_string(),
                pinned: self.pin,
                presented,
            };
        }
        UplinkError::Retry {
            url: url.to_string(),
            reason: format!("cannot reach the controller: {}", error_chain(e)),
            after: None,
        }
    }
}

/// How long an idle connection to the controller is kept.
const POOL_IDLE: Duration = Duration::from_secs(10);

/// Whether a request failed because the connection it went out on closed before any answer (a
/// kept-alive connection the server had just closed: hyper's incomplete message, or the socket
/// reset, broken or ended, as rustls reports a missing close_notify), not because the server
/// could not be reached (a connect error: a refused port, another certificate) or did not
/// answer in time.
fn closed_unanswered(e: &reqwest::Error) -> bool {
    if e.is_connect() || e.is_timeout() || e.is_builder() || e.is_redirect() || e.is_status() {
        return false;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.downcast_ref::<hyper::Error>()
            .is_some_and(|h| h.is_incomplete_message() || h.is_canceled())
        {
            return true;
        }
        if s.downcast_ref::<std::io::Error>().is_some_and(|io| {
            matches!(
                io.kind(),
                std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::UnexpectedEof
            )
        }) {
            return true;
        }
        source = s.source();
    }
    false
}

/// Reads a body up to [`MAX_ANSWER_BYTES`].
async fn read_capped(mut resp: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| format!("the answer broke off: {}", error_chain(&e)))?
    {
        if out.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(format!(
                "the answer is larger than {MAX_ANSWER_BYTES} bytes; not read"
            ));
        }
        out.extend_from_slice(&chunk);
    }
    Ok(out)
}

/// An error and its sources, each once.
pub(crate) fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        let t = c.to_string();
        if !text.contains(&t) {
            text.push_str(": ");
            text.push_str(&t);
        }
        cur = c.source();
    }
    text
}

/// `Retry-After` in seconds (the HTTP-date form is not used by the controller).
fn parse_retry_after(v: &HeaderValue) -> Option<Duration> {
    v.to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(Duration::from_secs)
}

/// The start of a body that is not an [`ApiError`], printable.
fn snippet(body: &[u8]) -> String {
    let text: String = String::from_utf8_lossy(body)
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(200)
        .collect();
    let text = text.trim();
    if text.is_empty() {
        "no explanation given".to_owned()
    } else {
        text.to_owned()
    }
}

fn classify(
    route: Route,
    url: &Url,
    status: StatusCode,
    retry_after: Option<Duration>,
    body: &[u8],
) -> UplinkError {
    let code = status.as_u16();
    let error = serde_json::from_slice::<ApiError>(body).unwrap_or_else(|_| ApiError {
        error: format!("http_{code}"),
        message: snippet(body),
        field: None,
        details: Vec::new(),
    });
    let url = url.to_string();
    match code {
        401 if route != Route::Enroll => UplinkError::Unauthorized {
            url,
            message: error.message,
        },
        429 => UplinkError::Retry {
            url,
            reason: format!("the controller is busy (HTTP 429): {}", error.message),
            after: retry_after,
        },
        408 | 500..=599 => UplinkError::Retry {
            url,
            reason: format!("the controller failed (HTTP {code}): {}", error.message),
            after: retry_after,
        },
        400 | 403 | 413 | 422 => UplinkError::Rejected {
            url,
            status: code,
            error: Box::new(error),
        },
        // A report is given up only on an answer that says it is wrong; anything else (an
        // older controller, a proxy's error page) may pass, so the report is kept.
        _ if route == Route::Submit => UplinkError::Retry {
            url,
            reason: format!("unexpected answer HTTP {code}: {}", error.message),
            after: retry_after,
        },
        _ => UplinkError::Rejected {
            url,
            status: code,
            error: Box::new(error),
        },
    }
}

/// Connects to `controller` and returns the fingerprint of the certificate it presents, without
/// sending it anything: the handshake is ended as soon as the certificate has been seen.
pub async fn fetch_certificate(
    controller: &str,
    timeout: Duration,
) -> Result<Fingerprint, UplinkError> {
    let api = api_base(controller)?;
    let (config, seen) = pin::capture_config().map_err(setup)?;
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(timeout)
        .timeout(timeout)
        .user_agent(USER_AGENT)
        .build()
        .map_err(setup)?;
    let result = client.get(api.clone()).send().await;
    if let Some(fp) = seen.lock().ok().and_then(|s| *s) {
        return Ok(fp);
    }
    let reason = match result {
        Ok(r) => format!(
            "it answered (HTTP {}) without presenting a certificate",
            r.status()
        ),
        Err(e) => format!("cannot reach the controller: {}", error_chain(&e)),
    };
    Err(UplinkError::Retry {
        url: api.to_string(),
        reason,
        after: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_lives_under_the_controller_url() {
        assert_eq!(
            api_base("https://c.example:8443").unwrap().as_str(),
            "https://c.example:8443/api/agent/v1/"
        );
        assert_eq!(
            api_base("https://c.example/fitcheck?x=1").unwrap().as_str(),
            "https://c.example/fitcheck/api/agent/v1/"
        );
        assert!(matches!(
            api_base("http://c.example/"),
            Err(UplinkError::BadUrl { .. })
        ));
        assert!(api_base("https://user:pw@c.example/").is_err());
        assert!(api_base("c.example").is_err());
    }

    #[test]
    fn answers_are_classified_by_what_to_do_next() {
        let url: Url = "https://c.example/api/agent/v1/reports".parse().unwrap();
        let body = br#"{"error":"invalid_report","message":"results[3].outcome is unknown","field":"results[3].outcome"}"#;
        match classify(
            Route::Submit,
            &url,
            StatusCode::UNPROCESSABLE_ENTITY,
            None,
            body,
        ) {
            UplinkError::Rejected { status, error, .. } => {
                assert_eq!(status, 422);
                assert_eq!(error.field.as_deref(), Some("results[3].outcome"));
            }
            other => panic!("{other:?}"),
        }
        match classify(
            Route::Submit,
            &url,
            StatusCode::TOO_MANY_REQUESTS,
            Some(Duration::from_secs(7)),
            b"",
        ) {
            UplinkError::Retry { after, .. } => assert_eq!(after, Some(Duration::from_secs(7))),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            classify(
                Route::Submit,
                &url,
                StatusCode::BAD_GATEWAY,
                None,
                b"<html>"
            ),
            UplinkError::Retry { .. }
        ));
        assert!(
            matches!(
                classify(Route::Submit, &url, StatusCode::NOT_FOUND, None, b""),
                UplinkError::Retry { .. }
            ),
            "a report is kept on an answer that does not say it is wrong"
        );
        assert!(matches!(
            classify(
                Route::Assignments,
                &url,
                StatusCode::UNAUTHORIZED,
                None,
                b""
            ),
            UplinkError::Unauthorized { .. }
        ));
        assert!(matches!(
            classify(Route::Enroll, &url, StatusCode::UNAUTHORIZED, None, b""),
            UplinkError::Rejected { status: 401, .. }
        ));
    }

    #[test]
    fn retry_after_is_read_in_seconds() {
        assert_eq!(
            parse_retry_after(&HeaderValue::from_static("120")),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after(&HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT")),
            None
        );
    }
}
