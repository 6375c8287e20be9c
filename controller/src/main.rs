//! `fitcheck-controller`: parse arguments, set up logging, call the library.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use fitcheck_controller::edge::tls;
use fitcheck_controller::{Config, Controller, Limits, auth, clock, default_data_dir};

/// mimalloc rather than the system allocator: a recommendation parses tens of thousands of
/// judgements on the runtime's threads, and glibc's per-thread arenas kept what they freed
/// (recommend-bench: peaks of 289-712 MB with glibc, see README).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser, Debug)]
#[command(
    name = "fitcheck-controller",
    version,
    about = "Enrolls fitcheck agents, hands them evaluations and keeps their reports."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args, Debug, Clone)]
struct Storage {
    /// Where the embedded database and the generated certificate live
    /// [default: /var/lib/fitcheck-controller as root, else ~/.local/state/fitcheck-controller].
    #[arg(long, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// A PostgreSQL URL (postgres://user:password@host/db) instead of the embedded SQLite;
    /// several controllers may share one. Also read from FITCHECK_DATABASE_URL.
    #[arg(
        long,
        value_name = "URL",
        env = "FITCHECK_DATABASE_URL",
        hide_env_values = true
    )]
    database: Option<String>,
}

impl Storage {
    fn config(&self) -> Config {
        let mut c = Config::new(self.data_dir.clone().unwrap_or_else(default_data_dir));
        c.database = self.database.clone();
        c
    }
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Serve the API over HTTPS.
    Serve(ServeArgs),
    /// Manage people who log in.
    #[command(subcommand)]
    User(UserCommand),
    /// Create an enrollment secret (printed once).
    Secret(SecretArgs),
    /// The whole chain on this machine: a controller on loopback, this machine's agent
    /// enrolled to it, an evaluation of PROFILE, the run, and the recommendation.
    Quickstart(QuickstartArgs),
    /// Write an evaluation's recommendation (as of now) for the committee packet.
    Report(ReportArgs),
    /// Print the certificate fingerprint agents pin.
    Fingerprint(FingerprintArgs),
}

#[derive(clap::Args, Debug)]
struct ServeArgs {
    #[command(flatten)]
    storage: Storage,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0:8443")]
    listen: SocketAddr,
    /// Certificate chain to serve (PEM); without it a self-signed one is generated once.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// A name agents reach the controller by, for the generated certificate (repeatable).
    #[arg(long = "tls-name", value_name = "NAME")]
    tls_names: Vec<String>,
    /// How often agents poll for evaluations, seconds.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(5..=86_400))]
    poll_interval: u32,
    /// How often browser agents poll, seconds: each poll wakes the extension on a student's
    /// device for 30 s. Keep it below a watch's `collect_s` and set a coordinated start at
    /// least this far ahead.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(5..=86_400))]
    browser_poll_interval: u32,
    /// Largest request body, bytes.
    #[arg(long, default_value_t = 2 << 20)]
    max_body_bytes: usize,
    /// Requests per second one agent may make, sustained.
    #[arg(long, default_value_t = 10.0)]
    agent_rate: f64,
    /// Requests one agent may make at once after a quiet spell.
    #[arg(long, default_value_t = 120)]
    agent_burst: u32,
    /// A district's filter-signature file, added to the bundled catalog that browser
    /// agents match block hosts and filter extensions against (repeatable).
    #[arg(long = "signatures", value_name = "FILE")]
    signatures: Vec<PathBuf>,
    /// A directory with the packed browser agent and its update manifest (what
    /// scripts/build-browser-agent writes), served at /browser-agent/ for force-installs.
    #[arg(long, value_name = "DIR")]
    browser_agent: Option<PathBuf>,
    /// The address people and devices reach the controller at, when a reverse proxy
    /// serves it (`https://fitcheck.district.example`): its pages count as the controller's
    /// own though the proxy rewrites `Host`, and the browser agent's download names it.
    #[arg(long, value_name = "URL", value_parser = parse_public_url)]
    public_url: Option<fitcheck_controller::edge::public_url::PublicUrl>,
    /// How long a watched product's round-by-round history is kept in full, days. Older
    /// reports from watch rounds, and rounds that changed nothing, are removed; alerts, the
    /// rounds that opened or resolved one with the reports they were decided on, each device's
    /// latest report and everything from before approval are kept for good.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u32).range(1..=3650))]
    watch_history_days: u32,
}

