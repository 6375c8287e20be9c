//! Product profiles: what a product needs from the network and the device, as its vendor
//! publishes it.
//!
//! A profile is a strict TOML file (format v1, documented key by key in `profiles/README.md`).
//! Loading is two passes: serde with `deny_unknown_fields` turns the text into [`Profile`]
//! (syntax and type errors, one at a time, as serde stops at the first), then
//! [`validate`](validate::validate) collects *every* semantic error at once. Each error carries
//! file, line, column and key path, found by walking the spanned document in [`location`].

mod data;
mod location;
mod software;
mod validate;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use data::{
    ColumnRef, DataElement, DataMethod, DataNeeds, DeliveryNeed, Endpoint, EndpointScheme, Schedule,
};
pub use software::{Presence, SoftwareRequirement};
pub use validate::{MAX_PROBED_PORTS_PER_RANGE, PortRange};

use crate::version::Version;

/// The only profile format this build reads.
pub const PROFILE_FORMAT: u32 = 1;

/// A product's requirements, as written in `profiles/<id>.toml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Profile format version; must be 1.
    pub format: u32,
    /// Short stable identifier: lowercase letters, digits and dashes (`zoom`, `pearson-testnav`).
    pub id: String,
    /// Product name as the committee knows it.
    pub name: String,
    /// Company that publishes the product.
    pub vendor: String,
    /// Date (YYYY-MM-DD) the values were last checked against the sources.
    pub reviewed: String,
    /// One paragraph on what the product is and how students use it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// URLs of the vendor pages the values come from.
    pub sources: Vec<String>,
    /// Names that must resolve.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dns: Vec<DnsRequirement>,
    /// URLs that must be reachable through the district's filter.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub http: Vec<HttpRequirement>,
    /// TCP and UDP ports that must be open outbound.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ports: Vec<PortRequirement>,
    /// Bandwidth per concurrent user and link-quality tolerances.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network: Option<NetworkNeeds>,
    /// Device minimums.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceMinimums>,
    /// Software the product needs on the device beside it, or cannot run beside.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub software: Vec<SoftwareRequirement>,
    /// What the vendor needs from the district's SIS, and how it is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataNeeds>,
}

fn yes() -> bool {
    true
}

/// A DNS name the product needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsRequirement {
    /// Fully qualified name, without a trailing dot (`zoom.us`).
    pub name: String,
    /// Whether the product cannot work without it (default true).
    #[serde(default = "yes")]
    pub critical: bool,
    /// What the product uses it for, in the vendor's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

/// An HTTP(S) endpoint the product needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpRequirement {
    /// `http://` or `https://` URL.
    pub url: String,
    /// Statuses that count as reachable after redirects are followed; empty means any status
    /// below 400 (see [`HttpRequirement::accepts`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub expect_status: Vec<u16>,
    /// Whether redirects are followed (default true, at most 10).
    #[serde(default = "yes")]
    pub follow_redirects: bool,
    /// Whether the product cannot work without it (default true).
    #[serde(default = "yes")]
    pub critical: bool,
    /// What the product uses it for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

impl HttpRequirement {
    /// Whether `status` counts as reachable: one of `expect_status`, or, when that is empty,
    /// any status below 400 (a vendor front page that redirects to a log-in is reachable).
    pub fn accepts(&self, status: u16) -> bool {
        if self.expect_status.is_empty() {
            (100..400).contains(&status)
        } else {
            self.expect_status.contains(&status)
        }
    }

    /// The accepted statuses in words, for "expected" columns.
    pub fn expected_text(&self) -> String {
        if self.expect_status.is_empty() {
            "status < 400".to_owned()
        } else {
            let list: Vec<String> = self.expect_status.iter().map(u16::to_string).collect();
            format!("status {}", list.join(" or "))
        }
    }
}

/// Transport protocol of a port requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    Tcp,
    Udp,
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        })
    }
}

/// How a port is probed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PortProbe {
    /// TCP connect (the default for TCP).
    Connect,
    /// STUN binding request (RFC 5389), for UDP services that speak STUN.
    Stun,
    /// Not probed: a UDP service that answers nothing a client can send first, or a port whose
    /// destinations the vendor publishes only as IP ranges (no host answers for them). Reported
    /// as `unknown` with a firewall rule to confirm, never as a pass or a fail.
    None,
}

/// A port or port range the product needs open outbound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PortRequirement {
    /// `tcp` or `udp`.
    pub protocol: Protocol,
    /// Host the port is probed on (a name from the vendor's list).
    pub host: String,
    /// A single port; give either `port` or `range`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    /// An inclusive range, `"8801-8810"`; give either `port` or `range`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub range: Option<String>,
    /// `connect` (TCP default), `stun` (UDP), or `none` (UDP default; also for destinations
    /// published only as IP ranges): `none` cannot be verified and is reported `unknown`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe: Option<PortProbe>,
    /// Whether the product cannot work without it (default true).
    #[serde(default = "yes")]
    pub critical: bool,
    /// What the product uses it for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
}

