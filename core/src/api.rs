//! The controller's agent API (`/api/agent/v1`): the requests and answers agents and the
//! controller exchange, besides the report itself. Versioned with the path; a change to a field
//! here is a new path version.
//!
//! Flow: an agent enrolls once with a district enrollment secret and gets its own credential
//! (`Authorization: Bearer <credential>` on every later request); it polls for assignments,
//! runs each assigned evaluation's profile, and posts the report to
//! `/api/agent/v1/reports?evaluation=<id>`.

/// The most an agent ever asks of a bandwidth endpoint, whatever a profile, a controller or a
/// flag says. The agent holds itself to these; a controller refuses anything beyond them, so an
/// enrolled agent's credential cannot be used to make it stream without end.
pub mod bandwidth_caps {
    /// One measurement (one direction): seconds.
    pub const TEST_SECONDS: f64 = 15.0;
    /// One measurement (one direction): bytes. An upload stream may send up to this in one
    /// request.
    pub const TEST_BYTES: u64 = 2 << 30;
    /// Bytes a day, both directions.
    pub const BYTES_PER_DAY: u64 = 20 << 30;
    /// One download request: bytes (a stream asks again for more, so it can stop promptly).
    pub const DOWNLOAD_REQUEST_BYTES: u64 = 256 << 20;
}

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// `POST /api/agent/v1/enroll`: exchange an enrollment secret for a credential.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollRequest {
    /// A district enrollment secret an administrator created.
    pub secret: String,
    /// The agent's own random id (kept in its state directory); reports carry it.
    pub agent_id: Uuid,
    /// District-chosen labels; `site` and `group` decide which evaluations reach the agent.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// fitcheck-agent version.
    pub version: String,
    /// What kind of agent enrolls; absent: the native agent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<AgentKind>,
}

/// The kinds of agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentKind {
    /// `fitcheck-agent` on a lab machine: the network and the device as the OS sees them.
    #[default]
    Native,
    /// The browser extension: what a student's browser session sees, its extension filters
    /// and policies included.
    Browser,
}

impl AgentKind {
    /// The word the API and reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            AgentKind::Native => "native",
            AgentKind::Browser => "browser",
        }
    }
}

/// The answer to a successful enrollment.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollResponse {
    /// The id the controller knows the agent by (the one it sent).
    pub agent_id: Uuid,
    /// The agent's credential: sent as `Authorization: Bearer …`; the controller keeps only
    /// its hash, so it is shown this once.
    pub credential: String,
    /// How often to poll for assignments, seconds (the agent adds jitter).
    pub poll_interval_s: u32,
}

/// `GET /api/agent/v1/assignments`: the evaluations this agent should run now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignments {
    /// Evaluations in scope for this agent, open now, that it has not reported on yet.
    pub assignments: Vec<Assignment>,
    /// How often to poll, seconds (the agent adds jitter).
    pub poll_interval_s: u32,
}

/// One evaluation for one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    /// The evaluation; the report is posted with it.
    pub evaluation_id: Uuid,
    /// The profile file's text (TOML), validated by the controller; the agent validates it
    /// again and runs nothing if it has an error.
    pub profile_toml: String,
    /// The same profile as JSON (the serde form of the parsed profile), for agents that do not
    /// read TOML (the browser agent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profile: Option<serde_json::Value>,
    /// For agents that do not plan themselves (the browser agent): the checks the profile asks
    /// for, planned by [`crate::plan::plan`], which the native agent runs too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub plan: Vec<crate::plan::PlannedCheck>,
    /// `sha256:…` of `profile_toml`.
    pub profile_digest: String,
    /// When the evaluation closes, RFC 3339 UTC; a report made after it is still accepted.
    pub window_end: String,
    /// A coordinated bandwidth run: every agent of the site measures at the same moment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth: Option<BandwidthAssignment>,
    /// For browser agents: the block hosts, block-page addresses and filter extensions of the
    /// signature catalog, to name what a tab landed on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub block_signatures: Vec<BlockSignature>,
    /// This agent is on a machine that sends the district's roster files (the evaluation's
    /// data senders): it checks the vendor's transfer endpoint alone.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub data_sender: bool,
    /// A round of a watched (approved) product: the evaluation runs again, once per round.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<Uuid>,
}

/// `POST /api/agent/v1/extensions`: the extensions a browser agent's browser has installed,
/// sent with a poll when they changed, so that a filter extension's update starts a round of
/// the watched products at once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExtensionsSeen {
    pub extensions: Vec<SeenExtension>,
}

/// One installed extension, as the browser lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeenExtension {
    /// Its id (32 letters a–p).
    pub id: String,
    pub name: String,
    pub version: String,
    pub enabled: bool,
}

/// A filter's block host, block-page addresses or extension ids, as a browser agent matches a
/// tab's landing against them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BlockSignature {
    pub id: String,
    pub vendor: String,
    /// Host names, `*.` for any subdomain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// Host and path prefix, without the scheme.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// Extension ids.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension_ids: Vec<String>,
    /// Addresses or CIDR blocks a DNS filter answers for blocked names: a tab whose page came
    /// from one was sent to the DNS filter's block server.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
}

/// When and against what an agent measures throughput.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BandwidthAssignment {
    /// Start at this moment, RFC 3339 UTC (all agents of the site share it); absent: right
    /// after the other checks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    /// Measure against the controller's own endpoint (`/api/agent/v1/bandwidth/…`), rather
    /// than the profile's download_url / upload_url.
    pub controller_endpoint: bool,
    /// Longest one direction may run, seconds; the agent lowers it to its own hard cap.
    pub max_seconds: f64,
}

/// `POST /api/agent/v1/reports`: what happened to a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Ingested {
    /// Durably stored now (HTTP 201).
    Stored,
    /// Stored before, by an earlier delivery of the same `report_id` (HTTP 200).
    Duplicate,
}

/// The answer to a report delivery.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestResponse {
    /// The report's id.
    pub report_id: Uuid,
    /// Stored now or before.
    pub result: Ingested,
}

/// The answer to an SIS summary delivery (`POST /api/agent/v1/sis-summaries`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SisIngestResponse {
    /// The summary's id.
    pub summary_id: Uuid,
    /// Stored now or before.
    pub result: Ingested,
}

/// Every error the controller answers with (4xx and 5xx), as JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ApiError {
    /// A stable machine-readable word (`unauthorized`, `invalid_report`, `rate_limited`, …).
    pub error: String,
    /// What went wrong and what to do, for a person.
    pub message: String,
    /// The field at fault, as a path (`results[3].outcome`), where one is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every problem, where there are several (a profile's errors, one per line).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub details: Vec<ErrorDetail>,
}

/// One located problem.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ErrorDetail {
    /// Line in the uploaded file, 1-based, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
    /// Column, 1-based, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<u32>,
    /// Key or field path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
    /// The full message, as the command line prints it.
    pub message: String,
}
