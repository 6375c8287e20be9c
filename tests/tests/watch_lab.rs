//! A watched product in the namespace lab, with real software: three agent daemons in a "dev"
//! namespace resolve through Debian's dnsmasq there (the district's DNS filter); the controller
//! runs here, reached over a veth pair, and sends its alerts to a real SMTP server (Debian's
//! aiosmtpd) and an HTTP receiver, both on this side of the pair. The product passes and is
//! approved and watched; then the DNS filter starts sinkholing its name: within two rounds an
//! alert arrives by mail and by webhook naming the DNS filter and its administrator. The
//! controller restarts mid-alert; the rule is lifted, and the resolution arrives, each message
//! once.
//!
//! Needs root, iproute2, util-linux, dnsmasq-base and python3-aiosmtpd. `FITCHECK_SKIP_LAB=1`
//! at build time skips it. Traffic stays on the veth pair this test creates (10.77.62.0/30);
//! nothing routes out, and `Lab`'s `Drop` tears it down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use fitcheck_tests::controller::{Client, ControllerProcess, Place};
use fitcheck_tests::lab::{self, Lab, OrPanic, Tool};
use serde_json::{Value, json};

const TOOLS: [Tool; 2] = [
    Tool {
        path: "/usr/sbin/dnsmasq",
        package: "dnsmasq-base",
    },
    Tool {
        path: "/usr/bin/aiosmtpd",
        package: "python3-aiosmtpd",
    },
];

/// This side of the pair (the controller, the receivers) and the dev namespace's side (the
/// agents and their DNS filter).
const HOST_IP: &str = "10.77.62.1";
const DEV_IP: &str = "10.77.62.2";
/// What the filter answers for the product's name while it lets it through.
const APP_IP: &str = "10.77.62.20";

const PROFILE: &str = "format = 1\nid = \"watchlab\"\nname = \"Watch Lab\"\nvendor = \"Lab\"\n\
reviewed = \"2026-12-06\"\nsources = [\"https://example.com/watchlab\"]\n\
[[dns]]\nname = \"app.watchlab.test\"\n";

/// The DNS filter's configuration: the product's name answered, or sinkholed to 0.0.0.0.
fn dnsmasq_conf(dir: &Path, blocked: bool) -> PathBuf {
    let answer = if blocked {
        "address=/app.watchlab.test/0.0.0.0".to_owned()
    } else {
        format!("host-record=app.watchlab.test,{APP_IP}")
    };
    let path = dir.join(if blocked { "blocked.conf" } else { "open.conf" });
    std::fs::write(
        &path,
        format!(
            "port=53\nlisten-address={DEV_IP}\nbind-interfaces\nno-resolv\nno-hosts\nno-poll\n\
             user=root\ngroup=root\npid-file=\nlocal=/watchlab.test/\n{answer}\n"
        ),
    )
    .unwrap();
    path
}

/// The DNS filter in `ns` running `conf` (the one running as `old` stopped first), answering.
fn run_filter(lab: &mut Lab, ns: &str, old: Option<u32>, conf: &Path, log: &Path) -> u32 {
    if let Some(pid) = old {
        lab.kill(pid).or_panic();
    }
    let pid = lab.spawn_dnsmasq("dnsmasq", ns, conf, log).or_panic();
    lab.wait_listening(
        ns,
        &[("udp", format!("{DEV_IP}:53"))],
        Duration::from_secs(30),
    )
    .or_panic();
    pid
}

/// An HTTP receiver on `HOST_IP`: each request's body, kept; answers 200.
fn receiver() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind((HOST_IP, 0)).unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let got = Arc::new(Mutex::new(Vec::new()));
    let keep = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(100) {
            let Ok(mut stream) = stream else { continue };
            let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    length = v.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0; length.min(1 << 20)];
            if reader.read_exact(&mut body).is_ok() {
                keep.lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&body).into_owned());
            }
            let _ = stream
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
        }
    });
    (url, got)
}

