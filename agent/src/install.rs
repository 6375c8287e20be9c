//! `fitcheck-agent install` / `uninstall`: the daemon as a hardened systemd service running
//! as its own system user, `fitcheck`, with `/var/lib/fitcheck` as its state directory.
//!
//! With `--root DIR` only the files are written under `DIR` (packaging, tests); without it the
//! user and state directory are created too and systemd is told, when it runs.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The unit, as shipped in `agent/systemd/`.
pub const UNIT: &str = include_str!("../systemd/fitcheck-agent.service");
/// The unit's name.
pub const UNIT_NAME: &str = "fitcheck-agent.service";
/// Where the binary goes, under the root.
pub const BINARY_PATH: &str = "usr/local/bin/fitcheck-agent";
/// Where the unit goes, under the root.
pub const UNIT_PATH: &str = "etc/systemd/system/fitcheck-agent.service";
/// The service's state directory (the unit's `StateDirectory=`).
pub const STATE_DIR: &str = "/var/lib/fitcheck";
/// The service's user and group.
pub const USER: &str = "fitcheck";
/// The longest a system command (useradd, systemctl) may take.
const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// Why installing or removing the service failed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("cannot {action} {path}: {source}{}", root_hint(source))]
    Io {
        action: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{command}` failed: {detail}")]
    Command { command: String, detail: String },
}

fn root_hint(e: &std::io::Error) -> &'static str {
    if e.kind() == std::io::ErrorKind::PermissionDenied {
        "; run it as root (sudo), or give --root DIR to only write the files there"
    } else {
        ""
    }
}

fn io(action: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> InstallError + use<> {
    let path = path.to_owned();
    move |source| InstallError::Io {
        action,
        path,
        source,
    }
}

/// What was done and what is left for the administrator.
#[derive(Debug, Clone, Default)]
pub struct Outcome {
    /// Done, one line each.
    pub done: Vec<String>,
    /// Still to do, one command or sentence each.
    pub next: Vec<String>,
}

/// Writes `bytes` to `path` with `mode`, atomically and durably. A rename replaces even a
/// running binary: the old one lives on until its process ends.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<(), InstallError> {
    let dir = path.parent().unwrap_or(Path::new("/"));
    std::fs::create_dir_all(dir).map_err(io("create", dir))?;
    crate::files::write_atomic(path, bytes, mode, false).map_err(io("replace", path))
}

fn systemd_running() -> bool {
    Path::new("/run/systemd/system").is_dir()
}

/// Runs a system command with a time limit; its output is the error detail on failure.
fn run(program: &str, args: &[&str]) -> Result<String, InstallError> {
    let command = std::iter::once(program)
        .chain(args.iter().copied())
        .collect::<Vec<_>>()
        .join(" ");
    let failed = |detail: String| InstallError::Command {
        command: command.clone(),
        detail,
    };
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| failed(e.to_string()))?;
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() > COMMAND_LIMIT => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(failed(format!(
                    "no answer within {} s; stopped",
                    COMMAND_LIMIT.as_secs()
                )));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(failed(e.to_string())),
        }
    }
    let out = child
        .wait_with_output()
        .map_err(|e| failed(e.to_string()))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_owned();
        Err(failed(format!("{}: {stderr}", out.status)))
    }
}

/// The uid and gid of `user` in `/etc/passwd` (system users are local).
fn user_ids(user: &str) -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    passwd.lines().find_map(|line| {
        let mut f = line.split(':');
        if f.next()? != user {
            return None;
        }
        let _password = f.next()?;
        let uid = f.next()?.parse().ok()?;
        let gid = f.next()?.parse().ok()?;
        Some((uid, gid))
    })
}

/// Gives `dir` and what it holds (two levels: the spool and its `rejected/`) to `uid:gid`.
#[cfg(unix)]
fn chown_tree(dir: &Path, uid: u32, gid: u32, depth: u32) -> Result<(), InstallError> {
    std::os::unix::fs::chown(dir, Some(uid), Some(gid)).map_err(io("change the owner of", dir))?;
    if depth == 0 || !dir.is_dir() {
        return Ok(());
    }
    for item in std::fs::read_dir(dir).map_err(io("read", dir))? {
        let item = item.map_err(io("read", dir))?;
        let path = item.path();
        let is_dir = item.file_type().map(|t| t.is_dir()).unwrap_or(false);
        if is_dir {
            chown_tree(&path, uid, gid, depth - 1)?;
        } else {
            std::os::unix::fs::chown(&path, Some(uid), Some(gid))
                .map_err(io("change the owner of", &path))?;
        }
    }
    Ok(())
}

/// Installs the binary `binary` and the unit under `root` (`/` when `None`); on the real
/// system also the user, the state directory, and the service when systemd runs.
pub fn install(binary: &Path, root: Option<&Path>) -> Result<Outcome, InstallError> {
    let base = root.unwrap_or(Path::new("/"));
    let mut out = Outcome::default();
    let bin_to = base.join(BINARY_PATH);
    let bytes = std::fs::read(binary).map_err(io("read", binary))?;
    write_file(&bin_to, &bytes, 0o755)?;
    out.done.push(format!("installed {}", bin_to.display()));
    let unit_to = base.join(UNIT_PATH);
    write_file(&unit_to, UNIT.as_bytes(), 0o644)?;
    out.done.push(format!("wrote {}", unit_to.display()));
    if root.is_some() {
        out.next.push(format!(
            "on the target system: useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin {USER}"
        ));
        out.next.push(format!("enroll: sudo fitcheck-agent enroll --controller URL --secret-file FILE --label site=... --state-dir {STATE_DIR}"));
        out.next.push(format!(
            "systemctl daemon-reload && systemctl enable --now {UNIT_NAME}"
        ));
        return Ok(out);
    }

    if user_ids(USER).is_none() {
        run(
            "useradd",
            &[
                "--system",
                "--user-group",
                "--no-create-home",
                "--home-dir",
                "/nonexistent",
                "--shell",
                "/usr/sbin/nologin",
                "--comment",
                "fitcheck agent",
                USER,
            ],
        )?;
        out.done.push(format!("created system user {USER}"));
    }
    let state = Path::new(STATE_DIR);
    crate::files::create_private_dir(state).map_err(io("create", state))?;
    #[cfg(unix)]
    if let Some((uid, gid)) = user_ids(USER) {
        // Enrolling as root before installing leaves root's files; the service must own them.
        chown_tree(state, uid, gid, 2)?;
        out.done
            .push(format!("{STATE_DIR} belongs to {USER}, mode 0700"));
    }
    let enrolled = state.join(crate::uplink::state::ENROLLMENT_FILE).is_file();
    if systemd_running() {
        run("systemctl", &["daemon-reload"])?;
        run("systemctl", &["enable", UNIT_NAME])?;
        out.done.push(format!("enabled {UNIT_NAME}"));
        if enrolled {
            // restart, not start: a reinstall must run the new binary.
            run("systemctl", &["restart", UNIT_NAME])?;
            out.done.push(format!("started {UNIT_NAME}"));
        } else {
            out.next.push(format!("enroll: sudo fitcheck-agent enroll --controller URL --secret-file FILE --label site=... --state-dir {STATE_DIR}"));
            out.next.push(format!("systemctl start {UNIT_NAME}"));
        }
    } else {
        if !enrolled {
            out.next.push(format!("enroll: sudo fitcheck-agent enroll --controller URL --secret-file FILE --label site=... --state-dir {STATE_DIR}"));
        }
        out.next.push(format!(
            "systemd is not running here; once it is: systemctl daemon-reload && systemctl enable --now {UNIT_NAME}"
        ));
    }
    Ok(out)
}

/// Stops and removes the service and the binary. The state directory (enrollment and any
/// undelivered reports) and the user are kept; the outcome says how to remove them.
pub fn uninstall(root: Option<&Path>) -> Result<Outcome, InstallError> {
    let base = root.unwrap_or(Path::new("/"));
    let mut out = Outcome::default();
    let live = root.is_none() && systemd_running();
    if live {
        // Not installed or already stopped is fine: the goal is that it does not run.
        if run("systemctl", &["disable", "--now", UNIT_NAME]).is_ok() {
            out.done.push(format!("stopped and disabled {UNIT_NAME}"));
        }
    }
    for rel in [UNIT_PATH, BINARY_PATH] {
        let path = base.join(rel);
        match std::fs::remove_file(&path) {
            Ok(()) => out.done.push(format!("removed {}", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("remove", &path)(e)),
        }
    }
    if live {
        run("systemctl", &["daemon-reload"])?;
    }
    out.next.push(format!(
        "kept {STATE_DIR} (enrollment, undelivered reports) and user {USER}; to remove them too: userdel {USER} && rm -r {STATE_DIR}"
    ));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_unit_is_hardened_and_runs_the_daemon_as_its_own_user() {
        for line in [
            "ExecStart=/usr/local/bin/fitcheck-agent daemon --state-dir /var/lib/fitcheck",
            "User=fitcheck",
            "StateDirectory=fitcheck",
            "ProtectSystem=strict",
            "ProtectHome=yes",
            "PrivateTmp=yes",
            "NoNewPrivileges=yes",
            "CapabilityBoundingSet=CAP_NET_RAW",
            "AmbientCapabilities=CAP_NET_RAW",
            "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX AF_NETLINK",
            "SocketBindDeny=any",
            "LockPersonality=yes",
            "MemoryDenyWriteExecute=yes",
            "RestrictNamespaces=yes",
            "SystemCallFilter=@system-service",
            "ProtectKernelTunables=yes",
            "ProtectKernelModules=yes",
            "ProtectKernelLogs=yes",
            "Restart=on-failure",
            "RestartPreventExitStatus=78",
        ] {
            assert!(
                UNIT.lines().any(|l| l.trim() == line),
                "the unit lacks {line}"
            );
        }
        assert_eq!(
            STATE_DIR.rsplit('/').next(),
            Some("fitcheck"),
            "StateDirectory= and STATE_DIR agree"
        );
    }
}
