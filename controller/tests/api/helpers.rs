//! `spawn_app`: the real controller on 127.0.0.1:0 over HTTPS with its own database (a fresh
//! SQLite file, or a fresh PostgreSQL database on the server `FITCHECK_TEST_POSTGRES` names),
//! and a client that talks HTTP to it.

use std::collections::BTreeMap;
use std::sync::Once;

use fitcheck_controller::{Config, Controller, Limits};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sqlx::Connection;
use tokio::sync::oneshot;
use uuid::Uuid;

/// Which database a test runs against.
#[derive(Debug, Clone, Copy)]
pub enum Db {
    Sqlite,
    Postgres,
}

/// Runs each named test function once per backend: `mod sqlite { … }` and `mod postgres { … }`.
#[macro_export]
macro_rules! both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Db::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name($crate::helpers::Db::Postgres).await
                }
            )*
        }
    };
}

/// A fresh PostgreSQL database, dropped by [`TestApp::stop`].
struct PgDb {
    admin_url: String,
    name: String,
}

fn postgres_base() -> String {
    std::env::var("FITCHECK_TEST_POSTGRES").unwrap_or_else(|_| {
        panic!(
            "FITCHECK_TEST_POSTGRES is not set: the PostgreSQL half of the API tests needs a server \
             (scripts/test starts one; or set it to e.g. postgres://postgres@127.0.0.1:5432/postgres)"
        )
    })
}

async fn create_pg() -> (PgDb, String) {
    let admin_url = postgres_base();
    let name = format!("fitcheck_test_{}", Uuid::new_v4().simple());
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .unwrap_or_else(|e| panic!("cannot reach PostgreSQL at FITCHECK_TEST_POSTGRES: {e}"));
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut conn)
        .await
        .unwrap();
    let url = match admin_url.rfind('/') {
        Some(i) if admin_url[..i].ends_with(|c: char| c != '/') => {
            let (head, tail) = admin_url.split_at(i);
            let query = tail.find('?').map(|q| &tail[q..]).unwrap_or("");
            format!("{head}/{name}{query}")
        }
        _ => panic!("FITCHECK_TEST_POSTGRES must end with /DATABASE"),
    };
    (PgDb { admin_url, name }, url)
}

/// A running controller.
pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub admin_password: String,
    pub fingerprint: String,
    pub config: Config,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    pg: Option<PgDb>,
    pub dir: tempfile::TempDir,
}

/// A client for a controller on `127.0.0.1:port` whose certificate (PEM) names `localhost`:
/// the name is pinned to that address, so the client never tries ::1, where another process
/// may hold the port, and no proxy from the environment is used.
pub fn loopback_client(cert_pem: &[u8], port: u16) -> reqwest::ClientBuilder {
    reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert_pem).unwrap())
        .resolve(
            "localhost",
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        )
        .no_proxy()
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy)]
pub enum Auth<'a> {
    None,
    /// An agent's bearer credential.
    Agent(&'a str),
    /// A person's session cookie value.
    Session(&'a str),
}

/// An enrolled agent.
#[derive(Debug, Clone)]
pub struct Agent {
    pub id: Uuid,
    pub credential: String,
    /// The labels it enrolled with (its reports carry them).
    pub labels: BTreeMap<String, String>,
}

pub fn install_crypto() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}

pub async fn spawn_app(db: Db) -> TestApp {
    spawn_app_with(db, Limits::default()).await
}

pub async fn spawn_app_with(db: Db, limits: Limits) -> TestApp {
    install_crypto();
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::new(dir.path().join("data"));
    config.limits = limits;
    let pg = match db {
        Db::Sqlite => None,
        Db::Postgres => {
            let (pg, url) = create_pg().await;
            config.database = Some(url);
            Some(pg)
        }
    };
    start(config, dir, pg).await
}

