//! Name resolution through the system's configured resolver (hickory-resolver reading
//! `/etc/resolv.conf` or the platform's equivalent), with hickory's errors translated into the
//! report's DNS outcomes in one place.

use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fitcheck_core::report::{CertificateEvidence, ControlAnswer, DnsEvidence, DnsOutcome};
use hickory_resolver::config::{NameServerConfig, ResolveHosts, ResolverConfig, ResolverOpts};
use rustls::pki_types::ServerName;
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::tls::{SeenChains, TlsSetup};
use fitcheck_core::signatures::Catalog;
use hickory_resolver::TokioResolver;
use hickory_resolver::net::runtime::TokioRuntimeProvider;
use hickory_resolver::net::{DnsError, NetError};
use hickory_resolver::proto::op::ResponseCode;
use hickory_resolver::proto::rr::RecordType;

/// Per-query timeout and attempts: an answer slower than this is a `timeout` outcome.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(3);
const QUERY_ATTEMPTS: usize = 2;

/// Could not even build a resolver (unreadable or empty resolver configuration).
#[derive(Debug, thiserror::Error)]
#[error("cannot read the system's DNS configuration: {0}; check /etc/resolv.conf")]
pub struct ResolverConfigError(String);

/// The system resolver, shared by every check.
#[derive(Clone)]
pub struct SystemResolver {
    inner: Arc<TokioResolver>,
    servers: Vec<String>,
    catalog: Arc<Catalog>,
    control: Option<Control>,
}

impl std::fmt::Debug for SystemResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SystemResolver")
            .field("servers", &self.servers)
            .finish()
    }
}

/// The answer to "what does `name` resolve to", both families asked concurrently.
#[derive(Debug, Clone)]
pub struct Answer {
    pub outcome: DnsOutcome,
    pub evidence: DnsEvidence,
    pub duration: Duration,
}

impl Answer {
    /// Addresses to connect to, IPv4 first; empty unless the name resolved to usable addresses.
    pub fn usable_addresses(&self) -> Vec<IpAddr> {
        if self.outcome != DnsOutcome::Resolved {
            return Vec::new();
        }
        self.evidence
            .a
            .iter()
            .chain(self.evidence.aaaa.iter())
            .copied()
            .collect()
    }

    /// The addresses of a block answer that are a server (a filter's block-page server), not
    /// a bogon: where the block page itself can be seen. Empty for any other answer.
    pub fn block_servers(&self) -> Vec<IpAddr> {
        if self.outcome != DnsOutcome::Sinkholed {
            return Vec::new();
        }
        self.evidence
            .a
            .iter()
            .chain(self.evidence.aaaa.iter())
            .copied()
            .filter(|ip| bogon_reason(*ip).is_none())
            .collect()
    }

    /// The outcome word and detail, for an HTTP or port result that could not connect.
    pub fn failure_text(&self) -> String {
        let word = self.outcome.as_str().to_owned();
        match (&self.evidence.sinkhole_reason, &self.evidence.detail) {
            (Some(r), _) => format!("{word}: {r}"),
            (None, Some(d)) => format!("{word}: {d}"),
            (None, None) => word,
        }
    }
}

/// Why an address is a block answer rather than the product's server, if it is one.
///
/// Bogons only: `0.0.0.0/8`, loopback, link-local, `::`, `::1`. Private ranges are not bogons
/// here, as districts and labs host real services on them.
pub fn bogon_reason(ip: IpAddr) -> Option<String> {
    let why = match ip {
        IpAddr::V4(v4) => {
            if v4.octets()[0] == 0 {
                "is in 0.0.0.0/8, the unspecified network a DNS filter answers to block"
            } else if v4.is_loopback() {
                "is a loopback address, which a DNS filter answers to block"
            } else if v4.is_link_local() {
                "is a link-local address, never a public server"
            } else if v4.is_broadcast() {
                "is the broadcast address"
            } else {
                return None;
            }
        }
        IpAddr::V6(v6) => {
            if v6 == Ipv6Addr::UNSPECIFIED {
                "is ::, the unspecified address a DNS filter answers to block"
            } else if v6 == Ipv6Addr::LOCALHOST {
                "is ::1, the loopback address a DNS filter answers to block"
            } else if let Some(v4) = v6.to_ipv4_mapped() {
                return bogon_reason(IpAddr::V4(v4));
            } else if (v6.segments()[0] & 0xffc0) == 0xfe80 {
                "is a link-local address, never a public server"
            } else {
                return None;
            }
        }
    };
    Some(format!("{ip} {why}"))
}

/// What one resolver answered for both families.
#[derive(Debug, Clone, Default)]
struct Lookup {
    a: Vec<IpAddr>,
    aaaa: Vec<IpAddr>,
    /// The most telling failure, when neither family has an address.
    failure: Option<(DnsOutcome, String)>,
}

