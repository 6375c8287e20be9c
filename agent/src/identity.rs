//! The agent's identity: a random id generated once and kept in the state directory, plus the
//! labels the district chose. Nothing about the device or its user identifies it.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use uuid::Uuid;

/// A `--label` that is not `key=value` with a usable key and value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LabelError {
    #[error("label {0:?} is not key=value; write e.g. --label site=lincoln-elementary")]
    NotKeyValue(String),
    #[error("label key {0:?} must be 1-32 lowercase letters, digits, '-' or '_'")]
    BadKey(String),
    #[error("label {0:?}: the value must be 1-128 printable characters")]
    BadValue(String),
    #[error("label key {0:?} is given twice")]
    Duplicate(String),
}

/// Parses `key=value` labels.
pub fn parse_labels(raw: &[String]) -> Result<BTreeMap<String, String>, LabelError> {
    let mut out = BTreeMap::new();
    for item in raw {
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| LabelError::NotKeyValue(item.clone()))?;
        let key_ok = !k.is_empty()
            && k.len() <= 32
            && k.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_');
        if !key_ok {
            return Err(LabelError::BadKey(k.to_owned()));
        }
        if v.is_empty() || v.chars().count() > 128 || v.chars().any(char::is_control) {
            return Err(LabelError::BadValue(k.to_owned()));
        }
        if out.insert(k.to_owned(), v.to_owned()).is_some() {
            return Err(LabelError::Duplicate(k.to_owned()));
        }
    }
    Ok(out)
}

/// The default state directory: `/var/lib/fitcheck` for root (the service), else
/// `$XDG_STATE_HOME/fitcheck` or `~/.local/state/fitcheck`.
pub fn default_state_dir() -> PathBuf {
    #[cfg(unix)]
    {
        if std::env::var_os("USER").is_some_and(|u| u == "root")
            || std::env::var_os("HOME").is_some_and(|h| h == "/root")
        {
            return PathBuf::from("/var/lib/fitcheck");
        }
    }
    if let Some(x) = std::env::var_os("XDG_STATE_HOME").filter(|x| !x.is_empty()) {
        return PathBuf::from(x).join("fitcheck");
    }
    if let Some(home) = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE")) {
        return PathBuf::from(home).join(".local/state/fitcheck");
    }
    std::env::temp_dir().join("fitcheck")
}

/// The agent id kept in `dir/agent-id`, created on first use. When the directory cannot be
/// written, a fresh id is used for this run and the reason is returned alongside.
pub fn agent_id(dir: &Path) -> (Uuid, Option<String>) {
    let path = dir.join("agent-id");
    if let Ok(text) = std::fs::read_to_string(&path)
        && let Ok(id) = Uuid::parse_str(text.trim())
    {
        return (id, None);
    }
    let id = Uuid::new_v4();
    let write = || -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        crate::files::write_atomic(&path, format!("{id}\n").as_bytes(), 0o644, false)
    };
    match write() {
        Ok(()) => (id, None),
        Err(e) => (
            id,
            Some(format!(
                "cannot keep the agent id in {}: {e}; this run uses a one-off id (set --state-dir)",
                path.display()
            )),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_checked() {
        let ok = parse_labels(&["site=lincoln".into(), "room=b-12".into()]).unwrap();
        assert_eq!(ok.get("site").map(String::as_str), Some("lincoln"));
        assert_eq!(
            parse_labels(&["site".into()]),
            Err(LabelError::NotKeyValue("site".into()))
        );
        assert_eq!(
            parse_labels(&["Site=x".into()]),
            Err(LabelError::BadKey("Site".into()))
        );
        assert_eq!(
            parse_labels(&["site=".into()]),
            Err(LabelError::BadValue("site".into()))
        );
        assert_eq!(
            parse_labels(&["a=1".into(), "a=2".into()]),
            Err(LabelError::Duplicate("a".into()))
        );
    }

    #[test]
    fn id_is_kept_across_runs() {
        let dir = tempfile::tempdir().unwrap();
        let (a, warn) = agent_id(dir.path());
        assert!(warn.is_none());
        let (b, _) = agent_id(dir.path());
        assert_eq!(a, b);
    }
}
