//! `/api/openapi.json`: the API described in OpenAPI 3.0, from the same table the router is
//! built from (`routes.rs`); every request and answer schema is generated from the Rust types
//! the routes use (schemars), so the description cannot drift from what the controller serves
//! and accepts.

use std::sync::OnceLock;

use axum::Json;
use schemars::generate::SchemaSettings;
use serde_json::{Value, json};

use crate::api::routes::{self, Caller};
use fitcheck_core::api as wire;

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
    let error = g.subschema_for::<wire::ApiError>().to_value();
    let mut paths = serde_json::Map::new();
    for op in routes::api() {
        let mut responses = serde_json::Map::new();
        let mut ok = json!({"description": "success"});
        if let Some(r) = op.response {
            ok["content"] = json!({"application/json": {"schema": r(&mut g)}});
        }
        responses.insert(op.ok.to_string(), ok);
        let errors: &[(&str, &str)] = match op.caller {
            Caller::Agent => &[
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
            Caller::Admin => &[
                ("400", "malformed request"),
                ("401", "not logged in"),
                ("403", "needs an administrator"),
                ("413", "body too large"),
                ("422", "invalid; `field` names the field"),
            ],
            Caller::Person => &[("401", "not logged in"), ("404", "not found")],
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
            let r = r(&mut g);
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
        // Who may call it, in one word (the security entries do not tell a reviewer's route from
        // an administrator's).
        operation["x-fitcheck-caller"] = json!(format!("{:?}", op.caller).to_ascii_lowercase());
        operation["security"] = match op.caller {
            Caller::Agent => json!([{"agentCredential": []}]),
            Caller::Admin | Caller::Person => json!([{"session": []}]),
            Caller::Anyone => json!([]),
        };
        let entry = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        entry[op.method.as_str().to_ascii_lowercase()] = operation;
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
                "session": {"type": "apiKey", "in": "cookie", "name": crate::edge::extract::SESSION_COOKIE}
            }
        }
    })
}
