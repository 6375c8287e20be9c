//! The report writer: every report and every `last_seen` update goes through it (the latter
//! gathered and written every few seconds).
//!
//! It groups whatever is waiting into one transaction (group commit) and answers each sender
//! only after that transaction committed, so an acknowledged report is durable and one fsync
//! serves many reports. Within a transaction, reports go in as multi-row `INSERT … ON CONFLICT
//! DO NOTHING RETURNING`, so a batch costs a few statements, not one per report.
//!
//! The writer runs on its own thread with its own connection: request handling never waits
//! behind it for a pool connection or for the runtime. On SQLite it leaves WAL checkpoints to a
//! second connection that runs a passive checkpoint every [`CHECKPOINT_EVERY`], so a commit is
//! one WAL append and fsync, never a checkpoint as well; the writer's own automatic checkpoint
//! stays only as a backstop should the WAL grow past 256 MiB.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sqlx::any::AnyConnectOptions;
use sqlx::{AnyConnection, AssertSqlSafe, Connection, Executor};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use fitcheck_core::api::Ingested;

use crate::store::{Backend, NewReport, StoreError, StoredJudgement, sqlite_session};

/// Most jobs one group commit takes.
const MAX_BATCH: usize = 512;
/// Reports per `INSERT` statement (8 parameters each).
const REPORTS_PER_STATEMENT: usize = 64;
/// `last_seen` updates per `UPDATE` statement (2 parameters each).
const TOUCHES_PER_STATEMENT: usize = 256;
/// How long a `last_seen` time may wait to be written, and how many agents' times at most.
const SEEN_EVERY: Duration = Duration::from_secs(5);
const SEEN_MOST: usize = 20_000;
/// Jobs that may wait for the writer before senders wait too.
const QUEUE: usize = 4096;
/// How often the SQLite WAL is checkpointed beside the writer.
pub const CHECKPOINT_EVERY: Duration = Duration::from_millis(500);
/// WAL frames (pages) past which the writer restarts the WAL: 16 MiB.
const RESTART_AT_FRAMES: i64 = 4096;
/// The WAL size at which the writer checkpoints itself, should the background checkpoint fall
/// behind: 65,536 pages of 4 KiB = 256 MiB.
const WAL_BACKSTOP: &str = "PRAGMA wal_autocheckpoint = 65536";

/// Work for the writer.
pub(crate) enum Job {
    Report(NewReport, oneshot::Sender<Result<Ingested, StoreError>>),
    Touch(Uuid, i64),
}

impl std::fmt::Debug for Job {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Job::Report(r, _) => write!(f, "Report({})", r.report_id),
            Job::Touch(id, _) => write!(f, "Touch({id})"),
        }
    }
}

/// Handle on the writer: wait for it to finish what was queued.
#[derive(Debug)]
pub struct WriterHandle(oneshot::Receiver<()>);

impl WriterHandle {
    /// Waits until every queued job is written and the writer has closed its connections
    /// (after all [`crate::store::Store`] clones are dropped).
    pub async fn finished(self) {
        let _ = self.0.await;
    }
}

/// Starts the writer thread and connects it; fails when the database cannot be reached.
pub(crate) async fn start(
    options: AnyConnectOptions,
    backend: Backend,
) -> Result<(mpsc::Sender<Job>, WriterHandle), StoreError> {
    let (jobs, queue) = mpsc::channel(QUEUE);
    let (ready_tx, ready) = oneshot::channel();
    let (done_tx, done) = oneshot::channel();
    std::thread::Builder::new()
        .name("fitcheck-writer".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(StoreError::Writer(format!(
                        "its runtime could not start: {e}"
                    ))));
                    return;
                }
            };
            runtime.block_on(async move {
                match Writer::connect(options, backend).await {
                    Ok(writer) => {
                        let _ = ready_tx.send(Ok(()));
                        writer.run(queue).await;
                    }
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                    }
                }
            });
            let _ = done_tx.send(());
        })
        .map_err(|e| StoreError::Writer(format!("its thread could not start: {e}")))?;
    ready.await.map_err(|_| StoreError::Closed)??;
    Ok((jobs, WriterHandle(done)))
}

