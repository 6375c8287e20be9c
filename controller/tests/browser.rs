//! The pages in a real browser: headless Chromium driven over WebDriver (chromedriver, started
//! here on 127.0.0.1 and ended by its process id). The data is seeded through the real API —
//! agents enrolled, reports posted to `/api/agent/v1/reports` — then a reviewer logs in through
//! the form, reads the recommendation, follows a drill-down to a report, and is refused the
//! fleet page. Screenshots (and the recommendation printed to PDF) are kept in
//! `target/browser-artifacts/`.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them); without them the
//! test fails and says so.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "fixtures/mod.rs"]
mod fixtures;
#[path = "api/helpers.rs"]
#[allow(dead_code)]
mod helpers;
#[path = "api/scenario.rs"]
#[allow(dead_code)]
mod scenario;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::wd::PrintConfiguration;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt;
use serde_json::json;

use helpers::{Db, spawn_app};

/// Where screenshots go: `target/browser-artifacts/` (or under `CARGO_TARGET_DIR`).
fn artifacts() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../target"));
    let dir = target.join("browser-artifacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for n in names {
            let p = dir.join(n);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// chromedriver, running; killed (by its process id) when dropped, whatever happened.
struct Driver {
    child: Child,
    port: u16,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn start_chromedriver(log: &Path) -> Driver {
    let missing = "headless Chromium is needed for the browser tests: apt-get install chromium \
                   chromium-driver (.ci/run installs them)";
    let driver =
        on_path(&["chromedriver"]).unwrap_or_else(|| panic!("no chromedriver on PATH; {missing}"));
    on_path(&["chromium", "chromium-browser"])
        .unwrap_or_else(|| panic!("no chromium on PATH; {missing}"));
    let http = reqwest::Client::builder().no_proxy().build().unwrap();
    let log = std::fs::File::create(log).unwrap();
    // chromedriver takes its port as a number: one picked here can be taken by another process
    // before it binds. It then exits, and it is started again on another port.
    for _attempt in 0..5 {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .arg("--allowed-ips=127.0.0.1")
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log.try_clone().unwrap())
            .spawn()
            .unwrap_or_else(|e| panic!("chromedriver did not start: {e}"));
        let mut d = Driver { child, port };
        // Ready when it answers /status; the bound only ends a hung start.
        for _ in 0..600 {
            if let Ok(r) = http
                .get(format!("http://127.0.0.1:{port}/status"))
                .timeout(Duration::from_secs(1))
                .send()
                .await
                && r.status().is_success()
            {
                return d;
            }
            if d.child.try_wait().ok().flatten().is_some() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        drop(d);
    }
    panic!("chromedriver did not answer on its port in 5 starts (see its log)");
}

async fn connect(driver: &Driver, profile_dir: &Path) -> Client {
    let chromium = on_path(&["chromium", "chromium-browser"]).unwrap();
    let mut caps = serde_json::Map::new();
    caps.insert("browserName".into(), json!("chrome"));
    // The controller's certificate is self-signed; everything here is on 127.0.0.1.
    caps.insert("acceptInsecureCerts".into(), json!(true));
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": [
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                "--no-default-browser-check",
                "--disable-default-apps",
                "--disable-dev-shm-usage",
                "--no-proxy-server",
                "--hide-scrollbars",
                "--window-size=1280,900",
                format!("--user-data-dir={}", profile_dir.display()),
            ],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.port))
        .await
        .unwrap_or_else(|e| panic!("chromedriver could not start Chromium: {e}"))
}

/// Waits until the browser's address has this path (the bound, 60 s, only ends a hung test).
async fn wait_for_path(c: &Client, path: &str) -> String {
    for _ in 0..600 {
        let u = c.current_url().await.unwrap();
        if u.path() == path {
            return u.query().unwrap_or("").to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "the browser did not reach {path}; it is at {}",
        c.current_url().await.unwrap()
    );
}

/// A screenshot of the whole page (the window made as tall as the document).
async fn full_page(c: &Client, name: &str) -> PathBuf {
    let h = c
        .execute("return document.documentElement.scrollHeight", vec![])
        .await
        .unwrap()
        .as_u64()
        .unwrap_or(900)
        .clamp(600, 12_000);
    c.set_window_size(1280, u32::try_from(h).unwrap() + 120)
        .await
        .unwrap();
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "{name}: not a PNG");
    let path = artifacts().join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap();
    println!("screenshot: {}", path.display());
    c.set_window_size(1280, 900).await.unwrap();
    path
}

