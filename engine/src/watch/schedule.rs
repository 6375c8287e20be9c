//! When a watched product is checked again: a cron expression read in the district's time zone
//! (`*/30 7-15 * * MON-FRI`: every 30 minutes from 07:00 to 15:30 on school days), and the
//! maintenance windows — school breaks, planned changes — in which rounds may run but nothing
//! alerts. Times are the district's wall clock; a daylight-saving change moves the rounds with
//! it, so 07:00 stays 07:00.
//!
//! The cron expression is read by `croner` (POSIX/Vixie fields; names for months and days), the
//! zone by `chrono-tz` (the IANA database).

use std::str::FromStr;

use chrono::{DateTime, LocalResult, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use croner::Cron;

/// What is wrong with a schedule, in words a district's administrator can act on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ScheduleError {
    #[error(
        "schedule {0:?} is not a cron expression ({1}); write five fields, e.g. \"*/30 7-15 * * MON-FRI\""
    )]
    Cron(String, String),
    #[error("time zone {0:?} is not an IANA zone name; write one such as \"America/Chicago\"")]
    Zone(String),
    #[error(
        "maintenance window {0:?} is not START/END in local time (\"2026-12-21 00:00/2027-01-04 06:00\")"
    )]
    Window(String),
    #[error("maintenance window {0:?} ends before it starts")]
    Reversed(String),
}

/// A watch's schedule.
#[derive(Debug, Clone)]
pub struct Schedule {
    cron: Cron,
    zone: Tz,
    /// Maintenance windows, as instants: `[start, end)`.
    maintenance: Vec<(DateTime<Utc>, DateTime<Utc>)>,
}

/// The local time format maintenance windows are written in.
const LOCAL: &str = "%Y-%m-%d %H:%M";

impl Schedule {
    /// Reads a schedule: the cron expression, the IANA zone it is read in, and maintenance
    /// windows written `START/END` in that zone's local time.
    pub fn parse(
        cron: &str,
        zone: &str,
        maintenance: &[String],
    ) -> Result<Schedule, ScheduleError> {
        let parsed = Cron::from_str(cron)
            .map_err(|e| ScheduleError::Cron(cron.to_owned(), e.to_string()))?;
        let tz = Tz::from_str(zone).map_err(|_| ScheduleError::Zone(zone.to_owned()))?;
        let mut windows = Vec::new();
        for w in maintenance {
            let bad = || ScheduleError::Window(w.clone());
            let (start, end) = w.split_once('/').ok_or_else(bad)?;
            let start = local(tz, start.trim()).ok_or_else(bad)?;
            let end = local(tz, end.trim()).ok_or_else(bad)?;
            if end <= start {
                return Err(ScheduleError::Reversed(w.clone()));
            }
            windows.push((start, end));
        }
        Ok(Schedule {
            cron: parsed,
            zone: tz,
            maintenance: windows,
        })
    }

    /// The first round strictly after `t`.
    pub fn next_after(&self, t: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = t.with_timezone(&self.zone);
        self.cron
            .find_next_occurrence(&local, false)
            .ok()
            .map(|n| n.with_timezone(&Utc))
    }

    /// Whether `t` lies in a maintenance window: a round then is recorded, never alerted on.
    pub fn in_maintenance(&self, t: DateTime<Utc>) -> bool {
        self.maintenance.iter().any(|(s, e)| *s <= t && t < *e)
    }

    /// [`Schedule::next_after`] in Unix milliseconds.
    pub fn next_after_ms(&self, ms: i64) -> Option<i64> {
        let t = DateTime::<Utc>::from_timestamp_millis(ms)?;
        self.next_after(t).map(|n| n.timestamp_millis())
    }

    /// [`Schedule::in_maintenance`] at Unix milliseconds `ms`.
    pub fn in_maintenance_ms(&self, ms: i64) -> bool {
        DateTime::<Utc>::from_timestamp_millis(ms).is_some_and(|t| self.in_maintenance(t))
    }

    /// The zone rounds are read in.
    pub fn zone(&self) -> Tz {
        self.zone
    }
}

