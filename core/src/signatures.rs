//! Filter signatures: how web filters, DNS filters and TLS-inspecting firewalls show a block,
//! as data (`signatures/catalog.toml`, format 1, and any district files of the same format),
//! and the pure matching of what a check saw against them.

use std::collections::HashSet;
use std::net::IpAddr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The only catalog format this build reads.
pub const CATALOG_FORMAT: u32 = 1;

/// The bundled catalog, `signatures/catalog.toml`.
pub const BUNDLED: &str = include_str!("../../signatures/catalog.toml");

/// What a signature recognises.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignatureKind {
    /// A filter's block page: header names or body markers.
    BlockPage,
    /// A host filters redirect blocked requests to.
    BlockHost,
    /// An address a DNS filter answers for blocked names.
    SinkholeAddress,
    /// The issuer of a TLS-inspection CA.
    InterceptionCa,
    /// A filter that runs as a browser extension: its Chrome Web Store ids (a tab it sends to
    /// its own `chrome-extension://<id>/…` page is blocked by it).
    FilterExtension,
}

/// One signature entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signature {
    /// Unique id (`squid-error-header`).
    pub id: String,
    /// The product that shows it.
    pub vendor: String,
    /// What it recognises.
    pub kind: SignatureKind,
    /// Public page the marker comes from.
    pub source: String,
    /// Anything worth knowing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// block_page: header names, or `name: substring`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub headers: Vec<String>,
    /// block_page: substrings of the body (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub body: Vec<String>,
    /// block_page: only these statuses match (empty: any).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status: Vec<u16>,
    /// block_host: host names, `*.` for any subdomain.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosts: Vec<String>,
    /// block_host: block-page addresses as host and path prefix without the scheme
    /// (`*.securly.com/blocked`), for hosts that also serve the filter's other pages.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub urls: Vec<String>,
    /// filter_extension: the extension's ids (32 letters a–p).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extension_ids: Vec<String>,
    /// sinkhole_address: addresses or CIDR blocks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addresses: Vec<String>,
    /// interception_ca: substrings of the issuer (case-insensitive).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub issuers: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
struct CatalogFile {
    format: u32,
    version: String,
    #[serde(default)]
    signature: Vec<Signature>,
}

/// What a proxy's own error answer says went wrong on its side: a name it could not resolve,
/// a server it could not reach or lost. Not a block: the name's or the path's failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProxyFailure {
    pub outcome: crate::report::HttpOutcome,
    pub layer: crate::report::BlockingLayer,
    /// What the proxy could not do, in words (`could not resolve the name`).
    pub what: &'static str,
    /// The proxy's error as it named it (`ERR_DNS_FAIL 0`).
    pub error: String,
}

/// Squid's own failure in an answer's `X-Squid-Error` header (the error template it used,
/// src/errorpage.cc), if the answer is one; how both agents read a proxy's error answer.
pub fn squid_failure(headers: &[(String, String)]) -> Option<ProxyFailure> {
    use crate::report::{BlockingLayer, HttpOutcome};
    let error = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("x-squid-error"))
        .map(|(_, v)| v.trim().to_ascii_uppercase())?;
    let (outcome, layer, what) = if error.starts_with("ERR_DNS_FAIL") {
        (
            HttpOutcome::DnsFailed,
            BlockingLayer::Dns,
            "could not resolve the name",
        )
    } else if error.starts_with("ERR_CONNECT_FAIL") {
        (
            HttpOutcome::ConnectionRefused,
            BlockingLayer::Tcp,
            "could not connect to the server",
        )
    } else if error.starts_with("ERR_READ_TIMEOUT") {
        (
            HttpOutcome::Timeout,
            BlockingLayer::Tcp,
            "got no answer from the server in time",
        )
    } else if error.starts_with("ERR_READ_ERROR") || error.starts_with("ERR_ZERO_SIZE_OBJECT") {
        (
            HttpOutcome::ConnectionReset,
            BlockingLayer::Tcp,
            "lost its connection to the server",
        )
    } else {
        return None;
    };
    Some(ProxyFailure {
        outcome,
        layer,
        what,
        error,
    })
}

