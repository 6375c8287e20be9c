//! The OneRoster CSV bindings this build knows: 1EdTech OneRoster 1.1 ("CSV Tables") and
//! OneRoster 1.2 (the CSV binding as corrected in 1.2.1): every data file, every column in
//! the binding's order with its required flag, the fixed keys of `manifest.csv`, and the role
//! vocabularies.
//!
//! The 1.2 tables were read from the 1.2.1 binding itself (its Tables 2.1, 3.1 and 3.2 to
//! 3.20). The 1.1 tables are the 1.2 ones less the changes the 1.2 binding lists in "Changes
//! Between OR 1.1 and 1.2", checked against 1.1 implementations and real 1.1 exports (see
//! [`SOURCES`]). Where the two versions agree, one table serves both.
//!
//! 1.2 here means 1.2.1: the original 1.2 release also had `users.resourceSourcedIds`, which
//! 1.2.1 removed as redundant with `userResources.csv`; an export that still has it shows an
//! unknown column, which is what 1.2.1 makes it.
//!
//! No I/O: callers hand in names they read.

// JsonSchema: the export summary (`fitcheck.sis-summary/v1`) publishes a schema and carries
// versions, roles and file modes.
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Where the tables come from: the bindings themselves, then what they were checked against.
pub const SOURCES: &[&str] = &[
    // 1EdTech OneRoster 1.1 CSV Tables (1.1.1, the version of record for 1.1).
    "https://www.imsglobal.org/oneroster-v11-final-csv-tables",
    // 1EdTech OneRoster 1.2 CSV Binding (1.2.1); its "Changes Between OR 1.1 and 1.2" is
    // how the 1.1 tables were derived and checked.
    "https://www.imsglobal.org/spec/oneroster/v1p2/bind/csv",
    // The copy of the 1.2.1 binding whose tables were read column by column.
    "https://imsjapan.github.io/or12.html",
    // 1.1 column lists and required flags as an importer implements them (cross-check).
    "https://github.com/oat-sa/oneroster-import/tree/master/config/v1.1",
];

/// A OneRoster version whose CSV binding this build knows.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum OneRosterVersion {
    /// OneRoster 1.1 (the CSV Tables document, 1.1.1).
    #[serde(rename = "1.1")]
    V1_1,
    /// OneRoster 1.2 (the CSV binding, as corrected in 1.2.1).
    #[serde(rename = "1.2")]
    V1_2,
}

impl OneRosterVersion {
    /// Every known version, oldest first.
    pub const ALL: [OneRosterVersion; 2] = [OneRosterVersion::V1_1, OneRosterVersion::V1_2];

    /// The version as `manifest.csv`'s `oneroster.version` writes it: `1.1` or `1.2`.
    pub fn as_str(self) -> &'static str {
        match self {
            OneRosterVersion::V1_1 => "1.1",
            OneRosterVersion::V1_2 => "1.2",
        }
    }

    /// Reads a version as manifests and documents write it: `1.1`, `1.2`, `1.2.1` (a
    /// correction of 1.2 with the same files), `v1p1` or `v1p2` (1EdTech's URL spelling),
    /// with surrounding whitespace. Nothing else: an unknown version must not pass for a
    /// known one.
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim() {
            "1.1" | "v1p1" => Some(OneRosterVersion::V1_1),
            "1.2" | "1.2.1" | "v1p2" => Some(OneRosterVersion::V1_2),
            _ => None,
        }
    }
}

impl std::fmt::Display for OneRosterVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a file is delivered, as `manifest.csv` states it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum FileMode {
    /// The file holds the whole data set; `status` and `dateLastModified` are empty.
    Bulk,
    /// The file holds changes; `status` and `dateLastModified` are filled.
    Delta,
    /// The file is not supplied.
    Absent,
}

impl FileMode {
    /// Reads a `file.<stem>` value: `bulk`, `delta` or `absent`, in any case, trimmed. The
    /// binding's values are lower case, but exports in the field capitalise them and mean the
    /// same.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        [FileMode::Bulk, FileMode::Delta, FileMode::Absent]
            .into_iter()
            .find(|m| m.as_str().eq_ignore_ascii_case(text))
    }

    /// The binding's spelling: `bulk`, `delta` or `absent`.
    pub fn as_str(self) -> &'static str {
        match self {
            FileMode::Bulk => "bulk",
            FileMode::Delta => "delta",
            FileMode::Absent => "absent",
        }
    }
}

