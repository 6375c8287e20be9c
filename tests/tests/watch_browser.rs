//! A watched product and a browser-extension rule, in the browser lab: Debian's headless
//! Chromium in a "dev" namespace with the browser agent force-installed by policy and the lab's
//! filter extension (a school web filter that sends listed sites' navigations to its block
//! host). The product passes in the browser and is approved and watched. Then the filter
//! extension is updated (1.0.0 to 1.1.0) with a rule that blocks the product, and the browser
//! restarts, as a managed browser picks up an update: the agent reports the new version, the
//! controller starts a round at once, and within two rounds an alert arrives at an HTTP
//! receiver and the district's mail submission server naming the filter extension, its
//! administrator and the update. The extension is updated again without the rule (1.2.0): the
//! resolution arrives, each message once.
//!
//! Needs what the browser lab needs (see `tests/src/browser.rs`). `FITCHECK_SKIP_LAB=1` at build
//! time skips it. Traffic goes only to the lab's namespaces (10.77.0.0/24) and to the
//! controller over a management link (10.77.64.0/30), where the receivers listen too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::time::{Duration, Instant};

use fitcheck_tests::browser::{
    BrowserLab, SITE, browser_report, evaluation, filter_extension, result, upload,
};
use fitcheck_tests::controller::{Client, last_decided, post_ok, round_decided_after, watch_round};
use fitcheck_tests::lab::OrPanic;
use fitcheck_tests::receivers::{self, Bodies, Submission, count, kinds};
use serde_json::{Value, json};

/// The management link's third octet: 10.77.64.0/30, this side `.1`.
const MGMT: u8 = 64;
const HERE: &str = "10.77.64.1";

const PROFILE: &str = r#"format = 1
id = "lab-watched"
name = "Lab Watched Product"
vendor = "Lab Vendor"
reviewed = "2026-12-06"
sources = ["https://vendor.example/requirements"]

[[http]]
url = "http://app.lab.test/watched/"
"#;

/// Rewrites the filter extension Chromium loads (the lab's copy, `extension-0`) as `version`,
/// with a rule blocking the watched product's pages when `blocks`.
fn filter_version(d: &Path, version: &str, blocks: bool) {
    let copy = d.join("extension-0");
    let manifest_path = copy.join("manifest.json");
    let mut manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(&manifest_path).unwrap()).unwrap();
    manifest["version"] = json!(version);
    std::fs::write(&manifest_path, manifest.to_string()).unwrap();
    let original: Value = serde_json::from_str(
        &std::fs::read_to_string(filter_extension().join("rules.json")).unwrap(),
    )
    .unwrap();
    let mut rules = original.as_array().unwrap().clone();
    if blocks {
        rules.push(json!({
            "id": 100,
            "priority": 1,
            "action": {"type": "redirect",
                       "redirect": {"regexSubstitution": "http://blocked.filter.test/blocked?url=\\0"}},
            "condition": {"regexFilter": "^https?://app\\.lab\\.test/watched/.*",
                          "resourceTypes": ["main_frame"]},
        }));
    }
    std::fs::write(copy.join("rules.json"), Value::Array(rules).to_string()).unwrap();
}

/// Starts a round now and waits until it is decided.
async fn round(client: &Client, id: &str) {
    watch_round(client, id, Duration::from_secs(120))
        .await
        .or_panic();
}

/// Updates the filter extension to `version` (with the rule that blocks the product when
/// `blocks`) and restarts the browser (PID `chromium`) with it, as a managed browser takes an
/// update; waits until the round that its agent's report of the update starts is decided.
/// Returns the new browser's PID.
async fn update_filter(
    b: &mut BrowserLab,
    client: &Client,
    id: &str,
    chromium: u32,
    (version, blocks): (&str, bool),
) -> u32 {
    let d = b.d().to_path_buf();
    b.lab.kill(chromium).or_panic();
    filter_version(&d, version, blocks);
    let before = last_decided(client, id).await.or_panic();
    let chromium = b
        .start_browser(
            &d.join("chromium-profile"),
            &format!("chromium-{version}.log"),
            &[filter_extension()],
        )
        .or_panic();
    round_decided_after(client, id, before, Duration::from_secs(120))
        .await
        .or_panic();
    chromium
}

