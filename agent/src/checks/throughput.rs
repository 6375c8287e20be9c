//! The throughput engine: several parallel TCP streams, ramp-up discarded, stopped early once
//! the figure is stable, bounded by hard caps the agent enforces whatever it is asked.
//!
//! The figure is what the streams carried, nothing added: bytes delivered to (download) or
//! accepted from (upload) the application between the end of the ramp-up and the stop, divided
//! by that time. In steady state the socket buffers are as full at both ends of that window, so
//! counting at the application is counting what the link carried.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::StreamExt;
use reqwest::Url;
use serde::{Deserialize, Serialize};

use fitcheck_core::api::bandwidth_caps;
use fitcheck_core::report::ThroughputSamples;

use crate::checks::tcp;

/// Limits no profile, controller or flag can raise.
pub const HARD_CAPS: Caps = Caps {
    max_seconds: bandwidth_caps::TEST_SECONDS,
    max_bytes: bandwidth_caps::TEST_BYTES,
    max_bytes_per_day: bandwidth_caps::BYTES_PER_DAY,
};

/// Limits on one measurement.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Caps {
    /// Longest one direction may run, seconds.
    pub max_seconds: f64,
    /// Most bytes one direction may move.
    pub max_bytes: u64,
    /// Most bytes all measurements of one day may move.
    pub max_bytes_per_day: u64,
}

impl Caps {
    /// `asked`, lowered to the hard caps where it exceeds them.
    pub fn clamp(asked: Caps) -> Caps {
        Caps {
            max_seconds: if asked.max_seconds.is_finite() && asked.max_seconds > 0.0 {
                asked.max_seconds.min(HARD_CAPS.max_seconds)
            } else {
                HARD_CAPS.max_seconds
            },
            max_bytes: asked.max_bytes.min(HARD_CAPS.max_bytes),
            max_bytes_per_day: asked.max_bytes_per_day.min(HARD_CAPS.max_bytes_per_day),
        }
    }
}

/// Where to measure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A fitcheck bandwidth endpoint (`…/bandwidth/download?bytes=N`, `…/bandwidth/upload`).
    Endpoint(Url),
    /// Any URL: downloads fetch it again and again; uploads POST to `upload`, when given.
    Urls { download: Url, upload: Option<Url> },
}

impl Target {
    fn download_url(&self, bytes: u64) -> Url {
        match self {
            Target::Endpoint(base) => endpoint_url(base, "download", &format!("bytes={bytes}")),
            Target::Urls { download, .. } => download.clone(),
        }
    }

    fn upload_url(&self, session: &str) -> Option<Url> {
        match self {
            Target::Endpoint(base) => {
                Some(endpoint_url(base, "upload", &format!("session={session}")))
            }
            Target::Urls { upload, .. } => upload.clone(),
        }
    }

    /// Where the receiver says how much a session's uploads delivered, when it can.
    fn progress_url(&self, session: &str) -> Option<Url> {
        match self {
            Target::Endpoint(base) => Some(endpoint_url(
                base,
                "upload/progress",
                &format!("session={session}"),
            )),
            Target::Urls { .. } => None,
        }
    }
}

/// The endpoint's upload progress answer.
#[derive(Debug, Deserialize)]
struct Progress {
    bytes: u64,
}

/// `base` + `/bandwidth/<route>?<query>`, keeping any path prefix the endpoint is mounted under.
fn endpoint_url(base: &Url, route: &str, query: &str) -> Url {
    let mut u = base.clone();
    u.set_path(&format!(
        "{}/bandwidth/{route}",
        base.path().trim_end_matches('/')
    ));
    u.set_query(Some(query));
    u
}

/// Which way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Download,
    Upload,
}

/// One direction's figure and how it was obtained.
#[derive(Debug, Clone, PartialEq)]
pub struct Measurement {
    /// Mbit/s over the measured window; `None` when nothing could be measured.
    pub mbps: Option<f64>,
    /// Streams used.
    pub streams: u32,
    /// Bytes moved in all, ramp-up included.
    pub bytes: u64,
    /// Length of the measured window (after ramp-up).
    pub window: Duration,
    /// From the first request to the stop.
    pub elapsed: Duration,
    /// Caveats (`too_short`, `sender_limited`, `not_stable`, `byte_cap`, …).
    pub validity: Vec<String>,
    /// Why nothing could be measured.
    pub error: Option<String>,
    /// Bytes per sampling interval over the measured window, with absolute times.
    pub samples: Option<ThroughputSamples>,
}

