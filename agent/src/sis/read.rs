//! One file of the export, read row by row and counted: rows, each column's filled rows, per
//! role where the rows are about users, and the format findings of its header and rows.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;

use fitcheck_core::data::oneroster::{self, FileMode, FileSpec, OneRosterVersion, Role};
use fitcheck_core::data::summary::{
    ColumnSummary, FileSummary, Finding, FindingKind, ManifestSummary,
};

use super::names::{self, Header};
use super::scan::{Scan, Seen, Stop, stop_of};
use super::source::{Entry, Source};
use super::table::{self, Full, RoleTable};
use super::{InspectError, Limits, finding};

const ROLES: usize = Role::ALL.len();

/// The column that ties a file's rows to a user whose role is in another file.
pub fn join_key(spec: &FileSpec) -> Option<&'static str> {
    match spec.stem {
        "users" | "demographics" => Some("sourcedId"),
        "userProfiles" => Some("userSourcedId"),
        _ => None,
    }
}

/// How a read counts.
#[derive(Debug)]
pub enum Pass<'t> {
    /// The file that gives users' roles: fills the table with this partition's ids, and
    /// (`count`) counts the file itself, reading each row's role in it.
    Roles {
        table: &'t mut RoleTable,
        key: &'static str,
        count: bool,
    },
    /// Any other file, in the first partition: everything, and roles of this partition's ids.
    First { table: &'t RoleTable },
    /// A file of users in a later partition: only the roles of this partition's ids.
    Partition { table: &'t RoleTable },
}

/// What a read gave.
#[derive(Debug)]
pub enum Outcome {
    Counted(Box<FileCount>, BTreeMap<Role, u64>),
    /// The role table filled: read again in more partitions.
    Full,
}

/// One column's counts.
#[derive(Debug, Clone)]
pub struct ColCount {
    pub name: String,
    pub spec: Option<String>,
    pub filled: u64,
    pub by_role: [u64; ROLES],
}

/// One file's counts.
#[derive(Debug, Clone, Default)]
pub struct FileCount {
    pub rows: u64,
    pub columns: Vec<ColCount>,
    pub rows_by_role: [u64; ROLES],
    /// Whether rows carry a role (directly or through the table).
    pub by_role: bool,
    /// Rows of users whose role is not known.
    pub without_role: u64,
    pub seen: Seen,
    ragged: (u64, Option<u64>),
    unknown_role: (u64, Option<u64>),
    header: Vec<Finding>,
}

impl FileCount {
    /// Adds a later partition's role counts.
    pub fn add_roles(&mut self, other: &FileCount) {
        for r in 0..ROLES {
            self.rows_by_role[r] += other.rows_by_role[r];
        }
        for (c, o) in self.columns.iter_mut().zip(&other.columns) {
            for r in 0..ROLES {
                c.by_role[r] += o.by_role[r];
            }
        }
        self.without_role += other.without_role;
    }

    /// The file's findings.
    pub fn findings(&self, file: &str) -> Vec<Finding> {
        let mut out: Vec<Finding> = self
            .header
            .iter()
            .cloned()
            .map(|mut f| {
                f.file = Some(file.to_owned());
                f
            })
            .collect();
        let mut add = |kind, count: u64, line: Option<u64>, column: Option<&str>| {
            let mut f = finding(kind, Some(file));
            f.count = (count > 0).then_some(count);
            f.line = line;
            f.column = column.map(str::to_owned);
            out.push(f);
        };
        if self.seen.bom {
            add(FindingKind::Bom, 0, None, None);
        }
        if self.seen.crlf {
            add(FindingKind::CrlfLineEnds, 0, None, None);
        }
        if self.seen.quoted_fields > 0 {
            add(
                FindingKind::QuotedFields,
                self.seen.quoted_fields,
                None,
                None,
            );
        }
        if self.ragged.0 > 0 {
            add(FindingKind::RaggedRows, self.ragged.0, self.ragged.1, None);
        }
        if self.unknown_role.0 > 0 {
            add(
                FindingKind::UnknownRoleValue,
                self.unknown_role.0,
                self.unknown_role.1,
                Some("role"),
            );
        }
        if self.rows == 0 {
            add(FindingKind::HeaderOnly, 0, None, None);
        }
        out
    }

    /// The file's summary.
    pub fn into_summary(self, entry: &Entry, spec: Option<&FileSpec>) -> FileSummary {
        let by_role = |counts: &[u64; ROLES]| -> BTreeMap<Role, u64> {
            Role::ALL
                .iter()
                .zip(counts)
                .filter(|(_, n)| **n > 0)
                .map(|(r, n)| (*r, *n))
                .collect()
        };
        FileSummary {
            name: entry.name.clone(),
            spec_name: spec.map(|s| s.name.to_owned()),
            bytes: self.seen.bytes,
            rows: self.rows,
            rows_by_role: if self.by_role {
                by_role(&self.rows_by_role)
            } else {
                BTreeMap::new()
            },
            columns: self
                .columns
                .iter()
                .map(|c| ColumnSummary {
                    name: c.name.clone(),
                    spec_name: c.spec.clone(),
                    filled: c.filled,
                    filled_by_role: if self.by_role {
                        by_role(&c.by_role)
                    } else {
                        BTreeMap::new()
                    },
                })
                .collect(),
        }
    }
}

/// The CSV reader: records end at LF only, so its line count is the file's whatever the line
/// ends (a CR before it stays on the last field, which trimming and the fill test ignore).
fn csv_reader<R: Read>(r: R) -> csv::Reader<R> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .terminator(csv::Terminator::Any(b'\n'))
        .buffer_capacity(1 << 16)
        .from_reader(r)
}

