//! HTTP(S): is a URL reachable from here, and if not, which layer stopped it, which filter,
//! and with what evidence?
//!
//! The check walks the layers in order and names the first that explains what it saw (the
//! design's "telling blocking layers apart"):
//!
//! 1. DNS through the shared resolver: a resolver failure stops here (`dns_failed`); the DNS
//!    filter's answer (a bogon, a catalogued block address, or one the control resolver
//!    contradicts) is `blocked_by_filter` at layer `dns`. A bogon is never connected to; a
//!    block-page server is, for the certificate and page it shows as evidence, and the finding
//!    stays the DNS block.
//! 2. TCP connect: refused (reset) or filtered (dropped).
//! 3. TLS with the URL's host as SNI: a reset or failed handshake is the TLS/SNI layer.
//! 4. TLS interception: a chain the device trusts but no public root does was re-signed by a
//!    local CA; its issuer is matched against known inspection CAs.
//! 5. HTTP/proxy: an explicit proxy (from `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, honouring
//!    `NO_PROXY`) refusing the CONNECT, a redirect to a known block host, or block-page markers
//!    in the headers or body (even under a 200, as e2guardian answers).
//!
//! Through an explicit proxy the check opens the CONNECT tunnel itself, so the proxy's refusal
//! and its error page are evidence, then runs the TLS layer inside the tunnel. The request
//! itself goes through reqwest with redirects followed one by one.

use std::error::Error as _;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use fitcheck_core::report::{
    BlockingLayer, CertificateEvidence, CheckResult, DnsOutcome, HttpEvidence, HttpOutcome,
    HttpResult, HttpTimings, Redirect, SignatureMatch, TcpOutcome,
};
use fitcheck_core::signatures::squid_failure;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::proxy::matcher::Matcher;
use hyper_util::rt::TokioIo;
use reqwest::Url;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::tcp::{self, pick};
use super::{CONNECT_TIMEOUT, Ctx, HTTP_TIMEOUT, ms};
use crate::resolve::SystemResolver;
use crate::tls::SeenChains;

/// Most redirects followed.
pub const MAX_REDIRECTS: usize = 10;
/// Most body bytes read (enough to time the transfer of a page and to see a block page).
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Most bytes of a proxy's answer to CONNECT read (head and error page).
const MAX_PROXY_ANSWER: usize = 64 * 1024;
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

/// Request a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub requirement: fitcheck_core::requirement::RequirementId,
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

/// Marks a resolution the check refused, so the reqwest error can be traced back to DNS: a
/// resolver failure, or the DNS filter's block answer.
#[derive(Debug, thiserror::Error)]
#[error("{text}")]
struct NotResolved {
    blocked: bool,
    text: String,
}

/// reqwest's resolver: the system resolver, refusing sinkhole answers.
pub(crate) struct GuardedDns(pub(crate) SystemResolver);

impl Resolve for GuardedDns {
    fn resolve(&self, name: Name) -> Resolving {
        let resolver = self.0.clone();
        let name = name.as_str().to_owned();
        Box::pin(async move {
            let answer = resolver.resolve(&name).await;
            let addrs = answer.usable_addresses();
            if addrs.is_empty() {
                return Err(Box::new(NotResolved {
                    blocked: answer.outcome == DnsOutcome::Sinkholed,
                    text: format!("{name}: {}", answer.failure_text()),
                })
                    as Box<dyn std::error::Error + Send + Sync>);
            }
            let it: Addrs = Box::new(addrs.into_iter().map(|ip| SocketAddr::new(ip, 0)));
            Ok(it)
        })
    }
}

/// The proxy the agent's requests to `url` go through, as `scheme://host[:port]` (never the
/// credentials), from the usual variables (`https_proxy`, `http_proxy`, `all_proxy`,
/// `no_proxy`, lower case first, as curl reads them), read by hyper-util's matcher: the same
/// rules the HTTP client applies, `no_proxy` with domains, addresses and ranges.
pub fn proxy_for(url: &Url, env: &dyn Fn(&str) -> Option<String>) -> Option<String> {
    let first = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| env(n).filter(|v| !v.trim().is_empty()))
            .unwrap_or_default()
    };
    // `*.district.example` is written as often as `.district.example`: the same rule.
    let no = first(&["no_proxy", "NO_PROXY"])
        .split(',')
        .map(|e| e.trim().trim_start_matches("*."))
        .collect::<Vec<_>>()
        .join(",");
    let matcher = Matcher::builder()
        .http(first(&["http_proxy", "HTTP_PROXY"]))
        .https(first(&["https_proxy", "HTTPS_PROXY"]))
        .all(first(&["all_proxy", "ALL_PROXY"]))
        .no(no)
        .build();
    let uri: http::Uri = url.as_str().parse().ok()?;
    let hit = matcher.intercept(&uri)?;
    let proxy = hit.uri();
    Some(format!(
        "{}://{}{}",
        proxy.scheme_str().unwrap_or("http"),
        proxy.host().unwrap_or(""),
        proxy.port_u16().map_or(String::new(), |p| format!(":{p}"))
    ))
}

