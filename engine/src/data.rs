//! The data stage: can the district's SIS feed the product, and what student data would it
//! take? Judged from the profile's `[data]`, the district's SIS summary (structure and counts
//! only) and, where the proposal carries it, the vendor's signed NDPA Exhibit B.
//!
//! Each element the vendor needs is **met** (the column is there and filled for the roles that
//! need it), **partly** (there, but empty for some: the SIS liaison completes it), **missing**
//! (the export does not carry it: the SIS provider adds it) or **not carried** (the vendor's own
//! format has no place for it: a required one makes the product not compatible). What the
//! export would send beyond the vendor's needs is a minimisation condition; every element the
//! vendor receives is listed with its Exhibit B category, the sensitive ones flagged, and an
//! element the signed agreement does not cover is a required condition for the data privacy
//! officer. Without a summary the elements are *not assessed*, said plainly.

use std::collections::{BTreeMap, BTreeSet};

use fitcheck_core::data::exhibit_b;
use fitcheck_core::data::oneroster::{self, OneRosterVersion, Role};
use fitcheck_core::data::summary::{Delivery, FileSummary, Severity, SisSummary};
use fitcheck_core::evaluate::FixKind;
use fitcheck_core::profile::{ColumnRef, DataElement, DataMethod, DataNeeds, DeliveryNeed};
use fitcheck_core::requirement::RequirementId;

use crate::document::{
    Blocker, Condition, ConditionKind, DataSection, DataStatus, ElementRow, ElementStatus,
    Evidence, ExcessColumn, ExportRef, RoleFill, TransferCheck, TransferRow,
};
use crate::judge::Judgement;
use fitcheck_core::evaluate::Status;

/// Who completes or filters the district's export.
pub const SIS_LIAISON: &str = "SIS liaison";
/// Who changes what the SIS can export.
pub const SIS_PROVIDER: &str = "SIS provider (through the SIS liaison)";
/// Who answers for the data agreement.
pub const PRIVACY_OFFICER: &str = "data privacy officer";
/// Who asks the vendor.
pub const SPONSOR: &str = "the product's sponsor";
/// Who opens the path from the sending machines.
pub const NETWORK: &str = "network operations";

/// The machines that send the roster files, and what they reported.
#[derive(Debug, Clone, Copy)]
pub struct Transfer<'a> {
    /// Their group label, as the evaluation names it.
    pub group: Option<&'a str>,
    /// Each sending machine's latest judged report.
    pub reports: &'a [&'a Judgement],
}

/// The vendor's signed Exhibit B: the element ids and whole categories it ticked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignedExhibitB {
    /// Element ids (`demographics.date_of_birth`) or category slugs (`demographics`, all of
    /// its elements).
    pub ticked: Vec<String>,
}

impl SignedExhibitB {
    /// Whether the agreement covers `element`.
    pub fn covers(&self, element: &exhibit_b::Element) -> bool {
        self.ticked
            .iter()
            .any(|t| t == element.id || t == element.category.slug())
    }
}

/// The data stage's part of the recommendation: its section, conditions and blockers.
#[derive(Debug)]
pub struct Data {
    pub section: Option<DataSection>,
    pub conditions: Vec<Condition>,
    pub blockers: Vec<Blocker>,
}

