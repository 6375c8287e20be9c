//! The second pass over a profile: every semantic rule, every error collected.

use std::collections::HashSet;
use std::fmt;

use super::{DeviceMinimums, PROFILE_FORMAT, PortProbe, Profile, Protocol, url_host};
use crate::version::Version;

/// A range of ports larger than this is probed at this many evenly spread ports (first and last
/// included), so a profile cannot turn an agent into a port scanner.
pub const MAX_PROBED_PORTS_PER_RANGE: usize = 8;

/// One step of a key path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Seg {
    Key(&'static str),
    Index(usize),
}

/// A semantic error before it is located in the file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Problem {
    pub path: Vec<Seg>,
    pub message: String,
}

pub(crate) fn render_path(path: &[Seg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            Seg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            Seg::Index(i) => {
                out.push_str(&format!("[{i}]"));
            }
        }
    }
    out
}

/// An inclusive port range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    pub first: u16,
    pub last: u16,
}

/// Why a range string is not a range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PortRangeError {
    Malformed,
    Zero,
    Reversed,
}

impl PortRange {
    /// Parses `"8801-8810"`.
    pub fn parse(text: &str) -> Result<PortRange, PortRangeError> {
        let (a, b) = text.split_once('-').ok_or(PortRangeError::Malformed)?;
        let first: u16 = a.trim().parse().map_err(|_| PortRangeError::Malformed)?;
        let last: u16 = b.trim().parse().map_err(|_| PortRangeError::Malformed)?;
        if first == 0 || last == 0 {
            return Err(PortRangeError::Zero);
        }
        if first > last {
            return Err(PortRangeError::Reversed);
        }
        Ok(PortRange { first, last })
    }

    /// Number of ports in the range.
    pub fn len(&self) -> usize {
        usize::from(self.last - self.first) + 1
    }

    /// Always false: a range holds at least one port.
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The ports an agent probes: all of them up to [`MAX_PROBED_PORTS_PER_RANGE`], else that
    /// many spread evenly from first to last.
    pub fn probed_ports(&self) -> Vec<u16> {
        let n = self.len();
        if n <= MAX_PROBED_PORTS_PER_RANGE {
            return (self.first..=self.last).collect();
        }
        let k = MAX_PROBED_PORTS_PER_RANGE;
        let span = u32::from(self.last - self.first);
        let mut out: Vec<u16> = (0..k)
            .map(|i| {
                // i in 0..k, span < 65536: the product fits u32 and the quotient fits u16.
                let offset =
                    span * u32::try_from(i).unwrap_or(0) / u32::try_from(k - 1).unwrap_or(1);
                self.first + u16::try_from(offset).unwrap_or(0)
            })
            .collect();
        out.dedup();
        out
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "{}", self.first)
        } else {
            write!(f, "{}-{}", self.first, self.last)
        }
    }
}

pub(crate) struct Collector {
    problems: Vec<Problem>,
}

impl Collector {
    /// How many problems are collected so far.
    pub(crate) fn len(&self) -> usize {
        self.problems.len()
    }

    pub(crate) fn push(&mut self, path: Vec<Seg>, message: impl Into<String>) {
        self.problems.push(Problem {
            path,
            message: message.into(),
        });
    }
}

pub(crate) fn at(base: &[Seg], more: &[Seg]) -> Vec<Seg> {
    let mut p = base.to_vec();
    p.extend_from_slice(more);
    p
}

/// Whether `name` is a syntactically valid DNS host name (letters, digits, hyphens, dots; no
/// leading or trailing hyphen in a label; at most 253 characters).
pub(crate) fn is_host_name(name: &str) -> bool {
    if name.is_empty() || name.len() > 253 || name.ends_with('.') {
        return false;
    }
    name.split('.').all(|label| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    })
}

fn is_host(name: &str) -> bool {
    is_host_name(name) || name.parse::<std::net::IpAddr>().is_ok()
}

fn check_host(c: &mut Collector, path: Vec<Seg>, host: &str) {
    if !is_host(host) {
        c.push(
            path,
            format!(
                "{host:?} is not a host name; expected a name such as \"zoom.us\" (no scheme, port or path)"
            ),
        );
    }
}

