//! Bandwidth: download and upload throughput against a fitcheck bandwidth endpoint or the
//! vendor URLs a profile names, with the RTT before the test and while the download runs.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use fitcheck_core::report::{BandwidthResult, CheckResult, MeasureOutcome};
use reqwest::Url;

use super::http::GuardedDns;
use super::tcp::pick;
use super::{Ctx, ms, unresolved};
use crate::checks::throughput::{self, Caps, Direction, Hold, Ledger, Measurement, Target};

/// Measure throughput.
#[derive(Debug, Clone, PartialEq)]
pub struct Spec {
    pub requirement: fitcheck_core::requirement::RequirementId,
    pub target: Target,
    pub caps: Caps,
    /// Where the daily byte ledger is kept.
    pub state_dir: PathBuf,
    /// How to reach an endpoint that is not trusted the ordinary way (the controller's).
    pub access: Option<Arc<EndpointAccess>>,
    /// A coordinated run's agreed start: every device of the site holds each direction for the
    /// whole time cap, the download from this moment and the upload from
    /// [`upload_start`] after it, so their streams share the link over the same seconds.
    pub start_at: Option<SystemTime>,
}

/// Pause between a coordinated run's download and upload slots.
pub const SLOT_GAP: Duration = Duration::from_secs(2);

/// When a coordinated run's upload starts: the download slot (the time cap) and a gap after
/// the agreed start.
pub fn upload_start(start_at: SystemTime, caps: Caps) -> SystemTime {
    start_at + Duration::from_secs_f64(Caps::clamp(caps).max_seconds) + SLOT_GAP
}

/// The controller's bandwidth endpoint is reached like the controller: through its pinned
/// certificate, with the agent's credential.
#[derive(Clone)]
pub struct EndpointAccess {
    /// A TLS set-up that accepts only the controller's certificate.
    pub tls: Arc<rustls::ClientConfig>,
    /// `Bearer …`, marked sensitive.
    pub authorization: http::HeaderValue,
}

impl std::fmt::Debug for EndpointAccess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EndpointAccess(pinned TLS, credential hidden)")
    }
}

impl PartialEq for EndpointAccess {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.tls, &other.tls) && self.authorization == other.authorization
    }
}

/// A bandwidth result with no figures: why is in `detail`.
pub(crate) fn unmeasured(
    requirement: &fitcheck_core::requirement::RequirementId,
    target: String,
    duration_ms: f64,
    detail: Option<String>,
) -> CheckResult {
    CheckResult::Bandwidth(BandwidthResult {
        requirement: requirement.clone(),
        target,
        outcome: MeasureOutcome::Unreachable,
        method: "http".to_owned(),
        download_mbps: None,
        upload_mbps: None,
        streams: 0,
        bytes: 0,
        duration_ms,
        download_duration_ms: None,
        upload_duration_ms: None,
        download_window_ms: None,
        upload_window_ms: None,
        rtt_idle_ms: None,
        rtt_loaded_ms: None,
        download_samples: None,
        upload_samples: None,
        validity: Vec::new(),
        detail,
    })
}

/// Today, as the ledger names days (UTC).
pub fn today() -> String {
    day_of(time::OffsetDateTime::now_utc())
}

