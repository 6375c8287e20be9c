//! The endpoint on 127.0.0.1:0: exact byte counts, incompressible content, upload receipts,
//! refusals.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use fitcheck_bandwidth::{MAX_DOWNLOAD_BYTES, UploadReceipt};

async fn spawn() -> (String, tokio::sync::oneshot::Sender<()>) {
    // In a workspace build reqwest has rustls without a built-in provider (the agent brings
    // ring); plain-HTTP clients still need one installed.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(fitcheck_bandwidth::serve(listener, async {
        let _ = rx.await;
    }));
    (format!("http://{addr}"), tx)
}

/// A client that talks to the loopback server directly, whatever proxy the environment names.
fn loopback_client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

#[tokio::test]
async fn download_streams_exactly_the_bytes_asked_and_they_do_not_compress() {
    let (base, _stop) = spawn().await;
    let client = loopback_client();
    for n in [0u64, 1, 65_535, 65_536, 3 * (4 << 20) + 17] {
        let body = client
            .get(format!("{base}/bandwidth/download?bytes={n}"))
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap();
        assert_eq!(body.len() as u64, n);
    }
    let body = client
        .get(format!("{base}/bandwidth/download?bytes=1000000"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    // Random bytes: every byte value appears, none dominates.
    let mut counts = [0u32; 256];
    for b in body.iter() {
        counts[usize::from(*b)] += 1;
    }
    assert!(
        counts.iter().all(|c| (3000..5000).contains(c)),
        "{:?}",
        &counts[..8]
    );
}

#[tokio::test]
async fn uploads_are_counted_and_limits_refused() {
    let (base, _stop) = spawn().await;
    let client = loopback_client();
    let r: UploadReceipt = serde_json::from_slice(
        &client
            .post(format!("{base}/bandwidth/upload"))
            .body(vec![7u8; 300_000])
            .send()
            .await
            .unwrap()
            .bytes()
            .await
            .unwrap(),
    )
    .unwrap();
    assert_eq!(r.bytes, 300_000);
    let too_big = client
        .get(format!(
            "{base}/bandwidth/download?bytes={}",
            MAX_DOWNLOAD_BYTES + 1
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(too_big.status(), 413);
    let missing = client
        .get(format!("{base}/bandwidth/download"))
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status(), 400);
}

async fn get_json<T: serde::de::DeserializeOwned>(client: &reqwest::Client, url: &str) -> T {
    let body = client.get(url).send().await.unwrap().bytes().await.unwrap();
    serde_json::from_slice(&body).unwrap()
}

#[tokio::test]
async fn upload_progress_counts_what_the_server_received_per_session() {
    let (base, _stop) = spawn().await;
    let client = loopback_client();
    for _ in 0..2 {
        client
            .post(format!("{base}/bandwidth/upload?session=s-1"))
            .body(vec![1u8; 100_000])
            .send()
            .await
            .unwrap();
    }
    let p: fitcheck_bandwidth::Progress = get_json(
        &client,
        &format!("{base}/bandwidth/upload/progress?session=s-1"),
    )
    .await;
    assert_eq!(p.bytes, 200_000);
    let other: fitcheck_bandwidth::Progress = get_json(
        &client,
        &format!("{base}/bandwidth/upload/progress?session=s-2"),
    )
    .await;
    assert_eq!(other.bytes, 0);
    let bad = client
        .get(format!("{base}/bandwidth/upload/progress?session=../x"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
}