struct Writer {
    options: AnyConnectOptions,
    backend: Backend,
    /// Absent after a connection-level failure; the next batch connects again.
    conn: Option<AnyConnection>,
    checkpointer: Option<Checkpointer>,
    /// When each agent was last seen, not written yet, and since when the oldest waits.
    seen: HashMap<Uuid, i64>,
    seen_since: Option<Instant>,
}

impl Writer {
    async fn connect(options: AnyConnectOptions, backend: Backend) -> Result<Writer, StoreError> {
        let conn = open(&options, backend).await?;
        let checkpointer = match backend {
            Backend::Sqlite => Some(Checkpointer::start(open(&options, backend).await?)),
            Backend::Postgres => None,
        };
        Ok(Writer {
            options,
            backend,
            conn: Some(conn),
            checkpointer,
            seen: HashMap::new(),
            seen_since: None,
        })
    }

    async fn run(mut self, mut queue: mpsc::Receiver<Job>) {
        loop {
            let next = match self.seen_since {
                None => queue.recv().await,
                Some(since) => tokio::select! {
                    job = queue.recv() => job,
                    _ = tokio::time::sleep_until((since + SEEN_EVERY).into()) => {
                        self.write(Vec::new(), true).await;
                        continue;
                    }
                },
            };
            let Some(first) = next else { break };
            let mut jobs = vec![first];
            while jobs.len() < MAX_BATCH {
                match queue.try_recv() {
                    Ok(job) => jobs.push(job),
                    Err(_) => break,
                }
            }
            self.write(jobs, false).await;
            if self
                .checkpointer
                .as_ref()
                .is_some_and(|c| c.restart_due.swap(false, Ordering::Relaxed))
            {
                self.restart_wal().await;
            }
        }
        self.write(Vec::new(), true).await;
        if let Some(checkpointer) = self.checkpointer.take() {
            checkpointer.stop().await;
        }
        if let Some(mut conn) = self.conn.take() {
            if self.backend == Backend::Sqlite
                && let Err(e) = checkpoint(&mut conn, Mode::Truncate).await
            {
                tracing::warn!(error = %e, "The final WAL checkpoint failed; SQLite completes it on the next open.");
            }
            let _ = conn.close().await;
        }
    }

    /// Copies what the last passive round left and has the next write start the WAL over.
    /// The writer runs it itself, between two group commits, right after a passive round, so
    /// there is little left to copy and no other writer to wait for: the pause is the wait for
    /// the readers of the moment, the copy and one fsync.
    async fn restart_wal(&mut self) {
        let Some(conn) = &mut self.conn else { return };
        if let Err(e) = checkpoint(conn, Mode::Restart).await {
            tracing::warn!(error = %e, "Restarting the WAL failed; the next passive round tries again.");
        }
    }

    fn note_seen(&mut self, id: Uuid, at: i64) {
        let latest = self.seen.entry(id).or_insert(at);
        *latest = (*latest).max(at);
        self.seen_since.get_or_insert_with(Instant::now);
    }

