//! The SIS export inspector against real OneRoster exports (`../shared/data/oneroster/`, see
//! its SOURCES.md), exports written here to show one finding each, hostile input, and the
//! privacy rule: no cell value in a summary or an error.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use fitcheck_agent::sis::{self, InspectError, Limits};
use fitcheck_core::data::oneroster::{OneRosterVersion, Role};
use fitcheck_core::data::summary::{Delivery, Finding, FindingKind, SisSummary};

const NOW: &str = "2026-12-06T08:00:00Z";

fn shared(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/data/oneroster")
        .join(name)
}

fn inspect(path: &Path) -> SisSummary {
    match sis::inspect(path, &Limits::default(), NOW) {
        Ok(s) => s,
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

fn refused(path: &Path) -> String {
    refused_with(path, &Limits::default())
}

fn refused_with(path: &Path, limits: &Limits) -> String {
    match sis::inspect(path, limits, NOW) {
        Ok(s) => panic!("{} was read: {s:?}", path.display()),
        Err(e) => e.to_string(),
    }
}

/// `(kind, file, column, expected)` of every finding, for exact comparison.
fn findings(s: &SisSummary) -> Vec<(FindingKind, String, String, String)> {
    let mut out: Vec<_> = s
        .findings
        .iter()
        .map(|f: &Finding| {
            (
                f.kind,
                f.file.clone().unwrap_or_default(),
                f.column.clone().unwrap_or_default(),
                f.expected.clone().unwrap_or_default(),
            )
        })
        .collect();
    out.sort();
    out
}

fn fix_findings(s: &SisSummary) -> Vec<(FindingKind, String, String, String)> {
    findings(s)
        .into_iter()
        .filter(|f| f.0.severity() == fitcheck_core::data::summary::Severity::Fix)
        .collect()
}

fn roles(pairs: &[(Role, u64)]) -> BTreeMap<Role, u64> {
    pairs.iter().copied().collect()
}

/// Filled rows of `file`'s `column` (by the binding's name), and per role.
fn filled(s: &SisSummary, file: &str, column: &str) -> (u64, BTreeMap<Role, u64>) {
    let f = s.file(file).unwrap_or_else(|| panic!("no {file}"));
    let c = f
        .column(column)
        .unwrap_or_else(|| panic!("no {file} {column}"));
    (c.filled, c.filled_by_role.clone())
}

fn f(
    kind: FindingKind,
    file: &str,
    column: &str,
    expected: &str,
) -> (FindingKind, String, String, String) {
    (kind, file.into(), column.into(), expected.into())
}

#[test]
fn a_full_1_1_export_is_read_with_every_role_and_no_defect() {
    let s = inspect(&shared("Test_full_data_set.zip"));
    assert_eq!(s.oneroster_version, Some(OneRosterVersion::V1_1));
    assert_eq!(s.delivery, Some(Delivery::Bulk));
    assert_eq!(
        s.source_system(),
        "the SIS",
        "source.systemName is `absent`"
    );
    let names: Vec<&str> = s.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "academicSessions.csv",
            "classes.csv",
            "enrollments.csv",
            "orgs.csv",
            "users.csv"
        ]
    );
    assert_eq!(
        s.users_by_role,
        roles(&[(Role::Parent, 1), (Role::Student, 3), (Role::Teacher, 2)])
    );
    assert_eq!(s.users_without_role, 0);
    let users = s.file("users.csv").unwrap_or_else(|| panic!("users.csv"));
    assert_eq!(users.rows, 6);
    assert_eq!(
        users.rows_by_role,
        roles(&[(Role::Parent, 1), (Role::Student, 3), (Role::Teacher, 2)])
    );
    assert_eq!(
        filled(&s, "users.csv", "userIds"),
        (
            5,
            roles(&[(Role::Parent, 1), (Role::Student, 3), (Role::Teacher, 1)])
        )
    );
    assert_eq!(
        filled(&s, "enrollments.csv", "role").1,
        roles(&[(Role::Student, 4), (Role::Teacher, 2)])
    );
    assert_eq!(
        fix_findings(&s),
        vec![],
        "a clean export has nothing to fix"
    );
    let notes = findings(&s);
    assert!(notes.contains(&f(FindingKind::CrlfLineEnds, "classes.csv", "", "")));
    assert!(notes.contains(&f(FindingKind::QuotedFields, "classes.csv", "", "")));
    assert!(!notes.iter().any(|n| n.0 == FindingKind::Bom));
}

