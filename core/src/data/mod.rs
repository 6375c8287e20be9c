//! The vendor's data files: what a product needs from the district's Student Information
//! System, and the vocabularies that name it.
//!
//! - [`oneroster`]: the OneRoster 1.1 and 1.2 CSV bindings (files, columns, `manifest.csv`
//!   keys), each table citing its source.
//! - [`exhibit_b`]: the Student Data Privacy Consortium's National Data Privacy Agreement
//!   Exhibit B schedule of data (categories and elements), and each OneRoster column's element.
//! - [`summary`]: what the inspector keeps of a district's export (`fitcheck.sis-summary/v1`):
//!   structure and counts, never a cell value.

pub mod exhibit_b;
pub mod oneroster;
pub mod summary;
