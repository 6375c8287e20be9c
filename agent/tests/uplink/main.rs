//! The agent's uplink against a mock controller on 127.0.0.1 over TLS: pinning, enrollment,
//! the spool and its delivery, and the `enroll`, `daemon`, `upload`, `status` and `install`
//! commands as a user runs them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli;
#[path = "../common/mod.rs"]
mod common;
mod delivery;
mod enrollment;
mod mock;
mod pinning;
