//! The committee's document: what the engine decides, in the shape every renderer (page,
//! Markdown, JSON, PDF) lays out. Renderers format these; they decide nothing.

use std::collections::BTreeMap;

use fitcheck_core::evaluate::{FixKind, Requirement, Status};
use fitcheck_core::requirement::RequirementId;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The schema identifier of a recommendation's JSON form.
pub const RECOMMENDATION_SCHEMA: &str = "fitcheck.recommendation/v1";

/// The label used for agents without a `site` label.
pub const NO_SITE: &str = "(no site)";

/// The committee's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum FleetVerdict {
    Compatible,
    CompatibleWithConditions,
    NotCompatible,
    InsufficientEvidence,
}

impl FleetVerdict {
    /// The words people read.
    pub fn words(self) -> &'static str {
        match self {
            FleetVerdict::Compatible => "Compatible",
            FleetVerdict::CompatibleWithConditions => "Compatible with conditions",
            FleetVerdict::NotCompatible => "Not compatible",
            FleetVerdict::InsufficientEvidence => "Insufficient evidence",
        }
    }
}

/// A report cited as evidence.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    pub report_id: String,
    pub agent_id: String,
    pub site: String,
    /// The requirement it concerns (`http[0]`).
    pub requirement: RequirementId,
    /// What that device saw, in words.
    pub observed: String,
}

/// What kind of action a condition is.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ConditionKind {
    /// Allow names in the web or DNS filter.
    FilterAllow,
    /// Exempt names from TLS inspection.
    InspectionBypass,
    /// Open outbound ports in the firewall.
    FirewallRule,
    /// Upgrade or replace devices of a model.
    DeviceUpgrade,
    /// More uplink capacity at a site.
    UplinkCapacity,
    /// Fix latency, jitter or loss on a site's path.
    NetworkPath,
    /// Something the district cannot see the cause of: the vendor or the resolver answered
    /// wrongly. Still an action: whom to ask, about what.
    Investigate,
    /// Complete a field the SIS export carries but leaves empty for some rows.
    DataComplete,
    /// Have the SIS export carry a column, a file, a version or a delivery it lacks.
    DataAdd,
    /// Correct the export's format (headers, required files, manifest).
    DataFormat,
    /// Send the vendor less than the whole export.
    DataMinimise,
    /// Cover what the vendor receives by the signed data privacy agreement.
    DataAgreement,
}

/// One action the district takes before the product can be used.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Condition {
    pub kind: ConditionKind,
    /// What meeting it takes: configuring the network, updating software, a part, other
    /// devices, or the vendor.
    pub fix: FixKind,
    /// The action, in one sentence.
    pub action: String,
    /// Who takes it.
    pub owner: String,
    /// Whether the product needs it (a critical requirement) or it only improves things.
    pub required: bool,
    /// Exact names, ports or models the action is about.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    /// Sites concerned (network conditions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sites: Vec<String>,
    /// The filter or inspection product seen, where one was recognised.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seen: Option<String>,
    /// Devices concerned (device conditions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub devices: Option<u32>,
    /// The requirements behind it.
    pub requirements: Vec<RequirementId>,
    /// Reports that show it.
    pub evidence: Vec<Evidence>,
}

/// Something no district action fixes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Blocker {
    pub requirement: RequirementId,
    pub title: String,
    pub reason: String,
    pub evidence: Vec<Evidence>,
}

/// One requirement at one site, or on one device model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Cell {
    pub status: Status,
    pub pass: u32,
    pub warn: u32,
    pub fail: u32,
    pub unknown: u32,
    /// Distinct observations, at most three.
    pub observed: Vec<String>,
    /// The reports behind the cell (failures first).
    pub reports: Vec<String>,
}

/// A network requirement across sites.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct MatrixRow {
    pub requirement: RequirementId,
    pub title: String,
    pub critical: bool,
    pub expected: String,
    /// Site → cell; a site without reports has no cell.
    pub sites: BTreeMap<String, Cell>,
}

/// A device model and how it fares.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DeviceModelRow {
    pub model: String,
    /// Devices of this model that reported.
    pub devices: u32,
    pub sites: Vec<String>,
    /// The worst status over its requirements.
    pub status: Status,
    /// Requirement → cell.
    pub requirements: BTreeMap<RequirementId, Cell>,
}

