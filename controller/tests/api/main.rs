//! API tests: the real controller on 127.0.0.1 over HTTPS, each test once on SQLite and once
//! on PostgreSQL (`FITCHECK_TEST_POSTGRES`; `scripts/test` starts a server for it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "../fixtures/mod.rs"]
mod fixtures;

mod access;
mod data;
mod evaluations;
mod helpers;
mod hostile;
mod ingest;
mod judgements;
mod pages;
mod scenario;
mod watches;