impl Measurement {
    /// Nothing measured, for `error`.
    fn unmeasured(error: &str) -> Measurement {
        Measurement {
            mbps: None,
            streams: 0,
            bytes: 0,
            window: Duration::ZERO,
            elapsed: Duration::ZERO,
            validity: Vec::new(),
            error: Some(error.to_owned()),
            samples: None,
        }
    }
}

/// How long one direction runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Hold {
    /// Until the figure is stable (or a cap ends it).
    UntilStable,
    /// Until the time cap, stable or not: a coordinated run, where every device of a site keeps
    /// its streams up over the same seconds so that what they carried together is measured.
    UntilTimeCap,
}

/// Sampling period.
const TICK: Duration = Duration::from_millis(100);
/// Rate windows used to find the end of ramp-up and stability.
const WINDOW_TICKS: usize = 5;
/// The shortest ramp-up discarded.
const MIN_RAMP: Duration = Duration::from_millis(1000);
/// The fewest windows measured after ramp-up before stopping early.
const MIN_STABLE_WINDOWS: usize = 4;
/// Stable: the running estimate moved less than this fraction.
const STABLE_DRIFT: f64 = 0.01;
/// Each download request asks for at most this much, so a stream can stop promptly.
const REQUEST_BYTES: u64 = bandwidth_caps::DOWNLOAD_REQUEST_BYTES;

/// Streams for a path with this idle RTT: more for long fat paths, where each TCP stream's
/// window and loss recovery limit it.
pub fn streams_for_rtt(rtt: Option<Duration>) -> u32 {
    let ms = rtt.map_or(20.0, |r| r.as_secs_f64() * 1000.0);
    ((ms / 10.0).ceil() as u32).clamp(4, 16)
}

/// Median TCP connect time to `addr` over `n` tries: the idle RTT (a SYN and its SYN-ACK).
pub async fn connect_rtt(addr: SocketAddr, n: usize) -> Option<Duration> {
    let mut v = Vec::new();
    for _ in 0..n {
        let c = tcp::connect(addr, Duration::from_secs(2)).await;
        if c.stream.is_some() || c.outcome == fitcheck_core::report::TcpOutcome::Refused {
            v.push(c.duration);
        }
    }
    v.sort();
    v.get(v.len() / 2).copied()
}

fn cpu_seconds() -> Option<f64> {
    // utime and stime, fields 14 and 15 of /proc/self/stat, in clock ticks (100 Hz on Linux).
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let f: Vec<&str> = after.split_whitespace().collect();
    let ut: f64 = f.get(11)?.parse().ok()?;
    let st: f64 = f.get(12)?.parse().ok()?;
    Some((ut + st) / 100.0)
}

struct Shared {
    /// Bytes carried so far, as the sender counts them.
    bytes: AtomicU64,
    /// Bytes the receiver reports delivered (uploads to a fitcheck endpoint).
    received: AtomicU64,
    /// Each receiver report: seconds since the start (the middle of its round trip) and bytes.
    reports: std::sync::Mutex<Vec<(f64, u64)>>,
    /// Bytes streams have been allowed to ask for or send; never more than the budget.
    granted: AtomicU64,
    budget: u64,
    stop: AtomicBool,
    errors: std::sync::Mutex<Vec<String>>,
}

impl Shared {
    /// Nothing carried or granted yet, `budget` bytes to grant.
    fn new(budget: u64) -> Shared {
        Shared {
            bytes: AtomicU64::new(0),
            received: AtomicU64::new(0),
            reports: std::sync::Mutex::new(Vec::new()),
            granted: AtomicU64::new(0),
            budget,
            stop: AtomicBool::new(false),
            errors: std::sync::Mutex::new(Vec::new()),
        }
    }

