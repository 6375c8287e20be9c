//! What enrollment leaves in the state directory: the controller, its pinned certificate, the
//! agent's id, credential and labels. One file, `enrollment.json`, mode 0600; the credential is
//! never printed or logged.

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::pin::Fingerprint;
use crate::files;

/// The enrollment file's name in the state directory.
pub const ENROLLMENT_FILE: &str = "enrollment.json";

/// The agent's credential. Its `Debug` hides it; only the HTTP client reads it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Credential(String);

impl Credential {
    pub fn new(secret: impl Into<String>) -> Credential {
        Credential(secret.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Credential(hidden)")
    }
}

/// An enrolled agent's standing with its controller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Enrollment {
    /// The controller's base URL, as given at enrollment.
    pub controller: String,
    /// SHA-256 of the certificate the controller presented at enrollment.
    pub fingerprint: Fingerprint,
    /// The agent's id (also in `agent-id`).
    pub agent_id: Uuid,
    /// Sent as `Authorization: Bearer …`.
    pub credential: Credential,
    /// The district's labels for this device, carried by every report.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The controller's poll interval at enrollment, seconds.
    pub poll_interval_s: u32,
    /// When, RFC 3339 UTC.
    pub enrolled_at: String,
}

/// The enrollment file could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("cannot read {path}: {source}; check the --state-dir and that this user may read it")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is damaged ({source}); enroll again to replace it")]
    Parse {
        path: PathBuf,
        source: serde_json::Error,
    },
    #[error(
        "cannot write {path}: {source}; check the --state-dir and that this user may write it (the service's directory needs root)"
    )]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Enrollment {
    /// The enrollment in `state_dir`; `None` when the agent has not enrolled.
    pub fn load(state_dir: &Path) -> Result<Option<Enrollment>, StateError> {
        let path = state_dir.join(ENROLLMENT_FILE);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(StateError::Read { path, source }),
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|source| StateError::Parse { path, source })
    }

    /// Writes it atomically, owner-only.
    pub fn save(&self, state_dir: &Path) -> Result<(), StateError> {
        let path = state_dir.join(ENROLLMENT_FILE);
        let write = || -> std::io::Result<()> {
            files::create_private_dir(state_dir)?;
            let mut bytes = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
            bytes.push(b'\n');
            files::write_private(&path, &bytes)
        };
        write().map_err(|source| StateError::Write {
            path: path.clone(),
            source,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_credential_never_shows_in_debug_output() {
        let e = Enrollment {
            controller: "https://c.example/".to_owned(),
            fingerprint: Fingerprint::of(b"c"),
            agent_id: Uuid::new_v4(),
            credential: Credential::new("s3cret-credential"),
            labels: BTreeMap::new(),
            poll_interval_s: 60,
            enrolled_at: "2026-11-23T00:00:00Z".to_owned(),
        };
        assert!(!format!("{e:?}").contains("s3cret"));
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(Enrollment::load(dir.path()).unwrap(), None);
        e.save(dir.path()).unwrap();
        assert_eq!(Enrollment::load(dir.path()).unwrap(), Some(e));
    }
}
