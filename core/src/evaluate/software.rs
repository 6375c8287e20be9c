//! `[[software]]` judged on one device: present at a supported version, or absent where it
//! conflicts; unknown where no place the kind lives in could be read.

use std::cmp::Ordering;

use super::{FixKind, Judge, Line, RequirementKind, Status};
use crate::profile::{Presence, Profile, SoftwareRequirement};
use crate::report::{Detection, DeviceFacts, FoundSoftware, SoftwareFacts};
use crate::requirement::RequirementId;
use crate::software::{SoftwareKind, VersionScheme};

/// Every `[[software]]` entry, judged.
pub(super) fn judge(p: &Profile, d: &DeviceFacts, j: &mut Judge<'_>) {
    for (i, s) in p.software.iter().enumerate() {
        let line = Line {
            id: RequirementId::Software(i),
            kind: RequirementKind::Software,
            title: title(s),
            critical: s.critical,
            expected: expected(s),
        };
        let (status, observed, remedy, fix) = judge_one(s, d);
        j.push_fix(line, status, observed, remedy, fix);
    }
}

fn title(s: &SoftwareRequirement) -> String {
    match s.presence {
        Presence::Present => format!("{} {}", s.kind.words(), s.name),
        Presence::Absent => format!("No {} {}", s.kind.words(), s.name),
    }
}

/// The versions a requirement allows, in words (`≥ 130, ≤ 133, not 131`).
pub(super) fn window_words(min: Option<&str>, max: Option<&str>, exclude: &[String]) -> String {
    let mut parts = Vec::new();
    if let Some(v) = min {
        parts.push(format!("≥ {v}"));
    }
    if let Some(v) = max {
        parts.push(format!("≤ {v}"));
    }
    if !exclude.is_empty() {
        parts.push(format!("not {}", exclude.join(" or ")));
    }
    parts.join(", ")
}

/// A name and its window: `ChromeOS ≥ 130`, or in brackets when the window has several parts,
/// so that a list of them reads unambiguously: `ChromeOS (≥ 130, not 131) or Linux`.
pub(super) fn named_window(name: &str, window: &str) -> String {
    if window.is_empty() {
        name.to_owned()
    } else if window.contains(", ") {
        format!("{name} ({window})")
    } else {
        format!("{name} {window}")
    }
}

fn expected(s: &SoftwareRequirement) -> String {
    let families: Vec<String> = s.families().iter().map(ToString::to_string).collect();
    let on = if s.os.is_empty() {
        String::new()
    } else {
        format!(" on {}", families.join(", "))
    };
    match s.presence {
        Presence::Absent => format!("{} ({}) not installed{on}", s.name, s.id),
        Presence::Present => {
            let window = window_words(
                s.min_version.as_deref(),
                s.max_version.as_deref(),
                &s.exclude_versions,
            );
            if window.is_empty() {
                format!("{} ({}) installed{on}", s.name, s.id)
            } else {
                format!(
                    "{}{on}",
                    named_window(&format!("{} ({})", s.name, s.id), &window)
                )
            }
        }
    }
}

type Judged = (Status, String, Option<String>, Option<FixKind>);

fn judge_one(s: &SoftwareRequirement, d: &DeviceFacts) -> Judged {
    let Some(family) = d.os.family else {
        return (Status::Unknown, "OS not known".to_owned(), None, None);
    };
    if !s.families().contains(&family) {
        return (Status::Pass, format!("not needed on {family}"), None, None);
    }
    if let Some(reason) = s.kind.unobservable_reason() {
        return (
            Status::Unknown,
            format!("not observable: {reason}"),
            Some(format!("confirm {} by hand: {reason}", s.name)),
            None,
        );
    }
    let Some(facts) = &d.software else {
        return (
            Status::Unknown,
            "not checked (the agent did not look for software)".to_owned(),
            None,
            None,
        );
    };
    let found: Vec<&FoundSoftware> = facts
        .found
        .iter()
        .filter(|f| f.kind == s.kind && same_id(s.kind, &f.id, &s.id))
        .collect();
    if found.is_empty() {
        return match read_any(s, facts) {
            Ok(places) => missing(s, &places),
            Err(why) => (Status::Unknown, why, None, None),
        };
    }
    match s.presence {
        Presence::Absent => conflict(s, &found),
        Presence::Present => present(s, &found),
    }
}

fn same_id(kind: SoftwareKind, a: &str, b: &str) -> bool {
    match kind {
        // Flatpak ids and Android package names are case-sensitive; the rest are lowercase.
        SoftwareKind::Flatpak | SoftwareKind::AndroidApp | SoftwareKind::WebApp => a == b,
        _ => a.eq_ignore_ascii_case(b),
    }
}

/// The places of the kind that were read (`Ok`), or why none was (`Err`, the observed text).
fn read_any(s: &SoftwareRequirement, facts: &SoftwareFacts) -> Result<String, String> {
    let mut read = Vec::new();
    let mut notes = Vec::new();
    for src in s.kind.sources() {
        match facts.read(*src) {
            Some(r) if r.detection == Detection::Detected => read.push(src.as_str()),
            Some(r) => notes.push(match &r.note {
                Some(n) => format!("{src}: {n}"),
                None => format!("{src} could not be read"),
            }),
            None => notes.push(format!("{src} not read by this agent")),
        }
    }
    if read.is_empty() {
        Err(format!("not observable here ({})", notes.join("; ")))
    } else {
        Ok(read.join(" and "))
    }
}

