//! Dotted numeric versions (`10`, `13.5`, `122.0.6261.94`) compared component by component,
//! missing components counting as zero, so "13" == "13.0".

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// A version of dotted non-negative integers.
#[derive(Debug, Clone, Eq)]
pub struct Version(Vec<u64>);

/// A string that is not a dotted numeric version.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a dotted numeric version")]
pub struct VersionError(pub String);

impl FromStr for Version {
    type Err = VersionError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let parts: Result<Vec<u64>, _> = s.trim().split('.').map(str::parse::<u64>).collect();
        match parts {
            Ok(p) if !p.is_empty() && p.len() <= 8 => Ok(Version(p)),
            _ => Err(VersionError(s.to_owned())),
        }
    }
}

impl Version {
    /// The longest leading dotted-number run in free text: "Chromium 131.0.6778.85 built on
    /// Debian" gives 131.0.6778.85; "11 (26100)" gives 11.
    pub fn find_in(text: &str) -> Option<Version> {
        let start = text.find(|c: char| c.is_ascii_digit())?;
        let rest = text.get(start..)?;
        let end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        rest.get(..end)?.trim_end_matches('.').parse().ok()
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.0.len().max(other.0.len());
        for i in 0..n {
            let a = self.0.get(i).copied().unwrap_or(0);
            let b = other.0.get(i).copied().unwrap_or(0);
            match a.cmp(&b) {
                Ordering::Equal => {}
                o => return o,
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.0.iter().map(u64::to_string).collect();
        f.write_str(&parts.join("."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(s: &str) -> Version {
        s.parse().unwrap_or(Version(vec![]))
    }

    #[test]
    fn compares_by_component() {
        assert!(v("10.15") < v("11"));
        assert!(v("13.5") > v("13.4.9"));
        assert_eq!(v("13"), v("13.0.0"));
        assert!(v("22.04") > v("20.10"));
        assert!("10.x".parse::<Version>().is_err());
        assert!("".parse::<Version>().is_err());
    }

    #[test]
    fn finds_versions_in_text() {
        assert_eq!(
            Version::find_in("Chromium 131.0.6778.85 built on Debian"),
            Some(v("131.0.6778.85"))
        );
        assert_eq!(
            Version::find_in("Mozilla Firefox 128.5.0esr"),
            Some(v("128.5.0"))
        );
        assert_eq!(Version::find_in("no digits"), None);
    }
}
