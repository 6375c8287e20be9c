//! A district's SIS export as the agent inspects it on the district's machine: a zip file, or a
//! folder of OneRoster CSV files (the input split on 0xFF bytes into users.csv, orgs.csv,
//! enrollments.csv and manifest.csv). Nothing may panic; nothing may be read past the limits.
#![no_main]

use fitcheck_agent::sis::{Limits, inspect};
use libfuzzer_sys::fuzz_target;

const FILES: [&str; 4] = ["users.csv", "orgs.csv", "enrollments.csv", "manifest.csv"];

fuzz_target!(|data: &[u8]| {
    let Some((first, rest)) = data.split_first() else {
        return;
    };
    let Ok(dir) = tempfile::tempdir() else {
        return;
    };
    let limits = Limits {
        people_file_bytes: 1 << 20,
        file_bytes: 1 << 20,
        total_bytes: 4 << 20,
        max_ratio: 200,
        max_files: 16,
        role_slots: 1 << 10,
    };
    let path = if first % 2 == 0 {
        let folder = dir.path().join("export");
        if std::fs::create_dir(&folder).is_err() {
            return;
        }
        for (name, part) in FILES.iter().zip(rest.split(|b| *b == 0xFF)) {
            if std::fs::write(folder.join(name), part).is_err() {
                return;
            }
        }
        folder
    } else {
        let file = dir.path().join("export.zip");
        if std::fs::write(&file, rest).is_err() {
            return;
        }
        file
    };
    let _ = inspect(&path, &limits, "2026-12-06T00:00:00Z");
});