    /// Writes the reports of `jobs`, with the `last_seen` times gathered so far once they are
    /// due (every [`SEEN_EVERY`] or past [`SEEN_MOST`] agents) or `all_seen`. Written at once,
    /// a busy district's polls would update a random page of the agents table per agent and
    /// commit.
    async fn write(&mut self, jobs: Vec<Job>, all_seen: bool) {
        let mut reports = Vec::new();
        for job in jobs {
            match job {
                Job::Report(r, tx) => reports.push((r, tx)),
                Job::Touch(id, at) => self.note_seen(id, at),
            }
        }
        let due = all_seen
            || self.seen.len() >= SEEN_MOST
            || self
                .seen_since
                .is_some_and(|since| since.elapsed() >= SEEN_EVERY);
        let touches = if due {
            self.seen_since = None;
            std::mem::take(&mut self.seen)
        } else {
            HashMap::new()
        };
        if reports.is_empty() && touches.is_empty() {
            return;
        }
        let rows: Vec<&NewReport> = reports.iter().map(|(r, _)| r).collect();
        let started = Instant::now();
        let result = self.batch(&rows, &touches).await;
        tracing::trace!(reports = rows.len(), touches = touches.len(), took = ?started.elapsed(), "Group commit");
        if result.is_err() {
            // Kept for the next due round.
            for (id, at) in touches {
                self.note_seen(id, at);
            }
        }
        match result {
            Ok(outcomes) => {
                for ((_, tx), outcome) in reports.into_iter().zip(outcomes) {
                    let _ = tx.send(outcome);
                }
            }
            Err(batch_error) if rows.len() > 1 => {
                // One bad row must not fail the others: write each alone.
                tracing::warn!(error = %batch_error, rows = rows.len(), "Group commit failed; writing reports one by one.");
                for (r, tx) in reports {
                    let outcome = match self.batch(&[&r], &HashMap::new()).await {
                        Ok(mut o) => o.pop().unwrap_or(Err(StoreError::Closed)),
                        Err(e) => Err(e),
                    };
                    let _ = tx.send(outcome);
                }
            }
            Err(e) => {
                tracing::error!(error = %e, "Writing to the database failed.");
                let message = e.to_string();
                for (_, tx) in reports {
                    let _ = tx.send(Err(StoreError::Db(sqlx::Error::Protocol(message.clone()))));
                }
            }
        }
    }

    /// One transaction on the writer's connection, connecting first where needed.
    async fn batch(
        &mut self,
        reports: &[&NewReport],
        touches: &HashMap<Uuid, i64>,
    ) -> Result<Vec<Result<Ingested, StoreError>>, StoreError> {
        let conn = match &mut self.conn {
            Some(conn) => conn,
            None => self.conn.insert(open(&self.options, self.backend).await?),
        };
        let result = write_batch(conn, reports, touches).await;
        if let Err(StoreError::Db(e)) = &result
            && !matches!(e, sqlx::Error::Database(_))
        {
            // The connection itself failed (the server went away, I/O): start afresh.
            tracing::warn!(error = %e, "The writer's database connection failed; it reconnects for the next batch.");
            self.conn = None;
        }
        result
    }
}

/// Opens one connection set up as the store's pool connections are, plus, on SQLite, the
/// writer's checkpoint settings.
async fn open(options: &AnyConnectOptions, backend: Backend) -> Result<AnyConnection, StoreError> {
    let mut conn = AnyConnection::connect_with(options).await?;
    if backend == Backend::Sqlite {
        sqlite_session(&mut conn).await?;
        conn.execute(WAL_BACKSTOP).await?;
        // An idle WAL is truncated back to this size after a checkpoint resets it.
        conn.execute("PRAGMA journal_size_limit = 67108864").await?;
    }
    Ok(conn)
}

