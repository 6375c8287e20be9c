//! From a profile to the list of network checks to run. Only targets the profile names are
//! ever planned; port ranges are sampled (see `PortRange::probed_ports`).

use fitcheck_core::profile::{EndpointScheme, PortProbe, Profile, Protocol};

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

/// Every network check `profile` asks for, in profile order (bandwidth apart: see
/// [`plan_bandwidth`]).
/// What a machine that sends the roster files checks: the vendor's transfer endpoint alone —
/// an SFTP server's SSH identification, or an HTTPS endpoint like any URL.
pub fn plan_transfer(profile: &Profile) -> Vec<Check> {
    let Some(data) = &profile.data else {
        return Vec::new();
    };
    let (Some(url), Some(endpoint)) = (&data.endpoint, data.endpoint_target()) else {
        return Vec::new();
    };
    vec![match endpoint.scheme {
        EndpointScheme::Sftp => Check::Tcp(tcp::Spec {
            requirement: RequirementId::DataEndpoint,
            host: endpoint.host,
            port: endpoint.port,
            banner: true,
        }),
        EndpointScheme::Https => Check::Http(http::Spec {
            requirement: RequirementId::DataEndpoint,
            url: url.clone(),
            follow_redirects: true,
            accept: Vec::new(),
        }),
    }]
}

pub fn plan(profile: &Profile) -> Vec<Check> {
    let mut out = Vec::new();
    for (i, d) in profile.dns.iter().enumerate() {
        out.push(Check::Dns(dns::Spec {
            requirement: RequirementId::Dns(i),
            name: d.name.clone(),
        }));
    }
    for (i, h) in profile.http.iter().enumerate() {
        out.push(Check::Http(http::Spec {
            requirement: RequirementId::Http(i),
            url: h.url.clone(),
            follow_redirects: h.follow_redirects,
            accept: h.expect_status.clone(),
        }));
    }
    for (i, p) in profile.ports.iter().enumerate() {
        let Some(range) = p.port_range() else {
            continue;
        };
        let requirement = RequirementId::Port(i);
        if p.protocol == Protocol::Udp && p.effective_probe() == PortProbe::Stun {
            // Alongside the media ports: whether TCP 443 to the same host works, so a report can
            // say "UDP filtered, media will fall back to TCP".
            out.push(Check::Tcp(tcp::Spec {
                requirement: RequirementId::PortFallback(i),
                host: p.host.clone(),
                port: 443,
                banner: false,
            }));
        }
        for port in range.probed_ports() {
            match (p.protocol, p.effective_probe()) {
                (Protocol::Tcp, PortProbe::Connect) => out.push(Check::Tcp(tcp::Spec {
                    requirement: requirement.clone(),
                    host: p.host.clone(),
                    port,
                    banner: false,
                })),
                (Protocol::Udp, PortProbe::Stun) => out.push(Check::Stun(stun::Spec {
                    requirement: requirement.clone(),
                    host: p.host.clone(),
                    port,
                })),
                // Nothing a client can send proves a silent UDP service (or an IP range with no
                // host) reachable; the evaluation reports it as unknown.
                _ => {}
            }
        }
    }
    if let Some(host) = profile.latency_host() {
        out.push(Check::Latency(latency::Spec {
            requirement: RequirementId::NetworkMeasure,
            host,
        }));
    }
    out
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
