//! What the inspector keeps of a district's SIS export: `fitcheck.sis-summary/v1`.
//!
//! A summary is structure and counts only — file and column names, row counts, how many rows
//! of each role have a value, and the format findings — so it can travel to the controller
//! without carrying student data. It has no free-text field a cell value could ride in: every
//! finding is a typed kind with the file, column and line it is about, and its words are made
//! here, from the kind, when someone reads it. [`SisSummary::check`] holds an uploaded summary
//! to that shape before a controller keeps it.

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::oneroster::{FileMode, OneRosterVersion, Role};

/// The schema string every summary carries.
pub const SIS_SUMMARY_SCHEMA: &str = "fitcheck.sis-summary/v1";

/// The longest file or column name a summary keeps; a longer one is not a header a SIS writes.
pub const MAX_NAME_CHARS: usize = 128;

/// What the inspector read and what it found.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SisSummary {
    /// Always [`SIS_SUMMARY_SCHEMA`].
    pub schema: String,
    /// Random, made by the inspector: a summary delivered twice is kept once.
    pub summary_id: uuid::Uuid,
    /// When the inspector ran (RFC 3339, UTC).
    pub generated_at: String,
    /// The inspector's version (`fitcheck-agent 0.1.0`).
    pub inspector: String,
    /// What was read.
    pub source: ExportSource,
    /// The OneRoster version the export is read as: the manifest's `oneroster.version`, else
    /// what its columns show.
    pub oneroster_version: Option<OneRosterVersion>,
    /// `manifest.csv`, when there is one.
    pub manifest: Option<ManifestSummary>,
    /// How the export is delivered: every manifest-listed file `bulk`, every one `delta`, or
    /// `mixed`; `None` without a manifest.
    pub delivery: Option<Delivery>,
    /// Each CSV file, in name order.
    pub files: Vec<FileSummary>,
    /// Users per role (from `users.csv`'s `role` in 1.1, `roles.csv` in 1.2); a user with two
    /// roles counts in both.
    pub users_by_role: BTreeMap<Role, u64>,
    /// Users whose role the export does not say.
    pub users_without_role: u64,
    /// What a district's SIS liaison should know about the files' format.
    pub findings: Vec<Finding>,
}

/// Where the summary came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportSource {
    /// `zip` or `folder`.
    pub kind: SourceKind,
    /// The zip's or folder's own name, without the path above it.
    pub name: String,
    /// Bytes read (uncompressed).
    pub bytes: u64,
}

/// A zip file or a folder of CSV files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Zip,
    Folder,
}

/// The export's delivery, from its manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    Bulk,
    Delta,
    Mixed,
}

/// `manifest.csv`'s keys, as the inspector understood them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManifestSummary {
    /// `manifest.version`.
    pub manifest_version: Option<String>,
    /// `oneroster.version` as written.
    pub oneroster_version: Option<String>,
    /// `source.systemName`: the SIS that wrote the export (`absent` is kept as none).
    pub source_system_name: Option<String>,
    /// `source.systemCode`.
    pub source_system_code: Option<String>,
    /// Each `file.*` key (its stem) and the state it gives; a blank or unknown state is `None`.
    pub files: BTreeMap<String, Option<FileMode>>,
}

/// One CSV file of the export.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FileSummary {
    /// The name as found (`userprofiles.csv`).
    pub name: String,
    /// The binding's file it is read as (`userProfiles.csv`), or none for a file the binding
    /// does not have.
    pub spec_name: Option<String>,
    /// Bytes.
    pub bytes: u64,
    /// Data rows (the header not counted).
    pub rows: u64,
    /// Each header column, in file order.
    pub columns: Vec<ColumnSummary>,
    /// Rows per role, for files whose rows are about one user each.
    pub rows_by_role: BTreeMap<Role, u64>,
}

/// One column of a file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ColumnSummary {
    /// The header as found (trimmed, BOM removed).
    pub name: String,
    /// The binding's column it is read as: itself when spelt right, the column it most likely
    /// means when misspelt; none for an extension or unknown column.
    pub spec_name: Option<String>,
    /// Rows with a value (not empty, not only spaces).
    pub filled: u64,
    /// Of those, per role, for files whose rows are about one user each.
    pub filled_by_role: BTreeMap<Role, u64>,
}

/// A format finding: typed, with where it is; no cell value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub kind: FindingKind,
    /// The file it is about, as found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    /// The column (or manifest key) it is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    /// The binding's name it most likely means (a misspelt column or file, a manifest key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expected: Option<String>,
    /// The first line it was seen on (1-based).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub line: Option<u64>,
    /// How many times it was seen (rows, fields), where that means something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<u64>,
}

