//! The committee's decisions: the `approvals` table (every decision recorded, never edited) and
//! the `approvers` table (which parties' approvals a person may record).

use sqlx::FromRow;

use super::{Store, StoreError};

/// One recorded decision.
#[derive(Debug, Clone, FromRow)]
pub struct ApprovalRow {
    pub id: String,
    pub evaluation_id: String,
    /// `business`, `curriculum` or `technology`.
    pub party: String,
    /// `approved`, `approved_with_conditions` or `declined`.
    pub outcome: String,
    pub note: String,
    pub decided_by: String,
    pub decided_at: i64,
    /// For Technology: the recommendation it was based on, as JSON.
    pub recommendation: Option<String>,
}

impl Store {
    /// Records a decision.
    pub async fn insert_approval(&self, a: &ApprovalRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO approvals (id, evaluation_id, party, outcome, note, decided_by, decided_at, recommendation) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&a.id)
        .bind(&a.evaluation_id)
        .bind(&a.party)
        .bind(&a.outcome)
        .bind(&a.note)
        .bind(&a.decided_by)
        .bind(a.decided_at)
        .bind(a.recommendation.as_deref())
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Every decision on an evaluation, oldest first.
    pub async fn approvals_for(&self, evaluation_id: &str) -> Result<Vec<ApprovalRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, evaluation_id, party, outcome, note, decided_by, decided_at, recommendation \
             FROM approvals WHERE evaluation_id = $1 ORDER BY decided_at, id",
        )
        .bind(evaluation_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Sets which parties' approvals the person named `username` may record; false for no
    /// such person.
    pub async fn set_approver(&self, username: &str, parties: &[&str]) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id: Option<String> = sqlx::query_scalar("SELECT id FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(id) = id else {
            return Ok(false);
        };
        sqlx::query("DELETE FROM approvers WHERE user_id = $1")
            .bind(&id)
            .execute(&mut *tx)
            .await?;
        for party in parties {
            sqlx::query("INSERT INTO approvers (user_id, party) VALUES ($1, $2)")
                .bind(&id)
                .bind(*party)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// The parties whose approvals the person with this user id may record.
    pub async fn approver_parties(&self, user_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT party FROM approvers WHERE user_id = $1 ORDER BY party")
                .bind(user_id)
                .fetch_all(&self.pool)
                .await?,
        )
    }
}
