//! `fitcheck-agent daemon`: deliver the spool, poll for assignments, run each new one, spool
//! its report, deliver it; sleep in between.
//!
//! Idle, the daemon is one thread waiting on a timer: nothing of the checking machinery is
//! loaded. Each assignment runs in a child process (`fitcheck-agent run-assignment`, see
//! [`super::job`]), as `run` would run it, and everything it loaded goes when it ends. A stop
//! signal ends a run in progress (its report was never spooled, so nothing is half-written) and
//! ends the daemon between steps, never in the middle of a spool write.

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use fitcheck_core::api::Assignment;
use fitcheck_core::profile::Profile;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;
use tracing::{debug, error, info, warn};

use super::backoff::{Backoff, RetryPolicy, jittered};
use super::client::{Controller, Timeouts, UplinkError};
use super::deliver::{DeliverError, Deliverer, Round};
use super::job::{Job, JobOutcome, MAX_MESSAGE_BYTES, parse_moment, profile_name};
use super::record::{Done, Record};
use super::spool::{Envelope, Spool, SpoolError, SpoolLimits};
use super::state::{ENROLLMENT_FILE, Enrollment, StateError};
use crate::facts::FactSources;
use crate::runner::RunOptions;

/// Exit status for "a person must act" (not enrolled, credential refused): `EX_CONFIG`. The
/// service unit does not restart on it.
pub const EXIT_CONFIG: u8 = 78;
/// The longest poll interval honoured, whatever a controller says.
const MAX_POLL: Duration = Duration::from_secs(24 * 3600);
/// An assignment whose coordinated bandwidth start is further off than this waits for a
/// later poll, so the daemon is not tied up waiting.
const START_LEAD: Duration = Duration::from_secs(10 * 60);
/// How long an abandoned run may take to wind down.
const ABANDON_WAIT: Duration = Duration::from_secs(5);
/// The longest one assignment may run: every check has its own limit, bandwidth at most twice
/// 15 s, and the coordinated start is at most [`START_LEAD`] away; this catches a run that hangs.
const RUN_LIMIT: Duration = Duration::from_secs(30 * 60);

/// How assignments run: `run`'s options.
#[derive(Debug, Clone)]
pub struct RunSettings {
    pub options: RunOptions,
    pub signatures: Vec<PathBuf>,
    pub signatures_dir: PathBuf,
    pub public_roots: Vec<PathBuf>,
    pub control_resolver: Option<IpAddr>,
    pub facts: FactSources,
    /// Longest one throughput direction may run when the assignment does not say.
    pub bandwidth_seconds: f64,
}

impl Default for RunSettings {
    fn default() -> RunSettings {
        RunSettings {
            options: RunOptions {
                progress: false,
                ..RunOptions::default()
            },
            signatures: Vec::new(),
            signatures_dir: PathBuf::from(crate::signatures::DISTRICT_DIR),
            public_roots: Vec::new(),
            control_resolver: None,
            facts: FactSources::default(),
            bandwidth_seconds: 10.0,
        }
    }
}

/// The daemon's settings.
#[derive(Debug, Clone)]
pub struct DaemonConfig {
    pub state_dir: PathBuf,
    /// The `fitcheck-agent` binary that runs assignments (`run-assignment`).
    pub agent_binary: PathBuf,
    /// One pass (deliver, poll, run, deliver) and exit.
    pub once: bool,
    pub spool: SpoolLimits,
    pub retry: RetryPolicy,
    pub timeouts: Timeouts,
    /// The shortest poll interval honoured, whatever a controller says.
    pub min_poll: Duration,
    pub run: RunSettings,
}

impl DaemonConfig {
    pub fn new(state_dir: PathBuf, agent_binary: PathBuf) -> DaemonConfig {
        DaemonConfig {
            state_dir,
            agent_binary,
            once: false,
            spool: SpoolLimits::default(),
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            min_poll: Duration::from_secs(10),
            run: RunSettings::default(),
        }
    }
}

/// Why the daemon (or `upload`) stopped or could not start.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error(
        "this agent is not enrolled ({path} does not exist); enroll it first: fitcheck-agent enroll --controller URL --secret-file FILE --state-dir {state_dir}"
    )]
    NotEnrolled { path: PathBuf, state_dir: PathBuf },
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Spool(#[from] SpoolError),
    #[error(transparent)]
    Uplink(UplinkError),
}