impl PortRequirement {
    /// The probe that applies, defaults included.
    pub fn effective_probe(&self) -> PortProbe {
        match (self.probe, self.protocol) {
            (Some(p), _) => p,
            (None, Protocol::Tcp) => PortProbe::Connect,
            (None, Protocol::Udp) => PortProbe::None,
        }
    }

    /// The ports as a range (a single port is a range of one). `None` only for a profile that
    /// did not pass validation.
    pub fn port_range(&self) -> Option<PortRange> {
        match (self.port, &self.range) {
            (Some(p), None) => Some(PortRange { first: p, last: p }),
            (None, Some(r)) => PortRange::parse(r).ok(),
            _ => None,
        }
    }
}

/// Network needs per concurrent user and link tolerances.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NetworkNeeds {
    /// Download bandwidth one concurrent user needs, Mbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_mbps_per_user: Option<f64>,
    /// Upload bandwidth one concurrent user needs, Mbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_mbps_per_user: Option<f64>,
    /// Largest tolerable round-trip time, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_rtt_ms: Option<f64>,
    /// Largest tolerable jitter, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_jitter_ms: Option<f64>,
    /// Largest tolerable packet loss, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_loss_percent: Option<f64>,
    /// Host latency is measured against (default: the host of the first critical URL).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub probe_host: Option<String>,
    /// A large object on the vendor's servers to measure download throughput with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_url: Option<String>,
    /// A vendor URL that accepts a POST body, to measure upload throughput with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_url: Option<String>,
}

pub use crate::os::OsFamily;

/// One supported operating system.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OsRequirement {
    /// OS family.
    pub family: OsFamily,
    /// For Linux: the distribution id from `/etc/os-release` (`ubuntu`, `debian`); absent means
    /// any distribution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    /// Oldest supported version, dotted numbers (`10`, `13.5`, `22.04`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    /// Newest supported release; it covers its builds (`14` allows `14.7.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
    /// Releases the vendor excludes (`["131"]`); each covers its builds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_versions: Vec<String>,
    /// Anything the vendor adds (editions, 64-bit only, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl OsRequirement {
    /// The minimum version, parsed. `None` when absent or (in an unvalidated profile) invalid.
    pub fn min(&self) -> Option<Version> {
        self.min_version.as_deref().and_then(|v| v.parse().ok())
    }
}

/// GPU vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum GpuVendor {
    Nvidia,
    Amd,
    Intel,
    Apple,
    Qualcomm,
    Arm,
    Other,
}

impl GpuVendor {
    /// Vendor from its PCI vendor id.
    pub fn from_pci_id(id: u16) -> GpuVendor {
        match id {
            0x10de => GpuVendor::Nvidia,
            0x1002 | 0x1022 => GpuVendor::Amd,
            0x8086 => GpuVendor::Intel,
            0x106b => GpuVendor::Apple,
            0x5143 | 0x17cb => GpuVendor::Qualcomm,
            0x13b5 => GpuVendor::Arm,
            _ => GpuVendor::Other,
        }
    }
}

impl fmt::Display for GpuVendor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            GpuVendor::Nvidia => "NVIDIA",
            GpuVendor::Amd => "AMD",
            GpuVendor::Intel => "Intel",
            GpuVendor::Apple => "Apple",
            GpuVendor::Qualcomm => "Qualcomm",
            GpuVendor::Arm => "Arm",
            GpuVendor::Other => "other",
        })
    }
}

/// GPU needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GpuRequirement {
    /// Whether a GPU (integrated counts) must be present.
    pub required: bool,
    /// Acceptable vendors; empty means any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub vendors: Vec<GpuVendor>,
    /// Least dedicated video memory, MiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vram_min_mib: Option<u64>,
    /// Anything the vendor adds (OpenGL/DirectX level, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Browser family.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Browser {
    Chrome,
    Chromium,
    Edge,
    Firefox,
    Safari,
}

impl fmt::Display for Browser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Browser::Chrome => "Chrome",
            Browser::Chromium => "Chromium",
            Browser::Edge => "Edge",
            Browser::Firefox => "Firefox",
            Browser::Safari => "Safari",
        })
    }
}

/// One supported browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BrowserRequirement {
    /// Browser family.
    pub name: Browser,
    /// Oldest supported version (`120`, `17.4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_version: Option<String>,
    /// Newest supported release; it covers its builds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_version: Option<String>,
    /// Releases the vendor excludes; each covers its builds.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub exclude_versions: Vec<String>,
}

impl BrowserRequirement {
    /// The minimum version, parsed.
    pub fn min(&self) -> Option<Version> {
        self.min_version.as_deref().and_then(|v| v.parse().ok())
    }
}

/// Device minimums.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeviceMinimums {
    /// Supported operating systems; the device must match one. Empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub os: Vec<OsRequirement>,
    /// Supported CPU architectures as `uname -m` names (`x86_64`, `aarch64`). Empty: any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub architectures: Vec<String>,
    /// Least installed memory, GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ram_min_gib: Option<f64>,
    /// Least logical CPU cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_cores_min: Option<u32>,
    /// Least CPU maximum frequency, GHz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_min_ghz: Option<f64>,
    /// Least free space on the system volume, GiB.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk_free_min_gib: Option<f64>,
    /// Least screen width, pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen_min_width: Option<u32>,
    /// Least screen height, pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub screen_min_height: Option<u32>,
    /// GPU needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuRequirement>,
    /// Supported browsers; the device needs one of them. Empty: no browser needed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub browser: Vec<BrowserRequirement>,
}

