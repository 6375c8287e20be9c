//! From a profile to the checks this agent runs: core's plan ([`fitcheck_core::plan`]), the one
//! every agent runs, each planned check made this agent's runnable check; and the bandwidth
//! measurement, whose target is this agent's configuration.

use fitcheck_core::plan::PlannedCheck;
use fitcheck_core::profile::Profile;

use crate::checks::throughput::{Caps, Target};
use crate::checks::{Check, bandwidth, dns, http, latency, stun, tcp};

use fitcheck_core::requirement::RequirementId;
/// Suffix of the requirement id of the TCP 443 check planned beside STUN probes.
pub use fitcheck_core::requirement::TCP_FALLBACK;

/// The bandwidth measurement a profile asks for, if it states a per-user need and there is
/// somewhere to measure against: `server` (a fitcheck bandwidth endpoint) before the vendor
/// URLs the profile names. Run alone, after the other checks, so neither disturbs the other.
/// `access` is how to reach `server` when it is the controller's endpoint.
pub fn plan_bandwidth(
    profile: &Profile,
    server: Option<&reqwest::Url>,
    access: Option<&std::sync::Arc<bandwidth::EndpointAccess>>,
    caps: Caps,
    state_dir: &std::path::Path,
    start_at: Option<std::time::SystemTime>,
) -> Option<Check> {
    let n = profile.network.as_ref()?;
    if n.download_mbps_per_user.is_none() && n.upload_mbps_per_user.is_none() {
        return None;
    }
    let (target, access) = match server {
        Some(s) => (Target::Endpoint(s.clone()), access.cloned()),
        None => (
            Target::Urls {
                download: n.download_url.as_deref()?.parse().ok()?,
                upload: n.upload_url.as_deref().and_then(|u| u.parse().ok()),
            },
            // The credential is the controller's business; a vendor's URL never sees it.
            None,
        ),
    };
    Some(Check::Bandwidth(bandwidth::Spec {
        requirement: RequirementId::NetworkMeasure,
        target,
        caps,
        state_dir: state_dir.to_owned(),
        access,
        start_at,
    }))
}

/// What a machine that sends the roster files checks: the vendor's transfer endpoint alone
/// ([`fitcheck_core::plan::plan_transfer`]).
pub fn plan_transfer(profile: &Profile) -> Vec<Check> {
    fitcheck_core::plan::plan_transfer(profile)
        .into_iter()
        .map(check_of)
        .collect()
}

/// Every network check `profile` asks for, in profile order, as core plans them for every
/// agent ([`fitcheck_core::plan::plan`]); bandwidth apart: see [`plan_bandwidth`].
pub fn plan(profile: &Profile) -> Vec<Check> {
    fitcheck_core::plan::plan(profile)
        .into_iter()
        .map(check_of)
        .collect()
}

/// The check this agent runs for one planned check.
fn check_of(planned: PlannedCheck) -> Check {
    match planned {
        PlannedCheck::Dns { requirement, name } => Check::Dns(dns::Spec { requirement, name }),
        PlannedCheck::Http {
            requirement,
            url,
            follow_redirects,
            expect_status,
        } => Check::Http(http::Spec {
            requirement,
            url,
            follow_redirects,
            accept: expect_status,
        }),
        PlannedCheck::Tcp {
            requirement,
            host,
            port,
            banner,
        } => Check::Tcp(tcp::Spec {
            requirement,
            host,
            port,
            banner,
        }),
        PlannedCheck::Stun {
            requirement,
            host,
            port,
        } => Check::Stun(stun::Spec {
            requirement,
            host,
            port,
        }),
        // Round trips by ICMP echo or TCP connects to the host; the URL is for agents that time
        // HTTP requests.
        PlannedCheck::Latency {
            requirement, host, ..
        } => Check::Latency(latency::Spec { requirement, host }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_every_requirement_and_samples_ranges() {
        let text = r#"
format = 1
id = "t"
name = "T"
vendor = "V"
reviewed = "2026-01-01"
sources = ["https://example.com/req"]
[[dns]]
name = "a.example"
[[http]]
url = "https://a.example/"
[[ports]]
protocol = "tcp"
host = "a.example"
range = "8801-8810"
[[ports]]
protocol = "udp"
host = "a.example"
range = "3478-3479"
probe = "stun"
[[ports]]
protocol = "udp"
host = "a.example"
port = 5000
"#;
        let p = Profile::parse("t.toml", text).unwrap();
        let checks = plan(&p);
        let tcp: Vec<_> = checks
            .iter()
            .filter(|c| matches!(c, Check::Tcp(_)))
            .collect();
        let stun: Vec<_> = checks
            .iter()
            .filter(|c| matches!(c, Check::Stun(_)))
            .collect();
        assert_eq!(
            checks.iter().filter(|c| matches!(c, Check::Dns(_))).count(),
            1
        );
        assert_eq!(
            checks
                .iter()
                .filter(|c| matches!(c, Check::Http(_)))
                .count(),
            1
        );
        assert_eq!(
            tcp.len(),
            9,
            "a 10-port range is sampled at 8 ports, plus TCP 443 beside STUN"
        );
        assert_eq!(stun.len(), 2);
        assert!(
            tcp.iter()
                .any(|c| c.requirement() == "ports[1].tcp443" && c.label() == "tcp a.example:443"),
            "TCP 443 is checked beside the STUN probes"
        );
        assert!(checks.iter().all(|c| c.requirement() != "ports[2]"));
        let hosts = p.hosts();
        for c in &checks {
            let host = match c {
                Check::Dns(s) => s.name.clone(),
                Check::Http(s) => fitcheck_core::profile::url_host(&s.url).unwrap_or_default(),
                Check::Tcp(s) => s.host.clone(),
                Check::Stun(s) => s.host.clone(),
                Check::Latency(s) => s.host.clone(),
                Check::Bandwidth(_) => continue,
            };
            assert!(hosts.contains(&host), "{host} is not named by the profile");
        }
    }
}