impl DaemonError {
    /// [`EXIT_CONFIG`] where only a person can help, else 1.
    pub fn exit_code(&self) -> u8 {
        match self {
            DaemonError::NotEnrolled { .. }
            | DaemonError::Uplink(UplinkError::Unauthorized { .. }) => EXIT_CONFIG,
            _ => 1,
        }
    }
}

/// This program's own binary, for running assignments: `/proc/self/exe` where it exists, which
/// still works after an upgrade replaced the file on disk.
pub fn own_binary() -> std::io::Result<PathBuf> {
    let proc_self = Path::new("/proc/self/exe");
    if proc_self.exists() {
        return Ok(proc_self.to_owned());
    }
    std::env::current_exe()
}

/// The enrollment in `state_dir`, or why there is none.
pub fn load_enrollment(state_dir: &Path) -> Result<Enrollment, DaemonError> {
    Enrollment::load(state_dir)?.ok_or_else(|| DaemonError::NotEnrolled {
        path: state_dir.join(ENROLLMENT_FILE),
        state_dir: state_dir.to_owned(),
    })
}

/// What the daemon did (for `--once`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Assignments run and spooled.
    pub ran: usize,
    /// Assignments not run because their profile had errors.
    pub refused: usize,
    /// Assignments that could not run (tried again at the next poll).
    pub failed: usize,
    /// Assignments waiting for their coordinated start to come near.
    pub deferred: usize,
    pub stored: usize,
    pub duplicate: usize,
    pub rejected: usize,
    /// Reports still in the spool at the end.
    pub waiting: usize,
    /// Why the last poll failed, if it did.
    pub poll_error: Option<String>,
}

impl Summary {
    fn add(&mut self, r: &Round) {
        self.stored += r.stored;
        self.duplicate += r.duplicate;
        self.rejected += r.rejected;
    }
}

impl std::fmt::Display for Summary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "ran {}, refused {}, failed {}, deferred {}; delivered: stored {}, duplicate {}, rejected {}; waiting in the spool: {}",
            self.ran,
            self.refused,
            self.failed,
            self.deferred,
            self.stored,
            self.duplicate,
            self.rejected,
            self.waiting
        )?;
        if let Some(e) = &self.poll_error {
            write!(f, "; last poll failed: {e}")?;
        }
        Ok(())
    }
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C); never, if no handler can be installed.
pub async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = term.recv() => {}
                    r = tokio::signal::ctrl_c() => {
                        if r.is_err() {
                            std::future::pending::<()>().await;
                        }
                    }
                }
            }
            Err(e) => {
                warn!(%e, "Cannot watch for SIGTERM; only Ctrl-C stops the daemon cleanly.");
                if tokio::signal::ctrl_c().await.is_err() {
                    std::future::pending::<()>().await;
                }
            }
        }
    }
    #[cfg(not(unix))]
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
    info!("Stop requested.");
}

/// Resolves when `stop` turns true; never, if its sender is gone.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    if stop.wait_for(|s| *s).await.is_err() {
        std::future::pending::<()>().await;
    }
}

fn poll_interval(seconds: u32, min: Duration) -> Duration {
    Duration::from_secs(u64::from(seconds)).clamp(min, MAX_POLL.max(min))
}

