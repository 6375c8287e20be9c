//! A small controller on 127.0.0.1, over TLS with its own self-signed certificate: the agent
//! API's routes as the contract describes them, with scripted answers for report deliveries,
//! and the bandwidth endpoint behind the bearer credential.

use std::collections::{BTreeMap, HashSet, VecDeque};
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use fitcheck_agent::uplink::pin::Fingerprint;
use fitcheck_core::api::{
    ApiError, Assignment, Assignments, EnrollRequest, EnrollResponse, IngestResponse, Ingested,
};
use fitcheck_core::report::{AgentInfo, ProfileRef, REPORT_SCHEMA, Report};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;
use uuid::Uuid;

/// One report delivery the mock saw.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub report_id: Uuid,
    pub evaluation: Option<Uuid>,
    pub at: Instant,
    pub status: u16,
    pub report: Report,
}

/// What the mock does and saw.
#[derive(Debug, Default)]
pub struct MockState {
    /// The enrollment secret it accepts.
    pub secret: String,
    /// The credential it hands out and then requires.
    pub credential: String,
    pub enrolled: HashSet<Uuid>,
    pub revoked: bool,
    pub enroll_requests: usize,
    pub labels: Vec<BTreeMap<String, String>>,
    pub assignments: Vec<Assignment>,
    pub assignment_polls: usize,
    pub poll_interval_s: u32,
    /// Answers to the next deliveries: status and Retry-After seconds. Empty: store.
    pub script: VecDeque<(u16, Option<u64>)>,
    pub stored: HashSet<Uuid>,
    pub deliveries: Vec<Delivery>,
    pub bandwidth_requests: usize,
    pub bandwidth_unauthorized: usize,
}

type Shared = Arc<Mutex<MockState>>;

pub struct Mock {
    pub url: String,
    pub addr: SocketAddr,
    pub fingerprint: Fingerprint,
    pub state: Shared,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl Mock {
    pub fn state(&self) -> std::sync::MutexGuard<'_, MockState> {
        self.state.lock().unwrap()
    }
}

struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.tcp.accept().await else {
                continue;
            };
            // A client that ends the handshake on purpose (the agent's certificate fetch, a
            // refused pin) is not an error here.
            if let Ok(tls) = self.acceptor.accept(stream).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

fn api_error(status: StatusCode, error: &str, message: &str, field: Option<&str>) -> Response {
    let body = ApiError {
        error: error.to_owned(),
        message: message.to_owned(),
        field: field.map(str::to_owned),
        details: Vec::new(),
    };
    (status, axum::Json(body)).into_response()
}

fn authorized(state: &MockState, headers: &HeaderMap) -> bool {
    let expected = format!("Bearer {}", state.credential);
    !state.revoked
        && headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            == Some(expected.as_str())
}

async fn enroll(State(s): State<Shared>, body: Bytes) -> Response {
    let mut st = s.lock().unwrap();
    st.enroll_requests += 1;
    let Ok(req) = serde_json::from_slice::<EnrollRequest>(&body) else {
        return api_error(StatusCode::BAD_REQUEST, "invalid_body", "not JSON", None);
    };
    if req.secret != st.secret {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the enrollment secret is unknown, expired or revoked",
            Some("secret"),
        );
    }
    if !st.enrolled.insert(req.agent_id) {
        return api_error(
            StatusCode::CONFLICT,
            "conflict",
            "agent already enrolled",
            None,
        );
    }
    st.labels.push(req.labels.clone());
    let answer = EnrollResponse {
        agent_id: req.agent_id,
        credential: st.credential.clone(),
        poll_interval_s: st.poll_interval_s,
    };
    (StatusCode::CREATED, axum::Json(answer)).into_response()
}

async fn assignments(State(s): State<Shared>, headers: HeaderMap) -> Response {
    let mut st = s.lock().unwrap();
    if !authorized(&st, &headers) {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "unknown agent credential; enroll the agent again",
            None,
        );
    }
    st.assignment_polls += 1;
    axum::Json(Assignments {
        assignments: st.assignments.clone(),
        poll_interval_s: st.poll_interval_s,
    })
    .into_response()
}

#[derive(serde::Deserialize)]
struct ReportQuery {
    evaluation: Option<Uuid>,
}

