//! TCP: connect to a port; `open`, `refused` (actively rejected) or `filtered` (no answer).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use fitcheck_core::report::{CheckResult, TcpOutcome, TcpResult};
use tokio::net::TcpStream;

use super::{CONNECT_TIMEOUT, Ctx, ms, unresolved};

/// Connect to `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub requirement: fitcheck_core::requirement::RequirementId,
    pub host: String,
    pub port: u16,
    /// Read the first line the server sends (an SSH server's identification) once open.
    pub banner: bool,
}

/// Longest wait for a server's identification: RFC 4253 servers send it at once.
const BANNER_TIMEOUT: Duration = Duration::from_secs(5);

/// Most bytes read for it: RFC 4253 lets a server send other lines first, each at most 255
/// bytes with the identification.
const BANNER_MAX: usize = 1024;

/// What the server sends first, within [`BANNER_TIMEOUT`]: the line that starts `SSH-` (RFC
/// 4253 §4.2), else its first line, printable ASCII only; `None` when it sends nothing.
async fn first_line(stream: &mut TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut buf = Vec::with_capacity(BANNER_MAX);
    let has_ssh_line = |buf: &[u8]| {
        buf.split(|&b| b == b'\n')
            .take(buf.iter().filter(|&&b| b == b'\n').count())
            .any(|l| l.starts_with(b"SSH-"))
    };
    let read = async {
        let mut chunk = [0u8; 256];
        while buf.len() < BANNER_MAX && !has_ssh_line(&buf) {
            let room = (BANNER_MAX - buf.len()).min(chunk.len());
            match stream.read(&mut chunk[..room]).await {
                Ok(0) | Err(_) => break,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    };
    let _ = tokio::time::timeout(BANNER_TIMEOUT, read).await;
    let lines: Vec<&[u8]> = buf.split(|&b| b == b'\n').collect();
    let chosen = lines
        .iter()
        .find(|l| l.starts_with(b"SSH-"))
        .or(lines.first())?;
    let line: String = chosen
        .iter()
        .take(255)
        .map(|&b| {
            if (0x20..0x7f).contains(&b) {
                b as char
            } else {
                '?'
            }
        })
        .collect();
    let line = line.trim_end_matches('?').trim().to_owned();
    (!line.is_empty()).then_some(line)
}

/// The outcome of one connect attempt, and the stream when it opened.
#[derive(Debug)]
pub struct Connected {
    pub outcome: TcpOutcome,
    pub detail: Option<String>,
    pub duration: Duration,
    pub stream: Option<TcpStream>,
    /// The error, when the connect failed with one.
    pub error_kind: Option<io::ErrorKind>,
}

/// Connects to `addr` within `limit` and classifies what happened. Translation of OS errors
/// into TCP outcomes lives here and nowhere else.
pub async fn connect(addr: SocketAddr, limit: Duration) -> Connected {
    let start = Instant::now();
    match tokio::time::timeout(limit, TcpStream::connect(addr)).await {
        Ok(Ok(stream)) => Connected {
            outcome: TcpOutcome::Open,
            detail: None,
            duration: start.elapsed(),
            stream: Some(stream),
            error_kind: None,
        },
        Ok(Err(err)) => {
            let (outcome, detail) = match err.kind() {
                io::ErrorKind::ConnectionRefused => (
                    TcpOutcome::Refused,
                    "connection refused (TCP reset)".to_owned(),
                ),
                io::ErrorKind::HostUnreachable => (
                    TcpOutcome::Refused,
                    "host unreachable (rejected with ICMP)".to_owned(),
                ),
                io::ErrorKind::NetworkUnreachable => (
                    TcpOutcome::Filtered,
                    "network unreachable: no route to the address".to_owned(),
                ),
                io::ErrorKind::TimedOut => (
                    TcpOutcome::Filtered,
                    "no answer (connect timed out)".to_owned(),
                ),
                _ => (TcpOutcome::Filtered, err.to_string()),
            };
            Connected {
                outcome,
                detail: Some(detail),
                duration: start.elapsed(),
                stream: None,
                error_kind: Some(err.kind()),
            }
        }
        Err(_) => Connected {
            outcome: TcpOutcome::Filtered,
            detail: Some(format!(
                "no answer within {} s (dropped)",
                limit.as_secs_f64()
            )),
            duration: start.elapsed(),
            stream: None,
            error_kind: Some(io::ErrorKind::TimedOut),
        },
    }
}

/// The address a port check connects to: the first IPv4 answer, else the first IPv6 one.
pub fn pick(addrs: &[IpAddr]) -> Option<IpAddr> {
    addrs
        .iter()
        .find(|a| a.is_ipv4())
        .or_else(|| addrs.first())
        .copied()
}

pub async fn run(spec: &Spec, ctx: &Ctx) -> CheckResult {
    let answer = ctx.resolve(&spec.host).await;
    let Some(ip) = pick(&answer.usable_addresses()) else {
        return unresolved(&spec.requirement, &spec.host, &answer);
    };
    let mut c = connect(SocketAddr::new(ip, spec.port), CONNECT_TIMEOUT).await;
    let banner = match (&mut c.stream, spec.banner) {
        (Some(stream), true) => first_line(stream).await,
        _ => None,
    };
    CheckResult::Tcp(TcpResult {
        requirement: spec.requirement.clone(),
        target: format!("{}:{}", spec.host, spec.port),
        port: spec.port,
        outcome: c.outcome,
        address: Some(ip),
        detail: c.detail,
        duration_ms: ms(c.duration),
        banner,
    })
}
