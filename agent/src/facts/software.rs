//! The software a profile names, looked up where it is installed: Debian's package database,
//! the RPM database, Flatpak, Snap, and the search path. Only what the profile names is looked
//! for and reported; a program is run (`--version`, bounded) only when the profile names it.

use std::collections::BTreeSet;
use std::io::BufRead;
use std::path::{Path, PathBuf};

use fitcheck_core::profile::{OsFamily, SoftwareRequirement};
use fitcheck_core::report::{Detection, FoundSoftware, SoftwareFacts, SoftwareSourceRead};
use fitcheck_core::software::{Runtime, SoftwareKind, SoftwareSource, first_version_token};

use super::FactSources;
use super::exec::{VERSION_TIMEOUT, find, run_bounded, without_home};

/// Looks up each of `wanted` that applies on `family`. `None` when the profile names no
/// software (nothing is then looked at).
pub fn collect(
    sources: &FactSources,
    wanted: &[SoftwareRequirement],
    family: Option<OsFamily>,
    path: &[PathBuf],
) -> Option<SoftwareFacts> {
    if wanted.is_empty() {
        return None;
    }
    let applies: Vec<&SoftwareRequirement> = wanted
        .iter()
        .filter(|s| family.is_none_or(|f| s.families().contains(&f)))
        .collect();
    let needed: BTreeSet<SoftwareSource> = applies
        .iter()
        .flat_map(|s| s.kind.sources().iter().copied())
        .collect();
    let named = |kind: SoftwareKind| -> Vec<&str> {
        let ids: BTreeSet<&str> = applies
            .iter()
            .filter(|s| s.kind == kind)
            .map(|s| s.id.as_str())
            .collect();
        ids.into_iter().collect()
    };
    let mut facts = SoftwareFacts::default();
    for source in needed {
        let read = match source {
            SoftwareSource::Dpkg => dpkg(sources, &named(SoftwareKind::Package)),
            SoftwareSource::Rpm => rpm(sources, path, &named(SoftwareKind::Package)),
            SoftwareSource::Flatpak => flatpak(path, &named(SoftwareKind::Flatpak)),
            SoftwareSource::Snap => snap(sources, &named(SoftwareKind::Snap)),
            SoftwareSource::Path => Ok(on_path(
                path,
                &named(SoftwareKind::Executable),
                &named(SoftwareKind::Runtime),
            )),
            SoftwareSource::ChromeManagement => Err(
                "extensions and Chrome apps are read by the browser agent, inside the browser"
                    .to_owned(),
            ),
        };
        match read {
            Ok(found) => {
                facts.sources.push(SoftwareSourceRead {
                    source,
                    detection: Detection::Detected,
                    note: None,
                });
                facts.found.extend(found);
            }
            Err(note) => facts.sources.push(SoftwareSourceRead {
                source,
                detection: Detection::Unsupported,
                note: Some(note),
            }),
        }
    }
    Some(facts)
}

/// The dpkg database: `var/lib/dpkg/status`, each stanza's `Package`, `Status` and `Version`.
/// A package counts as installed when its status says `installed` (not `config-files`, which
/// is what a removed package leaves).
fn dpkg(sources: &FactSources, names: &[&str]) -> Result<Vec<FoundSoftware>, String> {
    let file = sources.path("var/lib/dpkg/status");
    let f = std::fs::File::open(&file)
        .map_err(|e| format!("no Debian package database ({}: {e})", file.display()))?;
    let mut found = Vec::new();
    let mut stanza = Stanza::default();
    let mut lines = std::io::BufReader::new(f).lines();
    loop {
        let line = match lines.next() {
            Some(Ok(l)) => Some(l),
            Some(Err(e)) => return Err(format!("{} could not be read: {e}", file.display())),
            None => None,
        };
        match line.as_deref() {
            None | Some("") => {
                if let Some(hit) = stanza.take(names) {
                    found.push(hit);
                }
                if line.is_none() {
                    break;
                }
            }
            Some(l) => stanza.add(l),
        }
    }
    Ok(found)
}

#[derive(Default)]
struct Stanza {
    package: Option<String>,
    version: Option<String>,
    installed: bool,
}

