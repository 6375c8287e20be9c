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
                options: RunOptions {
                    concurrency: usize::from(concurrency),
                    check_timeout: std::time::Duration::from_secs(u64::from(check_timeout)),
                    progress: !quiet,
                },
                facts: FactSources::default(),
            };
            let runtime = match tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    eprintln!("error: cannot start the async runtime: {e}");
                    return ExitCode::from(2);
                }
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
