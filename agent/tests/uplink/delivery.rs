//! The spool and its delivery: nothing lost, nothing doubled, nothing retried that the
//! controller refused for good.

use std::time::Duration;

use fitcheck_agent::uplink::backoff::RetryPolicy;
use fitcheck_agent::uplink::client::{Controller, Timeouts, UplinkError};
use fitcheck_agent::uplink::deliver::{DeliverError, Deliverer};
use fitcheck_agent::uplink::spool::{self, Envelope, Spool, SpoolLimits};
use uuid::Uuid;

use crate::mock;

/// Quick retries, so the tests wait only where the controller asks them to.
const QUICK: RetryPolicy = RetryPolicy {
    first: Duration::from_millis(20),
    max: Duration::from_millis(100),
};

async fn enrolled() -> (mock::Mock, tempfile::TempDir, Controller) {
    let m = mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let e = mock::enroll_into(&m, dir.path()).await;
    let c = Controller::from_enrollment(&e, Timeouts::default()).unwrap();
    (m, dir, c)
}

/// Runs delivery rounds as the daemon does, each when it is due, until the spool is empty
/// (at most `rounds`).
async fn deliver_until_empty(d: &mut Deliverer, c: &Controller, s: &Spool, rounds: usize) {
    for _ in 0..rounds {
        if let Some(at) = d.next_at() {
            tokio::time::sleep_until(at.into()).await;
        }
        d.round(c, s).await;
        if s.entries().unwrap().is_empty() {
            return;
        }
    }
}

#[tokio::test]
async fn a_spooled_report_survives_a_restart_and_leaves_only_once_stored() {
    let (m, dir, c) = enrolled().await;
    let evaluation = Uuid::new_v4();
    let report = mock::report(Uuid::new_v4());
    let report_id = report.report_id;
    {
        let first = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
        let put = first.put(&Envelope::new(Some(evaluation), report)).unwrap();
        assert!(!put.already && put.dropped.is_empty());
        assert_eq!(put.entry.report_id(), Some(report_id));
    }
    // A new process: a new spool object over the same directory.
    let again = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    let waiting = again.entries().unwrap();
    assert_eq!(waiting.len(), 1);
    let env = again.read(&waiting[0]).unwrap();
    assert_eq!(env.evaluation_id, Some(evaluation));
    assert_eq!(env.report.report_id, report_id);

    let mut d = Deliverer::new(QUICK);
    let round = d.round(&c, &again).await;
    assert_eq!((round.stored, round.duplicate, round.rejected), (1, 0, 0));
    assert!(again.entries().unwrap().is_empty());
    assert_eq!(d.next_at(), None, "nothing waits");
    let seen = m.state().deliveries.clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].report_id, report_id);
    assert_eq!(seen[0].evaluation, Some(evaluation));
    assert_eq!(seen[0].report.report_id, report_id);
}

#[tokio::test]
async fn unavailable_and_busy_answers_are_retried_and_retry_after_is_honoured() {
    let (m, dir, c) = enrolled().await;
    m.state().script = [(503, None), (429, Some(1))].into();
    let s = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    s.put(&Envelope::new(None, mock::report(Uuid::new_v4())))
        .unwrap();

    let mut d = Deliverer::new(QUICK);
    let first = d.round(&c, &s).await;
    assert!(
        matches!(
            first.stopped,
            Some(DeliverError::Uplink(UplinkError::Retry { after: None, .. }))
        ),
        "{:?}",
        first.stopped
    );
    assert_eq!(first.waiting, 1);
    assert_eq!(s.entries().unwrap().len(), 1, "kept after a 503");
    deliver_until_empty(&mut d, &c, &s, 5).await;

    let seen = m.state().deliveries.clone();
    let statuses: Vec<u16> = seen.iter().map(|x| x.status).collect();
    assert_eq!(statuses, [503, 429, 200]);
    assert!(
        seen[2].at.duration_since(seen[1].at) >= Duration::from_secs(1),
        "the next try came {:?} after a Retry-After of 1 s",
        seen[2].at.duration_since(seen[1].at)
    );
    assert!(s.entries().unwrap().is_empty());
    assert!(seen.iter().all(|x| x.report_id == seen[0].report_id));
}

#[tokio::test]
async fn a_report_refused_for_good_moves_aside_and_is_never_retried() {
    let (m, dir, c) = enrolled().await;
    m.state().script = [(422, None)].into();
    let s = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    let refused = mock::report(Uuid::new_v4());
    let behind = mock::report(Uuid::new_v4());
    s.put(&Envelope::new(None, refused.clone())).unwrap();
    s.put(&Envelope::new(None, behind.clone())).unwrap();

    let mut d = Deliverer::new(QUICK);
    let round = d.round(&c, &s).await;
    assert_eq!(
        (round.stored, round.rejected),
        (1, 1),
        "the one behind still goes"
    );
    assert!(s.entries().unwrap().is_empty());
    let kept = s.rejected().unwrap();
    assert_eq!(kept.len(), 1);
    let env = s.read(&kept[0]).unwrap();
    assert_eq!(env.report.report_id, refused.report_id);
    let why = env.rejection.unwrap();
    assert_eq!(why.status, 422);
    assert_eq!(why.error.field.as_deref(), Some("results[0].outcome"));

    d.wake();
    d.round(&c, &s).await;
    let tries = m
        .state()
        .deliveries
        .iter()
        .filter(|x| x.report_id == refused.report_id)
        .count();
    assert_eq!(tries, 1, "a refused report is not sent again");
    let stats = spool::stats(dir.path()).unwrap();
    assert_eq!((stats.waiting, stats.rejected), (0, 1));
}