/// A signature that matched, as a report records it.
pub use crate::report::SignatureMatch;

/// A catalog file that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {message}")]
pub struct CatalogError {
    pub file: String,
    pub message: String,
}

/// An IP block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Net {
    addr: IpAddr,
    prefix: u8,
}

impl Net {
    fn parse(s: &str) -> Option<Net> {
        let (a, p) = match s.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s, None),
        };
        let addr: IpAddr = a.trim().parse().ok()?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match p {
            Some(p) => p.trim().parse::<u8>().ok().filter(|p| *p <= max)?,
            None => max,
        };
        Some(Net { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.addr, ip) {
            (IpAddr::V6(_), IpAddr::V4(v4)) => IpAddr::V6(v4.to_ipv6_mapped()),
            (IpAddr::V4(_), IpAddr::V6(v6)) => match v6.to_ipv4_mapped() {
                Some(v4) => IpAddr::V4(v4),
                None => return false,
            },
            _ => ip,
        };
        let (a, b, bits) = match (self.addr, ip) {
            (IpAddr::V4(a), IpAddr::V4(b)) => {
                (u128::from(u32::from(a)), u128::from(u32::from(b)), 32)
            }
            (IpAddr::V6(a), IpAddr::V6(b)) => (u128::from(a), u128::from(b), 128),
            _ => return false,
        };
        if self.prefix == 0 {
            return true;
        }
        let shift = bits - u32::from(self.prefix);
        (a >> shift) == (b >> shift)
    }
}

/// Every signature in force: the bundled catalog plus any district files.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// `file version` of each file loaded, for the report's record.
    pub versions: Vec<String>,
    signatures: Vec<Signature>,
    nets: Vec<(usize, Net)>,
}

fn host_matches(pattern: &str, host: &str) -> bool {
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let pattern = pattern.to_ascii_lowercase();
    match pattern.strip_prefix("*.") {
        Some(base) => host == base || host.ends_with(&format!(".{base}")),
        None => host == pattern,
    }
}

fn lower_contains(hay: &str, needle: &str) -> bool {
    !needle.is_empty()
        && hay
            .to_ascii_lowercase()
            .contains(&needle.to_ascii_lowercase())
}

impl Catalog {
    /// Adds one catalog file. Nothing of a file with any error is added.
    pub fn add_file(&mut self, file: &str, text: &str) -> Result<(), CatalogError> {
        let err = |message: String| CatalogError {
            file: file.to_owned(),
            message,
        };
        let parsed: CatalogFile = toml::from_str(text).map_err(|e| {
            let at = e
                .span()
                .map(|s| {
                    let before = text.get(..s.start).unwrap_or("");
                    format!("line {}: ", before.matches('\n').count() + 1)
                })
                .unwrap_or_default();
            err(format!("{at}{}", e.message().trim()))
        })?;
        if parsed.format != CATALOG_FORMAT {
            return Err(err(format!(
                "format {} is not supported; this fitcheck reads format {CATALOG_FORMAT}",
                parsed.format
            )));
        }
        let mut problems = Vec::new();
        let mut ids: HashSet<&str> = self.signatures.iter().map(|s| s.id.as_str()).collect();
        let mut nets = Vec::new();
        for (i, s) in parsed.signature.iter().enumerate() {
            let at = format!("signature[{i}] ({})", s.id);
            if s.id.is_empty()
                || !s
                    .id
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
            {
                problems.push(format!(
                    "{at}: id must be lowercase letters, digits and dashes"
                ));
            }
            if !ids.insert(&s.id) {
                problems.push(format!("{at}: id is already defined; choose another"));
            }
            if !(s.source.starts_with("https://") || s.source.starts_with("http://")) {
                problems.push(format!("{at}: source must be the URL of a public page"));
            }
            problems.extend(markers(s).into_iter().map(|p| format!("{at}: {p}")));
            for a in &s.addresses {
                match Net::parse(a) {
                    Some(n) => nets.push((self.signatures.len() + i, n)),
                    None => problems.push(format!("{at}: {a:?} is not an address or CIDR block")),
                }
            }
        }
        if !problems.is_empty() {
            return Err(err(problems.join("; ")));
        }
        self.versions.push(format!("{file} {}", parsed.version));
        self.nets.extend(nets);
        self.signatures.extend(parsed.signature);
        Ok(())
    }

