//! The report an agent writes: schema `fitcheck.report/v1`, the wire format between agents,
//! the controller and any script that reads a report. Field names and outcome words follow
//! the report vocabulary in the design; changing them is a new schema version.
//!
//! Privacy is by construction: a report holds only the fields listed in
//! `core/report-fields.allow` (a test compares the JSON Schema of [`Report`] with that list),
//! so no user name, MAC address, serial number, host name or browsing history can slip in.

use std::collections::BTreeMap;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use crate::browser_policy::BrowserPolicyBlock;
use crate::outcome::Evaluation;
use crate::profile::{Browser, GpuVendor, OsFamily};
use crate::requirement::RequirementId;
use crate::software::{SoftwareKind, SoftwareSource};

/// The schema identifier this build writes and reads.
pub const REPORT_SCHEMA: &str = "fitcheck.report/v1";

/// One run of one profile on one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Report {
    /// Always `fitcheck.report/v1`.
    pub schema: String,
    /// Random id of this report; ingestion is idempotent on it.
    pub report_id: Uuid,
    /// Who ran it.
    pub agent: AgentInfo,
    /// What it ran.
    pub profile: ProfileRef,
    /// When the run started, RFC 3339 UTC.
    pub started_at: String,
    /// When the run finished, RFC 3339 UTC.
    pub finished_at: String,
    /// What the device is.
    pub device: DeviceFacts,
    /// What each check observed.
    pub results: Vec<CheckResult>,
    /// What the checks cannot see and a reader must know (fixed sentences, e.g. that filters
    /// running inside a managed browser are invisible to network checks).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The profile's requirements judged against `device` and `results` by the agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evaluation: Option<Evaluation>,
}

/// Agent identity: a random id and the labels the district chose, nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AgentInfo {
    /// Random id, generated once per installation.
    pub agent_id: Uuid,
    /// fitcheck-agent version.
    pub version: String,
    /// District-chosen labels (`site`, `room`, `group`, …).
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The kind of agent (`native`, `browser`); absent: the native agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<crate::api::AgentKind>,
}

impl AgentInfo {
    /// The kind of agent that wrote the report.
    pub fn kind(&self) -> crate::api::AgentKind {
        self.kind.unwrap_or_default()
    }
}

/// Which profile was run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ProfileRef {
    /// Profile id.
    pub id: String,
    /// Product name.
    pub name: String,
    /// Product vendor.
    pub vendor: String,
    /// `sha256:` and the hex digest of the profile file's bytes.
    pub digest: String,
}

/// What the device is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceFacts {
    /// Operating system.
    pub os: OsFacts,
    /// Processor.
    pub cpu: CpuFacts,
    /// Memory.
    pub memory: MemoryFacts,
    /// The system volume; absent when it could not be found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disk: Option<DiskFacts>,
    /// Graphics adapters.
    pub gpu: GpuFacts,
    /// Display.
    pub screen: ScreenFacts,
    /// Installed browsers.
    pub browsers: BrowserFacts,
    /// Make and model as the firmware names them (no serial number), where the OS tells;
    /// recommendations group hardware by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<DeviceModel>,
    /// The kind of enclosure, where the firmware says (DMI `chassis_type` on Linux): whether
    /// the device takes parts (a desktop takes memory, a graphics card, a drive, a monitor) or
    /// has them fixed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub form_factor: Option<FormFactor>,
    /// The browser's extensions (browser agent only): filters that live in the browser are
    /// among them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extensions: Option<ExtensionFacts>,
    /// The software the profile names, as the agent found it; absent when the agent did not
    /// look (nothing is then judged met or missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub software: Option<SoftwareFacts>,
}

/// The software a profile names, looked up where the agent can read it. Only what the profile
/// names is looked for and reported: never the device's whole inventory.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoftwareFacts {
    /// Each place the agent read, and whether it could: a kind is judged missing only where
    /// one of its places was read.
    #[serde(default)]
    pub sources: Vec<SoftwareSourceRead>,
    /// Each named item found.
    #[serde(default)]
    pub found: Vec<FoundSoftware>,
}

impl SoftwareFacts {
    /// How `source` was read, when the agent read it.
    pub fn read(&self, source: SoftwareSource) -> Option<&SoftwareSourceRead> {
        self.sources.iter().find(|s| s.source == source)
    }
}

