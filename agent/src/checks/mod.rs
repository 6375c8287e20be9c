//! One module per check kind, each an `async fn run(spec, &Ctx) -> CheckResult`, dispatched by
//! the closed [`Check`] enum: a kind without a runner is a compile error.
//!
//! A measured failure (blocked, refused, sinkholed) is a result, not an `Err`; every network
//! operation has its own timeout, and the runner adds a hard one per check on top.

pub mod bandwidth;
pub mod dns;
pub mod http;
pub mod latency;
pub mod stun;
pub mod tcp;
pub mod throughput;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use fitcheck_core::report::{
    CheckResult, DnsEvidence, DnsOutcome, DnsResult, HttpEvidence, HttpOutcome, HttpResult,
    HttpTimings, LatencyResult, MeasureOutcome, TcpOutcome, TcpResult, UdpOutcome, UdpResult,
};
use fitcheck_core::signatures::Catalog;
use tokio::sync::{Mutex, OnceCell};

use crate::resolve::{Answer, SystemResolver};
use crate::tls::TlsSetup;

/// Longest a TCP connect may take before the port counts as filtered.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest an HTTP check may take, redirects included.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

/// One planned check.
#[derive(Debug, Clone, PartialEq)]
pub enum Check {
    Dns(dns::Spec),
    Http(http::Spec),
    Tcp(tcp::Spec),
    Stun(stun::Spec),
    Latency(latency::Spec),
    Bandwidth(bandwidth::Spec),
}

impl Check {
    /// Profile key path of the requirement it serves.
    pub fn requirement(&self) -> &fitcheck_core::requirement::RequirementId {
        match self {
            Check::Dns(s) => &s.requirement,
            Check::Http(s) => &s.requirement,
            Check::Tcp(s) => &s.requirement,
            Check::Stun(s) => &s.requirement,
            Check::Latency(s) => &s.requirement,
            Check::Bandwidth(s) => &s.requirement,
        }
    }

    /// What it probes, for progress lines.
    pub fn label(&self) -> String {
        match self {
            Check::Dns(s) => format!("dns {}", s.name),
            Check::Http(s) => format!("http {}", s.url),
            Check::Tcp(s) => format!("tcp {}:{}", s.host, s.port),
            Check::Stun(s) => format!("udp {}:{}", s.host, s.port),
            Check::Latency(s) => format!("latency {}", s.host),
            Check::Bandwidth(_) => "bandwidth".to_owned(),
        }
    }

    /// The runner's hard limit for this check: `default`, or for a bandwidth measurement
    /// enough for both directions at their cap.
    pub fn time_limit(&self, default: Duration) -> Duration {
        match self {
            Check::Bandwidth(s) => {
                Duration::from_secs_f64(
                    2.0 * crate::checks::throughput::Caps::clamp(s.caps).max_seconds,
                ) + default
            }
            _ => default,
        }
    }

    /// Runs it.
    pub async fn run(&self, ctx: &Ctx) -> CheckResult {
        match self {
            Check::Dns(s) => dns::run(s, ctx).await,
            Check::Http(s) => http::run(s, ctx).await,
            Check::Tcp(s) => tcp::run(s, ctx).await,
            Check::Stun(s) => stun::run(s, ctx).await,
            Check::Latency(s) => latency::run(s, ctx).await,
            Check::Bandwidth(s) => bandwidth::run(s, ctx).await,
        }
    }

    /// The result when the runner's hard limit ended the check.
    pub fn timed_out(&self, after: Duration) -> CheckResult {
        let ms = after.as_secs_f64() * 1000.0;
        let detail = Some(format!("no result within {:.0} s", after.as_secs_f64()));
        match self {
            Check::Dns(s) => CheckResult::Dns(DnsResult {
                requirement: s.requirement.clone(),
                target: s.name.clone(),
                outcome: DnsOutcome::Timeout,
                evidence: DnsEvidence {
                    detail,
                    ..DnsEvidence::default()
                },
                duration_ms: ms,
            }),
            Check::Http(s) => CheckResult::Http(HttpResult {
                requirement: s.requirement.clone(),
                target: s.url.clone(),
                outcome: HttpOutcome::Timeout,
                evidence: HttpEvidence {
                    detail,
                    ..HttpEvidence::default()
                },
                timings: HttpTimings {
                    total_ms: ms,
                    ..HttpTimings::default()
                },
            }),
            Check::Tcp(s) => CheckResult::Tcp(TcpResult {
                requirement: s.requirement.clone(),
                target: format!("{}:{}", s.host, s.port),
                port: s.port,
                outcome: TcpOutcome::Filtered,
                address: None,
                detail,
                duration_ms: ms,
                banner: None,
            }),
            Check::Stun(s) => CheckResult::Udp(UdpResult {
                requirement: s.requirement.clone(),
                target: format!("{}:{}", s.host, s.port),
                port: s.port,
                outcome: UdpOutcome::NoAnswer,
                address: None,
                attempts: 0,
                detail,
                duration_ms: ms,
            }),
            Check::Latency(s) => CheckResult::Latency(LatencyResult {
                requirement: s.requirement.clone(),
                target: s.host.clone(),
                outcome: MeasureOutcome::Unreachable,
                method: "none".to_owned(),
                probes: 0,
                rtt_min_ms: None,
                rtt_ms: None,
                rtt_max_ms: None,
                jitter_ms: None,
                loss_percent: None,
                detail,
            }),
            Check::Bandwidth(s) => {
                bandwidth::unmeasured(&s.requirement, "bandwidth".to_owned(), ms, detail)
            }
        }
    }
}

/// What every check shares: the resolver (with one answer per name per run, so checks of the
/// same host agree), the TLS trust stores and the filter signatures.
#[derive(Debug)]
pub struct Ctx {
    pub resolver: SystemResolver,
    pub tls: TlsSetup,
    pub catalog: Arc<Catalog>,
    answers: Mutex<HashMap<String, Arc<OnceCell<Answer>>>>,
}

impl Ctx {
    pub fn new(resolver: SystemResolver, tls: TlsSetup, catalog: Arc<Catalog>) -> Ctx {
        Ctx {
            resolver,
            tls,
            catalog,
            answers: Mutex::new(HashMap::new()),
        }
    }

    /// The answer for `name`, looked up once per run.
    pub async fn resolve(&self, name: &str) -> Answer {
        let key = name.trim_end_matches('.').to_ascii_lowercase();
        let cell = {
            let mut map = self.answers.lock().await;
            map.entry(key.clone()).or_default().clone()
        };
        cell.get_or_init(|| self.resolver.resolve(&key))
            .await
            .clone()
    }
}

/// A DNS result recorded under a port requirement whose host did not resolve to a usable
/// address: the port was not probed, and this says why.
pub(crate) fn unresolved(
    requirement: &fitcheck_core::requirement::RequirementId,
    host: &str,
    answer: &Answer,
) -> CheckResult {
    CheckResult::Dns(DnsResult {
        requirement: requirement.to_owned(),
        target: host.to_owned(),
        outcome: answer.outcome,
        evidence: answer.evidence.clone(),
        duration_ms: answer.duration.as_secs_f64() * 1000.0,
    })
}

/// Milliseconds of a duration.
pub(crate) fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
