//! The browser agent in the namespace lab: Debian's headless Chromium in a "dev" namespace,
//! configured the way a district configures a student's browser — through Chromium's policy
//! files: the agent force-installed from the controller's own update manifest
//! (`ExtensionInstallForcelist`), its managed storage (controller, enrollment secret, site), a
//! `URLBlocklist`, and an explicit proxy (`ProxySettings`) — plus a filter extension written for
//! the test that behaves as the published ones do (it sends top-level navigations of a listed
//! site to its block host). The "net" namespace plays the district resolver with a DNS filter
//! (dnsmasq), the product's web server and both filters' block servers (nginx), the proxy
//! (squid), the product's STUN server (coturn) behind the district NAT, the firewall that drops
//! a media port (nftables), and the controller.
//!
//! Asserted from what the controller stored: the extension block, the policy block, the proxy
//! block, the DNS block and the allowed product each get their outcome, layer and vendor; the
//! STUN port that answers and the one dropped; round trips to the product that its server saw
//! and the evaluation judged; device facts that match what Chromium and the
//! kernel report; the native agent at the same site getting through where the browser is
//! blocked, and the recommendation naming the browser-layer conditions; then a browser killed
//! while its report waits to be delivered (the controller down) delivers it once when it comes
//! back, and runs nothing twice. Screenshots of what each URL shows in the same browser, error
//! pages included (through chromedriver in the device namespace), are kept under
//! `target/browser-agent-artifacts/`.
//!
//! Needs root and the Debian packages iproute2, nftables, dnsmasq-base, nginx-light, coturn,
//! squid-openssl, chromium, chromium-driver, openssl, nodejs and util-linux. `FITCHECK_SKIP_LAB=1` at build time
//! skips it. Traffic goes only to the two namespaces it creates (10.77.0.0/24) and to the
//! controller over a management link into "net" (10.77.9.0/30); nothing is routed further.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use fitcheck_tests::browser::{
    self, BrowserLab, DROPPED_STUN_PORT, FILTER_ID, NET_IP, SQUID_PORT, browser_report, evaluation,
    reports, result, upload, wait_until,
};
use fitcheck_tests::expect::Failures;
use fitcheck_tests::lab::{self, OrPanic};
use serde_json::{Value, json};

/// The product: one URL of each kind of block, and the allowed one.
const PROFILE: &str = r#"format = 1
id = "lab-browser"
name = "Lab Browser Product"
vendor = "Lab Vendor"
reviewed = "2026-11-30"
sources = ["https://vendor.example/requirements"]

[[dns]]
name = "app.lab.test"

# Reached only through the proxy, and unknown to the district's resolver.
[[dns]]
name = "nxproxied.lab.test"

[[http]]
url = "http://app.lab.test/"

[[http]]
url = "http://ext-blocked.lab.test/"

[[http]]
url = "http://policy-blocked.lab.test/lessons/today"

[[http]]
url = "https://proxied.lab.test/"

[[http]]
url = "http://dnsblocked.lab.test/"

# Through the proxy over plain HTTP: squid answers its own 403 block page.
[[http]]
url = "http://proxyblocked.lab.test/"

[[http]]
url = "http://app.lab.test/empty-403"

[[http]]
url = "http://nxproxied.lab.test/"

# A second filter extension, in no catalog, replaces this navigation with a page of its own.
[[http]]
url = "http://replaced.lab.test/"

# The DNS filter's other answer: 0.0.0.0.
[[http]]
url = "http://zeroed.lab.test/"


[[ports]]
protocol = "udp"
host = "stun.lab.test"
port = 3478
probe = "stun"

[[ports]]
protocol = "udp"
host = "stun.lab.test"
port = 3479
probe = "stun"

[[ports]]
protocol = "tcp"
host = "app.lab.test"
port = 80

[network]
download_mbps_per_user = 1.0
upload_mbps_per_user = 0.5
max_rtt_ms = 200

# The filter extension, loaded at 1.0.0: present, and too old for the second entry.
[[software]]
kind = "chrome_extension"
id = "igcdneocfhinlcbcdmhhnpmpldmjeiph"
name = "Lab Filter"
os = ["linux"]
min_version = "1.0"

[[software]]
kind = "chrome_extension"
id = "igcdneocfhinlcbcdmhhnpmpldmjeiph"
name = "Lab Filter"
presence = "absent"
os = ["linux"]