/// One place software is read from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SoftwareSourceRead {
    pub source: SoftwareSource,
    /// `detected`: read; `unsupported`: not on this device or not readable (the note says).
    pub detection: Detection,
    /// Why it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One installed item a profile names.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FoundSoftware {
    /// The kind the profile names it as.
    pub kind: SoftwareKind,
    /// The profile's id for it.
    pub id: String,
    /// Its version as its source gives it; absent when it could not be read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Where it was read.
    pub source: SoftwareSource,
    /// Where it is: a program's path, a Flatpak's installation, a snap's revision.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// For an extension or app: whether it is enabled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// For an extension or app: how it was installed (`admin` when force-installed by
    /// policy, `normal`, `development`, `sideload`, `other`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub install_type: Option<String>,
}

/// The extensions installed in the browser the browser agent runs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionFacts {
    /// Whether the list could be read.
    pub detection: Detection,
    /// Each extension but the agent itself.
    #[serde(default)]
    pub installed: Vec<InstalledExtension>,
}

/// One browser extension.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstalledExtension {
    /// Its id (32 letters a–p).
    pub id: String,
    /// Its name as the browser shows it.
    pub name: String,
    /// Its version.
    pub version: String,
    /// Whether it is enabled.
    pub enabled: bool,
    /// The filter vendor the signature catalog names for this id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter_vendor: Option<String>,
}

/// The kind of enclosure a device is built in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FormFactor {
    /// A desktop or tower case: memory slots, expansion slots, drive bays, a separate monitor.
    Desktop,
    /// An all-in-one: the screen is the case.
    AllInOne,
    /// A laptop, notebook, convertible, detachable or tablet: parts soldered or fixed.
    Portable,
    /// A mini PC, stick or sealed case: no room for parts.
    Compact,
}

impl FormFactor {
    /// The word the report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            FormFactor::Desktop => "desktop",
            FormFactor::AllInOne => "all_in_one",
            FormFactor::Portable => "portable",
            FormFactor::Compact => "compact",
        }
    }

    /// From an SMBIOS chassis type number (DSP0134, table "System Enclosure or Chassis
    /// Types"); `None` for "other", "unknown" and enclosures that are not a user's computer.
    pub fn from_smbios(chassis_type: u8) -> Option<FormFactor> {
        match chassis_type {
            // Desktop, low-profile desktop, pizza box, mini tower, tower, space-saving, lunch
            // box, main server chassis, rack mount.
            3 | 4 | 5 | 6 | 7 | 15 | 16 | 17 | 23 => Some(FormFactor::Desktop),
            13 => Some(FormFactor::AllInOne),
            // Portable, laptop, notebook, hand held, sub notebook, tablet, convertible,
            // detachable.
            8 | 9 | 10 | 11 | 14 | 30 | 31 | 32 => Some(FormFactor::Portable),
            // Sealed-case PC, embedded PC, mini PC, stick PC.
            24 | 34 | 35 | 36 => Some(FormFactor::Compact),
            _ => None,
        }
    }
}

/// A device's make and model (DMI `sys_vendor` and `product_name` on Linux).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceModel {
    /// Manufacturer (`Dell Inc.`).
    pub vendor: String,
    /// Model name (`Latitude 3190`).
    pub product: String,
}

/// Operating system facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OsFacts {
    /// Family; absent for a system fitcheck does not know.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family: Option<OsFamily>,
    /// Human name (`Debian GNU/Linux 12 (bookworm)`, `Windows 11 Pro`).
    pub name: String,
    /// Version (`12`, `11.0.26100`, `14.6`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Linux distribution id from os-release (`debian`, `ubuntu`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    /// Kernel release.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<String>,
    /// Machine architecture as `uname -m` names it.
    pub architecture: String,
}

impl DeviceFacts {
    /// A device nothing is known of: every fact absent or undetected.
    pub fn unknown() -> DeviceFacts {
        let undetected = Detection::Unsupported;
        DeviceFacts {
            os: OsFacts {
                family: None,
                name: "unknown".to_owned(),
                version: None,
                distribution: None,
                kernel: None,
                architecture: "unknown".to_owned(),
            },
            cpu: CpuFacts {
                model: None,
                logical_cores: 0,
                physical_cores: None,
                max_frequency_mhz: None,
                frequency_source: None,
            },
            memory: MemoryFacts { total_bytes: 0 },
            disk: None,
            gpu: GpuFacts {
                detection: undetected,
                adapters: Vec::new(),
            },
            screen: ScreenFacts {
                detection: undetected,
                width: None,
                height: None,
                source: None,
            },
            browsers: BrowserFacts {
                detection: undetected,
                installed: Vec::new(),
            },
            model: None,
            form_factor: None,
            extensions: None,
            software: None,
        }
    }
}

