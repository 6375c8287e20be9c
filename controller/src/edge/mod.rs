//! The HTTP edge: what every request passes through before a handler sees it, and what the
//! server answers with.
//!
//! - [`state`]: the state every handler shares (the router itself, which composes the edge,
//!   the API and the pages, is `crate::app`).
//! - [`server`]: the HTTPS accept loop; [`tls`]: the certificate agents pin.
//! - [`extract`]: the extractors that authenticate every request (agent, person, administrator)
//!   and read bodies within their limits; [`guard`]: the cross-site request guard on the
//!   people's API and forms; [`public_url`]: the address people and agents reach the controller
//!   by, behind a reverse proxy.
//! - [`error`]: the one error type every handler answers with; [`ratelimit`]: per-address and
//!   per-agent budgets; [`metrics`]: the Prometheus counters and histograms.
//! - [`bandwidth_gate`] and [`bandwidth_budget`]: the gate in front of the bandwidth endpoint
//!   agents measure against, each agent within its daily budget.

pub mod bandwidth_budget;
pub mod bandwidth_gate;
pub mod error;
pub mod extract;
pub mod guard;
pub mod metrics;
pub mod public_url;
pub mod ratelimit;
pub mod server;
pub mod state;
pub mod tls;
