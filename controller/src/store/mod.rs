//! Storage: one [`Store`] over sqlx's `Any` driver, backed by SQLite (the embedded default, a
//! file in the data directory) or PostgreSQL (several controllers may share one database).
//!
//! The schema (`migrations/`) is plain SQL both backends run unchanged: ids are UUID text,
//! times Unix milliseconds, documents JSON text. What differs is set up in [`Store::open`]:
//! SQLite runs in WAL mode with `synchronous = FULL`, so a committed transaction survives a
//! crash of the process and of the machine.
//!
//! Reports and `last_seen` updates go through one writer (`writer`, on its own thread and
//! connection) that groups whatever is waiting into one transaction (group commit): every
//! sender is answered only after that transaction committed, so an acknowledged report is
//! durable, and one fsync serves many reports.

pub mod writer;

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection, Executor, FromRow};
use tokio::sync::{mpsc, oneshot};
use uuid::Uuid;

use fitcheck_core::api::Ingested;
use fitcheck_core::profile::Profile;

use writer::Job;
pub use writer::WriterHandle;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// What went wrong in storage.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A unique value is taken (a user name, an agent id).
    #[error("{0}")]
    Conflict(String),
    /// The database refused or failed.
    #[error("database error: {0}")]
    Db(#[from] sqlx::Error),
    /// The database could not be brought to the current schema.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// The writer has stopped (the controller is shutting down).
    #[error("the store is shutting down")]
    Closed,
    /// A database URL this build cannot use.
    #[error("{0}")]
    Url(String),
    /// The report writer could not start.
    #[error("the report writer could not start: {0}")]
    Writer(String),
    /// Something to be stored could not be made (nothing was written).
    #[error("{0}")]
    Invalid(String),
}

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

/// A person who can log in.
#[derive(Debug, Clone, FromRow)]
pub struct UserRow {
    pub id: String,
    pub username: String,
    pub role: String,
    pub password_hash: String,
    pub created_at: i64,
    /// 1 while the password is one-time (chosen for the person, not by them).
    pub must_change_password: i64,
}

impl UserRow {
    /// Whether the person must choose their own password before anything else.
    pub fn must_change_password(&self) -> bool {
        self.must_change_password != 0
    }
}

/// A district enrollment secret (only its hash is kept).
#[derive(Debug, Clone, FromRow)]
pub struct SecretRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

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

/// An uploaded, validated profile.
#[derive(Debug, Clone, FromRow)]
pub struct ProfileRow {
    pub id: String,
    pub profile_id: String,
    pub name: String,
    pub vendor: String,
    pub digest: String,
    pub file_name: String,
    pub toml: String,
    pub uploaded_by: String,
    pub uploaded_at: i64,
}

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

/// A judgement as stored beside its report (`judgements`): the columns a drill-down selects
/// by, and the JSON the engine reads.
#[derive(Debug, Clone)]
pub struct StoredJudgement {
    pub model: String,
    pub version: u32,
    /// `fitcheck_engine::Judgement` as JSON.
    pub json: String,
}

/// The controller's database.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    backend: Backend,
    writer: mpsc::Sender<Job>,
    /// Evaluations with their profile's digest, as ingestion checks reports against them.
    /// Neither ever changes once written, so a cached entry is never stale.
    ingest_checks: Arc<Mutex<HashMap<String, Arc<IngestCheck>>>>,
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

/// Sets up one SQLite connection. WAL lets readers run beside the writer; FULL makes every
/// commit durable against power loss, not only against a process crash.
pub(crate) async fn sqlite_session(conn: &mut AnyConnection) -> Result<(), sqlx::Error> {
    conn.execute("PRAGMA journal_mode = WAL").await?;
    conn.execute("PRAGMA synchronous = FULL").await?;
    conn.execute("PRAGMA busy_timeout = 10000").await?;
    conn.execute("PRAGMA foreign_keys = ON").await?;
    Ok(())
}

