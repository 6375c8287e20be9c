//! The readable verdict printed after a run: one line per requirement, expected next to
//! observed, what to do about each one that did not pass, and the verdict.

use std::fmt::Write as _;

use fitcheck_core::evaluate::{Evaluation, Status};
use fitcheck_core::report::Report;

const MAX_TITLE: usize = 44;
const MAX_EXPECTED: usize = 34;
const MAX_OBSERVED: usize = 70;

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

fn pad(s: &str, width: usize) -> String {
    let n = s.chars().count();
    format!("{s}{}", " ".repeat(width.saturating_sub(n)))
}

fn status_word(s: Status) -> &'static str {
    match s {
        Status::Pass => "pass",
        Status::Warn => "WARN",
        Status::Fail => "FAIL",
        Status::Unknown => "unknown",
    }
}

/// The whole verdict as text.
pub fn verdict_text(report: &Report, eval: &Evaluation) -> String {
    let mut out = String::new();
    write_heading(&mut out, report);
    write_table(&mut out, eval);
    write_todo(&mut out, eval);
    write_verdict(&mut out, eval);
    out
}

/// The profile, the device and its labels, then a blank line.
fn write_heading(out: &mut String, report: &Report) {
    let d = &report.device;
    let _ = writeln!(
        out,
        "{} ({}), profile {} {}",
        report.profile.name,
        report.profile.vendor,
        report.profile.id,
        report
            .profile
            .digest
            .get(..19)
            .unwrap_or(&report.profile.digest)
    );
    let _ = writeln!(
        out,
        "Device: {}, {}, {} logical cores, {:.1} GiB usable",
        d.os.name,
        d.os.architecture,
        d.cpu.logical_cores,
        d.memory.total_bytes as f64 / (1024.0 * 1024.0 * 1024.0)
    );
    if !report.agent.labels.is_empty() {
        let labels: Vec<String> = report
            .agent
            .labels
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let _ = writeln!(out, "Labels: {}", labels.join(" "));
    }
    out.push('\n');
}

/// One row per requirement (status, requirement, expected, observed) under a header, in
/// columns as wide as their widest cell.
fn write_table(out: &mut String, eval: &Evaluation) {
    let rows = table_rows(eval);
    let header = ["STATUS", "REQUIREMENT", "EXPECTED", "OBSERVED"];
    let mut widths = header.map(|h| h.chars().count());
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row.iter()) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |cells: [&str; 4]| {
        format!(
            "{}  {}  {}  {}",
            pad(cells[0], widths[0]),
            pad(cells[1], widths[1]),
            pad(cells[2], widths[2]),
            cells[3]
        )
    };
    let _ = writeln!(out, "{}", line(header).trim_end());
    for row in &rows {
        let _ = writeln!(
            out,
            "{}",
            line([&row[0], &row[1], &row[2], &row[3]]).trim_end()
        );
    }
}

/// Each requirement's cells: its status word, its title (marked when optional), and what was
/// expected and observed, each clipped to its column's limit.
fn table_rows(eval: &Evaluation) -> Vec<[String; 4]> {
    eval.requirements
        .iter()
        .map(|r| {
            let mut title = clip(&r.title, MAX_TITLE);
            if !r.critical {
                title.push_str(" (optional)");
            }
            [
                status_word(r.status).to_owned(),
                title,
                clip(&r.expected, MAX_EXPECTED),
                clip(&r.observed, MAX_OBSERVED),
            ]
        })
        .collect()
}

/// The remedy of each requirement that did not pass, when there are any.
fn write_todo(out: &mut String, eval: &Evaluation) {
    let todo: Vec<_> = eval
        .requirements
        .iter()
        .filter(|r| r.status != Status::Pass)
        .filter_map(|r| r.remedy.as_ref().map(|m| (r, m)))
        .collect();
    if !todo.is_empty() {
        out.push_str("\nWhat to do:\n");
        for (r, m) in todo {
            let _ = writeln!(out, "  - {} ({}): {m}", r.title, r.id);
        }
    }
}

/// The verdict with the count of each status, and what could not be verified.
fn write_verdict(out: &mut String, eval: &Evaluation) {
    let unknown: Vec<&str> = eval
        .requirements
        .iter()
        .filter(|r| r.status == Status::Unknown)
        .map(|r| r.title.as_str())
        .collect();
    let _ = writeln!(
        out,
        "\nVerdict: {} ({} pass, {} warn, {} fail, {} unknown)",
        eval.verdict,
        eval.count(Status::Pass),
        eval.count(Status::Warn),
        eval.count(Status::Fail),
        eval.count(Status::Unknown)
    );
    if !unknown.is_empty() {
        let _ = writeln!(out, "Not verified on this device: {}", unknown.join(", "));
    }
}

/// A bandwidth result as text, for `fitcheck-agent bandwidth`.
pub fn bandwidth_text(result: &fitcheck_core::report::CheckResult) -> String {
    let fitcheck_core::report::CheckResult::Bandwidth(b) = result else {
        return format!("{}: {}\n", result.target(), result.outcome_word());
    };
    let f =
        |v: Option<f64>, unit: &str| v.map_or_else(|| "-".to_owned(), |v| format!("{v:.1} {unit}"));
    let mut out = String::new();
    let _ = writeln!(out, "Target:    {}", b.target);
    let _ = writeln!(out, "Method:    {}", b.method);
    let _ = writeln!(
        out,
        "Download:  {} (measured over {})",
        f(b.download_mbps, "Mbit/s"),
        f(b.download_window_ms.map(|m| m / 1000.0), "s")
    );
    let _ = writeln!(
        out,
        "Upload:    {} (measured over {})",
        f(b.upload_mbps, "Mbit/s"),
        f(b.upload_window_ms.map(|m| m / 1000.0), "s")
    );
    let _ = writeln!(
        out,
        "RTT:       {} idle, {} while downloading",
        f(b.rtt_idle_ms, "ms"),
        f(b.rtt_loaded_ms, "ms")
    );
    let _ = writeln!(
        out,
        "Carried:   {:.1} MB in {:.1} s",
        b.bytes as f64 / 1e6,
        b.duration_ms / 1000.0
    );
    if !b.validity.is_empty() {
        let _ = writeln!(out, "Caveats:   {}", b.validity.join(", "));
    }
    if let Some(d) = &b.detail {
        let _ = writeln!(out, "Detail:    {d}");
    }
    out
}