async fn text(c: &Client, css: &str) -> String {
    c.find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .text()
        .await
        .unwrap()
}

struct Seeded {
    base: String,
    evaluation: String,
    later: String,
    username: String,
    password: String,
}

/// The reviewer's path through the pages.
async fn journey(c: &Client, s: &Seeded) {
    let recommendation = format!("/evaluations/{}/recommendation", s.evaluation);

    // Not logged in: the log-in form, which remembers where the reviewer was going.
    c.goto(&format!("{}{recommendation}", s.base))
        .await
        .unwrap();
    let query = wait_for_path(c, "/login").await;
    assert_eq!(
        query,
        format!("next={}", recommendation.replace('/', "%2F"))
    );
    assert_eq!(text(c, "h1").await, "Log in");
    c.find(Locator::Css("#username"))
        .await
        .unwrap()
        .send_keys(&s.username)
        .await
        .unwrap();
    c.find(Locator::Css("#password"))
        .await
        .unwrap()
        .send_keys(&s.password)
        .await
        .unwrap();
    full_page(c, "01-login").await;
    c.find(Locator::Css("form.stack button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The password was one-time: the reviewer chooses their own, then goes on.
    let query = wait_for_path(c, "/password").await;
    assert_eq!(
        query,
        format!("next={}", recommendation.replace('/', "%2F"))
    );
    assert_eq!(text(c, "h1").await, "Choose your password");
    let chosen = "the committee reads this first";
    for (field, value) in [
        ("#current", s.password.as_str()),
        ("#new", chosen),
        ("#confirm", chosen),
    ] {
        c.find(Locator::Css(field))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    full_page(c, "01b-choose-password").await;
    c.find(Locator::Css("form.stack button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The recommendation.
    wait_for_path(c, &recommendation).await;
    let verdict = text(c, "section.verdict h2").await;
    assert!(verdict.contains("Compatible with conditions"), "{verdict}");
    let banner = c.find(Locator::Css("section.verdict")).await.unwrap();
    let color = banner.css_value("border-left-color").await.unwrap();
    assert_ne!(
        color, "rgba(0, 0, 0, 0)",
        "the banner is coloured as well as worded"
    );
    let conditions = c
        .find_all(Locator::Css("ol.checklist > li.condition"))
        .await
        .unwrap();
    assert!(conditions.len() >= 6, "{} conditions", conditions.len());
    let first = conditions[0].text().await.unwrap();
    assert!(
        first.contains("Required") && first.contains("Owner:"),
        "{first}"
    );
    let all_conditions = text(c, "ol.checklist").await;
    for needle in [
        "allow app.vendor.example in the web filter",
        "exempt cdn.vendor.example from TLS inspection",
        "Acme Chromebook 3",
        "lincoln: raise uplink capacity",
    ] {
        assert!(
            all_conditions.contains(needle),
            "missing {needle} in {all_conditions}"
        );
    }
    // The chart is drawn, has a text alternative, and the same figures are in a table.
    let charts = c
        .find_all(Locator::Css("svg.chart[role=img]"))
        .await
        .unwrap();
    assert_eq!(charts.len(), 2, "download and upload");
    let (_, _, w, h) = charts[0].rectangle().await.unwrap();
    assert!(w > 200.0 && h > 50.0, "chart size {w}×{h}");
    let bars = c
        .execute(
            "return document.querySelectorAll('svg.chart rect').length",
            vec![],
        )
        .await
        .unwrap();
    assert!(bars.as_u64().unwrap() >= 8, "{bars}");
    let desc = c
        .execute(
            "return document.getElementById('chart-down-desc').textContent",
            vec![],
        )
        .await
        .unwrap();
    assert!(
        desc.as_str()
            .unwrap()
            .contains("lincoln: 80.0 Mbit/s measured, 120 Mbit/s needed"),
        "{desc}"
    );
    let table = text(c, "table.throughput-table").await;
    assert!(
        table.contains("lincoln") && table.contains("roosevelt"),
        "{table}"
    );
    for ext in ["md", "json", "pdf"] {
        let link = format!("nav.exports a[href$='recommendation.{ext}']");
        c.find(Locator::Css(&link))
            .await
            .unwrap_or_else(|e| panic!("no .{ext} export link: {e}"));
    }
    full_page(c, "02-recommendation").await;
    let pdf = c
        .print(
            PrintConfiguration::builder()
                .background(true)
                .build()
                .unwrap(),
        )
        .await
        .unwrap();
    assert!(pdf.starts_with(b"%PDF"));
    let pdf_path = artifacts().join("02-recommendation-printed.pdf");
    std::fs::write(&pdf_path, pdf).unwrap();
    println!("printed: {}", pdf_path.display());

    // A failing cell of the matrix leads to the devices behind it.
    let cell = c
        .find(Locator::Css("table.matrix td.st-fail a"))
        .await
        .expect("a failing cell");
    let href = cell.attr("href").await.unwrap().unwrap();
    cell.click().await.unwrap();
    wait_for_path(c, &format!("/evaluations/{}/cells", s.evaluation)).await;
    assert!(
        c.current_url().await.unwrap().as_str().ends_with(&href),
        "{href}"
    );
    let rows = c
        .find_all(Locator::Css("table.drill tbody tr"))
        .await
        .unwrap();
    assert!(!rows.is_empty());
    assert!(text(c, "table.drill").await.contains("Outcome"));
    full_page(c, "03-cell").await;

    // And from there to one report.
    let report = c
        .find(Locator::Css("table.drill a[href^='/reports/']"))
        .await
        .unwrap();
    report.click().await.unwrap();
    for _ in 0..100 {
        if c.current_url()
            .await
            .unwrap()
            .path()
            .starts_with("/reports/")
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(text(c, "h1").await.starts_with("Report"));
    assert!(text(c, "#agent-eval-h").await.contains("own evaluation"));
    full_page(c, "04-report").await;

    // Two runs compared.
    c.goto(&format!(
        "{}/evaluations/{}/compare?with={}",
        s.base, s.evaluation, s.later
    ))
    .await
    .unwrap();
    assert!(
        text(c, "#resolved-h")
            .await
            .contains("Conditions resolved (2)")
    );
    full_page(c, "05-compare").await;

    // The evaluation, the list.
    c.goto(&format!("{}/evaluations/{}", s.base, s.evaluation))
        .await
        .unwrap();
    full_page(c, "06-evaluation").await;

    // A reviewer lands on the evaluations, and the fleet page is refused.
    c.goto(&format!("{}/", s.base)).await.unwrap();
    wait_for_path(c, "/evaluations").await;
    assert!(
        c.find_all(Locator::Css("a[href='/fleet']"))
            .await
            .unwrap()
            .is_empty()
    );
    c.goto(&format!("{}/fleet", s.base)).await.unwrap();
    assert_eq!(text(c, "h1").await, "Not allowed");
    assert!(text(c, "main").await.contains("for administrators"));
    full_page(c, "07-reviewer-on-fleet").await;

    // Log out through the header's button.
    c.find(Locator::Css(".who button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    wait_for_path(c, "/login").await;
    c.goto(&format!("{}{recommendation}", s.base))
        .await
        .unwrap();
    wait_for_path(c, "/login").await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_reads_the_recommendation_in_chromium() {
    let artifacts = artifacts();
    let app = spawn_app(Db::Sqlite).await;
    let s = scenario::seed(&app).await;
    let later = scenario::second_run(&app, &s).await;
    let (st, v) = app
        .post(
            "/api/v1/users",
            helpers::Auth::Session(&s.admin),
            &json!({"username": "committee", "role": "reviewer"}),
        )
        .await;
    assert_eq!(st, reqwest::StatusCode::CREATED, "{v}");
    let seeded = Seeded {
        base: app.base.clone(),
        evaluation: s.evaluation.clone(),
        later,
        username: "committee".into(),
        password: v["password"].as_str().unwrap().to_owned(),
    };

    let driver = start_chromedriver(&artifacts.join("chromedriver.log")).await;
    let profile = tempfile::tempdir().unwrap();
    let client = connect(&driver, profile.path()).await;
    let outcome = std::panic::AssertUnwindSafe(journey(&client, &seeded))
        .catch_unwind()
        .await;
    if outcome.is_err() {
        // Whatever the browser shows when it went wrong.
        if let Ok(png) = client.screenshot().await {
            let path = artifacts.join("failure.png");
            let _ = std::fs::write(&path, png);
            println!("screenshot at the failure: {}", path.display());
        }
    }
    // Quit Chromium through the driver, then end the driver.
    let _ = client.close().await;
    drop(driver);
    app.stop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
}