/// Writes reports and touches in one transaction; per report: stored, duplicate, or a conflict
/// (the id is taken by another agent's report). Errors abort the whole transaction.
async fn write_batch(
    conn: &mut AnyConnection,
    reports: &[&NewReport],
    touches: &HashMap<Uuid, i64>,
) -> Result<Vec<Result<Ingested, StoreError>>, StoreError> {
    let mut tx = conn.begin().await?;
    // The same report twice in one batch (a re-delivery racing the first) is inserted once.
    let mut seen = HashSet::new();
    let unique: Vec<&NewReport> = reports
        .iter()
        .copied()
        .filter(|r| seen.insert(r.report_id))
        .collect();
    let mut inserted: HashSet<String> = HashSet::new();
    for chunk in unique.chunks(REPORTS_PER_STATEMENT) {
        // Only placeholders are generated; every value is bound.
        let sql = format!(
            "INSERT INTO reports (report_id, agent_id, evaluation_id, profile_digest, site, started_at, received_at, body) \
             VALUES {} ON CONFLICT (report_id) DO NOTHING RETURNING report_id",
            placeholders(chunk.len(), 8)
        );
        let mut query = sqlx::query_scalar::<_, String>(AssertSqlSafe(sql));
        for r in chunk {
            query = query
                .bind(r.report_id.to_string())
                .bind(r.agent_id.to_string())
                .bind(r.evaluation_id.map(|e| e.to_string()))
                .bind(&r.profile_digest)
                .bind(r.site.as_deref())
                .bind(&r.started_at)
                .bind(r.received_at_ms)
                .bind(&r.body);
        }
        inserted.extend(query.fetch_all(&mut *tx).await?);
    }
    write_judgements(&mut tx, &unique, &inserted).await?;
    let mut outcomes = Vec::with_capacity(reports.len());
    let mut owners: HashMap<Uuid, Option<String>> = HashMap::new();
    for r in reports {
        let id = r.report_id.to_string();
        if inserted.remove(&id) {
            owners.insert(r.report_id, Some(r.agent_id.to_string()));
            outcomes.push(Ok(Ingested::Stored));
            continue;
        }
        let owner = match owners.get(&r.report_id) {
            Some(owner) => owner.clone(),
            None => {
                let owner: Option<String> =
                    sqlx::query_scalar("SELECT agent_id FROM reports WHERE report_id = $1")
                        .bind(&id)
                        .fetch_optional(&mut *tx)
                        .await?;
                owners.insert(r.report_id, owner.clone());
                owner
            }
        };
        outcomes.push(if owner.as_deref() == Some(&r.agent_id.to_string()) {
            Ok(Ingested::Duplicate)
        } else {
            Err(StoreError::Conflict(format!(
                "report_id {} belongs to a report of another agent; a report needs a fresh id",
                r.report_id
            )))
        });
    }
    let touches: Vec<(&Uuid, &i64)> = touches.iter().collect();
    for chunk in touches.chunks(TOUCHES_PER_STATEMENT) {
        // VALUES columns are named column1, column2 by both SQLite and PostgreSQL.
        let sql = format!(
            "UPDATE agents SET last_seen_at = v.column2 FROM (VALUES {}) AS v \
             WHERE agents.id = v.column1 AND agents.last_seen_at < v.column2",
            placeholders(chunk.len(), 2)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (id, at) in chunk {
            query = query.bind(id.to_string()).bind(**at);
        }
        query.execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(outcomes)
}

/// Keeps each agent's latest judgement per evaluation, in the transaction that stores the
/// reports: of the reports just inserted, the latest per (evaluation, agent) replaces the
/// stored one unless that arrived later.
async fn write_judgements(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    reports: &[&NewReport],
    inserted: &HashSet<String>,
) -> Result<(), StoreError> {
    // One row per key in a statement: PostgreSQL refuses to update a row twice in one.
    let mut latest: HashMap<(Uuid, Uuid), &NewReport> = HashMap::new();
    for r in reports {
        let (Some(evaluation), Some(_)) = (r.evaluation_id, &r.judgement) else {
            continue;
        };
        if !inserted.contains(&r.report_id.to_string()) {
            continue;
        }
        let slot = latest.entry((evaluation, r.agent_id)).or_insert(r);
        if r.received_at_ms > slot.received_at_ms {
            *slot = r;
        }
    }
    // A report that could not be judged on arrival: its evaluation is judged from the bodies
    // before it is next read.
    let mut due: Vec<String> = reports
        .iter()
        .filter(|r| r.judgement.is_none() && inserted.contains(&r.report_id.to_string()))
        .filter_map(|r| r.evaluation_id.map(|e| e.to_string()))
        .collect();
    due.sort();
    due.dedup();
    for evaluation in &due {
        sqlx::query(
            "INSERT INTO judgements_due (evaluation_id) VALUES ($1) ON CONFLICT DO NOTHING",
        )
        .bind(evaluation)
        .execute(&mut **tx)
        .await?;
    }
    let rows: Vec<(Uuid, &NewReport, &StoredJudgement)> = latest
        .into_iter()
        .filter_map(|((evaluation, _), r)| r.judgement.as_ref().map(|j| (evaluation, r, j)))
        .collect();
    for chunk in rows.chunks(REPORTS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO judgements (evaluation_id, agent_id, report_id, received_at, site, model, version, profile_digest, judgement) \
             VALUES {} ON CONFLICT (evaluation_id, agent_id) DO UPDATE SET \
             report_id = excluded.report_id, received_at = excluded.received_at, site = excluded.site, \
             model = excluded.model, version = excluded.version, profile_digest = excluded.profile_digest, \
             judgement = excluded.judgement \
             WHERE excluded.received_at > judgements.received_at",
            placeholders(chunk.len(), 9)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for (evaluation, r, j) in chunk {
            query = query
                .bind(evaluation.to_string())
                .bind(r.agent_id.to_string())
                .bind(r.report_id.to_string())
                .bind(r.received_at_ms)
                .bind(r.site.as_deref())
                .bind(&j.model)
                .bind(i64::from(j.version))
                .bind(&r.profile_digest)
                .bind(&j.json);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// `($1, $2), ($3, $4)` for `rows` rows of `columns` parameters.
fn placeholders(rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let params: Vec<String> = (1..=columns)
                .map(|c| format!("${}", row * columns + c))
                .collect();
            format!("({})", params.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `PRAGMA wal_checkpoint(PASSIVE)` every [`CHECKPOINT_EVERY`] on its own connection,
/// and asks the writer to restart the WAL once it is past [`RESTART_AT_FRAMES`].
///
/// SQLite starts the WAL file over only when a write finds every frame copied and no reader on
/// an older snapshot. Under steady load the writer appends while a passive round copies, so
/// that moment never comes by itself and the WAL would grow until the writer's own automatic
/// checkpoint took over, inside its commits.
struct Checkpointer {
    stop: oneshot::Sender<()>,
    task: tokio::task::JoinHandle<()>,
    restart_due: Arc<AtomicBool>,
}

impl Checkpointer {
    fn start(mut conn: AnyConnection) -> Checkpointer {
        let (stop, mut stopped) = oneshot::channel::<()>();
        let restart_due = Arc::new(AtomicBool::new(false));
        let due = restart_due.clone();
        let task = tokio::spawn(async move {
            let mut tick = tokio::time::interval(CHECKPOINT_EVERY);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            let mut failing = false;
            loop {
                tokio::select! {
                    _ = &mut stopped => break,
                    _ = tick.tick() => {}
                }
                match checkpoint(&mut conn, Mode::Passive).await {
                    Ok(frames) => {
                        failing = false;
                        if frames > RESTART_AT_FRAMES {
                            due.store(true, Ordering::Relaxed);
                        }
                    }
                    Err(e) if !failing => {
                        failing = true;
                        tracing::warn!(error = %e, "A WAL checkpoint failed; retrying every {CHECKPOINT_EVERY:?}.");
                    }
                    Err(_) => {}
                }
            }
            let _ = conn.close().await;
        });
        Checkpointer {
            stop,
            task,
            restart_due,
        }
    }

    async fn stop(self) {
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// SQLite's checkpoint modes, as the writer uses them.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// Copies what it can without waiting for readers or the writer.
    Passive,
    /// Waits for readers on older snapshots, copies everything, and has the next write start
    /// the WAL over.
    Restart,
    /// As restart, and truncates the WAL file (on shutdown).
    Truncate,
}

/// Runs one checkpoint; the answer is the WAL's size in frames.
async fn checkpoint(conn: &mut AnyConnection, mode: Mode) -> Result<i64, sqlx::Error> {
    let started = Instant::now();
    let sql = match mode {
        Mode::Passive => "PRAGMA wal_checkpoint(PASSIVE)",
        Mode::Restart => "PRAGMA wal_checkpoint(RESTART)",
        Mode::Truncate => "PRAGMA wal_checkpoint(TRUNCATE)",
    };
    let (busy, frames, copied): (i64, i64, i64) = sqlx::query_as(sql).fetch_one(&mut *conn).await?;
    tracing::debug!(?mode, busy, frames, copied, took = ?started.elapsed(), "WAL checkpoint");
    Ok(frames)
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::str::FromStr;

    use sqlx::any::AnyConnectOptions;
    use sqlx::{AnyConnection, Connection, Executor};
    use uuid::Uuid;

    use fitcheck_core::api::Ingested;

    use super::{placeholders, write_batch};
    use crate::store::{NewReport, Store, StoreError};

    #[test]
    fn placeholders_number_every_parameter_in_order() {
        assert_eq!(placeholders(1, 2), "($1, $2)");
        assert_eq!(placeholders(2, 3), "($1, $2, $3), ($4, $5, $6)");
    }

    fn report(id: Uuid, agent: Uuid) -> NewReport {
        NewReport {
            report_id: id,
            agent_id: agent,
            evaluation_id: None,
            profile_digest: "sha256:00".into(),
            site: Some("lincoln".into()),
            started_at: "2026-11-23T08:00:00Z".into(),
            received_at_ms: 1,
            body: format!("{{\"by\": \"{agent}\"}}"),
            judgement: None,
        }
    }

    fn outcome(o: &Result<Ingested, StoreError>) -> &'static str {
        match o {
            Ok(Ingested::Stored) => "stored",
            Ok(Ingested::Duplicate) => "duplicate",
            Err(StoreError::Conflict(_)) => "conflict",
            Err(_) => "error",
        }
    }

    /// One batch holding a report, its re-delivery, another agent's report under the same id
    /// and more reports than one statement takes: each gets its own answer, and a second
    /// delivery of the whole batch stores nothing new.
    #[tokio::test]
    async fn one_batch_answers_each_report_by_itself() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}?mode=rwc", dir.path().join("db.sqlite").display());
        let (store, handle) = Store::open(&url).await.unwrap();
        drop(store);
        handle.finished().await;
        let mut conn = AnyConnection::connect_with(&AnyConnectOptions::from_str(&url).unwrap())
            .await
            .unwrap();
        let (a, b) = (Uuid::new_v4(), Uuid::new_v4());
        conn.execute(
            "INSERT INTO enrollment_secrets (id, name, secret_hash, created_at) VALUES ('s', 's', 'h', 0)",
        )
        .await
        .unwrap();
        for agent in [a, b] {
            sqlx::query(
                "INSERT INTO agents (id, credential_hash, labels, version, enrolled_at, enrolled_with, last_seen_at) \
                 VALUES ($1, $1, '{}', '1', 0, 's', 0)",
            )
            .bind(agent.to_string())
            .execute(&mut conn)
            .await
            .unwrap();
        }

        let shared = Uuid::new_v4();
        let mut batch = vec![report(shared, a), report(shared, a), report(shared, b)];
        batch.extend((0..super::REPORTS_PER_STATEMENT + 6).map(|_| report(Uuid::new_v4(), b)));
        let rows: Vec<&NewReport> = batch.iter().collect();
        let touches = HashMap::from([(a, 500), (b, 700)]);
        let first = write_batch(&mut conn, &rows, &touches).await.unwrap();
        let first: Vec<&str> = first.iter().map(outcome).collect();
        assert_eq!(first[..3], ["stored", "duplicate", "conflict"]);
        assert!(first[3..].iter().all(|o| *o == "stored"), "{first:?}");
        assert_eq!(first.len(), batch.len());

        let again = write_batch(&mut conn, &rows, &HashMap::from([(a, 400)]))
            .await
            .unwrap();
        let again: Vec<&str> = again.iter().map(outcome).collect();
        assert_eq!(again[..3], ["duplicate", "duplicate", "conflict"]);
        assert!(again[3..].iter().all(|o| *o == "duplicate"), "{again:?}");

        let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM reports")
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(count, i64::try_from(batch.len()).unwrap() - 2);
        let owner: String = sqlx::query_scalar("SELECT body FROM reports WHERE report_id = $1")
            .bind(shared.to_string())
            .fetch_one(&mut conn)
            .await
            .unwrap();
        assert_eq!(owner, format!("{{\"by\": \"{a}\"}}"));
        // last_seen only moves forward.
        for (agent, seen) in [(a, 500), (b, 700)] {
            let at: i64 = sqlx::query_scalar("SELECT last_seen_at FROM agents WHERE id = $1")
                .bind(agent.to_string())
                .fetch_one(&mut conn)
                .await
                .unwrap();
            assert_eq!(at, seen);
        }
    }
}