impl Lookup {
    fn all(&self) -> Vec<IpAddr> {
        self.a.iter().chain(self.aaaa.iter()).copied().collect()
    }
}

/// Asks `resolver` for A and AAAA concurrently.
async fn query(resolver: &TokioResolver, fqdn: &str) -> Lookup {
    let one = |rtype| async move {
        match resolver.lookup(fqdn, rtype).await {
            Ok(lookup) => Ok(lookup
                .answers()
                .iter()
                .filter_map(|r| r.data.ip_addr())
                .collect::<Vec<IpAddr>>()),
            Err(err) => Err(classify(&err)),
        }
    };
    let (a, aaaa) = tokio::join!(one(RecordType::A), one(RecordType::AAAA));
    let mut out = Lookup::default();
    let mut failures = Vec::new();
    match a {
        Ok(v) => out.a = v,
        Err(f) => failures.push(f),
    }
    match aaaa {
        Ok(v) => out.aaaa = v,
        Err(f) => failures.push(f),
    }
    if out.a.is_empty() && out.aaaa.is_empty() {
        // Most telling failure first: a definite answer beats silence.
        let rank = |o: DnsOutcome| match o {
            DnsOutcome::Nxdomain => 0,
            DnsOutcome::Refused => 1,
            DnsOutcome::Servfail => 2,
            DnsOutcome::Timeout => 3,
            _ => 4,
        };
        failures.sort_by_key(|(o, _)| rank(*o));
        out.failure = failures.into_iter().next();
    }
    out
}

/// A resolver outside the district's filtering (configured with `--control-resolver`), and
/// the TLS set-up to tell a CDN's different answer from a block.
#[derive(Clone)]
struct Control {
    address: String,
    inner: Arc<TokioResolver>,
    tls: TlsSetup,
}

impl Control {
    /// The district's outcome, revised against the control resolver's answer.
    async fn compare(
        &self,
        name: &str,
        fqdn: &str,
        district_outcome: DnsOutcome,
        district: &Lookup,
        catalog: &Catalog,
        evidence: &mut DnsEvidence,
    ) -> DnsOutcome {
        let control = query(&self.inner, fqdn).await;
        let control_all = control.all();
        let word = outcome_word(&control, &control_all);
        let mut answer = ControlAnswer {
            resolver: self.address.clone(),
            addresses: control_all.clone(),
            outcome: word,
            district_answer_validates: None,
            district_answer_certificate: None,
        };
        let outcome = match district_outcome {
            DnsOutcome::Nxdomain
            | DnsOutcome::NoData
            | DnsOutcome::Refused
            | DnsOutcome::Servfail
                if !control_all.is_empty() =>
            {
                evidence.sinkhole_reason = Some(self.denial_reason(district_outcome, name));
                DnsOutcome::Sinkholed
            }
            DnsOutcome::Resolved
                if !control_all.is_empty()
                    && !district.all().iter().any(|ip| control_all.contains(ip)) =>
            {
                self.different_answer(name, district, &control_all, catalog, evidence, &mut answer)
                    .await
            }
            other => other,
        };
        evidence.control = Some(answer);
        outcome
    }

    /// Why the district's denial of a name the control resolver resolves is a block.
    fn denial_reason(&self, district_outcome: DnsOutcome, name: &str) -> String {
        let said = match district_outcome {
            DnsOutcome::Nxdomain => "that the name does not exist (NXDOMAIN)",
            DnsOutcome::NoData => "with no address for it",
            DnsOutcome::Refused => "with a refusal (REFUSED)",
            _ => "with a failure (SERVFAIL)",
        };
        format!(
            "the district resolver answers {said}, but the control resolver {} resolves \
             {name}",
            self.address
        )
    }

    /// The district's answer shares no address with the control resolver's: resolved when its
    /// server proves it serves the name, else a block (with the reason in `evidence`).
    async fn different_answer(
        &self,
        name: &str,
        district: &Lookup,
        control_all: &[IpAddr],
        catalog: &Catalog,
        evidence: &mut DnsEvidence,
        answer: &mut ControlAnswer,
    ) -> DnsOutcome {
        // Different answers are normal for CDNs: the district's answer is a block only
        // if it cannot prove to the public roots that it serves the name. The device's
        // store is no judge: a DNS filter's block-page server presents a certificate
        // from the CA the district installed on its devices.
        let server = self.serves(name, district).await;
        answer.district_answer_validates = Some(server.validates);
        answer
            .district_answer_certificate
            .clone_from(&server.certificate);
        if server.validates {
            DnsOutcome::Resolved
        } else {
            let reason = self.unproven_reason(
                name,
                district,
                control_all,
                server.certificate.as_ref(),
                catalog,
                evidence,
            );
            evidence.sinkhole_reason = Some(reason);
            DnsOutcome::Sinkholed
        }
    }

