//! The first stage: one report judged against the evaluation's profile, reduced to what the
//! later stages read. The controller stores a [`Judgement`] beside each report when it is
//! ingested, so a recommendation reads these — a few hundred bytes each — rather than parsing
//! and judging every stored body again.
//!
//! A judgement is a cache of a pure function of (profile, report): it is never the only copy
//! of anything. One written by another [`JUDGEMENT_VERSION`] or against another profile digest
//! is judged again from the stored body.

use fitcheck_core::api::AgentKind;
pub use fitcheck_core::cause::Cause;
use fitcheck_core::evaluate::{FixKind, Status, evaluate};
use fitcheck_core::profile::Profile;
use fitcheck_core::report::{CheckResult, DeviceFacts, MeasureOutcome, Report, ThroughputSamples};
use fitcheck_core::signatures::Catalog;
use serde::{Deserialize, Serialize};

use crate::document::NO_SITE;

/// Bumped whenever what [`judge`] writes changes meaning: stored judgements of another version
/// are judged again from their reports.
pub const JUDGEMENT_VERSION: u32 = 9;

/// Where and when a report arrived: what the controller knows of it beside its body.
#[derive(Debug, Clone, PartialEq)]
pub struct Arrival {
    pub report_id: String,
    /// The agent the controller authenticated for it.
    pub agent_id: String,
    /// The agent's `site` label when the report arrived.
    pub site: Option<String>,
    /// When the controller received it, Unix milliseconds; an agent's latest report counts.
    pub received_at_ms: i64,
}

/// One report, judged: everything the recommendation needs of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judgement {
    /// [`JUDGEMENT_VERSION`] when it was written.
    pub version: u32,
    /// The profile it was judged against (`sha256:…`).
    pub profile_digest: String,
    pub report_id: String,
    pub agent_id: String,
    /// Site label; reports without one count under [`NO_SITE`].
    pub site: String,
    pub received_at_ms: i64,
    /// The device's model as people name it ([`model_of`]).
    pub model: String,
    /// The device as a reader tells it apart ([`device_name`]).
    pub device: String,
    pub agent_version: String,
    /// The kind of agent: what a browser agent sees includes the filters inside the browser.
    #[serde(default, skip_serializing_if = "is_native")]
    pub kind: AgentKind,
    /// The device's OS family, where known: which of the profile's OS entries apply to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_family: Option<fitcheck_core::profile::OsFamily>,
    /// Each requirement, in profile order: `outcomes[i]` is the judgement of the profile's
    /// `i`-th requirement ([`fitcheck_core::evaluate::requirements`]), which the digest pins.
    pub outcomes: Vec<Judged>,
    /// The device's throughput measurement, when it made one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bandwidth: Option<Throughput>,
    /// Caveats the agent attached (what its checks cannot see).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// From a machine that sends the roster files: the transfer path, judged. Such a report
    /// is not a device's: the fleet's stages leave it out and the data stage reads it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transfer: Option<Judged>,
}

/// One requirement on one device. Its id, title, criticality and expectation are the profile's
/// ([`fitcheck_core::evaluate::requirements`]), the same on every device, so not repeated here:
/// a judgement holds one of these per requirement, in profile order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Judged {
    pub status: Status,
    pub observed: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<FixKind>,
    /// For a network requirement that falls short: why, as core judged it. Boxed: most
    /// outcomes pass, and tens of thousands are held at once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Box<Cause>>,
}

/// A device's throughput measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Throughput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_mbps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_mbps: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub download_series: Option<Series>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upload_series: Option<Series>,
}

/// A direction's timed samples ([`ThroughputSamples`]), kept compact: tens of thousands are
/// read for every recommendation. The bytes of each interval are stored as little-endian
/// 32-bit numbers in base64 (an interval of 100 ms carries far less than 4 GiB); an interval
/// that carried more is kept at the most a 32-bit number holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Series {
    pub start_unix_ms: i64,
    pub interval_ms: u32,
    #[serde(with = "packed")]
    pub bytes: Vec<u32>,
}

impl Series {
    /// The compact form of a report's samples.
    pub fn of(s: &ThroughputSamples) -> Series {
        Series {
            start_unix_ms: s.start_unix_ms,
            interval_ms: s.interval_ms,
            bytes: s
                .bytes
                .iter()
                .map(|b| u32::try_from(*b).unwrap_or(u32::MAX))
                .collect(),
        }
    }

    /// The samples again, as the site aggregation reads them.
    pub fn samples(&self) -> ThroughputSamples {
        ThroughputSamples {
            start_unix_ms: self.start_unix_ms,
            interval_ms: self.interval_ms,
            bytes: self.bytes.iter().map(|b| u64::from(*b)).collect(),
        }
    }
}

/// `Vec<u32>` as base64 of its little-endian bytes.
mod packed {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(v: &[u32], s: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
        s.serialize_str(&STANDARD.encode(bytes))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u32>, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        let bytes = STANDARD
            .decode(text.as_bytes())
            .map_err(|e| D::Error::custom(format!("series: not base64: {e}")))?;
        if bytes.len() % 4 != 0 {
            return Err(D::Error::custom(format!(
                "series: {} bytes is not a whole number of 32-bit samples",
                bytes.len()
            )));
        }
        Ok(bytes
            .chunks_exact(4)
            .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
            .collect())
    }
}

fn is_native(kind: &AgentKind) -> bool {
    *kind == AgentKind::Native
}

