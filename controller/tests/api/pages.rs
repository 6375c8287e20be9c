//! The HTML pages: who reaches what (log-in redirects, reviewers refused from admin pages), the
//! log-in form and its cross-site checks, what the recommendation page shows, that every link
//! into a drill-down resolves, that text from reports is escaped, and comparisons of two runs.

use reqwest::StatusCode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Value, json};

use crate::both;
use crate::helpers::{Auth, Db, TestApp, kahoot_profile, spawn_app};
use crate::scenario::{self, Device, seed};

/// A browser-like client: no redirects followed, the controller's certificate trusted.
fn client(app: &TestApp) -> reqwest::Client {
    app.loopback()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

pub(crate) struct Got {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

pub(crate) async fn get(app: &TestApp, path: &str, session: Option<&str>) -> Got {
    let mut req = client(app).get(format!("{}{path}", app.base));
    if let Some(s) = session {
        req = req.header("Cookie", format!("fitcheck_session={s}"));
    }
    let resp = req.send().await.unwrap();
    Got {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

async fn post_form(
    app: &TestApp,
    path: &str,
    form: &str,
    origin: Option<&str>,
    session: Option<&str>,
) -> Got {
    let mut req = client(app)
        .post(format!("{}{path}", app.base))
        .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(form.to_owned());
    if let Some(o) = origin {
        req = req.header("Origin", o);
    }
    if let Some(s) = session {
        req = req.header("Cookie", format!("fitcheck_session={s}"));
    }
    let resp = req.send().await.unwrap();
    Got {
        status: resp.status(),
        headers: resp.headers().clone(),
        body: resp.text().await.unwrap(),
    }
}

fn location(g: &Got) -> &str {
    g.headers.get(LOCATION).map_or("", |v| v.to_str().unwrap())
}

/// Every `href` on a page, entities decoded.
fn links(body: &str) -> Vec<String> {
    body.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|h| {
            h.replace("&amp;", "&")
                .replace("&quot;", "\"")
                .replace("&lt;", "<")
                .replace("&gt;", ">")
        })
        .collect()
}

pub(crate) fn assert_html_page(g: &Got, what: &str) {
    assert_eq!(g.status, StatusCode::OK, "{what}: {}", g.body);
    let ct = g.headers.get(CONTENT_TYPE).unwrap().to_str().unwrap();
    assert!(ct.starts_with("text/html"), "{what}: {ct}");
    let csp = g
        .headers
        .get("content-security-policy")
        .unwrap()
        .to_str()
        .unwrap();
    assert!(
        csp.contains("default-src 'none'") && !csp.contains("script-src"),
        "{what}: {csp}"
    );
    assert!(
        g.body.starts_with("<!DOCTYPE html><html lang=\"en\">"),
        "{what}"
    );
    assert_eq!(g.body.matches("<h1").count(), 1, "{what}: one h1");
    assert!(
        g.body.contains("<main id=\"main\""),
        "{what}: a main landmark"
    );
    assert!(!g.body.contains("<script"), "{what}: no scripts");
    // Every table header cell says what it heads.
    for th in g
        .body
        .split("<th")
        .skip(1)
        .filter(|t| !t.starts_with("ead"))
    {
        assert!(
            th.starts_with(" scope=\"col\"") || th.starts_with(" scope=\"row\""),
            "{what}: <th{}",
            &th[..th.len().min(60)]
        );
    }
}

async fn reviewer(app: &TestApp, admin: &str) -> String {
    app.person(admin, "committee", "reviewer").await
}

async fn pages_need_a_session_and_admin_pages_an_administrator(db: Db) {
    let app = spawn_app(db).await;
    let s = seed(&app).await;
    let e = &s.evaluation;
    let report = &s.reports[0];
    let pages = [
        "/fleet".to_owned(),
        "/evaluations".to_owned(),
        format!("/evaluations/{e}"),
        format!("/evaluations/{e}/recommendation"),
        format!("/evaluations/{e}/recommendation.md"),
        format!("/evaluations/{e}/recommendation.json"),
        format!("/evaluations/{e}/recommendation.pdf"),
        format!("/evaluations/{e}/cells?requirement=http%5B0%5D&site=lincoln"),
        format!("/evaluations/{e}/compare"),
        format!("/reports/{report}"),
        "/logout".to_owned(),
    ];
    // Nobody logged in: to the log-in form, which brings them back.
    let g = get(&app, "/", None).await;
    assert_eq!(g.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&g), "/login");
    for p in &pages {
        let g = get(&app, p, None).await;
        assert_eq!(g.status, StatusCode::SEE_OTHER, "{p}");
        let next = location(&g)
            .strip_prefix("/login?next=")
            .unwrap_or_else(|| panic!("{p}: {}", location(&g)));
        let decoded = percent_decode(next);
        assert_eq!(&decoded, p);
    }
    // A session that ended is no session.
    let g = get(&app, "/evaluations", Some("fcs_not-a-session")).await;
    assert_eq!(g.status, StatusCode::SEE_OTHER);

    let committee = reviewer(&app, &s.admin).await;
    // Reviewers land on the evaluations and are refused the fleet.
    let g = get(&app, "/", Some(&committee)).await;
    assert_eq!(g.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&g), "/evaluations");
    let g = get(&app, "/fleet", Some(&committee)).await;
    assert_eq!(g.status, StatusCode::FORBIDDEN);
    assert!(g.body.contains("<h1>Not allowed</h1>"), "{}", g.body);
    assert!(g.body.contains("for administrators"), "{}", g.body);
    assert!(
        !g.body.contains("href=\"/fleet\""),
        "a reviewer's navigation has no fleet link"
    );
    for p in pages.iter().filter(|p| *p != "/fleet") {
        let g = get(&app, p, Some(&committee)).await;
        assert_eq!(g.status, StatusCode::OK, "{p}: {}", g.body);
        if !p.contains("recommendation.") {
            assert_html_page(&g, p);
        }
    }
    // Administrators see the fleet at / and /fleet.
    for p in ["/", "/fleet"] {
        let g = get(&app, p, Some(&s.admin)).await;
        assert_html_page(&g, p);
        assert!(g.body.contains("<h1>Fleet</h1>"));
        assert!(
            g.body.contains("<th scope=\"row\">lincoln</th>"),
            "{}",
            g.body
        );
        assert!(g.body.contains("Acme") || g.body.contains("0.1.0"));
    }
    // Unknown things are pages too, not JSON.
    let g = get(
        &app,
        "/evaluations/00000000-0000-4000-8000-000000000000/recommendation",
        Some(&committee),
    )
    .await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    assert!(g.body.contains("<h1>Not found</h1>"));
    let g = get(&app, "/reports/nope", Some(&committee)).await;
    assert_eq!(g.status, StatusCode::NOT_FOUND);
    app.stop().await;
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap();
            out.push(u8::from_str_radix(hex, 16).unwrap());
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap()
}

async fn the_log_in_form_sets_the_apis_cookie(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let password = app.new_user(&admin, "committee", "reviewer").await;
    let origin = app.base.clone();

    let g = get(&app, "/login?next=%2Fevaluations", None).await;
    assert_html_page(&g, "/login");
    assert!(g.body.contains("<label for=\"username\">") && g.body.contains("id=\"username\""));
    assert!(g.body.contains("<label for=\"password\">") && g.body.contains("id=\"password\""));
    assert!(
        g.body.contains("name=\"next\" value=\"/evaluations\""),
        "{}",
        g.body
    );
    // Only local paths are kept.
    for evil in [
        "https%3A%2F%2Fevil.example%2F",
        "%2F%2Fevil.example",
        "%2F%5Cevil.example",
    ] {
        let g = get(&app, &format!("/login?next={evil}"), None).await;
        assert!(g.body.contains("name=\"next\" value=\"/\""), "{evil}");
    }

    let form = |user: &str, pw: &str, next: &str| {
        format!(
            "username={}&password={}&next={}",
            enc(user),
            enc(pw),
            enc(next)
        )
    };
    // Wrong password: the form again, with the reason, and no session.
    let g = post_form(
        &app,
        "/login",
        &form("committee", "wrong", "/evaluations"),
        Some(&origin),
        None,
    )
    .await;
    assert_eq!(g.status, StatusCode::UNAUTHORIZED);
    assert!(g.body.contains("role=\"alert\"") && g.body.contains("Wrong user name or password"));
    assert!(g.headers.get(SET_COOKIE).is_none());
    // Posted from another site, or with nothing saying where from: refused before the password
    // is even checked.
    for o in [Some("https://evil.example"), Some("null"), None] {
        let g = post_form(
            &app,
            "/login",
            &form("committee", &password, "/evaluations"),
            o,
            None,
        )
        .await;
        assert_eq!(g.status, StatusCode::FORBIDDEN, "{o:?}");
        assert!(g.headers.get(SET_COOKIE).is_none(), "{o:?}");
    }
    // Right: the API's cookie, and back to where the person was going.
    let g = post_form(
        &app,
        "/login",
        &form("committee", &password, "/evaluations"),
        Some(&origin),
        None,
    )
    .await;
    assert_eq!(g.status, StatusCode::SEE_OTHER, "{}", g.body);
    assert_eq!(location(&g), "/evaluations");
    let cookie = g
        .headers
        .get(SET_COOKIE)
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned();
    for attr in [
        "fitcheck_session=fcs_",
        "HttpOnly",
        "SameSite=Strict",
        "Secure",
        "Path=/",
    ] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    let session = cookie
        .split(';')
        .next()
        .unwrap()
        .strip_prefix("fitcheck_session=")
        .unwrap()
        .to_owned();
    let (s, me) = app.get("/api/v1/me", Auth::Session(&session)).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(me["role"], "reviewer");
    // A next that leaves the site is dropped.
    let g = post_form(
        &app,
        "/login",
        &form("committee", &password, "//evil.example/x"),
        Some(&origin),
        None,
    )
    .await;
    assert_eq!(location(&g), "/");

    // Log-out: refused from another site; from this one the session ends.
    let g = post_form(
        &app,
        "/logout",
        "",
        Some("https://evil.example"),
        Some(&session),
    )
    .await;
    assert_eq!(g.status, StatusCode::FORBIDDEN);
    let g = post_form(&app, "/logout", "", Some(&origin), Some(&session)).await;
    assert_eq!(g.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&g), "/login");
    assert!(
        g.headers
            .get(SET_COOKIE)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    let g = get(&app, "/evaluations", Some(&session)).await;
    assert_eq!(g.status, StatusCode::SEE_OTHER);
    app.stop().await;
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The committee records its decision on the evaluation's page: a person named for a party
/// gets the form for that party only; the form needs the page's own origin; the decision then
/// shows on the page for everyone.
async fn the_committee_records_its_decision_on_the_page(db: Db) {
    let app = spawn_app(db).await;
    let admin = app.admin().await;
    let (id, _) = app.evaluation(&admin, &["lincoln"]).await;
    let bea = app.person(&admin, "bea", "reviewer").await;
    let other = reviewer(&app, &admin).await;
    let (s, v) = app
        .post(
            "/api/v1/users/bea/approvals",
            Auth::Session(&admin),
            &serde_json::json!({"parties": ["curriculum"]}),
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
    let path = format!("/evaluations/{id}");
    let g = get(&app, &path, Some(&bea)).await;
    assert_html_page(&g, &path);
    assert!(g.body.contains("Committee decision") && g.body.contains("not decided"));
    assert!(
        g.body.contains("<option value=\"curriculum\">"),
        "{}",
        g.body
    );
    assert!(
        !g.body.contains("<option value=\"technology\">"),
        "only the parties one is named for"
    );
    assert!(
        !get(&app, &path, Some(&other))
            .await
            .body
            .contains("Record a decision")
    );
    let form = format!(
        "party=curriculum&outcome=approved_with_conditions&note={}",
        enc("grades 6-8 <b>only</b>")
    );
    let action = format!("{path}/approvals");
    let refused = post_form(&app, &action, &form, None, Some(&bea)).await;
    assert!(
        refused.status.is_client_error(),
        "no Origin: {}",
        refused.status
    );
    let g = post_form(&app, &action, &form, Some(&app.base), Some(&bea)).await;
    assert_eq!(g.status, StatusCode::SEE_OTHER, "{}", g.body);
    assert_eq!(location(&g), format!("/evaluations/{id}#decision"));
    let g = get(&app, &path, Some(&other)).await;
    assert!(g.body.contains("approved with conditions"), "{}", g.body);
    assert!(
        g.body.contains("grades 6-8 &lt;b&gt;only&lt;/b&gt;"),
        "escaped: {}",
        g.body
    );
    let md = get(&app, &format!("{path}/recommendation.md"), Some(&other)).await;
    assert!(md.body.contains("## Committee decision"), "{}", md.body);
    assert!(
        md.body
            .contains("| Curriculum | approved with conditions | bea |")
            && md.body.contains("grades 6-8 &lt;b&gt;only&lt;/b&gt;")
            && md.body.contains("| Technology | not decided |"),
        "{}",
        md.body
    );
    let forged = post_form(
        &app,
        &action,
        "party=technology&outcome=approved",
        Some(&app.base),
        Some(&bea),
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN, "{}", forged.body);
    app.stop().await;
}

both!(
    pages_need_a_session_and_admin_pages_an_administrator,
    the_log_in_form_sets_the_apis_cookie,
    the_committee_records_its_decision_on_the_page,
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_recommendation_page_shows_the_whole_recommendation() {
    let app = spawn_app(Db::Sqlite).await;
    let s = seed(&app).await;
    let committee = reviewer(&app, &s.admin).await;
    let e = &s.evaluation;
    let (_, r) = app
        .get(
            &format!("/api/v1/evaluations/{e}/recommendation"),
            Auth::Session(&committee),
        )
        .await;
    assert_eq!(r["verdict"], "compatible_with_conditions", "{r}");

    let g = get(
        &app,
        &format!("/evaluations/{e}/recommendation"),
        Some(&committee),
    )
    .await;
    assert_html_page(&g, "recommendation");
    let b = &g.body;
    // The verdict in words and in a colour class, never the colour alone.
    assert!(b.contains("class=\"verdict v-conditions\""), "{b}");
    assert!(b.contains("Compatible with conditions</h2>"), "{b}");
    // One checklist item per condition, each with its owner and whether it is required.
    let conditions = r["conditions"].as_array().unwrap();
    assert!(conditions.len() >= 6);
    assert_eq!(
        b.matches("<li class=\"condition\">").count(),
        conditions.len()
    );
    for c in conditions {
        let action = c["action"]
            .as_str()
            .unwrap()
            .replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;");
        assert!(b.contains(&action), "missing {action}");
    }
    assert!(b.contains("Required</span>"));
    assert!(b.contains("web filter administrator"));
    // Proposal facts, coverage, both matrices, the chart with its text alternatives, notes,
    // sources, exports.
    for needle in [
        "Middle school mathematics",
        "IT-2027-031",
        "nightly roster upload",
        "<caption>Devices that reported per site</caption>",
        "<caption>Site × requirement</caption>",
        "<caption>Device model × requirement</caption>",
        "Acme Chromebook 3",
        "<svg class=\"chart\"",
        "role=\"img\"",
        "<title id=\"chart-down-title\">",
        "<desc id=\"chart-down-desc\">lincoln: 80.0 Mbit/s measured, 120 Mbit/s needed for 60 users (short).",
        "<figcaption>",
        "<caption>Uplink capacity by site (Mbit/s)</caption>",
        "What the checks cannot see",
        "https://vendor.example/requirements",
        "recommendation.md",
        "recommendation.json",
        "recommendation.pdf",
    ] {
        assert!(b.contains(needle), "missing {needle}");
    }
    let css = get(&app, "/assets/fitcheck.css", None).await;
    assert_eq!(css.status, StatusCode::OK);
    assert!(css.body.contains("@media print") && css.body.contains(":focus-visible"));

    // Every link into a drill-down resolves, and shows the devices behind it.
    let all = links(b);
    let cells: Vec<&String> = all.iter().filter(|l| l.contains("/cells?")).collect();
    let matrix_cells = r["matrix"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["sites"].as_object().unwrap().len())
        .sum::<usize>()
        + r["device_models"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["requirements"].as_object().unwrap().len())
            .sum::<usize>();
    assert!(
        cells.len() >= matrix_cells,
        "{} links for {matrix_cells} cells",
        cells.len()
    );
    for l in &cells {
        let g = get(&app, l, Some(&committee)).await;
        assert_html_page(&g, l);
        assert!(g.body.contains("What each device saw for"), "{l}");
    }
    let reports: Vec<&String> = all.iter().filter(|l| l.starts_with("/reports/")).collect();
    assert!(!reports.is_empty());
    for l in reports.iter().take(5) {
        let g = get(&app, l, Some(&committee)).await;
        assert_html_page(&g, l);
    }

    // Exports.
    let md = get(
        &app,
        &format!("/evaluations/{e}/recommendation.md"),
        Some(&committee),
    )
    .await;
    assert_eq!(md.status, StatusCode::OK);
    assert!(
        md.headers
            .get("content-disposition")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("attachment; filename=\"fitcheck-recommendation-")
    );
    assert!(
        md.body
            .starts_with("# Lab Product — technology recommendation")
    );
    let js = get(
        &app,
        &format!("/evaluations/{e}/recommendation.json"),
        Some(&committee),
    )
    .await;
    let v: Value = serde_json::from_str(&js.body).unwrap();
    assert_eq!(v["verdict"], "compatible_with_conditions");
    let pdf = client(&app)
        .get(format!("{}/evaluations/{e}/recommendation.pdf", app.base))
        .header("Cookie", format!("fitcheck_session={committee}"))
        .send()
        .await
        .unwrap();
    assert_eq!(pdf.status(), StatusCode::OK);
    assert_eq!(pdf.headers().get(CONTENT_TYPE).unwrap(), "application/pdf");
    assert!(pdf.bytes().await.unwrap().starts_with(b"%PDF"));

    // The evaluation's page is live while it is open.
    let g = get(&app, &format!("/evaluations/{e}"), Some(&committee)).await;
    assert!(
        g.body
            .contains("<meta http-equiv=\"refresh\" content=\"15\">"),
        "{}",
        g.body
    );
    assert!(g.body.contains("<progress"));
    assert!(
        g.body.contains("2 of 2") && g.body.contains("3 of 3"),
        "{}",
        g.body
    );
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_downs_show_what_each_device_saw() {
    let app = spawn_app(Db::Sqlite).await;
    let s = seed(&app).await;
    let committee = reviewer(&app, &s.admin).await;
    let e = &s.evaluation;
    let g = get(
        &app,
        &format!("/evaluations/{e}/cells?requirement=http%5B0%5D&site=lincoln"),
        Some(&committee),
    )
    .await;
    assert_html_page(&g, "cell");
    let b = &g.body;
    assert_eq!(
        b.matches("<tr><th scope=\"row\"><a href=\"/reports/")
            .count(),
        2,
        "{b}"
    );
    for needle in [
        "blocked_by_filter",
        "http_filter",
        "e2guardian",
        "e2guardian-access-denied",
        "server: e2guardian",
    ] {
        assert!(b.contains(needle), "missing {needle}");
    }
    let g = get(
        &app,
        &format!(
            "/evaluations/{e}/cells?requirement=device.ram_min_gib&model=Acme%20Chromebook%203"
        ),
        Some(&committee),
    )
    .await;
    assert_html_page(&g, "model cell");
    assert!(g.body.contains("2.0 GiB"), "{}", g.body);
    assert_eq!(
        g.body
            .matches("<tr><th scope=\"row\"><a href=\"/reports/")
            .count(),
        1
    );

    // A report from roosevelt: the device, every check with its evidence, the agent's own view.
    let g = get(
        &app,
        &format!("/reports/{}", s.reports[2]),
        Some(&committee),
    )
    .await;
    assert_html_page(&g, "report");
    for needle in [
        "Device facts",
        "CN=Fortinet_CA_SSL",
        "tls_intercepted",
        "tls_interception",
        "filtered",
        "no_answer",
        "The agent&#39;s own evaluation",
        "Intel Celeron N4020",
        "1366 × 768",
    ] {
        assert!(
            g.body.contains(needle) || g.body.contains(&needle.replace("&#39;", "'")),
            "missing {needle}"
        );
    }
    assert!(g.body.contains("Requirements as the agent judged them"));

    // Addresses that name nothing.
    for (q, want) in [
        ("", StatusCode::BAD_REQUEST),
        ("?requirement=http%5B0%5D", StatusCode::BAD_REQUEST),
        (
            "?requirement=http%5B0%5D&site=lincoln&model=x",
            StatusCode::BAD_REQUEST,
        ),
        (
            "?requirement=http%5B0%5D&site=nowhere",
            StatusCode::NOT_FOUND,
        ),
        (
            "?requirement=http%5B9%5D&site=lincoln",
            StatusCode::NOT_FOUND,
        ),
    ] {
        let g = get(
            &app,
            &format!("/evaluations/{e}/cells{q}"),
            Some(&committee),
        )
        .await;
        assert_eq!(g.status, want, "{q}: {}", g.body);
        assert!(g.body.contains("<h1>"), "{q}: an HTML page");
    }
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_from_reports_and_agents_is_escaped() {
    let app = spawn_app(Db::Sqlite).await;
    let admin = app.admin().await;
    let (profile, digest) = scenario::upload_lab_profile(&app, &admin).await;
    let evaluation =
        scenario::open_evaluation(&app, &admin, &profile, "Every <site> & \"quote\"", &[]).await;
    let (_, secret) = app.secret(&admin).await;
    let site = "<script>alert('site')</script>";
    let labels = json!({"site": site, "room": "\"><img src=x onerror=alert(1)>"});
    let (s, v) = app
        .post(
            "/api/agent/v1/enroll",
            Auth::None,
            &json!({"secret": secret, "agent_id": uuid::Uuid::new_v4(), "labels": labels, "version": "<svg onload=alert(2)>"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let agent = crate::helpers::Agent {
        id: v["agent_id"].as_str().unwrap().parse().unwrap(),
        credential: v["credential"].as_str().unwrap().to_owned(),
        labels: serde_json::from_value(labels).unwrap(),
    };
    let device = Device {
        site: site.to_owned(),
        ..scenario::old_chromebook(site)
    };
    let mut results = scenario::lincoln_blocked();
    results[2] = crate::fixtures::http(
        0,
        "https://app.vendor.example/<script>alert('target')</script>",
        "tls_intercepted",
        json!({"blocking_layer": "tls_interception", "signature": {"vendor": "<script>alert('vendor')</script>", "id": "x", "matched": "<b>"}, "certificate": {"subject": "CN=<i>x</i>", "issuer": "CN=\"><script>alert('issuer')</script>", "not_after": "2027-01-01T00:00:00Z", "trusted_by_system": true, "publicly_trusted": false}, "headers": {"x-evil": "<script>alert('header')</script>"}}),
    );
    let mut body = scenario::report(&agent, &device, &digest, results);
    body["notes"] = json!(["<script>alert('note')</script>"]);
    let (s, v) = app.submit(&agent, &body, Some(&evaluation)).await;
    assert_eq!(s, StatusCode::CREATED, "{v}");
    let report_id = body["report_id"].as_str().unwrap();

    let rec = get(
        &app,
        &format!("/evaluations/{evaluation}/recommendation"),
        Some(&admin),
    )
    .await;
    assert_eq!(rec.status, StatusCode::OK);
    let mut pages = vec![
        ("fleet", get(&app, "/fleet", Some(&admin)).await),
        ("evaluations", get(&app, "/evaluations", Some(&admin)).await),
        (
            "evaluation",
            get(&app, &format!("/evaluations/{evaluation}"), Some(&admin)).await,
        ),
        (
            "report",
            get(&app, &format!("/reports/{report_id}"), Some(&admin)).await,
        ),
    ];
    for l in links(&rec.body)
        .into_iter()
        .filter(|l| l.contains("/cells?"))
    {
        pages.push(("cell", get(&app, &l, Some(&admin)).await));
    }
    pages.push(("recommendation", rec));
    let mut seen_escaped = 0;
    for (what, g) in &pages {
        assert_eq!(g.status, StatusCode::OK, "{what}: {}", g.body);
        for raw in [
            "<script",
            "<img src=x",
            "<svg onload",
            "<i>x</i>",
            "<b>",
            "<site>",
        ] {
            assert!(!g.body.contains(raw), "{what} carries {raw:?} unescaped");
        }
        if g.body.contains("&lt;script&gt;alert(") || g.body.contains("Every &lt;site&gt; &amp;") {
            seen_escaped += 1;
        }
    }
    assert_eq!(
        seen_escaped,
        pages.len(),
        "every page shows the hostile text, escaped"
    );
    let report = &pages.iter().find(|(w, _)| *w == "report").unwrap().1.body;
    for escaped in [
        "&lt;script&gt;alert('target')",
        "&lt;script&gt;alert('vendor')",
        "alert('issuer')",
        "alert('header')",
        "alert('note')",
    ] {
        assert!(report.contains(escaped), "report page lacks {escaped}");
    }
    let fleet = &pages[0].1.body;
    assert!(fleet.contains("&lt;svg onload=alert(2)&gt;"));
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_runs_compare_and_different_products_do_not() {
    let app = spawn_app(Db::Sqlite).await;
    let s = seed(&app).await;
    let after = scenario::second_run(&app, &s).await;
    let committee = reviewer(&app, &s.admin).await;
    let e = &s.evaluation;

    // The evaluation's page offers the other run; asked from either side, earlier comes first.
    let g = get(&app, &format!("/evaluations/{e}"), Some(&committee)).await;
    assert!(
        g.body
            .contains(&format!("/evaluations/{e}/compare?with={after}")),
        "{}",
        g.body
    );
    let g = get(&app, &format!("/evaluations/{e}/compare"), Some(&committee)).await;
    assert_html_page(&g, "compare form");
    assert!(
        g.body.contains("<label for=\"with\">")
            && g.body.contains(&format!("<option value=\"{after}\">"))
    );
    let one = get(
        &app,
        &format!("/evaluations/{e}/compare?with={after}"),
        Some(&committee),
    )
    .await;
    let two = get(
        &app,
        &format!("/evaluations/{after}/compare?with={e}"),
        Some(&committee),
    )
    .await;
    assert_html_page(&one, "compare");
    assert_eq!(one.body, two.body);
    let b = &one.body;
    let section = |from: &str| -> String {
        let start = b.find(from).unwrap_or_else(|| panic!("no {from}"));
        let rest = &b[start..];
        rest[..rest[1..].find("<section").map_or(rest.len(), |i| i + 1)].to_owned()
    };
    let resolved = section("id=\"resolved-h\"");
    assert!(resolved.contains("Conditions resolved (2)"), "{resolved}");
    assert!(
        resolved.contains("allow app.vendor.example in the web filter"),
        "{resolved}"
    );
    assert!(
        resolved.contains("allow cdn.vendor.example in the DNS filter"),
        "{resolved}"
    );
    let new = section("id=\"new-h\"");
    assert!(new.contains("New conditions (0)"), "{new}");
    let remaining = section("id=\"remaining-h\"");
    assert!(
        remaining.contains("exempt cdn.vendor.example from TLS inspection"),
        "{remaining}"
    );
    assert!(remaining.contains("Acme Chromebook 3"), "{remaining}");
    let cells = section("id=\"cells-h\"");
    assert!(
        cells.contains("http[0]") && cells.contains("site lincoln") && cells.contains("Better"),
        "{cells}"
    );
    assert!(cells.contains("dns[1]"), "{cells}");
    assert!(
        !cells.contains("site roosevelt"),
        "nothing changed at roosevelt: {cells}"
    );
    for l in links(&cells).iter().filter(|l| l.contains("/cells?")) {
        assert_eq!(
            get(&app, l, Some(&committee)).await.status,
            StatusCode::OK,
            "{l}"
        );
    }

    // Another product's evaluation cannot be compared with this one.
    let (st, p) = app
        .upload_profile(&s.admin, "kahoot.toml", &kahoot_profile())
        .await;
    assert!(st.is_success());
    let (st, other) = app
        .post(
            "/api/v1/evaluations",
            Auth::Session(&s.admin),
            &json!({"title": "Kahoot!", "profile": p["id"], "window_end": "2099-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let g = get(
        &app,
        &format!(
            "/evaluations/{e}/compare?with={}",
            other["id"].as_str().unwrap()
        ),
        Some(&committee),
    )
    .await;
    assert_eq!(g.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        g.body.contains("These evaluations test different products"),
        "{}",
        g.body
    );
    assert!(
        g.body
            .contains("A comparison needs two runs of the same profile")
    );
    let g = get(
        &app,
        &format!("/evaluations/{e}/compare?with={e}"),
        Some(&committee),
    )
    .await;
    assert_eq!(g.status, StatusCode::BAD_REQUEST);
    app.stop().await;
}
