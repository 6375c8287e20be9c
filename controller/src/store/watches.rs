//! Watches of approved products: the `watches`, `watch_rounds` and `alerts` tables. Several
//! controllers may share one database: a round is started by whoever moves the watch's next
//! round time first, and decided by whoever marks it decided first, each in one transaction.

use sqlx::FromRow;

use super::{Store, StoreError, unique};

/// A watch, as stored.
#[derive(Debug, Clone, FromRow)]
pub struct WatchRow {
    pub evaluation_id: String,
    /// The cron expression.
    pub schedule: String,
    /// The IANA zone it is read in.
    pub zone: String,
    /// JSON: the maintenance windows, `START/END` in local time.
    pub maintenance: String,
    /// JSON: the regression rule's thresholds.
    pub thresholds: String,
    /// 1: each round measures throughput again.
    pub bandwidth: i64,
    /// How long a round waits for its agents, seconds.
    pub collect_s: i64,
    /// JSON: what passed at approval.
    pub baseline: String,
    /// JSON: the regression trackers between rounds, one per watched (site, requirement) in
    /// baseline order.
    pub trackers: String,
    pub next_round_at: i64,
    pub created_by: String,
    pub created_at: i64,
}

/// A round, as stored.
#[derive(Debug, Clone, FromRow)]
pub struct RoundRow {
    pub id: String,
    pub evaluation_id: String,
    pub started_at: i64,
    pub decided_at: Option<i64>,
    /// 1: in a maintenance window (recorded, never alerted on).
    pub maintenance: i64,
    /// JSON: each watched (site, requirement)'s standing, once decided.
    pub standings: Option<String>,
}

/// An alert, as stored.
#[derive(Debug, Clone, FromRow)]
pub struct AlertRow {
    pub id: String,
    pub evaluation_id: String,
    pub site: String,
    /// The requirement's id (`dns[0]`).
    pub requirement: String,
    pub opened_at: i64,
    pub resolved_at: Option<i64>,
    /// Cause and owner in words.
    pub summary: String,
    pub owner: String,
}

/// What deciding a round writes, all at once.
#[derive(Debug, Clone, Default)]
pub struct RoundDecision {
    pub standings: String,
    pub trackers: String,
    pub opened: Vec<AlertRow>,
    /// (site, requirement id) of each alert resolved.
    pub resolved: Vec<(String, String)>,
    /// Messages owed to the channels: (outbox id, channel id, message JSON).
    pub messages: Vec<(String, String, String)>,
}

