//! A profile's `[data]`: how the vendor receives rosters from the district's SIS and which
//! elements it needs, each named by the OneRoster column that holds it.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};

use super::url_host;
use super::validate::{Collector, Seg, at, is_host_name};
use crate::data::exhibit_b;
use crate::data::oneroster::{self, OneRosterVersion, Role};

fn yes() -> bool {
    true
}

/// What the vendor needs from the SIS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataNeeds {
    /// How the vendor receives rosters.
    pub method: DataMethod,
    /// The OneRoster versions the vendor accepts (`oneroster_csv`, `oneroster_rest`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub versions: Vec<OneRosterVersion>,
    /// `bulk` or `delta` (`oneroster_csv`); absent: either.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<DeliveryNeed>,
    /// How often the files are sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule: Option<Schedule>,
    /// Where the files go: `sftp://host[:port][/path]` or an `https://` URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoint: Option<String>,
    /// The vendor's address for data questions, for the Data Projects Form.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    /// The vendor's published rostering specification; empty only with a `note` saying none
    /// is published.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<String>,
    /// Anything the vendor adds, or why there is no published specification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Files that must be in the upload though they may hold only a header
    /// (`demographics.csv`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub header_only: Vec<String>,
    /// The elements the vendor needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub elements: Vec<DataElement>,
}

/// How rosters reach the vendor.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DataMethod {
    /// OneRoster CSV files (a zip), uploaded to the vendor.
    OnerosterCsv,
    /// The vendor reads a OneRoster REST service.
    OnerosterRest,
    /// Through Clever's data sharing.
    Clever,
    /// Through ClassLink Roster Server.
    Classlink,
    /// LTI Names and Role Provisioning Services, from the learning platform.
    LtiNrps,
    /// The vendor's own CSV layout; each element names the OneRoster column it is filled from.
    CustomCsv,
    /// The product takes no roster from the SIS (accounts come from sign-in alone).
    None,
}

impl DataMethod {
    /// As people say it.
    pub fn title(self) -> &'static str {
        match self {
            DataMethod::OnerosterCsv => "OneRoster CSV",
            DataMethod::OnerosterRest => "OneRoster REST",
            DataMethod::Clever => "Clever",
            DataMethod::Classlink => "ClassLink Roster Server",
            DataMethod::LtiNrps => "LTI Names and Role Provisioning",
            DataMethod::CustomCsv => "the vendor's own CSV layout",
            DataMethod::None => "no roster",
        }
    }

    /// Whether the vendor's format is OneRoster's, so only its columns can be carried.
    pub fn is_oneroster(self) -> bool {
        matches!(self, DataMethod::OnerosterCsv | DataMethod::OnerosterRest)
    }
}

impl fmt::Display for DataMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.title())
    }
}

/// Full files each time, or changes only.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryNeed {
    Bulk,
    Delta,
}

impl fmt::Display for DeliveryNeed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DeliveryNeed::Bulk => "bulk",
            DeliveryNeed::Delta => "delta",
        })
    }
}

/// How often rosters are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Schedule {
    Hourly,
    Nightly,
    Weekly,
    PerTerm,
    OnChange,
    OnDemand,
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Schedule::Hourly => "hourly",
            Schedule::Nightly => "nightly",
            Schedule::Weekly => "weekly",
            Schedule::PerTerm => "once per term",
            Schedule::OnChange => "whenever the SIS changes",
            Schedule::OnDemand => "on demand",
        })
    }
}

/// One element the vendor needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataElement {
    /// The OneRoster column that holds it, `file.column` (`users.givenName`,
    /// `demographics.birthDate`, `users.metadata.lunchPin` for an extension column).
    pub source: String,
    /// The vendor's own name for the field, where its layout is not OneRoster's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether the vendor refuses a roster without it (default true).
    #[serde(default = "yes")]
    pub required: bool,
    /// Whose rows need it (`student`, `teacher`, …); empty: every row.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub roles: Vec<Role>,
    /// What the vendor uses it for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub purpose: Option<String>,
    /// The NDPA Exhibit B element its values are (`student_identifiers.state_id`): required for
    /// an extension column, which the vocabulary cannot place; otherwise it overrides the
    /// column's own element.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exhibit_b: Option<String>,
}