fn missing(s: &SoftwareRequirement, places: &str) -> Judged {
    let observed = format!("not installed (looked in {places})");
    match s.presence {
        Presence::Absent => (Status::Pass, observed, None, None),
        Presence::Present => (
            Status::Fail,
            observed,
            Some(install_remedy(s)),
            Some(FixKind::UpdateSoftware),
        ),
    }
}

fn describe(f: &FoundSoftware) -> String {
    let mut text = match &f.version {
        Some(v) => format!("{v} ({}", f.source),
        None => format!("version unknown ({}", f.source),
    };
    if let Some(l) = &f.location {
        text.push_str(&format!(", {l}"));
    }
    if f.install_type.as_deref() == Some("admin") {
        text.push_str(", force-installed");
    }
    if f.enabled == Some(false) {
        text.push_str(", disabled");
    }
    text.push(')');
    text
}

fn conflict(s: &SoftwareRequirement, found: &[&FoundSoftware]) -> Judged {
    let observed: Vec<String> = found.iter().map(|f| describe(f)).collect();
    let observed = format!("installed: {}", observed.join("; "));
    // A disabled extension or app cannot act.
    if found.iter().all(|f| f.enabled == Some(false)) {
        return (Status::Pass, observed, None, None);
    }
    let why = s
        .purpose
        .as_deref()
        .map(|p| format!(" ({p})"))
        .unwrap_or_default();
    let remedy = match s.kind {
        SoftwareKind::ChromeExtension | SoftwareKind::ChromeApp => format!(
            "remove or block {} ({}) in the Google Admin console: the vendor says it conflicts with the product{why}",
            s.name, s.id
        ),
        _ => format!(
            "remove {} ({}) from these devices: the vendor says it conflicts with the product{why}",
            s.name, s.id
        ),
    };
    (
        Status::Fail,
        observed,
        Some(remedy),
        Some(FixKind::RemoveSoftware),
    )
}

fn present(s: &SoftwareRequirement, found: &[&FoundSoftware]) -> Judged {
    let observed: Vec<String> = found.iter().map(|f| describe(f)).collect();
    let observed = format!("installed: {}", observed.join("; "));
    let enabled: Vec<&&FoundSoftware> = found.iter().filter(|f| f.enabled != Some(false)).collect();
    if enabled.is_empty() {
        return (
            Status::Fail,
            observed,
            Some(format!(
                "enable {} ({}): force-install it in the Google Admin console so that users cannot turn it off",
                s.name, s.id
            )),
            Some(FixKind::UpdateSoftware),
        );
    }
    if !s.has_versions() {
        return (Status::Pass, observed, None, None);
    }
    // The best of what is installed decides: any copy at a supported version will do.
    let mut verdicts: Vec<Window> = enabled.iter().map(|f| window(s, f)).collect();
    verdicts.sort_by_key(Window::rank);
    match verdicts.first() {
        Some(Window::Inside) => (Status::Pass, observed, None, None),
        Some(Window::Unreadable) | None => (
            Status::Unknown,
            format!("{observed}: the version could not be compared"),
            None,
            None,
        ),
        Some(w) => (
            Status::Fail,
            observed,
            Some(version_remedy(s, w)),
            Some(FixKind::UpdateSoftware),
        ),
    }
}

/// Where an installed version lies against the requirement's window.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Window {
    Inside,
    Unreadable,
    Excluded {
        found: String,
        named: String,
        scheme: VersionScheme,
    },
    Below {
        found: String,
    },
    Above {
        found: String,
    },
}

impl Window {
    fn rank(&self) -> u8 {
        match self {
            Window::Inside => 0,
            Window::Unreadable => 1,
            Window::Excluded { .. } => 2,
            Window::Above { .. } => 3,
            Window::Below { .. } => 4,
        }
    }
}

fn window(s: &SoftwareRequirement, f: &FoundSoftware) -> Window {
    let Some(v) = f.version.as_deref() else {
        return Window::Unreadable;
    };
    let scheme = s.kind.scheme(f.source);
    version_window(
        scheme,
        v,
        s.min_version.as_deref(),
        s.max_version.as_deref(),
        &s.exclude_versions,
    )
}

/// Where `found` lies against a minimum, a maximum (covering its builds) and exclusions.
pub(super) fn version_window(
    scheme: VersionScheme,
    found: &str,
    min: Option<&str>,
    max: Option<&str>,
    exclude: &[String],
) -> Window {
    if let Some(lo) = min {
        match scheme.compare(found, lo) {
            None => return Window::Unreadable,
            Some(Ordering::Less) => {
                return Window::Below {
                    found: found.to_owned(),
                };
            }
            Some(_) => {}
        }
    }
    if let Some(hi) = max {
        match scheme.compare(found, hi) {
            None => return Window::Unreadable,
            Some(Ordering::Greater) if !scheme.is_under(found, hi) => {
                return Window::Above {
                    found: found.to_owned(),
                };
            }
            Some(_) => {}
        }
    }
    if scheme.compare(found, found).is_none() {
        return Window::Unreadable;
    }
    match exclude.iter().find(|x| scheme.is_under(found, x)) {
        Some(x) => Window::Excluded {
            found: found.to_owned(),
            named: x.clone(),
            scheme,
        },
        None => Window::Inside,
    }
}

