//! Chrome's URL policies (`URLBlocklist`, `URLAllowlist`, and the same lists in Edge, Brave and
//! Chromium): the filter format and which entry decides a URL, as the browser decides it.
//!
//! An entry reads `[scheme://][.]host[:port][/path][?query]`. The host is required: a name or an
//! address, or `*` for every host. A name also matches its subdomains unless the entry starts
//! with a dot. Absent fields match anything; a path is a prefix; query tokens (`key`, `key=value`,
//! each optionally ending in `*` for a prefix) must all be present. The most specific entry
//! decides:
//!
//! 1. entries for the URL's own host, then for each parent domain in turn, and `*` last;
//! 2. among them, those whose scheme, port, path and query match;
//! 3. the longest path, then the most query tokens;
//! 4. where a block and an allow entry tie, the allow entry.
//!
//! No entry: the URL is allowed. The format is Chromium's (`url_blocklist_manager`, documented
//! at chromium.org/administrators/url-blocklist-filter-format); what is hand-parsed here is the
//! entry, which is not a URL. The URL itself is read with the `url` crate.

use std::fmt;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::profile::Browser;

/// One list entry, as the policy holds it and as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UrlFilter {
    /// The entry as written in the policy.
    pub entry: String,
    scheme: Option<String>,
    /// Lower case, without the leading dot; `None` for `*`.
    host: Option<String>,
    /// Whether subdomains match too (no leading dot).
    subdomains: bool,
    port: Option<u16>,
    /// A prefix of the URL's path; empty matches every path.
    path: String,
    query: Vec<QueryToken>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct QueryToken {
    key: String,
    value: Option<String>,
    /// A trailing `*`: the last part written is a prefix.
    prefix: bool,
}

/// Why an entry cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    #[error("the entry is empty")]
    Empty,
    #[error("the entry names no host (write `*` for every host)")]
    NoHost,
    #[error("port {0:?} is not a number from 1 to 65535")]
    Port(String),
}

impl UrlFilter {
    /// Reads one entry. Custom schemes (`scheme:*`, `scheme://*`) read as a scheme with every
    /// host, which never matches a web address of another scheme.
    pub fn parse(entry: &str) -> Result<UrlFilter, FilterError> {
        let raw = entry.trim();
        if raw.is_empty() {
            return Err(FilterError::Empty);
        }
        // A fragment is ignored with everything after it.
        let rest = raw.split_once('#').map_or(raw, |(a, _)| a);
        let (scheme, rest) = match rest.split_once("://") {
            Some((s, r)) => (Some(s.to_ascii_lowercase()), r),
            None => match rest.split_once(':') {
                // `mailto:*`-style custom schemes.
                Some((s, "*")) if !s.contains('.') && !s.contains('/') => {
                    (Some(s.to_ascii_lowercase()), "*")
                }
                _ => (None, rest),
            },
        };
        let (authority, tail) = match rest.find(['/', '?']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        // user:pass@ is ignored.
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let (host, port) = split_port(authority)?;
        let host = host.trim_end_matches('.');
        let (host, subdomains) = match host.strip_prefix('.') {
            Some(h) => (h, false),
            None => (host, true),
        };
        if host.is_empty() {
            return Err(FilterError::NoHost);
        }
        let host = (host != "*").then(|| {
            host.trim_start_matches('[')
                .trim_end_matches(']')
                .to_ascii_lowercase()
        });
        let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
        let query = query
            .split('&')
            .filter(|t| !t.is_empty())
            .map(|t| {
                let (t, prefix) = t.strip_suffix('*').map_or((t, false), |t| (t, true));
                match t.split_once('=') {
                    Some((k, v)) => QueryToken {
                        key: k.to_owned(),
                        value: Some(v.to_owned()),
                        prefix,
                    },
                    None => QueryToken {
                        key: t.to_owned(),
                        value: None,
                        prefix,
                    },
                }
            })
            .collect();
        Ok(UrlFilter {
            entry: raw.to_owned(),
            scheme,
            host,
            subdomains,
            port,
            path: path.to_owned(),
            query,
        })
    }

    /// Whether this entry applies to `url` once its host has been found at `level`: 0 is the
    /// URL's own host, 1 its parent domain, and so on.
    fn applies(&self, url: &Url, level: usize) -> bool {
        if level > 0 && !self.subdomains && self.host.is_some() {
            return false;
        }
        if self
            .scheme
            .as_deref()
            .is_some_and(|s| s != "*" && s != url.scheme())
        {
            return false;
        }
        if self
            .port
            .is_some_and(|p| url.port_or_known_default() != Some(p))
        {
            return false;
        }
        if !url.path().starts_with(&self.path) {
            return false;
        }
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        self.query.iter().all(|t| {
            pairs.iter().any(|(k, v)| match (&t.value, t.prefix) {
                (None, true) => k.starts_with(&t.key),
                (None, false) => *k == t.key,
                (Some(want), true) => *k == t.key && v.starts_with(want.as_str()),
                (Some(want), false) => *k == t.key && v == want,
            })
        })
    }

    /// How specific a matching entry is, once its host level is fixed.
    fn specificity(&self) -> (usize, usize) {
        (self.path.len(), self.query.len())
    }
}

fn split_port(authority: &str) -> Result<(&str, Option<u16>), FilterError> {
    // An IPv6 address keeps its colons inside brackets.
    let colon = match authority.rfind(']') {
        Some(end) => authority[end..].find(':').map(|i| end + i),
        None => authority.rfind(':'),
    };
    let Some(i) = colon else {
        return Ok((authority, None));
    };
    let (host, port) = (&authority[..i], &authority[i + 1..]);
    match port.parse::<u16>() {
        Ok(p) if p > 0 => Ok((host, Some(p))),
        _ if port.is_empty() => Ok((host, None)),
        _ => Err(FilterError::Port(port.to_owned())),
    }
}

/// Which list an entry belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum List {
    Block,
    Allow,
}

