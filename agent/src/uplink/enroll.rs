//! Enrollment: pin the controller's certificate, exchange the district's secret for this
//! agent's credential, keep both in the state directory.
//!
//! The first connection only records the certificate the controller presents and ends the
//! handshake, so the secret is sent only afterwards, over a connection pinned to that
//! certificate. When the administrator gave the fingerprint (`--fingerprint`), a different
//! certificate stops enrollment before anything is sent.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use fitcheck_core::api::{AgentKind, EnrollRequest};
use uuid::Uuid;

use super::client::{self, Controller, Timeouts, UplinkError};
use super::pin::Fingerprint;
use super::spool::now;
use super::state::{Credential, ENROLLMENT_FILE, Enrollment, StateError};
use crate::files;
use crate::identity;

/// What to enroll with. Its `Debug` leaves the secret out.
#[derive(Clone)]
pub struct EnrollOptions {
    /// The controller's base URL (`https://…`).
    pub controller: String,
    /// The district's enrollment secret.
    pub secret: String,
    /// The district's labels for this device (`site`, `group`, …).
    pub labels: BTreeMap<String, String>,
    /// The fingerprint the administrator expects, when given.
    pub fingerprint: Option<Fingerprint>,
    pub state_dir: PathBuf,
    /// Enroll as a new agent: replace the agent id kept in the state directory.
    pub new_id: bool,
    pub timeouts: Timeouts,
}

impl std::fmt::Debug for EnrollOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EnrollOptions")
            .field("controller", &self.controller)
            .field("labels", &self.labels)
            .field("fingerprint", &self.fingerprint)
            .field("state_dir", &self.state_dir)
            .field("new_id", &self.new_id)
            .finish_non_exhaustive()
    }
}

/// A finished enrollment.
#[derive(Debug, Clone)]
pub struct Enrolled {
    pub enrollment: Enrollment,
    /// Whether the certificate was compared with a fingerprint the administrator gave.
    pub verified: bool,
    /// The enrollment file.
    pub state_file: PathBuf,
}

/// Why enrollment did not happen. Nothing is written in any of these cases.
#[derive(Debug, thiserror::Error)]
pub enum EnrollError {
    #[error(transparent)]
    Url(UplinkError),
    #[error(
        "cannot reach the controller at {controller}: {reason}. Check the URL, and that this device can reach it (HTTPS_PROXY is used when set)"
    )]
    Unreachable { controller: String, reason: String },
    #[error(
        "the controller at {controller} presented certificate {presented} ({}), not {expected} given with --fingerprint. Nothing was sent. Compare the fingerprint with the controller's administrator again; if it is right, something between this device and the controller is intercepting the connection", presented.colon_hex()
    )]
    FingerprintMismatch {
        controller: String,
        expected: Fingerprint,
        presented: Fingerprint,
    },
    #[error(
        "the controller at {controller} refused the enrollment secret ({message}); ask its administrator for a current secret"
    )]
    SecretRefused { controller: String, message: String },
    #[error(
        "the controller already has an agent with this device's id {agent_id} ({message}); ask its administrator to revoke that agent before enrolling again, or enroll as a new agent with --new-id"
    )]
    AlreadyEnrolled { agent_id: Uuid, message: String },
    #[error("the controller refused the enrollment (HTTP {status}): {message}")]
    Refused { status: u16, message: String },
    #[error("the controller answered for agent {got}, not this agent {sent}; nothing was kept")]
    WrongAgent { sent: Uuid, got: Uuid },
    #[error(
        "{0}; enrollment needs a state directory it can keep (set --state-dir, or run as root)"
    )]
    AgentId(String),
    #[error("the enrollment secret is empty; give --secret or a --secret-file that holds it")]
    EmptySecret,
    #[error(transparent)]
    State(#[from] StateError),
    #[error(transparent)]
    Uplink(UplinkError),
}

/// Reads an enrollment secret from a file: its first line, without surrounding blanks.
pub fn read_secret_file(path: &Path) -> Result<String, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the secret file {}: {e}", path.display()))?;
    Ok(text.lines().next().unwrap_or("").trim().to_owned())
}

