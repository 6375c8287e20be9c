//! Profiles through the API (the same errors as the command line) and evaluations: scope,
//! assignments, progress.

use reqwest::StatusCode;
use serde_json::json;

use crate::both;
use crate::helpers::{Auth, Db, kahoot_profile, report_for, spawn_app};

async fn profiles_are_validated_with_the_command_lines_errors(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (s, first) = app
        .upload_profile(&admin, "kahoot.toml", &kahoot_profile())
        .await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    assert_eq!(first["profile_id"], "kahoot");
    assert_eq!(
        first["digest"].as_str().unwrap(),
        fitcheck_core::digest(kahoot_profile().as_bytes())
    );
    let (s, again) = app
        .upload_profile(&admin, "kahoot.toml", &kahoot_profile())
        .await;
    assert_eq!(s, StatusCode::OK, "the same file again is the same profile");
    assert_eq!(again["id"], first["id"]);
    let (s, text) = app
        .get(
            &format!("/api/v1/profiles/{}", first["id"].as_str().unwrap()),
            Auth::Session(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(text.as_str().unwrap(), kahoot_profile());

    // Every golden broken profile gets exactly the messages `profile check` prints.
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/data/bad");
    let mut checked = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let name = format!(
            "tests/data/bad/{}",
            path.file_name().unwrap().to_string_lossy()
        );
        let text = std::fs::read_to_string(&path).unwrap();
        let want = std::fs::read_to_string(path.with_extension("err")).unwrap();
        let (s, v) = app.upload_profile(&admin, &name, &text).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{name}: {v}");
        assert_eq!(v["error"], "invalid_profile");
        let got: String = v["details"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| format!("{}\n", d["message"].as_str().unwrap()))
            .collect();
        assert_eq!(got, want, "{name}");
        for d in v["details"].as_array().unwrap() {
            assert!(d["line"].as_u64().unwrap() >= 1, "{name}: {d}");
        }
        checked += 1;
    }
    assert!(checked >= 15);
    let (_, list) = app.get("/api/v1/profiles", Auth::Session(&admin)).await;
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "nothing of a bad profile is kept"
    );
    app.stop().await;
}

