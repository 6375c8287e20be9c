//! Who can reach what: every route tried with no credential, a wrong one, a revoked one and
//! another agent's; people's roles; enrollment secrets.

use reqwest::{Method, StatusCode};
use serde_json::json;
use uuid::Uuid;

use crate::both;
use crate::helpers::{Auth, Db, report_for, spawn_app};

/// Agent routes (method, path, body).
fn agent_routes(evaluation: &str) -> Vec<(Method, String, Option<Vec<u8>>)> {
    vec![
        (Method::GET, "/api/agent/v1/assignments".into(), None),
        (
            Method::POST,
            format!("/api/agent/v1/reports?evaluation={evaluation}"),
            Some(b"{}".to_vec()),
        ),
        (
            Method::GET,
            "/api/agent/v1/bandwidth/download?bytes=1000".into(),
            None,
        ),
        (
            Method::POST,
            "/api/agent/v1/bandwidth/upload?session=abc".into(),
            Some(vec![0; 100]),
        ),
    ]
}

/// People's routes (method, path, body, admin only).
pub fn people_routes(
    evaluation: &str,
    profile: &str,
) -> Vec<(Method, String, Option<Vec<u8>>, bool)> {
    let user = br#"{"username":"x","role":"reviewer"}"#.to_vec();
    let secret = br#"{"name":"x"}"#.to_vec();
    vec![
        (Method::GET, "/api/v1/me".into(), None, false),
        (Method::GET, "/api/v1/server".into(), None, false),
        (Method::GET, "/api/v1/users".into(), None, true),
        (Method::POST, "/api/v1/users".into(), Some(user), true),
        (Method::GET, "/api/v1/enrollment-secrets".into(), None, true),
        (
            Method::POST,
            "/api/v1/enrollment-secrets".into(),
            Some(secret),
            true,
        ),
        (
            Method::POST,
            format!("/api/v1/enrollment-secrets/{}/revoke", Uuid::new_v4()),
            None,
            true,
        ),
        (Method::GET, "/api/v1/agents".into(), None, true),
        (
            Method::POST,
            format!("/api/v1/agents/{}/revoke", Uuid::new_v4()),
            None,
            true,
        ),
        (Method::GET, "/api/v1/profiles".into(), None, false),
        (
            Method::POST,
            "/api/v1/profiles".into(),
            Some(b"format = 1".to_vec()),
            true,
        ),
        (
            Method::GET,
            format!("/api/v1/profiles/{profile}"),
            None,
            false,
        ),
        (Method::GET, "/api/v1/evaluations".into(), None, false),
        (
            Method::POST,
            "/api/v1/evaluations".into(),
            Some(b"{}".to_vec()),
            true,
        ),
        (
            Method::GET,
            format!("/api/v1/evaluations/{evaluation}"),
            None,
            false,
        ),
        (
            Method::GET,
            format!("/api/v1/evaluations/{evaluation}/reports"),
            None,
            false,
        ),
        (
            Method::GET,
            format!("/api/v1/reports/{}", Uuid::new_v4()),
            None,
            false,
        ),
        (Method::POST, "/api/v1/logout".into(), None, false),
    ]
}