async fn start(config: Config, dir: tempfile::TempDir, pg: Option<PgDb>) -> TestApp {
    let controller = Controller::open(config.clone()).await.unwrap();
    // The first administrator's password is one-time; the tests' administrator has chosen its
    // own, as a person would at first log-in (the one-time flow has its own tests).
    let admin_password = match &controller.initial_admin {
        Some((name, _one_time)) => {
            let chosen = format!("chosen-{}", Uuid::new_v4().simple());
            let hash = fitcheck_controller::auth::hash_password(&chosen).unwrap();
            assert!(
                controller
                    .store()
                    .set_password(name, &hash, false)
                    .await
                    .unwrap()
            );
            chosen
        }
        None => String::new(),
    };
    let fingerprint = controller.fingerprint.clone();
    let cert = std::fs::read(&controller.cert_path).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let (tx, rx) = oneshot::channel::<()>();
    let task = tokio::spawn(controller.serve(listener, async {
        let _ = rx.await;
    }));
    // As the controller's own pages do: requests that change something name their origin.
    let base = format!("https://localhost:{port}");
    let mut origin = reqwest::header::HeaderMap::new();
    origin.insert(reqwest::header::ORIGIN, base.parse().unwrap());
    let client = loopback_client(&cert, port)
        .default_headers(origin)
        .build()
        .unwrap();
    TestApp {
        base,
        client,
        admin_password,
        fingerprint,
        config,
        shutdown: Some(tx),
        task: Some(task),
        pg,
        dir,
    }
}