async fn evaluations_reach_the_agents_in_scope(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let lincoln_lab = app
        .enroll(&secret, &[("site", "lincoln"), ("group", "lab")])
        .await;
    let lincoln_office = app
        .enroll(&secret, &[("site", "lincoln"), ("group", "office")])
        .await;
    let roosevelt = app
        .enroll(&secret, &[("site", "roosevelt"), ("group", "lab")])
        .await;
    let (s, p) = app
        .upload_profile(&admin, "kahoot.toml", &kahoot_profile())
        .await;
    assert!(s.is_success());

    let bad = [
        (
            json!({"title": "x", "profile": "nope", "window_end": "2099-01-01T00:00:00Z"}),
            "profile",
        ),
        (
            json!({"title": "x", "profile": p["id"], "window_end": "soon"}),
            "window_end",
        ),
        (
            json!({"title": "x", "profile": p["id"], "window_start": "2099-01-02T00:00:00Z", "window_end": "2099-01-01T00:00:00Z"}),
            "window_end",
        ),
        (
            json!({"title": "x", "profile": p["id"], "sites": ["lincoln"], "concurrent_users": {"roosevelt": 30}, "window_end": "2099-01-01T00:00:00Z"}),
            "concurrent_users.roosevelt",
        ),
        (
            json!({"title": "x", "profile": p["id"], "window_end": "2099-01-01T00:00:00Z", "os_updates_end": {"Acme Chromebook 3": "June 2024"}}),
            "os_updates_end.Acme Chromebook 3",
        ),
        (
            json!({"title": "x", "profile": p["id"], "window_end": "2099-01-01T00:00:00Z", "bandwidth": {"max_seconds": 60}}),
            "bandwidth.max_seconds",
        ),
        (
            json!({"title": "x", "profile": p["id"], "window_end": "2099-01-01T00:00:00Z", "colour": "red"}),
            "",
        ),
    ];
    for (body, field) in bad {
        let (s, v) = app
            .post("/api/v1/evaluations", Auth::Session(&admin), &body)
            .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}: {v}");
        if !field.is_empty() {
            assert_eq!(v["field"], field, "{v}");
        }
    }

    let (s, e) = app
        .post(
            "/api/v1/evaluations",
            Auth::Session(&admin),
            &json!({
                "title": "Kahoot! in the labs",
                "profile": p["id"],
                "sites": ["lincoln", "roosevelt"],
                "groups": ["lab"],
                "concurrent_users": {"lincoln": 300, "roosevelt": 120},
                "window_end": "2099-01-01T00:00:00Z",
                "bandwidth": {
                    "start_at": "2098-06-01T10:00:00Z",
                    "site_start_at": {"roosevelt": "2098-06-01T11:00:00Z"}
                },
                "proposal": {"sponsor": "Grade 6 math", "budget_code": "IT-2026-14"}
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let id = e["id"].as_str().unwrap();
    assert_eq!(e["open"], true);
    assert_eq!(e["agents_by_site"], json!({"lincoln": 1, "roosevelt": 1}));
    assert_eq!(e["spec"]["proposal"]["budget_code"], "IT-2026-14");

    let (_, v) = app
        .get(
            "/api/agent/v1/assignments",
            Auth::Agent(&lincoln_lab.credential),
        )
        .await;
    let a = &v["assignments"][0];
    assert_eq!(a["evaluation_id"], id);
    assert_eq!(a["profile_toml"].as_str().unwrap(), kahoot_profile());
    assert_eq!(a["profile_digest"], p["digest"]);
    assert_eq!(a["bandwidth"]["start_at"], "2098-06-01T10:00:00Z");
    assert_eq!(a["bandwidth"]["controller_endpoint"], true);
    let (_, v) = app
        .get(
            "/api/agent/v1/assignments",
            Auth::Agent(&roosevelt.credential),
        )
        .await;
    assert_eq!(
        v["assignments"][0]["bandwidth"]["start_at"], "2098-06-01T11:00:00Z",
        "a site's own moment wins"
    );
    let (_, v) = app
        .get(
            "/api/agent/v1/assignments",
            Auth::Agent(&lincoln_office.credential),
        )
        .await;
    assert_eq!(
        v["assignments"].as_array().unwrap().len(),
        0,
        "office is not in scope"
    );

    let (s, _) = app
        .submit(&lincoln_lab, &report_for(&lincoln_lab), Some(id))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, e) = app
        .get(&format!("/api/v1/evaluations/{id}"), Auth::Session(&admin))
        .await;
    assert_eq!(e["reports_by_site"], json!({"lincoln": 1}));

    // The committee's document, as of now: one device at lincoln is too few to judge it.
    let (s, rec) = app
        .get(
            &format!("/api/v1/evaluations/{id}/recommendation"),
            Auth::Session(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{rec}");
    assert_eq!(rec["schema"], "fitcheck.recommendation/v1");
    assert_eq!(rec["verdict"], "insufficient_evidence");
    assert_eq!(rec["evaluation"]["proposal"]["budget_code"], "IT-2026-14");
    let gaps = rec["gaps"].to_string();
    assert!(gaps.contains("lincoln: 1 device(s) reported"), "{gaps}");
    assert!(gaps.contains("roosevelt: no device has reported"), "{gaps}");
    let (s, md) = app
        .get(
            &format!("/api/v1/evaluations/{id}/recommendation?format=md"),
            Auth::Session(&admin),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        md.as_str()
            .unwrap()
            .contains("**Verdict: Insufficient evidence**"),
        "{md}"
    );

    // A closed window hands out nothing.
    let (s, closed) = app
        .post(
            "/api/v1/evaluations",
            Auth::Session(&admin),
            &json!({"title": "Old", "profile": p["id"], "window_start": "2020-01-01T00:00:00Z", "window_end": "2020-02-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(closed["open"], false);
    let (_, v) = app
        .get(
            "/api/agent/v1/assignments",
            Auth::Agent(&lincoln_office.credential),
        )
        .await;
    assert_eq!(v["assignments"].as_array().unwrap().len(), 0);
    app.stop().await;
}

async fn operations_endpoints_answer(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let agent = app.enroll(&secret, &[("site", "lincoln")]).await;
    let (evaluation, _) = app.evaluation(&admin, &["lincoln"]).await;
    app.submit(&agent, &report_for(&agent), Some(&evaluation))
        .await;
    let r = report_for(&agent);
    app.submit(&agent, &r, Some(&evaluation)).await;
    app.submit(&agent, &r, Some(&evaluation)).await;

    let (s, body) = app.get("/healthz", Auth::None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let (s, text) = app.get("/metrics", Auth::None).await;
    assert_eq!(s, StatusCode::OK);
    let text = text.as_str().unwrap();
    for line in [
        "fitcheck_reports_ingested_total{result=\"stored\"} 2",
        "fitcheck_reports_ingested_total{result=\"duplicate\"} 1",
        "fitcheck_agents_enrolled 1",
        "fitcheck_agents_seen 1",
    ] {
        assert!(text.contains(line), "missing {line:?} in\n{text}");
    }
    assert!(
        text.contains("fitcheck_http_request_duration_seconds_count{route=\"/api/agent/v1/reports\",method=\"POST\",status=\"201\"} 2"),
        "{text}"
    );

    let (s, doc) = app.get("/api/openapi.json", Auth::None).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(doc["openapi"], "3.0.3");
    for path in [
        "/api/agent/v1/enroll",
        "/api/agent/v1/assignments",
        "/api/agent/v1/reports",
        "/api/v1/login",
        "/api/v1/profiles",
        "/api/v1/evaluations",
        "/api/v1/evaluations/{id}/reports",
        "/api/v1/evaluations/{id}/recommendation",
        "/api/v1/reports",
        "/api/v1/me/password",
        "/api/v1/users/{username}",
        "/api/v1/users/{username}/role",
        "/api/v1/users/{username}/reset-password",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    let schema = &doc["components"]["schemas"]["Report"];
    assert!(schema["properties"]["report_id"].is_object(), "{schema}");
    // Every reference points at a schema that is there.
    let text = doc.to_string();
    for piece in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = &piece[..piece.find('"').unwrap()];
        assert!(
            doc["components"]["schemas"][name].is_object(),
            "dangling $ref {name}"
        );
    }
    let (s, v) = app.get("/no/such/route", Auth::None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert_eq!(v["error"], "not_found");
    app.stop().await;
}

/// A browser agent plans nothing itself: its assignment carries the checks core plans for the
/// profile, the ones the native agent runs; a native agent plans from the text it validates.
async fn a_browser_agents_assignment_carries_cores_plan(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let native = app.enroll(&secret, &[("site", "lincoln")]).await;
    let (s, b) = app
        .post(
            "/api/agent/v1/enroll",
            Auth::None,
            &json!({"secret": secret, "agent_id": uuid::Uuid::new_v4(),
                    "labels": {"site": "lincoln"}, "version": "0.1.0", "kind": "browser"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    // Each poll wakes a browser agent's worker on a student's device: browser agents are told
    // the browsers' interval, native agents the native one.
    assert_eq!(b["poll_interval_s"], 300, "{b}");
    app.evaluation(&admin, &["lincoln"]).await;
    let profile = fitcheck_core::profile::Profile::parse("kahoot.toml", &kahoot_profile()).unwrap();
    let planned = fitcheck_core::plan::plan(&profile);
    assert!(!planned.is_empty());
    let (_, a) = app
        .get(
            "/api/agent/v1/assignments",
            Auth::Agent(b["credential"].as_str().unwrap()),
        )
        .await;
    assert_eq!(a["assignments"][0]["plan"], json!(planned), "{a}");
    assert_eq!(a["poll_interval_s"], 300, "{a}");
    let (_, a) = app
        .get("/api/agent/v1/assignments", Auth::Agent(&native.credential))
        .await;
    assert_eq!(a["assignments"][0].get("plan"), None, "{a}");
    assert_eq!(a["poll_interval_s"], 60, "{a}");
    app.stop().await;
}

/// The committee's decision: only the person the administrator named for a party records its
/// decision; Technology cites the recommendation; all three approving makes the product
/// approved; a later decline undoes it, and the history keeps every decision.
async fn the_committee_decides_party_by_party(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (id, _) = app.evaluation(&admin, &["lincoln"]).await;
    let bea = app.person(&admin, "bea", "reviewer").await;
    let cam = app.person(&admin, "cam", "reviewer").await;
    for (who, parties) in [
        ("bea", json!(["business"])),
        ("cam", json!(["curriculum"])),
        ("admin", json!(["technology"])),
    ] {
        let (s, v) = app
            .post(
                &format!("/api/v1/users/{who}/approvals"),
                Auth::Session(&admin),
                &json!({ "parties": parties }),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    }
    let path = format!("/api/v1/evaluations/{id}/approvals");
    let decide = |party: &str, outcome: &str, note: &str| json!({"party": party, "outcome": outcome, "note": note});
    let (s, v) = app
        .post(
            &path,
            Auth::Session(&bea),
            &decide("curriculum", "approved", ""),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    assert_eq!(v["field"], "party");
    let (s, v) = app
        .post(
            &path,
            Auth::Session(&bea),
            &decide("business", "approved", "fits the budget"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["approved"], false);
    let (s, v) = app
        .post(
            &path,
            Auth::Session(&cam),
            &decide("curriculum", "approved_with_conditions", "grades 6-8 only"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (s, bad) = app
        .post(
            &path,
            Auth::Session(&admin),
            &decide("technology", "approved", "ok\u{1b}[2J"),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["field"], "note");
    let (s, v) = app
        .post(
            &path,
            Auth::Session(&admin),
            &decide("technology", "approved", "as recommended"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["approved"], true, "{v}");
    let tech = &v["approvals"][2];
    assert_eq!(tech["party"], "technology");
    assert_eq!(tech["decided_by"], "admin");
    assert!(
        tech["recommendation"]["digest"]
            .as_str()
            .is_some_and(|d| d.starts_with("sha256:")),
        "{tech}"
    );
    assert!(
        tech["recommendation"]["verdict"]
            .as_str()
            .is_some_and(|v| !v.is_empty())
    );
    assert_eq!(v["approvals"][1]["note"], "grades 6-8 only");
    let (s, v) = app
        .post(
            &path,
            Auth::Session(&bea),
            &decide("business", "declined", "no budget after all"),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["approved"], false, "a decline undoes the approval");
    assert_eq!(v["history"].as_array().map(Vec::len), Some(4), "{v}");
    assert_eq!(v["approvals"][0]["outcome"], "declined");
    let (_, info) = app
        .get(&format!("/api/v1/evaluations/{id}"), Auth::Session(&cam))
        .await;
    assert_eq!(
        info["decision"]["approvals"].as_array().map(Vec::len),
        Some(3)
    );
    let (s, _) = app
        .post(
            "/api/v1/users/nobody/approvals",
            Auth::Session(&admin),
            &json!({"parties": ["business"]}),
        )
        .await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    app.stop().await;
}

both!(
    the_committee_decides_party_by_party,
    profiles_are_validated_with_the_command_lines_errors,
    evaluations_reach_the_agents_in_scope,
    operations_endpoints_answer,
    a_browser_agents_assignment_carries_cores_plan,
);
