//! Stage 4: every network requirement at every site, and the conditions that fix what fails.
//! The network is shared, so a site fails a requirement when any of its devices fails it.
//! Failures with the same cause (a DNS-filter entry, a firewall rule, an inspection bypass, …)
//! become one condition for the names and ports that failed at the same sites. About one host
//! at one site the strongest evidence decides, whichever agent brought it: a block a filter was
//! seen making outranks a closed port, which outranks what could only be looked into.

use std::collections::{BTreeMap, BTreeSet};

use fitcheck_core::api::AgentKind;
use fitcheck_core::cause::Layer;
use fitcheck_core::evaluate::{FixKind, Requirement, Status};
use fitcheck_core::requirement::RequirementId;

use crate::judge::{Cause, Judged, Judgement};
use crate::{
    Blocker, Condition, ConditionKind, Evidence, Fleet, MAX_EVIDENCE, MatrixRow, cell_of, evidence,
};

/// The site × requirement matrix, the network conditions, and what only the vendor can fix.
#[derive(Debug)]
pub struct Network {
    pub matrix: Vec<MatrixRow>,
    pub conditions: Vec<Condition>,
    /// Required conditions no district action meets (the vendor's own server failing) at
    /// every site that measured them.
    pub blockers: Vec<Blocker>,
}

/// Failures grouped under one cause, before they are worded.
#[derive(Debug, Default)]
struct Pending {
    items: BTreeSet<String>,
    sites: BTreeSet<String>,
    seen: BTreeSet<String>,
    requirements: BTreeSet<RequirementId>,
    required: bool,
    evidence: Vec<Evidence>,
    remedy: Option<String>,
    fix: Option<FixKind>,
    /// Sites where a native agent got through on the same requirement: a browser-layer block
    /// there is the browser's, not the network's.
    network_allows: BTreeSet<String>,
    /// Hosts whose refusal only a browser saw, without the address it connected to.
    address_unseen: BTreeSet<String>,
}

/// Judges every network requirement per site.
pub fn assess(fleet: &Fleet<'_>) -> Network {
    let mut matrix = Vec::new();
    let mut failures: Vec<Failure<'_>> = Vec::new();
    // Throughput per user is judged per site by the capacity stage, not per device.
    let judged_here = fleet
        .requirements
        .iter()
        .enumerate()
        .filter(|(_, r)| !r.kind.is_per_device() && !r.id.is_per_user_throughput());
    for (i, req) in judged_here {
        let mut row = MatrixRow {
            requirement: req.id.clone(),
            title: req.title.clone(),
            critical: req.critical,
            expected: req.expected.clone(),
            sites: BTreeMap::new(),
        };
        for site in &fleet.sites {
            let items: Vec<(&Judgement, &Judged)> = fleet
                .at(site)
                .iter()
                .filter_map(|j| j.outcome(i).map(|o| (*j, o)))
                .collect();
            if items.is_empty() {
                continue;
            }
            row.sites
                .insert(site.clone(), cell_of(items.iter().copied()));
            // A native agent that got through: passed, or stopped only by the browser's own
            // URL policy, which it reads from the device.
            let network_passes = items.iter().any(|(j, o)| {
                j.kind == AgentKind::Native
                    && (o.status == Status::Pass
                        || o.cause
                            .as_ref()
                            .is_some_and(|c| c.layer() == Layer::BrowserPolicy))
            });
            for (j, o) in items {
                if !o.status.falls_short() {
                    continue;
                }
                let Some(cause) = o.cause.as_deref() else {
                    continue;
                };
                failures.push(Failure {
                    site: site.as_str(),
                    req,
                    judgement: j,
                    judged: o,
                    cause,
                    network_passes,
                });
            }
        }
        matrix.push(row);
    }
    let conditions = group(strongest(failures));
    let blockers = conditions
        .iter()
        .filter(|c| c.required && c.fix == FixKind::NonePossible)
        .filter(|c| failed_everywhere(&matrix, &c.requirements))
        .map(|c| Blocker {
            requirement: c.requirements[0].clone(),
            title: matrix
                .iter()
                .find(|r| r.requirement == c.requirements[0])
                .map_or_else(|| c.requirements[0].to_string(), |r| r.title.clone()),
            reason: format!(
                "{} answered with errors{} at every site that checked it ({}); only the vendor can change that — ask them, then evaluate again",
                c.items.join(", "),
                c.seen.as_ref().map_or(String::new(), |s| format!(" ({s})")),
                c.sites.join(", ")
            ),
            evidence: c.evidence.clone(),
        })
        .collect();
    Network {
        matrix,
        conditions,
        blockers,
    }
}

