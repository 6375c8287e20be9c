//! The API's routes, each declared once with what serves it and how it is described: the
//! router (`app.rs`) is built from this table and so is `/api/openapi.json` (`openapi.rs`), so
//! no route can be served without being described, nor described without being served. The
//! bandwidth endpoint's routes are served by `fitcheck-bandwidth`'s router and only described
//! here; a test holds the two lists together. The HTML pages (`web/`) are not API.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::MethodRouter;
use schemars::JsonSchema;
use schemars::generate::SchemaGenerator;
use serde_json::{Value, json};

pub mod openapi;

use crate::api::{
    agent as agent_api, agents, browser_agent, decisions, evaluations, ops, people, profiles,
    reports, secrets, sis, watches,
};
use crate::edge::state::AppState;
use crate::types as api;
use fitcheck_core::api as wire;
use fitcheck_core::data::summary::SisSummary;
use fitcheck_core::report::Report;

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// No credential needed.
    Anyone,
    /// An enrolled, unrevoked agent (bearer credential).
    Agent,
    /// A logged-in person, administrator or reviewer (session cookie).
    Person,
    /// A logged-in administrator.
    Admin,
}

/// A schema, generated from a Rust type when the document is built.
pub type SchemaFn = fn(&mut SchemaGenerator) -> Value;

/// One route of the API.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    pub caller: Caller,
    /// What serves it; `None` for a route another router serves (the bandwidth endpoint).
    pub handler: Option<MethodRouter<AppState>>,
    pub summary: &'static str,
    /// The success status.
    pub ok: u16,
    pub request: Option<SchemaFn>,
    pub response: Option<SchemaFn>,
    /// Parameters: (name, `path` or `query`).
    pub params: &'static [(&'static str, &'static str)],
}

impl std::fmt::Debug for Route {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {} ({:?})", self.method, self.path, self.caller)
    }
}

impl Route {
    fn new(
        method: Method,
        caller: Caller,
        path: &'static str,
        handler: Option<MethodRouter<AppState>>,
    ) -> Route {
        Route {
            method,
            path,
            caller,
            handler,
            summary: "",
            ok: 200,
            request: None,
            response: None,
            params: &[],
        }
    }

    fn ok(mut self, status: u16) -> Route {
        self.ok = status;
        self
    }

    fn request(mut self, schema: SchemaFn) -> Route {
        self.request = Some(schema);
        self
    }

    fn response(mut self, schema: SchemaFn) -> Route {
        self.response = Some(schema);
        self
    }

    fn params(mut self, params: &'static [(&'static str, &'static str)]) -> Route {
        self.params = params;
        self
    }

    fn doc(mut self, summary: &'static str) -> Route {
        self.summary = summary;
        self
    }
}

fn get<H, T>(caller: Caller, path: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Route::new(Method::GET, caller, path, Some(axum::routing::get(handler)))
}

fn post<H, T>(caller: Caller, path: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Route::new(
        Method::POST,
        caller,
        path,
        Some(axum::routing::post(handler)),
    )
}

