//! The controller is trusted by its certificate's fingerprint, and only by it.

use fitcheck_agent::uplink::client::{self, Controller, Timeouts, UplinkError};
use fitcheck_agent::uplink::enroll::{EnrollError, EnrollOptions, enroll};
use fitcheck_agent::uplink::pin::Fingerprint;
use fitcheck_agent::uplink::state::Credential;

use crate::mock;

#[tokio::test]
async fn the_pinned_certificate_is_accepted_and_any_other_refused() {
    let m = mock::start().await;
    let other = mock::start().await;
    let credential = Credential::new(m.state().credential.clone());

    let right = Controller::new(
        &m.url,
        m.fingerprint,
        Some(&credential),
        Timeouts::default(),
    )
    .unwrap();
    let a = right.assignments().await.unwrap();
    assert!(a.assignments.is_empty());
    assert_eq!(m.state().assignment_polls, 1);

    // Another server (another certificate) where the controller should be.
    let pinned_elsewhere = Controller::new(
        &other.url,
        m.fingerprint,
        Some(&credential),
        Timeouts::default(),
    )
    .unwrap();
    match pinned_elsewhere.assignments().await {
        Err(UplinkError::CertificateChanged {
            pinned, presented, ..
        }) => {
            assert_eq!(pinned, m.fingerprint);
            assert_eq!(presented, other.fingerprint);
        }
        r => panic!("{r:?}"),
    }
    assert_eq!(
        other.state().assignment_polls,
        0,
        "nothing is sent to a server with another certificate"
    );
    let text = pinned_elsewhere
        .assignments()
        .await
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("may be intercepted") && text.contains("enroll this agent again"),
        "{text}"
    );
}

#[tokio::test]
async fn the_certificate_is_fetched_without_sending_anything() {
    let m = mock::start().await;
    let fp = client::fetch_certificate(&m.url, std::time::Duration::from_secs(5))
        .await
        .unwrap();
    assert_eq!(fp, m.fingerprint);
    let st = m.state();
    assert_eq!(st.enroll_requests + st.assignment_polls, 0);
}

#[tokio::test]
async fn enrollment_stops_when_the_given_fingerprint_differs() {
    let m = mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = Fingerprint::of(b"not the controller's certificate");
    let opts = EnrollOptions {
        controller: m.url.clone(),
        secret: "district-secret".to_owned(),
        labels: Default::default(),
        fingerprint: Some(wrong),
        state_dir: dir.path().to_owned(),
        new_id: false,
        timeouts: Timeouts::default(),
    };
    match enroll(&opts).await {
        Err(EnrollError::FingerprintMismatch {
            expected,
            presented,
            ..
        }) => {
            assert_eq!(expected, wrong);
            assert_eq!(presented, m.fingerprint);
        }
        r => panic!("{r:?}"),
    }
    assert_eq!(m.state().enroll_requests, 0, "the secret was never sent");
    assert!(!dir.path().join("enrollment.json").exists());

    // The colon form `openssl x509 -fingerprint -sha256` prints is accepted as well.
    let colon = Fingerprint::parse(&m.fingerprint.colon_hex()).unwrap();
    let ok = enroll(&EnrollOptions {
        fingerprint: Some(colon),
        ..opts
    })
    .await
    .unwrap();
    assert!(ok.verified);
    assert_eq!(ok.enrollment.fingerprint, m.fingerprint);
}
