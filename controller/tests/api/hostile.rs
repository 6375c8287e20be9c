//! What a bored student or a careless script can send: each case fails without the guard it
//! tests, and leaves nothing changed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::access::people_routes;
use crate::both;
use crate::helpers::{Auth, Db, TestApp, loopback_client, spawn_app};

/// A client with no `Origin` of its own: each request says where it comes from, or not.
fn raw_client(app: &TestApp) -> reqwest::Client {
    let cert = std::fs::read(app.config.data_dir.join("tls/cert.pem")).unwrap();
    let port = app.base.rsplit(':').next().unwrap().parse().unwrap();
    loopback_client(&cert, port).build().unwrap()
}

/// What the people's API holds that a cross-site request could change.
async fn state(app: &TestApp, admin: &str) -> Value {
    let mut all = serde_json::Map::new();
    for path in [
        "/api/v1/users",
        "/api/v1/enrollment-secrets",
        "/api/v1/agents",
        "/api/v1/profiles",
        "/api/v1/evaluations",
    ] {
        let (s, v) = app.get(path, Auth::Session(admin)).await;
        assert_eq!(s, StatusCode::OK, "{path}: {v}");
        all.insert(path.to_owned(), v);
    }
    Value::Object(all)
}

async fn cross_site_requests_with_a_cookie_change_nothing(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let agent = app.enroll(&secret, &[("site", "lincoln")]).await;
    let (evaluation, _) = app.evaluation(&admin, &["lincoln"]).await;
    let (_, profiles) = app.get("/api/v1/profiles", Auth::Session(&admin)).await;
    let profile = profiles[0]["id"].as_str().unwrap().to_owned();
    let before = state(&app, &admin).await;
    let client = raw_client(&app);
    let cookie = format!("fitcheck_session={admin}");

    let mut routes = people_routes(&evaluation, &profile);
    // The agent that exists, so that a revocation would change something.
    routes.push((
        Method::POST,
        format!("/api/v1/agents/{}/revoke", agent.id),
        None,
        true,
    ));
    let writes: Vec<_> = routes
        .into_iter()
        .filter(|(m, p, _, _)| *m != Method::GET && !p.ends_with("/logout"))
        .collect();
    assert!(writes.len() >= 6, "{writes:?}");
    let own = app.base.clone();
    let cases: [(&str, Option<&str>, &str, StatusCode); 4] = [
        (
            "another site's page, JSON",
            Some("https://evil.example"),
            "application/json",
            StatusCode::FORBIDDEN,
        ),
        (
            "a sibling host of the district",
            Some("https://www.district.test"),
            "application/json",
            StatusCode::FORBIDDEN,
        ),
        (
            "no origin at all",
            None,
            "application/json",
            StatusCode::FORBIDDEN,
        ),
        (
            "this server, but text/plain (what a form can send)",
            Some(own.as_str()),
            "text/plain",
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ];
    for (method, path, body, _) in &writes {
        for (what, origin, content_type, want) in &cases {
            let mut req = client
                .request(method.clone(), format!("{}{path}", app.base))
                .header("Cookie", &cookie)
                .header("Content-Type", *content_type)
                .body(body.clone().unwrap_or_default());
            if let Some(o) = origin {
                req = req.header("Origin", *o);
            }
            let resp = req.send().await.unwrap();
            let status = resp.status();
            let v: Value = resp.json().await.unwrap_or(Value::Null);
            assert_eq!(status, *want, "{method} {path} from {what}: {v}");
        }
    }
    // A form-like request without any content type.
    let resp = client
        .post(format!("{}/api/v1/agents/{}/revoke", app.base, agent.id))
        .header("Cookie", &cookie)
        .header("Origin", &own)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(state(&app, &admin).await, before, "nothing changed");

    // Log-in from another site: refused, and no cookie set.
    let resp = client
        .post(format!("{}/api/v1/login", app.base))
        .header("Origin", "https://evil.example")
        .json(&json!({"username": "admin", "password": app.admin_password}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    assert!(resp.headers().get("set-cookie").is_none());

    // The same requests from this server's own pages go through.
    let resp = client
        .post(format!("{}/api/v1/agents/{}/revoke", app.base, agent.id))
        .header("Cookie", &cookie)
        .header("Origin", &own)
        .header("Content-Type", "application/json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::NO_CONTENT);
    let resp = client
        .post(format!("{}/api/v1/enrollment-secrets", app.base))
        .header("Cookie", &cookie)
        .header("Sec-Fetch-Site", "same-origin")
        .json(&json!({"name": "from the page"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::CREATED);
    app.stop().await;
}

both!(cross_site_requests_with_a_cookie_change_nothing);