/// Waits until the submission server holds `n` mails; them.
async fn mails(smtp: &Submission, n: usize, what: &str) -> Vec<String> {
    let start = Instant::now();
    while smtp.mails().len() < n {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no {what} by mail"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    smtp.mails()
}

/// Posts `body` and asserts a 2xx answer.
async fn post(client: &Client, path: &str, body: Value) -> Value {
    post_ok(client, path, &body).await.or_panic()
}

/// Until `n` webhook messages arrived (the watch's rounds told when they do not).
async fn messages(client: &Client, id: &str, got: &Bodies, n: usize, what: &str) -> Vec<Value> {
    let start = Instant::now();
    while count(got) < n {
        if start.elapsed() > Duration::from_secs(60) {
            let (_, w) = client
                .get(&format!("/api/v1/evaluations/{id}/watch"))
                .await
                .unwrap();
            panic!("waited for {what}; the watch: {w:#}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    got.lock()
        .unwrap()
        .iter()
        .map(|b| serde_json::from_str(b).unwrap())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    fitcheck_skip_lab,
    ignore = "FITCHECK_SKIP_LAB=1 at build time: the namespace lab is skipped"
)]
async fn a_filter_extension_update_that_blocks_the_product_alerts_and_the_next_resolves_it() {
    let mut b = BrowserLab::start_on(None, None, MGMT).or_panic();
    let d = b.d().to_path_buf();
    let mut client = b.controller.client().unwrap();
    client
        .login("admin", &b.controller.admin_password)
        .await
        .unwrap();
    let profile = upload(&client, "lab-watched.toml", PROFILE)
        .await
        .or_panic();
    let id = evaluation(&client, "Lab Watched Product", &profile, Value::Null)
        .await
        .or_panic();
    let policy = b.policy(&json!({}));
    b.write_policy(&policy).or_panic();
    let browser_profile = d.join("chromium-profile");
    let extensions = [filter_extension()];
    let chromium = b
        .start_browser(&browser_profile, "chromium.log", &extensions)
        .or_panic();

    // Passing in the browser, approved, watched.
    let report = browser_report(&client, &id, Duration::from_secs(180))
        .await
        .or_panic();
    let passed = result(&report, "http[0]").cloned().unwrap_or(Value::Null);
    assert_eq!(passed["outcome"], "reachable", "{passed:#}");
    let (hook, got) = receivers::webhook(HERE).or_panic();
    let smtp = Submission::start(HERE, &d).or_panic();
    post(
        &client,
        "/api/v1/users/admin/approvals",
        json!({"parties": ["business", "curriculum", "technology"]}),
    )
    .await;
    for party in ["business", "curriculum", "technology"] {
        post(
            &client,
            &format!("/api/v1/evaluations/{id}/approvals"),
            json!({"party": party, "outcome": "approved"}),
        )
        .await;
    }
    post(
        &client,
        "/api/v1/channels",
        json!({"name": "ops", "kind": "webhook", "url": hook}),
    )
    .await;
    post(&client, "/api/v1/channels", smtp.channel("browser admins")).await;
    post(
        &client,
        &format!("/api/v1/evaluations/{id}/watch"),
        json!({"schedule": "0 7 * * MON-FRI", "zone": "UTC", "collect_s": 25}),
    )
    .await;
    round(&client, &id).await;
    assert_eq!(count(&got), 0, "{:?}", kinds(&got));

    // The filter extension is updated with a rule that blocks the product; the browser
    // restarts with it. Its agent reports the new version, which starts a round at once.
    let chromium = update_filter(&mut b, &client, &id, chromium, ("1.1.0", true)).await;
    round(&client, &id).await;
    let opened = messages(&client, &id, &got, 1, "the alert").await.remove(0);
    assert_eq!(opened["kind"], "opened", "{opened}");
    assert_eq!(opened["requirement"], "http[0]", "{opened}");
    let summary = opened["summary"].as_str().unwrap();
    assert!(
        summary.contains(&format!(
            "Lab Filter now blocks app.lab.test in the browser at {SITE}"
        )),
        "{summary}"
    );
    assert!(
        summary.contains("changed meanwhile: the Lab Filter extension updated from 1.0.0 to 1.1.0"),
        "{summary}"
    );
    assert_eq!(
        opened["owner"], "browser filter administrator (extension policy)",
        "{opened}"
    );
    let mail = mails(&smtp, 1, "alert").await.remove(0);
    assert!(
        mail.contains("Lab Filter now blocks app.lab.test in the browser"),
        "{mail}"
    );

    // Updated again, without the rule: the resolution, each message once.
    update_filter(&mut b, &client, &id, chromium, ("1.2.0", false)).await;
    round(&client, &id).await;
    let all = messages(&client, &id, &got, 2, "the resolution").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(all.len(), 2);
    assert_eq!(kinds(&got), ["opened", "resolved"], "each message once");
    mails(&smtp, 2, "resolution").await;
    assert_eq!(smtp.mails().len(), 2, "each message once");
}
