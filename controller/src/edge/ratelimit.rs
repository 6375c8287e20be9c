//! Per-agent request budget (a token bucket per agent, in this controller's memory) and the
//! throttle on `last_seen` writes. A controller that shares its database with others keeps its
//! own buckets: an agent talks to one controller at a time, through one address.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// How often `last_seen` is written for one agent, at most.
const TOUCH_EVERY: Duration = Duration::from_secs(60);

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    refilled: Instant,
    touched: Option<Instant>,
}

/// Token buckets keyed by agent (or, for log-ins, by address or user name).
#[derive(Debug)]
pub struct Limiter<K = Uuid> {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<K, Bucket>>,
    /// Past this many keys, buckets that have refilled are forgotten (they hold nothing a new
    /// bucket would not), so keys an attacker makes up cannot grow memory without end.
    max_keys: usize,
}

/// The outcome of asking for one request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Admission {
    /// Whether the request may go on.
    pub allowed: bool,
    /// When refused: whole seconds until a token is back (at least 1).
    pub retry_after_s: u64,
    /// Whether `last_seen` is due to be written.
    pub touch: bool,
}

impl<K: std::hash::Hash + Eq> Limiter<K> {
    /// `per_second` sustained, `burst` at once.
    pub fn new(per_second: f64, burst: u32) -> Limiter<K> {
        Limiter {
            per_second: per_second.max(0.001),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
            max_keys: 1_000_000,
        }
    }

    /// At most about `max_keys` keys are remembered.
    pub fn with_max_keys(mut self, max_keys: usize) -> Limiter<K> {
        self.max_keys = max_keys.max(1);
        self
    }

    /// Gives back a token taken for `key` (a log-in that succeeded costs nothing).
    pub fn refund(&self, key: &K) {
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(b) = buckets.get_mut(key) {
            b.tokens = (b.tokens + 1.0).min(self.burst);
        }
    }

    /// Takes one token for `key` at `now`.
    pub fn admit(&self, key: K, now: Instant) -> Admission {
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        if buckets.len() >= self.max_keys && !buckets.contains_key(&key) {
            let (per_second, burst) = (self.per_second, self.burst);
            buckets.retain(|_, b| {
                let elapsed = now.saturating_duration_since(b.refilled).as_secs_f64();
                b.tokens + elapsed * per_second < burst
            });
            if buckets.len() >= self.max_keys {
                // Every bucket is in use: forget them all rather than grow (fails open, once).
                tracing::warn!(
                    keys = buckets.len(),
                    "Rate-limit table full; starting it afresh."
                );
                buckets.clear();
            }
        }
        let b = buckets.entry(key).or_insert(Bucket {
            tokens: self.burst,
            refilled: now,
            touched: None,
        });
        let elapsed = now.saturating_duration_since(b.refilled).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.per_second).min(self.burst);
        b.refilled = now;
        let touch = b
            .touched
            .is_none_or(|t| now.saturating_duration_since(t) >= TOUCH_EVERY);
        if touch {
            b.touched = Some(now);
        }
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Admission {
                allowed: true,
                retry_after_s: 0,
                touch,
            }
        } else {
            let wait = (1.0 - b.tokens) / self.per_second;
            Admission {
                allowed: false,
                retry_after_s: wait.ceil().max(1.0) as u64,
                touch,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn burst_then_refill() {
        let l = Limiter::new(2.0, 3);
        let a = Uuid::new_v4();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert!(l.admit(a, t0).allowed);
        }
        let refused = l.admit(a, t0);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after_s, 1);
        // Another agent has its own budget.
        assert!(l.admit(Uuid::new_v4(), t0).allowed);
        // Half a second at 2/s gives one token back.
        assert!(l.admit(a, t0 + Duration::from_millis(500)).allowed);
        assert!(!l.admit(a, t0 + Duration::from_millis(500)).allowed);
    }

    #[test]
    fn made_up_keys_do_not_grow_the_table_and_refunds_give_back() {
        let l: Limiter<String> = Limiter::new(1.0, 2).with_max_keys(100);
        let t0 = Instant::now();
        for n in 0..10_000 {
            l.admit(format!("user{n}"), t0 + Duration::from_secs(n));
        }
        assert!(l.buckets.lock().unwrap().len() <= 100);
        let t = t0 + Duration::from_secs(20_000);
        assert!(l.admit("admin".to_owned(), t).allowed);
        assert!(l.admit("admin".to_owned(), t).allowed);
        assert!(!l.admit("admin".to_owned(), t).allowed);
        l.refund(&"admin".to_owned());
        assert!(l.admit("admin".to_owned(), t).allowed);
    }

    #[test]
    fn touch_once_a_minute() {
        let l = Limiter::new(100.0, 100);
        let a = Uuid::new_v4();
        let t0 = Instant::now();
        assert!(l.admit(a, t0).touch);
        assert!(!l.admit(a, t0 + Duration::from_secs(30)).touch);
        assert!(l.admit(a, t0 + Duration::from_secs(61)).touch);
    }
}
