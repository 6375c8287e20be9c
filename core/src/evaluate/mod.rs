//! The per-device verdict: a pure function from a profile and what an agent observed to each
//! requirement's `pass` / `warn` / `fail` / `unknown`, expected next to observed.
//!
//! *fail* means measured and not met; *unknown* means it could not be measured. A non-critical
//! requirement that is not met is a *warn*. Network quality (bandwidth, RTT, jitter, loss) is
//! judged per site by the controller, so on one device it is never critical.

use crate::profile::{DeviceMinimums, OsFamily, PortProbe, Profile, url_host};
use crate::report::{
    BlockingLayer, CheckResult, Detection, DeviceFacts, DeviceOutcome, DeviceResult, DnsOutcome,
    FormFactor, HTTP_FETCH, HttpOutcome, HttpResult, MeasureOutcome, TcpOutcome, UdpOutcome,
};
use crate::software::VersionScheme;
use crate::version::Version;
use software::Window;

mod software;

const GIB: f64 = 1024.0 * 1024.0 * 1024.0;

pub use crate::outcome::{
    Evaluation, FixKind, Requirement, RequirementKind, RequirementOutcome, Status, Verdict,
};
use crate::requirement::RequirementId;
pub use crate::requirement::TCP_FALLBACK;

/// Every requirement of `profile`, in profile order, as [`evaluate`] judges them: its titles,
/// criticality and expectations come from the profile alone, whatever the device.
pub fn requirements(profile: &Profile) -> Vec<Requirement> {
    evaluate(profile, &DeviceFacts::unknown(), &[])
        .requirements
        .into_iter()
        .map(|o| Requirement {
            id: o.id,
            kind: o.kind,
            title: o.title,
            critical: o.critical,
            expected: o.expected,
        })
        .collect()
}

struct Judge<'a> {
    results: &'a [CheckResult],
    out: Vec<RequirementOutcome>,
}

struct Line {
    id: RequirementId,
    kind: RequirementKind,
    title: String,
    critical: bool,
    expected: String,
}

impl Judge<'_> {
    fn of(&self, id: &RequirementId) -> impl Iterator<Item = &CheckResult> {
        let id = id.clone();
        self.results.iter().filter(move |r| *r.requirement() == id)
    }

    fn push(&mut self, line: Line, status: Status, observed: String, remedy: Option<String>) {
        self.push_fix(line, status, observed, remedy, None);
    }

    /// [`push`](Self::push), with a fix other than the requirement's usual one.
    fn push_fix(
        &mut self,
        line: Line,
        status: Status,
        observed: String,
        remedy: Option<String>,
        fix: Option<FixKind>,
    ) {
        let status = match status {
            Status::Fail if !line.critical => Status::Warn,
            s => s,
        };
        let remedy = if status == Status::Pass { None } else { remedy };
        let fix = status
            .falls_short()
            .then(|| fix.unwrap_or_else(|| FixKind::default_for(line.kind, &line.id)));
        self.out.push(RequirementOutcome {
            id: line.id,
            kind: line.kind,
            title: line.title,
            critical: line.critical,
            expected: line.expected,
            observed,
            status,
            remedy,
            fix,
        });
    }
}

/// Whether an HTTP answer is the vendor's own server failing: a 5xx over HTTPS from a server
/// whose certificate the public roots trust, with no proxy, filter or intermediary (`via`,
/// `x-squid-error`) in the path. Only the vendor can change that; any other error might be the
/// district's path.
fn vendor_side_error(r: &crate::report::HttpResult) -> bool {
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

fn not_checked() -> String {
    "not checked".to_owned()
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / GIB
}

/// The port a URL connects to (its explicit port, else its scheme's: 443 for https, 80
/// otherwise).
pub fn url_port(url: &str) -> u16 {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.port_or_known_default())
        .unwrap_or(if url.starts_with("https://") { 443 } else { 80 })
}

/// Installed memory is a little more than what the OS can use (firmware and integrated graphics
/// keep some): usable memory rounded up to a whole GiB.
pub fn installed_ram_gib(total_bytes: u64) -> f64 {
    gib(total_bytes).ceil()
}

fn fmt_num(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        format!("{}", v.round())
    } else {
        format!("{v:.1}")
    }
}

/// Judges `results` and `device` against `profile`.
pub fn evaluate(profile: &Profile, device: &DeviceFacts, results: &[CheckResult]) -> Evaluation {
    let mut j = Judge {
        results,
        out: Vec::new(),
    };
    judge_dns(profile, &mut j);
    judge_http(profile, &mut j);
    judge_ports(profile, &mut j);
    judge_network(profile, &mut j);
    judge_device(profile, device, &mut j);
    software::judge(profile, device, &mut j);
    let reqs = j.out;
    let critical = |s: Status| reqs.iter().any(|r| r.critical && r.status == s);
    let verdict = if critical(Status::Fail) {
        Verdict::NotCompatible
    } else if critical(Status::Unknown) {
        Verdict::InsufficientEvidence
    } else if reqs
        .iter()
        .any(|r| r.status != Status::Pass && r.status != Status::Unknown)
    {
        Verdict::CompatibleWithWarnings
    } else {
        Verdict::Compatible
    };
    Evaluation {
        verdict,
        requirements: reqs,
    }
}

