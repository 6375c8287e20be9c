//! `[[ports]]` judged on one device: every sampled port open (or answering STUN), the TCP 443
//! fallback beside a filtered UDP port, or a port no host answers a probe for.

use super::{Finding, Judge, Line, RequirementKind, Status, dns, not_checked};
use crate::cause::Cause;
use crate::profile::{PortProbe, PortRequirement, Profile, Protocol};
use crate::report::{CheckResult, DnsOutcome, TcpOutcome, UdpOutcome};
use crate::requirement::RequirementId;

/// One sampled port: its number, what happened in words, and whether it answered.
struct Probed {
    port: u16,
    word: &'static str,
    ok: bool,
}

/// Every `[[ports]]` entry, judged.
pub(super) fn judge(p: &Profile, j: &mut Judge<'_>) {
    for (i, port) in p.ports.iter().enumerate() {
        let line = line(i, port);
        let finding = if port.effective_probe() == PortProbe::None {
            unprobed(port)
        } else {
            judge_one(i, port, j)
        };
        j.record(line, finding);
    }
}

/// The ports as the profile gives them (`3478-3481`), `?` for a profile without either.
fn range_words(port: &PortRequirement) -> String {
    port.port_range()
        .map_or_else(|| "?".to_owned(), |r| r.to_string())
}

fn protocol_words(port: &PortRequirement) -> String {
    port.protocol.to_string().to_uppercase()
}

fn line(i: usize, port: &PortRequirement) -> Line {
    Line {
        id: RequirementId::Port(i),
        kind: RequirementKind::Port,
        title: format!(
            "{} {} {}",
            protocol_words(port),
            port.host,
            range_words(port)
        ),
        // What cannot be measured cannot decide the verdict; it is listed as a rule to
        // confirm instead.
        critical: port.critical && port.effective_probe() != PortProbe::None,
        expected: match port.effective_probe() {
            PortProbe::Stun => "STUN answers".to_owned(),
            _ => "open".to_owned(),
        },
    }
}

/// A port no host answers a probe for: a rule to confirm with the firewall's owner.
fn unprobed(port: &PortRequirement) -> Finding {
    Finding::new(
        Status::Unknown,
        "not probed (no host answers a probe for it)".to_owned(),
        Some(format!(
            "confirm the firewall allows outbound {} {} to the addresses the vendor publishes for it ({})",
            protocol_words(port),
            range_words(port),
            port.purpose.as_deref().unwrap_or(&port.host)
        )),
    )
}

/// The sampled ports' probes, in port order.
fn probes(id: &RequirementId, j: &Judge<'_>) -> Vec<Probed> {
    let mut seen: Vec<Probed> = j
        .of(id)
        .filter_map(|r| match r {
            CheckResult::Tcp(t) => Some(Probed {
                port: t.port,
                word: match t.outcome {
                    TcpOutcome::Open => "open",
                    TcpOutcome::Refused => "refused",
                    TcpOutcome::Filtered => "filtered",
                },
                ok: t.outcome == TcpOutcome::Open,
            }),
            CheckResult::Udp(u) => Some(Probed {
                port: u.port,
                word: match u.outcome {
                    UdpOutcome::Answered => "answered",
                    UdpOutcome::NoAnswer => "no answer",
                },
                ok: u.outcome == UdpOutcome::Answered,
            }),
            _ => None,
        })
        .collect();
    seen.sort_by_key(|s| s.port);
    seen
}

/// One port entry's probes, judged.
fn judge_one(i: usize, port: &PortRequirement, j: &Judge<'_>) -> Finding {
    let id = RequirementId::Port(i);
    let seen = probes(&id, j);
    if seen.is_empty() {
        return unresolved(&id, j);
    }
    let all_ok = seen.iter().all(|s| s.ok);
    let mut observed = if all_ok {
        if seen.len() == 1 {
            seen[0].word.to_owned()
        } else {
            let ports: Vec<String> = seen.iter().map(|s| s.port.to_string()).collect();
            format!("{} ({})", seen[0].word, ports.join(", "))
        }
    } else {
        let parts: Vec<String> = seen
            .iter()
            .map(|s| format!("{} {}", s.port, s.word))
            .collect();
        parts.join(", ")
    };
    let status = if all_ok { Status::Pass } else { Status::Fail };
    let mut remedy = format!(
        "open outbound {} {} to {} in the firewall",
        protocol_words(port),
        range_words(port),
        port.host
    );
    if !all_ok && port.protocol == Protocol::Udp {
        fallback(i, j, &mut observed, &mut remedy);
    }
    let cause = match seen.iter().find(|s| !s.ok) {
        Some(failed) => Cause::Firewall {
            address_unseen: false,
            protocol: port.protocol,
            ports: port_spec(port).unwrap_or_else(|| failed.port.to_string()),
            host: port
                .host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .to_owned(),
        },
        None => Cause::VendorAnswer { host: None },
    };
    Finding::new(status, observed, Some(remedy)).because(cause)
}

/// No port was probed: the name did not resolve, or nothing was checked.
fn unresolved(id: &RequirementId, j: &Judge<'_>) -> Finding {
    let unresolved = j.of(id).find_map(|r| match r {
        CheckResult::Dns(d) if d.outcome != DnsOutcome::Resolved => Some(d),
        _ => None,
    });
    match unresolved {
        Some(d) => Finding::new(
            Status::Fail,
            format!(
                "not reachable: {} did not resolve ({})",
                d.target,
                d.outcome.as_str()
            ),
            Some(format!("make {} resolve (see the DNS results)", d.target)),
        )
        .because(dns::cause(d.target.clone(), d)),
        None => Finding::new(Status::Unknown, not_checked(), None),
    }
}

/// What the TCP 443 check beside a filtered UDP port says: whether media can fall back to TCP.
fn fallback(i: usize, j: &Judge<'_>, observed: &mut String, remedy: &mut String) {
    let fallback = j.of(&RequirementId::PortFallback(i)).find_map(|r| match r {
        CheckResult::Tcp(t) => Some(t.outcome),
        _ => None,
    });
    match fallback {
        Some(TcpOutcome::Open) => {
            observed.push_str("; TCP 443 open: UDP is filtered, media will fall back to TCP");
            remedy.push_str(" (until then media falls back to TCP 443, at lower quality)");
        }
        // Say what was seen: a refusal is the host's (nothing listens on 443 there), not the
        // network blocking; only a filtered port is blocked.
        Some(TcpOutcome::Refused) => observed.push_str(
            "; TCP 443 refused by the host (nothing listens there), so a fallback to TCP \
             could not be checked on this host",
        ),
        Some(TcpOutcome::Filtered) => {
            observed.push_str("; TCP 443 filtered too (no answer): no media path")
        }
        None => {}
    }
}

/// The profile's port or range (the whole range, not the sampled ports), so a firewall rule
/// opens what the product uses.
fn port_spec(port: &PortRequirement) -> Option<String> {
    match (port.port, &port.range) {
        (Some(p), _) => Some(p.to_string()),
        (None, Some(range)) => Some(range.clone()),
        _ => None,
    }
}
