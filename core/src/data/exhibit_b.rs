//! The Student Data Privacy Consortium's National Data Privacy Agreement (NDPA), Exhibit B
//! "Schedule of Data": its categories and elements as printed, in its order, and the
//! element each OneRoster CSV column's values belong to.
//!
//! The schedule is the NDPA's Standard Version 1.0/1.0a, the one districts sign most (states'
//! DPAs that copy it share its rows); its wording was checked against published copies and
//! signed agreements (see [`SOURCES`]). No text of a later NDPA (2.x) was available to check,
//! so a row only a later version adds is not here. The closing "None" row ("No Student Data
//! collected at this time") is a declaration, not a kind of data, and is not an element.
//!
//! # Which element a column belongs to
//!
//! [`for_column`] answers for rows about students: a column maps to the element its values
//! would be, read as a fact about the student the row is about. So:
//!
//! - Files whose rows are about one user each (users, demographics, roles, userProfiles,
//!   enrollments, results, userResources, and resultLearningObjectiveIds' scores) map their
//!   data columns. A reference to the user (`userSourcedId`, `studentSourcedId`, the user
//!   files' own `sourcedId`) is a district-assigned identifier of the student: Local ID.
//! - classes.csv describes the sections students sit in; joined with enrollments, its title,
//!   code, periods, location and terms are what the student's timetable shows, so they map to
//!   "Student scheduled courses" (its school to "Student school enrollment").
//! - The school's own catalogue and set-up (academicSessions, categories, courses, orgs,
//!   resources and their links, lineItems, scoreScales and their links) carry no student data:
//!   `None`.
//! - `sourcedId` of a file not about one user, and `status` and `dateLastModified` of every
//!   file, describe the record's delivery, not a student: `None`.
//! - A column that only says what kind of row it is (`role`, `roleType`, `primary`) or names
//!   another party (`vendorId`, `lineItemSourcedId`) is `None`; the facts are in the columns
//!   beside it.
//!
//! Every column of both bindings has a row in one table, `Some` element or explicit `None`;
//! a test holds that nothing is left out. Decisions the schedule leaves open are noted on
//! their rows.

use serde::{Deserialize, Serialize};

use super::oneroster::{self, OneRosterVersion};

// Short enough that each row of the element table fits a line or three.
use Category as C;

/// Where the schedule comes from: its publisher, then the copies its wording was checked
/// against.
pub const SOURCES: &[&str] = &[
    // The SDPC's page for the NDPA and its exhibits.
    "https://privacy.a4l.org/national-dpa/",
    // NDPA Standard Version 1.0 (Version 1r7), as published.
    "https://vdocuments.net/ndpa-standard-version-10-insert-school-district-or-.html",
    // Exhibit B of signed NDPA-form agreements: the rows' wording as printed.
    "https://lawinsider.com/clause/description-of-services/_5",
    "https://www.markettransfer.info/clause/system-users/_6",
    // 1EdTech OneRoster CSV bindings, for the columns mapped.
    "https://www.imsglobal.org/oneroster-v11-final-csv-tables",
    "https://www.imsglobal.org/spec/oneroster/v1p2/bind/csv",
];

/// A category of the NDPA Exhibit B schedule of data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// Application Technology Meta Data.
    ApplicationTechnologyMetaData,
    /// Application Use Statistics.
    ApplicationUseStatistics,
    /// Assessment.
    Assessment,
    /// Attendance.
    Attendance,
    /// Communications.
    Communications,
    /// Conduct.
    Conduct,
    /// Demographics.
    Demographics,
    /// Enrollment.
    Enrollment,
    /// Parent/Guardian Contact Information.
    ParentGuardianContactInformation,
    /// Parent/Guardian ID.
    ParentGuardianId,
    /// Parent/Guardian Name.
    ParentGuardianName,
    /// Schedule.
    Schedule,
    /// Special Indicator.
    SpecialIndicator,
    /// Student Contact Information.
    StudentContactInformation,
    /// Student Identifiers.
    StudentIdentifiers,
    /// Student Name: a category of its own in Exhibit B (first and/or last).
    StudentName,
    /// Student In App Performance.
    StudentInAppPerformance,
    /// Student Program Membership.
    StudentProgramMembership,
    /// Student Survey Responses.
    StudentSurveyResponses,
    /// Student work.
    StudentWork,
    /// Transcript.
    Transcript,
    /// Transportation.
    Transportation,
    /// Other: data the schedule's rows do not name.
    Other,
}

impl Category {
    /// Every category, in Exhibit B's order (which is also the derived order).
    pub const ALL: [Category; 23] = [
        Category::ApplicationTechnologyMetaData,
        Category::ApplicationUseStatistics,
        Category::Assessment,
        Category::Attendance,
        Category::Communications,
        Category::Conduct,
        Category::Demographics,
        Category::Enrollment,
        Category::ParentGuardianContactInformation,
        Category::ParentGuardianId,
        Category::ParentGuardianName,
        Category::Schedule,
        Category::SpecialIndicator,
        Category::StudentContactInformation,
        Category::StudentIdentifiers,
        Category::StudentName,
        Category::StudentInAppPerformance,
        Category::StudentProgramMembership,
        Category::StudentSurveyResponses,
        Category::StudentWork,
        Category::Transcript,
        Category::Transportation,
        Category::Other,
    ];

