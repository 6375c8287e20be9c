//! Which assigned evaluations this agent has already run, kept in `state_dir/evaluations.json`
//! so that a restart does not run one again while its report waits in the spool or after it
//! was delivered. An evaluation is recorded right after its report is spooled; one whose
//! profile was refused is recorded too, so it is not refused again at every poll.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::spool::now;
use crate::files;

/// The record's file name in the state directory.
pub const RECORD_FILE: &str = "evaluations.json";
/// The most evaluations remembered; the oldest are forgotten first (by then the controller
/// has long stopped assigning them).
const MAX_RECORDED: usize = 2000;

/// What became of an assignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Done {
    /// Ran; the report was spooled (and maybe delivered since).
    Spooled,
    /// Not run: its profile had errors, or its report could never be spooled.
    Refused,
}

/// One remembered evaluation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recorded {
    pub evaluation_id: Uuid,
    /// For a watched product's round: the round (each round runs once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub round: Option<Uuid>,
    pub done: Done,
    /// When, RFC 3339 UTC.
    pub at: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RecordFile {
    evaluations: Vec<Recorded>,
}

/// The record of one state directory.
#[derive(Debug)]
pub struct Record {
    path: PathBuf,
    entries: Vec<Recorded>,
    limit: usize,
}

impl Record {
    /// Reads the record; a missing one is empty. A damaged one is set aside with a warning:
    /// the evaluations whose reports still wait are recovered from the spool.
    pub fn open(state_dir: &Path) -> Record {
        Record::open_with_limit(state_dir, MAX_RECORDED)
    }

    fn open_with_limit(state_dir: &Path, limit: usize) -> Record {
        let path = state_dir.join(RECORD_FILE);
        let entries = match std::fs::read(&path) {
            Ok(bytes) => match serde_json::from_slice::<RecordFile>(&bytes) {
                Ok(f) => f.evaluations,
                Err(e) => {
                    tracing::warn!(path = %path.display(), %e, "The record of evaluations run is damaged; starting a new one. An evaluation already delivered may run again.");
                    Vec::new()
                }
            },
            Err(_) => Vec::new(),
        };
        Record {
            path,
            entries,
            limit,
        }
    }

    /// Whether `id` (its `round`, for a watched product) was run (or refused) already.
    pub fn contains(&self, id: Uuid, round: Option<Uuid>) -> bool {
        self.entries
            .iter()
            .any(|r| r.evaluation_id == id && r.round == round)
    }

    /// How many evaluations are remembered.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Remembers `id` (its `round`), durably.
    pub fn mark(&mut self, id: Uuid, round: Option<Uuid>, done: Done) -> std::io::Result<()> {
        if self.contains(id, round) {
            return Ok(());
        }
        self.entries.push(Recorded {
            evaluation_id: id,
            round,
            done,
            at: now(),
        });
        if self.entries.len() > self.limit {
            let extra = self.entries.len() - self.limit;
            self.entries.drain(..extra);
        }
        let f = RecordFile {
            evaluations: self.entries.clone(),
        };
        let bytes = serde_json::to_vec(&f).map_err(std::io::Error::other)?;
        files::write_private(&self.path, &bytes)
    }
}

/// How many evaluations `state_dir` remembers, without creating anything.
pub fn count(state_dir: &Path) -> usize {
    Record::open(state_dir).len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_round_of_a_watched_evaluation_runs_once() {
        let dir = tempfile::tempdir().unwrap();
        let (e, round, next) = (Uuid::new_v4(), Uuid::new_v4(), Uuid::new_v4());
        let mut r = Record::open(dir.path());
        r.mark(e, None, Done::Spooled).unwrap();
        assert!(
            !r.contains(e, Some(round)),
            "a round of an evaluation run before"
        );
        r.mark(e, Some(round), Done::Spooled).unwrap();
        let again = Record::open(dir.path());
        assert!(again.contains(e, Some(round)) && again.contains(e, None));
        assert!(!again.contains(e, Some(next)));
    }

    #[test]
    fn the_record_survives_a_restart_and_stays_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let a = Uuid::new_v4();
        let mut r = Record::open_with_limit(dir.path(), 5);
        r.mark(a, None, Done::Spooled).unwrap();
        assert!(Record::open(dir.path()).contains(a, None));
        for _ in 0..5 {
            r.mark(Uuid::new_v4(), None, Done::Refused).unwrap();
        }
        let again = Record::open(dir.path());
        assert_eq!(again.len(), 5);
        assert!(!again.contains(a, None), "the oldest is forgotten first");
    }
}
