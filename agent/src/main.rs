//! `fitcheck-agent`: parse arguments, call the library, map the outcome to an exit code.
//! `run`: 0 compatible, 1 not compatible, 2 could not run, 3 insufficient evidence. The
//! controller commands: 0 done, 1 failed, 78 a person must act (not enrolled, re-enroll).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fitcheck_agent::checks::throughput::{Caps, HARD_CAPS, Target};
use fitcheck_agent::facts::{self, FactSources};
use fitcheck_agent::identity;
use fitcheck_agent::render::verdict_text;
use fitcheck_agent::run::{ProfileSource, RunConfig, load_profile, run};
use fitcheck_agent::runner::RunOptions;
use fitcheck_agent::sis;
use fitcheck_agent::uplink::client::Timeouts;
use fitcheck_agent::uplink::daemon::{self, DaemonConfig, RunSettings};
use fitcheck_agent::uplink::enroll::{self, EnrollOptions};
use fitcheck_agent::uplink::pin::Fingerprint;
use fitcheck_agent::uplink::spool::SpoolLimits;
use fitcheck_agent::uplink::{status, upload};

#[derive(Parser, Debug)]
#[command(
    name = "fitcheck-agent",
    version,
    about = "Checks whether a product will work on this device and through this network."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run a product profile's checks on this device and print the verdict.
    Run(RunArgs),
    /// Work with profiles.
    #[command(subcommand)]
    Profile(ProfileCommand),
    /// Read the district's SIS export where it lies, and send its summary (structure and
    /// counts, never a cell value) to the controller.
    #[command(subcommand)]
    Sis(SisCommand),
    /// Print this device's facts as JSON.
    Facts,
    /// Enroll this agent with the district's controller: pin its certificate and keep the
    /// agent's credential in the state directory.
    Enroll(EnrollArgs),
    /// Run as a service: deliver waiting reports, poll for assignments, run them, deliver.
    Daemon(DaemonArgs),
    /// Upload reports written by `run --json`: each is spooled, then delivered now; one the
    /// controller cannot take now stays in the spool for the daemon.
    Upload(UploadArgs),
    /// Print the enrollment and what waits in the spool, was refused or was dropped.
    Status(StatusArgs),
    /// Run one assignment the daemon hands over on standard input (not for people).
    #[command(hide = true)]
    RunAssignment,
    /// Install the daemon as a hardened systemd service (user fitcheck, /var/lib/fitcheck).
    Install(InstallArgs),
    /// Stop and remove the service and the binary (the state directory is kept).
    Uninstall(UninstallArgs),
    /// Measure download and upload throughput now, against a fitcheck bandwidth endpoint or
    /// any download URL (and upload URL).
    Bandwidth(BandwidthArgs),
}

#[derive(clap::Args, Debug)]
struct RunArgs {
    /// The product profile (TOML).
    #[arg(long, value_name = "FILE")]
    profile: PathBuf,
    /// Also write the report (JSON, schema fitcheck.report/v1) here.
    #[arg(long, value_name = "OUT")]
    json: Option<PathBuf>,
    /// A district label for this device, e.g. --label site=lincoln --label room=b12.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// A fitcheck bandwidth endpoint (base URL) to measure throughput against; without it,
    /// the profile's own download_url / upload_url are used.
    #[arg(long, value_name = "URL")]
    bandwidth_server: Option<reqwest::Url>,
    /// Longest one throughput direction may run, seconds (at most 15).
    #[arg(long, default_value_t = 10.0)]
    bandwidth_seconds: f64,
    /// Where the agent keeps its id [default: /var/lib/fitcheck as root, else ~/.local/state/fitcheck].
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// No progress on standard error.
    #[arg(long)]
    quiet: bool,
    /// This machine sends the district's roster files (the SIS server): check the
    /// vendor's transfer endpoint alone, not the profile's network and device needs.
    #[arg(long)]
    data_sender: bool,
    #[command(flatten)]
    checks: CheckArgs,
}