/// Whether no site got through on any of `requirements`: a vendor failure seen at one site
/// while another passes is that site's path, not the vendor.
fn failed_everywhere(matrix: &[MatrixRow], requirements: &[RequirementId]) -> bool {
    requirements.iter().all(|id| {
        matrix
            .iter()
            .filter(|r| r.requirement == *id)
            .all(|r| r.sites.values().all(|c| c.pass == 0))
    })
}

/// One device's failure of one requirement at one site, with its cause.
struct Failure<'a> {
    site: &'a str,
    req: &'a Requirement,
    judgement: &'a Judgement,
    judged: &'a Judged,
    cause: &'a Cause,
    /// Whether a native agent at the site got through on the same requirement.
    network_passes: bool,
}

impl Failure<'_> {
    /// The host the cause is about, where it is about one.
    fn host(&self) -> Option<String> {
        self.cause.host().map(str::to_ascii_lowercase)
    }

    /// How much the cause tells: a block a filter was seen making outranks a closed port, which
    /// outranks what could only be looked into.
    fn strength(&self) -> u8 {
        strength(self.cause.layer())
    }

    /// What the action is about, in words: the host, the port rule, or the need missed.
    fn item(&self) -> Option<String> {
        let (req, o) = (self.req, self.judged);
        match self.cause {
            Cause::Firewall {
                protocol,
                ports,
                host,
                ..
            } => Some(format!(
                "{} {ports} to {host}",
                protocol.to_string().to_uppercase()
            )),
            Cause::Path { .. } => Some(format!(
                "{} {} (needs {})",
                req.title, o.observed, req.expected
            )),
            Cause::Unexplained => Some(req.title.clone()),
            c => c.host().map(str::to_owned),
        }
    }
}

