//! Software on the device, read where it is installed: Debian package databases written by
//! the real `dpkg` (a package at one version, another removed, a third never there), this
//! machine's own database against `dpkg-query`, programs and runtimes on a search path of our
//! own (one slow, one noisy), and snaps in a fixture tree; each then judged against a profile.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fitcheck_agent::facts::{self, FactSources};
use fitcheck_core::evaluate::{FixKind, RequirementOutcome, Status, evaluate};
use fitcheck_core::profile::{OsFamily, Profile};
use fitcheck_core::report::{Detection, SoftwareFacts};
use fitcheck_core::software::{SoftwareKind, SoftwareSource};

fn must(cmd: &mut Command) -> String {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A package built with `dpkg-deb`, installed into `root` with the real `dpkg`.
fn install(work: &Path, root: &Path, package: &str, version: &str) {
    let db = root.join("var/lib/dpkg");
    for d in ["updates", "info"] {
        fs::create_dir_all(db.join(d)).unwrap();
    }
    if !db.join("status").exists() {
        fs::write(db.join("status"), "").unwrap();
    }
    let src = work.join(format!("{package}-{}", version.replace(':', "_")));
    fs::create_dir_all(src.join("DEBIAN")).unwrap();
    fs::write(
        src.join("DEBIAN/control"),
        format!(
            "Package: {package}\nVersion: {version}\nArchitecture: all\nMaintainer: Lab <lab@lab.invalid>\nDescription: lab package\n"
        ),
    )
    .unwrap();
    let deb = src.with_extension("deb");
    must(
        Command::new("dpkg-deb")
            .args(["--root-owner-group", "--build"])
            .arg(&src)
            .arg(&deb),
    );
    must(
        Command::new("dpkg")
            .arg(format!("--root={}", root.display()))
            .arg("-i")
            .arg(&deb),
    );
}

fn remove(root: &Path, package: &str) {
    must(
        Command::new("dpkg")
            .arg(format!("--root={}", root.display()))
            .args(["-r", package]),
    );
}

fn script(dir: &Path, name: &str, body: &str) {
    let p = dir.join(name);
    fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
    fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
}

const PROFILE_HEAD: &str = "format = 1\nid = \"lab\"\nname = \"Lab\"\nvendor = \"Lab\"\n\
    reviewed = \"2026-12-06\"\nsources = [\"https://lab.example/\"]\n";

fn profile(body: &str) -> Profile {
    Profile::parse("lab.toml", &format!("{PROFILE_HEAD}{body}")).unwrap()
}

fn judged<'a>(e: &'a fitcheck_core::evaluate::Evaluation, id: &str) -> &'a RequirementOutcome {
    e.requirements
        .iter()
        .find(|r| r.id == id)
        .unwrap_or_else(|| panic!("no {id}"))
}

fn device_with(software: Option<SoftwareFacts>) -> fitcheck_core::report::DeviceFacts {
    let mut d = facts::collect(&FactSources {
        root: PathBuf::from("/nonexistent-fitcheck-root"),
        use_nvml: false,
    });
    d.os.family = Some(OsFamily::Linux);
    d.software = software;
    d
}

