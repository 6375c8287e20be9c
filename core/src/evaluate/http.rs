//! `[[http]]` judged on one device: the URL reachable through the district's filters, or the
//! layer that stopped it, in words and as a [`Cause`].

use super::Finding;
use super::{FixKind, Judge, Line, RequirementKind, Status, dns, not_checked, url_port};
use crate::cause::Cause;
use crate::profile::{HttpRequirement, Profile, Protocol, url_host};
use crate::report::{BlockingLayer, CheckResult, HttpOutcome, HttpResult, SignatureMatch};
use crate::requirement::RequirementId;

/// Every `[[http]]` entry, judged.
pub(super) fn judge(p: &Profile, j: &mut Judge<'_>) {
    for (i, h) in p.http.iter().enumerate() {
        let id = RequirementId::Http(i);
        let line = Line {
            id: id.clone(),
            kind: RequirementKind::Http,
            title: format!("HTTP {}", h.url),
            critical: h.critical,
            expected: format!("reachable, {}", h.expected_text()),
        };
        let found = j.of(&id).find_map(|r| match r {
            CheckResult::Http(r) => Some(r.clone()),
            _ => None,
        });
        let finding = match found {
            Some(r) => judge_one(p, h, &r, j.results),
            None => Finding::new(Status::Unknown, not_checked(), None),
        };
        j.record(line, finding);
    }
}

/// What one fetch showed, in the words every finding about it uses.
struct Seen<'a> {
    r: &'a HttpResult,
    url: &'a str,
    /// The URL's host.
    host: String,
    /// ` (status 403)`, or nothing.
    status: String,
    /// `: DETAIL`, or nothing.
    detail: String,
    sig: Option<&'a SignatureMatch>,
    /// The recognised filter's vendor, else "the web filter".
    filter: String,
    /// The certificate's issuer, else "unknown".
    issuer: String,
}

impl<'a> Seen<'a> {
    fn of(h: &'a HttpRequirement, r: &'a HttpResult) -> Seen<'a> {
        let sig = r.evidence.signature.as_ref();
        Seen {
            r,
            url: &h.url,
            host: url_host(&h.url).unwrap_or_else(|| h.url.clone()),
            status: r
                .evidence
                .status
                .map_or(String::new(), |s| format!(" (status {s})")),
            detail: r
                .evidence
                .detail
                .as_deref()
                .map_or(String::new(), |d| format!(": {d}")),
            sig,
            filter: sig.map_or_else(|| "the web filter".to_owned(), |s| s.vendor.clone()),
            issuer: r
                .evidence
                .certificate
                .as_ref()
                .map_or_else(|| "unknown".to_owned(), |c| c.issuer.clone()),
        }
    }

    /// The recognised product's vendor, or `other`.
    fn vendor_or<'b>(&'b self, other: &'b str) -> &'b str {
        self.sig.map_or(other, |s| s.vendor.as_str())
    }

    fn layer(&self) -> Option<BlockingLayer> {
        self.r.evidence.blocking_layer
    }
}

/// One URL's fetch, judged, with the cause of a shortfall.
fn judge_one(p: &Profile, h: &HttpRequirement, r: &HttpResult, all: &[CheckResult]) -> Finding {
    let s = Seen::of(h, r);
    if r.outcome == HttpOutcome::UnexpectedStatus && vendor_side_error(r) {
        return Finding::new(
            Status::Fail,
            format!(
                "the vendor's server answered with an error{}{}",
                s.status, s.detail
            ),
            Some(format!(
                "ask {} to fix {}: its own server (publicly trusted certificate, no proxy or filter in the path) answers with an error, which nothing on the district's side changes",
                p.vendor, h.url
            )),
        )
        .fix(FixKind::NonePossible)
        .because(Cause::VendorServer {
            host: s.host.clone(),
            status: r.evidence.status,
        });
    }
    let finding = match r.outcome {
        HttpOutcome::Reachable => {
            Finding::new(Status::Pass, format!("reachable{}", s.status), None)
        }
        HttpOutcome::UnexpectedStatus => Finding::new(
            Status::Fail,
            format!("unexpected status{}{}", s.status, s.detail),
            Some(format!("check what answers {} from this network", h.url)),
        ),
        HttpOutcome::BlockedByFilter => blocked(&s),
        HttpOutcome::TlsIntercepted => Finding::new(
            Status::Fail,
            format!(
                "TLS intercepted by {}{}",
                s.vendor_or("a local CA"),
                s.detail
            ),
            Some(format!(
                "add {} to the TLS-inspection bypass list of {} (its certificate is re-signed by {})",
                s.host,
                s.vendor_or("the inspecting filter"),
                s.issuer
            )),
        ),
        _ => unreachable(&s),
    };
    with_browser_policy(finding, &s).because(cause(&s, all))
}

