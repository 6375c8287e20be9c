//! The people's API (`/api/v1`): requests and answers for administrators and reviewers.
//! The agents' API types are in `fitcheck_core::api`, shared with the agent.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// `POST /api/v1/login`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Login {
    pub username: String,
    pub password: String,
}

/// Who is logged in.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Me {
    pub username: String,
    /// `admin` or `reviewer`.
    pub role: String,
    /// True while the password is one-time: nothing but `POST /api/v1/me/password` (and
    /// `/me`, log-out) is answered until the person chose their own.
    #[serde(default)]
    pub password_change_required: bool,
}

/// `POST /api/v1/me/password`: a person chooses their own password.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    /// The password in force (the one-time one, at first log-in).
    pub current: String,
    /// At least 12 characters, not the current one.
    pub new: String,
}

/// `POST /api/v1/users/{username}/role`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// `admin` or `reviewer`.
    pub role: String,
}

/// `POST /api/v1/users`: a new person; the answer carries a one-time password.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUser {
    pub username: String,
    /// `admin` (technology operations) or `reviewer` (committee: reads recommendations).
    pub role: String,
}

/// A new person's one-time credential.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct UserCreated {
    pub username: String,
    pub role: String,
    /// Shown once; the controller keeps only its Argon2id hash.
    pub password: String,
}

/// `POST /api/v1/enrollment-secrets`.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewSecret {
    /// What the secret is for (`spring lab rollout`).
    pub name: String,
    /// Valid until, RFC 3339; absent: until revoked.
    #[serde(default)]
    pub expires_at: Option<String>,
}

/// An enrollment secret as listed (the secret itself is shown only when created).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SecretInfo {
    pub id: String,
    pub name: String,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// Shown once, in the answer to its creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

/// An enrolled agent.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AgentSummary {
    pub agent_id: String,
    pub labels: BTreeMap<String, String>,
    pub version: String,
    pub enrolled_at: String,
    pub last_seen_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// A kept SIS summary, as a list shows it.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct SisSummaryInfo {
    /// The summary's id.
    pub id: String,
    pub received_at: String,
    /// When the inspector read the export.
    pub generated_at: String,
    /// The SIS that wrote the export.
    pub source_system: String,
    pub oneroster_version: Option<String>,
    /// `agent:<id>` or `user:<name>`.
    pub uploaded_by: String,
    pub files: u32,
    /// Users in the export.
    pub users: u64,
    pub findings: u32,
}

/// A stored profile.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ProfileInfo {
    /// The controller's id for this exact file.
    pub id: String,
    /// The profile's own id (`zoom`).
    pub profile_id: String,
    pub name: String,
    pub vendor: String,
    /// `sha256:…` of the file.
    pub digest: String,
    pub file_name: String,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

/// `POST /api/v1/evaluations`: a profile × sites/groups × planned users × time window.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewEvaluation {
    /// A title for people (`Zoom for grade 6–8 math, spring`).
    pub title: String,
    /// The stored profile's id (from `POST /api/v1/profiles`).
    pub profile: String,
    /// Sites in scope (agents' `site` label); empty: every site.
    #[serde(default)]
    pub sites: Vec<String>,
    /// Device groups in scope (agents' `group` label); empty: every group.
    #[serde(default)]
    pub groups: Vec<String>,
    /// Planned concurrent users per site.
    #[serde(default)]
    pub concurrent_users: BTreeMap<String, u32>,
    /// When agents may start, RFC 3339; absent: now.
    #[serde(default)]
    pub window_start: Option<String>,
    /// When the evaluation closes, RFC 3339.
    pub window_end: String,
    /// Throughput measurement; absent: none beyond what the profile asks.
    #[serde(default)]
    pub bandwidth: Option<BandwidthPlan>,
    /// What the committee's proposal form asks, where known.
    #[serde(default)]
    pub proposal: Proposal,
    /// Devices a site needs to have reported before it can be judged.
    #[serde(default = "two")]
    pub min_devices_per_site: u32,
    /// The group label of the machines that send the roster files (the SIS server's agent):
    /// they check the profile's transfer endpoint alone, and are never counted as devices.
    #[serde(default)]
    pub data_senders: Option<String>,
    /// Device models whose OS updates have ended, each with the last release it receives
    /// (`{"Acme Chromebook 3": "118"}`), as the district's inventory says (the Google Admin
    /// console's auto-update expiration, a maker's end-of-support list): a model that cannot
    /// reach an OS version the product needs is to be replaced, not updated.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub os_updates_end: BTreeMap<String, String>,
}

fn two() -> u32 {
    2
}

impl NewEvaluation {
    /// What the recommendation engine reads of the evaluation.
    pub fn plan(&self) -> fitcheck_engine::Plan {
        fitcheck_engine::Plan {
            sites: self.sites.clone(),
            concurrent_users: self.concurrent_users.clone(),
            min_devices_per_site: self.min_devices_per_site,
            coordinated: self
                .bandwidth
                .as_ref()
                .is_some_and(|b| b.start_at.is_some() || !b.site_start_at.is_empty()),
            window_start: self.window_start.clone(),
            window_end: self.window_end.clone(),
            proposal: self.proposal.clone(),
            data_senders: self.data_senders.clone(),
            os_updates_end: self.os_updates_end.clone(),
        }
    }
}