/// A local wall-clock time in `zone` as an instant; in a daylight-saving gap, the instant the
/// clock jumps to; in an overlap, the earlier of the two.
fn local(zone: Tz, text: &str) -> Option<DateTime<Utc>> {
    let naive = NaiveDateTime::parse_from_str(text, LOCAL).ok()?;
    match zone.from_local_datetime(&naive) {
        LocalResult::Single(t) => Some(t.with_timezone(&Utc)),
        LocalResult::Ambiguous(early, _) => Some(early.with_timezone(&Utc)),
        // Skipped by a spring-forward: the hour after it, which exists.
        LocalResult::None => {
            let later = naive + chrono::Duration::hours(1);
            zone.from_local_datetime(&later)
                .earliest()
                .map(|t| t.with_timezone(&Utc))
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, TimeZone, Utc};

    use super::{Schedule, ScheduleError};

    fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
            .single()
            .unwrap_or_else(|| panic!("{y}-{mo}-{d} {h}:{mi}"))
    }

    fn rounds(s: &Schedule, from: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
        let mut out = Vec::new();
        let mut t = from;
        for _ in 0..n {
            match s.next_after(t) {
                Some(next) => {
                    out.push(next);
                    t = next;
                }
                None => break,
            }
        }
        out
    }

    #[test]
    fn school_hours_on_school_days_in_the_districts_zone() {
        let s = Schedule::parse("*/30 7-15 * * MON-FRI", "America/Chicago", &[])
            .unwrap_or_else(|e| panic!("{e}"));
        // Friday 2026-03-06 15:45 CST (21:45Z): the next round is Monday 07:00 CST.
        let next = s.next_after(utc(2026, 3, 6, 21, 45));
        assert_eq!(
            next,
            Some(utc(2026, 3, 9, 12, 0)),
            "Monday 07:00 CDT, after the change"
        );
        // A school day runs 07:00..15:30 every 30 minutes: 18 rounds.
        let day = rounds(&s, utc(2026, 3, 10, 11, 59), 19);
        assert_eq!(day.first(), Some(&utc(2026, 3, 10, 12, 0)));
        assert_eq!(day.get(17), Some(&utc(2026, 3, 10, 20, 30)), "15:30 CDT");
        assert_eq!(
            day.get(18),
            Some(&utc(2026, 3, 11, 12, 0)),
            "then the next morning"
        );
    }

    #[test]
    fn daylight_saving_keeps_the_wall_clock() {
        let s =
            Schedule::parse("0 7 * * *", "America/New_York", &[]).unwrap_or_else(|e| panic!("{e}"));
        // 07:00 EST is 12:00Z; after the spring change 07:00 EDT is 11:00Z; after the autumn one
        // 12:00Z again.
        assert_eq!(
            s.next_after(utc(2026, 3, 7, 13, 0)),
            Some(utc(2026, 3, 8, 11, 0))
        );
        assert_eq!(
            s.next_after(utc(2026, 3, 6, 13, 0)),
            Some(utc(2026, 3, 7, 12, 0))
        );
        assert_eq!(
            s.next_after(utc(2026, 10, 31, 12, 0)),
            Some(utc(2026, 11, 1, 12, 0))
        );
    }

    #[test]
    fn a_time_the_clock_skips_or_repeats_runs_once() {
        // 02:30 does not exist on 2026-03-08 in Chicago, and 01:30 happens twice on 2026-11-01.
        let gap =
            Schedule::parse("30 2 * * *", "America/Chicago", &[]).unwrap_or_else(|e| panic!("{e}"));
        let around = rounds(&gap, utc(2026, 3, 7, 12, 0), 2);
        assert_eq!(around.len(), 2);
        assert!(
            around[0] > utc(2026, 3, 8, 6, 0) && around[0] < utc(2026, 3, 9, 6, 0),
            "one round on the day of the change: {around:?}"
        );
        assert!(around[1] > utc(2026, 3, 9, 6, 0), "{around:?}");
        let overlap =
            Schedule::parse("30 1 * * *", "America/Chicago", &[]).unwrap_or_else(|e| panic!("{e}"));
        let day: Vec<_> = rounds(&overlap, utc(2026, 11, 1, 4, 0), 3)
            .into_iter()
            .filter(|t| *t < utc(2026, 11, 2, 5, 0))
            .collect();
        assert_eq!(day.len(), 1, "01:30 once on the day it repeats: {day:?}");
    }

    #[test]
    fn nothing_alerts_in_a_maintenance_window() {
        let s = Schedule::parse(
            "*/30 7-15 * * MON-FRI",
            "America/Chicago",
            &["2026-12-21 00:00/2027-01-04 06:00".to_owned()],
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert!(!s.in_maintenance(utc(2026, 12, 18, 15, 0)));
        assert!(
            s.in_maintenance(utc(2026, 12, 21, 6, 0)),
            "00:00 CST is 06:00Z"
        );
        assert!(s.in_maintenance(utc(2027, 1, 4, 11, 59)));
        assert!(
            !s.in_maintenance(utc(2027, 1, 4, 12, 0)),
            "the window ends at 06:00 CST"
        );
    }

    #[test]
    fn a_bad_schedule_says_what_to_write() {
        let cron = Schedule::parse("every half hour", "America/Chicago", &[]);
        assert!(matches!(cron, Err(ScheduleError::Cron(..))), "{cron:?}");
        let zone = Schedule::parse("0 7 * * *", "Central", &[]);
        assert_eq!(zone.err(), Some(ScheduleError::Zone("Central".into())));
        let window = Schedule::parse("0 7 * * *", "UTC", &["2026-12-21".into()]);
        assert!(matches!(window, Err(ScheduleError::Window(_))));
        let reversed = Schedule::parse(
            "0 7 * * *",
            "UTC",
            &["2027-01-04 00:00/2026-12-21 00:00".into()],
        );
        assert!(matches!(reversed, Err(ScheduleError::Reversed(_))));
        if let Err(e) = Schedule::parse("0 7 * *", "UTC", &[]) {
            assert!(e.to_string().contains("*/30 7-15 * * MON-FRI"), "{e}");
        }
    }
}
