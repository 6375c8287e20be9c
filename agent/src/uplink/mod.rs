//! The agent's uplink to its controller: enrollment, assignments, and store-and-forward
//! delivery of reports. The agent only ever connects out; it listens on nothing.
//!
//! - [`pin`]: the controller's certificate, pinned by SHA-256 fingerprint.
//! - [`client`]: the agent API (`/api/agent/v1/`) and the classification of every answer
//!   (retry later, refused for good, re-enroll, certificate changed).
//! - [`state`]: the enrollment kept in the state directory (mode 0600). [`files`]: atomic,
//!   durable, owner-only writes.
//! - [`enroll`]: pin, then exchange the district's secret for a credential.
//! - [`spool`]: reports waiting for the controller, one durable file each, bounded.
//!   [`deliver`]: spool → controller, oldest first, with [`backoff`].
//! - [`record`]: evaluations already run, so a restart does not run them again.
//! - [`daemon`]: the service loop; [`job`]: one assignment, run in a child process.
//!   [`upload`]: reports made offline. [`status`]: what is enrolled, waiting, refused and
//!   dropped.

pub mod backoff;
pub mod client;
pub mod daemon;
pub mod deliver;
pub mod enroll;
pub mod job;
pub mod pin;
pub mod record;
pub mod spool;
pub mod state;
pub mod status;
pub mod upload;
