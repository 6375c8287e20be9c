//! Profiles as users meet them: every bundled profile loads, and every broken one in
//! `tests/data/bad/` gets exactly the message in its `.err` file (set `UPDATE_EXPECT=1` to
//! rewrite them, then review the diff).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use fitcheck_core::profile::Profile;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(repo().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    out.sort();
    out
}

#[test]
fn every_bundled_profile_validates_and_cites_its_sources() {
    let profiles = files("profiles", "toml");
    assert!(
        profiles.len() >= 12,
        "the library has {} profiles",
        profiles.len()
    );
    for path in profiles {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = format!("profiles/{}", path.file_name().unwrap().to_string_lossy());
        let p = Profile::parse(&name, &text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            format!("profiles/{}.toml", p.id),
            name,
            "a profile's file is named after its id"
        );
        assert!(!p.sources.is_empty());
        assert!(
            p.sources.iter().all(|s| s.starts_with("https://")),
            "{name}: sources are vendor pages"
        );
    }
}

#[test]
fn broken_profiles_get_exact_located_messages() {
    let bad = files("tests/data/bad", "toml");
    assert!(bad.len() >= 15, "only {} bad profiles", bad.len());
    for path in bad {
        let text = std::fs::read_to_string(&path).unwrap();
        let name = format!(
            "tests/data/bad/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let err = match Profile::parse(&name, &text) {
            Ok(_) => panic!("{name} was accepted"),
            Err(e) => e,
        };
        let got = format!("{err}\n");
        // The same files are the API test's expectations (controller/tests/api).
        expect_test::expect_file![path.with_extension("err")].assert_eq(&got);
        for e in &err.errors {
            assert!(e.line >= 1 && e.column >= 1, "{name}: {e}");
        }
    }
}

#[test]
fn all_semantic_errors_are_reported_at_once() {
    let path = repo().join("tests/data/bad/16-many-semantic-errors.toml");
    let text = std::fs::read_to_string(path).unwrap();
    let err = Profile::parse("x.toml", &text).unwrap_err();
    let paths: Vec<&str> = err.errors.iter().map(|e| e.path.as_str()).collect();
    assert_eq!(
        paths,
        [
            "dns[1].name",
            "ports[0].range",
            "network.download_mbps_per_user",
            "network.max_loss_percent",
            "device",
            "device.cpu_cores_min",
        ]
    );
}