    /// The count the figure is taken from: what the receiver reports when `received`, else
    /// what the streams sent.
    fn count(&self, received: bool) -> u64 {
        if received {
            self.received.load(Ordering::Relaxed)
        } else {
            self.bytes.load(Ordering::Relaxed)
        }
    }

    /// Reserves up to `want` bytes of the budget; 0 when it is spent.
    fn reserve(&self, want: u64) -> u64 {
        let mut got = 0;
        let _ = self
            .granted
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |g| {
                got = want.min(self.budget.saturating_sub(g));
                Some(g + got)
            });
        got
    }

    fn note(&self, error: String) {
        if let Ok(mut v) = self.errors.lock() {
            v.push(error);
        }
    }
}

async fn download_stream(client: reqwest::Client, target: Target, s: Arc<Shared>) {
    while !s.stop.load(Ordering::Relaxed) {
        // A fitcheck endpoint sends exactly what is asked, so reserving first keeps the total
        // within the budget; a vendor URL sends what it has, and the stream stops at the budget.
        let ask = match &target {
            Target::Endpoint(_) => s.reserve(REQUEST_BYTES),
            Target::Urls { .. } => REQUEST_BYTES,
        };
        if ask == 0 {
            return;
        }
        let resp = match client.get(target.download_url(ask)).send().await {
            Ok(r) if r.status().is_success() => r,
            Ok(r) => return s.note(format!("status {}", r.status())),
            Err(e) => return s.note(e.to_string()),
        };
        let mut body = resp.bytes_stream();
        while let Some(chunk) = body.next().await {
            match chunk {
                Ok(c) => {
                    let total =
                        s.bytes.fetch_add(c.len() as u64, Ordering::Relaxed) + c.len() as u64;
                    if s.stop.load(Ordering::Relaxed) || total >= s.budget {
                        return;
                    }
                }
                Err(e) => {
                    if !s.stop.load(Ordering::Relaxed) {
                        s.note(e.to_string());
                    }
                    return;
                }
            }
        }
    }
}

async fn upload_stream(client: reqwest::Client, url: Url, block: Bytes, s: Arc<Shared>) {
    const CHUNK: u64 = 64 << 10;
    while !s.stop.load(Ordering::Relaxed) && s.granted.load(Ordering::Relaxed) < s.budget {
        let shared = s.clone();
        let block = block.clone();
        let chunks = futures_util::stream::unfold(0usize, move |i| {
            let shared = shared.clone();
            let block = block.clone();
            async move {
                if shared.stop.load(Ordering::Relaxed) {
                    return None;
                }
                let size = usize::try_from(shared.reserve(CHUNK)).unwrap_or(0);
                if size == 0 {
                    return None;
                }
                let start = (i * CHUNK as usize) % block.len();
                let chunk = block.slice(start..(start + size).min(block.len()));
                shared
                    .bytes
                    .fetch_add(chunk.len() as u64, Ordering::Relaxed);
                Some((Ok::<Bytes, std::io::Error>(chunk), i + 1))
            }
        });
        let result = client
            .post(url.clone())
            .body(reqwest::Body::wrap_stream(chunks))
            .send()
            .await;
        if let Err(e) = result
            && !s.stop.load(Ordering::Relaxed)
        {
            return s.note(e.to_string());
        }
    }
}

