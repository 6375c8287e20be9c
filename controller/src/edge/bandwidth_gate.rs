//! The gate in front of the bandwidth endpoint: only enrolled, unrevoked agents, each within
//! its daily budget ([`crate::edge::bandwidth_budget`]). Downloads are charged what they ask before
//! they start; uploads as their bytes arrive, and cut off when the day's budget is spent.

use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use fitcheck_core::api::bandwidth_caps;
use futures_util::StreamExt;
use uuid::Uuid;

use crate::clock;
use crate::edge::error::Failure;
use crate::edge::extract::AgentAuth;
use crate::edge::state::AppState;

const DAY_MS: i64 = 86_400_000;

fn spent(now_ms: i64) -> Failure {
    let mut f = Failure::new(
        axum::http::StatusCode::TOO_MANY_REQUESTS,
        "bandwidth_budget_spent",
        "this agent has moved its daily allowance through this endpoint; it renews at 00:00 UTC",
    );
    let to_midnight_s = (DAY_MS - now_ms.rem_euclid(DAY_MS)) / 1000;
    f.retry_after_s = Some(u64::try_from(to_midnight_s).unwrap_or(1).max(1));
    f
}

/// Middleware in front of the bandwidth routes: only enrolled, unrevoked agents, each within
/// its daily budget.
pub async fn guard(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Result<Response, Failure> {
    let (mut parts, body) = request.into_parts();
    let agent = AgentAuth::from_request_parts(&mut parts, &state).await?;
    let now = clock::now_ms();
    let day = now.div_euclid(DAY_MS);
    let path = parts.uri.path().to_owned();
    let body = if path.ends_with("/download") {
        let asked = parts
            .uri
            .query()
            .and_then(|q| q.split('&').find_map(|kv| kv.strip_prefix("bytes=")))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        // Beyond one request's limit the endpoint answers 413 itself; charge only real asks.
        if asked <= bandwidth_caps::DOWNLOAD_REQUEST_BYTES
            && !state.bandwidth.take_whole(agent.id, day, asked)
        {
            return Err(spent(now));
        }
        body
    } else if path.ends_with("/upload") {
        // One byte taken now: an upload with nothing left is refused before it starts.
        if state.bandwidth.take(agent.id, day, 1) == 0 {
            return Err(spent(now));
        }
        metered(body, state.clone(), agent.id, day)
    } else {
        body
    };
    Ok(next.run(Request::from_parts(parts, body)).await)
}

/// `body`, charging each chunk to the agent's budget and ending with an error once it is spent.
fn metered(body: Body, state: AppState, agent: Uuid, day: i64) -> Body {
    // The probe byte taken above is this upload's first.
    let credit = Arc::new(Mutex::new(1u64));
    let stream = body.into_data_stream().map(move |chunk| {
        let chunk: Bytes = chunk.map_err(std::io::Error::other)?;
        let len = chunk.len() as u64;
        let mut credit = match credit.lock() {
            Ok(c) => c,
            Err(poisoned) => poisoned.into_inner(),
        };
        let from_credit = len.min(*credit);
        *credit -= from_credit;
        let want = len - from_credit;
        if state.bandwidth.take(agent, day, want) < want {
            return Err(std::io::Error::other(
                "the agent's daily bandwidth allowance is spent",
            ));
        }
        Ok(chunk)
    });
    Body::from_stream(stream)
}