# Never installed in the lab's browser.
[[software]]
kind = "chrome_extension"
id = "pppppppppppppppppppppppppppppppa"
name = "Lab Reader"
os = ["linux"]
critical = false
"#;

/// The second evaluation, run while the controller is down: one URL, quick.
const QUICK_PROFILE: &str = r#"format = 1
id = "lab-browser-quick"
name = "Lab Browser Quick"
vendor = "Lab Vendor"
reviewed = "2026-11-30"
sources = ["https://vendor.example/requirements"]

[[http]]
url = "http://app.lab.test/quick"
"#;

/// Whether the agent's extension storage in `profile` holds a report waiting in its spool
/// (LevelDB writes each new value to its log as it is, so the report's text is there).
fn spooled(profile: &Path, agent_id: &str, evaluation: &str) -> bool {
    let dir = profile
        .join("Default/Local Extension Settings")
        .join(agent_id);
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return false;
    };
    entries.flatten().any(|e| {
        std::fs::read(e.path()).is_ok_and(|bytes| {
            let text = String::from_utf8_lossy(&bytes);
            text.contains("fitcheck.report/v1") && text.contains(evaluation)
        })
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    fitcheck_skip_lab,
    ignore = "FITCHECK_SKIP_LAB=1 at build time: the namespace lab is skipped"
)]
async fn the_browser_agent_sees_what_a_students_browser_sees() {
    let t0 = Instant::now();
    let mut b = BrowserLab::start(None).or_panic();
    eprintln!(
        "browser-agent lab: servers and controller up ({:.1} s)",
        t0.elapsed().as_secs_f64()
    );
    let d = b.d().to_path_buf();
    let d = d.as_path();
    let net = b.lab.net.clone();
    let agent_id = b.agent_id.clone();
    let mut client = b.controller.client().unwrap();
    client
        .login("admin", &b.controller.admin_password)
        .await
        .unwrap();
    let profile_id = upload(&client, "lab-browser.toml", PROFILE)
        .await
        .or_panic();
    let main = evaluation(
        &client,
        "Lab Browser Product in the students' browsers",
        &profile_id,
        json!({"max_seconds": 3}),
    )
    .await
    .or_panic();

    let policy = b.policy(&json!({
        // An entry for a path under a parent domain: the browser cannot say which entry matched,
        // the native agent on the same machine reads it from the policy file.
        "URLBlocklist": ["games.lab.test", "lab.test/lessons"],
        "URLAllowlist": ["lab.test/lessons/open"],
        "ProxySettings": {
            "ProxyMode": "fixed_servers",
            "ProxyServer": format!("{NET_IP}:{SQUID_PORT}"),
            "ProxyBypassList": format!("app.lab.test,ext-blocked.lab.test,policy-blocked.lab.test,dnsblocked.lab.test,replaced.lab.test,zeroed.lab.test,blocked.filter.test,stun.lab.test,{NET_IP}"),
        },
    }));
    b.write_policy(&policy).or_panic();
    let profile = d.join("chromium-profile");
    let filter = [browser::filter_extension(), browser::redirector_extension()];
    let chromium = b
        .start_browser(&profile, "chromium.log", &filter)
        .or_panic();
    // The native agent at the same site, meanwhile: what the network lets through.
    b.native_agent().or_panic();

    let started = Instant::now();
    let report = browser_report(&client, &main, Duration::from_secs(180))
        .await
        .or_panic();
    eprintln!(
        "browser-agent lab: the agent force-installed, enrolled, ran and delivered in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let mut f = Failures::default();
    let scope = "browser report";
    let http = |i: usize| {
        result(&report, &format!("http[{i}]"))
            .cloned()
            .unwrap_or(Value::Null)
    };
    let expect_http =
        |f: &mut Failures, i: usize, outcome: &str, layer: Option<&str>, vendor: Option<&str>| {
            let r = http(i);
            f.that(
                scope,
                r["outcome"] == outcome,
                format!("http[{i}] outcome {outcome}: {r:#}"),
            );
            f.that(
                scope,
                r["evidence"]["method"] == "navigation",
                format!("http[{i}] made as a navigation: {r:#}"),
            );
            match layer {
                Some(l) => f.that(
                    scope,
                    r["evidence"]["blocking_layer"] == l,
                    format!("http[{i}] layer {l}: {r:#}"),
                ),
                None => f.that(
                    scope,
                    r["evidence"]["blocking_layer"].is_null(),
                    format!("http[{i}] no layer: {r:#}"),
                ),
            }
            if let Some(v) = vendor {
                f.that(
                    scope,
                    r["evidence"]["signature"]["vendor"] == v,
                    format!("http[{i}] vendor {v}: {r:#}"),
                );
            }
            f.that(
                scope,
                r["evidence"]["window_ms"].as_f64().is_some_and(|w| w > 0.0),
                format!("http[{i}] window time: {r:#}"),
            );
        };
    expect_http(&mut f, 0, "reachable", None, None);
    expect_http(
        &mut f,
        1,
        "blocked_by_filter",
        Some("browser_extension"),
        Some("Lab Filter"),
    );
    expect_http(&mut f, 2, "blocked_by_filter", Some("browser_policy"), None);
    expect_http(&mut f, 3, "blocked_by_filter", Some("http_proxy"), None);
    expect_http(
        &mut f,
        4,
        "blocked_by_filter",
        Some("dns"),
        Some("Lab DNS Filter"),
    );
    f.that(
        scope,
        http(2)["evidence"]["net_error"] == "net::ERR_BLOCKED_BY_ADMINISTRATOR",
        format!("the policy block's error: {:#}", http(2)),
    );
    // The proxy's own block page over plain HTTP: the browser records the status and the
    // headers as it saw them; the controller judges them against the catalog's block pages.
    let squid = http(5);
    f.that(
        scope,
        squid["evidence"]["status"] == 403
            && squid["evidence"]["headers"]["x-squid-error"]
                .as_str()
                .is_some_and(|v| v.starts_with("ERR_ACCESS_DENIED")),
        format!("http[5] the proxy's 403 and its headers recorded: {squid:#}"),
    );
    // Through the proxy, the address the browser connected to is the proxy's: no DNS answer is
    // taken from it, even for a name the district's resolver does not know.
    let proxied = http(7);
    f.that(
        scope,
        proxied["evidence"]["address"].is_null()
            && proxied["evidence"]["proxy"] == format!("http://{NET_IP}:{SQUID_PORT}"),
        format!("http[7] through the proxy, no address of its own: {proxied:#}"),
    );
    f.that(
        scope,
        result(&report, "dns[1]").is_none(),
        format!(
            "no DNS answer for a name only the proxy was asked for: {:#}",
            result(&report, "dns[1]").cloned().unwrap_or(Value::Null)
        ),
    );
    // A navigation an unlisted extension replaced: the browser's block, the extensions that
    // could have done it named; never the product answering, never a network layer.
    let replaced = http(8);
    f.that(
        scope,
        replaced["outcome"] == "blocked_by_filter"
            && replaced["evidence"]["blocking_layer"] == "browser_extension"
            && replaced["evidence"]["detail"]
                .as_str()
                .is_some_and(|d| d.contains("Lab Redirector") && d.contains("replaced.lab.test")),
        format!("http[8] a replaced navigation is an extension's block: {replaced:#}"),
    );
    // The DNS filter's 0.0.0.0: Chromium connects to it, is refused and names no address; the
    // agent then asks the browser's resolver, whose answer makes it the DNS filter's block.
    expect_http(&mut f, 9, "blocked_by_filter", Some("dns"), None);
    let zeroed = http(9);
    f.that(
        scope,
        zeroed["evidence"]["address"] == "0.0.0.0"
            && zeroed["evidence"]["detail"]
                .as_str()
                .is_some_and(|d| d.contains("the browser's resolver answers it")),
        format!("http[9] the resolver's sinkhole answer recorded: {zeroed:#}"),
    );
    // An error status with an empty body is that status, never a reset (Chromium reports it
    // as net::ERR_HTTP_RESPONSE_CODE_FAILURE where it shows its own error page instead).
    let empty = http(6);
    f.that(
        scope,
        empty["outcome"] == "unexpected_status"
            && empty["evidence"]["status"] == 403
            && (empty["evidence"]["net_error"].is_null()
                || empty["evidence"]["net_error"] == "net::ERR_HTTP_RESPONSE_CODE_FAILURE")
            && empty["evidence"]["blocking_layer"].is_null(),
        format!("http[6] status 403 with an empty body: {empty:#}"),
    );
    for (req, outcome) in [("ports[0]", "answered"), ("ports[1]", "no_answer")] {
        let r = result(&report, req).cloned().unwrap_or(Value::Null);
        f.that(
            scope,
            r["check"] == "udp" && r["outcome"] == outcome,
            format!("{req} {outcome}: {r:#}"),
        );
    }
    f.that(
        scope,
        result(&report, "ports[2]").is_none(),
        "a raw TCP port cannot be checked from a browser: no result (unknown)",
    );
    let nft_dropped = lab::nft_counter(&net, ("ip", "fitlab_browser"), "dropped_udp").unwrap_or(0);
    f.that(
        scope,
        nft_dropped > 0,
        format!(
            "the firewall dropped the STUN requests to {DROPPED_STUN_PORT} ({nft_dropped} packets)"
        ),
    );
    let bw = report["results"]
        .as_array()
        .and_then(|r| r.iter().find(|x| x["check"] == "bandwidth"))
        .cloned()
        .unwrap_or(Value::Null);
    f.that(
        scope,
        bw["outcome"] == "measured" && bw["download_mbps"].as_f64().is_some_and(|v| v > 0.0),
        format!("throughput against the controller measured: {bw:#}"),
    );

    // Round trips to the product, beside those to the controller: HEAD requests the product's
    // server logged from Chromium, judged against the profile's tolerance.
    let latencies: Vec<Value> = report["results"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter(|x| x["check"] == "latency")
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    let to = |host: &str| {
        latencies
            .iter()
            .find(|l| l["target"] == host)
            .cloned()
            .unwrap_or(Value::Null)
    };
    let product_rtt = to("app.lab.test");
    f.that(
        scope,
        product_rtt["outcome"] == "measured"
            && product_rtt["method"] == "http_fetch"
            && product_rtt["probes"] == 20
            && product_rtt["rtt_ms"].as_f64().is_some_and(|v| v > 0.0),
        format!("round trips to the product measured: {latencies:#?}"),
    );
    f.that(
        scope,
        to(&NET_IP.to_string())["outcome"] == "measured",
        format!("round trips to the controller measured: {latencies:#?}"),
    );
    eprintln!(
        "browser-agent lab: round trips to the product {} ms median ({}–{} ms, jitter {} ms), to the controller {} ms median",
        product_rtt["rtt_ms"],
        product_rtt["rtt_min_ms"],
        product_rtt["rtt_max_ms"],
        product_rtt["jitter_ms"],
        to(&NET_IP.to_string())["rtt_ms"]
    );
    let heads = browser::served(d, |l| {
        l.contains(" app.lab.test \"HEAD / HTTP/1.1\" ") && l.contains("Chrome/")
    })
    .len();
    f.that(
        scope,
        heads == 21,
        format!("the product's server saw the 21 timed HEAD requests (one opens the connection), saw {heads}"),
    );
    let parsed = fitcheck_core::profile::Profile::parse("lab-browser.toml", PROFILE)
        .unwrap_or_else(|e| panic!("the lab's profile: {e}"));
    match serde_json::from_value::<fitcheck_core::report::Report>(report.clone()) {
        Ok(stored) => {
            let judged =
                fitcheck_core::evaluate::evaluate(&parsed, &stored.device, &stored.results);
            let rtt = judged
                .requirements
                .iter()
                .find(|r| r.id == "network.max_rtt_ms");
            let expected = product_rtt["rtt_ms"].as_f64().map(|v| format!("{v} ms"));
            f.that(
                scope,
                rtt.is_some_and(|r| {
                    r.status == fitcheck_core::evaluate::Status::Pass
                        && expected
                            .as_ref()
                            .is_some_and(|e| r.observed.starts_with(e.as_str()))
                }),
                format!(
                    "the product's round trip is what is judged: {rtt:?}, expected {expected:?}"
                ),
            );
        }
        Err(e) => f.that(
            scope,
            false,
            format!("the stored report reads as a report: {e}"),
        ),
    }

    // Device facts, against what Chromium and the kernel say.
    let device = &report["device"];
    let version = lab::run_bounded(
        Command::new("/usr/bin/chromium").arg("--version"),
        Duration::from_secs(20),
    )
    .or_panic();
    let version = version
        .stdout
        .split_whitespace()
        .find(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .unwrap_or("")
        .to_owned();
    let browsers = device["browsers"]["installed"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    f.that(
        scope,
        browsers
            .iter()
            .any(|b| b["name"] == "chromium" && b["version"] == version.as_str()),
        format!("Chromium {version} among the browsers: {browsers:?}"),
    );
    f.that(
        scope,
        device["os"]["family"] == "linux",
        format!("OS family: {:#}", device["os"]),
    );
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get() as u64);
    f.that(
        scope,
        device["cpu"]["logical_cores"].as_u64() == Some(cores),
        format!("{cores} logical cores: {:#}", device["cpu"]),
    );
    let mem_total = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .unwrap_or(0)
        * 1024;
    let reported = device["memory"]["total_bytes"].as_u64().unwrap_or(0);
    f.that(
        scope,
        reported.abs_diff(mem_total) <= mem_total / 50,
        format!("memory {reported} bytes, the kernel says {mem_total}"),
    );
    f.that(
        scope,
        device["disk"].is_null(),
        "free disk is unknown in a browser, never guessed",
    );
    let extensions = device["extensions"]["installed"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    f.that(
        scope,
        extensions.iter().any(|e| {
            e["id"] == FILTER_ID && e["filter_vendor"] == "Lab Filter" && e["enabled"] == true
        }),
        format!("the filter extension is listed and named: {extensions:?}"),
    );
    f.that(
        scope,
        !extensions.iter().any(|e| e["id"] == agent_id.as_str()),
        "the agent does not list itself",
    );
    // The software the profile names, from chrome.management, once each: the filter at its
    // manifest's version, loaded unpacked; the reader, never installed, absent from the report.
    let software = &device["software"];
    f.that(
        scope,
        software["sources"] == json!([{"source": "chrome_management", "detection": "detected"}])
            && software["found"]
                == json!([
                    {"kind": "chrome_extension", "id": FILTER_ID, "version": "1.0.0", "source": "chrome_management", "enabled": true, "install_type": "development"},
                ]),
        format!("the named extensions as chrome.management lists them: {software:#}"),
    );
    if let Ok(stored) = serde_json::from_value::<fitcheck_core::report::Report>(report.clone()) {
        let judged = fitcheck_core::evaluate::evaluate(&parsed, &stored.device, &stored.results);
        let of = |id: &str| {
            judged
                .requirements
                .iter()
                .find(|r| r.id == id)
                .map(|r| (r.status, r.remedy.clone().unwrap_or_default()))
        };
        use fitcheck_core::evaluate::Status;
        // The browser's report alone sends the sinkholed name to the DNS filter, never to the
        // firewall.
        f.that(
            scope,
            of("http[9]").is_some_and(|(s, r)| {
                s == Status::Fail
                    && r == "allow zeroed.lab.test in the DNS filter (it blocks the name)"
            }),
            format!(
                "the browser alone: the DNS filter's action: {:?}",
                of("http[9]")
            ),
        );
        f.that(
            scope,
            of("software[0]").is_some_and(|(s, _)| s == Status::Pass),
            format!("the filter at 1.0.0 meets 1.0: {:?}", of("software[0]")),
        );
        f.that(
            scope,
            of("software[1]").is_some_and(|(s, r)| s == Status::Fail
                && r.starts_with("remove or block Lab Filter (igcdneocfhinlcbcdmhhnpmpldmjeiph) in the Google Admin console")),
            format!("the filter where it must be absent: {:?}", of("software[1]")),
        );
        f.that(
            scope,
            of("software[2]").is_some_and(|(s, r)| {
                s == Status::Warn
                    && r.starts_with("force-install Lab Reader (pppppppppppppppppppppppppppppppa)")
            }),
            format!("the reader, missing: {:?}", of("software[2]")),
        );
    }

    // The network's view at the same site, and the recommendation.
    let natives: Vec<Value> = reports(&client, &main)
        .await
        .or_panic()
        .into_iter()
        .filter(|r| r["agent"]["kind"] != "browser")
        .collect();
    f.that(
        "native report",
        natives.len() == 1,
        format!("one native report, {} stored", natives.len()),
    );
    if let Some(native) = natives.first() {
        for i in [1, 2] {
            let r = result(native, &format!("http[{i}]"))
                .cloned()
                .unwrap_or(Value::Null);
            f.that(
                "native report",
                r["outcome"] == "reachable",
                format!("the network lets http[{i}] through: {r:#}"),
            );
        }
        // The browser's own policy, read from its file on the machine: the entry that decides.
        let r = result(native, "http[2]").cloned().unwrap_or(Value::Null);
        f.that(
            "native report",
            r["evidence"]["browser_policy"]
                == json!([{
                    "browser": "chromium",
                    "policy": "URLBlocklist",
                    "entry": "lab.test/lessons",
                    "source": "/etc/chromium/policies/managed/fitcheck-lab.json",
                }]),
            format!("the URLBlocklist entry read on the machine: {r:#}"),
        );
        let r = result(native, "http[1]").cloned().unwrap_or(Value::Null);
        f.that(
            "native report",
            r["evidence"].get("browser_policy").is_none(),
            format!("no entry blocks http[1]: {r:#}"),
        );
    }
    let (_, rec) = client
        .get(&format!("/api/v1/evaluations/{main}/recommendation"))
        .await
        .unwrap();
    let actions: Vec<String> = rec["conditions"]
        .as_array()
        .map(|c| {
            c.iter()
                .filter_map(|c| c["action"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    for needle in [
        "allow ext-blocked.lab.test in Lab Filter's policy for the student OU — blocked in the browser at 1 site(s) (lincoln); the network allows it",
        "remove the entry `lab.test/lessons` of Chromium's URLBlocklist (/etc/chromium/policies/managed/fitcheck-lab.json), or add a URLAllowlist entry as specific, to allow policy-blocked.lab.test — blocked in the browser at 1 site(s) (lincoln); the network allows it",
    ] {
        f.that(
            "recommendation",
            actions.iter().any(|a| a == needle),
            format!("condition {needle:?} in {actions:#?}"),
        );
    }
    f.that(
        "recommendation",
        actions
            .iter()
            .filter(|a| a.contains("policy-blocked.lab.test"))
            .count()
            == 1,
        format!("one action for the policy's block, the entry the native agent read: {actions:#?}"),
    );
    f.that(
        "recommendation",
        actions
            .iter()
            .any(|a| a.contains("proxyblocked.lab.test") && a.contains("Squid")),
        format!("the proxy's block page judged by the catalog, Squid named: {actions:#?}"),
    );
    f.that(
        "recommendation",
        !actions
            .iter()
            .any(|a| a.contains("proxyblocked.lab.test") && a.contains("ask the vendor")),
        format!("a proxy's block is never the vendor's to explain: {actions:#?}"),
    );
    f.that(
        "recommendation",
        !actions
            .iter()
            .any(|a| a.contains("nxproxied.lab.test") && a.contains("ask the vendor")),
        format!(
            "a name the proxy could not resolve is never the vendor's to explain: {actions:#?}; the browser's: {:#}",
            http(7)
        ),
    );
    // The DNS filter's 0.0.0.0, seen by both agents at the same site: the action is the DNS
    // filter's, never a firewall rule about the same host there.
    let about_zeroed: Vec<&String> = actions
        .iter()
        .filter(|a| a.contains("zeroed.lab.test"))
        .collect();
    f.that(
        "recommendation",
        !about_zeroed.is_empty()
            && about_zeroed
                .iter()
                .all(|a| a.contains("DNS filter") && !a.contains("firewall")),
        format!("a DNS filter's 0.0.0.0 is the DNS filter's condition only: {about_zeroed:#?}"),
    );
    let about_replaced: Vec<&String> = actions
        .iter()
        .filter(|a| a.contains("replaced.lab.test"))
        .collect();
    f.that(
        "recommendation",
        !about_replaced.is_empty()
            && about_replaced
                .iter()
                .all(|a| a.contains("blocked in the browser") && !a.contains("DNS")),
        format!("a replaced navigation is a browser-extension condition only: {about_replaced:#?}"),
    );
    let notes = rec["notes"].to_string();
    f.that(
        "recommendation",
        !notes.contains("browser layer is unverified"),
        format!("browser agents reported: {notes}"),
    );

    // The browser killed while its report waits to be delivered: the controller is down when
    // the next evaluation's report is ready, the browser crashes, both come back.
    let quick_profile = upload(&client, "lab-browser-quick.toml", QUICK_PROFILE)
        .await
        .or_panic();
    let quick = evaluation(&client, "Lab Browser Quick", &quick_profile, Value::Null)
        .await
        .or_panic();
    let quick_fetches = || browser::served(d, |l| l.contains("GET /quick")).len();
    wait_until(
        "the browser agent opening the quick evaluation's URL",
        Duration::from_secs(120),
        || async { (quick_fetches() > 0).then_some(()) },
    )
    .await
    .or_panic();
    b.controller.terminate().or_panic();
    wait_until(
        "the quick report in the agent's spool",
        Duration::from_secs(60),
        || async { spooled(&profile, &agent_id, &quick).then_some(()) },
    )
    .await
    .or_panic();
    b.lab.kill(chromium).or_panic();
    b.controller.restart().or_panic();
    let client = {
        let mut c = b.controller.client().unwrap();
        c.login("admin", &b.controller.admin_password)
            .await
            .unwrap();
        c
    };
    // What the agent sends from now on, counted by the restarted controller (from zero): every
    // delivery whatever its answer, and every poll. An agent's cycle delivers its spool first,
    // then polls; so by the second poll after the first delivery, a cycle has run since that
    // delivery, and anything left in the spool (a report delivered twice, the evaluation run
    // again) would have been sent.
    let count = |route: &'static str| {
        let client = &client;
        async move {
            let label = format!("route=\"{route}\"");
            browser::metric(
                client,
                "fitcheck_http_request_duration_seconds_count",
                &[label.as_str()],
            )
            .await
            .ok()
        }
    };
    b.start_browser(&profile, "chromium-after-crash.log", &filter)
        .or_panic();
    let polls_at_delivery = wait_until(
        "the spooled report delivered after the crash",
        Duration::from_secs(120),
        || async {
            let delivered = count("/api/agent/v1/reports").await? >= 1;
            if delivered {
                count("/api/agent/v1/assignments").await
            } else {
                None
            }
        },
    )
    .await
    .or_panic();
    wait_until(
        "the agent's next cycle after the delivery",
        Duration::from_secs(150),
        || async {
            (count("/api/agent/v1/assignments").await? >= polls_at_delivery + 2).then_some(())
        },
    )
    .await
    .or_panic();
    let deliveries = count("/api/agent/v1/reports").await;
    f.that(
        "after the crash",
        deliveries == Some(1),
        format!(
            "the spooled report delivered once and no other report sent: {deliveries:?} deliveries"
        ),
    );
    let ingested = |result: &'static str| {
        let client = &client;
        async move {
            let label = format!("result=\"{result}\"");
            browser::metric(client, "fitcheck_reports_ingested_total", &[label.as_str()])
                .await
                .ok()
        }
    };
    let (stored_now, duplicates) = (ingested("stored").await, ingested("duplicate").await);
    f.that(
        "after the crash",
        stored_now == Some(1) && duplicates == Some(0),
        format!("one report stored and none offered twice: stored {stored_now:?}, duplicate {duplicates:?}"),
    );
    let stored = reports(&client, &quick).await.or_panic();
    f.that(
        "after the crash",
        stored.len() == 1
            && stored[0]["agent"]["kind"] == "browser"
            && stored[0]["results"]
                .as_array()
                .is_some_and(|r| !r.is_empty()),
        format!(
            "the quick evaluation has its one report, whole: {} stored\n{stored:#?}",
            stored.len()
        ),
    );

    let artifacts = browser::repo().join("target/browser-agent-artifacts");
    std::fs::create_dir_all(&artifacts).unwrap();
    std::fs::write(
        artifacts.join("report.json"),
        serde_json::to_string_pretty(&report).unwrap(),
    )
    .unwrap();
    std::fs::write(
        artifacts.join("recommendation.json"),
        serde_json::to_string_pretty(&rec).unwrap(),
    )
    .unwrap();
    // Screenshots with the same policies and filter, the agent left out.
    let mut policy = policy;
    if let Some(p) = policy.as_object_mut() {
        p.remove("ExtensionInstallForcelist");
        p.remove("3rdparty");
    }
    b.write_policy(&policy).or_panic();
    let urls = [
        "http://app.lab.test/",
        "http://ext-blocked.lab.test/",
        "http://policy-blocked.lab.test/lessons/today",
        "https://proxied.lab.test/",
        "http://dnsblocked.lab.test/",
    ];
    match b.screenshots(&urls, &artifacts, &d.join("screenshot-profile"), &filter) {
        Ok(shots) => {
            let written = shots
                .as_array()
                .map_or(0, |s| s.iter().filter(|x| x["screenshot"] == true).count());
            eprintln!(
                "browser-agent lab: {written} of {} screenshots in {}: {shots}",
                urls.len(),
                artifacts.display()
            );
        }
        // The artifacts are for people to look at; their absence fails nothing asserted.
        Err(e) => eprintln!("browser-agent lab: no screenshots: {e:#}"),
    }
    eprintln!(
        "browser-agent lab: done in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    f.finish();
}