/// Coverage of one site.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SiteCoverage {
    pub site: String,
    /// Enrolled agents in scope.
    pub agents: u32,
    /// Devices that reported: per OS family, the larger of the native agents' and the browser
    /// agents' counts (one machine may run both, so they are never added up).
    pub devices_reported: u32,
    /// Browser agents among the reports.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub browsers_reported: u32,
    /// Whether the site has enough devices to judge it.
    pub enough: bool,
}

/// A site's uplink against the planned use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SiteThroughput {
    pub site: String,
    /// Planned concurrent users.
    pub users: u32,
    pub download_needed_mbps: Option<f64>,
    pub upload_needed_mbps: Option<f64>,
    /// Measured at the site: what a coordinated run's devices carried together over the time
    /// they shared, else the best single device.
    pub download_measured_mbps: Option<f64>,
    pub upload_measured_mbps: Option<f64>,
    /// Devices whose measurements make the figure.
    pub devices_measured: u32,
    /// Whether the figures come from devices measuring together over a common window.
    pub coordinated: bool,
    /// The most concurrent users the measured capacity carries today.
    pub max_users: Option<u32>,
    pub status: Status,
    pub evidence: Vec<String>,
    /// How each direction's figure was made; absent for a direction no device measured.
    pub download: Option<SiteDirection>,
    pub upload: Option<SiteDirection>,
}

/// How one direction of a site's figure was made.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SiteDirection {
    /// Mbit/s: in a coordinated run, what the devices counted carried together over their
    /// common window; otherwise the best single device.
    pub mbps: f64,
    /// Devices counted in the figure.
    pub devices: u32,
    /// Length of the common window the devices shared, milliseconds (coordinated runs).
    pub common_window_ms: Option<f64>,
    /// Every device that measured this direction is counted, together: the figure is the
    /// site's, and a shortfall is a failure. Otherwise it is a lower bound.
    pub together: bool,
    /// Reports whose figures are counted.
    pub counted: Vec<String>,
    /// Devices that measured but are not counted, and why.
    pub left_out: Vec<String>,
}

/// The evaluation the recommendation is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct EvaluationRef {
    pub id: String,
    pub title: String,
    pub product: String,
    pub vendor: String,
    pub profile_id: String,
    pub profile_digest: String,
    /// The profile's vendor sources.
    pub sources: Vec<String>,
    pub window_start: Option<String>,
    pub window_end: String,
    pub proposal: Proposal,
}

/// The committee's document.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Recommendation {
    /// Always `fitcheck.recommendation/v1`.
    pub schema: String,
    pub generated_at: String,
    pub evaluation: EvaluationRef,
    pub verdict: FleetVerdict,
    /// One paragraph saying why.
    pub summary: String,
    /// Actions the district takes, required ones first.
    pub conditions: Vec<Condition>,
    /// What no district action fixes.
    pub blockers: Vec<Blocker>,
    /// What is missing to judge.
    pub gaps: Vec<String>,
    pub coverage: Vec<SiteCoverage>,
    /// The profile's requirements in profile order: titles and expectations for every id the
    /// matrices and conditions name.
    #[serde(default)]
    pub requirements: Vec<Requirement>,
    pub matrix: Vec<MatrixRow>,
    pub device_models: Vec<DeviceModelRow>,
    pub throughput: Vec<SiteThroughput>,
    /// Fixed caveats (what the checks cannot see).
    pub notes: Vec<String>,
    /// The vendor's data files against the district's SIS export; absent when the profile
    /// states no data needs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data: Option<DataSection>,
}

/// Whether the data part could be judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DataStatus {
    /// The product takes no roster.
    NotNeeded,
    /// No SIS summary to judge against.
    NotAssessed,
    /// Judged against the district's latest SIS summary.
    Assessed,
}

impl DataStatus {
    /// The words people read.
    pub fn words(self) -> &'static str {
        match self {
            DataStatus::NotNeeded => "No roster needed",
            DataStatus::NotAssessed => "Not assessed",
            DataStatus::Assessed => "Assessed",
        }
    }
}