/// One error in a profile, located.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileError {
    /// The file name as given by the caller.
    pub file: String,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// Key path (`ports[2].range`); empty for errors not tied to a key.
    pub path: String,
    /// What is wrong and what is expected.
    pub message: String,
}

impl fmt::Display for ProfileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}: ", self.file, self.line, self.column)?;
        if !self.path.is_empty() {
            write!(f, "{}: ", self.path)?;
        }
        f.write_str(&self.message)
    }
}

/// The most errors reported for one file; past it the rest are counted, not listed.
pub const MAX_ERRORS: usize = 100;

/// Every error found in one profile file, in file order: the first [`MAX_ERRORS`], and how
/// many more there were.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", render_errors(.errors, *.more))]
pub struct ProfileErrors {
    /// The errors, at least one.
    pub errors: Vec<ProfileError>,
    /// Errors found past the first [`MAX_ERRORS`].
    pub more: usize,
}

fn render_errors(errors: &[ProfileError], more: usize) -> String {
    let mut lines: Vec<String> = errors.iter().map(ProfileError::to_string).collect();
    if more > 0 {
        lines.push(format!(
            "… and {more} more error{} (fix these first)",
            if more == 1 { "" } else { "s" }
        ));
    }
    lines.join("\n")
}

impl Profile {
    /// Parses and validates a profile. `file` names it in errors. Nothing of a profile with
    /// any error is returned, so a malformed profile can never half-run.
    pub fn parse(file: &str, text: &str) -> Result<Profile, ProfileErrors> {
        let doc = match toml::de::DeTable::parse(text) {
            Ok(doc) => doc,
            Err(err) => {
                return Err(ProfileErrors {
                    errors: vec![location::syntax_error(file, text, None, &err)],
                    more: 0,
                });
            }
        };
        let profile: Profile = match toml::from_str(text) {
            Ok(p) => p,
            Err(err) => {
                return Err(ProfileErrors {
                    errors: vec![location::syntax_error(file, text, Some(&doc), &err)],
                    more: 0,
                });
            }
        };
        let mut problems = validate::validate(&profile);
        if problems.is_empty() {
            return Ok(profile);
        }
        let lines = location::LineIndex::new(text);
        let mut errors: Vec<ProfileError> = problems
            .drain(..)
            .map(|p| location::locate(file, &lines, &doc, p))
            .collect();
        errors.sort_by_key(|e| (e.line, e.column));
        let more = errors.len().saturating_sub(MAX_ERRORS);
        errors.truncate(MAX_ERRORS);
        Err(ProfileErrors { errors, more })
    }

    /// Where round-trip time, jitter and loss are measured, when the profile has a tolerance to
    /// compare them with: `network.probe_host`, else the host of the first critical URL, else
    /// the first DNS name. Every agent measures there, and only a measurement there is judged.
    pub fn latency_host(&self) -> Option<String> {
        let n = self.network.as_ref()?;
        if n.max_rtt_ms.is_none() && n.max_jitter_ms.is_none() && n.max_loss_percent.is_none() {
            return None;
        }
        n.probe_host
            .clone()
            .or_else(|| {
                self.http
                    .iter()
                    .filter(|h| h.critical)
                    .find_map(|h| url_host(&h.url))
            })
            .or_else(|| self.dns.first().map(|d| d.name.clone()))
    }

    /// Every requirement host the profile names (DNS names, URL hosts, port hosts, the latency
    /// probe host), deduplicated, in profile order. An agent touches nothing else.
    pub fn hosts(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |h: &str| {
            let h = h.to_ascii_lowercase();
            if !out.contains(&h) {
                out.push(h);
            }
        };
        for d in &self.dns {
            push(&d.name);
        }
        for h in &self.http {
            if let Some(host) = url_host(&h.url) {
                push(&host);
            }
        }
        for p in &self.ports {
            push(&p.host);
        }
        if let Some(n) = &self.network {
            if let Some(host) = n.probe_host.as_deref() {
                push(host);
            }
            for url in [&n.download_url, &n.upload_url].into_iter().flatten() {
                if let Some(host) = url_host(url) {
                    push(&host);
                }
            }
        }
        // Checked only by the machines that send the files.
        if let Some(e) = self.data.as_ref().and_then(DataNeeds::endpoint_target) {
            push(&e.host);
        }
        out
    }
}

/// The host of an `http(s)://host[:port]/...` URL as the `url` crate reads it (lower case,
/// international names in their ASCII form), without brackets for IPv6 literals; `None` for
/// anything else.
pub fn url_host(url: &str) -> Option<String> {
    let u = url::Url::parse(url).ok()?;
    if !matches!(u.scheme(), "http" | "https") {
        return None;
    }
    let host = u.host_str()?.trim_start_matches('[').trim_end_matches(']');
    (!host.is_empty()).then(|| host.to_owned())
}