fn check_positive(c: &mut Collector, path: Vec<Seg>, value: Option<f64>, unit: &str) {
    if let Some(v) = value
        && !(v.is_finite() && v > 0.0)
    {
        c.push(path, format!("{v} must be a positive number of {unit}"));
    }
}

fn check_version(c: &mut Collector, path: Vec<Seg>, value: Option<&str>) {
    if let Some(v) = value
        && v.parse::<Version>().is_err()
    {
        c.push(
            path,
            format!("{v:?} is not a version; expected dotted numbers such as \"10\" or \"13.5\""),
        );
    }
}

/// An OS's or browser's `min_version`, `max_version` and `exclude_versions`: dotted numbers, a
/// window that is not empty, and exclusions inside it.
fn check_version_window(
    c: &mut Collector,
    base: &[Seg],
    min: Option<&str>,
    max: Option<&str>,
    exclude: &[String],
) {
    let before = c.len();
    check_version(c, at(base, &[Seg::Key("min_version")]), min);
    check_version(c, at(base, &[Seg::Key("max_version")]), max);
    for (j, x) in exclude.iter().enumerate() {
        check_version(
            c,
            at(base, &[Seg::Key("exclude_versions"), Seg::Index(j)]),
            Some(x),
        );
    }
    if c.len() == before {
        super::software::check_window(
            c,
            base,
            crate::software::VersionScheme::Semantic,
            min,
            max,
            exclude,
        );
    }
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| s.get(r).and_then(|x| x.parse::<u32>().ok());
    matches!((num(0..4), num(5..7), num(8..10)), (Some(_), Some(m), Some(d)) if (1..=12).contains(&m) && (1..=31).contains(&d))
}

pub(crate) fn validate(p: &Profile) -> Vec<Problem> {
    let mut c = Collector {
        problems: Vec::new(),
    };
    for section in [
        validate_header,
        validate_dns,
        validate_http,
        validate_ports,
        validate_network,
        validate_device,
    ] {
        section(&mut c, p);
    }
    super::software::validate(&mut c, &p.software);

    if let Some(d) = &p.data {
        super::data::validate(&mut c, d);
    }

    if p.dns.is_empty()
        && p.http.is_empty()
        && p.ports.is_empty()
        && p.network.is_none()
        && p.device.is_none()
        && p.software.is_empty()
        && p.data.is_none()
    {
        c.push(
            Vec::new(),
            "names no requirement; add at least one [[dns]], [[http]], [[ports]], [network], [device], [[software]] or [data] entry",
        );
    }
    c.problems
}

/// The profile's own fields: format, id, name, vendor, review date and sources.
fn validate_header(c: &mut Collector, p: &Profile) {
    if p.format != PROFILE_FORMAT {
        c.push(
            vec![Seg::Key("format")],
            format!(
                "format {} is not supported; this fitcheck reads format {PROFILE_FORMAT}",
                p.format
            ),
        );
    }
    let id_ok = !p.id.is_empty()
        && p.id
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-')
        && !p.id.starts_with('-');
    if !id_ok {
        c.push(
            vec![Seg::Key("id")],
            format!(
                "{:?} is not a profile id; expected lowercase letters, digits and dashes, such as \"pearson-testnav\"",
                p.id
            ),
        );
    }
    for (key, value) in [("name", &p.name), ("vendor", &p.vendor)] {
        if value.trim().is_empty() {
            c.push(vec![Seg::Key(key)], "must not be empty");
        }
    }
    if !is_date(&p.reviewed) {
        c.push(
            vec![Seg::Key("reviewed")],
            format!(
                "{:?} is not a date; expected YYYY-MM-DD, the day the values were checked against the sources",
                p.reviewed
            ),
        );
    }
    if p.sources.is_empty() {
        c.push(
            vec![Seg::Key("sources")],
            "is empty; list the URLs of the vendor pages the values come from",
        );
    }
    for (i, s) in p.sources.iter().enumerate() {
        if url_host(s).is_none() {
            c.push(
                vec![Seg::Key("sources"), Seg::Index(i)],
                format!("{s:?} is not an http(s) URL"),
            );
        }
    }
}