#[test]
fn packages_are_read_from_a_database_the_real_dpkg_wrote() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path().join("root");
    install(work.path(), &root, "lab-client", "1:2.1~rc1-3");
    install(work.path(), &root, "lab-legacy", "1.4.2-1");
    install(work.path(), &root, "lab-removed", "5.0-1");
    remove(&root, "lab-removed");
    install(work.path(), &root, "lab-conflict", "0.9-1");
    let p = profile(
        "[[software]]\nkind = \"package\"\nid = \"lab-client\"\nname = \"Lab client\"\nmin_version = \"1:2.1\"\n\
         [[software]]\nkind = \"package\"\nid = \"lab-legacy\"\nname = \"Lab legacy\"\nexclude_versions = [\"1.4\"]\n\
         [[software]]\nkind = \"package\"\nid = \"lab-removed\"\nname = \"Lab removed\"\n\
         [[software]]\nkind = \"package\"\nid = \"lab-conflict\"\nname = \"Lab conflict\"\npresence = \"absent\"\npurpose = \"hooks the keyboard\"\n\
         [[software]]\nkind = \"package\"\nid = \"lab-client\"\nname = \"Lab client\"\npresence = \"absent\"\nos = [\"linux\"]\n",
    );
    let sources = FactSources {
        root: root.clone(),
        use_nvml: false,
    };
    let sw = facts::software::collect(&sources, &p.software, Some(OsFamily::Linux), &[]).unwrap();
    let dpkg = sw.read(SoftwareSource::Dpkg).unwrap();
    assert_eq!(dpkg.detection, Detection::Detected, "{sw:#?}");
    let found: Vec<(&str, Option<&str>)> = sw
        .found
        .iter()
        .map(|f| (f.id.as_str(), f.version.as_deref()))
        .collect();
    assert_eq!(
        found,
        [
            ("lab-client", Some("1:2.1~rc1-3")),
            ("lab-conflict", Some("0.9-1")),
            ("lab-legacy", Some("1.4.2-1")),
        ],
        "only what the profile names, and nothing removed (in the database's order)"
    );
    // No RPM database under this root: said, not guessed.
    let rpm = sw.read(SoftwareSource::Rpm).unwrap();
    assert_eq!(rpm.detection, Detection::Unsupported);

    let e = evaluate(&p, &device_with(Some(sw)), &[]);
    let client = judged(&e, "software[0]");
    assert_eq!(client.status, Status::Fail, "~rc1 sorts before the release");
    assert_eq!(
        client.remedy.as_deref(),
        Some("update Lab client from 1:2.1~rc1-3 to 1:2.1 or later")
    );
    assert_eq!(client.fix, Some(FixKind::UpdateSoftware));
    let legacy = judged(&e, "software[1]");
    assert_eq!(legacy.status, Status::Fail);
    assert_eq!(
        legacy.remedy.as_deref(),
        Some(
            "Lab legacy 1.4.2-1 is excluded by the vendor (1.4): use a version the vendor supports (not 1.4)"
        )
    );
    let removed = judged(&e, "software[2]");
    assert_eq!(removed.status, Status::Fail);
    assert_eq!(removed.observed, "not installed (looked in dpkg)");
    assert_eq!(
        removed.remedy.as_deref(),
        Some("install the lab-removed package (Lab removed)")
    );
    let conflict = judged(&e, "software[3]");
    assert_eq!(conflict.status, Status::Fail);
    assert_eq!(conflict.fix, Some(FixKind::RemoveSoftware));
    assert_eq!(
        conflict.remedy.as_deref(),
        Some(
            "remove Lab conflict (lab-conflict) from these devices: the vendor says it conflicts with the product (hooks the keyboard)"
        )
    );
    assert_eq!(judged(&e, "software[4]").status, Status::Fail);
}

#[test]
fn this_machines_own_package_database_agrees_with_dpkg_query() {
    let want = must(Command::new("dpkg-query").args(["-W", "-f=${Version}", "dpkg"]));
    let p = profile("[[software]]\nkind = \"package\"\nid = \"dpkg\"\nname = \"dpkg\"\n");
    let sw = facts::software::collect(
        &FactSources::default(),
        &p.software,
        Some(OsFamily::Linux),
        &[],
    )
    .unwrap();
    assert_eq!(sw.found.len(), 1, "{sw:#?}");
    assert_eq!(sw.found[0].version.as_deref(), Some(want.trim()));
    assert_eq!(sw.found[0].source, SoftwareSource::Dpkg);
}

