//! fitcheck-agent: runs a product profile's checks on this device, from inside the district
//! network, and writes the report.
//!
//! - [`facts`]: what the device is (OS, CPU, RAM, disk, GPU, screen, browsers).
//! - [`checks`]: one module per network check kind, dispatched by a closed enum.
//! - [`resolve`]: the system resolver and the translation of DNS errors into outcomes.
//! - [`tls`]: the trust store and a verifier that records presented chains.
//! - [`plan`]: profile → checks. [`runner`]: bounded concurrent execution with progress.
//! - [`run`]: the whole `run` command. [`render`]: the printed verdict.
//! - [`identity`]: the random agent id and district labels.
//! - [`uplink`]: enrollment, assignments and the report spool (the controller connection).
//! - [`install`]: the hardened systemd service.

pub mod checks;
pub mod facts;
pub mod files;
pub mod identity;
pub mod install;
pub mod plan;
pub mod render;
pub mod resolve;
pub mod run;
pub mod runner;
pub mod signatures;
pub mod sis;
pub mod tls;
pub mod uplink;