async fn reports(
    State(s): State<Shared>,
    Query(q): Query<ReportQuery>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut st = s.lock().unwrap();
    if !authorized(&st, &headers) {
        return api_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "this agent was revoked by an administrator; it must be enrolled again",
            None,
        );
    }
    let report: Report = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return api_error(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_report",
                &e.to_string(),
                None,
            );
        }
    };
    let scripted = st.script.pop_front();
    let status = scripted.map_or(200, |(status, _)| status);
    st.deliveries.push(Delivery {
        report_id: report.report_id,
        evaluation: q.evaluation,
        at: Instant::now(),
        status,
        report: report.clone(),
    });
    if let Some((status, retry_after)) = scripted {
        let code = StatusCode::from_u16(status).unwrap();
        let mut resp = api_error(
            code,
            "scripted",
            "results[0].outcome is not an outcome",
            Some("results[0].outcome"),
        );
        if let Some(ra) = retry_after {
            resp.headers_mut()
                .insert(header::RETRY_AFTER, ra.to_string().parse().unwrap());
        }
        return resp;
    }
    let fresh = st.stored.insert(report.report_id);
    let (code, result) = if fresh {
        (StatusCode::CREATED, Ingested::Stored)
    } else {
        (StatusCode::OK, Ingested::Duplicate)
    };
    (
        code,
        axum::Json(IngestResponse {
            report_id: report.report_id,
            result,
        }),
    )
        .into_response()
}

async fn bandwidth_guard(State(s): State<Shared>, request: Request, next: Next) -> Response {
    {
        let mut st = s.lock().unwrap();
        if !authorized(&st, request.headers()) {
            st.bandwidth_unauthorized += 1;
            return api_error(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "no credential",
                None,
            );
        }
        st.bandwidth_requests += 1;
    }
    next.run(request).await
}

async fn healthz() -> &'static str {
    "ok"
}

/// A fresh self-signed certificate for 127.0.0.1 and localhost.
pub fn certificate() -> (CertificateDer<'static>, PrivateKeyDer<'static>) {
    let ck =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    (ck.cert.der().clone(), key)
}

/// Starts a mock controller with a new certificate.
pub async fn start() -> Mock {
    crate::common::assert_no_proxy();
    let (cert, key) = certificate();
    let fingerprint = Fingerprint::of(cert.as_ref());
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![cert], key)
        .unwrap();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    let state: Shared = Arc::new(Mutex::new(MockState {
        secret: "district-secret".to_owned(),
        credential: format!("agent-credential-{}", Uuid::new_v4().simple()),
        poll_interval_s: 60,
        ..MockState::default()
    }));
    let bandwidth = fitcheck_bandwidth::router().layer(middleware::from_fn_with_state(
        state.clone(),
        bandwidth_guard,
    ));
    let app = Router::new()
        .route("/api/agent/v1/enroll", post(enroll))
        .route("/api/agent/v1/assignments", get(assignments))
        .route("/api/agent/v1/reports", post(reports))
        .route("/healthz", get(healthz))
        .with_state(state.clone())
        // The bandwidth router's own paths start with /bandwidth/.
        .nest("/api/agent/v1", bandwidth);
    let tcp = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = tcp.local_addr().unwrap();
    let listener = TlsListener {
        tcp,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    };
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Mock {
        url: format!("https://{addr}/"),
        addr,
        fingerprint,
        state,
        _stop: stop,
    }
}

/// A report with real (fixture-rooted, so quick) device facts and no results.
pub fn report(agent_id: Uuid) -> Report {
    let empty = tempfile::tempdir().unwrap();
    let device = fitcheck_agent::facts::collect(&fitcheck_agent::facts::FactSources {
        root: empty.path().to_owned(),
        use_nvml: false,
    });
    Report {
        schema: REPORT_SCHEMA.to_owned(),
        report_id: Uuid::new_v4(),
        agent: AgentInfo {
            agent_id,
            version: "test".to_owned(),
            labels: BTreeMap::new(),
            kind: None,
        },
        profile: ProfileRef {
            id: "t".to_owned(),
            name: "T".to_owned(),
            vendor: "V".to_owned(),
            digest: fitcheck_core::digest(b"t"),
        },
        started_at: "2026-11-23T08:00:00Z".to_owned(),
        finished_at: "2026-11-23T08:00:05Z".to_owned(),
        device,
        results: Vec::new(),
        notes: Vec::new(),
        evaluation: None,
    }
}

/// Writes an enrollment for `mock` into `state_dir` through the library (as `enroll` does).
pub async fn enroll_into(
    mock: &Mock,
    state_dir: &Path,
) -> fitcheck_agent::uplink::state::Enrollment {
    let opts = fitcheck_agent::uplink::enroll::EnrollOptions {
        controller: mock.url.clone(),
        secret: "district-secret".to_owned(),
        labels: [("site".to_owned(), "lincoln".to_owned())].into(),
        fingerprint: Some(mock.fingerprint),
        state_dir: state_dir.to_owned(),
        new_id: false,
        timeouts: Default::default(),
    };
    fitcheck_agent::uplink::enroll::enroll(&opts)
        .await
        .unwrap()
        .enrollment
}
