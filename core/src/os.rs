//! Operating system families, as profiles name them and agents report them.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Operating system family.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum OsFamily {
    Windows,
    Macos,
    Chromeos,
    Linux,
    Ios,
    Ipados,
    Android,
}

impl fmt::Display for OsFamily {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OsFamily::Windows => "Windows",
            OsFamily::Macos => "macOS",
            OsFamily::Chromeos => "ChromeOS",
            OsFamily::Linux => "Linux",
            OsFamily::Ios => "iOS",
            OsFamily::Ipados => "iPadOS",
            OsFamily::Android => "Android",
        })
    }
}
