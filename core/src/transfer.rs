//! The transfer path: whether the machines that send the district's roster files reach the
//! vendor's endpoint — an SFTP server that identifies itself as SSH, or an HTTPS endpoint —
//! judged from the check a sending machine ran (`data.endpoint`). Student devices never run
//! it; a report that carries it is a sending machine's.

use crate::evaluate::{Evaluation, FixKind, RequirementKind, RequirementOutcome, Status, Verdict};
use crate::profile::{EndpointScheme, Profile};
use crate::report::{CheckResult, HttpOutcome, TcpOutcome};
use crate::requirement::RequirementId;

/// Whether a report's results come from a sending machine.
pub fn is_sender_report(results: &[CheckResult]) -> bool {
    results
        .iter()
        .any(|r| *r.requirement() == RequirementId::DataEndpoint)
}

/// The transfer path judged from `results`; `None` when the profile names no endpoint.
pub fn judge(profile: &Profile, results: &[CheckResult]) -> Option<RequirementOutcome> {
    let data = profile.data.as_ref()?;
    let url = data.endpoint.as_deref()?;
    let endpoint = data.endpoint_target()?;
    let (host, port) = (endpoint.host.as_str(), endpoint.port);
    let allow = format!(
        "allow outbound TCP {port} to {host} from the machines that send the roster files, in the firewall"
    );
    let found = results
        .iter()
        .find(|r| *r.requirement() == RequirementId::DataEndpoint);
    let (status, observed, remedy) = match (endpoint.scheme, found) {
        (_, None) => (
            Status::Unknown,
            "not checked: no machine that sends the files ran the check".to_owned(),
            Some(
                "run an agent on a machine that sends the files (the evaluation's data senders)"
                    .to_owned(),
            ),
        ),
        (EndpointScheme::Sftp, Some(CheckResult::Tcp(t))) => match (t.outcome, t.banner.as_deref())
        {
            (TcpOutcome::Open, Some(b)) if b.starts_with("SSH-") => {
                (Status::Pass, format!("an SSH server answered ({b})"), None)
            }
            (TcpOutcome::Open, banner) => (
                Status::Fail,
                format!(
                    "TCP {port} opened but no SSH server identified itself ({})",
                    banner.map_or("nothing was sent".to_owned(), |b| format!("it sent {b:?}"))
                ),
                Some(format!(
                    "find what answers on TCP {port} to {host} (a proxy or a filter in the path?); the session must reach the vendor's SSH server"
                )),
            ),
            (TcpOutcome::Refused, _) => (
                Status::Fail,
                format!(
                    "refused: {}",
                    t.detail.as_deref().unwrap_or("connection refused")
                ),
                Some(allow),
            ),
            (TcpOutcome::Filtered, _) => (
                Status::Fail,
                format!("no answer: {}", t.detail.as_deref().unwrap_or("dropped")),
                Some(allow),
            ),
        },
        (EndpointScheme::Https, Some(CheckResult::Http(h))) => match h.outcome {
            HttpOutcome::Reachable => (
                Status::Pass,
                format!(
                    "reachable (status {})",
                    h.evidence.status.map_or("?".to_owned(), |s| s.to_string())
                ),
                None,
            ),
            other => (
                Status::Fail,
                format!("not reachable: {}", other.as_str().replace('_', " ")),
                Some(format!(
                    "allow HTTPS to {host} from the machines that send the roster files (web filter, proxy and firewall)"
                )),
            ),
        },
        (_, Some(CheckResult::Dns(d))) => (
            Status::Fail,
            format!("{host} did not resolve ({})", d.outcome.as_str()),
            Some(format!(
                "make {host} resolve for the machines that send the roster files"
            )),
        ),
        (_, Some(other)) => (
            Status::Unknown,
            format!(
                "the check gave {:?} ({}), not a result this judge reads",
                other.outcome_word(),
                other.target()
            ),
            None,
        ),
    };
    Some(RequirementOutcome {
        id: RequirementId::DataEndpoint,
        kind: RequirementKind::Network,
        title: format!("Transfer to {url}"),
        critical: true,
        expected: match endpoint.scheme {
            EndpointScheme::Sftp => format!("an SSH server answers on {host}:{port}"),
            EndpointScheme::Https => format!("{host} reachable over HTTPS"),
        },
        observed,
        fix: status.falls_short().then_some(FixKind::ConfigureNetwork),
        status,
        remedy,
        cause: None,
    })
}

/// A sending machine's run, judged: the transfer path alone.
pub fn evaluate(profile: &Profile, results: &[CheckResult]) -> Evaluation {
    let requirements: Vec<RequirementOutcome> = judge(profile, results).into_iter().collect();
    let verdict = match requirements.first().map(|r| r.status) {
        Some(Status::Fail) => Verdict::NotCompatible,
        Some(Status::Unknown) | None => Verdict::InsufficientEvidence,
        Some(Status::Warn) => Verdict::CompatibleWithWarnings,
        Some(Status::Pass) => Verdict::Compatible,
    };
    Evaluation {
        verdict,
        requirements,
    }
}
