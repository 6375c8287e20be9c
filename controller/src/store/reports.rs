//! Reports: the `reports` table, written only through the writer.

use sqlx::FromRow;
use tokio::sync::oneshot;
use uuid::Uuid;

use fitcheck_core::api::Ingested;

use super::writer::Job;
use super::{Store, StoreError, StoredJudgement};

/// A report's index entry (the body is fetched on its own).
#[derive(Debug, Clone, FromRow)]
pub struct ReportSummary {
    pub report_id: String,
    pub agent_id: String,
    pub evaluation_id: Option<String>,
    pub profile_digest: String,
    pub site: Option<String>,
    pub started_at: String,
    pub received_at: i64,
}

#[derive(Debug, FromRow)]
struct ReportWithBody {
    report_id: String,
    agent_id: String,
    evaluation_id: Option<String>,
    profile_digest: String,
    site: Option<String>,
    started_at: String,
    received_at: i64,
    body: String,
}

impl ReportWithBody {
    fn split(self) -> (ReportSummary, String) {
        (
            ReportSummary {
                report_id: self.report_id,
                agent_id: self.agent_id,
                evaluation_id: self.evaluation_id,
                profile_digest: self.profile_digest,
                site: self.site,
                started_at: self.started_at,
                received_at: self.received_at,
            },
            self.body,
        )
    }
}

/// A report to store.
#[derive(Debug, Clone)]
pub struct NewReport {
    pub report_id: Uuid,
    pub agent_id: Uuid,
    pub evaluation_id: Option<Uuid>,
    pub profile_digest: String,
    pub site: Option<String>,
    pub started_at: String,
    pub received_at_ms: i64,
    /// The report exactly as validated, re-serialised.
    pub body: String,
    /// The report judged against its evaluation's profile, when it is part of one.
    pub judgement: Option<StoredJudgement>,
}

impl Store {
    /// Stores a report. Answers only once the report is committed (or was before).
    pub async fn ingest(&self, report: NewReport) -> Result<Ingested, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.writer
            .send(Job::Report(report, tx))
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    pub async fn reports_for_evaluation(
        &self,
        evaluation_id: &str,
    ) -> Result<Vec<ReportSummary>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT report_id, agent_id, evaluation_id, profile_digest, site, started_at, received_at \
             FROM reports WHERE evaluation_id = $1 ORDER BY received_at",
        )
        .bind(evaluation_id)
        .fetch_all(&self.pool)
        .await?)
    }

    /// An agent's reports, newest first, at most `limit`.
    pub async fn reports_for_agent(
        &self,
        agent_id: &str,
        limit: i64,
    ) -> Result<Vec<ReportSummary>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT report_id, agent_id, evaluation_id, profile_digest, site, started_at, received_at \
             FROM reports WHERE agent_id = $1 ORDER BY received_at DESC LIMIT $2",
        )
        .bind(agent_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?)
    }

    /// A stored report's summary and body.
    pub async fn get_report(
        &self,
        report_id: &str,
    ) -> Result<Option<(ReportSummary, String)>, StoreError> {
        let summary: Option<ReportSummary> = sqlx::query_as(
            "SELECT report_id, agent_id, evaluation_id, profile_digest, site, started_at, received_at \
             FROM reports WHERE report_id = $1",
        )
        .bind(report_id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(summary) = summary else {
            return Ok(None);
        };
        let body: String = sqlx::query_scalar("SELECT body FROM reports WHERE report_id = $1")
            .bind(report_id)
            .fetch_one(&self.pool)
            .await?;
        Ok(Some((summary, body)))
    }

    /// Every report of an evaluation with its body, handed to `each` as it is read (in no
    /// particular order): judging an evaluation again must not hold every body at once.
    pub async fn each_report_body(
        &self,
        evaluation_id: &str,
        mut each: impl FnMut(ReportSummary, String),
    ) -> Result<(), StoreError> {
        use futures_util::TryStreamExt;
        let mut rows = sqlx::query_as::<_, ReportWithBody>(
            "SELECT report_id, agent_id, evaluation_id, profile_digest, site, started_at, received_at, body \
             FROM reports WHERE evaluation_id = $1",
        )
        .bind(evaluation_id)
        .fetch(&self.pool);
        while let Some(row) = rows.try_next().await? {
            let (summary, body) = row.split();
            each(summary, body);
        }
        Ok(())
    }

    /// Reports of the given agents in an evaluation, with their bodies, oldest first.
    pub async fn reports_of_agents(
        &self,
        evaluation_id: &str,
        agents: &[&str],
    ) -> Result<Vec<(ReportSummary, String)>, StoreError> {
        let mut out = Vec::new();
        for chunk in agents.chunks(256) {
            let marks: Vec<String> = (0..chunk.len()).map(|i| format!("${}", i + 2)).collect();
            let sql = format!(
                "SELECT report_id, agent_id, evaluation_id, profile_digest, site, started_at, received_at, body \
                 FROM reports WHERE evaluation_id = $1 AND agent_id IN ({})",
                marks.join(", ")
            );
            let mut query =
                sqlx::query_as::<_, ReportWithBody>(sqlx::AssertSqlSafe(sql)).bind(evaluation_id);
            for a in chunk {
                query = query.bind(*a);
            }
            out.extend(
                query
                    .fetch_all(&self.pool)
                    .await?
                    .into_iter()
                    .map(ReportWithBody::split),
            );
        }
        out.sort_by_key(|r| r.0.received_at);
        Ok(out)
    }

    pub async fn count_reports(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM reports")
            .fetch_one(&self.pool)
            .await?)
    }
}
