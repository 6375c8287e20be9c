//! fitcheck-controller: enrolls agents, hands them evaluations, stores their reports durably,
//! and lets administrators and reviewers in.
//!
//! The crate is in rooms:
//!
//! - [`app`]: the router, composing the edge, the API and the pages.
//! - [`edge`]: the HTTP edge — the router, shared state, the extractors that authenticate every
//!   request, the cross-site guard, errors, rate limits, metrics, TLS and the accept loop.
//! - [`api`]: the API by resource — every route once ([`api::routes`]), the agents' API
//!   (enrollment, assignments, ingestion, the bandwidth endpoint), and the people's (people and
//!   sessions, enrollment secrets, agents, profiles, evaluations, reports, SIS summaries).
//! - [`store`]: SQLite or PostgreSQL behind one type, one module per table, and the writer
//!   that stores reports in group commits on its own thread and connection.
//! - [`evaluation`]: an evaluation's rules — which agents are in its scope, what it asks them —
//!   and the dossier that feeds the engine (`fitcheck_engine`, pure) from the store.
//! - [`present`]: the recommendation as Markdown, JSON and the committee's PDF; [`web`]: the
//!   HTML pages people read (log-in, fleet, evaluations, the recommendation, drill-downs,
//!   comparisons, the SIS), which call the API's functions and the presentation.
//! - [`auth`]: tokens (SHA-256 at rest) and passwords (Argon2id); [`passwords`]: Argon2 on a
//!   few threads of its own, with a bounded queue; [`clock`]; [`quickstart`]; [`types`]: the
//!   people's API requests and answers (the agents' are `fitcheck_core::api`).
//!
//! [`Controller::open`] prepares everything (database, first administrator, certificate);
//! [`Controller::serve`] takes a bound listener and a shutdown future.

pub mod api;
pub mod app;
pub mod auth;
pub mod clock;
pub mod edge;
pub mod evaluation;
pub mod notify;
pub mod passwords;
pub mod present;
pub mod quickstart;
pub mod store;
pub mod types;
pub mod web;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use fitcheck_core::signatures::Catalog;
use tokio::net::TcpListener;

pub use app::Limits;
use edge::bandwidth_budget;
use edge::{metrics, public_url, ratelimit, server, tls};
use store::{Store, StoreError, WriterHandle};

/// How to run a controller.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where the embedded database and the generated certificate live.
    pub data_dir: PathBuf,
    /// `postgres://…` to use PostgreSQL; absent: SQLite in `data_dir`.
    pub database: Option<String>,
    /// A certificate and key (PEM) to serve; absent: a self-signed pair in `data_dir`.
    pub tls: Option<(PathBuf, PathBuf)>,
    /// Names (DNS or IP) agents reach the controller by, for a generated certificate.
    pub tls_names: Vec<String>,
    pub limits: Limits,
    /// District signature files, added to the bundled catalog (browser agents match a tab's
    /// landing against its block hosts and filter extensions).
    pub signatures: Vec<PathBuf>,
    /// A directory holding the packed browser agent (`fitcheck-browser-agent.crx`) and its
    /// `update.xml`, as `scripts/build-browser-agent` writes them, to serve under
    /// `/browser-agent/`.
    pub browser_agent_dir: Option<PathBuf>,
    /// The address people and devices reach the controller at through a reverse proxy.
    pub public_url: Option<public_url::PublicUrl>,
}

impl Config {
    /// Defaults with this data directory.
    pub fn new(data_dir: impl Into<PathBuf>) -> Config {
        Config {
            data_dir: data_dir.into(),
            database: None,
            tls: None,
            tls_names: Vec::new(),
            limits: Limits::default(),
            signatures: Vec::new(),
            browser_agent_dir: None,
            public_url: None,
        }
    }

    /// The database URL in force.
    pub fn database_url(&self) -> String {
        match &self.database {
            Some(url) => url.clone(),
            None => format!("sqlite:{}", self.data_dir.join("fitcheck.db").display()),
        }
    }
}