fn classify(err: &(dyn std::error::Error + 'static)) -> (HttpOutcome, String) {
    let mut detail = err.to_string();
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    let mut outcome = None;
    while let Some(e) = cur {
        if let Some(nr) = e.downcast_ref::<NotResolved>() {
            let outcome = if nr.blocked {
                HttpOutcome::BlockedByFilter
            } else {
                HttpOutcome::DnsFailed
            };
            return (outcome, nr.text.clone());
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

/// Where a walk stopped, when it did not reach a usable response.
struct Stop {
    outcome: HttpOutcome,
    layer: Option<BlockingLayer>,
    detail: String,
    signature: Option<SignatureMatch>,
}

fn stop(outcome: HttpOutcome, layer: BlockingLayer, detail: impl Into<String>) -> Stop {
    Stop {
        outcome,
        layer: Some(layer),
        detail: detail.into(),
        signature: None,
    }
}

/// One check's walk through the layers, with what it has seen so far.
struct Walk<'a> {
    spec: &'a Spec,
    ctx: &'a Ctx,
    seen: SeenChains,
    ev: HttpEvidence,
    t: HttpTimings,
    start: Instant,
    /// Interception seen at the TLS layer. The request still goes through the re-signed
    /// connection: an inspecting proxy may answer it with its block page, which is then the
    /// finding (bypassing inspection would not unblock it).
    intercepted: Option<Stop>,
    /// The DNS filter's block, when the name resolved to its block-page server: the walk goes
    /// on there only to see what that server shows, and this is the finding.
    dns_block: Option<Stop>,
    /// The final page's title, for naming a block page no signature knows.
    title: Option<String>,
}

pub async fn run(spec: &Spec, ctx: &Ctx) -> CheckResult {
    let mut w = Walk {
        spec,
        ctx,
        seen: SeenChains::default(),
        ev: HttpEvidence::default(),
        t: HttpTimings::default(),
        start: Instant::now(),
        intercepted: None,
        dns_block: None,
        title: None,
    };
    let walked = w.walk().await;
    let walked = match w.dns_block.take() {
        Some(block) => Err(w.at_block_server(block, walked)),
        None => walked,
    };
    let outcome = match walked {
        Ok(()) => HttpOutcome::Reachable,
        Err(s) => {
            w.ev.detail = Some(s.detail);
            w.ev.blocking_layer = s.layer;
            if s.signature.is_some() {
                w.ev.signature = s.signature;
            }
            s.outcome
        }
    };
    w.t.total_ms = ms(w.start.elapsed());
    CheckResult::Http(HttpResult {
        requirement: spec.requirement.clone(),
        target: spec.url.clone(),
        outcome,
        evidence: w.ev,
        timings: w.t,
    })
}

fn remaining(start: Instant) -> Duration {
    HTTP_TIMEOUT.saturating_sub(start.elapsed())
}

fn host_of(url: &Url) -> Option<String> {
    url.host_str()
        .map(|h| h.trim_start_matches('[').trim_end_matches(']').to_owned())
}

impl Walk<'_> {
    async fn walk(&mut self) -> Result<(), Stop> {
        let url = Url::parse(&self.spec.url).map_err(|e| Stop {
            outcome: HttpOutcome::UnexpectedStatus,
            layer: None,
            detail: format!("invalid URL: {e}"),
            signature: None,
        })?;
        let host = host_of(&url).ok_or_else(|| Stop {
            outcome: HttpOutcome::UnexpectedStatus,
            layer: None,
            detail: "URL has no host".to_owned(),
            signature: None,
        })?;
        let https = url.scheme() == "https";
        let port = url
            .port_or_known_default()
            .unwrap_or(if https { 443 } else { 80 });
        self.ev.proxy = proxy_for(&url, &|k| std::env::var(k).ok());

        let ready = match self.ev.proxy.clone() {
            None => {
                let stream = self.direct(&host, port).await?;
                if https {
                    Some(Ready::Tls(Box::new(self.tls(stream, &host).await?)))
                } else {
                    Some(Ready::Plain(stream))
                }
            }
            Some(proxy) if https && proxy.starts_with("http://") => {
                let tunnel = self.tunnel(&proxy, &host, port).await?;
                Some(Ready::Tls(Box::new(self.tls(tunnel, &host).await?)))
            }
            // Plain HTTP goes to the proxy as an absolute-form request, and an HTTPS proxy is
            // left to reqwest entirely.
            Some(_) => None,
        };
        self.request(url, ready).await
    }

    /// DNS and TCP, directly.
    async fn direct(&mut self, host: &str, port: u16) -> Result<TcpStream, Stop> {
        // Resolved afresh (not the run's shared answer) so dns_ms is this request's own.
        let answer = self.ctx.resolver.resolve(host).await;
        self.t.dns_ms = Some(ms(answer.duration));
        let ip = match pick(&answer.usable_addresses()) {
            Some(ip) => ip,
            // The DNS filter's answer: a block, whatever a connection would show. When the
            // answer is its block-page server, the walk goes on there for the evidence (its
            // certificate and page); a bogon is never connected to.
            None if answer.outcome == DnsOutcome::Sinkholed => {
                let block = Stop {
                    outcome: HttpOutcome::BlockedByFilter,
                    layer: Some(BlockingLayer::Dns),
                    detail: format!(
                        "the district's DNS answer for {host} is a block ({})",
                        answer
                            .evidence
                            .sinkhole_reason
                            .as_deref()
                            .unwrap_or("sinkholed")
                    ),
                    signature: answer.evidence.signature.clone(),
                };
                match pick(&answer.block_servers()) {
                    Some(ip) => {
                        self.dns_block = Some(block);
                        ip
                    }
                    None => return Err(block),
                }
            }
            None => {
                return Err(Stop {
                    outcome: HttpOutcome::DnsFailed,
                    layer: Some(BlockingLayer::Dns),
                    detail: answer.failure_text(),
                    signature: answer.evidence.signature.clone(),
                });
            }
        };
        self.ev.address = Some(ip);
        let c = tcp::connect(
            SocketAddr::new(ip, port),
            CONNECT_TIMEOUT.min(remaining(self.start)),
        )
        .await;
        self.t.connect_ms = Some(ms(c.duration));
        match (c.stream, c.outcome) {
            (Some(s), _) => Ok(s),
            (None, TcpOutcome::Refused) => Err(stop(
                HttpOutcome::ConnectionRefused,
                BlockingLayer::Tcp,
                format!("TCP {ip}:{port}: {}", c.detail.unwrap_or_default()),
            )),
            (None, _) => Err(stop(
                HttpOutcome::Timeout,
                BlockingLayer::Tcp,
                format!("TCP {ip}:{port}: {}", c.detail.unwrap_or_default()),
            )),
        }
    }

    /// A CONNECT tunnel through an explicit HTTP proxy, opened by hand so a refusal and the
    /// proxy's error page are evidence.
    async fn tunnel(&mut self, proxy: &str, host: &str, port: u16) -> Result<TcpStream, Stop> {
        let (mut stream, phost, pport) = self.reach_proxy(proxy).await?;
        let authority = if host.contains(':') {
            format!("[{host}]:{port}")
        } else {
            format!("{host}:{port}")
        };
        let (status, headers, rest) = self
            .send_connect(&mut stream, &authority, &phost, pport)
            .await?;
        if status == 200 {
            return Ok(stream);
        }
        let body = read_body(&mut stream, rest, &headers).await;
        let who = format!("the proxy {phost}:{pport}");
        Err(self.proxy_refusal(status, &headers, &body, &who, host, &authority))
    }

    /// Resolves the proxy named by the `proxy` setting and connects to it; returns the
    /// connection with the proxy's host and port.
    async fn reach_proxy(&mut self, proxy: &str) -> Result<(TcpStream, String, u16), Stop> {
        let proxy_url = Url::parse(proxy).map_err(|e| {
            stop(
                HttpOutcome::UnexpectedStatus,
                BlockingLayer::HttpProxy,
                format!("proxy setting {proxy}: {e}"),
            )
        })?;
        let phost = host_of(&proxy_url).unwrap_or_default();
        let pport = proxy_url.port_or_known_default().unwrap_or(3128);
        let answer = self.ctx.resolver.resolve(&phost).await;
        let Some(pip) = pick(&answer.usable_addresses()) else {
            return Err(stop(
                HttpOutcome::DnsFailed,
                BlockingLayer::HttpProxy,
                format!(
                    "the proxy {phost} did not resolve: {}",
                    answer.failure_text()
                ),
            ));
        };
        let c = tcp::connect(
            SocketAddr::new(pip, pport),
            CONNECT_TIMEOUT.min(remaining(self.start)),
        )
        .await;
        self.t.connect_ms = Some(ms(c.duration));
        let Some(stream) = c.stream else {
            return Err(stop(
                if c.outcome == TcpOutcome::Refused {
                    HttpOutcome::ConnectionRefused
                } else {
                    HttpOutcome::Timeout
                },
                BlockingLayer::HttpProxy,
                format!(
                    "the proxy {phost}:{pport} is unreachable: {}",
                    c.detail.unwrap_or_default()
                ),
            ));
        };
        Ok((stream, phost, pport))
    }

    /// Asks the proxy at `phost:pport` to CONNECT to `authority`, and reads the head of its
    /// answer: the status, the headers and whatever body bytes came with them.
    async fn send_connect(
        &self,
        stream: &mut TcpStream,
        authority: &str,
        phost: &str,
        pport: u16,
    ) -> Result<(u16, Vec<(String, String)>, Vec<u8>), Stop> {
        let request = format!(
            "CONNECT {authority} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: fitcheck-agent/{}\r\n\r\n",
            env!("CARGO_PKG_VERSION")
        );
        let deadline = remaining(self.start);
        let answer = tokio::time::timeout(deadline, async {
            stream.write_all(request.as_bytes()).await?;
            read_head(&mut *stream).await
        })
        .await;
        match answer {
            Ok(Ok(h)) => Ok(h),
            Ok(Err(e)) => Err(stop(
                HttpOutcome::ConnectionReset,
                BlockingLayer::HttpProxy,
                format!("the proxy {phost}:{pport} closed the CONNECT: {e}"),
            )),
            Err(_) => Err(stop(
                HttpOutcome::Timeout,
                BlockingLayer::HttpProxy,
                format!("the proxy {phost}:{pport} did not answer the CONNECT"),
            )),
        }
    }

    /// The proxy's refusal of the CONNECT, with its status, headers and any block page it
    /// served kept as evidence.
    fn proxy_refusal(
        &mut self,
        status: u16,
        headers: &[(String, String)],
        body: &str,
        who: &str,
        host: &str,
        authority: &str,
    ) -> Stop {
        self.ev.status = Some(status);
        self.keep_headers(headers, None);
        let signature = self.ctx.catalog.block_page(status, headers, body);
        let mut s = connect_refused(status, headers, signature.is_some(), who, host, authority);
        if let Some(sig) = &signature {
            s.detail
                .push_str(&format!("; block page of {} ({})", sig.vendor, sig.matched));
            self.keep_headers(headers, Some(&sig.matched));
        }
        s.signature = signature;
        s
    }

    /// The TLS handshake with the product's SNI, and the interception test on its chain.
    async fn tls(&mut self, stream: TcpStream, host: &str) -> Result<TlsStream<TcpStream>, Stop> {
        let (config, server_name) = self.tls_client(host)?;
        let started = Instant::now();
        // Where a control handshake would go: the same server, reached the same way.
        let peer = stream.peer_addr().ok().filter(|_| self.ev.proxy.is_none());
        let connector = TlsConnector::from(Arc::new(config));
        let result = tokio::time::timeout(
            remaining(self.start),
            connector.connect(server_name, stream),
        )
        .await;
        self.t.tls_ms = Some(ms(started.elapsed()));
        let chain = self.seen.chain(host).unwrap_or_default();
        let cert = self.ctx.tls.assess(&chain, host);
        self.ev.certificate.clone_from(&cert);
        let inspection = cert
            .as_ref()
            .and_then(|c| self.ctx.catalog.interception_ca(&c.issuer));
        match result {
            Ok(Ok(tls)) => {
                self.note_interception(host, cert.as_ref(), inspection);
                Ok(tls)
            }
            Ok(Err(e)) => Err(self
                .handshake_failed(&e, peer, host, cert.as_ref(), inspection.as_ref())
                .await),
            Err(_) => Err(stop(
                HttpOutcome::Timeout,
                BlockingLayer::TlsSni,
                format!("the TLS handshake with SNI {host} did not complete"),
            )),
        }
    }

    /// The TLS client configuration (recording the chain the server presents) and `host` as
    /// the server name to ask for.
    fn tls_client(&self, host: &str) -> Result<(rustls::ClientConfig, ServerName<'static>), Stop> {
        let config = self
            .ctx
            .tls
            .client_config(&self.seen)
            .map_err(|e| stop(HttpOutcome::TlsFailed, BlockingLayer::TlsSni, e.to_string()))?;
        let server_name = ServerName::try_from(host.to_owned()).map_err(|_| {
            stop(
                HttpOutcome::TlsFailed,
                BlockingLayer::TlsSni,
                format!("{host} is not a valid TLS server name"),
            )
        })?;
        Ok((config, server_name))
    }

    /// After a completed handshake: a certificate this device trusts but no public root does
    /// means a local CA re-signs the traffic, kept as the interception (with the inspection CA
    /// that issued it, when known).
    fn note_interception(
        &mut self,
        host: &str,
        cert: Option<&CertificateEvidence>,
        inspection: Option<SignatureMatch>,
    ) {
        if let Some(c) = cert
            && c.publicly_trusted == Some(false)
        {
            let mut s = stop(
                HttpOutcome::TlsIntercepted,
                BlockingLayer::TlsInterception,
                format!(
                    "the certificate for {host} is issued by {:?}, which this device trusts but no public root does: a local CA re-signs the traffic",
                    c.issuer
                ),
            );
            if let Some(sig) = &inspection {
                s.detail
                    .push_str(&format!("; it is {}'s inspection CA", sig.vendor));
            }
            s.signature = inspection;
            self.intercepted = Some(s);
        }
    }

    /// Why the handshake failed: an inspection CA this device does not trust, a reset (judged
    /// by a control handshake), or another TLS failure.
    async fn handshake_failed(
        &self,
        e: &io::Error,
        peer: Option<SocketAddr>,
        host: &str,
        cert: Option<&CertificateEvidence>,
        inspection: Option<&SignatureMatch>,
    ) -> Stop {
        let (outcome, detail) = classify(e);
        if outcome == HttpOutcome::TlsFailed
            && let (Some(sig), Some(c)) = (inspection, cert)
        {
            return Stop {
                outcome: HttpOutcome::TlsIntercepted,
                layer: Some(BlockingLayer::TlsInterception),
                detail: format!(
                    "the certificate for {host} is issued by {:?}, {}'s inspection CA, which this device does not trust ({detail})",
                    c.issuer, sig.vendor
                ),
                signature: inspection.cloned(),
            };
        }
        let outcome = match outcome {
            HttpOutcome::ConnectionReset | HttpOutcome::TlsFailed => outcome,
            _ => HttpOutcome::TlsFailed,
        };
        let mut detail = format!("during the TLS handshake with SNI {host}: {detail}");
        if outcome == HttpOutcome::ConnectionReset {
            // A reset is a name-based block only when another name gets through.
            return self.handshake_reset(peer, host, detail).await;
        } else if cert.is_some_and(|c| c.publicly_trusted == Some(false)) {
            detail.push_str("; no public root trusts this certificate either: a TLS-inspecting device whose CA is not installed here?");
        }
        stop(outcome, BlockingLayer::TlsSni, detail)
    }

    /// A reset handshake, judged by a control handshake with no server name: reset too, the
    /// server resets every handshake and no layer is blamed; otherwise the reset is the TLS/SNI
    /// layer's, with what the control showed.
    async fn handshake_reset(
        &self,
        peer: Option<SocketAddr>,
        host: &str,
        mut detail: String,
    ) -> Stop {
        let outcome = HttpOutcome::ConnectionReset;
        match self.control_handshake(peer, host).await {
            Some(Control::AlsoReset(at)) => {
                return Stop {
                    outcome,
                    layer: None,
                    detail: format!(
                        "{detail}; a control handshake to {at} with no server name was reset too: the server resets every handshake, whatever the name (the vendor's server, or an outage in front of it), not a filter reading the name"
                    ),
                    signature: None,
                };
            }
            Some(Control::Answered(at)) => detail.push_str(&format!(
                "; a control handshake to {at} with no server name was answered: a filter that reads the SNI resets this name"
            )),
            None => detail.push_str(
                " (a filter that reads the SNI resets such handshakes; no control handshake could be made to tell)",
            ),
        }
        stop(outcome, BlockingLayer::TlsSni, detail)
    }

    /// A second handshake to the server that reset ours, with no server name in its hello:
    /// reset too, the server (or something in front of it) resets every handshake; answered
    /// (by a certificate, a refusal of the name, anything but a reset), the first was reset for
    /// its name. `None` when there is no direct connection to repeat or it cannot be opened.
    async fn control_handshake(&self, peer: Option<SocketAddr>, host: &str) -> Option<Control> {
        let peer = peer?;
        let limit = remaining(self.start).min(CONTROL_TIMEOUT);
        let stream = tokio::time::timeout(limit, TcpStream::connect(peer))
            .await
            .ok()?
            .ok()?;
        let mut config = self.ctx.tls.client_config(&SeenChains::default()).ok()?;
        config.enable_sni = false;
        let name = ServerName::try_from(host.to_owned()).ok()?;
        let connector = TlsConnector::from(Arc::new(config));
        let answered = match tokio::time::timeout(limit, connector.connect(name, stream)).await {
            Ok(Ok(_)) => true,
            Ok(Err(e)) => classify(&e).0 != HttpOutcome::ConnectionReset,
            // Silence after the hello is no answer and no reset: nothing to tell by.
            Err(_) => return None,
        };
        Some(if answered {
            Control::Answered(peer)
        } else {
            Control::AlsoReset(peer)
        })
    }

    fn keep_headers(&mut self, headers: &[(String, String)], matched: Option<&str>) {
        self.ev.headers.clear();
        for (k, v) in headers {
            let k = k.to_ascii_lowercase();
            let wanted = EVIDENCE_HEADERS.contains(&k.as_str())
                || matched.is_some_and(|m| m.to_ascii_lowercase().contains(&format!("header {k}")));
            if wanted && k != "location" {
                self.ev.headers.insert(k, v.chars().take(300).collect());
            }
        }
    }

    /// The requests: the first over the connection the layers above opened (so its timings
    /// are that connection's), later ones (redirects) through reqwest; then the block-page
    /// test on the final answer.
    async fn request(&mut self, mut url: Url, mut ready: Option<Ready>) -> Result<(), Stop> {
        let mut client: Option<reqwest::Client> = None;
        let mut first = true;
        loop {
            let answer = match ready.take() {
                Some(Ready::Tls(tls)) => first_hop(*tls, &url, remaining(self.start)).await,
                Some(Ready::Plain(tcp)) => first_hop(tcp, &url, remaining(self.start)).await,
                None => {
                    if client.is_none() {
                        client = Some(self.client()?);
                    }
                    match &client {
                        Some(c) => hop(c, &url).await,
                        None => continue,
                    }
                }
            }
            .map_err(|(outcome, detail)| self.no_answer(&url, outcome, detail))?;
            if first {
                self.t.first_byte_ms = Some(ms(answer.first_byte));
                first = false;
            }
            let status = answer.status;
            let headers = answer.headers;
            self.keep_headers(&headers, None);
            let location = header(&headers, "location").and_then(|l| url.join(&l).ok());
            if let Some(loc) = &location {
                self.ev.headers.insert("location".to_owned(), redact(loc));
            }
            if self.spec.follow_redirects
                && (300..400).contains(&status)
                && let Some(next) = location
            {
                self.redirect(&url, status, &next)?;
                url = next;
                continue;
            }
            return self.final_answer(&url, status, &headers, &answer.body);
        }
    }

    /// Why a request to `url` got no answer.
    fn no_answer(&mut self, url: &Url, outcome: HttpOutcome, detail: String) -> Stop {
        // Through a re-signed connection, the interception is the finding.
        self.intercepted.take().unwrap_or(Stop {
            outcome,
            layer: layer_of(outcome),
            detail: format!("{}: {detail}", redact(url)),
            signature: None,
        })
    }

    /// Records a redirect from `from` to `next` about to be followed; stops at a known block
    /// host, or past [`MAX_REDIRECTS`].
    fn redirect(&mut self, from: &Url, status: u16, next: &Url) -> Result<(), Stop> {
        self.ev.redirects.push(Redirect {
            from: redact(from),
            status,
            location: redact(next),
        });
        if let Some(sig) = host_of(next).and_then(|h| self.ctx.catalog.block_host(&h)) {
            self.ev.status = Some(status);
            return Err(Stop {
                outcome: HttpOutcome::BlockedByFilter,
                layer: Some(BlockingLayer::HttpFilter),
                detail: format!(
                    "redirected to {}'s block page ({})",
                    sig.vendor, sig.matched
                ),
                signature: Some(sig),
            });
        }
        if self.ev.redirects.len() > MAX_REDIRECTS {
            self.ev.status = Some(status);
            return Err(Stop {
                outcome: HttpOutcome::UnexpectedStatus,
                layer: None,
                detail: format!("more than {MAX_REDIRECTS} redirects"),
                signature: None,
            });
        }
        Ok(())
    }

    /// The final answer, not a redirect followed: a block page in it is the finding, then an
    /// interception seen on the way, then whether its status is one the spec accepts.
    fn final_answer(
        &mut self,
        url: &Url,
        status: u16,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), Stop> {
        self.ev.status = Some(status);
        self.ev.final_url = Some(redact(url));
        let text = String::from_utf8_lossy(body);
        self.title = page_title(&text);
        if let Some(sig) = self.ctx.catalog.block_page(status, headers, &text) {
            return Err(self.blocked_by_page(status, headers, sig));
        }
        if let Some(intercepted) = self.intercepted.take() {
            return Err(intercepted);
        }
        if self.spec.accepts(status) {
            Ok(())
        } else {
            Err(Stop {
                outcome: HttpOutcome::UnexpectedStatus,
                layer: None,
                detail: format!("status {status}"),
                signature: None,
            })
        }
    }

    /// The block page `sig` in the final answer, at the proxy's layer when there is a proxy,
    /// saying so when it came inside a connection the filter re-signed.
    fn blocked_by_page(
        &mut self,
        status: u16,
        headers: &[(String, String)],
        sig: SignatureMatch,
    ) -> Stop {
        self.keep_headers(headers, Some(&sig.matched));
        let layer = if self.ev.proxy.is_some() {
            BlockingLayer::HttpProxy
        } else {
            BlockingLayer::HttpFilter
        };
        let mut detail = format!(
            "status {status} with {}'s block page ({})",
            sig.vendor, sig.matched
        );
        if self.intercepted.is_some() {
            detail.push_str(", inside a TLS connection the filter re-signed");
            if let (None, Some(ip)) = (&self.ev.proxy, self.ev.address) {
                detail.push_str(&format!(
                    "; {ip} is the district resolver's answer: a DNS filter's block-page server, or a filter on the path (a control resolver, --control-resolver, tells which)"
                ));
            }
        }
        Stop {
            outcome: HttpOutcome::BlockedByFilter,
            layer: Some(layer),
            detail,
            signature: Some(sig),
        }
    }
}

impl Walk<'_> {
    /// The DNS filter's block, with what its block-page server showed: the certificate it
    /// presented for the product's name and the page it served. The outcome stays the DNS
    /// block: neither the re-signed certificate nor the page is the product's.
    fn at_block_server(&self, mut block: Stop, walked: Result<(), Stop>) -> Stop {
        let server = self
            .ev
            .address
            .map_or_else(|| "its server".to_owned(), |ip| format!("its server {ip}"));
        let mut ca_signature = None;
        if let Some(c) = &self.ev.certificate {
            ca_signature = self.ctx.catalog.interception_ca(&c.issuer);
        }
        // The control comparison may have named the certificate already.
        if let Some(c) = &self.ev.certificate
            && !block.detail.contains(&c.issuer)
        {
            block.detail.push_str(&format!(
                "; {server} presented a certificate for the name issued by {:?}",
                c.issuer
            ));
            match (c.trusted_by_system, c.publicly_trusted) {
                (Some(true), Some(false)) => block.detail.push_str(
                    ", which this device trusts and no public root does (a CA a filter or the district installed)",
                ),
                (Some(false), Some(false)) => {
                    block.detail.push_str(", which nothing here trusts");
                }
                _ => {}
            }
            if let Some(sig) = &ca_signature {
                block.detail.push_str(&format!(" ({}'s CA)", sig.vendor));
            }
        }
        let status = self
            .ev
            .status
            .map_or_else(String::new, |s| format!("status {s}"));
        let titled = self
            .title
            .as_ref()
            .map_or_else(String::new, |t| format!(" titled {t:?}"));
        let page_signature = match walked {
            Err(Stop {
                outcome: HttpOutcome::BlockedByFilter,
                signature: Some(sig),
                ..
            }) => {
                block.detail.push_str(&format!(
                    "; it served {}'s block page ({}, {status})",
                    sig.vendor, sig.matched
                ));
                Some(sig)
            }
            _ if self.ev.status.is_some() => {
                block
                    .detail
                    .push_str(&format!("; it answered {status} with a page{titled}"));
                None
            }
            Err(s) => {
                block
                    .detail
                    .push_str(&format!("; connecting to it for evidence: {}", s.detail));
                None
            }
            Ok(()) => None,
        };
        // The most specific name of the filter: its block page, its block address, its CA.
        block.signature = page_signature.or(block.signature).or(ca_signature);
        block
    }

    fn client(&self) -> Result<reqwest::Client, Stop> {
        let config = self
            .ctx
            .tls
            .client_config(&self.seen)
            .map_err(|e| stop(HttpOutcome::TlsFailed, BlockingLayer::TlsSni, e.to_string()))?;
        reqwest::Client::builder()
            .tls_backend_preconfigured(config)
            .dns_resolver(Arc::new(GuardedDns(self.ctx.resolver.clone())))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(remaining(self.start))
            .user_agent(USER_AGENT)
            .pool_max_idle_per_host(0)
            .build()
            .map_err(|e| Stop {
                outcome: HttpOutcome::TlsFailed,
                layer: None,
                detail: format!("HTTP client: {e}"),
                signature: None,
            })
    }
}

/// What a proxy's answer other than 200 to CONNECT says: a squid error names its own layer,
/// 407 asks for credentials the agent does not have, 403 or a block page is a block.
fn connect_refused(
    status: u16,
    headers: &[(String, String)],
    block_page: bool,
    who: &str,
    host: &str,
    authority: &str,
) -> Stop {
    if let Some(f) = squid_failure(headers) {
        let about = if f.layer == BlockingLayer::Dns {
            host
        } else {
            authority
        };
        stop(
            f.outcome,
            f.layer,
            format!("{who} {} {about} ({})", f.what, f.error),
        )
    } else if status == 407 {
        stop(
            HttpOutcome::UnexpectedStatus,
            BlockingLayer::HttpProxy,
            format!("{who} asks for credentials (407); the agent has none for it"),
        )
    } else if status == 403 || block_page {
        stop(
            HttpOutcome::BlockedByFilter,
            BlockingLayer::HttpProxy,
            format!("{who} refused CONNECT {authority} with {status}"),
        )
    } else {
        stop(
            HttpOutcome::UnexpectedStatus,
            BlockingLayer::HttpProxy,
            format!("{who} answered CONNECT {authority} with {status}"),
        )
    }
}

/// The text of a page's `<title>`, whitespace collapsed, at most 120 characters.
fn page_title(html: &str) -> Option<String> {
    let lower = html.to_ascii_lowercase();
    let open = lower.find("<title")?;
    let start = open + lower[open..].find('>')? + 1;
    let end = start + lower[start..].find("</title")?;
    let title: String = html
        .get(start..end)?
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .chars()
        .take(120)
        .collect();
    (!title.is_empty()).then_some(title)
}

const USER_AGENT: &str = concat!("fitcheck-agent/", env!("CARGO_PKG_VERSION"));

/// A connection the layers above opened, ready for the first request.
enum Ready {
    Tls(Box<TlsStream<TcpStream>>),
    Plain(TcpStream),
}

/// One answer: status, every header, the body up to [`MAX_BODY_BYTES`], and the time from
/// sending the request to its response head.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    first_byte: Duration,
}

