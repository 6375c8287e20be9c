//! What each agent may move through the controller's bandwidth endpoint in a day (UTC), both
//! directions together: the agent's own daily cap ([`bandwidth_caps::BYTES_PER_DAY`]), kept
//! here too so that a credential used by something other than the agent cannot make the
//! controller stream without end. Downloads are charged what they ask before they start;
//! uploads as their bytes arrive, and cut off when the day's budget is spent.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::{Body, Bytes};
use axum::extract::{FromRequestParts, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use fitcheck_core::api::bandwidth_caps;
use futures_util::StreamExt;
use uuid::Uuid;

use crate::app::{AgentAuth, AppState};
use crate::clock;
use crate::error::Failure;

/// Bytes each agent moved on one day.
#[derive(Debug)]
pub struct Budget {
    per_day: u64,
    used: Mutex<HashMap<Uuid, (i64, u64)>>,
}

impl Budget {
    pub fn new(per_day: u64) -> Budget {
        Budget {
            per_day,
            used: Mutex::new(HashMap::new()),
        }
    }

    /// Takes up to `want` bytes of `agent`'s budget for `day`; returns what it got (0 when
    /// spent). Entries of earlier days are dropped as the day turns.
    pub fn take(&self, agent: Uuid, day: i64, want: u64) -> u64 {
        self.charge(agent, day, want, true)
    }

    /// Takes `want` bytes if all of them are left; whether it did.
    pub fn take_whole(&self, agent: Uuid, day: i64, want: u64) -> bool {
        self.charge(agent, day, want, false) == want
    }

    fn charge(&self, agent: Uuid, day: i64, want: u64, partial: bool) -> u64 {
        let mut used = match self.used.lock() {
            Ok(u) => u,
            Err(poisoned) => poisoned.into_inner(),
        };
        if used.values().next().is_some_and(|(d, _)| *d != day) {
            used.retain(|_, (d, _)| *d == day);
        }
        let entry = used.entry(agent).or_insert((day, 0));
        if entry.0 != day {
            *entry = (day, 0);
        }
        let left = self.per_day.saturating_sub(entry.1);
        let got = if partial || want <= left {
            want.min(left)
        } else {
            0
        };
        entry.1 += got;
        got
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(bandwidth_caps::BYTES_PER_DAY)
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_agent_has_its_own_allowance_and_a_new_day_renews_it() {
        let b = Budget::new(1000);
        let (a, other) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(b.take(a, 10, 600), 600);
        assert!(
            !b.take_whole(a, 10, 600),
            "a download larger than what is left"
        );
        assert_eq!(b.take(a, 10, 600), 400, "an upload gets what is left");
        assert_eq!(b.take(a, 10, 1), 0);
        assert_eq!(b.take(other, 10, 1000), 1000);
        assert_eq!(b.take(a, 11, 1000), 1000, "the next day");
        assert_eq!(
            b.used.lock().unwrap().len(),
            1,
            "yesterday's entries are dropped"
        );
    }
}
