//! What a site's link carried with several devices measuring at once.
//!
//! Each device reports, per direction, the bytes it carried in every 100 ms of its measured
//! window, with absolute times ([`ThroughputSamples`]). Devices rarely measure over exactly the
//! same seconds: they end ramp-up at different moments, one may start late, one may stop early.
//! Adding up their own figures would count a device that had the link to itself as if it had
//! shared it. The site figure is what the devices carried **together**: the bytes of every
//! device in the largest group whose windows share at least [`MIN_COMMON_MS`], summed over that
//! common stretch only. Devices outside the group are left out and named by the caller.

use crate::report::ThroughputSamples;

/// The shortest stretch of time that counts as "measuring at once".
pub const MIN_COMMON_MS: i64 = 1000;

/// The devices that measured together, and what they carried together.
#[derive(Debug, Clone, PartialEq)]
pub struct Together {
    /// Mbit/s carried by the group over the common window.
    pub mbps: f64,
    /// The common window, Unix milliseconds.
    pub from_unix_ms: i64,
    pub to_unix_ms: i64,
    /// Indexes (into the caller's list) of the devices counted.
    pub counted: Vec<usize>,
    /// Indexes of the devices whose window did not share the common window.
    pub left_out: Vec<usize>,
}

impl Together {
    /// Length of the common window, milliseconds.
    pub fn window_ms(&self) -> i64 {
        self.to_unix_ms - self.from_unix_ms
    }
}

