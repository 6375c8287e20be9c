//! What a bored student or a careless script can send: each case fails without the guard it
//! tests, and leaves nothing changed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::both;
use fitcheck_controller::Limits;

use crate::helpers::{Auth, Db, TestApp, spawn_app, spawn_app_with};

/// A client with no `Origin` of its own: each request says where it comes from, or not.
fn raw_client(app: &TestApp) -> reqwest::Client {
    app.loopback().build().unwrap()
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

/// Every route of the API a person's session may change something with, from the API's own
/// description (so a route added later is tried too): `{id}` is the agent `agent` where the
/// route is an agent's, else a made-up one; `{username}` is `victim`.
async fn people_writes(app: &TestApp, agent: &str) -> Vec<(Method, String, Option<Vec<u8>>)> {
    let (s, doc) = app.get("/api/openapi.json", Auth::None).await;
    assert_eq!(s, StatusCode::OK);
    let mut out = Vec::new();
    for (path, methods) in doc["paths"].as_object().unwrap() {
        for (method, op) in methods.as_object().unwrap() {
            let method: Method = method.to_ascii_uppercase().parse().unwrap();
            let caller = op["x-fitcheck-caller"].as_str().unwrap();
            if method == Method::GET
                || !matches!(caller, "person" | "admin")
                || path.ends_with("/logout")
            {
                continue;
            }
            let id = if path.starts_with("/api/v1/agents/") {
                agent.to_owned()
            } else {
                uuid::Uuid::new_v4().to_string()
            };
            let concrete = path.replace("{id}", &id).replace("{username}", "victim");
            out.push((method, concrete, Some(b"{}".to_vec())));
        }
    }
    out
}

async fn cross_site_requests_with_a_cookie_change_nothing(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let agent = app.enroll(&secret, &[("site", "lincoln")]).await;
    // A person whose role, password or account a forged request would change.
    app.person(&admin, "victim", "reviewer").await;
    let before = state(&app, &admin).await;
    let client = raw_client(&app);
    let cookie = format!("fitcheck_session={admin}");
    let writes = people_writes(&app, &agent.id.to_string()).await;
    for named in [
        "POST /api/v1/me/password",
        "POST /api/v1/users/victim/reset-password",
        "POST /api/v1/users/victim/role",
        "DELETE /api/v1/users/victim",
        format!("POST /api/v1/agents/{}/revoke", agent.id).as_str(),
        "POST /api/v1/sis-summaries",
    ] {
        assert!(
            writes.iter().any(|(m, p, _)| format!("{m} {p}") == named),
            "{named} is not among {writes:?}"
        );
    }
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
    for (method, path, body) in &writes {
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

/// A client whose connections come from `127.0.0.<n>` (the controller listens on 127.0.0.1;
/// the whole 127/8 is this machine's own).
fn client_from(app: &TestApp, n: u8) -> reqwest::Client {
    let mut origin = reqwest::header::HeaderMap::new();
    origin.insert(reqwest::header::ORIGIN, app.base.parse().unwrap());
    app.loopback()
        .local_address(std::net::IpAddr::from([127, 0, 0, n]))
        .default_headers(origin)
        .build()
        .unwrap()
}

async fn log_in(
    app: &TestApp,
    client: &reqwest::Client,
    user: &str,
    password: &str,
) -> (StatusCode, Option<u64>) {
    let resp = client
        .post(format!("{}/api/v1/login", app.base))
        .json(&json!({"username": user, "password": password}))
        .send()
        .await
        .unwrap();
    let retry = resp
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok());
    (resp.status(), retry)
}

async fn log_in_floods_are_budgeted_per_address_and_per_user_name(db: Db) {
    // One attempt back every 1,000 s: however slowly the machine checks passwords, no attempt
    // comes back during the test.
    let app = spawn_app_with(
        db,
        Limits {
            login_per_s_per_address: 0.001,
            login_per_s_per_user: 0.001,
            ..Limits::default()
        },
    )
    .await;
    let admin = app.admin().await;
    let reviewer_pw = app.new_user(&admin, "committee", "reviewer").await;
    let limits = &app.config.limits;
    let per_address = limits.login_burst_per_address as usize;
    let per_user = limits.login_burst_per_user as usize;
    assert!(per_user < per_address);

    // One address guessing many names: its budget runs out, then even a right password waits.
    let guesser = client_from(&app, 2);
    for n in 0..per_address {
        let (s, _) = log_in(&app, &guesser, &format!("guess{n}"), "wrong").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    let (s, retry) = log_in(&app, &guesser, "committee", &reviewer_pw).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.is_some_and(|r| r >= 1), "{retry:?}");
    // Another address is not held back.
    let (s, _) = log_in(&app, &client_from(&app, 3), "committee", &reviewer_pw).await;
    assert_eq!(s, StatusCode::OK);

    // Many addresses guessing one name: the name's budget runs out for everyone.
    for n in 0..per_user {
        let (s, _) = log_in(&app, &client_from(&app, 10 + n as u8), "admin", "wrong").await;
        assert_eq!(s, StatusCode::UNAUTHORIZED, "attempt {n}");
    }
    let (s, retry) = log_in(&app, &client_from(&app, 100), "admin", &app.admin_password).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    assert!(retry.is_some_and(|r| r >= 1), "{retry:?}");
    // Upper and lower case are one name.
    let (s, _) = log_in(&app, &client_from(&app, 101), "ADMIN", &app.admin_password).await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    // Other people still log in; a successful log-in costs nothing.
    for n in 0..(2 * per_user) {
        let (s, _) = log_in(&app, &client_from(&app, 3), "committee", &reviewer_pw).await;
        assert_eq!(s, StatusCode::OK, "log-in {n}");
    }
    app.stop().await;
}

async fn revoking_an_agent_frees_its_id(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let agent = app.enroll(&secret, &[("site", "lincoln")]).await;
    // Enrolled and not revoked: the id is taken.
    let (s, v) = app
        .try_enroll(&secret, agent.id, &[("site", "lincoln")])
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, _) = app
        .get("/api/agent/v1/assignments", Auth::Agent(&agent.credential))
        .await;
    assert_eq!(s, StatusCode::OK, "the first credential still works");

    let (s, _) = app
        .post(
            &format!("/api/v1/agents/{}/revoke", agent.id),
            Auth::Session(&admin),
            &json!(null),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, v) = app
        .try_enroll(&secret, agent.id, &[("site", "roosevelt")])
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let fresh = v["credential"].as_str().unwrap().to_owned();
    assert_ne!(fresh, agent.credential);
    let (s, _) = app
        .get("/api/agent/v1/assignments", Auth::Agent(&agent.credential))
        .await;
    assert_eq!(
        s,
        StatusCode::UNAUTHORIZED,
        "the revoked credential stays refused"
    );
    let (s, _) = app
        .get("/api/agent/v1/assignments", Auth::Agent(&fresh))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, agents) = app.get("/api/v1/agents", Auth::Session(&admin)).await;
    let row = agents
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["agent_id"] == json!(agent.id))
        .unwrap();
    assert!(row["revoked_at"].is_null(), "{row}");
    assert_eq!(row["labels"]["site"], "roosevelt", "{row}");
    app.stop().await;
}

