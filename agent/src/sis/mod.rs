//! The SIS export inspector: reads a district's OneRoster export (a zip or a folder; 1.1 or 1.2,
//! bulk or delta) where it lies and keeps only its structure — files, columns, row counts, how
//! many rows of each role have a value, format findings — as a
//! [`SisSummary`](fitcheck_core::data::summary::SisSummary).
//!
//! No cell value leaves it: not in the summary, an error message or a log line. Errors name the
//! file, the line and the column, never what was in it. It streams each file through
//! [`scan::Scan`] (which caps the bytes and catches an unbalanced quote before the CSV parser
//! would hold the rest of the file as one field) and keeps the roles of users in the fixed-size
//! [`table::RoleTable`], so its memory does not grow with the export.
//!
//! - [`source`]: the zip or folder, with the refusals (zip bombs, entries that leave the
//!   export, oversized files).
//! - [`names`]: file and header names against the binding (misspellings, case).
//! - [`read`]: one file's rows, counted.

pub mod names;
pub mod read;
pub mod render;
pub mod scan;
pub mod source;
pub mod table;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use fitcheck_core::data::oneroster::{self, FileMode, FileSpec, OneRosterVersion, Role};
use fitcheck_core::data::summary::{
    Delivery, ExportSource, FileSummary, Finding, FindingKind, ManifestSummary, SIS_SUMMARY_SCHEMA,
    SisSummary,
};

use read::{FileCount, Outcome, Pass};
use source::{Entry, Source};
use table::RoleTable;

/// What the inspector refuses to read.
#[derive(Debug, Clone)]
pub struct Limits {
    /// Largest file of people (users, demographics, roles, userProfiles), bytes.
    pub people_file_bytes: u64,
    /// Largest other file (enrollments, results, …), bytes.
    pub file_bytes: u64,
    /// Largest export, all files together, bytes.
    pub total_bytes: u64,
    /// Largest compression ratio of a zip entry over [`Limits::RATIO_FLOOR`] bytes.
    pub max_ratio: u64,
    /// Most CSV files.
    pub max_files: usize,
    /// Slots of the table of users' roles; more users than three quarters of it are read in
    /// partitions, one pass each.
    pub role_slots: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            // A million users at 300 bytes a row is 300 MB: a users.csv past 1 GiB is not a
            // district's.
            people_file_bytes: 1 << 30,
            // Ten million enrollments at 120 bytes is 1.2 GB.
            file_bytes: 8 << 30,
            total_bytes: 16 << 30,
            // CSV deflates 5-20 to 1; deflate's most is about 1032 to 1, a bomb's ratio.
            max_ratio: 200,
            max_files: 1000,
            role_slots: table::SLOTS,
        }
    }
}

impl Limits {
    /// Below this size a zip entry's ratio is not judged (a small file of blanks deflates far).
    pub const RATIO_FLOOR: u64 = 8 << 20;

    fn limit_for(&self, name: &str) -> (u64, &'static str) {
        let base = name.rsplit('/').next().unwrap_or(name);
        let stem = base.get(..base.len().saturating_sub(4)).unwrap_or(base);
        if ["users", "demographics", "roles", "userprofiles"]
            .iter()
            .any(|s| stem.eq_ignore_ascii_case(s))
        {
            (self.people_file_bytes, "a file of people")
        } else {
            (self.file_bytes, "a file")
        }
    }

    pub(crate) fn check_size(&self, name: &str, bytes: u64) -> Result<(), InspectError> {
        let (limit, what) = self.limit_for(name);
        if bytes > limit {
            return Err(InspectError::TooLarge {
                file: name.to_owned(),
                bytes,
                limit,
                what,
            });
        }
        Ok(())
    }

    pub(crate) fn check_total(&self, entries: &[Entry]) -> Result<(), InspectError> {
        let total: u64 = entries.iter().map(|e| e.bytes).sum();
        if total > self.total_bytes {
            return Err(InspectError::TooLarge {
                file: "the export".to_owned(),
                bytes: total,
                limit: self.total_bytes,
                what: "an export",
            });
        }
        Ok(())
    }
}

