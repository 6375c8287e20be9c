//! Judgements: the `judgements` table, one per agent and evaluation (of its latest report), and
//! the evaluations due to be judged again.

use sqlx::FromRow;

use super::{Store, StoreError};

/// A judgement ready to store: its row, the report's site and the device's model.
pub type MadeJudgement = (JudgementRow, Option<String>, String);

/// A stored judgement (`judgements`), its JSON unparsed.
#[derive(Debug, Clone, FromRow)]
pub struct JudgementRow {
    pub agent_id: String,
    pub report_id: String,
    pub received_at: i64,
    pub version: i64,
    pub profile_digest: String,
    /// `fitcheck_engine::Judgement` as JSON.
    pub judgement: String,
}

/// A judgement as stored beside its report (`judgements`): the columns a drill-down selects
/// by, and the JSON the engine reads.
#[derive(Debug, Clone)]
pub struct StoredJudgement {
    pub model: String,
    pub version: u32,
    /// `fitcheck_engine::Judgement` as JSON.
    pub json: String,
}

impl Store {
    /// The stored judgements of an evaluation, one per agent (of its latest report), handed to
    /// `each` as they are read: a district's evaluation holds tens of thousands, and none of
    /// their text needs to be kept once parsed. `each` answers whether to go on.
    pub async fn each_judgement(
        &self,
        evaluation_id: &str,
        mut each: impl FnMut(JudgementRow) -> bool,
    ) -> Result<(), StoreError> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query_as::<_, JudgementRow>(
            "SELECT agent_id, report_id, received_at, version, profile_digest, judgement \
             FROM judgements WHERE evaluation_id = $1",
        )
        .bind(evaluation_id)
        .fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            if !each(row) {
                break;
            }
        }
        Ok(())
    }

    /// Whether an evaluation's reports must be judged from their bodies before its judgements
    /// are read (reports stored before judgements were kept, or not judged on arrival).
    pub async fn judgements_due(&self, evaluation_id: &str) -> Result<bool, StoreError> {
        let due: Option<String> =
            sqlx::query_scalar("SELECT evaluation_id FROM judgements_due WHERE evaluation_id = $1")
                .bind(evaluation_id)
                .fetch_optional(&self.pool)
                .await?;
        Ok(due.is_some())
    }

    /// Stores judgements made again from their reports (after an engine or profile change, or
    /// for reports stored before judgements were kept): each replaces the agent's stored one
    /// unless that is of a later report, and the evaluation is no longer due.
    /// Rows are made one at a time as they are written (each judgement's JSON, its site and
    /// model), so tens of thousands are never encoded at once; one that cannot be made leaves
    /// everything as it was.
    pub async fn put_judgements(
        &self,
        evaluation_id: &str,
        rows: Box<dyn Iterator<Item = Result<MadeJudgement, String>> + Send + '_>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("DELETE FROM judgements_due WHERE evaluation_id = $1")
            .bind(evaluation_id)
            .execute(&mut *tx)
            .await?;
        for made in rows {
            let (row, site, model) = made.map_err(StoreError::Invalid)?;
            sqlx::query(
                "INSERT INTO judgements (evaluation_id, agent_id, report_id, received_at, site, model, version, profile_digest, judgement) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (evaluation_id, agent_id) DO UPDATE SET \
                 report_id = excluded.report_id, received_at = excluded.received_at, site = excluded.site, \
                 model = excluded.model, version = excluded.version, profile_digest = excluded.profile_digest, \
                 judgement = excluded.judgement \
                 WHERE excluded.received_at >= judgements.received_at",
            )
            .bind(evaluation_id)
            .bind(&row.agent_id)
            .bind(&row.report_id)
            .bind(row.received_at)
            .bind(site.as_deref())
            .bind(&model)
            .bind(row.version)
            .bind(&row.profile_digest)
            .bind(&row.judgement)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