/// Measures one direction.
pub async fn measure(
    client: &reqwest::Client,
    target: &Target,
    direction: Direction,
    streams: u32,
    caps: Caps,
    hold: Hold,
) -> Measurement {
    let caps = Caps::clamp(caps);
    let start = Instant::now();
    let start_wall = std::time::SystemTime::now();
    let shared = Arc::new(Shared::new(caps.max_bytes));
    let session = uuid::Uuid::new_v4().simple().to_string();
    let upload_url = target.upload_url(&session);
    // Upload figures from the receiver's count where it gives one: what a sender has written
    // may still sit in its socket buffer.
    let progress_url = match direction {
        Direction::Upload => target.progress_url(&session),
        Direction::Download => None,
    };
    if direction == Direction::Upload && upload_url.is_none() {
        return Measurement::unmeasured("no upload URL to measure against");
    }
    let mut tasks = spawn_streams(
        client,
        target,
        direction,
        upload_url.as_ref(),
        streams,
        &shared,
    );
    let poller = progress_url
        .clone()
        .map(|url| spawn_poller(client.clone(), url, start, shared.clone()));
    let counting_received = poller.is_some();
    let cpu_start = cpu_seconds();
    let mut sampled = sample(&shared, &mut tasks, caps, hold, start, counting_received).await;
    shared.stop.store(true, Ordering::Relaxed);
    let elapsed = start.elapsed();
    stop_streams(tasks, poller).await;
    last_receipt(client, progress_url.as_ref(), start, &shared).await;
    let cpu = cpu_since(cpu_start);
    let total = shared.bytes.load(Ordering::Relaxed);
    let errors = shared.errors.lock().map(|e| e.clone()).unwrap_or_default();
    let Window {
        length: window,
        carried,
        series_from,
    } = measured_window(&sampled, &shared, counting_received);
    let mbps = (window > Duration::ZERO && carried > 0)
        .then(|| carried as f64 * 8.0 / window.as_secs_f64() / 1e6);
    let series = mbps.and_then(|_| {
        timed_samples(
            start_wall,
            &sampled.taken,
            &sampled.samples,
            series_from,
            sampled.stop_at,
        )
    });
    add_run_caveats(&mut sampled.validity, window, cpu, elapsed);
    Measurement {
        mbps,
        streams,
        bytes: total,
        window,
        elapsed,
        validity: sampled.validity,
        error: error_of(mbps, &errors),
        samples: series,
    }
}

/// Why nothing was measured, when nothing was: the first error a stream met, if any.
fn error_of(mbps: Option<f64>, errors: &[String]) -> Option<String> {
    if mbps.is_none() {
        Some(
            errors
                .first()
                .cloned()
                .unwrap_or_else(|| "nothing was carried".to_owned()),
        )
    } else {
        None
    }
}

/// Starts `streams` streams in `direction`: uploads to `upload_url` when there is one, else
/// downloads from `target`.
fn spawn_streams(
    client: &reqwest::Client,
    target: &Target,
    direction: Direction,
    upload_url: Option<&Url>,
    streams: u32,
    shared: &Arc<Shared>,
) -> tokio::task::JoinSet<()> {
    let mut block = vec![0u8; 4 << 20];
    rand::fill(&mut block[..]);
    let block = Bytes::from(block);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..streams {
        let client = client.clone();
        let s = shared.clone();
        match (direction, upload_url) {
            (Direction::Upload, Some(u)) => {
                tasks.spawn(upload_stream(client, u.clone(), block.clone(), s));
            }
            _ => {
                tasks.spawn(download_stream(client, target.clone(), s));
            }
        }
    }
    tasks
}

/// Starts asking the receiver, every half tick, how much of the session's uploads it has.
fn spawn_poller(
    client: reqwest::Client,
    url: Url,
    start: Instant,
    s: Arc<Shared>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Bounded by the stop flag, which the sampling loop always sets, and by time.
        let deadline = Instant::now() + Duration::from_secs_f64(HARD_CAPS.max_seconds + 5.0);
        while !s.stop.load(Ordering::Relaxed) && Instant::now() < deadline {
            read_progress(&client, &url, start, &s).await;
            tokio::time::sleep(TICK / 2).await;
        }
    })
}

/// What the sampling loop saw.
struct Sampled {
    /// The count at each tick, from 0 at the start.
    samples: Vec<u64>,
    /// When each sample was taken, from `start`.
    taken: Vec<Duration>,
    /// The tick where ramp-up ended, when it was seen to end.
    ramp_end: Option<usize>,
    /// The tick the loop stopped at.
    stop_at: usize,
    /// Caveats found while sampling (`byte_cap`, `not_stable`).
    validity: Vec<String>,
}

