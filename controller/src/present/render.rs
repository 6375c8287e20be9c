//! Renderers of a [`Recommendation`]: Markdown for the committee packet and for e-mail, JSON
//! for scripts. They only format; every judgement is the engine's.

use std::fmt::Write;

use fitcheck_core::evaluate::Status;

use crate::types::{Decision, Party};

use fitcheck_engine::{
    Cell, Condition, ConditionKind, DataSection, DeviceModelRow, Recommendation, SiteDirection,
    SiteThroughput,
};

/// The recommendation as pretty JSON (schema `fitcheck.recommendation/v1`).
pub fn json(r: &Recommendation) -> String {
    serde_json::to_string_pretty(r).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

fn mark(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Unknown => "unknown",
    }
}

fn cell_text(c: &Cell) -> String {
    let total = c.pass + c.warn + c.fail + c.unknown;
    match c.status {
        Status::Pass => format!("pass ({}/{total})", c.pass),
        Status::Fail => format!("**FAIL** ({}/{total})", c.fail),
        Status::Warn => format!("WARN ({}/{total})", c.warn),
        Status::Unknown => format!("unknown ({total})"),
    }
}

/// A figure in Mbit/s as the pages print it: whole above 100, one decimal below, — for none.
pub fn mbps(v: Option<f64>) -> String {
    v.map_or("—".to_owned(), |v| {
        if v >= 100.0 {
            format!("{v:.0}")
        } else {
            format!("{v:.1}")
        }
    })
}

/// A value from a profile, an evaluation or a report, made inert in Markdown prose and table
/// cells: no raw HTML (`<`, `>`, `&` become entities, which every viewer shows as the
/// characters), no links or images (`[`, `]` escaped), no table breaks (`|`), one line.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '[' => out.push_str("\\["),
            ']' => out.push_str("\\]"),
            '|' => out.push_str("\\|"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// The committee's decision, for an export: each party's standing decision as a table, and
/// the whole history; nothing when no party has decided.
pub fn decision_markdown(d: &Decision) -> String {
    if d.history.is_empty() {
        return String::new();
    }
    let mut out = String::from("\n## Committee decision\n\n");
    out.push_str(if d.approved {
        "**Approved** by Business, Curriculum and Technology.\n\n"
    } else {
        "Not approved: a product needs the approval of Business, Curriculum and Technology.\n\n"
    });
    out.push_str("| Party | Decision | By | When | Note |\n|---|---|---|---|---|\n");
    for party in Party::ALL {
        match d.approvals.iter().find(|a| a.party == party) {
            Some(a) => {
                let basis = a.recommendation.as_ref().map_or(String::new(), |r| {
                    format!(
                        " (based on the recommendation of {}: {}, `{}`)",
                        escape(&r.generated_at),
                        escape(&r.verdict),
                        code(&r.digest)
                    )
                });
                out.push_str(&format!(
                    "| {} | {} | {} | {} | {}{basis} |\n",
                    party.words(),
                    a.outcome.words(),
                    escape(&a.decided_by),
                    escape(&a.decided_at),
                    escape(&a.note)
                ));
            }
            None => out.push_str(&format!("| {} | not decided | | | |\n", party.words())),
        }
    }
    if d.history.len() > d.approvals.len() {
        out.push_str("\nEvery decision recorded:\n\n");
        for a in &d.history {
            out.push_str(&format!(
                "- {}: {} {} by {}\n",
                escape(&a.decided_at),
                a.party.words(),
                a.outcome.words(),
                escape(&a.decided_by)
            ));
        }
    }
    out
}

/// What a model's devices showed for each requirement it falls short of (`device.os: …`).
pub fn shortfalls(m: &DeviceModelRow) -> Vec<String> {
    m.requirements
        .iter()
        .filter(|(_, c)| c.status.falls_short())
        .map(|(id, c)| format!("{id}: {}", c.observed.join(" / ")))
        .collect()
}

/// A value shown as code (between backticks), where Markdown shows every character as it is:
/// only a backtick could end the span early, and a line break the line.
fn code(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '`' => '\'',
            '\n' | '\r' => ' ',
            c => c,
        })
        .collect()
}