#[test]
fn programs_and_runtimes_are_asked_for_their_version_within_bounds() {
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    script(&bin, "labtool", "echo 'labtool 3.2.1 (build 7)'");
    script(&bin, "oldtool", "echo 'oldtool version v2.9.0'");
    // Past the time limit: killed, found without a version, never waited for.
    script(&bin, "slowtool", "exec sleep 60");
    // More output than a pipe holds, the version at the end, on standard error.
    script(
        &bin,
        "noisytool",
        "i=0; while [ $i -lt 3000 ]; do echo 'padding padding padding padding padding' >&2; i=$((i+1)); done; echo 'noisytool 1.0.0'",
    );
    script(
        &bin,
        "java",
        "echo 'openjdk version \"17.0.12\" 2024-07-16' >&2; echo 'OpenJDK Runtime Environment' >&2",
    );
    let p = profile(
        "[[software]]\nkind = \"executable\"\nid = \"labtool\"\nname = \"Lab tool\"\nmin_version = \"3.0\"\n\
         [[software]]\nkind = \"executable\"\nid = \"oldtool\"\nname = \"Old tool\"\nmin_version = \"3.0\"\n\
         [[software]]\nkind = \"executable\"\nid = \"slowtool\"\nname = \"Slow tool\"\nmin_version = \"1.0\"\n\
         [[software]]\nkind = \"executable\"\nid = \"noisytool\"\nname = \"Noisy tool\"\n\
         [[software]]\nkind = \"executable\"\nid = \"missingtool\"\nname = \"Missing tool\"\n\
         [[software]]\nkind = \"runtime\"\nid = \"java\"\nname = \"Java\"\nmin_version = \"21\"\n\
         [[software]]\nkind = \"runtime\"\nid = \"node\"\nname = \"Node.js\"\n",
    );
    let started = Instant::now();
    let sw = facts::software::collect(
        &FactSources::default(),
        &p.software,
        Some(OsFamily::Linux),
        std::slice::from_ref(&bin),
    )
    .unwrap();
    let took = started.elapsed();
    let version = |id: &str| {
        sw.found
            .iter()
            .find(|f| f.id == id)
            .map(|f| f.version.clone())
    };
    assert_eq!(version("labtool"), Some(Some("3.2.1".into())));
    assert_eq!(version("oldtool"), Some(Some("v2.9.0".into())));
    assert_eq!(version("slowtool"), Some(None), "found, version unknown");
    assert_eq!(version("noisytool"), Some(Some("1.0.0".into())));
    assert_eq!(version("missingtool"), None);
    assert_eq!(version("java"), Some(Some("17.0.12".into())));
    assert_eq!(version("node"), None, "not on this search path");
    assert!(
        took < Duration::from_secs(40),
        "a program that never ends holds the agent for its time limit only ({took:?})"
    );
    let located = sw.found.iter().find(|f| f.id == "labtool").unwrap();
    assert_eq!(
        located.location.as_deref(),
        Some(bin.join("labtool").to_str().unwrap())
    );

    let e = evaluate(&p, &device_with(Some(sw)), &[]);
    assert_eq!(judged(&e, "software[0]").status, Status::Pass);
    let old = judged(&e, "software[1]");
    assert_eq!(old.status, Status::Fail);
    assert_eq!(
        old.remedy.as_deref(),
        Some("update Old tool from v2.9.0 to 3.0 or later")
    );
    assert_eq!(judged(&e, "software[2]").status, Status::Unknown);
    assert_eq!(judged(&e, "software[3]").status, Status::Pass);
    assert_eq!(
        judged(&e, "software[4]").remedy.as_deref(),
        Some("install Missing tool so that `missingtool` is on the search path")
    );
    assert_eq!(
        judged(&e, "software[5]").remedy.as_deref(),
        Some("update Java from 17.0.12 to 21 or later")
    );
    assert_eq!(judged(&e, "software[6]").status, Status::Fail);
}