    /// Number of signatures.
    pub fn len(&self) -> usize {
        self.signatures.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.signatures.is_empty()
    }

    fn of(&self, kind: SignatureKind) -> impl Iterator<Item = &Signature> {
        self.signatures.iter().filter(move |s| s.kind == kind)
    }

    /// The block page a response is, if any: header markers first, then body markers.
    pub fn block_page(
        &self,
        status: u16,
        headers: &[(String, String)],
        body: &str,
    ) -> Option<SignatureMatch> {
        for s in self.of(SignatureKind::BlockPage) {
            if !s.status.is_empty() && !s.status.contains(&status) {
                continue;
            }
            for h in &s.headers {
                let (name, want) = match h.split_once(':') {
                    Some((n, v)) => (n.trim(), Some(v.trim())),
                    None => (h.trim(), None),
                };
                let hit = headers.iter().any(|(k, v)| {
                    k.eq_ignore_ascii_case(name) && want.is_none_or(|w| lower_contains(v, w))
                });
                if hit {
                    return Some(SignatureMatch {
                        id: s.id.clone(),
                        vendor: s.vendor.clone(),
                        matched: format!("header {h}"),
                    });
                }
            }
            if let Some(b) = s.body.iter().find(|b| lower_contains(body, b)) {
                return Some(SignatureMatch {
                    id: s.id.clone(),
                    vendor: s.vendor.clone(),
                    matched: format!("page text {b:?}"),
                });
            }
        }
        None
    }

    /// The filter a redirect target belongs to, if any.
    pub fn block_host(&self, host: &str) -> Option<SignatureMatch> {
        self.of(SignatureKind::BlockHost).find_map(|s| {
            s.hosts
                .iter()
                .find(|p| host_matches(p, host))
                .map(|p| SignatureMatch {
                    id: s.id.clone(),
                    vendor: s.vendor.clone(),
                    matched: format!("redirect to {host} ({p})"),
                })
        })
    }

    /// The block page an address (host and path) is, by a `block_host` entry's `urls`.
    pub fn block_url(&self, host: &str, path: &str) -> Option<SignatureMatch> {
        let path = path.to_ascii_lowercase();
        self.of(SignatureKind::BlockHost).find_map(|s| {
            s.urls
                .iter()
                .find(|u| {
                    let (h, prefix) = u.split_once('/').unwrap_or((u, ""));
                    host_matches(h, host)
                        && path
                            .trim_start_matches('/')
                            .starts_with(&prefix.to_ascii_lowercase())
                })
                .map(|u| SignatureMatch {
                    id: s.id.clone(),
                    vendor: s.vendor.clone(),
                    matched: format!("redirect to {host}/{} ({u})", path.trim_start_matches('/')),
                })
        })
    }

    /// What a browser agent matches a tab's landing against: every block host and block-page
    /// address, every DNS filter's sinkhole addresses and every filter extension's ids.
    pub fn for_browsers(&self) -> Vec<crate::api::BlockSignature> {
        self.signatures
            .iter()
            .filter(|s| {
                matches!(
                    s.kind,
                    SignatureKind::BlockHost
                        | SignatureKind::FilterExtension
                        | SignatureKind::SinkholeAddress
                )
            })
            .map(|s| crate::api::BlockSignature {
                id: s.id.clone(),
                vendor: s.vendor.clone(),
                hosts: s.hosts.clone(),
                urls: s.urls.clone(),
                extension_ids: s.extension_ids.clone(),
                addresses: s.addresses.clone(),
            })
            .collect()
    }

