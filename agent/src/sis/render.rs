//! The summary as the SIS liaison reads it on the terminal: the manifest, each file with its
//! rows and its columns' fill per role, then the findings, the ones to fix first.

use std::fmt::Write;

use fitcheck_core::data::summary::{Severity, SisSummary};

/// The summary in words.
pub fn text(s: &SisSummary) -> String {
    let mut out = String::new();
    let version = s.oneroster_version.map_or("unknown", |v| v.as_str());
    let _ = writeln!(
        out,
        "{} ({:?}, {} bytes): OneRoster {version}, from {}",
        s.source.name,
        s.source.kind,
        s.source.bytes,
        s.source_system()
    );
    if let Some(d) = s.delivery {
        let _ = writeln!(out, "delivery: {d:?}");
    }
    if !s.users_by_role.is_empty() || s.users_without_role > 0 {
        let roles: Vec<String> = s
            .users_by_role
            .iter()
            .map(|(r, n)| format!("{n} {}", r.as_str()))
            .collect();
        let _ = writeln!(
            out,
            "users: {}{}",
            roles.join(", "),
            if s.users_without_role > 0 {
                format!(" ({} without a role)", s.users_without_role)
            } else {
                String::new()
            }
        );
    }
    for f in &s.files {
        let spec = match f.spec_name.as_deref() {
            Some(n) if n != f.name => format!(" (read as {n})"),
            Some(_) => String::new(),
            None => " (not a OneRoster file)".to_owned(),
        };
        let _ = writeln!(out, "\n{}{spec}: {} row(s)", f.name, f.rows);
        for c in &f.columns {
            let roles: Vec<String> = c
                .filled_by_role
                .iter()
                .map(|(r, n)| format!("{} {n}", r.as_str()))
                .collect();
            let _ = writeln!(
                out,
                "  {:<28} {:>10} filled{}",
                c.name,
                c.filled,
                if roles.is_empty() {
                    String::new()
                } else {
                    format!("  ({})", roles.join(", "))
                }
            );
        }
    }
    let mut findings: Vec<_> = s.findings.iter().collect();
    findings.sort_by_key(|f| f.kind.severity());
    if !findings.is_empty() {
        let _ = writeln!(out, "\nfindings:");
        for f in findings {
            let mark = match f.kind.severity() {
                Severity::Fix => "fix ",
                Severity::Note => "note",
            };
            let _ = writeln!(out, "  {mark}  {f}");
        }
    }
    out
}
