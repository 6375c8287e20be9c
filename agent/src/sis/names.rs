//! File and column names as a district's SIS writes them, read against the binding's.

use fitcheck_core::data::oneroster::{self, FileSpec, OneRosterVersion};

/// How a header cell reads against the binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header {
    /// The binding's own name.
    Exact(&'static str),
    /// Most likely the binding's column, misspelt or in the wrong case.
    Misspelt(&'static str),
    /// `metadata.*` (or the `ext_` convention).
    Extension,
    /// Empty.
    Blank,
    /// Resembles nothing in the binding.
    Unknown,
}

/// Reads one header cell of `spec`'s file.
pub fn header(spec: Option<&FileSpec>, name: &str) -> Header {
    if name.is_empty() {
        return Header::Blank;
    }
    if oneroster::is_extension_column(name) {
        return Header::Extension;
    }
    let Some(spec) = spec else {
        return Header::Unknown;
    };
    if let Some(c) = spec.column(name) {
        return Header::Exact(c.name);
    }
    match closest(spec.columns.iter().map(|c| c.name), name) {
        Some(c) => Header::Misspelt(c),
        None => Header::Unknown,
    }
}

/// The candidate `name` most likely means: the same but for case, else within a small edit
/// distance (one edit per six characters, at least one, at most three), the nearest first;
/// none when two are equally near.
pub fn closest<'a>(candidates: impl Iterator<Item = &'a str>, name: &str) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let mut best: Option<(&'a str, usize)> = None;
    let mut tie = false;
    for c in candidates {
        let d = if c.eq_ignore_ascii_case(name) {
            0
        } else {
            strsim::damerau_levenshtein(&c.to_ascii_lowercase(), &lower)
        };
        let allowed = (c.len() / 6).clamp(1, 3);
        if d > allowed {
            continue;
        }
        match best {
            Some((_, bd)) if d > bd => {}
            Some((_, bd)) if d == bd => tie = true,
            _ => {
                best = Some((c, d));
                tie = false;
            }
        }
    }
    if tie { None } else { best.map(|(c, _)| c) }
}

/// How a file name reads against the binding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileName {
    Exact(&'static FileSpec),
    /// The binding's file in another case (`userprofiles.csv`).
    Case(&'static FileSpec),
    Unknown,
}

/// Reads a file name (its base name) against `version`'s binding.
pub fn file(version: OneRosterVersion, name: &str) -> FileName {
    if let Some(spec) = oneroster::file(version, name) {
        return FileName::Exact(spec);
    }
    match oneroster::file_ignoring_case(version, name) {
        Some(spec) => FileName::Case(spec),
        None => FileName::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn misspellings_find_their_column_and_strangers_do_not() {
        let users = oneroster::file(OneRosterVersion::V1_2, "users.csv");
        assert_eq!(
            header(users, "prefferedGivenName"),
            Header::Misspelt("preferredGivenName")
        );
        assert_eq!(header(users, "GivenName"), Header::Misspelt("givenName"));
        assert_eq!(header(users, "givenName"), Header::Exact("givenName"));
        assert_eq!(header(users, "metadata.lunchPin"), Header::Extension);
        assert_eq!(header(users, ""), Header::Blank);
        assert_eq!(header(users, "favouriteColour"), Header::Unknown);
        let roles = oneroster::file(OneRosterVersion::V1_2, "roles.csv");
        assert_eq!(
            header(roles, "dataLastModified"),
            Header::Misspelt("dateLastModified")
        );
    }

    #[test]
    fn file_names_in_the_wrong_case_are_told_apart() {
        let v = OneRosterVersion::V1_2;
        assert!(matches!(file(v, "userProfiles.csv"), FileName::Exact(_)));
        assert!(
            matches!(file(v, "userprofiles.csv"), FileName::Case(s) if s.name == "userProfiles.csv")
        );
        assert_eq!(file(v, "notes.csv"), FileName::Unknown);
    }
}