/// Judges the profile's data needs against the district's export.
pub fn assess(
    needs: Option<&DataNeeds>,
    sis: Option<&SisSummary>,
    dpa: Option<&SignedExhibitB>,
    senders: &Transfer<'_>,
) -> Data {
    let mut out = Data {
        section: None,
        conditions: Vec::new(),
        blockers: Vec::new(),
    };
    let Some(needs) = needs else {
        return out;
    };
    let mut elements: Vec<ElementRow> = needs
        .elements
        .iter()
        .enumerate()
        .map(|(i, e)| element_row(needs, i, e, sis, dpa))
        .collect();
    let status = if needs.method == DataMethod::None {
        DataStatus::NotNeeded
    } else if sis.is_none() {
        DataStatus::NotAssessed
    } else {
        DataStatus::Assessed
    };
    let mut minimisation = Vec::new();
    if let Some(sis) = sis {
        out.conditions
            .extend(element_conditions(needs, &elements, sis));
        out.conditions.extend(export_conditions(needs, sis));
        minimisation = excess(needs, sis, dpa);
        out.conditions
            .extend(minimisation_condition(&minimisation, sis));
    }
    out.blockers.extend(not_carried(needs, &elements));
    if needs.method != DataMethod::None {
        out.conditions.extend(privacy_conditions(&elements, dpa));
        out.conditions.extend(unnamed_elements(needs));
    }
    let transfer = needs
        .endpoint
        .as_ref()
        .filter(|_| needs.method != DataMethod::None)
        .map(|endpoint| transfer_check(endpoint, senders));
    out.conditions
        .extend(transfer.as_ref().and_then(transfer_condition));
    let mut summary = summary_words(needs, status, &elements, sis, &out);
    if let Some(t) = &transfer {
        summary.push_str(&format!(" Transfer to {}: {}.", t.endpoint, t.observed));
    }
    for e in &mut elements {
        e.observed = observed_words(e, status);
    }
    out.section = Some(DataSection {
        status,
        summary,
        method: needs.method.title().to_owned(),
        versions: needs
            .versions
            .iter()
            .map(|v| v.as_str().to_owned())
            .collect(),
        delivery: needs.delivery.map(|d| d.to_string()),
        schedule: needs.schedule.map(|s| s.to_string()),
        endpoint: needs.endpoint.clone(),
        contact: needs.contact.clone(),
        sources: needs.sources.clone(),
        note: needs.note.clone(),
        header_only: needs.header_only.clone(),
        export: sis.map(export_ref),
        sensitive_categories: sensitive_categories(&elements),
        elements,
        minimisation,
        findings: sis.map(findings).unwrap_or_default(),
        dpa_recorded: dpa.is_some(),
        transfer,
    });
    out
}

/// A vendor that names no elements: ask it which it takes.
fn unnamed_elements(needs: &DataNeeds) -> Option<Condition> {
    needs.elements.is_empty().then(|| {
        condition(
            ConditionKind::Investigate,
            FixKind::NonePossible,
            format!(
                "Ask the vendor which roster elements it takes through {}: the profile names none, so neither the SIS export nor the agreement can be checked",
                needs.method
            ),
            SPONSOR,
            false,
            Vec::new(),
            Vec::new(),
        )
    })
}

/// The sensitive Exhibit B categories among what the vendor receives.
fn sensitive_categories(elements: &[ElementRow]) -> Vec<String> {
    let set: BTreeSet<&String> = elements
        .iter()
        .filter(|e| e.sensitive)
        .filter_map(|e| e.category.as_ref())
        .collect();
    set.into_iter().cloned().collect()
}

/// What the data part still lacks to be judged, as the verdict counts it: a summary of the
/// district's export, where the vendor names elements; the transfer path, where it names an
/// endpoint and no sending machine has checked it.
pub fn gaps(d: &DataSection) -> Vec<String> {
    let mut out = Vec::new();
    if d.status == DataStatus::NotAssessed && !d.elements.is_empty() {
        out.push(
            "the district's SIS export is not summarised: run `fitcheck-agent sis inspect` where it lies and upload the summary".to_owned(),
        );
    }
    if let Some(t) = &d.transfer
        && t.status == Status::Unknown
    {
        out.push(format!(
            "the transfer path to {} is not checked: name the group of the machines that send the files (data_senders) and run an agent there",
            t.endpoint
        ));
    }
    out
}