    /// The category as printed in Exhibit B, e.g. "Parent/Guardian Contact Information".
    pub fn title(self) -> &'static str {
        match self {
            Category::ApplicationTechnologyMetaData => "Application Technology Meta Data",
            Category::ApplicationUseStatistics => "Application Use Statistics",
            Category::Assessment => "Assessment",
            Category::Attendance => "Attendance",
            Category::Communications => "Communications",
            Category::Conduct => "Conduct",
            Category::Demographics => "Demographics",
            Category::Enrollment => "Enrollment",
            Category::ParentGuardianContactInformation => "Parent/Guardian Contact Information",
            Category::ParentGuardianId => "Parent/Guardian ID",
            Category::ParentGuardianName => "Parent/Guardian Name",
            Category::Schedule => "Schedule",
            Category::SpecialIndicator => "Special Indicator",
            Category::StudentContactInformation => "Student Contact Information",
            Category::StudentIdentifiers => "Student Identifiers",
            Category::StudentName => "Student Name",
            Category::StudentInAppPerformance => "Student In App Performance",
            Category::StudentProgramMembership => "Student Program Membership",
            Category::StudentSurveyResponses => "Student Survey Responses",
            Category::StudentWork => "Student work",
            Category::Transcript => "Transcript",
            Category::Transportation => "Transportation",
            Category::Other => "Other",
        }
    }

    /// The serde name, e.g. `parent_guardian_contact_information`: the prefix of its
    /// elements' ids.
    pub fn slug(self) -> &'static str {
        match self {
            Category::ApplicationTechnologyMetaData => "application_technology_meta_data",
            Category::ApplicationUseStatistics => "application_use_statistics",
            Category::Assessment => "assessment",
            Category::Attendance => "attendance",
            Category::Communications => "communications",
            Category::Conduct => "conduct",
            Category::Demographics => "demographics",
            Category::Enrollment => "enrollment",
            Category::ParentGuardianContactInformation => "parent_guardian_contact_information",
            Category::ParentGuardianId => "parent_guardian_id",
            Category::ParentGuardianName => "parent_guardian_name",
            Category::Schedule => "schedule",
            Category::SpecialIndicator => "special_indicator",
            Category::StudentContactInformation => "student_contact_information",
            Category::StudentIdentifiers => "student_identifiers",
            Category::StudentName => "student_name",
            Category::StudentInAppPerformance => "student_in_app_performance",
            Category::StudentProgramMembership => "student_program_membership",
            Category::StudentSurveyResponses => "student_survey_responses",
            Category::StudentWork => "student_work",
            Category::Transcript => "transcript",
            Category::Transportation => "transportation",
            Category::Other => "other",
        }
    }

    /// The category whose slug is exactly `slug`.
    pub fn parse(slug: &str) -> Option<Self> {
        Category::ALL.into_iter().find(|c| c.slug() == slug)
    }

    /// The categories a district's data privacy officer reviews first: Special Indicator,
    /// Demographics, Student Contact Information (and app passwords at element level, see
    /// [`Element::sensitive`]).
    pub fn sensitive(self) -> bool {
        matches!(
            self,
            Category::SpecialIndicator
                | Category::Demographics
                | Category::StudentContactInformation
        )
    }
}

/// An element of Exhibit B.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element {
    /// Stable id: `<category slug>.<element slug>`, e.g. "demographics.date_of_birth",
    /// "student_identifiers.app_password".
    pub id: &'static str,
    /// The category it is printed under.
    pub category: Category,
    /// As printed in Exhibit B.
    pub title: &'static str,
}

/// The one element outside the sensitive categories that is reviewed first: a password lets
/// whoever holds it act as the student.
const APP_PASSWORD: &str = "student_identifiers.app_password";

impl Element {
    /// Whether a data privacy officer reviews it first: its category is sensitive, or it is
    /// the student app passwords element.
    pub fn sensitive(&self) -> bool {
        self.category.sensitive() || self.id == APP_PASSWORD
    }
}

const fn el(id: &'static str, category: Category, title: &'static str) -> Element {
    Element {
        id,
        category,
        title,
    }
}

