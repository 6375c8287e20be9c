//! `[[device.browser]]` judged on one device: a supported browser installed at a version in
//! its window, or the excluded version named.

use super::device::DeviceContext;
use super::software::{self, Window};
use super::{Judge, Status};
use crate::profile::BrowserRequirement;
use crate::report::{Detection, InstalledBrowser};
use crate::requirement::DeviceKey;
use crate::software::VersionScheme;
use crate::version::Version;

/// A supported browser at a version in its window.
pub(super) fn judge(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if !m.browser.is_empty() {
        let expected: Vec<String> = m
            .browser
            .iter()
            .map(|b| {
                let window = software::window_words(
                    b.min_version.as_deref(),
                    b.max_version.as_deref(),
                    &b.exclude_versions,
                );
                software::named_window(&b.name.to_string(), &window)
            })
            .collect();
        let l = c.line(
            DeviceKey::Browser,
            "Browser",
            format!("one of: {}", expected.join(", ")),
        );
        if d.browsers.detection == Detection::Unsupported {
            j.push(
                l,
                Status::Unknown,
                "browser detection not supported on this OS".to_owned(),
                None,
            );
        } else {
            let installed: Vec<String> = d
                .browsers
                .installed
                .iter()
                .map(|b| format!("{} {}", b.name, b.version))
                .collect();
            let windows: Vec<(&InstalledBrowser, &BrowserRequirement, Window)> = d
                .browsers
                .installed
                .iter()
                .flat_map(|b| {
                    m.browser
                        .iter()
                        .filter(move |req| req.name == b.name)
                        .map(move |req| (b, req))
                })
                .map(|(b, req)| {
                    let w = match Version::find_in(&b.version) {
                        Some(v) => software::version_window(
                            VersionScheme::Semantic,
                            &v.to_string(),
                            req.min_version.as_deref(),
                            req.max_version.as_deref(),
                            &req.exclude_versions,
                        ),
                        None if req.min_version.is_none()
                            && req.max_version.is_none()
                            && req.exclude_versions.is_empty() =>
                        {
                            Window::Inside
                        }
                        None => Window::Unreadable,
                    };
                    (b, req, w)
                })
                .collect();
            let ok = windows.iter().any(|(_, _, w)| *w == Window::Inside);
            let excluded = windows.iter().find_map(|(b, req, w)| match w {
                Window::Excluded { named, .. } => Some(format!(
                    "{} {} is excluded by the vendor ({named}): {}",
                    b.name,
                    b.version,
                    software::around_excluded(
                        VersionScheme::Semantic,
                        named,
                        req.min_version.as_deref(),
                        req.max_version.as_deref(),
                        &req.exclude_versions,
                    )
                )),
                _ => None,
            });
            let observed = if installed.is_empty() {
                "no browser found".to_owned()
            } else {
                installed.join(", ")
            };
            j.push(
                l,
                if ok { Status::Pass } else { Status::Fail },
                observed,
                Some(excluded.unwrap_or_else(|| {
                    format!(
                        "install or update a supported browser ({})",
                        expected.join(", ")
                    )
                })),
            );
        }
    }
}