/// A block page or refusal a filter was seen making, by the layer that made it.
fn blocked(s: &Seen<'_>) -> Finding {
    let (host, detail) = (&s.host, &s.detail);
    match s.layer() {
        Some(BlockingLayer::Dns) => {
            let filter = s.sig.map_or_else(
                || "the DNS filter".to_owned(),
                |g| format!("the DNS filter ({})", g.vendor),
            );
            Finding::new(
                Status::Fail,
                format!("blocked by {filter}{detail}"),
                Some(format!("allow {host} in {filter} (it blocks the name)")),
            )
        }
        Some(BlockingLayer::BrowserExtension) => {
            let by = s.sig.map_or_else(
                || "a filter extension".to_owned(),
                |g| format!("{} (extension)", g.vendor),
            );
            Finding::new(
                Status::Fail,
                format!("blocked in the browser by {by}{detail}"),
                Some(format!(
                    "allow {host} in {}'s policy for the students' organisational unit",
                    s.vendor_or("the browser filter extension")
                )),
            )
        }
        Some(BlockingLayer::BrowserPolicy) => Finding::new(
            Status::Fail,
            format!("blocked by the browser's policy (URLBlocklist){detail}"),
            Some(format!(
                "remove {host} from the Chrome URLBlocklist, or add it to URLAllowlist, for the students' organisational unit"
            )),
        ),
        layer => {
            let how = if layer == Some(BlockingLayer::HttpProxy) {
                "the proxy's"
            } else {
                "the filter's"
            };
            let filter = &s.filter;
            Finding::new(
                Status::Fail,
                format!("blocked by {filter}{}{detail}", s.status),
                Some(format!("add {host} to {how} allow-list ({filter})")),
            )
        }
    }
}

/// A fetch that never got an answer: the name, the TLS handshake or the connection failed.
fn unreachable(s: &Seen<'_>) -> Finding {
    let (host, detail, issuer) = (&s.host, &s.detail, &s.issuer);
    match s.r.outcome {
        HttpOutcome::DnsFailed => Finding::new(
            Status::Fail,
            format!("name did not resolve{detail}"),
            Some(format!("make {host} resolve (see the DNS results)")),
        ),
        HttpOutcome::TlsFailed => Finding::new(
            Status::Fail,
            format!("TLS handshake failed{detail}"),
            Some(format!(
                "{host}'s certificate (issuer {issuer}) is not trusted on this device: install the issuing CA, or exempt {host} from TLS inspection if a filter re-signs it"
            )),
        ),
        HttpOutcome::ConnectionReset if s.layer() == Some(BlockingLayer::TlsSni) => Finding::new(
            Status::Fail,
            format!("connection reset{detail}"),
            Some(format!(
                "allow {host} in the filter that inspects TLS server names (SNI); it resets the handshake"
            )),
        ),
        outcome => {
            let word = match outcome {
                HttpOutcome::ConnectionRefused => "connection refused",
                HttpOutcome::ConnectionReset => "connection reset",
                _ => "timed out",
            };
            let mut remedy = format!(
                "allow outbound TCP {} to {host} in the firewall",
                url_port(s.url)
            );
            if addressless_navigation(s.r) {
                remedy.push_str(&format!(
                    " — unless the DNS filter answers {host} with a sinkhole address (0.0.0.0), which a browser refuses the same way and this browser could not show: a native agent at the site tells the two apart"
                ));
            }
            Finding::new(Status::Fail, format!("{word}{detail}"), Some(remedy))
        }
    }
}

/// Whether a browser's navigation failed before any server answered and the browser named no
/// address for it (Google Chrome offers its extensions no lookup): a refused connection there
/// may be a firewall's refusal or a DNS filter's sinkhole answer.
fn addressless_navigation(r: &HttpResult) -> bool {
    let e = &r.evidence;
    r.outcome == HttpOutcome::ConnectionRefused
        && e.method.as_deref() == Some("navigation")
        && e.address.is_none()
        && e.proxy.is_none()
}