#[test]
fn a_minimal_export_shows_which_optional_columns_are_empty_per_role() {
    let s = inspect(&shared("Test_minimal_data_set.zip"));
    assert_eq!(s.oneroster_version, Some(OneRosterVersion::V1_1));
    assert_eq!(filled(&s, "users.csv", "email"), (0, BTreeMap::new()));
    assert_eq!(
        filled(&s, "users.csv", "identifier"),
        (1, roles(&[(Role::Teacher, 1)]))
    );
    assert_eq!(
        filled(&s, "users.csv", "givenName"),
        (
            6,
            roles(&[(Role::Parent, 1), (Role::Student, 3), (Role::Teacher, 2)])
        )
    );
    assert_eq!(filled(&s, "enrollments.csv", "primary").0, 0);
    assert_eq!(filled(&s, "classes.csv", "title").0, 2);
    assert_eq!(fix_findings(&s), vec![]);
}

#[test]
fn a_1_2_delta_joins_roles_from_roles_csv_into_users_and_demographics() {
    let s = inspect(&shared("oneroster_test_data.zip"));
    assert_eq!(s.oneroster_version, Some(OneRosterVersion::V1_2));
    assert_eq!(s.delivery, Some(Delivery::Delta));
    assert_eq!(s.source_system(), "DataGen");
    assert_eq!(s.users_by_role, roles(&[(Role::Student, 1)]));
    assert_eq!(
        filled(&s, "demographics.csv", "birthDate"),
        (1, roles(&[(Role::Student, 1)]))
    );
    assert_eq!(filled(&s, "demographics.csv", "sex").0, 0);
    assert_eq!(
        filled(&s, "users.csv", "password"),
        (1, roles(&[(Role::Student, 1)]))
    );
    assert_eq!(filled(&s, "users.csv", "pronouns").0, 0);
    assert_eq!(filled(&s, "userProfiles.csv", "username").0, 1);
    assert_eq!(s.files.len(), 9, "ten files, the manifest apart");
    assert_eq!(fix_findings(&s), vec![]);
}

#[test]
fn a_1_2_export_with_real_world_defects_has_each_one_found() {
    let s = inspect(&shared("v1p2_full_dataset.zip"));
    assert_eq!(s.oneroster_version, Some(OneRosterVersion::V1_2));
    use FindingKind::*;
    let mut want = vec![
        f(FileNameCase, "userprofiles.csv", "", "userProfiles.csv"),
        f(ManifestStateBlank, "manifest.csv", "file.scoreScales", ""),
        f(ManifestStateBlank, "manifest.csv", "file.userProfiles", ""),
        f(ManifestStateBlank, "manifest.csv", "file.userResources", ""),
        f(
            MisspeltColumn,
            "roles.csv",
            "dataLastModified",
            "dateLastModified",
        ),
        f(
            MisspeltColumn,
            "userprofiles.csv",
            "dataLastModified",
            "dateLastModified",
        ),
        f(
            MisspeltColumn,
            "users.csv",
            "prefferedGivenName",
            "preferredGivenName",
        ),
        f(
            MisspeltColumn,
            "users.csv",
            "prefferedMiddleName",
            "preferredMiddleName",
        ),
        f(
            MisspeltColumn,
            "users.csv",
            "prefferedFamilyName",
            "preferredFamilyName",
        ),
        f(RaggedRows, "roles.csv", "", ""),
        f(RaggedRows, "userprofiles.csv", "", ""),
    ];
    for col in ["profileType", "vendorId", "credentialType", "username"] {
        want.push(f(MissingRequiredColumn, "userprofiles.csv", col, ""));
    }
    want.sort();
    assert_eq!(fix_findings(&s), want);
    let notes = findings(&s);
    assert!(notes.contains(&f(BlankHeader, "roles.csv", "", "")));
    let ragged = s
        .findings
        .iter()
        .find(|x| x.kind == RaggedRows && x.file.as_deref() == Some("roles.csv"))
        .unwrap_or_else(|| panic!("ragged rows"));
    assert_eq!((ragged.count, ragged.line), (Some(7), Some(2)));
    // A misspelt header is still counted as the column it means.
    assert_eq!(filled(&s, "users.csv", "preferredGivenName").0, 2);
    assert_eq!(
        s.users_by_role,
        roles(&[
            (Role::Guardian, 1),
            (Role::SiteAdministrator, 1),
            (Role::Student, 3),
            (Role::Teacher, 2)
        ])
    );
}

