//! Report delivery: stored once however often it arrives, bad input refused with the field
//! named and nothing stored, limits on size and rate.

use fitcheck_controller::Limits;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Auth, Db, report_for, spawn_app, spawn_app_with};

pub async fn stored_count(app: &crate::helpers::TestApp, admin: &str, evaluation: &str) -> usize {
    let (s, v) = app
        .get(
            &format!("/api/v1/evaluations/{evaluation}/reports"),
            Auth::Session(admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array().unwrap().len()
}

async fn a_report_is_stored_once_however_often_it_arrives(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let agent = app.enroll(&secret, &[("site", "lincoln")]).await;
    let (evaluation, _) = app.evaluation(&admin, &["lincoln"]).await;

    let report = report_for(&agent);
    let (s, v) = app.submit(&agent, &report, Some(&evaluation)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["result"], "stored");
    assert_eq!(v["report_id"], report["report_id"]);
    let (s, v) = app.submit(&agent, &report, Some(&evaluation)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(v["result"], "duplicate");

    // Twenty deliveries of one new report at once: one stored, the rest duplicates.
    let again = report_for(&agent);
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let client = app.client.clone();
        let url = format!("{}/api/agent/v1/reports?evaluation={evaluation}", app.base);
        let body = again.to_string();
        let cred = agent.credential.clone();
        tasks.push(tokio::spawn(async move {
            client
                .post(url)
                .bearer_auth(cred)
                .header("Content-Type", "application/json")
                .body(body)
                .send()
                .await
                .unwrap()
                .status()
        }));
    }
    let mut created = 0;
    for t in tasks {
        match t.await.unwrap() {
            StatusCode::CREATED => created += 1,
            StatusCode::OK => {}
            other => panic!("unexpected {other}"),
        }
    }
    assert_eq!(created, 1);
    assert_eq!(stored_count(&app, &admin, &evaluation).await, 2);

    // The stored report reads back as sent.
    let (s, stored) = app
        .get(
            &format!("/api/v1/reports/{}", report["report_id"].as_str().unwrap()),
            Auth::Session(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(stored, report);

    // Reported evaluations are no longer assigned.
    let (_, v) = app
        .get("/api/agent/v1/assignments", Auth::Agent(&agent.credential))
        .await;
    assert_eq!(v["assignments"].as_array().unwrap().len(), 0, "{v}");

    // A report made offline (no evaluation) is accepted too.
    let (s, _) = app.submit(&agent, &report_for(&agent), None).await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, mine) = app
        .get(
            &format!("/api/v1/reports?agent={}", agent.id),
            Auth::Session(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{mine}");
    let mine = mine.as_array().unwrap();
    assert_eq!(mine.len(), 3);
    assert_eq!(
        mine.iter().filter(|r| r["evaluation_id"].is_null()).count(),
        1
    );
    app.stop().await;
}

async fn bad_reports_are_refused_with_the_field_and_nothing_is_stored(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let agent = app.enroll(&secret, &[("site", "lincoln")]).await;
    let (evaluation, _) = app.evaluation(&admin, &["lincoln"]).await;
    let path = format!("/api/agent/v1/reports?evaluation={evaluation}");
    let auth = Auth::Agent(&agent.credential);

    let (s, v, _) = app
        .request(Method::POST, &path, auth, Some(b"{\"schema\": ".to_vec()))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["error"], "malformed_json");

    type Change = Box<dyn Fn(&mut Value)>;
    let cases: Vec<(&str, Change, StatusCode, &str)> = vec![
        (
            "an unknown schema",
            Box::new(|r| r["schema"] = json!("fitcheck.report/v9")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "schema",
        ),
        (
            "an unknown outcome",
            // Results are tagged by their kind, so the path stops at the result; the message
            // names the word and the ones allowed.
            Box::new(|r| r["results"][3]["outcome"] = json!("exploded")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "results[3]",
        ),
        (
            "an unknown field",
            Box::new(|r| r["device"]["memory"]["serial_number"] = json!("X1")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "device.memory.serial_number",
        ),
        (
            "a missing field",
            Box::new(|r| {
                r.as_object_mut().unwrap().remove("report_id");
            }),
            StatusCode::UNPROCESSABLE_ENTITY,
            "",
        ),
        (
            "a bad time",
            Box::new(|r| r["started_at"] = json!("yesterday")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "started_at",
        ),
        (
            "another profile",
            Box::new(|r| r["profile"]["digest"] = json!("sha256:00")),
            StatusCode::UNPROCESSABLE_ENTITY,
            "profile.digest",
        ),
    ];
    for (what, change, status, field) in cases {
        let mut r = report_for(&agent);
        change(&mut r);
        let (s, v) = app.post(&path, auth, &r).await;
        assert_eq!(s, status, "{what}: {v}");
        if field.is_empty() {
            assert!(
                v["message"].as_str().unwrap().contains("report_id"),
                "{what}: {v}"
            );
        } else {
            assert_eq!(v["field"], field, "{what}: {v}");
        }
        assert!(!v["message"].as_str().unwrap().is_empty());
    }
    let (s, v) = app
        .post(
            "/api/agent/v1/reports?evaluation=not-a-uuid",
            auth,
            &report_for(&agent),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert_eq!(v["field"], "evaluation");
    let (s, v) = app
        .post(
            &format!("/api/agent/v1/reports?evaluation={}", uuid::Uuid::new_v4()),
            auth,
            &report_for(&agent),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(stored_count(&app, &admin, &evaluation).await, 0);
    app.stop().await;
}

async fn oversized_bodies_get_413(db: Db) {
    let app = spawn_app_with(
        db,
        Limits {
            max_body_bytes: 4096,
            ..Limits::default()
        },
    )
    .await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let agent = app.enroll(&secret, &[("site", "lincoln")]).await;
    let (evaluation, _) = app.evaluation(&admin, &["lincoln"]).await;
    let report = report_for(&agent);
    assert!(report.to_string().len() > 4096);
    let (s, v) = app.submit(&agent, &report, Some(&evaluation)).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    assert_eq!(v["error"], "too_large");
    // Streamed without a length, it is cut off at the limit all the same.
    let chunks: Vec<Result<Vec<u8>, std::io::Error>> = (0..3)
        .map(|_| Ok(report.to_string().into_bytes()))
        .collect();
    let resp = app
        .client
        .post(format!(
            "{}/api/agent/v1/reports?evaluation={evaluation}",
            app.base
        ))
        .bearer_auth(&agent.credential)
        .body(reqwest::Body::wrap_stream(futures_util::stream::iter(
            chunks,
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(stored_count(&app, &admin, &evaluation).await, 0);
    app.stop().await;
}

async fn an_agent_over_its_budget_gets_429_with_retry_after(db: Db) {
    let app = spawn_app_with(
        db,
        // One token back every 1,000 s: however slowly the machine serves the first three
        // requests, none comes back before the fourth.
        Limits {
            agent_requests_per_s: 0.001,
            agent_burst: 3,
            ..Limits::default()
        },
    )
    .await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let agent = app.enroll(&secret, &[]).await;
    let other = app.enroll(&secret, &[]).await;
    for _ in 0..3 {
        let (s, _) = app
            .get("/api/agent/v1/assignments", Auth::Agent(&agent.credential))
            .await;
        assert_eq!(s, StatusCode::OK);
    }
    let (s, v, headers) = app
        .request(
            Method::GET,
            "/api/agent/v1/assignments",
            Auth::Agent(&agent.credential),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "{v}");
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=1_000).contains(&retry), "Retry-After {retry}");
    // Another agent is not held back.
    let (s, _) = app
        .get("/api/agent/v1/assignments", Auth::Agent(&other.credential))
        .await;
    assert_eq!(s, StatusCode::OK);
    app.stop().await;
}

/// Several controllers share one PostgreSQL: a session, an agent and a report are the same
/// whichever controller they reach.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn controllers_sharing_one_postgres_store_a_report_once() {
    let a = spawn_app(Db::Postgres).await;
    let b = a.sibling().await;
    assert_ne!(a.fingerprint, b.fingerprint, "each has its own certificate");
    let admin = a.admin().await;
    let (_, secret) = a.secret(&admin).await;
    let agent = a.enroll(&secret, &[("site", "lincoln")]).await;
    // b knows the agent a enrolled and the session a opened.
    let (s, _) = b
        .get("/api/agent/v1/assignments", Auth::Agent(&agent.credential))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = b.get("/api/v1/evaluations", Auth::Session(&admin)).await;
    assert_eq!(s, StatusCode::OK);
    let (evaluation, _) = a.evaluation(&admin, &["lincoln"]).await;
    for _ in 0..10 {
        let report = report_for(&agent);
        let (ra, rb) = tokio::join!(
            a.submit(&agent, &report, Some(&evaluation)),
            b.submit(&agent, &report, Some(&evaluation)),
        );
        let mut results = [ra.1["result"].clone(), rb.1["result"].clone()];
        results.sort_by_key(|v| v.to_string());
        assert_eq!(
            results,
            [json!("duplicate"), json!("stored")],
            "{ra:?} {rb:?}"
        );
    }
    assert_eq!(stored_count(&b, &admin, &evaluation).await, 10);
    b.stop().await;
    a.stop().await;
}

/// Two agents deliver reports with one report_id, many times at once. Whichever delivery
/// commits first owns the id, whichever agent sent it: exactly one delivery is answered 201, the
/// winner's other deliveries 200 (duplicate), every delivery by the other agent 409, and the
/// stored body is the winner's. Both agents are recorded as seen a few seconds later.
async fn a_report_id_belongs_to_one_agent_and_deliveries_mark_agents_seen(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let first = app.enroll(&secret, &[("site", "lincoln")]).await;
    let second = app.enroll(&secret, &[("site", "lincoln")]).await;
    let (evaluation, _) = app.evaluation(&admin, &["lincoln"]).await;
    let enrolled = last_seen(&app, &admin).await;
    // Times are in milliseconds: let the clock move past enrollment.
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    let bodies = {
        let first_body = report_for(&first);
        let mut second_body = first_body.clone();
        second_body["agent"]["agent_id"] = json!(second.id);
        [first_body, second_body]
    };
    let report_id = bodies[0]["report_id"].as_str().unwrap().to_owned();
    let mut tasks = Vec::new();
    for round in 0..12 {
        for (who, agent) in [&first, &second].into_iter().enumerate() {
            let client = app.client.clone();
            let url = format!("{}/api/agent/v1/reports?evaluation={evaluation}", app.base);
            let body = bodies[who].to_string();
            let cred = agent.credential.clone();
            tasks.push(tokio::spawn(async move {
                let status = client
                    .post(url)
                    .bearer_auth(cred)
                    .header("Content-Type", "application/json")
                    .body(body)
                    .send()
                    .await
                    .unwrap()
                    .status();
                (round, who, status)
            }));
        }
    }
    // Statuses by agent (0 = first, 1 = second), in the order the tasks were started.
    let mut answers: [Vec<(usize, StatusCode)>; 2] = [Vec::new(), Vec::new()];
    for task in tasks {
        let (round, who, status) = task.await.unwrap();
        answers[who].push((round, status));
    }
    let created: Vec<usize> = (0..2)
        .filter(|&who| answers[who].iter().any(|(_, s)| *s == StatusCode::CREATED))
        .collect();
    let [winner] = created[..] else {
        panic!("exactly one agent's delivery must be answered 201: {answers:?}");
    };
    let loser = 1 - winner;
    let winner_created = answers[winner]
        .iter()
        .filter(|(_, s)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(winner_created, 1, "one 201 in all: {answers:?}");
    for (round, status) in &answers[winner] {
        assert!(
            [StatusCode::CREATED, StatusCode::OK].contains(status),
            "round {round}: the owner's re-delivery must be 200, got {status}: {answers:?}"
        );
    }
    for (round, status) in &answers[loser] {
        assert_eq!(
            *status,
            StatusCode::CONFLICT,
            "round {round}: the other agent's delivery must be 409: {answers:?}"
        );
    }
    assert_eq!(stored_count(&app, &admin, &evaluation).await, 1);
    let (s, stored) = app
        .get(
            &format!("/api/v1/reports/{report_id}"),
            Auth::Session(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(stored, bodies[winner], "the stored body is the winner's");

    // last_seen is gathered and written every 5 s, not with each request. Wait for it; the bound
    // is many flush periods, only there so a broken writer ends the test instead of hanging it.
    let ids = [first.id.to_string(), second.id.to_string()];
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let seen = last_seen(&app, &admin).await;
        if ids.iter().all(|id| seen[id] > enrolled[id]) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "agents not marked seen after 120 s (the writer flushes every 5 s): {seen:?} (enrolled {enrolled:?})"
        );
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    app.stop().await;
}

/// Each agent's last_seen_at, in Unix milliseconds.
async fn last_seen(
    app: &crate::helpers::TestApp,
    admin: &str,
) -> std::collections::HashMap<String, i64> {
    let (s, v) = app.get("/api/v1/agents", Auth::Session(admin)).await;
    assert_eq!(s, StatusCode::OK, "{v}");
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let at = a["last_seen_at"].as_str().unwrap();
            let at = fitcheck_controller::clock::parse_rfc3339(at).unwrap();
            (a["agent_id"].as_str().unwrap().to_owned(), at)
        })
        .collect()
}

both!(
    a_report_is_stored_once_however_often_it_arrives,
    a_report_id_belongs_to_one_agent_and_deliveries_mark_agents_seen,
    bad_reports_are_refused_with_the_field_and_nothing_is_stored,
    oversized_bodies_get_413,
    an_agent_over_its_budget_gets_429_with_retry_after,
);
