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
//! STUN port that answers and the one dropped; device facts that match what Chromium and the
//! kernel report; the native agent at the same site getting through where the browser is
//! blocked, and the recommendation naming the browser-layer conditions; then a browser killed
//! while its report waits to be delivered (the controller down) delivers it once when it comes
//! back, and runs nothing twice. Screenshots of what each URL showed in the same browser are
//! kept under `target/browser-agent-artifacts/`.
//!
//! Needs root and the Debian packages iproute2, nftables, dnsmasq-base, nginx-light, coturn,
//! squid-openssl, chromium, openssl, nodejs and util-linux. `FITCHECK_SKIP_LAB=1` at build time
//! skips it. Traffic goes only to the two namespaces it creates (10.77.0.0/24) and to the
//! controller over a management link into "net" (10.77.9.0/30); nothing is routed further.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use fitcheck_tests::controller::{Client, ControllerProcess, Place};
use fitcheck_tests::expect::Failures;
use fitcheck_tests::lab::{self, Lab, OrPanic, Tool};
use serde_json::{Value, json};

const DEV_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 2);
/// The resolver, the proxy and the controller as devices reach it.
const NET_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);
const APP_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 10);
const FILTER_BLOCK_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 20);
const STUN_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 30);
/// The DNS filter's block server.
const SINKHOLE_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 66);
/// The district NAT's address, as the STUN server sees the device.
const NAT_IP: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 99);
const MGMT_HOST_IP: &str = "10.77.9.1";
const MGMT_NET_IP: &str = "10.77.9.2";
const STUN_PORT: u16 = 3478;
const DROPPED_STUN_PORT: u16 = 3479;
const SQUID_PORT: u16 = 3128;
const SITE: &str = "lincoln";
/// The filter extension written for the test (`tests/data/browser-filter`; its id follows from
/// the key in its manifest).
const FILTER_ID: &str = "igcdneocfhinlcbcdmhhnpmpldmjeiph";

/// The product: one URL of each kind of block, and the allowed one.
const PROFILE: &str = r#"format = 1
id = "lab-browser"
name = "Lab Browser Product"
vendor = "Lab Vendor"
reviewed = "2026-11-30"
sources = ["https://vendor.example/requirements"]

[[dns]]
name = "app.lab.test"

[[http]]
url = "http://app.lab.test/"

[[http]]
url = "http://ext-blocked.lab.test/"

[[http]]
url = "http://policy-blocked.lab.test/"

[[http]]
url = "https://proxied.lab.test/"

[[http]]
url = "http://dnsblocked.lab.test/"

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

/// The district's own signature file: the test filter's block host and extension id, and the
/// DNS filter's block server.
const DISTRICT_SIGNATURES: &str = r#"format = 1
version = "lab"

[[signature]]
id = "lab-filter-block-host"
vendor = "Lab Filter"
kind = "block_host"
source = "https://district.example/filter"
hosts = ["blocked.filter.test"]

[[signature]]
id = "lab-filter-extension"
vendor = "Lab Filter"
kind = "filter_extension"
source = "https://district.example/filter"
extension_ids = ["@FILTER_ID@"]

[[signature]]
id = "lab-dns-filter"
vendor = "Lab DNS Filter"
kind = "sinkhole_address"
source = "https://district.example/dns-filter"
addresses = ["@SINKHOLE_IP@"]
"#;

const TOOLS: [Tool; 4] = [
    Tool {
        path: "/usr/bin/chromium",
        package: "chromium",
    },
    Tool {
        path: "/usr/sbin/squid",
        package: "squid-openssl",
    },
    Tool {
        path: "/usr/bin/openssl",
        package: "openssl",
    },
    Tool {
        path: "/usr/bin/node",
        package: "nodejs",
    },
];

