//! Latency, jitter and loss to one host: ICMP echo (surge-ping: an unprivileged ping socket
//! where `net.ipv4.ping_group_range` allows it, else a raw socket, which needs root or
//! CAP_NET_RAW), and TCP-connect timing when ICMP is not permitted or not answered. The result
//! always says which method measured it and why.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use fitcheck_core::report::{CheckResult, LatencyResult, MeasureOutcome};
use surge_ping::{Client, Config, ICMP, PingIdentifier, PingSequence, SurgeError};

use super::tcp::{self, pick};
use super::{Ctx, ms, unresolved};

/// Probes sent per measurement.
pub const PROBES: u32 = 20;
/// Time between probes.
pub const INTERVAL: Duration = Duration::from_millis(200);
/// A probe not answered within this is lost.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// The TCP port timed when ICMP cannot be used.
pub const TCP_PORT: u16 = 443;

/// Measure RTT, jitter and loss to `host`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub requirement: fitcheck_core::requirement::RequirementId,
    pub host: String,
}

/// RTT statistics from a series of probes (`None` = lost), in send order.
#[derive(Debug, Clone, PartialEq)]
pub struct Stats {
    pub sent: u32,
    pub min_ms: Option<f64>,
    pub median_ms: Option<f64>,
    pub max_ms: Option<f64>,
    /// RFC 3550 interarrival jitter over consecutive answered probes:
    /// J += (|D| - J) / 16, D the difference between consecutive RTTs.
    pub jitter_ms: Option<f64>,
    pub loss_percent: f64,
}

impl Stats {
    pub fn from_samples(samples: &[Option<f64>]) -> Stats {
        let sent = u32::try_from(samples.len()).unwrap_or(u32::MAX);
        let mut got: Vec<f64> = samples.iter().flatten().copied().collect();
        let lost = samples.len() - got.len();
        let loss_percent = if samples.is_empty() {
            0.0
        } else {
            lost as f64 * 100.0 / samples.len() as f64
        };
        let mut jitter = None;
        if got.len() >= 2 {
            let mut j = 0.0;
            for w in got.windows(2) {
                let d = (w[1] - w[0]).abs();
                j += (d - j) / 16.0;
            }
            jitter = Some(j);
        }
        got.sort_by(f64::total_cmp);
        let median = match got.len() {
            0 => None,
            n if n % 2 == 1 => Some(got[n / 2]),
            n => Some((got[n / 2 - 1] + got[n / 2]) / 2.0),
        };
        Stats {
            sent,
            min_ms: got.first().copied(),
            median_ms: median,
            max_ms: got.last().copied(),
            jitter_ms: jitter,
            loss_percent,
        }
    }
}

async fn icmp(ip: IpAddr) -> Result<(Vec<Option<f64>>, &'static str), String> {
    let kind = if ip.is_ipv4() { ICMP::V4 } else { ICMP::V6 };
    let client = Client::new(&Config::builder().kind(kind).build()).map_err(|e| {
        if e.kind() == std::io::ErrorKind::PermissionDenied {
            "ICMP not permitted: this user is outside net.ipv4.ping_group_range and has no CAP_NET_RAW"
                .to_owned()
        } else {
            format!("cannot open an ICMP socket: {e}")
        }
    })?;
    let socket = match client.get_socket().get_type() {
        socket2::Type::DGRAM => "unprivileged ping socket",
        _ => "raw socket",
    };
    let ident = PingIdentifier(u16::try_from(std::process::id() & 0xffff).unwrap_or(0));
    let mut pinger = client.pinger(ip, ident).await;
    pinger.timeout(PROBE_TIMEOUT);
    let payload = [0u8; 56];
    let mut samples = Vec::new();
    let mut ticker = tokio::time::interval(INTERVAL);
    let mut first_error = None;
    for seq in 0..PROBES {
        ticker.tick().await;
        let seq = PingSequence(u16::try_from(seq).unwrap_or(0));
        match pinger.ping(seq, &payload).await {
            Ok((_, rtt)) => samples.push(Some(ms(rtt))),
            Err(SurgeError::Timeout { .. }) => samples.push(None),
            // A probe a local firewall refused to send (EPERM) is lost like any other; only
            // when no probe ever gets through does the method change.
            Err(e) => {
                first_error.get_or_insert_with(|| e.to_string());
                samples.push(None);
            }
        }
    }
    if let (Some(e), false) = (&first_error, samples.iter().any(Option::is_some)) {
        return Err(format!("ICMP echo failed: {e}"));
    }
    Ok((samples, socket))
}