/// Counts what the streams carried every tick until they all end, the time cap is reached, or
/// (holding until stable) the figure has settled after ramp-up.
async fn sample(
    shared: &Shared,
    tasks: &mut tokio::task::JoinSet<()>,
    caps: Caps,
    hold: Hold,
    start: Instant,
    counting_received: bool,
) -> Sampled {
    let mut samples: Vec<u64> = vec![0];
    // When each sample was taken, from `start`.
    let mut taken: Vec<Duration> = vec![Duration::ZERO];
    let mut ramp_end: Option<usize> = None;
    let mut validity = Vec::new();
    let mut ticker = tokio::time::interval(TICK);
    ticker.tick().await;
    let max_ticks = (caps.max_seconds / TICK.as_secs_f64()).floor() as usize;
    let mut capped = false;
    let stop_at = loop {
        ticker.tick().await;
        samples.push(shared.count(counting_received));
        taken.push(start.elapsed());
        let n = samples.len() - 1;
        // Past the byte cap no stream is granted more; those still carrying what they were
        // granted finish (bounded by the time cap), so that an upload's last bytes reach the
        // receiver and are counted before the figure is taken.
        if !capped && shared.bytes.load(Ordering::Relaxed) >= caps.max_bytes {
            validity.push("byte_cap".to_owned());
            capped = true;
        }
        while tasks.try_join_next().is_some() {}
        if tasks.is_empty() {
            // Every stream ended: its budget was spent, or the server stopped answering.
            break n;
        }
        if n >= max_ticks {
            if ramp_end.is_none() || !stable(&samples, ramp_end.unwrap_or(0)) {
                validity.push("not_stable".to_owned());
            }
            break n;
        }
        if capped || n % WINDOW_TICKS != 0 {
            continue;
        }
        match ramp_end {
            None => {
                if TICK * u32::try_from(n).unwrap_or(u32::MAX) >= MIN_RAMP && ramp_over(&samples) {
                    ramp_end = Some(n);
                }
            }
            Some(r) => {
                if hold == Hold::UntilStable
                    && (n - r) / WINDOW_TICKS >= MIN_STABLE_WINDOWS
                    && stable(&samples, r)
                {
                    break n;
                }
            }
        }
    };
    Sampled {
        samples,
        taken,
        ramp_end,
        stop_at,
        validity,
    }
}

/// Ends the streams and the progress poller, waiting for the streams to finish.
async fn stop_streams(
    mut tasks: tokio::task::JoinSet<()>,
    poller: Option<tokio::task::JoinHandle<()>>,
) {
    tasks.abort_all();
    while tasks.join_next().await.is_some() {}
    if let Some(p) = poller {
        p.abort();
    }
}

/// Asks the receiver for its count one last time (for at most 2 s), when it gives one.
async fn last_receipt(
    client: &reqwest::Client,
    progress_url: Option<&Url>,
    start: Instant,
    shared: &Shared,
) {
    // One last receipt: on a fast path the byte cap can be reached before the receiver's first
    // report arrived, and what was written is only counted once the receiver says it has it.
    if let Some(url) = progress_url {
        let _ = tokio::time::timeout(
            Duration::from_secs(2),
            read_progress(client, url, start, shared),
        )
        .await;
    }
}

/// CPU seconds this process used since `cpu_start`, when both readings exist.
fn cpu_since(cpu_start: Option<f64>) -> Option<f64> {
    match (cpu_start, cpu_seconds()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    }
}

/// The window a figure is taken over.
struct Window {
    /// How long it lasted.
    length: Duration,
    /// Bytes carried over it.
    carried: u64,
    /// The tick its per-interval samples start at.
    series_from: usize,
}

