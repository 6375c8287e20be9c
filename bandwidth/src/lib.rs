//! fitcheck-bandwidth: the endpoint agents measure throughput against.
//!
//! - `GET /bandwidth/download?bytes=N` streams `N` incompressible bytes (at most
//!   [`MAX_DOWNLOAD_BYTES`]) with a `Content-Length`.
//! - `POST /bandwidth/upload[?session=ID]` reads and discards the body (at most
//!   [`MAX_UPLOAD_BYTES`]) and answers `{"bytes": …, "duration_ms": …}`: what the server received
//!   and over how long, from its first body byte to its last.
//! - `GET /bandwidth/upload/progress?session=ID` answers `{"bytes": N}`: what all uploads of that
//!   session have delivered so far. Counting at the receiver is what makes an upload figure
//!   exact: bytes a client has written may still sit in its socket buffer.
//!
//! A library with [`router`] and [`serve`] so the controller can mount the same routes and tests
//! can bind port 0; `fitcheck-bandwidth-server` runs it stand-alone.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use bytes::Bytes;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

/// Largest download one request may ask for.
pub const MAX_DOWNLOAD_BYTES: u64 = 4 << 30;
/// Largest upload one request may send.
pub const MAX_UPLOAD_BYTES: u64 = 4 << 30;
/// Size of the random block the download repeats: large enough that no compression along the
/// path finds repetition within its window.
const BLOCK: usize = 4 << 20;
/// Bytes per chunk sent.
const CHUNK: usize = 64 << 10;
const _: () = assert!(BLOCK % CHUNK == 0);

/// Most upload sessions tracked at once; the least recently started is forgotten first.
const MAX_SESSIONS: usize = 256;

/// The most one request may move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// One download request, bytes.
    pub download_bytes: u64,
    /// One upload request, bytes.
    pub upload_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            download_bytes: MAX_DOWNLOAD_BYTES,
            upload_bytes: MAX_UPLOAD_BYTES,
        }
    }
}

/// Shared state: one block of random bytes, the byte counts of recent upload sessions, and
/// the limits per request.
#[derive(Debug)]
pub struct Endpoint {
    block: Bytes,
    sessions: Mutex<Vec<(String, Arc<AtomicU64>)>>,
    limits: Limits,
}

impl Endpoint {
    fn new(limits: Limits) -> Endpoint {
        let mut block = vec![0u8; BLOCK];
        rand::fill(&mut block[..]);
        Endpoint {
            block: Bytes::from(block),
            sessions: Mutex::new(Vec::new()),
            limits,
        }
    }
}

impl Default for Endpoint {
    fn default() -> Self {
        Endpoint::new(Limits::default())
    }
}

impl Endpoint {
    fn session(&self, id: &str) -> Option<Arc<AtomicU64>> {
        let mut list = self.sessions.lock().ok()?;
        if let Some((_, c)) = list.iter().find(|(k, _)| k == id) {
            return Some(c.clone());
        }
        if list.len() >= MAX_SESSIONS {
            list.remove(0);
        }
        let c = Arc::new(AtomicU64::new(0));
        list.push((id.to_owned(), c.clone()));
        Some(c)
    }
}

#[derive(Debug, Deserialize)]
struct SessionQuery {
    session: Option<String>,
}

/// What a session's uploads have delivered so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub bytes: u64,
}

fn session_id(q: &SessionQuery) -> Option<&str> {
    q.session.as_deref().filter(|s| {
        !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    })
}

#[derive(Debug, Deserialize)]
struct DownloadQuery {
    bytes: Option<u64>,
}

/// What an upload delivered, as the server saw it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct UploadReceipt {
    /// Body bytes received.
    pub bytes: u64,
    /// From the first body byte to the last, milliseconds.
    pub duration_ms: f64,
}

async fn download(State(ep): State<Arc<Endpoint>>, Query(q): Query<DownloadQuery>) -> Response {
    let Some(total) = q.bytes else {
        return (StatusCode::BAD_REQUEST, "give ?bytes=N").into_response();
    };
    let most = ep.limits.download_bytes;
    if total > most {
        return (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("at most {most} bytes per request"),
        )
            .into_response();
    }
    let block = ep.block.clone();
    // BLOCK is a multiple of CHUNK, so a chunk never runs past the block's end.
    let chunks = (0..total.div_ceil(CHUNK as u64)).map(move |i| {
        let start = usize::try_from((i * CHUNK as u64) % BLOCK as u64).unwrap_or(0);
        let len = usize::try_from((CHUNK as u64).min(total - i * CHUNK as u64)).unwrap_or(0);
        Ok::<Bytes, std::io::Error>(block.slice(start..start + len))
    });
    Response::builder()
        .header(header::CONTENT_TYPE, "application/octet-stream")
        .header(header::CONTENT_LENGTH, total)
        .header(header::CACHE_CONTROL, "no-store")
        .body(Body::from_stream(futures_util::stream::iter(chunks)))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

async fn progress(State(ep): State<Arc<Endpoint>>, Query(q): Query<SessionQuery>) -> Response {
    let Some(id) = session_id(&q) else {
        return (
            StatusCode::BAD_REQUEST,
            "give ?session=ID (letters, digits, dashes)",
        )
            .into_response();
    };
    let bytes = ep.session(id).map_or(0, |c| c.load(Ordering::Relaxed));
    axum::Json(Progress { bytes }).into_response()
}

async fn upload(
    State(ep): State<Arc<Endpoint>>,
    Query(q): Query<SessionQuery>,
    body: Body,
) -> Response {
    let counter = session_id(&q).and_then(|id| ep.session(id));
    let most = ep.limits.upload_bytes;
    let mut stream = body.into_data_stream();
    let mut bytes = 0u64;
    let mut first: Option<Instant> = None;
    let mut last = Instant::now();
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(c) => {
                first.get_or_insert_with(Instant::now);
                last = Instant::now();
                bytes += c.len() as u64;
                if let Some(counter) = &counter {
                    counter.fetch_add(c.len() as u64, Ordering::Relaxed);
                }
                if bytes > most {
                    return (
                        StatusCode::PAYLOAD_TOO_LARGE,
                        format!("at most {most} bytes per request"),
                    )
                        .into_response();
                }
            }
            Err(e) => {
                tracing::debug!(%e, "Upload ended early.");
                break;
            }
        }
    }
    let duration_ms = first.map_or(0.0, |f| last.duration_since(f).as_secs_f64() * 1000.0);
    axum::Json(UploadReceipt { bytes, duration_ms }).into_response()
}

/// The paths [`router`] answers, for a server that mounts them among its own routes.
pub const PATHS: [&str; 3] = [
    "/bandwidth/download",
    "/bandwidth/upload",
    "/bandwidth/upload/progress",
];

/// The routes, under `/bandwidth/`, with the stand-alone server's limits.
pub fn router() -> Router {
    router_with(Limits::default())
}

/// The routes, under `/bandwidth/`, with these limits per request.
pub fn router_with(limits: Limits) -> Router {
    Router::new()
        .route(PATHS[0], get(download))
        .route(PATHS[1], post(upload))
        .route(PATHS[2], get(progress))
        .with_state(Arc::new(Endpoint::new(limits)))
}

/// Serves the routes on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router())
        .with_graceful_shutdown(shutdown)
        .await
}
