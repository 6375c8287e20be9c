//! fitcheck-core: the language agents and the controller share.
//!
//! - [`api`]: the agent API's requests and answers (enrollment, assignments, ingestion).
//! - [`profile`]: product profiles (TOML format v1), strict parsing and validation with
//!   file:line:column and key path on every error.
//! - [`report`]: the report schema `fitcheck.report/v1`, the wire format.
//! - [`evaluate`]: the per-device verdict, a pure function of profile and report.
//! - [`site`]: what several devices of a site carried together, over the time they shared.
//! - [`software`]: the kinds of software a profile can require, where agents read them, and
//!   each ecosystem's version ordering (Debian, RPM, Chrome, semantic).
//! - [`version`]: dotted version comparison for OS and browser minimums.
//!
//! Nothing here does I/O, spawns tasks or reads a clock: callers hand in text and facts.

pub mod api;
pub mod browser_policy;
pub mod cause;
pub mod data;
pub mod evaluate;
pub mod os;
pub mod outcome;
pub mod plan;
pub mod profile;
pub mod report;
pub mod requirement;
pub mod signatures;
pub mod site;
pub mod software;
pub mod transfer;
pub mod version;

use sha2::{Digest, Sha256};

/// The environment variables that name an HTTP proxy (and the hosts that bypass it), as
/// HTTP clients (the agent's among them) read them.
pub const PROXY_VARIABLES: [&str; 8] = [
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// `sha256:` and the hex SHA-256 of `bytes`: how a report names the exact profile file it ran.
pub fn digest(bytes: &[u8]) -> String {
    format!("sha256:{}", hex::encode(Sha256::digest(bytes)))
}