/// `[[dns]]`: names, each once.
fn validate_dns(c: &mut Collector, p: &Profile) {
    let mut seen = HashSet::new();
    for (i, d) in p.dns.iter().enumerate() {
        let base = [Seg::Key("dns"), Seg::Index(i)];
        if !is_host_name(&d.name) {
            c.push(
                at(&base, &[Seg::Key("name")]),
                format!(
                    "{:?} is not a DNS name; expected a name such as \"zoom.us\" (no scheme, port, path or trailing dot)",
                    d.name
                ),
            );
        } else if !seen.insert(d.name.to_ascii_lowercase()) {
            c.push(
                at(&base, &[Seg::Key("name")]),
                format!("{:?} is listed twice; remove one", d.name),
            );
        }
    }
}

/// `[[http]]`: URLs and their expected statuses.
fn validate_http(c: &mut Collector, p: &Profile) {
    for (i, h) in p.http.iter().enumerate() {
        let base = [Seg::Key("http"), Seg::Index(i)];
        match url_host(&h.url) {
            None => c.push(
                at(&base, &[Seg::Key("url")]),
                format!(
                    "{:?} is not an http(s) URL; expected a URL such as \"https://zoom.us/\"",
                    h.url
                ),
            ),
            Some(host) => check_host(c, at(&base, &[Seg::Key("url")]), &host),
        }
        for (j, s) in h.expect_status.iter().enumerate() {
            if !(100..=599).contains(s) {
                c.push(
                    at(&base, &[Seg::Key("expect_status"), Seg::Index(j)]),
                    format!("{s} is not an HTTP status; expected an HTTP status from 100 to 599"),
                );
            }
        }
    }
}

/// `[[ports]]`: hosts, protocols, ranges and probes.
fn validate_ports(c: &mut Collector, p: &Profile) {
    for (i, port) in p.ports.iter().enumerate() {
        let base = [Seg::Key("ports"), Seg::Index(i)];
        check_host(c, at(&base, &[Seg::Key("host")]), &port.host);
        match (port.port, &port.range) {
            (None, None) => c.push(
                base.to_vec(),
                "gives neither `port` nor `range`; give one, e.g. port = 443 or range = \"8801-8810\"",
            ),
            (Some(_), Some(_)) => c.push(
                at(&base, &[Seg::Key("range")]),
                "is given together with `port`; give one of them",
            ),
            (Some(0), None) => c.push(
                at(&base, &[Seg::Key("port")]),
                format!("0 is not a port; expected {}", super::location::PORT_WORDS),
            ),
            (Some(_), None) => {}
            (None, Some(r)) => match PortRange::parse(r) {
                Ok(_) => {}
                Err(PortRangeError::Malformed) => c.push(
                    at(&base, &[Seg::Key("range")]),
                    format!("{r:?} is not a port range; expected \"FIRST-LAST\", e.g. \"8801-8810\""),
                ),
                Err(PortRangeError::Zero) => c.push(
                    at(&base, &[Seg::Key("range")]),
                    format!(
                        "{r:?} includes port 0; each end must be {}",
                        super::location::PORT_WORDS
                    ),
                ),
                Err(PortRangeError::Reversed) => {
                    let (a, b) = r.split_once('-').unwrap_or((r, r));
                    c.push(
                        at(&base, &[Seg::Key("range")]),
                        format!(
                            "{r:?} is reversed; write the lower port first: \"{}-{}\"",
                            b.trim(),
                            a.trim()
                        ),
                    )
                }
            },
        }
        match (port.protocol, port.probe) {
            (Protocol::Tcp, Some(PortProbe::Stun)) => c.push(
                at(&base, &[Seg::Key("probe")]),
                "\"stun\" is a UDP probe; TCP ports are probed with \"connect\"",
            ),
            (Protocol::Udp, Some(PortProbe::Connect)) => c.push(
                at(&base, &[Seg::Key("probe")]),
                "\"connect\" is a TCP probe; UDP ports take \"stun\" or \"none\"",
            ),
            _ => {}
        }
    }
}