/// The transfer endpoint as each sending machine reached it.
fn transfer_check(endpoint: &str, senders: &Transfer<'_>) -> TransferCheck {
    let machines: Vec<TransferRow> = senders
        .reports
        .iter()
        .filter_map(|j| {
            let t = j.transfer.as_ref()?;
            Some(TransferRow {
                site: j.site.clone(),
                agent_id: j.agent_id.clone(),
                report_id: j.report_id.clone(),
                status: t.status,
                observed: t.observed.clone(),
            })
        })
        .collect();
    let status = [Status::Fail, Status::Warn, Status::Pass]
        .into_iter()
        .find(|s| machines.iter().any(|m| m.status == *s))
        .unwrap_or(Status::Unknown);
    let observed = match (senders.group, machines.len()) {
        (None, _) => "not checked: the evaluation names no group of machines that send the files (data_senders)".to_owned(),
        (Some(g), 0) => format!("not checked yet: no agent of the group {g:?} has reported"),
        (_, n) => {
            let reached = machines.iter().filter(|m| m.status == Status::Pass).count();
            format!("reached from {reached} of {n} sending machine(s)")
        }
    };
    TransferCheck {
        endpoint: endpoint.to_owned(),
        group: senders.group.map(str::to_owned),
        status,
        observed,
        machines,
    }
}

/// A sending machine that cannot reach the endpoint: open the path, named with the sites and
/// the reports that show it.
fn transfer_condition(t: &TransferCheck) -> Option<Condition> {
    let failing: Vec<&TransferRow> = t
        .machines
        .iter()
        .filter(|m| m.status.falls_short())
        .collect();
    let first = failing.first()?;
    let mut sites: Vec<String> = failing.iter().map(|m| m.site.clone()).collect();
    sites.sort();
    sites.dedup();
    Some(Condition {
        kind: ConditionKind::FirewallRule,
        fix: FixKind::ConfigureNetwork,
        action: format!(
            "Open the path from the machines that send the roster files to {} (seen: {})",
            t.endpoint, first.observed
        ),
        owner: NETWORK.to_owned(),
        required: true,
        items: vec![t.endpoint.clone()],
        sites,
        seen: None,
        devices: Some(failing.len() as u32),
        requirements: vec![RequirementId::DataEndpoint],
        evidence: failing
            .iter()
            .map(|m| Evidence {
                report_id: m.report_id.clone(),
                agent_id: m.agent_id.clone(),
                site: m.site.clone(),
                requirement: RequirementId::DataEndpoint,
                observed: m.observed.clone(),
            })
            .collect(),
    })
}

fn condition(
    kind: ConditionKind,
    fix: FixKind,
    action: String,
    owner: &str,
    required: bool,
    items: Vec<String>,
    requirements: Vec<RequirementId>,
) -> Condition {
    Condition {
        kind,
        fix,
        action,
        owner: owner.to_owned(),
        required,
        items,
        sites: Vec::new(),
        seen: None,
        devices: None,
        requirements,
        evidence: Vec::new(),
    }
}

fn export_ref(sis: &SisSummary) -> ExportRef {
    ExportRef {
        summary_id: sis.summary_id.to_string(),
        generated_at: sis.generated_at.clone(),
        source_system: sis.source_system().to_owned(),
        oneroster_version: sis.oneroster_version.map(|v| v.as_str().to_owned()),
        delivery: sis.delivery.map(|d| {
            match d {
                Delivery::Bulk => "bulk",
                Delivery::Delta => "delta",
                Delivery::Mixed => "mixed",
            }
            .to_owned()
        }),
        files: sis.files.len() as u32,
        users_by_role: sis
            .users_by_role
            .iter()
            .map(|(r, n)| (r.as_str().to_owned(), *n))
            .collect(),
    }
}

/// The format findings a vendor's importer trips on, in words.
fn findings(sis: &SisSummary) -> Vec<String> {
    sis.findings
        .iter()
        .filter(|f| f.kind.severity() == Severity::Fix)
        .map(ToString::to_string)
        .collect()
}

