//! The controller behind a district's reverse proxy: Debian's nginx in a namespace terminates TLS
//! for `fitcheck.district.test` and, as nginx does unless told otherwise, sends the controller
//! its own address as `Host`. The controller started with `--public-url` takes its pages' writes
//! (the JSON API's and the forms') from the public address and refuses another site's; its
//! browser-agent download names the public address, and the server information says it. A second
//! controller behind the same proxy without the setting refuses the same writes: the limit the
//! setting lifts.
//!
//! Needs root, iproute2, util-linux and nginx. `FITCHECK_SKIP_LAB=1` at build time skips it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use fitcheck_tests::controller::{ControllerProcess, Place};
use fitcheck_tests::lab::{self, Lab, OrPanic, Tool};
use serde_json::{Value, json};

const NGINX: [Tool; 1] = [Tool {
    path: "/usr/sbin/nginx",
    package: "nginx-light",
}];

/// The management link: this process (the root namespace) reaches the front namespace over it.
const HOST_IP: &str = "10.77.41.1";
const FRONT_IP: &str = "10.77.41.2";
const PUBLIC_NAME: &str = "fitcheck.district.test";
/// The proxy's port for the controller that knows its public address, and for the one that
/// does not.
const PUBLIC_PORT: u16 = 8443;
const BARE_PORT: u16 = 8444;

struct Front {
    lab: Lab,
    ns: String,
}

/// The front namespace, joined to this one by a veth pair whose far end lives in the namespace
/// (deleting it removes the pair).
fn front() -> Front {
    let lab = Lab::with_namespaces(&["front"]).or_panic();
    let ns = lab.net.clone();
    let tag = std::process::id() % 100_000;
    let (here, there) = (format!("rp{tag}h"), format!("rp{tag}f"));
    lab::must(&[
        "ip", "link", "add", &here, "type", "veth", "peer", "name", &there, "netns", &ns,
    ])
    .or_panic();
    lab::must(&["ip", "addr", "add", &format!("{HOST_IP}/30"), "dev", &here]).or_panic();
    lab::must(&["ip", "link", "set", &here, "up"]).or_panic();
    lab.addr(&ns, &there, &format!("{FRONT_IP}/30")).or_panic();
    lab.exec(&ns, &["ip", "link", "set", &there, "up"])
        .or_panic();
    Front { lab, ns }
}

/// A controller in the front namespace, on every address there (nginx reaches it on loopback,
/// the tools here over the link), serving a packed browser agent from `dist`.
fn controller(dir: &Path, ns: &str, dist: &Path, extra: &[&str]) -> ControllerProcess {
    let mut args = vec!["--browser-agent", dist.to_str().unwrap()];
    args.extend_from_slice(extra);
    ControllerProcess::start_with(
        dir,
        None,
        Place {
            netns: Some(ns.to_owned()),
            listen: "0.0.0.0".to_owned(),
            reach: FRONT_IP.to_owned(),
        },
        &args,
    )
    .or_panic()
}

/// A client of the proxy at `https://fitcheck.district.test:PORT`, trusting the proxy's
/// certificate, following no redirect.
fn through_proxy(cert_pem: &[u8], port: u16) -> reqwest::Client {
    let _ = rustls::crypto::ring::default_provider().install_default();
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem).unwrap())
        .resolve(
            PUBLIC_NAME,
            SocketAddr::new(FRONT_IP.parse().unwrap(), port),
        )
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

/// POSTs JSON with `origin` (and the session cookie, when there is one): status and answer.
async fn post(
    client: &reqwest::Client,
    url: &str,
    origin: &str,
    cookie: Option<&str>,
    body: &Value,
) -> (u16, Value, Option<String>) {
    let mut req = client
        .post(url)
        .header("Origin", origin)
        .header("Content-Type", "application/json")
        .body(body.to_string());
    if let Some(c) = cookie {
        req = req.header("Cookie", c);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let cookie = resp
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::to_owned);
    (status, resp.json().await.unwrap_or(Value::Null), cookie)
}

