//! Renderers of a [`Recommendation`]: Markdown for the committee packet and for e-mail, JSON
//! for scripts. They only format; every judgement is the engine's.

use std::fmt::Write;

use fitcheck_core::evaluate::Status;

use fitcheck_engine::{Cell, DeviceModelRow, Recommendation, SiteDirection, SiteThroughput};

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
            c.devices_reported,
            if c.enough { "yes" } else { "**no**" }
        );
    }
    out.push('\n');

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

    if !r.notes.is_empty() {
        let _ = writeln!(out, "## What the checks cannot see\n");
        for n in &r.notes {
            let _ = writeln!(out, "- {}", escape(n));
        }
        out.push('\n');
    }
    let _ = writeln!(out, "## Sources\n");
    for s in &e.sources {
        let _ = writeln!(out, "- {}", escape(s));
    }
    out
}

/// The last 8 characters of an id: random in every UUID fitcheck makes (a report id is
/// time-ordered at its start, so reports of one minute share their first block), enough to
/// tell reports and agents apart in a list; links carry the whole id.
pub fn short(id: &str) -> &str {
    let cut = id.len().saturating_sub(8);
    id.get(cut..).unwrap_or(id)
}
