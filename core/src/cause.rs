//! Why a network requirement falls short on one device, as a type: the layer that stopped it,
//! what it is about (a host, a port, a path metric) and what the evidence names (the filter's
//! vendor, the policy entry, the server's status). [`crate::evaluate`] decides it where it
//! decides the requirement's status, from the same check result; the recommendation groups and
//! words causes, and never reads them back from text.

use serde::{Deserialize, Serialize};

use crate::browser_policy::BrowserPolicyBlock;
use crate::profile::Protocol;
use crate::requirement::NetworkKey;

/// Why a network requirement falls short.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "layer", rename_all = "snake_case")]
pub enum Cause {
    /// A filter inside the student's browser blocks the host.
    BrowserExtension {
        host: String,
        /// The extension recognised, if any.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vendor: Option<String>,
    },
    /// The browser's own URL policy blocks the host.
    BrowserPolicy {
        host: String,
        /// The entry that matched, where an agent on the device read the policy.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        entry: Option<BrowserPolicyBlock>,
    },
    /// A DNS filter answers for the name with a block (a sinkhole address, NXDOMAIN, refused).
    DnsFilter {
        host: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vendor: Option<String>,
    },
    /// A web filter, a proxy or a filter of TLS server names blocks the host.
    WebFilter {
        host: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        vendor: Option<String>,
    },
    /// TLS inspection re-signs the host's certificate.
    TlsInspection {
        host: String,
        /// The inspecting product recognised, else the certificate's issuer.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        inspector: Option<String>,
    },
    /// Nothing answers on the port: a firewall closes it.
    Firewall {
        protocol: Protocol,
        /// The port or range the product uses (`443`, `3478-3481`).
        ports: String,
        host: String,
        /// Only a browser saw it: its connection was refused and it could not show the address
        /// it connected to, so a DNS filter's sinkhole answer (`0.0.0.0`, which a browser
        /// refuses the same way) is not ruled out.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        address_unseen: bool,
    },
    /// The path's latency, jitter or loss misses the product's need.
    Path { metric: NetworkKey },
    /// The district's resolver did not answer the name, and no filter was seen answering.
    Resolver { host: String },
    /// The vendor's own server answered with an error: only the vendor can change it.
    VendorServer {
        host: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
    },
    /// The vendor's host answered, but not as the profile expects.
    VendorAnswer {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        host: Option<String>,
    },
    /// No check result tells why: look into the requirement.
    Unexplained,
}

/// The layer a [`Cause`] names, without its particulars: what groups failures into one action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Layer {
    BrowserExtension,
    BrowserPolicy,
    DnsFilter,
    WebFilter,
    TlsInspection,
    Firewall,
    Path,
    Unexplained,
    Resolver,
    VendorAnswer,
    VendorServer,
}

impl Layer {
    /// The layer in words.
    pub fn words(self) -> &'static str {
        match self {
            Layer::BrowserExtension => "a filter extension in the browser",
            Layer::BrowserPolicy => "the browser's URL policy",
            Layer::DnsFilter => "a DNS filter",
            Layer::WebFilter => "a web filter or proxy",
            Layer::TlsInspection => "TLS inspection",
            Layer::Firewall => "the firewall",
            Layer::Path => "the network path",
            Layer::Unexplained => "something unexplained",
            Layer::Resolver => "the district resolver",
            Layer::VendorAnswer => "the vendor's answer",
            Layer::VendorServer => "the vendor's server",
        }
    }
}

/// Who must act on a cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The district: its filters, firewall, resolver, devices or path.
    District,
    /// The vendor: its own servers.
    Vendor,
    /// Not known until someone looks.
    Unknown,
}

impl Cause {
    /// The layer.
    pub fn layer(&self) -> Layer {
        match self {
            Cause::BrowserExtension { .. } => Layer::BrowserExtension,
            Cause::BrowserPolicy { .. } => Layer::BrowserPolicy,
            Cause::DnsFilter { .. } => Layer::DnsFilter,
            Cause::WebFilter { .. } => Layer::WebFilter,
            Cause::TlsInspection { .. } => Layer::TlsInspection,
            Cause::Firewall { .. } => Layer::Firewall,
            Cause::Path { .. } => Layer::Path,
            Cause::Resolver { .. } => Layer::Resolver,
            Cause::VendorServer { .. } => Layer::VendorServer,
            Cause::VendorAnswer { .. } => Layer::VendorAnswer,
            Cause::Unexplained => Layer::Unexplained,
        }
    }

    /// Who must act.
    pub fn side(&self) -> Side {
        match self {
            Cause::VendorServer { .. } => Side::Vendor,
            Cause::VendorAnswer { .. } | Cause::Unexplained => Side::Unknown,
            _ => Side::District,
        }
    }

    /// The host the cause is about, where it is about one.
    pub fn host(&self) -> Option<&str> {
        match self {
            Cause::BrowserExtension { host, .. }
            | Cause::BrowserPolicy { host, .. }
            | Cause::DnsFilter { host, .. }
            | Cause::WebFilter { host, .. }
            | Cause::TlsInspection { host, .. }
            | Cause::Firewall { host, .. }
            | Cause::Resolver { host }
            | Cause::VendorServer { host, .. } => Some(host),
            Cause::VendorAnswer { host } => host.as_deref(),
            Cause::Path { .. } | Cause::Unexplained => None,
        }
    }

    /// What the evidence names beside the layer, in words: the filter or inspecting product
    /// recognised, the policy entry that matched, or the status the vendor's server answered.
    pub fn seen(&self) -> Option<String> {
        match self {
            Cause::BrowserExtension { vendor, .. }
            | Cause::DnsFilter { vendor, .. }
            | Cause::WebFilter { vendor, .. } => vendor.clone(),
            Cause::TlsInspection { inspector, .. } => inspector.clone(),
            Cause::BrowserPolicy { entry, .. } => entry.as_ref().map(ToString::to_string),
            Cause::VendorServer { status, .. } => status.map(|s| format!("status {s}")),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Cause, Side};
    use crate::profile::Protocol;

    #[test]
    fn a_cause_round_trips_and_names_its_host() {
        let causes = [
            Cause::DnsFilter {
                host: "app.vendor.example".into(),
                vendor: Some("Cisco Umbrella".into()),
            },
            Cause::Firewall {
                protocol: Protocol::Udp,
                ports: "3478-3481".into(),
                host: "stun.vendor.example".into(),
                address_unseen: false,
            },
            Cause::Firewall {
                protocol: Protocol::Tcp,
                ports: "80".into(),
                host: "app.vendor.example".into(),
                address_unseen: true,
            },
            Cause::VendorServer {
                host: "media.vendor.example".into(),
                status: Some(503),
            },
            Cause::Unexplained,
        ];
        for c in &causes {
            let text = serde_json::to_string(c).unwrap_or_default();
            let back: Option<Cause> = serde_json::from_str(&text).ok();
            assert_eq!(back.as_ref(), Some(c), "{text}");
        }
        assert_eq!(causes[1].host(), Some("stun.vendor.example"));
        assert_eq!(causes[3].seen().as_deref(), Some("status 503"));
        assert_eq!(causes[3].side(), Side::Vendor);
        assert_eq!(causes[0].side(), Side::District);
        assert_eq!(causes[4].host(), None);
        // Stored causes from before the flag read as seen.
        let stored: Option<Cause> = serde_json::from_str(
            r#"{"layer":"firewall","protocol":"tcp","ports":"443","host":"a.example"}"#,
        )
        .ok();
        assert!(matches!(
            stored,
            Some(Cause::Firewall {
                address_unseen: false,
                ..
            })
        ));
    }
}