/// The largest group of `series` measuring at once for at least [`MIN_COMMON_MS`] (the longest
/// common window among groups of that size), and its throughput over that window. With no two
/// windows sharing that long, the one device with the longest window alone. `None` for no
/// series with a window.
pub fn together(series: &[&ThroughputSamples]) -> Option<Together> {
    let spans: Vec<(usize, i64, i64)> = series
        .iter()
        .enumerate()
        .map(|(i, s)| (i, s.start_unix_ms, s.end_unix_ms()))
        .filter(|(_, a, b)| b > a)
        .collect();
    // (size, window length, start, end, members)
    let mut best: Option<(usize, i64, i64, i64, Vec<usize>)> = None;
    // Devices that started together share every candidate window: each distinct start once,
    // in the order the devices are given (which breaks ties between equal windows).
    let mut seen = std::collections::HashSet::new();
    let starts = spans
        .iter()
        .map(|(_, from, _)| *from)
        .filter(|from| seen.insert(*from));
    for from in starts {
        // Everyone measuring at `from`, latest end first: the first k of them share
        // [from, k-th end].
        let mut open: Vec<(usize, i64)> = spans
            .iter()
            .filter(|(_, a, b)| *a <= from && from < *b)
            .map(|(i, _, b)| (*i, *b))
            .collect();
        open.sort_by(|x, y| y.1.cmp(&x.1).then(x.0.cmp(&y.0)));
        for k in (1..=open.len()).rev() {
            let to = open[k - 1].1;
            let len = to - from;
            if len < MIN_COMMON_MS && k > 1 {
                continue;
            }
            let better = match &best {
                None => true,
                Some((n, l, ..)) => k > *n || (k == *n && len > *l),
            };
            if better {
                let members = open[..k].iter().map(|(i, _)| *i).collect();
                best = Some((k, len, from, to, members));
            }
            break;
        }
    }
    let (_, len, from, to, mut counted) = best?;
    counted.sort_unstable();
    let bytes: f64 = counted
        .iter()
        .map(|i| series[*i].bytes_between(from, to))
        .sum();
    let mut in_group = vec![false; series.len()];
    for i in &counted {
        in_group[*i] = true;
    }
    let left_out = (0..series.len()).filter(|i| !in_group[*i]).collect();
    Some(Together {
        mbps: bytes * 8.0 / (len as f64 / 1000.0) / 1e6,
        from_unix_ms: from,
        to_unix_ms: to,
        counted,
        left_out,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A device carrying `mbps` steadily from `start` for `secs`, in 100 ms intervals.
    fn steady(start: i64, secs: u32, mbps: f64) -> ThroughputSamples {
        let per = (mbps * 1e6 / 8.0 / 10.0) as u64;
        ThroughputSamples {
            start_unix_ms: start,
            interval_ms: 100,
            bytes: vec![per; secs as usize * 10],
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-6 * b.abs().max(1.0)
    }

    #[test]
    fn devices_measuring_over_the_same_seconds_add_up() {
        let a = steady(10_000, 6, 10.0);
        let b = steady(10_000, 6, 9.0);
        let t = together(&[&a, &b]).unwrap();
        assert_eq!(t.counted, [0, 1]);
        assert!(t.left_out.is_empty());
        assert_eq!((t.from_unix_ms, t.to_unix_ms), (10_000, 16_000));
        assert!(close(t.mbps, 19.0), "{}", t.mbps);
    }

    #[test]
    fn partly_overlapping_windows_count_only_the_shared_stretch() {
        // A and B share the link at 10 Mbit/s each from 10 s to 14 s; after B stopped, A had
        // the link to itself at 20 Mbit/s. Over the shared 4 s the site carried 20, not 30.
        let mut a = steady(10_000, 4, 10.0);
        a.bytes.extend(steady(14_000, 2, 20.0).bytes);
        let b = steady(9_000, 5, 10.0);
        let t = together(&[&a, &b]).unwrap();
        assert_eq!(t.counted, [0, 1]);
        assert_eq!((t.from_unix_ms, t.to_unix_ms), (10_000, 14_000));
        assert!(close(t.mbps, 20.0), "{}", t.mbps);
    }

    #[test]
    fn a_device_whose_window_does_not_overlap_is_left_out() {
        // Two devices shared 19 Mbit/s; the third started 16 s late and had the whole link.
        let a = steady(10_000, 5, 9.5);
        let b = steady(10_200, 5, 9.5);
        let late = steady(26_000, 5, 19.0);
        let t = together(&[&a, &late, &b]).unwrap();
        assert_eq!(t.counted, [0, 2]);
        assert_eq!(t.left_out, [1]);
        assert_eq!(t.window_ms(), 4_800);
        assert!(close(t.mbps, 19.0), "{}", t.mbps);
    }

    #[test]
    fn intervals_straddling_the_window_count_in_proportion() {
        // B's intervals are offset by 50 ms from A's; each 100 ms of B carries 1000 bytes.
        let a = ThroughputSamples {
            start_unix_ms: 0,
            interval_ms: 100,
            bytes: vec![1000; 20],
        };
        let b = ThroughputSamples {
            start_unix_ms: 50,
            interval_ms: 100,
            bytes: vec![1000; 20],
        };
        let t = together(&[&a, &b]).unwrap();
        assert_eq!((t.from_unix_ms, t.to_unix_ms), (50, 2000));
        // A: 1950 ms at 10 bytes/ms; B: 1950 ms at 10 bytes/ms.
        let want = 2.0 * 19_500.0 * 8.0 / 1.95 / 1e6;
        assert!(close(t.mbps, want), "{} vs {want}", t.mbps);
    }

    #[test]
    fn a_larger_group_wins_over_a_longer_window_and_a_too_short_overlap_does_not_count() {
        let a = steady(0, 10, 5.0);
        let b = steady(0, 10, 5.0);
        let c = steady(9_500, 10, 5.0);
        // c shares only 500 ms with a and b: too short to be "at once".
        let t = together(&[&a, &b, &c]).unwrap();
        assert_eq!(t.counted, [0, 1]);
        assert_eq!(t.left_out, [2]);
        // Three that share 1.5 s beat two that share 10 s.
        let d = steady(8_500, 10, 5.0);
        let t = together(&[&a, &b, &d]).unwrap();
        assert_eq!(t.counted, [0, 1, 2]);
        assert_eq!(t.window_ms(), 1_500);
        assert!(close(t.mbps, 15.0), "{}", t.mbps);
    }

    #[test]
    fn with_no_shared_window_the_longest_single_device_stands_alone() {
        let a = steady(0, 3, 8.0);
        let b = steady(50_000, 5, 6.0);
        let t = together(&[&a, &b]).unwrap();
        assert_eq!(t.counted, [1]);
        assert_eq!(t.left_out, [0]);
        assert!(close(t.mbps, 6.0));
        let empty = ThroughputSamples {
            start_unix_ms: 0,
            interval_ms: 100,
            bytes: Vec::new(),
        };
        assert_eq!(together(&[&empty]), None);
        assert_eq!(together(&[]), None);
    }
}
