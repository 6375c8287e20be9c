//! Regressions, not noise: whether a requirement that passed at approval, and fails now at a
//! site, is an alert. A round's failures at a site count when they are enough agents — at
//! least `min_agents`, or `min_share` of the site's reporting agents — and never when one agent
//! fails while others there pass (that is recorded: a device's own trouble). An alert opens after
//! `open_after` such rounds in a row and resolves after `resolve_after` rounds in a row that are
//! not; an agent that did not report is silent, neither failing nor passing, and a round in
//! which no agent at the site reported changes nothing.

use serde::{Deserialize, Serialize};

/// The thresholds, settable per watch.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Thresholds {
    /// Failing agents at a site that make a round count (2).
    pub min_agents: u32,
    /// Or the share of the site's reporting agents (0.2).
    pub min_share: f64,
    /// Rounds in a row that open an alert (2).
    pub open_after: u32,
    /// Rounds in a row without it that resolve one (2).
    pub resolve_after: u32,
}

impl Default for Thresholds {
    fn default() -> Thresholds {
        Thresholds {
            min_agents: 2,
            min_share: 0.2,
            open_after: 2,
            resolve_after: 2,
        }
    }
}

/// What one round saw of one requirement at one site, from the agents that reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tally {
    pub failing: u32,
    pub passing: u32,
}

impl Tally {
    fn reporting(self) -> u32 {
        self.failing + self.passing
    }
}

/// How a (site, requirement) stands after a round, for the board.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standing {
    /// Passing, as at approval.
    Green,
    /// Failing on too few agents to count (recorded), or counting but not yet for long enough.
    Watching,
    /// An open alert.
    Regressed,
    /// No agent at the site reported this round.
    Silent,
}

/// A change worth telling someone about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    Opened,
    Resolved,
}

/// The rounds so far of one requirement at one site.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Tracker {
    /// Rounds in a row that counted.
    pub failing_streak: u32,
    /// Rounds in a row that did not, while an alert is open.
    pub passing_streak: u32,
    /// Whether an alert is open.
    pub open: bool,
}

impl Thresholds {
    /// Whether a round's failures at a site count toward an alert.
    pub fn counts(&self, t: Tally) -> bool {
        if t.failing == 0 {
            return false;
        }
        // One agent failing while another at the site passes is that device's own trouble.
        if t.failing == 1 && t.passing > 0 {
            return false;
        }
        t.failing >= self.min_agents
            || f64::from(t.failing) >= self.min_share * f64::from(t.reporting())
    }
}

impl Tracker {
    /// One round: the tracker moves on, and says how the requirement stands there and whether
    /// an alert opened or resolved.
    pub fn step(&mut self, th: &Thresholds, tally: Tally) -> (Standing, Option<Change>) {
        if tally.reporting() == 0 {
            let standing = if self.open {
                Standing::Regressed
            } else {
                Standing::Silent
            };
            return (standing, None);
        }
        if th.counts(tally) {
            self.failing_streak = self.failing_streak.saturating_add(1);
            self.passing_streak = 0;
            if !self.open && self.failing_streak >= th.open_after.max(1) {
                self.open = true;
                return (Standing::Regressed, Some(Change::Opened));
            }
            let standing = if self.open {
                Standing::Regressed
            } else {
                Standing::Watching
            };
            return (standing, None);
        }
        self.failing_streak = 0;
        if self.open {
            self.passing_streak = self.passing_streak.saturating_add(1);
            if self.passing_streak >= th.resolve_after.max(1) {
                self.open = false;
                self.passing_streak = 0;
                return (Standing::Green, Some(Change::Resolved));
            }
            return (Standing::Regressed, None);
        }
        let standing = if tally.failing > 0 {
            Standing::Watching
        } else {
            Standing::Green
        };
        (standing, None)
    }
}

#[cfg(test)]
mod tests {
    use super::{Change, Standing, Tally, Thresholds, Tracker};

    fn tally(failing: u32, passing: u32) -> Tally {
        Tally { failing, passing }
    }

