//! Watching an approved product: each round of the agents' reports compared with what passed at
//! approval, per site and requirement, through the regression rule ([`regression`]), on the
//! schedule the district sets ([`schedule`]). Pure, like the rest of the engine: the controller
//! keeps the trackers and sends the changes.

pub mod regression;
pub mod schedule;

use std::collections::{BTreeMap, BTreeSet, HashMap};

use fitcheck_core::cause::{Cause, Layer};
use fitcheck_core::evaluate::Status;
use serde::{Deserialize, Serialize};

use crate::judge::Judgement;
use regression::{Change, Standing, Tally, Thresholds, Tracker};

/// A site and a requirement (by its index in the profile's requirements).
pub type Spot = (String, usize);

/// What passed at approval: the (site, requirement) pairs every reporting agent passed. Only
/// these are watched; what fell short then is a known condition, not a regression.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub passed: BTreeSet<Spot>,
    /// The blocking layers the approval's failing outcomes showed anywhere: a regression by
    /// another is a layer new since approval.
    #[serde(default)]
    pub layers: BTreeSet<Layer>,
}

impl Baseline {
    /// From the judgements the approval was based on (each agent's latest).
    pub fn of<'a>(judgements: impl IntoIterator<Item = &'a Judgement>) -> Baseline {
        let mut seen: BTreeMap<Spot, bool> = BTreeMap::new();
        let mut layers = BTreeSet::new();
        for j in judgements {
            for (i, o) in j.outcomes.iter().enumerate() {
                if o.status == Status::Unknown {
                    continue;
                }
                if let Some(c) = o.cause.as_deref() {
                    layers.insert(c.layer());
                }
                let ok = seen.entry((j.site.clone(), i)).or_insert(true);
                *ok &= o.status == Status::Pass;
            }
        }
        Baseline {
            passed: seen
                .into_iter()
                .filter_map(|(spot, ok)| ok.then_some(spot))
                .collect(),
            layers,
        }
    }

    /// The layer of the strongest of `causes` when no failure at approval showed it: a
    /// blocking layer new since approval (a filter extension installed since, a new filter).
    pub fn new_layer(&self, causes: &[Cause]) -> Option<Layer> {
        let layer = strongest(causes)?.layer();
        let blocks = crate::network::strength(layer) >= 3;
        (blocks && !self.layers.contains(&layer)).then_some(layer)
    }
}

/// An alert opened or resolved at a site, with why its agents failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alerting {
    pub site: String,
    /// The requirement's index in the profile's requirements.
    pub requirement: usize,
    pub change: Change,
    /// Agents that failed it this round, and those that reported it.
    pub failing: u32,
    pub reporting: u32,
    /// The distinct causes the failing agents' judgements give, in the order first seen.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub causes: Vec<Cause>,
}

/// One round, decided.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Round {
    /// How each watched (site, requirement) stands, in baseline order.
    pub standings: Vec<(Spot, Standing)>,
    /// Alerts opened or resolved this round.
    pub changes: Vec<Alerting>,
}

impl Round {
    /// How `spot` stands, if it is watched.
    pub fn standing(&self, spot: &Spot) -> Option<Standing> {
        self.standings
            .binary_search_by(|(s, _)| s.cmp(spot))
            .ok()
            .map(|i| self.standings[i].1)
    }
}

/// One site's tallies, by requirement index, with the failing agents' causes.
type SiteTallies<'a> = Vec<(Tally, Vec<&'a Cause>)>;

/// Decides one round: each watched (site, requirement) tallied over the round's judgements
/// (each agent's latest in the round), its tracker moved on, and the alerts that opened or
/// resolved. `trackers` holds one tracker per watched (site, requirement), in baseline order
/// (a new watch's is empty). In a maintenance window (`alerting` false) the round is recorded
/// but nothing moves: no alert opens or resolves then.
pub fn assess_round<'a>(
    baseline: &Baseline,
    thresholds: &Thresholds,
    trackers: &mut Vec<Tracker>,
    round: impl IntoIterator<Item = &'a Judgement>,
    alerting: bool,
) -> Round {
    let tallies = tally(round);
    trackers.resize(baseline.passed.len(), Tracker::default());
    let mut out = Round {
        standings: Vec::with_capacity(baseline.passed.len()),
        changes: Vec::new(),
    };
    let mut site: Option<(&str, Option<&SiteTallies<'_>>)> = None;
    for (spot, tracker) in baseline.passed.iter().zip(trackers.iter_mut()) {
        // Spots come site by site: each site's tallies are looked up once.
        let here = match site {
            Some((name, t)) if name == spot.0 => t,
            _ => {
                let t = tallies.get(spot.0.as_str());
                site = Some((spot.0.as_str(), t));
                t
            }
        };
        let (tally, causes) = here
            .and_then(|t| t.get(spot.1))
            .map_or((Tally::default(), &[][..]), |(t, c)| (*t, &c[..]));
        let (standing, change) = if alerting {
            tracker.step(thresholds, tally)
        } else {
            let mut probe = *tracker;
            (probe.step(thresholds, tally).0, None)
        };
        out.standings.push((spot.clone(), standing));
        if let Some(change) = change {
            out.changes.push(Alerting {
                site: spot.0.clone(),
                requirement: spot.1,
                change,
                failing: tally.failing,
                reporting: tally.failing + tally.passing,
                causes: distinct(causes),
            });
        }
    }
    out
}

/// The round's judgements tallied per site and requirement.
fn tally<'a>(round: impl IntoIterator<Item = &'a Judgement>) -> HashMap<&'a str, SiteTallies<'a>> {
    let mut tallies: HashMap<&str, SiteTallies<'_>> = HashMap::new();
    for j in round {
        let site = tallies.entry(j.site.as_str()).or_default();
        if site.len() < j.outcomes.len() {
            site.resize_with(j.outcomes.len(), Default::default);
        }
        for (entry, o) in site.iter_mut().zip(&j.outcomes) {
            match o.status {
                Status::Pass => entry.0.passing += 1,
                Status::Fail | Status::Warn => {
                    entry.0.failing += 1;
                    if let Some(c) = o.cause.as_deref() {
                        entry.1.push(c);
                    }
                }
                Status::Unknown => {}
            }
        }
    }
    tallies
}

