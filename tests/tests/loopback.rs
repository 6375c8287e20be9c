//! The built agent against small servers on 127.0.0.1 — a block page under a 200, a redirect to
//! a filter's block host, a plain 403, a proxy refusing CONNECT with its error page, and a TLS
//! server whose CA the device trusts but no public root does. Fast, and without root; the
//! namespace lab (`lab.rs`, `filters.rs`) does the same against real filtering software.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use fitcheck_tests::expect::{requirement, result};
use fitcheck_tests::lab::{self, AgentRun, AgentSetup, How, make_pki};

/// A loopback server's port; the server stops accepting when this is dropped.
struct Server {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// Accepts connections on 127.0.0.1 and hands each (blocking, 5 s read timeout) to `conn` on a
/// thread of its own, until the returned [`Server`] is dropped, for at most 64 connections or
/// 10 minutes (the bound only ends a server whose test hung; a test does not depend on it).
fn accept_loop(conn: impl Fn(TcpStream) + Clone + Send + 'static) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let port = listener.local_addr().unwrap().port();
    let stop = Arc::new(AtomicBool::new(false));
    let stopped = stop.clone();
    std::thread::spawn(move || {
        let deadline = Instant::now() + Duration::from_secs(600);
        let mut served = 0;
        while !stopped.load(Ordering::Relaxed) && Instant::now() < deadline && served < 64 {
            match listener.accept() {
                Ok((stream, _)) => {
                    served += 1;
                    stream.set_nonblocking(false).ok();
                    stream.set_read_timeout(Some(Duration::from_secs(5))).ok();
                    let conn = conn.clone();
                    std::thread::spawn(move || conn(stream));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(10)),
            }
        }
    });
    Server { port, stop }
}

/// Serves `answer(request head) -> response bytes` (see [`accept_loop`]).
fn serve(tls: Option<Arc<rustls::ServerConfig>>, answer: fn(&str) -> Vec<u8>) -> Server {
    accept_loop(move |stream| handle(stream, tls.clone(), answer))
}

fn handle(stream: TcpStream, tls: Option<Arc<rustls::ServerConfig>>, answer: fn(&str) -> Vec<u8>) {
    match tls {
        Some(cfg) => {
            let Ok(conn) = rustls::ServerConnection::new(cfg) else {
                return;
            };
            let mut s = rustls::StreamOwned::new(conn, stream);
            respond(&mut s, answer);
        }
        None => {
            let mut s = stream;
            respond(&mut s, answer);
        }
    }
}

fn respond<S: Read + Write>(s: &mut S, answer: fn(&str) -> Vec<u8>) {
    let mut reader = BufReader::new(&mut *s);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        match reader.read_line(&mut line) {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        head.push_str(&line);
        if line == "\r\n" {
            break;
        }
    }
    drop(reader);
    let _ = s.write_all(&answer(&head));
    let _ = s.flush();
}

fn http(status: &str, headers: &str, body: &str) -> Vec<u8> {
    format!(
        "HTTP/1.1 {status}\r\n{headers}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
}

fn web(head: &str) -> Vec<u8> {
    let path = head.split_whitespace().nth(1).unwrap_or("/");
    match path {
        "/ok" => http(
            "200 OK",
            "Content-Type: text/html\r\n",
            "<title>Product</title>",
        ),
        "/e2" => http(
            "200 OK",
            "Content-Type: text/html\r\n",
            "<html><head><title>E2Guardian - Access Denied</title></head><body>Access has been denied</body></html>",
        ),
        "/to-block-host" => http(
            "302 Found",
            "Location: http://blocked.filter.test/blocked?user=jsmith&url=product\r\n",
            "",
        ),
        "/forbidden" => http(
            "403 Forbidden",
            "Content-Type: text/html\r\n",
            "<html><head><title>403 Forbidden</title></head><body>Forbidden</body></html>",
        ),
        _ => http("404 Not Found", "", "not found"),
    }
}

fn squid_proxy(_head: &str) -> Vec<u8> {
    http(
        "403 Forbidden",
        "Server: squid/5.7\r\nX-Squid-Error: ERR_ACCESS_DENIED 0\r\nContent-Type: text/html\r\n",
        "<html><head><title>ERROR: The requested URL could not be retrieved</title></head><body>Access Denied.</body></html>",
    )
}

fn tls_config(pki: &lab::Pki) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = vec![
        CertificateDer::from_pem_slice(pki.server_cert_pem.as_bytes()).unwrap(),
        CertificateDer::from_pem_slice(pki.ca_pem.as_bytes()).unwrap(),
    ];
    let key = PrivateKeyDer::from_pem_slice(pki.server_key_pem.as_bytes()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    Arc::new(
        rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap(),
    )
}

/// The agent on this machine's network, its files in `dir`, trusting `trust` (the system's
/// store when `None`).
fn agent(dir: &Path, trust: Option<&Path>) -> AgentSetup {
    AgentSetup {
        binary: lab::agent_binary().unwrap(),
        dir: dir.to_path_buf(),
        netns: None,
        trust: trust.map(Path::to_path_buf),
        args: Vec::new(),
        limit: Duration::from_secs(60),
        copy_prefix: "loopback-".to_owned(),
    }
}

/// Runs `agent` on a profile named `name` with these requirements.
fn run_agent(agent: &AgentSetup, name: &str, requirements: &str, how: How<'_>) -> AgentRun {
    let profile = format!(
        "format = 1\nid = \"{name}\"\nname = \"{name}\"\nvendor = \"Lab\"\nreviewed = \"2026-11-23\"\nsources = [\"https://lab.example/\"]\n{requirements}"
    );
    agent.run(name, &profile, how).unwrap()
}

#[test]
fn block_pages_block_hosts_and_plain_errors_are_told_apart() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(None, web);
    let port = server.port;
    let base = format!("http://127.0.0.1:{port}");
    let profile = format!(
        "[[http]]\nurl = \"{base}/ok\"\n[[http]]\nurl = \"{base}/e2\"\n[[http]]\nurl = \"{base}/to-block-host\"\n[[http]]\nurl = \"{base}/forbidden\"\n"
    );
    // The block host is a reserved name a district signature file names (as a district adds its
    // filter's own block host): were it not recognised, following it could reach nothing real.
    let district = dir.path().join("district.toml");
    std::fs::write(
        &district,
        "format = 1\nversion = \"test\"\n[[signature]]\nid = \"lab-block-host\"\nvendor = \"Lab Filter\"\n\
         kind = \"block_host\"\nsource = \"https://lab.example/\"\nhosts = [\"blocked.filter.test\"]\n",
    )
    .unwrap();
    let signatures = district.display().to_string();
    let run = run_agent(
        &agent(dir.path(), None),
        "pages",
        &profile,
        How {
            extra: &["--signatures", &signatures],
            ..How::default()
        },
    );
    let r = &run.report;
    assert_eq!(result(r, "http[0]").unwrap()["outcome"], "reachable");

    let e2 = result(r, "http[1]").unwrap();
    assert_eq!(e2["outcome"], "blocked_by_filter", "{e2:#}");
    assert_eq!(e2["evidence"]["status"], 200);
    assert_eq!(e2["evidence"]["blocking_layer"], "http_filter");
    assert_eq!(e2["evidence"]["signature"]["vendor"], "e2guardian");

    let gg = result(r, "http[2]").unwrap();
    assert_eq!(gg["outcome"], "blocked_by_filter", "{gg:#}");
    assert_eq!(gg["evidence"]["signature"]["vendor"], "Lab Filter");
    let hop = &gg["evidence"]["redirects"][0];
    assert_eq!(hop["status"], 302);
    assert_eq!(
        hop["location"], "http://blocked.filter.test/blocked?(query removed)",
        "the user name in the block URL is not recorded"
    );
    assert!(!r.to_string().contains("jsmith"));

    let plain = result(r, "http[3]").unwrap();
    assert_eq!(
        plain["outcome"], "unexpected_status",
        "a 403 without a filter's markers is not called a block"
    );
    assert!(plain["evidence"]["signature"].is_null());

    let remedy = requirement(r, "http[1]").unwrap()["remedy"]
        .as_str()
        .unwrap();
    assert!(
        remedy.contains("allow-list") && remedy.contains("e2guardian"),
        "{remedy}"
    );
    assert_eq!(run.code, Some(1));
    assert!(
        run.stdout.contains("blocked by e2guardian"),
        "{}",
        run.stdout
    );
}

#[test]
fn a_proxy_refusing_connect_is_a_block_with_its_page_as_evidence() {
    let dir = tempfile::tempdir().unwrap();
    let server = serve(None, squid_proxy);
    let port = server.port;
    let proxy = format!("http://127.0.0.1:{port}");
    let run = run_agent(
        &agent(dir.path(), None),
        "proxy",
        "[[http]]\nurl = \"https://product.lab.example/\"\n",
        How {
            proxy: Some(&proxy),
            ..How::default()
        },
    );
    let h = result(&run.report, "http[0]").unwrap();
    assert_eq!(h["outcome"], "blocked_by_filter", "{h:#}");
    assert_eq!(h["evidence"]["blocking_layer"], "http_proxy");
    assert_eq!(h["evidence"]["proxy"], proxy.as_str());
    assert_eq!(h["evidence"]["status"], 403);
    assert_eq!(h["evidence"]["signature"]["vendor"], "Squid");
    assert_eq!(
        h["evidence"]["headers"]["x-squid-error"],
        "ERR_ACCESS_DENIED 0"
    );
    assert!(
        h["timings"]["dns_ms"].is_null(),
        "the proxy resolves, not the device"
    );
}

#[test]
fn a_locally_trusted_ca_is_interception_unless_declared_public() {
    let dir = tempfile::tempdir().unwrap();
    let pki = make_pki("District Filter CA", &["127.0.0.1"]).unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let server = serve(Some(tls_config(&pki)), web);
    let port = server.port;
    let profile = format!("[[http]]\nurl = \"https://127.0.0.1:{port}/ok\"\n");
    let device = agent(dir.path(), Some(&ca));

    let run = run_agent(&device, "intercepted", &profile, How::default());
    let h = result(&run.report, "http[0]").unwrap();
    assert_eq!(h["outcome"], "tls_intercepted", "{h:#}");
    assert_eq!(h["evidence"]["blocking_layer"], "tls_interception");
    let cert = &h["evidence"]["certificate"];
    assert_eq!(cert["trusted_by_system"], true);
    assert_eq!(cert["publicly_trusted"], false);
    assert!(
        cert["issuer"]
            .as_str()
            .unwrap()
            .contains("District Filter CA")
    );
    let remedy = requirement(&run.report, "http[0]").unwrap()["remedy"]
        .as_str()
        .unwrap();
    assert!(remedy.contains("TLS-inspection bypass"), "{remedy}");

    let public_roots = ca.display().to_string();
    let run = run_agent(
        &device,
        "declared",
        &profile,
        How {
            extra: &["--public-roots", &public_roots],
            ..How::default()
        },
    );
    let h = result(&run.report, "http[0]").unwrap();
    assert_eq!(h["outcome"], "reachable", "{h:#}");
    assert_eq!(h["evidence"]["certificate"]["publicly_trusted"], true);
    assert!(h["timings"]["tls_ms"].is_number() && h["timings"]["first_byte_ms"].is_number());
}

/// A server that speaks first, as an SSH server does: `greeting` on every connection, then
/// the connection is held until the client leaves (at most 5 s).
fn speak_first(greeting: &'static [u8]) -> Server {
    accept_loop(move |mut stream| {
        let _ = stream.write_all(greeting);
        let mut sink = [0u8; 256];
        let _ = stream.read(&mut sink);
    })
}

#[test]
fn a_sending_machine_checks_the_transfer_endpoint_alone_and_reads_who_answers() {
    let dir = tempfile::tempdir().unwrap();
    let ssh = speak_first(b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n");
    let not_ssh = speak_first(b"HTTP/1.1 400 Bad Request\r\nServer: lab-proxy\r\n\r\n");
    // RFC 4253 lets a server send other lines before its identification.
    let preamble = speak_first(b"Authorized use only.\r\nSSH-2.0-lab_1.0\r\n");
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let agent = agent(dir.path(), None);
    for (name, port, status, observed) in [
        (
            "sftp-ok",
            ssh.port,
            "pass",
            "an SSH server answered (SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3)",
        ),
        (
            "sftp-not-ssh",
            not_ssh.port,
            "fail",
            "opened but no SSH server identified itself (it sent \"HTTP/1.1 400 Bad Request\")",
        ),
        ("sftp-closed", closed, "fail", "refused: connection refused"),
        (
            "sftp-preamble",
            preamble.port,
            "pass",
            "an SSH server answered (SSH-2.0-lab_1.0)",
        ),
    ] {
        // The DNS requirement would fail here: a sending machine must not run it.
        let requirements = format!(
            "[[dns]]\nname = \"product.lab.invalid\"\n[data]\nmethod = \"oneroster_csv\"\nversions = [\"1.1\"]\n\
             endpoint = \"sftp://127.0.0.1:{port}/roster\"\nsources = [\"https://lab.example/roster\"]\n\
             [[data.elements]]\nsource = \"users.givenName\"\n"
        );
        let run = run_agent(
            &agent,
            name,
            &requirements,
            How {
                extra: &["--data-sender"],
                ..How::default()
            },
        );
        let results = run.report["results"].as_array().unwrap();
        assert_eq!(
            results.len(),
            1,
            "{name}: only the transfer check ran: {results:#?}"
        );
        assert_eq!(results[0]["requirement"], "data.endpoint", "{name}");
        assert_eq!(results[0]["check"], "tcp", "{name}");
        let judged = &run.report["evaluation"]["requirements"][0];
        assert_eq!(judged["id"], "data.endpoint", "{name}");
        assert_eq!(judged["status"], status, "{name}: {judged}");
        let seen = judged["observed"].as_str().unwrap();
        assert!(seen.contains(observed), "{name}: {seen}");
        assert_eq!(
            run.code,
            Some(if status == "pass" { 0 } else { 1 }),
            "{name}"
        );
        if status == "pass" {
            let banner = results[0]["banner"].as_str().unwrap_or_default();
            assert_eq!(seen, format!("an SSH server answered ({banner})"), "{name}");
        }
    }
}