    /// Why a differing district answer whose server did not prove the name is a block: the
    /// two answers, and what its server presented (naming a known filter's CA in `evidence`).
    fn unproven_reason(
        &self,
        name: &str,
        district: &Lookup,
        control_all: &[IpAddr],
        certificate: Option<&CertificateEvidence>,
        catalog: &Catalog,
        evidence: &mut DnsEvidence,
    ) -> String {
        let mut reason = format!(
            "the district's answer ({}) differs from the control resolver {}'s ({}), and ",
            listed(&district.all()),
            self.address,
            listed(control_all)
        );
        match certificate {
            None => reason.push_str(&format!(
                "that address completed no TLS handshake for {name}"
            )),
            Some(cert) => {
                reason.push_str(&format!(
                    "its certificate for {name} is issued by {:?}, which no public root trusts",
                    cert.issuer
                ));
                if cert.trusted_by_system == Some(true) {
                    reason.push_str(
                        " (this device trusts it: a CA a filter or the district installed)",
                    );
                }
                if let Some(sig) = catalog.interception_ca(&cert.issuer) {
                    reason.push_str(&format!("; it is {}'s CA", sig.vendor));
                    evidence.signature = Some(sig);
                }
            }
        }
        reason
    }

    /// Whether the district's first address completes a TLS handshake for `name` that the
    /// public roots validate, and the certificate it presented (validated or not).
    async fn serves(&self, name: &str, district: &Lookup) -> DistrictServer {
        let refused = DistrictServer {
            validates: false,
            certificate: None,
        };
        let Some(ip) = district.all().first().copied() else {
            return refused;
        };
        let seen = SeenChains::default();
        let Ok(config) = self.tls.public_client_config(&seen) else {
            return refused;
        };
        let Ok(server_name) = ServerName::try_from(name.to_owned()) else {
            return refused;
        };
        let attempt = async {
            let tcp = TcpStream::connect(SocketAddr::new(ip, 443)).await.ok()?;
            TlsConnector::from(Arc::new(config))
                .connect(server_name, tcp)
                .await
                .ok()
        };
        let validates = matches!(
            tokio::time::timeout(QUERY_TIMEOUT, attempt).await,
            Ok(Some(_))
        );
        let certificate = seen
            .chain(name)
            .and_then(|chain| self.tls.assess(&chain, name));
        DistrictServer {
            validates,
            certificate,
        }
    }
}

/// The control resolver's outcome as its report word: `resolved`, else its failure's word
/// (`no_data` when it gave none).
fn outcome_word(control: &Lookup, control_all: &[IpAddr]) -> String {
    if control_all.is_empty() {
        control
            .failure
            .as_ref()
            .and_then(|(o, _)| serde_json::to_value(o).ok())
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_else(|| "no_data".to_owned())
    } else {
        "resolved".to_owned()
    }
}

