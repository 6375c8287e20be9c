//! An evaluation's rules: which agents are in its scope, and what the engine reads of it.
//!
//! - [`scope`]: the sites and groups an evaluation takes in, and its data senders.
//! - [`dossier`]: reads what the engine (`fitcheck_engine`, pure) needs from the store — the
//!   judgements stored at ingestion, judged again from the bodies where stale — and runs it.

pub mod dossier;
pub mod scope;