/// Whether the vendor's format can carry a column at all.
fn carried(needs: &DataNeeds, col: &ColumnRef<'_>) -> bool {
    if !needs.method.is_oneroster() {
        return true;
    }
    let versions = col.versions();
    needs.versions.iter().any(|v| versions.contains(v))
}

/// The roles whose fill counts: the element's, or every role the export has users of.
fn roles_needed(e: &DataElement, sis: &SisSummary) -> Vec<Role> {
    if !e.roles.is_empty() {
        return e.roles.clone();
    }
    sis.users_by_role.keys().copied().collect()
}

fn element_row(
    needs: &DataNeeds,
    index: usize,
    e: &DataElement,
    sis: Option<&SisSummary>,
    dpa: Option<&SignedExhibitB>,
) -> ElementRow {
    let col = e.column();
    let element = e.element();
    let (file, column) = col
        .as_ref()
        .map(|c| (c.file_name(), c.column.to_owned()))
        .unwrap_or_default();
    let mut row = ElementRow {
        requirement: RequirementId::DataElement(index),
        source: e.source.clone(),
        file,
        column,
        name: e.name.clone(),
        required: e.required,
        roles: e.roles.iter().map(|r| r.as_str().to_owned()).collect(),
        purpose: e.purpose.clone(),
        exhibit_b: element.map(|x| x.title.to_owned()),
        exhibit_b_id: element.map(|x| x.id.to_owned()),
        category: element.map(|x| x.category.title().to_owned()),
        sensitive: element.is_some_and(exhibit_b::Element::sensitive),
        status: ElementStatus::NotAssessed,
        fill: Vec::new(),
        observed: String::new(),
        dpa_covered: match (dpa, element) {
            (Some(d), Some(x)) => Some(d.covers(x)),
            _ => None,
        },
        header_misspelt: None,
    };
    let Some(col) = col else {
        return row;
    };
    if !carried(needs, &col) {
        row.status = ElementStatus::NotCarried;
        return row;
    }
    let Some(sis) = sis else {
        return row;
    };
    let Some(file) = sis.file(&col.file_name()) else {
        row.status = ElementStatus::Missing;
        return row;
    };
    let Some(c) = file.column(col.column) else {
        row.status = ElementStatus::Missing;
        return row;
    };
    if c.name != col.column {
        row.header_misspelt = Some(c.name.clone());
    }
    row.fill = fill(e, sis, file, c);
    let complete = row.fill.iter().all(|f| f.of > 0 && f.filled == f.of);
    row.status = if complete && !row.fill.is_empty() {
        ElementStatus::Met
    } else {
        ElementStatus::Partly
    };
    row
}

/// How full a column is for each role that needs it (the whole file for files whose rows are
/// not about one user each).
fn fill(
    e: &DataElement,
    sis: &SisSummary,
    file: &FileSummary,
    c: &fitcheck_core::data::summary::ColumnSummary,
) -> Vec<RoleFill> {
    if file.rows_by_role.is_empty() {
        return vec![RoleFill {
            role: None,
            filled: c.filled,
            of: file.rows,
        }];
    }
    roles_needed(e, sis)
        .into_iter()
        .map(|r| RoleFill {
            role: Some(r.as_str().to_owned()),
            filled: c.filled_by_role.get(&r).copied().unwrap_or(0),
            of: file.rows_by_role.get(&r).copied().unwrap_or(0),
        })
        .collect()
}

fn role_words(f: &RoleFill) -> String {
    let who = f.role.as_deref().map_or("rows".to_owned(), plural);
    format!("{} of {} {who}", f.filled, f.of)
}

/// How full an element's column is, in words (`950 of 1000 students`), or its state where
/// nothing was counted.
pub fn fill_words(e: &ElementRow) -> String {
    if e.fill.is_empty() {
        return e.status.words().to_owned();
    }
    e.fill.iter().map(role_words).collect::<Vec<_>>().join(", ")
}