#[derive(clap::Args, Debug)]
struct EnrollArgs {
    /// The controller's base URL (https://…).
    #[arg(long, value_name = "URL")]
    controller: String,
    /// The district's enrollment secret (visible to other users in the process list:
    /// prefer --secret-file).
    #[arg(
        long,
        value_name = "SECRET",
        required_unless_present = "secret_file",
        conflicts_with = "secret_file"
    )]
    secret: Option<String>,
    /// A file holding the enrollment secret.
    #[arg(long, value_name = "FILE")]
    secret_file: Option<PathBuf>,
    /// A district label, e.g. --label site=lincoln --label group=grade5-chromebooks;
    /// site and group decide which evaluations reach this device.
    #[arg(long = "label", value_name = "KEY=VALUE")]
    labels: Vec<String>,
    /// The controller certificate's SHA-256 fingerprint as its administrator gave it
    /// (sha256:… or AB:CD:…); enrollment stops if the controller presents another.
    #[arg(long, value_name = "FINGERPRINT")]
    fingerprint: Option<Fingerprint>,
    /// Enroll as a new agent (replace the agent id kept in the state directory).
    #[arg(long)]
    new_id: bool,
    /// Where the agent keeps its state [default: /var/lib/fitcheck as root, else ~/.local/state/fitcheck].
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct DaemonArgs {
    /// Where the agent keeps its state.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// One pass (deliver, poll, run, deliver), then exit: 0 when nothing is left waiting.
    #[arg(long)]
    once: bool,
    #[command(flatten)]
    spool: SpoolArgs,
    #[command(flatten)]
    checks: CheckArgs,
}

#[derive(clap::Args, Debug)]
struct UploadArgs {
    /// Report files (JSON).
    #[arg(required = true, value_name = "FILE")]
    files: Vec<PathBuf>,
    /// Where the agent keeps its state.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    #[command(flatten)]
    spool: SpoolArgs,
}

#[derive(clap::Args, Debug)]
struct StatusArgs {
    /// Where the agent keeps its state.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct InstallArgs {
    /// Only write the files, under this directory.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct UninstallArgs {
    /// Only remove the files, under this directory.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct BandwidthArgs {
    /// A fitcheck bandwidth endpoint (base URL).
    #[arg(long, value_name = "URL", conflicts_with = "download_url")]
    server: Option<reqwest::Url>,
    /// A large object to download repeatedly.
    #[arg(long, value_name = "URL", required_unless_present = "server")]
    download_url: Option<reqwest::Url>,
    /// A URL that accepts a POST body.
    #[arg(long, value_name = "URL", requires = "download_url")]
    upload_url: Option<reqwest::Url>,
    /// Longest one direction may run, seconds (at most 15).
    #[arg(long, default_value_t = 10.0)]
    seconds: f64,
    /// Where the daily byte ledger is kept.
    #[arg(long, value_name = "DIR")]
    state_dir: Option<PathBuf>,
    /// Print the result as JSON.
    #[arg(long)]
    json: bool,
}

/// What `run` and `daemon` both take: how checks run and what they judge against.
#[derive(clap::Args, Debug)]
struct CheckArgs {
    /// Most checks in flight at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=64))]
    concurrency: u16,
    /// Hard time limit per check, seconds.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u16).range(1..=300))]
    check_timeout: u16,
    /// A district's filter-signature file, added to the bundled catalog (repeatable).
    #[arg(long = "signatures", value_name = "FILE")]
    signatures: Vec<PathBuf>,
    /// A PEM file of CA certificates that count as public roots (repeatable): a district's
    /// own PKI for a self-hosted product, so it is not reported as TLS interception.
    #[arg(long = "public-roots", value_name = "FILE")]
    public_roots: Vec<PathBuf>,
    /// A resolver outside the district's filtering (an IP address): answers that differ from
    /// it, and NXDOMAIN where it resolves, are reported as sinkholes with both answers.
    #[arg(long, value_name = "IP")]
    control_resolver: Option<std::net::IpAddr>,
}

/// Spool bounds, shared by `daemon` and `upload`.
#[derive(clap::Args, Debug)]
struct SpoolArgs {
    /// Most reports the spool keeps waiting for the controller; the oldest is dropped (and
    /// counted) to make room.
    #[arg(long, default_value_t = SpoolLimits::default().max_reports as u64, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    spool_max_reports: u64,
    /// Most bytes the spool keeps waiting.
    #[arg(long, default_value_t = SpoolLimits::default().max_bytes, value_parser = clap::value_parser!(u64).range(1 << 20..))]
    spool_max_bytes: u64,
}

impl SpoolArgs {
    fn limits(&self) -> SpoolLimits {
        SpoolLimits {
            max_reports: usize::try_from(self.spool_max_reports).unwrap_or(usize::MAX),
            max_bytes: self.spool_max_bytes,
        }
    }
}

