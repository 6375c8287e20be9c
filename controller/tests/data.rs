//! The data stage: a vendor's data needs against a district's SIS summary — met, partly,
//! missing, not carried, minimisation, a gap in the signed Exhibit B, not assessed — and the
//! Data Projects Form, as goldens in `tests/golden/` (Markdown, CSV, the recommendation's JSON
//! data section) beside assertions on what each case decides.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use fitcheck_controller::present::render;
use fitcheck_controller::types::{NewEvaluation, Proposal};
use fitcheck_core::data::oneroster::{OneRosterVersion, Role};
use fitcheck_core::data::summary::{
    ColumnSummary, Delivery, ExportSource, FileSummary, ManifestSummary, SIS_SUMMARY_SCHEMA,
    SisSummary, SourceKind,
};
use fitcheck_core::evaluate::FixKind;
use fitcheck_core::profile::Profile;
use fitcheck_engine::{
    ConditionKind, DataStatus, ElementStatus, FleetVerdict, Input, Recommendation, recommend,
};

const PRODUCT: &str = include_str!("data/recommend/data-product.toml");
const PRONOUNS: &str = include_str!("data/recommend/data-pronouns.toml");

const STUDENTS: u64 = 1000;
const TEACHERS: u64 = 50;

fn by_role(students: u64, teachers: u64) -> BTreeMap<Role, u64> {
    [(Role::Student, students), (Role::Teacher, teachers)]
        .into_iter()
        .filter(|(_, n)| *n > 0)
        .collect()
}

fn column(name: &str, students: u64, teachers: u64) -> ColumnSummary {
    ColumnSummary {
        name: name.to_owned(),
        spec_name: Some(name.to_owned()),
        filled: students + teachers,
        filled_by_role: by_role(students, teachers),
    }
}

fn file(name: &str, students: u64, teachers: u64, columns: Vec<ColumnSummary>) -> FileSummary {
    FileSummary {
        name: name.to_owned(),
        spec_name: Some(name.to_owned()),
        bytes: 1000,
        rows: students + teachers,
        columns,
        rows_by_role: by_role(students, teachers),
    }
}

/// A 1.1 bulk export from "Aeries": names filled, student numbers missing for 50 students,
/// passwords and phone numbers filled for everyone, no state id, demographics with sex too.
fn summary() -> SisSummary {
    let users = file(
        "users.csv",
        STUDENTS,
        TEACHERS,
        vec![
            column("sourcedId", STUDENTS, TEACHERS),
            column("role", STUDENTS, TEACHERS),
            column("username", STUDENTS, TEACHERS),
            column("givenName", STUDENTS, TEACHERS),
            column("familyName", STUDENTS, TEACHERS),
            column("identifier", STUDENTS - 50, 0),
            column("email", STUDENTS, TEACHERS),
            column("sms", STUDENTS, 0),
            column("password", STUDENTS, TEACHERS),
            column("middleName", 0, 0),
        ],
    );
    let enrollments = FileSummary {
        rows_by_role: by_role(6000, 200),
        ..file(
            "enrollments.csv",
            6000,
            200,
            vec![
                column("sourcedId", 6000, 200),
                column("classSourcedId", 6000, 200),
                column("userSourcedId", 6000, 200),
                column("role", 6000, 200),
            ],
        )
    };
    let demographics = file(
        "demographics.csv",
        STUDENTS,
        0,
        vec![
            column("sourcedId", STUDENTS, 0),
            column("birthDate", STUDENTS, 0),
            column("sex", STUDENTS, 0),
        ],
    );
    let orgs = FileSummary {
        rows_by_role: BTreeMap::new(),
        columns: vec![
            ColumnSummary {
                filled_by_role: BTreeMap::new(),
                ..column("sourcedId", 12, 0)
            },
            ColumnSummary {
                filled_by_role: BTreeMap::new(),
                ..column("name", 12, 0)
            },
        ],
        ..file("orgs.csv", 12, 0, Vec::new())
    };
    SisSummary {
        schema: SIS_SUMMARY_SCHEMA.to_owned(),
        summary_id: uuid::Uuid::from_u128(7),
        generated_at: "2026-12-01T06:00:00Z".to_owned(),
        inspector: "fitcheck-agent 0.1.0".to_owned(),
        source: ExportSource {
            kind: SourceKind::Zip,
            name: "oneroster.zip".to_owned(),
            bytes: 4000,
        },
        oneroster_version: Some(OneRosterVersion::V1_1),
        manifest: Some(ManifestSummary {
            manifest_version: Some("1.0".to_owned()),
            oneroster_version: Some("1.1".to_owned()),
            source_system_name: Some("Aeries".to_owned()),
            source_system_code: None,
            files: BTreeMap::new(),
        }),
        delivery: Some(Delivery::Bulk),
        files: vec![demographics, enrollments, orgs, users],
        users_by_role: by_role(STUDENTS, TEACHERS),
        users_without_role: 0,
        findings: Vec::new(),
    }
}

