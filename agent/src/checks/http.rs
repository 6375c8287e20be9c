//! HTTP(S): is a URL reachable from here, and if not, where did it stop?
//!
//! Without a proxy the check walks the layers itself so each has its own timing and its own
//! failure: DNS (through the shared resolver; a sinkhole answer is never connected to), TCP
//! connect, TLS handshake with the URL's host as SNI (the presented chain is recorded even when
//! it does not verify), then the request through reqwest with redirects followed one by one.
//! With a proxy configured in the environment (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`,
//! `NO_PROXY`), the request goes through it as a browser's would, and only the request-level
//! timings exist.

use std::error::Error as _;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use fitcheck_core::report::{
    CheckResult, HttpEvidence, HttpOutcome, HttpResult, HttpTimings, Redirect,
};
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use rustls::pki_types::ServerName;
use tokio_rustls::TlsConnector;

use super::tcp::{self, pick};
use super::{CONNECT_TIMEOUT, Ctx, HTTP_TIMEOUT, ms};
use crate::resolve::SystemResolver;
use crate::tls::SeenChains;

/// Most redirects followed.
pub const MAX_REDIRECTS: usize = 10;
/// Most body bytes read (enough to time the transfer of a page and to see a block page).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Response headers kept as evidence: those that say who answered.
const EVIDENCE_HEADERS: [&str; 8] = [
    "server",
    "via",
    "location",
    "content-type",
    "x-squid-error",
    "x-cache",
    "proxy-status",
    "x-frame-options",
];

/// A URL as recorded in a report: query and fragment removed. Block pages and log-in redirects
/// put the requested URL, the user's name or the device's address in the query string; none of
/// that belongs in a report.
pub fn redact(url: &Url) -> String {
    let mut u = url.clone();
    let had_query = u.query().is_some();
    u.set_query(None);
    u.set_fragment(None);
    let _ = u.set_password(None);
    let _ = u.set_username("");
    let mut s = u.to_string();
    if had_query {
        s.push_str("?(query removed)");
    }
    s
}

/// Request a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub requirement: String,
    pub url: String,
    pub follow_redirects: bool,
    /// Statuses that count as reachable; empty means any status below 400.
    pub accept: Vec<u16>,
}

impl Spec {
    fn accepts(&self, status: u16) -> bool {
        if self.accept.is_empty() {
            status < 400
        } else {
            self.accept.contains(&status)
        }
    }
}

/// Marks a resolution the check refused, so the reqwest error can be traced back to DNS.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct NotResolved(String);

/// reqwest's resolver: the system resolver, refusing sinkhole answers.
struct GuardedDns(SystemResolver);

impl Resolve for GuardedDns {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.0.clone();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let answer = resolver.resolve(&name).await;
            let addrs = answer.usable_addresses();
            if addrs.is_empty() {
                return Err(
                    Box::new(NotResolved(format!("{name}: {}", answer.failure_text())))
                        as Box<dyn std::error::Error + Send + Sync>,
                );
            }
            let it: Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(it)
        })
    }
}

/// The proxy the environment names for `url`, without credentials; `None` for a direct
/// connection. Follows the common conventions: lowercase before uppercase, `NO_PROXY` entries
/// match the host and its subdomains, `*` matches everything.
pub fn proxy_for(url: &Url, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let first = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
    };
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    if let Some(no) = first(&["no_proxy", "NO_PROXY"]) {
        for entry in no.split(',').map(|e| e.trim().to_ascii_lowercase()) {
            if entry.is_empty() {
                continue;
            }
            if entry == "*" {
                return None;
            }
            let entry = entry.trim_start_matches("*.").trim_start_matches('.');
            if host == entry || host.ends_with(&format!(".{entry}")) {
                return None;
            }
        }
    }
    let proxy = match url.scheme() {
        "https" => first(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"]),
        _ => first(&["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"]),
    }?;
    let with_scheme = if proxy.contains("://") {
        proxy
    } else {
        format!("http://{proxy}")
    };
    match Url::parse(&with_scheme) {
        Ok(p) => Some(format!(
            "{}://{}{}",
            p.scheme(),
            p.host_str().unwrap_or(""),
            p.port().map_or(String::new(), |port| format!(":{port}"))
        )),
        Err(_) => Some("(unparsable proxy setting)".to_owned()),
    }
}