/// A OneRoster role (the union of 1.1's and 1.2's role vocabularies).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "camelCase")]
pub enum Role {
    /// `administrator` (1.1 users; 1.2 enrollments and resources only).
    Administrator,
    /// `aide`.
    Aide,
    /// `counselor` (1.2).
    Counselor,
    /// `districtAdministrator` (1.2).
    DistrictAdministrator,
    /// `guardian`.
    Guardian,
    /// `parent`.
    Parent,
    /// `principal` (1.2).
    Principal,
    /// `proctor`.
    Proctor,
    /// `relative`.
    Relative,
    /// `siteAdministrator` (1.2).
    SiteAdministrator,
    /// `student`.
    Student,
    /// `systemAdministrator` (1.2).
    SystemAdministrator,
    /// `teacher`.
    Teacher,
}

impl Role {
    /// Every role, in the spelling's alphabetical order.
    pub const ALL: [Role; 13] = [
        Role::Administrator,
        Role::Aide,
        Role::Counselor,
        Role::DistrictAdministrator,
        Role::Guardian,
        Role::Parent,
        Role::Principal,
        Role::Proctor,
        Role::Relative,
        Role::SiteAdministrator,
        Role::Student,
        Role::SystemAdministrator,
        Role::Teacher,
    ];

    /// The binding's spelling, e.g. `districtAdministrator`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Administrator => "administrator",
            Role::Aide => "aide",
            Role::Counselor => "counselor",
            Role::DistrictAdministrator => "districtAdministrator",
            Role::Guardian => "guardian",
            Role::Parent => "parent",
            Role::Principal => "principal",
            Role::Proctor => "proctor",
            Role::Relative => "relative",
            Role::SiteAdministrator => "siteAdministrator",
            Role::Student => "student",
            Role::SystemAdministrator => "systemAdministrator",
            Role::Teacher => "teacher",
        }
    }

    /// Reads a role in the binding's spelling, in any case, trimmed. Proprietary roles
    /// (`ext:…`, which 1.2 permits) and other words are `None`: they are no role this build
    /// can reason about.
    pub fn parse(text: &str) -> Option<Role> {
        let text = text.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(text))
    }

    /// Whether the version's vocabulary for a user's role has this role: 1.1's `users.csv`
    /// `role` (administrator, aide, guardian, parent, proctor, relative, student, teacher)
    /// or 1.2's `roles.csv` `role` (aide, counselor, districtAdministrator, guardian, parent,
    /// principal, proctor, relative, siteAdministrator, student, systemAdministrator,
    /// teacher).
    ///
    /// 1.2 dropped `administrator` from a user's roles but kept it in `enrollments.csv`'s
    /// `role` (administrator, proctor, student, teacher) and `resources.csv`'s `roles`, so an
    /// administrator enrollment is valid 1.2 although this answers `false` for it.
    pub fn in_version(self, v: OneRosterVersion) -> bool {
        match v {
            OneRosterVersion::V1_1 => matches!(
                self,
                Role::Administrator
                    | Role::Aide
                    | Role::Guardian
                    | Role::Parent
                    | Role::Proctor
                    | Role::Relative
                    | Role::Student
                    | Role::Teacher
            ),
            OneRosterVersion::V1_2 => !matches!(self, Role::Administrator),
        }
    }
}

/// One column of a OneRoster CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ColumnSpec {
    /// The header as the binding spells it (headers are case-sensitive).
    pub name: &'static str,
    /// Required by the binding (a value in every row).
    pub required: bool,
}

/// One file of a OneRoster CSV binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileSpec {
    /// File name as the binding spells it, e.g. "users.csv", "academicSessions.csv".
    pub name: &'static str,
    /// Its stem, the key after `file.` in manifest.csv, e.g. "users".
    pub stem: &'static str,
    /// Every column, in the binding's column order.
    pub columns: &'static [ColumnSpec],
    /// The file's rows are about one user each, keyed by this column (users.csv and
    /// demographics.csv: "sourcedId"; roles.csv, userProfiles.csv, enrollments.csv and
    /// userResources.csv: "userSourcedId"; results.csv: "studentSourcedId"); None otherwise.
    pub user_key: Option<&'static str>,
}

impl FileSpec {
    /// The column spelt exactly `name`, if the file has it.
    pub fn column(&self, name: &str) -> Option<&'static ColumnSpec> {
        self.columns.iter().find(|c| c.name == name)
    }
}

