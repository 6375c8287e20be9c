//! Installed browsers, found on the search path and asked for `--version`.

use std::path::{Path, PathBuf};

use fitcheck_core::profile::Browser;
use fitcheck_core::report::InstalledBrowser;
use fitcheck_core::version::Version;

use super::exec::{VERSION_TIMEOUT, find, run_bounded};

/// Executable names and the browser each one is. Wrapper scripts and symlinks to the same
/// browser give the same version and are merged.
pub const LINUX_CANDIDATES: [(&str, Browser); 10] = [
    ("google-chrome-stable", Browser::Chrome),
    ("google-chrome", Browser::Chrome),
    ("chromium", Browser::Chromium),
    ("chromium-browser", Browser::Chromium),
    ("microsoft-edge-stable", Browser::Edge),
    ("microsoft-edge", Browser::Edge),
    ("firefox", Browser::Firefox),
    ("firefox-esr", Browser::Firefox),
    ("snap/bin/chromium", Browser::Chromium),
    ("snap/bin/firefox", Browser::Firefox),
];

/// `PATH`, plus the places distributions install browsers when `PATH` is minimal (a service).
pub fn search_path() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    for extra in ["/usr/bin", "/usr/local/bin", "/opt/google/chrome", "/"] {
        let p = PathBuf::from(extra);
        if !dirs.contains(&p) {
            dirs.push(p);
        }
    }
    dirs
}

/// A browser's `--version`, bounded.
fn version_of(exe: &Path) -> Option<String> {
    let printed = run_bounded(exe, &["--version"], VERSION_TIMEOUT)?;
    Version::find_in(&printed.stdout).map(|v| v.to_string())
}

/// Browsers installed in `dirs`, one entry per (browser, version).
pub fn detect_linux(dirs: &[PathBuf]) -> Vec<InstalledBrowser> {
    let mut out: Vec<InstalledBrowser> = Vec::new();
    for (name, browser) in LINUX_CANDIDATES {
        let Some(exe) = find(dirs, name) else {
            continue;
        };
        let Some(version) = version_of(&exe) else {
            continue;
        };
        if !out
            .iter()
            .any(|b| b.name == browser && b.version == version)
        {
            out.push(InstalledBrowser {
                name: browser,
                version,
            });
        }
    }
    out
}
