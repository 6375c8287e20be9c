//! `fitcheck-agent run`: one profile on this device, start to finish.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use fitcheck_core::evaluate::{Evaluation, Verdict, device_results, evaluate};
use fitcheck_core::profile::{Profile, ProfileErrors};
use fitcheck_core::report::{
    AgentInfo, CheckResult, DeviceFacts, ProfileRef, REPORT_SCHEMA, Report,
};
use fitcheck_core::signatures::Catalog;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use uuid::Uuid;

use crate::checks::{Check, Ctx};
use crate::facts::browser_policy::ManagedUrlPolicy;
use crate::facts::{self, FactSources};
use crate::identity;
use crate::plan::{plan, plan_bandwidth, plan_transfer};
use crate::resolve::{ResolverConfigError, SystemResolver};
use crate::runner::{self, Progress, RunOptions};
use crate::signatures::{self, SignaturesError};
use crate::tls::{TlsSetup, TlsSetupError};

/// Filters that live in the browser see what network probes cannot; a report says so rather
/// than imply a product is unblocked for students.
pub const BROWSER_FILTER_NOTE: &str = "Web filters that run inside a managed browser (extensions such as those of GoGuardian, Securly or Lightspeed on Chromebooks) are invisible to network checks; confirm in a student's browser session too.";

/// Why a run could not happen at all (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("cannot read profile {path}: {source}")]
    ReadProfile {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}\nthe profile has errors; nothing was run")]
    Profile(#[from] ProfileErrors),
    #[error(transparent)]
    Resolver(#[from] ResolverConfigError),
    #[error(transparent)]
    Tls(#[from] TlsSetupError),
    #[error(transparent)]
    Signatures(#[from] SignaturesError),
    #[error("device facts could not be collected: {0}")]
    Facts(String),
    #[error("{0}")]
    Runtime(String),
    #[error(
        "{0} names no transfer endpoint ([data] endpoint); a machine that sends the roster files has nothing to check"
    )]
    NoEndpoint(String),
    #[error("cannot write the report to {path}: {source}")]
    WriteReport {
        path: String,
        source: std::io::Error,
    },
}

/// Where a profile comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileSource {
    /// A file (`run --profile`).
    File(PathBuf),
    /// Text handed over by a controller; `name` stands for the file in error messages.
    Text { name: String, text: String },
}

/// What to run and how.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub profile: ProfileSource,
    pub json_out: Option<PathBuf>,
    pub labels: std::collections::BTreeMap<String, String>,
    pub state_dir: PathBuf,
    /// Extra filter-signature files, after the bundled catalog and the district directory.
    pub signatures: Vec<PathBuf>,
    /// The directory of district signature files.
    pub signatures_dir: PathBuf,
    /// PEM files of CAs that count as public (a lab's CA, a district's own PKI).
    pub public_roots: Vec<PathBuf>,
    /// A resolver outside the district's filtering, to compare answers with.
    pub control_resolver: Option<std::net::IpAddr>,
    /// A fitcheck bandwidth endpoint to measure throughput against.
    pub bandwidth_server: Option<reqwest::Url>,
    /// How to reach `bandwidth_server` when it is the controller's (pinned TLS, credential).
    pub bandwidth_access: Option<Arc<crate::checks::bandwidth::EndpointAccess>>,
    /// Measure throughput no earlier than this: the moment every agent of a site shares.
    pub bandwidth_start_at: Option<std::time::SystemTime>,
    /// Limits on throughput measurement (lowered to the hard caps where higher).
    pub bandwidth_caps: crate::checks::throughput::Caps,
    pub options: RunOptions,
    pub facts: FactSources,
    /// This machine sends the district's roster files: it checks the vendor's transfer
    /// endpoint alone, not the profile's network and device requirements.
    pub data_sender: bool,
}

/// A finished run.
#[derive(Debug)]
pub struct RunOutcome {
    pub report: Report,
    pub evaluation: Evaluation,
    /// Things the user should know that are not requirements (identity not kept, …).
    pub notices: Vec<String>,
}

impl RunOutcome {
    /// 0 compatible (with or without warnings), 1 not compatible, 3 insufficient evidence.
    pub fn exit_code(&self) -> i32 {
        match self.evaluation.verdict {
            Verdict::Compatible | Verdict::CompatibleWithWarnings => 0,
            Verdict::NotCompatible => 1,
            Verdict::InsufficientEvidence => 3,
        }
    }
}