/// Why an export could not be read. Every message names the file and, where it applies, the
/// line and column — never a value.
#[derive(Debug, thiserror::Error)]
pub enum InspectError {
    #[error(
        "cannot read {path}: {source}; give a OneRoster export (a .zip file or a folder of CSV files)"
    )]
    Open {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "{path} is neither a folder nor a zip file ({why}); give the SIS's OneRoster export as it was delivered"
    )]
    NotAnExport { path: String, why: String },
    #[error("{file}: cannot read it ({why})")]
    Read { file: String, why: String },
    #[error(
        "{entry} would leave the export (an absolute path, `..` or a link); nothing was read — ask the SIS provider for a plain export"
    )]
    LeavesExport { entry: String },
    #[error("{file} is encrypted; export it without a password")]
    Encrypted { file: String },
    #[error(
        "{file} declares {declared} bytes from {compressed} compressed, a zip bomb's ratio; nothing was read"
    )]
    Bomb {
        file: String,
        declared: u64,
        compressed: u64,
    },
    #[error(
        "{file} is {bytes} bytes, over the {limit}-byte limit for {what}; nothing was kept — check the export, or raise the limit (--max-file-mib)"
    )]
    TooLarge {
        file: String,
        bytes: u64,
        limit: u64,
        what: &'static str,
    },
    #[error("the export has more than {limit} CSV files; it is not a OneRoster export")]
    TooManyFiles { limit: usize },
    #[error("the export has no CSV file")]
    NoCsv,
    #[error("{file}:{line}: column {column}: the value is not UTF-8; have the SIS export in UTF-8")]
    InvalidUtf8 {
        file: String,
        line: u64,
        column: String,
    },
    #[error(
        "{file}:{line}: a quote opened on this line is never closed; the rest of the file would be one field — fix the quoting"
    )]
    UnbalancedQuote { file: String, line: u64 },
    #[error(
        "{file}:{line}: the row starting here runs past {limit} bytes without ending; it is not a roster row — check the file's line ends and quoting"
    )]
    RecordTooLong { file: String, line: u64, limit: u64 },
    #[error(
        "{file}: the header has {columns} columns, more than {limit}; it is not a OneRoster file"
    )]
    TooManyColumns {
        file: String,
        columns: usize,
        limit: usize,
    },
    #[error(
        "{file} holds more than the {declared} bytes its zip entry declares: a damaged or hostile archive; nothing was kept"
    )]
    Undeclared { file: String, declared: u64 },
    #[error(
        "the export has more users than {limit} passes of the role table hold; raise role_slots"
    )]
    TooManyUsers { limit: u64 },
}

/// A file of the export as it will be read.
#[derive(Debug)]
struct Planned {
    entry: Entry,
    spec: Option<&'static FileSpec>,
}