impl Stanza {
    fn add(&mut self, line: &str) {
        if let Some(v) = line.strip_prefix("Package:") {
            self.package = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("Version:") {
            self.version = Some(v.trim().to_owned());
        } else if let Some(v) = line.strip_prefix("Status:") {
            self.installed = v.split_whitespace().last() == Some("installed");
        }
    }

    fn take(&mut self, names: &[&str]) -> Option<FoundSoftware> {
        let s = std::mem::take(self);
        let package = s.package?;
        if !s.installed || !names.contains(&package.as_str()) {
            return None;
        }
        Some(FoundSoftware {
            kind: SoftwareKind::Package,
            id: package,
            version: s.version,
            source: SoftwareSource::Dpkg,
            location: None,
            enabled: None,
            install_type: None,
        })
    }
}

/// The RPM database, where one exists (`usr/lib/sysimage/rpm`, else `var/lib/rpm`, under the
/// facts' root), through `rpm --dbpath DB -q`.
fn rpm(
    sources: &FactSources,
    path: &[PathBuf],
    names: &[&str],
) -> Result<Vec<FoundSoftware>, String> {
    let db = ["usr/lib/sysimage/rpm", "var/lib/rpm"]
        .iter()
        .map(|d| sources.path(d))
        .find(|d| dir_has_files(d))
        .ok_or("no RPM database")?;
    let exe = find(path, "rpm").ok_or("an RPM database but no rpm program to read it")?;
    let db = db.display().to_string();
    let mut args = vec![
        "--dbpath",
        db.as_str(),
        "-q",
        "--queryformat",
        "%{NAME}\t%|EPOCH?{%{EPOCH}:}:{}|%{VERSION}-%{RELEASE}\n",
    ];
    args.extend(names.iter().copied());
    let printed = run_bounded(&exe, &args, VERSION_TIMEOUT).ok_or("rpm did not answer in time")?;
    // `rpm -q` exits non-zero when any name is not installed, and says so on its own lines.
    Ok(printed
        .stdout
        .lines()
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let (name, version) = (cols.next()?, cols.next()?);
            names.contains(&name).then(|| FoundSoftware {
                kind: SoftwareKind::Package,
                id: name.to_owned(),
                version: Some(version.to_owned()),
                source: SoftwareSource::Rpm,
                location: None,
                enabled: None,
                install_type: None,
            })
        })
        .collect())
}

fn dir_has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.next().is_some())
}

/// Flatpak applications, system-wide and the agent user's, through `flatpak list`.
fn flatpak(path: &[PathBuf], ids: &[&str]) -> Result<Vec<FoundSoftware>, String> {
    let exe = find(path, "flatpak").ok_or("Flatpak is not installed on this device")?;
    let printed = run_bounded(
        &exe,
        &[
            "list",
            "--app",
            "--columns=application,version,installation",
        ],
        VERSION_TIMEOUT,
    )
    .ok_or("flatpak did not answer in time")?;
    Ok(printed
        .stdout
        .lines()
        .filter_map(|l| {
            let mut cols = l.split('\t');
            let (id, version, installation) = (cols.next()?, cols.next(), cols.next());
            ids.contains(&id).then(|| FoundSoftware {
                kind: SoftwareKind::Flatpak,
                id: id.to_owned(),
                version: version
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_owned),
                source: SoftwareSource::Flatpak,
                location: installation.map(|i| format!("{} installation", i.trim())),
                enabled: None,
                install_type: None,
            })
        })
        .collect())
}

/// Snaps: `snap/NAME/current` is the revision in use, and its `meta/snap.yaml` has the
/// version.
fn snap(sources: &FactSources, names: &[&str]) -> Result<Vec<FoundSoftware>, String> {
    let root = ["snap", "var/lib/snapd/snap"]
        .iter()
        .map(|d| sources.path(d))
        .find(|d| d.is_dir())
        .ok_or("snapd is not installed on this device")?;
    Ok(names
        .iter()
        .filter_map(|name| {
            let current = root.join(name).join("current");
            let revision = std::fs::read_link(&current).ok()?;
            let yaml = std::fs::read_to_string(current.join("meta/snap.yaml")).ok();
            let version = yaml.as_deref().and_then(|y| {
                y.lines()
                    .find_map(|l| l.strip_prefix("version:"))
                    .map(|v| v.trim().trim_matches(['\'', '"']).to_owned())
            });
            Some(FoundSoftware {
                kind: SoftwareKind::Snap,
                id: (*name).to_owned(),
                version,
                source: SoftwareSource::Snap,
                location: Some(format!("revision {}", revision.display())),
                enabled: None,
                install_type: None,
            })
        })
        .collect())
}

/// Programs and runtimes on the search path, each asked for its version.
fn on_path(path: &[PathBuf], programs: &[&str], runtimes: &[&str]) -> Vec<FoundSoftware> {
    let mut found = Vec::new();
    for name in programs {
        let Some(exe) = find(path, name) else {
            continue;
        };
        let version = run_bounded(&exe, &["--version"], VERSION_TIMEOUT).and_then(|p| {
            first_version_token(&p.stdout).or_else(|| first_version_token(&p.stderr))
        });
        found.push(program(SoftwareKind::Executable, name, &exe, version));
    }
    for name in runtimes {
        let Some(runtime) = Runtime::from_name(name) else {
            continue;
        };
        let Some(exe) = runtime.programs().iter().find_map(|p| find(path, p)) else {
            continue;
        };
        let version = run_bounded(&exe, runtime.version_args(), VERSION_TIMEOUT).and_then(|p| {
            runtime
                .version_in(&p.stdout)
                .or_else(|| runtime.version_in(&p.stderr))
        });
        found.push(program(SoftwareKind::Runtime, name, &exe, version));
    }
    found
}

fn program(kind: SoftwareKind, name: &str, exe: &Path, version: Option<String>) -> FoundSoftware {
    FoundSoftware {
        kind,
        id: name.to_owned(),
        version,
        source: SoftwareSource::Path,
        location: Some(without_home(exe)),
        enabled: None,
        install_type: None,
    }
}