/// Each cause once, in the order first seen.
fn distinct(causes: &[&Cause]) -> Vec<Cause> {
    let mut out: Vec<Cause> = Vec::new();
    for c in causes {
        if !out.contains(c) {
            out.push((*c).clone());
        }
    }
    out
}

/// An alert in words, and who acts: what now stops the requirement (from the failing agents'
/// strongest cause), where and since when; or that it passes again. `title` is the
/// requirement's (`DNS app.vendor.example`).
pub fn alert_words(
    change: Change,
    title: &str,
    sites: &[String],
    causes: &[Cause],
    since: &str,
) -> (String, String) {
    let at = sites.join(", ");
    if change == Change::Resolved {
        return (
            format!("{title} passes again at {at} (since {since})"),
            "no one: resolved".to_owned(),
        );
    }
    let Some(cause) = strongest(causes) else {
        return (
            format!("{title} now fails at {at} since {since}"),
            crate::network::owner(fitcheck_core::cause::Layer::Unexplained, false).to_owned(),
        );
    };
    let by = |vendor: &Option<String>, other: &str| {
        vendor
            .as_deref()
            .map_or_else(|| other.to_owned(), str::to_owned)
    };
    let what = match cause {
        Cause::DnsFilter { host, vendor } => format!(
            "the DNS filter{} now blocks {host}",
            vendor
                .as_deref()
                .map_or(String::new(), |v| format!(" ({v})"))
        ),
        Cause::WebFilter { host, vendor } => {
            format!("{} now blocks {host}", by(vendor, "the web filter"))
        }
        Cause::BrowserExtension { host, vendor } => format!(
            "{} now blocks {host} in the browser",
            by(vendor, "a filter extension")
        ),
        Cause::BrowserPolicy { host, entry } => match entry {
            Some(e) => format!("the browser's policy now blocks {host} ({e})"),
            None => format!("the browser's URL policy now blocks {host}"),
        },
        Cause::TlsInspection { host, inspector } => format!(
            "TLS inspection{} now re-signs {host}",
            inspector
                .as_deref()
                .map_or(String::new(), |v| format!(" by {v}"))
        ),
        Cause::Firewall {
            protocol,
            ports,
            host,
            address_unseen,
        } => format!(
            "the firewall now closes {} {ports} to {host}{}",
            protocol.to_string().to_uppercase(),
            if *address_unseen {
                " (or the DNS filter now answers it with a sinkhole address: the browser that saw it could not show the address)"
            } else {
                ""
            }
        ),
        Cause::Path { .. } => format!("{title} now misses the product's need"),
        Cause::Resolver { host } => format!("the district resolver no longer answers {host}"),
        Cause::VendorServer { host, status } => format!(
            "the vendor's server for {host} answers {}",
            status.map_or_else(|| "with errors".to_owned(), |s| s.to_string())
        ),
        Cause::VendorAnswer { .. } | Cause::Unexplained => format!("{title} now fails"),
    };
    let entry_read = matches!(cause, Cause::BrowserPolicy { entry: Some(_), .. });
    (
        format!("{what} at {at} since {since}"),
        crate::network::owner(cause.layer(), entry_read).to_owned(),
    )
}

/// The cause that tells most: a block a filter was seen making, then a closed port or a
/// vendor's failing server, then what could only be looked into.
fn strongest(causes: &[Cause]) -> Option<&Cause> {
    causes
        .iter()
        .max_by_key(|c| crate::network::strength(c.layer()))
}

#[cfg(test)]
mod tests {
    use fitcheck_core::cause::Cause;
    use fitcheck_core::profile::Protocol;

    use super::alert_words;
    use super::regression::Change;

    fn refused(address_unseen: bool) -> Cause {
        Cause::Firewall {
            protocol: Protocol::Tcp,
            ports: "443".into(),
            host: "app.vendor.example".into(),
            address_unseen,
        }
    }

    /// A refusal only browsers saw, without the address, may be a DNS filter's sinkhole: the
    /// alert says so, and stays the firewall's to look at first.
    #[test]
    fn a_refusal_no_one_saw_the_address_of_leaves_the_sinkhole_open() {
        let sites = ["lincoln".to_owned()];
        for (unseen, words) in [
            (
                false,
                "the firewall now closes TCP 443 to app.vendor.example at lincoln since 10:00",
            ),
            (
                true,
                "the firewall now closes TCP 443 to app.vendor.example (or the DNS filter now answers it with a sinkhole address: the browser that saw it could not show the address) at lincoln since 10:00",
            ),
        ] {
            let (said, owner) = alert_words(
                Change::Opened,
                "HTTPS app",
                &sites,
                &[refused(unseen)],
                "10:00",
            );
            assert_eq!(said, words);
            assert_eq!(owner, "network operations (firewall)");
        }
    }
}