fn judge_dns(p: &Profile, j: &mut Judge<'_>) {
    for (i, d) in p.dns.iter().enumerate() {
        let id = RequirementId::Dns(i);
        let line = Line {
            id: id.clone(),
            kind: RequirementKind::Dns,
            title: format!("DNS {}", d.name),
            critical: d.critical,
            expected: "resolves".to_owned(),
        };
        let found = j.of(&id).find_map(|r| match r {
            CheckResult::Dns(r) => Some(r.clone()),
            _ => None,
        });
        let Some(r) = found else {
            j.push(line, Status::Unknown, not_checked(), None);
            continue;
        };
        let addrs: Vec<String> = r
            .evidence
            .a
            .iter()
            .chain(r.evidence.aaaa.iter())
            .map(ToString::to_string)
            .collect();
        let (status, observed, remedy) = match r.outcome {
            DnsOutcome::Resolved => (Status::Pass, addrs.join(", "), None),
            DnsOutcome::Sinkholed => (
                Status::Fail,
                format!(
                    "sinkholed: {} ({})",
                    addrs.join(", "),
                    r.evidence.sinkhole_reason.clone().unwrap_or_default()
                ),
                Some(format!(
                    "allow {} in {} (it blocks the name)",
                    d.name,
                    r.evidence.signature.as_ref().map_or_else(
                        || "the DNS filter".to_owned(),
                        |s| format!("the DNS filter ({})", s.vendor)
                    )
                )),
            ),
            other => {
                let word = serde_json::to_value(other)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default();
                (
                    Status::Fail,
                    word,
                    Some(format!(
                        "check that the district resolver answers {} (a filter may block it)",
                        d.name
                    )),
                )
            }
        };
        j.push(line, status, observed, remedy);
    }
}