/// Writes a folder export: `(file name, contents)`.
fn folder(files: &[(&str, &[u8])]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    for (name, body) in files {
        std::fs::write(dir.path().join(name), body).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    dir
}

const MANIFEST_11: &[u8] = b"propertyName,value\nmanifest.version,1.0\noneroster.version,1.1\nfile.users,bulk\nfile.orgs,absent\nfile.enrollmets,bulk\nfile.classes,bulk\nsource.systemName,Aeries\n";
const USERS_11: &[u8] = b"sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password\nu1,,,true,o1,student,a,,A,B,,1,,,,,09,\nu2,,,true,o1,teacher,b,,C,D,,2,c@x,,,,,\nu3,,,true,o1,pupil,c,,E,F,,,,,,,,\n";

#[test]
fn manifest_defects_and_stray_files_are_found() {
    let dir = folder(&[
        ("manifest.csv", MANIFEST_11),
        ("users.csv", USERS_11),
        ("orgs.csv", b"sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\no1,,,School,school,,\n"),
        ("courses.csv", b"sourcedId,status,dateLastModified,schoolYearSourcedId,title,courseCode,grades,orgSourcedId,subjects,subjectCodes\n"),
        ("Users.csv", USERS_11),
        ("notes.csv", b"a,b\n1,2\n"),
    ]);
    let s = inspect(dir.path());
    assert_eq!(s.source_system(), "Aeries");
    use FindingKind::*;
    let all = findings(&s);
    for want in [
        f(
            ManifestKeyNamesNoFile,
            "manifest.csv",
            "file.enrollmets",
            "file.enrollments",
        ),
        f(ManifestAbsentFilePresent, "orgs.csv", "", ""),
        f(ManifestFileMissing, "classes.csv", "", ""),
        f(FileNotInManifest, "courses.csv", "", ""),
        f(HeaderOnly, "courses.csv", "", ""),
        f(DuplicateFile, "Users.csv", "", "users.csv"),
        f(UnknownFile, "notes.csv", "", ""),
        f(UnknownRoleValue, "users.csv", "role", ""),
    ] {
        assert!(all.contains(&want), "{want:?} not in {all:#?}");
    }
    // The unknown role is neither counted as a role nor lost.
    assert_eq!(
        s.users_by_role,
        roles(&[(Role::Student, 1), (Role::Teacher, 1)])
    );
    assert_eq!(s.users_without_role, 1);
    // The duplicate in another case is listed but not read as users.csv.
    let dup = s
        .files
        .iter()
        .find(|x| x.name == "Users.csv")
        .unwrap_or_else(|| panic!("Users.csv"));
    assert_eq!(dup.spec_name, None);
}

#[test]
fn a_bom_an_extension_column_and_another_versions_columns_are_noted() {
    let mut users = b"\xEF\xBB\xBF".to_vec();
    users.extend_from_slice(
        b"sourcedId,role,givenName,familyName,preferredGivenName,metadata.lunchPin,favouriteColour\nu1,student,A,B,Al,1234,blue\n",
    );
    let dir = folder(&[
        (
            "manifest.csv",
            b"propertyName,value\noneroster.version,1.1\nfile.users,bulk\n",
        ),
        ("users.csv", &users),
    ]);
    let s = inspect(dir.path());
    use FindingKind::*;
    let all = findings(&s);
    for want in [
        f(Bom, "users.csv", "", ""),
        f(ExtensionColumn, "users.csv", "metadata.lunchPin", ""),
        f(UnknownColumn, "users.csv", "favouriteColour", ""),
        f(VersionMismatch, "users.csv", "", "1.2"),
        f(MissingRequiredColumn, "users.csv", "username", ""),
    ] {
        assert!(all.contains(&want), "{want:?} not in {all:#?}");
    }
    // The BOM is not part of the first header, and the 1.2 column is counted as itself.
    assert_eq!(filled(&s, "users.csv", "sourcedId").0, 1);
    assert_eq!(filled(&s, "users.csv", "preferredGivenName").0, 1);
}

#[test]
fn without_a_manifest_the_version_comes_from_the_files() {
    let dir = folder(&[
        ("users.csv", b"sourcedId,givenName\nu1,A\n"),
        ("roles.csv", b"sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId\nr1,,,u1,primary,student,,,o1,\n"),
    ]);
    let s = inspect(dir.path());
    assert_eq!(s.oneroster_version, Some(OneRosterVersion::V1_2));
    assert!(findings(&s).contains(&f(FindingKind::NoManifest, "", "", "")));
    assert_eq!(s.users_by_role, roles(&[(Role::Student, 1)]));
    assert_eq!(
        filled(&s, "users.csv", "givenName").1,
        roles(&[(Role::Student, 1)])
    );
}

/// A 1.2 export of `n` users: every third a teacher, one in ten with two roles, users.csv
/// filled for some only.
fn export_12(n: usize) -> tempfile::TempDir {
    let mut users = String::from(
        "sourcedId,status,dateLastModified,enabledUser,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password,userMasterIdentifier,preferredGivenName,preferredMiddleName,preferredFamilyName,primaryOrgSourcedId,pronouns\n",
    );
    let mut roles_csv = String::from(
        "sourcedId,status,dateLastModified,userSourcedId,roleType,role,beginDate,endDate,orgSourcedId,userProfileSourcedId\n",
    );
    let mut demo = String::from("sourcedId,status,dateLastModified,birthDate,sex\n");
    for i in 0..n {
        let email = if i % 4 == 0 { "" } else { "x@y" };
        users.push_str(&format!(
            "u{i},,,true,n{i},,G,F,,{i},{email},,,,,,,,,,o1,\n"
        ));
        let role = if i % 3 == 0 { "teacher" } else { "student" };
        roles_csv.push_str(&format!("r{i},,,u{i},primary,{role},,,o1,\n"));
        if i % 10 == 0 {
            roles_csv.push_str(&format!("r{i}b,,,u{i},secondary,guardian,,,o1,\n"));
        }
        if role == "student" {
            let birth = if i % 5 == 0 { "" } else { "2012-01-01" };
            demo.push_str(&format!("u{i},,,{birth},female\n"));
        }
    }
    folder(&[
        ("manifest.csv", b"propertyName,value\noneroster.version,1.2\nfile.users,bulk\nfile.roles,bulk\nfile.demographics,bulk\n"),
        ("users.csv", users.as_bytes()),
        ("roles.csv", roles_csv.as_bytes()),
        ("demographics.csv", demo.as_bytes()),
    ])
}

#[test]
fn an_export_larger_than_the_role_table_is_read_in_partitions_with_the_same_counts() {
    let dir = export_12(500);
    let one = inspect(dir.path());
    // 16 slots take 12 users a pass: 500 users need 64 partitions.
    let small = Limits {
        role_slots: 16,
        ..Limits::default()
    };
    let many = sis::inspect(dir.path(), &small, NOW).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(many.files, one.files);
    assert_eq!(many.users_by_role, one.users_by_role);
    assert_eq!(many.users_without_role, one.users_without_role);
    let teachers = (0..500).filter(|i| i % 3 == 0).count() as u64;
    assert_eq!(
        one.users_by_role,
        roles(&[
            (Role::Guardian, 50),
            (Role::Student, 500 - teachers),
            (Role::Teacher, teachers)
        ])
    );
    let no_email = (0..500).filter(|i| i % 4 == 0 && i % 3 != 0).count() as u64;
    assert_eq!(
        filled(&one, "users.csv", "email").1.get(&Role::Student),
        Some(&(500 - teachers - no_email))
    );
    let students = 500 - teachers;
    let no_birth = (0..500).filter(|i| i % 5 == 0 && i % 3 != 0).count() as u64;
    assert_eq!(
        filled(&one, "demographics.csv", "birthDate")
            .1
            .get(&Role::Student),
        Some(&(students - no_birth))
    );
}

// ---- hostile input ----

fn zip_of(entries: &[(&str, &[u8])]) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("tempdir: {e}"));
    let path = dir.path().join("export.zip");
    let file = std::fs::File::create(&path).unwrap_or_else(|e| panic!("{e}"));
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, body) in entries {
        zip.start_file(*name, opts)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        zip.write_all(body)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    zip.finish().unwrap_or_else(|e| panic!("{e}"));
    (dir, path)
}