/// Kinds of format finding.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FindingKind {
    /// The file starts with a UTF-8 byte-order mark.
    Bom,
    /// Lines end with CR LF (the binding allows it; some importers do not).
    CrlfLineEnds,
    /// Fields are quoted (`count` of them); harmless, but some importers mishandle it.
    QuotedFields,
    /// A header names a column the binding does not have, and it is most likely `expected`.
    MisspeltColumn,
    /// An extension column (`metadata.*`, or the `ext_` convention).
    ExtensionColumn,
    /// A header the binding does not have and that resembles none of its columns.
    UnknownColumn,
    /// A blank header cell.
    BlankHeader,
    /// A header given twice.
    DuplicateColumn,
    /// A column the binding requires is not in the header.
    MissingRequiredColumn,
    /// Rows whose number of fields differs from the header's (`count` rows, first at `line`).
    RaggedRows,
    /// The file has a header and no rows.
    HeaderOnly,
    /// A file the binding does not have.
    UnknownFile,
    /// A file name in the wrong case (`userprofiles.csv` for `userProfiles.csv`).
    FileNameCase,
    /// Two files that differ only in case; the one in the binding's spelling is read.
    DuplicateFile,
    /// No `manifest.csv`.
    NoManifest,
    /// The manifest does not say `oneroster.version`, or says one this build does not know.
    UnknownVersion,
    /// A manifest key that names no file of the binding (a typo, or another version's file).
    ManifestKeyNamesNoFile,
    /// A manifest `file.*` key with a blank or unknown state.
    ManifestStateBlank,
    /// The manifest calls a file absent, but it is there (it is still read).
    ManifestAbsentFilePresent,
    /// The manifest lists a file as bulk or delta, but it is not there.
    ManifestFileMissing,
    /// A file is there that the manifest does not list.
    FileNotInManifest,
    /// A file's header names another version's columns than the manifest says.
    VersionMismatch,
    /// Rows whose role is not in the binding's vocabulary (`count` rows, first at `line`).
    UnknownRoleValue,
    /// The file's first row is not a header (it names too few of the binding's columns): it is
    /// counted as data, and its columns are kept by number only.
    NoHeader,
}

impl FindingKind {
    /// Whether the finding keeps a vendor's importer from reading the file as it is.
    pub fn severity(self) -> Severity {
        use FindingKind::*;
        match self {
            MisspeltColumn
            | MissingRequiredColumn
            | DuplicateColumn
            | RaggedRows
            | FileNameCase
            | DuplicateFile
            | ManifestKeyNamesNoFile
            | ManifestStateBlank
            | ManifestAbsentFilePresent
            | ManifestFileMissing
            | FileNotInManifest
            | UnknownVersion
            | NoManifest
            | VersionMismatch
            | UnknownRoleValue
            | NoHeader => Severity::Fix,
            Bom | CrlfLineEnds | QuotedFields | ExtensionColumn | UnknownColumn | BlankHeader
            | HeaderOnly | UnknownFile => Severity::Note,
        }
    }
}

/// How much a finding matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// A vendor's strict importer refuses or misreads it: the SIS liaison should fix it.
    Fix,
    /// Worth knowing; most importers accept it.
    Note,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use FindingKind::*;
        let file = self.file.as_deref().unwrap_or("the export");
        let col = self.column.as_deref().unwrap_or("?");
        let expected = self.expected.as_deref().unwrap_or("?");
        let at = self
            .line
            .map(|l| format!(" (line {l})"))
            .unwrap_or_default();
        let n = self.count.unwrap_or(0);
        match self.kind {
            Bom => write!(f, "{file} starts with a UTF-8 byte-order mark"),
            CrlfLineEnds => write!(f, "{file} ends its lines with CR LF"),
            QuotedFields => write!(f, "{file} quotes {n} field(s)"),
            MisspeltColumn => write!(
                f,
                "{file}: column `{col}` is most likely `{expected}`, misspelt"
            ),
            ExtensionColumn => write!(f, "{file}: `{col}` is an extension column"),
            UnknownColumn => write!(f, "{file}: `{col}` is not a column of the binding"),
            BlankHeader => write!(f, "{file}: {n} blank header cell(s)"),
            DuplicateColumn => write!(f, "{file}: column `{col}` appears twice"),
            MissingRequiredColumn => write!(f, "{file}: required column `{col}` is missing"),
            RaggedRows => write!(
                f,
                "{file}: {n} row(s) have another number of fields than the header{at}"
            ),
            HeaderOnly => write!(f, "{file} has a header and no rows"),
            UnknownFile => write!(f, "{file} is not a file of the OneRoster binding"),
            FileNameCase => write!(f, "{file} should be named `{expected}` (case matters)"),
            DuplicateFile => write!(
                f,
                "{file} and `{expected}` differ only in case; `{expected}` is read"
            ),
            NoManifest => write!(f, "the export has no manifest.csv"),
            UnknownVersion => write!(f, "manifest.csv does not give a known oneroster.version"),
            ManifestKeyNamesNoFile => {
                write!(f, "manifest.csv key `{col}` names no file of the binding")
            }
            ManifestStateBlank => write!(
                f,
                "manifest.csv key `{col}` has no state (bulk, delta or absent)"
            ),
            ManifestAbsentFilePresent => {
                write!(f, "manifest.csv calls {file} absent, but it is there")
            }
            ManifestFileMissing => write!(f, "manifest.csv lists {file}, but it is not there"),
            FileNotInManifest => write!(f, "{file} is there but manifest.csv does not list it"),
            VersionMismatch => write!(
                f,
                "{file}'s columns are OneRoster {expected}'s, not the manifest's version"
            ),
            NoHeader => write!(
                f,
                "{file} has no header row: its first row reads as data, so its columns are known by number only"
            ),
            UnknownRoleValue => write!(
                f,
                "{file}: {n} row(s) give a {col} the binding does not have{at}"
            ),
        }
    }
}