/// Processor facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CpuFacts {
    /// Model name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Logical cores (hardware threads) the OS schedules on.
    pub logical_cores: u32,
    /// Physical cores, where the OS tells.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub physical_cores: Option<u32>,
    /// Maximum frequency, MHz.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frequency_mhz: Option<u64>,
    /// Where the frequency came from (`cpufreq`, `model_name`, `cpuinfo_current`, `sysinfo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_source: Option<String>,
}

/// Memory facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryFacts {
    /// Memory the OS can use, bytes (Linux `MemTotal`); a little below what is installed.
    pub total_bytes: u64,
}

/// System volume facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DiskFacts {
    /// Mount point of the system volume (`/`, `C:\`).
    pub mount_point: String,
    /// Size, bytes.
    pub total_bytes: u64,
    /// Space available to unprivileged users, bytes.
    pub free_bytes: u64,
}

/// How far detection of a fact got.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Detection {
    /// The OS was asked and answered; an empty list means there is none.
    Detected,
    /// The OS was asked and found none (no display connected, …).
    NoneFound,
    /// fitcheck cannot ask this OS; the fact is unknown, never a fail.
    Unsupported,
}

/// Graphics facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpuFacts {
    /// Whether detection worked.
    pub detection: Detection,
    /// Display adapters found.
    #[serde(default)]
    pub adapters: Vec<GpuAdapter>,
}

/// One display adapter.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GpuAdapter {
    /// Vendor.
    pub vendor: GpuVendor,
    /// Vendor name as the PCI database gives it.
    pub vendor_name: String,
    /// Model name.
    pub model: String,
    /// PCI `vendor:device` id (`10de:2330`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pci_id: Option<String>,
    /// Dedicated video memory, bytes, where the OS exposes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vram_bytes: Option<u64>,
    /// Where the facts came from (`pci`, `nvml`, `amdgpu`).
    pub source: String,
}

/// Display facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScreenFacts {
    /// Whether detection worked.
    pub detection: Detection,
    /// Largest connected display, width in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<u32>,
    /// Largest connected display, height in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub height: Option<u32>,
    /// Where the facts came from (`drm`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

/// Browser facts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserFacts {
    /// Whether detection worked.
    pub detection: Detection,
    /// Browsers found, with versions.
    #[serde(default)]
    pub installed: Vec<InstalledBrowser>,
}

/// One installed browser.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InstalledBrowser {
    /// Browser family.
    pub name: Browser,
    /// Version as the browser reports it.
    pub version: String,
}

/// What one check observed. `check` names the kind.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "check", rename_all = "snake_case")]
pub enum CheckResult {
    Dns(DnsResult),
    Http(HttpResult),
    Tcp(TcpResult),
    Udp(UdpResult),
    Latency(LatencyResult),
    Bandwidth(BandwidthResult),
    Device(DeviceResult),
}

impl CheckResult {
    /// The profile key path of the requirement this result serves (`dns[0]`, `ports[2]`).
    pub fn requirement(&self) -> &RequirementId {
        match self {
            CheckResult::Dns(r) => &r.requirement,
            CheckResult::Http(r) => &r.requirement,
            CheckResult::Tcp(r) => &r.requirement,
            CheckResult::Udp(r) => &r.requirement,
            CheckResult::Latency(r) => &r.requirement,
            CheckResult::Bandwidth(r) => &r.requirement,
            CheckResult::Device(r) => &r.requirement,
        }
    }

    /// What was probed.
    pub fn target(&self) -> &str {
        match self {
            CheckResult::Dns(r) => &r.target,
            CheckResult::Http(r) => &r.target,
            CheckResult::Tcp(r) => &r.target,
            CheckResult::Udp(r) => &r.target,
            CheckResult::Latency(r) => &r.target,
            CheckResult::Bandwidth(r) => &r.target,
            CheckResult::Device(r) => &r.target,
        }
    }

    /// The outcome word (`resolved`, `blocked_by_filter`, …).
    pub fn outcome_word(&self) -> &'static str {
        match self {
            CheckResult::Dns(r) => r.outcome.as_str(),
            CheckResult::Http(r) => r.outcome.as_str(),
            CheckResult::Tcp(r) => r.outcome.as_str(),
            CheckResult::Udp(r) => r.outcome.as_str(),
            CheckResult::Latency(r) => r.outcome.as_str(),
            CheckResult::Bandwidth(r) => r.outcome.as_str(),
            CheckResult::Device(r) => r.outcome.as_str(),
        }
    }
}