/// The finding with the managed browsers' URL policy on the device: what the network let
/// through fails in the browser all the same.
fn with_browser_policy(f: Finding, s: &Seen<'_>) -> Finding {
    let Some((blocks, fix)) = browser_policy_block(s.r, s.url) else {
        return f;
    };
    if f.status == Status::Pass {
        // The network lets it through; the browsers on the device refuse it.
        Finding::new(
            Status::Fail,
            format!(
                "{} through the network; blocked in the browser by {blocks}",
                f.observed
            ),
            Some(fix),
        )
    } else {
        Finding {
            observed: format!("{}; the browser would refuse it too ({blocks})", f.observed),
            ..f
        }
    }
}

/// The managed browsers' URL policy entries that block `url` on this device, in words, and the
/// change that lifts them.
fn browser_policy_block(r: &HttpResult, url: &str) -> Option<(String, String)> {
    let blocks = &r.evidence.browser_policy;
    if blocks.is_empty() {
        return None;
    }
    let entries = blocks
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ");
    let remedy = format!(
        "remove {entries}, or add a URLAllowlist entry as specific as the one that blocks {url}"
    );
    Some((entries, remedy))
}

/// Whether an HTTP answer is the vendor's own server failing: a 5xx over HTTPS from a server
/// whose certificate the public roots trust, with no proxy, filter or intermediary (`via`,
/// `x-squid-error`) in the path. Only the vendor can change that; any other error might be the
/// district's path.
fn vendor_side_error(r: &HttpResult) -> bool {
    let e = &r.evidence;
    e.status.is_some_and(|s| s >= 500)
        && e.signature.is_none()
        && e.proxy.is_none()
        && e.blocking_layer.is_none()
        && !e
            .headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("via") || k.to_ascii_lowercase().starts_with("x-squid"))
        && e.certificate
            .as_ref()
            .is_some_and(|c| c.publicly_trusted == Some(true))
}

/// Why a fetch fell short: the layer that stopped it, from its outcome and evidence.
fn cause(s: &Seen<'_>, all: &[CheckResult]) -> Cause {
    let (r, host) = (s.r, s.host.clone());
    let vendor = s.sig.map(|g| g.vendor.clone());
    // The network let it through; the browser's own URL policy on the device did not.
    if r.outcome == HttpOutcome::Reachable
        && let Some(b) = r.evidence.browser_policy.first()
    {
        return Cause::BrowserPolicy {
            host,
            entry: Some(b.clone()),
        };
    }
    match (r.outcome, s.layer()) {
        (HttpOutcome::TlsIntercepted, _) => Cause::TlsInspection {
            host,
            inspector: vendor.or_else(|| r.evidence.certificate.as_ref().map(|c| c.issuer.clone())),
        },
        // The DNS filter's answer, seen by the web check itself: an allow-list entry there,
        // whether or not the profile also lists the name under [[dns]].
        (HttpOutcome::BlockedByFilter, Some(BlockingLayer::Dns)) => {
            Cause::DnsFilter { host, vendor }
        }
        // The name did not resolve: a DNS filter's doing only if the lookup was answered with
        // a block; a resolver that timed out is not a filter.
        (_, Some(BlockingLayer::Dns)) => {
            let lookup = all.iter().find_map(|c| match c {
                CheckResult::Dns(d) if d.target.eq_ignore_ascii_case(&host) => Some(d),
                _ => None,
            });
            match lookup {
                Some(d) => dns::cause(host, d),
                None => Cause::Resolver { host },
            }
        }
        // A filter inside the student's browser: its own policy, not the network's.
        (_, Some(BlockingLayer::BrowserExtension)) => Cause::BrowserExtension { host, vendor },
        (_, Some(BlockingLayer::BrowserPolicy)) => Cause::BrowserPolicy { host, entry: None },
        (HttpOutcome::BlockedByFilter, _)
        | (_, Some(BlockingLayer::TlsSni | BlockingLayer::HttpProxy | BlockingLayer::HttpFilter)) => {
            Cause::WebFilter { host, vendor }
        }
        (_, Some(BlockingLayer::Tcp)) => Cause::Firewall {
            address_unseen: addressless_navigation(r),
            protocol: Protocol::Tcp,
            ports: url_port(&r.target).to_string(),
            host,
        },
        _ => Cause::VendorAnswer { host: Some(host) },
    }
}