/// A change made to a report before it is sent.
type Change = Box<dyn Fn(&mut Value)>;

async fn reports_that_lie_about_their_agent_are_refused(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let agent = app
        .enroll(&secret, &[("site", "lincoln"), ("group", "lab-a")])
        .await;
    let (evaluation, _) = app.evaluation(&admin, &["lincoln", "roosevelt"]).await;
    let many: serde_json::Map<String, Value> =
        (0..40).map(|n| (format!("k{n}"), json!("v"))).collect();
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "a 1.5 MB version",
            Box::new(|r| r["agent"]["version"] = json!("9".repeat(1_500_000))),
            "agent.version",
        ),
        (
            "a version with control characters",
            Box::new(|r| r["agent"]["version"] = json!("1.0\u{1b}[31m")),
            "agent.version",
        ),
        (
            "40 labels",
            Box::new(move |r| r["agent"]["labels"] = Value::Object(many.clone())),
            "agent.labels",
        ),
        (
            "a label value with a control character",
            Box::new(|r| r["agent"]["labels"]["site"] = json!("lincoln\nroosevelt")),
            "agent.labels.site",
        ),
        (
            "a 1 MB label value",
            Box::new(|r| r["agent"]["labels"]["room"] = json!("x".repeat(1 << 20))),
            "agent.labels.room",
        ),
        (
            "another site than the enrolled one",
            Box::new(|r| r["agent"]["labels"]["site"] = json!("roosevelt")),
            "agent.labels",
        ),
        (
            "a label it did not enroll with",
            Box::new(|r| r["agent"]["labels"]["room"] = json!("101")),
            "agent.labels",
        ),
    ];
    for (what, change, field) in &cases {
        let mut report = crate::helpers::report_for(&agent);
        change(&mut report);
        let (s, v) = app.submit(&agent, &report, Some(&evaluation)).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {v}");
        assert_eq!(v["field"], *field, "{what}: {v}");
        assert!(
            v.to_string().len() < 4096,
            "{what}: the answer does not echo the body"
        );
    }
    assert_eq!(
        crate::ingest::stored_count(&app, &admin, &evaluation).await,
        0,
        "nothing stored"
    );
    // The report as the agent enrolled: stored, with the enrolled labels.
    let report = crate::helpers::report_for(&agent);
    let (s, v) = app.submit(&agent, &report, Some(&evaluation)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, stored) = app
        .get(
            &format!("/api/v1/reports/{}", report["report_id"].as_str().unwrap()),
            Auth::Session(&admin),
        )
        .await;
    assert_eq!(
        stored["agent"]["labels"],
        json!({"site": "lincoln", "group": "lab-a"})
    );
    app.stop().await;
}

