//! Scale benchmark of the SIS export inspector (`fitcheck-agent sis inspect`): a generated
//! OneRoster export of `--users` users (1,000,000 by default) with demographics for every
//! student and `--enrollments-per-user` enrollments per user (10,000,000 by default), read by
//! the release inspector, beside the floor — the same CSV files merely parsed, in this process,
//! by the same reader the inspector uses (the `csv` crate, built the same way) — and its peak
//! memory at 1,000 users and at `--users`.
//!
//! ```text
//! cargo build --release -p fitcheck-agent --bin fitcheck-agent
//! cargo build --release -p fitcheck-tests --bin sis-bench
//! target/release/sis-bench [--users 1000000] [--enrollments-per-user 10] [--version 1.1|1.2]
//!     [--rounds 3] [--dir DIR] [--keep] [--quick]
//! ```
//!
//! The export is written deterministically (a fixed-seed SplitMix64) into a folder: manifest.csv
//! (every file of the version, bulk or absent), orgs.csv (a district and up to 150 schools),
//! academicSessions.csv, courses.csv, classes.csv (one per 25 users), users.csv (90 % students,
//! 6 % teachers, 4 % guardians; fake names, some not ASCII, usernames, emails, phones, ids;
//! optional columns partly filled; some quoted fields), roles.csv in 1.2 (one row per user; in
//! 1.1 the role is users.csv's `role`), demographics.csv (every student) and enrollments.csv
//! (users × enrollments-per-user rows, students and teachers). A small export of 1,000 users is
//! made the same way.
//!
//! For each export, after one untimed read of every file (so the page cache is warm for both),
//! it runs `--rounds` rounds of: the floor, then the inspector as a child process (`sis inspect
//! DIR --json`, its output to a file), whose peak memory is its `VmHWM` polled from
//! `/proc/PID/status` until it exits (every 1 ms for its first 250 ms, then every 20 ms).
//! Medians are reported. The inspector's JSON is checked: users.csv and enrollments.csv must
//! have the rows written (else it exits non-zero). Figures are printed, never asserted; the
//! targets are printed with "meets" or "misses".
//!
//! The agent binary is `FITCHECK_AGENT_BIN`, else `target/release/fitcheck-agent` next to this
//! program (see `fitcheck_tests::lab::agent_binary`).

use std::fmt::Write as _;
use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail, ensure};
use clap::{Parser, ValueEnum};
use fitcheck_core::data::oneroster::{self, OneRosterVersion};
use fitcheck_tests::bench::memory;
use fitcheck_tests::lab::agent_binary;
use serde_json::Value;
use uuid::Uuid;

/// Users of the small export, whose peak memory the big one's is compared with.
const SMALL_USERS: u64 = 1_000;
/// Throughput target: the inspector at this share of the floor or more.
const TARGET_SHARE: f64 = 0.70;
/// Memory targets: the peak at `--users` within this share of the peak at 1,000 users, and
/// under this many bytes.
const TARGET_SAME: f64 = 0.10;
const TARGET_PEAK_BYTES: f64 = 64e6;

#[derive(Parser, Debug)]
#[command(
    name = "sis-bench",
    about = "Throughput and peak memory of `fitcheck-agent sis inspect` on a generated OneRoster export, beside merely parsing its CSV files."
)]
struct Opts {
    /// Users in the export (1,000,000 unless --quick).
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=5_000_000))]
    users: Option<u64>,
    /// Enrollments per user: enrollments.csv has users × this many rows, spread over the
    /// students and teachers.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(0..=100))]
    enrollments_per_user: u64,
    /// OneRoster version of the export: in 1.2 roles are in roles.csv, in 1.1 in users.csv.
    #[arg(long, value_enum, default_value = "1.2")]
    version: Version,
    /// Timed rounds (floor, then inspector) per export; medians are reported.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(1..=20))]
    rounds: u64,
    /// Where to write the exports (default: a new folder under /tmp). What this program
    /// wrote there is removed at the end unless --keep.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Keep the exports and the inspector's output.
    #[arg(long)]
    keep: bool,
    /// A fast check: 100,000 users.
    #[arg(long, conflicts_with = "users")]
    quick: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Version {
    #[value(name = "1.1")]
    V1_1,
    #[value(name = "1.2")]
    V1_2,
}

impl Version {
    fn as_str(self) -> &'static str {
        match self {
            Version::V1_1 => "1.1",
            Version::V1_2 => "1.2",
        }
    }

    /// Every file stem of the binding (core's table of it).
    fn stems(self) -> Vec<&'static str> {
        let v = match self {
            Version::V1_1 => OneRosterVersion::V1_1,
            Version::V1_2 => OneRosterVersion::V1_2,
        };
        oneroster::files(v).iter().map(|f| f.stem).collect()
    }
}

// ---------------------------------------------------------------------------------------------
// The generator.

const SEED: u64 = 0x5115_bec4_2026_0001;

// Kinds of ids (each kind's ids are distinct: `mix` is a bijection) and random streams.
const K_ORG: u64 = 1;
const K_SESSION: u64 = 2;
const K_COURSE: u64 = 3;
const K_CLASS: u64 = 4;
const K_USER: u64 = 5;
const K_ROLE: u64 = 6;
const K_ENROLLMENT: u64 = 7;
const S_KIND: u64 = 20;
const S_GRADE: u64 = 21;
const S_USER: u64 = 22;
const S_ROLE: u64 = 23;
const S_DEMOGRAPHICS: u64 = 24;
const S_ENROLLMENT: u64 = 25;
const S_CLASS: u64 = 26;
const S_COURSE: u64 = 27;

/// SplitMix64's finaliser: a bijection on 64 bits that scatters them well.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64, seeded per stream and row so that every row is the same whatever was written
/// before it.
struct Rng(u64);