fn judge_http(p: &Profile, j: &mut Judge<'_>) {
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
        let Some(r) = found else {
            j.push(line, Status::Unknown, not_checked(), None);
            continue;
        };
        let host = url_host(&h.url).unwrap_or_else(|| h.url.clone());
        let status_txt = r
            .evidence
            .status
            .map_or(String::new(), |s| format!(" (status {s})"));
        let detail = r
            .evidence
            .detail
            .as_deref()
            .map_or(String::new(), |d| format!(": {d}"));
        let port = url_port(&h.url);
        let sig = r.evidence.signature.as_ref();
        let filter = sig.map_or_else(|| "the web filter".to_owned(), |s| s.vendor.clone());
        let issuer = r
            .evidence
            .certificate
            .as_ref()
            .map_or_else(|| "unknown".to_owned(), |c| c.issuer.clone());
        if r.outcome == HttpOutcome::UnexpectedStatus && vendor_side_error(&r) {
            j.push_fix(
                line,
                Status::Fail,
                format!("the vendor's server answered with an error{status_txt}{detail}"),
                Some(format!(
                    "ask {} to fix {}: its own server (publicly trusted certificate, no proxy or filter in the path) answers with an error, which nothing on the district's side changes",
                    p.vendor, h.url
                )),
                Some(FixKind::NonePossible),
            );
            continue;
        }
        let (status, observed, remedy) = match r.outcome {
            HttpOutcome::Reachable => (Status::Pass, format!("reachable{status_txt}"), None),
            HttpOutcome::UnexpectedStatus => (
                Status::Fail,
                format!("unexpected status{status_txt}{detail}"),
                Some(format!("check what answers {} from this network", h.url)),
            ),
            HttpOutcome::BlockedByFilter
                if r.evidence.blocking_layer == Some(BlockingLayer::Dns) =>
            {
                let filter = sig.map_or_else(
                    || "the DNS filter".to_owned(),
                    |s| format!("the DNS filter ({})", s.vendor),
                );
                (
                    Status::Fail,
                    format!("blocked by {filter}{detail}"),
                    Some(format!("allow {host} in {filter} (it blocks the name)")),
                )
            }
            HttpOutcome::BlockedByFilter
                if r.evidence.blocking_layer == Some(BlockingLayer::BrowserExtension) =>
            {
                let by = sig.map_or_else(
                    || "a filter extension".to_owned(),
                    |s| format!("{} (extension)", s.vendor),
                );
                (
                    Status::Fail,
                    format!("blocked in the browser by {by}{detail}"),
                    Some(format!(
                        "allow {host} in {}'s policy for the students' organisational unit",
                        sig.map_or("the browser filter extension", |s| s.vendor.as_str())
                    )),
                )
            }
            HttpOutcome::BlockedByFilter
                if r.evidence.blocking_layer == Some(BlockingLayer::BrowserPolicy) =>
            {
                (
                    Status::Fail,
                    format!("blocked by the browser's policy (URLBlocklist){detail}"),
                    Some(format!(
                        "remove {host} from the Chrome URLBlocklist, or add it to URLAllowlist, for the students' organisational unit"
                    )),
                )
            }
            HttpOutcome::BlockedByFilter => {
                let how = if r.evidence.blocking_layer == Some(BlockingLayer::HttpProxy) {
                    "the proxy's"
                } else {
                    "the filter's"
                };
                (
                    Status::Fail,
                    format!("blocked by {filter}{status_txt}{detail}"),
                    Some(format!("add {host} to {how} allow-list ({filter})")),
                )
            }
            HttpOutcome::TlsIntercepted => (
                Status::Fail,
                format!(
                    "TLS intercepted by {}{detail}",
                    sig.map_or("a local CA", |s| s.vendor.as_str())
                ),
                Some(format!(
                    "add {host} to the TLS-inspection bypass list of {} (its certificate is re-signed by {issuer})",
                    sig.map_or("the inspecting filter", |s| s.vendor.as_str())
                )),
            ),
            HttpOutcome::DnsFailed => (
                Status::Fail,
                format!("name did not resolve{detail}"),
                Some(format!("make {host} resolve (see the DNS results)")),
            ),
            HttpOutcome::TlsFailed => (
                Status::Fail,
                format!("TLS handshake failed{detail}"),
                Some(format!(
                    "{host}'s certificate (issuer {issuer}) is not trusted on this device: install the issuing CA, or exempt {host} from TLS inspection if a filter re-signs it"
                )),
            ),
            HttpOutcome::ConnectionReset
                if r.evidence.blocking_layer == Some(BlockingLayer::TlsSni) =>
            {
                (
                    Status::Fail,
                    format!("connection reset{detail}"),
                    Some(format!(
                        "allow {host} in the filter that inspects TLS server names (SNI); it resets the handshake"
                    )),
                )
            }
            HttpOutcome::ConnectionRefused
            | HttpOutcome::ConnectionReset
            | HttpOutcome::Timeout => {
                let word = match r.outcome {
                    HttpOutcome::ConnectionRefused => "connection refused",
                    HttpOutcome::ConnectionReset => "connection reset",
                    _ => "timed out",
                };
                (
                    Status::Fail,
                    format!("{word}{detail}"),
                    Some(format!(
                        "allow outbound TCP {port} to {host} in the firewall"
                    )),
                )
            }
        };
        let (status, observed, remedy) = match browser_policy_block(&r, h.url.as_str()) {
            None => (status, observed, remedy),
            // The network lets it through; the browsers on the device refuse it.
            Some((blocks, fix)) if status == Status::Pass => (
                Status::Fail,
                format!("{observed} through the network; blocked in the browser by {blocks}"),
                Some(fix),
            ),
            Some((blocks, _)) => (
                status,
                format!("{observed}; the browser would refuse it too ({blocks})"),
                remedy,
            ),
        };
        j.push(line, status, observed, remedy);
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

fn judge_ports(p: &Profile, j: &mut Judge<'_>) {
    for (i, port) in p.ports.iter().enumerate() {
        let id = RequirementId::Port(i);
        let range = port.port_range();
        let range_txt = range.map_or_else(|| "?".to_owned(), |r| r.to_string());
        let probed = port.effective_probe() != PortProbe::None;
        let line = Line {
            id: id.clone(),
            kind: RequirementKind::Port,
            title: format!(
                "{} {} {}",
                port.protocol.to_string().to_uppercase(),
                port.host,
                range_txt
            ),
            // What cannot be measured cannot decide the verdict; it is listed as a rule to
            // confirm instead.
            critical: port.critical && probed,
            expected: match port.effective_probe() {
                PortProbe::Stun => "STUN answers".to_owned(),
                _ => "open".to_owned(),
            },
        };
        if port.effective_probe() == PortProbe::None {
            j.push(
                line,
                Status::Unknown,
                "not probed (no host answers a probe for it)".to_owned(),
                Some(format!(
                    "confirm the firewall allows outbound {} {range_txt} to the addresses the vendor publishes for it ({})",
                    port.protocol.to_string().to_uppercase(),
                    port.purpose.as_deref().unwrap_or(&port.host)
                )),
            );
            continue;
        }
        let mut seen: Vec<(u16, &'static str, bool)> = Vec::new();
        for r in j.of(&id) {
            match r {
                CheckResult::Tcp(t) => seen.push((
                    t.port,
                    match t.outcome {
                        TcpOutcome::Open => "open",
                        TcpOutcome::Refused => "refused",
                        TcpOutcome::Filtered => "filtered",
                    },
                    t.outcome == TcpOutcome::Open,
                )),
                CheckResult::Udp(u) => seen.push((
                    u.port,
                    match u.outcome {
                        UdpOutcome::Answered => "answered",
                        UdpOutcome::NoAnswer => "no answer",
                    },
                    u.outcome == UdpOutcome::Answered,
                )),
                _ => {}
            }
        }
        if seen.is_empty() {
            let unresolved = j.of(&id).find_map(|r| match r {
                CheckResult::Dns(d) if d.outcome != DnsOutcome::Resolved => Some(d.clone()),
                _ => None,
            });
            match unresolved {
                Some(d) => {
                    let word = d.outcome.as_str();
                    j.push(
                        line,
                        Status::Fail,
                        format!("not reachable: {} did not resolve ({word})", d.target),
                        Some(format!("make {} resolve (see the DNS results)", d.target)),
                    );
                }
                None => j.push(line, Status::Unknown, not_checked(), None),
            }
            continue;
        }
        seen.sort_by_key(|s| s.0);
        let all_ok = seen.iter().all(|s| s.2);
        let observed = if all_ok {
            if seen.len() == 1 {
                seen[0].1.to_owned()
            } else {
                let ports: Vec<String> = seen.iter().map(|s| s.0.to_string()).collect();
                format!("{} ({})", seen[0].1, ports.join(", "))
            }
        } else {
            let parts: Vec<String> = seen.iter().map(|s| format!("{} {}", s.0, s.1)).collect();
            parts.join(", ")
        };
        let status = if all_ok { Status::Pass } else { Status::Fail };
        let mut observed = observed;
        let mut remedy = format!(
            "open outbound {} {range_txt} to {} in the firewall",
            port.protocol.to_string().to_uppercase(),
            port.host
        );
        if !all_ok && port.protocol == crate::profile::Protocol::Udp {
            let fallback = j.of(&RequirementId::PortFallback(i)).find_map(|r| match r {
                CheckResult::Tcp(t) => Some(t.outcome),
                _ => None,
            });
            match fallback {
                Some(TcpOutcome::Open) => {
                    observed
                        .push_str("; TCP 443 open: UDP is filtered, media will fall back to TCP");
                    remedy.push_str(" (until then media falls back to TCP 443, at lower quality)");
                }
                // Say what was seen: a refusal is the host's (nothing listens on 443 there),
                // not the network blocking; only a filtered port is blocked.
                Some(TcpOutcome::Refused) => observed.push_str(
                    "; TCP 443 refused by the host (nothing listens there), so a fallback to TCP \
                     could not be checked on this host",
                ),
                Some(TcpOutcome::Filtered) => {
                    observed.push_str("; TCP 443 filtered too (no answer): no media path")
                }
                None => {}
            }
        }
        j.push(line, status, observed, Some(remedy));
    }
}

fn judge_network(p: &Profile, j: &mut Judge<'_>) {
    let Some(n) = &p.network else { return };
    let measured = RequirementId::NetworkMeasure;
    // Only round trips to the profile's latency host are the product's; a browser agent also
    // times its controller, which says nothing about the path to the vendor.
    let host = p.latency_host();
    let latency = j.of(&measured).find_map(|r| match r {
        CheckResult::Latency(l)
            if l.outcome == MeasureOutcome::Measured
                && host
                    .as_deref()
                    .is_some_and(|h| l.target.eq_ignore_ascii_case(h)) =>
        {
            Some(l.clone())
        }
        _ => None,
    });
    // Round trips timed as HTTP requests ride on TCP, which resends a lost packet: a request
    // that fails is not a lost packet, and a lost packet only delays its request.
    let over_http = latency.as_ref().is_some_and(|l| l.method == HTTP_FETCH);
    let bandwidth = j.of(&measured).find_map(|r| match r {
        CheckResult::Bandwidth(b) if b.outcome == MeasureOutcome::Measured => Some(b.clone()),
        _ => None,
    });
    struct Need {
        key: &'static str,
        title: &'static str,
        need: Option<f64>,
        seen: Option<f64>,
        at_least: bool,
        unit: &'static str,
        /// Said after a measured figure: how it was measured, where that qualifies it.
        how: &'static str,
        /// Said when nothing was measured.
        unseen: &'static str,
    }
    const NOT_MEASURED: &str = "not measured on this device (judged per site)";
    let row = |key, title, need, seen, at_least, unit| Need {
        key,
        title,
        need,
        seen,
        at_least,
        unit,
        how: "",
        unseen: NOT_MEASURED,
    };
    let timed = if over_http {
        " (timed HTTP requests, the server's time to answer included)"
    } else {
        ""
    };
    let needs = [
        row(
            "download_mbps_per_user",
            "Download per user",
            n.download_mbps_per_user,
            bandwidth.as_ref().and_then(|b| b.download_mbps),
            true,
            "Mbit/s",
        ),
        row(
            "upload_mbps_per_user",
            "Upload per user",
            n.upload_mbps_per_user,
            bandwidth.as_ref().and_then(|b| b.upload_mbps),
            true,
            "Mbit/s",
        ),
        Need {
            how: timed,
            ..row(
                "max_rtt_ms",
                "Round-trip time",
                n.max_rtt_ms,
                latency.as_ref().and_then(|l| l.rtt_ms),
                false,
                "ms",
            )
        },
        Need {
            how: timed,
            ..row(
                "max_jitter_ms",
                "Jitter",
                n.max_jitter_ms,
                latency.as_ref().and_then(|l| l.jitter_ms),
                false,
                "ms",
            )
        },
        Need {
            unseen: if over_http {
                "not measured on this device: its round trips were HTTP requests, where TCP \
                 resends lost packets (judged per site)"
            } else {
                NOT_MEASURED
            },
            ..row(
                "max_loss_percent",
                "Packet loss",
                n.max_loss_percent,
                latency
                    .as_ref()
                    .filter(|_| !over_http)
                    .and_then(|l| l.loss_percent),
                false,
                "%",
            )
        },
    ];
    for Need {
        key,
        title,
        need,
        seen,
        at_least,
        unit,
        how,
        unseen,
    } in needs
    {
        let Some(need) = need else { continue };
        let line = Line {
            id: RequirementId::Network(key.to_owned()),
            kind: RequirementKind::Network,
            title: title.to_owned(),
            critical: false,
            expected: format!(
                "{} {} {unit}",
                if at_least { "≥" } else { "≤" },
                fmt_num(need)
            ),
        };
        match seen {
            None => j.push(line, Status::Unknown, unseen.to_owned(), None),
            Some(v) => {
                let ok = if at_least { v >= need } else { v <= need };
                let status = if ok { Status::Pass } else { Status::Warn };
                j.push(
                    line,
                    status,
                    format!("{} {unit}{how}", fmt_num(v)),
                    Some("compare with the site's other devices before acting".to_owned()),
                );
            }
        }
    }
}

fn judge_device(p: &Profile, d: &DeviceFacts, j: &mut Judge<'_>) {
    let Some(m) = &p.device else { return };
    let c = DeviceContext {
        m,
        d,
        // A desktop takes memory, a graphics card, a larger drive and a monitor; anything else
        // (or a device whose enclosure is not known) has them fixed.
        takes_parts: d.form_factor == Some(FormFactor::Desktop),
    };
    for judge in [
        device_os,
        device_architectures,
        device_ram,
        device_cpu_cores,
        device_cpu_ghz,
        device_disk,
        device_screen,
        device_gpu,
        device_browser,
    ] {
        judge(&c, j);
    }
}

/// What every device requirement is judged with: the profile's minimums, the device's facts,
/// and whether the device takes parts.
struct DeviceContext<'a> {
    m: &'a DeviceMinimums,
    d: &'a DeviceFacts,
    takes_parts: bool,
}

impl DeviceContext<'_> {
    /// A part for a device that takes parts, `other` for one that does not.
    fn part(&self, other: FixKind) -> FixKind {
        if self.takes_parts {
            FixKind::UpgradePart
        } else {
            other
        }
    }

    /// A device requirement's line: critical, under `device.KEY`.
    fn line(&self, key: &str, title: &str, expected: String) -> Line {
        Line {
            id: RequirementId::Device(key.to_owned()),
            kind: RequirementKind::Device,
            title: title.to_owned(),
            critical: true,
            expected,
        }
    }
}