#[derive(clap::Args, Debug)]
struct SecretArgs {
    #[command(flatten)]
    storage: Storage,
    /// What it is for.
    name: String,
}

#[derive(clap::Args, Debug)]
struct QuickstartArgs {
    /// The product profile to evaluate.
    #[arg(long, value_name = "FILE", default_value = "profiles/zoom.toml")]
    profile: PathBuf,
    /// Where the controller's database, certificate, the agent's state and the
    /// recommendation files go.
    #[arg(long, value_name = "DIR", default_value = "fitcheck-quickstart")]
    data_dir: PathBuf,
    /// Address to serve on (loopback by default; port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8443")]
    listen: SocketAddr,
    /// The agent binary [default: fitcheck-agent next to this program, else on the PATH].
    #[arg(long, value_name = "FILE")]
    agent: Option<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct ReportArgs {
    #[command(flatten)]
    storage: Storage,
    /// The evaluation's id.
    evaluation: String,
    /// md (Markdown), json, html (one self-contained page) or pdf (printable, A4).
    #[arg(long, default_value = "md", value_parser = ["md", "json", "html", "pdf"])]
    format: String,
    /// For html: the controller's address, so the page's drill-down links lead to it.
    #[arg(long, value_name = "URL")]
    base_url: Option<String>,
    /// Write it here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,
    /// The district's filter-signature files `serve` runs with (repeatable): browser
    /// reports judged again are judged against the same block pages.
    #[arg(long = "signatures", value_name = "FILE")]
    signatures: Vec<PathBuf>,
}

#[derive(clap::Args, Debug)]
struct FingerprintArgs {
    #[command(flatten)]
    storage: Storage,
    /// The certificate served, when not the generated one.
    #[arg(long, value_name = "FILE")]
    tls_cert: Option<PathBuf>,
}

#[derive(Subcommand, Debug)]
enum UserCommand {
    /// Add a person; prints a one-time password.
    Add {
        #[command(flatten)]
        storage: Storage,
        username: String,
        /// admin (technology operations) or reviewer (committee).
        #[arg(long, value_parser = ["admin", "reviewer"])]
        role: String,
    },
    /// Give a person a new one-time password (they choose their own at the next log-in); ends
    /// their sessions at once.
    ResetPassword {
        #[command(flatten)]
        storage: Storage,
        username: String,
    },
    /// Set a person's password to one read from standard input or a file (its first line, at
    /// least 12 characters), for provisioning by script; ends their sessions at once.
    SetPassword {
        #[command(flatten)]
        storage: Storage,
        username: String,
        /// Read the password from this file instead of standard input.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// List the people and their roles.
    List {
        #[command(flatten)]
        storage: Storage,
    },
    /// Give a person another role; ends their sessions at once.
    Role {
        #[command(flatten)]
        storage: Storage,
        username: String,
        #[arg(value_parser = ["admin", "reviewer"])]
        role: String,
    },
    /// Remove a person; ends their sessions at once.
    Remove {
        #[command(flatten)]
        storage: Storage,
        username: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FITCHECK_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn parse_public_url(
    text: &str,
) -> Result<fitcheck_controller::edge::public_url::PublicUrl, String> {
    fitcheck_controller::edge::public_url::PublicUrl::parse(text)
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(args) => serve(args).await,
        Command::Secret(args) => secret(args).await,
        Command::Quickstart(args) => quickstart(args).await,
        Command::Report(args) => report(args).await,
        Command::Fingerprint(args) => fingerprint(args).await,
        Command::User(command) => user(command).await,
    }
}

async fn serve(
    ServeArgs {
        storage,
        listen,
        tls_cert,
        tls_key,
        tls_names,
        poll_interval,
        browser_poll_interval,
        max_body_bytes,
        agent_rate,
        agent_burst,
        signatures,
        browser_agent,
        public_url,
        watch_history_days,
    }: ServeArgs,
) -> anyhow::Result<()> {
    let mut config = storage.config();
    config.tls = tls_cert.zip(tls_key);
    config.tls_names = tls_names;
    config.signatures = signatures;
    config.browser_agent_dir = browser_agent;
    config.public_url = public_url;
    config.limits = Limits {
        max_body_bytes,
        agent_requests_per_s: agent_rate,
        agent_burst,
        poll_interval_s: poll_interval,
        browser_poll_interval_s: browser_poll_interval,
        watch_history_ms: i64::from(watch_history_days) * 24 * 3_600_000,
        ..Limits::default()
    };
    let database = fitcheck_controller::store::redact(&config.database_url());
    let public = config.public_url.clone();
    let controller = Controller::open(config).await?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let addr = listener.local_addr().unwrap_or(listen);
    println!("fitcheck-controller listening on https://{addr}");
    if let Some(public) = &public {
        println!("public address (through the reverse proxy): {public}");
    }
    println!("database: {database}");
    println!(
        "certificate: {} (agents pin it at enrollment; compare)\n  SHA-256 {}\n  {}",
        controller.cert_path.display(),
        controller.fingerprint,
        tls::fingerprint_colons(&controller.fingerprint)
    );
    if let Some((user, password)) = &controller.initial_admin {
        println!(
            "first start: administrator {user:?} with one-time password {password}\n  (shown once; log in and create people with POST /api/v1/users)"
        );
    }
    controller.serve(listener, shutdown_signal()).await;
    Ok(())
}

async fn secret(SecretArgs { storage, name }: SecretArgs) -> anyhow::Result<()> {
    let controller = Controller::open(storage.config()).await?;
    let secret = auth::new_token(auth::TokenKind::Enrollment);
    let id = controller
        .store()
        .create_secret(&name, &auth::token_hash(&secret), clock::now_ms(), None)
        .await?;
    println!("enrollment secret {id} ({name}): {secret}");
    Ok(())
}

async fn quickstart(
    QuickstartArgs {
        profile,
        data_dir,
        listen,
        agent,
    }: QuickstartArgs,
) -> anyhow::Result<()> {
    fitcheck_controller::quickstart::run(
        fitcheck_controller::quickstart::Options {
            profile,
            data_dir,
            listen,
            agent,
        },
        shutdown_signal(),
    )
    .await
}

async fn report(
    ReportArgs {
        storage,
        evaluation,
        format,
        base_url,
        output,
        signatures,
    }: ReportArgs,
) -> anyhow::Result<()> {
    let config = storage.config();
    let url = config.database_url();
    let catalog = fitcheck_controller::Controller::catalog_of(&signatures)?;
    let (store, writer) = fitcheck_controller::store::Store::open(&url)
        .await
        .with_context(|| format!("opening {}", fitcheck_controller::store::redact(&url)))?;
    let dossier = fitcheck_controller::evaluation::dossier::load(&store, &catalog, &evaluation)
        .await
        .map_err(|f| anyhow::anyhow!(f.body.message))?;
    drop(store);
    writer.finished().await;
    let r = dossier.recommend(&clock::rfc3339(clock::now_ms()));
    let bytes = match format.as_str() {
        "json" => (fitcheck_controller::present::render::json(&r) + "\n").into_bytes(),
        "html" => {
            use fitcheck_controller::web::recommendation::{Titles, standalone};
            standalone(&r, &Titles::of(&r), base_url.as_deref()).into_bytes()
        }
        "pdf" => fitcheck_controller::present::pdf::recommendation_pdf(&r),
        _ => fitcheck_controller::present::render::markdown(&r).into_bytes(),
    };
    match output {
        Some(path) => {
            std::fs::write(&path, bytes)
                .with_context(|| format!("cannot write {}", path.display()))?;
            eprintln!(
                "{}: {} ({})",
                path.display(),
                r.verdict.words(),
                r.evaluation.title
            );
        }
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(&bytes)
                .context("writing to standard output")?;
        }
    }
    Ok(())
}

async fn fingerprint(FingerprintArgs { storage, tls_cert }: FingerprintArgs) -> anyhow::Result<()> {
    let config = storage.config();
    let path = tls_cert.unwrap_or_else(|| config.data_dir.join("tls/cert.pem"));
    let der = rustls_pem_leaf(&path)?;
    let fp = tls::fingerprint(&der);
    println!("{fp}\n{}", tls::fingerprint_colons(&fp));
    Ok(())
}

/// `user …`: people and their passwords and roles.
async fn user(command: UserCommand) -> anyhow::Result<()> {
    match command {
        UserCommand::Add {
            storage,
            username,
            role,
        } => add_user(storage, username, role).await,
        UserCommand::ResetPassword { storage, username } => reset_password(storage, username).await,
        UserCommand::SetPassword {
            storage,
            username,
            password_file,
        } => set_password(storage, username, password_file).await,
        UserCommand::List { storage } => list_users(storage).await,
        UserCommand::Role {
            storage,
            username,
            role,
        } => {
            let controller = Controller::open(storage.config()).await?;
            found(
                controller.store().set_role(&username, &role).await?,
                &username,
            )?;
            println!("{username:?} is now {role}; their sessions have ended");
            Ok(())
        }
        UserCommand::Remove { storage, username } => {
            let controller = Controller::open(storage.config()).await?;
            found(controller.store().remove_user(&username).await?, &username)?;
            println!("{username:?} removed; their sessions have ended");
            Ok(())
        }
    }
}

/// `user add`: a person with a one-time password, printed once.
async fn add_user(storage: Storage, username: String, role: String) -> anyhow::Result<()> {
    let controller = Controller::open(storage.config()).await?;
    fitcheck_controller::api::people::check_new_user(&fitcheck_controller::types::NewUser {
        username: username.clone(),
        role: role.clone(),
    })
    .map_err(|f| anyhow::anyhow!(f.body.message))?;
    let password = auth::new_password();
    let hash = auth::hash_password(&password).map_err(anyhow::Error::msg)?;
    controller
        .store()
        .create_user(&username, &role, &hash, clock::now_ms())
        .await?;
    println!("{role} {username:?} created; one-time password: {password}");
    Ok(())
}

/// `user reset-password`: a new one-time password, printed once; the person's sessions end.
async fn reset_password(storage: Storage, username: String) -> anyhow::Result<()> {
    let controller = Controller::open(storage.config()).await?;
    let password = auth::new_password();
    let hash = auth::hash_password(&password).map_err(anyhow::Error::msg)?;
    found(
        controller
            .store()
            .set_password(&username, &hash, true)
            .await?,
        &username,
    )?;
    println!(
        "new one-time password for {username:?} (their sessions have ended; they choose \
         their own at the next log-in): {password}"
    );
    Ok(())
}

/// `user set-password`: the password read from a file's first line or standard input.
async fn set_password(
    storage: Storage,
    username: String,
    password_file: Option<PathBuf>,
) -> anyhow::Result<()> {
    let line = read_password(password_file.as_deref())?;
    let password = line.trim_end_matches(['\r', '\n']);
    fitcheck_controller::api::people::check_new_password(password)
        .map_err(|f| anyhow::anyhow!(f.body.message))?;
    let controller = Controller::open(storage.config()).await?;
    let hash = auth::hash_password(password).map_err(anyhow::Error::msg)?;
    found(
        controller
            .store()
            .set_password(&username, &hash, false)
            .await?,
        &username,
    )?;
    println!("password of {username:?} set; their sessions have ended");
    Ok(())
}

/// The first line of `path`, or a line of standard input without one.
fn read_password(path: Option<&Path>) -> anyhow::Result<String> {
    let mut line = String::new();
    match path {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("reading the password from {}", path.display()))?;
            line = text.lines().next().unwrap_or_default().to_owned();
        }
        None => {
            std::io::stdin()
                .read_line(&mut line)
                .context("reading the password from standard input")?;
        }
    }
    Ok(line)
}

/// `user list`: every person, their role, and whether their one-time password is unchanged.
async fn list_users(storage: Storage) -> anyhow::Result<()> {
    let controller = Controller::open(storage.config()).await?;
    for u in controller.store().list_users().await? {
        let note = if u.must_change_password() {
            " (one-time password not yet changed)"
        } else {
            ""
        };
        println!("{}\t{}{note}", u.username, u.role);
    }
    Ok(())
}

fn rustls_pem_leaf(path: &std::path::Path) -> anyhow::Result<Vec<u8>> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let cert = CertificateDer::pem_file_iter(path)
        .with_context(|| format!("cannot read {}", path.display()))?
        .next()
        .with_context(|| format!("{} holds no certificate", path.display()))?
        .with_context(|| format!("{} is not a PEM certificate", path.display()))?;
    Ok(cert.as_ref().to_vec())
}

async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    tracing::info!("Shutting down: finishing requests in flight.");
}

/// `found`, or an error naming the person who is not there.
fn found(found: bool, username: &str) -> anyhow::Result<()> {
    if !found {
        anyhow::bail!("no user named {username:?}");
    }
    Ok(())
}