impl Rng {
    fn row(stream: u64, i: u64) -> Rng {
        Rng(mix(SEED ^ (stream << 40) ^ i))
    }

    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.0)
    }

    /// Uniform in `0..n` (`n` below 2^32).
    fn below(&mut self, n: u64) -> u64 {
        ((self.next() >> 32) * n) >> 32
    }

    /// True `p` times in 1,000.
    fn per_mille(&mut self, p: u64) -> bool {
        self.below(1000) < p
    }

    fn percent(&mut self, p: u64) -> bool {
        self.below(100) < p
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }
}

/// The `i`th id of a kind: a version-4-shaped UUID, as SISs write them.
fn id(kind: u64, i: u64) -> Uuid {
    let hi = mix(SEED ^ (kind << 40) ^ i);
    let lo = mix(hi ^ 0x5851_f42d_4c95_7f2d);
    uuid::Builder::from_random_bytes(((u128::from(hi) << 64) | u128::from(lo)).to_be_bytes())
        .into_uuid()
}

/// A `dateLastModified` in August 2025 from a random number.
struct Stamp(u64);

impl std::fmt::Display for Stamp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let x = self.0;
        write!(
            f,
            "2025-08-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            1 + x % 28,
            (x >> 8) % 24,
            (x >> 16) % 60,
            (x >> 24) % 60,
            (x >> 32) % 1000
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Student,
    Teacher,
    Guardian,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Student => "student",
            Kind::Teacher => "teacher",
            Kind::Guardian => "guardian",
        }
    }
}

/// User `i`'s role: 90 % students, 6 % teachers, 4 % guardians.
fn kind_of(i: u64) -> Kind {
    match (mix(SEED ^ (S_KIND << 40) ^ i) >> 33) % 100 {
        0..90 => Kind::Student,
        90..96 => Kind::Teacher,
        _ => Kind::Guardian,
    }
}

/// Student `i`'s grade, 0 (kindergarten) to 12.
fn grade_of(i: u64) -> u64 {
    (mix(SEED ^ (S_GRADE << 40) ^ i) >> 40) % 13
}

const GRADES: [&str; 13] = [
    "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12",
];

const GIVEN: &[&str] = &[
    "Olivia",
    "Liam",
    "Emma",
    "Noah",
    "Amelia",
    "Oliver",
    "Sophia",
    "Elijah",
    "Charlotte",
    "Mateo",
    "Isabella",
    "Lucas",
    "Mia",
    "Levi",
    "Evelyn",
    "Ezra",
    "Harper",
    "Asher",
    "Luna",
    "James",
    "Camila",
    "Sebastian",
    "Aaliyah",
    "Mohammed",
    "Zoë",
    "José",
    "Chloé",
    "Minh",
    "Aisha",
    "Wei",
    "Priya",
    "Diego",
    "Sofía",
    "Kai",
    "Yuki",
    "Amara",
    "Omar",
    "Fatima",
    "Santiago",
    "Hana",
    "Ethan",
    "Ava",
    "Jayden",
    "Maya",
    "Daniel",
    "Grace",
    "Carlos",
    "Leilani",
    "Ximena",
    "Tenzin",
    "Anaya",
    "Mason",
    "Riley",
    "Hudson",
    "Nora",
    "Jackson",
    "Zoe",
    "Ivan",
    "Layla",
    "Malik",
    "Mary-Kate",
    "Björn",
];

const FAMILY: &[&str] = &[
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Garcia",
    "Miller",
    "Davis",
    "Rodriguez",
    "Martinez",
    "Hernandez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Nguyen",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "O'Brien",
    "De La Cruz",
    "Nguyễn",
    "Müller",
    "Kowalski",
    "Okafor",
    "Patel",
    "Kim",
    "Yamamoto",
    "Haddad",
    "Begay",
    "Tsosie",
];

const PLACES: &[&str] = &[
    "Lincoln",
    "Washington",
    "Jefferson",
    "Roosevelt",
    "Riverside",
    "Lakeview",
    "Oak Grove",
    "Cedar Hills",
    "Maple Park",
    "Sunnyvale",
    "Franklin",
    "Hillcrest",
    "Eastside",
    "Westwood",
    "Pine Ridge",
    "Valley View",
    "Meadowbrook",
    "Highland",
    "Brookside",
    "Fairview",
];

/// Course catalogue: title, subject, subject code, grades.
const SUBJECTS: &[(&str, &str, &str, &str)] = &[
    ("Reading", "English Language Arts", "ELA", "01,02,03"),
    ("Mathematics", "Mathematics", "MA", "03,04,05"),
    ("Science", "Science", "SCI", "04,05"),
    ("Social Studies", "Social Studies", "SS", "05"),
    ("English 6", "English Language Arts", "ELA", "06"),
    ("Math 7", "Mathematics", "MA", "07"),
    ("Life Science", "Science", "SCI", "07"),
    ("Pre-Algebra", "Mathematics", "MA", "08"),
    ("Algebra I", "Mathematics", "MA", "09"),
    ("Geometry", "Mathematics", "MA", "10"),
    ("Biology", "Science", "SCI", "09,10"),
    ("Chemistry", "Science", "SCI", "11"),
    ("World History", "Social Studies", "SS", "10"),
    ("U.S. History", "Social Studies", "SS", "11"),
    ("English 12", "English Language Arts", "ELA", "12"),
    ("Spanish I", "World Languages", "WL", "09,10,11,12"),
    ("Art", "Fine Arts", "ART", "KG,01,02,03,04,05"),
    ("Physical Education", "Physical Education", "PE", "06,07,08"),
    (
        "Computer Science Principles",
        "Computer Science",
        "CS",
        "10,11,12",
    ),
    ("Music", "Fine Arts", "MUS", "KG,01,02"),
];