#[derive(Subcommand, Debug)]
enum SisCommand {
    /// Summarise a OneRoster export (a .zip or a folder; 1.1 or 1.2, bulk or delta): files,
    /// columns, row counts, how full each column is per role, format findings.
    Inspect {
        /// The export: a zip file or a folder of CSV files.
        #[arg(value_name = "PATH")]
        path: PathBuf,
        /// Write the summary (JSON, schema fitcheck.sis-summary/v1) here.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        /// Print the summary as JSON instead of words.
        #[arg(long)]
        json: bool,
        /// Largest CSV file read, MiB (files of people are held to at most this too).
        #[arg(long, value_name = "MIB", value_parser = clap::value_parser!(u64).range(1..=1_048_576))]
        max_file_mib: Option<u64>,
    },
    /// Send a summary `inspect --out` wrote to the controller this agent is enrolled with.
    Upload {
        /// The summary file.
        #[arg(value_name = "FILE")]
        file: PathBuf,
        /// Where the agent keeps its enrollment [default: /var/lib/fitcheck as root, else ~/.local/state/fitcheck].
        #[arg(long, value_name = "DIR")]
        state_dir: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum ProfileCommand {
    /// Validate profiles; prints every error with file:line:column and key path.
    Check {
        /// Profile files.
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(&cli.command);
    match cli.command {
        Command::Enroll(args) => enroll_agent(args),
        Command::Daemon(args) => run_daemon(args),
        Command::Upload(args) => upload_reports(args),
        Command::RunAssignment => run_assignment(),
        Command::Status(args) => print_status(args),
        Command::Install(args) => install_service(args),
        Command::Uninstall(args) => uninstall_service(args),
        Command::Profile(ProfileCommand::Check { files }) => profile_check(&files),
        Command::Sis(SisCommand::Inspect {
            path,
            out,
            json,
            max_file_mib,
        }) => sis_inspect(&path, out.as_deref(), json, max_file_mib),
        Command::Sis(SisCommand::Upload { file, state_dir }) => sis_upload(&file, state_dir),
        Command::Facts => print_facts(),
        Command::Bandwidth(args) => bandwidth_now(args),
        Command::Run(args) => run_profile(args),
    }
}

/// The service's log is its record of deliveries; the interactive commands stay quiet.
fn init_logging(command: &Command) {
    let default_level = match command {
        Command::Daemon(_) => "info",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FITCHECK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level)),
        )
        .with_writer(std::io::stderr)
        .init();
}

fn enroll_agent(
    EnrollArgs {
        controller,
        secret,
        secret_file,
        labels,
        fingerprint,
        new_id,
        state_dir,
    }: EnrollArgs,
) -> ExitCode {
    let labels = match identity::parse_labels(&labels) {
        Ok(l) => l,
        Err(e) => return fail(2, e),
    };
    let secret = match (secret, secret_file) {
        (Some(s), _) => s,
        (None, Some(f)) => match enroll::read_secret_file(&f) {
            Ok(s) => s,
            Err(e) => return fail(2, e),
        },
        (None, None) => return fail(2, "give --secret or --secret-file"),
    };
    let opts = EnrollOptions {
        controller,
        secret,
        labels,
        fingerprint,
        state_dir: state_dir.unwrap_or_else(identity::default_state_dir),
        new_id,
        timeouts: Timeouts::default(),
    };
    let runtime = match current_thread_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    match runtime.block_on(enroll::enroll(&opts)) {
        Ok(done) => {
            print!("{}", enroll::summary(&done));
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, e),
    }
}

fn run_daemon(
    DaemonArgs {
        state_dir,
        once,
        spool,
        checks:
            CheckArgs {
                concurrency,
                check_timeout,
                signatures,
                public_roots,
                control_resolver,
            },
    }: DaemonArgs,
) -> ExitCode {
    let binary = match daemon::own_binary() {
        Ok(b) => b,
        Err(e) => return fail(1, format!("cannot find this program's own file: {e}")),
    };
    let mut cfg = DaemonConfig::new(
        state_dir.unwrap_or_else(identity::default_state_dir),
        binary,
    );
    cfg.once = once;
    cfg.spool = spool.limits();
    cfg.run = RunSettings {
        options: RunOptions {
            concurrency: usize::from(concurrency),
            check_timeout: std::time::Duration::from_secs(u64::from(check_timeout)),
            progress: false,
        },
        signatures,
        public_roots,
        control_resolver,
        ..RunSettings::default()
    };
    // Idle, the daemon is one thread on a timer; runs get their own runtime.
    let runtime = match current_thread_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let result = runtime.block_on(async {
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            daemon::shutdown_signal().await;
            let _ = stop_tx.send(true);
        });
        daemon::daemon(cfg, stop_rx).await
    });
    match result {
        Ok(summary) if once => {
            println!("{summary}");
            if summary.poll_error.is_none() && summary.waiting == 0 && summary.failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Ok(_) => ExitCode::SUCCESS,
        Err(e) => fail(e.exit_code(), e),
    }
}