/// How one direction's site figure was made, in words.
pub fn direction_words(d: &SiteDirection) -> String {
    let mut out = match d.common_window_ms {
        Some(w) => format!(
            "{} measuring together over a common {:.1} s window",
            devices(d.devices),
            w / 1000.0
        ),
        None => format!(
            "best of {}, not measured together",
            devices(d.devices + d.left_out.len() as u32)
        ),
    };
    if d.common_window_ms.is_some() && !d.left_out.is_empty() {
        out.push_str(&format!("; left out: {}", d.left_out.join("; ")));
    }
    out
}

fn devices(n: u32) -> String {
    if n == 1 {
        "1 device".to_owned()
    } else {
        format!("{n} devices")
    }
}

/// The throughput line for one site, in words.
pub fn throughput_words(t: &SiteThroughput) -> String {
    let way = |word: &str, d: &Option<SiteDirection>, need: Option<f64>| match d {
        Some(d) => format!(
            "{word} {} Mbit/s measured, {} Mbit/s needed ({})",
            mbps(Some(d.mbps)),
            mbps(need),
            direction_words(d)
        ),
        None => format!("{word} not measured, {} Mbit/s needed", mbps(need)),
    };
    format!(
        "{} users: {}; {}; carries {} users today",
        t.users,
        way("download", &t.download, t.download_needed_mbps),
        way("upload", &t.upload, t.upload_needed_mbps),
        t.max_users
            .map_or("an unknown number of".to_owned(), |n| n.to_string())
    )
}

/// The recommendation as Markdown.
pub fn markdown(r: &Recommendation) -> String {
    let mut out = String::new();
    let e = &r.evaluation;
    let _ = writeln!(
        out,
        "# {} — technology recommendation\n",
        escape(&e.product)
    );
    let _ = writeln!(out, "**Verdict: {}**\n", r.verdict.words());
    let _ = writeln!(out, "{}\n", escape(&r.summary));
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(
        out,
        "| Evaluation | {} (`{}`) |",
        escape(&e.title),
        code(&e.id)
    );
    let _ = writeln!(
        out,
        "| Product | {} — {} |",
        escape(&e.product),
        escape(&e.vendor)
    );
    let p = &e.proposal;
    for (label, value) in [
        ("Sponsor", p.sponsor.as_deref()),
        ("Decision needed by", p.deadline.as_deref()),
        ("Budget code", p.budget_code.as_deref()),
    ] {
        if let Some(v) = value {
            let _ = writeln!(out, "| {label} | {} |", escape(v));
        }
    }
    if !p.data_needs.is_empty() {
        let _ = writeln!(
            out,
            "| Data the product needs | {} |",
            escape(&p.data_needs.join("; "))
        );
    }
    let _ = writeln!(
        out,
        "| Window | {} to {} |",
        escape(e.window_start.as_deref().unwrap_or("—")),
        escape(&e.window_end)
    );
    let _ = writeln!(
        out,
        "| Profile | `{}` ({}) |",
        code(&e.profile_id),
        escape(&e.profile_digest)
    );
    let _ = writeln!(out, "| Written | {} |\n", escape(&r.generated_at));
    for section in [
        md_blockers_and_gaps,
        md_conditions,
        md_coverage,
        md_matrix,
        md_devices,
        md_throughput,
        md_notes,
        md_data,
        md_sources,
    ] {
        section(&mut out, r);
    }
    out
}

/// What stands in the way: blockers, and the gaps in the evidence.
fn md_blockers_and_gaps(out: &mut String, r: &Recommendation) {
    if !r.blockers.is_empty() {
        let _ = writeln!(out, "## Why it cannot be used\n");
        for b in &r.blockers {
            let _ = writeln!(
                out,
                "- **{}** (`{}`): {}",
                escape(&b.title),
                code(&b.requirement.to_string()),
                escape(&b.reason)
            );
        }
        out.push('\n');
    }
    if !r.gaps.is_empty() {
        let _ = writeln!(out, "## Evidence still missing\n");
        for g in &r.gaps {
            let _ = writeln!(out, "- {}", escape(g));
        }
        out.push('\n');
    }
}