/// `[network]`: tolerances, the probe host and throughput URLs.
fn validate_network(c: &mut Collector, p: &Profile) {
    if let Some(n) = &p.network {
        let base = [Seg::Key("network")];
        check_positive(
            c,
            at(&base, &[Seg::Key("download_mbps_per_user")]),
            n.download_mbps_per_user,
            "Mbit/s",
        );
        check_positive(
            c,
            at(&base, &[Seg::Key("upload_mbps_per_user")]),
            n.upload_mbps_per_user,
            "Mbit/s",
        );
        check_positive(
            c,
            at(&base, &[Seg::Key("max_rtt_ms")]),
            n.max_rtt_ms,
            "milliseconds",
        );
        check_positive(
            c,
            at(&base, &[Seg::Key("max_jitter_ms")]),
            n.max_jitter_ms,
            "milliseconds",
        );
        if let Some(l) = n.max_loss_percent
            && !(l.is_finite() && (0.0..=100.0).contains(&l))
        {
            c.push(
                at(&base, &[Seg::Key("max_loss_percent")]),
                format!("{l} is not a percentage; expected 0-100"),
            );
        }
        if let Some(h) = &n.probe_host {
            check_host(c, at(&base, &[Seg::Key("probe_host")]), h);
        }
        for (key, url) in [
            ("download_url", &n.download_url),
            ("upload_url", &n.upload_url),
        ] {
            if let Some(u) = url
                && url_host(u).is_none()
            {
                c.push(
                    at(&base, &[Seg::Key(key)]),
                    format!("{u:?} is not an http(s) URL"),
                );
            }
        }
    }
}

/// `[device]`: OS and browser windows, hardware minimums.
fn validate_device(c: &mut Collector, p: &Profile) {
    if let Some(d) = &p.device {
        let base = [Seg::Key("device")];
        validate_device_os(c, &base, d);
        validate_device_sizes(c, &base, d);
        validate_device_browsers(c, &base, d);
    }
}

/// `[[device.os]]`: each version window, distributions for Linux only, one entry per family
/// (and distribution).
fn validate_device_os(c: &mut Collector, base: &[Seg], d: &DeviceMinimums) {
    let mut families = HashSet::new();
    for (i, os) in d.os.iter().enumerate() {
        let ob = at(base, &[Seg::Key("os"), Seg::Index(i)]);
        check_version_window(
            c,
            &ob,
            os.min_version.as_deref(),
            os.max_version.as_deref(),
            &os.exclude_versions,
        );
        if os.distribution.is_some() && os.family != super::OsFamily::Linux {
            c.push(
                at(&ob, &[Seg::Key("distribution")]),
                format!("applies to Linux only; {} has no distributions", os.family),
            );
        }
        let key = (os.family, os.distribution.clone());
        if !families.insert(key) {
            c.push(
                at(&ob, &[Seg::Key("family")]),
                format!("{} is listed twice; keep one entry per family", os.family),
            );
        }
    }
}

/// The hardware minimums: known architectures, positive sizes, both screen dimensions, and a
/// GPU's details only where one is required.
fn validate_device_sizes(c: &mut Collector, base: &[Seg], d: &DeviceMinimums) {
    for (i, a) in d.architectures.iter().enumerate() {
        const KNOWN: [&str; 5] = ["x86_64", "aarch64", "x86", "armv7l", "riscv64"];
        if !KNOWN.contains(&a.as_str()) {
            c.push(
                at(base, &[Seg::Key("architectures"), Seg::Index(i)]),
                format!(
                    "{a:?} is not an architecture; expected one of {}",
                    KNOWN.join(", ")
                ),
            );
        }
    }
    for (key, v, unit) in [
        ("ram_min_gib", d.ram_min_gib, "GiB"),
        ("cpu_min_ghz", d.cpu_min_ghz, "GHz"),
        ("disk_free_min_gib", d.disk_free_min_gib, "GiB"),
    ] {
        check_positive(c, at(base, &[Seg::Key(key)]), v, unit);
    }
    if d.cpu_cores_min == Some(0) {
        c.push(
            at(base, &[Seg::Key("cpu_cores_min")]),
            "0 is not a core count; expected 1 or more",
        );
    }
    for (key, v) in [
        ("screen_min_width", d.screen_min_width),
        ("screen_min_height", d.screen_min_height),
    ] {
        if v == Some(0) {
            c.push(at(base, &[Seg::Key(key)]), "0 pixels; expected 1 or more");
        }
    }
    if d.screen_min_width.is_some() != d.screen_min_height.is_some() {
        let missing = if d.screen_min_width.is_some() {
            "screen_min_height"
        } else {
            "screen_min_width"
        };
        c.push(
            base.to_vec(),
            format!("gives one screen dimension only; add `{missing}`"),
        );
    }
    if let Some(g) = &d.gpu
        && !g.required
        && (g.vram_min_mib.is_some() || !g.vendors.is_empty())
    {
        c.push(
            at(base, &[Seg::Key("gpu"), Seg::Key("required")]),
            "is false but vendors or vram_min_mib are set; set required = true or remove them",
        );
    }
}