/// The measured window: after ramp-up (or the second half of the run) up to the stop, timed by
/// the receiver's reports where there are any, or the whole run when nothing arrived after the
/// ramp-up.
fn measured_window(sampled: &Sampled, shared: &Shared, counting_received: bool) -> Window {
    let samples = &sampled.samples;
    let stop_at = sampled.stop_at;
    // Without a detected end of ramp-up, measure the second half.
    let from = sampled.ramp_end.unwrap_or(stop_at / 2);
    let mut series_from = from;
    let mut window = TICK * u32::try_from(stop_at.saturating_sub(from)).unwrap_or(0);
    let mut carried =
        samples.get(stop_at).copied().unwrap_or(0) - samples.get(from).copied().unwrap_or(0);
    // With receiver reports, the window runs between the reports' own times, not the ticks
    // that last saw them: a report can be up to a round trip old when a tick reads it.
    let reports = shared.reports.lock().map(|v| v.clone()).unwrap_or_default();
    if let Some((secs, bytes)) = window_from_reports(
        &reports,
        (TICK * u32::try_from(from).unwrap_or(0)).as_secs_f64(),
    ) {
        window = Duration::from_secs_f64(secs);
        carried = bytes;
    }
    if carried == 0
        && let Some((secs, bytes)) = whole_run(&samples[..=stop_at], &reports, counting_received)
    {
        // Everything arrived before the measured window began (a byte cap a fast path reaches
        // within its ramp-up): the whole run, up to the moment the last byte was counted, is
        // the only window there is (a lower bound; `too_short` says so when it is short).
        window = Duration::from_secs_f64(secs);
        carried = bytes;
        series_from = 0;
    }
    Window {
        length: window,
        carried,
        series_from,
    }
}

/// Adds the caveats of the finished run: a window too short to trust, and a sender that was
/// short of CPU.
fn add_run_caveats(
    validity: &mut Vec<String>,
    window: Duration,
    cpu: Option<f64>,
    elapsed: Duration,
) {
    if window < Duration::from_millis(1500) {
        validity.push("too_short".to_owned());
    }
    if let Some(c) = cpu {
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(2) as f64;
        if c / elapsed.as_secs_f64() >= 0.9 * workers {
            validity.push("sender_limited".to_owned());
        }
    }
}

/// The measured window's samples as bytes per interval with absolute times: ticks `from` to
/// `to`, the interval taken as the mean tick spacing over the window (the ticker keeps the
/// pace, catching up after a late tick).
fn timed_samples(
    start_wall: std::time::SystemTime,
    taken: &[Duration],
    samples: &[u64],
    from: usize,
    to: usize,
) -> Option<ThroughputSamples> {
    if to <= from {
        return None;
    }
    let t0 = *taken.get(from)?;
    let t1 = *taken.get(to)?;
    let interval_ms = ((t1.saturating_sub(t0)).as_secs_f64() * 1000.0 / (to - from) as f64)
        .round()
        .max(1.0) as u32;
    let start_unix_ms = (start_wall + t0)
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| i64::try_from(d.as_millis()).ok())?;
    let bytes = samples
        .get(from..=to)?
        .windows(2)
        .map(|w| w[1].saturating_sub(w[0]))
        .collect();
    Some(ThroughputSamples {
        start_unix_ms,
        interval_ms,
        bytes,
    })
}

/// The whole run as one window: (seconds from the start until the final count was first seen,
/// that count), from the receiver's reports or else the samples. `None` when nothing arrived.
fn whole_run(samples: &[u64], reports: &[(f64, u64)], from_reports: bool) -> Option<(f64, u64)> {
    let (secs, bytes) = if from_reports {
        let last = reports.iter().map(|(_, b)| *b).max()?;
        *reports.iter().find(|(_, b)| *b == last)?
    } else {
        let last = *samples.last()?;
        let tick = samples.iter().position(|b| *b == last)?;
        (TICK.as_secs_f64() * tick as f64, last)
    };
    (secs > 0.0 && bytes > 0).then_some((secs, bytes))
}

/// Asks the endpoint how much of this session's uploads it has received, and records the
/// receipt (at the middle of the request's time since `start`).
async fn read_progress(client: &reqwest::Client, url: &Url, start: Instant, s: &Shared) {
    let asked = start.elapsed();
    if let Ok(r) = client.get(url.clone()).send().await
        && let Ok(body) = r.bytes().await
        && let Ok(p) = serde_json::from_slice::<Progress>(&body)
    {
        let mid = (asked + start.elapsed()).as_secs_f64() / 2.0;
        s.received.fetch_max(p.bytes, Ordering::Relaxed);
        if let Ok(mut v) = s.reports.lock()
            && v.len() < 10_000
        {
            v.push((mid, p.bytes));
        }
    }
}