/// How throughput is measured.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BandwidthPlan {
    /// One moment for every agent (RFC 3339): a coordinated run, so each site's aggregate
    /// throughput is measured, not guessed.
    #[serde(default)]
    pub start_at: Option<String>,
    /// A moment per site, where sites should not all measure at once.
    #[serde(default)]
    pub site_start_at: BTreeMap<String, String>,
    /// Measure against the controller's own endpoint rather than the profile's URLs.
    #[serde(default = "yes")]
    pub controller_endpoint: bool,
    /// Longest one direction may run, seconds (the agent caps it at 15).
    #[serde(default = "ten")]
    pub max_seconds: f64,
}

fn yes() -> bool {
    true
}
fn ten() -> f64 {
    10.0
}

/// Facts of the committee's proposal form, recorded with the evaluation (the engine's type:
/// the recommendation carries it).
pub use fitcheck_engine::Proposal;

/// An evaluation with its progress.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct EvaluationInfo {
    pub id: String,
    pub title: String,
    pub profile: ProfileInfo,
    pub spec: NewEvaluation,
    pub created_by: String,
    pub created_at: String,
    /// Whether agents can pick it up now.
    pub open: bool,
    /// Reports received per site (`(no site)` for agents without one).
    pub reports_by_site: BTreeMap<String, u64>,
    /// Agents in scope per site, enrolled and not revoked.
    pub agents_by_site: BTreeMap<String, u64>,
    /// The committee's decision so far.
    pub decision: Decision,
}

/// One of the three parties whose approval a product needs.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Party {
    Business,
    Curriculum,
    Technology,
}

impl Party {
    /// Every party, in the order the committee reads them.
    pub const ALL: [Party; 3] = [Party::Business, Party::Curriculum, Party::Technology];

    /// The word stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            Party::Business => "business",
            Party::Curriculum => "curriculum",
            Party::Technology => "technology",
        }
    }

    /// The word stored, read back.
    pub fn parse(text: &str) -> Option<Party> {
        Party::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// The party as the committee names it.
    pub fn words(self) -> &'static str {
        match self {
            Party::Business => "Business",
            Party::Curriculum => "Curriculum",
            Party::Technology => "Technology",
        }
    }
}

/// What a party decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ApprovalOutcome {
    Approved,
    ApprovedWithConditions,
    Declined,
}

impl ApprovalOutcome {
    /// The word stored and sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ApprovalOutcome::Approved => "approved",
            ApprovalOutcome::ApprovedWithConditions => "approved_with_conditions",
            ApprovalOutcome::Declined => "declined",
        }
    }

    /// The word stored, read back.
    pub fn parse(text: &str) -> Option<ApprovalOutcome> {
        [
            ApprovalOutcome::Approved,
            ApprovalOutcome::ApprovedWithConditions,
            ApprovalOutcome::Declined,
        ]
        .into_iter()
        .find(|o| o.as_str() == text)
    }

    /// In the committee's words.
    pub fn words(self) -> &'static str {
        match self {
            ApprovalOutcome::Approved => "approved",
            ApprovalOutcome::ApprovedWithConditions => "approved with conditions",
            ApprovalOutcome::Declined => "declined",
        }
    }

    /// Whether it lets the product go ahead.
    pub fn approves(self) -> bool {
        self != ApprovalOutcome::Declined
    }
}

/// `POST /api/v1/evaluations/{id}/approvals`: one party's decision.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewApproval {
    pub party: Party,
    pub outcome: ApprovalOutcome,
    /// Why, and for an approval with conditions, which ones (at most 2,000 characters).
    #[serde(default)]
    pub note: String,
}

/// The recommendation an approval was based on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct RecommendationRef {
    /// `compatible`, `compatible_with_conditions`, …
    pub verdict: String,
    pub generated_at: String,
    /// `sha256:…` of the recommendation as JSON.
    pub digest: String,
}

/// One recorded approval.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ApprovalInfo {
    pub party: Party,
    pub outcome: ApprovalOutcome,
    pub note: String,
    pub decided_by: String,
    pub decided_at: String,
    /// For Technology: the recommendation it was based on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<RecommendationRef>,
}

/// The committee's decision on an evaluation.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
pub struct Decision {
    /// Each party's standing decision (the latest it recorded), in party order.
    pub approvals: Vec<ApprovalInfo>,
    /// Every decision recorded, oldest first.
    pub history: Vec<ApprovalInfo>,
    /// Whether all three parties approve (with or without conditions): the product is
    /// approved and can be watched.
    pub approved: bool,
}

/// `POST /api/v1/users/{username}/approvals`: which parties' approvals a person may record.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApproverChange {
    pub parties: Vec<Party>,
}