/// Rows read before their role-table slots are looked up together.
const BATCH: usize = 16;

/// The most columns a header may have: OneRoster's widest file has 23.
pub const MAX_COLUMNS: usize = 1000;

/// How many bytes a file may give: its limit, or less where its zip entry declares less.
fn read_limit(entry: &Entry, limits: &Limits) -> (u64, Option<u64>) {
    let (limit, _) = limits.limit_for(&entry.name);
    match entry.declared() {
        Some(d) if d < limit => (d, Some(d)),
        _ => (limit, None),
    }
}

fn io_error(file: &str, err: csv::Error, declared: Option<u64>, seen: Seen) -> InspectError {
    match err.into_kind() {
        csv::ErrorKind::Io(e) => match stop_of(&e) {
            Some(Stop::TooLarge { .. }) if let Some(declared) = declared => {
                InspectError::Undeclared {
                    file: file.to_owned(),
                    declared,
                }
            }
            Some(Stop::TooLarge { limit }) => InspectError::TooLarge {
                file: file.to_owned(),
                bytes: seen.bytes.max(limit + 1),
                limit,
                what: "a file",
            },
            Some(Stop::UnbalancedQuote { line }) => InspectError::UnbalancedQuote {
                file: file.to_owned(),
                line,
            },
            Some(Stop::RecordTooLong { line }) => InspectError::RecordTooLong {
                file: file.to_owned(),
                line,
                limit: super::scan::MAX_RECORD_BYTES,
            },
            None => InspectError::Read {
                file: file.to_owned(),
                why: e.to_string(),
            },
        },
        _ => InspectError::Read {
            file: file.to_owned(),
            why: "not CSV".to_owned(),
        },
    }
}

/// A role value: the binding's own spellings at once, anything else through `Role::parse`
/// (case, spaces).
fn role_of(field: &[u8]) -> Option<Role> {
    match field {
        b"student" => Some(Role::Student),
        b"teacher" => Some(Role::Teacher),
        b"parent" => Some(Role::Parent),
        b"guardian" => Some(Role::Guardian),
        _ => std::str::from_utf8(field).ok().and_then(Role::parse),
    }
}

/// A field with something in it.
fn filled(field: &[u8]) -> bool {
    !field.iter().all(u8::is_ascii_whitespace)
}

fn text<'a>(file: &str, line: u64, column: &str, field: &'a [u8]) -> Result<&'a str, InspectError> {
    std::str::from_utf8(field).map_err(|_| InspectError::InvalidUtf8 {
        file: file.to_owned(),
        line,
        column: column.to_owned(),
    })
}

