//! The throughput engine against the bandwidth endpoint on 127.0.0.1: it stops at its caps,
//! whatever it is asked, and refuses once the day's allowance is spent.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::sync::Arc;

use fitcheck_agent::checks::throughput::{self, Caps, Direction, HARD_CAPS, Hold, Target};
use fitcheck_agent::checks::{Check, Ctx, bandwidth};
use fitcheck_agent::resolve::SystemResolver;
use fitcheck_agent::tls::TlsSetup;
use fitcheck_core::report::{CheckResult, MeasureOutcome};
use fitcheck_core::signatures::Catalog;

mod common;

async fn endpoint() -> (reqwest::Url, tokio::sync::oneshot::Sender<()>) {
    common::assert_no_proxy();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(fitcheck_bandwidth::serve(listener, async {
        let _ = rx.await;
    }));
    (format!("http://{addr}/").parse().unwrap(), tx)
}

fn ctx() -> Ctx {
    let catalog = Arc::new(Catalog::default());
    Ctx::new(
        SystemResolver::from_system(catalog.clone()).unwrap(),
        TlsSetup::from_system(&[]).unwrap(),
        catalog,
    )
}

/// Small enough that loopback reaches it long before the engine could stop for a stable rate
/// (≥ 3 s), however slow a loaded machine makes it: the cap is what ends the measurement.
const CAP: u64 = 4 << 20;
/// Against a fitcheck endpoint, streams reserve what they ask for: the cap is exact.
const SLACK: u64 = 0;

fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn both_directions_stop_at_the_byte_cap() {
    let (url, _stop) = endpoint().await;
    let ctx = ctx();
    let client = bandwidth::client(&ctx).unwrap();
    let caps = Caps {
        max_seconds: 10.0,
        max_bytes: CAP,
        max_bytes_per_day: u64::MAX,
    };
    for dir in [Direction::Download, Direction::Upload] {
        let before = unix_ms();
        let m = throughput::measure(
            &client,
            &Target::Endpoint(url.clone()),
            dir,
            4,
            caps,
            Hold::UntilStable,
        )
        .await;
        let after = unix_ms();
        assert!(
            m.bytes >= CAP && m.bytes <= CAP + SLACK,
            "{dir:?}: {} bytes",
            m.bytes
        );
        assert!(
            m.validity.iter().any(|v| v == "byte_cap"),
            "{dir:?}: {:?}",
            m.validity
        );
        assert_eq!(m.streams, 4);
        assert!(m.error.is_none(), "{dir:?}: {m:?}");
        // The bytes per interval, timed by the wall clock within the measurement, for adding
        // up devices that measured at once.
        let s = m.samples.as_ref().expect("timed samples");
        assert!(
            before <= s.start_unix_ms && s.end_unix_ms() <= after + 1000,
            "{dir:?}: samples {}..{} outside the run {before}..{after}",
            s.start_unix_ms,
            s.end_unix_ms()
        );
        assert!(s.interval_ms >= 1 && !s.bytes.is_empty(), "{dir:?}: {s:?}");
        let sampled: u64 = s.bytes.iter().sum();
        assert!(
            sampled > 0 && sampled <= m.bytes,
            "{dir:?}: sampled {sampled} of {} bytes",
            m.bytes
        );
    }
}

#[test]
fn what_a_profile_or_controller_asks_is_lowered_to_the_hard_caps() {
    let asked = Caps {
        max_seconds: 3600.0,
        max_bytes: 100 << 30,
        max_bytes_per_day: 1 << 40,
    };
    assert_eq!(Caps::clamp(asked), HARD_CAPS);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_daily_allowance_refuses_to_measure() {
    let (url, _stop) = endpoint().await;
    let dir = tempfile::tempdir().unwrap();
    let caps = Caps {
        max_seconds: 5.0,
        max_bytes: CAP,
        max_bytes_per_day: 100 << 20,
    };
    let spec = |d: &Path| bandwidth::Spec {
        requirement: "network".into(),
        target: Target::Endpoint(url.clone()),
        caps,
        state_dir: d.to_owned(),
        access: None,
        start_at: None,
    };
    let ctx = ctx();
    // The first measurement may use at most half of what is left today per direction.
    let first = Check::Bandwidth(spec(dir.path())).run(&ctx).await;
    let CheckResult::Bandwidth(b) = first else {
        panic!("{first:?}")
    };
    assert_eq!(b.outcome, MeasureOutcome::Measured);
    assert!(b.bytes <= (100 << 20) + 2 * SLACK, "{} bytes", b.bytes);
    // Spend the rest, then nothing more is measured. The ledger keeps one day: were midnight
    // (UTC) to pass between spending and measuring, the run would see a fresh day, so that
    // case is done again (it cannot happen twice in a row).
    let ledger = throughput::Ledger::new(dir.path());
    let mut again = None;
    for _ in 0..2 {
        let day = bandwidth::today();
        ledger.add(&day, 100 << 20).unwrap();
        let result = Check::Bandwidth(spec(dir.path())).run(&ctx).await;
        if bandwidth::today() == day {
            again = Some(result);
            break;
        }
    }
    let Some(CheckResult::Bandwidth(b)) = again else {
        panic!("{again:?}")
    };
    assert_eq!(b.outcome, MeasureOutcome::Unreachable);
    assert_eq!(b.bytes, 0);
    assert!(b.detail.unwrap().contains("allowance is spent"));
}