#[test]
fn snaps_are_read_from_their_mounts_and_unreadable_places_are_unknown() {
    let work = tempfile::tempdir().unwrap();
    let root = work.path();
    let rev = root.join("snap/zoom-client/2252");
    fs::create_dir_all(rev.join("meta")).unwrap();
    fs::write(
        rev.join("meta/snap.yaml"),
        "name: zoom-client\nversion: '6.1.1.443'\nsummary: Zoom\n",
    )
    .unwrap();
    std::os::unix::fs::symlink("2252", root.join("snap/zoom-client/current")).unwrap();
    let p = profile(
        "[[software]]\nkind = \"snap\"\nid = \"zoom-client\"\nname = \"Zoom\"\nmin_version = \"6.0\"\n\
         [[software]]\nkind = \"snap\"\nid = \"other-snap\"\nname = \"Other\"\n\
         [[software]]\nkind = \"package\"\nid = \"lab-client\"\nname = \"Lab client\"\n\
         [[software]]\nkind = \"chrome_extension\"\nid = \"inoeonmfapjbbkmdafoankkfajkcphgd\"\nname = \"Reader\"\n\
         [[software]]\nkind = \"android_app\"\nid = \"com.example.reader\"\nname = \"Reader for Android\"\n\
         [[software]]\nkind = \"package\"\nid = \"lab-mac-only\"\nname = \"Not here\"\n",
    );
    let sources = FactSources {
        root: root.to_owned(),
        use_nvml: false,
    };
    let sw = facts::software::collect(&sources, &p.software, Some(OsFamily::Linux), &[]).unwrap();
    let zoom = sw
        .found
        .iter()
        .find(|f| f.kind == SoftwareKind::Snap)
        .unwrap();
    assert_eq!(zoom.version.as_deref(), Some("6.1.1.443"));
    assert_eq!(zoom.location.as_deref(), Some("revision 2252"));
    assert_eq!(sw.found.len(), 1, "{sw:#?}");

    let e = evaluate(&p, &device_with(Some(sw)), &[]);
    assert_eq!(judged(&e, "software[0]").status, Status::Pass);
    assert_eq!(judged(&e, "software[1]").status, Status::Fail);
    let pkg = judged(&e, "software[2]");
    assert_eq!(
        pkg.status,
        Status::Unknown,
        "no package database here: {pkg:?}"
    );
    assert!(
        pkg.observed.contains("no Debian package database"),
        "{}",
        pkg.observed
    );
    let ext = judged(&e, "software[3]");
    assert_eq!(ext.status, Status::Unknown, "{ext:?}");
    assert!(ext.observed.contains("browser agent"), "{}", ext.observed);
    assert_eq!(judged(&e, "software[4]").observed, "not needed on Linux");
    let mut chromebook = device_with(Some(SoftwareFacts::default()));
    chromebook.os.family = Some(OsFamily::Chromeos);
    let on_chromeos = evaluate(&p, &chromebook, &[]);
    let android = judged(&on_chromeos, "software[4]");
    assert_eq!(android.status, Status::Unknown);
    assert!(
        android.observed.starts_with("not observable: Android apps"),
        "{}",
        android.observed
    );
    // Nothing looked for: what applies here is unknown, never a pass or a fail.
    let e = evaluate(&p, &device_with(None), &[]);
    for id in ["software[0]", "software[1]", "software[2]", "software[3]"] {
        assert_eq!(judged(&e, id).status, Status::Unknown, "{id}");
    }
}

#[test]
fn software_for_another_os_is_not_needed_here() {
    let p = profile(
        "[[software]]\nkind = \"executable\"\nid = \"labtool\"\nname = \"Lab tool\"\nos = [\"windows\"]\n",
    );
    let e = evaluate(&p, &device_with(Some(SoftwareFacts::default())), &[]);
    let r = judged(&e, "software[0]");
    assert_eq!(r.status, Status::Pass);
    assert_eq!(r.observed, "not needed on Linux");
}