/// A role's plural as people say it.
fn plural(role: &str) -> String {
    match role {
        "aide" | "proctor" => format!("{role}s"),
        _ if role.ends_with('s') => role.to_owned(),
        _ => format!("{role}s"),
    }
}

fn observed_words(e: &ElementRow, status: DataStatus) -> String {
    match e.status {
        ElementStatus::NotAssessed if status == DataStatus::NotAssessed => {
            "not assessed: no SIS summary yet".to_owned()
        }
        ElementStatus::NotAssessed => "not assessed".to_owned(),
        ElementStatus::NotCarried => "the vendor's format has no column for it".to_owned(),
        ElementStatus::Missing => {
            format!("the export has no {}.{}", e.file, e.column).replace(".csv.", ".")
        }
        ElementStatus::Met | ElementStatus::Partly => {
            let parts: Vec<String> = e.fill.iter().map(role_words).collect();
            let mut s = format!("filled for {}", parts.join(", "));
            if let Some(h) = &e.header_misspelt {
                s.push_str(&format!(" (header spelt `{h}`)"));
            }
            s
        }
    }
}

/// Conditions from each element's state: complete a field, add a column, fix a header.
fn element_conditions(needs: &DataNeeds, rows: &[ElementRow], sis: &SisSummary) -> Vec<Condition> {
    let mut out = Vec::new();
    let system = sis.source_system();
    for required in [true, false] {
        let partly: Vec<&ElementRow> = rows
            .iter()
            .filter(|r| r.required == required && r.status == ElementStatus::Partly)
            .collect();
        if !partly.is_empty() {
            let items: Vec<String> = partly
                .iter()
                .map(|r| {
                    let short: Vec<String> = r
                        .fill
                        .iter()
                        .filter(|f| f.filled < f.of || f.of == 0)
                        .map(|f| {
                            let who = f.role.as_deref().map_or("rows".to_owned(), plural);
                            if f.of == 0 {
                                format!("no {who} in the export")
                            } else {
                                format!("empty for {} of {} {who}", f.of - f.filled, f.of)
                            }
                        })
                        .collect();
                    format!("{} — {}", r.source, short.join(", "))
                })
                .collect();
            out.push(condition(
                ConditionKind::DataComplete,
                FixKind::ChangeExport,
                format!(
                    "Complete {} field(s) in {system} so that every roster row the vendor {} carries them",
                    partly.len(),
                    if required { "needs" } else { "can use" }
                ),
                SIS_LIAISON,
                required,
                items,
                partly.iter().map(|r| r.requirement.clone()).collect(),
            ));
        }
        let missing: Vec<&ElementRow> = rows
            .iter()
            .filter(|r| r.required == required && r.status == ElementStatus::Missing)
            .collect();
        if !missing.is_empty() {
            out.push(condition(
                ConditionKind::DataAdd,
                FixKind::ChangeExport,
                format!(
                    "Have {system}'s export carry {} column(s) it does not send today{}",
                    missing.len(),
                    export_version_hint(needs, sis, &missing)
                ),
                SIS_PROVIDER,
                required,
                missing.iter().map(|r| r.source.clone()).collect(),
                missing.iter().map(|r| r.requirement.clone()).collect(),
            ));
        }
    }
    let misspelt: Vec<&ElementRow> = rows
        .iter()
        .filter(|r| r.header_misspelt.is_some())
        .collect();
    if !misspelt.is_empty() {
        out.push(condition(
            ConditionKind::DataFormat,
            FixKind::ChangeExport,
            "Correct the misspelt column headers the vendor reads: its importer looks for the binding's names".to_owned(),
            SIS_LIAISON,
            misspelt.iter().any(|r| r.required),
            misspelt
                .iter()
                .map(|r| {
                    format!(
                        "{}: `{}` → `{}`",
                        r.file,
                        r.header_misspelt.as_deref().unwrap_or(""),
                        r.column
                    )
                })
                .collect(),
            misspelt.iter().map(|r| r.requirement.clone()).collect(),
        ));
    }
    out
}

