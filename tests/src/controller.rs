//! The controller as a process, for tests that kill and restart it and for benchmarks: started
//! from the built binary on loopback (or inside a network namespace, at a [`Place`]) with its
//! own data directory (and optionally PostgreSQL),
//! ended by PID (SIGTERM, or SIGKILL for a crash), an HTTPS client that trusts its
//! certificate, and agents enrolled with it.

use std::io::{BufRead, BufReader};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::lab::{agent_cli, agent_command, run_bounded, workspace_binary};

/// A controller process.
#[derive(Debug)]
pub struct ControllerProcess {
    child: Option<Child>,
    pub port: u16,
    pub data_dir: PathBuf,
    pub database: Option<String>,
    /// The first administrator's one-time password (from the first start's output).
    pub admin_password: String,
    /// `sha256:…` of its certificate.
    pub fingerprint: String,
    /// Its certificate (PEM).
    pub cert_pem: Vec<u8>,
    place: Place,
    /// More `serve` arguments (`--signatures FILE`, `--browser-agent DIR`).
    serve_args: Vec<String>,
}

/// Where the controller serves: on loopback (the default), or inside a network namespace.
#[derive(Debug, Clone)]
pub struct Place {
    /// The namespace `serve` runs in (`ip netns exec`); the command-line tools run here.
    pub netns: Option<String>,
    /// The address it listens on.
    pub listen: String,
    /// The address this process reaches it at.
    pub reach: String,
}

impl Default for Place {
    fn default() -> Place {
        Place {
            netns: None,
            listen: "127.0.0.1".to_owned(),
            reach: "127.0.0.1".to_owned(),
        }
    }
}

impl ControllerProcess {
    /// Starts `fitcheck-controller serve` and waits until it accepts connections.
    pub fn start(data_dir: &Path, database: Option<&str>) -> Result<ControllerProcess> {
        Self::start_at(data_dir, database, Place::default())
    }

    /// [`start`](Self::start), serving at `place`.
    pub fn start_at(
        data_dir: &Path,
        database: Option<&str>,
        place: Place,
    ) -> Result<ControllerProcess> {
        Self::start_with(data_dir, database, place, &[])
    }

    /// [`start_at`](Self::start_at), with more `serve` arguments (kept for restarts).
    pub fn start_with(
        data_dir: &Path,
        database: Option<&str>,
        place: Place,
        serve_args: &[&str],
    ) -> Result<ControllerProcess> {
        let mut c = ControllerProcess {
            child: None,
            // Chosen by the controller on its first start (it binds port 0 and prints the port):
            // a port picked here and released could be taken before the controller binds it.
            port: 0,
            data_dir: data_dir.to_path_buf(),
            database: database.map(str::to_owned),
            admin_password: String::new(),
            fingerprint: String::new(),
            cert_pem: Vec::new(),
            place,
            serve_args: serve_args.iter().map(|a| (*a).to_owned()).collect(),
        };
        c.launch()?;
        Ok(c)
    }

    fn command(&self, args: &[&str]) -> Result<Command> {
        let mut cmd = Command::new(workspace_binary("fitcheck-controller")?);
        crate::lab::without_proxies(&mut cmd)
            .args(args)
            .arg("--data-dir")
            .arg(&self.data_dir);
        match &self.database {
            Some(url) => cmd.env("FITCHECK_DATABASE_URL", url),
            None => cmd.env_remove("FITCHECK_DATABASE_URL"),
        };
        Ok(cmd)
    }

