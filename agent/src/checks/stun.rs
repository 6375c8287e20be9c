//! UDP: a STUN binding request (RFC 5389) to a media port. Any well-formed STUN response with
//! our transaction id means the port is reachable (`answered`); silence means `no_answer`.
//! The mapped address in the answer is the district's public IP and is never recorded.

use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::{Duration, Instant};

use fitcheck_core::report::{CheckResult, UdpOutcome, UdpResult};
use tokio::net::UdpSocket;

use super::tcp::pick;
use super::{Ctx, ms, unresolved};

const MAGIC_COOKIE: u32 = 0x2112_A442;
const BINDING_REQUEST: u16 = 0x0001;
/// Waits after each of the three requests (RFC 5389 retransmits with doubling intervals).
const WAITS: [Duration; 3] = [
    Duration::from_millis(500),
    Duration::from_millis(1000),
    Duration::from_millis(2000),
];

/// Send a STUN binding request to `host:port` over UDP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    pub requirement: fitcheck_core::requirement::RequirementId,
    pub host: String,
    pub port: u16,
}

/// A binding request with the given transaction id.
pub fn binding_request(txid: &[u8; 12]) -> [u8; 20] {
    let mut msg = [0u8; 20];
    msg[0..2].copy_from_slice(&BINDING_REQUEST.to_be_bytes());
    // Message length 0: no attributes.
    msg[4..8].copy_from_slice(&MAGIC_COOKIE.to_be_bytes());
    msg[8..20].copy_from_slice(txid);
    msg
}

/// What a datagram is, if it is a STUN response to `txid`.
pub fn parse_response(buf: &[u8], txid: &[u8; 12]) -> Option<&'static str> {
    if buf.len() < 20 || buf[0] & 0xc0 != 0 {
        return None;
    }
    let kind = u16::from_be_bytes([buf[0], buf[1]]);
    let len = usize::from(u16::from_be_bytes([buf[2], buf[3]]));
    let cookie = u32::from_be_bytes([buf[4], buf[5], buf[6], buf[7]]);
    if cookie != MAGIC_COOKIE || buf.get(8..20)? != txid || buf.len() < 20 + len {
        return None;
    }
    match kind {
        0x0101 => Some("STUN binding success response"),
        0x0111 => Some("STUN binding error response (the server is there)"),
        _ => None,
    }
}

pub async fn run(spec: &Spec, ctx: &Ctx) -> CheckResult {
    let answer = ctx.resolve(&spec.host).await;
    let Some(ip) = pick(&answer.usable_addresses()) else {
        return unresolved(&spec.requirement, &spec.host, &answer);
    };
    let target = SocketAddr::new(ip, spec.port);
    let start = Instant::now();
    let (outcome, attempts, detail) = probe(target).await;
    CheckResult::Udp(UdpResult {
        requirement: spec.requirement.clone(),
        target: format!("{}:{}", spec.host, spec.port),
        port: spec.port,
        outcome,
        address: Some(ip),
        attempts,
        detail: Some(detail),
        duration_ms: ms(start.elapsed()),
    })
}

async fn probe(target: SocketAddr) -> (UdpOutcome, u32, String) {
    let local: SocketAddr = match target.ip() {
        IpAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        IpAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let sock = match UdpSocket::bind(local).await {
        Ok(s) => s,
        Err(e) => {
            return (
                UdpOutcome::NoAnswer,
                0,
                format!("cannot open a UDP socket: {e}"),
            );
        }
    };
    if let Err(e) = sock.connect(target).await {
        return (
            UdpOutcome::NoAnswer,
            0,
            format!("cannot address {target}: {e}"),
        );
    }
    let id = uuid::Uuid::new_v4();
    let mut txid = [0u8; 12];
    txid.copy_from_slice(&id.as_bytes()[..12]);
    let request = binding_request(&txid);
    let mut buf = [0u8; 1500];
    let mut attempts = 0;
    let mut rejected = false;
    for wait in WAITS {
        attempts += 1;
        if let Err(e) = sock.send(&request).await {
            if e.kind() == io::ErrorKind::ConnectionRefused {
                rejected = true;
                continue;
            }
            return (UdpOutcome::NoAnswer, attempts, format!("send failed: {e}"));
        }
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, sock.recv(&mut buf)).await {
                Ok(Ok(n)) => {
                    if let Some(what) = buf.get(..n).and_then(|b| parse_response(b, &txid)) {
                        return (UdpOutcome::Answered, attempts, what.to_owned());
                    }
                    // Not ours: keep listening until this attempt's deadline.
                }
                Ok(Err(e)) if e.kind() == io::ErrorKind::ConnectionRefused => {
                    rejected = true;
                    break;
                }
                Ok(Err(_)) | Err(_) => break,
            }
        }
    }
    let detail = if rejected {
        "rejected: ICMP port unreachable came back".to_owned()
    } else {
        format!("no STUN answer to {attempts} binding requests (likely blocked)")
    };
    (UdpOutcome::NoAnswer, attempts, detail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_has_rfc5389_header() {
        let txid = [7u8; 12];
        let req = binding_request(&txid);
        assert_eq!(&req[0..2], &[0x00, 0x01]);
        assert_eq!(&req[2..4], &[0x00, 0x00]);
        assert_eq!(&req[4..8], &[0x21, 0x12, 0xA4, 0x42]);
        assert_eq!(&req[8..20], &txid);
    }

    #[test]
    fn responses_are_matched_on_cookie_and_transaction() {
        let txid = [9u8; 12];
        let mut resp = binding_request(&txid);
        resp[0..2].copy_from_slice(&0x0101u16.to_be_bytes());
        assert!(parse_response(&resp, &txid).is_some());
        assert!(parse_response(&resp, &[1u8; 12]).is_none());
        let mut bad_cookie = resp;
        bad_cookie[4] = 0;
        assert!(parse_response(&bad_cookie, &txid).is_none());
        assert!(parse_response(&resp[..10], &txid).is_none());
        // A request echoed back is not an answer.
        assert!(parse_response(&binding_request(&txid), &txid).is_none());
        // A length that runs past the datagram is malformed.
        let mut long = resp;
        long[3] = 8;
        assert!(parse_response(&long, &txid).is_none());
    }
}