/// Reads `manifest.csv` (small: held to 1 MiB).
pub fn manifest(
    source: &mut Source,
    entry: &Entry,
    _limits: &Limits,
) -> Result<ManifestSummary, InspectError> {
    const LIMIT: u64 = 1 << 20;
    let mut scan = Scan::new(source.read(entry)?, LIMIT);
    let mut m = ManifestSummary {
        manifest_version: None,
        oneroster_version: None,
        source_system_name: None,
        source_system_code: None,
        files: BTreeMap::new(),
    };
    let mut rdr = csv_reader(&mut scan);
    let mut rec = csv::ByteRecord::new();
    let mut first = true;
    loop {
        let line = rec.position().map_or(1, |p| p.line() + 1);
        match rdr.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                let seen = rdr.get_ref().seen();
                return Err(io_error(&entry.name, e, None, seen));
            }
        }
        let line = rec.position().map_or(line, |p| p.line());
        let key = text(
            &entry.name,
            line,
            "propertyName",
            rec.get(0).unwrap_or_default(),
        )?
        .trim_start_matches('\u{feff}')
        .trim();
        let value = text(&entry.name, line, "value", rec.get(1).unwrap_or_default())?.trim();
        if first {
            first = false;
            if key.eq_ignore_ascii_case("propertyName") {
                continue;
            }
        }
        let kept =
            (!value.is_empty() && !value.eq_ignore_ascii_case("absent")).then(|| value.to_owned());
        match key {
            "manifest.version" => m.manifest_version = kept,
            "oneroster.version" => m.oneroster_version = kept,
            "source.systemName" => m.source_system_name = kept,
            "source.systemCode" => m.source_system_code = kept,
            _ => {
                if let Some(stem) = key.strip_prefix("file.") {
                    m.files.insert(stem.to_owned(), FileMode::parse(value));
                }
            }
        }
    }
    Ok(m)
}

/// A file's header, read against the binding.
struct HeaderPlan {
    columns: Vec<ColCount>,
    findings: Vec<Finding>,
    /// The first row is data, not a header.
    headerless: bool,
}

/// Whether `name` is a column of any file of either binding, in any case.
fn is_binding_column(name: &str) -> bool {
    OneRosterVersion::ALL.iter().any(|&v| {
        oneroster::files(v)
            .iter()
            .any(|f| f.columns.iter().any(|c| c.name.eq_ignore_ascii_case(name)))
    })
}

/// A column known by its position only (`column 3`).
fn numbered(columns: &mut [ColCount]) {
    for (i, c) in columns.iter_mut().enumerate() {
        c.name = format!("column {}", i + 1);
        c.spec = None;
    }
}

/// Reads a file's first row as its header. Names are kept only where the row is a header: at
/// least half of its cells name a column of the binding (any file, either version), a
/// misspelling of one of the file's own, or an extension column. Otherwise it is data (a file
/// exported without its header, where what would be kept are a student's values): a file of
/// the binding counts it as a row and says so, another file keeps its columns by number.
fn header_plan(
    rec: &csv::ByteRecord,
    file: &str,
    spec: Option<&FileSpec>,
    version: OneRosterVersion,
) -> Result<HeaderPlan, InspectError> {
    if rec.len() > MAX_COLUMNS {
        return Err(InspectError::TooManyColumns {
            file: file.to_owned(),
            columns: rec.len(),
            limit: MAX_COLUMNS,
        });
    }
    let mut plan = named_header(rec, file, spec, version)?;
    let recognised = plan
        .columns
        .iter()
        .filter(|c| {
            c.spec.is_some()
                || oneroster::is_extension_column(&c.name)
                || is_binding_column(&c.name)
        })
        .count();
    let named = plan.columns.iter().filter(|c| !c.name.is_empty()).count();
    let header = recognised * 2 >= named.max(1);
    if spec.is_none() && !header {
        numbered(&mut plan.columns);
        plan.findings.clear();
    } else if !header {
        numbered(&mut plan.columns);
        let mut x = finding(FindingKind::NoHeader, None);
        x.line = Some(1);
        plan.findings = vec![x];
        plan.headerless = true;
    }
    Ok(plan)
}