/// Runs the daemon until `stop` turns true (or after one pass with `once`).
pub async fn daemon(
    cfg: DaemonConfig,
    mut stop: watch::Receiver<bool>,
) -> Result<Summary, DaemonError> {
    let enrollment = load_enrollment(&cfg.state_dir)?;
    let spool = Spool::open(&cfg.state_dir, cfg.spool)?;
    let mut record = Record::open(&cfg.state_dir);
    // A crash between spooling a report and recording its evaluation must not run it again.
    record_spooled(&spool, &mut record)?;
    let controller =
        Controller::from_enrollment(&enrollment, cfg.timeouts).map_err(DaemonError::Uplink)?;
    info!(
        agent_id = %enrollment.agent_id,
        controller = %controller.api_base(),
        waiting = spool.entries()?.len(),
        "Daemon started."
    );
    let mut link = Link {
        enrollment,
        controller,
        deliverer: Deliverer::new(cfg.retry),
        poll_backoff: Backoff::new(cfg.retry),
        next_poll: Instant::now(),
    };
    let mut summary = Summary::default();
    loop {
        if *stop.borrow() {
            break;
        }
        link.follow_enrollment(&cfg)?;
        link.deliver_if_due(&spool, &mut summary).await?;
        if Instant::now() >= link.next_poll {
            link.poll(&cfg, &spool, &mut record, &stop, &mut summary)
                .await?;
        }
        if cfg.once {
            link.deliver_if_due(&spool, &mut summary).await?;
            break;
        }
        let wake = link
            .deliverer
            .next_at()
            .map_or(link.next_poll, |t| t.min(link.next_poll));
        tokio::select! {
            _ = tokio::time::sleep_until(wake.into()) => {}
            _ = stopped(&mut stop) => break,
        }
    }
    summary.waiting = spool.entries()?.len();
    info!(waiting = summary.waiting, "Daemon stopped.");
    Ok(summary)
}

/// Records every evaluation whose report is in the spool as run.
fn record_spooled(spool: &Spool, record: &mut Record) -> Result<(), DaemonError> {
    for id in spool.evaluations()? {
        if !record.contains(id, None)
            && let Err(e) = record.mark(id, None, Done::Spooled)
        {
            warn!(%e, "Cannot update the record of evaluations run.");
        }
    }
    Ok(())
}

/// The daemon's link to its controller: the enrollment in use, the client made from it, and
/// the delivery and polling schedules, which start afresh with a new enrollment.
struct Link {
    enrollment: Enrollment,
    controller: Controller,
    deliverer: Deliverer,
    poll_backoff: Backoff,
    /// When the next poll for assignments is due.
    next_poll: Instant,
}

impl Link {
    /// Switches to the enrollment in the state directory when it is not the one in use.
    fn follow_enrollment(&mut self, cfg: &DaemonConfig) -> Result<(), DaemonError> {
        // Enrolling again while the daemon runs takes effect without a restart.
        let current = load_enrollment(&cfg.state_dir)?;
        if current != self.enrollment {
            self.controller =
                Controller::from_enrollment(&current, cfg.timeouts).map_err(DaemonError::Uplink)?;
            info!(agent_id = %current.agent_id, controller = %self.controller.api_base(), "Enrollment changed; using the new one.");
            self.enrollment = current;
            self.deliverer = Deliverer::new(cfg.retry);
            self.poll_backoff.reset();
            self.next_poll = Instant::now();
        }
        Ok(())
    }

    /// Delivers the spool when a delivery round is due; a refused credential ends the daemon.
    async fn deliver_if_due(
        &mut self,
        spool: &Spool,
        summary: &mut Summary,
    ) -> Result<(), DaemonError> {
        if self.deliverer.due() {
            let round = self.deliverer.round(&self.controller, spool).await;
            summary.add(&round);
            if let Some(DeliverError::Uplink(e @ UplinkError::Unauthorized { .. })) = round.stopped
            {
                return Err(DaemonError::Uplink(e));
            }
        }
        Ok(())
    }

    /// Polls for assignments, handles each in turn (until a stop) and schedules the next poll;
    /// a refused credential ends the daemon.
    async fn poll(
        &mut self,
        cfg: &DaemonConfig,
        spool: &Spool,
        record: &mut Record,
        stop: &watch::Receiver<bool>,
        summary: &mut Summary,
    ) -> Result<(), DaemonError> {
        match self.controller.assignments().await {
            Ok(a) => {
                self.poll_backoff.reset();
                summary.poll_error = None;
                let interval = poll_interval(a.poll_interval_s, cfg.min_poll);
                debug!(assignments = a.assignments.len(), "Polled.");
                for assignment in &a.assignments {
                    if *stop.borrow() {
                        break;
                    }
                    let handled = handle(cfg, spool, record, assignment, stop.clone()).await;
                    match handled {
                        Handled::Spooled => {
                            summary.ran += 1;
                            self.deliverer.wake();
                        }
                        Handled::Refused => summary.refused += 1,
                        Handled::Failed => summary.failed += 1,
                        Handled::Deferred => summary.deferred += 1,
                        Handled::Skipped => {}
                        Handled::Stopped => break,
                    }
                }
                self.next_poll = Instant::now() + jittered(interval);
                // Reports `upload` spooled while the daemon slept go out now too.
                self.deliverer.wake();
            }
            Err(e @ UplinkError::Unauthorized { .. }) => return Err(DaemonError::Uplink(e)),
            Err(e) => self.poll_failed(e, summary),
        }
        Ok(())
    }

