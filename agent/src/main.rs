//! `fitcheck-agent`: parse arguments, call the library, map the outcome to an exit code
//! (0 compatible, 1 not compatible, 2 could not run, 3 insufficient evidence).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use fitcheck_agent::facts::{self, FactSources};
use fitcheck_agent::identity;
use fitcheck_agent::render::verdict_text;
use fitcheck_agent::run::{RunConfig, load_profile, run};
use fitcheck_agent::runner::RunOptions;
use fitcheck_agent::throughput::{Caps, HARD_CAPS, Target};

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
    Run {
        /// The product profile (TOML).
        #[arg(long, value_name = "FILE")]
        profile: PathBuf,
        /// Also write the report (JSON, schema fitcheck.report/v1) here.
        #[arg(long, value_name = "OUT")]
        json: Option<PathBuf>,
        /// A district label for this device, e.g. --label site=lincoln --label room=b12.
        #[arg(long = "label", value_name = "KEY=VALUE")]
        labels: Vec<String>,
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
    },
    /// Work with profiles.
    Profile {
        #[command(subcommand)]
        command: ProfileCommand,
    },
    /// Print this device's facts as JSON.
    Facts,
    /// Measure download and upload throughput now, against a fitcheck bandwidth endpoint or
    /// any download URL (and upload URL).
    Bandwidth {
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
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FITCHECK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match cli.command {
        Command::Profile {
            command: ProfileCommand::Check { files },
        } => profile_check(&files),
        Command::Facts => {
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
        Command::Bandwidth {
            server,
            download_url,
            upload_url,
            seconds,
            state_dir,
            json,
        } => {
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
                requirement: "network".to_owned(),
                target,
                caps: Caps::clamp(Caps {
                    max_seconds: seconds,
                    ..HARD_CAPS
                }),
                state_dir: state_dir.unwrap_or_else(identity::default_state_dir),
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
        Command::Run {
            profile,
            json,
            labels,
            concurrency,
            check_timeout,
            state_dir,
            signatures,
            public_roots,
            control_resolver,
            bandwidth_server,
            bandwidth_seconds,
            quiet,
        } => {
            let labels = match identity::parse_labels(&labels) {
                Ok(l) => l,
                Err(e) => {
                    eprintln!("error: {e}");
                    return ExitCode::from(2);
                }
            };
            let cfg = RunConfig {
                profile,
                json_out: json.clone(),
                labels,
                state_dir: state_dir.unwrap_or_else(identity::default_state_dir),
                signatures,
                signatures_dir: PathBuf::from(fitcheck_agent::signatures::DISTRICT_DIR),
                public_roots,
                control_resolver,
                bandwidth_server,
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
    }
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