/// The operating system: a family the product supports, at a version in its window.
fn device_os(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if !m.os.is_empty() {
        let expected: Vec<String> =
            m.os.iter()
                .map(|o| {
                    let name = match &o.distribution {
                        Some(dist) => format!("{} ({dist})", o.family),
                        None => o.family.to_string(),
                    };
                    let window = software::window_words(
                        o.min_version.as_deref(),
                        o.max_version.as_deref(),
                        &o.exclude_versions,
                    );
                    software::named_window(&name, &window)
                })
                .collect();
        let l = c.line("os", "Operating system", expected.join(" or "));
        // Names often carry the version already (`Debian GNU/Linux 12 (bookworm)`).
        let observed = match &d.os.version {
            Some(v) if !d.os.name.contains(v.as_str()) => format!("{} (version {v})", d.os.name),
            _ => d.os.name.clone(),
        };
        let (status, remedy, fix) = judge_os(m, d);
        j.push_fix(l, status, observed, remedy, fix);
    }
}

/// The processor architecture.
fn device_architectures(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if !m.architectures.is_empty() {
        let l = c.line(
            "architectures",
            "CPU architecture",
            m.architectures.join(" or "),
        );
        let ok = m.architectures.contains(&d.os.architecture);
        j.push(
            l,
            if ok { Status::Pass } else { Status::Fail },
            d.os.architecture.clone(),
            Some("replace the device with a supported architecture".to_owned()),
        );
    }
}