/// Every element of every category in Exhibit B's order, each category's "Other …" element
/// included.
pub static ELEMENTS: &[Element] = &[
    el(
        "application_technology_meta_data.ip_addresses_cookies",
        C::ApplicationTechnologyMetaData,
        "IP Addresses of users, Use of cookies, etc.",
    ),
    el(
        "application_technology_meta_data.other",
        C::ApplicationTechnologyMetaData,
        "Other application technology meta data-Please specify:",
    ),
    el(
        "application_use_statistics.user_interaction",
        C::ApplicationUseStatistics,
        "Meta data on user interaction with application",
    ),
    el(
        "assessment.standardized_test_scores",
        C::Assessment,
        "Standardized test scores",
    ),
    el(
        "assessment.observation_data",
        C::Assessment,
        "Observation data",
    ),
    el(
        "assessment.other",
        C::Assessment,
        "Other assessment data-Please specify:",
    ),
    el(
        "attendance.school_daily_attendance",
        C::Attendance,
        "Student school (daily) attendance data",
    ),
    el(
        "attendance.class_attendance",
        C::Attendance,
        "Student class attendance data",
    ),
    el(
        "communications.online_communications",
        C::Communications,
        "Online communications captured (emails, blog entries)",
    ),
    el(
        "conduct.conduct_or_behavioral_data",
        C::Conduct,
        "Conduct or behavioral data",
    ),
    el(
        "demographics.date_of_birth",
        C::Demographics,
        "Date of Birth",
    ),
    el(
        "demographics.place_of_birth",
        C::Demographics,
        "Place of Birth",
    ),
    el("demographics.gender", C::Demographics, "Gender"),
    el(
        "demographics.ethnicity_or_race",
        C::Demographics,
        "Ethnicity or race",
    ),
    el(
        "demographics.language",
        C::Demographics,
        "Language information (native, or primary language spoken by student)",
    ),
    el(
        "demographics.other",
        C::Demographics,
        "Other demographic information-Please specify:",
    ),
    el(
        "enrollment.school_enrollment",
        C::Enrollment,
        "Student school enrollment",
    ),
    el(
        "enrollment.grade_level",
        C::Enrollment,
        "Student grade level",
    ),
    el("enrollment.homeroom", C::Enrollment, "Homeroom"),
    el(
        "enrollment.guidance_counselor",
        C::Enrollment,
        "Guidance counselor",
    ),
    el(
        "enrollment.curriculum_programs",
        C::Enrollment,
        "Specific curriculum programs",
    ),
    el(
        "enrollment.year_of_graduation",
        C::Enrollment,
        "Year of graduation",
    ),
    el(
        "enrollment.other",
        C::Enrollment,
        "Other enrollment information-Please specify:",
    ),
    el(
        "parent_guardian_contact_information.address",
        C::ParentGuardianContactInformation,
        "Address",
    ),
    el(
        "parent_guardian_contact_information.email",
        C::ParentGuardianContactInformation,
        "Email",
    ),
    el(
        "parent_guardian_contact_information.phone",
        C::ParentGuardianContactInformation,
        "Phone",
    ),
    el(
        "parent_guardian_id.parent_id_number",
        C::ParentGuardianId,
        "Parent ID number (created to link parents to students)",
    ),
    el(
        "parent_guardian_name.first_and_or_last",
        C::ParentGuardianName,
        "First and/or Last",
    ),
    el(
        "schedule.scheduled_courses",
        C::Schedule,
        "Student scheduled courses",
    ),
    el("schedule.teacher_names", C::Schedule, "Teacher names"),
    el(
        "special_indicator.english_language_learner",
        C::SpecialIndicator,
        "English language learner information",
    ),
    el(
        "special_indicator.low_income_status",
        C::SpecialIndicator,
        "Low income status",
    ),
    el(
        "special_indicator.medical_health",
        C::SpecialIndicator,
        "Medical alerts/ health data",
    ),
    el(
        "special_indicator.disability",
        C::SpecialIndicator,
        "Student disability information",
    ),
    el(
        "special_indicator.specialized_education_services",
        C::SpecialIndicator,
        "Specialized education services (IEP or 504)",
    ),
    el(
        "special_indicator.living_situations",
        C::SpecialIndicator,
        "Living situations (homeless/foster care)",
    ),
    el(
        "special_indicator.other",
        C::SpecialIndicator,
        "Other indicator information-Please specify:",
    ),
    el(
        "student_contact_information.address",
        C::StudentContactInformation,
        "Address",
    ),
    el(
        "student_contact_information.email",
        C::StudentContactInformation,
        "Email",
    ),
    el(
        "student_contact_information.phone",
        C::StudentContactInformation,
        "Phone",
    ),
    el(
        "student_identifiers.local_id",
        C::StudentIdentifiers,
        "Local (School district) ID number",
    ),
    el(
        "student_identifiers.state_id",
        C::StudentIdentifiers,
        "State ID number",
    ),
    el(
        "student_identifiers.provider_app_id",
        C::StudentIdentifiers,
        "Provider/App assigned student ID number",
    ),
    el(
        "student_identifiers.app_username",
        C::StudentIdentifiers,
        "Student app username",
    ),
    el(APP_PASSWORD, C::StudentIdentifiers, "Student app passwords"),
    el(
        "student_name.first_and_or_last",
        C::StudentName,
        "First and/or Last",
    ),
    el(
        "student_in_app_performance.program_performance",
        C::StudentInAppPerformance,
        "Program/application performance (typing program-student types 60 wpm, reading program-student reads below grade level)",
    ),
    el(
        "student_program_membership.activities",
        C::StudentProgramMembership,
        "Academic or extracurricular activities a student may belong to or participate in",
    ),
    el(
        "student_survey_responses.survey_responses",
        C::StudentSurveyResponses,
        "Student responses to surveys or questionnaires",
    ),
    el(
        "student_work.generated_content",
        C::StudentWork,
        "Student generated content; writing, pictures, etc.",
    ),
    el(
        "student_work.other",
        C::StudentWork,
        "Other student work data -Please specify:",
    ),
    el(
        "transcript.course_grades",
        C::Transcript,
        "Student course grades",
    ),
    el(
        "transcript.course_data",
        C::Transcript,
        "Student course data",
    ),
    el(
        "transcript.performance_scores",
        C::Transcript,
        "Student course grades/ performance scores",
    ),
    el(
        "transcript.other",
        C::Transcript,
        "Other transcript data - Please specify:",
    ),
    el(
        "transportation.bus_assignment",
        C::Transportation,
        "Student bus assignment",
    ),
    el(
        "transportation.pick_up_drop_off_location",
        C::Transportation,
        "Student pick up and/or drop off location",
    ),
    el(
        "transportation.bus_card_id",
        C::Transportation,
        "Student bus card ID number",
    ),
    el(
        "transportation.other",
        C::Transportation,
        "Other transportation data - Please specify:",
    ),
    el(
        "other.other",
        C::Other,
        "Please list each additional data element used, stored, or collected by your application:",
    ),
];