fn upload_reports(
    UploadArgs {
        files,
        state_dir,
        spool,
    }: UploadArgs,
) -> ExitCode {
    let state_dir = state_dir.unwrap_or_else(identity::default_state_dir);
    let runtime = match current_thread_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    match runtime.block_on(upload::upload(
        &state_dir,
        &files,
        spool.limits(),
        Timeouts::default(),
    )) {
        Ok(results) => {
            let mut failed = 0;
            for (file, result) in &results {
                println!("{}: {result}", file.display());
                if !result.delivered() {
                    failed += 1;
                }
            }
            if failed == 0 {
                ExitCode::SUCCESS
            } else {
                eprintln!("{failed} of {} reports were not delivered", results.len());
                ExitCode::FAILURE
            }
        }
        Err(e) => fail(e.exit_code(), e),
    }
}

fn run_assignment() -> ExitCode {
    use std::io::{Read, Write};
    let mut input = Vec::new();
    let read = std::io::stdin()
        .take(fitcheck_agent::uplink::job::MAX_MESSAGE_BYTES)
        .read_to_end(&mut input);
    if let Err(e) = read {
        return fail(2, format!("cannot read the job: {e}"));
    }
    let job: fitcheck_agent::uplink::job::Job = match serde_json::from_slice(&input) {
        Ok(j) => j,
        Err(e) => return fail(2, format!("not a job: {e}")),
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let outcome = runtime.block_on(fitcheck_agent::uplink::job::run_job(job));
    let written = serde_json::to_vec(&outcome)
        .map_err(std::io::Error::other)
        .and_then(|b| {
            let mut out = std::io::stdout().lock();
            out.write_all(&b)?;
            out.flush()
        });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(2, format!("cannot hand the outcome back: {e}")),
    }
}

fn print_status(StatusArgs { state_dir }: StatusArgs) -> ExitCode {
    match status::status(&state_dir.unwrap_or_else(identity::default_state_dir)) {
        Ok(s) => {
            print!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, e),
    }
}

fn install_service(InstallArgs { root }: InstallArgs) -> ExitCode {
    let binary = match std::env::current_exe() {
        Ok(b) => b,
        Err(e) => return fail(1, format!("cannot find this program's own file: {e}")),
    };
    print_outcome(fitcheck_agent::install::install(&binary, root.as_deref()))
}

fn uninstall_service(UninstallArgs { root }: UninstallArgs) -> ExitCode {
    print_outcome(fitcheck_agent::install::uninstall(root.as_deref()))
}