/// Why an uploaded summary is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SummaryError {
    /// The field at fault (`files[2].columns[4].name`).
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl SisSummary {
    /// Holds a summary to its shape: the schema, names that look like names (a value could
    /// otherwise ride in a made-up header), counts that add up. The first problem is returned.
    pub fn check(&self) -> Result<(), SummaryError> {
        let fail = |field: String, message: &str| {
            Err(SummaryError {
                field,
                message: message.to_owned(),
            })
        };
        if self.schema != SIS_SUMMARY_SCHEMA {
            return fail("schema".into(), "is not fitcheck.sis-summary/v1");
        }
        if time::OffsetDateTime::parse(
            &self.generated_at,
            &time::format_description::well_known::Rfc3339,
        )
        .is_err()
        {
            return fail("generated_at".into(), "is not an RFC 3339 time");
        }
        check_name("source.name", &self.source.name)?;
        for (i, file) in self.files.iter().enumerate() {
            check_name(&format!("files[{i}].name"), &file.name)?;
            if file.rows_by_role.values().any(|&v| v > file.rows) {
                return fail(
                    format!("files[{i}].rows_by_role"),
                    "counts more than the file's rows",
                );
            }
            for (j, col) in file.columns.iter().enumerate() {
                let field = format!("files[{i}].columns[{j}]");
                check_name(&format!("{field}.name"), &col.name)?;
                if col.filled > file.rows {
                    return fail(format!("{field}.filled"), "is more than the file's rows");
                }
                if col.filled_by_role.values().any(|&v| v > col.filled) {
                    return fail(format!("{field}.filled_by_role"), "counts more than filled");
                }
            }
        }
        for (i, finding) in self.findings.iter().enumerate() {
            for (key, value) in [
                ("file", &finding.file),
                ("column", &finding.column),
                ("expected", &finding.expected),
            ] {
                if let Some(v) = value {
                    check_name(&format!("findings[{i}].{key}"), v)?;
                }
            }
        }
        if let Some(m) = &self.manifest {
            for (key, value) in [
                ("manifest_version", &m.manifest_version),
                ("oneroster_version", &m.oneroster_version),
                ("source_system_name", &m.source_system_name),
                ("source_system_code", &m.source_system_code),
            ] {
                if let Some(v) = value {
                    check_name(&format!("manifest.{key}"), v)?;
                }
            }
            for stem in m.files.keys() {
                check_name("manifest.files", stem)?;
            }
        }
        Ok(())
    }

    /// The file read as `spec_name` (`users.csv`), if the export has it.
    pub fn file(&self, spec_name: &str) -> Option<&FileSummary> {
        self.files
            .iter()
            .find(|f| f.spec_name.as_deref() == Some(spec_name))
    }

    /// The source system's name for people: the manifest's `source.systemName`, else "the SIS".
    pub fn source_system(&self) -> &str {
        self.manifest
            .as_ref()
            .and_then(|m| m.source_system_name.as_deref())
            .unwrap_or("the SIS")
    }
}

impl FileSummary {
    /// The column read as `spec_name`, if the file has it.
    pub fn column(&self, spec_name: &str) -> Option<&ColumnSummary> {
        self.columns
            .iter()
            .find(|c| c.spec_name.as_deref() == Some(spec_name))
    }
}

/// A name a summary may carry: short, printable, one line.
fn check_name(field: &str, name: &str) -> Result<(), SummaryError> {
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(SummaryError {
            field: field.to_owned(),
            message: format!("is longer than {MAX_NAME_CHARS} characters; a header name is short"),
        });
    }
    if name.chars().any(char::is_control) {
        return Err(SummaryError {
            field: field.to_owned(),
            message: "holds a control character".to_owned(),
        });
    }
    Ok(())
}