/// Installed memory.
fn device_ram(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if let Some(min) = m.ram_min_gib {
        let l = c.line("ram_min_gib", "RAM", format!("≥ {} GiB", fmt_num(min)));
        let installed = installed_ram_gib(d.memory.total_bytes);
        let observed = format!(
            "{:.1} GiB usable ({} GiB installed)",
            gib(d.memory.total_bytes),
            fmt_num(installed)
        );
        let status = if d.memory.total_bytes == 0 {
            Status::Unknown
        } else if installed >= min {
            Status::Pass
        } else {
            Status::Fail
        };
        if c.takes_parts {
            j.push_fix(
                l,
                status,
                observed,
                Some(format!(
                    "add memory to reach at least {} GiB (a desktop takes more)",
                    fmt_num(min)
                )),
                Some(FixKind::UpgradePart),
            );
        } else {
            j.push(
                l,
                status,
                observed,
                Some(format!(
                    "use a device with at least {} GiB of RAM (student devices' memory is soldered in)",
                    fmt_num(min)
                )),
            );
        }
    }
}

/// Processor cores.
fn device_cpu_cores(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if let Some(min) = m.cpu_cores_min {
        let l = c.line("cpu_cores_min", "CPU cores", format!("≥ {min}"));
        let n = d.cpu.logical_cores;
        let status = if n == 0 {
            Status::Unknown
        } else if n >= min {
            Status::Pass
        } else {
            Status::Fail
        };
        j.push(
            l,
            status,
            format!("{n} logical cores"),
            Some("replace the device with one that has more cores".to_owned()),
        );
    }
}

