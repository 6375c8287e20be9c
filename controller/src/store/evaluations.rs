//! Evaluations: the `evaluations` table, and what ingestion checks a report against.

use std::collections::HashSet;
use std::sync::Arc;

use sqlx::FromRow;
use uuid::Uuid;

use fitcheck_core::profile::Profile;

use super::{ProfileRow, Store, StoreError};

/// An evaluation; `spec` is its JSON definition (see `api::EvaluationSpec`).
#[derive(Debug, Clone, FromRow)]
pub struct EvaluationRow {
    pub id: String,
    pub title: String,
    pub profile: String,
    pub spec: String,
    pub window_start: i64,
    pub window_end: i64,
    pub created_by: String,
    pub created_at: i64,
}

/// What ingestion needs of an evaluation: the row (for its scope), its profile's digest, and
/// the profile itself to judge reports against.
#[derive(Debug)]
pub struct IngestCheck {
    pub evaluation: EvaluationRow,
    pub profile_digest: String,
    /// `None` when the stored profile no longer validates (logged); its reports are stored
    /// unjudged, and a recommendation reports the profile's error.
    pub profile: Option<Profile>,
}

/// Most evaluations [`Store::ingest_check`] keeps; past it the cache starts afresh.
const INGEST_CHECKS: usize = 1024;

impl Store {
    pub async fn insert_evaluation(&self, e: &EvaluationRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO evaluations (id, title, profile, spec, window_start, window_end, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&e.id)
        .bind(&e.title)
        .bind(&e.profile)
        .bind(&e.spec)
        .bind(e.window_start)
        .bind(e.window_end)
        .bind(&e.created_by)
        .bind(e.created_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    pub async fn list_evaluations(&self) -> Result<Vec<EvaluationRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM evaluations ORDER BY created_at DESC")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn get_evaluation(&self, id: &str) -> Result<Option<EvaluationRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM evaluations WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    /// An evaluation and its profile's digest, read once and then kept (both are immutable).
    pub async fn ingest_check(&self, id: &str) -> Result<Option<Arc<IngestCheck>>, StoreError> {
        if let Some(hit) = self.cached_check(id) {
            return Ok(Some(hit));
        }
        let Some(evaluation) = self.get_evaluation(id).await? else {
            return Ok(None);
        };
        let stored: ProfileRow = sqlx::query_as("SELECT * FROM profiles WHERE id = $1")
            .bind(&evaluation.profile)
            .fetch_one(&self.pool)
            .await?;
        let profile = match Profile::parse(&stored.file_name, &stored.toml) {
            Ok(p) => Some(p),
            Err(e) => {
                tracing::error!(profile = %stored.id, error = %e, "A stored profile no longer validates; reports against it are stored unjudged.");
                None
            }
        };
        let check = Arc::new(IngestCheck {
            evaluation,
            profile_digest: stored.digest,
            profile,
        });
        if let Ok(mut cache) = self.ingest_checks.lock() {
            if cache.len() >= INGEST_CHECKS {
                cache.clear();
            }
            cache.insert(id.to_owned(), check.clone());
        }
        Ok(Some(check))
    }

    fn cached_check(&self, id: &str) -> Option<Arc<IngestCheck>> {
        self.ingest_checks.lock().ok()?.get(id).cloned()
    }

    /// Evaluations whose window contains `now_ms`.
    pub async fn open_evaluations(&self, now_ms: i64) -> Result<Vec<EvaluationRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT * FROM evaluations WHERE window_start <= $1 AND window_end > $1 ORDER BY created_at",
        )
        .bind(now_ms)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Which of the open evaluations this agent has reported on already.
    pub async fn reported_by(
        &self,
        agent_id: Uuid,
        open_since_ms: i64,
    ) -> Result<HashSet<String>, StoreError> {
        let rows: Vec<String> = sqlx::query_scalar(
            "SELECT DISTINCT r.evaluation_id FROM reports r JOIN evaluations e ON e.id = r.evaluation_id \
             WHERE r.agent_id = $1 AND e.window_end > $2",
        )
        .bind(agent_id.to_string())
        .bind(open_since_ms)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().collect())
    }
}