async fn markdown_exports_carry_no_markup_from_what_people_typed(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let hostile = "# <script>alert(1)</script>\"'><img src=x onerror=alert(2)> [click](javascript:alert(3)) | &amp;";
    let profile = crate::helpers::kahoot_profile()
        .replace("name = \"Kahoot!\"", &format!("name = {hostile:?}"));
    assert!(
        profile.contains("onerror"),
        "the profile's name was replaced"
    );
    let (s, p) = app.upload_profile(&admin, "kahoot.toml", &profile).await;
    assert!(s.is_success(), "{p}");
    let (s, e) = app
        .post(
            "/api/v1/evaluations",
            Auth::Session(&admin),
            &json!({
                "title": hostile,
                "profile": p["id"],
                "sites": ["lincoln"],
                "window_end": "2099-01-01T00:00:00Z",
                "proposal": {"sponsor": hostile, "data_needs": [hostile]},
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let id = e["id"].as_str().unwrap();
    let client = raw_client(&app);
    for path in [
        format!("/api/v1/evaluations/{id}/recommendation?format=md"),
        format!("/evaluations/{id}/recommendation.md"),
    ] {
        let resp = client
            .get(format!("{}{path}", app.base))
            .header("Cookie", format!("fitcheck_session={admin}"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{path}");
        assert_eq!(
            resp.headers()["x-content-type-options"],
            "nosniff",
            "{path}"
        );
        let text = resp.text().await.unwrap();
        assert!(
            text.contains("onerror"),
            "{path}: the text is there: {text}"
        );
        assert!(!text.contains('<'), "{path}: no raw HTML at all:\n{text}");
        assert!(
            text.match_indices("](")
                .all(|(at, _)| text[..at].ends_with('\\')),
            "{path}: no link:\n{text}"
        );
        assert!(
            text.contains("&amp;amp;"),
            "{path}: an entity typed is shown as typed"
        );
        assert!(
            text.contains("&lt;script&gt;") && text.contains("\\[click\\]"),
            "{path}: shown as text:\n{text}"
        );
    }
    app.stop().await;
}

async fn the_bandwidth_endpoint_moves_no_more_than_an_agent_would(db: Db) {
    let app = spawn_app_with(
        db,
        Limits {
            bandwidth_bytes_per_day: 1 << 20,
            ..Limits::default()
        },
    )
    .await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let agent = app.enroll(&secret, &[("site", "lincoln")]).await;
    let other = app.enroll(&secret, &[("site", "lincoln")]).await;
    let download = |bytes: u64| format!("/api/agent/v1/bandwidth/download?bytes={bytes}");
    // More than an agent ever asks in one request: refused before a byte moves.
    for bytes in [4u64 << 30, (256 << 20) + 1] {
        let (s, _) = app
            .get(&download(bytes), Auth::Agent(&agent.credential))
            .await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{bytes}");
    }
    // Within the day's allowance (1 MiB), then past it.
    let (s, _) = app
        .get(&download(900 << 10), Auth::Agent(&agent.credential))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, _, headers) = app
        .request(
            Method::GET,
            &download(200 << 10),
            Auth::Agent(&agent.credential),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS);
    let retry: u64 = headers["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=86_400).contains(&retry), "until midnight UTC: {retry}");
    // An upload larger than what is left (at most 124 KiB) is cut off where the allowance ends.
    let (s, v, _) = app
        .request(
            Method::POST,
            "/api/agent/v1/bandwidth/upload?session=abc",
            Auth::Agent(&agent.credential),
            Some(vec![0; 150 << 10]),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let received = v["bytes"].as_u64().unwrap();
    assert!(received <= 124 << 10, "received {received}");
    let (s, _, _) = app
        .request(
            Method::POST,
            "/api/agent/v1/bandwidth/upload?session=abc",
            Auth::Agent(&agent.credential),
            Some(vec![0; 1000]),
        )
        .await;
    assert_eq!(s, StatusCode::TOO_MANY_REQUESTS, "nothing left today");
    // Another agent has its own allowance.
    let (s, _) = app
        .get(&download(600 << 10), Auth::Agent(&other.credential))
        .await;
    assert_eq!(s, StatusCode::OK);
    app.stop().await;
}

async fn sessions_end_when_a_password_role_or_person_changes(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let reviewer = app.person(&admin, "committee", "reviewer").await;
    let second = app
        .login("committee", &TestApp::chosen_password("committee"))
        .await
        .unwrap();
    let reads = |s: &str| {
        let s = s.to_owned();
        let app = &app;
        async move { app.get("/api/v1/evaluations", Auth::Session(&s)).await.0 }
    };
    assert_eq!(reads(&reviewer).await, StatusCode::OK);
    assert_eq!(reads(&second).await, StatusCode::OK);

    // A reset ends every session at once; the new password is one-time.
    let (s, v) = app
        .post(
            "/api/v1/users/committee/reset-password",
            Auth::Session(&admin),
            &json!(null),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let one_time = v["password"].as_str().unwrap().to_owned();
    assert_eq!(reads(&reviewer).await, StatusCode::UNAUTHORIZED);
    assert_eq!(reads(&second).await, StatusCode::UNAUTHORIZED);
    let session = app.login("committee", &one_time).await.unwrap();
    let (s, v) = app
        .get("/api/v1/evaluations", Auth::Session(&session))
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["error"], "password_change_required");
    let (s, me) = app.get("/api/v1/me", Auth::Session(&session)).await;
    assert_eq!(
        (s, &me["password_change_required"]),
        (StatusCode::OK, &json!(true))
    );
    let other = app.login("committee", &one_time).await.unwrap();
    // Choosing one's own: the current password is checked, the new one must be long enough.
    let change = |current: &str, new: &str| json!({"current": current, "new": new});
    let (s, v) = app
        .post(
            "/api/v1/me/password",
            Auth::Session(&session),
            &change("wrong", "a long enough new password"),
        )
        .await;
    assert_eq!(
        (s, &v["field"]),
        (StatusCode::FORBIDDEN, &json!("current")),
        "{v}"
    );
    let (s, v) = app
        .post(
            "/api/v1/me/password",
            Auth::Session(&session),
            &change(&one_time, "short"),
        )
        .await;
    assert_eq!(
        (s, &v["field"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("new")),
        "{v}"
    );
    let (s, v) = app
        .post(
            "/api/v1/me/password",
            Auth::Session(&session),
            &change(&one_time, "a long enough new password"),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(
        reads(&session).await,
        StatusCode::OK,
        "the session it was changed from goes on"
    );
    assert_eq!(
        reads(&other).await,
        StatusCode::UNAUTHORIZED,
        "other sessions end"
    );
    assert_eq!(
        app.login("committee", &one_time).await,
        Err(StatusCode::UNAUTHORIZED),
        "the one-time password is spent"
    );

    // A new role ends the sessions; logged in again, the person has it.
    let (s, v) = app
        .post(
            "/api/v1/users/committee/role",
            Auth::Session(&admin),
            &json!({"role": "admin"}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    assert_eq!(reads(&session).await, StatusCode::UNAUTHORIZED);
    let promoted = app
        .login("committee", "a long enough new password")
        .await
        .unwrap();
    let (s, _) = app.get("/api/v1/users", Auth::Session(&promoted)).await;
    assert_eq!(s, StatusCode::OK);

    // Removal ends the sessions and the account.
    let (s, _, _) = app
        .request(
            Method::DELETE,
            "/api/v1/users/committee",
            Auth::Session(&admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_eq!(reads(&promoted).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.login("committee", "a long enough new password").await,
        Err(StatusCode::UNAUTHORIZED)
    );
    let (_, users) = app.get("/api/v1/users", Auth::Session(&admin)).await;
    assert_eq!(users.as_array().unwrap().len(), 1);

    // The last administrator stays one.
    let (s, v) = app
        .post(
            "/api/v1/users/admin/role",
            Auth::Session(&admin),
            &json!({"role": "reviewer"}),
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    let (s, v, _) = app
        .request(
            Method::DELETE,
            "/api/v1/users/admin",
            Auth::Session(&admin),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT, "{v}");
    assert_eq!(reads(&admin).await, StatusCode::OK);
    app.stop().await;
}

async fn a_profile_with_many_errors_is_answered_with_the_first_hundred(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let head = "format = 1\nid = \"dup\"\nname = \"Dup\"\nvendor = \"Lab\"\nreviewed = \"2026-11-23\"\nsources = [\"https://lab.example/\"]\n";
    let n = 20_000;
    let profile = format!("{head}{}", "[[dns]]\nname = \"same.example\"\n".repeat(n));
    let (s, v) = app.upload_profile(&admin, "dup.toml", &profile).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{v}");
    let details = v["details"].as_array().unwrap();
    assert_eq!(details.len(), fitcheck_core::profile::MAX_ERRORS);
    assert_eq!(
        details[0]["line"], 10,
        "the first duplicate, located: {}",
        details[0]
    );
    assert_eq!(details[0]["path"], "dns[1].name");
    let message = v["message"].as_str().unwrap();
    assert!(
        message.contains(&format!("{} error(s) (the first 100 are listed)", n - 1)),
        "{message}"
    );
    // Larger than any real profile: refused before it is parsed.
    let big = format!("{head}{}", "# padding\n".repeat(110_000));
    let (s, v) = app.upload_profile(&admin, "big.toml", &big).await;
    assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE, "{v}");
    let (_, profiles) = app.get("/api/v1/profiles", Auth::Session(&admin)).await;
    assert_eq!(profiles.as_array().unwrap().len(), 0, "nothing stored");
    app.stop().await;
}

both!(
    cross_site_requests_with_a_cookie_change_nothing,
    log_in_floods_are_budgeted_per_address_and_per_user_name,
    revoking_an_agent_frees_its_id,
    reports_that_lie_about_their_agent_are_refused,
    markdown_exports_carry_no_markup_from_what_people_typed,
    the_bandwidth_endpoint_moves_no_more_than_an_agent_would,
    sessions_end_when_a_password_role_or_person_changes,
    a_profile_with_many_errors_is_answered_with_the_first_hundred,
);