    #[test]
    fn two_rounds_of_enough_failures_open_and_two_without_resolve() {
        let th = Thresholds::default();
        let mut t = Tracker::default();
        assert_eq!(t.step(&th, tally(2, 3)), (Standing::Watching, None));
        assert_eq!(
            t.step(&th, tally(3, 2)),
            (Standing::Regressed, Some(Change::Opened))
        );
        assert_eq!(t.step(&th, tally(3, 2)), (Standing::Regressed, None));
        assert_eq!(t.step(&th, tally(0, 5)), (Standing::Regressed, None));
        assert_eq!(
            t.step(&th, tally(0, 5)),
            (Standing::Green, Some(Change::Resolved))
        );
    }

    #[test]
    fn one_agent_failing_alone_is_recorded_never_alerted() {
        let th = Thresholds::default();
        let mut t = Tracker::default();
        for _ in 0..10 {
            assert_eq!(t.step(&th, tally(1, 4)), (Standing::Watching, None));
        }
        // The only agent at a site is the whole site.
        let mut alone = Tracker::default();
        alone.step(&th, tally(1, 0));
        assert_eq!(
            alone.step(&th, tally(1, 0)),
            (Standing::Regressed, Some(Change::Opened))
        );
    }

    #[test]
    fn a_share_of_a_large_site_counts_and_silence_is_neither() {
        let th = Thresholds {
            min_agents: 10,
            ..Thresholds::default()
        };
        assert!(th.counts(tally(6, 24)), "20 % of 30");
        assert!(!th.counts(tally(5, 25)), "under 20 % and under 10 agents");
        let mut t = Tracker::default();
        t.step(&th, tally(6, 24));
        assert_eq!(t.step(&th, tally(0, 0)), (Standing::Silent, None));
        assert_eq!(
            t.step(&th, tally(6, 24)),
            (Standing::Regressed, Some(Change::Opened)),
            "a silent round between two failing ones breaks nothing"
        );
        assert_eq!(t.step(&th, tally(0, 0)), (Standing::Regressed, None));
    }

    /// Over seeded random rounds: no alert opens without `open_after` counting rounds in a row,
    /// every resolution closes one open alert after `resolve_after` rounds without, and changes
    /// alternate opened, resolved, opened, …
    #[test]
    fn no_alert_without_the_thresholds_and_every_alert_resolves_once() {
        let mut state: u64 = 0x0bad_5eed;
        let mut next = |n: u64| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) % n
        };
        for case in 0..500 {
            let th = Thresholds {
                min_agents: 1 + next(3) as u32,
                min_share: [0.1, 0.2, 0.5][next(3) as usize],
                open_after: 1 + next(3) as u32,
                resolve_after: 1 + next(3) as u32,
            };
            let mut t = Tracker::default();
            let (mut counted, mut clear, mut open) = (0u32, 0u32, false);
            for round in 0..60 {
                let agents = next(6) as u32;
                let failing = if agents == 0 {
                    0
                } else {
                    next(u64::from(agents) + 1) as u32
                };
                let tl = tally(failing, agents - failing);
                let (standing, change) = t.step(&th, tl);
                if tl.reporting() > 0 {
                    if th.counts(tl) {
                        counted += 1;
                        clear = 0;
                    } else {
                        counted = 0;
                        clear += 1;
                    }
                }
                match change {
                    Some(Change::Opened) => {
                        assert!(!open, "case {case} round {round}: opened twice");
                        assert!(
                            counted >= th.open_after,
                            "case {case} round {round}: opened early"
                        );
                        open = true;
                        clear = 0;
                    }
                    Some(Change::Resolved) => {
                        assert!(
                            open,
                            "case {case} round {round}: resolved what was not open"
                        );
                        assert!(
                            clear >= th.resolve_after,
                            "case {case} round {round}: early"
                        );
                        open = false;
                        counted = 0;
                    }
                    None => {}
                }
                assert_eq!(
                    standing == Standing::Regressed,
                    open,
                    "case {case} round {round}"
                );
                if !th.counts(tl) && tl.failing == 1 && tl.passing > 0 {
                    assert!(change != Some(Change::Opened));
                }
            }
        }
    }
}
