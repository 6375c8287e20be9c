//! Durable files: one way to replace a file whole.
//!
//! Everything the agent keeps or hands over (credential, spool entries, counters, the agent id,
//! a written report, an installed binary or unit) is written to a temporary file beside it,
//! synced, renamed over the old one and the directory synced, so a crash leaves either the old
//! or the new file and never half of one. What the uplink keeps is readable by its owner only.
//!
//! The service runs as its own user while an administrator enrolls or uploads as root: a file
//! root writes into a directory the service owns is given to the directory's owner, so the
//! service can still read and remove it.

use std::io::Write;
use std::path::Path;

/// Creates `dir` (and its parents) if missing; a directory created here is private (0700).
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)?;
    }
    #[cfg(not(unix))]
    std::fs::create_dir_all(dir)?;
    if let Some(parent) = dir.parent() {
        adopt_owner(dir, parent);
    }
    Ok(())
}

/// Writes `bytes` to `path` atomically and durably, readable by the owner only; a file root
/// writes into the service's directory is given to the directory's owner.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomic(path, bytes, 0o600, true)
}

/// Writes `bytes` to `path` atomically and durably with `mode` (Unix): a temporary file
/// `.NAME.tmp` beside it, synced, renamed over `path`, and the directory synced. With `adopt`,
/// the file is given to the directory's owner first.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32, adopt: bool) -> std::io::Result<()> {
    let dir = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "state".to_owned());
    let tmp = dir.join(format!(".{name}.tmp"));
    {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            options.mode(mode);
        }
        let mut f = options.open(&tmp)?;
        // The mode above applies only when the file is created; a temporary file left by a
        // crash keeps whatever mode it had.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        }
        #[cfg(not(unix))]
        let _ = mode;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    if adopt {
        adopt_owner(&tmp, dir);
    }
    std::fs::rename(&tmp, path)?;
    sync_dir(dir)
}

/// Makes a rename or removal in `dir` durable.
pub fn sync_dir(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        std::fs::File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Gives `path` to the owner of `dir` when they differ (root writing into the service's
/// directory). Best effort: a user who is not root cannot give files away, and owns the
/// directory it writes into anyway.
pub fn adopt_owner(path: &Path, dir: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let (Ok(d), Ok(f)) = (std::fs::metadata(dir), std::fs::metadata(path)) else {
            return;
        };
        if d.uid() != f.uid() || d.gid() != f.gid() {
            if let Err(e) = std::os::unix::fs::chown(path, Some(d.uid()), Some(d.gid())) {
                tracing::warn!(
                    path = %path.display(),
                    owner = d.uid(),
                    %e,
                    "Cannot give the file to the state directory's owner; the service may not be able to read it. Run this command as root or as the service user."
                );
            }
        }
    }
    #[cfg(not(unix))]
    let _ = (path, dir);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn private_files_replace_atomically_and_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("state.json");
        write_private(&p, b"one").unwrap();
        write_private(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("state.json")]);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn private_dirs_are_owner_only() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().join("a/b");
        create_private_dir(&d).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&d).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o700);
        }
    }
}