const STATES: &[&str] = &[
    "CA", "TX", "FL", "NY", "IL", "PA", "OH", "GA", "NC", "MI", "AZ", "WA",
];
const CITIES: &[&str] = &[
    "Springfield",
    "Riverside",
    "Fairview",
    "Los Angeles",
    "Houston",
    "Phoenix",
    "San Antonio",
    "Chicago",
    "Guadalajara",
    "Manila",
    "Hà Nội",
    "Toronto",
];
const COUNTRIES: &[&str] = &["US", "US", "US", "US", "US", "MX", "PH", "VN", "IN", "CA"];

/// An academic session.
struct Session {
    /// Its id's index.
    n: u64,
    title: &'static str,
    kind: &'static str,
    start: &'static str,
    end: &'static str,
    parent: Option<u64>,
}

const fn session(
    n: u64,
    title: &'static str,
    kind: &'static str,
    start: &'static str,
    end: &'static str,
    parent: Option<u64>,
) -> Session {
    Session {
        n,
        title,
        kind,
        start,
        end,
        parent,
    }
}

/// The academic sessions: the school year, two semesters, four grading periods.
const SESSIONS: &[Session] = &[
    session(
        0,
        "2025-2026",
        "schoolYear",
        "2025-08-18",
        "2026-05-29",
        None,
    ),
    session(
        1,
        "Fall 2025",
        "semester",
        "2025-08-18",
        "2025-12-19",
        Some(0),
    ),
    session(
        2,
        "Spring 2026",
        "semester",
        "2026-01-06",
        "2026-05-29",
        Some(0),
    ),
    session(
        3,
        "Q1",
        "gradingPeriod",
        "2025-08-18",
        "2025-10-17",
        Some(1),
    ),
    session(
        4,
        "Q2",
        "gradingPeriod",
        "2025-10-20",
        "2025-12-19",
        Some(1),
    ),
    session(
        5,
        "Q3",
        "gradingPeriod",
        "2026-01-06",
        "2026-03-13",
        Some(2),
    ),
    session(
        6,
        "Q4",
        "gradingPeriod",
        "2026-03-16",
        "2026-05-29",
        Some(2),
    ),
];

/// Class `c`'s term (an index of [`SESSIONS`]): one in five runs the whole year.
fn term_of(c: u64) -> usize {
    if c % 5 == 0 { 0 } else { 1 + (c % 2) as usize }
}

/// The counts of an export.
#[derive(Debug, Clone, Copy)]
struct Shape {
    users: u64,
    schools: u64,
    courses: u64,
    classes: u64,
    enrollments: u64,
}

impl Shape {
    fn new(users: u64, per_user: u64) -> Shape {
        let schools = users.div_ceil(6_667).clamp(1, 150);
        let classes = (users / 25).max(schools);
        let courses = (classes / 10).max(schools);
        Shape {
            users,
            schools,
            courses,
            classes,
            enrollments: users * per_user,
        }
    }

    /// How many of `count` things dealt round-robin to the schools school `s` has.
    fn in_school(&self, count: u64, s: u64) -> u64 {
        count.saturating_sub(s).div_ceil(self.schools).max(1)
    }

    fn school_id(&self, s: u64) -> Uuid {
        id(K_ORG, 1 + s % self.schools)
    }

    /// Course `k` is at school `k % schools`; class `c` at `c % schools`, of one of that
    /// school's courses.
    fn course_of(&self, c: u64) -> u64 {
        let s = c % self.schools;
        s + self.schools * ((c / self.schools) % self.in_school(self.courses, s))
    }
}

/// One CSV line being written: fields joined by commas, quoted where they hold a comma or a
/// quote.
struct Line {
    text: String,
    fields: usize,
}

impl Line {
    fn new() -> Line {
        Line {
            text: String::with_capacity(1024),
            fields: 0,
        }
    }

    fn field(&mut self, value: impl std::fmt::Display) -> &mut Line {
        if self.fields > 0 {
            self.text.push(',');
        }
        self.fields += 1;
        let at = self.text.len();
        let _ = write!(self.text, "{value}");
        if self.text[at..].contains([',', '"', '\n']) {
            let raw = self.text.split_off(at);
            self.text.push('"');
            self.text.push_str(&raw.replace('"', "\"\""));
            self.text.push('"');
        }
        self
    }

    fn blank(&mut self) -> &mut Line {
        self.field("")
    }

    /// `value` when `cond`, else a blank.
    fn maybe(&mut self, cond: bool, value: impl std::fmt::Display) -> &mut Line {
        if cond {
            self.field(value)
        } else {
            self.blank()
        }
    }

    fn end(&mut self, w: &mut impl Write) -> std::io::Result<()> {
        self.text.push('\n');
        w.write_all(self.text.as_bytes())?;
        self.text.clear();
        self.fields = 0;
        Ok(())
    }
}

type Out = BufWriter<File>;

