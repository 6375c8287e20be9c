//! Watching an approved product through the API: a webhook receiver on loopback (allowed
//! explicitly) gets the regression, signed, naming cause and owner, after two rounds in which
//! two of three agents at the site fail; one agent failing alone raises nothing; the resolution
//! follows two clean rounds; each message once.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Agent, Auth, Db, TestApp, report_for, spawn_app_with};
use fitcheck_controller::Limits;

/// What the receiver got: each request's signature header and body as sent.
type Received = Arc<Mutex<Vec<(Option<String>, String)>>>;

/// A webhook receiver on 127.0.0.1, recording what it takes; it answers 503 to the first
/// `refuse` requests (recording them apart), as a receiver that is down would.
async fn receiver(refuse: usize) -> (String, Received, Arc<Mutex<usize>>) {
    let got: Received = Arc::default();
    let refused = Arc::new(Mutex::new(0usize));
    let (keep, count) = (got.clone(), refused.clone());
    let app = axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: axum::http::HeaderMap, body: String| {
            let (keep, count) = (keep.clone(), count.clone());
            async move {
                {
                    let mut n = count.lock().unwrap();
                    if *n < refuse {
                        *n += 1;
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                }
                let sig = headers
                    .get("x-fitcheck-signature")
                    .and_then(|v| v.to_str().ok())
                    .map(str::to_owned);
                keep.lock().unwrap().push((sig, body));
                axum::http::StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://{addr}/hook"), got, refused)
}

/// The fixture report, with `dns[0]` (kahoot.it) resolved or denied by the DNS filter.
fn report(agent: &Agent, blocked: bool) -> Value {
    let mut v = report_for(agent);
    let results = v["results"].as_array_mut().unwrap();
    let dns0 = results
        .iter_mut()
        .find(|r| r["requirement"] == "dns[0]")
        .unwrap();
    if blocked {
        dns0["outcome"] = json!("nxdomain");
        dns0["evidence"] = json!({"resolvers": ["10.0.0.53:53"], "a": [], "aaaa": []});
    } else {
        dns0["outcome"] = json!("resolved");
        dns0["evidence"] =
            json!({"resolvers": ["10.0.0.53:53"], "a": ["203.0.113.10"], "aaaa": []});
    }
    v
}

/// One round: started, each agent reports (blocked or not), then decided.
async fn round(app: &TestApp, admin: &str, id: &str, agents: &[(&Agent, bool)]) {
    let (s, v) = app
        .post(
            &format!("/api/v1/evaluations/{id}/watch/rounds"),
            Auth::Session(admin),
            &json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{v}");
    reported(app, id, agents).await;
}

/// A round under way: each agent reports (blocked or not), then the round is decided.
async fn reported(app: &TestApp, id: &str, agents: &[(&Agent, bool)]) {
    for (agent, blocked) in agents {
        let (s, a) = app
            .get("/api/agent/v1/assignments", Auth::Agent(&agent.credential))
            .await;
        assert_eq!(s, StatusCode::OK);
        let assigned = a["assignments"].as_array().unwrap();
        assert_eq!(
            assigned.len(),
            1,
            "the round assigns the evaluation again: {a}"
        );
        assert!(assigned[0]["round"].is_string(), "{a}");
        assert!(
            assigned[0].get("bandwidth").is_none(),
            "no throughput unless asked"
        );
        let (s, v) = app.submit(agent, &report(agent, *blocked), Some(id)).await;
        assert!(s.is_success(), "{v}");
    }
    // Decided once its agents had their time (collect_s = 1), by the watcher's tick: the
    // latest decided round changes (never thinned away, where counting rounds could be).
    let before = last_decided(app, id).await;
    for _ in 0..100 {
        if last_decided(app, id).await != before {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the round was not decided");
}

/// When the watch's latest round was decided, if one was.
async fn last_decided(app: &TestApp, id: &str) -> Option<String> {
    let admin = app.admin().await;
    let (_, w) = app
        .get(
            &format!("/api/v1/evaluations/{id}/watch"),
            Auth::Session(&admin),
        )
        .await;
    w["watch"]["last_round"]["decided_at"]
        .as_str()
        .map(str::to_owned)
}

/// Waits until the receiver holds `n` messages (the watcher delivers at its next tick).
async fn wait_for(got: &Received, n: usize) -> Vec<(Option<String>, String)> {
    for _ in 0..100 {
        if got.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    got.lock().unwrap().clone()
}

/// Three agents at lincoln whose reports pass, the evaluation approved by all three parties
/// (the administrator named for each), and a watch on it whose rounds wait 1 s for agents.
async fn watched(app: &TestApp, admin: &str) -> (String, Vec<Agent>) {
    let (_, secret) = app.secret(admin).await;
    let agents = futures_agents(app, &secret).await;
    let (id, _) = app.evaluation(admin, &["lincoln"]).await;
    for a in &agents {
        let (s, v) = app.submit(a, &report(a, false), Some(&id)).await;
        assert!(s.is_success(), "{v}");
    }
    let watch = json!({"schedule": "0 7 * * MON-FRI", "zone": "America/Chicago", "collect_s": 1});
    let path = format!("/api/v1/evaluations/{id}/watch");
    let (s, v) = app.post(&path, Auth::Session(admin), &watch).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "not approved yet: {v}");
    let (s, v) = app
        .post(
            "/api/v1/users/admin/approvals",
            Auth::Session(admin),
            &json!({"parties": ["business", "curriculum", "technology"]}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    for party in ["business", "curriculum", "technology"] {
        let (s, v) = app
            .post(
                &format!("/api/v1/evaluations/{id}/approvals"),
                Auth::Session(admin),
                &json!({"party": party, "outcome": "approved"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
    }
    let (s, w) = app.post(&path, Auth::Session(admin), &watch).await;
    assert_eq!(s, StatusCode::CREATED, "{w}");
    assert!(w["watch"]["watched"].as_u64().unwrap() >= 1, "{w}");
    (id, agents)
}

async fn a_regression_alerts_its_cause_and_owner_once_and_resolves(db: Db) {
    let app = spawn_app_with(
        db,
        Limits {
            watch_tick_ms: 100,
            alert_retry_ms: 300,
            ..Limits::default()
        },
    )
    .await;
    let admin = app.admin().await;
    let (url, got, refused) = receiver(1).await;
    let hook = json!({"name": "ops", "kind": "webhook", "url": url, "secret": "k3y"});
    let (s, v) = app
        .post("/api/v1/channels", Auth::Session(&admin), &hook)
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "loopback needs allowing: {v}"
    );
    assert_eq!(v["field"], "url");
    let mut allowed = hook.clone();
    allowed["allow_private"] = json!(true);
    let (s, v) = app
        .post("/api/v1/channels", Auth::Session(&admin), &allowed)
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (id, agents) = watched(&app, &admin).await;
    let (a, b, c) = (&agents[0], &agents[1], &agents[2]);
    // One agent failing alone, twice: recorded, never alerted.
    round(&app, &admin, &id, &[(a, true), (b, false), (c, false)]).await;
    round(&app, &admin, &id, &[(a, true), (b, false), (c, false)]).await;
    assert!(
        wait_for(&got, 1).await.is_empty(),
        "one agent alone raises nothing"
    );
    // Two of three, twice: an alert.
    round(&app, &admin, &id, &[(a, true), (b, true), (c, false)]).await;
    round(&app, &admin, &id, &[(a, true), (b, true), (c, false)]).await;
    // The receiver is down for the first attempt; the controller restarts before the next.
    for _ in 0..100 {
        if *refused.lock().unwrap() == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        *refused.lock().unwrap(),
        1,
        "the first attempt met the receiver down"
    );
    let app = app.restart().await;
    let admin = app.admin().await;
    let sent = wait_for(&got, 1).await;
    assert_eq!(sent.len(), 1, "{sent:?}");
    let (sig, raw) = &sent[0];
    assert_eq!(
        sig.as_deref(),
        fitcheck_controller::notify::webhook::signature("k3y", raw.as_bytes())
            .ok()
            .as_deref(),
        "signed with the channel's key over the bytes sent"
    );
    let body: Value = serde_json::from_str(raw).unwrap();
    assert_eq!(body["kind"], "opened");
    assert_eq!(body["requirement"], "dns[0]");
    assert_eq!(body["sites"], json!(["lincoln"]));
    let summary = body["summary"].as_str().unwrap();
    assert!(
        summary.contains("the DNS filter now blocks kahoot.it at lincoln"),
        "{summary}"
    );
    assert_eq!(body["owner"], "DNS filter administrator");
    assert!(
        summary.contains("a blocking layer not seen at approval: a DNS filter"),
        "no DNS filter blocked anything at approval: {summary}"
    );
    let (_, w) = app
        .get(
            &format!("/api/v1/evaluations/{id}/watch"),
            Auth::Session(&admin),
        )
        .await;
    let open: Vec<&Value> = w["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["resolved_at"].is_null())
        .collect();
    assert_eq!(open.len(), 1, "{w}");
    // The board shows the site regressed, linking to the product's page, which names the
    // cause and owner and links to what the devices saw.
    let board = crate::pages::get(&app, "/watches", Some(&admin)).await;
    crate::pages::assert_html_page(&board, "/watches");
    assert!(
        board.body.contains("class=\"regressed\"")
            && board
                .body
                .contains(&format!("href=\"/watches/{id}#site-lincoln\"")),
        "{}",
        board.body
    );
    let product = crate::pages::get(&app, &format!("/watches/{id}"), Some(&admin)).await;
    crate::pages::assert_html_page(&product, "/watches/{id}");
    assert!(
        product
            .body
            .contains("the DNS filter now blocks kahoot.it at lincoln")
            && product.body.contains("DNS filter administrator")
            && product.body.contains(&format!(
                "/evaluations/{id}/cells?requirement=dns%5B0%5D&amp;site=lincoln"
            )),
        "{}",
        product.body
    );
    // Two clean rounds: resolved, once.
    round(&app, &admin, &id, &[(a, false), (b, false), (c, false)]).await;
    round(&app, &admin, &id, &[(a, false), (b, false), (c, false)]).await;
    let sent = wait_for(&got, 2).await;
    assert_eq!(sent.len(), 2, "{sent:?}");
    let resolved: Value = serde_json::from_str(&sent[1].1).unwrap();
    assert_eq!(resolved["kind"], "resolved");
    assert_ne!(resolved["event_id"], body["event_id"]);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(got.lock().unwrap().len(), 2, "each message once");
    app.stop().await;
}

/// Three agents at lincoln.
async fn futures_agents(app: &TestApp, secret: &str) -> Vec<Agent> {
    let mut out = Vec::new();
    for _ in 0..3 {
        out.push(app.enroll(secret, &[("site", "lincoln")]).await);
    }
    out
}

/// An e-mail channel against a real SMTP server (Debian's aiosmtpd) on loopback: the test send
/// arrives with its subject, and a report's line breaks add no header.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_smtp_channel_delivers_to_a_real_server() {
    let server = std::path::Path::new("/usr/bin/aiosmtpd");
    assert!(
        server.exists(),
        "aiosmtpd is not installed (apt-get install python3-aiosmtpd; .ci/run does)"
    );
    let app = spawn_app_with(
        Db::Sqlite,
        Limits {
            watch_tick_ms: 100,
            alert_retry_ms: 200,
            ..Limits::default()
        },
    )
    .await;
    let admin = app.admin().await;
    let maildir = tempfile::tempdir().unwrap();
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut child = std::process::Command::new(server)
        .args([
            "-n",
            "-l",
            &format!("127.0.0.1:{port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(maildir.path().join("mail"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..100 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let smtp = json!({"host": "127.0.0.1", "port": port, "security": "none",
                      "from": "fitcheck <alerts@district.example>", "to": ["netops@district.example"]});
    let (s, v) = app
        .post(
            "/api/v1/channels",
            Auth::Session(&admin),
            &json!({"name": "netops", "kind": "smtp", "smtp": smtp, "secret": "pw"}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "no password in the clear: {v}"
    );
    let (s, v) = app
        .post(
            "/api/v1/channels",
            Auth::Session(&admin),
            &json!({"name": "netops", "kind": "smtp", "smtp": smtp}),
        )
        .await;
    assert_eq!(
        s,
        StatusCode::UNPROCESSABLE_ENTITY,
        "loopback needs allowing: {v}"
    );
    let (s, v) = app
        .post(
            "/api/v1/channels",
            Auth::Session(&admin),
            &json!({"name": "netops", "kind": "smtp", "smtp": smtp, "allow_private": true}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    let (s, _) = app
        .post(
            &format!("/api/v1/channels/{id}/test"),
            Auth::Session(&admin),
            &json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::ACCEPTED);
    let new = maildir.path().join("mail").join("new");
    let mut mail = String::new();
    for _ in 0..100 {
        if let Some(entry) = std::fs::read_dir(&new).ok().and_then(|mut d| d.next()) {
            mail = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(mail.contains("Subject: Test"), "{mail}");
    assert!(mail.contains("To: netops@district.example"), "{mail}");
    assert!(mail.contains("a test of channel \"netops\""), "{mail}");
    app.stop().await;
}

/// A filter extension's update, sent with a poll, starts a round at once, and the alert it
/// leads to says what changed there.
async fn a_filter_extensions_update_starts_a_round_and_is_named_in_the_alert(db: Db) {
    let app = spawn_app_with(
        db,
        Limits {
            watch_tick_ms: 100,
            ..Limits::default()
        },
    )
    .await;
    let admin = app.admin().await;
    let (id, agents) = watched(&app, &admin).await;
    let securly = |version: &str| {
        json!({"extensions": [{"id": "joflmkccibkooplaeoinecjbmdebglab", "name": "Securly",
                               "version": version, "enabled": true}]})
    };
    let (a, b, c) = (&agents[0], &agents[1], &agents[2]);
    let send = |agent: &Agent, body: Value| {
        let credential = agent.credential.clone();
        let app = &app;
        async move {
            app.post("/api/agent/v1/extensions", Auth::Agent(&credential), &body)
                .await
        }
    };
    let (s, v) = send(
        a,
        json!({"extensions": [{"id": "not-an-id", "name": "x", "version": "1", "enabled": true}]}),
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "extensions[0]");
    // The first list is what the browser had: nothing changed, no round.
    let (s, _) = send(a, securly("2.1")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let under_way = |w: &Value| {
        w["rounds"].as_array().map_or(0, |r| {
            r.iter().filter(|r| r["decided_at"].is_null()).count()
        })
    };
    let (_, w) = app
        .get(
            &format!("/api/v1/evaluations/{id}/watch"),
            Auth::Session(&admin),
        )
        .await;
    assert_eq!(under_way(&w), 0, "{w}");
    round(&app, &admin, &id, &[(a, true), (b, true), (c, false)]).await;
    // The filter updates on one device: a round starts at once.
    let (s, _) = send(a, securly("2.2")).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (_, w) = app
        .get(
            &format!("/api/v1/evaluations/{id}/watch"),
            Auth::Session(&admin),
        )
        .await;
    assert_eq!(under_way(&w), 1, "an update starts a round: {w}");
    reported(&app, &id, &[(a, true), (b, true), (c, false)]).await;
    let (_, w) = app
        .get(
            &format!("/api/v1/evaluations/{id}/watch"),
            Auth::Session(&admin),
        )
        .await;
    let summary = w["alerts"][0]["summary"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(
        summary.contains("the DNS filter now blocks kahoot.it at lincoln")
            && summary.contains(
                "changed meanwhile: the Securly extension updated from 2.1 to 2.2 on 1 device(s)"
            ),
        "{w}"
    );
    app.stop().await;
}

/// The ids of the evaluation's stored reports.
async fn report_ids(app: &TestApp, admin: &str, id: &str) -> std::collections::BTreeSet<String> {
    let (s, v) = app
        .get(
            &format!("/api/v1/evaluations/{id}/reports"),
            Auth::Session(admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .map(|r| r["report_id"].as_str().unwrap().to_owned())
        .collect()
}

/// A school year of rounds would fill the disk with reports nobody reads again: history older
/// than its keeping time is thinned, and the evidence is kept — what came before approval,
/// the round that opened an alert and the reports it was decided on, each device's latest
/// report, the latest round.
async fn history_past_its_keeping_time_is_thinned_and_the_evidence_kept(db: Db) {
    let keep_ms = 3_000;
    let app = spawn_app_with(
        db,
        Limits {
            watch_tick_ms: 100,
            watch_history_ms: keep_ms,
            watch_prune_every_ms: 100,
            ..Limits::default()
        },
    )
    .await;
    let admin = app.admin().await;
    let (id, agents) = watched(&app, &admin).await;
    let (a, b, c) = (&agents[0], &agents[1], &agents[2]);
    let approval = report_ids(&app, &admin, &id).await;
    assert_eq!(approval.len(), 3);
    let mut seen = approval.clone();
    let mut round_reports = Vec::new();
    for blocked in [
        [false; 3],
        [true, true, false],
        [true, true, false],
        [false; 3],
    ] {
        round(
            &app,
            &admin,
            &id,
            &[(a, blocked[0]), (b, blocked[1]), (c, blocked[2])],
        )
        .await;
        let now = report_ids(&app, &admin, &id).await;
        round_reports.push(now.difference(&seen).cloned().collect::<Vec<_>>());
        seen.extend(now);
    }
    for r in &round_reports {
        assert_eq!(r.len(), 3, "{round_reports:?}");
    }
    let (_, w) = app
        .get(
            &format!("/api/v1/evaluations/{id}/watch"),
            Auth::Session(&admin),
        )
        .await;
    assert_eq!(w["alerts"].as_array().map(Vec::len), Some(1), "{w}");
    let opened_at = w["alerts"][0]["opened_at"].as_str().unwrap().to_owned();

    // Past the keeping time: the uneventful rounds and their reports go, the evidence stays.
    let decided_rounds = |w: &Value| -> Vec<String> {
        w["rounds"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|r| r["decided_at"].as_str().map(str::to_owned))
            .collect()
    };
    let watch_now = || async {
        app.get(
            &format!("/api/v1/evaluations/{id}/watch"),
            Auth::Session(&admin),
        )
        .await
        .1
    };
    let (mut left, mut w) = (report_ids(&app, &admin, &id).await, watch_now().await);
    for _ in 0..200 {
        if round_reports[..2]
            .iter()
            .flatten()
            .all(|r| !left.contains(r))
            && decided_rounds(&w).len() <= 2
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        left = report_ids(&app, &admin, &id).await;
        w = watch_now().await;
    }
    for r in round_reports[..2].iter().flatten() {
        assert!(
            !left.contains(r),
            "an uneventful round's report {r} was kept: {left:?}"
        );
    }
    for r in approval
        .iter()
        .chain(&round_reports[2])
        .chain(&round_reports[3])
    {
        assert!(left.contains(r), "evidence {r} was removed: {left:?}");
    }
    let decided = decided_rounds(&w);
    assert_eq!(
        decided.len(),
        2,
        "the round that opened the alert and the latest: {w:#}"
    );
    assert!(decided.contains(&opened_at), "{w:#}");
    assert_eq!(w["alerts"].as_array().map(Vec::len), Some(1), "{w}");
    app.stop().await;
}

both!(
    history_past_its_keeping_time_is_thinned_and_the_evidence_kept,
    a_regression_alerts_its_cause_and_owner_once_and_resolves,
    a_filter_extensions_update_starts_a_round_and_is_named_in_the_alert,
);
