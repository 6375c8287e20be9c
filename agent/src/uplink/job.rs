//! One assignment run in a child process (`fitcheck-agent run-assignment`, not for people).
//!
//! The daemon hands the child a [`Job`] on standard input and reads a [`JobOutcome`] from its
//! standard output. Everything the checks load (resolver, trust stores, the check code itself)
//! lives and dies with the child, so the idle daemon stays small; a check that hangs or crashes
//! cannot take the daemon with it; and a stop signal ends the child outright. The credential is
//! not in the job: the child reads it from the enrollment file, as the daemon does.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use fitcheck_core::report::Report;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use super::client::{Controller, Timeouts};
use super::daemon::load_enrollment;
use crate::checks::throughput::{Caps, HARD_CAPS};
use crate::facts::FactSources;
use crate::run::{ProfileSource, RunConfig, RunError, run};
use crate::runner::RunOptions;

/// The largest job or outcome read from a pipe.
pub const MAX_MESSAGE_BYTES: u64 = 64 << 20;

/// What the child runs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Job {
    pub evaluation_id: Uuid,
    pub state_dir: PathBuf,
    /// The profile's text, as the controller sent it.
    pub profile_toml: String,
    /// Measure throughput against the controller's endpoint rather than the profile's URLs.
    pub controller_endpoint: bool,
    /// Not before this moment, RFC 3339 (the site's coordinated start).
    pub bandwidth_start_at: Option<String>,
    /// Longest one throughput direction may run (lowered to the hard caps).
    pub bandwidth_seconds: f64,
    pub concurrency: usize,
    pub check_timeout_s: u64,
    pub signatures: Vec<PathBuf>,
    pub signatures_dir: PathBuf,
    pub public_roots: Vec<PathBuf>,
    pub control_resolver: Option<IpAddr>,
    pub facts_root: PathBuf,
    pub use_nvml: bool,
    /// This machine sends the roster files: it checks the transfer endpoint alone.
    #[serde(default)]
    pub data_sender: bool,
}

/// What the child answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobOutcome {
    /// The run finished; its report.
    Report(Box<Report>),
    /// The profile has errors; it never ran.
    Refused(String),
    /// The run could not be attempted (no resolver configuration, no trust store, …).
    Failed(String),
}

/// An RFC 3339 moment.
pub fn parse_moment(text: &str) -> Result<SystemTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map(SystemTime::from)
        .map_err(|e| e.to_string())
}

/// The profile's name in error messages.
pub fn profile_name(evaluation_id: Uuid) -> String {
    format!("evaluation-{evaluation_id}.toml")
}

/// Runs a job (in the child).
pub async fn run_job(job: Job) -> JobOutcome {
    let enrollment = match load_enrollment(&job.state_dir) {
        Ok(e) => e,
        Err(e) => return JobOutcome::Failed(e.to_string()),
    };
    let controller = match Controller::from_enrollment(&enrollment, Timeouts::default()) {
        Ok(c) => c,
        Err(e) => return JobOutcome::Failed(e.to_string()),
    };
    let start_at = job
        .bandwidth_start_at
        .as_deref()
        .and_then(|t| parse_moment(t).ok());
    let cfg = RunConfig {
        profile: ProfileSource::Text {
            name: profile_name(job.evaluation_id),
            text: job.profile_toml,
        },
        json_out: None,
        labels: enrollment.labels.clone(),
        state_dir: job.state_dir,
        signatures: job.signatures,
        signatures_dir: job.signatures_dir,
        public_roots: job.public_roots,
        control_resolver: job.control_resolver,
        bandwidth_server: job
            .controller_endpoint
            .then(|| controller.api_base().clone()),
        bandwidth_access: if job.controller_endpoint {
            controller.bandwidth_access()
        } else {
            None
        },
        bandwidth_start_at: start_at,
        // Whatever the controller asks is lowered to the agent's own hard caps.
        bandwidth_caps: Caps::clamp(Caps {
            max_seconds: job.bandwidth_seconds,
            ..HARD_CAPS
        }),
        options: RunOptions {
            concurrency: job.concurrency.clamp(1, 64),
            check_timeout: Duration::from_secs(job.check_timeout_s.clamp(1, 300)),
            progress: false,
        },
        facts: FactSources {
            root: job.facts_root,
            use_nvml: job.use_nvml,
        },
        data_sender: job.data_sender,
    };
    match run(cfg).await {
        Ok(outcome) => JobOutcome::Report(Box::new(outcome.report)),
        Err(RunError::Profile(e)) => JobOutcome::Refused(e.to_string()),
        Err(e) => JobOutcome::Failed(e.to_string()),
    }
}