/// Reads the export at `path` and summarises it. `now` is the summary's time (RFC 3339).
pub fn inspect(path: &Path, limits: &Limits, now: &str) -> Result<SisSummary, InspectError> {
    let (mut source, entries) = Source::open(path, limits)?;
    if entries.is_empty() {
        return Err(InspectError::NoCsv);
    }
    let mut findings = Vec::new();
    let manifest_entry = entries
        .iter()
        .find(|e| e.name.eq_ignore_ascii_case("manifest.csv"))
        .cloned();
    let manifest = match &manifest_entry {
        Some(e) => Some(read::manifest(&mut source, e, limits)?),
        None => {
            findings.push(finding(FindingKind::NoManifest, None));
            None
        }
    };
    let version = version_of(manifest.as_ref(), &entries, &mut findings);
    let planned = plan(version, &entries, manifest_entry.as_ref(), &mut findings);
    if let Some(m) = &manifest {
        check_manifest(version, m, &planned, &mut findings);
    }
    let (counts, users_by_role) = count(&mut source, version, &planned, limits)?;
    let mut files = Vec::new();
    let mut users_without_role = 0;
    for (p, c) in planned.iter().zip(counts) {
        findings.extend(c.findings(&p.entry.name));
        if p.spec.is_some_and(|s| s.stem == "users") {
            users_without_role = c.without_role;
        }
        files.push(c.into_summary(&p.entry, p.spec));
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    let delivery = manifest.as_ref().and_then(delivery_of);
    Ok(SisSummary {
        schema: SIS_SUMMARY_SCHEMA.to_owned(),
        summary_id: uuid::Uuid::new_v4(),
        generated_at: now.to_owned(),
        inspector: format!("fitcheck-agent {}", env!("CARGO_PKG_VERSION")),
        source: ExportSource {
            kind: source.kind,
            name: source.name.clone(),
            bytes: files.iter().map(|f: &FileSummary| f.bytes).sum(),
        },
        oneroster_version: Some(version),
        manifest,
        delivery,
        files,
        users_by_role,
        users_without_role,
        findings,
    })
}

pub(crate) fn finding(kind: FindingKind, file: Option<&str>) -> Finding {
    Finding {
        kind,
        file: file.map(str::to_owned),
        column: None,
        expected: None,
        line: None,
        count: None,
    }
}

/// The manifest's version, else what the files show: `roles.csv` or `userProfiles.csv` only
/// exist in 1.2.
fn version_of(
    manifest: Option<&ManifestSummary>,
    entries: &[Entry],
    findings: &mut Vec<Finding>,
) -> OneRosterVersion {
    let stated = manifest
        .and_then(|m| m.oneroster_version.as_deref())
        .and_then(OneRosterVersion::parse);
    if let Some(v) = stated {
        return v;
    }
    if manifest.is_some() {
        findings.push(finding(FindingKind::UnknownVersion, Some("manifest.csv")));
    }
    let v12 = entries.iter().any(|e| {
        ["roles.csv", "userProfiles.csv"]
            .iter()
            .any(|n| e.name.eq_ignore_ascii_case(n))
    });
    if v12 {
        OneRosterVersion::V1_2
    } else {
        OneRosterVersion::V1_1
    }
}

/// Which binding file each CSV is read as; a case-only duplicate is read as no file.
fn plan(
    version: OneRosterVersion,
    entries: &[Entry],
    manifest: Option<&Entry>,
    findings: &mut Vec<Finding>,
) -> Vec<Planned> {
    let exact: BTreeSet<&str> = entries
        .iter()
        .filter_map(|e| match names::file(version, &e.name) {
            names::FileName::Exact(s) => Some(s.name),
            _ => None,
        })
        .collect();
    let mut taken: BTreeSet<&str> = BTreeSet::new();
    let mut out = Vec::new();
    for e in entries {
        if manifest.is_some_and(|m| m.name == e.name) {
            continue;
        }
        let spec = match names::file(version, &e.name) {
            names::FileName::Exact(s) => Some(s),
            names::FileName::Case(s) if exact.contains(s.name) || taken.contains(s.name) => {
                let mut f = finding(FindingKind::DuplicateFile, Some(&e.name));
                f.expected = Some(s.name.to_owned());
                findings.push(f);
                None
            }
            names::FileName::Case(s) => {
                let mut f = finding(FindingKind::FileNameCase, Some(&e.name));
                f.expected = Some(s.name.to_owned());
                findings.push(f);
                Some(s)
            }
            names::FileName::Unknown => {
                findings.push(finding(FindingKind::UnknownFile, Some(&e.name)));
                None
            }
        };
        if let Some(s) = spec {
            taken.insert(s.name);
        }
        out.push(Planned {
            entry: e.clone(),
            spec,
        });
    }
    out
}

/// The manifest against the files that are there.
fn check_manifest(
    version: OneRosterVersion,
    m: &ManifestSummary,
    planned: &[Planned],
    findings: &mut Vec<Finding>,
) {
    let present: BTreeMap<&str, &str> = planned
        .iter()
        .filter_map(|p| p.spec.map(|s| (s.stem, p.entry.name.as_str())))
        .collect();
    let stems: Vec<&str> = oneroster::files(version).iter().map(|s| s.stem).collect();
    for (stem, state) in &m.files {
        let key = format!("file.{stem}");
        if !stems.contains(&stem.as_str()) {
            let mut f = finding(FindingKind::ManifestKeyNamesNoFile, Some("manifest.csv"));
            f.column = Some(key);
            f.expected = names::closest(stems.iter().copied(), stem).map(|s| format!("file.{s}"));
            findings.push(f);
            continue;
        }
        let here = present.get(stem.as_str()).copied();
        match (state, here) {
            (None, _) => {
                let mut f = finding(FindingKind::ManifestStateBlank, Some("manifest.csv"));
                f.column = Some(key);
                findings.push(f);
            }
            (Some(FileMode::Absent), Some(name)) => {
                findings.push(finding(FindingKind::ManifestAbsentFilePresent, Some(name)));
            }
            (Some(FileMode::Bulk | FileMode::Delta), None) => {
                findings.push(finding(
                    FindingKind::ManifestFileMissing,
                    Some(&format!("{stem}.csv")),
                ));
            }
            _ => {}
        }
    }
    for (stem, name) in &present {
        if !m.files.contains_key(*stem) {
            findings.push(finding(FindingKind::FileNotInManifest, Some(name)));
        }
    }
}

fn delivery_of(m: &ManifestSummary) -> Option<Delivery> {
    let modes: BTreeSet<FileMode> = m
        .files
        .values()
        .flatten()
        .copied()
        .filter(|s| *s != FileMode::Absent)
        .collect();
    match (
        modes.contains(&FileMode::Bulk),
        modes.contains(&FileMode::Delta),
    ) {
        (true, false) => Some(Delivery::Bulk),
        (false, true) => Some(Delivery::Delta),
        (true, true) => Some(Delivery::Mixed),
        (false, false) => None,
    }
}

/// Where users' roles are: `users.csv`'s `role` in 1.1, `roles.csv` in 1.2.
fn role_source(version: OneRosterVersion, planned: &[Planned]) -> Option<(usize, &'static str)> {
    let stem = match version {
        OneRosterVersion::V1_1 => "users",
        OneRosterVersion::V1_2 => "roles",
    };
    let i = planned
        .iter()
        .position(|p| p.spec.is_some_and(|s| s.stem == stem))?;
    let key = if stem == "users" {
        "sourcedId"
    } else {
        "userSourcedId"
    };
    Some((i, key))
}

/// The most passes over the users: 2^16 of 1.5 million users is more than any export holds.
const MAX_PARTS: u64 = 1 << 16;

/// Each file's counts, and users per role.
type Counted = (Vec<FileCount>, BTreeMap<Role, u64>);

/// Counts every file: all of them in the first pass, and the files whose rows are about users
/// again in each further partition of the role table. A table that fills starts the count
/// over in twice the partitions.
fn count(
    source: &mut Source,
    version: OneRosterVersion,
    planned: &[Planned],
    limits: &Limits,
) -> Result<Counted, InspectError> {
    let mut table = RoleTable::new(limits.role_slots, 0, 1);
    let mut parts: u64 = 1;
    loop {
        if let Some(done) = count_in(source, version, planned, limits, &mut table, parts)? {
            return Ok(done);
        }
        if parts >= MAX_PARTS {
            return Err(InspectError::TooManyUsers { limit: MAX_PARTS });
        }
        parts *= 2;
    }
}

/// [`count`] in `parts` partitions; `None` when one of them fills the table.
fn count_in(
    source: &mut Source,
    version: OneRosterVersion,
    planned: &[Planned],
    limits: &Limits,
    table: &mut RoleTable,
    parts: u64,
) -> Result<Option<Counted>, InspectError> {
    let roles_at = role_source(version, planned);
    let mut counts: Vec<Option<FileCount>> = vec![None; planned.len()];
    let mut users_by_role: BTreeMap<Role, u64> = BTreeMap::new();
    for part in 0..parts {
        table.reset(part, parts);
        if let Some((i, key)) = roles_at {
            let p = &planned[i];
            let pass = Pass::Roles {
                table: &mut *table,
                key,
                count: part == 0,
            };
            match read::file(source, &p.entry, p.spec, version, pass, limits)? {
                Outcome::Full => return Ok(None),
                Outcome::Counted(c, added) => {
                    for (r, n) in added {
                        *users_by_role.entry(r).or_default() += n;
                    }
                    if part == 0 {
                        counts[i] = Some(*c);
                    }
                }
            }
        }
        for (i, p) in planned.iter().enumerate() {
            if roles_at.is_some_and(|(r, _)| r == i) {
                continue;
            }
            let joined = p.spec.and_then(read::join_key).is_some();
            let pass = if part == 0 {
                Pass::First { table: &*table }
            } else if joined {
                Pass::Partition { table: &*table }
            } else {
                continue;
            };
            let Outcome::Counted(c, _) =
                read::file(source, &p.entry, p.spec, version, pass, limits)?
            else {
                continue;
            };
            match counts.get_mut(i) {
                Some(Some(total)) => total.add_roles(&c),
                Some(slot) => *slot = Some(*c),
                None => {}
            }
        }
    }
    let counts = counts.into_iter().map(Option::unwrap_or_default).collect();
    Ok(Some((counts, users_by_role)))
}