fn replace_all(haystack: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    assert_eq!(from.len(), to.len());
    let mut out = haystack.to_vec();
    let mut i = 0;
    let mut found = 0;
    while i + from.len() <= out.len() {
        if &out[i..i + from.len()] == from {
            out[i..i + from.len()].copy_from_slice(to);
            found += 1;
        }
        i += 1;
    }
    assert_eq!(
        found, 2,
        "the name is in the local header and the central directory"
    );
    out
}

#[test]
fn a_zip_bomb_is_refused_before_it_is_inflated() {
    let zeros = vec![b'0'; 48 << 20];
    let (_dir, path) = zip_of(&[("users.csv", &zeros)]);
    let msg = refused(&path);
    assert!(
        msg.contains("users.csv") && msg.contains("zip bomb"),
        "{msg}"
    );
}

#[test]
fn entries_that_leave_the_export_are_refused() {
    for name in ["../users.csv", "/etc/users.csv", "a/../../users.csv"] {
        // The zip writer tidies names; the archive gets the hostile name byte for byte after.
        let stand_in = name.replace('/', "#");
        let (_dir, path) = zip_of(&[
            ("orgs.csv", b"sourcedId\n1\n"),
            (&stand_in, b"sourcedId\n1\n"),
        ]);
        let bytes = std::fs::read(&path).unwrap_or_default();
        let patched = replace_all(&bytes, stand_in.as_bytes(), name.as_bytes());
        std::fs::write(&path, patched).unwrap_or_else(|e| panic!("{e}"));
        let msg = refused(&path);
        assert!(
            msg.contains(name) && msg.contains("leave the export"),
            "{name}: {msg}"
        );
    }
    let dir = folder(&[("orgs.csv", b"sourcedId\n1\n")]);
    let outside = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let target = outside.path().join("secret.csv");
    std::fs::write(&target, b"x\n").unwrap_or_else(|e| panic!("{e}"));
    std::os::unix::fs::symlink(&target, dir.path().join("users.csv"))
        .unwrap_or_else(|e| panic!("{e}"));
    let msg = refused(dir.path());
    assert!(
        msg.contains("users.csv") && msg.contains("leave the export"),
        "{msg}"
    );
}