/// A browser's URL lists, read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UrlPolicy {
    pub block: Vec<UrlFilter>,
    pub allow: Vec<UrlFilter>,
}

/// The entry that decided a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'a> {
    pub list: List,
    pub filter: &'a UrlFilter,
}

impl UrlPolicy {
    /// The entry that decides `url`, if any (none: the browser allows it).
    pub fn decide(&self, url: &Url) -> Option<Decision<'_>> {
        let host = url
            .host_str()?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .trim_end_matches('.')
            .to_ascii_lowercase();
        let is_address = url
            .host()
            .is_some_and(|h| !matches!(h, url::Host::Domain(_)));
        // The host, then each parent domain (an address has none), then `*`.
        let mut levels: Vec<Option<&str>> = vec![Some(&host)];
        if !is_address {
            let mut h = host.as_str();
            while let Some((_, parent)) = h.split_once('.') {
                levels.push(Some(parent));
                h = parent;
            }
        }
        levels.push(None);
        for (level, at) in levels.iter().enumerate() {
            let candidates = self
                .block
                .iter()
                .map(|f| (List::Block, f))
                .chain(self.allow.iter().map(|f| (List::Allow, f)))
                .filter(|(_, f)| f.host.as_deref() == *at)
                .filter(|(_, f)| f.applies(url, level));
            // The most specific; on a tie, the allow entry.
            let best = candidates.max_by_key(|(list, f)| (f.specificity(), *list == List::Allow));
            if let Some((list, filter)) = best {
                return Some(Decision { list, filter });
            }
        }
        None
    }

    /// The block entry that stops `url`, if the lists block it.
    pub fn blocks(&self, url: &Url) -> Option<&UrlFilter> {
        self.decide(url)
            .filter(|d| d.list == List::Block)
            .map(|d| d.filter)
    }
}

/// A managed browser's URL policy entry that blocks a URL on the device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BrowserPolicyBlock {
    /// The browser the policy is set for.
    pub browser: Browser,
    /// The policy that holds the entry (`URLBlocklist`, or the older `URLBlacklist`).
    pub policy: String,
    /// The entry that decides the URL, as the policy holds it.
    pub entry: String,
    /// Where the policy is set (its file).
    pub source: String,
}