/// `as_str()` for an outcome enum: the word reports use (its serde name), without a round
/// trip through JSON.
macro_rules! outcome_words {
    ($t:ident { $($v:ident => $w:literal),+ $(,)? }) => {
        impl $t {
            /// The word reports use.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($t::$v => $w),+
                }
            }

            /// Every outcome, in declaration order.
            pub const ALL: &'static [$t] = &[$($t::$v),+];
        }
    };
}

outcome_words!(DnsOutcome { Resolved => "resolved", Nxdomain => "nxdomain", NoData => "no_data", Servfail => "servfail", Refused => "refused", Timeout => "timeout", Sinkholed => "sinkholed" });
outcome_words!(HttpOutcome { Reachable => "reachable", BlockedByFilter => "blocked_by_filter", TlsIntercepted => "tls_intercepted", TlsFailed => "tls_failed", ConnectionReset => "connection_reset", ConnectionRefused => "connection_refused", Timeout => "timeout", DnsFailed => "dns_failed", UnexpectedStatus => "unexpected_status" });
outcome_words!(TcpOutcome { Open => "open", Refused => "refused", Filtered => "filtered" });
outcome_words!(UdpOutcome { Answered => "answered", NoAnswer => "no_answer" });
outcome_words!(MeasureOutcome { Measured => "measured", Unreachable => "unreachable" });
outcome_words!(DeviceOutcome { Observed => "observed", Unknown => "unknown" });

/// DNS outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DnsOutcome {
    Resolved,
    Nxdomain,
    NoData,
    Servfail,
    Refused,
    Timeout,
    Sinkholed,
}

/// A DNS lookup of one name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsResult {
    /// Requirement key path.
    pub requirement: RequirementId,
    /// The name looked up.
    pub target: String,
    /// What happened.
    pub outcome: DnsOutcome,
    /// What was seen.
    pub evidence: DnsEvidence,
    /// Time for both lookups (A and AAAA, concurrently), milliseconds.
    pub duration_ms: f64,
}

/// What a DNS lookup saw.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DnsEvidence {
    /// The resolvers asked (from the system configuration).
    #[serde(default)]
    pub resolvers: Vec<String>,
    /// A answers.
    #[serde(default)]
    pub a: Vec<IpAddr>,
    /// AAAA answers.
    #[serde(default)]
    pub aaaa: Vec<IpAddr>,
    /// Why the answer counts as a sinkhole (`0.0.0.0 is a bogon address`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sinkhole_reason: Option<String>,
    /// The DNS filter whose sinkhole address was answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureMatch>,
    /// What the control resolver answered, when one is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub control: Option<ControlAnswer>,
    /// The resolver's error, in its words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The control resolver's view of a name: what an unfiltered resolver answers.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlAnswer {
    /// The control resolver asked.
    pub resolver: String,
    /// Its answers, both families.
    #[serde(default)]
    pub addresses: Vec<IpAddr>,
    /// Its outcome word.
    pub outcome: String,
    /// Whether the district's answer completed a TLS handshake for the product's name that the
    /// public roots validate (a CDN answering differently, not a block), when that was tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_answer_validates: Option<bool>,
    /// The certificate the district's answer presented for the product's name, judged against
    /// the public roots (bundled plus `--public-roots`), never only the device's store: a DNS
    /// filter's block-page server presents one from a CA the district installed on its devices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub district_answer_certificate: Option<CertificateEvidence>,
}

/// The layer that stopped a request, in the order an agent walks them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BlockingLayer {
    /// The name did not resolve, or resolved to a block address.
    Dns,
    /// The TCP connection was reset or dropped.
    Tcp,
    /// TCP connected but the TLS handshake with the product's SNI was reset or failed.
    TlsSni,
    /// A local CA re-signed the product's certificate.
    TlsInterception,
    /// An explicit proxy refused the CONNECT.
    HttpProxy,
    /// A filter answered with a block page or a redirect to its block host.
    HttpFilter,
    /// A filter extension in the browser sent the tab to its block page or cancelled the load
    /// (`net::ERR_BLOCKED_BY_CLIENT`).
    BrowserExtension,
    /// The browser's own policy (`URLBlocklist`: `net::ERR_BLOCKED_BY_ADMINISTRATOR`).
    BrowserPolicy,
}