type HopError = (HttpOutcome, String);

fn hop_error(e: &(dyn std::error::Error + 'static)) -> HopError {
    classify(e)
}

/// The first request, over an open connection, as HTTP/1.1.
async fn first_hop<S>(stream: S, url: &Url, limit: Duration) -> Result<Answer, HopError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let run = async {
        let (mut sender, conn) =
            hyper::client::conn::http1::handshake::<_, Empty<Bytes>>(TokioIo::new(stream))
                .await
                .map_err(|e| hop_error(&e))?;
        let driver = tokio::spawn(conn);
        let authority = match (url.host_str(), url.port()) {
            (Some(h), Some(p)) => format!("{h}:{p}"),
            (Some(h), None) => h.to_owned(),
            _ => String::new(),
        };
        let target = match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        };
        let request = http::Request::get(target)
            .header(http::header::HOST, authority)
            .header(http::header::USER_AGENT, USER_AGENT)
            .header(http::header::ACCEPT, "*/*")
            .body(Empty::<Bytes>::new())
            .map_err(|e| (HttpOutcome::UnexpectedStatus, format!("request: {e}")))?;
        let sent = Instant::now();
        let resp = sender
            .send_request(request)
            .await
            .map_err(|e| hop_error(&e));
        let first_byte = sent.elapsed();
        let resp = match resp {
            Ok(r) => r,
            Err(e) => {
                driver.abort();
                return Err(e);
            }
        };
        let status = resp.status().as_u16();
        let headers = header_list(resp.headers());
        let mut body_stream = resp.into_body();
        let mut body = Vec::new();
        while body.len() < MAX_BODY_BYTES {
            match body_stream.frame().await {
                Some(Ok(frame)) => {
                    if let Some(data) = frame.data_ref() {
                        let room = MAX_BODY_BYTES - body.len();
                        body.extend_from_slice(data.get(..room.min(data.len())).unwrap_or(&[]));
                    }
                }
                Some(Err(e)) => {
                    driver.abort();
                    let (o, d) = hop_error(&e);
                    return Err((o, format!("while reading the body: {d}")));
                }
                None => break,
            }
        }
        driver.abort();
        Ok(Answer {
            status,
            headers,
            body,
            first_byte,
        })
    };
    tokio::time::timeout(limit, run).await.unwrap_or_else(|_| {
        Err((
            HttpOutcome::Timeout,
            "no complete answer in time".to_owned(),
        ))
    })
}