#[test]
fn a_2_gb_users_csv_is_refused_by_its_size_before_a_byte_is_read() {
    let dir = folder(&[("orgs.csv", b"sourcedId\n1\n")]);
    let big = std::fs::File::create(dir.path().join("users.csv")).unwrap_or_else(|e| panic!("{e}"));
    // Sparse: the size is there, the disk is not used.
    big.set_len(2_000_000_000).unwrap_or_else(|e| panic!("{e}"));
    let msg = refused(dir.path());
    assert!(
        msg.contains("users.csv is 2000000000 bytes") && msg.contains("limit"),
        "{msg}"
    );
    // A file that grows past its limit while it is read is stopped there too.
    let small = Limits {
        people_file_bytes: 100,
        ..Limits::default()
    };
    let dir = folder(&[("users.csv", USERS_11)]);
    let msg = refused_with(dir.path(), &small);
    assert!(
        msg.contains("users.csv") && msg.contains("100-byte limit"),
        "{msg}"
    );
}

#[test]
fn invalid_utf8_and_unbalanced_quotes_name_the_file_line_and_column_and_no_value() {
    let mut bad = USERS_11.to_vec();
    bad.extend_from_slice(b"u4,,,true,o1,student,d,,SECRET\xff\xfeNAME,G,,,,,,,,\n");
    let dir = folder(&[("users.csv", &bad)]);
    let msg = refused(dir.path());
    assert_eq!(
        msg,
        "users.csv:5: column givenName: the value is not UTF-8; have the SIS export in UTF-8"
    );
    let mut open = USERS_11.to_vec();
    open.extend_from_slice(
        b"u4,,,true,o1,student,d,,\"SECRETNAME,G,,,,,,,,\nu5,,,true,o1,student,e,,H,I,,,,,,,,\n",
    );
    let dir = folder(&[("users.csv", &open)]);
    let msg = refused(dir.path());
    assert!(
        msg.starts_with("users.csv:5: a quote opened on this line is never closed"),
        "{msg}"
    );
    assert!(!msg.contains("SECRET"));
    let err = sis::inspect(dir.path(), &Limits::default(), NOW).err();
    assert!(matches!(
        err,
        Some(InspectError::UnbalancedQuote { line: 5, .. })
    ));
}

