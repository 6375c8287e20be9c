//! The per-device verdict: a pure function from a profile and what an agent observed to each
//! requirement's `pass` / `warn` / `fail` / `unknown`, expected next to observed.
//!
//! *fail* means measured and not met; *unknown* means it could not be measured. A non-critical
//! requirement that is not met is a *warn*. Network quality (bandwidth, RTT, jitter, loss) is
//! judged per site by the controller, so on one device it is never critical.

use crate::cause::Cause;
use crate::profile::Profile;
use crate::report::{CheckResult, DeviceFacts, DeviceOutcome, DeviceResult};

mod browser;
mod device;
mod dns;
mod http;
mod network;
mod os;
mod ports;
mod software;

pub use os::os_release_reachable;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

pub use crate::outcome::{
    Evaluation, FixKind, Requirement, RequirementKind, RequirementOutcome, Status, Verdict,
};
use crate::requirement::RequirementId;
pub use crate::requirement::TCP_FALLBACK;

/// Every requirement of `profile`, in profile order, as [`evaluate`] judges them: its titles,
/// criticality and expectations come from the profile alone, whatever the device.
pub fn requirements(profile: &Profile) -> Vec<Requirement> {
    evaluate(profile, &DeviceFacts::unknown(), &[])
        .requirements
        .into_iter()
        .map(|o| Requirement {
            id: o.id,
            kind: o.kind,
            title: o.title,
            critical: o.critical,
            expected: o.expected,
        })
        .collect()
}

struct Judge<'a> {
    results: &'a [CheckResult],
    out: Vec<RequirementOutcome>,
}

struct Line {
    id: RequirementId,
    kind: RequirementKind,
    title: String,
    critical: bool,
    expected: String,
}

/// What judging one requirement on one device found.
struct Finding {
    status: Status,
    observed: String,
    remedy: Option<String>,
    /// The fix, where it is not the requirement's usual one.
    fix: Option<FixKind>,
    /// Why a network requirement falls short.
    cause: Option<Cause>,
}

impl Finding {
    fn new(status: Status, observed: String, remedy: Option<String>) -> Finding {
        Finding {
            status,
            observed,
            remedy,
            fix: None,
            cause: None,
        }
    }

    /// With a fix other than the requirement's usual one.
    fn fix(self, fix: FixKind) -> Finding {
        Finding {
            fix: Some(fix),
            ..self
        }
    }

    /// With why it falls short, should it.
    fn because(self, cause: Cause) -> Finding {
        Finding {
            cause: Some(cause),
            ..self
        }
    }
}

impl Judge<'_> {
    fn of(&self, id: &RequirementId) -> impl Iterator<Item = &CheckResult> {
        let id = id.clone();
        self.results.iter().filter(move |r| *r.requirement() == id)
    }

    fn push(&mut self, line: Line, status: Status, observed: String, remedy: Option<String>) {
        self.record(line, Finding::new(status, observed, remedy));
    }

    /// [`push`](Self::push), with a fix other than the requirement's usual one.
    fn push_fix(
        &mut self,
        line: Line,
        status: Status,
        observed: String,
        remedy: Option<String>,
        fix: Option<FixKind>,
    ) {
        let found = Finding::new(status, observed, remedy);
        self.record(line, Finding { fix, ..found });
    }

    /// Records one requirement's finding: a shortfall of a non-critical requirement is a warn,
    /// a pass has no remedy, and what falls short gets its fix and, on the network, its cause
    /// (one no check result explains is [`Cause::Unexplained`]).
    fn record(&mut self, line: Line, f: Finding) {
        let status = match f.status {
            Status::Fail if !line.critical => Status::Warn,
            s => s,
        };
        let short = status.falls_short();
        let remedy = if status == Status::Pass {
            None
        } else {
            f.remedy
        };
        let fix = short.then(|| {
            f.fix
                .unwrap_or_else(|| FixKind::default_for(line.kind, &line.id))
        });
        let cause =
            (short && !line.kind.is_per_device()).then(|| f.cause.unwrap_or(Cause::Unexplained));
        self.out.push(RequirementOutcome {
            id: line.id,
            kind: line.kind,
            title: line.title,
            critical: line.critical,
            expected: line.expected,
            observed: f.observed,
            status,
            remedy,
            fix,
            cause,
        });
    }
}

fn not_checked() -> String {
    "not checked".to_owned()
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / GIB
}

/// The port a URL connects to (its explicit port, else its scheme's: 443 for https, 80
/// otherwise).
pub fn url_port(url: &str) -> u16 {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(if url.starts_with("https://") { 443 } else { 80 })
}

/// Installed memory is a little more than what the OS can use (firmware and integrated graphics
/// keep some): usable memory rounded up to a whole GiB.
pub fn installed_ram_gib(total_bytes: u64) -> f64 {
    gib(total_bytes).ceil()
}

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round())
    } else {
        format!("{v:.1}")
    }
}

/// Judges `results` and `device` against `profile`.
pub fn evaluate(profile: &Profile, device: &DeviceFacts, results: &[CheckResult]) -> Evaluation {
    let mut j = Judge {
        results,
        out: Vec::new(),
    };
    dns::judge(profile, &mut j);
    http::judge(profile, &mut j);
    ports::judge(profile, &mut j);
    network::judge(profile, &mut j);
    device::judge(profile, device, &mut j);
    software::judge(profile, device, &mut j);
    let reqs = j.out;
    let critical = |s: Status| reqs.iter().any(|r| r.critical && r.status == s);
    let verdict = if critical(Status::Fail) {
        Verdict::NotCompatible
    } else if critical(Status::Unknown) {
        Verdict::InsufficientEvidence
    } else if reqs
        .iter()
        .any(|r| r.status != Status::Pass && r.status != Status::Unknown)
    {
        Verdict::CompatibleWithWarnings
    } else {
        Verdict::Compatible
    };
    Evaluation {
        verdict,
        requirements: reqs,
    }
}

/// One `device` result per device requirement, with the observed value in words, for the
/// report's `results[]`.
pub fn device_results(profile: &Profile, device: &DeviceFacts) -> Vec<CheckResult> {
    let eval = evaluate(
        &Profile {
            dns: Vec::new(),
            http: Vec::new(),
            ports: Vec::new(),
            network: None,
            ..profile.clone()
        },
        device,
        &[],
    );
    eval.requirements
        .into_iter()
        .filter(|r| r.kind.is_per_device())
        .map(|r| {
            CheckResult::Device(DeviceResult {
                target: device_target(&r.id),
                requirement: r.id,
                outcome: if r.status == Status::Unknown {
                    DeviceOutcome::Unknown
                } else {
                    DeviceOutcome::Observed
                },
                observed: r.observed,
            })
        })
        .collect()
}

/// What a device result is about, as the report names it (`memory` for `device.ram_min_gib`).
fn device_target(id: &RequirementId) -> String {
    match id {
        RequirementId::Software(i) => format!("software[{i}]"),
        RequirementId::Device(key) => device::result_target(*key).to_owned(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod port_tests {
    use super::url_port;

    #[test]
    fn ports_of_urls() {
        assert_eq!(url_port("https://a.example/"), 443);
        assert_eq!(url_port("http://a.example"), 80);
        assert_eq!(url_port("https://a.example:8443/x?y=1"), 8443);
        assert_eq!(url_port("https://[2001:db8::1]:9443/"), 9443);
        assert_eq!(url_port("https://[2001:db8::1]/"), 443);
    }
}