/// Enrolls this agent with `opts.controller`.
pub async fn enroll(opts: &EnrollOptions) -> Result<Enrolled, EnrollError> {
    client::api_base(&opts.controller).map_err(EnrollError::Url)?;
    let secret = opts.secret.trim();
    if secret.is_empty() {
        return Err(EnrollError::EmptySecret);
    }
    let controller_text = opts.controller.trim().to_owned();
    let presented = controller_certificate(opts, &controller_text).await?;
    tracing::info!(controller = %controller_text, fingerprint = %presented, "Controller certificate recorded.");

    let state_dir = &opts.state_dir;
    let agent_id = keep_agent_id(state_dir, opts.new_id)?;

    let controller = Controller::new(&controller_text, presented, None, opts.timeouts)
        .map_err(EnrollError::Uplink)?;
    let request = EnrollRequest {
        secret: secret.to_owned(),
        agent_id,
        labels: opts.labels.clone(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        kind: Some(AgentKind::Native),
    };
    let answer = controller
        .enroll(&request)
        .await
        .map_err(|e| enroll_refused(e, &controller_text, agent_id))?;
    if answer.agent_id != agent_id {
        return Err(EnrollError::WrongAgent {
            sent: agent_id,
            got: answer.agent_id,
        });
    }
    let enrollment = Enrollment {
        controller: controller_text,
        fingerprint: presented,
        agent_id,
        credential: Credential::new(answer.credential),
        labels: opts.labels.clone(),
        poll_interval_s: answer.poll_interval_s,
        enrolled_at: now(),
    };
    enrollment.save(state_dir)?;
    tracing::info!(%agent_id, "Enrolled.");
    Ok(Enrolled {
        enrollment,
        verified: opts.fingerprint.is_some(),
        state_file: state_dir.join(ENROLLMENT_FILE),
    })
}

/// The controller at `controller_text` cannot be reached, for `reason`.
fn unreachable(controller_text: &str, reason: String) -> EnrollError {
    EnrollError::Unreachable {
        controller: controller_text.to_owned(),
        reason,
    }
}

/// The certificate the controller presents, checked against the fingerprint the
/// administrator gave, when one was given.
async fn controller_certificate(
    opts: &EnrollOptions,
    controller_text: &str,
) -> Result<Fingerprint, EnrollError> {
    let presented = client::fetch_certificate(controller_text, opts.timeouts.connect)
        .await
        .map_err(|e| match e {
            UplinkError::Retry { reason, .. } => unreachable(controller_text, reason),
            other => EnrollError::Uplink(other),
        })?;
    if let Some(expected) = opts.fingerprint
        && expected != presented
    {
        return Err(EnrollError::FingerprintMismatch {
            controller: controller_text.to_owned(),
            expected,
            presented,
        });
    }
    Ok(presented)
}

/// Creates the state directory and the agent id kept in it (a new one when `new_id`), owned
/// like the directory.
fn keep_agent_id(state_dir: &Path, new_id: bool) -> Result<Uuid, EnrollError> {
    files::create_private_dir(state_dir).map_err(|source| StateError::Write {
        path: state_dir.to_owned(),
        source,
    })?;
    let id_path = state_dir.join("agent-id");
    if new_id {
        match std::fs::remove_file(&id_path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(source) => {
                return Err(StateError::Write {
                    path: id_path,
                    source,
                }
                .into());
            }
        }
    }
    let (agent_id, notice) = identity::agent_id(state_dir);
    if let Some(n) = notice {
        return Err(EnrollError::AgentId(n));
    }
    files::adopt_owner(&id_path, state_dir);
    Ok(agent_id)
}

/// What the controller's refusal of the enrollment means for the person enrolling.
fn enroll_refused(e: UplinkError, controller_text: &str, agent_id: Uuid) -> EnrollError {
    match e {
        UplinkError::Rejected {
            status: 401, error, ..
        } => EnrollError::SecretRefused {
            controller: controller_text.to_owned(),
            message: error.message,
        },
        UplinkError::Rejected {
            status: 409, error, ..
        } => EnrollError::AlreadyEnrolled {
            agent_id,
            message: error.message,
        },
        UplinkError::Rejected { status, error, .. } => EnrollError::Refused {
            status,
            message: error.message,
        },
        UplinkError::Retry { reason, .. } => unreachable(controller_text, reason),
        other => EnrollError::Uplink(other),
    }
}

/// What `enroll` prints: the fingerprint for the administrator to compare, and where the
/// credential is kept (never the credential).
pub fn summary(done: &Enrolled) -> String {
    let e = &done.enrollment;
    let mut s = format!(
        "Controller certificate: {}\n  as openssl prints it: {}\n",
        e.fingerprint,
        e.fingerprint.colon_hex()
    );
    if done.verified {
        s.push_str("  It matches the --fingerprint given.\n");
    } else {
        s.push_str(
            "  Not compared with a fingerprint you gave: check that it is the one the controller shows \
             (fitcheck-controller fingerprint, or its /api/v1/server page). If it differs, revoke this agent on the \
             controller and enroll again with --fingerprint.\n",
        );
    }
    s.push_str(&format!(
        "Enrolled as agent {} with {}.\nCredential kept in {} (readable by its owner only).\n",
        e.agent_id,
        e.controller,
        done.state_file.display()
    ));
    if !e.labels.contains_key("site") {
        s.push_str(
            "Note: no site label; the controller assigns evaluations by site and group (--label site=...).\n",
        );
    }
    s
}