/// A later request, through reqwest (its own connection, the proxy settings honoured).
async fn hop(client: &reqwest::Client, url: &Url) -> Result<Answer, HopError> {
    let sent = Instant::now();
    let mut resp = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| hop_error(&e))?;
    let first_byte = sent.elapsed();
    let status = resp.status().as_u16();
    let headers = header_list(resp.headers());
    let mut body = Vec::new();
    while body.len() < MAX_BODY_BYTES {
        match resp.chunk().await {
            Ok(Some(c)) => {
                let room = MAX_BODY_BYTES - body.len();
                body.extend_from_slice(c.get(..room.min(c.len())).unwrap_or(&[]));
            }
            Ok(None) => break,
            Err(e) => {
                let (o, d) = hop_error(&e);
                return Err((o, format!("while reading the body: {d}")));
            }
        }
    }
    Ok(Answer {
        status,
        headers,
        body,
        first_byte,
    })
}

fn header_list(map: &http::HeaderMap) -> Vec<(String, String)> {
    map.iter()
        .map(|(k, v)| {
            (
                k.as_str().to_owned(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect()
}

/// Longest a control handshake may take.
const CONTROL_TIMEOUT: Duration = Duration::from_secs(5);

/// What a control handshake with no server name showed.
enum Control {
    /// The server at this address answered it.
    Answered(SocketAddr),
    /// It was reset too.
    AlsoReset(SocketAddr),
}

fn layer_of(outcome: HttpOutcome) -> Option<BlockingLayer> {
    match outcome {
        // A request fails as blocked only on the DNS filter's answer (block pages are read
        // from answers, not errors).
        HttpOutcome::DnsFailed | HttpOutcome::BlockedByFilter => Some(BlockingLayer::Dns),
        HttpOutcome::ConnectionRefused | HttpOutcome::Timeout => Some(BlockingLayer::Tcp),
        HttpOutcome::ConnectionReset | HttpOutcome::TlsFailed => Some(BlockingLayer::TlsSni),
        _ => None,
    }
}

fn header(headers: &[(String, String)], name: &str) -> Option<String> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.clone())
}

/// Reads an HTTP response head (status line and headers), bounded in size. Returns the status,
/// the headers and whatever body bytes came with the head.
async fn read_head<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> io::Result<(u16, Vec<(String, String)>, Vec<u8>)> {
    let mut buf = Vec::with_capacity(2048);
    let mut chunk = [0u8; 2048];
    loop {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before a full answer",
            ));
        }
        buf.extend_from_slice(chunk.get(..n).unwrap_or(&[]));
        match parse_head(&buf) {
            Ok(Some(head)) => {
                let rest = buf.get(head.length..).unwrap_or(&[]).to_vec();
                return Ok((head.status, head.headers, rest));
            }
            Ok(None) if buf.len() > MAX_PROXY_ANSWER => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidData,
                    "answer head too large",
                ));
            }
            Ok(None) => {}
            Err(e) => return Err(io::Error::new(io::ErrorKind::InvalidData, e)),
        }
    }
}

