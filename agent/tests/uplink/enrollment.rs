//! Enrollment keeps the credential, owner-only, and explains every refusal.

use fitcheck_agent::uplink::client::Timeouts;
use fitcheck_agent::uplink::enroll::{EnrollError, EnrollOptions, enroll};
use fitcheck_agent::uplink::state::Enrollment;

use crate::mock;

fn options(m: &mock::Mock, dir: &std::path::Path) -> EnrollOptions {
    EnrollOptions {
        controller: m.url.clone(),
        secret: "district-secret".to_owned(),
        labels: [
            ("site".to_owned(), "lincoln".to_owned()),
            ("group".to_owned(), "grade5".to_owned()),
        ]
        .into(),
        fingerprint: None,
        state_dir: dir.to_owned(),
        new_id: false,
        timeouts: Timeouts::default(),
    }
}

#[tokio::test]
async fn enrollment_keeps_the_credential_owner_only() {
    let m = mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let state_dir = dir.path().join("state");
    let done = enroll(&options(&m, &state_dir)).await.unwrap();
    assert!(!done.verified, "no fingerprint was given to compare with");

    let kept = Enrollment::load(&state_dir).unwrap().unwrap();
    assert_eq!(kept, done.enrollment);
    assert_eq!(kept.fingerprint, m.fingerprint);
    assert_eq!(kept.poll_interval_s, 60);
    assert_eq!(kept.labels.get("group").map(String::as_str), Some("grade5"));
    let id_file = std::fs::read_to_string(state_dir.join("agent-id")).unwrap();
    assert_eq!(id_file.trim(), kept.agent_id.to_string());
    assert!(m.state().enrolled.contains(&kept.agent_id));
    assert_eq!(
        m.state().labels[0].get("site").map(String::as_str),
        Some("lincoln")
    );

    let raw = std::fs::read_to_string(state_dir.join("enrollment.json")).unwrap();
    assert!(raw.contains(&m.state().credential));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let file = std::fs::metadata(state_dir.join("enrollment.json")).unwrap();
        assert_eq!(file.permissions().mode() & 0o777, 0o600);
        let d = std::fs::metadata(&state_dir).unwrap();
        assert_eq!(d.permissions().mode() & 0o777, 0o700);
    }
    let printed = fitcheck_agent::uplink::enroll::summary(&done);
    assert!(
        printed.contains(&m.fingerprint.to_string())
            && printed.contains(&m.fingerprint.colon_hex())
    );
    assert!(
        !printed.contains(&m.state().credential),
        "the credential is never printed"
    );
}

#[tokio::test]
async fn a_refused_secret_and_a_known_agent_are_explained() {
    let m = mock::start().await;
    let dir = tempfile::tempdir().unwrap();
    let wrong = EnrollOptions {
        secret: "stale".to_owned(),
        ..options(&m, dir.path())
    };
    let e = enroll(&wrong).await.unwrap_err();
    assert!(matches!(e, EnrollError::SecretRefused { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("ask its administrator for a current secret")
    );
    assert!(Enrollment::load(dir.path()).unwrap().is_none());

    let first = enroll(&options(&m, dir.path())).await.unwrap();
    let again = enroll(&options(&m, dir.path())).await.unwrap_err();
    match &again {
        EnrollError::AlreadyEnrolled { agent_id, .. } => {
            assert_eq!(*agent_id, first.enrollment.agent_id)
        }
        e => panic!("{e:?}"),
    }
    assert!(again.to_string().contains("--new-id"));
    let fresh = enroll(&EnrollOptions {
        new_id: true,
        ..options(&m, dir.path())
    })
    .await
    .unwrap();
    assert_ne!(fresh.enrollment.agent_id, first.enrollment.agent_id);
    assert_eq!(
        Enrollment::load(dir.path()).unwrap().unwrap(),
        fresh.enrollment
    );
}

#[tokio::test]
async fn an_unreachable_controller_is_named() {
    // A port nothing listens on, held (bound, never listening) for the whole test so that no
    // other process can take it: connecting to it is refused.
    let held = tokio::net::TcpSocket::new_v4().unwrap();
    held.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let port = held.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let m = mock::start().await;
    let e = enroll(&EnrollOptions {
        controller: format!("https://127.0.0.1:{port}/"),
        ..options(&m, dir.path())
    })
    .await
    .unwrap_err();
    assert!(matches!(e, EnrollError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().contains(&format!("127.0.0.1:{port}")));
    let plain = enroll(&EnrollOptions {
        controller: "http://127.0.0.1:1/".to_owned(),
        ..options(&m, dir.path())
    })
    .await
    .unwrap_err();
    assert!(plain.to_string().contains("https://"), "{plain}");
}