/// The conditions, each an action with its owner and evidence.
fn md_conditions(out: &mut String, r: &Recommendation) {
    let _ = writeln!(out, "## Conditions\n");
    if r.conditions.is_empty() {
        let _ = writeln!(out, "None: nothing needs to change.\n");
    }
    for c in &r.conditions {
        let need = if c.required {
            "required"
        } else {
            "recommended"
        };
        let _ = writeln!(
            out,
            "- [ ] {} — *{}*, {need}, {}",
            escape(&c.action),
            escape(&c.owner),
            c.fix.words()
        );
        let reports: Vec<String> = c
            .evidence
            .iter()
            .map(|e| format!("`{}` ({})", code(short(&e.report_id)), escape(&e.site)))
            .collect();
        if !reports.is_empty() {
            let _ = writeln!(out, "  - evidence: {}", reports.join(", "));
        }
    }
    out.push('\n');
}

/// Coverage: devices per site.
fn md_coverage(out: &mut String, r: &Recommendation) {
    let _ = writeln!(out, "## Coverage\n");
    let _ = writeln!(
        out,
        "| Site | Agents in scope | Devices reported | Enough to judge |"
    );
    let _ = writeln!(out, "|---|---|---|---|");
    for c in &r.coverage {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            escape(&c.site),
            c.agents,
            if c.browsers_reported > 0 {
                format!(
                    "{} ({} browser agent(s), counted apart)",
                    c.devices_reported, c.browsers_reported
                )
            } else {
                c.devices_reported.to_string()
            },
            if c.enough { "yes" } else { "**no**" }
        );
    }
    out.push('\n');
}

/// The site × requirement matrix.
fn md_matrix(out: &mut String, r: &Recommendation) {
    if !r.matrix.is_empty() {
        let sites: Vec<&String> = r.coverage.iter().map(|c| &c.site).collect();
        let _ = writeln!(out, "## Network requirements by site\n");
        let _ = write!(out, "| Requirement | Expected |");
        for s in &sites {
            let _ = write!(out, " {} |", escape(s));
        }
        let _ = write!(out, "\n|---|---|");
        for _ in &sites {
            out.push_str("---|");
        }
        out.push('\n');
        for row in &r.matrix {
            let crit = if row.critical { "" } else { " (optional)" };
            let _ = write!(
                out,
                "| {}{crit} | {} |",
                escape(&row.title),
                escape(&row.expected)
            );
            for s in &sites {
                let text = row.sites.get(*s).map_or("—".to_owned(), cell_text);
                let _ = write!(out, " {text} |");
            }
            out.push('\n');
        }
        out.push('\n');
    }
}

/// Device models and how they fare.
fn md_devices(out: &mut String, r: &Recommendation) {
    if !r.device_models.is_empty() {
        let _ = writeln!(out, "## Devices by model\n");
        let _ = writeln!(out, "| Model | Devices | Sites | Result | Failing |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for m in &r.device_models {
            let failing = shortfalls(m);
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                escape(&m.model),
                m.devices,
                escape(&m.sites.join(", ")),
                mark(m.status),
                escape(&failing.join("; "))
            );
        }
        out.push('\n');
    }
}

/// Throughput per site.
fn md_throughput(out: &mut String, r: &Recommendation) {
    if !r.throughput.is_empty() {
        let _ = writeln!(out, "## Uplink capacity by site\n");
        for t in &r.throughput {
            let _ = writeln!(
                out,
                "- **{}** ({}): {}",
                escape(&t.site),
                mark(t.status),
                escape(&throughput_words(t))
            );
        }
        out.push('\n');
    }
}

/// Notes.
fn md_notes(out: &mut String, r: &Recommendation) {
    if !r.notes.is_empty() {
        let _ = writeln!(out, "## What the checks cannot see\n");
        for n in &r.notes {
            let _ = writeln!(out, "- {}", escape(n));
        }
        out.push('\n');
    }
}

/// The vendor's data files.
fn md_data(out: &mut String, r: &Recommendation) {
    if let Some(d) = &r.data {
        let _ = writeln!(out, "## Data files\n");
        data_markdown(out, d, &r.conditions);
    }
}

/// The profile's sources.
fn md_sources(out: &mut String, r: &Recommendation) {
    let e = &r.evaluation;
    let _ = writeln!(out, "## Sources\n");
    for s in &e.sources {
        let _ = writeln!(out, "- {}", escape(s));
    }
}

