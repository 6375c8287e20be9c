//! What judging a device against a profile yields, as a report carries it: each requirement's
//! status, expected next to observed, the kind of fix a shortfall takes, and the verdict. The
//! judging itself is [`crate::evaluate`]'s; these are its words.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::cause::Cause;
use crate::requirement::{DeviceKey, RequirementId};

/// A requirement's status, ordered by severity: a pass is the least severe, then what could
/// not be measured, then a shortfall of a non-critical requirement, then a failure — so the
/// worst of several is their `max()`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pass,
    Unknown,
    Warn,
    Fail,
}

impl Status {
    /// The word reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Unknown => "unknown",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }

    /// Whether something falls short (a fail, or a warn of a non-critical requirement).
    pub fn falls_short(self) -> bool {
        matches!(self, Status::Fail | Status::Warn)
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The device's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Every requirement passes.
    Compatible,
    /// Every critical requirement passes; some non-critical one does not.
    CompatibleWithWarnings,
    /// A critical requirement fails.
    NotCompatible,
    /// No critical requirement fails, but some critical one could not be measured.
    InsufficientEvidence,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Compatible => "Compatible",
            Verdict::CompatibleWithWarnings => "Compatible with warnings",
            Verdict::NotCompatible => "Not compatible",
            Verdict::InsufficientEvidence => "Insufficient evidence",
        })
    }
}

/// What kind of requirement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RequirementKind {
    Dns,
    Http,
    Port,
    Network,
    Device,
    Software,
}

impl RequirementKind {
    /// The word reports use.
    pub fn as_str(self) -> &'static str {
        match self {
            RequirementKind::Dns => "dns",
            RequirementKind::Http => "http",
            RequirementKind::Port => "port",
            RequirementKind::Network => "network",
            RequirementKind::Device => "device",
            RequirementKind::Software => "software",
        }
    }

    /// Whether it is the device's own (its hardware, OS, browsers and software), judged per
    /// device model rather than per site.
    pub fn is_per_device(self) -> bool {
        matches!(self, RequirementKind::Device | RequirementKind::Software)
    }
}

/// A requirement as the profile states it, before any device is judged on it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Requirement {
    /// Profile key path (`http[0]`, `device.ram_min_gib`).
    pub id: RequirementId,
    pub kind: RequirementKind,
    /// Short title (`DNS zoom.us`, `RAM`).
    pub title: String,
    /// Whether it decides the verdict.
    pub critical: bool,
    /// What the profile asks, in words.
    pub expected: String,
}

/// What meeting a requirement that is not met takes: decided where the requirement is judged,
/// so that no reader has to guess it from the remedy's words.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FixKind {
    /// Configure the network or a filter: an allow-list entry, a firewall rule, the path.
    ConfigureNetwork,
    /// Install or update software on the device (its OS, a browser, an app, an extension), or
    /// free its disk.
    UpdateSoftware,
    /// Remove or disable software that conflicts with the product.
    RemoveSoftware,
    /// Add or change a part the device takes.
    UpgradePart,
    /// Replace the device: what falls short is soldered or fixed (memory, processor, graphics,
    /// screen, architecture, an operating system the hardware cannot run).
    ReplaceDevice,
    /// Nothing the district can do: only the vendor can change it.
    NonePossible,
    /// Change what the SIS exports: fill, add or filter fields, correct the format.
    ChangeExport,
    /// Amend or sign the data privacy agreement.
    Agreement,
}

impl FixKind {
    /// The word the report uses.
    pub fn as_str(self) -> &'static str {
        match self {
            FixKind::ConfigureNetwork => "configure_network",
            FixKind::UpdateSoftware => "update_software",
            FixKind::RemoveSoftware => "remove_software",
            FixKind::UpgradePart => "upgrade_part",
            FixKind::ReplaceDevice => "replace_device",
            FixKind::NonePossible => "none_possible",
            FixKind::ChangeExport => "change_export",
            FixKind::Agreement => "agreement",
        }
    }

    /// The kind of fix in a committee member's words.
    pub fn words(self) -> &'static str {
        match self {
            FixKind::ConfigureNetwork => "network or filter change",
            FixKind::UpdateSoftware => "software update",
            FixKind::RemoveSoftware => "software removal",
            FixKind::UpgradePart => "part upgrade",
            FixKind::ReplaceDevice => "device replacement",
            FixKind::NonePossible => "vendor fix",
            FixKind::ChangeExport => "SIS export change",
            FixKind::Agreement => "data agreement",
        }
    }

    /// Whether the device itself cannot be brought to the requirement.
    pub fn needs_other_hardware(self) -> bool {
        matches!(self, FixKind::ReplaceDevice | FixKind::NonePossible)
    }

    /// The fix a requirement's kind and key take when its judge names no other.
    pub(crate) fn default_for(kind: RequirementKind, id: &RequirementId) -> FixKind {
        match kind {
            RequirementKind::Dns
            | RequirementKind::Http
            | RequirementKind::Port
            | RequirementKind::Network => FixKind::ConfigureNetwork,
            RequirementKind::Device => match id.device_key() {
                Some(DeviceKey::Os | DeviceKey::Browser | DeviceKey::DiskFreeMinGib) => {
                    FixKind::UpdateSoftware
                }
                // Student devices have their memory, processor and graphics soldered in, and
                // their screen and architecture are the device's.
                Some(
                    DeviceKey::RamMinGib
                    | DeviceKey::CpuCoresMin
                    | DeviceKey::CpuMinGhz
                    | DeviceKey::Gpu
                    | DeviceKey::Screen
                    | DeviceKey::Architectures,
                ) => FixKind::ReplaceDevice,
                None => FixKind::UpgradePart,
            },
            RequirementKind::Software => FixKind::UpdateSoftware,
        }
    }
}

/// One requirement, judged.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementOutcome {
    /// Profile key path (`http[0]`, `device.ram_min_gib`).
    pub id: RequirementId,
    /// Kind.
    pub kind: RequirementKind,
    /// Short title (`DNS zoom.us`, `RAM`).
    pub title: String,
    /// Whether it decides the verdict.
    pub critical: bool,
    /// What the profile asks, in words.
    pub expected: String,
    /// What was seen, in words.
    pub observed: String,
    /// The judgement.
    pub status: Status,
    /// What to do about it, for anything but a pass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remedy: Option<String>,
    /// What kind of fix that is, for a fail or warn.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<FixKind>,
    /// For a network requirement that falls short: why, decided where it is judged. Not part
    /// of the report: a reader of a report judges it again from its results.
    #[serde(skip)]
    #[schemars(skip)]
    pub cause: Option<Cause>,
}

/// Every requirement of a profile, judged, and the verdict.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Evaluation {
    /// The verdict.
    pub verdict: Verdict,
    /// Each requirement in profile order.
    pub requirements: Vec<RequirementOutcome>,
}

impl Evaluation {
    /// How many requirements have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.requirements
            .iter()
            .filter(|r| r.status == status)
            .count()
    }
}