/// The element whose id is exactly `id`.
pub fn element(id: &str) -> Option<&'static Element> {
    ELEMENTS.iter().find(|e| e.id == id)
}

// Element ids the column table names more than once.
const LOCAL_ID: &str = "student_identifiers.local_id";
const SCHEDULED: &str = "schedule.scheduled_courses";
const SCHOOL: &str = "enrollment.school_enrollment";
const NAME: &str = "student_name.first_and_or_last";
const SCORE: &str = "transcript.performance_scores";

/// (file stem, column, element id) for every column of both bindings. One row serves both
/// versions where a column exists in both: its meaning did not change.
static COLUMNS: &[(&str, &str, Option<&str>)] = &[
    // The school year's calendar.
    ("academicSessions", "sourcedId", None),
    ("academicSessions", "status", None),
    ("academicSessions", "dateLastModified", None),
    ("academicSessions", "title", None),
    ("academicSessions", "type", None),
    ("academicSessions", "startDate", None),
    ("academicSessions", "endDate", None),
    ("academicSessions", "parentSourcedId", None),
    ("academicSessions", "schoolYear", None),
    // Gradebook categories.
    ("categories", "sourcedId", None),
    ("categories", "status", None),
    ("categories", "dateLastModified", None),
    ("categories", "title", None),
    ("categories", "weight", None),
    // The sections students sit in: their timetable once joined with enrollments.
    ("classes", "sourcedId", None),
    ("classes", "status", None),
    ("classes", "dateLastModified", None),
    ("classes", "title", Some(SCHEDULED)),
    ("classes", "grades", Some(SCHEDULED)),
    ("classes", "courseSourcedId", Some(SCHEDULED)),
    ("classes", "classCode", Some(SCHEDULED)),
    ("classes", "classType", Some(SCHEDULED)),
    ("classes", "location", Some(SCHEDULED)),
    // The school a student's class is at is the school the student is enrolled in.
    ("classes", "schoolSourcedId", Some(SCHOOL)),
    ("classes", "termSourcedIds", Some(SCHEDULED)),
    ("classes", "subjects", Some(SCHEDULED)),
    ("classes", "subjectCodes", Some(SCHEDULED)),
    ("classes", "periods", Some(SCHEDULED)),
    ("classResources", "sourcedId", None),
    ("classResources", "status", None),
    ("classResources", "dateLastModified", None),
    ("classResources", "title", None),
    ("classResources", "classSourcedId", None),
    ("classResources", "resourceSourcedId", None),
    // The course catalogue: what the school offers, not what a student takes.
    ("courses", "sourcedId", None),
    ("courses", "status", None),
    ("courses", "dateLastModified", None),
    ("courses", "schoolYearSourcedId", None),
    ("courses", "title", None),
    ("courses", "courseCode", None),
    ("courses", "grades", None),
    ("courses", "orgSourcedId", None),
    ("courses", "subjects", None),
    ("courses", "subjectCodes", None),
    ("courseResources", "sourcedId", None),
    ("courseResources", "status", None),
    ("courseResources", "dateLastModified", None),
    ("courseResources", "title", None),
    ("courseResources", "courseSourcedId", None),
    ("courseResources", "resourceSourcedId", None),
    // One row per user, keyed by the user's sourcedId.
    ("demographics", "sourcedId", Some(LOCAL_ID)),
    ("demographics", "status", None),
    ("demographics", "dateLastModified", None),
    (
        "demographics",
        "birthDate",
        Some("demographics.date_of_birth"),
    ),
    ("demographics", "sex", Some("demographics.gender")),
    (
        "demographics",
        "americanIndianOrAlaskaNative",
        Some("demographics.ethnicity_or_race"),
    ),
    (
        "demographics",
        "asian",
        Some("demographics.ethnicity_or_race"),
    ),
    (
        "demographics",
        "blackOrAfricanAmerican",
        Some("demographics.ethnicity_or_race"),
    ),
    (
        "demographics",
        "nativeHawaiianOrOtherPacificIslander",
        Some("demographics.ethnicity_or_race"),
    ),
    (
        "demographics",
        "white",
        Some("demographics.ethnicity_or_race"),
    ),
    (
        "demographics",
        "demographicRaceTwoOrMoreRaces",
        Some("demographics.ethnicity_or_race"),
    ),
    (
        "demographics",
        "hispanicOrLatinoEthnicity",
        Some("demographics.ethnicity_or_race"),
    ),
    (
        "demographics",
        "countryOfBirthCode",
        Some("demographics.place_of_birth"),
    ),
    (
        "demographics",
        "stateOfBirthAbbreviation",
        Some("demographics.place_of_birth"),
    ),
    (
        "demographics",
        "cityOfBirth",
        Some("demographics.place_of_birth"),
    ),
    // Where the student legally resides relative to the school's district (resident of the
    // attendance area, of another district, of another state). It is not homelessness or
    // foster care, so not "Living situations"; the binding files it as a PII-sensitive
    // demographic, and so does this table.
    (
        "demographics",
        "publicSchoolResidenceStatus",
        Some("demographics.other"),
    ),
    // A student's place in a class: the class is the fact, the dates bound it.
    ("enrollments", "sourcedId", None),
    ("enrollments", "status", None),
    ("enrollments", "dateLastModified", None),
    ("enrollments", "classSourcedId", Some(SCHEDULED)),
    ("enrollments", "schoolSourcedId", Some(SCHOOL)),
    ("enrollments", "userSourcedId", Some(LOCAL_ID)),
    ("enrollments", "role", None),
    ("enrollments", "primary", None),
    ("enrollments", "beginDate", Some(SCHEDULED)),
    ("enrollments", "endDate", Some(SCHEDULED)),
    ("lineItemLearningObjectiveIds", "sourcedId", None),
    ("lineItemLearningObjectiveIds", "status", None),
    ("lineItemLearningObjectiveIds", "dateLastModified", None),
    ("lineItemLearningObjectiveIds", "lineItemSourcedId", None),
    ("lineItemLearningObjectiveIds", "source", None),
    ("lineItemLearningObjectiveIds", "learningObjectiveId", None),
    // Assignments as the teacher sets them; a student's mark is in results.
    ("lineItems", "sourcedId", None),
    ("lineItems", "status", None),
    ("lineItems", "dateLastModified", None),
    ("lineItems", "title", None),
    ("lineItems", "description", None),
    ("lineItems", "assignDate", None),
    ("lineItems", "dueDate", None),
    ("lineItems", "classSourcedId", None),
    ("lineItems", "categorySourcedId", None),
    ("lineItems", "gradingPeriodSourcedId", None),
    ("lineItems", "academicSessionSourcedId", None),
    ("lineItems", "resultValueMin", None),
    ("lineItems", "resultValueMax", None),
    ("lineItems", "schoolSourcedId", None),
    ("lineItemScoreScales", "sourcedId", None),
    ("lineItemScoreScales", "status", None),
    ("lineItemScoreScales", "dateLastModified", None),
    ("lineItemScoreScales", "title", None),
    ("lineItemScoreScales", "lineItemSourcedId", None),
    ("lineItemScoreScales", "scoreScaleSourcedId", None),
    ("orgs", "sourcedId", None),
    ("orgs", "status", None),
    ("orgs", "dateLastModified", None),
    ("orgs", "name", None),
    ("orgs", "type", None),
    ("orgs", "identifier", None),
    ("orgs", "parentSourcedId", None),
    ("resources", "sourcedId", None),
    ("resources", "status", None),
    ("resources", "dateLastModified", None),
    ("resources", "vendorResourceId", None),
    ("resources", "title", None),
    ("resources", "roles", None),
    ("resources", "importance", None),
    ("resources", "vendorId", None),
    ("resources", "applicationId", None),
    // A student's scores against learning standards, per result.
    ("resultLearningObjectiveIds", "sourcedId", None),
    ("resultLearningObjectiveIds", "status", None),
    ("resultLearningObjectiveIds", "dateLastModified", None),
    ("resultLearningObjectiveIds", "resultSourcedId", None),
    ("resultLearningObjectiveIds", "source", None),
    ("resultLearningObjectiveIds", "learningObjectiveId", None),
    ("resultLearningObjectiveIds", "score", Some(SCORE)),
    ("resultLearningObjectiveIds", "textScore", Some(SCORE)),
    // A student's gradebook mark on one assignment of a class: a course grade or
    // performance score (Transcript), not a standardized test (Assessment).
    ("results", "sourcedId", None),
    ("results", "status", None),
    ("results", "dateLastModified", None),
    ("results", "lineItemSourcedId", None),
    ("results", "studentSourcedId", Some(LOCAL_ID)),
    ("results", "scoreStatus", Some(SCORE)),
    ("results", "score", Some(SCORE)),
    ("results", "scoreDate", Some(SCORE)),
    // The teacher's free text on the work: transcript data, but no grade.
    ("results", "comment", Some("transcript.other")),
    ("results", "textScore", Some(SCORE)),
    ("results", "classSourcedId", Some(SCHEDULED)),
    ("results", "inProgress", Some(SCORE)),
    ("results", "incomplete", Some(SCORE)),
    ("results", "late", Some(SCORE)),
    ("results", "missing", Some(SCORE)),
    ("resultScoreScales", "sourcedId", None),
    ("resultScoreScales", "status", None),
    ("resultScoreScales", "dateLastModified", None),
    ("resultScoreScales", "title", None),
    ("resultScoreScales", "resultSourcedId", None),
    ("resultScoreScales", "scoreScaleSourcedId", None),
    // A user's role at an org over a period: the student's membership of a school.
    ("roles", "sourcedId", None),
    ("roles", "status", None),
    ("roles", "dateLastModified", None),
    ("roles", "userSourcedId", Some(LOCAL_ID)),
    ("roles", "roleType", None),
    ("roles", "role", None),
    ("roles", "beginDate", Some(SCHOOL)),
    ("roles", "endDate", Some(SCHOOL)),
    ("roles", "orgSourcedId", Some(SCHOOL)),
    // Names the student's account for one application (see userProfiles.sourcedId).
    (
        "roles",
        "userProfileSourcedId",
        Some("student_identifiers.provider_app_id"),
    ),
    ("scoreScales", "sourcedId", None),
    ("scoreScales", "status", None),
    ("scoreScales", "dateLastModified", None),
    ("scoreScales", "title", None),
    ("scoreScales", "type", None),
    ("scoreScales", "orgSourcedId", None),
    ("scoreScales", "courseSourcedId", None),
    ("scoreScales", "classSourcedId", None),
    ("scoreScales", "scoreScaleValue", None),
    // A student's account for one vendor's application. Its sourcedId identifies the
    // student within that application, the nearest row being the app-assigned ID (the SIS
    // mints it, but it exists only for the app). Which vendor and app, the profile's label and
    // the kind of credential describe the account, not the student.
    (
        "userProfiles",
        "sourcedId",
        Some("student_identifiers.provider_app_id"),
    ),
    ("userProfiles", "status", None),
    ("userProfiles", "dateLastModified", None),
    ("userProfiles", "userSourcedId", Some(LOCAL_ID)),
    ("userProfiles", "profileType", None),
    ("userProfiles", "vendorId", None),
    ("userProfiles", "applicationId", None),
    ("userProfiles", "description", None),
    ("userProfiles", "credentialType", None),
    (
        "userProfiles",
        "username",
        Some("student_identifiers.app_username"),
    ),
    ("userProfiles", "password", Some(APP_PASSWORD)),
    // Learning resources assigned to one student: the curriculum programs the student is in.
    ("userResources", "sourcedId", None),
    ("userResources", "status", None),
    ("userResources", "dateLastModified", None),
    ("userResources", "userSourcedId", Some(LOCAL_ID)),
    ("userResources", "orgSourcedId", Some(SCHOOL)),
    ("userResources", "classSourcedId", Some(SCHEDULED)),
    (
        "userResources",
        "resourceSourcedId",
        Some("enrollment.curriculum_programs"),
    ),
    // The student.
    ("users", "sourcedId", Some(LOCAL_ID)),
    ("users", "status", None),
    ("users", "dateLastModified", None),
    // Whether the account may sign in: a setting of the account, not a fact about the student.
    ("users", "enabledUser", None),
    ("users", "orgSourcedIds", Some(SCHOOL)),
    ("users", "role", None),
    (
        "users",
        "username",
        Some("student_identifiers.app_username"),
    ),
    // Typed ids in other systems ({LDAP:…}, {LTI:…}) that the district runs: district-
    // assigned, so Local ID. A district that puts the state ID here has a State ID in it too,
    // which only the values would show, and values are never read.
    ("users", "userIds", Some(LOCAL_ID)),
    ("users", "givenName", Some(NAME)),
    ("users", "familyName", Some(NAME)),
    ("users", "middleName", Some(NAME)),
    // "Identifier for the user with a human readable meaning": the student number.
    ("users", "identifier", Some(LOCAL_ID)),
    ("users", "email", Some("student_contact_information.email")),
    // An SMS address is a phone number.
    ("users", "sms", Some("student_contact_information.phone")),
    ("users", "phone", Some("student_contact_information.phone")),
    // In most cases the student's parents: the link Exhibit B's parent ID exists for.
    (
        "users",
        "agentSourcedIds",
        Some("parent_guardian_id.parent_id_number"),
    ),
    ("users", "grades", Some("enrollment.grade_level")),
    ("users", "password", Some(APP_PASSWORD)),
    // An identifier across all the student's tools, issued by the district's identity system
    // rather than the state or a provider: Local ID, as userIds.
    ("users", "userMasterIdentifier", Some(LOCAL_ID)),
    ("users", "preferredGivenName", Some(NAME)),
    ("users", "preferredMiddleName", Some(NAME)),
    ("users", "preferredFamilyName", Some(NAME)),
    ("users", "primaryOrgSourcedId", Some(SCHOOL)),
    // Pronouns disclose gender identity, which is what a district protects as Gender; both
    // are sensitive Demographics either way.
    ("users", "pronouns", Some("demographics.gender")),
];

