//! The API, by resource: every route once in [`routes`] (the router and the OpenAPI document
//! are built from it), the agents' API in [`agent`], the people's by what they manage.
//!
//! - [`agent`]: enrollment, assignments and report ingestion (`/api/agent/v1`).
//! - The people's API (`/api/v1`), one module per resource: [`people`] (log-in, sessions,
//!   passwords, roles), [`secrets`] (enrollment secrets), [`agents`], [`profiles`],
//!   [`evaluations`] (with the recommendation and the Data Projects Form), [`decisions`] (the
//!   committee's approvals, and who may record each party's), [`watches`] (approved products
//!   watched, their rounds and alerts, and the channels alerts go to), [`reports`] and
//!   [`sis`] (the district's SIS summaries).
//! - [`browser_agent`]: the packed extension and its `update.xml`; [`ops`]: `/healthz`,
//!   `/metrics` and what the server says of itself.

pub mod agent;
pub mod agents;
pub mod browser_agent;
pub mod decisions;
pub mod evaluations;
pub mod ops;
pub mod people;
pub mod profiles;
pub mod reports;
pub mod routes;
pub mod secrets;
pub mod sis;
pub mod watches;