const fn req(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        required: true,
    }
}

const fn opt(name: &'static str) -> ColumnSpec {
    ColumnSpec {
        name,
        required: false,
    }
}

// Every file opens with these three. `status` and `dateLastModified` are "Yes for Delta":
// filled in delta mode and blank in bulk mode, so neither has a value in every row and both
// are marked not required; whoever checks a delta file must ask for them separately.
const SOURCED_ID: ColumnSpec = req("sourcedId");
const STATUS: ColumnSpec = opt("status");
const DATE_LAST_MODIFIED: ColumnSpec = opt("dateLastModified");

static ACADEMIC_SESSIONS: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("title"),
    req("type"),
    req("startDate"),
    req("endDate"),
    opt("parentSourcedId"),
    req("schoolYear"),
];

static CATEGORIES_1_1: &[ColumnSpec] = &[SOURCED_ID, STATUS, DATE_LAST_MODIFIED, req("title")];

// 1.2 added `weight`.
static CATEGORIES_1_2: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("title"),
    opt("weight"),
];

static CLASSES: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("title"),
    opt("grades"),
    req("courseSourcedId"),
    opt("classCode"),
    req("classType"),
    opt("location"),
    req("schoolSourcedId"),
    req("termSourcedIds"),
    opt("subjects"),
    opt("subjectCodes"),
    opt("periods"),
];

static CLASS_RESOURCES: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    opt("title"),
    req("classSourcedId"),
    req("resourceSourcedId"),
];

static COURSES: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    opt("schoolYearSourcedId"),
    req("title"),
    opt("courseCode"),
    opt("grades"),
    req("orgSourcedId"),
    opt("subjects"),
    opt("subjectCodes"),
];

static COURSE_RESOURCES: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    opt("title"),
    req("courseSourcedId"),
    req("resourceSourcedId"),
];

// `sourcedId` is the user's: demographics are keyed by the user they describe.
static DEMOGRAPHICS: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    opt("birthDate"),
    opt("sex"),
    opt("americanIndianOrAlaskaNative"),
    opt("asian"),
    opt("blackOrAfricanAmerican"),
    opt("nativeHawaiianOrOtherPacificIslander"),
    opt("white"),
    opt("demographicRaceTwoOrMoreRaces"),
    opt("hispanicOrLatinoEthnicity"),
    opt("countryOfBirthCode"),
    opt("stateOfBirthAbbreviation"),
    opt("cityOfBirth"),
    opt("publicSchoolResidenceStatus"),
];

static ENROLLMENTS: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("classSourcedId"),
    req("schoolSourcedId"),
    req("userSourcedId"),
    req("role"),
    opt("primary"),
    opt("beginDate"),
    opt("endDate"),
];

static LINE_ITEM_LEARNING_OBJECTIVE_IDS: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("lineItemSourcedId"),
    req("source"),
    req("learningObjectiveId"),
];

static LINE_ITEMS_1_1: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("title"),
    opt("description"),
    req("assignDate"),
    req("dueDate"),
    req("classSourcedId"),
    req("categorySourcedId"),
    req("gradingPeriodSourcedId"),
    req("resultValueMin"),
    req("resultValueMax"),
];

// 1.2 renamed `gradingPeriodSourcedId` to `academicSessionSourcedId`, made the result
// bounds optional and added `schoolSourcedId`.
static LINE_ITEMS_1_2: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("title"),
    opt("description"),
    req("assignDate"),
    req("dueDate"),
    req("classSourcedId"),
    req("categorySourcedId"),
    req("academicSessionSourcedId"),
    opt("resultValueMin"),
    opt("resultValueMax"),
    req("schoolSourcedId"),
];

static LINE_ITEM_SCORE_SCALES: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    opt("title"),
    req("lineItemSourcedId"),
    req("scoreScaleSourcedId"),
];

static ORGS: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("name"),
    req("type"),
    opt("identifier"),
    opt("parentSourcedId"),
];

static RESOURCES: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("vendorResourceId"),
    opt("title"),
    opt("roles"),
    opt("importance"),
    opt("vendorId"),
    opt("applicationId"),
];

static RESULT_LEARNING_OBJECTIVE_IDS: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("resultSourcedId"),
    req("source"),
    req("learningObjectiveId"),
    opt("score"),
    opt("textScore"),
];

static RESULTS_1_1: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("lineItemSourcedId"),
    req("studentSourcedId"),
    req("scoreStatus"),
    req("score"),
    req("scoreDate"),
    opt("comment"),
];