/// Waits (at most `limit`) until `done` holds.
async fn until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Starts a round now and waits until it is decided.
async fn round(client: &Client, id: &str) {
    let decided = |w: &Value| {
        w["rounds"].as_array().map_or(0, |r| {
            r.iter().filter(|r| r["decided_at"].is_string()).count()
        })
    };
    let (_, w) = client
        .get(&format!("/api/v1/evaluations/{id}/watch"))
        .await
        .unwrap();
    let before = decided(&w);
    let (s, v) = client
        .post(
            &format!("/api/v1/evaluations/{id}/watch/rounds"),
            "{}".into(),
            "application/json",
        )
        .await
        .unwrap();
    assert_eq!(s, 202, "{v}");
    let start = Instant::now();
    loop {
        let (_, w) = client
            .get(&format!("/api/v1/evaluations/{id}/watch"))
            .await
            .unwrap();
        if decided(&w) > before {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the round was not decided: {w}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Mails in aiosmtpd's maildir.
fn mails(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir.join("new"))
        .map(|d| {
            d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    fitcheck_skip_lab,
    ignore = "FITCHECK_SKIP_LAB=1 at build time: the namespace lab is skipped"
)]
async fn a_dns_filter_rule_alerts_by_mail_and_webhook_and_its_lifting_resolves_it() {
    lab::preflight(&lab::NAMESPACE_TOOLS);
    lab::preflight(&TOOLS);
    let dir = tempfile::Builder::new()
        .prefix("fitwatch-")
        .tempdir()
        .unwrap();
    let mut lab = Lab::with_namespaces(&["dev"]).or_panic();
    let ns = lab.ns("dev").or_panic();
    let tag = std::process::id() % 100_000;
    let (here, there) = (format!("wl{tag}h"), format!("wl{tag}d"));
    lab::must(&[
        "ip", "link", "add", &here, "type", "veth", "peer", "name", &there, "netns", &ns,
    ])
    .or_panic();
    lab::must(&["ip", "addr", "add", &format!("{HOST_IP}/30"), "dev", &here]).or_panic();
    lab::must(&["ip", "link", "set", &here, "up"]).or_panic();
    lab.addr(&ns, &there, &format!("{DEV_IP}/30")).or_panic();
    lab.exec(&ns, &["ip", "link", "set", &there, "up"])
        .or_panic();
    lab.set_resolver(&ns, DEV_IP.parse().unwrap()).or_panic();
    let open = dnsmasq_conf(dir.path(), false);
    let blocked = dnsmasq_conf(dir.path(), true);
    let filter = run_filter(&mut lab, &ns, None, &open, &dir.path().join("dnsmasq.log"));

    // The mail server and the webhook receiver, on this side.
    let maildir = dir.path().join("mail");
    let smtp_port = TcpListener::bind((HOST_IP, 0))
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut smtpd = std::process::Command::new("/usr/bin/aiosmtpd")
        .args([
            "-n",
            "-l",
            &format!("{HOST_IP}:{smtp_port}"),
            "-c",
            "aiosmtpd.handlers.Mailbox",
        ])
        .arg(&maildir)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let (hook, got) = receiver();

    let place = Place {
        netns: None,
        listen: HOST_IP.to_owned(),
        reach: HOST_IP.to_owned(),
    };
    let mut controller =
        match ControllerProcess::start_with(&dir.path().join("controller"), None, place, &[]) {
            Ok(c) => c,
            Err(e) => panic!(
                "{e:#}\n{}",
                std::fs::read_to_string(dir.path().join("controller.log")).unwrap_or_default()
            ),
        };
    let mut client = controller.client().unwrap();
    client
        .login("admin", &controller.admin_password)
        .await
        .unwrap();
    let (s, p) = client
        .post(
            "/api/v1/profiles?name=watchlab.toml",
            PROFILE.into(),
            "application/toml",
        )
        .await
        .unwrap();
    assert!(s == 200 || s == 201, "{p}");
    let (s, e) = client
        .post(
            "/api/v1/evaluations",
            json!({"title": "Watch Lab", "profile": p["id"], "sites": ["lab"],
                   "window_end": "2099-01-01T00:00:00Z"})
            .to_string(),
            "application/json",
        )
        .await
        .unwrap();
    assert_eq!(s, 201, "{e}");
    let id = e["id"].as_str().unwrap().to_owned();
    let secret = controller.secret().or_panic();
    for i in 0..3 {
        let state = dir.path().join(format!("agent{i}"));
        controller.enroll_agent(&secret, &state, "lab").or_panic();
        let agent = lab::agent_binary().or_panic();
        lab.spawn(
            &format!("agent{i}"),
            &ns,
            &[
                &agent.display().to_string(),
                "daemon",
                "--state-dir",
                &state.display().to_string(),
            ],
            &dir.path().join(format!("agent{i}.log")),
        )
        .or_panic();
    }
    // The three devices report the product passing.
    let start = Instant::now();
    loop {
        let (_, info) = client
            .get(&format!("/api/v1/evaluations/{id}"))
            .await
            .unwrap();
        if info["reports_by_site"]["lab"].as_u64() >= Some(3) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the agents did not report: {info}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let post = |path: &str, body: Value| {
        let (client, path) = (&client, path.to_owned());
        async move {
            let (s, v) = client
                .post(&path, body.to_string(), "application/json")
                .await
                .unwrap();
            assert!((200..300).contains(&s), "{path}: {s} {v}");
            v
        }
    };
    post(
        "/api/v1/users/admin/approvals",
        json!({"parties": ["business", "curriculum", "technology"]}),
    )
    .await;
    for party in ["business", "curriculum", "technology"] {
        post(
            &format!("/api/v1/evaluations/{id}/approvals"),
            json!({"party": party, "outcome": "approved"}),
        )
        .await;
    }
    post(
        "/api/v1/channels",
        json!({"name": "ops", "kind": "webhook", "url": hook}),
    )
    .await;
    post(
        "/api/v1/channels",
        json!({"name": "netops", "kind": "smtp", "smtp": {"host": HOST_IP, "port": smtp_port,
               "security": "none", "from": "fitcheck <alerts@lab.test>", "to": ["netops@lab.test"]}}),
    )
    .await;
    post(
        &format!("/api/v1/evaluations/{id}/watch"),
        json!({"schedule": "0 7 * * MON-FRI", "zone": "UTC", "collect_s": 12}),
    )
    .await;

    // The DNS filter starts sinkholing the product's name: an alert within two rounds.
    let filter = run_filter(
        &mut lab,
        &ns,
        Some(filter),
        &blocked,
        &dir.path().join("dnsmasq-blocked.log"),
    );
    round(&client, &id).await;
    round(&client, &id).await;
    until(
        Duration::from_secs(60),
        "the alert by webhook and by mail",
        || !got.lock().unwrap().is_empty() && !mails(&maildir).is_empty(),
    )
    .await;
    let opened: Value = serde_json::from_str(&got.lock().unwrap()[0]).unwrap();
    assert_eq!(opened["kind"], "opened", "{opened}");
    assert_eq!(opened["requirement"], "dns[0]");
    let summary = opened["summary"].as_str().unwrap();
    assert!(
        summary.contains("the DNS filter now blocks app.watchlab.test at lab"),
        "{summary}"
    );
    assert_eq!(opened["owner"], "DNS filter administrator");
    let mail = mails(&maildir).remove(0);
    assert!(
        mail.contains("Subject: Regression") && mail.contains("DNS filter administrator"),
        "{mail}"
    );

    // The controller restarts mid-alert; the rule is lifted: the resolution, each message once.
    controller.terminate().or_panic();
    controller.restart().or_panic();
    client
        .login("admin", &controller.admin_password)
        .await
        .unwrap();
    run_filter(
        &mut lab,
        &ns,
        Some(filter),
        &open,
        &dir.path().join("dnsmasq-open.log"),
    );
    round(&client, &id).await;
    round(&client, &id).await;
    until(
        Duration::from_secs(60),
        "the resolution by webhook and by mail",
        || got.lock().unwrap().len() >= 2 && mails(&maildir).len() >= 2,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let kinds: Vec<String> = got
        .lock()
        .unwrap()
        .iter()
        .map(|b| {
            serde_json::from_str::<Value>(b).unwrap()["kind"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(kinds, ["opened", "resolved"], "each message once");
    assert_eq!(mails(&maildir).len(), 2);
    let _ = smtpd.kill();
    let _ = smtpd.wait();
}