/// The evaluation: no sites named, the signed Exhibit B's ticks, the data senders' group.
fn spec(dpa: Option<&[&str]>, data_senders: Option<&str>) -> NewEvaluation {
    NewEvaluation {
        title: "Data files".to_owned(),
        profile: "p".to_owned(),
        sites: Vec::new(),
        groups: Vec::new(),
        concurrent_users: BTreeMap::new(),
        window_start: None,
        window_end: "2026-12-05T00:00:00Z".to_owned(),
        bandwidth: None,
        proposal: Proposal {
            dpa_exhibit_b: dpa.map(|d| d.iter().map(|s| (*s).to_owned()).collect()),
            ..Proposal::default()
        },
        min_devices_per_site: 2,
        data_senders: data_senders.map(str::to_owned),
        os_updates_end: BTreeMap::new(),
    }
}

fn write(profile_text: &str, sis: Option<&SisSummary>, dpa: Option<&[&str]>) -> Recommendation {
    let profile = Profile::parse("data.toml", profile_text).unwrap();
    let spec = spec(dpa, None);
    recommend(&Input {
        evaluation_id: "e0000000-0000-4000-8000-0000000000d1",
        title: &spec.title,
        plan: &spec.plan(),
        profile: &profile,
        profile_digest: "sha256:data",
        agents: &[],
        judgements: &[],
        generated_at: "2026-12-06T08:00:00Z",
        sis,
    })
}

fn golden(name: &str, r: &Recommendation) {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden");
    let section = serde_json::to_string_pretty(&r.data).unwrap() + "\n";
    let form = render::data_form_markdown(r).unwrap();
    let csv = render::data_form_csv(r).unwrap();
    for (ext, text) in [("json", section), ("md", form), ("csv", csv)] {
        expect_test::expect_file![dir.join(format!("data-{name}.{ext}"))].assert_eq(&text);
    }
}

const DPA: &[&str] = &[
    "student_name",
    "student_identifiers",
    "student_contact_information",
    "enrollment",
    "schedule",
];