/// The data stage's section: the vendor's needs, the district's export, each element's state.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct DataSection {
    pub status: DataStatus,
    /// One paragraph saying where the data part stands.
    pub summary: String,
    /// How the vendor receives rosters, in words (`OneRoster CSV`).
    pub method: String,
    /// OneRoster versions the vendor accepts.
    pub versions: Vec<String>,
    pub delivery: Option<String>,
    pub schedule: Option<String>,
    pub endpoint: Option<String>,
    pub contact: Option<String>,
    /// The vendor's rostering specification.
    pub sources: Vec<String>,
    pub note: Option<String>,
    /// Files the vendor requires even when empty.
    pub header_only: Vec<String>,
    /// The SIS summary judged against.
    pub export: Option<ExportRef>,
    /// Each element the vendor needs, in profile order.
    pub elements: Vec<ElementRow>,
    /// Filled columns of student data the export would send that the vendor does not need.
    pub minimisation: Vec<ExcessColumn>,
    /// The export's format problems, in words.
    pub findings: Vec<String>,
    /// Sensitive Exhibit B categories among what the vendor receives.
    pub sensitive_categories: Vec<String>,
    /// Whether the proposal records the vendor's signed Exhibit B.
    pub dpa_recorded: bool,
    /// The transfer path from the machines that send the files, where the vendor names an
    /// endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<TransferCheck>,
}

/// The transfer endpoint as the sending machines reached it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TransferCheck {
    /// The vendor's endpoint (`sftp://…`, `https://…`).
    pub endpoint: String,
    /// The group label of the machines that send the files, as the evaluation names it.
    pub group: Option<String>,
    /// The worst over the machines that checked; unknown when none did.
    pub status: Status,
    /// In words.
    pub observed: String,
    /// Each sending machine's check.
    pub machines: Vec<TransferRow>,
}

/// One sending machine's check of the transfer endpoint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TransferRow {
    pub site: String,
    pub agent_id: String,
    pub report_id: String,
    pub status: Status,
    pub observed: String,
}

/// The SIS summary a data section was judged against.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExportRef {
    /// The summary's id, as the controller keeps it.
    pub summary_id: String,
    pub generated_at: String,
    pub source_system: String,
    pub oneroster_version: Option<String>,
    pub delivery: Option<String>,
    pub files: u32,
    /// Users per role.
    pub users_by_role: BTreeMap<String, u64>,
}

/// One element's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ElementStatus {
    Met,
    Partly,
    Missing,
    /// The vendor's own format has no column for it.
    NotCarried,
    NotAssessed,
}

impl ElementStatus {
    /// The word people read.
    pub fn words(self) -> &'static str {
        match self {
            ElementStatus::Met => "met",
            ElementStatus::Partly => "partly",
            ElementStatus::Missing => "missing",
            ElementStatus::NotCarried => "not carried",
            ElementStatus::NotAssessed => "not assessed",
        }
    }
}

/// One element the vendor needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ElementRow {
    /// `data.elements[i]`.
    pub requirement: RequirementId,
    /// The OneRoster column, `users.givenName`.
    pub source: String,
    pub file: String,
    pub column: String,
    /// The vendor's own name for it.
    pub name: Option<String>,
    pub required: bool,
    /// Roles that need it; empty: every row.
    pub roles: Vec<String>,
    pub purpose: Option<String>,
    /// Its Exhibit B element and category, as printed there.
    pub exhibit_b: Option<String>,
    pub exhibit_b_id: Option<String>,
    pub category: Option<String>,
    /// A category (or the app-password element) the data privacy officer reviews first.
    pub sensitive: bool,
    pub status: ElementStatus,
    /// How full the column is, per role that needs it.
    pub fill: Vec<RoleFill>,
    /// The state in words.
    pub observed: String,
    /// Whether the signed Exhibit B covers it; none when no agreement is recorded.
    pub dpa_covered: Option<bool>,
    /// The header as the export spells it, where that is a misspelling.
    pub header_misspelt: Option<String>,
}

/// Rows of one role with a value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RoleFill {
    /// The role; none for a file whose rows are not about users.
    pub role: Option<String>,
    pub filled: u64,
    pub of: u64,
}

/// A filled column of student data the vendor does not need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ExcessColumn {
    pub file: String,
    pub column: String,
    /// Rows with a value.
    pub filled: u64,
    pub exhibit_b: String,
    pub category: String,
    pub sensitive: bool,
    /// The vendor wants the file with its header only.
    pub header_only: bool,
    /// Whether the signed Exhibit B covers it; none when no agreement is recorded.
    pub dpa_covered: Option<bool>,
}

/// Facts of the committee's proposal form, recorded with the evaluation.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Proposal {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vendor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sponsor: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    /// Data the product needs (`nightly roster upload of student names and ids`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub data_needs: Vec<String>,
    /// The vendor's signed NDPA Exhibit B: the element ids (`demographics.date_of_birth`) and
    /// whole categories (`student_identifiers`) it ticked. Absent: no agreement recorded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dpa_exhibit_b: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub budget_code: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}
