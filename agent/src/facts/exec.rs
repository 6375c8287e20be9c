//! Asking a program for its version: bounded in time and in output, never through a shell.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Longest a program may take to print its version.
pub const VERSION_TIMEOUT: Duration = Duration::from_secs(5);

/// Most bytes kept of each output stream; the rest is read and dropped so the program never
/// blocks on a full pipe.
const MAX_OUTPUT: usize = 64 * 1024;

/// What a bounded run printed.
#[derive(Debug, Clone, Default)]
pub struct Printed {
    pub stdout: String,
    pub stderr: String,
}

/// Runs `exe args…` with no input, kills it past `timeout`, and returns what it printed, or
/// `None` when it could not start or did not finish in time.
pub fn run_bounded(exe: &Path, args: &[&str], timeout: Duration) -> Option<Printed> {
    let mut child = Command::new(exe)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .ok()?;
    let out = child.stdout.take().map(drain);
    let err = child.stderr.take().map(drain);
    let deadline = Instant::now() + timeout;
    let finished = loop {
        match child.try_wait() {
            Ok(Some(_)) => break true,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                break false;
            }
        }
    };
    let text = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let printed = Printed {
        stdout: text(out),
        stderr: text(err),
    };
    if !finished {
        tracing::debug!(exe = %exe.display(), "Program did not print its version in time.");
        return None;
    }
    Some(printed)
}

/// Reads a stream to its end on a thread of its own, keeping the first [`MAX_OUTPUT`] bytes.
fn drain(mut r: impl Read + Send + 'static) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 8192];
        while let Ok(n) = r.read(&mut buf) {
            if n == 0 {
                break;
            }
            let room = MAX_OUTPUT.saturating_sub(kept.len());
            kept.extend_from_slice(buf.get(..n.min(room)).unwrap_or_default());
        }
        kept
    })
}

/// The first executable file called `name` in `dirs`.
pub fn find(dirs: &[PathBuf], name: &str) -> Option<PathBuf> {
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

/// A path as a report may carry it: a home folder (`/home/NAME`, `/Users/NAME`,
/// `C:\Users\NAME`, `/root`) written as `~`, so no user name leaves the device.
pub fn without_home(path: &Path) -> String {
    let text = path.display().to_string();
    for prefix in ["/home/", "/Users/", "C:\\Users\\", "c:\\users\\"] {
        if let Some(rest) = text.strip_prefix(prefix) {
            let sep = if prefix.contains('\\') { '\\' } else { '/' };
            return match rest.split_once(sep) {
                Some((_, tail)) => format!("~{sep}{tail}"),
                None => "~".to_owned(),
            };
        }
    }
    match text.strip_prefix("/root/") {
        Some(tail) => format!("~/{tail}"),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn home_folders_lose_their_user_name() {
        assert_eq!(
            without_home(Path::new("/home/jsmith/.local/bin/java")),
            "~/.local/bin/java"
        );
        assert_eq!(without_home(Path::new("/root/bin/x")), "~/bin/x");
        assert_eq!(without_home(Path::new("/Users/ann/bin/x")), "~/bin/x");
        assert_eq!(
            without_home(Path::new("C:\\Users\\ann\\AppData\\x.exe")),
            "~\\AppData\\x.exe"
        );
        assert_eq!(without_home(Path::new("/usr/bin/java")), "/usr/bin/java");
    }
}