#[test]
fn a_folder_without_csv_files_or_a_file_that_is_not_a_zip_is_refused_plainly() {
    let dir = folder(&[("readme.txt", b"hello")]);
    assert_eq!(refused(dir.path()), "the export has no CSV file");
    let msg = refused(&dir.path().join("readme.txt"));
    assert!(msg.contains("neither a folder nor a zip file"), "{msg}");
    let msg = refused(&dir.path().join("missing.zip"));
    assert!(msg.starts_with("cannot read"), "{msg}");
}

// ---- privacy ----

/// An export in which every cell holds a marker of its own.
fn marked_export() -> (tempfile::TempDir, Vec<String>) {
    let mut markers = Vec::new();
    let mark = |markers: &mut Vec<String>| {
        let m = format!("QZX{:05}MARK", markers.len());
        markers.push(m.clone());
        m
    };
    let users_head = "sourcedId,status,dateLastModified,enabledUser,orgSourcedIds,role,username,userIds,givenName,familyName,middleName,identifier,email,sms,phone,agentSourcedIds,grades,password";
    let mut users = format!("{users_head}\n");
    for _ in 0..20 {
        let row: Vec<String> = (0..18)
            .map(|c| {
                if c == 5 {
                    "student".to_owned()
                } else {
                    mark(&mut markers)
                }
            })
            .collect();
        users.push_str(&row.join(","));
        users.push('\n');
    }
    let demo_head = "sourcedId,status,dateLastModified,birthDate,sex,americanIndianOrAlaskaNative,asian,blackOrAfricanAmerican,nativeHawaiianOrOtherPacificIslander,white,demographicRaceTwoOrMoreRaces,hispanicOrLatinoEthnicity,countryOfBirthCode,stateOfBirthAbbreviation,cityOfBirth,publicSchoolResidenceStatus";
    let mut demo = format!("{demo_head}\n");
    for _ in 0..20 {
        let row: Vec<String> = (0..16).map(|_| mark(&mut markers)).collect();
        demo.push_str(&row.join(","));
        demo.push('\n');
    }
    let manifest = "propertyName,value\noneroster.version,1.1\nfile.users,bulk\nfile.demographics,bulk\nsource.systemName,Infinite Campus\n";
    let dir = folder(&[
        ("manifest.csv", manifest.as_bytes()),
        ("users.csv", users.as_bytes()),
        ("demographics.csv", demo.as_bytes()),
    ]);
    (dir, markers)
}

#[test]
fn no_cell_value_reaches_the_summary_its_words_or_an_error() {
    let (dir, markers) = marked_export();
    let s = inspect(dir.path());
    assert_eq!(s.file("users.csv").map(|f| f.rows), Some(20));
    assert_eq!(filled(&s, "demographics.csv", "birthDate").0, 20);
    let json = serde_json::to_string(&s).unwrap_or_default();
    let words = sis::render::text(&s);
    for m in &markers {
        assert!(!json.contains(m), "{m} in the summary");
        assert!(!words.contains(m), "{m} in the printed summary");
    }
    // Nor in the message of an export broken in a marked cell.
    let users = std::fs::read(dir.path().join("users.csv")).unwrap_or_default();
    let mut broken = users.clone();
    broken.extend_from_slice(b"QZX99999MARK\xff,\"QZX99998MARK\n");
    std::fs::write(dir.path().join("users.csv"), &broken).unwrap_or_else(|e| panic!("{e}"));
    let msg = refused(dir.path());
    assert!(!msg.contains("QZX"), "{msg}");
}