#[test]
fn each_element_is_met_partly_or_missing_with_its_owner() {
    let sis = summary();
    let r = write(PRODUCT, Some(&sis), Some(DPA));
    let d = r.data.as_ref().unwrap();
    assert_eq!(d.status, DataStatus::Assessed);
    let states: Vec<(&str, ElementStatus)> = d
        .elements
        .iter()
        .map(|e| (e.source.as_str(), e.status))
        .collect();
    assert_eq!(
        states,
        [
            ("users.givenName", ElementStatus::Met),
            ("users.familyName", ElementStatus::Met),
            ("users.identifier", ElementStatus::Partly),
            ("users.email", ElementStatus::Met),
            ("users.preferredGivenName", ElementStatus::Missing),
            ("enrollments.role", ElementStatus::Met),
            ("users.metadata.stateId", ElementStatus::Missing),
            ("demographics.birthDate", ElementStatus::Met),
        ]
    );
    let partly = &d.elements[2];
    assert_eq!(partly.fill.len(), 1);
    assert_eq!((partly.fill[0].filled, partly.fill[0].of), (950, 1000));
    let find = |kind: ConditionKind, required: bool| {
        r.conditions
            .iter()
            .find(|c| c.kind == kind && c.required == required)
            .unwrap_or_else(|| panic!("no {kind:?} required={required}: {:#?}", r.conditions))
    };
    let complete = find(ConditionKind::DataComplete, true);
    assert_eq!(complete.owner, "SIS liaison");
    assert_eq!(complete.fix, FixKind::ChangeExport);
    assert_eq!(
        complete.items,
        ["users.identifier — empty for 50 of 1000 students"]
    );
    let add = find(ConditionKind::DataAdd, true);
    assert!(add.owner.starts_with("SIS provider"));
    assert_eq!(add.items, ["users.metadata.stateId"]);
    let optional = find(ConditionKind::DataAdd, false);
    assert_eq!(optional.items, ["users.preferredGivenName"]);
    assert!(
        optional.action.contains("exist only in OneRoster 1.2"),
        "{}",
        optional.action
    );
    // The header-only file the vendor requires is not in the export.
    let format = find(ConditionKind::DataFormat, true);
    assert_eq!(format.items, ["courses.csv"]);
    // Names and numbers are the vendor's; passwords, text numbers and sex are not.
    let minimise = find(ConditionKind::DataMinimise, true);
    assert_eq!(minimise.owner, "SIS liaison");
    assert_eq!(
        minimise.items,
        [
            "demographics.csv: sex",
            "users.csv: username, sms, password"
        ]
    );
    // The agreement covers names, identifiers, contact, enrollment and schedule: not the date
    // of birth.
    let dpa = find(ConditionKind::DataAgreement, true);
    assert_eq!(dpa.owner, "data privacy officer");
    assert_eq!(dpa.fix, FixKind::Agreement);
    assert_eq!(
        dpa.items,
        ["demographics.birthDate (Demographics: Date of Birth)"]
    );
    assert!(d.sensitive_categories.contains(&"Demographics".to_owned()));
    assert_eq!(
        r.verdict,
        FleetVerdict::InsufficientEvidence,
        "no device reported"
    );
    golden("conditions", &r);
}

#[test]
fn everything_met_and_covered_leaves_no_data_action() {
    let mut sis = summary();
    for f in &mut sis.files {
        if f.name == "users.csv" {
            f.columns
                .retain(|c| !matches!(c.name.as_str(), "sms" | "password" | "username"));
            for c in &mut f.columns {
                if c.name == "identifier" {
                    *c = column("identifier", STUDENTS, 0);
                }
            }
            f.columns.push(column("preferredGivenName", STUDENTS, 0));
            f.columns.push(ColumnSummary {
                spec_name: None,
                ..column("metadata.stateId", STUDENTS, 0)
            });
        }
        if f.name == "demographics.csv" {
            f.columns.retain(|c| c.name != "sex");
        }
    }
    // An extension column is read by its header.
    for f in &mut sis.files {
        for c in &mut f.columns {
            if c.name == "metadata.stateId" {
                c.spec_name = Some("metadata.stateId".to_owned());
            }
        }
    }
    sis.files
        .push(file("courses.csv", 0, 0, vec![column("sourcedId", 0, 0)]));
    sis.oneroster_version = Some(OneRosterVersion::V1_2);
    let mut dpa = DPA.to_vec();
    dpa.push("demographics.date_of_birth");
    let r = write(PRODUCT, Some(&sis), Some(&dpa));
    let d = r.data.as_ref().unwrap();
    let data: Vec<_> = r.conditions.iter().filter(|c| render::is_data(c)).collect();
    assert_eq!(data, Vec::<&fitcheck_engine::Condition>::new());
    assert!(
        d.elements.iter().all(|e| e.status == ElementStatus::Met),
        "{:#?}",
        d.elements
    );
    // An enrollment's role and a teacher's e-mail are no student data; the rest is, and
    // covered.
    for e in &d.elements {
        let want = !matches!(e.source.as_str(), "enrollments.role" | "users.email");
        let want = want.then_some(true);
        assert_eq!(e.dpa_covered, want, "{}", e.source);
    }
    assert!(
        d.summary.starts_with("8 of 8 element(s) met"),
        "{}",
        d.summary
    );
}