    fn launch(&mut self) -> Result<()> {
        let listen = format!("{}:{}", self.place.listen, self.port);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.data_dir.with_extension("log"))
            .context("opening the controller's log")?;
        // Agents, browser agents too, poll every 5 s in tests, unless the caller sets its own
        // intervals.
        let mut serve = self.command(&["serve", "--listen", &listen])?;
        for flag in ["--poll-interval", "--browser-poll-interval"] {
            if !self.serve_args.iter().any(|a| a == flag) {
                serve.args([flag, "5"]);
            }
        }
        // The certificate names the address this process reaches it at.
        serve.args(["--tls-name", &self.place.reach]);
        serve.args(&self.serve_args);
        if let Some(ns) = &self.place.netns {
            let mut wrapped = Command::new("ip");
            wrapped
                .args(["netns", "exec", ns])
                .arg(serve.get_program())
                .args(serve.get_args());
            for (k, v) in serve.get_envs() {
                match v {
                    Some(v) => wrapped.env(k, v),
                    None => wrapped.env_remove(k),
                };
            }
            serve = wrapped;
        }
        let mut child = serve
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .context("starting fitcheck-controller")?;
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        if let Some(out) = child.stdout.take() {
            let lines = lines.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines().map_while(Result::ok) {
                    if let Ok(mut l) = lines.lock() {
                        l.push(line);
                    }
                }
            });
        }
        self.child = Some(child);
        // The first start prints the administrator's password; every start the fingerprint.
        let first = self.admin_password.is_empty();
        let deadline = Instant::now() + Duration::from_secs(60);
        let printed = loop {
            let printed = lines.lock().map(|l| l.join("\n")).unwrap_or_default();
            let told =
                printed.contains("SHA-256 ") && (!first || printed.contains("one-time password"));
            let prefix = format!("listening on https://{}:", self.place.listen);
            let bound = printed
                .lines()
                .find_map(|l| l.split_once(prefix.as_str()))
                .and_then(|(_, port)| port.trim().parse::<u16>().ok());
            if let (true, Some(port)) = (told, bound)
                && TcpStream::connect((self.place.reach.as_str(), port)).is_ok()
            {
                self.port = port;
                break printed;
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                bail!(
                    "fitcheck-controller exited ({status}) before listening; see {}",
                    self.data_dir.with_extension("log").display()
                );
            }
            if Instant::now() > deadline {
                bail!("fitcheck-controller did not listen on {listen} within 60 s");
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        if first {
            // The first administrator's password is one-time: choose one, as the person would
            // at first log-in (here with the command line a provisioning script would use).
            let chosen = format!("chosen-{}", uuid::Uuid::new_v4().simple());
            let file = self.data_dir.with_extension("admin-password");
            std::fs::write(&file, &chosen).context("writing the administrator's password")?;
            let file = file.display().to_string();
            let f = run_bounded(
                &mut self.command(&["user", "set-password", "admin", "--password-file", &file])?,
                Duration::from_secs(60),
            )?;
            if !f.status.success() {
                bail!("setting the administrator's password failed: {}", f.stderr);
            }
            self.admin_password = chosen;
        }
        self.fingerprint = printed
            .lines()
            .find_map(|l| l.trim().strip_prefix("SHA-256 "))
            .context("the controller printed no certificate fingerprint")?
            .trim()
            .to_owned();
        self.cert_pem = std::fs::read(self.data_dir.join("tls/cert.pem"))
            .context("reading the controller's certificate")?;
        Ok(())
    }

    /// `https://127.0.0.1:PORT`.
    pub fn base(&self) -> String {
        format!("https://{}:{}", self.place.reach, self.port)
    }

    /// The PID of the running process.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    /// A crash: SIGKILL, nothing gets to finish.
    pub fn kill9(&mut self) -> Result<()> {
        if let Some(mut c) = self.child.take() {
            c.kill().context("killing the controller")?;
            c.wait()?;
        }
        Ok(())
    }

    /// A clean stop: SIGTERM, then wait (SIGKILL after 40 s).
    pub fn terminate(&mut self) -> Result<()> {
        if let Some(mut c) = self.child.take() {
            run_bounded(
                Command::new("kill").args(["-TERM", &c.id().to_string()]),
                Duration::from_secs(5),
            )?;
            let deadline = Instant::now() + Duration::from_secs(40);
            while c.try_wait()?.is_none() {
                if Instant::now() > deadline {
                    let _ = c.kill();
                    c.wait()?;
                    bail!("the controller did not stop within 40 s of SIGTERM");
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        Ok(())
    }

    /// Starts it again on the same port, data directory and database.
    pub fn restart(&mut self) -> Result<()> {
        self.launch()
    }

    /// Runs `fitcheck-controller ARGS --data-dir …` (with the same database) to the end.
    pub fn cli(&self, args: &[&str]) -> Result<crate::lab::Finished> {
        run_bounded(&mut self.command(args)?, Duration::from_secs(60))
    }

    /// Creates an enrollment secret with the command line; returns the secret.
    pub fn secret(&self) -> Result<String> {
        let f = run_bounded(
            &mut self.command(&["secret", "tests"])?,
            Duration::from_secs(30),
        )?;
        if !f.status.success() {
            bail!("fitcheck-controller secret failed: {}", f.stderr);
        }
        f.stdout
            .rsplit(": ")
            .next()
            .map(|s| s.trim().to_owned())
            .filter(|s| s.starts_with("fce_"))
            .with_context(|| format!("no secret in {:?}", f.stdout))
    }

    /// Enrolls the agent whose state is `state` with `secret`, labelled `site=SITE`, as a
    /// person would with `fitcheck-agent enroll`; fails with its output when it is refused.
    pub fn enroll_agent(&self, secret: &str, state: &Path, site: &str) -> Result<()> {
        let f = agent_cli(
            &[
                "enroll",
                "--controller",
                &self.base(),
                "--secret",
                secret,
                "--fingerprint",
                &self.fingerprint,
                "--label",
                &format!("site={site}"),
            ],
            state,
        )?;
        if !f.status.success() {
            bail!("enroll: {}{}", f.stdout, f.stderr);
        }
        Ok(())
    }

    /// An HTTPS client that trusts this controller's certificate.
    pub fn client(&self) -> Result<Client> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // As the controller's own pages do: requests that change something name their origin.
        let mut origin = reqwest::header::HeaderMap::new();
        origin.insert(reqwest::header::ORIGIN, self.base().parse()?);
        let http = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(&self.cert_pem)?)
            .default_headers(origin)
            .no_proxy()
            .timeout(Duration::from_secs(30))
            .build()?;
        Ok(Client {
            http,
            base: self.base(),
            session: None,
        })
    }
}

impl Drop for ControllerProcess {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Starts `fitcheck-agent daemon ARGS --state-dir STATE`, its standard error appended to `log`.
pub fn spawn_agent_daemon(args: &[&str], state: &Path, log: &Path) -> Result<Child> {
    let mut daemon = vec!["daemon"];
    daemon.extend_from_slice(args);
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .with_context(|| format!("opening {}", log.display()))?;
    agent_command(&daemon, state)?
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .context("starting the agent's daemon")
}

/// A client of one controller, logged in or not.
#[derive(Debug, Clone)]
pub struct Client {
    pub http: reqwest::Client,
    pub base: String,
    session: Option<String>,
}

impl Client {
    /// Logs in as `username`.
    pub async fn login(&mut self, username: &str, password: &str) -> Result<()> {
        let resp = self
            .http
            .post(format!("{}/api/v1/login", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await?;
        if !resp.status().is_success() {
            bail!("log-in as {username} refused: {}", resp.status());
        }
        let cookie = resp
            .headers()
            .get("set-cookie")
            .context("no session cookie")?
            .to_str()?;
        self.session = cookie.split(';').next().map(str::to_owned);
        Ok(())
    }

    fn with_session(&self, req: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.session {
            Some(c) => req.header("Cookie", c),
            None => req,
        }
    }

    /// GET a JSON document as the logged-in person.
    pub async fn get(&self, path: &str) -> Result<(u16, Value)> {
        let resp = self
            .with_session(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }

    /// GET a page as the logged-in person: its status and text.
    pub async fn get_text(&self, path: &str) -> Result<(u16, String)> {
        let resp = self
            .with_session(self.http.get(format!("{}{path}", self.base)))
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await?))
    }

    /// POST a body (JSON, or any text with its content type) as the logged-in person.
    pub async fn post(&self, path: &str, body: String, content_type: &str) -> Result<(u16, Value)> {
        let resp = self
            .with_session(self.http.post(format!("{}{path}", self.base)))
            .header("Content-Type", content_type)
            .body(body)
            .send()
            .await?;
        let status = resp.status().as_u16();
        Ok((status, resp.json().await.unwrap_or(Value::Null)))
    }
}

/// POSTs `body` as JSON and fails unless the answer is 2xx; the answer.
pub async fn post_ok(client: &Client, path: &str, body: &Value) -> Result<Value> {
    let (s, v) = client
        .post(path, body.to_string(), "application/json")
        .await?;
    if !(200..300).contains(&s) {
        bail!("POST {path}: {s} {v}");
    }
    Ok(v)
}

/// Evaluation `id`'s watch: `GET /api/v1/evaluations/{id}/watch`.
pub async fn watch_detail(client: &Client, id: &str) -> Result<Value> {
    let (s, w) = client
        .get(&format!("/api/v1/evaluations/{id}/watch"))
        .await?;
    if s != 200 {
        bail!("the watch of {id}: {s} {w}");
    }
    Ok(w)
}

/// When the watch's latest round was decided, if one was.
pub async fn last_decided(client: &Client, id: &str) -> Result<Option<String>> {
    Ok(
        watch_detail(client, id).await?["watch"]["last_round"]["decided_at"]
            .as_str()
            .map(str::to_owned),
    )
}

/// Waits (at most `limit`) until a round of evaluation `id`'s watch newer than the one
/// decided at `before` is decided; the watch's detail then.
pub async fn round_decided_after(
    client: &Client,
    id: &str,
    before: Option<String>,
    limit: Duration,
) -> Result<Value> {
    let start = Instant::now();
    loop {
        let w = watch_detail(client, id).await?;
        if w["watch"]["last_round"]["decided_at"].as_str() != before.as_deref() {
            return Ok(w);
        }
        if start.elapsed() > limit {
            bail!("no round of {id} was decided within {limit:?}: {w}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Starts a round of evaluation `id`'s watch now and waits (at most `limit`) until it is
/// decided; the watch's detail then.
pub async fn watch_round(client: &Client, id: &str, limit: Duration) -> Result<Value> {
    let before = last_decided(client, id).await?;
    let (s, v) = client
        .post(
            &format!("/api/v1/evaluations/{id}/watch/rounds"),
            "{}".into(),
            "application/json",
        )
        .await?;
    if s != 202 {
        bail!("starting a round of {id}: {s} {v}");
    }
    round_decided_after(client, id, before, limit).await
}

/// A report that reads like one an agent wrote (the bundled Kahoot! profile run on a device
/// with no network), with a fresh `report_id`, made by `agent_id` enrolled at `site` (its only
/// label).
pub fn sample_report(agent_id: &str, site: &str) -> Result<Value> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../controller/tests/data/report.json");
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("reading {}", path.display()))?;
    let mut v: Value = serde_json::from_str(&text)?;
    v["report_id"] = json!(uuid::Uuid::new_v4());
    v["agent"]["agent_id"] = json!(agent_id);
    v["agent"]["labels"] = json!({ "site": site });
    Ok(v)
}
