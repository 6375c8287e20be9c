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
//!
//! One module per table, each an `impl Store` block with its rows: `people` (users and
//! sessions), `secrets`, `agents`, `profiles`, `sis`, `evaluations` (and what ingestion checks
//! a report against), `reports`, `judgements`,
//! `approvals` (the committee's decisions), `watches` (rounds and alerts) and `channels` (with
//! the outbox of messages owed); this module opens the store and holds what
//! they share.

mod agents;
mod approvals;
mod channels;
mod evaluations;
mod judgements;
mod people;
mod profiles;
mod reports;
mod secrets;
mod sis;
mod watches;
pub mod writer;

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyConnection, AnyPool, Connection, Executor};
use tokio::sync::mpsc;

pub use agents::{AgentRow, NewAgent};
pub use approvals::ApprovalRow;
pub use channels::{ChannelRow, OutboxRow};
pub use evaluations::{EvaluationRow, IngestCheck};
pub use judgements::{JudgementRow, MadeJudgement, StoredJudgement};
pub use people::UserRow;
pub use profiles::ProfileRow;
pub use reports::{NewReport, ReportSummary};
pub use secrets::SecretRow;
pub use sis::SisSummaryRow;
pub use watches::{AlertRow, RoundDecision, RoundRow, WatchRow};
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
