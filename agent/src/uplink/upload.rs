//! `fitcheck-agent upload`: reports made offline (`run --json`) go through the spool like the
//! daemon's own, so one the controller cannot take now is kept and delivered later.

use std::path::{Path, PathBuf};

use fitcheck_core::data::summary::SisSummary;
use fitcheck_core::report::{REPORT_SCHEMA, Report};

use super::client::{Controller, Timeouts, UplinkError};
use super::daemon::{DaemonError, load_enrollment};
use super::deliver::{DeliverError, Delivery, deliver_entry};
use super::spool::{Envelope, Spool, SpoolLimits};

/// What became of one file.
#[derive(Debug, Clone, PartialEq)]
pub enum UploadResult {
    /// The controller stored it now.
    Stored,
    /// The controller had it already.
    Duplicate,
    /// The controller refused it for good (kept in `spool/rejected/`).
    Rejected(String),
    /// Spooled; the controller could not take it now, the daemon delivers it later.
    Kept(String),
    /// Not a report, or it could not be spooled: nothing was sent or kept.
    Failed(String),
}

impl UploadResult {
    /// Stored or duplicate.
    pub fn delivered(&self) -> bool {
        matches!(self, UploadResult::Stored | UploadResult::Duplicate)
    }
}

impl std::fmt::Display for UploadResult {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            UploadResult::Stored => f.write_str("stored"),
            UploadResult::Duplicate => f.write_str("duplicate (the controller had it already)"),
            UploadResult::Rejected(why) => write!(f, "rejected: {why}"),
            UploadResult::Kept(why) => write!(
                f,
                "kept in the spool for the daemon to deliver later: {why}"
            ),
            UploadResult::Failed(why) => write!(f, "failed: {why}"),
        }
    }
}

/// Reads a report file; the error says where it is broken.
pub fn read_report(path: &Path) -> Result<Report, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let report: Report = serde_json::from_slice(&bytes)
        .map_err(|e| format!("not a fitcheck report (run --json writes one): {e}"))?;
    if report.schema != REPORT_SCHEMA {
        return Err(format!(
            "schema {:?} is not {REPORT_SCHEMA}; this agent cannot upload it",
            report.schema
        ));
    }
    Ok(report)
}

/// Spools each file and delivers it now. After the controller proved unreachable or refused
/// this agent, the remaining files are only spooled.
pub async fn upload(
    state_dir: &Path,
    paths: &[PathBuf],
    limits: SpoolLimits,
    timeouts: Timeouts,
) -> Result<Vec<(PathBuf, UploadResult)>, DaemonError> {
    let enrollment = load_enrollment(state_dir)?;
    let controller =
        Controller::from_enrollment(&enrollment, timeouts).map_err(DaemonError::Uplink)?;
    let spool = Spool::open(state_dir, limits)?;
    let mut unreachable: Option<String> = None;
    let mut out = Vec::new();
    for path in paths {
        let result = match read_report(path) {
            Err(why) => UploadResult::Failed(why),
            Ok(report) => match spool.put(&Envelope::new(None, report)) {
                Err(e) => UploadResult::Failed(e.to_string()),
                Ok(spooled) => match &unreachable {
                    Some(why) => UploadResult::Kept(why.clone()),
                    None => match deliver_entry(&controller, &spool, &spooled.entry).await {
                        Ok(Delivery::Stored) => UploadResult::Stored,
                        Ok(Delivery::Duplicate) => UploadResult::Duplicate,
                        Ok(Delivery::Rejected { status, error }) => {
                            UploadResult::Rejected(format!(
                                "HTTP {status}, {}: {}{}",
                                error.error,
                                error.message,
                                error
                                    .field
                                    .map(|f| format!(" (field {f})"))
                                    .unwrap_or_default()
                            ))
                        }
                        Ok(Delivery::Unreadable(why)) => UploadResult::Failed(why),
                        Err(DeliverError::Uplink(e)) => {
                            let why = e.to_string();
                            if !matches!(e, UplinkError::Rejected { .. }) {
                                unreachable = Some(why.clone());
                            }
                            UploadResult::Kept(why)
                        }
                        Err(DeliverError::Spool(e)) => UploadResult::Kept(e.to_string()),
                    },
                },
            },
        };
        out.push((path.clone(), result));
    }
    Ok(out)
}

/// Reads a summary file `sis inspect --out` wrote, held to its shape.
pub fn read_sis_summary(path: &Path) -> Result<(Vec<u8>, SisSummary), String> {
    let bytes = std::fs::read(path).map_err(|e| format!("cannot read it: {e}"))?;
    let summary: SisSummary = serde_json::from_slice(&bytes)
        .map_err(|e| format!("not a fitcheck SIS summary (sis inspect --out writes one): {e}"))?;
    summary.check().map_err(|e| e.to_string())?;
    Ok((bytes, summary))
}

/// `fitcheck-agent sis upload`: sends a summary to the controller this agent is enrolled with.
/// A summary is small and made again in seconds, so one the controller cannot take now is not
/// spooled: the error says so and the file stays where it is.
pub async fn upload_summary(
    state_dir: &Path,
    path: &Path,
    timeouts: Timeouts,
) -> Result<UploadResult, String> {
    let (bytes, summary) = read_sis_summary(path)?;
    let enrollment = load_enrollment(state_dir).map_err(|e| e.to_string())?;
    let controller =
        Controller::from_enrollment(&enrollment, timeouts).map_err(|e| e.to_string())?;
    match controller
        .submit_sis_summary(bytes, summary.summary_id)
        .await
    {
        Ok(fitcheck_core::api::Ingested::Stored) => Ok(UploadResult::Stored),
        Ok(fitcheck_core::api::Ingested::Duplicate) => Ok(UploadResult::Duplicate),
        Err(UplinkError::Rejected { error, .. }) => Err(format!("rejected: {}", error.message)),
        Err(e) => Err(format!("{e}; nothing was sent, try again later")),
    }
}