impl fmt::Display for BrowserPolicyBlock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "the entry `{}` of {}'s {} ({})",
            self.entry, self.browser, self.policy, self.source
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(block: &[&str], allow: &[&str]) -> UrlPolicy {
        let read = |l: &[&str]| {
            l.iter()
                .map(|e| UrlFilter::parse(e).unwrap_or_else(|err| panic!("{e}: {err}")))
                .collect()
        };
        UrlPolicy {
            block: read(block),
            allow: read(allow),
        }
    }

    /// The entry that blocks `url`, or "" where it is allowed.
    fn blocked_by(p: &UrlPolicy, url: &str) -> String {
        let url = Url::parse(url).unwrap_or_else(|e| panic!("{url}: {e}"));
        p.blocks(&url).map_or(String::new(), |f| f.entry.clone())
    }

    #[test]
    fn a_name_covers_its_subdomains_and_a_leading_dot_only_itself() {
        let p = policy(&["example.com", ".www.example.org"], &[]);
        assert_eq!(blocked_by(&p, "https://example.com/"), "example.com");
        assert_eq!(
            blocked_by(&p, "https://sub.www.example.com/x"),
            "example.com"
        );
        assert_eq!(blocked_by(&p, "https://notexample.com/"), "");
        assert_eq!(
            blocked_by(&p, "http://www.example.org/a"),
            ".www.example.org"
        );
        assert_eq!(blocked_by(&p, "http://sub.www.example.org/a"), "");
        assert_eq!(blocked_by(&p, "http://example.org/a"), "");
    }

    #[test]
    fn the_most_specific_entry_decides_and_allow_wins_a_tie() {
        let p = policy(
            &["*", "vendor.example/app", "cdn.vendor.example"],
            &[
                "vendor.example",
                "cdn.vendor.example",
                "vendor.example/app/open",
            ],
        );
        // The host's own level before its parent's; a longer path before a shorter one.
        assert_eq!(blocked_by(&p, "https://cdn.vendor.example/x"), "");
        assert_eq!(
            blocked_by(&p, "https://www.vendor.example/app/lesson"),
            "vendor.example/app"
        );
        assert_eq!(blocked_by(&p, "https://www.vendor.example/app/open/1"), "");
        assert_eq!(blocked_by(&p, "https://www.vendor.example/home"), "");
        // Nothing for the host or its parents: `*` decides.
        assert_eq!(blocked_by(&p, "https://other.example/"), "*");
    }

    #[test]
    fn a_path_is_a_prefix_and_case_sensitive_a_host_is_not() {
        let p = policy(&["Vendor.Example./Lessons"], &[]);
        assert_eq!(
            blocked_by(&p, "https://vendor.example/Lessons/7"),
            "Vendor.Example./Lessons"
        );
        assert_eq!(
            blocked_by(&p, "https://vendor.example/LessonsArchive"),
            "Vendor.Example./Lessons"
        );
        assert_eq!(blocked_by(&p, "https://vendor.example/lessons/7"), "");
    }

    #[test]
    fn scheme_and_port_narrow_an_entry() {
        let p = policy(&["http://vendor.example", "media.example:8443"], &[]);
        assert_eq!(
            blocked_by(&p, "http://vendor.example/"),
            "http://vendor.example"
        );
        assert_eq!(blocked_by(&p, "https://vendor.example/"), "");
        assert_eq!(
            blocked_by(&p, "https://media.example:8443/live"),
            "media.example:8443"
        );
        assert_eq!(blocked_by(&p, "https://media.example/live"), "");
        // A narrower entry that does not apply leaves the parent level to decide.
        let p = policy(&["example.com"], &["https://www.example.com"]);
        assert_eq!(blocked_by(&p, "http://www.example.com/"), "example.com");
        assert_eq!(blocked_by(&p, "https://www.example.com/"), "");
    }

    #[test]
    fn query_tokens_must_all_be_present() {
        let p = policy(
            &[
                "video.example/watch?v=abc",
                "video.example/watch?list*&v=x*",
            ],
            &[],
        );
        assert_eq!(
            blocked_by(&p, "https://video.example/watch?t=1&v=abc"),
            "video.example/watch?v=abc"
        );
        assert_eq!(blocked_by(&p, "https://video.example/watch?v=abcd"), "");
        assert_eq!(
            blocked_by(&p, "https://video.example/watch?v=xyz&listing=2"),
            "video.example/watch?list*&v=x*"
        );
        assert_eq!(blocked_by(&p, "https://video.example/watch?v=xyz"), "");
        // More tokens is more specific.
        let p = policy(&["video.example/watch?v=abc"], &["video.example/watch"]);
        assert_eq!(
            blocked_by(&p, "https://video.example/watch?v=abc"),
            "video.example/watch?v=abc"
        );
    }

    #[test]
    fn addresses_user_info_fragments_and_custom_schemes() {
        let p = policy(
            &[
                "10.20.30.40",
                "http://user:pass@files.example/pub#top",
                "[2001:db8::1]:8080",
                "mailto:*",
            ],
            &[],
        );
        assert_eq!(blocked_by(&p, "https://10.20.30.40/x"), "10.20.30.40");
        assert_eq!(blocked_by(&p, "https://20.30.40/"), "");
        assert_eq!(
            blocked_by(&p, "http://files.example/pub/a.iso"),
            "http://user:pass@files.example/pub#top"
        );
        assert_eq!(
            blocked_by(&p, "http://[2001:db8::1]:8080/"),
            "[2001:db8::1]:8080"
        );
        assert_eq!(blocked_by(&p, "http://[2001:db8::1]/"), "");
        assert_eq!(blocked_by(&p, "https://mailto.example/"), "");
    }

    #[test]
    fn unreadable_entries_say_why() {
        assert_eq!(UrlFilter::parse("  "), Err(FilterError::Empty));
        assert_eq!(UrlFilter::parse("https:///x"), Err(FilterError::NoHost));
        assert_eq!(
            UrlFilter::parse("example.com:http"),
            Err(FilterError::Port("http".to_owned()))
        );
        assert_eq!(
            UrlFilter::parse("example.com:0"),
            Err(FilterError::Port("0".to_owned()))
        );
    }
}