/// Processor speed.
fn device_cpu_ghz(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if let Some(min) = m.cpu_min_ghz {
        let l = c.line(
            "cpu_min_ghz",
            "CPU frequency",
            format!("≥ {} GHz", fmt_num(min)),
        );
        match d.cpu.max_frequency_mhz {
            Some(mhz) => {
                let ghz = mhz as f64 / 1000.0;
                // Marketing figures are rounded to one decimal: 1.596 GHz is a 1.6 GHz part.
                let ok = (ghz * 10.0).round() / 10.0 >= min;
                j.push(
                    l,
                    if ok { Status::Pass } else { Status::Fail },
                    format!("{ghz:.2} GHz"),
                    Some("replace the device with a faster processor".to_owned()),
                );
            }
            None => j.push(
                l,
                Status::Unknown,
                "frequency not exposed by the OS".to_owned(),
                None,
            ),
        }
    }
}

/// Free space on the system volume.
fn device_disk(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if let Some(min) = m.disk_free_min_gib {
        let l = c.line(
            "disk_free_min_gib",
            "Free disk",
            format!("≥ {} GiB", fmt_num(min)),
        );
        match &d.disk {
            Some(disk) => {
                let free = gib(disk.free_bytes);
                let size = gib(disk.total_bytes);
                let status = if free >= min {
                    Status::Pass
                } else {
                    Status::Fail
                };
                let observed = format!("{free:.1} GiB free on {}", disk.mount_point);
                if disk.total_bytes > 0 && size < min {
                    // Freeing space cannot reach it: the volume is smaller than the need.
                    let remedy = if c.takes_parts {
                        format!(
                            "fit a drive larger than {} GiB (the system volume holds {size:.0} GiB)",
                            fmt_num(min)
                        )
                    } else {
                        format!(
                            "use a device with more storage (the system volume holds {size:.0} GiB)"
                        )
                    };
                    let fix = c.part(FixKind::ReplaceDevice);
                    j.push_fix(l, status, observed, Some(remedy), Some(fix));
                } else {
                    let remedy = format!("free at least {} GiB on the system volume", fmt_num(min));
                    j.push(l, status, observed, Some(remedy));
                }
            }
            None => j.push(
                l,
                Status::Unknown,
                "system volume not found".to_owned(),
                None,
            ),
        }
    }
}

/// The display's resolution.
fn device_screen(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if let (Some(w), Some(h)) = (m.screen_min_width, m.screen_min_height) {
        let l = c.line("screen", "Screen resolution", format!("≥ {w}×{h}"));
        match (d.screen.detection, d.screen.width, d.screen.height) {
            (Detection::Detected, Some(sw), Some(sh)) => j.push_fix(
                l,
                if sw >= w && sh >= h {
                    Status::Pass
                } else {
                    Status::Fail
                },
                format!("{sw}×{sh}"),
                Some(if c.takes_parts {
                    format!("connect a monitor that shows at least {w}×{h}")
                } else {
                    format!("use a device whose screen shows at least {w}×{h}")
                }),
                Some(c.part(FixKind::ReplaceDevice)),
            ),
            (Detection::NoneFound, _, _) => {
                j.push(l, Status::Unknown, "no display connected".to_owned(), None);
            }
            _ => j.push(
                l,
                Status::Unknown,
                "resolution not exposed by the OS".to_owned(),
                None,
            ),
        }
    }
}

/// Graphics: the adapter's vendor and memory.
fn device_gpu(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if let Some(g) = &m.gpu
        && g.required
    {
        let mut expected = "a GPU".to_owned();
        if !g.vendors.is_empty() {
            let v: Vec<String> = g.vendors.iter().map(ToString::to_string).collect();
            expected = format!("{} GPU", v.join(" or "));
        }
        if let Some(v) = g.vram_min_mib {
            expected.push_str(&format!(" with ≥ {v} MiB VRAM"));
        }
        let l = c.line("gpu", "GPU", expected);
        if d.gpu.detection == Detection::Unsupported {
            j.push(
                l,
                Status::Unknown,
                "GPU detection not supported on this OS".to_owned(),
                None,
            );
        } else {
            let names: Vec<String> = d
                .gpu
                .adapters
                .iter()
                .map(|a| match a.vram_bytes {
                    Some(b) => format!("{} {} ({} MiB)", a.vendor_name, a.model, b / (1024 * 1024)),
                    None => format!("{} {}", a.vendor_name, a.model),
                })
                .collect();
            let vendor_ok = |a: &crate::report::GpuAdapter| {
                g.vendors.is_empty() || g.vendors.contains(&a.vendor)
            };
            let candidates: Vec<_> = d.gpu.adapters.iter().filter(|a| vendor_ok(a)).collect();
            let (status, observed) = if candidates.is_empty() {
                (
                    Status::Fail,
                    if names.is_empty() {
                        "no display adapter".to_owned()
                    } else {
                        names.join("; ")
                    },
                )
            } else if let Some(min) = g.vram_min_mib {
                let best = candidates.iter().filter_map(|a| a.vram_bytes).max();
                match best {
                    Some(b) if b / (1024 * 1024) >= min => (Status::Pass, names.join("; ")),
                    Some(_) => (Status::Fail, names.join("; ")),
                    None => (
                        Status::Unknown,
                        format!("{} (VRAM not exposed)", names.join("; ")),
                    ),
                }
            } else {
                (Status::Pass, names.join("; "))
            };
            let remedy = if c.takes_parts {
                "fit a graphics card that meets this"
            } else {
                "use a device whose graphics meet this"
            };
            j.push_fix(
                l,
                status,
                observed,
                Some(remedy.to_owned()),
                Some(c.part(FixKind::ReplaceDevice)),
            );
        }
    }
}