fn named_header(
    rec: &csv::ByteRecord,
    file: &str,
    spec: Option<&FileSpec>,
    version: OneRosterVersion,
) -> Result<HeaderPlan, InspectError> {
    let other = OneRosterVersion::ALL.into_iter().find(|v| *v != version);
    let other_spec = spec.and_then(|s| other.and_then(|v| oneroster::file(v, s.stem)));
    let mut columns = Vec::new();
    let mut findings = Vec::new();
    let mut mapped: BTreeSet<String> = BTreeSet::new();
    let mut blank = 0u64;
    let mut mismatch = false;
    for (i, field) in rec.iter().enumerate() {
        let raw = text(file, 1, &format!("{}", i + 1), field)?;
        let name = if i == 0 {
            raw.trim_start_matches('\u{feff}')
        } else {
            raw
        }
        .trim();
        let mut f = |kind, expected: Option<&str>| {
            let mut x = finding(kind, None);
            x.column = Some(name.to_owned());
            x.expected = expected.map(str::to_owned);
            x.line = Some(1);
            findings.push(x);
        };
        let spec_name: Option<String> = match names::header(spec, name) {
            Header::Exact(c) => Some(c.to_owned()),
            Header::Misspelt(c) => {
                f(FindingKind::MisspeltColumn, Some(c));
                Some(c.to_owned())
            }
            Header::Extension => {
                f(FindingKind::ExtensionColumn, None);
                None
            }
            Header::Blank => {
                blank += 1;
                None
            }
            Header::Unknown => match other_spec.and_then(|s| s.column(name)) {
                Some(c) => {
                    mismatch = true;
                    Some(c.name.to_owned())
                }
                None => {
                    f(FindingKind::UnknownColumn, None);
                    None
                }
            },
        };
        let spec_name = match spec_name {
            Some(s) if !mapped.insert(s.clone()) => {
                f(FindingKind::DuplicateColumn, None);
                None
            }
            s => s,
        };
        columns.push(ColCount {
            name: name.to_owned(),
            spec: spec_name,
            filled: 0,
            by_role: [0; ROLES],
        });
    }
    if blank > 0 {
        let mut x = finding(FindingKind::BlankHeader, None);
        x.count = Some(blank);
        x.line = Some(1);
        findings.push(x);
    }
    if let (true, Some(v)) = (mismatch, other) {
        let mut x = finding(FindingKind::VersionMismatch, None);
        x.expected = Some(v.as_str().to_owned());
        findings.push(x);
    }
    if let Some(spec) = spec {
        for c in spec.columns.iter().filter(|c| c.required) {
            if !mapped.contains(c.name) {
                let mut x = finding(FindingKind::MissingRequiredColumn, None);
                x.column = Some(c.name.to_owned());
                findings.push(x);
            }
        }
    }
    Ok(HeaderPlan {
        columns,
        findings,
        headerless: false,
    })
}

/// Where a row's role comes from.
#[derive(Debug, Clone, Copy)]
enum RoleFrom {
    /// A column of the row (its index).
    Inline(usize),
    /// The table, by the id in this column.
    Table(usize),
    None,
}

fn position(columns: &[ColCount], spec_name: &str) -> Option<usize> {
    columns
        .iter()
        .position(|c| c.spec.as_deref() == Some(spec_name))
}

/// Where a file's rows take their role from, and (for the file that gives users' roles) the
/// columns of the id and the role that fill the table.
fn roles_from(
    pass: &Pass<'_>,
    spec: Option<&FileSpec>,
    columns: &[ColCount],
) -> (RoleFrom, Option<(usize, usize)>) {
    let role_col = position(columns, "role");
    let inline = role_col.map_or(RoleFrom::None, RoleFrom::Inline);
    match (pass, spec) {
        (Pass::Roles { key, .. }, _) => (inline, position(columns, key).zip(role_col)),
        (_, Some(s)) => match join_key(s).and_then(|k| position(columns, k)) {
            Some(k) => (RoleFrom::Table(k), None),
            None => (inline, None),
        },
        _ => (RoleFrom::None, None),
    }
}

/// A row's roles as a mask (0: none known, counted as such); `None` for a user this
/// partition of the table does not hold.
fn row_roles(
    count: &mut FileCount,
    from: RoleFrom,
    pass: &Pass<'_>,
    rec: &csv::ByteRecord,
    key: u64,
    line: u64,
) -> Option<u16> {
    match (from, pass) {
        (RoleFrom::Inline(r), _) => {
            let field = rec.get(r).unwrap_or_default();
            let role = role_of(field);
            if role.is_none() {
                if filled(field) {
                    count.unknown_role.0 += 1;
                    count.unknown_role.1.get_or_insert(line);
                }
                count.without_role += 1;
            }
            Some(role.map_or(0, table::bit))
        }
        (RoleFrom::Table(_), Pass::First { table } | Pass::Partition { table }) => {
            let id = key;
            if !table.holds(id) {
                return None;
            }
            let mask = table.get(id);
            if mask == 0 {
                count.without_role += 1;
            }
            Some(mask)
        }
        _ => Some(0),
    }
}

