//! The spool: reports waiting for the controller, one file each under `state_dir/spool/`.
//!
//! A report counts as spooled only once its file and the directory entry are on disk, and it
//! leaves the spool only when the controller has answered *stored* or *duplicate*. A report the
//! controller refuses for good moves to `spool/rejected/` with the controller's reason, kept for
//! a person and never retried. The controller is idempotent on `report_id`, so delivering an
//! entry again after a crash between "stored" and the removal is harmless.
//!
//! The spool is bounded in entries and bytes. When a new report would not fit, the oldest
//! waiting ones are dropped, and a counter in the state directory (`spool-dropped.json`) says
//! how many reports were lost that way, so a loss is visible rather than silent.
//!
//! Entry names are `<nanoseconds since 1970, 20 digits>-<report_id>.json`: sorting the names
//! sorts the entries oldest first, and a report already waiting is recognised by its id.

use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use fitcheck_core::api::ApiError;
use fitcheck_core::report::Report;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::files;

/// The spool's directory under the state directory.
pub const SPOOL_DIR: &str = "spool";
/// Refused reports, under the spool directory.
pub const REJECTED_DIR: &str = "rejected";
/// The counter of reports dropped because the spool was full, in the state directory.
pub const DROPPED_FILE: &str = "spool-dropped.json";
/// The envelope format written now.
pub const ENVELOPE_FORMAT: u32 = 1;

/// Bounds on what waits in the spool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpoolLimits {
    /// Most reports waiting.
    pub max_reports: usize,
    /// Most bytes waiting, all entries together.
    pub max_bytes: u64,
}

impl Default for SpoolLimits {
    /// A report is tens of kilobytes; a thousand of them is weeks of evaluations for a device
    /// cut off from its controller, in 64 MiB at most.
    fn default() -> SpoolLimits {
        SpoolLimits {
            max_reports: 1000,
            max_bytes: 64 << 20,
        }
    }
}

/// Why the controller refused a report for good.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rejection {
    /// The HTTP status.
    pub status: u16,
    /// The controller's explanation.
    pub error: ApiError,
    /// When, RFC 3339 UTC.
    pub rejected_at: String,
}

/// One spooled report and what it answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Envelope {
    /// [`ENVELOPE_FORMAT`].
    pub format: u32,
    /// The evaluation the report answers; `None` for a report made offline (`upload`).
    pub evaluation_id: Option<Uuid>,
    /// When it was spooled, RFC 3339 UTC.
    pub spooled_at: String,
    /// The report, sent as it is.
    pub report: Report,
    /// Set once the controller refused it (entries in `rejected/`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rejection: Option<Rejection>,
}

impl Envelope {
    pub fn new(evaluation_id: Option<Uuid>, report: Report) -> Envelope {
        Envelope {
            format: ENVELOPE_FORMAT,
            evaluation_id,
            spooled_at: now(),
            report,
            rejection: None,
        }
    }
}

pub(crate) fn now() -> String {
    time::OffsetDateTime::now_utc()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".to_owned())
}

/// One waiting report's file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The file name.
    pub name: String,
    /// The full path.
    pub path: PathBuf,
    /// Its size.
    pub bytes: u64,
}

impl Entry {
    fn stamp(&self) -> Option<u128> {
        self.name.get(..20)?.parse().ok()
    }

    /// The report's id, from the name.
    pub fn report_id(&self) -> Option<Uuid> {
        let rest = self.name.get(21..)?.strip_suffix(".json")?;
        Uuid::parse_str(rest).ok()
    }
}

/// The spool could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    #[error(
        "cannot {action} {path}: {source}; check that the state directory is writable by this user and the disk is not full"
    )]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the report is {bytes} bytes, more than the whole spool may hold ({max} bytes); raise --spool-max-bytes"
    )]
    TooLarge { bytes: u64, max: u64 },
    #[error("spool entry {path} cannot be read as a report ({source})")]
    Damaged {
        path: PathBuf,
        source: serde_json::Error,
    },
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> SpoolError + use<> {
    let path = path.to_owned();
    move |source| SpoolError::Io {
        action,
        path,
        source,
    }
}

/// The result of [`Spool::put`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spooled {
    /// The entry holding the report.
    pub entry: Entry,
    /// True when the same report was already waiting (nothing was written).
    pub already: bool,
    /// The oldest entries dropped to make room.
    pub dropped: Vec<Entry>,
}

/// Counts, for `status`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpoolStats {
    pub waiting: usize,
    pub waiting_bytes: u64,
    pub rejected: usize,
    pub dropped: u64,
}

