//! The namespace lab: the real agent binary, run inside a "dev" network namespace against a
//! "net" namespace that plays the district resolver (dnsmasq), the product's web servers
//! (nginx, with a lab CA), its STUN server (coturn) and the district firewall (nftables).
//!
//! Needs root and the Debian packages iproute2, nftables, dnsmasq-base, nginx-light (or nginx),
//! coturn and util-linux (setpriv). `FITCHECK_SKIP_LAB=1` skips it; `FITCHECK_AGENT_BIN=PATH` runs that agent
//! instead of building the workspace's; `FITCHECK_LAB_REPORTS=DIR` keeps the reports.
//!
//! Traffic goes only to addresses inside the two namespaces this test creates (10.231.0.0/24)
//! and is never forwarded anywhere: dnsmasq has no upstream, and the namespaces have no route
//! out. Everything is torn down by `Lab`'s `Drop`, also when an assertion fails.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::Ipv4Addr;
use std::path::Path;
use std::time::{Duration, Instant};

use fitcheck_tests::expect::{Failures, measured, strings, text};
use fitcheck_tests::lab::{self, AgentRun, AgentSetup, How, Lab, OrPanic, World};
use serde_json::Value;

const PREFIX: u8 = 24;
const DEV_IP: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 2);
const DNS_IP: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 1);
const GOOD_IP: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 10);
const REDIRECT_IP: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 11);
const CLOSED_IP: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 12);
const DROPPED_IP: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 13);
const STUN_IP: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 14);
const UNTRUSTED_IP: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 15);
/// A second dnsmasq playing a resolver outside the district's filtering.
const CONTROL_IP: Ipv4Addr = Ipv4Addr::new(10, 231, 0, 16);
/// Only published in DNS; no interface holds it.
const V6ONLY_IP: &str = "fd31:231::10";
const OPEN_PORT: u16 = 8801;
const FILTERED_PORT: u16 = 8443;
const STUN_PORT: u16 = 3478;
const CA_CN: &str = "fitcheck lab CA";
/// Issuer of untrusted.fitlab.test's certificate; the agent is never told to trust it.
const ROGUE_CA_CN: &str = "fitcheck rogue CA";
/// The agent's TCP connect timeout (agent/src/checks/mod.rs), less a margin for timer slack.
const CONNECT_TIMEOUT_MS: f64 = 4900.0;

fn vars(dir: &Path) -> Vec<(&'static str, String)> {
    vec![
        ("DIR", dir.display().to_string()),
        ("DNS_IP", DNS_IP.to_string()),
        ("GOOD_IP", GOOD_IP.to_string()),
        ("REDIRECT_IP", REDIRECT_IP.to_string()),
        ("CLOSED_IP", CLOSED_IP.to_string()),
        ("DROPPED_IP", DROPPED_IP.to_string()),
        ("STUN_IP", STUN_IP.to_string()),
        ("UNTRUSTED_IP", UNTRUSTED_IP.to_string()),
        ("CONTROL_IP", CONTROL_IP.to_string()),
        ("V6ONLY_IP", V6ONLY_IP.to_owned()),
        ("OPEN_PORT", OPEN_PORT.to_string()),
        ("FILTERED_PORT", FILTERED_PORT.to_string()),
        ("STUN_PORT", STUN_PORT.to_string()),
    ]
}