#[test]
fn a_required_element_the_vendors_format_cannot_carry_makes_it_not_compatible() {
    let sis = summary();
    let r = write(PRONOUNS, Some(&sis), None);
    assert_eq!(r.verdict, FleetVerdict::NotCompatible);
    assert_eq!(r.blockers.len(), 1);
    assert_eq!(r.blockers[0].requirement.to_string(), "data.elements[1]");
    assert!(
        r.blockers[0].reason.contains("OneRoster CSV 1.1"),
        "{}",
        r.blockers[0].reason
    );
    let d = r.data.as_ref().unwrap();
    assert_eq!(d.elements[1].status, ElementStatus::NotCarried);
    // No agreement recorded: the privacy officer is asked for one.
    let dpa = r
        .conditions
        .iter()
        .find(|c| c.kind == ConditionKind::DataAgreement)
        .unwrap();
    assert!(dpa.required && dpa.action.starts_with("Obtain the vendor's signed"));
    golden("not-carried", &r);
}

#[test]
fn without_a_summary_the_data_part_is_not_assessed_and_says_what_to_do() {
    let r = write(PRODUCT, None, None);
    let d = r.data.as_ref().unwrap();
    assert_eq!(d.status, DataStatus::NotAssessed);
    assert!(
        d.summary.contains("fitcheck-agent sis inspect"),
        "{}",
        d.summary
    );
    assert!(
        d.elements
            .iter()
            .all(|e| e.status == ElementStatus::NotAssessed),
        "{:#?}",
        d.elements
    );
    assert!(
        r.summary.contains("The data part is not assessed"),
        "{}",
        r.summary
    );
    // The verdict waits for it: the committee is not told "compatible" on half the question.
    assert!(
        r.gaps
            .iter()
            .any(|g| g.contains("SIS export is not summarised")),
        "{:?}",
        r.gaps
    );
    // Nothing about the export is asked before it is seen; the agreement is.
    let kinds: Vec<ConditionKind> = r
        .conditions
        .iter()
        .filter(|c| render::is_data(c))
        .map(|c| c.kind)
        .collect();
    assert_eq!(kinds, [ConditionKind::DataAgreement]);
    golden("not-assessed", &r);
}

#[test]
fn a_product_without_data_needs_has_no_data_section_or_form() {
    let text = "format = 1\nid = \"x\"\nname = \"X\"\nvendor = \"V\"\nreviewed = \"2026-12-01\"\nsources = [\"https://v.example/\"]\n[[dns]]\nname = \"v.example\"\n";
    let r = write(text, Some(&summary()), None);
    assert!(r.data.is_none());
    assert!(render::data_form_markdown(&r).is_none());
    assert!(!render::markdown(&r).contains("## Data files"));
}

#[test]
fn a_form_cell_that_reads_as_a_formula_stays_text() {
    let text = PRODUCT.replace("Student Number", "=HYPERLINK(\\\"http://x\\\")");
    let r = write(&text, Some(&summary()), Some(DPA));
    let csv = render::data_form_csv(&r).unwrap();
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
}