/// "update to 132 or later, or hold at 130": the releases either side of an excluded one that
/// the requirement's own window allows.
pub(super) fn around_excluded(
    scheme: VersionScheme,
    named: &str,
    min: Option<&str>,
    max: Option<&str>,
    exclude: &[String],
) -> String {
    let allowed = |v: &str| matches!(version_window(scheme, v, min, max, exclude), Window::Inside);
    let mut ways = Vec::new();
    if let Some(next) = scheme.next_release(named).filter(|v| allowed(v)) {
        ways.push(format!("update to {next} or later"));
    }
    if let Some(prev) = scheme.previous_release(named).filter(|v| allowed(v)) {
        ways.push(format!("hold at {prev}"));
    }
    if ways.is_empty() {
        format!(
            "use a version the vendor supports ({})",
            window_words(min, max, exclude)
        )
    } else {
        ways.join(", or ")
    }
}

fn version_remedy(s: &SoftwareRequirement, w: &Window) -> String {
    let (min, max) = (s.min_version.as_deref(), s.max_version.as_deref());
    let where_ = managed_where(s.kind);
    match w {
        Window::Excluded {
            found,
            named,
            scheme,
        } => format!(
            "{} {found} is excluded by the vendor ({named}): {}{where_}",
            s.name,
            around_excluded(*scheme, named, min, max, &s.exclude_versions)
        ),
        Window::Below { found } => format!(
            "update {} from {found} to {} or later{where_}",
            s.name,
            min.unwrap_or("a supported version")
        ),
        Window::Above { found } => format!(
            "{} {found} is newer than the vendor supports (at most {}): hold or return to a supported version{where_}",
            s.name,
            max.unwrap_or("?")
        ),
        Window::Inside | Window::Unreadable => install_remedy(s),
    }
}

/// Where the district makes the change, for the kinds with one place.
fn managed_where(kind: SoftwareKind) -> &'static str {
    match kind {
        SoftwareKind::ChromeExtension | SoftwareKind::ChromeApp | SoftwareKind::KioskApp => {
            " (Google Admin console: Apps & extensions)"
        }
        _ => "",
    }
}

fn install_remedy(s: &SoftwareRequirement) -> String {
    let version = s
        .min_version
        .as_deref()
        .map(|v| format!(" {v} or later"))
        .unwrap_or_default();
    match s.kind {
        SoftwareKind::Package => format!("install the {} package{version} ({})", s.id, s.name),
        SoftwareKind::Executable => format!(
            "install {}{version} so that `{}` is on the search path",
            s.name, s.id
        ),
        SoftwareKind::Flatpak => format!("install the Flatpak {}{version} ({})", s.id, s.name),
        SoftwareKind::Snap => format!("install the {} snap{version} ({})", s.id, s.name),
        SoftwareKind::Runtime => format!("install the {} runtime{version}", s.name),
        SoftwareKind::ChromeExtension | SoftwareKind::ChromeApp => format!(
            "force-install {} ({}){version} for these users in the Google Admin console (Apps & extensions)",
            s.name, s.id
        ),
        SoftwareKind::KioskApp | SoftwareKind::AndroidApp | SoftwareKind::WebApp => format!(
            "install {} ({}){version} from the Google Admin console",
            s.name, s.id
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_excluded_release_names_the_ways_around_it() {
        let x = vec!["131".to_owned()];
        assert_eq!(
            around_excluded(VersionScheme::Chrome, "131", Some("130"), None, &x),
            "update to 132 or later, or hold at 130"
        );
        assert_eq!(
            around_excluded(VersionScheme::Chrome, "131", Some("131"), None, &x),
            "update to 132 or later"
        );
        assert_eq!(
            around_excluded(VersionScheme::Chrome, "131", Some("130"), Some("131"), &x),
            "hold at 130"
        );
        assert!(matches!(
            version_window(
                VersionScheme::Chrome,
                "131.0.6778.85",
                Some("130"),
                None,
                &x
            ),
            Window::Excluded { .. }
        ));
        assert_eq!(
            version_window(
                VersionScheme::Chrome,
                "132.0.1",
                Some("130"),
                Some("132"),
                &x
            ),
            Window::Inside
        );
        assert!(matches!(
            version_window(
                VersionScheme::Chrome,
                "133.0.1",
                Some("130"),
                Some("132"),
                &x
            ),
            Window::Above { .. }
        ));
        assert!(matches!(
            version_window(VersionScheme::Debian, "1.0~rc1-1", Some("1.0"), None, &[]),
            Window::Below { .. }
        ));
    }
}
