//! What every handler can reach: the shared state (store, limits, limiters, metrics, the
//! catalog in force) and the limits and intervals it is built with.

use std::sync::Arc;

use crate::edge::metrics::Metrics;
use crate::edge::ratelimit::Limiter;
use crate::store::Store;

/// Limits and intervals, with defaults for a district of a few thousand devices.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest request body, bytes (a report with every check is a few hundred KiB at most).
    pub max_body_bytes: usize,
    /// Requests per second one agent may make, sustained.
    pub agent_requests_per_s: f64,
    /// Requests one agent may make at once after being quiet.
    pub agent_burst: u32,
    /// How often agents poll, seconds.
    pub poll_interval_s: u32,
    /// How often browser agents poll, seconds. Each poll wakes the extension's service worker,
    /// which the browser keeps for 30 s after its last event: on a student's device that is a
    /// process of some 28 MB, so browser agents poll less often than native ones by default.
    pub browser_poll_interval_s: u32,
    /// How long a log-in lasts, seconds.
    pub session_s: i64,
    /// Log-in attempts one address may make at once, and then per second (a log-in that
    /// succeeds gives its attempt back).
    pub login_burst_per_address: u32,
    pub login_per_s_per_address: f64,
    /// Log-in attempts for one user name at once, and then per second.
    pub login_burst_per_user: u32,
    pub login_per_s_per_user: f64,
    /// Bytes one agent may move through the bandwidth endpoint a day (UTC), both directions;
    /// never more than an agent's own daily cap.
    pub bandwidth_bytes_per_day: u64,
    /// How often the watcher looks for rounds to start or decide and messages to send,
    /// milliseconds.
    pub watch_tick_ms: u64,
    /// The first wait before an undelivered alert message is tried again, milliseconds; it
    /// doubles with each failure, to at most an hour.
    pub alert_retry_ms: i64,
    /// How long a watch's round-by-round history is kept in full, milliseconds: older reports
    /// from rounds and rounds that changed nothing are removed (see
    /// [`crate::store::Store::prune_watch_history`]).
    pub watch_history_ms: i64,
    /// How often that history is thinned, milliseconds.
    pub watch_prune_every_ms: i64,
}

impl Limits {
    /// How often an agent of `kind` polls, seconds.
    pub fn poll_interval_for(&self, kind: fitcheck_core::api::AgentKind) -> u32 {
        match kind {
            fitcheck_core::api::AgentKind::Browser => self.browser_poll_interval_s,
            fitcheck_core::api::AgentKind::Native => self.poll_interval_s,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body_bytes: 2 << 20,
            agent_requests_per_s: 10.0,
            agent_burst: 120,
            poll_interval_s: 60,
            browser_poll_interval_s: 300,
            session_s: 12 * 3600,
            login_burst_per_address: 20,
            login_per_s_per_address: 1.0 / 3.0,
            login_burst_per_user: 10,
            login_per_s_per_user: 0.1,
            bandwidth_bytes_per_day: fitcheck_core::api::bandwidth_caps::BYTES_PER_DAY,
            watch_tick_ms: 5_000,
            alert_retry_ms: 30_000,
            watch_history_ms: 30 * 24 * 3_600_000,
            watch_prune_every_ms: 3_600_000,
        }
    }
}

/// What every handler can reach.
#[derive(Debug)]
pub struct Shared {
    pub store: Store,
    pub limits: Limits,
    pub limiter: Limiter,
    /// Log-in budgets by client address and by user name.
    pub logins_by_address: Limiter<std::net::IpAddr>,
    pub logins_by_user: Limiter<String>,
    /// What each agent moved through the bandwidth endpoint today.
    pub bandwidth: crate::edge::bandwidth_budget::Budget,
    /// One profile is parsed at a time.
    pub profile_parsing: tokio::sync::Semaphore,
    /// Where passwords are hashed and checked.
    pub passwords: crate::passwords::PasswordPool,
    pub metrics: Metrics,
    pub fingerprint: String,
    /// Whether session cookies are marked `Secure` (always, when serving HTTPS).
    pub secure_cookies: bool,
    /// The signature catalog's block hosts and filter extensions, handed to browser agents.
    pub block_signatures: Vec<fitcheck_core::api::BlockSignature>,
    /// The signature catalog in force (bundled and district files): a browser agent's
    /// navigations are judged against its block pages.
    pub catalog: Arc<fitcheck_core::signatures::Catalog>,
    /// Where the packed browser agent and its update manifest are, to serve them.
    pub browser_agent_dir: Option<std::path::PathBuf>,
    /// The address behind a reverse proxy, when one is set.
    pub public_url: Option<crate::edge::public_url::PublicUrl>,
}

pub type AppState = Arc<Shared>;