/// `[[device.browser]]`: each version window, one entry per browser.
fn validate_device_browsers(c: &mut Collector, base: &[Seg], d: &DeviceMinimums) {
    let mut browsers = HashSet::new();
    for (i, b) in d.browser.iter().enumerate() {
        let bb = at(base, &[Seg::Key("browser"), Seg::Index(i)]);
        check_version_window(
            c,
            &bb,
            b.min_version.as_deref(),
            b.max_version.as_deref(),
            &b.exclude_versions,
        );
        if !browsers.insert(b.name) {
            c.push(
                at(&bb, &[Seg::Key("name")]),
                format!("{} is listed twice; keep one entry per browser", b.name),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_range_parses_and_rejects() {
        assert_eq!(
            PortRange::parse("8801-8810"),
            Ok(PortRange {
                first: 8801,
                last: 8810
            })
        );
        assert_eq!(PortRange::parse("8810-8801"), Err(PortRangeError::Reversed));
        assert_eq!(PortRange::parse("0-10"), Err(PortRangeError::Zero));
        assert_eq!(PortRange::parse("80"), Err(PortRangeError::Malformed));
        assert_eq!(PortRange::parse("80-70000"), Err(PortRangeError::Malformed));
    }

    #[test]
    fn every_port_error_says_what_a_port_is_in_the_same_words() {
        let head = "format = 1\nid = \"p\"\nname = \"P\"\nvendor = \"V\"\nreviewed = \"2026-01-01\"\nsources = [\"https://v.example/\"]\n";
        for port in ["70000", "0", "-1"] {
            let text = format!(
                "{head}[[ports]]\nprotocol = \"tcp\"\nhost = \"a.example\"\nport = {port}\n"
            );
            let err = crate::profile::Profile::parse("p.toml", &text)
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                err.contains(super::super::location::PORT_WORDS),
                "port = {port}: {err}"
            );
        }
        let text = format!(
            "{head}[[ports]]\nprotocol = \"tcp\"\nhost = \"a.example\"\nrange = \"0-10\"\n"
        );
        let err = crate::profile::Profile::parse("p.toml", &text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(err.contains(super::super::location::PORT_WORDS), "{err}");
    }

    #[test]
    fn large_ranges_are_sampled_with_both_ends() {
        let r = PortRange {
            first: 50000,
            last: 59999,
        };
        let ports = r.probed_ports();
        assert_eq!(ports.len(), MAX_PROBED_PORTS_PER_RANGE);
        assert_eq!(ports.first(), Some(&50000));
        assert_eq!(ports.last(), Some(&59999));
        assert!(ports.windows(2).all(|w| w[0] < w[1]));
        let small = PortRange {
            first: 3478,
            last: 3481,
        };
        assert_eq!(small.probed_ports(), vec![3478, 3479, 3480, 3481]);
    }

    #[test]
    fn host_names() {
        assert!(is_host_name("zoom.us"));
        assert!(is_host_name("a-b.example.org"));
        assert!(!is_host_name("https://zoom.us"));
        assert!(!is_host_name("-bad.example"));
        assert!(!is_host_name("zoom.us."));
        assert!(!is_host_name(""));
    }
}