fn delete<H, T>(caller: Caller, path: &'static str, handler: H) -> Route
where
    H: Handler<T, AppState>,
    T: 'static,
{
    Route::new(
        Method::DELETE,
        caller,
        path,
        Some(axum::routing::delete(handler)),
    )
}

fn served_elsewhere(method: Method, caller: Caller, path: &'static str) -> Route {
    Route::new(method, caller, path, None)
}

fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> Value {
    g.subschema_for::<T>().to_value()
}

fn list<T: JsonSchema>(g: &mut SchemaGenerator) -> Value {
    json!({"type": "array", "items": g.subschema_for::<T>().to_value()})
}

fn toml(_: &mut SchemaGenerator) -> Value {
    json!({"type": "string", "description": "profile file (TOML)"})
}

/// Every route of the API, in the order the document lists them.
pub fn api() -> Vec<Route> {
    [agents_api(), people_api(), after_approval_api()]
        .into_iter()
        .flatten()
        .collect()
}

/// The agents' API: enrollment, assignments, reports, SIS summaries, the bandwidth endpoint and
/// the browser's extensions.
fn agents_api() -> Vec<Route> {
    vec![
        post(Caller::Anyone, "/api/agent/v1/enroll", agent_api::enroll)
            .ok(201)
            .request(schema::<wire::EnrollRequest>)
            .response(schema::<wire::EnrollResponse>)
            .doc("Exchange an enrollment secret for the agent's credential"),
        get(Caller::Agent, "/api/agent/v1/assignments", agent_api::assignments)
            .response(schema::<wire::Assignments>)
            .doc("Evaluations this agent should run now"),
        post(Caller::Agent, "/api/agent/v1/reports", agent_api::submit_report)
            .ok(201)
            .request(schema::<Report>)
            .response(schema::<wire::IngestResponse>)
            .params(&[("evaluation", "query")])
            .doc("Deliver a report; 201 stored now, 200 stored before (idempotent on report_id)"),
        post(Caller::Agent, "/api/agent/v1/sis-summaries", sis::submit_from_agent)
            .ok(201)
            .request(schema::<SisSummary>)
            .response(schema::<wire::SisIngestResponse>)
            .doc("Deliver the district's SIS summary (structure and counts, never a value); 201 stored now, 200 stored before"),
        served_elsewhere(Method::GET, Caller::Agent, "/api/agent/v1/bandwidth/download")
            .params(&[("bytes", "query")])
            .doc("Exactly `bytes` incompressible bytes, for throughput measurement"),
        served_elsewhere(Method::POST, Caller::Agent, "/api/agent/v1/bandwidth/upload")
            .params(&[("session", "query")])
            .doc("Accepts and counts an upload body"),
        served_elsewhere(Method::GET, Caller::Agent, "/api/agent/v1/bandwidth/upload/progress")
            .params(&[("session", "query")])
            .doc("Bytes received so far for an upload session"),
        post(Caller::Agent, "/api/agent/v1/extensions", agent_api::extensions)
            .ok(204)
            .request(schema::<wire::ExtensionsSeen>)
            .doc("The browser's installed extensions, sent with a poll when they changed; a filter extension's change starts a round of the watched products"),
    ]
}

/// The people's API up to the recommendation: log-in and people, secrets, agents, profiles,
/// evaluations, reports, the browser agent's files and the operations endpoints.
fn people_api() -> Vec<Route> {
    vec![
        post(Caller::Anyone, "/api/v1/login", people::login)
            .request(schema::<api::Login>)
            .response(schema::<api::Me>)
            .doc("Log in; sets the session cookie"),
        post(Caller::Person, "/api/v1/logout", people::logout)
            .ok(204)
            .doc("End the session"),
        get(Caller::Person, "/api/v1/me", people::me)
            .response(schema::<api::Me>)
            .doc("Who is logged in"),
        get(Caller::Person, "/api/v1/server", ops::server_info)
            .response(schema::<api::ServerInfo>)
            .doc("Version, certificate fingerprint, database"),
        get(Caller::Admin, "/api/v1/users", people::list_users)
            .response(list::<api::Me>)
            .doc("People who can log in"),
        post(Caller::Admin, "/api/v1/users", people::create_user)
            .ok(201)
            .request(schema::<api::NewUser>)
            .response(schema::<api::UserCreated>)
            .doc("Add a person; answers with a one-time password"),
        get(Caller::Admin, "/api/v1/enrollment-secrets", secrets::list_secrets)
            .response(list::<api::SecretInfo>)
            .doc("Enrollment secrets (without the secrets)"),
        post(Caller::Admin, "/api/v1/enrollment-secrets", secrets::create_secret)
            .ok(201)
            .request(schema::<api::NewSecret>)
            .response(schema::<api::SecretInfo>)
            .doc("Create an enrollment secret (shown once)"),
        post(Caller::Admin, "/api/v1/enrollment-secrets/{id}/revoke", secrets::revoke_secret)
            .ok(204)
            .params(&[("id", "path")])
            .doc("Revoke an enrollment secret"),
        get(Caller::Admin, "/api/v1/agents", agents::list_agents)
            .response(list::<api::AgentSummary>)
            .doc("Enrolled agents"),
        post(Caller::Admin, "/api/v1/agents/{id}/revoke", agents::revoke_agent)
            .ok(204)
            .params(&[("id", "path")])
            .doc("Revoke an agent; refused from its next request on"),
        get(Caller::Person, "/api/v1/profiles", profiles::list_profiles)
            .response(list::<api::ProfileInfo>)
            .doc("Stored profiles"),
        post(Caller::Admin, "/api/v1/profiles", profiles::upload_profile)
            .ok(201)
            .request(toml)
            .response(schema::<api::ProfileInfo>)
            .params(&[("name", "query")])
            .doc("Upload and validate a profile (TOML body); 422 lists every error with line, column and key path"),
        get(Caller::Person, "/api/v1/profiles/{id}", profiles::get_profile)
            .response(toml)
            .params(&[("id", "path")])
            .doc("A stored profile file"),
        get(Caller::Person, "/api/v1/evaluations", evaluations::list_evaluations)
            .response(list::<api::EvaluationInfo>)
            .doc("Evaluations with progress"),
        post(Caller::Admin, "/api/v1/evaluations", evaluations::create_evaluation)
            .ok(201)
            .request(schema::<api::NewEvaluation>)
            .response(schema::<api::EvaluationInfo>)
            .doc("Start an evaluation: profile × sites/groups × planned users × window"),
        get(Caller::Person, "/api/v1/evaluations/{id}", evaluations::get_evaluation)
            .response(schema::<api::EvaluationInfo>)
            .params(&[("id", "path")])
            .doc("One evaluation with progress per site"),
        get(Caller::Person, "/api/v1/evaluations/{id}/reports", reports::evaluation_reports)
            .response(list::<api::ReportInfo>)
            .params(&[("id", "path")])
            .doc("Reports of an evaluation"),
        get(Caller::Person, "/api/v1/reports/{id}", reports::get_report)
            .response(schema::<Report>)
            .params(&[("id", "path")])
            .doc("A stored report"),
        get(Caller::Anyone, "/browser-agent/update.xml", browser_agent::browser_agent_update)
            .doc("The browser agent's update manifest (ExtensionInstallForcelist points here)"),
        get(Caller::Anyone, "/browser-agent/fitcheck-browser-agent.crx", browser_agent::browser_agent_crx)
            .doc("The packed browser agent"),
        get(Caller::Anyone, "/healthz", ops::healthz)
            .doc("200 when the database answers"),
        get(Caller::Anyone, "/metrics", ops::metrics)
            .doc("Prometheus metrics"),
        post(Caller::Person, "/api/v1/me/password", people::change_password)
            .ok(204)
            .request(schema::<api::PasswordChange>)
            .doc("Choose one's own password (required after a one-time one); ends one's other sessions"),
        post(Caller::Admin, "/api/v1/users/{username}/reset-password", people::reset_password)
            .response(schema::<api::UserCreated>)
            .params(&[("username", "path")])
            .doc("A new one-time password; the person's sessions end at once"),
        post(Caller::Admin, "/api/v1/users/{username}/role", people::set_role)
            .ok(204)
            .request(schema::<api::RoleChange>)
            .params(&[("username", "path")])
            .doc("Another role; the person's sessions end at once"),
        delete(Caller::Admin, "/api/v1/users/{username}", people::remove_user)
            .ok(204)
            .params(&[("username", "path")])
            .doc("Remove a person; their sessions end at once"),
        get(Caller::Person, "/api/v1/evaluations/{id}/recommendation", evaluations::get_recommendation)
            .params(&[("id", "path"), ("format", "query")])
            .doc("The recommendation (format=json, the default, or md)"),
        get(Caller::Person, "/api/v1/reports", reports::agent_reports)
            .params(&[("agent", "query")])
            .doc("One agent's stored reports (agent=<id>)"),
        get(Caller::Person, "/api/v1/sis-summaries", sis::list)
            .response(list::<api::SisSummaryInfo>)
            .doc("The district's SIS summaries, newest first (the newest is what recommendations judge data against)"),
        post(Caller::Admin, "/api/v1/sis-summaries", sis::upload)
            .ok(201)
            .request(schema::<SisSummary>)
            .response(schema::<wire::SisIngestResponse>)
            .doc("Upload an SIS summary (`fitcheck-agent sis inspect --out`); 201 stored now, 200 stored before"),
        get(Caller::Person, "/api/v1/sis-summaries/{id}", sis::get)
            .response(schema::<SisSummary>)
            .params(&[("id", "path")])
            .doc("One SIS summary"),
    ]
}

/// After the recommendation: the committee's decision, watches and their channels, the Data
/// Projects Form, and this document.
fn after_approval_api() -> Vec<Route> {
    vec![
        post(Caller::Person, "/api/v1/evaluations/{id}/approvals", decisions::record)
            .ok(201)
            .request(schema::<api::NewApproval>)
            .response(schema::<api::Decision>)
            .params(&[("id", "path")])
            .doc("Record one party's decision (Business, Curriculum, Technology) by a person the administrator named for it; Technology cites the recommendation as it stands"),
        get(Caller::Person, "/api/v1/evaluations/{id}/approvals", decisions::get)
            .response(schema::<api::Decision>)
            .params(&[("id", "path")])
            .doc("The committee's decision: each party's latest, the history, and whether the product is approved"),
        post(Caller::Admin, "/api/v1/users/{username}/approvals", decisions::set_approver)
            .ok(204)
            .request(schema::<api::ApproverChange>)
            .params(&[("username", "path")])
            .doc("Which parties' approvals the person may record"),
        post(Caller::Admin, "/api/v1/evaluations/{id}/watch", watches::create)
            .ok(201)
            .request(schema::<api::NewWatch>)
            .response(schema::<api::WatchDetail>)
            .params(&[("id", "path")])
            .doc("Watch an approved product: rounds on a schedule in the district's time zone, compared with what passed at approval"),
        get(Caller::Person, "/api/v1/evaluations/{id}/watch", watches::get)
            .response(schema::<api::WatchDetail>)
            .params(&[("id", "path")])
            .doc("A watch, its recent rounds and its alerts"),
        post(Caller::Admin, "/api/v1/evaluations/{id}/watch/rounds", watches::round_now)
            .ok(202)
            .params(&[("id", "path")])
            .doc("Start a round now, outside the schedule (after a change, to see at once)"),
        get(Caller::Person, "/api/v1/watches", watches::list)
            .response(list::<api::WatchInfo>)
            .doc("Every watched product and how it stands"),
        post(Caller::Admin, "/api/v1/channels", watches::create_channel)
            .ok(201)
            .request(schema::<api::NewChannel>)
            .response(schema::<api::ChannelInfo>)
            .doc("Where alerts go: a webhook (signed JSON), Slack or Microsoft Teams"),
        get(Caller::Admin, "/api/v1/channels", watches::list_channels)
            .response(list::<api::ChannelInfo>)
            .doc("The alert channels, with what they still owe"),
        delete(Caller::Admin, "/api/v1/channels/{id}", watches::remove_channel)
            .ok(204)
            .params(&[("id", "path")])
            .doc("Remove an alert channel"),
        post(Caller::Admin, "/api/v1/channels/{id}/test", watches::test_channel)
            .ok(202)
            .params(&[("id", "path")])
            .doc("Send a test message through the channel"),
        get(Caller::Person, "/api/v1/evaluations/{id}/data-form", evaluations::get_data_form)
            .params(&[("id", "path"), ("format", "query")])
            .doc("The Data Projects Form (format=md, the default, csv or pdf)"),
        get(Caller::Anyone, "/api/openapi.json", openapi::serve)
            .doc("This document"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bandwidth_routes_served_are_the_ones_described() {
        let described: Vec<&str> = api()
            .iter()
            .filter(|r| r.handler.is_none())
            .map(|r| r.path)
            .collect();
        let served: Vec<String> = fitcheck_bandwidth::PATHS
            .iter()
            .map(|p| format!("/api/agent/v1{p}"))
            .collect();
        assert_eq!(described, served);
    }

    #[test]
    fn each_route_is_declared_once_and_described() {
        let routes = api();
        let mut seen = std::collections::HashSet::new();
        for r in &routes {
            assert!(seen.insert((r.method.clone(), r.path)), "{r:?} twice");
            assert!(!r.summary.is_empty(), "{r:?} has no summary");
        }
    }
}
