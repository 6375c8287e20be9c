//! The packed browser agent and its `update.xml` (`/browser-agent/`), as Chrome's force-install
//! policy fetches them.

use crate::edge::error::Failure;
use crate::edge::state::AppState;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

/// The packed browser agent's file name, as `scripts/build-browser-agent` writes it.
pub const BROWSER_AGENT_CRX: &str = "fitcheck-browser-agent.crx";

/// A file of the browser-agent directory, or why it cannot be served.
async fn browser_agent_file(state: &AppState, name: &str, kind: &'static str) -> Response {
    let Some(dir) = &state.browser_agent_dir else {
        return Failure::not_found(
            "this controller serves no browser agent; start it with --browser-agent DIR (what scripts/build-browser-agent writes)",
        )
        .into_response();
    };
    match tokio::fs::read(dir.join(name)).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, kind)], bytes).into_response(),
        Err(e) => {
            tracing::warn!(dir = %dir.display(), file = name, error = %e, "Browser agent file unreadable.");
            Failure::not_found(format!(
                "{name} is not in the browser-agent directory {} ({e}); run scripts/build-browser-agent into it",
                dir.display()
            ))
            .into_response()
        }
    }
}

/// `GET /browser-agent/update.xml`: the update manifest Chrome reads for a force-installed
/// extension. Behind a reverse proxy (`--public-url`) the package's address in it is the public
/// one, whatever address the agent was packed for.
pub async fn browser_agent_update(State(state): State<AppState>) -> Response {
    let file = browser_agent_file(&state, "update.xml", "application/xml").await;
    let Some(public) = &state.public_url else {
        return file;
    };
    if !file.status().is_success() {
        return file;
    }
    let crx = public.at(&format!("/browser-agent/{BROWSER_AGENT_CRX}"));
    match axum::body::to_bytes(file.into_body(), 1 << 20).await {
        Ok(bytes) => match with_codebase(&String::from_utf8_lossy(&bytes), &crx) {
            Some(xml) => ([(header::CONTENT_TYPE, "application/xml")], xml).into_response(),
            None => Failure::internal(
                "the browser agent's update.xml names no codebase; run scripts/build-browser-agent again",
            )
            .into_response(),
        },
        Err(e) => Failure::internal(format!("reading update.xml: {e}")).into_response(),
    }
}

/// `xml` with the value of its `codebase` attribute replaced by `url` (an address the `url`
/// crate wrote: no quote or `<` in it), or `None` where it has no such attribute.
fn with_codebase(xml: &str, url: &str) -> Option<String> {
    let at = xml.find("codebase=")? + "codebase=".len();
    let quote = xml
        .get(at..)?
        .chars()
        .next()
        .filter(|c| *c == '\'' || *c == '"')?;
    let end = at + 1 + xml.get(at + 1..)?.find(quote)?;
    Some(format!("{}{url}{}", xml.get(..at + 1)?, xml.get(end..)?))
}

/// `GET /browser-agent/fitcheck-browser-agent.crx`.
pub async fn browser_agent_crx(State(state): State<AppState>) -> Response {
    browser_agent_file(&state, BROWSER_AGENT_CRX, "application/x-chrome-extension").await
}