fn start_world() -> World {
    let t0 = Instant::now();
    let (agent, dir) = lab::prepare("lab", "fitlab-").or_panic();
    let d = dir.path();
    let pki = lab::make_pki(
        CA_CN,
        &[
            "good.fitlab.test",
            "redirect.fitlab.test",
            "closed.fitlab.test",
            "dropped.fitlab.test",
            "cdn.fitlab.test",
        ],
    )
    .or_panic();
    std::fs::write(d.join("ca.pem"), &pki.ca_pem).unwrap();
    std::fs::write(d.join("server.pem"), &pki.server_cert_pem).unwrap();
    std::fs::write(d.join("server.key"), &pki.server_key_pem).unwrap();
    let rogue = lab::make_pki(ROGUE_CA_CN, &["untrusted.fitlab.test"]).or_panic();
    std::fs::write(d.join("untrusted.pem"), &rogue.server_cert_pem).unwrap();
    std::fs::write(d.join("untrusted.key"), &rogue.server_key_pem).unwrap();

    let mut lab = Lab::new(
        DEV_IP,
        &[
            DNS_IP,
            GOOD_IP,
            REDIRECT_IP,
            CLOSED_IP,
            DROPPED_IP,
            STUN_IP,
            UNTRUSTED_IP,
            CONTROL_IP,
        ],
        PREFIX,
    )
    .or_panic();
    lab.set_resolver(&lab.dev.clone(), DNS_IP).or_panic();

    let config =
        |name: &str, template: &str| lab::write_config(d, name, template, &vars(d)).or_panic();
    let net_nft = config("net.nft", include_str!("../lab/net.nft.in"));
    let dev_nft = config("dev.nft", include_str!("../lab/dev.nft.in"));
    let dnsmasq_conf = config("dnsmasq.conf", include_str!("../lab/dnsmasq.conf.in"));
    let nginx_conf = config("nginx.conf", include_str!("../lab/nginx.conf.in"));
    let control_conf = config(
        "control-dnsmasq.conf",
        include_str!("../lab/control-dnsmasq.conf.in"),
    );
    let (net, dev) = (lab.net.clone(), lab.dev.clone());
    lab.load_nft(&net, &net_nft).or_panic();
    lab.load_nft(&dev, &dev_nft).or_panic();

    lab.spawn_dnsmasq("dnsmasq", &net, &dnsmasq_conf, &d.join("dnsmasq.out"))
        .or_panic();
    lab.spawn_dnsmasq(
        "control dnsmasq",
        &net,
        &control_conf,
        &d.join("control-dnsmasq.out"),
    )
    .or_panic();
    lab.spawn_nginx(
        "nginx",
        &net,
        d,
        &nginx_conf,
        &d.join("nginx-startup.log"),
        &d.join("nginx.out"),
    )
    .or_panic();
    lab.spawn_stun(&net, &[STUN_IP], STUN_PORT, d).or_panic();
    let want = [
        ("udp", format!("{DNS_IP}:53")),
        ("tcp", format!("{DNS_IP}:53")),
        ("tcp", format!("{GOOD_IP}:443")),
        ("tcp", format!("{REDIRECT_IP}:443")),
        ("tcp", format!("{UNTRUSTED_IP}:443")),
        ("tcp", format!("{GOOD_IP}:80")),
        ("tcp", format!("{GOOD_IP}:{OPEN_PORT}")),
        ("udp", format!("{STUN_IP}:{STUN_PORT}")),
    ];
    lab.wait_listening(&net, &want, Duration::from_secs(120))
        .or_panic();
    eprintln!(
        "lab: namespaces {} / {} up, servers listening ({:.1} s)",
        lab.dev,
        lab.net,
        t0.elapsed().as_secs_f64()
    );
    // A clean environment: no proxy variables, and only the lab CA trusted.
    let ca = d.join("ca.pem");
    let agent = AgentSetup {
        binary: agent,
        dir: d.to_path_buf(),
        netns: Some(dev),
        trust: Some(ca.clone()),
        args: vec![
            "--concurrency".to_owned(),
            "32".to_owned(),
            "--public-roots".to_owned(),
            ca.display().to_string(),
        ],
        limit: Duration::from_secs(90),
        copy_prefix: String::new(),
    };
    World { lab, dir, agent }
}

const HEADER: &str = r#"format = 1
name = "fitcheck lab"
vendor = "fitcheck"
reviewed = "2026-01-01"
sources = ["https://fitlab.test/requirements"]
"#;