fn vars(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("DIR", dir.display().to_string()),
        ("SQUID_DIR", dir.join("squid").display().to_string()),
        ("DEV_IP", DEV_IP.to_string()),
        ("NET_IP", NET_IP.to_string()),
        ("APP_IP", APP_IP.to_string()),
        ("FILTER_BLOCK_IP", FILTER_BLOCK_IP.to_string()),
        ("STUN_IP", STUN_IP.to_string()),
        ("SINKHOLE_IP", SINKHOLE_IP.to_string()),
        ("NAT_IP", NAT_IP.to_string()),
        ("STUN_PORT", STUN_PORT.to_string()),
        ("DROPPED_STUN_PORT", DROPPED_STUN_PORT.to_string()),
        ("SQUID_PORT", SQUID_PORT.to_string()),
        ("FILTER_ID", FILTER_ID.to_owned()),
    ]
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The namespaces, their links and addresses, the firewall and every server but the controller.
fn build_lab(d: &Path) -> Lab {
    let mut lab = Lab::with_namespaces(&["dev", "net"]).or_panic();
    let (dev, net) = (lab.dev.clone(), lab.net.clone());
    let tag = format!("{}", std::process::id() % 100_000);
    let (dev_if, net_if) = (format!("fb{tag}d"), format!("fb{tag}n"));
    lab.veth((&dev, &dev_if), (&net, &net_if)).or_panic();
    lab.addr(&dev, &dev_if, &format!("{DEV_IP}/24")).or_panic();
    for ip in [NET_IP, APP_IP, FILTER_BLOCK_IP, STUN_IP, SINKHOLE_IP] {
        lab.addr(&net, &net_if, &format!("{ip}/24")).or_panic();
    }
    // The management link: this process reaches the controller in "net" over it. Both ends
    // are created where they live; deleting "net" removes the pair.
    let (mgmt_host, mgmt_net) = (format!("fb{tag}m"), format!("fb{tag}g"));
    lab::must(&[
        "ip", "link", "add", &mgmt_host, "type", "veth", "peer", "name", &mgmt_net, "netns", &net,
    ])
    .or_panic();
    lab::must(&[
        "ip",
        "addr",
        "add",
        &format!("{MGMT_HOST_IP}/30"),
        "dev",
        &mgmt_host,
    ])
    .or_panic();
    lab::must(&["ip", "link", "set", &mgmt_host, "up"]).or_panic();
    lab.addr(&net, &mgmt_net, &format!("{MGMT_NET_IP}/30"))
        .or_panic();
    lab.exec(&net, &["ip", "link", "set", &mgmt_net, "up"])
        .or_panic();
    lab.set_resolver(&dev, NET_IP).or_panic();

    let config =
        |name: &str, template: &str| lab::write_config(d, name, template, &vars(d)).or_panic();
    let nft = config("net.nft", include_str!("../lab/browser-net.nft.in"));
    lab.load_nft(&net, &nft).or_panic();
    let dnsmasq = config(
        "dnsmasq.conf",
        include_str!("../lab/browser-dnsmasq.conf.in"),
    );
    lab.spawn_dnsmasq("dnsmasq", &net, &dnsmasq, &d.join("dnsmasq.out"))
        .or_panic();
    let nginx = config("nginx.conf", include_str!("../lab/browser-nginx.conf.in"));
    lab.spawn_nginx(
        "nginx",
        &net,
        d,
        &nginx,
        &d.join("nginx-startup.log"),
        &d.join("nginx.out"),
    )
    .or_panic();
    lab.spawn_stun(&net, &[STUN_IP], STUN_PORT, d).or_panic();
    let squid_dir = d.join("squid");
    std::fs::create_dir_all(&squid_dir).unwrap();
    let squid = config(
        "squid/squid.conf",
        include_str!("../lab/browser-squid.conf.in"),
    );
    lab::must(&[
        "chown",
        "-R",
        "proxy:proxy",
        &squid_dir.display().to_string(),
    ])
    .or_panic();
    lab.spawn_as(
        "squid",
        &net,
        Some("proxy"),
        &["/usr/sbin/squid", "-N", "-f", &squid.display().to_string()],
        &d.join("squid.out"),
    )
    .or_panic();
    let want = [
        ("udp", format!("{NET_IP}:53")),
        ("tcp", format!("{APP_IP}:80")),
        ("tcp", format!("{FILTER_BLOCK_IP}:80")),
        ("tcp", format!("{SINKHOLE_IP}:80")),
        ("udp", format!("{STUN_IP}:{STUN_PORT}")),
        ("tcp", format!("{NET_IP}:{SQUID_PORT}")),
    ];
    lab.wait_listening(&net, &want, Duration::from_secs(120))
        .or_panic();
    lab
}