/// HTTP outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HttpOutcome {
    Reachable,
    BlockedByFilter,
    TlsIntercepted,
    TlsFailed,
    ConnectionReset,
    ConnectionRefused,
    Timeout,
    DnsFailed,
    UnexpectedStatus,
}

/// One HTTP(S) request, redirects followed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpResult {
    /// Requirement key path.
    pub requirement: RequirementId,
    /// The URL requested.
    pub target: String,
    /// What happened.
    pub outcome: HttpOutcome,
    /// What was seen.
    pub evidence: HttpEvidence,
    /// Where the time went.
    pub timings: HttpTimings,
}

/// What an HTTP request saw.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpEvidence {
    /// Final status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Every redirect followed, in order.
    #[serde(default)]
    pub redirects: Vec<Redirect>,
    /// The URL that gave the final status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub final_url: Option<String>,
    /// The address connected to, when connected directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    /// The proxy used (scheme, host and port; never credentials).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proxy: Option<String>,
    /// The server certificate, for HTTPS.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<CertificateEvidence>,
    /// The layer that stopped the request, for anything but `reachable`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocking_layer: Option<BlockingLayer>,
    /// The filter signature that matched (block page, block host, inspection CA).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<SignatureMatch>,
    /// Response headers that tell who answered (`server`, `via`, `x-squid-error`, …).
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// The error, in the transport's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// How the URL was requested: absent for the native agent's request, `navigation` for the
    /// browser agent's top-level navigation in a window of its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// The browser's error for a navigation that failed (`net::ERR_BLOCKED_BY_CLIENT`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub net_error: Option<String>,
    /// How long the browser agent's probe window was open, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_ms: Option<f64>,
    /// The managed browsers on this device whose URL policy blocks the URL (native agent, read
    /// from the browsers' policy files): whatever the network does, those browsers refuse it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub browser_policy: Vec<BrowserPolicyBlock>,
}

/// One redirect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Redirect {
    /// The URL that redirected.
    pub from: String,
    /// Its status.
    pub status: u16,
    /// Where it pointed.
    pub location: String,
}

/// The certificate a server presented.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateEvidence {
    /// Subject distinguished name.
    pub subject: String,
    /// Issuer distinguished name.
    pub issuer: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// Whether the chain validates against the device's trust store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trusted_by_system: Option<bool>,
    /// Whether the chain validates against the public roots (bundled, plus any extra public
    /// roots configured); system-trusted but not public means a local CA re-signed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub publicly_trusted: Option<bool>,
}

/// HTTP phase timings, milliseconds; a phase that did not happen is absent.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpTimings {
    /// Name resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_ms: Option<f64>,
    /// TCP connect.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_ms: Option<f64>,
    /// TLS handshake.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ms: Option<f64>,
    /// From sending the first request to its response headers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_byte_ms: Option<f64>,
    /// Whole check, redirects included.
    pub total_ms: f64,
}

/// TCP outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TcpOutcome {
    Open,
    Refused,
    Filtered,
}

/// One TCP connect.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TcpResult {
    /// Requirement key path.
    pub requirement: RequirementId,
    /// `host:port`.
    pub target: String,
    /// The port.
    pub port: u16,
    /// What happened.
    pub outcome: TcpOutcome,
    /// The address tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    /// The error, in the OS's words.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Time to connect (or to give up), milliseconds.
    pub duration_ms: f64,
    /// The first line the server sent, where the check reads one: an SFTP endpoint's SSH
    /// identification (`SSH-2.0-OpenSSH_9.2p1`), printable ASCII, at most 255 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub banner: Option<String>,
}

/// UDP outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum UdpOutcome {
    Answered,
    NoAnswer,
}

/// One UDP probe (STUN binding request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UdpResult {
    /// Requirement key path.
    pub requirement: RequirementId,
    /// `host:port`.
    pub target: String,
    /// The port.
    pub port: u16,
    /// What happened.
    pub outcome: UdpOutcome,
    /// The address tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<IpAddr>,
    /// Requests sent.
    pub attempts: u32,
    /// What went wrong, or what answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Time to the answer (or to give up), milliseconds.
    pub duration_ms: f64,
}

/// Outcomes of a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MeasureOutcome {
    Measured,
    Unreachable,
}

