//! Software on the device in the namespace lab: two lab devices ("north" and "south"), each a
//! network namespace with no route out and a mount namespace of its own, where a Debian package
//! database written by the real `dpkg` lies over `/var/lib/dpkg` and the device's programs lead
//! its search path. The built agent runs there as a district runs it; its reports are judged
//! and the recommendation written as the controller writes them.
//!
//! North has the client at a supported version, the legacy package at a release the vendor
//! excludes, the tool and the Java runtime; south lacks the client, has the conflicting screen
//! recorder, an old tool and an old Java. Asserted: what each agent found and where, each
//! judgement, and the recommendation's actions with their fix kinds and owner.
//!
//! Needs root, iproute2, util-linux (setpriv, mount) and dpkg. `FITCHECK_SKIP_LAB=1` at build
//! time skips it. The profile names no host: the agents send nothing.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

use fitcheck_core::evaluate::FixKind;
use fitcheck_core::report::Report;
use fitcheck_engine::Plan;
use fitcheck_tests::lab::{self, AgentSetup, How, Lab, OrPanic, Tool};
use fitcheck_tests::recommend;
use serde_json::Value;

/// Beyond [`lab::NAMESPACE_TOOLS`].
const TOOLS: [Tool; 2] = [
    Tool {
        path: "/usr/bin/dpkg",
        package: "dpkg",
    },
    Tool {
        path: "/usr/bin/dpkg-deb",
        package: "dpkg",
    },
];

const PROFILE: &str = r#"format = 1
id = "lab-kiosk"
name = "Lab Kiosk"
vendor = "Lab Vendor"
reviewed = "2026-12-06"
sources = ["https://vendor.example/requirements"]

[[software]]
kind = "package"
id = "lab-testing-client"
name = "Lab Testing client"
min_version = "3.1"

[[software]]
kind = "package"
id = "lab-legacy"
name = "Lab legacy support"
exclude_versions = ["1.4"]

[[software]]
kind = "package"
id = "lab-screen-recorder"
name = "Lab screen recorder"
presence = "absent"
purpose = "it records the screen during a secure test"

[[software]]
kind = "executable"
id = "labtool"
name = "Lab tool"
min_version = "3.0"

[[software]]
kind = "runtime"
id = "java"
name = "Java"
min_version = "17"
"#;

fn must(cmd: &mut Command) {
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{cmd:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A device's own files: a package database the real `dpkg` wrote, its programs, and the
/// wrapper the lab runs the agent through (it lays them over the system's in its own mount
/// namespace, which `ip netns exec` gives it).
fn device(
    d: &Path,
    name: &str,
    agent: &Path,
    packages: &[(&str, &str)],
    programs: &[(&str, &str)],
) -> std::path::PathBuf {
    let root = d.join(format!("{name}-root"));
    let db = root.join("var/lib/dpkg");
    for sub in ["updates", "info"] {
        fs::create_dir_all(db.join(sub)).unwrap();
    }
    fs::write(db.join("status"), "").unwrap();
    for (package, version) in packages {
        let src = d.join(format!("{name}-{package}"));
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
    let bin = d.join(format!("{name}-bin"));
    fs::create_dir_all(&bin).unwrap();
    for (program, body) in programs {
        let p = bin.join(program);
        fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        fs::set_permissions(&p, fs::Permissions::from_mode(0o755)).unwrap();
    }
    let wrapper = d.join(format!("{name}-agent"));
    fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nset -e\nmount --bind '{}' /var/lib/dpkg\nPATH='{}':\"$PATH\"\nexport PATH\nexec '{}' \"$@\"\n",
            db.display(),
            bin.display(),
            agent.display()
        ),
    )
    .unwrap();
    fs::set_permissions(&wrapper, fs::Permissions::from_mode(0o755)).unwrap();
    wrapper
}

fn judged<'a>(report: &'a Value, id: &str) -> &'a Value {
    report["evaluation"]["requirements"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["id"] == id))
        .unwrap_or_else(|| panic!("no {id} in {report:#}"))
}

