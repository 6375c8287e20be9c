//! Helpers for the end-to-end tests: one harness every test file shares.
//!
//! - [`lab`]: the network-namespace lab (namespaces, the servers started in them, a lab PKI,
//!   commands with a time limit) and the agent run in it or on loopback.
//! - [`expect`]: expectations on the agent's reports that collect every failure of a test.
//! - [`controller`]: the controller as a process, a client of its API, and agents enrolled
//!   with it.
//! - [`bench`]: what the benchmark programs share (a process's memory, a shaped access link).
//! - [`browser`]: the browser lab (headless Chromium with the agent force-installed, the
//!   district's filters and the controller in namespaces), for the browser agent's test and
//!   benchmark.
//! - [`recommend`]: the recommendation from a lab's reports, judged as the controller judges.
//! - [`receivers`]: where a watch's alerts land in the lab (an HTTP receiver, a mail
//!   submission server).

pub mod bench;
pub mod browser;
pub mod controller;
pub mod expect;
pub mod lab;
pub mod receivers;
pub mod recommend;