/// A supported browser at a version in its window.
fn device_browser(c: &DeviceContext<'_>, j: &mut Judge<'_>) {
    let (m, d) = (c.m, c.d);
    if !m.browser.is_empty() {
        let expected: Vec<String> = m
            .browser
            .iter()
            .map(|b| {
                let window = software::window_words(
                    b.min_version.as_deref(),
                    b.max_version.as_deref(),
                    &b.exclude_versions,
                );
                software::named_window(&b.name.to_string(), &window)
            })
            .collect();
        let l = c.line(
            "browser",
            "Browser",
            format!("one of: {}", expected.join(", ")),
        );
        if d.browsers.detection == Detection::Unsupported {
            j.push(
                l,
                Status::Unknown,
                "browser detection not supported on this OS".to_owned(),
                None,
            );
        } else {
            let installed: Vec<String> = d
                .browsers
                .installed
                .iter()
                .map(|b| format!("{} {}", b.name, b.version))
                .collect();
            let windows: Vec<(
                &crate::report::InstalledBrowser,
                &crate::profile::BrowserRequirement,
                Window,
            )> = d
                .browsers
                .installed
                .iter()
                .flat_map(|b| {
                    m.browser
                        .iter()
                        .filter(move |req| req.name == b.name)
                        .map(move |req| (b, req))
                })
                .map(|(b, req)| {
                    let w = match Version::find_in(&b.version) {
                        Some(v) => software::version_window(
                            VersionScheme::Semantic,
                            &v.to_string(),
                            req.min_version.as_deref(),
                            req.max_version.as_deref(),
                            &req.exclude_versions,
                        ),
                        None if req.min_version.is_none()
                            && req.max_version.is_none()
                            && req.exclude_versions.is_empty() =>
                        {
                            Window::Inside
                        }
                        None => Window::Unreadable,
                    };
                    (b, req, w)
                })
                .collect();
            let ok = windows.iter().any(|(_, _, w)| *w == Window::Inside);
            let excluded = windows.iter().find_map(|(b, req, w)| match w {
                Window::Excluded { named, .. } => Some(format!(
                    "{} {} is excluded by the vendor ({named}): {}",
                    b.name,
                    b.version,
                    software::around_excluded(
                        VersionScheme::Semantic,
                        named,
                        req.min_version.as_deref(),
                        req.max_version.as_deref(),
                        &req.exclude_versions,
                    )
                )),
                _ => None,
            });
            let observed = if installed.is_empty() {
                "no browser found".to_owned()
            } else {
                installed.join(", ")
            };
            j.push(
                l,
                if ok { Status::Pass } else { Status::Fail },
                observed,
                Some(excluded.unwrap_or_else(|| {
                    format!(
                        "install or update a supported browser ({})",
                        expected.join(", ")
                    )
                })),
            );
        }
    }
}