    /// A browser navigation judged again from what the browser recorded: a status its agent
    /// could only call unexpected (or reachable) that carries a filter's block-page headers is
    /// that filter's block, by the same rules the native agent applies to what it fetches.
    /// The browser never reads a page's body, so only header markers can match. Behind a proxy
    /// (a `Via` header, or Squid's own error header) the layer is the proxy; otherwise a web
    /// filter. Returns whether `r` changed.
    pub fn judge_navigation(&self, r: &mut crate::report::HttpResult) -> bool {
        use crate::report::{BlockingLayer, HttpOutcome};
        let e = &r.evidence;
        let Some(status) = e.status else {
            return false;
        };
        if e.method.as_deref() != Some("navigation")
            || e.signature.is_some()
            || !matches!(
                r.outcome,
                HttpOutcome::UnexpectedStatus | HttpOutcome::Reachable
            )
        {
            return false;
        }
        let headers: Vec<(String, String)> = e
            .headers
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let own_failure = squid_failure(&headers);
        if let Some(f) = own_failure {
            let e = &mut r.evidence;
            e.blocking_layer = Some(f.layer);
            e.detail = Some(format!(
                "the proxy {} (status {status}, X-Squid-Error {}), as the browser recorded it",
                f.what, f.error
            ));
            r.outcome = f.outcome;
            return true;
        }
        let Some(sig) = self.block_page(status, &headers, "") else {
            return false;
        };
        let proxied = headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("via") || k.eq_ignore_ascii_case("x-squid-error"));
        let e = &mut r.evidence;
        e.blocking_layer = Some(if proxied {
            BlockingLayer::HttpProxy
        } else {
            BlockingLayer::HttpFilter
        });
        e.detail = Some(format!(
            "status {status} with {}'s block page ({}), as the browser recorded it",
            sig.vendor, sig.matched
        ));
        e.signature = Some(sig);
        r.outcome = HttpOutcome::BlockedByFilter;
        true
    }

    /// The DNS filter an answer belongs to, if any.
    pub fn sinkhole(&self, ip: IpAddr) -> Option<SignatureMatch> {
        self.nets
            .iter()
            .find(|(_, n)| n.contains(ip))
            .and_then(|(i, n)| {
                self.signatures.get(*i).map(|s| SignatureMatch {
                    id: s.id.clone(),
                    vendor: s.vendor.clone(),
                    matched: format!("answer {ip} (in {}/{})", n.addr, n.prefix),
                })
            })
    }

    /// The inspection CA an issuer belongs to, if any.
    pub fn interception_ca(&self, issuer: &str) -> Option<SignatureMatch> {
        self.of(SignatureKind::InterceptionCa).find_map(|s| {
            s.issuers
                .iter()
                .find(|m| lower_contains(issuer, m))
                .map(|m| SignatureMatch {
                    id: s.id.clone(),
                    vendor: s.vendor.clone(),
                    matched: format!("issuer contains {m:?}"),
                })
        })
    }
}