async fn every_route_checks_its_caller(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let reviewer = app.person(&admin, "committee", "reviewer").await;
    let (_, secret) = app.secret(&admin).await;
    let agent = app.enroll(&secret, &[("site", "lincoln")]).await;
    let revoked = app.enroll(&secret, &[("site", "lincoln")]).await;
    let (evaluation, _) = app.evaluation(&admin, &["lincoln"]).await;
    let (_, profiles) = app.get("/api/v1/profiles", Auth::Session(&admin)).await;
    let profile = profiles[0]["id"].as_str().unwrap().to_owned();
    let (s, _) = app
        .post(
            &format!("/api/v1/agents/{}/revoke", revoked.id),
            Auth::Session(&admin),
            &json!(null),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    for (method, path, body) in agent_routes(&evaluation) {
        for (what, auth) in [
            ("no credential", Auth::None),
            ("a wrong credential", Auth::Agent("fca_not-a-real-one")),
            ("a revoked agent", Auth::Agent(&revoked.credential)),
            ("a person's session", Auth::Session(&admin)),
        ] {
            let (s, v, _) = app.request(method.clone(), &path, auth, body.clone()).await;
            assert_eq!(
                s,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {what}: {v}"
            );
            assert_eq!(v["error"], "unauthorized", "{v}");
        }
        // The right agent gets through authentication (whatever the route then says).
        let (s, v, _) = app
            .request(
                method.clone(),
                &path,
                Auth::Agent(&agent.credential),
                body.clone(),
            )
            .await;
        assert_ne!(s, StatusCode::UNAUTHORIZED, "{method} {path}: {v}");
        assert_ne!(s, StatusCode::FORBIDDEN, "{method} {path}: {v}");
    }

    // The bandwidth endpoint answers agents at the path the agent API names.
    let resp = app
        .client
        .get(format!(
            "{}/api/agent/v1/bandwidth/download?bytes=1000",
            app.base
        ))
        .bearer_auth(&agent.credential)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);
    assert_eq!(resp.bytes().await.unwrap().len(), 1000);

    for (method, path, body, admin_only) in people_routes(&evaluation, &profile) {
        if path.ends_with("/logout") {
            continue;
        }
        for (what, auth) in [
            ("no session", Auth::None),
            ("a wrong session", Auth::Session("fcs_forged")),
            ("an agent credential", Auth::Agent(&agent.credential)),
        ] {
            let (s, v, _) = app.request(method.clone(), &path, auth, body.clone()).await;
            assert_eq!(
                s,
                StatusCode::UNAUTHORIZED,
                "{method} {path} with {what}: {v}"
            );
        }
        let (s, v, _) = app
            .request(
                method.clone(),
                &path,
                Auth::Session(&reviewer),
                body.clone(),
            )
            .await;
        if admin_only {
            assert_eq!(s, StatusCode::FORBIDDEN, "reviewer on {method} {path}: {v}");
        } else {
            assert!(
                s != StatusCode::UNAUTHORIZED && s != StatusCode::FORBIDDEN,
                "reviewer on {method} {path}: {s} {v}"
            );
        }
        let (s, v, _) = app
            .request(method.clone(), &path, Auth::Session(&admin), body.clone())
            .await;
        assert!(
            s != StatusCode::UNAUTHORIZED && s != StatusCode::FORBIDDEN,
            "admin on {method} {path}: {s} {v}"
        );
    }

    // After log-out the session is dead.
    let (s, _) = app
        .post("/api/v1/logout", Auth::Session(&reviewer), &json!(null))
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = app
        .get("/api/v1/evaluations", Auth::Session(&reviewer))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

async fn an_agent_reaches_only_its_own_data(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let a = app.enroll(&secret, &[("site", "lincoln")]).await;
    let b = app.enroll(&secret, &[("site", "lincoln")]).await;
    let elsewhere = app.enroll(&secret, &[("site", "roosevelt")]).await;
    let (evaluation, _) = app.evaluation(&admin, &["lincoln"]).await;

    // B cannot deliver a report in A's name.
    let report = report_for(&a);
    let (s, v) = app.submit(&b, &report, Some(&evaluation)).await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["field"], "agent.agent_id");

    // A report id taken by A cannot be overwritten by B.
    let (s, _) = app.submit(&a, &report, Some(&evaluation)).await;
    assert_eq!(s, StatusCode::CREATED);
    let mut stolen = report.clone();
    stolen["agent"]["agent_id"] = json!(b.id);
    let (s, v) = app.submit(&b, &stolen, Some(&evaluation)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");

    // An agent outside the evaluation's scope neither sees it nor reports to it.
    let (_, v) = app
        .get(
            "/api/agent/v1/assignments",
            Auth::Agent(&elsewhere.credential),
        )
        .await;
    assert_eq!(v["assignments"].as_array().unwrap().len(), 0, "{v}");
    let (s, v) = app
        .submit(&elsewhere, &report_for(&elsewhere), Some(&evaluation))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["field"], "evaluation");

    // Agents read no stored report, their own included.
    let (s, _) = app
        .get(
            &format!("/api/v1/reports/{}", report["report_id"].as_str().unwrap()),
            Auth::Agent(&a.credential),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    app.stop().await;
}

async fn enrollment_secrets_rotate_and_revoke(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (old_id, old) = app.secret(&admin).await;
    let (_, new) = app.secret(&admin).await;
    // Both valid at once.
    app.enroll(&old, &[("site", "lincoln")]).await;
    let kept = app.enroll(&new, &[("site", "lincoln")]).await;
    // Revoking the old one refuses it from then on; agents enrolled with it stay.
    let (s, _) = app
        .post(
            &format!("/api/v1/enrollment-secrets/{old_id}/revoke"),
            Auth::Session(&admin),
            &json!(null),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = app.try_enroll(&old, Uuid::new_v4(), &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED, "{v}");
    assert_eq!(v["field"], "secret");
    let (s, _) = app.try_enroll("fce_made-up", Uuid::new_v4(), &[]).await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    app.enroll(&new, &[]).await;
    let (_, list) = app
        .get("/api/v1/enrollment-secrets", Auth::Session(&admin))
        .await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert!(
        list.iter().all(|s| s.get("secret").is_none()),
        "secrets are shown once only"
    );
    assert_eq!(
        list.iter().filter(|s| s["revoked_at"].is_string()).count(),
        1
    );

    // The same agent id cannot enroll twice (no taking over another agent's identity).
    let (s, v) = app.try_enroll(&new, kept.id, &[]).await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    // Labels are checked.
    let (s, v) = app.try_enroll(&new, Uuid::new_v4(), &[("Site", "x")]).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    assert_eq!(v["field"], "labels.Site");

    // A revoked agent is refused at once.
    let (s, _) = app
        .get("/api/agent/v1/assignments", Auth::Agent(&kept.credential))
        .await;
    assert_eq!(s, StatusCode::OK);
    app.post(
        &format!("/api/v1/agents/{}/revoke", kept.id),
        Auth::Session(&admin),
        &json!(null),
    )
    .await;
    let (s, v) = app
        .get("/api/agent/v1/assignments", Auth::Agent(&kept.credential))
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert!(v["message"].as_str().unwrap().contains("revoked"), "{v}");
    app.stop().await;
}

async fn people_log_in_with_their_password(db: Db) {
    let app = spawn_app(db).await;
    assert!(
        !app.admin_password.is_empty(),
        "first start prints a password"
    );
    assert_eq!(
        app.login("admin", "wrong-password").await,
        Err(StatusCode::UNAUTHORIZED)
    );
    assert_eq!(
        app.login("nobody", &app.admin_password).await,
        Err(StatusCode::UNAUTHORIZED)
    );
    let admin = app.admin().await;
    let (s, me) = app.get("/api/v1/me", Auth::Session(&admin)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        me,
        json!({"username": "admin", "role": "admin", "password_change_required": false})
    );
    let (s, v) = app
        .post(
            "/api/v1/users",
            Auth::Session(&admin),
            &json!({"username": "x", "role": "superuser"}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(v["field"], "role");
    let (_, info) = app.get("/api/v1/server", Auth::Session(&admin)).await;
    assert_eq!(info["certificate_sha256"], app.fingerprint.as_str());
    // A restart keeps the people and creates no second administrator.
    let app = app.restart().await;
    let admin = app.admin().await;
    let (_, users) = app.get("/api/v1/users", Auth::Session(&admin)).await;
    assert_eq!(users.as_array().unwrap().len(), 1);
    app.stop().await;
}

/// Every route the OpenAPI document describes (the router is built from the same table) is
/// tried with no credential and with the wrong kind of caller.
async fn every_described_route_refuses_the_wrong_caller(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let reviewer = app.person(&admin, "committee", "reviewer").await;
    let (_, secret) = app.secret(&admin).await;
    let agent = app.enroll(&secret, &[("site", "lincoln")]).await;
    let (s, doc) = app.get("/api/openapi.json", Auth::None).await;
    assert_eq!(s, StatusCode::OK);
    let mut tried = 0;
    for (path, methods) in doc["paths"].as_object().unwrap() {
        let concrete = path
            .replace("{id}", &Uuid::new_v4().to_string())
            .replace("{username}", "nobody");
        for (method, op) in methods.as_object().unwrap() {
            let method: Method = method.to_ascii_uppercase().parse().unwrap();
            let caller = op["x-fitcheck-caller"].as_str().unwrap();
            let body = (method != Method::GET).then(|| b"{}".to_vec());
            let wrong: Vec<(&str, Auth, StatusCode)> = match caller {
                "anyone" => continue,
                "agent" => vec![
                    ("no credential", Auth::None, StatusCode::UNAUTHORIZED),
                    (
                        "a person's session",
                        Auth::Session(&admin),
                        StatusCode::UNAUTHORIZED,
                    ),
                ],
                "person" => vec![
                    ("no credential", Auth::None, StatusCode::UNAUTHORIZED),
                    (
                        "an agent's credential",
                        Auth::Agent(&agent.credential),
                        StatusCode::UNAUTHORIZED,
                    ),
                ],
                "admin" => vec![
                    ("no credential", Auth::None, StatusCode::UNAUTHORIZED),
                    (
                        "an agent's credential",
                        Auth::Agent(&agent.credential),
                        StatusCode::UNAUTHORIZED,
                    ),
                    (
                        "a reviewer's session",
                        Auth::Session(&reviewer),
                        StatusCode::FORBIDDEN,
                    ),
                ],
                other => panic!("{method} {path}: unknown caller {other}"),
            };
            for (what, auth, want) in wrong {
                let (s, v, _) = app
                    .request(method.clone(), &concrete, auth, body.clone())
                    .await;
                assert_eq!(s, want, "{method} {path} with {what}: {v}");
                tried += 1;
            }
        }
    }
    assert!(
        tried >= 60,
        "only {tried} attempts: is the document complete?"
    );
    app.stop().await;
}

both!(
    every_route_checks_its_caller,
    an_agent_reaches_only_its_own_data,
    enrollment_secrets_rotate_and_revoke,
    people_log_in_with_their_password,
    every_described_route_refuses_the_wrong_caller,
);
