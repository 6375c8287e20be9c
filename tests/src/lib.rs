//! Helpers for the end-to-end tests.

pub mod controller;
pub mod lab;