fn mixed_profile() -> String {
    format!(
        r#"id = "fitlab-mixed"
{HEADER}
[[dns]]
name = "good.fitlab.test"
[[dns]]
name = "redirect.fitlab.test"
[[dns]]
name = "sinkhole.fitlab.test"
[[dns]]
name = "blocked.fitlab.test"
critical = false
[[dns]]
name = "v6only.fitlab.test"
[[dns]]
name = "stun.fitlab.test"

[[http]]
url = "https://good.fitlab.test/"
expect_status = [200]
[[http]]
url = "https://redirect.fitlab.test/"
[[http]]
url = "https://good.fitlab.test/missing"
expect_status = [200]
[[http]]
url = "http://good.fitlab.test/"
[[http]]
url = "https://sinkhole.fitlab.test/"
[[http]]
url = "https://blocked.fitlab.test/"
[[http]]
url = "https://closed.fitlab.test:{FILTERED_PORT}/"
[[http]]
url = "https://dropped.fitlab.test:{FILTERED_PORT}/"
[[http]]
url = "https://redirect.fitlab.test/"
follow_redirects = false
[[http]]
url = "https://untrusted.fitlab.test/"

[[ports]]
protocol = "tcp"
host = "good.fitlab.test"
port = {OPEN_PORT}
[[ports]]
protocol = "tcp"
host = "closed.fitlab.test"
port = {FILTERED_PORT}
[[ports]]
protocol = "tcp"
host = "dropped.fitlab.test"
port = {FILTERED_PORT}
[[ports]]
protocol = "udp"
host = "stun.fitlab.test"
port = {STUN_PORT}
probe = "stun"
[[ports]]
protocol = "udp"
host = "dropped.fitlab.test"
port = {STUN_PORT}
probe = "stun"
[[ports]]
protocol = "tcp"
host = "sinkhole.fitlab.test"
port = 443
"#
    )
}

fn passing_profile() -> String {
    format!(
        r#"id = "fitlab-passing"
{HEADER}
[[dns]]
name = "good.fitlab.test"

[[http]]
url = "https://good.fitlab.test/"
expect_status = [200]
[[http]]
url = "https://redirect.fitlab.test/"

[[ports]]
protocol = "tcp"
host = "good.fitlab.test"
port = {OPEN_PORT}
[[ports]]
protocol = "udp"
host = "stun.fitlab.test"
port = {STUN_PORT}
probe = "stun"
"#
    )
}