/// The last 8 characters of an id: random in every UUID fitcheck makes (a report id is
/// time-ordered at its start, so reports of one minute share their first block), enough to
/// tell reports and agents apart in a list; links carry the whole id.
pub fn short(id: &str) -> &str {
    let cut = id.len().saturating_sub(8);
    id.get(cut..).unwrap_or(id)
}

/// Whether a condition is about the vendor's data files.
pub fn is_data(c: &Condition) -> bool {
    matches!(
        c.kind,
        ConditionKind::DataComplete
            | ConditionKind::DataAdd
            | ConditionKind::DataFormat
            | ConditionKind::DataMinimise
            | ConditionKind::DataAgreement
    )
}

pub use fitcheck_engine::data::fill_words;

/// The data section: the vendor's method, the export judged against, each element, what the
/// export would send beyond, the data actions with their items.
fn data_markdown(out: &mut String, d: &DataSection, conditions: &[Condition]) {
    let _ = writeln!(out, "**{}.** {}\n", d.status.words(), escape(&d.summary));
    data_facts_markdown(out, d);
    data_elements_markdown(out, d);
    data_lists_markdown(out, d, conditions);
}

/// The vendor's method and endpoint, the export, the transfer check, the agreement.
fn data_facts_markdown(out: &mut String, d: &DataSection) {
    let versions = if d.versions.is_empty() {
        String::new()
    } else {
        format!(" {}", d.versions.join(" or "))
    };
    let _ = writeln!(out, "| | |\n|---|---|");
    let _ = writeln!(out, "| Method | {}{versions} |", escape(&d.method));
    for (label, value) in [
        ("Delivery", d.delivery.as_deref()),
        ("Schedule", d.schedule.as_deref()),
        ("Transfer endpoint", d.endpoint.as_deref()),
        ("Vendor contact", d.contact.as_deref()),
        ("Vendor's note", d.note.as_deref()),
    ] {
        if let Some(v) = value {
            let _ = writeln!(out, "| {label} | {} |", escape(v));
        }
    }
    if let Some(x) = &d.export {
        let _ = writeln!(
            out,
            "| District export | {} OneRoster {}, read {} |",
            escape(&x.source_system),
            escape(x.oneroster_version.as_deref().unwrap_or("?")),
            escape(&x.generated_at)
        );
    }
    if let Some(t) = &d.transfer {
        let _ = writeln!(
            out,
            "| Transfer check | {}: {} |",
            mark(t.status),
            escape(&t.observed)
        );
        for m in &t.machines {
            let _ = writeln!(
                out,
                "| — from {} (`{}`) | {}: {} |",
                escape(&m.site),
                code(short(&m.agent_id)),
                mark(m.status),
                escape(&m.observed)
            );
        }
    }
    let _ = writeln!(
        out,
        "| Signed Exhibit B | {} |\n",
        if d.dpa_recorded {
            "recorded"
        } else {
            "not recorded"
        }
    );
}

/// Each element against the export.
fn data_elements_markdown(out: &mut String, d: &DataSection) {
    if !d.elements.is_empty() {
        let _ = writeln!(
            out,
            "| Element | OneRoster column | Needed | State | Filled | Exhibit B | DPA |"
        );
        let _ = writeln!(out, "|---|---|---|---|---|---|---|");
        for e in &d.elements {
            let need = if e.required { "required" } else { "optional" };
            let roles = if e.roles.is_empty() {
                String::new()
            } else {
                format!(" ({})", e.roles.join(", "))
            };
            let category = match (&e.category, &e.exhibit_b) {
                (Some(c), Some(x)) => format!(
                    "{c}: {x}{}",
                    if e.sensitive { " **sensitive**" } else { "" }
                ),
                _ => "—".to_owned(),
            };
            let dpa = match e.dpa_covered {
                Some(true) => "covered",
                Some(false) => "**not covered**",
                None => "—",
            };
            let _ = writeln!(
                out,
                "| {} | `{}` | {need}{} | {} | {} | {} | {dpa} |",
                escape(e.name.as_deref().unwrap_or(&e.source)),
                code(&e.source),
                escape(&roles),
                e.status.words(),
                escape(&fill_words(e)),
                escape(&category)
            );
        }
        out.push('\n');
    }
}