fn tool(name: &str, package: &str) -> PathBuf {
    let found = ["/usr/bin", "/bin", "/usr/sbin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists());
    found.unwrap_or_else(|| {
        panic!("{name} is missing: install Debian's {package} package (.ci/run does)")
    })
}

/// An RPM database the real `rpm` wrote (a package built with `rpmbuild`, recorded with
/// `rpm --justdb`), read through the real `rpm` and judged by RPM's own ordering.
#[test]
fn packages_are_read_from_an_rpm_database_the_real_rpm_wrote() {
    let rpmbuild = tool("rpmbuild", "rpm");
    let rpm = tool("rpm", "rpm");
    let work = tempfile::tempdir().unwrap();
    let top = work.path().join("top");
    for d in ["BUILD", "RPMS", "SOURCES", "SPECS", "SRPMS"] {
        fs::create_dir_all(top.join(d)).unwrap();
    }
    let spec = top.join("SPECS/lab.spec");
    fs::write(
        &spec,
        "Name: lab-client\nVersion: 2.1\nRelease: 3.el9\nEpoch: 1\nSummary: lab\nLicense: MIT\nBuildArch: noarch\n%description\nlab\n%files\n",
    )
    .unwrap();
    must(
        Command::new(&rpmbuild)
            .arg("--define")
            .arg(format!("_topdir {}", top.display()))
            .arg("-bb")
            .arg(&spec),
    );
    let root = work.path().join("root");
    let db = root.join("var/lib/rpm");
    fs::create_dir_all(&db).unwrap();
    must(Command::new(&rpm).arg("--dbpath").arg(&db).arg("--initdb"));
    let package = top.join("RPMS/noarch/lab-client-2.1-3.el9.noarch.rpm");
    must(
        Command::new(&rpm)
            .arg("--dbpath")
            .arg(&db)
            .args(["-i", "--nodeps", "--justdb"])
            .arg(&package),
    );
    let p = profile(
        "[[software]]\nkind = \"package\"\nid = \"lab-client\"\nname = \"Lab client\"\nmin_version = \"1:2.1-10.el9\"\n\
         [[software]]\nkind = \"package\"\nid = \"lab-client\"\nname = \"Lab client\"\npresence = \"absent\"\n\
         [[software]]\nkind = \"package\"\nid = \"lab-other\"\nname = \"Lab other\"\n",
    );
    let sources = FactSources {
        root: root.clone(),
        use_nvml: false,
    };
    let path = [rpm.parent().unwrap().to_owned()];
    let sw = facts::software::collect(&sources, &p.software, Some(OsFamily::Linux), &path).unwrap();
    assert_eq!(
        sw.read(SoftwareSource::Rpm).unwrap().detection,
        Detection::Detected,
        "{sw:#?}"
    );
    assert_eq!(
        sw.read(SoftwareSource::Dpkg).unwrap().detection,
        Detection::Unsupported
    );
    assert_eq!(sw.found.len(), 1, "{sw:#?}");
    assert_eq!(sw.found[0].version.as_deref(), Some("1:2.1-3.el9"));
    assert_eq!(sw.found[0].source, SoftwareSource::Rpm);

    let e = evaluate(&p, &device_with(Some(sw)), &[]);
    let below = judged(&e, "software[0]");
    assert_eq!(
        below.status,
        Status::Fail,
        "release 3 sorts before 10 in rpmvercmp"
    );
    assert_eq!(
        below.remedy.as_deref(),
        Some("update Lab client from 1:2.1-3.el9 to 1:2.1-10.el9 or later")
    );
    assert_eq!(judged(&e, "software[1]").fix, Some(FixKind::RemoveSoftware));
    let within = profile(
        "[[software]]\nkind = \"package\"\nid = \"lab-client\"\nname = \"Lab client\"\nmax_version = \"1:2.1\"\n",
    );
    let sw =
        facts::software::collect(&sources, &within.software, Some(OsFamily::Linux), &path).unwrap();
    assert_eq!(
        judged(
            &evaluate(&within, &device_with(Some(sw)), &[]),
            "software[0]"
        )
        .status,
        Status::Pass,
        "a maximum of 1:2.1 covers its releases"
    );
    assert_eq!(
        judged(&e, "software[2]").observed,
        "not installed (looked in rpm)"
    );
}

/// Flatpak's list as `flatpak list --app --columns=application,version,installation` prints it
/// (tab-separated), from a program that prints exactly that: the lab has no Flatpak runtime to
/// install a real application on.
#[test]
fn flatpaks_are_read_from_flatpaks_own_list() {
    let work = tempfile::tempdir().unwrap();
    let bin = work.path().join("bin");
    fs::create_dir_all(&bin).unwrap();
    script(
        &bin,
        "flatpak",
        "[ \"$*\" = 'list --app --columns=application,version,installation' ] || exit 64\n\
         printf 'us.zoom.Zoom\\t6.2.5.2440\\tsystem\\norg.mozilla.firefox\\t133.0\\tuser\\ncom.example.NoVersion\\t\\tsystem\\n'",
    );
    let p = profile(
        "[[software]]\nkind = \"flatpak\"\nid = \"us.zoom.Zoom\"\nname = \"Zoom\"\nmin_version = \"6.0.2\"\n\
         [[software]]\nkind = \"flatpak\"\nid = \"com.example.NoVersion\"\nname = \"No version\"\nmin_version = \"1.0\"\n\
         [[software]]\nkind = \"flatpak\"\nid = \"com.example.Absent\"\nname = \"Absent\"\n",
    );
    let sw = facts::software::collect(
        &FactSources::default(),
        &p.software,
        Some(OsFamily::Linux),
        &[bin],
    )
    .unwrap();
    let zoom = sw.found.iter().find(|f| f.id == "us.zoom.Zoom").unwrap();
    assert_eq!(zoom.version.as_deref(), Some("6.2.5.2440"));
    assert_eq!(zoom.location.as_deref(), Some("system installation"));
    assert!(
        !sw.found.iter().any(|f| f.id == "org.mozilla.firefox"),
        "only what the profile names"
    );
    let e = evaluate(&p, &device_with(Some(sw)), &[]);
    assert_eq!(judged(&e, "software[0]").status, Status::Pass);
    assert_eq!(judged(&e, "software[1]").status, Status::Unknown);
    assert_eq!(judged(&e, "software[2]").status, Status::Fail);
}