fn create(dir: &Path, name: &str) -> Result<Out> {
    let path = dir.join(name);
    let f = File::create(&path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(BufWriter::with_capacity(1 << 20, f))
}

fn header(w: &mut Out, columns: &str) -> Result<()> {
    writeln!(w, "{columns}")?;
    Ok(())
}

fn finish(w: Out) -> Result<()> {
    w.into_inner().map_err(|e| e.into_error())?;
    Ok(())
}

/// Lower-case ASCII letters of a name, for usernames and emails.
fn handle(name: &str) -> String {
    name.chars()
        .filter(char::is_ascii_alphabetic)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

fn initial(name: &str) -> String {
    handle(name).chars().take(1).collect()
}

/// Writes the whole export into `dir` (created); the files written, with their rows.
fn generate(dir: &Path, shape: Shape, version: Version) -> Result<Vec<(String, u64)>> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let mut files = vec![
        ("manifest.csv".to_owned(), manifest(dir, version)?),
        ("orgs.csv".to_owned(), orgs(dir, shape)?),
        ("academicSessions.csv".to_owned(), sessions(dir)?),
        ("courses.csv".to_owned(), courses(dir, shape)?),
        ("classes.csv".to_owned(), classes(dir, shape)?),
    ];
    let guardians: Vec<u64> = (0..shape.users)
        .filter(|i| kind_of(*i) == Kind::Guardian)
        .collect();
    files.push((
        "users.csv".to_owned(),
        users(dir, shape, version, &guardians)?,
    ));
    if version == Version::V1_2 {
        files.push(("roles.csv".to_owned(), roles(dir, shape)?));
    }
    files.push(("demographics.csv".to_owned(), demographics(dir, shape)?));
    files.push(("enrollments.csv".to_owned(), enrollments(dir, shape)?));
    Ok(files)
}

fn manifest(dir: &Path, version: Version) -> Result<u64> {
    let mut w = create(dir, "manifest.csv")?;
    let present = [
        "academicSessions",
        "classes",
        "courses",
        "demographics",
        "enrollments",
        "orgs",
        "users",
        "roles",
    ];
    header(&mut w, "propertyName,value")?;
    writeln!(w, "manifest.version,1.0")?;
    writeln!(w, "oneroster.version,{}", version.as_str())?;
    writeln!(w, "source.systemName,Bench SIS")?;
    writeln!(w, "source.systemCode,bench-sis-2025")?;
    let mut rows = 4;
    for stem in version.stems() {
        let state = if present.contains(&stem) {
            "bulk"
        } else {
            "absent"
        };
        writeln!(w, "file.{stem},{state}")?;
        rows += 1;
    }
    finish(w)?;
    Ok(rows)
}

fn orgs(dir: &Path, s: Shape) -> Result<u64> {
    let mut w = create(dir, "orgs.csv")?;
    header(
        &mut w,
        "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
    )?;
    let mut line = Line::new();
    let mut r = Rng::row(K_ORG, 0);
    line.field(id(K_ORG, 0))
        .blank()
        .field(Stamp(r.next()))
        .field("Bench Unified School District")
        .field("district")
        .field("0612345")
        .blank()
        .end(&mut w)?;
    for n in 0..s.schools {
        let mut r = Rng::row(K_ORG, 1 + n);
        let place = PLACES[(n as usize) % PLACES.len()];
        let level = ["Elementary", "Middle", "High"][(n % 3) as usize];
        let again = n / PLACES.len() as u64;
        let name = if again > 0 {
            format!("{place} {level} School {}", again + 1)
        } else {
            format!("{place} {level} School")
        };
        line.field(s.school_id(n))
            .blank()
            .field(Stamp(r.next()))
            .field(name)
            .field("school")
            .maybe(r.percent(90), format!("0612345{:05}", 10_000 + n))
            .field(id(K_ORG, 0))
            .end(&mut w)?;
    }
    finish(w)?;
    Ok(1 + s.schools)
}

fn sessions(dir: &Path) -> Result<u64> {
    let mut w = create(dir, "academicSessions.csv")?;
    header(
        &mut w,
        "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
    )?;
    let mut line = Line::new();
    for a in SESSIONS {
        let mut r = Rng::row(K_SESSION, a.n);
        line.field(id(K_SESSION, a.n))
            .blank()
            .field(Stamp(r.next()))
            .field(a.title)
            .field(a.kind)
            .field(a.start)
            .field(a.end);
        match a.parent {
            Some(p) => line.field(id(K_SESSION, p)),
            None => line.blank(),
        };
        line.field("2026").end(&mut w)?;
    }
    finish(w)?;
    Ok(SESSIONS.len() as u64)
}

fn courses(dir: &Path, s: Shape) -> Result<u64> {
    let mut w = create(dir, "courses.csv")?;
    header(
        &mut w,
        "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes",
    )?;
    let mut line = Line::new();
    for k in 0..s.courses {
        let mut r = Rng::row(S_COURSE, k);
        let (title, subject, code, grades) = SUBJECTS[(k / s.schools) as usize % SUBJECTS.len()];
        line.field(id(K_COURSE, k))
            .blank()
            .field(Stamp(r.next()))
            .maybe(r.percent(70), id(K_SESSION, 0))
            .field(title)
            .maybe(r.percent(85), format!("{code}{:04}", 1000 + k % 9000))
            .maybe(r.percent(75), grades)
            .field(s.school_id(k))
            .maybe(r.percent(80), subject)
            .maybe(r.percent(40), format!("{code}-{:03}", k % 1000))
            .end(&mut w)?;
    }
    finish(w)?;
    Ok(s.courses)
}

fn classes(dir: &Path, s: Shape) -> Result<u64> {
    let mut w = create(dir, "classes.csv")?;
    header(
        &mut w,
        "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
    )?;
    let mut line = Line::new();
    for c in 0..s.classes {
        let mut r = Rng::row(S_CLASS, c);
        let k = s.course_of(c);
        let (title, subject, code, grades) = SUBJECTS[(k / s.schools) as usize % SUBJECTS.len()];
        let period = 1 + r.below(8);
        let homeroom = r.percent(8);
        line.field(id(K_CLASS, c))
            .blank()
            .field(Stamp(r.next()))
            .field(format!("{title} - P{period}"))
            .maybe(r.percent(70), grades)
            .field(id(K_COURSE, k))
            .maybe(
                r.percent(90),
                format!("{code}{:04}-{:02}", 1000 + k % 9000, c % 100),
            )
            .field(if homeroom { "homeroom" } else { "scheduled" })
            .maybe(r.percent(70), format!("Room {}", 100 + r.below(300)))
            .field(s.school_id(c))
            .field(id(K_SESSION, SESSIONS[term_of(c)].n))
            .maybe(r.percent(60), subject)
            .maybe(r.percent(30), code)
            .maybe(r.percent(85), period)
            .end(&mut w)?;
    }
    finish(w)?;
    Ok(s.classes)
}

/// A phone number of the 555 range.
fn phone(r: &mut Rng) -> String {
    format!("+1{:03}555{:04}", 200 + r.below(800), r.below(10_000))
}

/// A student other than by chance nobody.
fn some_student(r: &mut Rng, users: u64) -> Option<u64> {
    (0..50)
        .map(|_| r.below(users))
        .find(|j| kind_of(*j) == Kind::Student)
}

fn users(dir: &Path, s: Shape, version: Version, guardians: &[u64]) -> Result<u64> {
    let mut w = create(dir, "users.csv")?;
    header(
        &mut w,
        match version {
            Version::V1_1 => {
                "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password"
            }
            Version::V1_2 => {
                "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns"
            }
        },
    )?;
    let mut line = Line::new();
    let mut agents = String::new();
    for i in 0..s.users {
        let kind = kind_of(i);
        let mut r = Rng::row(S_USER, i);
        let given = r.pick(GIVEN);
        let family = r.pick(FAMILY);
        let school = i % s.schools;
        let username = format!("{}{}{}", initial(given), handle(family), 10_000 + i);
        line.field(id(K_USER, i))
            .blank()
            .field(Stamp(r.next()))
            .field(if r.per_mille(993) { "true" } else { "false" });
        if version == Version::V1_1 {
            if kind == Kind::Teacher && r.percent(15) {
                line.field(format!(
                    "{},{}",
                    s.school_id(school),
                    s.school_id(school + 1)
                ));
            } else {
                line.field(s.school_id(school));
            }
            line.field(kind.as_str());
        }
        line.field(&username);
        match kind {
            Kind::Student if r.percent(70) => {
                let state = 1_000_000_000 + r.below(4_000_000_000);
                if r.percent(20) {
                    line.field(format!("{{StateID:{state}}},{{LDAP:{username}}}"))
                } else {
                    line.field(format!("{{StateID:{state}}}"))
                }
            }
            Kind::Teacher if r.percent(50) => line.field(format!("{{LDAP:{username}}}")),
            _ => line.blank(),
        };
        line.field(given).field(family);
        line.maybe(r.percent(40), r.pick(GIVEN));
        match kind {
            Kind::Student => line.field(format!("{:07}", 1_000_000 + i)),
            Kind::Teacher => line.field(format!("T{:06}", i % 1_000_000)),
            Kind::Guardian => line.maybe(r.percent(20), format!("P{:07}", i % 10_000_000)),
        };
        match kind {
            Kind::Student => line.maybe(
                r.percent(95),
                format!("{username}@students.bench-usd.example.org"),
            ),
            Kind::Teacher => line.field(format!("{username}@bench-usd.example.org")),
            Kind::Guardian => line.maybe(
                r.percent(80),
                format!(
                    "{}.{}{}@mail.example.com",
                    handle(given),
                    handle(family),
                    i % 97
                ),
            ),
        };
        let sms = kind == Kind::Guardian && r.percent(55);
        line.maybe(sms, phone(&mut r));
        let has_phone = match kind {
            Kind::Teacher => r.percent(30),
            Kind::Guardian => r.percent(85),
            Kind::Student => r.percent(2),
        };
        line.maybe(has_phone, phone(&mut r));
        agents.clear();
        match kind {
            Kind::Student if !guardians.is_empty() => {
                let n = match r.below(100) {
                    0..70 => 1,
                    70..85 => 2,
                    _ => 0,
                };
                for k in 0..n {
                    if k > 0 {
                        agents.push(',');
                    }
                    let g = r.pick(guardians);
                    let _ = write!(agents, "{}", id(K_USER, g));
                }
            }
            Kind::Guardian => {
                let n = if r.percent(30) { 2 } else { 1 };
                for k in 0..n {
                    if let Some(j) = some_student(&mut r, s.users) {
                        if k > 0 {
                            agents.push(',');
                        }
                        let _ = write!(agents, "{}", id(K_USER, j));
                    }
                }
            }
            _ => {}
        }
        line.field(&agents);
        match kind {
            Kind::Student => line.field(GRADES[grade_of(i) as usize]),
            Kind::Teacher => line.maybe(r.percent(25), "09,10,11,12"),
            Kind::Guardian => line.blank(),
        };
        line.blank();
        if version == Version::V1_2 {
            let student = kind == Kind::Student;
            line.maybe(
                student && r.percent(80),
                format!("ST{:010}", r.below(4_000_000_000)),
            )
            .maybe(r.percent(5), r.pick(GIVEN))
            .maybe(r.per_mille(5), r.pick(GIVEN))
            .maybe(r.percent(1), r.pick(FAMILY))
            .maybe(kind != Kind::Guardian || r.percent(30), s.school_id(school))
            .maybe(
                r.percent(3),
                r.pick(&["she/her", "he/him", "they/them", "she/they"]),
            );
        }
        line.end(&mut w)?;
    }
    finish(w)?;
    Ok(s.users)
}

fn roles(dir: &Path, s: Shape) -> Result<u64> {
    let mut w = create(dir, "roles.csv")?;
    header(
        &mut w,
        "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId",
    )?;
    let mut line = Line::new();
    for i in 0..s.users {
        let mut r = Rng::row(S_ROLE, i);
        line.field(id(K_ROLE, i))
            .blank()
            .field(Stamp(r.next()))
            .field(id(K_USER, i))
            .field("primary")
            .field(kind_of(i).as_str())
            .maybe(r.percent(70), "2025-08-18")
            .maybe(r.percent(5), "2026-05-29")
            .field(s.school_id(i % s.schools))
            .blank()
            .end(&mut w)?;
    }
    finish(w)?;
    Ok(s.users)
}

fn demographics(dir: &Path, s: Shape) -> Result<u64> {
    let mut w = create(dir, "demographics.csv")?;
    header(
        &mut w,
        "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus",
    )?;
    let mut line = Line::new();
    let mut rows = 0;
    let flag = |b: bool| if b { "true" } else { "false" };
    for i in (0..s.users).filter(|i| kind_of(*i) == Kind::Student) {
        let mut r = Rng::row(S_DEMOGRAPHICS, i);
        let year = 2020 - grade_of(i) - u64::from(r.percent(30));
        line.field(id(K_USER, i))
            .blank()
            .field(Stamp(r.next()))
            .maybe(
                r.percent(96),
                format!("{year}-{:02}-{:02}", 1 + r.below(12), 1 + r.below(28)),
            );
        let sex = match r.below(1000) {
            0..490 => "female",
            490..980 => "male",
            980..985 => "other",
            _ => "unspecified",
        };
        line.maybe(r.per_mille(985), sex);
        let races = r.percent(92);
        let mut picked = [false; 5];
        let first = r.below(5) as usize;
        picked[first] = true;
        let two = r.percent(6);
        if two {
            picked[(first + 1 + r.below(4) as usize) % 5] = true;
        }
        for p in picked {
            line.maybe(races, flag(p));
        }
        line.maybe(races, flag(two))
            .maybe(r.percent(94), flag(r.percent(27)))
            .maybe(r.percent(55), r.pick(COUNTRIES))
            .maybe(r.percent(45), r.pick(STATES))
            .maybe(r.percent(30), r.pick(CITIES))
            .maybe(r.percent(25), r.pick(&["01652", "01653", "01654"]))
            .end(&mut w)?;
        rows += 1;
    }
    finish(w)?;
    Ok(rows)
}

fn enrollments(dir: &Path, s: Shape) -> Result<u64> {
    let mut w = create(dir, "enrollments.csv")?;
    header(
        &mut w,
        "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate",
    )?;
    let enrollees = (0..s.users)
        .filter(|i| kind_of(*i) != Kind::Guardian)
        .count() as u128;
    if enrollees == 0 {
        finish(w)?;
        return Ok(0);
    }
    let total = u128::from(s.enrollments);
    let mut line = Line::new();
    let mut e: u128 = 0;
    let mut j: u64 = 0;
    for i in 0..s.users {
        let kind = kind_of(i);
        if kind == Kind::Guardian {
            continue;
        }
        // Deal the rows evenly: enrollee e gets rows e·E/M up to (e+1)·E/M.
        let n = ((e + 1) * total / enrollees - e * total / enrollees) as u64;
        e += 1;
        let mut r = Rng::row(S_ENROLLMENT, i);
        let school = i % s.schools;
        let in_school = s.in_school(s.classes, school);
        let start = r.below(in_school);
        let user = id(K_USER, i);
        let school_id = s.school_id(school);
        for t in 0..n {
            let c = school + s.schools * ((start + t) % in_school);
            let term = &SESSIONS[term_of(c)];
            line.field(id(K_ENROLLMENT, j))
                .blank()
                .field(Stamp(r.next()))
                .field(id(K_CLASS, c))
                .field(school_id)
                .field(user)
                .field(kind.as_str());
            match kind {
                Kind::Teacher => line.field(if t == 0 { "true" } else { "false" }),
                _ => line.maybe(r.percent(40), "false"),
            };
            line.maybe(r.percent(85), term.start)
                .maybe(r.percent(85), term.end)
                .end(&mut w)?;
            j += 1;
        }
    }
    finish(w)?;
    Ok(j)
}

// ---------------------------------------------------------------------------------------------
// The measurements.

/// The CSV files of a folder, by name, with their sizes.
fn csv_files(dir: &Path) -> Result<Vec<(PathBuf, u64)>> {
    let mut out = Vec::new();
    for item in std::fs::read_dir(dir).with_context(|| format!("cannot list {}", dir.display()))? {
        let item = item?;
        let path = item.path();
        if path.extension().is_some_and(|e| e == "csv") {
            out.push((path, item.metadata()?.len()));
        }
    }
    out.sort();
    Ok(out)
}

/// Reads every file once, untimed, so that the page cache holds the export for both.
fn warm(dir: &Path) -> Result<()> {
    let mut buf = vec![0u8; 1 << 20];
    for (path, _) in csv_files(dir)? {
        let mut f = File::open(&path)?;
        while f.read(&mut buf)? > 0 {}
    }
    Ok(())
}

/// What the floor read.
#[derive(Debug, Clone, Copy, Default)]
struct Parsed {
    bytes: u64,
    records: u64,
    fields: u64,
    seconds: f64,
}

/// The floor: every CSV file parsed once with the reader the inspector builds, records and
/// fields counted.
fn floor(dir: &Path) -> Result<Parsed> {
    let files = csv_files(dir)?;
    let start = Instant::now();
    let mut p = Parsed::default();
    let mut rec = csv::ByteRecord::new();
    for (path, bytes) in &files {
        let f = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
        // Exactly as agent/src/sis/read.rs builds its reader.
        let mut rdr = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .terminator(csv::Terminator::Any(b'\n'))
            .buffer_capacity(1 << 16)
            .from_reader(f);
        while rdr
            .read_byte_record(&mut rec)
            .with_context(|| format!("cannot parse {}", path.display()))?
        {
            p.records += 1;
            p.fields += rec.len() as u64;
        }
        p.bytes += bytes;
    }
    p.seconds = start.elapsed().as_secs_f64();
    Ok(p)
}

/// One run of the inspector.
#[derive(Debug, Clone)]
struct Inspected {
    seconds: f64,
    peak_kib: u64,
    samples: u64,
    summary: Value,
}

/// Runs `fitcheck-agent sis inspect DIR --json`, its output to `out`, polling its `VmHWM`
/// until it exits (the last sample is its peak: the figure only grows).
fn inspect(agent: &Path, dir: &Path, out: &Path) -> Result<Inspected> {
    let stdout = File::create(out).with_context(|| format!("cannot create {}", out.display()))?;
    let err_path = out.with_extension("stderr");
    let stderr = File::create(&err_path)?;
    let start = Instant::now();
    let mut child = Command::new(agent)
        .args(["sis", "inspect"])
        .arg(dir)
        .arg("--json")
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(stderr)
        .spawn()
        .with_context(|| format!("cannot start {}", agent.display()))?;
    let pid = child.id();
    let done = Arc::new(AtomicBool::new(false));
    let waiter = {
        let done = Arc::clone(&done);
        std::thread::spawn(move || {
            let status = child.wait();
            let at = Instant::now();
            done.store(true, Ordering::SeqCst);
            (status, at)
        })
    };
    let mut peak_kib = 0;
    let mut samples = 0;
    while !done.load(Ordering::SeqCst) {
        let m = memory(pid);
        if m.hwm_kib > 0 {
            peak_kib = peak_kib.max(m.hwm_kib);
            samples += 1;
        }
        let every = if start.elapsed() < Duration::from_millis(250) {
            Duration::from_millis(1)
        } else {
            Duration::from_millis(20)
        };
        std::thread::sleep(every);
    }
    let (status, ended) = waiter
        .join()
        .map_err(|_| anyhow::anyhow!("the thread waiting for the inspector panicked"))?;
    let status = status?;
    let seconds = ended.duration_since(start).as_secs_f64();
    if !status.success() {
        let err = std::fs::read_to_string(&err_path).unwrap_or_default();
        bail!("the inspector failed ({status}): {}", err.trim());
    }
    let text = std::fs::read_to_string(out)?;
    let summary: Value = serde_json::from_str(&text)
        .with_context(|| format!("the inspector's output {} is not JSON", out.display()))?;
    Ok(Inspected {
        seconds,
        peak_kib,
        samples,
        summary,
    })
}

/// Rows the summary gives a file.
fn rows_of(summary: &Value, file: &str) -> Option<u64> {
    summary["files"]
        .as_array()?
        .iter()
        .find(|f| f["name"] == file)?["rows"]
        .as_u64()
}

fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    match xs.len() {
        0 => 0.0,
        n if n % 2 == 1 => xs[n / 2],
        n => (xs[n / 2 - 1] + xs[n / 2]) / 2.0,
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What one export measured.
#[derive(Debug)]
struct Measured {
    users: u64,
    bytes: u64,
    records: u64,
    floor_s: f64,
    inspector_s: f64,
    peak_kib: u64,
}

impl Measured {
    fn floor_mbps(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.floor_s
    }

    fn inspector_mbps(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.inspector_s
    }

    fn peak_mb(&self) -> f64 {
        self.peak_kib as f64 * 1024.0 / 1e6
    }
}

/// Generates an export, then measures it in `rounds` rounds of floor and inspector.
fn measure(
    o: &Opts,
    agent: &Path,
    root: &Path,
    users: u64,
    made: &mut Vec<PathBuf>,
) -> Result<Measured> {
    let shape = Shape::new(users, o.enrollments_per_user);
    let dir = root.join(format!("export-{users}-users"));
    made.push(dir.clone());
    eprintln!(
        "{} users: generating OneRoster {} into {} ({} schools, {} courses, {} classes, {} enrollments)",
        thousands(users),
        o.version.as_str(),
        dir.display(),
        thousands(shape.schools),
        thousands(shape.courses),
        thousands(shape.classes),
        thousands(shape.enrollments)
    );
    let start = Instant::now();
    let written = generate(&dir, shape, o.version)?;
    let gen_s = start.elapsed().as_secs_f64();
    let mut total = 0;
    println!(
        "export of {} users (OneRoster {}), generated in {gen_s:.1} s:",
        thousands(users),
        o.version.as_str()
    );
    for (name, rows) in &written {
        let bytes = std::fs::metadata(dir.join(name))?.len();
        total += bytes;
        println!(
            "  {name:<22} {:>12} rows {:>10.1} MB",
            thousands(*rows),
            bytes as f64 / 1e6
        );
    }
    println!(
        "  {:<22} {:>17} {:>10.1} MB ({:.0} MB/s written)",
        "total",
        "",
        total as f64 / 1e6,
        total as f64 / 1e6 / gen_s
    );
    let expect = |name: &str| {
        written
            .iter()
            .find(|(n, _)| n == name)
            .map_or(0, |(_, r)| *r)
    };

    warm(&dir)?;
    let mut floors = Vec::new();
    let mut runs = Vec::new();
    for round in 1..=o.rounds {
        let f = floor(&dir)?;
        eprintln!(
            "  round {round}: floor {:.2} s ({:.0} MB/s, {} records, {} fields)",
            f.seconds,
            f.bytes as f64 / 1e6 / f.seconds,
            thousands(f.records),
            thousands(f.fields)
        );
        let out = root.join(format!("inspect-{users}-users-{round}.json"));
        made.push(out.clone());
        made.push(out.with_extension("stderr"));
        let i = inspect(agent, &dir, &out)?;
        eprintln!(
            "  round {round}: inspector {:.2} s ({:.0} MB/s), peak {:.1} MB ({} samples)",
            i.seconds,
            f.bytes as f64 / 1e6 / i.seconds,
            i.peak_kib as f64 * 1024.0 / 1e6,
            i.samples
        );
        for file in ["users.csv", "enrollments.csv", "demographics.csv"] {
            let got = rows_of(&i.summary, file);
            ensure!(
                got == Some(expect(file)),
                "the inspector counted {got:?} rows in {file}; {} were written",
                expect(file)
            );
        }
        floors.push(f);
        runs.push(i);
    }
    let Some(last) = runs.last() else {
        bail!("no rounds");
    };
    let by_role = &last.summary["users_by_role"];
    println!(
        "  inspector: users.csv {} rows (== {}: yes), enrollments.csv {} rows; users by role {by_role}, {} without a role; {} findings",
        thousands(rows_of(&last.summary, "users.csv").unwrap_or(0)),
        thousands(users),
        thousands(rows_of(&last.summary, "enrollments.csv").unwrap_or(0)),
        last.summary["users_without_role"],
        last.summary["findings"].as_array().map_or(0, Vec::len)
    );
    let first = floors.first().copied().unwrap_or_default();
    Ok(Measured {
        users,
        bytes: first.bytes,
        records: first.records,
        floor_s: median(floors.iter().map(|f| f.seconds).collect()),
        inspector_s: median(runs.iter().map(|r| r.seconds).collect()),
        peak_kib: runs.iter().map(|r| r.peak_kib).max().unwrap_or(0),
    })
}

fn verdict(ok: bool) -> &'static str {
    if ok { "meets" } else { "misses" }
}

fn main() -> Result<()> {
    let o = Opts::parse();
    let users = o.users.unwrap_or(if o.quick { 100_000 } else { 1_000_000 });
    let agent = agent_binary()?;
    let (root, tmp) = match &o.dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            (d.clone(), None)
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("sis-bench-")
                .tempdir_in("/tmp")?;
            (t.path().to_owned(), Some(t))
        }
    };
    println!(
        "SIS export inspector at scale: {}, OneRoster {}, {} users and {} users, {} enrollments per user; {} rounds of floor (this process parsing every CSV file with csv::ReaderBuilder as the inspector builds it) then inspector ({} sis inspect DIR --json); medians; peak = the inspector's VmHWM. MB = 10^6 bytes.\n",
        root.display(),
        o.version.as_str(),
        thousands(SMALL_USERS),
        thousands(users),
        o.enrollments_per_user,
        o.rounds,
        agent.display()
    );
    let mut made = Vec::new();
    let result = (|| -> Result<(Measured, Measured)> {
        let small = measure(&o, &agent, &root, SMALL_USERS, &mut made)?;
        println!();
        let big = measure(&o, &agent, &root, users, &mut made)?;
        Ok((small, big))
    })();
    if o.keep {
        if let Some(t) = tmp {
            let _ = t.keep();
        }
        eprintln!("kept {}", root.display());
    } else if tmp.is_none() {
        for p in &made {
            let _ = if p.is_dir() {
                std::fs::remove_dir_all(p)
            } else {
                std::fs::remove_file(p)
            };
        }
    }
    let (small, big) = result?;

    println!();
    println!(
        "  {:<16} {:>9} {:>12} {:>10} {:>10} {:>12} {:>10} {:>9} {:>8}",
        "export",
        "MB",
        "records",
        "floor MB/s",
        "insp. MB/s",
        "insp. rows/s",
        "insp/floor",
        "floor s",
        "insp. s"
    );
    for m in [&small, &big] {
        println!(
            "  {:<16} {:>9.1} {:>12} {:>10.1} {:>10.1} {:>12} {:>9.0}% {:>9.3} {:>8.3}",
            format!("{} users", thousands(m.users)),
            m.bytes as f64 / 1e6,
            thousands(m.records),
            m.floor_mbps(),
            m.inspector_mbps(),
            thousands((m.records as f64 / m.inspector_s) as u64),
            100.0 * m.floor_s / m.inspector_s,
            m.floor_s,
            m.inspector_s
        );
    }
    let share = big.floor_s / big.inspector_s;
    let diff = (big.peak_mb() - small.peak_mb()) / small.peak_mb();
    println!();
    println!(
        "  peak memory: {:.1} MB at {} users, {:.1} MB at {} users ({:+.1} %)",
        small.peak_mb(),
        thousands(small.users),
        big.peak_mb(),
        thousands(big.users),
        100.0 * diff
    );
    println!();
    println!("targets:");
    println!(
        "  throughput at {} users >= {:.0} % of the floor: {:.0} % ({:.1} of {:.1} MB/s) — {}",
        thousands(big.users),
        100.0 * TARGET_SHARE,
        100.0 * share,
        big.inspector_mbps(),
        big.floor_mbps(),
        verdict(share >= TARGET_SHARE)
    );
    println!(
        "  peak memory at {} users within {:.0} % of {} users: {:+.1} % — {}",
        thousands(big.users),
        100.0 * TARGET_SAME,
        thousands(small.users),
        100.0 * diff,
        verdict(diff.abs() <= TARGET_SAME)
    );
    let worst = big.peak_mb().max(small.peak_mb());
    println!(
        "  peak memory under {:.0} MB: {:.1} MB — {}",
        TARGET_PEAK_BYTES / 1e6,
        worst,
        verdict(worst * 1e6 < TARGET_PEAK_BYTES)
    );
    Ok(())
}