#[test]
fn a_file_exported_without_its_header_keeps_no_values_as_names() {
    // users.csv's first row is a student, not a header.
    let rows = b"u1,,,true,o1,student,QZXjsmith,,QZXJane,QZXSmith,,1001,QZXjane@district.example,,,,09,\nu2,,,true,o1,teacher,QZXbrown,,QZXAnn,QZXBrown,,1002,,,,,,\n";
    let dir = folder(&[
        (
            "manifest.csv",
            b"propertyName,value\noneroster.version,1.1\nfile.users,bulk\n",
        ),
        ("users.csv", rows),
        ("extra.csv", b"QZXsecret,QZXvalue\nx,y\n"),
    ]);
    let s = inspect(dir.path());
    let json = serde_json::to_string(&s).unwrap_or_default();
    assert!(!json.contains("QZX"), "{json}");
    assert!(!sis::render::text(&s).contains("QZX"));
    let users = s.file("users.csv").unwrap_or_else(|| panic!("users.csv"));
    assert_eq!(users.rows, 2, "the first row is counted as data");
    assert_eq!(users.columns[0].name, "column 1");
    assert!(findings(&s).contains(&f(FindingKind::NoHeader, "users.csv", "", "")));
    let extra = s
        .files
        .iter()
        .find(|x| x.name == "extra.csv")
        .unwrap_or_else(|| panic!("extra.csv"));
    assert_eq!(extra.columns[1].name, "column 2");
}

#[test]
fn a_macs_resource_forks_are_not_the_export() {
    let (_dir, path) = zip_of(&[
        ("export/manifest.csv", b"propertyName,value\noneroster.version,1.1\nfile.orgs,bulk\n"),
        ("export/orgs.csv", b"sourcedId,status,dateLastModified,name,type,identifier,parentSourcedId\no1,,,School,school,,\n"),
        ("__MACOSX/export/._orgs.csv", b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X\xff\xfe"),
    ]);
    let s = inspect(&path);
    let names: Vec<&str> = s.files.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["orgs.csv"],
        "the top folder is looked through, the fork left out"
    );
}

#[test]
fn a_row_that_never_ends_or_an_entry_larger_than_declared_is_refused() {
    let mut long = b"sourcedId,name\no1,".to_vec();
    long.extend(std::iter::repeat_n(b',', 2 << 20));
    let dir = folder(&[("orgs.csv", &long)]);
    let msg = refused(dir.path());
    assert!(
        msg.starts_with("orgs.csv:2: the row starting here runs past"),
        "{msg}"
    );
    // An entry whose header declares 1,000 bytes but inflates to 200,000.
    let body: Vec<u8> = b"sourcedId,name\n"
        .iter()
        .copied()
        .chain((0..20_000).flat_map(|i: u32| format!("o{i:05},n\n").into_bytes()))
        .collect();
    let (_dir, path) = zip_of(&[("orgs.csv", &body)]);
    let mut bytes = std::fs::read(&path).unwrap_or_default();
    let size = (body.len() as u32).to_le_bytes();
    let lie = 1000u32.to_le_bytes();
    let mut patched = 0;
    for i in 0..bytes.len().saturating_sub(4) {
        if bytes[i..i + 4] == size {
            bytes[i..i + 4].copy_from_slice(&lie);
            patched += 1;
        }
    }
    assert_eq!(
        patched, 2,
        "the size is in the local header and the central directory"
    );
    std::fs::write(&path, bytes).unwrap_or_else(|e| panic!("{e}"));
    let msg = refused(&path);
    assert!(msg.contains("orgs.csv"), "{msg}");
    assert!(
        msg.contains("more than the 1000 bytes its zip entry declares")
            || msg.contains("cannot read it"),
        "{msg}"
    );
}