impl Judgement {
    /// The outcome of the profile's `i`-th requirement.
    pub fn outcome(&self, i: usize) -> Option<&Judged> {
        self.outcomes.get(i)
    }
}

/// [`judge`], with a browser agent's navigations first judged against the signature catalog
/// ([`Catalog::judge_navigation`]): the block-page rules the native agent applies to what it
/// fetches, applied to the status and headers the browser recorded, so both agents' blocks are
/// told by one set of rules. The stored report is left as the agent wrote it.
pub fn judge_with(
    catalog: &Catalog,
    profile: &Profile,
    profile_digest: &str,
    arrival: Arrival,
    report: &Report,
) -> Judgement {
    if report.agent.kind() != AgentKind::Browser {
        return judge(profile, profile_digest, arrival, report);
    }
    let mut seen = report.clone();
    for r in &mut seen.results {
        if let CheckResult::Http(h) = r {
            catalog.judge_navigation(h);
        }
    }
    judge(profile, profile_digest, arrival, &seen)
}

/// Judges one report against the evaluation's profile.
pub fn judge(
    profile: &Profile,
    profile_digest: &str,
    arrival: Arrival,
    report: &Report,
) -> Judgement {
    let outcomes = evaluate(profile, &report.device, &report.results)
        .requirements
        .into_iter()
        .map(|o| Judged {
            status: o.status,
            observed: o.observed,
            remedy: o.remedy,
            fix: o.fix,
            cause: o.cause.map(Box::new),
        })
        .collect();
    let bandwidth = report.results.iter().find_map(|r| match r {
        CheckResult::Bandwidth(b) if b.outcome == MeasureOutcome::Measured => Some(Throughput {
            download_mbps: b.download_mbps,
            upload_mbps: b.upload_mbps,
            download_series: b.download_samples.as_ref().map(Series::of),
            upload_series: b.upload_samples.as_ref().map(Series::of),
        }),
        _ => None,
    });
    Judgement {
        version: JUDGEMENT_VERSION,
        profile_digest: profile_digest.to_owned(),
        report_id: arrival.report_id,
        agent_id: arrival.agent_id,
        site: arrival.site.unwrap_or_else(|| NO_SITE.to_owned()),
        received_at_ms: arrival.received_at_ms,
        model: model_of(&report.device),
        device: device_name(report),
        agent_version: report.agent.version.clone(),
        kind: report.agent.kind(),
        os_family: report.device.os.family,
        outcomes,
        bandwidth,
        notes: report.notes.clone(),
        transfer: fitcheck_core::transfer::is_sender_report(&report.results)
            .then(|| fitcheck_core::transfer::judge(profile, &report.results))
            .flatten()
            .map(|o| Judged {
                status: o.status,
                observed: o.observed,
                remedy: o.remedy,
                fix: o.fix,
                cause: None,
            }),
    }
}

/// A device's model as people name it: the firmware's make and model where known, else its
/// processor and memory.
pub fn model_of(d: &DeviceFacts) -> String {
    if let Some(m) = &d.model {
        return format!("{} {}", m.vendor, m.product).trim().to_owned();
    }
    let gib = fitcheck_core::evaluate::installed_ram_gib(d.memory.total_bytes);
    format!(
        "unnamed model ({}, {} GiB, {})",
        d.cpu.model.as_deref().unwrap_or("unknown CPU"),
        gib,
        d.os.name
    )
}

/// A device as a reader tells it apart: the last characters of its agent id (random) and its
/// room when labelled.
pub fn device_name(report: &Report) -> String {
    let id = report.agent.agent_id.simple().to_string();
    let short = id.get(id.len().saturating_sub(8)..).unwrap_or(&id);
    match report.agent.labels.get("room") {
        Some(room) => format!("agent {short} (room {room})"),
        None => format!("agent {short}"),
    }
}

/// The latest judgement of each agent (by arrival), in agent order: a re-run supersedes what
/// the same device reported before.
pub fn latest_per_agent<'a>(all: impl IntoIterator<Item = &'a Judgement>) -> Vec<&'a Judgement> {
    let mut by_agent: std::collections::BTreeMap<&str, &Judgement> =
        std::collections::BTreeMap::new();
    for j in all {
        match by_agent.get(j.agent_id.as_str()) {
            Some(prev) if prev.received_at_ms >= j.received_at_ms => {}
            _ => {
                by_agent.insert(&j.agent_id, j);
            }
        }
    }
    by_agent.into_values().collect()
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_series_round_trips_compactly() {
        let samples = fitcheck_core::report::ThroughputSamples {
            start_unix_ms: 1_795_168_830_000,
            interval_ms: 100,
            bytes: vec![
                0,
                1,
                1_250_000,
                u64::from(u32::MAX),
                u64::from(u32::MAX) + 7,
            ],
        };
        let series = super::Series::of(&samples);
        let text = serde_json::to_string(&series).unwrap();
        let back: super::Series = serde_json::from_str(&text).unwrap();
        assert_eq!(back, series);
        let again = back.samples();
        assert_eq!(again.bytes[..4], samples.bytes[..4]);
        assert_eq!(
            again.bytes[4],
            u64::from(u32::MAX),
            "kept at the most 32 bits hold"
        );
        assert!(
            serde_json::from_str::<super::Series>(
                r#"{"start_unix_ms":0,"interval_ms":100,"bytes":"AAA="}"#
            )
            .is_err()
        );
    }
}