/// Round-trip time, jitter and loss to one host.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LatencyResult {
    /// Requirement key path.
    pub requirement: RequirementId,
    /// The host.
    pub target: String,
    /// What happened.
    pub outcome: MeasureOutcome,
    /// `icmp`, `tcp_connect`, or [`HTTP_FETCH`] (a browser agent's timed HTTP requests).
    pub method: String,
    /// Probes sent.
    pub probes: u32,
    /// Smallest RTT, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_min_ms: Option<f64>,
    /// Median RTT, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_ms: Option<f64>,
    /// Largest RTT, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_max_ms: Option<f64>,
    /// Interarrival jitter (RFC 3550 style), milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jitter_ms: Option<f64>,
    /// Probes lost, percent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_percent: Option<f64>,
    /// Why ICMP was not used, or what failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// The latency method of a browser agent: HTTP requests over an open connection, timed. Each
/// round trip includes the server's time to answer, and TCP hides lost packets from it.
pub const HTTP_FETCH: &str = "http_fetch";

/// Throughput in one or both directions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BandwidthResult {
    /// Requirement key path.
    pub requirement: RequirementId,
    /// The endpoint measured against.
    pub target: String,
    /// What happened.
    pub outcome: MeasureOutcome,
    /// How it was measured.
    pub method: String,
    /// Download, Mbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_mbps: Option<f64>,
    /// Upload, Mbit/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_mbps: Option<f64>,
    /// Parallel streams used.
    pub streams: u32,
    /// Bytes carried, both directions.
    pub bytes: u64,
    /// Measurement time, both directions, milliseconds.
    pub duration_ms: f64,
    /// How long the download ran, ramp-up included, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_duration_ms: Option<f64>,
    /// How long the upload ran, ramp-up included, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_duration_ms: Option<f64>,
    /// The download's measured window (after ramp-up), milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_window_ms: Option<f64>,
    /// The upload's measured window (after ramp-up), milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_window_ms: Option<f64>,
    /// RTT to the endpoint before the test (TCP connect), milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_idle_ms: Option<f64>,
    /// RTT to the endpoint while the download ran: the bufferbloat signal, milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rtt_loaded_ms: Option<f64>,
    /// The download's bytes per interval over its measured window, with absolute times: what
    /// lets a controller add up devices over exactly the time they measured together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_samples: Option<ThroughputSamples>,
    /// The upload's, likewise (bytes the receiver acknowledged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_samples: Option<ThroughputSamples>,
    /// Caveats on the figures, by direction (`download:too_short`, `upload:sender_limited`).
    #[serde(default)]
    pub validity: Vec<String>,
    /// What failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

/// Bytes carried per fixed interval over one direction's measured window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThroughputSamples {
    /// Start of the first interval, Unix time in milliseconds, by the agent's clock (which the
    /// operating system keeps in time: a coordinated run relies on it).
    pub start_unix_ms: i64,
    /// Length of each interval, milliseconds.
    pub interval_ms: u32,
    /// Bytes carried in each interval, in order.
    pub bytes: Vec<u64>,
}

impl ThroughputSamples {
    /// End of the last interval, Unix milliseconds.
    pub fn end_unix_ms(&self) -> i64 {
        self.start_unix_ms
            .saturating_add(i64::from(self.interval_ms).saturating_mul(self.bytes.len() as i64))
    }

    /// Bytes carried between `from` and `to` (Unix milliseconds), an interval that straddles
    /// either end counted in proportion.
    pub fn bytes_between(&self, from: i64, to: i64) -> f64 {
        let step = i64::from(self.interval_ms);
        if step == 0 || to <= from {
            return 0.0;
        }
        let mut sum = 0.0;
        for (i, b) in self.bytes.iter().enumerate() {
            let a = self.start_unix_ms + step * i as i64;
            let e = a + step;
            let overlap = (e.min(to) - a.max(from)).max(0);
            sum += *b as f64 * overlap as f64 / step as f64;
        }
        sum
    }
}

/// Device outcomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DeviceOutcome {
    Observed,
    Unknown,
}

/// One device requirement's observed value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceResult {
    /// Requirement key path (`device.ram_min_gib`).
    pub requirement: RequirementId,
    /// The fact (`memory`, `os`, `screen`, …).
    pub target: String,
    /// Whether the fact was observed.
    pub outcome: DeviceOutcome,
    /// The observed value, in words (`7.6 GiB usable (8 GiB installed)`).
    pub observed: String,
}

/// A filter signature that matched, as a report records it (the catalog is
/// [`crate::signatures`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SignatureMatch {
    /// Signature id.
    pub id: String,
    /// The filter's vendor.
    pub vendor: String,
    /// What matched: the header, body marker, host, address or issuer.
    pub matched: String,
}
