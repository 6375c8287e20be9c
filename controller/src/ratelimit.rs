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

/// Token buckets keyed by agent.
#[derive(Debug)]
pub struct Limiter {
    per_second: f64,
    burst: f64,
    buckets: Mutex<HashMap<Uuid, Bucket>>,
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

impl Limiter {
    /// `per_second` sustained, `burst` at once.
    pub fn new(per_second: f64, burst: u32) -> Limiter {
        Limiter {
            per_second: per_second.max(0.001),
            burst: f64::from(burst.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one token for `agent` at `now`.
    pub fn admit(&self, agent: Uuid, now: Instant) -> Admission {
        let mut buckets = match self.buckets.lock() {
            Ok(b) => b,
            Err(poisoned) => poisoned.into_inner(),
        };
        let b = buckets.entry(agent).or_insert(Bucket {
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
    fn touch_once_a_minute() {
        let l = Limiter::new(100.0, 100);
        let a = Uuid::new_v4();
        let t0 = Instant::now();
        assert!(l.admit(a, t0).touch);
        assert!(!l.admit(a, t0 + Duration::from_secs(30)).touch);
        assert!(l.admit(a, t0 + Duration::from_secs(61)).touch);
    }
}
