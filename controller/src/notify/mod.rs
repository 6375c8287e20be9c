//! Telling people: the messages a watch owes its channels, and their delivery. Every message
//! is written to the outbox in the transaction that made it ([`crate::store`]), then delivered
//! here with backoff until a channel takes it; a controller restarting mid-delivery picks it up
//! again. Each message carries its own id, which receivers use to drop a repeat.
//!
//! - [`webhook`]: generic JSON signed with HMAC-SHA256, and the shapes Slack and Microsoft
//!   Teams incoming webhooks accept; addresses on loopback, link-local and cloud-metadata
//!   ranges refused unless the channel allows them; no redirect followed.
//! - [`smtp`]: e-mail over SMTP (STARTTLS, TLS, or plain to a relay on the district's network),
//!   with authentication, the server's address checked the same way.

pub mod smtp;
pub mod webhook;

use serde::{Deserialize, Serialize};

use crate::clock;
use crate::edge::state::AppState;
use crate::store::{ChannelRow, OutboxRow};

/// What a message says: an alert opened or resolved, or a test.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Stable across retries: a receiver drops a message it has seen.
    pub event_id: String,
    /// `opened`, `resolved` or `test`.
    pub kind: String,
    pub evaluation_id: String,
    pub product: String,
    /// The requirement's id and title.
    pub requirement: String,
    pub title: String,
    pub sites: Vec<String>,
    /// When it started (RFC 3339).
    pub since: String,
    /// The alert in words: cause, where, since when.
    pub summary: String,
    /// Who acts.
    pub owner: String,
}

impl Message {
    /// The line people read first.
    pub fn headline(&self) -> String {
        let what = match self.kind.as_str() {
            "opened" => "Regression",
            "resolved" => "Resolved",
            _ => "Test",
        };
        format!(
            "{what} — {}: {} — {}",
            self.product, self.summary, self.owner
        )
    }
}

/// The longest a message waits before its next attempt.
const MAX_BACKOFF_MS: i64 = 60 * 60 * 1000;

/// How long after an attempt, the `attempts`-th, the next is due: `base` (30 s by default),
/// doubling, at most an hour.
pub fn backoff_ms(base: i64, attempts: i64) -> i64 {
    let shift = attempts.clamp(0, 16) as u32;
    (base.max(1) << shift).min(MAX_BACKOFF_MS)
}

/// Delivers what is due, once: each message claimed (its next attempt moved on first, so a
/// crash mid-send retries it rather than losing it), sent, and marked delivered or failed.
pub async fn deliver_due(state: &AppState) {
    let now = clock::now_ms();
    let due = match state.store.due_messages(now, 50).await {
        Ok(d) => d,
        Err(e) => {
            tracing::warn!(error = %e, "Reading the outbox failed; retrying at the next tick.");
            return;
        }
    };
    for m in due {
        deliver_one(state, m, now).await;
    }
}

async fn deliver_one(state: &AppState, m: OutboxRow, now: i64) {
    match state
        .store
        .claim_message(
            &m,
            now + backoff_ms(state.limits.alert_retry_ms, m.attempts),
        )
        .await
    {
        Ok(true) => {}
        Ok(false) => return,
        Err(e) => {
            tracing::warn!(error = %e, id = %m.id, "Claiming a message failed.");
            return;
        }
    }
    let outcome = match state.store.get_channel(&m.channel_id).await {
        Ok(Some(channel)) => send(&channel, &m).await,
        Ok(None) => Err("the channel was removed".to_owned()),
        Err(e) => Err(e.to_string()),
    };
    let stored = match &outcome {
        Ok(()) => state.store.message_delivered(&m.id, clock::now_ms()).await,
        Err(e) => state.store.message_failed(&m.id, e).await,
    };
    match (outcome, stored) {
        (Ok(()), Ok(())) => {
            state.metrics.alert_messages(true);
            tracing::info!(id = %m.id, channel = %m.channel_id, "Alert message delivered.");
        }
        (Err(e), _) => {
            state.metrics.alert_messages(false);
            tracing::warn!(id = %m.id, channel = %m.channel_id, attempts = m.attempts + 1, error = %e, "Alert message not delivered; it will be retried.");
        }
        (Ok(()), Err(e)) => {
            tracing::warn!(id = %m.id, error = %e, "Delivered, but not marked so: it may be sent again, with the same event id.");
        }
    }
}

/// One attempt at one message on its channel.
async fn send(channel: &ChannelRow, m: &OutboxRow) -> Result<(), String> {
    let message: Message = serde_json::from_str(&m.message)
        .map_err(|e| format!("the stored message is unreadable: {e}"))?;
    match channel.kind.as_str() {
        "webhook" | "slack" | "teams" => webhook::send(channel, &message).await,
        "smtp" => smtp::send(channel, &message).await,
        other => Err(format!(
            "channel kind {other:?} is not one this controller sends"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::backoff_ms;

    #[test]
    fn backoff_doubles_to_an_hour() {
        assert_eq!(backoff_ms(30_000, 0), 30_000);
        assert_eq!(backoff_ms(30_000, 1), 60_000);
        assert_eq!(backoff_ms(30_000, 6), 1_920_000);
        assert_eq!(backoff_ms(30_000, 7), 3_600_000);
        assert_eq!(backoff_ms(30_000, 500), 3_600_000);
    }
}