// 1.2 made `score` optional and added the six columns after `comment`.
static RESULTS_1_2: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("lineItemSourcedId"),
    req("studentSourcedId"),
    req("scoreStatus"),
    opt("score"),
    req("scoreDate"),
    opt("comment"),
    opt("textScore"),
    opt("classSourcedId"),
    opt("inProgress"),
    opt("incomplete"),
    opt("late"),
    opt("missing"),
];

static RESULT_SCORE_SCALES: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    opt("title"),
    req("resultSourcedId"),
    req("scoreScaleSourcedId"),
];

static ROLES: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("userSourcedId"),
    req("roleType"),
    req("role"),
    opt("beginDate"),
    opt("endDate"),
    req("orgSourcedId"),
    opt("userProfileSourcedId"),
];

static SCORE_SCALES: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("title"),
    req("type"),
    req("orgSourcedId"),
    req("courseSourcedId"),
    req("classSourcedId"),
    req("scoreScaleValue"),
];

static USER_PROFILES: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("userSourcedId"),
    req("profileType"),
    req("vendorId"),
    opt("applicationId"),
    opt("description"),
    req("credentialType"),
    req("username"),
    opt("password"),
];

static USER_RESOURCES: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("userSourcedId"),
    opt("orgSourcedId"),
    opt("classSourcedId"),
    req("resourceSourcedId"),
];

static USERS_1_1: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("enabledUser"),
    req("orgSourcedIds"),
    req("role"),
    req("username"),
    opt("userIds"),
    req("givenName"),
    req("familyName"),
    opt("middleName"),
    opt("identifier"),
    opt("email"),
    opt("sms"),
    opt("phone"),
    opt("agentSourcedIds"),
    opt("grades"),
    opt("password"),
];

// 1.2 moved `orgSourcedIds` and `role` to roles.csv and added the six columns after
// `password`.
static USERS_1_2: &[ColumnSpec] = &[
    SOURCED_ID,
    STATUS,
    DATE_LAST_MODIFIED,
    req("enabledUser"),
    req("username"),
    opt("userIds"),
    req("givenName"),
    req("familyName"),
    opt("middleName"),
    opt("identifier"),
    opt("email"),
    opt("sms"),
    opt("phone"),
    opt("agentSourcedIds"),
    opt("grades"),
    opt("password"),
    opt("userMasterIdentifier"),
    opt("preferredGivenName"),
    opt("preferredMiddleName"),
    opt("preferredFamilyName"),
    opt("primaryOrgSourcedId"),
    opt("pronouns"),
];

const fn spec(
    name: &'static str,
    stem: &'static str,
    columns: &'static [ColumnSpec],
    user_key: Option<&'static str>,
) -> FileSpec {
    FileSpec {
        name,
        stem,
        columns,
        user_key,
    }
}

// In the order of the binding's manifest rows.
static FILES_1_1: &[FileSpec] = &[
    spec(
        "academicSessions.csv",
        "academicSessions",
        ACADEMIC_SESSIONS,
        None,
    ),
    spec("categories.csv", "categories", CATEGORIES_1_1, None),
    spec("classes.csv", "classes", CLASSES, None),
    spec(
        "classResources.csv",
        "classResources",
        CLASS_RESOURCES,
        None,
    ),
    spec("courses.csv", "courses", COURSES, None),
    spec(
        "courseResources.csv",
        "courseResources",
        COURSE_RESOURCES,
        None,
    ),
    spec(
        "demographics.csv",
        "demographics",
        DEMOGRAPHICS,
        Some("sourcedId"),
    ),
    spec(
        "enrollments.csv",
        "enrollments",
        ENROLLMENTS,
        Some("userSourcedId"),
    ),
    spec("lineItems.csv", "lineItems", LINE_ITEMS_1_1, None),
    spec("orgs.csv", "orgs", ORGS, None),
    spec("resources.csv", "resources", RESOURCES, None),
    spec(
        "results.csv",
        "results",
        RESULTS_1_1,
        Some("studentSourcedId"),
    ),
    spec("users.csv", "users", USERS_1_1, Some("sourcedId")),
];

