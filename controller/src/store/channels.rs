//! Where alerts go: the `channels` table, and the `outbox` of messages owed to them, delivered
//! with backoff until they are (a message is written in the transaction that made it, so none
//! is lost across a restart).

use sqlx::FromRow;

use super::{Store, StoreError};

/// A channel, as stored.
#[derive(Debug, Clone, FromRow)]
pub struct ChannelRow {
    pub id: String,
    pub name: String,
    /// `webhook`, `slack`, `teams` or `smtp`.
    pub kind: String,
    /// The URL, or for SMTP the server and addresses as JSON.
    pub target: String,
    /// The webhook's HMAC key, or the SMTP password.
    pub secret: Option<String>,
    /// 1: an address on loopback, link-local or cloud-metadata ranges is allowed.
    pub allow_private: i64,
    pub created_by: String,
    pub created_at: i64,
}

/// A message owed to a channel.
#[derive(Debug, Clone, FromRow)]
pub struct OutboxRow {
    pub id: String,
    pub channel_id: String,
    /// JSON: what happened (the alert event), rendered for the channel when sent.
    pub message: String,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub delivered_at: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
}

impl Store {
    pub async fn insert_channel(&self, c: &ChannelRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO channels (id, name, kind, target, secret, allow_private, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&c.id)
        .bind(&c.name)
        .bind(&c.kind)
        .bind(&c.target)
        .bind(c.secret.as_deref())
        .bind(c.allow_private)
        .bind(&c.created_by)
        .bind(c.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn list_channels(&self) -> Result<Vec<ChannelRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM channels ORDER BY created_at, id")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn get_channel(&self, id: &str) -> Result<Option<ChannelRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM channels WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn remove_channel(&self, id: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM channels WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Queues one message (a test send).
    pub async fn insert_message(
        &self,
        id: &str,
        channel_id: &str,
        message: &str,
        now: i64,
    ) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        queue_message(&mut conn, id, channel_id, message, now).await?;
        Ok(())
    }

    /// Messages due now, oldest first, at most `limit`.
    pub async fn due_messages(&self, now: i64, limit: i64) -> Result<Vec<OutboxRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT * FROM outbox WHERE delivered_at IS NULL AND next_attempt_at <= $1 \
             ORDER BY created_at, id LIMIT $2",
        )
        .bind(now)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Claims a message for one attempt: moves its next attempt to `retry_at` unless another
    /// controller moved it first (false).
    pub async fn claim_message(&self, m: &OutboxRow, retry_at: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE outbox SET next_attempt_at = $1, attempts = attempts + 1 \
             WHERE id = $2 AND next_attempt_at = $3 AND delivered_at IS NULL",
        )
        .bind(retry_at)
        .bind(&m.id)
        .bind(m.next_attempt_at)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn message_delivered(&self, id: &str, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET delivered_at = $1, last_error = NULL WHERE id = $2")
            .bind(now)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    pub async fn message_failed(&self, id: &str, error: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE outbox SET last_error = $1 WHERE id = $2")
            .bind(error)
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// A channel's messages, newest first, at most `limit`.
    pub async fn messages_of(
        &self,
        channel_id: &str,
        limit: i64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT * FROM outbox WHERE channel_id = $1 ORDER BY created_at DESC, id LIMIT $2",
        )
        .bind(channel_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }
}

/// Writes one message owed to a channel, due now, on `conn` (a transaction's, where the
/// message must stand or fall with what made it).
pub(super) async fn queue_message(
    conn: &mut sqlx::AnyConnection,
    id: &str,
    channel_id: &str,
    message: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO outbox (id, channel_id, message, attempts, next_attempt_at, delivered_at, last_error, created_at) \
         VALUES ($1, $2, $3, 0, $4, NULL, NULL, $4)",
    )
    .bind(id)
    .bind(channel_id)
    .bind(message)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}