/// The measured window from receiver reports: from `from_secs` (bytes interpolated between the
/// reports around it) to the last report. `None` without two reports spanning it.
fn window_from_reports(reports: &[(f64, u64)], from_secs: f64) -> Option<(f64, u64)> {
    let last = *reports.last()?;
    let after = reports.iter().position(|(t, _)| *t >= from_secs)?;
    let (t1, b1) = reports[after];
    let start_bytes = match after.checked_sub(1).and_then(|i| reports.get(i)) {
        Some(&(t0, b0)) if t1 > t0 => {
            b0 as f64 + (b1 as f64 - b0 as f64) * (from_secs - t0) / (t1 - t0)
        }
        _ => b1 as f64,
    };
    let start_secs = if after == 0 { t1 } else { from_secs };
    let secs = last.0 - start_secs;
    (secs > 0.0).then(|| (secs, (last.1 as f64 - start_bytes).max(0.0) as u64))
}

/// Rate of window `k` (ticks `k*W .. (k+1)*W`), bytes per tick.
fn window_rate(samples: &[u64], end_tick: usize) -> f64 {
    let a = samples.get(end_tick - WINDOW_TICKS).copied().unwrap_or(0);
    let b = samples.get(end_tick).copied().unwrap_or(0);
    (b - a) as f64 / WINDOW_TICKS as f64
}

/// Ramp-up is over when the last window grew less than 10 % over the one before.
fn ramp_over(samples: &[u64]) -> bool {
    let n = samples.len() - 1;
    if n < 2 * WINDOW_TICKS {
        return false;
    }
    let last = window_rate(samples, n);
    let prev = window_rate(samples, n - WINDOW_TICKS);
    prev > 0.0 && last < prev * 1.10
}

/// Stable: at least [`MIN_STABLE_WINDOWS`] windows measured after `from`, and the running
/// estimate (bytes since `from` over time since `from`) moved less than [`STABLE_DRIFT`] over the
/// last half second and over the last second. What must settle is the figure reported, not the
/// instantaneous rate, which TCP's sawtooth keeps moving.
fn stable(samples: &[u64], from: usize) -> bool {
    let n = samples.len() - 1;
    if n < from + MIN_STABLE_WINDOWS * WINDOW_TICKS {
        return false;
    }
    let base = samples.get(from).copied().unwrap_or(0);
    let estimate = |t: usize| {
        let carried = samples.get(t).copied().unwrap_or(0).saturating_sub(base);
        carried as f64 / (t - from) as f64
    };
    let now = estimate(n);
    now > 0.0
        && [n - WINDOW_TICKS, n - 2 * WINDOW_TICKS]
            .iter()
            .all(|&t| (estimate(t) - now).abs() <= STABLE_DRIFT * now)
}

/// How many bytes measurements used today, kept in the state directory.
#[derive(Debug, Clone)]
pub struct Ledger {
    path: PathBuf,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LedgerFile {
    day: String,
    bytes: u64,
}

impl Ledger {
    pub fn new(state_dir: &Path) -> Ledger {
        Ledger {
            path: state_dir.join("bandwidth-ledger.json"),
        }
    }

    fn read(&self, today: &str) -> u64 {
        std::fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| serde_json::from_str::<LedgerFile>(&t).ok())
            .filter(|f| f.day == today)
            .map_or(0, |f| f.bytes)
    }

    /// Bytes still allowed today under `caps`.
    pub fn remaining(&self, today: &str, caps: Caps) -> u64 {
        Caps::clamp(caps)
            .max_bytes_per_day
            .saturating_sub(self.read(today))
    }