/// Reads one file.
pub fn file(
    source: &mut Source,
    entry: &Entry,
    spec: Option<&FileSpec>,
    version: OneRosterVersion,
    mut pass: Pass<'_>,
    limits: &Limits,
) -> Result<Outcome, InspectError> {
    let name = entry.name.as_str();
    let (limit, declared) = read_limit(entry, limits);
    let mut scan = Scan::new(source.read(entry)?, limit);
    let mut rdr = csv_reader(&mut scan);
    let mut rec = csv::ByteRecord::new();
    let fail = |e: csv::Error, rdr: &csv::Reader<&mut Scan<Box<dyn Read + '_>>>| {
        io_error(name, e, declared, rdr.get_ref().seen())
    };
    let mut count = FileCount::default();
    let mut added: BTreeMap<Role, u64> = BTreeMap::new();
    match rdr.read_byte_record(&mut rec) {
        Ok(true) => {}
        Ok(false) => {
            count.seen = rdr.get_ref().seen();
            return Ok(Outcome::Counted(Box::new(count), added));
        }
        Err(e) => return Err(fail(e, &rdr)),
    }
    let plan = header_plan(&rec, name, spec, version)?;
    count.columns = plan.columns;
    count.header = plan.findings;
    let rows = Rows::new(name, &pass, spec, &count.columns);
    count.by_role = !matches!(rows.from, RoleFrom::None);
    if plan.headerless && rows.full_count {
        count_row(&mut count, &rec, rows.width, 0, 1, &rows.names, name)?;
    }
    // Rows are read a batch at a time and their slots touched first: the look-ups are cache
    // misses, and made together they overlap instead of waiting one after another.
    let mut batch: Vec<csv::ByteRecord> = (0..BATCH).map(|_| csv::ByteRecord::new()).collect();
    loop {
        let n = read_batch(&mut rdr, &mut batch).map_err(|e| fail(e, &rdr))?;
        if n == 0 {
            break;
        }
        let keys = rows.keys(&pass, &batch[..n]);
        for (rec, &key) in batch[..n].iter().zip(&keys) {
            let line = rec.position().map_or(0, csv::Position::line);
            if let (Pass::Roles { table, .. }, Some((_, r))) = (&mut pass, rows.build)
                && add_role(table, key, rec, r, &mut added).is_err()
            {
                return Ok(Outcome::Full);
            }
            rows.count(&mut count, &pass, rec, key, line)?;
        }
        if n < BATCH {
            break;
        }
    }
    count.seen = rdr.get_ref().seen();
    Ok(Outcome::Counted(Box::new(count), added))
}

/// How a file's rows are counted, fixed once its header is read.
struct Rows<'n> {
    /// The file's name, for errors.
    name: &'n str,
    /// Where rows take their role from.
    from: RoleFrom,
    /// The id and role columns that fill the role table (the file that gives users' roles).
    build: Option<(usize, usize)>,
    /// The id column whose slot each row looks up in the role table, if any.
    lookup: Option<usize>,
    /// Whether rows are counted in full, not only by role.
    full_count: bool,
    /// The header's width.
    width: usize,
    /// The columns' names, for errors.
    names: Vec<String>,
}

impl<'n> Rows<'n> {
    /// The counting of rows of the file `name` under these columns, in this pass.
    fn new(
        name: &'n str,
        pass: &Pass<'_>,
        spec: Option<&FileSpec>,
        columns: &[ColCount],
    ) -> Rows<'n> {
        let (from, build) = roles_from(pass, spec, columns);
        let full_count = matches!(pass, Pass::First { .. } | Pass::Roles { count: true, .. });
        let width = columns.len();
        let names: Vec<String> = columns.iter().map(|c| c.name.clone()).collect();
        // The id column whose slot each row looks up in the role table, if any.
        let lookup = match (from, build) {
            (_, Some((k, _))) | (RoleFrom::Table(k), None) => Some(k),
            _ => None,
        };
        Rows {
            name,
            from,
            build,
            lookup,
            full_count,
            width,
            names,
        }
    }

    /// The rows' ids as role-table keys, their slots warmed together; all zero when rows look
    /// nothing up.
    fn keys(&self, pass: &Pass<'_>, rows: &[csv::ByteRecord]) -> [u64; BATCH] {
        // Each row's id hashed once: for the warming and for its look-up.
        let mut keys = [0u64; BATCH];
        if let Some(k) = self.lookup {
            let table: &RoleTable = match pass {
                Pass::Roles { table, .. } => table,
                Pass::First { table } | Pass::Partition { table } => table,
            };
            for (key, rec) in keys.iter_mut().zip(rows) {
                *key = table::key(rec.get(k).unwrap_or_default());
            }
            std::hint::black_box(table.warm(&keys[..rows.len()]));
        }
        keys
    }

    /// Counts one row: in full with its roles, in full without them for another partition's
    /// user (first pass only), or only its roles in a later partition.
    fn count(
        &self,
        count: &mut FileCount,
        pass: &Pass<'_>,
        rec: &csv::ByteRecord,
        key: u64,
        line: u64,
    ) -> Result<(), InspectError> {
        let Some(mask) = row_roles(count, self.from, pass, rec, key, line) else {
            // Another partition's user: counted, but not by role, in the first pass only.
            if self.full_count {
                count_row(count, rec, self.width, 0, line, &self.names, self.name)?;
            }
            return Ok(());
        };
        if self.full_count {
            count_row(count, rec, self.width, mask, line, &self.names, self.name)?;
        } else {
            count_roles(count, rec, self.width, mask);
        }
        Ok(())
    }
}

