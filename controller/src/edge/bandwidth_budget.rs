//! What each agent may move through the controller's bandwidth endpoint in a day (UTC), both
//! directions together: the agent's own daily cap ([`bandwidth_caps::BYTES_PER_DAY`]), kept
//! here too so that a credential used by something other than the agent cannot make the
//! controller stream without end. Downloads are charged what they ask before they start;
//! uploads as their bytes arrive, and cut off when the day's budget is spent.

use std::collections::HashMap;
use std::sync::Mutex;

use fitcheck_core::api::bandwidth_caps;
use uuid::Uuid;

/// Bytes each agent moved on one day.
#[derive(Debug)]
pub struct Budget {
    per_day: u64,
    used: Mutex<HashMap<Uuid, (i64, u64)>>,
}

impl Budget {
    pub fn new(per_day: u64) -> Budget {
        Budget {
            per_day,
            used: Mutex::new(HashMap::new()),
        }
    }

    /// Takes up to `want` bytes of `agent`'s budget for `day`; returns what it got (0 when
    /// spent). Entries of earlier days are dropped as the day turns.
    pub fn take(&self, agent: Uuid, day: i64, want: u64) -> u64 {
        self.charge(agent, day, want, true)
    }

    /// Takes `want` bytes if all of them are left; whether it did.
    pub fn take_whole(&self, agent: Uuid, day: i64, want: u64) -> bool {
        self.charge(agent, day, want, false) == want
    }

    fn charge(&self, agent: Uuid, day: i64, want: u64, partial: bool) -> u64 {
        let mut used = match self.used.lock() {
            Ok(u) => u,
            Err(poisoned) => poisoned.into_inner(),
        };
        if used.values().next().is_some_and(|(d, _)| *d != day) {
            used.retain(|_, (d, _)| *d == day);
        }
        let entry = used.entry(agent).or_insert((day, 0));
        if entry.0 != day {
            *entry = (day, 0);
        }
        let left = self.per_day.saturating_sub(entry.1);
        let got = if partial || want <= left {
            want.min(left)
        } else {
            0
        };
        entry.1 += got;
        got
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(bandwidth_caps::BYTES_PER_DAY)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_agent_has_its_own_allowance_and_a_new_day_renews_it() {
        let b = Budget::new(1000);
        let (a, other) = (Uuid::new_v4(), Uuid::new_v4());
        assert_eq!(b.take(a, 10, 600), 600);
        assert!(
            !b.take_whole(a, 10, 600),
            "a download larger than what is left"
        );
        assert_eq!(b.take(a, 10, 600), 400, "an upload gets what is left");
        assert_eq!(b.take(a, 10, 1), 0);
        assert_eq!(b.take(other, 10, 1000), 1000);
        assert_eq!(b.take(a, 11, 1000), 1000, "the next day");
        assert_eq!(
            b.used.lock().unwrap().len(),
            1,
            "yesterday's entries are dropped"
        );
    }
}
