//! Where a watched product's alerts land in the lab: an HTTP receiver keeping each request's
//! body, and the district's mail submission server (`tests/lab/smtp-submission.py` on Debian's
//! aiosmtpd), which takes a mail only after STARTTLS — with a certificate for its address from a
//! CA of the lab's own — and a login.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::lab;

/// The bodies an HTTP receiver took, in arrival order.
pub type Bodies = Arc<Mutex<Vec<String>>>;

/// An HTTP receiver on `ip`: each request's body, kept; answers 200. Returns its URL.
pub fn webhook(ip: &str) -> Result<(String, Bodies)> {
    let listener = TcpListener::bind((ip, 0)).with_context(|| format!("binding {ip}"))?;
    let url = format!("http://{}/hook", listener.local_addr()?);
    let got = Bodies::default();
    let keep = got.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(100) {
            let Ok(stream) = stream else { continue };
            if let Some(body) = one_request(stream)
                && let Ok(mut kept) = keep.lock()
            {
                kept.push(body);
            }
        }
    });
    Ok((url, got))
}

/// Reads one request, answers 200; its body.
fn one_request(mut stream: std::net::TcpStream) -> Option<String> {
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
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
    let read = reader.read_exact(&mut body);
    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    read.ok()?;
    Some(String::from_utf8_lossy(&body).into_owned())
}

/// The messages' `kind`s (`opened`, `resolved`), in arrival order.
pub fn kinds(got: &Bodies) -> Vec<String> {
    got.lock()
        .map(|g| {
            g.iter()
                .map(|b| {
                    serde_json::from_str::<Value>(b)
                        .ok()
                        .and_then(|v| v["kind"].as_str().map(str::to_owned))
                        .unwrap_or_default()
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How many bodies the receiver took.
pub fn count(got: &Bodies) -> usize {
    got.lock().map(|g| g.len()).unwrap_or(0)
}

/// The login the submission server takes.
pub const MAIL_USER: &str = "fitcheck";
pub const MAIL_PASSWORD: &str = "lab mail password";

/// The district's mail submission server, running until dropped.
#[derive(Debug)]
pub struct Submission {
    child: Child,
    ip: String,
    pub port: u16,
    /// The certificate of the CA that signed the server's certificate.
    pub ca_pem: String,
    pub maildir: PathBuf,
    /// One line per login: `ok USER` or `refused USER`.
    pub logins: PathBuf,
}

impl Submission {
    /// Starts it on `ip` (a free port), its files under `dir`.
    pub fn start(ip: &str, dir: &Path) -> Result<Submission> {
        let pki = lab::make_pki("Lab District Mail CA", &[ip])?;
        let (cert, key) = (dir.join("smtp-cert.pem"), dir.join("smtp-key.pem"));
        std::fs::write(&cert, &pki.server_cert_pem)?;
        std::fs::write(&key, &pki.server_key_pem)?;
        let port = TcpListener::bind((ip, 0))?.local_addr()?.port();
        let (maildir, logins) = (dir.join("mail"), dir.join("smtp-logins.log"));
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("lab/smtp-submission.py");
        let out_path = dir.join("smtp.out");
        let out = std::fs::File::create(&out_path)?;
        let child = Command::new("/usr/bin/python3")
            .arg(script)
            .args([ip, &port.to_string()])
            .args([&cert, &key])
            .args([MAIL_USER, MAIL_PASSWORD])
            .args([&maildir, &logins])
            .stdin(Stdio::null())
            .stdout(out.try_clone()?)
            .stderr(out)
            .spawn()
            .context("starting tests/lab/smtp-submission.py with /usr/bin/python3")?;
        let server = Submission {
            child,
            ip: ip.to_owned(),
            port,
            ca_pem: pki.ca_pem,
            maildir,
            logins,
        };
        let start = Instant::now();
        while std::net::TcpStream::connect((ip, port)).is_err() {
            if start.elapsed() > Duration::from_secs(30) {
                bail!(
                    "the SMTP server did not start: {}",
                    std::fs::read_to_string(&out_path).unwrap_or_default()
                );
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(server)
    }

    /// The controller's channel for it: STARTTLS, its CA, the login.
    pub fn channel(&self, name: &str) -> Value {
        json!({"name": name, "kind": "smtp", "secret": MAIL_PASSWORD,
               "smtp": {"host": self.ip, "port": self.port, "security": "starttls",
                        "username": MAIL_USER, "ca_pem": self.ca_pem,
                        "from": "fitcheck <alerts@lab.test>", "to": ["netops@lab.test"]}})
    }

    /// The mails it took.
    pub fn mails(&self) -> Vec<String> {
        std::fs::read_dir(self.maildir.join("new"))
            .map(|d| {
                d.filter_map(|e| std::fs::read_to_string(e.ok()?.path()).ok())
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Whether `MAIL_USER` logged in (the server takes no mail before STARTTLS and a login).
    pub fn logged_in(&self) -> bool {
        std::fs::read_to_string(&self.logins)
            .unwrap_or_default()
            .lines()
            .any(|l| l == format!("ok {MAIL_USER}"))
    }
}

impl Drop for Submission {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