/// What is wrong with a signature's markers: none of the kind it needs, a marker too short to
/// be specific, an extension id or a URL prefix that is not one.
fn markers(s: &Signature) -> Vec<String> {
    let mut problems = Vec::new();
    let has = match s.kind {
        SignatureKind::BlockPage => !s.headers.is_empty() || !s.body.is_empty(),
        SignatureKind::BlockHost => !s.hosts.is_empty() || !s.urls.is_empty(),
        SignatureKind::SinkholeAddress => !s.addresses.is_empty(),
        SignatureKind::InterceptionCa => !s.issuers.is_empty(),
        SignatureKind::FilterExtension => !s.extension_ids.is_empty(),
    };
    if !has {
        let need = match s.kind {
            SignatureKind::BlockPage => "`headers` or `body`",
            SignatureKind::BlockHost => "`hosts` or `urls`",
            SignatureKind::SinkholeAddress => "`addresses`",
            SignatureKind::InterceptionCa => "`issuers`",
            SignatureKind::FilterExtension => "`extension_ids`",
        };
        problems.push(format!("a {:?} signature needs {need}", s.kind));
    }
    for m in s
        .headers
        .iter()
        .chain(&s.body)
        .chain(&s.issuers)
        .chain(&s.hosts)
    {
        if m.trim().len() < 3 {
            problems.push(format!("marker {m:?} is too short to be specific"));
        }
    }
    for id in &s.extension_ids {
        if id.len() != 32 || !id.chars().all(|c| ('a'..='p').contains(&c)) {
            problems.push(format!("{id:?} is not an extension id (32 letters a to p)"));
        }
    }
    for u in &s.urls {
        let (host, _) = u.split_once('/').unwrap_or((u, ""));
        if u.contains("://") || host.trim_start_matches("*.").len() < 3 {
            problems.push(format!(
                "url {u:?} must be a host and path prefix without the scheme (`*.example.com/blocked`)"
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    const CAT: &str = r#"
format = 1
version = "t1"
[[signature]]
id = "squid-header"
vendor = "Squid"
kind = "block_page"
source = "https://example.org/squid"
headers = ["X-Squid-Error"]
status = [403]
[[signature]]
id = "e2-page"
vendor = "e2guardian"
kind = "block_page"
source = "https://example.org/e2"
body = ["e2guardian - access has been denied"]
[[signature]]
id = "umbrella-sinkhole"
vendor = "Cisco Umbrella"
kind = "sinkhole_address"
source = "https://example.org/umbrella"
addresses = ["146.112.61.104/29", "::ffff:146.112.61.104/125"]
[[signature]]
id = "lightspeed-host"
vendor = "Lightspeed"
kind = "block_host"
source = "https://example.org/ls"
hosts = ["*.lsfilter.example"]
[[signature]]
id = "forti-ca"
vendor = "Fortinet"
kind = "interception_ca"
source = "https://example.org/forti"
issuers = ["Fortinet_CA_SSL"]
"#;

    fn cat() -> Catalog {
        let mut c = Catalog::default();
        c.add_file("cat.toml", CAT).unwrap();
        c
    }

    #[test]
    fn block_pages_match_on_headers_and_body_with_status_filter() {
        let c = cat();
        let h = vec![("x-squid-error".to_owned(), "ERR_ACCESS_DENIED 0".to_owned())];
        assert_eq!(c.block_page(403, &h, "").unwrap().id, "squid-header");
        assert!(c.block_page(200, &h, "").is_none(), "status filter applies");
        let body = "<title>e2guardian - Access has been Denied</title>";
        assert_eq!(c.block_page(200, &[], body).unwrap().vendor, "e2guardian");
        assert!(c.block_page(200, &[], "<title>Welcome</title>").is_none());
    }

    #[test]
    fn a_browser_navigation_with_block_page_headers_is_that_filters_block() {
        use crate::report::{BlockingLayer, HttpOutcome, HttpResult};
        let c = cat();
        let nav = |status: u16, headers: &[(&str, &str)], outcome: &str| -> HttpResult {
            let headers: serde_json::Map<String, serde_json::Value> = headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_json::Value::from(*v)))
                .collect();
            serde_json::from_value(serde_json::json!({
                "requirement": "http[0]", "target": "http://app.example/", "outcome": outcome,
                "evidence": {"status": status, "headers": headers, "method": "navigation"},
                "timings": {"total_ms": 10.0}
            }))
            .unwrap_or_else(|e| panic!("{e}"))
        };
        let mut proxied = nav(
            403,
            &[
                ("x-squid-error", "ERR_ACCESS_DENIED 0"),
                ("via", "1.1 proxy (squid/5.7)"),
            ],
            "unexpected_status",
        );
        assert!(c.judge_navigation(&mut proxied));
        assert_eq!(proxied.outcome, HttpOutcome::BlockedByFilter);
        assert_eq!(
            proxied.evidence.blocking_layer,
            Some(BlockingLayer::HttpProxy)
        );
        assert_eq!(
            proxied
                .evidence
                .signature
                .as_ref()
                .map(|s| s.vendor.as_str()),
            Some("Squid")
        );

        // The status filter applies; a page with no marker is the status it is.
        let mut ok = nav(
            200,
            &[("x-squid-error", "ERR_ACCESS_DENIED 0")],
            "reachable",
        );
        assert!(!c.judge_navigation(&mut ok));
        assert_eq!(ok.outcome, HttpOutcome::Reachable);
        let mut plain = nav(403, &[("server", "nginx")], "unexpected_status");
        assert!(!c.judge_navigation(&mut plain));

        // Squid's own failures are the name's or the server's, not a block.
        let mut dns = nav(
            503,
            &[
                ("x-squid-error", "ERR_DNS_FAIL 0"),
                ("via", "1.1 p (squid)"),
            ],
            "unexpected_status",
        );
        assert!(c.judge_navigation(&mut dns));
        assert_eq!(dns.outcome, HttpOutcome::DnsFailed);
        assert_eq!(dns.evidence.blocking_layer, Some(BlockingLayer::Dns));

        // The native agent's results are its own to judge.
        let mut native = nav(
            403,
            &[("x-squid-error", "ERR_ACCESS_DENIED 0")],
            "unexpected_status",
        );
        native.evidence.method = None;
        assert!(!c.judge_navigation(&mut native));
    }

    #[test]
    fn sinkholes_hosts_and_issuers() {
        let c = cat();
        assert_eq!(
            c.sinkhole("146.112.61.107".parse().unwrap()).unwrap().id,
            "umbrella-sinkhole"
        );
        assert!(c.sinkhole("146.112.61.112".parse().unwrap()).is_none());
        assert!(
            c.sinkhole("::ffff:146.112.61.105".parse().unwrap())
                .is_some()
        );
        assert_eq!(
            c.block_host("block.lsfilter.example").unwrap().vendor,
            "Lightspeed"
        );
        assert!(c.block_host("lsfilter.example.com").is_none());
        assert!(
            c.interception_ca("CN=Fortinet_CA_SSL, O=Fortinet")
                .is_some()
        );
    }

    #[test]
    fn bad_files_are_refused_whole() {
        let mut c = cat();
        let n = c.len();
        let dup = "format = 1\nversion = \"d\"\n[[signature]]\nid = \"forti-ca\"\nvendor = \"X\"\nkind = \"interception_ca\"\nsource = \"https://x.example\"\nissuers = [\"X CA\"]\n[[signature]]\nid = \"ok-one\"\nvendor = \"X\"\nkind = \"sinkhole_address\"\nsource = \"https://x.example\"\naddresses = [\"10.0.0.300\"]\n";
        let e = c.add_file("district.toml", dup).unwrap_err();
        assert!(e.message.contains("already defined"), "{e}");
        assert!(e.message.contains("not an address"), "{e}");
        assert_eq!(c.len(), n, "nothing of a bad file is added");
        let unknown = "format = 1\nversion = \"d\"\n[[signature]]\nid = \"a\"\nvendor = \"X\"\nkind = \"block_page\"\nsource = \"https://x.example\"\nbdy = [\"x\"]\n";
        let e = c.add_file("d.toml", unknown).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("d.toml: line 8: unknown field `bdy`"),
            "{e}"
        );
    }
}
