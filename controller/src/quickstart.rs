//! `fitcheck-controller quickstart`: the whole chain on one machine with the embedded
//! defaults — a controller on loopback, this machine's agent enrolled to it, an evaluation of
//! a profile scoped to this machine, the agent's run, and the recommendation written to files
//! and served at its address.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use fitcheck_core::profile::Profile;
use fitcheck_core::signatures::Catalog;
use tokio::net::TcpListener;
use uuid::Uuid;

use crate::evaluation::dossier;
use crate::present::{pdf, render};
use crate::store::{EvaluationRow, ProfileRow, Store};
use crate::types::NewEvaluation;
use crate::{Config, Controller, auth, clock};

/// The site label the quickstart gives this machine.
pub const SITE: &str = "this-machine";

/// What the quickstart needs.
#[derive(Debug, Clone)]
pub struct Options {
    pub profile: PathBuf,
    pub data_dir: PathBuf,
    pub listen: std::net::SocketAddr,
    /// The agent binary; default: `fitcheck-agent` next to this program, else on the PATH.
    pub agent: Option<PathBuf>,
}

fn agent_binary(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(p) = given {
        return Ok(p.to_path_buf());
    }
    let beside = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(|d| d.join("fitcheck-agent")));
    if let Some(p) = beside.filter(|p| p.is_file()) {
        return Ok(p);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("fitcheck-agent"))
            .find(|p| p.is_file())
    });
    on_path.context(
        "fitcheck-agent is neither next to fitcheck-controller nor on the PATH; build both with `cargo build --release --bins`",
    )
}

/// Runs the chain; serves the recommendation until `shutdown` completes.
pub async fn run(
    opts: Options,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<()> {
    let agent = agent_binary(opts.agent.as_deref())?;
    let bytes = std::fs::read(&opts.profile)
        .with_context(|| format!("cannot read {}", opts.profile.display()))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let file_name = opts.profile.display().to_string();
    let profile = Profile::parse(&file_name, &text)
        .map_err(|e| anyhow::anyhow!("{e}\nthe profile has errors; nothing was run"))?;

    let mut config = Config::new(&opts.data_dir);
    config.limits.poll_interval_s = 5;
    config.limits.browser_poll_interval_s = 5;
    let controller = Controller::open(config).await?;
    let listener = TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("cannot listen on {}", opts.listen))?;
    let port = listener.local_addr()?.port();
    let base = format!("https://127.0.0.1:{port}");
    let store = controller.store().clone();
    let catalog = controller.catalog();
    let fingerprint = controller.fingerprint.clone();
    println!("controller: {base} (data in {})", opts.data_dir.display());
    say_how_to_log_in(&controller, &opts.data_dir);
    let server = tokio::spawn(controller.serve(listener, shutdown));

    let evaluation_id = evaluate_here(&store, &profile, &bytes, &file_name, text).await?;
    let state = enroll_here(&store, &agent, &opts.data_dir, &base, &fingerprint).await?;
    run_once(&agent, &state).await?;
    write_recommendation(&store, &catalog, &evaluation_id, &opts.data_dir, &base).await?;
    println!("serving until Ctrl-C");
    drop(store);
    server
        .await
        .context("the controller stopped unexpectedly")?;
    Ok(())
}

/// Says how to log in: with the first administrator's one-time password, when this start made
/// one.
fn say_how_to_log_in(controller: &Controller, data_dir: &Path) {
    match &controller.initial_admin {
        Some((user, password)) => {
            println!("  log in as {user:?} with one-time password {password} (shown once)")
        }
        None => println!(
            "  log in as \"admin\" with the password shown at the first start (or run `fitcheck-controller user reset-password admin --data-dir {}`)",
            data_dir.display()
        ),
    }
}