/// ", as OneRoster 1.2 (the export is 1.1)" where the columns exist only in another version.
fn export_version_hint(needs: &DataNeeds, sis: &SisSummary, missing: &[&ElementRow]) -> String {
    let Some(have) = sis.oneroster_version else {
        return String::new();
    };
    let need_other = missing.iter().any(|r| {
        ColumnRef::parse(&r.source).is_some_and(|c| {
            let v = c.versions();
            !c.is_extension() && !v.contains(&have)
        })
    });
    if !need_other {
        return String::new();
    }
    let target = needs
        .versions
        .iter()
        .copied()
        .find(|v| *v != have)
        .unwrap_or(OneRosterVersion::V1_2);
    format!(" (some exist only in OneRoster {target}; the export is {have})")
}

/// Conditions about the export as a whole: its version, delivery, header-only files, format.
fn export_conditions(needs: &DataNeeds, sis: &SisSummary) -> Vec<Condition> {
    let mut out = Vec::new();
    let system = sis.source_system();
    if needs.method == DataMethod::OnerosterCsv {
        if let Some(have) = sis.oneroster_version
            && !needs.versions.is_empty()
            && !needs.versions.contains(&have)
        {
            let want: Vec<&str> = needs.versions.iter().map(|v| v.as_str()).collect();
            out.push(condition(
                ConditionKind::DataAdd,
                FixKind::ChangeExport,
                format!(
                    "Have {system} export OneRoster {} for this vendor: the district's export is {have}",
                    want.join(" or ")
                ),
                SIS_PROVIDER,
                true,
                vec![format!("OneRoster {}", want.join(" or "))],
                Vec::new(),
            ));
        }
        let wrong_delivery = match (needs.delivery, sis.delivery) {
            (Some(DeliveryNeed::Bulk), Some(Delivery::Delta | Delivery::Mixed)) => Some("bulk"),
            (Some(DeliveryNeed::Delta), Some(Delivery::Bulk | Delivery::Mixed)) => Some("delta"),
            _ => None,
        };
        if let Some(want) = wrong_delivery {
            out.push(condition(
                ConditionKind::DataAdd,
                FixKind::ChangeExport,
                format!("Send {want} files to this vendor: its importer takes {want} only"),
                SIS_LIAISON,
                true,
                vec![format!("{want} delivery")],
                Vec::new(),
            ));
        }
        let absent: Vec<String> = needs
            .header_only
            .iter()
            .filter(|name| {
                let stem = name.strip_suffix(".csv").unwrap_or(name);
                sis.file(&format!("{stem}.csv")).is_none()
            })
            .cloned()
            .collect();
        if !absent.is_empty() {
            out.push(condition(
                ConditionKind::DataFormat,
                FixKind::ChangeExport,
                "Include the files the vendor requires even when empty (the header row alone is enough)".to_owned(),
                SIS_LIAISON,
                true,
                absent,
                Vec::new(),
            ));
        }
    }
    let fix: Vec<String> = findings(sis);
    if !fix.is_empty() {
        out.push(condition(
            ConditionKind::DataFormat,
            FixKind::ChangeExport,
            "Correct the export's format problems before the first transfer".to_owned(),
            SIS_LIAISON,
            false,
            fix,
            Vec::new(),
        ));
    }
    out
}

