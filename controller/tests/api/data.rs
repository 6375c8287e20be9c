//! The data files through the API: who may send an SIS summary, an evaluation's data senders
//! (assigned as such, never counted as devices, held to the transfer check alone), and the
//! signed Exhibit B's ids checked when the evaluation is made.

use reqwest::StatusCode;
use serde_json::{Value, json};
use uuid::Uuid;

use crate::both;
use crate::helpers::{Agent, Auth, Db, TestApp, report_for, spawn_app};

const PRODUCT: &str = include_str!("../data/recommend/data-product.toml");

fn summary() -> Value {
    json!({
        "schema": "fitcheck.sis-summary/v1",
        "summary_id": Uuid::new_v4(),
        "generated_at": "2026-12-06T06:00:00Z",
        "inspector": "fitcheck-agent 0.1.0",
        "source": {"kind": "zip", "name": "export.zip", "bytes": 100},
        "oneroster_version": "1.1",
        "manifest": null,
        "delivery": null,
        "files": [{
            "name": "users.csv", "spec_name": "users.csv", "bytes": 100, "rows": 2,
            "columns": [{"name": "givenName", "spec_name": "givenName", "filled": 2,
                         "filled_by_role": {"student": 2}}],
            "rows_by_role": {"student": 2}
        }],
        "users_by_role": {"student": 2},
        "users_without_role": 0,
        "findings": []
    })
}

async fn enroll_browser(app: &TestApp, secret: &str) -> Agent {
    let id = Uuid::new_v4();
    let (s, v) = app
        .post(
            "/api/agent/v1/enroll",
            Auth::None,
            &json!({"secret": secret, "agent_id": id, "labels": {"site": "north"},
                    "version": "0.1.0", "kind": "browser"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    Agent {
        id,
        credential: v["credential"].as_str().unwrap().to_owned(),
        labels: [("site".to_owned(), "north".to_owned())]
            .into_iter()
            .collect(),
    }
}

async fn only_native_agents_and_administrators_send_summaries(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let native = app
        .enroll(&secret, &[("site", "office"), ("group", "sis")])
        .await;
    let browser = enroll_browser(&app, &secret).await;
    let body = summary();
    let path = "/api/agent/v1/sis-summaries";
    let (s, v) = app
        .post(path, Auth::Agent(&browser.credential), &body)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = app.post(path, Auth::Agent(&native.credential), &body).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    assert_eq!(v["result"], "stored");
    let (s, v) = app.post(path, Auth::Agent(&native.credential), &body).await;
    assert_eq!(
        (s, &v["result"]),
        (StatusCode::OK, &json!("duplicate")),
        "{v}"
    );
    // A person: administrators only.
    let reviewer = app.person(&admin, "rev", "reviewer").await;
    let mut other = summary();
    other["files"][0]["columns"][0]["filled"] = json!(3);
    let (s, v) = app
        .post("/api/v1/sis-summaries", Auth::Session(&reviewer), &other)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, v) = app
        .post("/api/v1/sis-summaries", Auth::Session(&admin), &other)
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "filled > rows: {v}");
    assert_eq!(v["field"], "files[0].columns[0].filled");
    let (_, list) = app
        .get("/api/v1/sis-summaries", Auth::Session(&reviewer))
        .await;
    assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
    assert_eq!(list[0]["uploaded_by"], format!("agent:{}", native.id));
    app.stop().await;
}

async fn data_senders_check_the_transfer_endpoint_alone_and_are_no_devices(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (_, secret) = app.secret(&admin).await;
    let sender = app
        .enroll(&secret, &[("site", "office"), ("group", "sis")])
        .await;
    let device = app.enroll(&secret, &[("site", "north")]).await;
    let (s, p) = app
        .upload_profile(&admin, "data-product.toml", PRODUCT)
        .await;
    assert!(s.is_success(), "{p}");
    let (s, bad) = app
        .post(
            "/api/v1/evaluations",
            Auth::Session(&admin),
            &json!({"title": "Roster", "profile": p["id"], "window_end": "2099-01-01T00:00:00Z",
                    "proposal": {"dpa_exhibit_b": ["student_name", "demographics.birthdate"]}}),
        )
        .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
    assert_eq!(bad["field"], "proposal.dpa_exhibit_b[1]");
    let (s, e) = app
        .post(
            "/api/v1/evaluations",
            Auth::Session(&admin),
            &json!({"title": "Roster", "profile": p["id"], "window_end": "2099-01-01T00:00:00Z",
                    "data_senders": "sis"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{e}");
    let id = e["id"].as_str().unwrap().to_owned();
    let (_, a) = app
        .get("/api/agent/v1/assignments", Auth::Agent(&sender.credential))
        .await;
    assert_eq!(a["assignments"][0]["data_sender"], true, "{a}");
    let (_, a) = app
        .get("/api/agent/v1/assignments", Auth::Agent(&device.credential))
        .await;
    assert_eq!(a["assignments"][0].get("data_sender"), None, "{a}");
    // Progress counts the device, not the sending machine.
    let (_, info) = app
        .get(&format!("/api/v1/evaluations/{id}"), Auth::Session(&admin))
        .await;
    assert_eq!(info["agents_by_site"], json!({"north": 1}), "{info}");

    let digest = p["digest"].clone();
    let transfer = json!({"check": "tcp", "requirement": "data.endpoint",
        "target": "sftp.vendor.example:22", "port": 22, "outcome": "open",
        "duration_ms": 3.0, "banner": "SSH-2.0-OpenSSH_9.2p1"});
    let path = format!("/api/agent/v1/reports?evaluation={id}");
    // A device that sends a transfer check, and a sender that sends a device's checks.
    let mut r = report_for(&device);
    r["profile"]["digest"] = digest.clone();
    r["results"].as_array_mut().unwrap().push(transfer.clone());
    let (s, v) = app.post(&path, Auth::Agent(&device.credential), &r).await;
    assert_eq!(
        (s, &v["error"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("wrong_role")),
        "{v}"
    );
    let mut r = report_for(&sender);
    r["profile"]["digest"] = digest.clone();
    let (s, v) = app.post(&path, Auth::Agent(&sender.credential), &r).await;
    assert_eq!(
        (s, &v["error"]),
        (StatusCode::UNPROCESSABLE_ENTITY, &json!("wrong_role")),
        "{v}"
    );
    r["results"] = json!([transfer]);
    r["report_id"] = json!(Uuid::new_v4());
    let (s, v) = app.post(&path, Auth::Agent(&sender.credential), &r).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let (_, rec) = app
        .get(
            &format!("/api/v1/evaluations/{id}/recommendation"),
            Auth::Session(&admin),
        )
        .await;
    let t = &rec["data"]["transfer"];
    assert_eq!(t["status"], "pass", "{t}");
    assert_eq!(t["machines"][0]["site"], "office");
    assert!(
        rec["coverage"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["site"] != "office"),
        "{}",
        rec["coverage"]
    );
    app.stop().await;
}

both!(
    only_native_agents_and_administrators_send_summaries,
    data_senders_check_the_transfer_endpoint_alone_and_are_no_devices,
);