    /// Schedules the next poll after a failed one, with a backoff (or the delay the controller
    /// asked for), and says why it failed.
    fn poll_failed(&mut self, e: UplinkError, summary: &mut Summary) {
        let after = match &e {
            UplinkError::Retry { after, .. } => *after,
            _ => None,
        };
        let delay = self.poll_backoff.next_delay(after);
        if matches!(e, UplinkError::Retry { .. }) {
            warn!(error = %e, retry_in_s = delay.as_secs_f64(), "Cannot fetch assignments; will retry.");
        } else {
            error!(error = %e, retry_in_s = delay.as_secs_f64(), "Cannot fetch assignments; will retry.");
        }
        summary.poll_error = Some(e.to_string());
        self.next_poll = Instant::now() + delay;
    }
}

/// What became of one assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Handled {
    Spooled,
    Refused,
    Failed,
    Deferred,
    Skipped,
    Stopped,
}

fn mark(record: &mut Record, id: uuid::Uuid, round: Option<uuid::Uuid>, done: Done) {
    if let Err(e) = record.mark(id, round, done) {
        warn!(evaluation_id = %id, %e, "Cannot update the record of evaluations run; after a restart this evaluation may run again.");
    }
}

async fn handle(
    cfg: &DaemonConfig,
    spool: &Spool,
    record: &mut Record,
    a: &Assignment,
    stop: watch::Receiver<bool>,
) -> Handled {
    let id = a.evaluation_id;
    if record.contains(id, a.round) {
        debug!(evaluation_id = %id, "Assignment already run; skipped.");
        return Handled::Skipped;
    }
    let start_text = a.bandwidth.as_ref().and_then(|b| b.start_at.clone());
    let start_at = match start_text.as_deref() {
        Some(t) => match parse_moment(t) {
            Ok(at) => Some(at),
            Err(e) => {
                warn!(evaluation_id = %id, start_at = t, %e, "Coordinated start is not an RFC 3339 time; measuring right after the other checks.");
                None
            }
        },
        None => None,
    };
    if let Some(at) = start_at
        && at
            .duration_since(SystemTime::now())
            .is_ok_and(|d| d > START_LEAD)
    {
        debug!(evaluation_id = %id, "Coordinated bandwidth start is not near yet; the assignment waits for a later poll.");
        return Handled::Deferred;
    }
    let digest = fitcheck_core::digest(a.profile_toml.as_bytes());
    if digest != a.profile_digest {
        error!(evaluation_id = %id, expected = %a.profile_digest, got = %digest, "Assigned profile does not match its digest; it will not run.");
        mark(record, id, a.round, Done::Refused);
        return Handled::Refused;
    }
    if let Err(e) = Profile::parse(&profile_name(id), &a.profile_toml) {
        error!(evaluation_id = %id, errors = %e, "Assigned profile has errors; it will not run.");
        mark(record, id, a.round, Done::Refused);
        return Handled::Refused;
    }
    let job = Job {
        evaluation_id: id,
        state_dir: cfg.state_dir.clone(),
        profile_toml: a.profile_toml.clone(),
        controller_endpoint: a.bandwidth.as_ref().is_some_and(|b| b.controller_endpoint),
        bandwidth_start_at: start_at.and(start_text),
        bandwidth_seconds: a
            .bandwidth
            .as_ref()
            .map_or(cfg.run.bandwidth_seconds, |b| b.max_seconds),
        concurrency: cfg.run.options.concurrency,
        check_timeout_s: cfg.run.options.check_timeout.as_secs(),
        signatures: cfg.run.signatures.clone(),
        signatures_dir: cfg.run.signatures_dir.clone(),
        public_roots: cfg.run.public_roots.clone(),
        control_resolver: cfg.run.control_resolver,
        facts_root: cfg.run.facts.root.clone(),
        use_nvml: cfg.run.facts.use_nvml,
        data_sender: a.data_sender,
    };
    info!(evaluation_id = %id, "Running assignment.");
    let report = match run_child(&cfg.agent_binary, &job, stop).await {
        None => {
            info!(evaluation_id = %id, "Run abandoned on stop; it runs again after a restart.");
            return Handled::Stopped;
        }
        Some(JobOutcome::Refused(e)) => {
            error!(evaluation_id = %id, errors = %e, "Assigned profile has errors; it will not run.");
            mark(record, id, a.round, Done::Refused);
            return Handled::Refused;
        }
        Some(JobOutcome::Failed(e)) => {
            error!(evaluation_id = %id, error = %e, "Assignment could not run; will try again at the next poll.");
            return Handled::Failed;
        }
        Some(JobOutcome::Report(report)) => *report,
    };
    let report_id = report.report_id;
    let verdict = report.evaluation.as_ref().map(|e| e.verdict);
    match spool.put(&Envelope::new(Some(id), report)) {
        Ok(_) => {
            mark(record, id, a.round, Done::Spooled);
            info!(evaluation_id = %id, %report_id, ?verdict, "Report spooled.");
            Handled::Spooled
        }
        Err(e @ SpoolError::TooLarge { .. }) => {
            error!(evaluation_id = %id, %report_id, error = %e, "Report cannot be spooled; it is lost.");
            mark(record, id, a.round, Done::Refused);
            Handled::Refused
        }
        Err(e) => {
            error!(evaluation_id = %id, %report_id, error = %e, "Report cannot be spooled; the evaluation runs again at the next poll.");
            Handled::Failed
        }
    }
}

