//! A watched product in the namespace lab, with real software. Three agent daemons in a "dev"
//! namespace resolve through Debian's dnsmasq there; the controller runs here, reached over a
//! veth pair, and sends its alerts to an HTTP receiver and a real SMTP server on this side of
//! the pair. The product passes and is approved and watched; then a filter starts blocking it,
//! one rule at a time:
//!
//! - **a DNS filter rule**: dnsmasq starts sinkholing the product's name. Within two rounds an
//!   alert arrives by webhook and by mail (a submission server on Debian's aiosmtpd that
//!   requires STARTTLS with a certificate of the district's own CA, and authentication) naming
//!   the DNS filter and its administrator; the controller restarts mid-alert; the rule is
//!   lifted and the resolution arrives, each message once.
//! - **a proxy rule**: the agents go out through Debian's squid as the district's explicit
//!   proxy. First squid denies the product on the port only one agent uses: that agent fails
//!   alone for two rounds, which is recorded and raises nothing; then squid denies it on every
//!   port: the alert names Squid and the web filter's administrator; the rule is lifted and the
//!   resolution arrives.
//!
//! (A browser-extension rule is switched on and off in the browser lab, `watch_browser.rs`.)
//!
//! Needs root, iproute2, util-linux, dnsmasq-base, squid-openssl and python3-aiosmtpd.
//! `FITCHECK_SKIP_LAB=1` at build time skips it. Traffic stays on the veth pair each test
//! creates (10.77.62.0/30 and 10.77.63.0/30); nothing routes out, and `Lab`'s `Drop` tears it
//! down.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use fitcheck_tests::controller::{Client, ControllerProcess, Place, post_ok, watch_round};
use fitcheck_tests::lab::{self, Lab, OrPanic, Tool};
use fitcheck_tests::receivers::{self, Bodies, Submission, count, kinds};
use serde_json::{Value, json};

const TOOLS: [Tool; 3] = [
    Tool {
        path: "/usr/sbin/dnsmasq",
        package: "dnsmasq-base",
    },
    Tool {
        path: "/usr/bin/aiosmtpd",
        package: "python3-aiosmtpd",
    },
    Tool {
        path: "/usr/sbin/squid",
        package: "squid-openssl",
    },
];

/// One test's corner of the lab: the "dev" namespace joined to this one by a veth pair, this
/// side holding the controller and the receivers, the other the agents and their DNS filter.
struct Net {
    lab: Lab,
    ns: String,
    /// This side of the pair.
    host_ip: String,
    /// The dev namespace's side.
    dev_ip: String,
    dir: tempfile::TempDir,
}

impl Net {
    /// The pair `10.77.<subnet>.0/30`, named after `letter` (unique per test in this binary).
    fn new(subnet: u8, letter: char) -> Net {
        lab::preflight(&lab::NAMESPACE_TOOLS);
        lab::preflight(&TOOLS);
        let dir = tempfile::Builder::new()
            .prefix("fitwatch-")
            .tempdir()
            .unwrap();
        let mut lab = Lab::with_namespaces(&["dev"]).or_panic();
        let ns = lab.ns("dev").or_panic();
        let (host_ip, dev_ip) = (format!("10.77.{subnet}.1"), format!("10.77.{subnet}.2"));
        let tag = std::process::id() % 100_000;
        let (here, there) = (format!("w{letter}{tag}h"), format!("w{letter}{tag}d"));
        lab::must(&[
            "ip", "link", "add", &here, "type", "veth", "peer", "name", &there, "netns", &ns,
        ])
        .or_panic();
        lab::must(&["ip", "addr", "add", &format!("{host_ip}/30"), "dev", &here]).or_panic();
        lab::must(&["ip", "link", "set", &here, "up"]).or_panic();
        lab.addr(&ns, &there, &format!("{dev_ip}/30")).or_panic();
        lab.exec(&ns, &["ip", "link", "set", &there, "up"])
            .or_panic();
        lab.set_resolver(&ns, dev_ip.parse().unwrap()).or_panic();
        Net {
            lab,
            ns,
            host_ip,
            dev_ip,
            dir,
        }
    }

    fn d(&self) -> &Path {
        self.dir.path()
    }