impl Store {
    /// Opens (creating where needed) and migrates the database at `url`: `sqlite:PATH` or
    /// `postgres://…`.
    pub async fn open(url: &str) -> Result<(Store, WriterHandle), StoreError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err(StoreError::Url(format!(
                "database URL {:?} is neither sqlite:PATH nor postgres://…",
                redact(url)
            )));
        };
        let url = match backend {
            Backend::Sqlite if !url.contains('?') => format!("{url}?mode=rwc"),
            _ => url.to_owned(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(match backend {
                Backend::Sqlite => 8,
                Backend::Postgres => 16,
            })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        sqlite_session(conn).await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options.clone())
            .await?;
        MIGRATOR.run(&pool).await?;
        let (writer, handle) = writer::start(options, backend).await?;
        Ok((
            Store {
                pool,
                backend,
                writer,
                ingest_checks: Default::default(),
            },
            handle,
        ))
    }

    /// The database behind this store.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// Closes the pool (after the writer finished).
    pub async fn close(&self) {
        self.pool.close().await;
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        let mut conn = self.pool.acquire().await?;
        conn.ping().await?;
        Ok(())
    }

    // ---- people ----

    pub async fn count_users(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.pool)
            .await?)
    }

    /// A new person with a one-time password (they choose their own at first log-in).
    pub async fn create_user(
        &self,
        username: &str,
        role: &str,
        password_hash: &str,
        now_ms: i64,
    ) -> Result<String, StoreError> {
        let id = Uuid::new_v4().to_string();
        sqlx::query(
            "INSERT INTO users (id, username, role, password_hash, created_at, must_change_password) \
             VALUES ($1, $2, $3, $4, $5, 1)",
        )
        .bind(&id)
        .bind(username)
        .bind(role)
        .bind(password_hash)
        .bind(now_ms)
        .execute(&self.pool)
        .await
        .map_err(|e| unique(e, format!("a user named {username:?} exists already")))?;
        Ok(id)
    }

    /// Sets a person's password and ends all their sessions, at once: a password someone else
    /// chose (`one_time`) must be changed at the next log-in. False for no such person.
    pub async fn set_password(
        &self,
        username: &str,
        hash: &str,
        one_time: bool,
    ) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE users SET password_hash = $1, must_change_password = $2 WHERE username = $3",
        )
        .bind(hash)
        .bind(i64::from(one_time))
        .bind(username)
        .execute(&mut *tx)
        .await?;
        end_sessions(&mut tx, username).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// A person chose their own password: it is no longer one-time, and every session of theirs
    /// but `keep` (the one they changed it from) ends.
    pub async fn change_own_password(
        &self,
        user_id: &str,
        hash: &str,
        keep: &str,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query("UPDATE users SET password_hash = $1, must_change_password = 0 WHERE id = $2")
            .bind(hash)
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
            .bind(user_id)
            .bind(keep)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Gives a person another role and ends their sessions (what they may do changed). The last
    /// administrator cannot be made a reviewer. False for no such person.
    pub async fn set_role(&self, username: &str, role: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        if role != "admin" {
            self.keep_an_admin(&mut tx, username, "made a reviewer")
                .await?;
        }
        let done = sqlx::query("UPDATE users SET role = $1 WHERE username = $2")
            .bind(role)
            .bind(username)
            .execute(&mut *tx)
            .await?;
        end_sessions(&mut tx, username).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Removes a person and their sessions. The last administrator cannot be removed. False for
    /// no such person.
    pub async fn remove_user(&self, username: &str) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        self.keep_an_admin(&mut tx, username, "removed").await?;
        end_sessions(&mut tx, username).await?;
        let done = sqlx::query("DELETE FROM users WHERE username = $1")
            .bind(username)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    /// Refuses a change that would leave no administrator: `username` is one, and no other is.
    async fn keep_an_admin(
        &self,
        tx: &mut sqlx::Transaction<'_, sqlx::Any>,
        username: &str,
        change: &str,
    ) -> Result<(), StoreError> {
        let is_admin: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM users WHERE username = $1 AND role = 'admin'")
                .bind(username)
                .fetch_one(&mut **tx)
                .await?;
        let others: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM users WHERE username <> $1 AND role = 'admin'",
        )
        .bind(username)
        .fetch_one(&mut **tx)
        .await?;
        if is_admin > 0 && others == 0 {
            return Err(StoreError::Conflict(format!(
                "{username:?} is the only administrator and cannot be {change}; make another person an administrator first"
            )));
        }
        Ok(())
    }

    pub async fn user_by_name(&self, username: &str) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.pool)
            .await?)
    }

    pub async fn list_users(&self) -> Result<Vec<UserRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM users ORDER BY username")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn create_session(
        &self,
        token_hash: &str,
        user_id: &str,
        now_ms: i64,
        expires_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token_hash)
        .bind(user_id)
        .bind(now_ms)
        .bind(expires_ms)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// The user a live session belongs to.
    pub async fn session_user(
        &self,
        token_hash: &str,
        now_ms: i64,
    ) -> Result<Option<UserRow>, StoreError> {
        Ok(sqlx::query_as(
            "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id \
             WHERE s.token_hash = $1 AND s.expires_at > $2",
        )
        .bind(token_hash)
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?)
    }

    pub async fn delete_session(&self, token_hash: &str) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    // ---- enrollment secrets ----

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

    // ---- agents ----

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

    // ---- profiles ----

    /// Stores a validated profile; the same file uploaded again returns the stored one.
    pub async fn insert_profile(&self, p: &ProfileRow) -> Result<ProfileRow, StoreError> {
        sqlx::query(
            "INSERT INTO profiles (id, profile_id, name, vendor, digest, file_name, toml, uploaded_by, uploaded_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (digest) DO NOTHING",
        )
        .bind(&p.id)
        .bind(&p.profile_id)
        .bind(&p.name)
        .bind(&p.vendor)
        .bind(&p.digest)
        .bind(&p.file_name)
        .bind(&p.toml)
        .bind(&p.uploaded_by)
        .bind(p.uploaded_at)
        .execute(&self.pool)
        .await?;
        Ok(sqlx::query_as("SELECT * FROM profiles WHERE digest = $1")
            .bind(&p.digest)
            .fetch_one(&self.pool)
            .await?)
    }

    pub async fn list_profiles(&self) -> Result<Vec<ProfileRow>, StoreError> {
        Ok(
            sqlx::query_as("SELECT * FROM profiles ORDER BY profile_id, uploaded_at")
                .fetch_all(&self.pool)
                .await?,
        )
    }

    pub async fn get_profile(&self, id: &str) -> Result<Option<ProfileRow>, StoreError> {
        Ok(sqlx::query_as("SELECT * FROM profiles WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?)
    }

    // ---- SIS summaries ----

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

    // ---- evaluations ----

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

    // ---- reports ----

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

fn unique(e: sqlx::Error, message: String) -> StoreError {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(message),
        _ => StoreError::Db(e),
    }
}

/// A database URL without its password, for messages (read with the `url` crate; one it
/// cannot read is not shown at all where it may hold credentials).
pub fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut u) => {
            if u.password().is_some() {
                let _ = u.set_password(Some("***"));
            }
            u.to_string()
        }
        Err(_) if url.contains('@') => "(a database URL that could not be read)".to_owned(),
        Err(_) => url.to_owned(),
    }
}

/// Ends every session of the person named `username`, inside `tx`.
async fn end_sessions(
    tx: &mut sqlx::Transaction<'_, sqlx::Any>,
    username: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE username = $1)")
        .bind(username)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::redact;

    #[test]
    fn a_database_url_is_shown_without_its_password() {
        assert_eq!(
            redact("postgres://fitcheck:s3cr%40t@db.district.example:5432/fitcheck"),
            "postgres://fitcheck:***@db.district.example:5432/fitcheck"
        );
        assert_eq!(
            redact("postgres://db.district.example/fitcheck"),
            "postgres://db.district.example/fitcheck"
        );
        assert_eq!(
            redact("sqlite:/var/lib/fitcheck-controller/fitcheck.db"),
            "sqlite:/var/lib/fitcheck-controller/fitcheck.db"
        );
        assert_eq!(
            redact("not a url but user:pw@host"),
            "(a database URL that could not be read)"
        );
    }
}