/// What is sent but not needed, and the data actions with their items.
fn data_lists_markdown(out: &mut String, d: &DataSection, conditions: &[Condition]) {
    if !d.minimisation.is_empty() {
        let _ = writeln!(
            out,
            "Filled columns the export would send that the vendor does not need:\n"
        );
        for x in &d.minimisation {
            let _ = writeln!(
                out,
                "- `{}` `{}` ({} rows; {}: {}{})",
                code(&x.file),
                code(&x.column),
                x.filled,
                escape(&x.category),
                escape(&x.exhibit_b),
                if x.sensitive { ", sensitive" } else { "" }
            );
        }
        out.push('\n');
    }
    let data: Vec<&Condition> = conditions.iter().filter(|c| is_data(c)).collect();
    if !data.is_empty() {
        let _ = writeln!(out, "Data actions:\n");
        for c in data {
            let _ = writeln!(
                out,
                "- [ ] {} — *{}*, {}",
                escape(&c.action),
                escape(&c.owner),
                if c.required {
                    "required"
                } else {
                    "recommended"
                }
            );
            for i in &c.items {
                let _ = writeln!(out, "  - {}", escape(i));
            }
        }
        out.push('\n');
    }
}

/// The Data Projects Form as Markdown: what the SIS liaison reviews and submits to the SIS
/// provider, with sign-off lines.
pub fn data_form_markdown(r: &Recommendation) -> Option<String> {
    let d = r.data.as_ref()?;
    let e = &r.evaluation;
    let mut out = String::new();
    let _ = writeln!(out, "# Data Projects Form — {}\n", escape(&e.product));
    let _ = writeln!(
        out,
        "| | |\n|---|---|\n| Product | {} |\n| Vendor | {} |\n| Evaluation | {} (`{}`) |\n| Written | {} |\n",
        escape(&e.product),
        escape(&e.vendor),
        escape(&e.title),
        code(&e.id),
        escape(&r.generated_at)
    );
    data_markdown(&mut out, d, &r.conditions);
    if !d.sources.is_empty() {
        let _ = writeln!(out, "Vendor's specification:\n");
        for s in &d.sources {
            let _ = writeln!(out, "- {}", escape(s));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Sign-off\n");
    for who in ["SIS liaison", "Data privacy officer"] {
        let _ = writeln!(
            out,
            "{who}: name ______________________  signature ______________________  date __________\n"
        );
    }
    Some(out)
}

/// A cell for a spreadsheet: a value that starts like a formula is kept as text.
fn sheet_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

/// The Data Projects Form as CSV for the SIS provider: one row per element.
pub fn data_form_csv(r: &Recommendation) -> Option<String> {
    let d = r.data.as_ref()?;
    let mut w = csv::Writer::from_writer(Vec::new());
    let header = [
        "product",
        "vendor",
        "method",
        "versions",
        "schedule",
        "endpoint",
        "element",
        "vendor_field",
        "oneroster_file",
        "oneroster_column",
        "required",
        "roles",
        "purpose",
        "state",
        "filled",
        "exhibit_b_category",
        "exhibit_b_element",
        "sensitive",
        "dpa_covered",
        "transfer_check",
    ];
    w.write_record(header).ok()?;
    for x in &d.elements {
        let row = [
            r.evaluation.product.clone(),
            r.evaluation.vendor.clone(),
            d.method.clone(),
            d.versions.join(" "),
            d.schedule.clone().unwrap_or_default(),
            d.endpoint.clone().unwrap_or_default(),
            x.source.clone(),
            x.name.clone().unwrap_or_default(),
            x.file.clone(),
            x.column.clone(),
            if x.required { "yes" } else { "no" }.to_owned(),
            x.roles.join(" "),
            x.purpose.clone().unwrap_or_default(),
            x.status.words().to_owned(),
            fill_words(x),
            x.category.clone().unwrap_or_default(),
            x.exhibit_b.clone().unwrap_or_default(),
            if x.sensitive { "yes" } else { "no" }.to_owned(),
            match x.dpa_covered {
                Some(true) => "yes",
                Some(false) => "no",
                None => "",
            }
            .to_owned(),
            d.transfer
                .as_ref()
                .map(|t| t.observed.clone())
                .unwrap_or_default(),
        ];
        w.write_record(row.iter().map(|c| sheet_cell(c))).ok()?;
    }
    String::from_utf8(w.into_inner().ok()?).ok()
}