/// A sending machine's judgement: the transfer path only.
fn sender(
    n: u32,
    site: &str,
    status: fitcheck_core::evaluate::Status,
    observed: &str,
) -> fitcheck_engine::Judgement {
    fitcheck_engine::Judgement {
        version: fitcheck_engine::JUDGEMENT_VERSION,
        profile_digest: "sha256:data".to_owned(),
        report_id: format!("019ab3c2-5d10-7000-8000-{n:012}"),
        agent_id: format!("00000000-0000-4000-8000-{n:012}"),
        site: site.to_owned(),
        received_at_ms: 1_000,
        model: "SIS server".to_owned(),
        device: format!("agent {n}"),
        agent_version: "0.1.0".to_owned(),
        kind: Default::default(),
        os_family: None,
        outcomes: Vec::new(),
        bandwidth: None,
        notes: Vec::new(),
        transfer: Some(fitcheck_engine::Judged {
            status,
            observed: observed.to_owned(),
            remedy: None,
            fix: None,
            cause: None,
        }),
    }
}

#[test]
fn the_transfer_path_is_judged_per_sending_machine_and_never_counted_as_a_device() {
    use fitcheck_core::evaluate::Status;
    let profile = Profile::parse("data.toml", PRODUCT).unwrap();
    let mut spec = spec(None, Some("sis"));
    let judgements = [
        sender(
            1,
            "north",
            Status::Pass,
            "an SSH server answered (SSH-2.0-OpenSSH_9.2p1)",
        ),
        sender(
            2,
            "south",
            Status::Fail,
            "no answer: no answer within 5 s (dropped)",
        ),
    ];
    let sis = summary();
    let write = |spec: &NewEvaluation| {
        recommend(&Input {
            evaluation_id: "e0000000-0000-4000-8000-0000000000d2",
            title: &spec.title,
            plan: &spec.plan(),
            profile: &profile,
            profile_digest: "sha256:data",
            agents: &[],
            judgements: &judgements,
            generated_at: "2026-12-06T08:00:00Z",
            sis: Some(&sis),
        })
    };
    let r = write(&spec);
    assert!(r.coverage.is_empty(), "{:?}", r.coverage);
    assert!(r.device_models.is_empty(), "{:?}", r.device_models);
    let t = r.data.as_ref().unwrap().transfer.as_ref().unwrap();
    assert_eq!(t.status, Status::Fail);
    assert_eq!(t.observed, "reached from 1 of 2 sending machine(s)");
    assert_eq!(t.machines.len(), 2);
    let open = r
        .conditions
        .iter()
        .find(|c| {
            c.requirements
                .contains(&fitcheck_core::requirement::RequirementId::DataEndpoint)
        })
        .unwrap();
    assert_eq!(open.kind, ConditionKind::FirewallRule);
    assert_eq!(open.owner, "network operations");
    assert!(open.required);
    assert_eq!(open.sites, ["south"]);
    assert_eq!(open.evidence.len(), 1);
    assert_eq!(open.evidence[0].site, "south");
    // No group named: said so, and nothing to open.
    spec.data_senders = None;
    let r = write(&spec);
    let t = r.data.as_ref().unwrap().transfer.as_ref().unwrap();
    assert_eq!(
        t.status,
        Status::Fail,
        "the machines that did report still count"
    );
    spec.data_senders = Some("sis".to_owned());
    let none: [fitcheck_engine::Judgement; 0] = [];
    let r = recommend(&Input {
        evaluation_id: "e",
        title: "t",
        plan: &spec.plan(),
        profile: &profile,
        profile_digest: "sha256:data",
        agents: &[],
        judgements: &none,
        generated_at: "2026-12-06T08:00:00Z",
        sis: Some(&sis),
    });
    let t = r.data.as_ref().unwrap().transfer.as_ref().unwrap();
    assert!(
        r.gaps.iter().any(|g| g.starts_with(
            "the transfer path to sftp://sftp.vendor.example:22/roster is not checked"
        )),
        "{:?}",
        r.gaps
    );
    assert_eq!(t.status, Status::Unknown);
    assert_eq!(
        t.observed,
        "not checked yet: no agent of the group \"sis\" has reported"
    );
}