// In the order of Table 3.1, the manifest's rows. (Table 2.1 misspells one file as
// "courseResourses.csv"; the manifest key `file.courseResources` and Section 3 agree on
// courseResources.)
static FILES_1_2: &[FileSpec] = &[
    spec(
        "academicSessions.csv",
        "academicSessions",
        ACADEMIC_SESSIONS,
        None,
    ),
    spec("categories.csv", "categories", CATEGORIES_1_2, None),
    spec("classes.csv", "classes", CLASSES, None),
    spec(
        "classResources.csv",
        "classResources",
        CLASS_RESOURCES,
        None,
    ),
    spec("courses.csv", "courses", COURSES, None),
    spec(
        "courseResources.csv",
        "courseResources",
        COURSE_RESOURCES,
        None,
    ),
    spec(
        "demographics.csv",
        "demographics",
        DEMOGRAPHICS,
        Some("sourcedId"),
    ),
    spec(
        "enrollments.csv",
        "enrollments",
        ENROLLMENTS,
        Some("userSourcedId"),
    ),
    spec(
        "lineItemLearningObjectiveIds.csv",
        "lineItemLearningObjectiveIds",
        LINE_ITEM_LEARNING_OBJECTIVE_IDS,
        None,
    ),
    spec("lineItems.csv", "lineItems", LINE_ITEMS_1_2, None),
    spec(
        "lineItemScoreScales.csv",
        "lineItemScoreScales",
        LINE_ITEM_SCORE_SCALES,
        None,
    ),
    spec("orgs.csv", "orgs", ORGS, None),
    spec("resources.csv", "resources", RESOURCES, None),
    spec(
        "resultLearningObjectiveIds.csv",
        "resultLearningObjectiveIds",
        RESULT_LEARNING_OBJECTIVE_IDS,
        None,
    ),
    spec(
        "results.csv",
        "results",
        RESULTS_1_2,
        Some("studentSourcedId"),
    ),
    spec(
        "resultScoreScales.csv",
        "resultScoreScales",
        RESULT_SCORE_SCALES,
        None,
    ),
    spec("roles.csv", "roles", ROLES, Some("userSourcedId")),
    spec("scoreScales.csv", "scoreScales", SCORE_SCALES, None),
    spec(
        "userProfiles.csv",
        "userProfiles",
        USER_PROFILES,
        Some("userSourcedId"),
    ),
    spec(
        "userResources.csv",
        "userResources",
        USER_RESOURCES,
        Some("userSourcedId"),
    ),
    spec("users.csv", "users", USERS_1_2, Some("sourcedId")),
];

/// Every CSV file of that binding, except manifest.csv, in the order of the manifest's rows.
pub fn files(version: OneRosterVersion) -> &'static [FileSpec] {
    match version {
        OneRosterVersion::V1_1 => FILES_1_1,
        OneRosterVersion::V1_2 => FILES_1_2,
    }
}

/// The file named exactly `name_or_stem` ("users.csv" or "users"), case-sensitive as the
/// binding is.
pub fn file(version: OneRosterVersion, name_or_stem: &str) -> Option<&'static FileSpec> {
    files(version)
        .iter()
        .find(|f| f.name == name_or_stem || f.stem == name_or_stem)
}

/// The file named `name_or_stem` in any case: exports in the field write `userprofiles.csv`,
/// which the binding does not permit but which means userProfiles.csv.
pub fn file_ignoring_case(
    version: OneRosterVersion,
    name_or_stem: &str,
) -> Option<&'static FileSpec> {
    files(version).iter().find(|f| {
        f.name.eq_ignore_ascii_case(name_or_stem) || f.stem.eq_ignore_ascii_case(name_or_stem)
    })
}

/// The fixed (non-`file.`) keys of manifest.csv for that version: manifest.version,
/// oneroster.version (both required), source.systemName and source.systemCode (both
/// optional). 1.2 kept 1.1's fixed keys; only its `file.` rows grew.
pub fn manifest_fixed_keys(version: OneRosterVersion) -> &'static [&'static str] {
    const KEYS: &[&str] = &[
        "manifest.version",
        "oneroster.version",
        "source.systemName",
        "source.systemCode",
    ];
    match version {
        OneRosterVersion::V1_1 | OneRosterVersion::V1_2 => KEYS,
    }
}

/// Whether a column name is an extension column. Both bindings permit extensions only as
/// `metadata.`-prefixed columns after the defined ones (`metadata.classification`). `ext_`
/// columns (`ext_vendor_ssoId`) are accepted too, but that is a vendor convention seen in
/// real exports, not the binding's rule. A bare prefix names nothing and is not one.
pub fn is_extension_column(name: &str) -> bool {
    ["metadata.", "ext_"]
        .iter()
        .any(|prefix| name.len() > prefix.len() && name.starts_with(prefix))
}