/// A OneRoster column, `file.column`, split once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ColumnRef<'a> {
    /// The file's stem (`users`).
    pub stem: &'a str,
    /// The column (`givenName`, `metadata.lunchPin`).
    pub column: &'a str,
}

impl<'a> ColumnRef<'a> {
    /// Splits `users.givenName` at its first dot; `None` without one.
    pub fn parse(source: &'a str) -> Option<ColumnRef<'a>> {
        let (stem, column) = match source.split_once(".csv.") {
            Some(split) => split,
            None => source.split_once('.')?,
        };
        (!stem.is_empty() && !column.is_empty()).then_some(ColumnRef { stem, column })
    }

    /// The file name, `users.csv`.
    pub fn file_name(&self) -> String {
        format!("{}.csv", self.stem)
    }

    /// Whether it is an extension column, which any SIS may add.
    pub fn is_extension(&self) -> bool {
        oneroster::is_extension_column(self.column)
    }

    /// The OneRoster versions whose binding has the column.
    pub fn versions(&self) -> Vec<OneRosterVersion> {
        if self.is_extension() {
            return OneRosterVersion::ALL
                .into_iter()
                .filter(|&v| oneroster::file(v, self.stem).is_some())
                .collect();
        }
        oneroster::versions_with(self.stem, self.column)
    }

    /// The Exhibit B element its values are, read in the first version that has the column.
    pub fn exhibit_b(&self) -> Option<&'static exhibit_b::Element> {
        self.versions()
            .into_iter()
            .find_map(|v| exhibit_b::for_column(v, self.stem, self.column))
    }
}

impl DataElement {
    /// The column, split. `None` only in a profile that did not pass validation.
    pub fn column(&self) -> Option<ColumnRef<'_>> {
        ColumnRef::parse(&self.source)
    }

    /// The Exhibit B element its values are: the one the profile names, else the column's as
    /// the rows it is needed for make it. Exhibit B schedules students' data and their
    /// parents': a column needed only for parents is the parent's element (`users.email` →
    /// Parent/Guardian Contact Information: Email), and one needed only for staff is none.
    pub fn element(&self) -> Option<&'static exhibit_b::Element> {
        if let Some(id) = &self.exhibit_b {
            return exhibit_b::element(id);
        }
        let element = self.column().and_then(|c| c.exhibit_b())?;
        if self.roles.is_empty() || self.roles.contains(&Role::Student) {
            return Some(element);
        }
        let family = self
            .roles
            .iter()
            .any(|r| matches!(r, Role::Parent | Role::Guardian | Role::Relative));
        if !family {
            return None;
        }
        use exhibit_b::Category as C;
        let id = match element.category {
            C::StudentName => "parent_guardian_name.first_and_or_last",
            C::StudentIdentifiers => "parent_guardian_id.parent_id_number",
            C::StudentContactInformation => match element.id.rsplit('.').next() {
                Some("email") => "parent_guardian_contact_information.email",
                Some("phone") => "parent_guardian_contact_information.phone",
                _ => "parent_guardian_contact_information.address",
            },
            _ => return Some(element),
        };
        exhibit_b::element(id)
    }

    /// Whether a row of `role` needs it.
    pub fn applies_to(&self, role: Role) -> bool {
        self.roles.is_empty() || self.roles.contains(&role)
    }
}

impl DataNeeds {
    /// The endpoint's scheme, host and port, when it is an `sftp://` or `https://` URL.
    pub fn endpoint_target(&self) -> Option<Endpoint> {
        Endpoint::parse(self.endpoint.as_deref()?)
    }
}

/// Where files are sent, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: EndpointScheme,
    pub host: String,
    pub port: u16,
}

/// The transfer protocols a profile may name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EndpointScheme {
    Sftp,
    Https,
}