/// Runs `job` in a child process (`agent_binary run-assignment`). `None` when `stop` ended
/// it first; a child that fails, hangs past [`RUN_LIMIT`] or answers nonsense is `Failed`.
async fn run_child(
    agent_binary: &Path,
    job: &Job,
    mut stop: watch::Receiver<bool>,
) -> Option<JobOutcome> {
    let failed = |why: String| Some(JobOutcome::Failed(why));
    let input = match serde_json::to_vec(job) {
        Ok(b) => b,
        Err(e) => return failed(format!("cannot encode the job: {e}")),
    };
    let mut child = match tokio::process::Command::new(agent_binary)
        .arg("run-assignment")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        // The child's log joins the daemon's.
        .stderr(std::process::Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            return failed(format!(
                "cannot start {} run-assignment: {e}",
                agent_binary.display()
            ));
        }
    };
    let (Some(mut stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return failed("the child's pipes were not set up".to_owned());
    };
    let exchange = async move {
        stdin.write_all(&input).await?;
        drop(stdin);
        let mut out = Vec::new();
        stdout.take(MAX_MESSAGE_BYTES).read_to_end(&mut out).await?;
        Ok::<_, std::io::Error>(out)
    };
    let output = tokio::select! {
        r = tokio::time::timeout(RUN_LIMIT, exchange) => r,
        _ = stopped(&mut stop) => {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(ABANDON_WAIT, child.wait()).await;
            return None;
        }
    };
    let output = match output {
        Ok(Ok(out)) => out,
        Ok(Err(e)) => {
            let _ = child.start_kill();
            return failed(format!("talking to the run: {e}"));
        }
        Err(_) => {
            let _ = child.start_kill();
            let _ = tokio::time::timeout(ABANDON_WAIT, child.wait()).await;
            return failed(format!(
                "the run took longer than {} s and was stopped",
                RUN_LIMIT.as_secs()
            ));
        }
    };
    let status = match tokio::time::timeout(ABANDON_WAIT, child.wait()).await {
        Ok(Ok(s)) => s,
        _ => {
            let _ = child.start_kill();
            return failed("the run did not exit after answering".to_owned());
        }
    };
    match serde_json::from_slice::<JobOutcome>(&output) {
        Ok(outcome) => Some(outcome),
        Err(e) => failed(format!("the run ended ({status}) without an answer: {e}")),
    }
}