/// One cause per host per site: where a stronger cause explains a host's failures at a site,
/// weaker ones about the same host there are its consequences, not conditions of their own (a
/// browser that cannot tell a DNS filter's NXDOMAIN from a failing resolver, a connection
/// refused at a DNS filter's sinkhole address). Blocks seen at different layers all stand.
/// The same for a browser's URL policy: a browser agent cannot read the policy, a native agent
/// on a device reads the entry, so where one was read about a host at a site, the entry stands
/// for the browsers' blocks of that host there.
fn strongest(failures: Vec<Failure<'_>>) -> Vec<Failure<'_>> {
    let mut best: BTreeMap<(&str, String), u8> = BTreeMap::new();
    let mut entry_read: BTreeSet<(&str, String)> = BTreeSet::new();
    for f in &failures {
        let Some(host) = f.host() else { continue };
        if matches!(f.cause, Cause::BrowserPolicy { entry: Some(_), .. }) {
            entry_read.insert((f.site, host.clone()));
        }
        let b = best.entry((f.site, host)).or_default();
        *b = (*b).max(f.strength());
    }
    failures
        .into_iter()
        .filter(|f| {
            f.host()
                .is_none_or(|host| best.get(&(f.site, host)).is_none_or(|b| f.strength() >= *b))
        })
        .filter(|f| match (f.cause, f.host()) {
            (Cause::BrowserPolicy { entry: None, .. }, Some(host)) => {
                !entry_read.contains(&(f.site, host))
            }
            _ => true,
        })
        .collect()
}

/// What failures are grouped by: the condition's kind, the layer, what sets conditions of one
/// layer apart (a protocol, a metric), and for a filter inside the browser the filter itself.
type Key = (ConditionKind, Layer, String, Option<String>);

/// The group a failure's cause falls into.
fn key_of(f: &Failure<'_>) -> Key {
    let layer = f.cause.layer();
    let within = match f.cause {
        // A refusal only a browser saw, its address unseen, is worded apart.
        Cause::Firewall {
            protocol,
            address_unseen,
            ..
        } => format!("{protocol}{}", if *address_unseen { " unseen" } else { "" }),
        Cause::Path { .. } | Cause::Unexplained => f.req.id.to_string(),
        _ => String::new(),
    };
    // Each browser filter extension, and each policy entry, is allowed in its own console.
    let per_filter = matches!(layer, Layer::BrowserExtension | Layer::BrowserPolicy)
        .then(|| f.cause.seen())
        .flatten();
    (kind_of(layer), layer, within, per_filter)
}

/// The kind of condition that fixes what a layer stopped.
fn kind_of(layer: Layer) -> ConditionKind {
    match layer {
        Layer::BrowserExtension | Layer::BrowserPolicy | Layer::DnsFilter | Layer::WebFilter => {
            ConditionKind::FilterAllow
        }
        Layer::TlsInspection => ConditionKind::InspectionBypass,
        Layer::Firewall => ConditionKind::FirewallRule,
        Layer::Path => ConditionKind::NetworkPath,
        Layer::Unexplained | Layer::Resolver | Layer::VendorAnswer | Layer::VendorServer => {
            ConditionKind::Investigate
        }
    }
}

/// Failures with one cause become one condition (a filter inside the browser one per
/// extension, each allowed in its own console), split so that every item of a condition failed
/// at exactly the sites the condition names.
fn group(failures: Vec<Failure<'_>>) -> Vec<Condition> {
    let mut by_cause: BTreeMap<Key, BTreeMap<String, Vec<Failure<'_>>>> = BTreeMap::new();
    for f in failures {
        let item = f.item().unwrap_or_default();
        by_cause
            .entry(key_of(&f))
            .or_default()
            .entry(item)
            .or_default()
            .push(f);
    }
    let mut conditions = Vec::new();
    for ((kind, layer, _, _), items) in by_cause {
        let mut by_sites: BTreeMap<BTreeSet<&str>, Vec<Failure<'_>>> = BTreeMap::new();
        for fs in items.into_values() {
            let sites: BTreeSet<&str> = fs.iter().map(|f| f.site).collect();
            by_sites.entry(sites).or_default().extend(fs);
        }
        for fs in by_sites.into_values() {
            let mut p = Pending::default();
            for f in &fs {
                add(&mut p, f);
            }
            conditions.push(words(kind, layer, p));
        }
    }
    conditions
}

fn add(p: &mut Pending, f: &Failure<'_>) {
    let (site, id, critical, j, o) = (f.site, &f.req.id, f.req.critical, f.judgement, f.judged);
    if f.network_passes {
        p.network_allows.insert(site.to_owned());
    }
    if let Some(i) = f.item() {
        p.items.insert(i);
    }
    if let Some(s) = f.cause.seen() {
        p.seen.insert(s);
    }
    if let Cause::Firewall {
        host,
        address_unseen: true,
        ..
    } = f.cause
    {
        p.address_unseen.insert(host.clone());
    }
    p.sites.insert(site.to_owned());
    p.requirements.insert(id.clone());
    p.required |= critical && o.status == Status::Fail;
    if p.remedy.is_none() {
        p.remedy = o.remedy.clone();
    }
    if p.fix.is_none() {
        p.fix = o.fix;
    }
    let cited = p.evidence.iter().any(|e| e.report_id == j.report_id);
    if !cited && p.evidence.len() < MAX_EVIDENCE {
        p.evidence.push(evidence(j, id, o));
    }
}

fn list(set: &BTreeSet<String>) -> String {
    set.iter().cloned().collect::<Vec<_>>().join(", ")
}

/// Whether the network lets through what the browser blocks, where a native agent checked.
fn network_allows(p: &Pending) -> String {
    if p.network_allows.is_empty() {
        String::new()
    } else if p.network_allows == p.sites {
        "; the network allows it".to_owned()
    } else {
        format!("; the network allows it at {}", list(&p.network_allows))
    }
}

/// How much a cause at `layer` tells: a block a filter was seen making outranks a closed port,
/// a path metric or the vendor's failing server, which outrank what could only be looked into.
pub fn strength(layer: Layer) -> u8 {
    match layer {
        Layer::BrowserExtension
        | Layer::BrowserPolicy
        | Layer::DnsFilter
        | Layer::WebFilter
        | Layer::TlsInspection => 3,
        Layer::Firewall | Layer::Path | Layer::VendorServer => 2,
        Layer::Unexplained | Layer::Resolver | Layer::VendorAnswer => 1,
    }
}

/// Who acts on what a layer stopped; for the browser's URL policy, device management where the
/// entry was read on a device, else the Google Admin console.
pub fn owner(layer: Layer, entry_read: bool) -> &'static str {
    match layer {
        Layer::BrowserExtension => "browser filter administrator (extension policy)",
        Layer::BrowserPolicy if entry_read => "device management (browser policy)",
        Layer::BrowserPolicy => "Google Admin (Chrome policy) administrator",
        Layer::DnsFilter => "DNS filter administrator",
        Layer::WebFilter | Layer::TlsInspection => "web filter administrator",
        Layer::Firewall => "network operations (firewall)",
        Layer::Path => "network operations",
        Layer::Resolver => "network operations (DNS)",
        Layer::VendorServer | Layer::VendorAnswer => "the sponsor, with the vendor",
        Layer::Unexplained => "technology operations",
    }
}

