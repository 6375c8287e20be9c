//! The checks a profile asks for, planned once, here: the native agent runs this plan, and the
//! controller sends it with each assignment to browser agents, which run what they are given
//! (the checks a browser can make). Only targets the profile names are ever planned; port
//! ranges are sampled (`PortRange::probed_ports`), and beside STUN ports a TCP 443 check to the
//! same host says whether media can fall back to TCP.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::profile::{EndpointScheme, PortProbe, Profile, Protocol, url_host};
use crate::requirement::RequirementId;

/// One check, as every agent runs it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "check", rename_all = "snake_case", deny_unknown_fields)]
pub enum PlannedCheck {
    /// Resolve a name.
    Dns {
        requirement: RequirementId,
        name: String,
    },
    /// Fetch a URL (a browser navigates to it).
    Http {
        requirement: RequirementId,
        url: String,
        follow_redirects: bool,
        /// The statuses the profile accepts; empty: any below 400.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        expect_status: Vec<u16>,
    },
    /// Connect over TCP (a browser cannot).
    Tcp {
        requirement: RequirementId,
        host: String,
        port: u16,
        /// Read the server's first line (an SFTP endpoint's SSH identification).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        banner: bool,
    },
    /// Send a STUN binding request over UDP.
    Stun {
        requirement: RequirementId,
        host: String,
        port: u16,
    },
    /// Time round trips to the product's latency host ([`Profile::latency_host`]).
    Latency {
        requirement: RequirementId,
        /// As the profile writes it: a report's target is matched against it.
        host: String,
        /// Where an agent that times HTTP requests sends them: the host's root, by the scheme
        /// and port of the profile's first URL on that host, else HTTPS.
        url: String,
    },
}

impl PlannedCheck {
    /// The requirement the check's result is filed under.
    pub fn requirement(&self) -> &RequirementId {
        match self {
            PlannedCheck::Dns { requirement, .. }
            | PlannedCheck::Http { requirement, .. }
            | PlannedCheck::Tcp { requirement, .. }
            | PlannedCheck::Stun { requirement, .. }
            | PlannedCheck::Latency { requirement, .. } => requirement,
        }
    }
}

/// Every network check `profile` asks for, in profile order (dns, http, ports, the latency
/// host). Throughput is planned apart: where to measure it is the agent's configuration.
pub fn plan(profile: &Profile) -> Vec<PlannedCheck> {
    let mut out = Vec::new();
    for (i, d) in profile.dns.iter().enumerate() {
        out.push(PlannedCheck::Dns {
            requirement: RequirementId::Dns(i),
            name: d.name.clone(),
        });
    }
    for (i, h) in profile.http.iter().enumerate() {
        out.push(PlannedCheck::Http {
            requirement: RequirementId::Http(i),
            url: h.url.clone(),
            follow_redirects: h.follow_redirects,
            expect_status: h.expect_status.clone(),
        });
    }
    for (i, p) in profile.ports.iter().enumerate() {
        plan_port(i, p, &mut out);
    }
    if let Some(host) = profile.latency_host() {
        let url = latency_url(profile, &host);
        out.push(PlannedCheck::Latency {
            requirement: RequirementId::NetworkMeasure,
            host,
            url,
        });
    }
    out
}

/// One `[[ports]]` entry's checks: its sampled ports, connected or sent a STUN request, and
/// beside STUN the TCP 443 fallback. Nothing a client can send proves a silent UDP service (or
/// an IP range with no host) reachable: such an entry plans nothing and is judged unknown.
fn plan_port(i: usize, p: &crate::profile::PortRequirement, out: &mut Vec<PlannedCheck>) {
    let Some(range) = p.port_range() else {
        return;
    };
    let requirement = RequirementId::Port(i);
    match (p.protocol, p.effective_probe()) {
        (Protocol::Tcp, PortProbe::Connect) => {
            out.extend(
                range
                    .probed_ports()
                    .into_iter()
                    .map(|port| PlannedCheck::Tcp {
                        requirement: requirement.clone(),
                        host: p.host.clone(),
                        port,
                        banner: false,
                    }),
            );
        }
        (Protocol::Udp, PortProbe::Stun) => {
            out.push(PlannedCheck::Tcp {
                requirement: RequirementId::PortFallback(i),
                host: p.host.clone(),
                port: 443,
                banner: false,
            });
            out.extend(
                range
                    .probed_ports()
                    .into_iter()
                    .map(|port| PlannedCheck::Stun {
                        requirement: requirement.clone(),
                        host: p.host.clone(),
                        port,
                    }),
            );
        }
        _ => {}
    }
}