/// GETs a text document.
async fn text(client: &reqwest::Client, url: &str) -> String {
    client.get(url).send().await.unwrap().text().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[cfg_attr(
    fitcheck_skip_lab,
    ignore = "FITCHECK_SKIP_LAB=1 at build time: the namespace lab is skipped"
)]
async fn behind_a_reverse_proxy_the_public_address_is_the_controllers_own() {
    lab::preflight(&lab::NAMESPACE_TOOLS);
    lab::preflight(&NGINX);
    let dir = tempfile::Builder::new()
        .prefix("fitproxy-")
        .tempdir()
        .unwrap();
    let d = dir.path();
    let mut f = front();
    let public = format!("https://{PUBLIC_NAME}:{PUBLIC_PORT}");
    let bare_public = format!("https://{PUBLIC_NAME}:{BARE_PORT}");

    // The packed browser agent as scripts/build-browser-agent writes it, packed for the
    // controller's own address.
    let dist = d.join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("fitcheck-browser-agent.crx"), b"Cr24 lab package").unwrap();
    std::fs::write(
        dist.join("update.xml"),
        format!(
            "<?xml version='1.0' encoding='UTF-8'?>\n<gupdate xmlns='http://www.google.com/update2/response' protocol='2.0'>\n  <app appid='abcdefghijklmnopabcdefghijklmnop'>\n    <updatecheck codebase='https://{FRONT_IP}:9/browser-agent/fitcheck-browser-agent.crx' version='1.2.3' />\n  </app>\n</gupdate>\n"
        ),
    )
    .unwrap();
    let with = controller(&d.join("with"), &f.ns, &dist, &["--public-url", &public]);
    let bare = controller(&d.join("bare"), &f.ns, &dist, &[]);

    // The proxy, with a certificate of its own for the public name.
    let ck = rcgen::generate_simple_self_signed(vec![PUBLIC_NAME.to_owned()]).unwrap();
    let cert_pem = ck.cert.pem();
    std::fs::write(d.join("proxy-cert.pem"), &cert_pem).unwrap();
    std::fs::write(d.join("proxy-key.pem"), ck.signing_key.serialize_pem()).unwrap();
    let conf = lab::write_config(
        d,
        "nginx.conf",
        include_str!("../lab/proxy-nginx.conf.in"),
        &[
            ("DIR", d.display().to_string()),
            ("FRONT_IP", FRONT_IP.to_owned()),
            ("PUBLIC_NAME", PUBLIC_NAME.to_owned()),
            ("PUBLIC_PORT", PUBLIC_PORT.to_string()),
            ("BARE_PORT", BARE_PORT.to_string()),
            ("CONTROLLER_PORT", with.port.to_string()),
            ("BARE_CONTROLLER_PORT", bare.port.to_string()),
        ],
    )
    .unwrap();
    let ns = f.ns.clone();
    f.lab
        .spawn_nginx(
            "nginx",
            &ns,
            d,
            &conf,
            &d.join("nginx-startup.log"),
            &d.join("nginx.out"),
        )
        .or_panic();
    f.lab
        .wait_listening(
            &ns,
            &[
                ("tcp", format!("{FRONT_IP}:{PUBLIC_PORT}")),
                ("tcp", format!("{FRONT_IP}:{BARE_PORT}")),
            ],
            Duration::from_secs(20),
        )
        .or_panic();

    let client = through_proxy(cert_pem.as_bytes(), PUBLIC_PORT);
    let api = |path: &str| format!("{public}{path}");
    let health = client.get(api("/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200, "the proxy reaches the controller");

    // The people's API: log-in and a write, from the public address's pages.
    let login = json!({"username": "admin", "password": with.admin_password});
    let (s, body, cookie) = post(&client, &api("/api/v1/login"), &public, None, &login).await;
    assert_eq!(s, 200, "log-in through the proxy: {body}");
    let cookie = cookie.expect("a session cookie");
    let (s, body, _) = post(
        &client,
        &api("/api/v1/enrollment-secrets"),
        &public,
        Some(&cookie),
        &json!({"name": "behind the proxy"}),
    )
    .await;
    assert_eq!(s, 201, "a write from the public address's page: {body}");
    // Another site's page is still another site.
    let (s, body, _) = post(
        &client,
        &api("/api/v1/enrollment-secrets"),
        "https://evil.example",
        Some(&cookie),
        &json!({"name": "forged"}),
    )
    .await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["error"], "cross_site", "{body}");

    // A page's form: the log-in form posted from the public address is taken (a redirect, not
    // the cross-site refusal).
    let form = client
        .post(api("/login"))
        .header("Origin", &public)
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(format!(
            "username=admin&password={}&next=%2F",
            with.admin_password
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(form.status(), 303, "the log-in form through the proxy");

    // What the controller hands out names the public address.
    let server: Value = client
        .get(api("/api/v1/server"))
        .header("Cookie", &cookie)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(server["public_url"], public.as_str(), "{server}");
    let update = text(&client, &api("/browser-agent/update.xml")).await;
    assert!(
        update.contains(&format!(
            "codebase='{public}/browser-agent/fitcheck-browser-agent.crx' version='1.2.3'"
        )) && update.contains("appid='abcdefghijklmnopabcdefghijklmnop'"),
        "{update}"
    );
    let crx = client
        .get(api("/browser-agent/fitcheck-browser-agent.crx"))
        .send()
        .await
        .unwrap();
    assert_eq!(crx.status(), 200);
    assert_eq!(crx.bytes().await.unwrap().as_ref(), b"Cr24 lab package");

    // The controller that was not told its public address refuses the same log-in: the proxy
    // rewrote Host, so the page looks like another site's.
    let bare_client = through_proxy(cert_pem.as_bytes(), BARE_PORT);
    let login = json!({"username": "admin", "password": bare.admin_password});
    let (s, body, _) = post(
        &bare_client,
        &format!("{bare_public}/api/v1/login"),
        &bare_public,
        None,
        &login,
    )
    .await;
    assert_eq!(s, 403, "{body}");
    assert_eq!(body["error"], "cross_site", "{body}");
    let update = text(
        &bare_client,
        &format!("{bare_public}/browser-agent/update.xml"),
    )
    .await;
    assert!(
        update.contains(&format!("codebase='https://{FRONT_IP}:9/browser-agent/")),
        "without the setting the manifest is served as packed: {update}"
    );
    let log = std::fs::read_to_string(d.join("access.log")).unwrap_or_default();
    assert!(
        log.lines()
            .any(|l| l.contains("POST /api/v1/login") && l.contains(" 200 ")),
        "nginx carried the log-in: {log}"
    );
    drop(with);
    drop(bare);
}
