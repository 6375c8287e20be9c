//! Enrolled agents: the `agents` table (`last_seen` through the writer).

use sqlx::FromRow;
use uuid::Uuid;

use super::writer::Job;
use super::{Store, StoreError, unique};

/// An enrolled agent.
#[derive(Debug, Clone, FromRow)]
pub struct AgentRow {
    pub id: String,
    pub labels: String,
    pub site: Option<String>,
    pub grp: Option<String>,
    pub version: String,
    pub enrolled_at: i64,
    pub enrolled_with: String,
    pub last_seen_at: i64,
    pub revoked_at: Option<i64>,
    /// `native` or `browser`.
    pub kind: String,
}

/// A new agent.
#[derive(Debug, Clone)]
pub struct NewAgent {
    pub id: Uuid,
    pub credential_hash: String,
    pub labels_json: String,
    pub site: Option<String>,
    pub group: Option<String>,
    pub version: String,
    pub enrolled_with: String,
    pub now_ms: i64,
    pub kind: fitcheck_core::api::AgentKind,
}

impl Store {
    /// Enrolls an agent under its id. An id an administrator revoked is free again: the agent
    /// gets a new credential, its labels and version are replaced, and its earlier reports stay
    /// its own. An id enrolled and not revoked is a conflict.
    pub async fn enroll_agent(&self, a: &NewAgent) -> Result<(), StoreError> {
        let done = sqlx::query(
            "INSERT INTO agents (id, credential_hash, labels, site, grp, version, enrolled_at, enrolled_with, last_seen_at, kind) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
             ON CONFLICT (id) DO UPDATE SET credential_hash = excluded.credential_hash, \
             labels = excluded.labels, site = excluded.site, grp = excluded.grp, \
             version = excluded.version, enrolled_at = excluded.enrolled_at, kind = excluded.kind, \
             enrolled_with = excluded.enrolled_with, last_seen_at = excluded.last_seen_at, \
             revoked_at = NULL \
             WHERE agents.revoked_at IS NOT NULL",
        )
        .bind(a.id.to_string())
        .bind(&a.credential_hash)
        .bind(&a.labels_json)
        .bind(a.site.as_deref())
        .bind(a.group.as_deref())
        .bind(&a.version)
        .bind(a.now_ms)
        .bind(&a.enrolled_with)
        .bind(a.now_ms)
        .bind(a.kind.as_str())
        .execute(&self.pool)
        .await
        .map_err(|e| {
            unique(
                e,
                format!(
                    "agent {} is enrolled already; an administrator must revoke it before it can enroll again, or the agent can use a fresh state directory",
                    a.id
                ),
            )
        })?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(format!(
                "agent {} is enrolled already; an administrator must revoke it before it can enroll again (revoking frees the id), or the agent can enroll with --new-id",
                a.id
            )));
        }
        Ok(())
    }

    /// The agent holding this credential, revoked or not.
    pub async fn agent_by_credential(
        &self,
        credential_hash: &str,
    ) -> Result<Option<AgentRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, labels, site, grp, version, enrolled_at, enrolled_with, last_seen_at, revoked_at, kind \
             FROM agents WHERE credential_hash = $1",
        )
        .bind(credential_hash)
        .fetch_optional(&self.pool)
        .await?)
    }

    /// Every unrevoked agent's id, site and group, in no particular order.
    pub async fn agent_places(
        &self,
    ) -> Result<Vec<(String, Option<String>, Option<String>)>, StoreError> {
        Ok(
            sqlx::query_as("SELECT id, site, grp FROM agents WHERE revoked_at IS NULL")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn list_agents(&self) -> Result<Vec<AgentRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT id, labels, site, grp, version, enrolled_at, enrolled_with, last_seen_at, revoked_at, kind \
             FROM agents ORDER BY site, id",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    pub async fn count_agents(&self, seen_since_ms: i64) -> Result<(i64, i64), StoreError> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM agents WHERE revoked_at IS NULL")
            .fetch_one(&self.pool)
            .await?;
        let seen: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM agents WHERE revoked_at IS NULL AND last_seen_at >= $1",
        )
        .bind(seen_since_ms)
        .fetch_one(&self.pool)
        .await?;
        Ok((total, seen))
    }

    /// Revokes an agent; false when there is no such agent or it was revoked before.
    pub async fn revoke_agent(&self, id: &str, now_ms: i64) -> Result<bool, StoreError> {
        let done =
            sqlx::query("UPDATE agents SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
                .bind(now_ms)
                .bind(id)
                .execute(&self.pool)
                .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Records that an agent was seen (written with the next group commit).
    pub fn touch_agent(&self, id: Uuid, now_ms: i64) {
        // Best effort: when the queue is full the next request records it instead.
        let _ = self.writer.try_send(Job::Touch(id, now_ms));
    }
}