/// Addresses as a comma-separated list.
fn listed(ips: &[IpAddr]) -> String {
    ips.iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// What the server at the district's answer proved about a name.
struct DistrictServer {
    /// A handshake for the name completed against the public roots.
    validates: bool,
    /// The certificate it presented, judged against both stores.
    certificate: Option<CertificateEvidence>,
}

fn rcode_outcome(code: ResponseCode) -> (DnsOutcome, String) {
    match code {
        ResponseCode::NXDomain => (
            DnsOutcome::Nxdomain,
            "the resolver answers that the name does not exist (NXDOMAIN)".to_owned(),
        ),
        ResponseCode::Refused => (
            DnsOutcome::Refused,
            "the resolver refused the query (REFUSED)".to_owned(),
        ),
        ResponseCode::NoError => (
            DnsOutcome::NoData,
            "the name exists but has no address records (NODATA)".to_owned(),
        ),
        other => (
            DnsOutcome::Servfail,
            format!("the resolver failed to answer ({other})"),
        ),
    }
}

/// hickory's error, as a DNS outcome and a sentence: the one place hickory's errors become
/// report words.
fn classify(err: &NetError) -> (DnsOutcome, String) {
    match err {
        NetError::Dns(DnsError::NoRecordsFound(no)) => rcode_outcome(no.response_code),
        NetError::Dns(DnsError::ResponseCode(code)) => rcode_outcome(*code),
        NetError::Timeout => (
            DnsOutcome::Timeout,
            format!(
                "no answer within {} s ({QUERY_ATTEMPTS} attempts)",
                QUERY_TIMEOUT.as_secs()
            ),
        ),
        // No answer at all: the resolver is unreachable, or its connection failed.
        other => (
            DnsOutcome::Timeout,
            format!("no answer: the resolver could not be reached ({other})"),
        ),
    }
}

/// A resolver with fitcheck's timeouts and no cache: each check must see the network as it is
/// now, not an answer cached from a check that ran a second ago through another path.
fn build(config: ResolverConfig, mut options: ResolverOpts) -> Result<TokioResolver, String> {
    options.timeout = QUERY_TIMEOUT;
    options.attempts = QUERY_ATTEMPTS;
    options.cache_size = 0;
    let mut builder = TokioResolver::builder_with_config(config, TokioRuntimeProvider::default());
    *builder.options_mut() = options;
    builder.build().map_err(|e| e.to_string())
}

impl SystemResolver {
    /// Builds the resolver from the system configuration, with fitcheck's timeouts.
    pub fn from_system(catalog: Arc<Catalog>) -> Result<SystemResolver, ResolverConfigError> {
        let (config, options) = hickory_resolver::system_conf::read_system_conf()
            .map_err(|e| ResolverConfigError(e.to_string()))?;
        let servers: Vec<String> = config
            .name_servers()
            .iter()
            .map(|ns| SocketAddr::new(ns.ip, 53).to_string())
            .collect();
        if servers.is_empty() {
            return Err(ResolverConfigError(
                "no name server is configured".to_owned(),
            ));
        }
        let inner = build(config, options).map_err(ResolverConfigError)?;
        Ok(SystemResolver {
            inner: Arc::new(inner),
            servers,
            catalog,
            control: None,
        })
    }

    /// Compares every answer with `control`, a resolver outside the district's filtering.
    pub fn with_control(
        mut self,
        control: IpAddr,
        tls: TlsSetup,
    ) -> Result<Self, ResolverConfigError> {
        let config =
            ResolverConfig::from_name_servers(vec![NameServerConfig::udp_and_tcp(control)]);
        let mut options = ResolverOpts::default();
        options.use_hosts_file = ResolveHosts::Never;
        let inner = build(config, options)
            .map_err(|e| ResolverConfigError(format!("control resolver {control}: {e}")))?;
        self.control = Some(Control {
            address: SocketAddr::new(control, 53).to_string(),
            inner: Arc::new(inner),
            tls,
        });
        Ok(self)
    }

    /// The resolvers asked, as `ip:53`.
    pub fn servers(&self) -> &[String] {
        &self.servers
    }

    /// Looks `name` up (A and AAAA concurrently) and classifies the answer; with a control
    /// resolver configured, compares with its answer.
    pub async fn resolve(&self, name: &str) -> Answer {
        let start = Instant::now();
        let mut evidence = DnsEvidence {
            resolvers: self.servers.clone(),
            ..DnsEvidence::default()
        };
        if let Ok(ip) = name.parse::<IpAddr>() {
            match ip {
                IpAddr::V4(_) => evidence.a.push(ip),
                IpAddr::V6(_) => evidence.aaaa.push(ip),
            }
            return Answer {
                outcome: DnsOutcome::Resolved,
                evidence,
                duration: start.elapsed(),
            };
        }
        let fqdn = format!("{}.", name.trim_end_matches('.'));
        let district = query(&self.inner, &fqdn).await;
        let duration = start.elapsed();
        evidence.a.clone_from(&district.a);
        evidence.aaaa.clone_from(&district.aaaa);
        let all = district.all();
        let mut outcome = if !all.is_empty() {
            let mut reasons: Vec<String> = all.iter().filter_map(|ip| bogon_reason(*ip)).collect();
            if let Some(sig) = all.iter().find_map(|ip| self.catalog.sinkhole(*ip)) {
                reasons.push(format!("{} is {}'s block address", sig.matched, sig.vendor));
                evidence.signature = Some(sig);
            }
            if reasons.is_empty() {
                DnsOutcome::Resolved
            } else {
                evidence.sinkhole_reason = Some(reasons.join("; "));
                DnsOutcome::Sinkholed
            }
        } else {
            let (o, d) = district
                .failure
                .clone()
                .unwrap_or((DnsOutcome::NoData, "no address records".to_owned()));
            evidence.detail = Some(d);
            o
        };
        if let Some(control) = &self.control {
            outcome = control
                .compare(
                    name,
                    &fqdn,
                    outcome,
                    &district,
                    &self.catalog,
                    &mut evidence,
                )
                .await;
        }
        Answer {
            outcome,
            evidence,
            duration,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bogons_are_named_and_private_ranges_are_not() {
        for ip in [
            "0.0.0.0",
            "127.0.0.1",
            "::",
            "::1",
            "169.254.1.1",
            "::ffff:0.0.0.0",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(bogon_reason(ip).is_some(), "{ip}");
        }
        for ip in [
            "10.1.2.3",
            "192.168.1.1",
            "8.8.8.8",
            "2001:db8::1",
            "146.112.61.104",
        ] {
            let ip: IpAddr = ip.parse().unwrap();
            assert!(bogon_reason(ip).is_none(), "{ip}");
        }
    }
}