/// The spool of one state directory.
#[derive(Debug, Clone)]
pub struct Spool {
    dir: PathBuf,
    rejected: PathBuf,
    dropped_path: PathBuf,
    limits: SpoolLimits,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct DroppedFile {
    dropped: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_dropped_at: Option<String>,
}

fn read_dropped(path: &Path) -> u64 {
    std::fs::read(path)
        .ok()
        .and_then(|b| serde_json::from_slice::<DroppedFile>(&b).ok())
        .map_or(0, |f| f.dropped)
}

/// Entries of `dir`, oldest first; a missing directory has none.
fn list(dir: &Path) -> std::io::Result<Vec<Entry>> {
    let rd = match std::fs::read_dir(dir) {
        Ok(rd) => rd,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e),
    };
    let mut out = Vec::new();
    for item in rd {
        let item = item?;
        let name = item.file_name().to_string_lossy().into_owned();
        // Temporaries start with a dot; `rejected/` is a directory.
        if name.starts_with('.') || !name.ends_with(".json") {
            continue;
        }
        let meta = item.metadata()?;
        if !meta.is_file() {
            continue;
        }
        out.push(Entry {
            name,
            path: item.path(),
            bytes: meta.len(),
        });
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// What the spool of `state_dir` holds, without creating anything.
pub fn stats(state_dir: &Path) -> std::io::Result<SpoolStats> {
    let dir = state_dir.join(SPOOL_DIR);
    let waiting = list(&dir)?;
    Ok(SpoolStats {
        waiting: waiting.len(),
        waiting_bytes: waiting.iter().map(|e| e.bytes).sum(),
        rejected: list(&dir.join(REJECTED_DIR))?.len(),
        dropped: read_dropped(&state_dir.join(DROPPED_FILE)),
    })
}

impl Spool {
    /// Opens (creating if needed) the spool of `state_dir`, and clears temporaries a crash
    /// left behind: they never counted as spooled.
    pub fn open(state_dir: &Path, limits: SpoolLimits) -> Result<Spool, SpoolError> {
        let dir = state_dir.join(SPOOL_DIR);
        let rejected = dir.join(REJECTED_DIR);
        files::create_private_dir(&dir).map_err(io("create", &dir))?;
        files::create_private_dir(&rejected).map_err(io("create", &rejected))?;
        for d in [&dir, &rejected] {
            let rd = std::fs::read_dir(d).map_err(io("read", d))?;
            for item in rd.flatten() {
                let name = item.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && name.ends_with(".tmp") {
                    let _ = std::fs::remove_file(item.path());
                }
            }
        }
        Ok(Spool {
            dir,
            rejected,
            dropped_path: state_dir.join(DROPPED_FILE),
            limits: SpoolLimits {
                max_reports: limits.max_reports.max(1),
                max_bytes: limits.max_bytes,
            },
        })
    }

    /// The spool directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The directory of refused reports.
    pub fn rejected_dir(&self) -> &Path {
        &self.rejected
    }

    /// Waiting entries, oldest first.
    pub fn entries(&self) -> Result<Vec<Entry>, SpoolError> {
        list(&self.dir).map_err(io("read", &self.dir))
    }

    /// Refused entries.
    pub fn rejected(&self) -> Result<Vec<Entry>, SpoolError> {
        list(&self.rejected).map_err(io("read", &self.rejected))
    }

    /// Reports dropped so far because the spool was full.
    pub fn dropped(&self) -> u64 {
        read_dropped(&self.dropped_path)
    }

    /// Evaluations that have a report waiting.
    pub fn evaluations(&self) -> Result<Vec<Uuid>, SpoolError> {
        let mut out = Vec::new();
        for e in self.entries()? {
            if let Ok(env) = self.read(&e)
                && let Some(id) = env.evaluation_id
            {
                out.push(id);
            }
        }
        Ok(out)
    }

    /// Adds a report; durable when this returns. A report already waiting (same `report_id`)
    /// is not added twice. Drops the oldest entries when the new one would not fit.
    pub fn put(&self, envelope: &Envelope) -> Result<Spooled, SpoolError> {
        let bytes = serde_json::to_vec(envelope).map_err(|e| SpoolError::Io {
            action: "encode a report for",
            path: self.dir.clone(),
            source: std::io::Error::other(e),
        })?;
        let size = bytes.len() as u64;
        if size > self.limits.max_bytes {
            return Err(SpoolError::TooLarge {
                bytes: size,
                max: self.limits.max_bytes,
            });
        }
        let entries = self.entries()?;
        let report_id = envelope.report.report_id;
        if let Some(e) = entries.iter().find(|e| e.report_id() == Some(report_id)) {
            return Ok(Spooled {
                entry: e.clone(),
                already: true,
                dropped: Vec::new(),
            });
        }
        let mut count = entries.len();
        let mut total: u64 = entries.iter().map(|e| e.bytes).sum();
        let mut dropped = Vec::new();
        for oldest in &entries {
            if count < self.limits.max_reports && total + size <= self.limits.max_bytes {
                break;
            }
            match std::fs::remove_file(&oldest.path) {
                Ok(()) => dropped.push(oldest.clone()),
                // Delivered meanwhile by another process: room made all the same.
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(io("remove", &oldest.path)(e)),
            }
            count -= 1;
            total = total.saturating_sub(oldest.bytes);
        }
        if !dropped.is_empty() {
            files::sync_dir(&self.dir).map_err(io("sync", &self.dir))?;
            let total_dropped = self.count_dropped(dropped.len() as u64)?;
            for d in &dropped {
                tracing::warn!(
                    report_id = ?d.report_id(),
                    dropped_total = total_dropped,
                    max_reports = self.limits.max_reports,
                    max_bytes = self.limits.max_bytes,
                    "Spool full: the oldest waiting report was dropped. Check that the controller is reachable, or raise the spool limits."
                );
            }
        }
        // Names sort oldest first even when the clock steps back or two reports share a tick.
        let stamp = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let newest = entries.iter().filter_map(Entry::stamp).max().unwrap_or(0);
        let stamp = stamp.max(newest + 1);
        let name = format!("{stamp:020}-{report_id}.json");
        let path = self.dir.join(&name);
        files::write_private(&path, &bytes).map_err(io("write", &path))?;
        Ok(Spooled {
            entry: Entry {
                name,
                path,
                bytes: size,
            },
            already: false,
            dropped,
        })
    }

    fn count_dropped(&self, n: u64) -> Result<u64, SpoolError> {
        let f = DroppedFile {
            dropped: read_dropped(&self.dropped_path).saturating_add(n),
            last_dropped_at: Some(now()),
        };
        let text = serde_json::to_vec(&f).map_err(|e| SpoolError::Io {
            action: "encode",
            path: self.dropped_path.clone(),
            source: std::io::Error::other(e),
        })?;
        files::write_private(&self.dropped_path, &text).map_err(io("write", &self.dropped_path))?;
        Ok(f.dropped)
    }

    /// Reads an entry.
    pub fn read(&self, entry: &Entry) -> Result<Envelope, SpoolError> {
        let bytes = std::fs::read(&entry.path).map_err(io("read", &entry.path))?;
        serde_json::from_slice(&bytes).map_err(|source| SpoolError::Damaged {
            path: entry.path.clone(),
            source,
        })
    }

    /// Removes an entry the controller acknowledged.
    pub fn remove(&self, entry: &Entry) -> Result<(), SpoolError> {
        match std::fs::remove_file(&entry.path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io("remove", &entry.path)(e)),
        }
        files::sync_dir(&self.dir).map_err(io("sync", &self.dir))
    }

    /// Moves an entry the controller refused for good to `rejected/`, with the reason. The
    /// refused copy is durable before the waiting one goes.
    pub fn reject(
        &self,
        entry: &Entry,
        mut envelope: Envelope,
        status: u16,
        error: ApiError,
    ) -> Result<PathBuf, SpoolError> {
        envelope.rejection = Some(Rejection {
            status,
            error,
            rejected_at: now(),
        });
        let bytes = serde_json::to_vec_pretty(&envelope).map_err(|e| SpoolError::Io {
            action: "encode",
            path: entry.path.clone(),
            source: std::io::Error::other(e),
        })?;
        let to = self.rejected.join(&entry.name);
        files::write_private(&to, &bytes).map_err(io("write", &to))?;
        self.remove(entry)?;
        Ok(to)
    }

    /// Moves an entry that cannot be read as a report to `rejected/` as it is: it can never be
    /// delivered and must not hold up the ones behind it.
    pub fn quarantine(&self, entry: &Entry) -> Result<PathBuf, SpoolError> {
        let to = self.rejected.join(&entry.name);
        std::fs::rename(&entry.path, &to).map_err(io("move", &entry.path))?;
        files::sync_dir(&self.rejected).map_err(io("sync", &self.rejected))?;
        files::sync_dir(&self.dir).map_err(io("sync", &self.dir))?;
        Ok(to)
    }
}