/// Reads up to a batch of records; how many were read (fewer at the end of the file).
fn read_batch<R: Read>(
    rdr: &mut csv::Reader<R>,
    batch: &mut [csv::ByteRecord],
) -> Result<usize, csv::Error> {
    let mut n = 0;
    while n < BATCH {
        match rdr.read_byte_record(&mut batch[n]) {
            Ok(true) => n += 1,
            Ok(false) => break,
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

/// Adds a row's role (in column `role_col`) to the role table when the table holds its user
/// `id`, counting it in `added` when it is new there; `Err(Full)` when the table has no room.
fn add_role(
    table: &mut RoleTable,
    id: u64,
    rec: &csv::ByteRecord,
    role_col: usize,
    added: &mut BTreeMap<Role, u64>,
) -> Result<(), Full> {
    if table.holds(id)
        && let Some(role) = role_of(rec.get(role_col).unwrap_or_default())
    {
        match table.add(id, table::bit(role)) {
            Ok(true) => *added.entry(role).or_default() += 1,
            Ok(false) => {}
            Err(Full) => return Err(Full),
        }
    }
    Ok(())
}

fn count_row(
    count: &mut FileCount,
    rec: &csv::ByteRecord,
    width: usize,
    mask: u16,
    line: u64,
    names: &[String],
    file: &str,
) -> Result<(), InspectError> {
    count.rows += 1;
    if rec.len() != width {
        count.ragged.0 += 1;
        count.ragged.1.get_or_insert(line);
    }
    // Most exports are ASCII: one look at the whole record; field by field only otherwise (a
    // valid concatenation does not make each field valid).
    if !rec.as_slice().is_ascii() {
        for (i, field) in rec.iter().enumerate().take(width) {
            if std::str::from_utf8(field).is_err() {
                return Err(InspectError::InvalidUtf8 {
                    file: file.to_owned(),
                    line,
                    column: names.get(i).cloned().unwrap_or_default(),
                });
            }
        }
    }
    let role = single_role(mask);
    // Zipped: no bounds check per field, and a row longer than the header stops at its width.
    for (field, c) in rec.iter().zip(count.columns.iter_mut()) {
        if !filled(field) {
            continue;
        }
        c.filled += 1;
        match role {
            Some(r) => c.by_role[r] += 1,
            None if mask != 0 => add_roles(&mut c.by_role, mask),
            None => {}
        }
    }
    add_roles(&mut count.rows_by_role, mask);
    Ok(())
}

/// The index in `Role::ALL` of a mask's one role, when it has exactly one.
fn single_role(mask: u16) -> Option<usize> {
    (mask.count_ones() == 1).then(|| mask.trailing_zeros() as usize)
}

fn add_roles(counts: &mut [u64; ROLES], mask: u16) {
    let mut m = mask;
    while m != 0 {
        let r = m.trailing_zeros() as usize;
        if let Some(n) = counts.get_mut(r) {
            *n += 1;
        }
        m &= m - 1;
    }
}

/// Only the role counts of a row (a later partition of a file of users).
fn count_roles(count: &mut FileCount, rec: &csv::ByteRecord, width: usize, mask: u16) {
    if mask == 0 {
        return;
    }
    add_roles(&mut count.rows_by_role, mask);
    for (i, field) in rec.iter().enumerate().take(width) {
        if filled(field) {
            add_roles(&mut count.columns[i].by_role, mask);
        }
    }
}