/// Translates a transport error into an HTTP outcome: the one place reqwest's, rustls's and
/// the OS's errors become report words.
fn classify(err: &(dyn std::error::Error + 'static)) -> (HttpOutcome, String) {
    let mut detail = err.to_string();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut outcome = None;
    while let Some(e) = cur {
        if let Some(nr) = e.downcast_ref::<NotResolved>() {
            return (HttpOutcome::DnsFailed, nr.0.clone());
        }
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return (HttpOutcome::TlsFailed, format!("TLS: {tls}"));
        }
        if let Some(io) = e.downcast_ref::<io::Error>() {
            // rustls reports through io::Error with the rustls::Error inside.
            if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                return (HttpOutcome::TlsFailed, format!("TLS: {tls}"));
            }
            outcome = match io.kind() {
                io::ErrorKind::ConnectionRefused => Some(HttpOutcome::ConnectionRefused),
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof => Some(HttpOutcome::ConnectionReset),
                io::ErrorKind::TimedOut => Some(HttpOutcome::Timeout),
                _ => outcome,
            };
            detail = io.to_string();
        }
        cur = e.source();
    }
    if let Some(o) = outcome {
        return (o, detail);
    }
    if let Some(r) = err.downcast_ref::<reqwest::Error>() {
        if r.is_timeout() {
            return (HttpOutcome::Timeout, "no response in time".to_owned());
        }
        let mut chain = r.to_string();
        let mut src = r.source();
        while let Some(s) = src {
            chain.push_str(": ");
            chain.push_str(&s.to_string());
            src = s.source();
        }
        return (HttpOutcome::ConnectionReset, chain);
    }
    (HttpOutcome::ConnectionReset, detail)
}

struct Outcome {
    outcome: HttpOutcome,
    detail: Option<String>,
}

fn fail(outcome: HttpOutcome, detail: impl Into<String>) -> Outcome {
    Outcome {
        outcome,
        detail: Some(detail.into()),
    }
}

pub async fn run(spec: &Spec, ctx: &Ctx) -> CheckResult {
    let start = Instant::now();
    let mut ev = HttpEvidence::default();
    let mut t = HttpTimings::default();
    let seen = SeenChains::default();
    let result = walk(spec, ctx, &seen, &mut ev, &mut t, start).await;
    if ev.certificate.is_none()
        && let Some(host) = Url::parse(&spec.url)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
    {
        ev.certificate = seen.leaf(&host);
    }
    if let Some(d) = result.detail {
        ev.detail = Some(d);
    }
    t.total_ms = ms(start.elapsed());
    CheckResult::Http(HttpResult {
        requirement: spec.requirement.clone(),
        target: spec.url.clone(),
        outcome: result.outcome,
        evidence: ev,
        timings: t,
    })
}

fn remaining(start: Instant) -> Duration {
    HTTP_TIMEOUT.saturating_sub(start.elapsed())
}

async fn walk(
    spec: &Spec,
    ctx: &Ctx,
    seen: &SeenChains,
    ev: &mut HttpEvidence,
    t: &mut HttpTimings,
    start: Instant,
) -> Outcome {
    let url = match Url::parse(&spec.url) {
        Ok(u) => u,
        Err(e) => return fail(HttpOutcome::UnexpectedStatus, format!("invalid URL: {e}")),
    };
    let Some(host) = url
        .host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
    else {
        return fail(HttpOutcome::UnexpectedStatus, "URL has no host");
    };
    let https = url.scheme() == "https";
    let port = url
        .port_or_known_default()
        .unwrap_or(if https { 443 } else { 80 });
    ev.proxy = proxy_for(&url, &|k| std::env::var(k).ok());

    if ev.proxy.is_none() {
        // Resolved afresh (not the run's shared answer) so dns_ms is this request's own.
        let answer = ctx.resolver.resolve(&host).await;
        t.dns_ms = Some(ms(answer.duration));
        let Some(ip) = pick(&answer.usable_addresses()) else {
            return fail(HttpOutcome::DnsFailed, answer.failure_text());
        };
        ev.address = Some(ip);
        let c = tcp::connect(
            SocketAddr::new(ip, port),
            CONNECT_TIMEOUT.min(remaining(start)),
        )
        .await;
        t.connect_ms = Some(ms(c.duration));
        let Some(stream) = c.stream else {
            let detail = c.detail.unwrap_or_default();
            return match c.outcome {
                fitcheck_core::report::TcpOutcome::Refused => {
                    fail(HttpOutcome::ConnectionRefused, detail)
                }
                _ => fail(HttpOutcome::Timeout, format!("TCP connect: {detail}")),
            };
        };
        if https {
            let config = match ctx.tls.client_config(seen) {
                Ok(c) => c,
                Err(e) => return fail(HttpOutcome::TlsFailed, e.to_string()),
            };
            let Ok(server_name) = ServerName::try_from(host.clone()) else {
                return fail(
                    HttpOutcome::TlsFailed,
                    format!("{host} is not a valid TLS server name"),
                );
            };
            let tls_start = Instant::now();
            let connector = TlsConnector::from(Arc::new(config));
            match tokio::time::timeout(remaining(start), connector.connect(server_name, stream))
                .await
            {
                Ok(Ok(_stream)) => t.tls_ms = Some(ms(tls_start.elapsed())),
                Ok(Err(e)) => {
                    t.tls_ms = Some(ms(tls_start.elapsed()));
                    let (outcome, detail) = classify(&e);
                    let outcome = match outcome {
                        HttpOutcome::ConnectionReset | HttpOutcome::TlsFailed => outcome,
                        _ => HttpOutcome::TlsFailed,
                    };
                    return fail(
                        outcome,
                        format!("during the TLS handshake with SNI {host}: {detail}"),
                    );
                }
                Err(_) => {
                    return fail(
                        HttpOutcome::Timeout,
                        format!("TLS handshake with SNI {host} did not complete"),
                    );
                }
            }
        }
    }

    request(spec, ctx, seen, ev, t, start, url).await
}