/// A stored report's index entry.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ReportInfo {
    pub report_id: String,
    pub agent_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evaluation_id: Option<String>,
    pub profile_digest: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub site: Option<String>,
    pub started_at: String,
    pub received_at: String,
}

/// `GET /api/v1/server`: what an administrator compares at enrollment.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ServerInfo {
    pub version: String,
    /// `sha256:…` of the controller's certificate.
    pub certificate_sha256: String,
    /// The same, as `openssl x509 -fingerprint -sha256` prints it.
    pub certificate_sha256_colons: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// The address people and devices reach the controller at through a reverse proxy
    /// (`serve --public-url`): what agents enroll with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

/// `POST /api/v1/evaluations/{id}/watch`: watch an approved product.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWatch {
    /// A cron expression in `zone`: `*/30 7-15 * * MON-FRI` is every 30 minutes from 07:00 to
    /// 15:30 on school days.
    pub schedule: String,
    /// The district's IANA time zone (`America/Chicago`).
    pub zone: String,
    /// Maintenance windows, `START/END` in local time (`2026-12-21 00:00/2027-01-04 06:00`):
    /// rounds then are recorded, never alerted on.
    #[serde(default)]
    pub maintenance: Vec<String>,
    /// Failing agents at a site that make a round count (default 2).
    #[serde(default)]
    pub min_agents: Option<u32>,
    /// Or the share of the site's reporting agents, 0 to 1 (default 0.2).
    #[serde(default)]
    pub min_share: Option<f64>,
    /// Rounds in a row that open an alert (default 2), and that resolve one (default 2).
    #[serde(default)]
    pub open_after: Option<u32>,
    #[serde(default)]
    pub resolve_after: Option<u32>,
    /// Measure throughput again each round (default no).
    #[serde(default)]
    pub bandwidth: bool,
    /// How long a round waits for its agents to report, seconds (default 600).
    #[serde(default)]
    pub collect_s: Option<u32>,
}

/// A watch and how it stands.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WatchInfo {
    pub evaluation_id: String,
    pub title: String,
    pub product: String,
    pub schedule: String,
    pub zone: String,
    pub maintenance: Vec<String>,
    pub next_round_at: String,
    /// Sites × requirements watched (what passed at approval).
    pub watched: usize,
    pub open_alerts: usize,
    /// The latest decided round, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_round: Option<RoundInfo>,
}

/// One decided round.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct RoundInfo {
    pub started_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    pub maintenance: bool,
    /// Each watched site and requirement's standing: `green`, `watching`, `regressed` or
    /// `silent`.
    pub standings: Vec<Standing>,
}

/// One site and requirement in a round.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct Standing {
    pub site: String,
    pub requirement: String,
    pub standing: String,
}

/// An alert.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct AlertInfo {
    pub id: String,
    pub site: String,
    pub requirement: String,
    pub opened_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved_at: Option<String>,
    pub summary: String,
    pub owner: String,
}

/// `GET /api/v1/evaluations/{id}/watch`: the watch, its recent rounds and its alerts.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct WatchDetail {
    pub watch: WatchInfo,
    pub rounds: Vec<RoundInfo>,
    pub alerts: Vec<AlertInfo>,
}

/// `POST /api/v1/channels`: where alerts go.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewChannel {
    pub name: String,
    /// `webhook` (JSON signed with HMAC-SHA256 in `X-Fitcheck-Signature`), `slack` or `teams`
    /// (their incoming webhooks' shapes), or `smtp` (e-mail).
    pub kind: String,
    /// The webhook's URL (`https://…`, or `http://` on a district network).
    #[serde(default)]
    pub url: Option<String>,
    /// For `smtp`: the server and addresses.
    #[serde(default)]
    pub smtp: Option<SmtpTarget>,
    /// The HMAC key a generic webhook's messages are signed with, or the SMTP password.
    #[serde(default)]
    pub secret: Option<String>,
    /// Allow an address on loopback, link-local or cloud-metadata ranges (refused otherwise).
    #[serde(default)]
    pub allow_private: bool,
}

/// A channel, without its secret.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
pub struct ChannelInfo {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub url: String,
    pub signed: bool,
    pub allow_private: bool,
    /// Messages waiting to be delivered, and the last delivery error, if any.
    pub pending: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// An SMTP channel's server and addresses (the password is the channel's secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SmtpTarget {
    pub host: String,
    /// Default: 587 for `starttls`, 465 for `tls`, 25 for `none`.
    #[serde(default)]
    pub port: Option<u16>,
    /// `starttls` (default), `tls` (from the first byte) or `none` (a relay on the district's
    /// own network; never with a password).
    #[serde(default = "starttls")]
    pub security: String,
    /// The user to authenticate as.
    #[serde(default)]
    pub username: Option<String>,
    pub from: String,
    pub to: Vec<String>,
    /// The certificate (PEM) of the certificate authority that signed the mail server's
    /// certificate, when it is the district's own; publicly trusted authorities are trusted
    /// either way.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ca_pem: Option<String>,
}

fn starttls() -> String {
    "starttls".to_owned()
}