    /// A dnsmasq configuration for the dev namespace's resolver, answering `records`
    /// (`host-record=…`, `address=/…/…`) for the names under `domain`.
    fn dnsmasq_conf(&self, name: &str, domain: &str, records: &str) -> PathBuf {
        let path = self.d().join(name);
        std::fs::write(
            &path,
            format!(
                "port=53\nlisten-address={}\nbind-interfaces\nno-resolv\nno-hosts\nno-poll\n\
                 user=root\ngroup=root\npid-file=\nlocal=/{domain}/\n{records}\n",
                self.dev_ip
            ),
        )
        .unwrap();
        path
    }

    /// The DNS filter in the dev namespace running `conf` (the one running as `old` stopped
    /// first), answering.
    fn run_filter(&mut self, old: Option<u32>, conf: &Path) -> u32 {
        if let Some(pid) = old {
            self.lab.kill(pid).or_panic();
        }
        let log = self.d().join(format!(
            "{}.log",
            conf.file_stem().unwrap().to_string_lossy()
        ));
        let ns = self.ns.clone();
        let pid = self
            .lab
            .spawn_dnsmasq("dnsmasq", &ns, conf, &log)
            .or_panic();
        self.lab
            .wait_listening(
                &ns,
                &[("udp", format!("{}:53", self.dev_ip))],
                Duration::from_secs(30),
            )
            .or_panic();
        pid
    }

    /// Starts the controller on this side of the pair.
    fn controller(&self) -> ControllerProcess {
        let place = Place {
            netns: None,
            listen: self.host_ip.clone(),
            reach: self.host_ip.clone(),
        };
        match ControllerProcess::start_with(&self.d().join("controller"), None, place, &[]) {
            Ok(c) => c,
            Err(e) => panic!(
                "{e:#}\n{}",
                std::fs::read_to_string(self.d().join("controller.log")).unwrap_or_default()
            ),
        }
    }

    /// Enrolls an agent at the site "lab" and starts its daemon in the dev namespace, with
    /// `env` (`HTTP_PROXY=…`) set.
    fn agent(&mut self, controller: &ControllerProcess, secret: &str, i: usize, env: &[String]) {
        let state = self.d().join(format!("agent{i}"));
        controller.enroll_agent(secret, &state, "lab").or_panic();
        let agent = lab::agent_binary().or_panic();
        let mut args = vec!["/usr/bin/env".to_owned()];
        args.extend(env.iter().cloned());
        args.extend([
            agent.display().to_string(),
            "daemon".to_owned(),
            "--state-dir".to_owned(),
            state.display().to_string(),
        ]);
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let (ns, log) = (self.ns.clone(), self.d().join(format!("agent{i}.log")));
        self.lab
            .spawn(&format!("agent{i}"), &ns, &args, &log)
            .or_panic();
    }
}

/// The product's web server on `ip`: answers every request with a small page; returns its
/// port.
fn product_server(ip: &str) -> u16 {
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(10_000) {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                loop {
                    let mut line = String::new();
                    if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                        break;
                    }
                }
                let body = "<html><head><title>Lessons</title></head><body>today</body></html>";
                let _ = stream.write_all(
                    format!(
                        "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\n\
                         connection: close\r\n\r\n{body}",
                        body.len()
                    )
                    .as_bytes(),
                );
            });
        }
    });
    port
}