#[allow(clippy::too_many_arguments)]
async fn request(
    spec: &Spec,
    ctx: &Ctx,
    seen: &SeenChains,
    ev: &mut HttpEvidence,
    t: &mut HttpTimings,
    start: Instant,
    mut url: Url,
) -> Outcome {
    let config = match ctx.tls.client_config(seen) {
        Ok(c) => c,
        Err(e) => return fail(HttpOutcome::TlsFailed, e.to_string()),
    };
    let client = reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .dns_resolver(Arc::new(GuardedDns(ctx.resolver.clone())))
        .redirect(reqwest::redirect::Policy::none())
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(remaining(start))
        .user_agent(concat!("fitcheck-agent/", env!("CARGO_PKG_VERSION")))
        .pool_max_idle_per_host(0)
        .build();
    let client = match client {
        Ok(c) => c,
        Err(e) => return fail(HttpOutcome::TlsFailed, format!("HTTP client: {e}")),
    };
    let mut first = true;
    loop {
        let sent = Instant::now();
        let resp = match client.get(url.clone()).send().await {
            Ok(r) => r,
            Err(e) => {
                let (outcome, detail) = classify(&e);
                return fail(outcome, format!("{}: {detail}", redact(&url)));
            }
        };
        if first {
            t.first_byte_ms = Some(ms(sent.elapsed()));
            first = false;
        }
        let status = resp.status().as_u16();
        ev.headers.clear();
        for name in EVIDENCE_HEADERS {
            if let Some(v) = resp.headers().get(name).and_then(|v| v.to_str().ok()) {
                let v = match (name, url.join(v)) {
                    ("location", Ok(loc)) => redact(&loc),
                    _ => v.chars().take(300).collect(),
                };
                ev.headers.insert(name.to_owned(), v);
            }
        }
        let location = resp
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        if spec.follow_redirects
            && resp.status().is_redirection()
            && let Some(loc) = location
        {
            let next = match url.join(&loc) {
                Ok(n) => n,
                Err(e) => {
                    ev.status = Some(status);
                    return fail(
                        HttpOutcome::UnexpectedStatus,
                        format!("bad redirect {loc:?}: {e}"),
                    );
                }
            };
            ev.redirects.push(Redirect {
                from: redact(&url),
                status,
                location: redact(&next),
            });
            if ev.redirects.len() > MAX_REDIRECTS {
                ev.status = Some(status);
                return fail(
                    HttpOutcome::UnexpectedStatus,
                    format!("more than {MAX_REDIRECTS} redirects"),
                );
            }
            url = next;
            continue;
        }
        ev.status = Some(status);
        ev.final_url = Some(redact(&url));
        let mut resp = resp;
        let mut read = 0usize;
        loop {
            match resp.chunk().await {
                Ok(Some(c)) => {
                    read += c.len();
                    if read >= MAX_BODY_BYTES {
                        break;
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    let (outcome, detail) = classify(&e);
                    return fail(outcome, format!("while reading the body: {detail}"));
                }
            }
        }
        return if spec.accepts(status) {
            Outcome {
                outcome: HttpOutcome::Reachable,
                detail: None,
            }
        } else {
            Outcome {
                outcome: HttpOutcome::UnexpectedStatus,
                detail: Some(format!("status {status}")),
            }
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k| {
            pairs
                .iter()
                .find(|(n, _)| *n == k)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn recorded_urls_carry_no_query_or_credentials() {
        let u = Url::parse("https://me:pw@block.district.example/deny?user=jsmith&ip=10.1.2.3#x")
            .unwrap();
        assert_eq!(
            redact(&u),
            "https://block.district.example/deny?(query removed)"
        );
        let plain = Url::parse("https://app.example.com/login").unwrap();
        assert_eq!(redact(&plain), "https://app.example.com/login");
    }

    #[test]
    fn proxy_settings_follow_the_usual_conventions() {
        let u = Url::parse("https://app.example.com/x").unwrap();
        assert_eq!(proxy_for(&u, &env(&[])), None);
        assert_eq!(
            proxy_for(
                &u,
                &env(&[("HTTPS_PROXY", "http://user:pw@proxy.district:3128")])
            ),
            Some("http://proxy.district:3128".to_owned())
        );
        assert_eq!(
            proxy_for(
                &u,
                &env(&[("https_proxy", "proxy:8080"), ("NO_PROXY", "example.com")])
            ),
            None
        );
        assert_eq!(
            proxy_for(
                &u,
                &env(&[("ALL_PROXY", "http://p:1"), ("no_proxy", ".other.org")])
            ),
            Some("http://p:1".to_owned())
        );
        let plain = Url::parse("http://app.example.com/").unwrap();
        assert_eq!(
            proxy_for(&plain, &env(&[("HTTPS_PROXY", "http://p:1")])),
            None
        );
    }
}
