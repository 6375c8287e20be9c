//! The operations endpoints (`/healthz`, `/metrics`) and what the server says of itself
//! (`/api/v1/server`).

use crate::clock;
use crate::edge::extract::Person;
use crate::edge::state::AppState;
use crate::store::Backend;
use crate::types::ServerInfo;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

/// `GET /api/v1/server`: version, certificate fingerprint, database kind.
pub async fn server_info(State(state): State<AppState>, _who: Person) -> Json<ServerInfo> {
    Json(ServerInfo {
        version: env!("CARGO_PKG_VERSION").to_owned(),
        certificate_sha256: state.fingerprint.clone(),
        certificate_sha256_colons: crate::edge::tls::fingerprint_colons(&state.fingerprint),
        database: match state.store.backend() {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
        .to_owned(),
        public_url: state.public_url.as_ref().map(ToString::to_string),
    })
}

/// `GET /healthz`: 200 when the database answers, 503 otherwise.
pub async fn healthz(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok\n").into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "Health check: database unreachable.");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable\n").into_response()
        }
    }
}

/// `GET /metrics`: Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let since = clock::now_ms() - 15 * 60 * 1000;
    if let Ok((total, seen)) = state.store.count_agents(since).await {
        state.metrics.agents_enrolled.set(total);
        state.metrics.agents_seen.set(seen);
    }
    if let (Ok(w), Ok(open)) = (
        state.store.list_watches().await,
        state.store.count_open_alerts().await,
    ) {
        state.metrics.watches.set(w.len() as i64);
        state.metrics.alerts_open.set(open);
    }
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.encode(),
    )
        .into_response()
}