impl Store {
    /// Starts watching an evaluation.
    pub async fn insert_watch(&self, w: &WatchRow) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO watches (evaluation_id, schedule, zone, maintenance, thresholds, bandwidth, collect_s, baseline, trackers, next_round_at, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&w.evaluation_id)
        .bind(&w.schedule)
        .bind(&w.zone)
        .bind(&w.maintenance)
        .bind(&w.thresholds)
        .bind(w.bandwidth)
        .bind(w.collect_s)
        .bind(&w.baseline)
        .bind(&w.trackers)
        .bind(w.next_round_at)
        .bind(&w.created_by)
        .bind(w.created_at)
        .execute(&self.pool)
        .await
        .map_err(|e| unique(e, format!("evaluation {} is watched already", w.evaluation_id)))?;
        Ok(())
    }

    pub async fn get_watch(&self, evaluation_id: &str) -> Result<Option<WatchRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM watches WHERE evaluation_id = $1")
                .bind(evaluation_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    pub async fn list_watches(&self) -> Result<Vec<WatchRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM watches ORDER BY created_at")
            .fetch_all(&self.pool)
            .await?)
    }

    /// Starts a round of a watch whose next round was due at `due`, and sets the one after
    /// to `next`: false when another controller started it first.
    pub async fn start_round(
        &self,
        round: &RoundRow,
        due: i64,
        next: i64,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let moved = sqlx::query(
            "UPDATE watches SET next_round_at = $1 WHERE evaluation_id = $2 AND next_round_at = $3",
        )
        .bind(next)
        .bind(&round.evaluation_id)
        .bind(due)
        .execute(&mut *tx)
        .await?;
        if moved.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO watch_rounds (id, evaluation_id, started_at, decided_at, maintenance, standings) \
             VALUES ($1, $2, $3, NULL, $4, NULL)",
        )
        .bind(&round.id)
        .bind(&round.evaluation_id)
        .bind(round.started_at)
        .bind(round.maintenance)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Rounds not decided yet, oldest first.
    pub async fn undecided_rounds(&self) -> Result<Vec<RoundRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT * FROM watch_rounds WHERE decided_at IS NULL ORDER BY started_at",
        )
        .fetch_all(&self.pool)
        .await?)
    }

    /// A watch's rounds, newest first, at most `limit`.
    pub async fn rounds_of(
        &self,
        evaluation_id: &str,
        limit: i64,
    ) -> Result<Vec<RoundRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT * FROM watch_rounds WHERE evaluation_id = $1 ORDER BY started_at DESC LIMIT $2",
        )
        .bind(evaluation_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Writes a round's decision — standings, trackers, alerts opened and resolved, and the
    /// messages owed — in one transaction: false when it was decided already.
    pub async fn decide_round(
        &self,
        round: &RoundRow,
        now: i64,
        d: &RoundDecision,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let claimed = sqlx::query(
            "UPDATE watch_rounds SET decided_at = $1, standings = $2 WHERE id = $3 AND decided_at IS NULL",
        )
        .bind(now)
        .bind(&d.standings)
        .bind(&round.id)
        .execute(&mut *tx)
        .await?;
        if claimed.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("UPDATE watches SET trackers = $1 WHERE evaluation_id = $2")
            .bind(&d.trackers)
            .bind(&round.evaluation_id)
            .execute(&mut *tx)
            .await?;
        for a in &d.opened {
            sqlx::query(
                "INSERT INTO alerts (id, evaluation_id, site, requirement, opened_at, resolved_at, summary, owner) \
                 VALUES ($1, $2, $3, $4, $5, NULL, $6, $7)",
            )
            .bind(&a.id)
            .bind(&a.evaluation_id)
            .bind(&a.site)
            .bind(&a.requirement)
            .bind(a.opened_at)
            .bind(&a.summary)
            .bind(&a.owner)
            .execute(&mut *tx)
            .await?;
        }
        for (site, requirement) in &d.resolved {
            sqlx::query(
                "UPDATE alerts SET resolved_at = $1 WHERE evaluation_id = $2 AND site = $3 AND requirement = $4 AND resolved_at IS NULL",
            )
            .bind(now)
            .bind(&round.evaluation_id)
            .bind(site)
            .bind(requirement)
            .execute(&mut *tx)
            .await?;
        }
        for (id, channel, message) in &d.messages {
            super::channels::queue_message(&mut tx, id, channel, message, now).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// A watch's alerts, newest first.
    pub async fn alerts_of(&self, evaluation_id: &str) -> Result<Vec<AlertRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT * FROM alerts WHERE evaluation_id = $1 ORDER BY opened_at DESC, id",
        )
        .bind(evaluation_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Alerts open now, over every watch.
    pub async fn count_open_alerts(&self) -> Result<i64, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT COUNT(*) FROM alerts WHERE resolved_at IS NULL")
                .fetch_one(&self.pool)
                .await?,
        )
    }

    /// Thins a watch's history older than `cutoff` (ms), at most `batch` rows a statement,
    /// until none is left: the reports devices sent in rounds, and the rounds that changed
    /// nothing. Kept for good: everything received before the watch began (the evaluation's
    /// own evidence), each device's latest report (what the judgements and the board read),
    /// the rounds that opened or resolved an alert with the reports received while they ran
    /// (the alert's evidence), each watch's latest decided round and every undecided one.
    /// Returns the reports and rounds removed.
    pub async fn prune_watch_history(
        &self,
        cutoff: i64,
        batch: i64,
    ) -> Result<(u64, u64), StoreError> {
        const REPORTS: &str = "DELETE FROM reports WHERE report_id IN (SELECT r.report_id FROM reports r \
                 JOIN watches w ON w.evaluation_id = r.evaluation_id \
                 WHERE r.received_at > w.created_at AND r.received_at < $1 \
                 AND NOT EXISTS (SELECT 1 FROM judgements j WHERE j.evaluation_id = r.evaluation_id \
                   AND j.agent_id = r.agent_id AND j.report_id = r.report_id) \
                 AND NOT EXISTS (SELECT 1 FROM watch_rounds wr JOIN alerts a \
                   ON a.evaluation_id = wr.evaluation_id \
                   AND (a.opened_at = wr.decided_at OR a.resolved_at = wr.decided_at) \
                   WHERE wr.evaluation_id = r.evaluation_id \
                   AND r.received_at >= wr.started_at AND r.received_at <= wr.decided_at) \
                 LIMIT $2)";
        const ROUNDS: &str = "DELETE FROM watch_rounds WHERE id IN (SELECT wr.id FROM watch_rounds wr \
                 WHERE wr.decided_at IS NOT NULL AND wr.decided_at < $1 \
                 AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.evaluation_id = wr.evaluation_id \
                   AND (a.opened_at = wr.decided_at OR a.resolved_at = wr.decided_at)) \
                 AND wr.started_at < (SELECT MAX(l.started_at) FROM watch_rounds l \
                   WHERE l.evaluation_id = wr.evaluation_id AND l.decided_at IS NOT NULL) \
                 LIMIT $2)";
        Ok((
            self.delete_in_batches(REPORTS, cutoff, batch).await?,
            self.delete_in_batches(ROUNDS, cutoff, batch).await?,
        ))
    }

    /// Runs `sql` (a `DELETE` of at most `$2` rows older than `$1`) until it deletes fewer than
    /// `batch`, so no one statement holds the database long; the rows deleted.
    async fn delete_in_batches(
        &self,
        sql: &'static str,
        cutoff: i64,
        batch: i64,
    ) -> Result<u64, StoreError> {
        let full = u64::try_from(batch.max(1)).unwrap_or(1);
        let mut removed = 0;
        loop {
            let done = sqlx::query(sql)
                .bind(cutoff)
                .bind(batch)
                .execute(&self.pool)
                .await?
                .rows_affected();
            removed += done;
            if done < full {
                return Ok(removed);
            }
        }
    }

    /// The watched evaluations with a round under way that `agent_id` has not reported on
    /// since the round started: the evaluation, the round's start, whether it measures
    /// throughput, and the round's id.
    pub async fn watch_assignments(
        &self,
        agent_id: &str,
    ) -> Result<Vec<(String, i64, i64, String)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT r.evaluation_id, r.started_at, w.bandwidth, r.id FROM watch_rounds r \
             JOIN watches w ON w.evaluation_id = r.evaluation_id \
             WHERE r.decided_at IS NULL AND NOT EXISTS (SELECT 1 FROM reports p \
               WHERE p.evaluation_id = r.evaluation_id AND p.agent_id = $1 AND p.received_at >= r.started_at)",
        )
        .bind(agent_id)
        .fetch_all(&self.pool)
        .await?)
    }
}

