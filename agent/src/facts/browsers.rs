//! Installed browsers, found on the search path and asked for `--version`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fitcheck_core::profile::Browser;
use fitcheck_core::report::InstalledBrowser;
use fitcheck_core::version::Version;

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

/// Longest a browser may take to print its version.
const VERSION_TIMEOUT: Duration = Duration::from_secs(5);

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

fn find(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
    dirs.iter().map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        p.metadata()
            .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
            .unwrap_or(false)
    }
    #[cfg(not(unix))]
    {
        p.is_file()
    }
}

/// Runs `exe --version` with a time limit; the child is killed when it overruns.
fn version_of(exe: &Path) -> Option<String> {
    let mut child = Command::new(exe)
        .arg("--version")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .ok()?;
    let deadline = Instant::now() + VERSION_TIMEOUT;
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                tracing::debug!(exe = %exe.display(), "Browser did not print its version in time.");
                return None;
            }
        }
    }
    let out = child.wait_with_output().ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    Version::find_in(&text).map(|v| v.to_string())
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
