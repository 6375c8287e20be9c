//! SIS summaries: the `sis_summaries` table.

use sqlx::FromRow;

use super::{Store, StoreError};

/// A kept SIS summary.
#[derive(Debug, Clone, FromRow)]
pub struct SisSummaryRow {
    pub id: String,
    pub received_at: i64,
    pub generated_at: String,
    pub source_system: String,
    pub oneroster_version: Option<String>,
    /// `agent:<id>` or `user:<name>`.
    pub uploaded_by: String,
    /// The summary's JSON, as checked.
    pub body: String,
}

impl Store {
    /// Keeps a checked summary; whether it was stored now (false: stored before, same id).
    pub async fn insert_sis_summary(&self, row: &SisSummaryRow) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "INSERT INTO sis_summaries (id, received_at, generated_at, source_system, oneroster_version, uploaded_by, body) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
        )
        .bind(&row.id)
        .bind(row.received_at)
        .bind(&row.generated_at)
        .bind(&row.source_system)
        .bind(&row.oneroster_version)
        .bind(&row.uploaded_by)
        .bind(&row.body)
        .execute(&self.pool)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Every summary, newest first.
    pub async fn list_sis_summaries(&self) -> Result<Vec<SisSummaryRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM sis_summaries ORDER BY received_at DESC, id DESC")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn get_sis_summary(&self, id: &str) -> Result<Option<SisSummaryRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM sis_summaries WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// The summary a recommendation judges against: the last one received.
    pub async fn latest_sis_summary(&self) -> Result<Option<SisSummaryRow>, StoreError> {
        Ok(
            sqlx::query_as(
                "SELECT * FROM sis_summaries ORDER BY received_at DESC, id DESC LIMIT 1",
            )
            .fetch_optional(&self.pool)
            .await?,
        )
    }
}
