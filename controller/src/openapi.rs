//! `/api/openapi.json`: the API described in OpenAPI 3.0. The paths are listed here; every
//! request and answer schema is generated from the Rust types the routes use (schemars), so
//! the description cannot drift from what the controller accepts.

use std::sync::OnceLock;

use axum::Json;
use schemars::JsonSchema;
use schemars::generate::{SchemaGenerator, SchemaSettings};
use serde_json::{Value, json};

use crate::api;
use fitcheck_core::api as wire;
use fitcheck_core::report::Report;

/// One operation: method, path, summary, who may call, request and answer schemas.
struct Op {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    security: &'static str,
    request: Option<Value>,
    response: Option<Value>,
    ok: &'static str,
    params: &'static [(&'static str, &'static str)],
}

fn schema<T: JsonSchema>(g: &mut SchemaGenerator) -> Option<Value> {
    Some(g.subschema_for::<T>().to_value())
}

fn list<T: JsonSchema>(g: &mut SchemaGenerator) -> Option<Value> {
    Some(json!({"type": "array", "items": g.subschema_for::<T>().to_value()}))
}

/// The document (built once).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(build)
}

/// `GET /api/openapi.json`.
pub async fn serve() -> Json<Value> {
    Json(document().clone())
}

fn build() -> Value {
    let mut g = SchemaSettings::openapi3().into_generator();
    let toml = Some(json!({"type": "string", "description": "profile file (TOML)"}));
    let ops = vec![
        Op {
            method: "post",
            path: "/api/agent/v1/enroll",
            summary: "Exchange an enrollment secret for the agent's credential",
            security: "none",
            request: schema::<wire::EnrollRequest>(&mut g),
            response: schema::<wire::EnrollResponse>(&mut g),
            ok: "201",
            params: &[],
        },
        Op {
            method: "get",
            path: "/api/agent/v1/assignments",
            summary: "Evaluations this agent should run now",
            security: "agent",
            request: None,
            response: schema::<wire::Assignments>(&mut g),
            ok: "200",
            params: &[],
        },
        Op {
            method: "post",
            path: "/api/agent/v1/reports",
            summary: "Deliver a report; 201 stored now, 200 stored before (idempotent on report_id)",
            security: "agent",
            request: schema::<Report>(&mut g),
            response: schema::<wire::IngestResponse>(&mut g),
            ok: "201",
            params: &[("evaluation", "query")],
        },
        Op {
            method: "get",
            path: "/api/agent/v1/bandwidth/download",
            summary: "Exactly `bytes` incompressible bytes, for throughput measurement",
            security: "agent",
            request: None,
            response: None,
            ok: "200",
            params: &[("bytes", "query")],
        },
        Op {
            method: "post",
            path: "/api/agent/v1/bandwidth/upload",
            summary: "Accepts and counts an upload body",
            security: "agent",
            request: None,
            response: None,
            ok: "200",
            params: &[("session", "query")],
        },
        Op {
            method: "get",
            path: "/api/agent/v1/bandwidth/upload/progress",
            summary: "Bytes received so far for an upload session",
            security: "agent",
            request: None,
            response: None,
            ok: "200",
            params: &[("session", "query")],
        },
        Op {
            method: "post",
            path: "/api/v1/login",
            summary: "Log in; sets the session cookie",
            security: "none",
            request: schema::<api::Login>(&mut g),
            response: schema::<api::Me>(&mut g),
            ok: "200",
            params: &[],
        },
        Op {
            method: "post",
            path: "/api/v1/logout",
            summary: "End the session",
            security: "person",
            request: None,
            response: None,
            ok: "204",
            params: &[],
        },
        Op {
            method: "get",
            path: "/api/v1/me",
            summary: "Who is logged in",
            security: "person",
            request: None,
            response: schema::<api::Me>(&mut g),
            ok: "200",
            params: &[],
        },
        Op {
            method: "get",
            path: "/api/v1/server",
            summary: "Version, certificate fingerprint, database",
            security: "person",
            request: None,
            response: schema::<api::ServerInfo>(&mut g),
            ok: "200",
            params: &[],
        },
        Op {
            method: "get",
            path: "/api/v1/users",
            summary: "People who can log in",
            security: "admin",
            request: None,
            response: list::<api::Me>(&mut g),
            ok: "200",
            params: &[],
        },
        Op {
            method: "post",
            path: "/api/v1/users",
            summary: "Add a person; answers with a one-time password",
            security: "admin",
            request: schema::<api::NewUser>(&mut g),
            response: schema::<api::UserCreated>(&mut g),
            ok: "201",
            params: &[],
        },
        Op {
            method: "get",
            path: "/api/v1/enrollment-secrets",
            summary: "Enrollment secrets (without the secrets)",
            security: "admin",
            request: None,
            response: list::<api::SecretInfo>(&mut g),
            ok: "200",
            params: &[],
        },
        Op {
            method: "post",
            path: "/api/v1/enrollment-secrets",
            summary: "Create an enrollment secret (shown once)",
            security: "admin",
            request: schema::<api::NewSecret>(&mut g),
            response: schema::<api::SecretInfo>(&mut g),
            ok: "201",
            params: &[],
        },
        Op {
            method: "post",
            path: "/api/v1/enrollment-secrets/{id}/revoke",
            summary: "Revoke an enrollment secret",
            security: "admin",
            request: None,
            response: None,
            ok: "204",
            params: &[("id", "path")],
        },
        Op {
            method: "get",
            path: "/api/v1/agents",
            summary: "Enrolled agents",
            security: "admin",
            request: None,
            response: list::<api::AgentSummary>(&mut g),
            ok: "200",
            params: &[],
        },
        Op {
            method: "post",
            path: "/api/v1/agents/{id}/revoke",
            summary: "Revoke an agent; refused from its next request on",
            security: "admin",
            request: None,
            response: None,
            ok: "204",
            params: &[("id", "path")],
        },
        Op {
            method: "get",
            path: "/api/v1/profiles",
            summary: "Stored profiles",
            security: "person",
            request: None,
            response: list::<api::ProfileInfo>(&mut g),
            ok: "200",
            params: &[],
        },
        Op {
            method: "post",
            path: "/api/v1/profiles",
            summary: "Upload and validate a profile (TOML body); 422 lists every error with line, column and key path",
            security: "admin",
            request: toml.clone(),
            response: schema::<api::ProfileInfo>(&mut g),
            ok: "201",
            params: &[("name", "query")],
        },
        Op {
            method: "get",
            path: "/api/v1/profiles/{id}",
            summary: "A stored profile file",
            security: "person",
            request: None,
            response: toml,
            ok: "200",
            params: &[("id", "path")],
        },
        Op {
            method: "get",
            path: "/api/v1/evaluations",
            summary: "Evaluations with progress",
            security: "person",
            request: None,
            response: list::<api::EvaluationInfo>(&mut g),
            ok: "200",
            params: &[],
        },
        Op {
            method: "post",
            path: "/api/v1/evaluations",
            summary: "Start an evaluation: profile × sites/groups × planned users × window",
            security: "admin",
            request: schema::<api::NewEvaluation>(&mut g),
            response: schema::<api::EvaluationInfo>(&mut g),
            ok: "201",
            params: &[],
        },
        Op {
            method: "get",
            path: "/api/v1/evaluations/{id}",
            summary: "One evaluation with progress per site",
            security: "person",
            request: None,
            response: schema::<api::EvaluationInfo>(&mut g),
            ok: "200",
            params: &[("id", "path")],
        },
        Op {
            method: "get",
            path: "/api/v1/evaluations/{id}/reports",
            summary: "Reports of an evaluation",
            security: "person",
            request: None,
            response: list::<api::ReportInfo>(&mut g),
            ok: "200",
            params: &[("id", "path")],
        },
        Op {
            method: "get",
            path: "/api/v1/reports/{id}",
            summary: "A stored report",
            security: "person",
            request: None,
            response: schema::<Report>(&mut g),
            ok: "200",
            params: &[("id", "path")],
        },
        Op {
            method: "get",
            path: "/healthz",
            summary: "200 when the database answers",
            security: "none",
            request: None,
            response: None,
            ok: "200",
            params: &[],
        },
        Op {
            method: "get",
            path: "/metrics",
            summary: "Prometheus metrics",
            security: "none",
            request: None,
            response: None,
            ok: "200",
            params: &[],
        },
        Op {
            method: "post",
            path: "/api/v1/me/password",
            summary: "Choose one's own password (required after a one-time one); ends one's other sessions",
            security: "person",
            request: schema::<api::PasswordChange>(&mut g),
            response: None,
            ok: "204",
            params: &[],
        },
        Op {
            method: "post",
            path: "/api/v1/users/{username}/reset-password",
            summary: "A new one-time password; the person's sessions end at once",
            security: "admin",
            request: None,
            response: schema::<api::UserCreated>(&mut g),
            ok: "200",
            params: &[("username", "path")],
        },
        Op {
            method: "post",
            path: "/api/v1/users/{username}/role",
            summary: "Another role; the person's sessions end at once",
            security: "admin",
            request: schema::<api::RoleChange>(&mut g),
            response: None,
            ok: "204",
            params: &[("username", "path")],
        },
        Op {
            method: "delete",
            path: "/api/v1/users/{username}",
            summary: "Remove a person; their sessions end at once",
            security: "admin",
            request: None,
            response: None,
            ok: "204",
            params: &[("username", "path")],
        },
        Op {
            method: "get",
            path: "/api/v1/evaluations/{id}/recommendation",
            summary: "The recommendation (format=json, the default, or md)",
            security: "person",
            request: None,
            response: None,
            ok: "200",
            params: &[("id", "path"), ("format", "query")],
        },
        Op {
            method: "get",
            path: "/api/v1/reports",
            summary: "One agent's stored reports (agent=<id>)",
            security: "person",
            request: None,
            response: None,
            ok: "200",
            params: &[("agent", "query")],
        },
        Op {
            method: "get",
            path: "/api/openapi.json",
            summary: "This document",
            security: "none",
            request: None,
            response: None,
            ok: "200",
            params: &[],
        },
    ];
    let error = g.subschema_for::<wire::ApiError>().to_value();
    let mut paths = serde_json::Map::new();
    for op in ops {
        let mut responses = serde_json::Map::new();
        let mut ok = json!({"description": "success"});
        if let Some(r) = op.response {
            ok["content"] = json!({"application/json": {"schema": r}});
        }
        responses.insert(op.ok.to_owned(), ok);
        let errors: &[(&str, &str)] = match op.security {
            "agent" => &[
                ("400", "malformed request"),
                ("401", "no, unknown or revoked agent credential"),
                ("403", "not this agent's data"),
                ("413", "body too large"),
                (
                    "422",
                    "the body does not fit the schema; `field` names the field",
                ),
                ("429", "over the agent's request budget; see Retry-After"),
                (
                    "503",
                    "database unreachable; nothing stored; see Retry-After",
                ),
            ],
            "admin" => &[
                ("400", "malformed request"),
                ("401", "not logged in"),
                ("403", "needs an administrator"),
                ("413", "body too large"),
                ("422", "invalid; `field` names the field"),
            ],
            "person" => &[("401", "not logged in"), ("404", "not found")],
            _ => &[
                ("400", "malformed request"),
                ("401", "refused"),
                ("422", "invalid; `field` names the field"),
            ],
        };
        for (code, what) in errors {
            responses.insert(
                (*code).to_owned(),
                json!({"description": what, "content": {"application/json": {"schema": error}}}),
            );
        }
        let mut operation = json!({"summary": op.summary, "responses": responses});
        if let Some(r) = op.request {
            let ctype = if op.path == "/api/v1/profiles" {
                "application/toml"
            } else {
                "application/json"
            };
            operation["requestBody"] = json!({"required": true, "content": {ctype: {"schema": r}}});
        }
        if !op.params.is_empty() {
            operation["parameters"] = Value::Array(
                op.params
                    .iter()
                    .map(|(name, place)| json!({"name": name, "in": place, "required": *place == "path", "schema": {"type": "string"}}))
                    .collect(),
            );
        }
        operation["security"] = match op.security {
            "agent" => json!([{"agentCredential": []}]),
            "admin" | "person" => json!([{"session": []}]),
            _ => json!([]),
        };
        let entry = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        entry[op.method] = operation;
    }
    let mut schemas = g.take_definitions(true);
    schemas.sort_keys();
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "fitcheck controller",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Agents enroll, poll for evaluations and deliver reports; administrators manage agents, profiles and evaluations; reviewers read them."
        },
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "agentCredential": {"type": "http", "scheme": "bearer", "description": "the credential an agent received at enrollment"},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::app::SESSION_COOKIE}
            }
        }
    })
}
