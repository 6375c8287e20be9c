//! Exponential backoff with full jitter: after the n-th failure in a row, wait a random time
//! between nothing and `first × 2ⁿ` (at most `max`), so agents that lost the controller at the
//! same moment do not come back at the same moment. A controller's `Retry-After` is a floor.

use std::time::Duration;

/// The longest `Retry-After` honoured; a larger one is a controller's mistake, not a plan.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);
/// The shortest wait, so a run of failures never spins.
const MIN_DELAY: Duration = Duration::from_millis(50);

/// How retries space out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The ceiling after the first failure.
    pub first: Duration,
    /// The highest ceiling.
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy {
            first: Duration::from_secs(1),
            max: Duration::from_secs(300),
        }
    }
}

/// Failures in a row and the next wait.
#[derive(Debug, Clone)]
pub struct Backoff {
    policy: RetryPolicy,
    failures: u32,
}

impl Backoff {
    pub fn new(policy: RetryPolicy) -> Backoff {
        Backoff {
            policy,
            failures: 0,
        }
    }

    /// The ceiling of the next wait, before jitter.
    pub fn ceiling(&self) -> Duration {
        let factor = 2u32.saturating_pow(self.failures.min(31));
        self.policy
            .first
            .saturating_mul(factor)
            .min(self.policy.max)
            .max(MIN_DELAY)
    }

    /// Counts a failure and returns how long to wait before the next try: uniformly random
    /// below the ceiling, and no less than `retry_after` (up to [`MAX_RETRY_AFTER`]).
    pub fn next_delay(&mut self, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.ceiling();
        self.failures = self.failures.saturating_add(1);
        let jittered = ceiling
            .mul_f64(rand::random_range(0.0..=1.0))
            .max(MIN_DELAY);
        match retry_after {
            Some(after) => jittered.max(after.min(MAX_RETRY_AFTER)),
            None => jittered,
        }
    }

    /// After a success.
    pub fn reset(&mut self) {
        self.failures = 0;
    }
}

/// `interval` ± 20 %, so a district's agents spread their polls.
pub fn jittered(interval: Duration) -> Duration {
    interval.mul_f64(rand::random_range(0.8..=1.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_grow_to_the_cap_and_stay_random_below_it() {
        let mut b = Backoff::new(RetryPolicy::default());
        let mut ceilings = Vec::new();
        for _ in 0..12 {
            let c = b.ceiling();
            let d = b.next_delay(None);
            assert!(d <= c, "{d:?} above its ceiling {c:?}");
            ceilings.push(c.as_secs());
        }
        assert_eq!(&ceilings[..4], &[1, 2, 4, 8]);
        assert_eq!(ceilings.last(), Some(&300));
        b.reset();
        assert_eq!(b.ceiling(), Duration::from_secs(1));
    }

    #[test]
    fn retry_after_is_a_floor_with_a_limit() {
        let mut b = Backoff::new(RetryPolicy::default());
        assert!(b.next_delay(Some(Duration::from_secs(30))) >= Duration::from_secs(30));
        assert_eq!(
            b.next_delay(Some(Duration::from_secs(86_400))),
            MAX_RETRY_AFTER
        );
    }

    #[test]
    fn poll_jitter_stays_within_a_fifth() {
        for _ in 0..100 {
            let d = jittered(Duration::from_secs(100));
            assert!(d >= Duration::from_secs(80) && d <= Duration::from_secs(120));
        }
    }
}