impl TestApp {
    /// Stops the controller gracefully and drops its PostgreSQL database.
    pub async fn stop(mut self) {
        self.halt().await;
        if let Some(pg) = self.pg.take() {
            let mut conn = sqlx::PgConnection::connect(&pg.admin_url).await.unwrap();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                pg.name
            )))
            .execute(&mut conn)
            .await
            .unwrap();
        }
    }

    async fn halt(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    /// A second controller on the same database (its own data directory and certificate), as
    /// when several controllers share one PostgreSQL.
    pub async fn sibling(&self) -> TestApp {
        let dir = tempfile::tempdir().unwrap();
        let mut config = self.config.clone();
        config.data_dir = dir.path().join("data");
        let mut app = start(config, dir, None).await;
        app.admin_password = self.admin_password.clone();
        app
    }

    /// Stops and starts the controller again on the same database and data directory.
    pub async fn restart(mut self) -> TestApp {
        self.halt().await;
        let config = self.config.clone();
        let pg = self.pg.take();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        let mut app = start(config, dir, pg).await;
        app.admin_password = self.admin_password.clone();
        app
    }

    pub async fn request(
        &self,
        method: Method,
        path: &str,
        auth: Auth<'_>,
        body: Option<Vec<u8>>,
    ) -> (StatusCode, Value, reqwest::header::HeaderMap) {
        let reads = method == Method::GET;
        let mut req = self.client.request(method, format!("{}{path}", self.base));
        req = match auth {
            Auth::None => req,
            Auth::Agent(c) => req.bearer_auth(c),
            Auth::Session(s) => req.header("Cookie", format!("fitcheck_session={s}")),
        };
        if let Some(b) = body {
            req = req.header("Content-Type", "application/json").body(b);
        } else if !reads {
            // A request that changes something says it speaks JSON, even without a body.
            req = req.header("Content-Type", "application/json");
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let value = serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()));
        (status, value, headers)
    }

    pub async fn get(&self, path: &str, auth: Auth<'_>) -> (StatusCode, Value) {
        let (s, v, _) = self.request(Method::GET, path, auth, None).await;
        (s, v)
    }

    pub async fn post(&self, path: &str, auth: Auth<'_>, body: &Value) -> (StatusCode, Value) {
        let (s, v, _) = self
            .request(
                Method::POST,
                path,
                auth,
                Some(body.to_string().into_bytes()),
            )
            .await;
        (s, v)
    }

    /// Logs in; returns the session cookie's value.
    pub async fn login(&self, username: &str, password: &str) -> Result<String, StatusCode> {
        let resp = self
            .client
            .post(format!("{}/api/v1/login", self.base))
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap();
        if resp.status() != StatusCode::OK {
            return Err(resp.status());
        }
        let cookie = resp
            .headers()
            .get("set-cookie")
            .unwrap()
            .to_str()
            .unwrap()
            .to_owned();
        assert!(
            cookie.contains("HttpOnly") && cookie.contains("Secure"),
            "{cookie}"
        );
        Ok(cookie
            .split(';')
            .next()
            .unwrap()
            .strip_prefix("fitcheck_session=")
            .unwrap()
            .to_owned())
    }

    pub async fn admin(&self) -> String {
        self.login("admin", &self.admin_password).await.unwrap()
    }

    /// Creates a person with this role; returns their one-time password.
    pub async fn new_user(&self, admin: &str, username: &str, role: &str) -> String {
        let (s, v) = self
            .post(
                "/api/v1/users",
                Auth::Session(admin),
                &json!({"username": username, "role": role}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        v["password"].as_str().unwrap().to_owned()
    }

    /// A client of this controller (its certificate trusted, `localhost` pinned to its
    /// address, no proxy) that sends no `Origin` of its own.
    pub fn loopback(&self) -> reqwest::ClientBuilder {
        let cert = std::fs::read(self.config.data_dir.join("tls/cert.pem")).unwrap();
        let port = self.base.rsplit(':').next().unwrap().parse().unwrap();
        loopback_client(&cert, port)
    }

    /// Creates a person with this role, logs them in with their one-time password and has
    /// them choose their own ([`TestApp::chosen_password`]); returns their session.
    pub async fn person(&self, admin: &str, username: &str, role: &str) -> String {
        let one_time = self.new_user(admin, username, role).await;
        let one_time = one_time.as_str();
        let session = self.login(username, one_time).await.unwrap();
        let (s, v) = self
            .post(
                "/api/v1/me/password",
                Auth::Session(&session),
                &json!({"current": one_time, "new": TestApp::chosen_password(username)}),
            )
            .await;
        assert_eq!(s, StatusCode::NO_CONTENT, "{v}");
        session
    }

    /// The password [`TestApp::person`] chose for `username`.
    pub fn chosen_password(username: &str) -> String {
        format!("{username} chose this password")
    }

    /// A new enrollment secret: (id, secret).
    pub async fn secret(&self, admin: &str) -> (String, String) {
        let (s, v) = self
            .post(
                "/api/v1/enrollment-secrets",
                Auth::Session(admin),
                &json!({"name": "lab rollout"}),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        (
            v["id"].as_str().unwrap().to_owned(),
            v["secret"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn try_enroll(
        &self,
        secret: &str,
        id: Uuid,
        labels: &[(&str, &str)],
    ) -> (StatusCode, Value) {
        let labels: BTreeMap<&str, &str> = labels.iter().copied().collect();
        self.post(
            "/api/agent/v1/enroll",
            Auth::None,
            &json!({"secret": secret, "agent_id": id, "labels": labels, "version": "0.1.0"}),
        )
        .await
    }

    pub async fn enroll(&self, secret: &str, labels: &[(&str, &str)]) -> Agent {
        let id = Uuid::new_v4();
        let (s, v) = self.try_enroll(secret, id, labels).await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        Agent {
            id,
            credential: v["credential"].as_str().unwrap().to_owned(),
            labels: labels
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
        }
    }

    /// Uploads a profile; returns the answer.
    pub async fn upload_profile(&self, admin: &str, name: &str, toml: &str) -> (StatusCode, Value) {
        let resp = self
            .client
            .post(format!("{}/api/v1/profiles?name={name}", self.base))
            .header("Cookie", format!("fitcheck_session={admin}"))
            .header("Content-Type", "application/toml")
            .body(toml.to_owned())
            .send()
            .await
            .unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    /// Uploads the bundled Kahoot! profile (the one the fixture report ran) and opens an
    /// evaluation of it for `sites`; returns (evaluation id, profile digest).
    pub async fn evaluation(&self, admin: &str, sites: &[&str]) -> (String, String) {
        let (s, p) = self
            .upload_profile(admin, "kahoot.toml", &kahoot_profile())
            .await;
        assert!(s.is_success(), "{p}");
        let (s, e) = self
            .post(
                "/api/v1/evaluations",
                Auth::Session(admin),
                &json!({
                    "title": "Kahoot! in the labs",
                    "profile": p["id"],
                    "sites": sites,
                    "window_end": "2099-01-01T00:00:00Z",
                }),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{e}");
        (
            e["id"].as_str().unwrap().to_owned(),
            p["digest"].as_str().unwrap().to_owned(),
        )
    }

    pub async fn submit(
        &self,
        agent: &Agent,
        report: &Value,
        evaluation: Option<&str>,
    ) -> (StatusCode, Value) {
        let path = match evaluation {
            Some(e) => format!("/api/agent/v1/reports?evaluation={e}"),
            None => "/api/agent/v1/reports".to_owned(),
        };
        self.post(&path, Auth::Agent(&agent.credential), report)
            .await
    }
}

pub fn kahoot_profile() -> String {
    std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../profiles/kahoot.toml"
    ))
    .unwrap()
}

/// A realistic report (the bundled Kahoot! profile run on a device with no network), with a
/// fresh report id, made by `agent`.
pub fn report_for(agent: &Agent) -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/report.json"
    ))
    .unwrap();
    let mut v: Value = serde_json::from_str(&text).unwrap();
    v["report_id"] = json!(Uuid::new_v4());
    v["agent"]["agent_id"] = json!(agent.id);
    v["agent"]["labels"] = json!(agent.labels);
    v
}