/// The OS judged, its remedy, and the fix when it is not the usual update: a family the
/// profile does not support takes other devices.
fn judge_os(
    m: &crate::profile::DeviceMinimums,
    d: &DeviceFacts,
) -> (Status, Option<String>, Option<FixKind>) {
    let Some(family) = d.os.family else {
        return (Status::Unknown, None, None);
    };
    let entries: Vec<_> =
        m.os.iter()
            .filter(|o| o.family == family)
            .filter(|o| match (&o.distribution, &d.os.distribution) {
                (None, _) => true,
                (Some(want), Some(have)) => want.eq_ignore_ascii_case(have),
                (Some(_), None) => false,
            })
            .collect();
    if entries.is_empty() {
        let distributions: Vec<&str> =
            m.os.iter()
                .filter(|o| o.family == family)
                .filter_map(|o| o.distribution.as_deref())
                .collect();
        if !distributions.is_empty() {
            return (
                Status::Fail,
                Some(format!(
                    "{} is not among the supported {family} distributions ({}); use one of them",
                    d.os.distribution.as_deref().unwrap_or("this distribution"),
                    distributions.join(", ")
                )),
                Some(FixKind::UpdateSoftware),
            );
        }
        let mut supported: Vec<String> = Vec::new();
        for o in &m.os {
            let name = o.family.to_string();
            if !supported.contains(&name) {
                supported.push(name);
            }
        }
        return (
            Status::Fail,
            Some(format!(
                "this OS is not supported; use a device running {}",
                supported.join(" or ")
            )),
            Some(FixKind::ReplaceDevice),
        );
    }
    let have =
        d.os.version
            .as_deref()
            .and_then(Version::find_in)
            .map(|v| v.to_string());
    let mut unknown = false;
    let mut shortfalls = Vec::new();
    for e in &entries {
        let bounded =
            e.min_version.is_some() || e.max_version.is_some() || !e.exclude_versions.is_empty();
        match (&have, bounded) {
            (_, false) => return (Status::Pass, None, None),
            (None, true) => unknown = true,
            (Some(v), true) => match software::version_window(
                VersionScheme::Semantic,
                v,
                e.min_version.as_deref(),
                e.max_version.as_deref(),
                &e.exclude_versions,
            ) {
                Window::Inside => return (Status::Pass, None, None),
                w => shortfalls.push((e, w)),
            },
        }
    }
    if unknown {
        return (Status::Unknown, None, None);
    }
    let what = if family == OsFamily::Linux {
        "distribution"
    } else {
        "OS"
    };
    let remedy = match shortfalls.first() {
        Some((e, Window::Excluded { named, .. })) => format!(
            "{family} {named} is excluded by the vendor: {}",
            software::around_excluded(
                VersionScheme::Semantic,
                named,
                e.min_version.as_deref(),
                e.max_version.as_deref(),
                &e.exclude_versions,
            )
        ),
        Some((e, Window::Above { found })) => format!(
            "{family} {found} is newer than the vendor supports (at most {}): hold devices at a supported release until the vendor supports it",
            e.max_version.as_deref().unwrap_or("?")
        ),
        _ => {
            let want = entries
                .iter()
                .filter_map(|e| e.min_version.clone())
                .next()
                .unwrap_or_default();
            format!("upgrade the {what} to {family} {want} or later")
        }
    };
    (Status::Fail, Some(remedy), None)
}

/// Whether a device whose OS updates end at release `last` can meet `entry`: some release at or
/// below `last` lies inside its window (searched from `last` down, release by release, to its
/// minimum). A device that cannot is to be replaced: no update brings it there.
pub fn os_release_reachable(entry: &crate::profile::OsRequirement, last: &str) -> bool {
    let scheme = VersionScheme::Semantic;
    let (min, max) = (entry.min_version.as_deref(), entry.max_version.as_deref());
    let inside = |v: &str| {
        software::version_window(scheme, v, min, max, &entry.exclude_versions) == Window::Inside
    };
    let mut release = last.to_owned();
    // Bounded: a window's releases below the last one are few; past them, nothing changes.
    for _ in 0..256 {
        if inside(&release) {
            return true;
        }
        match scheme.previous_release(&release) {
            Some(p)
                if min.is_none_or(|m| scheme.compare(&p, m) != Some(std::cmp::Ordering::Less)) =>
            {
                release = p;
            }
            _ => return false,
        }
    }
    false
}

/// One `device` result per device requirement, with the observed value in words, for the
/// report's `results[]`.
pub fn device_results(profile: &Profile, device: &DeviceFacts) -> Vec<CheckResult> {
    let eval = evaluate(
        &Profile {
            dns: Vec::new(),
            http: Vec::new(),
            ports: Vec::new(),
            network: None,
            ..profile.clone()
        },
        device,
        &[],
    );
    eval.requirements
        .into_iter()
        .filter(|r| r.kind.is_per_device())
        .map(|r| {
            CheckResult::Device(DeviceResult {
                target: device_target(&r.id),
                requirement: r.id,
                outcome: if r.status == Status::Unknown {
                    DeviceOutcome::Unknown
                } else {
                    DeviceOutcome::Observed
                },
                observed: r.observed,
            })
        })
        .collect()
}

fn device_target(id: &RequirementId) -> String {
    if let RequirementId::Software(i) = id {
        return format!("software[{i}]");
    }
    let key = id
        .device_key()
        .map_or_else(|| id.to_string(), str::to_owned);
    let target = match key.as_str() {
        "architectures" => "architecture",
        "ram_min_gib" => "memory",
        "cpu_cores_min" => "cpu_cores",
        "cpu_min_ghz" => "cpu_frequency",
        "disk_free_min_gib" => "disk",
        other => other,
    };
    target.to_owned()
}

#[cfg(test)]
mod port_tests {
    use super::url_port;

    #[test]
    fn ports_of_urls() {
        assert_eq!(url_port("https://a.example/"), 443);
        assert_eq!(url_port("http://a.example"), 80);
        assert_eq!(url_port("https://a.example:8443/x?y=1"), 8443);
        assert_eq!(url_port("https://[2001:db8::1]:9443/"), 9443);
        assert_eq!(url_port("https://[2001:db8::1]/"), 443);
    }
}