/// Reads and validates a profile file; every error is located.
pub fn load_profile(path: &Path) -> Result<(Profile, String), RunError> {
    let bytes = std::fs::read(path).map_err(|source| RunError::ReadProfile {
        path: path.display().to_string(),
        source,
    })?;
    let text = String::from_utf8_lossy(&bytes);
    let profile = Profile::parse(&path.display().to_string(), &text)?;
    Ok((profile, fitcheck_core::digest(&bytes)))
}

/// Validates a profile from wherever it comes; returns it with the digest of its text.
pub fn load_profile_from(source: &ProfileSource) -> Result<(Profile, String), RunError> {
    match source {
        ProfileSource::File(path) => load_profile(path),
        ProfileSource::Text { name, text } => Ok((
            Profile::parse(name, text)?,
            fitcheck_core::digest(text.as_bytes()),
        )),
    }
}

/// The longest wait for a coordinated bandwidth start; a start further off is not waited for
/// here (the daemon defers such an assignment until its start is near).
pub const MAX_START_WAIT: std::time::Duration = std::time::Duration::from_secs(15 * 60);

fn now() -> String {
    OffsetDateTime::now_utc()
        .format(&Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// Writes `bytes` to `path` atomically and durably: a half-written report never replaces a
/// whole one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    crate::files::write_atomic(path, bytes, 0o644, false)
}

/// Runs the profile's checks and device comparison, and writes the report if asked.
pub async fn run(cfg: RunConfig) -> Result<RunOutcome, RunError> {
    let (profile, digest) = load_profile_from(&cfg.profile)?;
    let ctx = CtxParts::load(&cfg)?;
    let mut notices = Vec::new();
    let (agent_id, id_notice) = identity::agent_id(&cfg.state_dir);
    notices.extend(id_notice);

    let started_at = now();
    let checks = planned_checks(&profile, cfg.data_sender)?;
    let progress = Arc::new(Progress::new(checks.len(), cfg.options.progress));
    progress.note("collecting device facts");
    let facts_task = spawn_facts(&cfg, &profile);
    let ctx = Arc::new(Ctx::new(ctx.resolver, ctx.tls, ctx.catalog));
    let mut results = runner::run_all(checks, ctx.clone(), &cfg.options, progress.clone()).await;
    results.extend(measure_bandwidth(&cfg, &profile, ctx, &progress).await);
    let (device, policies) = facts_task
        .await
        .map_err(|e| RunError::Facts(e.to_string()))?;
    mark_browser_policy(&mut results, &policies);
    progress.clear();
    let evaluation = if cfg.data_sender {
        fitcheck_core::transfer::evaluate(&profile, &results)
    } else {
        results.extend(device_results(&profile, &device));
        evaluate(&profile, &device, &results)
    };
    let mut notes = Vec::new();
    if !profile.http.is_empty() && !cfg.data_sender {
        notes.push(BROWSER_FILTER_NOTE.to_owned());
    }
    notices.extend(notes.iter().cloned());
    let report = Report {
        schema: REPORT_SCHEMA.to_owned(),
        // Time-ordered (v7): a controller's index of reports then grows at its end.
        report_id: Uuid::now_v7(),
        agent: AgentInfo {
            agent_id,
            version: env!("CARGO_PKG_VERSION").to_owned(),
            labels: cfg.labels.clone(),
            // Absent means the native agent.
            kind: None,
        },
        profile: ProfileRef {
            id: profile.id.clone(),
            name: profile.name.clone(),
            vendor: profile.vendor.clone(),
            digest,
        },
        started_at,
        finished_at: now(),
        device,
        results,
        notes,
        evaluation: Some(evaluation.clone()),
    };
    if let Some(out) = &cfg.json_out {
        write_report(out, &report)?;
    }
    Ok(RunOutcome {
        report,
        evaluation,
        notices,
    })
}

/// What the checks' context is made of, loaded before anything runs so that a bad setting
/// stops the run at once.
struct CtxParts {
    catalog: Arc<Catalog>,
    tls: TlsSetup,
    resolver: SystemResolver,
}

impl CtxParts {
    /// Loads the filter signatures, the TLS roots and the system resolver (with the control
    /// resolver, when one is set).
    fn load(cfg: &RunConfig) -> Result<CtxParts, RunError> {
        let catalog = Arc::new(signatures::load(&cfg.signatures_dir, &cfg.signatures)?);
        let tls = TlsSetup::from_system(&cfg.public_roots)?;
        let mut resolver = SystemResolver::from_system(catalog.clone())?;
        if let Some(control) = cfg.control_resolver {
            resolver = resolver.with_control(control, tls.clone())?;
        }
        Ok(CtxParts {
            catalog,
            tls,
            resolver,
        })
    }
}

/// The checks to run: the transfer endpoint's alone on a data sender (an error when the
/// profile names none), else the profile's.
fn planned_checks(profile: &Profile, data_sender: bool) -> Result<Vec<Check>, RunError> {
    let checks = if data_sender {
        let checks = plan_transfer(profile);
        if checks.is_empty() {
            return Err(RunError::NoEndpoint(profile.id.clone()));
        }
        checks
    } else {
        plan(profile)
    };
    Ok(checks)
}

/// Starts collecting the device's facts (and its browsers' URL policies) beside the checks.
fn spawn_facts(
    cfg: &RunConfig,
    profile: &Profile,
) -> tokio::task::JoinHandle<(DeviceFacts, Vec<ManagedUrlPolicy>)> {
    let fact_sources = cfg.facts.clone();
    let wanted = if cfg.data_sender {
        Vec::new()
    } else {
        profile.software.clone()
    };
    let data_sender = cfg.data_sender;
    tokio::task::spawn_blocking(move || {
        let device = facts::collect_for(&fact_sources, &wanted);
        // The browsers' own URL policies matter where students browse, not on a data sender.
        let policies = if data_sender {
            Vec::new()
        } else {
            facts::browser_policy::read(&fact_sources)
        };
        (device, policies)
    })
}

/// Measures bandwidth when the profile asks for it and there is an endpoint, once the site's
/// coordinated start (if any) has come; nothing on a data sender.
async fn measure_bandwidth(
    cfg: &RunConfig,
    profile: &Profile,
    ctx: Arc<Ctx>,
    progress: &Arc<Progress>,
) -> Vec<CheckResult> {
    let bandwidth = if cfg.data_sender {
        None
    } else {
        plan_bandwidth(
            profile,
            cfg.bandwidth_server.as_ref(),
            cfg.bandwidth_access.as_ref(),
            cfg.bandwidth_caps,
            &cfg.state_dir,
            cfg.bandwidth_start_at,
        )
    };
    let Some(bw) = bandwidth else {
        return Vec::new();
    };
    if let Some(wait) = cfg
        .bandwidth_start_at
        .and_then(|at| at.duration_since(std::time::SystemTime::now()).ok())
    {
        progress.note("waiting for the site's coordinated bandwidth start");
        tokio::time::sleep(wait.min(MAX_START_WAIT)).await;
    }
    progress.note("measuring bandwidth");
    runner::run_all(vec![bw], ctx, &cfg.options, progress.clone()).await
}

/// Records on each HTTP result whether a browser policy on this device blocks its URL.
fn mark_browser_policy(results: &mut [CheckResult], policies: &[ManagedUrlPolicy]) {
    for r in results {
        if let CheckResult::Http(h) = r {
            h.evidence.browser_policy = facts::browser_policy::blocks(policies, &h.target);
        }
    }
}

/// Writes the report as pretty JSON with a final newline, atomically.
fn write_report(out: &Path, report: &Report) -> Result<(), RunError> {
    let mut bytes = serde_json::to_vec_pretty(report).map_err(|e| RunError::WriteReport {
        path: out.display().to_string(),
        source: std::io::Error::other(e),
    })?;
    bytes.push(b'\n');
    write_atomic(out, &bytes).map_err(|source| RunError::WriteReport {
        path: out.display().to_string(),
        source,
    })
}

/// One bandwidth measurement now, outside any profile (`fitcheck-agent bandwidth`).
pub async fn bandwidth_now(
    spec: crate::checks::bandwidth::Spec,
) -> Result<fitcheck_core::report::CheckResult, RunError> {
    let catalog = Arc::new(signatures::load(
        std::path::Path::new(signatures::DISTRICT_DIR),
        &[],
    )?);
    let tls = TlsSetup::from_system(&[])?;
    let resolver = SystemResolver::from_system(catalog.clone())?;
    let ctx = Ctx::new(resolver, tls, catalog);
    Ok(crate::checks::Check::Bandwidth(spec).run(&ctx).await)
}