/// The day of `t`, as the ledger names days.
fn day_of(t: time::OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

fn host_port(t: &Target) -> Option<(String, u16)> {
    let u: &Url = match t {
        Target::Endpoint(u) => u,
        Target::Urls { download, .. } => download,
    };
    Some((u.host_str()?.to_owned(), u.port_or_known_default()?))
}

/// The result of a full measurement: both directions and the RTTs.
#[derive(Debug, Clone)]
pub struct Figures {
    pub download: Measurement,
    pub upload: Measurement,
    pub rtt_idle: Option<Duration>,
    pub rtt_loaded: Option<Duration>,
    pub streams: u32,
    pub elapsed: Duration,
}

/// Measures both directions against `target` at `addr`, within `caps` and what today's ledger
/// allows. `client` must speak HTTP/1.1 only, so that each stream is its own TCP connection.
pub async fn measure_all(
    client: &reqwest::Client,
    target: &Target,
    addr: SocketAddr,
    caps: Caps,
    start_at: Option<SystemTime>,
) -> Figures {
    let start = Instant::now();
    let rtt_idle = throughput::connect_rtt(addr, 5).await;
    let streams = throughput::streams_for_rtt(rtt_idle);
    let loading = Arc::new(AtomicBool::new(true));
    let sampler = {
        let loading = loading.clone();
        tokio::spawn(async move {
            let mut v = Vec::new();
            // Bounded: at most 4 samples a second for the longest test.
            let most = (throughput::HARD_CAPS.max_seconds * 4.0) as usize;
            while loading.load(Ordering::Relaxed) && v.len() < most {
                if let Some(rtt) = throughput::connect_rtt(addr, 1).await {
                    v.push(rtt);
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            v.sort();
            v.get(v.len() / 2).copied()
        })
    };
    let hold = if start_at.is_some() {
        Hold::UntilTimeCap
    } else {
        Hold::UntilStable
    };
    let download =
        throughput::measure(client, target, Direction::Download, streams, caps, hold).await;
    loading.store(false, Ordering::Relaxed);
    let rtt_loaded = sampler.await.ok().flatten();
    if let Some(at) = start_at
        && let Ok(wait) = upload_start(at, caps).duration_since(SystemTime::now())
    {
        // Bounded: the slot is at most the hard time cap and the gap away.
        tokio::time::sleep(
            wait.min(Duration::from_secs_f64(throughput::HARD_CAPS.max_seconds) + SLOT_GAP),
        )
        .await;
    }
    let upload = throughput::measure(client, target, Direction::Upload, streams, caps, hold).await;
    Figures {
        download,
        upload,
        rtt_idle,
        rtt_loaded,
        streams,
        elapsed: start.elapsed(),
    }
}

/// An HTTP/1.1 client for measurements, resolving through the shared resolver.
pub fn client(ctx: &Ctx) -> Result<reqwest::Client, String> {
    client_for(ctx, None)
}

/// [`client`], or with `access` the pinned TLS set-up and credential of the controller.
pub fn client_for(ctx: &Ctx, access: Option<&EndpointAccess>) -> Result<reqwest::Client, String> {
    let config = match access {
        Some(a) => (*a.tls).clone(),
        None => ctx
            .tls
            .client_config(&crate::tls::SeenChains::default())
            .map_err(|e| e.to_string())?,
    };
    let mut headers = http::HeaderMap::new();
    if let Some(a) = access {
        headers.insert(http::header::AUTHORIZATION, a.authorization.clone());
    }
    reqwest::Client::builder()
        .tls_backend_preconfigured(config)
        .default_headers(headers)
        .dns_resolver(Arc::new(GuardedDns(ctx.resolver.clone())))
        .http1_only()
        .connect_timeout(Duration::from_secs(5))
        .user_agent(concat!("fitcheck-agent/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| e.to_string())
}

fn validity(prefix: &str, m: &Measurement) -> impl Iterator<Item = String> {
    m.validity.iter().map(move |v| format!("{prefix}:{v}"))
}

pub async fn run(spec: &Spec, ctx: &Ctx) -> CheckResult {
    let unmeasured = |detail: String| {
        unmeasured(
            &spec.requirement,
            target_text(&spec.target),
            0.0,
            Some(detail),
        )
    };
    let Some((host, port)) = host_port(&spec.target) else {
        return unmeasured("the bandwidth URL has no host".to_owned());
    };
    let answer = ctx.resolve(&host).await;
    let Some(ip) = pick(&answer.usable_addresses()) else {
        return unresolved(&spec.requirement, &host, &answer);
    };
    let ledger = Ledger::new(&spec.state_dir);
    let day = today();
    let left = ledger.remaining(&day, spec.caps);
    if left < 1 << 20 {
        return unmeasured(format!(
            "today's measurement allowance is spent ({} bytes a day); measure again tomorrow",
            Caps::clamp(spec.caps).max_bytes_per_day
        ));
    }
    let caps = Caps {
        max_bytes: spec.caps.max_bytes.min(left / 2),
        ..spec.caps
    };
    let client = match client_for(ctx, spec.access.as_deref()) {
        Ok(c) => c,
        Err(e) => return unmeasured(format!("HTTP client: {e}")),
    };
    let f = measure_all(
        &client,
        &spec.target,
        SocketAddr::new(ip, port),
        caps,
        spec.start_at,
    )
    .await;
    let bytes = f.download.bytes + f.upload.bytes;
    if let Err(e) = ledger.add(&day, bytes) {
        tracing::warn!(%e, "Cannot record today's measurement bytes; the daily cap is unenforced until it can.");
    }
    let outcome = if f.download.mbps.is_some() || f.upload.mbps.is_some() {
        MeasureOutcome::Measured
    } else {
        MeasureOutcome::Unreachable
    };
    let errors: Vec<String> = [("download", &f.download), ("upload", &f.upload)]
        .iter()
        .filter_map(|(d, m)| m.error.as_ref().map(|e| format!("{d}: {e}")))
        .collect();
    CheckResult::Bandwidth(BandwidthResult {
        requirement: spec.requirement.clone(),
        target: target_text(&spec.target),
        outcome,
        method: format!(
            "http, {} parallel TCP streams, ramp-up discarded",
            f.streams
        ),
        download_mbps: f.download.mbps,
        upload_mbps: f.upload.mbps,
        streams: f.streams,
        bytes,
        duration_ms: ms(f.elapsed),
        download_duration_ms: f.download.mbps.map(|_| ms(f.download.elapsed)),
        upload_duration_ms: f.upload.mbps.map(|_| ms(f.upload.elapsed)),
        download_window_ms: f.download.mbps.map(|_| ms(f.download.window)),
        upload_window_ms: f.upload.mbps.map(|_| ms(f.upload.window)),
        rtt_idle_ms: f.rtt_idle.map(ms),
        rtt_loaded_ms: f.rtt_loaded.map(ms),
        download_samples: f.download.samples.clone(),
        upload_samples: f.upload.samples.clone(),
        validity: validity("download", &f.download)
            .chain(validity("upload", &f.upload))
            .collect(),
        detail: (!errors.is_empty()).then(|| errors.join("; ")),
    })
}

fn target_text(t: &Target) -> String {
    match t {
        Target::Endpoint(u) => u.to_string(),
        Target::Urls { download, .. } => download.to_string(),
    }
}
