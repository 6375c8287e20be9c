//! An evaluation's rules: which agents are in its scope, and what the engine reads of it.
//!
//! - [`scope`]: the sites and groups an evaluation takes in, and its data senders.
//! - [`decision`]: the committee's decision, read; [`watch`]: an approved product watched —
//!   rounds started on its schedule and decided against the baseline, alerts and the messages
//!   they owe.
//! - [`dossier`]: reads what the engine (`fitcheck_engine`, pure) needs from the store — the
//!   judgements stored at ingestion, judged again from the bodies where stale — and runs it.

pub mod decision;
pub mod dossier;
pub mod scope;
pub mod watch;