    /// Records `bytes` more for today.
    pub fn add(&self, today: &str, bytes: u64) -> std::io::Result<()> {
        let f = LedgerFile {
            day: today.to_owned(),
            bytes: self.read(today).saturating_add(bytes),
        };
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let text = serde_json::to_string(&f).map_err(std::io::Error::other)?;
        crate::files::write_atomic(&self.path, text.as_bytes(), 0o644, false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_over_before_its_window_is_measured_whole() {
        // The receiver had all 4 MiB at 0.35 s; later receipts repeat it.
        let all = 4u64 << 20;
        let reports = [
            (0.05, 0),
            (0.2, all / 2),
            (0.35, all),
            (0.5, all),
            (0.65, all),
        ];
        assert_eq!(whole_run(&[], &reports, true), Some((0.35, all)));
        // Counted by the sampler: the count stopped growing at tick 3.
        let samples = [0, all / 4, all / 2, all, all, all];
        let (secs, bytes) = whole_run(&samples, &[], false).unwrap();
        assert!((secs - 0.3).abs() < 1e-9 && bytes == all);
        assert_eq!(whole_run(&[0, 0, 0], &[], false), None, "nothing arrived");
        assert_eq!(whole_run(&[], &[(0.1, 0)], true), None);
    }

    #[test]
    fn the_upload_window_runs_between_receiver_reports() {
        // 1000 bytes a second, reported at irregular times.
        let reports: Vec<(f64, u64)> = [0.2, 0.9, 1.35, 2.1, 3.05, 4.4]
            .iter()
            .map(|t| (*t, (t * 1000.0) as u64))
            .collect();
        let (secs, bytes) = window_from_reports(&reports, 1.0).unwrap();
        assert!((secs - 3.4).abs() < 1e-9);
        assert!(
            (bytes as f64 / secs - 1000.0).abs() < 1.0,
            "{bytes} in {secs}"
        );
        assert_eq!(window_from_reports(&reports, 5.0), None);
        assert_eq!(window_from_reports(&[], 1.0), None);
    }

    #[test]
    fn caps_cannot_be_raised() {
        let asked = Caps {
            max_seconds: 600.0,
            max_bytes: u64::MAX,
            max_bytes_per_day: u64::MAX,
        };
        assert_eq!(Caps::clamp(asked), HARD_CAPS);
        let lower = Caps {
            max_seconds: 5.0,
            max_bytes: 1 << 20,
            max_bytes_per_day: 1 << 30,
        };
        assert_eq!(Caps::clamp(lower), lower);
        let nonsense = Caps {
            max_seconds: f64::NAN,
            ..lower
        };
        assert_eq!(Caps::clamp(nonsense).max_seconds, HARD_CAPS.max_seconds);
    }

    #[test]
    fn stream_count_follows_rtt() {
        assert_eq!(streams_for_rtt(Some(Duration::from_millis(2))), 4);
        assert_eq!(streams_for_rtt(Some(Duration::from_millis(40))), 4);
        assert_eq!(streams_for_rtt(Some(Duration::from_millis(150))), 15);
        assert_eq!(streams_for_rtt(Some(Duration::from_millis(900))), 16);
    }

    #[test]
    fn ramp_and_stability_detection() {
        // Slow start doubling each window, then flat at 1000 bytes per tick.
        let mut s = vec![0u64];
        let mut rate = 50u64;
        for tick in 1..=60 {
            if tick % WINDOW_TICKS == 1 && rate < 1000 {
                rate = (rate * 2).min(1000);
            }
            let last = *s.last().unwrap_or(&0);
            s.push(last + rate);
        }
        assert!(!ramp_over(&s[..=15]), "still doubling at 1.5 s");
        assert!(ramp_over(&s[..=40]));
        assert!(stable(&s, 30));
        let mut noisy = s.clone();
        let end = noisy.len() - 1;
        noisy[end] += 3000;
        assert!(!stable(&noisy, 30));
    }

    #[test]
    fn the_daily_ledger_refuses_beyond_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let l = Ledger::new(dir.path());
        let caps = Caps {
            max_seconds: 8.0,
            max_bytes: 1 << 30,
            max_bytes_per_day: 1000,
        };
        assert_eq!(l.remaining("2026-11-23", caps), 1000);
        l.add("2026-11-23", 700).unwrap();
        assert_eq!(l.remaining("2026-11-23", caps), 300);
        assert_eq!(
            l.remaining("2026-11-24", caps),
            1000,
            "a new day starts afresh"
        );
    }
}
