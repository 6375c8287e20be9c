//! The `fitcheck-agent` binary as a user runs it: exit codes and what it prints.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

mod common;

/// The agent, with no proxy to hand anything to.
fn agent() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_fitcheck-agent"));
    for v in common::PROXY_VARS {
        cmd.env_remove(v);
    }
    cmd
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn profile_check_prints_the_golden_errors_and_fails() {
    let out = agent()
        .current_dir(repo())
        .args([
            "profile",
            "check",
            "tests/data/bad/16-many-semantic-errors.toml",
            "profiles/zoom.toml",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let golden =
        std::fs::read_to_string(repo().join("tests/data/bad/16-many-semantic-errors.err")).unwrap();
    assert!(stderr.starts_with(&golden), "stderr was:\n{stderr}");
    assert!(
        stderr.ends_with("1 of 2 profiles have errors\n"),
        "{stderr}"
    );
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("profiles/zoom.toml: ok"), "{stdout}");
}

#[test]
fn profile_check_accepts_the_whole_library() {
    let mut files: Vec<String> = std::fs::read_dir(repo().join("profiles"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "toml"))
        .map(|p| p.display().to_string())
        .collect();
    files.sort();
    let out = agent()
        .arg("profile")
        .arg("check")
        .args(&files)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_malformed_profile_never_runs_and_writes_no_report() {
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("report.json");
    let out = agent()
        .current_dir(repo())
        .args([
            "run",
            "--quiet",
            "--profile",
            "tests/data/bad/06-reversed-port-range.toml",
        ])
        .arg("--json")
        .arg(&report)
        .arg("--state-dir")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("ports[0].range: \"8810-8801\" is reversed")
            && stderr.contains("nothing was run"),
        "{stderr}"
    );
    assert!(!report.exists());
    assert!(
        out.stdout.is_empty(),
        "no verdict is printed for a profile that did not run"
    );
}

#[test]
fn a_bad_label_is_refused_before_anything_runs() {
    // Were the label accepted, the profile's only host is a reserved name and the state stays
    // in a temporary directory: nothing leaves the machine.
    let dir = tempfile::tempdir().unwrap();
    let profile = dir.path().join("p.toml");
    std::fs::write(
        &profile,
        "format = 1\nid = \"p\"\nname = \"P\"\nvendor = \"Lab\"\nreviewed = \"2026-11-23\"\n\
         sources = [\"https://lab.example/\"]\n[[dns]]\nname = \"product.invalid\"\n",
    )
    .unwrap();
    let out = agent()
        .arg("run")
        .arg("--profile")
        .arg(&profile)
        .arg("--state-dir")
        .arg(dir.path().join("state"))
        .args(["--label", "Site=x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("label key \"Site\""));
}

#[test]
fn a_missing_profile_file_is_named() {
    let out = agent()
        .args(["run", "--profile", "/nonexistent/zoom.toml"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot read profile /nonexistent/zoom.toml")
    );
}