/// An HTTP answer's head: status, headers as sent (values read leniently as UTF-8), and how
/// many bytes it took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub length: usize,
}

/// Reads an HTTP answer's head from the start of `buf` with `httparse`: `None` while it is not
/// all there yet, an error saying why when it is not an HTTP answer. A proxy's own answer to
/// `CONNECT` is read here, not by the HTTP client, so that its refusal can be recorded.
pub fn parse_head(buf: &[u8]) -> Result<Option<Head>, String> {
    let mut slots = [httparse::EMPTY_HEADER; 96];
    let mut answer = httparse::Response::new(&mut slots);
    let length = match answer.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => {
            let line = buf.split(|b| *b == b'\n').next().unwrap_or(&[]);
            let line = String::from_utf8_lossy(line.get(..line.len().min(120)).unwrap_or(&[]));
            return Err(format!("not an HTTP answer ({e}): {:?}", line.trim_end()));
        }
    };
    let status = answer
        .code
        .ok_or_else(|| "an HTTP answer without a status".to_owned())?;
    let headers = answer
        .headers
        .iter()
        .map(|h| {
            (
                h.name.to_owned(),
                String::from_utf8_lossy(h.value).trim().to_owned(),
            )
        })
        .collect();
    Ok(Some(Head {
        status,
        headers,
        length,
    }))
}