/// The root of `host` by the scheme and port of the profile's first URL on it, else HTTPS on
/// the host itself.
fn latency_url(profile: &Profile, host: &str) -> String {
    let same = profile
        .http
        .iter()
        .filter(|h| url_host(&h.url).is_some_and(|u| u.eq_ignore_ascii_case(host)))
        .find_map(|h| url::Url::parse(&h.url).ok());
    match same {
        Some(u) => format!("{}/", u.origin().ascii_serialization()),
        None if host.contains(':') => format!("https://[{host}]/"),
        None => format!("https://{host}/"),
    }
}

/// What a machine that sends the roster files checks: the vendor's transfer endpoint alone —
/// an SFTP server's SSH identification, or an HTTPS endpoint like any URL.
pub fn plan_transfer(profile: &Profile) -> Vec<PlannedCheck> {
    let Some(data) = &profile.data else {
        return Vec::new();
    };
    let (Some(url), Some(endpoint)) = (&data.endpoint, data.endpoint_target()) else {
        return Vec::new();
    };
    vec![match endpoint.scheme {
        EndpointScheme::Sftp => PlannedCheck::Tcp {
            requirement: RequirementId::DataEndpoint,
            host: endpoint.host,
            port: endpoint.port,
            banner: true,
        },
        EndpointScheme::Https => PlannedCheck::Http {
            requirement: RequirementId::DataEndpoint,
            url: url.clone(),
            follow_redirects: true,
            expect_status: Vec::new(),
        },
    }]
}

#[cfg(test)]
mod tests {
    use super::{PlannedCheck, plan};
    use crate::profile::Profile;

    fn profile(body: &str) -> Profile {
        let head = "format = 1\nid = \"t\"\nname = \"T\"\nvendor = \"V\"\nreviewed = \"2026-01-01\"\nsources = [\"https://example.com/r\"]\n";
        Profile::parse("t.toml", &format!("{head}{body}")).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn every_requirement_is_planned_in_profile_order_and_ranges_are_sampled() {
        let p = profile(
            "[[dns]]\nname = \"a.example\"\n[[http]]\nurl = \"https://a.example/x\"\nexpect_status = [200]\n\
             [[ports]]\nprotocol = \"tcp\"\nhost = \"a.example\"\nrange = \"8801-8810\"\n\
             [[ports]]\nprotocol = \"udp\"\nhost = \"a.example\"\nrange = \"3478-3479\"\nprobe = \"stun\"\n\
             [[ports]]\nprotocol = \"udp\"\nhost = \"a.example\"\nport = 5000\n\
             [network]\nmax_rtt_ms = 150\n",
        );
        let checks = plan(&p);
        let ids: Vec<String> = checks.iter().map(|c| c.requirement().to_string()).collect();
        assert_eq!(ids[..2], ["dns[0]", "http[0]"]);
        let tcp = checks
            .iter()
            .filter(|c| matches!(c, PlannedCheck::Tcp { .. }))
            .count();
        assert_eq!(
            tcp, 9,
            "a 10-port range is sampled at 8 ports, plus TCP 443 beside STUN"
        );
        assert!(ids.contains(&"ports[1].tcp443".to_owned()));
        assert!(
            !ids.contains(&"ports[2]".to_owned()),
            "a silent UDP port plans nothing"
        );
        assert_eq!(
            checks.last(),
            Some(&PlannedCheck::Latency {
                requirement: "network".into(),
                host: "a.example".into(),
                url: "https://a.example/".into(),
            })
        );
    }

    #[test]
    fn the_latency_url_follows_the_profiles_url_on_the_same_host() {
        let p = profile(
            "[[http]]\nurl = \"http://Media.Example:8080/live\"\n[network]\nprobe_host = \"media.example\"\nmax_jitter_ms = 30\n",
        );
        let latency = plan(&p).pop();
        assert_eq!(
            latency,
            Some(PlannedCheck::Latency {
                requirement: "network".into(),
                host: "media.example".into(),
                url: "http://media.example:8080/".into(),
            })
        );
        let v6 = profile("[network]\nprobe_host = \"2001:db8::5\"\nmax_rtt_ms = 100\n");
        assert!(matches!(
            plan(&v6).pop(),
            Some(PlannedCheck::Latency { url, .. }) if url == "https://[2001:db8::5]/"
        ));
    }

    #[test]
    fn a_plan_reads_back_as_written() {
        let p = profile(
            "[[dns]]\nname = \"a.example\"\n[[ports]]\nprotocol = \"udp\"\nhost = \"a.example\"\nport = 3478\nprobe = \"stun\"\n",
        );
        let checks = plan(&p);
        let text = serde_json::to_string(&checks).unwrap_or_default();
        assert!(text.contains(r#""check":"stun""#), "{text}");
        let back: Vec<PlannedCheck> = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(back, checks);
    }
}