/// Columns with values that carry student data the vendor does not need.
fn excess(needs: &DataNeeds, sis: &SisSummary, dpa: Option<&SignedExhibitB>) -> Vec<ExcessColumn> {
    // Only a whole export is sent as it is; a custom layout sends what the district maps.
    if matches!(needs.method, DataMethod::CustomCsv | DataMethod::None) {
        return Vec::new();
    }
    let version = sis.oneroster_version.unwrap_or(OneRosterVersion::V1_1);
    let needed: BTreeSet<(String, String)> = needs
        .elements
        .iter()
        .filter_map(DataElement::column)
        .map(|c| (format!("{}.csv", c.stem), c.column.to_owned()))
        .collect();
    let header_only: BTreeSet<String> = needs
        .header_only
        .iter()
        .map(|n| format!("{}.csv", n.strip_suffix(".csv").unwrap_or(n)))
        .collect();
    let mut out = Vec::new();
    for file in &sis.files {
        let Some(spec) = file.spec_name.as_deref() else {
            continue;
        };
        for c in &file.columns {
            let name = c.spec_name.as_deref().unwrap_or(&c.name);
            if c.filled == 0 || is_key(name) || needed.contains(&(spec.to_owned(), name.to_owned()))
            {
                continue;
            }
            let element = exhibit_b::for_column(version, spec, name).or_else(|| {
                oneroster::is_extension_column(name)
                    .then(|| exhibit_b::element("other.other"))
                    .flatten()
            });
            let Some(element) = element else {
                continue;
            };
            out.push(ExcessColumn {
                file: file.name.clone(),
                column: c.name.clone(),
                filled: c.filled,
                exhibit_b: element.title.to_owned(),
                category: element.category.title().to_owned(),
                sensitive: element.sensitive(),
                header_only: header_only.contains(spec),
                dpa_covered: dpa.map(|d| d.covers(element)),
            });
        }
    }
    out
}

/// A record's id or a reference to another record's: every OneRoster file carries them, and
/// a vendor that takes the file needs them to join its rows.
fn is_key(column: &str) -> bool {
    column == "sourcedId" || column.ends_with("SourcedId") || column.ends_with("SourcedIds")
}

fn minimisation_condition(excess: &[ExcessColumn], sis: &SisSummary) -> Option<Condition> {
    if excess.is_empty() {
        return None;
    }
    let mut by_file: BTreeMap<&str, Vec<&ExcessColumn>> = BTreeMap::new();
    for x in excess {
        by_file.entry(x.file.as_str()).or_default().push(x);
    }
    let items = by_file
        .iter()
        .map(|(file, cols)| {
            let names: Vec<&str> = cols.iter().map(|c| c.column.as_str()).collect();
            if cols.iter().any(|c| c.header_only) {
                format!("{file}: send the header only ({})", names.join(", "))
            } else {
                format!("{file}: {}", names.join(", "))
            }
        })
        .collect();
    let sensitive: BTreeSet<&str> = excess
        .iter()
        .filter(|x| x.sensitive)
        .map(|x| x.category.as_str())
        .collect();
    let mut why = if sensitive.is_empty() {
        String::new()
    } else {
        format!(
            ", among them {}",
            sensitive.into_iter().collect::<Vec<_>>().join(", ")
        )
    };
    // What the signed agreement does not cover may not be sent at all.
    let uncovered = excess
        .iter()
        .filter(|x| x.dpa_covered == Some(false))
        .count();
    if uncovered > 0 {
        why.push_str(&format!(
            "; {uncovered} of them outside the signed Exhibit B"
        ));
    }
    Some(condition(
        ConditionKind::DataMinimise,
        FixKind::ChangeExport,
        format!(
            "Send the vendor a filtered export: {}'s export as it is carries {} filled column(s) the vendor does not need{why}",
            sis.source_system(),
            excess.len()
        ),
        SIS_LIAISON,
        excess.iter().any(|x| x.sensitive) || uncovered > 0,
        items,
        Vec::new(),
    ))
}