#[tokio::test]
async fn a_full_spool_drops_the_oldest_and_counts_it() {
    let dir = tempfile::tempdir().unwrap();
    let limits = SpoolLimits {
        max_reports: 2,
        max_bytes: 64 << 20,
    };
    let s = Spool::open(dir.path(), limits).unwrap();
    let reports: Vec<_> = (0..3).map(|_| mock::report(Uuid::new_v4())).collect();
    for r in &reports[..2] {
        s.put(&Envelope::new(None, r.clone())).unwrap();
    }
    let third = s.put(&Envelope::new(None, reports[2].clone())).unwrap();
    assert_eq!(third.dropped.len(), 1);
    assert_eq!(third.dropped[0].report_id(), Some(reports[0].report_id));
    let waiting: Vec<_> = s
        .entries()
        .unwrap()
        .iter()
        .map(|e| e.report_id().unwrap())
        .collect();
    assert_eq!(
        waiting,
        [reports[1].report_id, reports[2].report_id],
        "oldest first"
    );

    // The same report again is not a second entry.
    let again = s.put(&Envelope::new(None, reports[2].clone())).unwrap();
    assert!(again.already);
    assert_eq!(s.entries().unwrap().len(), 2);

    // The count is on disk: a new process sees it.
    let reopened = Spool::open(dir.path(), limits).unwrap();
    assert_eq!(reopened.dropped(), 1);
    assert_eq!(spool::stats(dir.path()).unwrap().dropped, 1);

    // By bytes too: a spool that holds about one report.
    let one = std::fs::metadata(&s.entries().unwrap()[0].path)
        .unwrap()
        .len();
    let small = Spool::open(
        dir.path(),
        SpoolLimits {
            max_reports: 100,
            max_bytes: one + one / 2,
        },
    )
    .unwrap();
    small
        .put(&Envelope::new(None, mock::report(Uuid::new_v4())))
        .unwrap();
    assert_eq!(small.entries().unwrap().len(), 1);
    assert_eq!(small.dropped(), 3);
}

#[tokio::test]
async fn a_revoked_agent_keeps_its_reports_and_is_told_to_re_enroll() {
    let (m, dir, c) = enrolled().await;
    m.state().revoked = true;
    let s = Spool::open(dir.path(), SpoolLimits::default()).unwrap();
    s.put(&Envelope::new(None, mock::report(Uuid::new_v4())))
        .unwrap();
    let mut d = Deliverer::new(QUICK);
    let round = d.round(&c, &s).await;
    match round.stopped {
        Some(DeliverError::Uplink(e @ UplinkError::Unauthorized { .. })) => {
            assert!(e.to_string().contains("Re-enroll"), "{e}")
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(s.entries().unwrap().len(), 1);
    assert!(s.rejected().unwrap().is_empty());
}

/// Reads one HTTP/1.1 request (head and `Content-Length` body) from `s`; false at its end.
fn read_request(s: &mut impl std::io::Read) -> bool {
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        match s.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => return false,
        }
    }
    let text = String::from_utf8_lossy(&head).to_ascii_lowercase();
    let length: usize = text
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    s.read_exact(&mut body).is_ok()
}

/// A poll that went out on a kept-alive connection the server closed without answering is sent
/// again at once on a fresh connection, and answered: the first connection answers one request,
/// then reads the next and closes; the second answers.
#[tokio::test]
async fn a_request_on_a_connection_the_server_closed_is_sent_again() {
    use std::io::Write;
    use std::sync::Arc;

    let (cert, key) = mock::certificate();
    let pin = fitcheck_agent::uplink::pin::Fingerprint::of(cert.as_ref());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap(),
    );
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let answer = "{\"assignments\":[],\"poll_interval_s\":60}";
    let ok = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{answer}",
        answer.len()
    );
    let server = std::thread::spawn(move || {
        let mut answered = 0;
        for n in 0..2 {
            let (tcp, _) = listener.accept().unwrap();
            tcp.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
            let conn = rustls::ServerConnection::new(config.clone()).unwrap();
            let mut tls = rustls::StreamOwned::new(conn, tcp);
            assert!(read_request(&mut tls), "connection {n}: a request");
            tls.write_all(ok.as_bytes()).unwrap();
            tls.flush().unwrap();
            answered += 1;
            if n == 0 {
                // The next request on this connection is read, then the connection closes
                // without an answer (and without close_notify), as a server's idle limit does.
                assert!(
                    read_request(&mut tls),
                    "a second request on the kept-alive connection"
                );
                tls.sock.shutdown(std::net::Shutdown::Both).unwrap();
            }
        }
        answered
    });
    let c = Controller::new(
        &format!("https://127.0.0.1:{port}/"),
        pin,
        Some(&fitcheck_agent::uplink::state::Credential::new("fca_test")),
        Timeouts::default(),
    )
    .unwrap();
    for poll in 0..2 {
        let a = c.assignments().await;
        assert!(a.is_ok(), "poll {poll}: {a:?}");
    }
    assert_eq!(
        server.join().unwrap(),
        2,
        "the second poll was answered on a new connection"
    );
}