impl Endpoint {
    /// `sftp://host[:port][/path]` (port 22 by default) or `https://host[:port][/path]`, read
    /// with the `url` crate; credentials in the address are refused (a profile holds none).
    pub fn parse(url: &str) -> Option<Endpoint> {
        let u = url::Url::parse(url).ok()?;
        let (scheme, default_port) = match u.scheme() {
            "sftp" => (EndpointScheme::Sftp, 22),
            "https" => (EndpointScheme::Https, 443),
            _ => return None,
        };
        if !u.username().is_empty() || u.password().is_some() {
            return None;
        }
        let host = u
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let port = u.port().unwrap_or(default_port);
        (port != 0 && (is_host_name(&host) || host.parse::<std::net::IpAddr>().is_ok()))
            .then_some(Endpoint { scheme, host, port })
    }
}

/// Every semantic rule of `[data]`.
pub(crate) fn validate(c: &mut Collector, d: &DataNeeds) {
    validate_method(c, d);
    validate_files(c, d);
    validate_elements(c, d);
}

const BASE: [Seg; 1] = [Seg::Key("data")];

/// The method and what goes with it: versions, delivery, endpoint, sources.
fn validate_method(c: &mut Collector, d: &DataNeeds) {
    let base = BASE;
    let oneroster = d.method.is_oneroster();
    if oneroster && d.versions.is_empty() {
        c.push(
            at(&base, &[Seg::Key("versions")]),
            format!(
                "is empty; {} needs the OneRoster versions the vendor accepts, such as [\"1.1\"]",
                d.method
            ),
        );
    }
    if !oneroster && !d.versions.is_empty() {
        c.push(
            at(&base, &[Seg::Key("versions")]),
            format!(
                "is set but method {:?} is not OneRoster; remove it",
                d.method
            ),
        );
    }
    if d.delivery.is_some() && d.method != DataMethod::OnerosterCsv {
        c.push(
            at(&base, &[Seg::Key("delivery")]),
            "applies to oneroster_csv only; remove it",
        );
    }
    if let Some(e) = &d.endpoint
        && Endpoint::parse(e).is_none()
    {
        c.push(
            at(&base, &[Seg::Key("endpoint")]),
            format!(
                "{e:?} is not a transfer endpoint; expected sftp://host[:port][/path] or https://host[/path], without credentials"
            ),
        );
    }
    if d.sources.is_empty() && d.note.is_none() {
        c.push(
            at(&base, &[Seg::Key("sources")]),
            "is empty; cite the vendor's rostering specification, or say in `note` that none is published",
        );
    }
    for (i, s) in d.sources.iter().enumerate() {
        if url_host(s).is_none() {
            c.push(
                at(&base, &[Seg::Key("sources"), Seg::Index(i)]),
                format!("{s:?} is not an http(s) URL"),
            );
        }
    }
    if d.method == DataMethod::None {
        for (key, set) in [
            ("elements", !d.elements.is_empty()),
            ("endpoint", d.endpoint.is_some()),
            ("header_only", !d.header_only.is_empty()),
        ] {
            if set {
                c.push(
                    at(&base, &[Seg::Key(key)]),
                    "is set but method is \"none\" (no roster); remove it or name the method",
                );
            }
        }
    }
}

/// The files the vendor requires even when empty.
fn validate_files(c: &mut Collector, d: &DataNeeds) {
    let base = BASE;
    for (i, name) in d.header_only.iter().enumerate() {
        let stem = name.strip_suffix(".csv").unwrap_or(name);
        if OneRosterVersion::ALL
            .iter()
            .all(|&v| oneroster::file(v, stem).is_none())
        {
            c.push(
                at(&base, &[Seg::Key("header_only"), Seg::Index(i)]),
                format!(
                    "{name:?} is not a OneRoster file; expected a name such as \"demographics.csv\""
                ),
            );
        }
    }
}