/// Waits (at most `limit`) until `done` holds.
async fn until(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Starts a round now and waits until it is decided; returns the watch's detail then.
async fn round(client: &Client, id: &str) -> Value {
    watch_round(client, id, Duration::from_secs(90))
        .await
        .or_panic()
}

/// The standing of `requirement` at the site "lab" in the watch's latest round.
fn standing(w: &Value, requirement: &str) -> String {
    w["watch"]["last_round"]["standings"]
        .as_array()
        .and_then(|s| {
            s.iter()
                .find(|s| s["site"] == "lab" && s["requirement"] == requirement)
        })
        .and_then(|s| s["standing"].as_str())
        .unwrap_or("none")
        .to_owned()
}

/// Posts `body` and asserts a 2xx answer.
async fn post(client: &Client, path: &str, body: Value) -> Value {
    post_ok(client, path, &body).await.or_panic()
}

/// Uploads `profile` and opens an evaluation of it at the site "lab"; returns its id.
async fn evaluation(client: &Client, name: &str, profile: &str) -> String {
    let (s, p) = client
        .post(
            &format!("/api/v1/profiles?name={name}.toml"),
            profile.into(),
            "application/toml",
        )
        .await
        .unwrap();
    assert!(s == 200 || s == 201, "{p}");
    let e = post(
        client,
        "/api/v1/evaluations",
        json!({"title": name, "profile": p["id"], "sites": ["lab"],
               "window_end": "2099-01-01T00:00:00Z"}),
    )
    .await;
    e["id"].as_str().unwrap().to_owned()
}

/// Waits until `n` devices reported on the evaluation, then records all three parties'
/// approval and watches it (rounds only on request), alerting through `channels`.
async fn approve_and_watch(client: &Client, id: &str, n: u64, channels: &[Value]) {
    let start = Instant::now();
    loop {
        let (_, info) = client
            .get(&format!("/api/v1/evaluations/{id}"))
            .await
            .unwrap();
        if info["reports_by_site"]["lab"].as_u64() >= Some(n) {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "the agents did not report: {info}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    post(
        client,
        "/api/v1/users/admin/approvals",
        json!({"parties": ["business", "curriculum", "technology"]}),
    )
    .await;
    for party in ["business", "curriculum", "technology"] {
        post(
            client,
            &format!("/api/v1/evaluations/{id}/approvals"),
            json!({"party": party, "outcome": "approved"}),
        )
        .await;
    }
    for c in channels {
        post(client, "/api/v1/channels", c.clone()).await;
    }
    post(
        client,
        &format!("/api/v1/evaluations/{id}/watch"),
        json!({"schedule": "0 7 * * MON-FRI", "zone": "UTC", "collect_s": 12}),
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    fitcheck_skip_lab,
    ignore = "FITCHECK_SKIP_LAB=1 at build time: the namespace lab is skipped"
)]
async fn a_dns_filter_rule_alerts_by_mail_and_webhook_and_its_lifting_resolves_it() {
    let mut net = Net::new(62, 'd');
    // What the filter answers for the product's name while it lets it through.
    let open = net.dnsmasq_conf(
        "open.conf",
        "watchlab.test",
        "host-record=app.watchlab.test,10.77.62.20",
    );
    let blocked = net.dnsmasq_conf(
        "blocked.conf",
        "watchlab.test",
        "address=/app.watchlab.test/0.0.0.0",
    );
    let filter = net.run_filter(None, &open);
    let host_ip = net.host_ip.clone();
    let smtp = Submission::start(&host_ip, net.d()).or_panic();
    let (hook, got) = receivers::webhook(&host_ip).or_panic();

    let mut controller = net.controller();
    let mut client = controller.client().unwrap();
    client
        .login("admin", &controller.admin_password)
        .await
        .unwrap();
    let id = evaluation(
        &client,
        "watchlab",
        "format = 1\nid = \"watchlab\"\nname = \"Watch Lab\"\nvendor = \"Lab\"\n\
         reviewed = \"2026-12-06\"\nsources = [\"https://example.com/watchlab\"]\n\
         [[dns]]\nname = \"app.watchlab.test\"\n",
    )
    .await;
    let secret = controller.secret().or_panic();
    for i in 0..3 {
        net.agent(&controller, &secret, i, &[]);
    }
    approve_and_watch(
        &client,
        &id,
        3,
        &[
            json!({"name": "ops", "kind": "webhook", "url": hook}),
            smtp.channel("netops"),
        ],
    )
    .await;

    // The DNS filter starts sinkholing the product's name: an alert within two rounds.
    let filter = net.run_filter(Some(filter), &blocked);
    round(&client, &id).await;
    round(&client, &id).await;
    until(
        Duration::from_secs(60),
        "the alert by webhook and by mail",
        || count(&got) > 0 && !smtp.mails().is_empty(),
    )
    .await;
    opened(
        &got,
        &smtp,
        "dns[0]",
        "the DNS filter now blocks app.watchlab.test at lab",
        "DNS filter administrator",
    );
    // Taken only after STARTTLS and a login (the server requires both before MAIL).
    assert!(smtp.logged_in(), "no login at the submission server");

    // The controller restarts mid-alert; the rule is lifted: the resolution, each message once.
    controller.terminate().or_panic();
    controller.restart().or_panic();
    client
        .login("admin", &controller.admin_password)
        .await
        .unwrap();
    net.run_filter(Some(filter), &open);
    resolved(&client, &id, &got, &smtp).await;
}

/// The first message, by webhook and by mail, is the alert on `requirement` whose summary
/// `says` this, for `owner`.
fn opened(got: &Bodies, smtp: &Submission, requirement: &str, says: &str, owner: &str) {
    let first: Value = serde_json::from_str(&got.lock().unwrap()[0]).unwrap();
    assert_eq!(first["kind"], "opened", "{first}");
    assert_eq!(first["requirement"], requirement, "{first}");
    let summary = first["summary"].as_str().unwrap();
    assert!(summary.contains(says), "{summary}");
    assert_eq!(first["owner"], owner, "{first}");
    let mail = smtp.mails().remove(0);
    assert!(
        mail.contains("Subject: Regression") && mail.contains(says) && mail.contains(owner),
        "{mail}"
    );
}

/// Two rounds after the rule is lifted, the resolution arrives by webhook and by mail, and
/// nothing was sent twice.
async fn resolved(client: &Client, id: &str, got: &Bodies, smtp: &Submission) {
    round(client, id).await;
    round(client, id).await;
    until(
        Duration::from_secs(60),
        "the resolution by webhook and by mail",
        || count(got) >= 2 && smtp.mails().len() >= 2,
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(kinds(got), ["opened", "resolved"], "each message once");
    assert_eq!(smtp.mails().len(), 2, "each message once");
}

/// squid as the district's explicit proxy in the dev namespace: a plain port every agent but
/// one uses and a second port for the last; `deny` says where the product's host is denied
/// (squid's own 403 error page): nowhere, on the second port only, or on both.
fn squid_conf(net: &Net, deny: &str) -> PathBuf {
    let sq = net.d().join("squid");
    let rule = match deny {
        "none" => "",
        "one" => "http_access deny second product\n",
        _ => "http_access deny product\n",
    };
    let conf = format!(
        "http_port {ip}:3128\nhttp_port {ip}:3129 name=second\n\
         dns_nameservers {ip}\nvisible_hostname watchlab-squid\n\
         pid_filename none\ncache_log {dir}/cache.log\n\
         logformat watchlab %>a %la:%lp %Ss/%03>Hs %rm %ru\n\
         access_log stdio:{dir}/access.log watchlab\ncoredump_dir {dir}\ncache deny all\ncache_mem 8 MB\n\
         pinger_enable off\nicp_port 0\nhtcp_port 0\nnetdb_filename none\n\
         shutdown_lifetime 0 seconds\n\
         acl device src {ip}/32\nacl product dstdomain app.proxylab.test\n\
         acl second myportname second\n{rule}http_access allow device\nhttp_access deny all\n",
        ip = net.dev_ip,
        dir = sq.display()
    );
    let path = sq.join(format!("squid-{deny}.conf"));
    std::fs::write(&path, conf).unwrap();
    path
}

/// squid running `conf` (the one running as `old` stopped first), listening on both ports.
fn run_squid(net: &mut Net, old: Option<u32>, conf: &Path) -> u32 {
    if let Some(pid) = old {
        net.lab.kill(pid).or_panic();
    }
    let sq = net.d().join("squid");
    lab::must(&["chown", "-R", "proxy:proxy", &sq.display().to_string()]).or_panic();
    let (ns, log) = (
        net.ns.clone(),
        sq.join(format!(
            "{}.out",
            conf.file_stem().unwrap().to_string_lossy()
        )),
    );
    let pid = net
        .lab
        .spawn_as(
            "squid",
            &ns,
            Some("proxy"),
            &["/usr/sbin/squid", "-N", "-f", &conf.display().to_string()],
            &log,
        )
        .or_panic();
    net.lab
        .wait_listening(
            &ns,
            &[
                ("tcp", format!("{}:3128", net.dev_ip)),
                ("tcp", format!("{}:3129", net.dev_ip)),
            ],
            Duration::from_secs(60),
        )
        .or_panic();
    pid
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    fitcheck_skip_lab,
    ignore = "FITCHECK_SKIP_LAB=1 at build time: the namespace lab is skipped"
)]
async fn a_proxy_rule_on_one_agent_is_recorded_on_all_alerts_and_its_lifting_resolves_it() {
    let mut net = Net::new(63, 'p');
    let host_ip = net.host_ip.clone();
    // The product's web server, on this side; the district resolver answers its name.
    let port = product_server(&host_ip);
    let dns = net.dnsmasq_conf(
        "dns.conf",
        "proxylab.test",
        &format!("host-record=app.proxylab.test,{host_ip}"),
    );
    net.run_filter(None, &dns);
    std::fs::create_dir_all(net.d().join("squid")).unwrap();
    let confs = ["none", "one", "all"].map(|d| squid_conf(&net, d));
    let squid = run_squid(&mut net, None, &confs[0]);
    let (hook, got) = receivers::webhook(&host_ip).or_panic();
    let smtp = Submission::start(&host_ip, net.d()).or_panic();

    let controller = net.controller();
    let mut client = controller.client().unwrap();
    client
        .login("admin", &controller.admin_password)
        .await
        .unwrap();
    let id = evaluation(
        &client,
        "proxylab",
        &format!(
            "format = 1\nid = \"proxylab\"\nname = \"Proxy Lab\"\nvendor = \"Lab\"\n\
             reviewed = \"2026-12-06\"\nsources = [\"https://example.com/proxylab\"]\n\
             [[http]]\nurl = \"http://app.proxylab.test:{port}/lessons\"\n"
        ),
    )
    .await;
    let secret = controller.secret().or_panic();
    for i in 0..3 {
        let proxy = format!("http://{}:{}", net.dev_ip, if i == 0 { 3129 } else { 3128 });
        // The controller is reached directly, as districts exempt their own servers.
        let env = [
            format!("HTTP_PROXY={proxy}"),
            format!("HTTPS_PROXY={proxy}"),
            format!("NO_PROXY={host_ip}"),
        ];
        net.agent(&controller, &secret, i, &env);
    }
    approve_and_watch(
        &client,
        &id,
        3,
        &[
            json!({"name": "ops", "kind": "webhook", "url": hook}),
            smtp.channel("netops"),
        ],
    )
    .await;
    let w = round(&client, &id).await;
    assert_eq!(standing(&w, "http[0]"), "green", "{w}");

    // squid denies the product on the port one agent uses: recorded, never alerted.
    let squid = run_squid(&mut net, Some(squid), &confs[1]);
    let proxied = || std::fs::read_to_string(net.d().join("squid/access.log")).unwrap_or_default();
    for _ in 0..2 {
        let w = round(&client, &id).await;
        assert_eq!(
            standing(&w, "http[0]"),
            "watching",
            "{w}\nsquid's access log:\n{}",
            proxied()
        );
        // An alert and the messages it owes are written in the round's transaction: none.
        assert_eq!(w["alerts"].as_array().map(Vec::len), Some(0), "{w}");
    }
    assert!(
        count(&got) == 0 && smtp.mails().is_empty(),
        "one agent failing alone raised an alert: {:?}",
        got.lock().unwrap()
    );

    // squid denies it everywhere: an alert within two rounds naming squid and its owner.
    let squid = run_squid(&mut net, Some(squid), &confs[2]);
    round(&client, &id).await;
    let w = round(&client, &id).await;
    assert_eq!(standing(&w, "http[0]"), "regressed", "{w}");
    until(
        Duration::from_secs(60),
        "the alert by webhook and by mail",
        || count(&got) > 0 && !smtp.mails().is_empty(),
    )
    .await;
    opened(
        &got,
        &smtp,
        "http[0]",
        "Squid now blocks app.proxylab.test at lab",
        "web filter administrator",
    );

    // The rule is lifted: the resolution, each message once.
    run_squid(&mut net, Some(squid), &confs[0]);
    resolved(&client, &id, &got, &smtp).await;
}
