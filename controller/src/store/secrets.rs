//! Enrollment secrets: the `enrollment_secrets` table.

use sqlx::FromRow;
use uuid::Uuid;

use super::{Store, StoreError};

/// A district enrollment secret (only its hash is kept).
#[derive(Debug, Clone, FromRow)]
pub struct SecretRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

impl Store {
    pub async fn create_secret(
        &self,
        name: &str,
        secret_hash: &str,
        now_ms: i64,
        expires_ms: Option<i64>,
    ) -> Result<String, StoreError> {
        let id = Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO enrollment_secrets (id, name, secret_hash, created_at, expires_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&id)
        .bind(name)
        .bind(secret_hash)
        .bind(now_ms)
        .bind(expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(id)
    }

    pub async fn list_secrets(&self) -> Result<Vec<SecretRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, name, created_at, expires_at, revoked_at FROM enrollment_secrets ORDER BY created_at",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// Revokes a secret; false when there is no such secret or it was revoked before.
    pub async fn revoke_secret(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE enrollment_secrets SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL",
        )
        .bind(now_ms)
        .bind(id)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// The secret with this hash, if it is still usable.
    pub async fn usable_secret(
        &self,
        secret_hash: &str,
        now_ms: i64,
    ) -> Result<Option<SecretRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, name, created_at, expires_at, revoked_at FROM enrollment_secrets \
             WHERE secret_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
        )
        .bind(secret_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?)
    }
}