async fn tcp_connect(ip: IpAddr) -> Vec<Option<f64>> {
    let mut samples = Vec::new();
    let mut ticker = tokio::time::interval(INTERVAL);
    for _ in 0..PROBES {
        ticker.tick().await;
        let c = tcp::connect(SocketAddr::new(ip, TCP_PORT), PROBE_TIMEOUT).await;
        // A refusal comes back after one round trip just as an acceptance does.
        let answered = matches!(
            c.outcome,
            fitcheck_core::report::TcpOutcome::Open | fitcheck_core::report::TcpOutcome::Refused
        );
        samples.push(answered.then(|| ms(c.duration)));
    }
    samples
}

pub async fn run(spec: &Spec, ctx: &Ctx) -> CheckResult {
    let answer = ctx.resolve(&spec.host).await;
    let Some(ip) = pick(&answer.usable_addresses()) else {
        return unresolved(&spec.requirement, &spec.host, &answer);
    };
    let (samples, method, detail) = match icmp(ip).await {
        Ok((samples, socket)) if samples.iter().any(Option::is_some) => {
            (samples, "icmp", format!("ICMP echo over a {socket}"))
        }
        Ok((_, socket)) => (
            tcp_connect(ip).await,
            "tcp_connect",
            format!(
                "no ICMP echo reply over a {socket} (ICMP filtered?); measured with TCP connects to port {TCP_PORT}"
            ),
        ),
        Err(why) => (
            tcp_connect(ip).await,
            "tcp_connect",
            format!("{why}; measured with TCP connects to port {TCP_PORT}"),
        ),
    };
    let s = Stats::from_samples(&samples);
    CheckResult::Latency(LatencyResult {
        requirement: spec.requirement.clone(),
        target: spec.host.clone(),
        outcome: if s.median_ms.is_some() {
            MeasureOutcome::Measured
        } else {
            MeasureOutcome::Unreachable
        },
        method: method.to_owned(),
        probes: s.sent,
        rtt_min_ms: s.min_ms,
        rtt_ms: s.median_ms,
        rtt_max_ms: s.max_ms,
        jitter_ms: s.jitter_ms,
        loss_percent: Some(s.loss_percent),
        detail: Some(format!("{detail} to {ip}")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statistics_of_a_series() {
        let s = Stats::from_samples(&[Some(10.0), None, Some(14.0), Some(12.0), None]);
        assert_eq!(s.sent, 5);
        assert_eq!(s.min_ms, Some(10.0));
        assert_eq!(s.median_ms, Some(12.0));
        assert_eq!(s.max_ms, Some(14.0));
        assert!((s.loss_percent - 40.0).abs() < 1e-9);
        // |14-10| = 4 → J = 0.25; |12-14| = 2 → J = 0.25 + (2 - 0.25)/16.
        let j = s.jitter_ms.unwrap();
        assert!((j - (0.25 + 1.75 / 16.0)).abs() < 1e-9, "{j}");
        let none = Stats::from_samples(&[None, None]);
        assert_eq!(none.median_ms, None);
        assert!((none.loss_percent - 100.0).abs() < 1e-9);
        let even = Stats::from_samples(&[Some(1.0), Some(3.0)]);
        assert_eq!(even.median_ms, Some(2.0));
    }
}