/// base64 of the SHA-256 of the certificate's public key: what Chromium's
/// `--ignore-certificate-errors-spki-list` takes. Devices trust the controller's certificate as
/// a district's own CA would make them; the lab pins its key instead.
fn spki_hash(cert: &Path) -> String {
    let script = format!(
        "openssl x509 -in '{}' -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64",
        cert.display()
    );
    let f = lab::run_bounded(
        Command::new("sh").args(["-c", &script]),
        Duration::from_secs(20),
    )
    .or_panic();
    assert!(f.status.success(), "spki hash: {}", f.stderr);
    f.stdout.trim().to_owned()
}

/// Chromium's policy, as `ip netns exec` mounts `/etc/netns/<dev>/chromium` over
/// `/etc/chromium` for the browser in "dev" only.
fn write_policy(dev: &str, policy: &Value) {
    let dir = Path::new("/etc/netns")
        .join(dev)
        .join("chromium/policies/managed");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("fitcheck-lab.json"),
        serde_json::to_string_pretty(policy).unwrap(),
    )
    .unwrap();
}

/// Starts headless Chromium in "dev" with `profile` as its user data directory and the test's
/// filter extension; the agent comes from the policy. Returns the browser's PID.
fn start_browser(lab: &mut Lab, d: &Path, profile: &Path, spki: &str, log: &str) -> u32 {
    let filter = repo().join("tests/data/browser-filter");
    let home = d.join("home");
    std::fs::create_dir_all(&home).unwrap();
    let args = [
        "/usr/bin/env".to_owned(),
        format!("HOME={}", home.display()),
        "/usr/bin/chromium".to_owned(),
        "--headless=new".to_owned(),
        "--no-sandbox".to_owned(),
        "--no-first-run".to_owned(),
        "--use-angle=swiftshader".to_owned(),
        "--enable-unsafe-swiftshader".to_owned(),
        format!("--user-data-dir={}", profile.display()),
        format!("--ignore-certificate-errors-spki-list={spki}"),
        // Debian's Chromium still loads unpacked extensions from the command line once this
        // feature is off; the agent itself is force-installed by policy.
        "--disable-features=DisableLoadExtensionCommandLineSwitch".to_owned(),
        format!("--load-extension={}", filter.display()),
        "about:blank".to_owned(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let dev = lab.dev.clone();
    lab.spawn("chromium", &dev, &args, &d.join(log)).or_panic()
}

/// Polls `probe` every half second until it gives a value or `limit` passes.
async fn wait_until<T, F, Fut>(what: &str, limit: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let start = Instant::now();
    loop {
        if let Some(v) = probe().await {
            return v;
        }
        assert!(
            start.elapsed() < limit,
            "{what}: not within {} s",
            limit.as_secs()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The reports stored for `evaluation`.
async fn reports(client: &Client, evaluation: &str) -> Vec<Value> {
    let (s, v) = client
        .get(&format!("/api/v1/evaluations/{evaluation}/reports"))
        .await
        .unwrap();
    assert_eq!(s, 200, "{v}");
    v.as_array().cloned().unwrap_or_default()
}

async fn report_body(client: &Client, info: &Value) -> Value {
    let (s, body) = client
        .get(&format!(
            "/api/v1/reports/{}",
            info["report_id"].as_str().unwrap()
        ))
        .await
        .unwrap();
    assert_eq!(s, 200, "{body}");
    body
}

/// The browser agent's stored report for `evaluation`, once there is one.
async fn browser_report(client: &Client, evaluation: &str, limit: Duration) -> Value {
    wait_until("the browser agent's report", limit, || async {
        for info in reports(client, evaluation).await {
            let body = report_body(client, &info).await;
            if body["agent"]["kind"] == "browser" {
                return Some(body);
            }
        }
        None
    })
    .await
}

fn result<'a>(report: &'a Value, requirement: &str) -> Option<&'a Value> {
    report["results"]
        .as_array()?
        .iter()
        .find(|r| r["requirement"] == requirement)
}

async fn upload(client: &Client, name: &str, profile: &str) -> String {
    let (s, p) = client
        .post(
            &format!("/api/v1/profiles?name={name}"),
            profile.to_owned(),
            "application/toml",
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{p}");
    p["id"].as_str().unwrap().to_owned()
}

async fn evaluation(client: &Client, title: &str, profile: &str, bandwidth: Value) -> String {
    let mut spec = json!({
        "title": title,
        "profile": profile,
        "sites": [SITE],
        "concurrent_users": {SITE: 20},
        "window_end": "2099-01-01T00:00:00Z",
        "min_devices_per_site": 1,
    });
    if !bandwidth.is_null() {
        spec["bandwidth"] = bandwidth;
    }
    let (s, e) = client
        .post("/api/v1/evaluations", spec.to_string(), "application/json")
        .await
        .unwrap();
    assert_eq!(s, 201, "{e}");
    e["id"].as_str().unwrap().to_owned()
}

/// Runs the native agent once in "dev" (enrolled at the same site), for the network's view.
fn native_agent(controller: &ControllerProcess, secret: &str, d: &Path, dev: &str) {
    let agent = lab::agent_binary().or_panic();
    let state = d.join("native-agent");
    let base = format!("https://{NET_IP}:{}", controller.port);
    let signatures = d.join("district-signatures.toml");
    let run = |args: &[&str], limit: u64| {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", dev]).arg(&agent).args(args);
        cmd.arg("--state-dir").arg(&state);
        let f =
            lab::run_bounded(lab::without_proxies(&mut cmd), Duration::from_secs(limit)).or_panic();
        assert!(f.status.success(), "{args:?}: {}{}", f.stdout, f.stderr);
    };
    run(
        &[
            "enroll",
            "--controller",
            &base,
            "--secret",
            secret,
            "--fingerprint",
            &controller.fingerprint,
            "--label",
            &format!("site={SITE}"),
        ],
        60,
    );
    run(
        &[
            "daemon",
            "--once",
            "--signatures",
            &signatures.display().to_string(),
        ],
        150,
    );
}

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

/// Screenshots of what each URL shows in this browser, policies and filter extension in force
/// (the agent is not loaded: it would enroll again). Test artifacts, not asserted.
fn screenshots(lab: &Lab, d: &Path, spki: &str, out: &Path) {
    std::fs::create_dir_all(out).unwrap();
    let filter = repo().join("tests/data/browser-filter");
    for (i, url) in [
        "http://app.lab.test/",
        "http://ext-blocked.lab.test/",
        "http://policy-blocked.lab.test/",
        "https://proxied.lab.test/",
        "http://dnsblocked.lab.test/",
    ]
    .iter()
    .enumerate()
    {
        let png = out.join(format!("http-{i}.png"));
        let profile = d.join(format!("screenshot-profile-{i}"));
        let f = lab::run_bounded(
            Command::new("ip").args(["netns", "exec", &lab.dev]).args([
                "/usr/bin/env",
                &format!("HOME={}", d.join("home").display()),
                "/usr/bin/chromium",
                "--headless=new",
                "--no-sandbox",
                "--no-first-run",
                &format!("--user-data-dir={}", profile.display()),
                &format!("--ignore-certificate-errors-spki-list={spki}"),
                "--disable-features=DisableLoadExtensionCommandLineSwitch",
                &format!("--load-extension={}", filter.display()),
                "--virtual-time-budget=3000",
                "--window-size=1024,640",
                &format!("--screenshot={}", png.display()),
                url,
            ]),
            Duration::from_secs(60),
        );
        if !f.as_ref().is_ok_and(|f| f.status.success()) {
            eprintln!("browser-agent lab: no screenshot of {url}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    fitcheck_skip_lab,
    ignore = "FITCHECK_SKIP_LAB=1 at build time: the namespace lab is skipped"
)]
async fn the_browser_agent_sees_what_a_students_browser_sees() {
    lab::preflight(&lab::BASE_TOOLS);
    lab::preflight(&TOOLS);
    let t0 = Instant::now();
    let dir = tempfile::Builder::new()
        .prefix("fitbrowser-")
        .tempdir()
        .unwrap();
    let d = dir.path();
    let mut lab = build_lab(d);
    let dev = lab.dev.clone();
    let net = lab.net.clone();
    eprintln!(
        "browser-agent lab: servers up ({:.1} s)",
        t0.elapsed().as_secs_f64()
    );

    // The controller, serving the packed agent and reading the district's signatures.
    let signatures =
        lab::write_config(d, "district-signatures.toml", DISTRICT_SIGNATURES, &vars(d)).or_panic();
    let dist = d.join("browser-agent-dist");
    std::fs::create_dir_all(&dist).unwrap();
    let controller_dir = d.join("controller");
    let mut controller = ControllerProcess::start_with(
        &controller_dir,
        None,
        Place {
            netns: Some(net.clone()),
            listen: "0.0.0.0".to_owned(),
            reach: MGMT_NET_IP.to_owned(),
        },
        &[
            "--signatures",
            &signatures.display().to_string(),
            "--browser-agent",
            &dist.display().to_string(),
        ],
    )
    .or_panic();
    let base = format!("https://{NET_IP}:{}", controller.port);
    let build = lab::run_bounded(
        Command::new(repo().join("scripts/build-browser-agent"))
            .arg("--key")
            .arg(repo().join("tests/data/browser-agent-dev.pem"))
            .args(["--controller", &base, "--out"])
            .arg(&dist),
        Duration::from_secs(120),
    )
    .or_panic();
    assert!(
        build.status.success(),
        "build-browser-agent: {}{}",
        build.stdout,
        build.stderr
    );
    let agent_id = build
        .stdout
        .lines()
        .find_map(|l| l.strip_prefix("extension id: "))
        .and_then(|l| l.split_whitespace().next())
        .expect("the build names the extension id")
        .to_owned();

    let mut client = controller.client().unwrap();
    client
        .login("admin", &controller.admin_password)
        .await
        .unwrap();
    let profile_id = upload(&client, "lab-browser.toml", PROFILE).await;
    let main = evaluation(
        &client,
        "Lab Browser Product in the students' browsers",
        &profile_id,
        json!({"max_seconds": 3}),
    )
    .await;
    let secret = controller.secret().unwrap();

    let spki = spki_hash(&controller_dir.join("tls/cert.pem"));
    let policy = json!({
        "ExtensionInstallForcelist": [format!("{agent_id};{base}/browser-agent/update.xml")],
        "URLBlocklist": ["policy-blocked.lab.test"],
        "ProxySettings": {
            "ProxyMode": "fixed_servers",
            "ProxyServer": format!("{NET_IP}:{SQUID_PORT}"),
            "ProxyBypassList": format!("app.lab.test,ext-blocked.lab.test,policy-blocked.lab.test,dnsblocked.lab.test,blocked.filter.test,stun.lab.test,{NET_IP}"),
        },
        "3rdparty": {"extensions": {agent_id.clone(): {
            "controller_url": base,
            "enrollment_secret": secret,
            "labels": {"site": SITE},
        }}},
    });
    write_policy(&dev, &policy);

    let profile = d.join("chromium-profile");
    let chromium = start_browser(&mut lab, d, &profile, &spki, "chromium.log");
    // The native agent at the same site, meanwhile: what the network lets through.
    native_agent(&controller, &secret, d, &dev);

    let started = Instant::now();
    let report = browser_report(&client, &main, Duration::from_secs(180)).await;
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

    // The network's view at the same site, and the recommendation.
    let natives: Vec<Value> = {
        let mut v = Vec::new();
        for info in reports(&client, &main).await {
            let body = report_body(&client, &info).await;
            if body["agent"]["kind"] != "browser" {
                v.push(body);
            }
        }
        v
    };
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
        "remove policy-blocked.lab.test from the Chrome URLBlocklist (or add it to URLAllowlist) for the student OU in Google Admin — blocked in the browser at 1 site(s) (lincoln); the network allows it",
    ] {
        f.that(
            "recommendation",
            actions.iter().any(|a| a == needle),
            format!("condition {needle:?} in {actions:#?}"),
        );
    }
    let notes = rec["notes"].to_string();
    f.that(
        "recommendation",
        !notes.contains("browser layer is unverified"),
        format!("browser agents reported: {notes}"),
    );

    // The browser killed while its report waits to be delivered: the controller is down when
    // the next evaluation's report is ready, the browser crashes, both come back.
    let quick_profile = upload(&client, "lab-browser-quick.toml", QUICK_PROFILE).await;
    let quick = evaluation(&client, "Lab Browser Quick", &quick_profile, Value::Null).await;
    let access = d.join("access.log");
    let quick_fetches = || {
        std::fs::read_to_string(&access)
            .unwrap_or_default()
            .lines()
            .filter(|l| l.contains("GET /quick"))
            .count()
    };
    wait_until(
        "the browser agent opening the quick evaluation's URL",
        Duration::from_secs(120),
        || async { (quick_fetches() > 0).then_some(()) },
    )
    .await;
    controller.terminate().or_panic();
    wait_until(
        "the quick report in the agent's spool",
        Duration::from_secs(60),
        || async { spooled(&profile, &agent_id, &quick).then_some(()) },
    )
    .await;
    // Chromium writes its session a few seconds after a change; a crash before that restores
    // the closed probe window, which would fetch the URL again without the agent running.
    tokio::time::sleep(Duration::from_secs(4)).await;
    lab.kill(chromium).or_panic();
    let fetched_before = quick_fetches();
    controller.restart().or_panic();
    let client = {
        let mut c = controller.client().unwrap();
        c.login("admin", &controller.admin_password).await.unwrap();
        c
    };
    let _chromium = start_browser(&mut lab, d, &profile, &spki, "chromium-after-crash.log");
    let after = browser_report(&client, &quick, Duration::from_secs(120)).await;
    f.that(
        "after the crash",
        after["results"].as_array().is_some_and(|r| !r.is_empty()),
        format!("the spooled report arrived whole: {after:#}"),
    );
    // Give a duplicate delivery or a second run the time to show.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let stored = reports(&client, &quick).await;
    f.that(
        "after the crash",
        stored.len() == 1,
        format!(
            "the quick evaluation has {} reports, one expected",
            stored.len()
        ),
    );
    f.that(
        "after the crash",
        quick_fetches() == fetched_before,
        format!(
            "the quick evaluation was not run again after the crash: {fetched_before} fetches before, now\n{}",
            std::fs::read_to_string(&access)
                .unwrap_or_default()
                .lines()
                .filter(|l| l.contains("/quick"))
                .collect::<Vec<_>>()
                .join("\n")
        ),
    );

    let artifacts = repo().join("target/browser-agent-artifacts");
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
    write_policy(&dev, &policy);
    screenshots(&lab, d, &spki, &artifacts);
    eprintln!(
        "browser-agent lab: done in {:.1} s",
        t0.elapsed().as_secs_f64()
    );
    f.finish();
}