/// Each element: a OneRoster column of some version (or an extension column with its Exhibit B
/// element), listed once for the same roles.
fn validate_elements(c: &mut Collector, d: &DataNeeds) {
    let base = BASE;
    let mut seen = HashSet::new();
    for (i, e) in d.elements.iter().enumerate() {
        let path = at(
            &base,
            &[Seg::Key("elements"), Seg::Index(i), Seg::Key("source")],
        );
        let Some(col) = e.column() else {
            c.push(
                path,
                format!(
                    "{:?} is not a OneRoster column; expected file.column, such as \"users.givenName\"",
                    e.source
                ),
            );
            continue;
        };
        let known_file = OneRosterVersion::ALL
            .iter()
            .any(|&v| oneroster::file(v, col.stem).is_some());
        if !known_file {
            c.push(
                path,
                format!(
                    "{:?}: {:?} is not a OneRoster file; expected users, demographics, enrollments, classes, orgs, …",
                    e.source,
                    col.file_name()
                ),
            );
            continue;
        }
        if col.versions().is_empty() {
            c.push(
                path,
                format!(
                    "{:?}: {} has no column {:?} in OneRoster 1.1 or 1.2 (extension columns start with \"metadata.\")",
                    e.source,
                    col.file_name(),
                    col.column
                ),
            );
            continue;
        }
        match &e.exhibit_b {
            Some(id) if exhibit_b::element(id).is_none() => c.push(
                at(&base, &[Seg::Key("elements"), Seg::Index(i), Seg::Key("exhibit_b")]),
                format!(
                    "{id:?} is not an Exhibit B element; expected an id such as \"student_identifiers.state_id\" (see profiles/README.md)"
                ),
            ),
            None if col.is_extension() => c.push(
                at(&base, &[Seg::Key("elements"), Seg::Index(i), Seg::Key("exhibit_b")]),
                format!(
                    "is missing: {:?} is an extension column, so name the Exhibit B element its values are",
                    e.source
                ),
            ),
            _ => {}
        }
        let mut roles = e.roles.clone();
        roles.sort();
        if !seen.insert((col.stem.to_owned(), col.column.to_owned(), roles)) {
            c.push(
                path,
                format!(
                    "{:?} is listed twice for the same roles; keep one entry",
                    e.source
                ),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse_with_their_default_ports() {
        let sftp = Endpoint::parse("sftp://sftp.vendor.example/uploads");
        assert_eq!(
            sftp,
            Some(Endpoint {
                scheme: EndpointScheme::Sftp,
                host: "sftp.vendor.example".into(),
                port: 22
            })
        );
        let port = Endpoint::parse("sftp://files.vendor.example:2222");
        assert_eq!(port.map(|e| e.port), Some(2222));
        let https = Endpoint::parse("https://api.vendor.example:8443/oneroster");
        assert_eq!(
            https.map(|e| (e.scheme, e.host, e.port)),
            Some((EndpointScheme::Https, "api.vendor.example".into(), 8443))
        );
        assert_eq!(Endpoint::parse("sftp://user:pw@host.example/"), None);
        assert_eq!(Endpoint::parse("ftp://host.example/"), None);
        assert_eq!(Endpoint::parse("sftp://host.example:0/"), None);
    }

    fn element_for(source: &str, roles: &[Role]) -> Option<&'static str> {
        DataElement {
            source: source.into(),
            name: None,
            required: true,
            roles: roles.to_vec(),
            purpose: None,
            exhibit_b: None,
        }
        .element()
        .map(|e| e.id)
    }

    #[test]
    fn an_elements_exhibit_b_follows_whose_rows_need_it() {
        assert_eq!(
            element_for("users.email", &[Role::Student, Role::Teacher]),
            Some("student_contact_information.email")
        );
        assert_eq!(
            element_for("users.email", &[Role::Guardian]),
            Some("parent_guardian_contact_information.email")
        );
        assert_eq!(
            element_for("users.givenName", &[Role::Parent]),
            Some("parent_guardian_name.first_and_or_last")
        );
        assert_eq!(element_for("users.email", &[Role::Teacher]), None);
        assert_eq!(
            element_for("demographics.birthDate", &[]),
            Some("demographics.date_of_birth")
        );
    }

    #[test]
    fn column_refs_split_at_the_first_dot() {
        let c = ColumnRef::parse("users.metadata.lunchPin");
        assert_eq!(
            c,
            Some(ColumnRef {
                stem: "users",
                column: "metadata.lunchPin"
            })
        );
        assert_eq!(ColumnRef::parse("users"), None);
        assert_eq!(
            ColumnRef::parse("users.csv.givenName").map(|c| c.stem),
            Some("users")
        );
    }
}