fn check_mixed(w: &World, run: &AgentRun, f: &mut Failures) {
    let mut e = f.run(run);
    let r = &run.report;
    e.that(
        run.code == Some(1),
        format!(
            "exit code 1 (not compatible), got {:?}; stderr: {}",
            run.code, run.stderr
        ),
    );
    e.that(
        r["schema"] == "fitcheck.report/v1",
        format!("schema, got {}", r["schema"]),
    );
    e.that(
        r["evaluation"]["verdict"] == "not_compatible",
        format!("verdict not_compatible, got {}", r["evaluation"]["verdict"]),
    );
    e.that(run.stdout.contains("FAIL"), "FAIL in the printed table");
    e.that(
        run.stdout.contains("Verdict: Not compatible"),
        "`Verdict: Not compatible` printed",
    );

    // DNS: every answer came from the lab resolver.
    let resolver = format!("{DNS_IP}:53");
    for (i, name, outcome) in [
        (0, "good.fitlab.test", "resolved"),
        (1, "redirect.fitlab.test", "resolved"),
        (2, "sinkhole.fitlab.test", "sinkholed"),
        (3, "blocked.fitlab.test", "nxdomain"),
        (4, "v6only.fitlab.test", "resolved"),
        (5, "stun.fitlab.test", "resolved"),
    ] {
        let req = format!("dns[{i}]");
        let d = e.one(&req, "dns", outcome);
        e.on(&req, d, |d| d["target"] == name, &format!("target {name}"));
        e.on(
            &req,
            d,
            |d| strings(&d["evidence"]["resolvers"]) == [resolver.clone()],
            &format!("resolvers [{resolver}]"),
        );
    }
    let a = |want: &[&str]| {
        let want: Vec<String> = want.iter().map(|x| (*x).to_owned()).collect();
        move |d: &Value| strings(&d["evidence"]["a"]) == want
    };
    let d = e.get("dns[0]");
    e.on("dns[0]", d, a(&["10.231.0.10"]), "a = [10.231.0.10]");
    let d = e.get("dns[1]");
    e.on("dns[1]", d, a(&["10.231.0.11"]), "a = [10.231.0.11]");
    let d = e.get("dns[2]");
    e.on("dns[2]", d, a(&["0.0.0.0"]), "a = [0.0.0.0]");
    e.on(
        "dns[2]",
        d,
        |d| text(&d["evidence"]["sinkhole_reason"]).contains("0.0.0.0"),
        "sinkhole_reason naming 0.0.0.0",
    );
    let d = e.get("dns[3]");
    e.on(
        "dns[3]",
        d,
        |d| strings(&d["evidence"]["a"]).is_empty() && strings(&d["evidence"]["aaaa"]).is_empty(),
        "no addresses",
    );
    let d = e.get("dns[4]");
    e.on(
        "dns[4]",
        d,
        |d| {
            strings(&d["evidence"]["a"]).is_empty()
                && strings(&d["evidence"]["aaaa"]) == [V6ONLY_IP]
        },
        "no A and aaaa = [fd31:231::10]",
    );
    let d = e.get("dns[5]");
    e.on("dns[5]", d, a(&["10.231.0.14"]), "a = [10.231.0.14]");

    // HTTP.
    let h = e.one("http[0]", "http", "reachable");
    e.on(
        "http[0]",
        h,
        |h| h["evidence"]["status"] == 200,
        "status 200",
    );
    e.on(
        "http[0]",
        h,
        |h| h["evidence"]["address"] == GOOD_IP.to_string(),
        "address 10.231.0.10",
    );
    e.on(
        "http[0]",
        h,
        |h| text(&h["evidence"]["certificate"]["issuer"]).contains(CA_CN),
        &format!("certificate issuer containing {CA_CN}"),
    );
    e.on(
        "http[0]",
        h,
        |h| text(&h["evidence"]["certificate"]["subject"]).contains("good.fitlab.test"),
        "certificate subject good.fitlab.test",
    );
    e.on(
        "http[0]",
        h,
        |h| {
            let t = &h["timings"];
            measured(&t["dns_ms"])
                && measured(&t["connect_ms"])
                && measured(&t["tls_ms"])
                && measured(&t["first_byte_ms"])
                && measured(&t["total_ms"])
        },
        "timings dns_ms, connect_ms, tls_ms, first_byte_ms and total_ms",
    );
    e.on(
        "http[0]",
        h,
        |h| {
            h["evidence"]["redirects"]
                .as_array()
                .is_some_and(Vec::is_empty)
        },
        "no redirects",
    );
    e.on(
        "http[0]",
        h,
        |h| text(&h["evidence"]["headers"]["server"]).starts_with("nginx"),
        "header server: nginx",
    );

    let h = e.one("http[1]", "http", "reachable");
    e.on(
        "http[1]",
        h,
        |h| {
            let red = h["evidence"]["redirects"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            red.len() == 1
                && red[0]["status"] == 301
                && red[0]["from"] == "https://redirect.fitlab.test/"
                && red[0]["location"] == "https://good.fitlab.test/"
        },
        "one redirect: 301 from https://redirect.fitlab.test/ to https://good.fitlab.test/",
    );
    e.on(
        "http[1]",
        h,
        |h| {
            h["evidence"]["status"] == 200
                && h["evidence"]["final_url"] == "https://good.fitlab.test/"
        },
        "status 200 from final_url https://good.fitlab.test/",
    );
    e.on(
        "http[1]",
        h,
        |h| text(&h["evidence"]["certificate"]["issuer"]).contains(CA_CN),
        "certificate issued by the lab CA",
    );

    let h = e.one("http[2]", "http", "unexpected_status");
    e.on(
        "http[2]",
        h,
        |h| h["evidence"]["status"] == 404,
        "status 404",
    );

    let h = e.one("http[3]", "http", "reachable");
    e.on(
        "http[3]",
        h,
        |h| {
            h["evidence"]["status"] == 200
                && h["evidence"]["certificate"].is_null()
                && h["timings"]["tls_ms"].is_null()
                && measured(&h["timings"]["connect_ms"])
        },
        "status 200 over plain HTTP: no certificate, no tls_ms, a connect_ms",
    );

    // The DNS filter's answer is its block, not a resolver failure.
    let h = e.one("http[4]", "http", "blocked_by_filter");
    e.on(
        "http[4]",
        h,
        |h| {
            let detail = text(&h["evidence"]["detail"]);
            h["evidence"]["blocking_layer"] == "dns"
                && detail.contains("block")
                && detail.contains("0.0.0.0")
        },
        "blocking_layer dns and a detail naming the sinkhole answer 0.0.0.0",
    );
    e.on(
        "http[4]",
        h,
        |h| h["evidence"]["address"].is_null() && h["timings"]["connect_ms"].is_null(),
        "no address and no connect (a sinkhole answer is never connected to)",
    );

    let h = e.one("http[5]", "http", "dns_failed");
    e.on(
        "http[5]",
        h,
        |h| text(&h["evidence"]["detail"]).contains("nxdomain"),
        "detail naming nxdomain",
    );

    let h = e.one("http[6]", "http", "connection_refused");
    e.on(
        "http[6]",
        h,
        |h| h["evidence"]["address"] == CLOSED_IP.to_string() && h["timings"]["tls_ms"].is_null(),
        "address 10.231.0.12 and no TLS",
    );

    let h = e.one("http[7]", "http", "timeout");
    e.on(
        "http[7]",
        h,
        |h| {
            h["evidence"]["address"] == DROPPED_IP.to_string()
                && h["timings"]["connect_ms"]
                    .as_f64()
                    .is_some_and(|ms| ms >= CONNECT_TIMEOUT_MS)
        },
        "address 10.231.0.13 and a connect that waited the whole connect timeout",
    );

    let h = e.one("http[8]", "http", "reachable");
    e.on(
        "http[8]",
        h,
        |h| {
            h["evidence"]["status"] == 301
                && h["evidence"]["redirects"]
                    .as_array()
                    .is_some_and(Vec::is_empty)
                && h["evidence"]["headers"]["location"] == "https://good.fitlab.test/"
        },
        "status 301 not followed, location header kept",
    );

    let h = e.one("http[9]", "http", "tls_failed");
    e.on(
        "http[9]",
        h,
        |h| {
            h["evidence"]["address"] == UNTRUSTED_IP.to_string()
                && h["evidence"]["status"].is_null()
                && measured(&h["timings"]["tls_ms"])
        },
        "address 10.231.0.15, a TLS handshake timed, and no status",
    );
    e.on(
        "http[9]",
        h,
        |h| text(&h["evidence"]["certificate"]["issuer"]).contains(ROGUE_CA_CN),
        &format!("the unverified certificate recorded, issuer {ROGUE_CA_CN}"),
    );

    // Ports.
    let p = e.one("ports[0]", "tcp", "open");
    e.on(
        "ports[0]",
        p,
        |p| p["address"] == GOOD_IP.to_string() && p["port"] == OPEN_PORT,
        "open at 10.231.0.10:8801",
    );
    let p = e.one("ports[1]", "tcp", "refused");
    e.on(
        "ports[1]",
        p,
        |p| p["address"] == CLOSED_IP.to_string() && p["port"] == FILTERED_PORT,
        "refused at 10.231.0.12:8443",
    );
    let p = e.one("ports[2]", "tcp", "filtered");
    e.on(
        "ports[2]",
        p,
        |p| {
            p["address"] == DROPPED_IP.to_string()
                && p["duration_ms"]
                    .as_f64()
                    .is_some_and(|ms| ms >= CONNECT_TIMEOUT_MS)
        },
        "filtered at 10.231.0.13 after the whole connect timeout",
    );
    let p = e.one("ports[3]", "udp", "answered");
    e.on(
        "ports[3]",
        p,
        |p| {
            p["address"] == STUN_IP.to_string()
                && p["port"] == STUN_PORT
                && p["attempts"].as_u64().is_some_and(|n| (1..=3).contains(&n))
                && text(&p["detail"]).contains("binding success")
        },
        "a binding success response from 10.231.0.14:3478",
    );
    let p = e.one("ports[4]", "udp", "no_answer");
    e.on(
        "ports[4]",
        p,
        |p| p["address"] == DROPPED_IP.to_string() && p["attempts"] == 3,
        "no answer from 10.231.0.13 after 3 attempts",
    );
    let p = e.one("ports[5]", "dns", "sinkholed");
    e.on(
        "ports[5]",
        p,
        |p| p["target"] == "sinkhole.fitlab.test",
        "the sinkholed DNS answer instead of a probe",
    );

    // The verdict, requirement by requirement.
    for (id, want) in [
        ("dns[0]", "pass"),
        ("dns[1]", "pass"),
        ("dns[2]", "fail"),
        ("dns[3]", "warn"),
        ("dns[4]", "pass"),
        ("dns[5]", "pass"),
        ("http[0]", "pass"),
        ("http[1]", "pass"),
        ("http[2]", "fail"),
        ("http[3]", "pass"),
        ("http[4]", "fail"),
        ("http[5]", "fail"),
        ("http[6]", "fail"),
        ("http[7]", "fail"),
        ("http[8]", "pass"),
        ("http[9]", "fail"),
        ("ports[0]", "pass"),
        ("ports[1]", "fail"),
        ("ports[2]", "fail"),
        ("ports[3]", "pass"),
        ("ports[4]", "fail"),
        ("ports[5]", "fail"),
    ] {
        e.judged(id, want, &[]);
    }

    // What the servers saw.
    let d = w.d();
    let access = std::fs::read_to_string(d.join("access.log")).unwrap_or_default();
    let line = |server: &str, host: &str, path: &str, status: u16| {
        access.lines().any(|l| {
            l.starts_with(&format!("{server} {host} \"GET {path} HTTP/"))
                && l.contains(&format!("\" {status} \"fitcheck-agent/"))
        })
    };
    e.that(
        line(&format!("{GOOD_IP}:443"), "good.fitlab.test", "/", 200),
        format!("nginx logged the agent's GET https://good.fitlab.test/; access log:\n{access}"),
    );
    e.that(
        line(
            &format!("{REDIRECT_IP}:443"),
            "redirect.fitlab.test",
            "/",
            301,
        ),
        "nginx logged the GET that was redirected",
    );
    e.that(
        line(
            &format!("{GOOD_IP}:443"),
            "good.fitlab.test",
            "/missing",
            404,
        ),
        "nginx logged the GET /missing answered 404",
    );
    e.that(
        line(&format!("{GOOD_IP}:80"), "good.fitlab.test", "/", 200),
        "nginx logged the plain-HTTP GET",
    );
    e.that(
        !access.contains("sinkhole") && !access.contains("blocked") && !access.contains("untrusted"),
        format!("no request for a sinkholed, blocked or untrusted name reached nginx; access log:\n{access}"),
    );
    let dns_log = std::fs::read_to_string(d.join("dnsmasq.log")).unwrap_or_default();
    for name in ["good", "sinkhole", "blocked", "v6only"] {
        let q = format!("query[A] {name}.fitlab.test from {DEV_IP}");
        e.that(dns_log.contains(&q), format!("dnsmasq logged `{q}`"));
    }
    let counter = |ns: &str, name: &str| lab::nft_counter(ns, ("inet", "fitlab"), name).or_panic();
    let to_block = counter(&w.lab.dev, "to_block_address");
    e.that(
        to_block == 0,
        format!("the device sent {to_block} packet(s) to 0.0.0.0/8, loopback, :: or ::1 (a sinkhole answer was connected to)"),
    );
    let reset = counter(&w.lab.net, "closed_reset");
    e.that(reset >= 2, format!("the firewall reset the TCP connects to closed:8443 (HTTP and port check), counted {reset}"));
    let dropped_tcp = counter(&w.lab.net, "dropped_tcp");
    e.that(
        dropped_tcp >= 2,
        format!("the firewall dropped the TCP connects to dropped:8443, counted {dropped_tcp}"),
    );
    let dropped_udp = counter(&w.lab.net, "dropped_udp");
    e.that(
        dropped_udp == 3,
        format!("the firewall dropped exactly the 3 STUN requests to dropped:3478, counted {dropped_udp}"),
    );
    let connects = counter(&w.lab.net, "good_https_connects");
    eprintln!(
        "lab: TCP connections opened to good.fitlab.test:443 in the mixed run: {connects} \
         (requests that reached it: 3)"
    );
}

fn check_passing(run: &AgentRun, f: &mut Failures) {
    let mut e = f.run(run);
    let r = &run.report;
    e.that(
        run.code == Some(0),
        format!(
            "exit code 0 (compatible), got {:?}; stderr: {}",
            run.code, run.stderr
        ),
    );
    e.that(
        r["evaluation"]["verdict"] == "compatible",
        format!("verdict compatible, got {}", r["evaluation"]["verdict"]),
    );
    e.that(
        run.stdout.contains("Verdict: Compatible"),
        "`Verdict: Compatible` printed",
    );
    e.that(!run.stdout.contains("FAIL"), "no FAIL printed");
    e.one("dns[0]", "dns", "resolved");
    e.one("http[0]", "http", "reachable");
    e.one("http[1]", "http", "reachable");
    e.one("ports[0]", "tcp", "open");
    e.one("ports[1]", "udp", "answered");
    for id in ["dns[0]", "http[0]", "http[1]", "ports[0]", "ports[1]"] {
        e.judged(id, "pass", &[]);
    }
    let reqs = r["evaluation"]["requirements"]
        .as_array()
        .map_or(0, Vec::len);
    e.that(
        reqs == 5,
        format!("5 requirements judged (no device section), got {reqs}"),
    );
}

fn control_profile() -> String {
    format!(
        "id = \"lab-control\"\n{HEADER}[[dns]]\nname = \"good.fitlab.test\"\n[[dns]]\nname = \"blocked.fitlab.test\"\n[[dns]]\nname = \"cdn.fitlab.test\"\n[[dns]]\nname = \"hijack.fitlab.test\"\n"
    )
}

/// With a control resolver: the district's NXDOMAIN where the control resolves is a sinkhole;
/// a different answer that serves a valid certificate for the name is a CDN, not a block; a
/// different answer that cannot is a sinkhole.
fn check_control(run: &AgentRun, f: &mut Failures) {
    let mut e = f.run(run);
    let control = format!("{CONTROL_IP}:53");
    let good = e.one("dns[0]", "dns", "resolved");
    e.on(
        "dns[0]",
        good,
        |r| r["evidence"]["control"]["outcome"] == "resolved",
        "control agrees",
    );
    let blocked = e.one("dns[1]", "dns", "sinkholed");
    e.on(
        "dns[1]",
        blocked,
        |r| {
            r["evidence"]["control"]["resolver"] == control.as_str()
                && strings(&r["evidence"]["control"]["addresses"]) == [GOOD_IP.to_string()]
                && text(&r["evidence"]["sinkhole_reason"]).contains("NXDOMAIN")
        },
        "NXDOMAIN at the district, an address at the control resolver",
    );
    let cdn = e.one("dns[2]", "dns", "resolved");
    e.on(
        "dns[2]",
        cdn,
        |r| {
            r["evidence"]["control"]["district_answer_validates"] == true
                && strings(&r["evidence"]["a"]) == [GOOD_IP.to_string()]
        },
        "a different answer that presents a valid certificate is not a block",
    );
    let hijack = e.one("dns[3]", "dns", "sinkholed");
    e.on(
        "dns[3]",
        hijack,
        |r| r["evidence"]["control"]["district_answer_validates"] == false,
        "a different answer without a valid certificate is a sinkhole",
    );
    e.judged("dns[1]", "fail", &[]);
    e.judged("dns[2]", "pass", &[]);
}

#[test]
#[cfg_attr(
    fitcheck_skip_lab,
    ignore = "FITCHECK_SKIP_LAB=1 at build time: the namespace lab is skipped"
)]
fn agent_in_namespace_lab() {
    lab::preflight(&lab::BASE_TOOLS);
    let t0 = Instant::now();
    let world = start_world();
    let mut failures = Failures::default();

    let mixed = world.run_agent("mixed", &mixed_profile(), How::default());
    check_mixed(&world, &mixed, &mut failures);

    let passing = world.run_agent("passing", &passing_profile(), How::default());
    check_passing(&passing, &mut failures);

    let control_ip = CONTROL_IP.to_string();
    let control = world.run_agent(
        "control",
        &control_profile(),
        How {
            extra: &["--control-resolver", &control_ip],
            ..How::default()
        },
    );
    check_control(&control, &mut failures);

    eprintln!(
        "lab: done in {:.1} s (agent runs {:.1} s and {:.1} s)",
        t0.elapsed().as_secs_f64(),
        mixed.seconds,
        passing.seconds
    );
    failures.finish();
}