/// The condition in words: the action and who takes it.
fn words(kind: ConditionKind, layer: Layer, p: Pending) -> Condition {
    let sites = list(&p.sites);
    let seen = (!p.seen.is_empty()).then(|| list(&p.seen));
    let by = seen
        .as_ref()
        .map_or(String::new(), |s| format!(" (seen: {s})"));
    let items = list(&p.items);
    let in_browser = format!(
        "blocked in the browser at {} site(s) ({sites}){}",
        p.sites.len(),
        network_allows(&p)
    );
    let (action, owner) = match layer {
        Layer::BrowserExtension => (
            format!(
                "allow {items} in {}'s policy for the student OU — {in_browser}",
                seen.as_deref().unwrap_or("the browser filter extension")
            ),
            owner(layer, false),
        ),
        // The entry, as a native agent on the device read it from the browser's policy file.
        Layer::BrowserPolicy if seen.is_some() => (
            format!(
                "remove {}, or add a URLAllowlist entry as specific, to allow {items} — {in_browser}",
                seen.as_deref().unwrap_or_default()
            ),
            owner(layer, true),
        ),
        // Only a browser saw it: the browser cannot say which entry matched.
        Layer::BrowserPolicy => (
            format!(
                "remove the Chrome URLBlocklist entry that matches {items} (a host, a parent domain, a path or `*`; the browser does not say which) or add {items} to URLAllowlist, for the student OU in Google Admin — {in_browser}"
            ),
            owner(layer, false),
        ),
        Layer::DnsFilter => (
            format!("allow {items} in the DNS filter{by} — blocked at {sites}"),
            owner(layer, false),
        ),
        Layer::WebFilter => (
            format!("allow {items} in the web filter{by} — blocked at {sites}"),
            owner(layer, false),
        ),
        Layer::TlsInspection => (
            format!("exempt {items} from TLS inspection{by} — re-signed at {sites}"),
            owner(layer, false),
        ),
        // Only a browser saw the refusal, and not the address: the DNS filter's sinkhole answer
        // is refused the same way, so the action says which to look at first.
        Layer::Firewall if !p.address_unseen.is_empty() => (
            format!(
                "open outbound {items} in the firewall — refused in the browser at {sites}; unless the DNS filter answers {} with a sinkhole address (0.0.0.0), which the browser refuses the same way but could not show: a native agent at the site tells the two apart",
                list(&p.address_unseen)
            ),
            owner(layer, false),
        ),
        Layer::Firewall => (
            format!("open outbound {items} in the firewall — closed at {sites}"),
            owner(layer, false),
        ),
        Layer::Path => (
            format!("fix the path or prioritise the product's traffic at {sites}: {items}"),
            owner(layer, false),
        ),
        Layer::Resolver => (
            format!("make the district resolver answer {items} (timeouts or failures at {sites})"),
            owner(layer, false),
        ),
        Layer::VendorServer => (
            format!(
                "ask the vendor to fix {items}: its own servers answered with errors{} at {sites}",
                seen.as_ref().map_or(String::new(), |s| format!(" ({s})"))
            ),
            owner(layer, false),
        ),
        Layer::VendorAnswer => (
            format!("ask the vendor why {items} answered wrongly at {sites}"),
            owner(layer, false),
        ),
        Layer::Unexplained => (
            format!(
                "{} at {sites}",
                p.remedy
                    .clone()
                    .unwrap_or_else(|| format!("look into {items}"))
            ),
            owner(layer, false),
        ),
    };
    Condition {
        kind,
        fix: p.fix.unwrap_or(FixKind::ConfigureNetwork),
        action,
        owner: owner.to_owned(),
        required: p.required,
        items: p.items.into_iter().collect(),
        sites: p.sites.into_iter().collect(),
        seen,
        devices: None,
        requirements: p.requirements.into_iter().collect(),
        evidence: p.evidence,
    }
}