impl Store {
    /// The extensions an agent's browser last listed (JSON), if it has.
    pub async fn agent_extensions(&self, agent_id: &str) -> Result<Option<String>, StoreError> {
        Ok(
            sqlx::query_scalar("SELECT extensions FROM agent_extensions WHERE agent_id = $1")
                .bind(agent_id)
                .fetch_optional(&self.pool)
                .await?,
        )
    }

    /// Keeps what an agent's browser lists now, and the changes seen against what it listed
    /// before (`(id, site, what)`), in one transaction.
    pub async fn put_agent_extensions(
        &self,
        agent_id: &str,
        extensions: &str,
        now: i64,
        changes: &[(String, String, String)],
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO agent_extensions (agent_id, extensions, updated_at) VALUES ($1, $2, $3) \
             ON CONFLICT (agent_id) DO UPDATE SET extensions = excluded.extensions, updated_at = excluded.updated_at",
        )
        .bind(agent_id)
        .bind(extensions)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        for (id, site, what) in changes {
            sqlx::query(
                "INSERT INTO agent_changes (id, agent_id, site, at, what) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id)
            .bind(agent_id)
            .bind(site)
            .bind(now)
            .bind(what)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// The changes seen at `site` since `since`: each `what`, and on how many devices.
    pub async fn changes_at(
        &self,
        site: &str,
        since: i64,
    ) -> Result<Vec<(String, i64)>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT what, COUNT(DISTINCT agent_id) FROM agent_changes WHERE site = $1 AND at >= $2 \
             GROUP BY what ORDER BY what",
        )
        .bind(site)
        .bind(since)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Whether a round of this watch is under way.
    pub async fn round_under_way(&self, evaluation_id: &str) -> Result<bool, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM watch_rounds WHERE evaluation_id = $1 AND decided_at IS NULL",
        )
        .bind(evaluation_id)
        .fetch_one(&self.pool)
        .await?;
        Ok(n > 0)
    }
}