#[test]
#[cfg_attr(
    fitcheck_skip_lab,
    ignore = "FITCHECK_SKIP_LAB=1 at build time: the namespace lab is skipped"
)]
fn each_device_is_judged_on_the_software_it_really_has() {
    lab::preflight(&lab::NAMESPACE_TOOLS);
    lab::preflight(&TOOLS);
    let (agent, dir) = lab::prepare("software", "fitlab-software-").or_panic();
    let d = dir.path().to_path_buf();
    let lab = Lab::with_namespaces(&["north", "south"]).or_panic();
    let north = device(
        &d,
        "north",
        &agent,
        &[("lab-testing-client", "3.2-1"), ("lab-legacy", "1.4.2-1")],
        &[
            ("labtool", "echo 'labtool 3.2.1'"),
            ("java", "echo 'openjdk version \"21.0.5\" 2024-10-15' >&2"),
        ],
    );
    let south = device(
        &d,
        "south",
        &agent,
        &[("lab-legacy", "1.5-1"), ("lab-screen-recorder", "1.2-1")],
        &[
            ("labtool", "echo 'labtool 2.9.0'"),
            ("java", "echo 'openjdk version \"11.0.2\" 2019-01-15' >&2"),
        ],
    );

    let mut reports = Vec::new();
    for (site, wrapper) in [("north", &north), ("south", &south)] {
        let setup = AgentSetup {
            binary: wrapper.clone(),
            dir: d.clone(),
            netns: Some(lab.ns(site).or_panic()),
            trust: None,
            args: vec!["--label".to_owned(), format!("site={site}")],
            limit: Duration::from_secs(60),
            copy_prefix: "software-".to_owned(),
        };
        let run = setup.run(site, PROFILE, How::default()).or_panic();
        let sw = &run.report["device"]["software"];
        let found: Vec<(String, String)> = sw["found"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                (
                    f["id"].as_str().unwrap_or("").to_owned(),
                    f["version"].as_str().unwrap_or("?").to_owned(),
                )
            })
            .collect();
        let status = |id: &str| {
            judged(&run.report, id)["status"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        };
        match site {
            "north" => {
                assert_eq!(
                    found,
                    [
                        ("lab-legacy".to_owned(), "1.4.2-1".to_owned()),
                        ("lab-testing-client".to_owned(), "3.2-1".to_owned()),
                        ("labtool".to_owned(), "3.2.1".to_owned()),
                        ("java".to_owned(), "21.0.5".to_owned()),
                    ],
                    "north: {sw:#}"
                );
                let labtool = sw["found"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|f| f["id"] == "labtool")
                    .unwrap();
                assert_eq!(
                    labtool["location"],
                    d.join("north-bin/labtool").display().to_string()
                );
                for (id, want) in [
                    ("software[0]", "pass"),
                    ("software[1]", "fail"),
                    ("software[2]", "pass"),
                    ("software[3]", "pass"),
                    ("software[4]", "pass"),
                ] {
                    assert_eq!(
                        status(id),
                        want,
                        "north {id}: {:#}",
                        judged(&run.report, id)
                    );
                }
                assert_eq!(run.code, Some(1), "north: not compatible");
            }
            _ => {
                assert_eq!(
                    found,
                    [
                        ("lab-legacy".to_owned(), "1.5-1".to_owned()),
                        ("lab-screen-recorder".to_owned(), "1.2-1".to_owned()),
                        ("labtool".to_owned(), "2.9.0".to_owned()),
                        ("java".to_owned(), "11.0.2".to_owned()),
                    ],
                    "south: {sw:#}"
                );
                for (id, want) in [
                    ("software[0]", "fail"),
                    ("software[1]", "pass"),
                    ("software[2]", "fail"),
                    ("software[3]", "fail"),
                    ("software[4]", "fail"),
                ] {
                    assert_eq!(
                        status(id),
                        want,
                        "south {id}: {:#}",
                        judged(&run.report, id)
                    );
                }
            }
        }
        // The system's own database is untouched by the device's: the lab laid its over it.
        let report: Report = serde_json::from_value(run.report.clone()).unwrap();
        reports.push((site, report));
    }
    assert!(
        !Path::new("/var/lib/dpkg/info/lab-testing-client.list").exists(),
        "the devices' packages stayed in their own databases"
    );

    let plan = Plan {
        window_end: "2099-01-01T00:00:00Z".to_owned(),
        ..Plan::default()
    };
    let r = recommend::from_reports("Lab Kiosk", PROFILE, &reports, &plan).unwrap();
    let action = |needle: &str| {
        r.conditions
            .iter()
            .find(|c| c.action.contains(needle))
            .unwrap_or_else(|| panic!("no action with {needle:?}: {:#?}", r.conditions))
    };
    for (needle, fix) in [
        (
            "install the lab-testing-client package 3.1 or later",
            FixKind::UpdateSoftware,
        ),
        (
            "Lab legacy support 1.4.2-1 is excluded by the vendor (1.4)",
            FixKind::UpdateSoftware,
        ),
        (
            "remove Lab screen recorder (lab-screen-recorder)",
            FixKind::RemoveSoftware,
        ),
        (
            "update Lab tool from 2.9.0 to 3.0 or later",
            FixKind::UpdateSoftware,
        ),
        (
            "update Java from 11.0.2 to 17 or later",
            FixKind::UpdateSoftware,
        ),
    ] {
        let c = action(needle);
        assert_eq!(c.fix, fix, "{needle}");
        assert_eq!(
            c.owner, "technology operations (device management)",
            "{needle}"
        );
        assert!(c.required, "{needle}");
    }
    assert!(
        r.blockers.is_empty(),
        "software is installed, not bought: {:#?}",
        r.blockers
    );
    drop(lab);
}