/// Stores the profile and an evaluation of it scoped to this machine; answers the evaluation's
/// id.
async fn evaluate_here(
    store: &Store,
    profile: &Profile,
    bytes: &[u8],
    file_name: &str,
    text: String,
) -> Result<String> {
    let now = clock::now_ms();
    let stored = store
        .insert_profile(&ProfileRow {
            id: Uuid::new_v4().to_string(),
            profile_id: profile.id.clone(),
            name: profile.name.clone(),
            vendor: profile.vendor.clone(),
            digest: fitcheck_core::digest(bytes),
            file_name: file_name.to_owned(),
            toml: text,
            uploaded_by: "quickstart".to_owned(),
            uploaded_at: now,
        })
        .await?;
    let spec = NewEvaluation {
        title: format!("{} on this machine", profile.name),
        profile: stored.id.clone(),
        sites: vec![SITE.to_owned()],
        groups: Vec::new(),
        concurrent_users: Default::default(),
        window_start: Some(clock::rfc3339(now)),
        window_end: clock::rfc3339(now + 24 * 3600 * 1000),
        bandwidth: None,
        proposal: Default::default(),
        // One machine is all there is; say so rather than judge it short of devices.
        min_devices_per_site: 1,
        data_senders: None,
        os_updates_end: Default::default(),
    };
    let evaluation_id = Uuid::new_v4().to_string();
    store
        .insert_evaluation(&EvaluationRow {
            id: evaluation_id.clone(),
            title: spec.title.clone(),
            profile: stored.id.clone(),
            spec: serde_json::to_string(&spec)?,
            window_start: now,
            window_end: now + 24 * 3600 * 1000,
            created_by: "quickstart".to_owned(),
            created_at: now,
        })
        .await?;
    println!("evaluation: {} ({evaluation_id})", spec.title);
    Ok(evaluation_id)
}

/// Enrolls this machine's agent with a fresh secret; answers its state directory.
async fn enroll_here(
    store: &Store,
    agent: &Path,
    data_dir: &Path,
    base: &str,
    fingerprint: &str,
) -> Result<PathBuf> {
    let now = clock::now_ms();
    let secret = auth::new_token(auth::TokenKind::Enrollment);
    store
        .create_secret(
            "quickstart",
            &auth::token_hash(&secret),
            now,
            Some(now + 3600 * 1000),
        )
        .await?;
    let state = data_dir.join("agent");
    let secret_file = data_dir.join("quickstart-secret");
    crate::edge::tls::write_private_file(&secret_file, secret.as_bytes())?;
    let enroll = tokio::process::Command::new(agent)
        .args([
            "enroll",
            "--new-id",
            "--controller",
            base,
            "--fingerprint",
            fingerprint,
        ])
        .arg("--secret-file")
        .arg(&secret_file)
        .args(["--label", &format!("site={SITE}")])
        .arg("--state-dir")
        .arg(&state)
        .stdin(Stdio::null())
        .output()
        .await
        .with_context(|| format!("cannot start {}", agent.display()))?;
    let _ = std::fs::remove_file(&secret_file);
    if !enroll.status.success() {
        bail!(
            "enrolling this machine's agent failed:\n{}{}",
            String::from_utf8_lossy(&enroll.stdout),
            String::from_utf8_lossy(&enroll.stderr)
        );
    }
    println!(
        "agent: enrolled (state in {}); running the profile's checks…",
        state.display()
    );
    Ok(state)
}

/// Runs one pass of the agent's daemon: the evaluation's checks, delivered; at most 15 minutes.
async fn run_once(agent: &Path, state: &Path) -> Result<()> {
    let mut daemon = tokio::process::Command::new(agent)
        .args(["daemon", "--once", "--state-dir"])
        .arg(state)
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .with_context(|| format!("cannot start {}", agent.display()))?;
    let finished = tokio::time::timeout(Duration::from_secs(15 * 60), daemon.wait()).await;
    match finished {
        Ok(Ok(status)) if status.success() => Ok(()),
        Ok(Ok(status)) => bail!("the agent's run ended with {status}; see its messages above"),
        Ok(Err(e)) => bail!("waiting for the agent failed: {e}"),
        Err(_) => bail!("the agent's run took more than 15 minutes; stopped"),
    }
}

/// Writes the recommendation as Markdown and PDF into the data directory and prints its verdict
/// and where to read it.
async fn write_recommendation(
    store: &Store,
    catalog: &Catalog,
    evaluation_id: &str,
    data_dir: &Path,
    base: &str,
) -> Result<()> {
    let r = dossier::recommendation(store, catalog, evaluation_id)
        .await
        .map_err(|f| anyhow::anyhow!(f.body.message))?;
    let md = data_dir.join("recommendation.md");
    let pdf_path = data_dir.join("recommendation.pdf");
    std::fs::write(&md, render::markdown(&r))
        .with_context(|| format!("cannot write {}", md.display()))?;
    std::fs::write(&pdf_path, pdf::recommendation_pdf(&r))
        .with_context(|| format!("cannot write {}", pdf_path.display()))?;
    println!("\nVerdict: {}\n{}", r.verdict.words(), r.summary);
    println!("\nrecommendation: {base}/evaluations/{evaluation_id}/recommendation");
    println!("files: {} and {}", md.display(), pdf_path.display());
    Ok(())
}