/// The Exhibit B element a OneRoster column's values belong to when the rows are about
/// students (`file` a stem, "users", or a name, "users.csv", as the binding spells it;
/// `column` exact). `None` for a column that carries no student data (see the module's
/// rule), for a column or file that `version`'s binding does not have (`users.pronouns` in
/// 1.1), and for extension columns, whose meaning only their vendor knows.
pub fn for_column(version: OneRosterVersion, file: &str, column: &str) -> Option<&'static Element> {
    let spec = oneroster::file(version, file)?;
    let column = spec.column(column)?;
    COLUMNS
        .iter()
        .find(|(stem, name, _)| *stem == spec.stem && *name == column.name)
        .and_then(|(_, _, id)| *id)
        .and_then(element)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    use OneRosterVersion::{V1_1, V1_2};

    fn id(v: OneRosterVersion, file: &str, column: &str) -> Option<&'static str> {
        for_column(v, file, column).map(|e| e.id)
    }

    #[test]
    fn element_ids_are_unique_and_name_their_category() {
        let mut seen = BTreeSet::new();
        for e in ELEMENTS {
            assert!(seen.insert(e.id), "{} twice", e.id);
            let (prefix, rest) = e.id.split_once('.').unwrap_or(("", ""));
            assert!(!rest.is_empty() && !rest.contains('.'), "{}", e.id);
            assert_eq!(Category::parse(prefix), Some(e.category), "{}", e.id);
            assert!(Category::ALL.contains(&e.category));
            assert_eq!(element(e.id), Some(e));
            assert!(!e.title.is_empty());
        }
        assert_eq!(ELEMENTS.len(), 60);
    }

    #[test]
    fn elements_follow_the_schedule_and_every_category_has_some() {
        assert!(ELEMENTS.windows(2).all(|w| w[0].category <= w[1].category));
        for c in Category::ALL {
            assert!(ELEMENTS.iter().any(|e| e.category == c), "{c:?}");
        }
        let count = |c| ELEMENTS.iter().filter(|e| e.category == c).count();
        assert_eq!(count(Category::Demographics), 6);
        assert_eq!(count(Category::Enrollment), 7);
        assert_eq!(count(Category::SpecialIndicator), 7);
        assert_eq!(count(Category::StudentIdentifiers), 5);
        assert_eq!(count(Category::StudentName), 1);
        assert_eq!(count(Category::Transcript), 4);
        // Extension columns are reported against this one.
        assert_eq!(
            element("other.other").map(|e| e.category),
            Some(Category::Other)
        );
    }

    #[test]
    fn categories_parse_and_serialise_by_slug() {
        assert!(Category::ALL.windows(2).all(|w| w[0] < w[1]));
        for c in Category::ALL {
            assert_eq!(Category::parse(c.slug()), Some(c));
            assert_eq!(
                serde_json::to_string(&c).ok(),
                Some(format!("\"{}\"", c.slug()))
            );
        }
        assert_eq!(
            Category::ParentGuardianContactInformation.title(),
            "Parent/Guardian Contact Information"
        );
        assert_eq!(Category::parse("Demographics"), None);
        assert_eq!(Category::parse("student_name"), Some(Category::StudentName));
    }

    #[test]
    fn sensitivity() {
        let sensitive: Vec<_> = Category::ALL
            .into_iter()
            .filter(|c| c.sensitive())
            .collect();
        assert_eq!(
            sensitive,
            [
                Category::Demographics,
                Category::SpecialIndicator,
                Category::StudentContactInformation
            ]
        );
        let is = |id| element(id).is_some_and(Element::sensitive);
        assert!(is("student_identifiers.app_password"));
        assert!(!is("student_identifiers.app_username"));
        assert!(is("demographics.date_of_birth"));
        assert!(is("special_indicator.living_situations"));
        assert!(!is("student_name.first_and_or_last"));
        assert!(!is("parent_guardian_contact_information.email"));
    }

    #[test]
    fn every_column_of_both_bindings_has_a_row() {
        let mut used = BTreeSet::new();
        for v in OneRosterVersion::ALL {
            for f in oneroster::files(v) {
                for c in f.columns {
                    let row = COLUMNS
                        .iter()
                        .find(|(stem, name, _)| *stem == f.stem && *name == c.name);
                    assert!(row.is_some(), "{v} {}.{} has no row", f.stem, c.name);
                    used.insert((f.stem, c.name));
                    // Answers by stem and by name alike.
                    assert_eq!(for_column(v, f.stem, c.name), for_column(v, f.name, c.name));
                }
            }
        }
        let mut rows = BTreeSet::new();
        for (stem, name, id) in COLUMNS {
            assert!(rows.insert((*stem, *name)), "{stem}.{name} twice");
            assert!(
                used.contains(&(*stem, *name)),
                "{stem}.{name} is in no binding"
            );
            if let Some(id) = id {
                assert!(element(id).is_some(), "{stem}.{name}: no element {id}");
            }
        }
    }

    #[test]
    fn key_columns_map_as_documented() {
        for v in OneRosterVersion::ALL {
            let password = for_column(v, "users", "password");
            assert_eq!(
                password.map(|e| e.id),
                Some("student_identifiers.app_password")
            );
            assert!(password.is_some_and(Element::sensitive));
            let birth = for_column(v, "demographics.csv", "birthDate");
            assert_eq!(birth.map(|e| e.id), Some("demographics.date_of_birth"));
            assert_eq!(birth.map(|e| e.category), Some(Category::Demographics));
            let email = for_column(v, "users.csv", "email");
            assert_eq!(
                email.map(|e| e.category),
                Some(Category::StudentContactInformation)
            );
            assert!(email.is_some_and(Element::sensitive));
            assert_eq!(
                id(v, "users", "givenName"),
                Some("student_name.first_and_or_last")
            );
            assert_eq!(
                id(v, "users", "familyName"),
                Some("student_name.first_and_or_last")
            );
            assert_eq!(
                id(v, "users", "identifier"),
                Some("student_identifiers.local_id")
            );
            assert_eq!(
                id(v, "users", "username"),
                Some("student_identifiers.app_username")
            );
            assert_eq!(
                id(v, "users", "phone"),
                Some("student_contact_information.phone")
            );
            assert_eq!(
                id(v, "users", "sms"),
                Some("student_contact_information.phone")
            );
            assert_eq!(id(v, "users", "grades"), Some("enrollment.grade_level"));
            assert_eq!(
                id(v, "users", "agentSourcedIds"),
                Some("parent_guardian_id.parent_id_number")
            );
            assert_eq!(id(v, "demographics", "sex"), Some("demographics.gender"));
            assert_eq!(
                id(v, "demographics", "asian"),
                Some("demographics.ethnicity_or_race")
            );
            assert_eq!(
                id(v, "demographics", "cityOfBirth"),
                Some("demographics.place_of_birth")
            );
            assert_eq!(
                id(v, "enrollments", "classSourcedId"),
                Some("schedule.scheduled_courses")
            );
            assert_eq!(
                id(v, "classes", "title"),
                Some("schedule.scheduled_courses")
            );
            assert_eq!(
                id(v, "results", "score"),
                Some("transcript.performance_scores")
            );
            // No student data.
            assert_eq!(id(v, "orgs", "name"), None);
            assert_eq!(id(v, "orgs", "sourcedId"), None);
            assert_eq!(id(v, "courses", "title"), None);
            assert_eq!(id(v, "users", "status"), None);
            assert_eq!(id(v, "enrollments", "role"), None);
            // Not columns of the binding.
            assert_eq!(id(v, "users", "metadata.studentPin"), None);
            assert_eq!(id(v, "users", "GivenName"), None);
            assert_eq!(id(v, "teachers", "givenName"), None);
        }
        assert_eq!(
            id(V1_1, "users", "orgSourcedIds"),
            Some("enrollment.school_enrollment")
        );
        assert_eq!(id(V1_2, "users", "orgSourcedIds"), None);
        assert_eq!(id(V1_1, "users", "pronouns"), None);
        assert_eq!(id(V1_2, "users", "pronouns"), Some("demographics.gender"));
        assert_eq!(
            id(V1_2, "users", "preferredGivenName"),
            Some("student_name.first_and_or_last")
        );
        assert_eq!(
            id(V1_2, "users", "primaryOrgSourcedId"),
            Some("enrollment.school_enrollment")
        );
        assert_eq!(
            id(V1_2, "userProfiles", "password"),
            Some("student_identifiers.app_password")
        );
        assert_eq!(
            id(V1_2, "userProfiles", "username"),
            Some("student_identifiers.app_username")
        );
        assert_eq!(
            id(V1_2, "roles", "orgSourcedId"),
            Some("enrollment.school_enrollment")
        );
        assert_eq!(id(V1_2, "roles", "role"), None);
        assert_eq!(id(V1_1, "roles", "orgSourcedId"), None);
    }
}
