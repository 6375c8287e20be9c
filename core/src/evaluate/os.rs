//! `[[device.os]]` judged on one device: a supported family and distribution at a version in
//! its window, and whether a device whose updates end at some release can still get there.

use super::software::{self, Window};
use super::{FixKind, Status};
use crate::profile::{DeviceMinimums, OsFamily, OsRequirement};
use crate::report::DeviceFacts;
use crate::software::VersionScheme;
use crate::version::Version;

/// The OS judged, its remedy, and the fix when it is not the usual update: a family the
/// profile does not support takes other devices.
pub(super) fn judge(
    m: &DeviceMinimums,
    d: &DeviceFacts,
) -> (Status, Option<String>, Option<FixKind>) {
    let Some(family) = d.os.family else {
        return (Status::Unknown, None, None);
    };
    let entries: Vec<_> =
        m.os.iter()
            .filter(|o| o.family == family)
            .filter(|o| match (&o.distribution, &d.os.distribution) {
                (None, _) => true,
                (Some(want), Some(have)) => want.eq_ignore_ascii_case(have),
                (Some(_), None) => false,
            })
            .collect();
    if entries.is_empty() {
        return unsupported(m, d, family);
    }
    let have =
        d.os.version
            .as_deref()
            .and_then(Version::find_in)
            .map(|v| v.to_string());
    let mut unknown = false;
    let mut shortfalls: Vec<(&OsRequirement, Window)> = Vec::new();
    for e in &entries {
        let bounded =
            e.min_version.is_some() || e.max_version.is_some() || !e.exclude_versions.is_empty();
        match (&have, bounded) {
            (_, false) => return (Status::Pass, None, None),
            (None, true) => unknown = true,
            (Some(v), true) => match software::version_window(
                VersionScheme::Semantic,
                v,
                e.min_version.as_deref(),
                e.max_version.as_deref(),
                &e.exclude_versions,
            ) {
                Window::Inside => return (Status::Pass, None, None),
                w => shortfalls.push((*e, w)),
            },
        }
    }
    if unknown {
        return (Status::Unknown, None, None);
    }
    (
        Status::Fail,
        Some(shortfall_remedy(family, &entries, &shortfalls)),
        None,
    )
}

/// A device whose OS family or distribution the profile does not list: another distribution
/// where the family is supported, else another device.
fn unsupported(
    m: &DeviceMinimums,
    d: &DeviceFacts,
    family: OsFamily,
) -> (Status, Option<String>, Option<FixKind>) {
    let distributions: Vec<&str> =
        m.os.iter()
            .filter(|o| o.family == family)
            .filter_map(|o| o.distribution.as_deref())
            .collect();
    if !distributions.is_empty() {
        return (
            Status::Fail,
            Some(format!(
                "{} is not among the supported {family} distributions ({}); use one of them",
                d.os.distribution.as_deref().unwrap_or("this distribution"),
                distributions.join(", ")
            )),
            Some(FixKind::UpdateSoftware),
        );
    }
    let mut supported: Vec<String> = Vec::new();
    for o in &m.os {
        let name = o.family.to_string();
        if !supported.contains(&name) {
            supported.push(name);
        }
    }
    (
        Status::Fail,
        Some(format!(
            "this OS is not supported; use a device running {}",
            supported.join(" or ")
        )),
        Some(FixKind::ReplaceDevice),
    )
}

/// What brings a device's OS into the vendor's window: around an excluded release, held below
/// a newer one than supported, or upgraded.
fn shortfall_remedy(
    family: OsFamily,
    entries: &[&OsRequirement],
    shortfalls: &[(&OsRequirement, Window)],
) -> String {
    let what = if family == OsFamily::Linux {
        "distribution"
    } else {
        "OS"
    };
    match shortfalls.first() {
        Some((e, Window::Excluded { named, .. })) => format!(
            "{family} {named} is excluded by the vendor: {}",
            software::around_excluded(
                VersionScheme::Semantic,
                named,
                e.min_version.as_deref(),
                e.max_version.as_deref(),
                &e.exclude_versions,
            )
        ),
        Some((e, Window::Above { found })) => format!(
            "{family} {found} is newer than the vendor supports (at most {}): hold devices at a supported release until the vendor supports it",
            e.max_version.as_deref().unwrap_or("?")
        ),
        _ => {
            let want = entries
                .iter()
                .filter_map(|e| e.min_version.clone())
                .next()
                .unwrap_or_default();
            format!("upgrade the {what} to {family} {want} or later")
        }
    }
}

/// Whether a device whose OS updates end at release `last` can meet `entry`: some release at or
/// below `last` lies inside its window (searched from `last` down, release by release, to its
/// minimum). A device that cannot is to be replaced: no update brings it there.
pub fn os_release_reachable(entry: &OsRequirement, last: &str) -> bool {
    let scheme = VersionScheme::Semantic;
    let (min, max) = (entry.min_version.as_deref(), entry.max_version.as_deref());
    let inside = |v: &str| {
        software::version_window(scheme, v, min, max, &entry.exclude_versions) == Window::Inside
    };
    let mut release = last.to_owned();
    // Bounded: a window's releases below the last one are few; past them, nothing changes.
    for _ in 0..256 {
        if inside(&release) {
            return true;
        }
        match scheme.previous_release(&release) {
            Some(p)
                if min.is_none_or(|m| scheme.compare(&p, m) != Some(std::cmp::Ordering::Less)) =>
            {
                release = p;
            }
            _ => return false,
        }
    }
    false
}