/// Why a controller could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot create the data directory {path}: {source}")]
    DataDir {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Store(#[from] StoreError),
    #[error("{0}")]
    Tls(#[from] tls::TlsError),
    #[error("cannot create the first administrator: {0}")]
    Admin(String),
    #[error("signature file {0}")]
    Signatures(String),
}

/// A controller ready to serve.
#[derive(Debug)]
pub struct Controller {
    state: app::AppState,
    tls: Arc<rustls::ServerConfig>,
    writer: WriterHandle,
    /// `sha256:…` of the certificate agents will pin.
    pub fingerprint: String,
    /// Where the certificate is.
    pub cert_path: PathBuf,
    /// On the very first start: the administrator's user name and one-time password.
    pub initial_admin: Option<(String, String)>,
}

impl Controller {
    /// Opens the database (migrating it), creates the first administrator when there is no
    /// one, and loads or generates the certificate.
    pub async fn open(config: Config) -> Result<Controller, StartError> {
        std::fs::create_dir_all(&config.data_dir).map_err(|source| StartError::DataDir {
            path: config.data_dir.display().to_string(),
            source,
        })?;
        let identity = tls::load_or_generate(
            config.tls.as_ref().map(|(c, k)| (c.as_path(), k.as_path())),
            &config.data_dir,
            &config.tls_names,
        )?;
        let tls_config = tls::server_config(&identity)?;
        let (store, writer) = Store::open(&config.database_url()).await?;
        let initial_admin = first_admin(&store).await?;
        let catalog = Controller::catalog_of(&config.signatures)?;
        let state = Arc::new(app::Shared {
            limiter: ratelimit::Limiter::new(
                config.limits.agent_requests_per_s,
                config.limits.agent_burst,
            ),
            logins_by_address: ratelimit::Limiter::new(
                config.limits.login_per_s_per_address,
                config.limits.login_burst_per_address,
            )
            .with_max_keys(100_000),
            logins_by_user: ratelimit::Limiter::new(
                config.limits.login_per_s_per_user,
                config.limits.login_burst_per_user,
            )
            .with_max_keys(100_000),
            passwords: passwords::PasswordPool::new(),
            profile_parsing: tokio::sync::Semaphore::new(1),
            bandwidth: bandwidth_budget::Budget::new(
                config
                    .limits
                    .bandwidth_bytes_per_day
                    .min(fitcheck_core::api::bandwidth_caps::BYTES_PER_DAY),
            ),
            limits: config.limits,
            metrics: metrics::Metrics::new(),
            fingerprint: identity.fingerprint.clone(),
            secure_cookies: true,
            store,
            block_signatures: catalog.for_browsers(),
            catalog: Arc::new(catalog),
            browser_agent_dir: config.browser_agent_dir.clone(),
            public_url: config.public_url.clone(),
        });
        Ok(Controller {
            state,
            tls: tls_config,
            writer,
            fingerprint: identity.fingerprint,
            cert_path: identity.cert_path,
            initial_admin,
        })
    }

    /// The signature catalog in force: the bundled one, then each district file.
    pub fn catalog_of(files: &[PathBuf]) -> Result<Catalog, StartError> {
        let mut catalog = Catalog::default();
        catalog
            .add_file("bundled catalog", fitcheck_core::signatures::BUNDLED)
            .map_err(|e| StartError::Signatures(e.to_string()))?;
        for f in files {
            let text = std::fs::read_to_string(f).map_err(|e| {
                StartError::Signatures(format!("{}: cannot read it: {e}", f.display()))
            })?;
            catalog
                .add_file(&f.display().to_string(), &text)
                .map_err(|e| {
                    StartError::Signatures(format!("{e}; fix the file (see signatures/README.md)"))
                })?;
        }
        Ok(catalog)
    }

    /// The store (for command-line administration).
    pub fn store(&self) -> &Store {
        &self.state.store
    }

    /// The signature catalog in force.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.state.catalog.clone()
    }

    /// Serves HTTPS on `listener` until `shutdown` completes, then lets requests in flight
    /// finish and every queued write commit.
    pub async fn serve(self, listener: TcpListener, shutdown: impl Future<Output = ()>) {
        let router = app::router(self.state.clone());
        let watcher = tokio::spawn(watch_loop(self.state.clone()));
        server::serve_tls(listener, self.tls, router, shutdown).await;
        watcher.abort();
        let _ = watcher.await;
        let store = self.state.store.clone();
        drop(self.state);
        drop(store.clone());
        // The writer ends once the last handle on the store is gone; anything it holds was
        // not acknowledged yet, but is written if it can be.
        let _ = tokio::time::timeout(Duration::from_secs(10), async {
            drop(store);
            self.writer.finished().await;
        })
        .await;
        tracing::info!("Controller stopped.");
    }
}

/// The watcher: every `watch_tick_ms`, watch rounds started and decided, and the messages
/// owed delivered. Each step is its own transaction, so stopping between two loses nothing.
async fn watch_loop(state: app::AppState) {
    let every = Duration::from_millis(state.limits.watch_tick_ms.max(100));
    let mut ticker = tokio::time::interval(every);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut pruned_at = 0i64;
    loop {
        ticker.tick().await;
        if let Err(e) = evaluation::watch::tick(&state).await {
            tracing::warn!(error = %e.body.message, "The watcher's pass failed; it tries again at the next tick.");
        }
        notify::deliver_due(&state).await;
        let now = clock::now_ms();
        if now - pruned_at >= state.limits.watch_prune_every_ms {
            pruned_at = now;
            match state
                .store
                .prune_watch_history(now - state.limits.watch_history_ms, 5_000)
                .await
            {
                Ok((0, 0)) => {}
                Ok((reports, rounds)) => {
                    tracing::info!(
                        reports,
                        rounds,
                        "Watch history older than its keeping time thinned."
                    );
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Thinning the watch history failed; it is tried again later.");
                }
            }
        }
    }
}

async fn first_admin(store: &Store) -> Result<Option<(String, String)>, StartError> {
    if store.count_users().await? > 0 {
        return Ok(None);
    }
    let password = auth::new_password();
    let hash = auth::hash_password(&password).map_err(StartError::Admin)?;
    match store
        .create_user("admin", "admin", &hash, clock::now_ms())
        .await
    {
        Ok(_) => Ok(Some(("admin".to_owned(), password))),
        // Another controller sharing the database made it first.
        Err(StoreError::Conflict(_)) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// The default data directory: `/var/lib/fitcheck-controller` for root, else
/// `$XDG_STATE_HOME/fitcheck-controller` or `~/.local/state/fitcheck-controller`.
pub fn default_data_dir() -> PathBuf {
    if std::env::var_os("USER").is_some_and(|u| u == "root")
        || std::env::var_os("HOME").is_some_and(|h| h == "/root")
    {
        return PathBuf::from("/var/lib/fitcheck-controller");
    }
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|x| !x.is_empty()) {
        return Path::new(&x).join("fitcheck-controller");
    }
    match std::env::var_os("HOME") {
        Some(h) => Path::new(&h).join(".local/state/fitcheck-controller"),
        None => std::env::temp_dir().join("fitcheck-controller"),
    }
}
