//! `[[dns]]` judged on one device: the name resolves, or what answered in its place.

use super::{Finding, Judge, Line, RequirementKind, Status, not_checked};
use crate::cause::Cause;
use crate::profile::{DnsRequirement, Profile};
use crate::report::{CheckResult, DnsOutcome, DnsResult};
use crate::requirement::RequirementId;

/// Every `[[dns]]` entry, judged.
pub(super) fn judge(p: &Profile, j: &mut Judge<'_>) {
    for (i, d) in p.dns.iter().enumerate() {
        let id = RequirementId::Dns(i);
        let line = Line {
            id: id.clone(),
            kind: RequirementKind::Dns,
            title: format!("DNS {}", d.name),
            critical: d.critical,
            expected: "resolves".to_owned(),
        };
        let found = j.of(&id).find_map(|r| match r {
            CheckResult::Dns(r) => Some(r.clone()),
            _ => None,
        });
        let finding = match found {
            Some(r) => judge_one(d, &r),
            None => Finding::new(Status::Unknown, not_checked(), None),
        };
        j.record(line, finding);
    }
}

/// One name's lookup, judged.
fn judge_one(d: &DnsRequirement, r: &DnsResult) -> Finding {
    let addrs: Vec<String> = r
        .evidence
        .a
        .iter()
        .chain(r.evidence.aaaa.iter())
        .map(ToString::to_string)
        .collect();
    let finding = match r.outcome {
        DnsOutcome::Resolved => Finding::new(Status::Pass, addrs.join(", "), None),
        DnsOutcome::Sinkholed => Finding::new(
            Status::Fail,
            format!(
                "sinkholed: {} ({})",
                addrs.join(", "),
                r.evidence.sinkhole_reason.clone().unwrap_or_default()
            ),
            Some(format!(
                "allow {} in {} (it blocks the name)",
                d.name,
                r.evidence.signature.as_ref().map_or_else(
                    || "the DNS filter".to_owned(),
                    |s| format!("the DNS filter ({})", s.vendor)
                )
            )),
        ),
        other => {
            let word = serde_json::to_value(other)
                .ok()
                .and_then(|v| v.as_str().map(str::to_owned))
                .unwrap_or_default();
            Finding::new(
                Status::Fail,
                word,
                Some(format!(
                    "check that the district resolver answers {} (a filter may block it)",
                    d.name
                )),
            )
        }
    };
    finding.because(cause(r.target.clone(), r))
}

/// Why `host` did not resolve, from its lookup: a DNS filter's block, or a resolver that did
/// not answer.
pub(super) fn cause(host: String, r: &DnsResult) -> Cause {
    if filtered(r.outcome) {
        Cause::DnsFilter {
            host,
            vendor: r.evidence.signature.as_ref().map(|s| s.vendor.clone()),
        }
    } else {
        Cause::Resolver { host }
    }
}

/// Whether a DNS answer is a filter's doing (a block address, or a name denied).
fn filtered(outcome: DnsOutcome) -> bool {
    matches!(
        outcome,
        DnsOutcome::Sinkholed | DnsOutcome::Nxdomain | DnsOutcome::Refused
    )
}
