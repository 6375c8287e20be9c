//! Delivering the spool: oldest first, one report at a time, each removed only after the
//! controller acknowledged it. A controller that is unreachable or busy ends the round and is
//! tried again after a backoff; a report it refuses for good moves aside and the round goes on.

use std::time::Instant;

use fitcheck_core::api::{ApiError, Ingested};
use tracing::{error, info, warn};

use super::backoff::{Backoff, RetryPolicy};
use super::client::{Controller, UplinkError};
use super::spool::{Entry, Spool, SpoolError};

/// What became of one spooled report.
#[derive(Debug, Clone, PartialEq)]
pub enum Delivery {
    /// The controller stored it now.
    Stored,
    /// The controller had it already.
    Duplicate,
    /// The controller refused it for good; it is in `rejected/`.
    Rejected { status: u16, error: ApiError },
    /// The entry could not be read as a report; it is in `rejected/` as it was.
    Unreadable(String),
}

/// Why a report is still waiting.
#[derive(Debug, thiserror::Error)]
pub enum DeliverError {
    #[error(transparent)]
    Uplink(#[from] UplinkError),
    #[error(transparent)]
    Spool(#[from] SpoolError),
}

/// Delivers one entry, and removes it or moves it aside according to the answer.
pub async fn deliver_entry(
    controller: &Controller,
    spool: &Spool,
    entry: &Entry,
) -> Result<Delivery, DeliverError> {
    let envelope = match spool.read(entry) {
        Ok(env) => env,
        Err(SpoolError::Damaged { path, source }) => {
            let to = spool.quarantine(entry)?;
            error!(path = %path.display(), moved_to = %to.display(), %source, "Spool entry is not a report; moved aside, never sent.");
            return Ok(Delivery::Unreadable(source.to_string()));
        }
        Err(e) => return Err(e.into()),
    };
    let report_id = envelope.report.report_id;
    let body = serde_json::to_vec(&envelope.report).map_err(|e| SpoolError::Io {
        action: "encode",
        path: entry.path.clone(),
        source: std::io::Error::other(e),
    })?;
    match controller
        .submit(body, report_id, envelope.evaluation_id)
        .await
    {
        Ok(result) => {
            spool.remove(entry)?;
            let evaluation_id = envelope
                .evaluation_id
                .map_or_else(|| "none".to_owned(), |e| e.to_string());
            Ok(match result {
                Ingested::Stored => {
                    info!(%report_id, %evaluation_id, "Report stored.");
                    Delivery::Stored
                }
                Ingested::Duplicate => {
                    info!(%report_id, %evaluation_id, "Report was already stored.");
                    Delivery::Duplicate
                }
            })
        }
        Err(UplinkError::Rejected { status, error, .. }) => {
            let to = spool.reject(entry, envelope, status, (*error).clone())?;
            error!(
                %report_id,
                status,
                error = %error.error,
                message = %error.message,
                field = error.field.as_deref().unwrap_or(""),
                kept_at = %to.display(),
                "Controller refused the report for good; kept, not retried."
            );
            Ok(Delivery::Rejected {
                status,
                error: *error,
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// What one round did.
#[derive(Debug, Default)]
pub struct Round {
    pub stored: usize,
    pub duplicate: usize,
    pub rejected: usize,
    /// Reports still waiting when the round ended.
    pub waiting: usize,
    /// Why the round ended early.
    pub stopped: Option<DeliverError>,
}

/// Delivers the spool in rounds, backing off while the controller cannot take reports.
#[derive(Debug)]
pub struct Deliverer {
    backoff: Backoff,
    next: Option<Instant>,
}

impl Deliverer {
    /// Due at once: a restart delivers what an earlier run left.
    pub fn new(policy: RetryPolicy) -> Deliverer {
        Deliverer {
            backoff: Backoff::new(policy),
            next: Some(Instant::now()),
        }
    }

    /// When the next round is due; `None` when the spool was empty at the last round.
    pub fn next_at(&self) -> Option<Instant> {
        self.next
    }

    /// Whether a round is due now.
    pub fn due(&self) -> bool {
        self.next.is_some_and(|t| t <= Instant::now())
    }

    /// Something was spooled: deliver it now, unless a backoff is running (the controller
    /// could not take reports or asked for a pause; the new one waits with the others).
    pub fn wake(&mut self) {
        if self.next.is_none() {
            self.next = Some(Instant::now());
        }
    }

    /// Tries every waiting report, oldest first, until one cannot be delivered now.
    pub async fn round(&mut self, controller: &Controller, spool: &Spool) -> Round {
        let mut round = Round::default();
        let entries = match spool.entries() {
            Ok(e) => e,
            Err(e) => {
                self.fail(None);
                round.stopped = Some(e.into());
                return round;
            }
        };
        let total = entries.len();
        for (i, entry) in entries.iter().enumerate() {
            match deliver_entry(controller, spool, entry).await {
                Ok(Delivery::Stored) => round.stored += 1,
                Ok(Delivery::Duplicate) => round.duplicate += 1,
                Ok(Delivery::Rejected { .. } | Delivery::Unreadable(_)) => round.rejected += 1,
                Err(e) => {
                    let after = match &e {
                        DeliverError::Uplink(UplinkError::Retry { after, .. }) => *after,
                        _ => None,
                    };
                    let delay = self.fail(after);
                    round.waiting = total - i;
                    match &e {
                        DeliverError::Uplink(UplinkError::Retry { .. }) => warn!(
                            error = %e,
                            waiting = round.waiting,
                            retry_in_s = delay.as_secs_f64(),
                            "Cannot deliver reports now; they stay in the spool."
                        ),
                        _ => error!(
                            error = %e,
                            waiting = round.waiting,
                            retry_in_s = delay.as_secs_f64(),
                            "Cannot deliver reports; they stay in the spool."
                        ),
                    }
                    round.stopped = Some(e);
                    return round;
                }
            }
        }
        self.backoff.reset();
        self.next = None;
        round
    }

    fn fail(&mut self, after: Option<std::time::Duration>) -> std::time::Duration {
        let delay = self.backoff.next_delay(after);
        self.next = Some(Instant::now() + delay);
        delay
    }
}