/// Reads what follows a refusal: up to `Content-Length` or the bound, for a short while.
async fn read_body<S: AsyncRead + Unpin>(
    stream: &mut S,
    mut body: Vec<u8>,
    headers: &[(String, String)],
) -> String {
    let want = header(headers, "content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(MAX_PROXY_ANSWER)
        .min(MAX_PROXY_ANSWER);
    let mut chunk = [0u8; 4096];
    let _ = tokio::time::timeout(Duration::from_secs(3), async {
        while body.len() < want {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => body.extend_from_slice(chunk.get(..n).unwrap_or(&[])),
            }
        }
    })
    .await;
    String::from_utf8_lossy(&body).into_owned()
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
    fn a_proxys_answer_head_is_read_whole_or_refused_with_its_first_line() {
        let answer = b"HTTP/1.1 403 Forbidden\r\nServer: squid/6.10\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\nContent-Length: 12\r\n\r\nblocked page";
        let head = parse_head(answer).unwrap().unwrap();
        assert_eq!(head.status, 403);
        assert_eq!(
            head.headers,
            vec![
                ("Server".to_owned(), "squid/6.10".to_owned()),
                ("X-Squid-Error".to_owned(), "ERR_ACCESS_DENIED 0".to_owned()),
                ("Content-Length".to_owned(), "12".to_owned()),
            ]
        );
        assert_eq!(&answer[head.length..], b"blocked page");
        // Not all there yet: read on.
        assert_eq!(
            parse_head(b"HTTP/1.1 200 Connection established\r\n"),
            Ok(None)
        );
        // Not HTTP at all: said, with what came.
        let e = parse_head(b"SSH-2.0-OpenSSH_9.6\r\n\r\n").unwrap_err();
        assert!(
            e.starts_with("not an HTTP answer") && e.contains("SSH-2.0-OpenSSH_9.6"),
            "{e}"
        );
    }

    #[test]
    fn a_page_title_is_read_whatever_its_case_and_spacing() {
        assert_eq!(
            page_title("<html><HEAD><Title lang=en>\n  Access   Denied\n</TITLE>").as_deref(),
            Some("Access Denied")
        );
        assert_eq!(page_title("<title></title>"), None);
        assert_eq!(page_title("no markup at all"), None);
        assert_eq!(page_title("<title>never closed"), None);
        let long = format!("<title>{}</title>", "é".repeat(300));
        assert_eq!(page_title(&long).map(|t| t.chars().count()), Some(120));
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
        // Leading `*.` and `.` mean the domain and its subdomains; addresses and ranges too.
        const NO: [&[(&str, &str)]; 3] = [
            &[("https_proxy", "http://p:1"), ("no_proxy", "*.example.com")],
            &[("https_proxy", "http://p:1"), ("no_proxy", ".example.com")],
            &[
                ("https_proxy", "http://p:1"),
                ("no_proxy", "other.org, example.com"),
            ],
        ];
        for vars in NO {
            assert_eq!(proxy_for(&u, &env(vars)), None, "{vars:?}");
        }
        let by_address = Url::parse("https://10.20.30.40/").unwrap();
        assert_eq!(
            proxy_for(
                &by_address,
                &env(&[("https_proxy", "http://p:1"), ("no_proxy", "10.20.0.0/16")])
            ),
            None
        );
        assert_eq!(
            proxy_for(
                &Url::parse("https://notexample.com/").unwrap(),
                &env(&[("https_proxy", "http://p:1"), ("no_proxy", "example.com")])
            ),
            Some("http://p:1".to_owned())
        );
    }
}