/// Required elements the vendor's own format cannot carry: no district action fixes that.
fn not_carried(needs: &DataNeeds, rows: &[ElementRow]) -> Vec<Blocker> {
    rows.iter()
        .filter(|r| r.required && r.status == ElementStatus::NotCarried)
        .map(|r| {
            let versions: Vec<&str> = needs.versions.iter().map(|v| v.as_str()).collect();
            Blocker {
                requirement: r.requirement.clone(),
                title: format!("Data element {}", r.source),
                reason: format!(
                    "the vendor requires it but takes {} {}, which has no such column",
                    needs.method,
                    versions.join(" or ")
                ),
                evidence: Vec::new(),
            }
        })
        .collect()
}

/// The agreement: elements it does not cover, or no signed Exhibit B recorded at all.
fn privacy_conditions(rows: &[ElementRow], dpa: Option<&SignedExhibitB>) -> Vec<Condition> {
    let received: Vec<&ElementRow> = rows
        .iter()
        .filter(|r| r.exhibit_b.is_some() && r.status != ElementStatus::NotCarried)
        .collect();
    if received.is_empty() {
        return Vec::new();
    }
    let Some(_) = dpa else {
        let sensitive = received.iter().any(|r| r.sensitive);
        return vec![condition(
            ConditionKind::DataAgreement,
            FixKind::Agreement,
            format!(
                "Obtain the vendor's signed data privacy agreement with its Exhibit B and record the elements it ticks: the vendor would receive {} student data element(s){}",
                received.len(),
                if sensitive {
                    ", some of them sensitive"
                } else {
                    ""
                }
            ),
            PRIVACY_OFFICER,
            true,
            Vec::new(),
            Vec::new(),
        )];
    };
    let gaps: Vec<&&ElementRow> = received
        .iter()
        .filter(|r| r.dpa_covered == Some(false))
        .collect();
    if gaps.is_empty() {
        return Vec::new();
    }
    vec![condition(
        ConditionKind::DataAgreement,
        FixKind::Agreement,
        format!(
            "Amend the signed agreement's Exhibit B, or withhold the data: the vendor needs {} element(s) the agreement does not cover",
            gaps.len()
        ),
        PRIVACY_OFFICER,
        true,
        gaps.iter()
            .map(|r| {
                format!(
                    "{} ({}: {})",
                    r.source,
                    r.category.as_deref().unwrap_or("?"),
                    r.exhibit_b.as_deref().unwrap_or("?")
                )
            })
            .collect(),
        gaps.iter().map(|r| r.requirement.clone()).collect(),
    )]
}

fn summary_words(
    needs: &DataNeeds,
    status: DataStatus,
    rows: &[ElementRow],
    sis: Option<&SisSummary>,
    out: &Data,
) -> String {
    match status {
        DataStatus::NotNeeded => format!(
            "The product takes no roster from the SIS{}.",
            needs
                .note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        ),
        DataStatus::NotAssessed => format!(
            "Not assessed: no SIS summary has been uploaded, so whether the district's export holds the {} element(s) the vendor needs is unknown. Run `fitcheck-agent sis inspect EXPORT` on the SIS export and upload the summary.",
            rows.len()
        ),
        DataStatus::Assessed => {
            let count = |s: ElementStatus| rows.iter().filter(|r| r.status == s).count();
            let required = out.conditions.iter().filter(|c| c.required).count();
            format!(
                "{} of {} element(s) met, {} partly, {} missing{} in {}'s export of {}. {} required data action(s){}.",
                count(ElementStatus::Met),
                rows.len(),
                count(ElementStatus::Partly),
                count(ElementStatus::Missing),
                match count(ElementStatus::NotCarried) {
                    0 => String::new(),
                    n => format!(", {n} that the vendor's format cannot carry"),
                },
                sis.map_or("the SIS", SisSummary::source_system),
                sis.map_or(String::new(), |s| s.generated_at.clone()),
                required,
                if out.blockers.is_empty() {
                    ""
                } else {
                    "; the vendor's format cannot carry a required element"
                }
            )
        }
    }
}
