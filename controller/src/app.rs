//! The HTTP application: the router, built from the routes table, the bandwidth endpoint and
//! the pages, with request timing.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::header;
use axum::middleware::{self, Next};
use axum::response::Response;

use crate::edge::error::Failure;
use crate::edge::metrics::RequestLabels;
pub use crate::edge::state::{AppState, Limits, Shared};

/// The whole router: the API's routes from `routes::api()` (agent API, people's API — behind
/// the cross-site guard —, operations endpoints), the bandwidth endpoint, and the pages.
pub fn router(state: AppState) -> Router {
    const AGENT_API: &str = "/api/agent/v1";
    let mut agent: Router<AppState> = Router::new();
    let mut people: Router<AppState> = Router::new();
    let mut others: Router<AppState> = Router::new();
    for route in crate::api::routes::api() {
        let Some(handler) = route.handler else {
            continue;
        };
        if let Some(rest) = route.path.strip_prefix(AGENT_API) {
            agent = agent.route(rest, handler);
        } else if route.path.starts_with("/api/v1/") {
            people = people.route(route.path, handler);
        } else {
            others = others.route(route.path, handler);
        }
    }
    let people = people.route_layer(middleware::from_fn_with_state(
        state.clone(),
        crate::edge::guard::people_api,
    ));
    // The bandwidth router's own paths start with /bandwidth/; mount each as it is, behind
    // agent authentication and each agent's daily budget, so agents find it at
    // /api/agent/v1/bandwidth/…. No request may ask more than an agent ever would.
    let caps = fitcheck_bandwidth::Limits {
        download_bytes: fitcheck_core::api::bandwidth_caps::DOWNLOAD_REQUEST_BYTES,
        upload_bytes: fitcheck_core::api::bandwidth_caps::TEST_BYTES,
    };
    let bandwidth = fitcheck_bandwidth::router_with(caps).layer(middleware::from_fn_with_state(
        state.clone(),
        crate::edge::bandwidth_gate::guard,
    ));
    let agent = fitcheck_bandwidth::PATHS
        .iter()
        .fold(agent, |r, path| r.route_service(path, bandwidth.clone()));
    Router::new()
        .nest(AGENT_API, agent)
        .merge(people)
        .merge(others)
        .merge(crate::web::router())
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(state.clone(), measure))
        .with_state(state)
}

async fn not_found() -> Failure {
    Failure::not_found("no such route; see /api/openapi.json")
}

/// Times every request into the latency histogram, labelled by the declared route; and marks
/// every answer `X-Content-Type-Options: nosniff`, so that no browser takes a download (a
/// Markdown or JSON export carrying text from profiles and reports) for a page.
async fn measure(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().as_str().to_owned();
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .entry(header::X_CONTENT_TYPE_OPTIONS)
        .or_insert(axum::http::HeaderValue::from_static("nosniff"));
    state
        .metrics
        .requests
        .get_or_create(&RequestLabels {
            route,
            method,
            status: response.status().as_u16().to_string(),
        })
        .observe(started.elapsed().as_secs_f64());
    response
}