fn print_facts() -> ExitCode {
    let f = facts::collect(&FactSources::default());
    match serde_json::to_string_pretty(&f) {
        Ok(s) => {
            println!("{s}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn bandwidth_now(
    BandwidthArgs {
        server,
        download_url,
        upload_url,
        seconds,
        state_dir,
        json,
    }: BandwidthArgs,
) -> ExitCode {
    let target = match (server, download_url) {
        (Some(s), _) => Target::Endpoint(s),
        (None, Some(d)) => Target::Urls {
            download: d,
            upload: upload_url,
        },
        (None, None) => {
            eprintln!("error: give --server or --download-url");
            return ExitCode::from(2);
        }
    };
    let spec = fitcheck_agent::checks::bandwidth::Spec {
        requirement: fitcheck_core::requirement::RequirementId::NetworkMeasure,
        target,
        caps: Caps::clamp(Caps {
            max_seconds: seconds,
            ..HARD_CAPS
        }),
        state_dir: state_dir.unwrap_or_else(identity::default_state_dir),
        access: None,
        start_at: None,
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    match runtime.block_on(fitcheck_agent::run::bandwidth_now(spec)) {
        Ok(result) => {
            if json {
                match serde_json::to_string_pretty(&result) {
                    Ok(s) => println!("{s}"),
                    Err(e) => eprintln!("error: {e}"),
                }
            } else {
                print!("{}", fitcheck_agent::render::bandwidth_text(&result));
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

fn run_profile(
    RunArgs {
        profile,
        json,
        labels,
        state_dir,
        bandwidth_server,
        bandwidth_seconds,
        quiet,
        data_sender,
        checks:
            CheckArgs {
                concurrency,
                check_timeout,
                signatures,
                public_roots,
                control_resolver,
            },
    }: RunArgs,
) -> ExitCode {
    let labels = match identity::parse_labels(&labels) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let cfg = RunConfig {
        profile: ProfileSource::File(profile),
        json_out: json.clone(),
        labels,
        state_dir: state_dir.unwrap_or_else(identity::default_state_dir),
        signatures,
        signatures_dir: PathBuf::from(fitcheck_agent::signatures::DISTRICT_DIR),
        public_roots,
        control_resolver,
        bandwidth_server,
        bandwidth_access: None,
        bandwidth_start_at: None,
        bandwidth_caps: Caps::clamp(Caps {
            max_seconds: bandwidth_seconds,
            ..HARD_CAPS
        }),
        options: RunOptions {
            concurrency: usize::from(concurrency),
            check_timeout: std::time::Duration::from_secs(u64::from(check_timeout)),
            progress: !quiet,
        },
        facts: FactSources::default(),
        data_sender,
    };
    let runtime = match runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    match runtime.block_on(run(cfg)) {
        Ok(outcome) => {
            print!("{}", verdict_text(&outcome.report, &outcome.evaluation));
            for n in &outcome.notices {
                println!("Note: {n}");
            }
            if let Some(path) = &json {
                println!("Report: {}", path.display());
            }
            ExitCode::from(u8::try_from(outcome.exit_code()).unwrap_or(2))
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

/// `sis inspect`: 0 read, 2 could not read (the error names file, line and column, never a
/// value).
/// `sis upload`: a summary `sis inspect --out` wrote, sent to the controller.
fn sis_upload(file: &std::path::Path, state_dir: Option<PathBuf>) -> ExitCode {
    let runtime = match current_thread_runtime() {
        Ok(r) => r,
        Err(code) => return code,
    };
    let state_dir = state_dir.unwrap_or_else(identity::default_state_dir);
    match runtime.block_on(upload::upload_summary(
        &state_dir,
        file,
        Timeouts::default(),
    )) {
        Ok(answer) => {
            println!("{}: {answer}", file.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, format!("{}: {e}", file.display())),
    }
}

fn sis_inspect(
    path: &std::path::Path,
    out: Option<&std::path::Path>,
    json: bool,
    max_file_mib: Option<u64>,
) -> ExitCode {
    let mut limits = sis::Limits::default();
    if let Some(mib) = max_file_mib {
        limits.file_bytes = mib << 20;
        limits.people_file_bytes = limits.people_file_bytes.min(mib << 20);
        limits.total_bytes = limits.total_bytes.max(mib << 20);
    }
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc())
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default();
    let summary = match sis::inspect(path, &limits, &now) {
        Ok(s) => s,
        Err(e) => return fail(2, e),
    };
    let text = match serde_json::to_string_pretty(&summary) {
        Ok(t) => t,
        Err(e) => return fail(2, e),
    };
    if let Some(out) = out
        && let Err(e) = fitcheck_agent::run::write_atomic(out, text.as_bytes())
    {
        return fail(2, format!("cannot write {}: {e}", out.display()));
    }
    if json {
        println!("{text}");
    } else {
        print!("{}", sis::render::text(&summary));
    }
    ExitCode::SUCCESS
}

fn fail(code: u8, e: impl std::fmt::Display) -> ExitCode {
    eprintln!("error: {e:#}");
    ExitCode::from(code)
}

fn print_outcome(
    r: Result<fitcheck_agent::install::Outcome, fitcheck_agent::install::InstallError>,
) -> ExitCode {
    match r {
        Ok(out) => {
            for d in &out.done {
                println!("done: {d}");
            }
            for n in &out.next {
                println!("next: {n}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => fail(1, e),
    }
}

fn current_thread_runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(2)
        })
}

fn runtime() -> Result<tokio::runtime::Runtime, ExitCode> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| {
            eprintln!("error: cannot start the async runtime: {e}");
            ExitCode::from(2)
        })
}

fn profile_check(files: &[PathBuf]) -> ExitCode {
    let mut bad = 0;
    for f in files {
        match load_profile(f) {
            Ok((p, _)) => println!("{}: ok ({} {})", f.display(), p.id, p.name),
            Err(e) => {
                bad += 1;
                eprintln!("{e}");
            }
        }
    }
    if bad == 0 {
        ExitCode::SUCCESS
    } else {
        eprintln!("{bad} of {} profiles have errors", files.len());
        ExitCode::FAILURE
    }
}