/// The versions whose binding has `column` in `file` (a stem, "users", or a name,
/// "users.csv"), oldest first: used to validate profiles that name columns.
pub fn versions_with(file: &str, column: &str) -> Vec<OneRosterVersion> {
    OneRosterVersion::ALL
        .into_iter()
        .filter(|&v| self::file(v, file).is_some_and(|f| f.column(column).is_some()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    use OneRosterVersion::{V1_1, V1_2};

    fn names(v: OneRosterVersion, stem: &str) -> Vec<&'static str> {
        file(v, stem)
            .map(|f| f.columns.iter().map(|c| c.name).collect())
            .unwrap_or_default()
    }

    fn split(header: &str) -> Vec<&str> {
        header.split(',').collect()
    }

    #[test]
    fn every_file_has_unique_columns_and_a_consistent_name() {
        for v in OneRosterVersion::ALL {
            let mut stems = BTreeSet::new();
            for f in files(v) {
                assert!(stems.insert(f.stem), "{v}: {} twice", f.stem);
                assert_eq!(f.name, format!("{}.csv", f.stem));
                let mut seen = BTreeSet::new();
                for c in f.columns {
                    assert!(seen.insert(c.name), "{v} {}: {} twice", f.name, c.name);
                }
                if let Some(key) = f.user_key {
                    assert!(f.column(key).is_some_and(|c| c.required), "{v} {}", f.name);
                }
            }
        }
    }

    #[test]
    fn every_file_opens_with_the_record_columns() {
        for v in OneRosterVersion::ALL {
            for f in files(v) {
                assert_eq!(
                    &f.columns[..3],
                    &[SOURCED_ID, STATUS, DATE_LAST_MODIFIED],
                    "{v} {}",
                    f.name
                );
                assert!(f.columns[0].required);
                assert!(!f.columns[1].required && !f.columns[2].required);
            }
        }
    }

    #[test]
    fn the_bindings_have_their_files() {
        let stems = |v| files(v).iter().map(|f| f.stem).collect::<Vec<_>>();
        assert_eq!(
            stems(V1_1),
            [
                "academicSessions",
                "categories",
                "classes",
                "classResources",
                "courses",
                "courseResources",
                "demographics",
                "enrollments",
                "lineItems",
                "orgs",
                "resources",
                "results",
                "users",
            ]
        );
        assert_eq!(files(V1_2).len(), 21);
        for v in OneRosterVersion::ALL {
            for stem in ["users", "orgs", "enrollments"] {
                assert!(file(v, stem).is_some(), "{v} {stem}");
            }
        }
        let added: Vec<_> = stems(V1_2)
            .into_iter()
            .filter(|s| file(V1_1, s).is_none())
            .collect();
        // The eight files the 1.2 binding lists as added.
        assert_eq!(
            added,
            [
                "lineItemLearningObjectiveIds",
                "lineItemScoreScales",
                "resultLearningObjectiveIds",
                "resultScoreScales",
                "roles",
                "scoreScales",
                "userProfiles",
                "userResources",
            ]
        );
    }

    #[test]
    fn users_differ_between_versions_as_the_binding_says() {
        let u11 = names(V1_1, "users");
        let u12 = names(V1_2, "users.csv");
        assert!(u11.contains(&"role") && u11.contains(&"orgSourcedIds"));
        assert!(!u11.contains(&"pronouns"));
        for c in ["preferredGivenName", "pronouns", "primaryOrgSourcedId"] {
            assert!(u12.contains(&c), "{c}");
        }
        assert!(!u12.contains(&"role") && !u12.contains(&"orgSourcedIds"));
        // Removed by 1.2.1.
        assert!(!u12.contains(&"resourceSourcedIds"));
        assert!(file(V1_2, "roles.csv").is_some() && file(V1_1, "roles").is_none());
    }

    #[test]
    fn required_flags_follow_each_binding() {
        let required = |v, stem, col| {
            file(v, stem)
                .and_then(|f| f.column(col))
                .map(|c| c.required)
        };
        assert_eq!(required(V1_1, "results", "score"), Some(true));
        assert_eq!(required(V1_2, "results", "score"), Some(false));
        assert_eq!(required(V1_1, "lineItems", "resultValueMin"), Some(true));
        assert_eq!(required(V1_2, "lineItems", "resultValueMin"), Some(false));
        assert_eq!(required(V1_2, "users", "username"), Some(true));
        assert_eq!(required(V1_2, "users", "email"), Some(false));
        assert_eq!(required(V1_1, "users", "role"), Some(true));
        assert_eq!(required(V1_2, "userProfiles", "password"), Some(false));
        assert_eq!(required(V1_2, "roles", "orgSourcedId"), Some(true));
        assert_eq!(required(V1_2, "demographics", "birthDate"), Some(false));
        assert_eq!(required(V1_2, "users", "status"), Some(false));
        assert_eq!(required(V1_2, "users", "nope"), None);
    }

    #[test]
    fn user_keys() {
        let key = |v, stem| file(v, stem).and_then(|f| f.user_key);
        assert_eq!(key(V1_2, "users"), Some("sourcedId"));
        assert_eq!(key(V1_2, "demographics"), Some("sourcedId"));
        assert_eq!(key(V1_2, "roles"), Some("userSourcedId"));
        assert_eq!(key(V1_2, "userProfiles"), Some("userSourcedId"));
        assert_eq!(key(V1_1, "enrollments"), Some("userSourcedId"));
        assert_eq!(key(V1_1, "results"), Some("studentSourcedId"));
        assert_eq!(key(V1_2, "orgs"), None);
        assert_eq!(key(V1_2, "classes"), None);
    }

    // Headers of real exports (1EdTech's 1.1 test sets and a 1.2 sample), as written.
    #[test]
    fn real_export_headers_match() {
        let cases: &[(OneRosterVersion, &str, &str)] = &[
            (
                V1_1,
                "users",
                "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password",
            ),
            (
                V1_1,
                "classes",
                "sourcedId,status,dateLastModified,title,grades,courseSourcedId,classCode,classType,location,schoolSourcedId,termSourcedIds,subjects,subjectCodes,periods",
            ),
            (
                V1_1,
                "academicSessions",
                "sourcedId,status,dateLastModified,title,type,startDate,endDate,parentSourcedId,schoolYear",
            ),
            (
                V1_2,
                "users",
                "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns",
            ),
            (
                V1_2,
                "demographics",
                "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus",
            ),
            (
                V1_2,
                "roles",
                "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId",
            ),
            (
                V1_2,
                "userProfiles",
                "sourcedId,status,dateLastModified,userSourcedId,profileType,vendorId,applicationId,description,credentialType,username,password",
            ),
            (
                V1_2,
                "courses",
                "sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes",
            ),
            (
                V1_2,
                "enrollments",
                "sourcedId,status,dateLastModified,classSourcedId,schoolSourcedId,userSourcedId,role,primary,beginDate,endDate",
            ),
            (
                V1_2,
                "orgs",
                "sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId",
            ),
        ];
        for (v, stem, header) in cases {
            assert_eq!(names(*v, stem), split(header), "{v} {stem}");
        }
    }

    #[test]
    fn files_are_found_by_name_or_stem() {
        assert_eq!(file(V1_2, "users.csv").map(|f| f.stem), Some("users"));
        assert_eq!(
            file(V1_2, "academicSessions").map(|f| f.name),
            Some("academicSessions.csv")
        );
        assert!(file(V1_2, "userprofiles.csv").is_none());
        assert!(file(V1_2, "manifest.csv").is_none());
        assert_eq!(
            file_ignoring_case(V1_2, "userprofiles.csv").map(|f| f.name),
            Some("userProfiles.csv")
        );
        assert_eq!(
            file_ignoring_case(V1_1, "USERS").map(|f| f.stem),
            Some("users")
        );
        assert!(file_ignoring_case(V1_1, "roles.csv").is_none());
    }

    #[test]
    fn versions_with_columns() {
        assert_eq!(versions_with("users", "givenName"), [V1_1, V1_2]);
        assert_eq!(versions_with("users.csv", "pronouns"), [V1_2]);
        assert_eq!(versions_with("users", "role"), [V1_1]);
        assert_eq!(versions_with("lineItems", "gradingPeriodSourcedId"), [V1_1]);
        assert_eq!(
            versions_with("lineItems", "academicSessionSourcedId"),
            [V1_2]
        );
        assert_eq!(versions_with("roles", "role"), [V1_2]);
        assert!(versions_with("users", "givenname").is_empty());
        assert!(versions_with("teachers", "givenName").is_empty());
    }

    #[test]
    fn manifest_keys() {
        for v in OneRosterVersion::ALL {
            assert_eq!(
                manifest_fixed_keys(v),
                [
                    "manifest.version",
                    "oneroster.version",
                    "source.systemName",
                    "source.systemCode"
                ]
            );
        }
    }

    #[test]
    fn extension_columns() {
        assert!(is_extension_column("metadata.classification"));
        assert!(is_extension_column("ext_imagineLearning_ssoId"));
        assert!(!is_extension_column("metadata."));
        assert!(!is_extension_column("metadata"));
        assert!(!is_extension_column("givenName"));
        assert!(!is_extension_column("Metadata.x"));
    }

    #[test]
    fn versions_parse() {
        assert_eq!(OneRosterVersion::parse("1.1"), Some(V1_1));
        assert_eq!(OneRosterVersion::parse(" 1.2\n"), Some(V1_2));
        assert_eq!(OneRosterVersion::parse("1.2.1"), Some(V1_2));
        assert_eq!(OneRosterVersion::parse("v1p1"), Some(V1_1));
        assert_eq!(OneRosterVersion::parse("v1p2"), Some(V1_2));
        for bad in ["", "1", "1.0", "1.3", "1.2.2", "v1p3", "V1.1", "1.1.1x"] {
            assert_eq!(OneRosterVersion::parse(bad), None, "{bad:?}");
        }
        for v in OneRosterVersion::ALL {
            assert_eq!(OneRosterVersion::parse(v.as_str()), Some(v));
            assert_eq!(v.to_string(), v.as_str());
            assert_eq!(
                serde_json::to_string(&v).ok(),
                Some(format!("\"{}\"", v.as_str()))
            );
        }
    }

    #[test]
    fn file_modes_parse() {
        assert_eq!(FileMode::parse("bulk"), Some(FileMode::Bulk));
        assert_eq!(FileMode::parse(" Delta "), Some(FileMode::Delta));
        assert_eq!(FileMode::parse("ABSENT"), Some(FileMode::Absent));
        assert_eq!(FileMode::parse(""), None);
        assert_eq!(FileMode::parse("full"), None);
        assert_eq!(
            serde_json::to_string(&FileMode::Bulk).ok().as_deref(),
            Some("\"bulk\"")
        );
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.as_str()), Some(r));
            assert_eq!(Role::parse(&r.as_str().to_uppercase()), Some(r));
            assert_eq!(
                serde_json::to_string(&r).ok(),
                Some(format!("\"{}\"", r.as_str()))
            );
        }
        assert_eq!(
            Role::parse(" districtadministrator "),
            Some(Role::DistrictAdministrator)
        );
        assert_eq!(Role::parse("ext:nurse"), None);
        assert_eq!(Role::parse("district administrator"), None);
        assert_eq!(Role::parse(""), None);
        // ALL is sorted as the derived order sorts, so maps keyed by role read in ALL's order.
        assert!(Role::ALL.windows(2).all(|w| w[0] < w[1]));
    }

    #[test]
    fn schemas_use_the_binding_spellings() {
        let role = serde_json::to_string(&schemars::schema_for!(Role)).unwrap_or_default();
        assert!(role.contains("\"districtAdministrator\""), "{role}");
        let version =
            serde_json::to_string(&schemars::schema_for!(OneRosterVersion)).unwrap_or_default();
        assert!(
            version.contains("\"1.2\"") && !version.contains("V1_2"),
            "{version}"
        );
        let mode = serde_json::to_string(&schemars::schema_for!(FileMode)).unwrap_or_default();
        assert!(mode.contains("\"absent\""), "{mode}");
    }

    #[test]
    fn role_vocabularies() {
        let v11: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.in_version(V1_1))
            .collect();
        let v12: Vec<_> = Role::ALL
            .into_iter()
            .filter(|r| r.in_version(V1_2))
            .collect();
        assert_eq!(
            v11.iter().map(|r| r.as_str()).collect::<Vec<_>>(),
            [
                "administrator",
                "aide",
                "guardian",
                "parent",
                "proctor",
                "relative",
                "student",
                "teacher"
            ]
        );
        assert_eq!(v12.len(), 12);
        assert!(!Role::Administrator.in_version(V1_2));
        assert!(Role::DistrictAdministrator.in_version(V1_2));
        assert!(!Role::Counselor.in_version(V1_1));
        assert!(Role::Student.in_version(V1_1) && Role::Student.in_version(V1_2));
    }
}
