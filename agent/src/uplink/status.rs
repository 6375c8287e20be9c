//! `fitcheck-agent status`: enrollment, what waits in the spool, what was refused or dropped.
//! Reads only; creates nothing.

use std::path::{Path, PathBuf};

use super::record;
use super::spool::{self, SpoolStats};
use super::state::{Enrollment, StateError};

/// The agent's standing.
#[derive(Debug, Clone)]
pub struct Status {
    pub state_dir: PathBuf,
    pub enrollment: Option<Enrollment>,
    pub spool: SpoolStats,
    /// Evaluations remembered as run.
    pub evaluations: usize,
}

/// Reads the standing of the agent whose state is in `state_dir`.
pub fn status(state_dir: &Path) -> Result<Status, StateError> {
    let enrollment = Enrollment::load(state_dir)?;
    let spool_dir = state_dir.join(spool::SPOOL_DIR);
    let spool = spool::stats(state_dir).map_err(|source| StateError::Read {
        path: spool_dir,
        source,
    })?;
    Ok(Status {
        state_dir: state_dir.to_owned(),
        enrollment,
        spool,
        evaluations: record::count(state_dir),
    })
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "State directory: {}", self.state_dir.display())?;
        match &self.enrollment {
            Some(e) => {
                writeln!(f, "Enrolled:        yes, since {}", e.enrolled_at)?;
                writeln!(f, "Controller:      {}", e.controller)?;
                writeln!(f, "Certificate:     {}", e.fingerprint)?;
                writeln!(f, "Agent id:        {}", e.agent_id)?;
                let labels: Vec<String> =
                    e.labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                writeln!(
                    f,
                    "Labels:          {}",
                    if labels.is_empty() {
                        "none".to_owned()
                    } else {
                        labels.join(" ")
                    }
                )?;
            }
            None => writeln!(
                f,
                "Enrolled:        no (fitcheck-agent enroll --controller URL --secret-file FILE)"
            )?,
        }
        writeln!(
            f,
            "Spool:           {} report(s) waiting, {} bytes",
            self.spool.waiting, self.spool.waiting_bytes
        )?;
        writeln!(
            f,
            "Rejected:        {} report(s) the controller refused, kept in {}",
            self.spool.rejected,
            self.state_dir
                .join(spool::SPOOL_DIR)
                .join(spool::REJECTED_DIR)
                .display()
        )?;
        writeln!(
            f,
            "Dropped:         {} report(s) lost because the spool was full",
            self.spool.dropped
        )?;
        writeln!(f, "Evaluations run: {}", self.evaluations)
    }
}
