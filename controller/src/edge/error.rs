//! The API's one error type: every failure becomes a status code and a JSON [`ApiError`] body
//! saying what was wrong, which field, and what to do.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fitcheck_core::api::{ApiError, ErrorDetail};

use crate::store::StoreError;

/// A failed request.
#[derive(Debug)]
pub struct Failure {
    pub status: StatusCode,
    pub body: ApiError,
    /// Seconds, for 429 and 503.
    pub retry_after_s: Option<u64>,
    /// Ask the client not to reuse the connection (the body was not read to its end).
    pub close: bool,
}

impl Failure {
    pub fn new(status: StatusCode, error: &str, message: impl Into<String>) -> Failure {
        Failure {
            status,
            body: ApiError {
                error: error.to_owned(),
                message: message.into(),
                field: None,
                details: Vec::new(),
            },
            retry_after_s: None,
            close: false,
        }
    }

    /// Replaces the machine-readable error code.
    pub fn code(mut self, error: &str) -> Failure {
        self.body.error = error.to_owned();
        self
    }

    pub fn field(mut self, field: impl Into<String>) -> Failure {
        let f = field.into();
        if !f.is_empty() {
            self.body.field = Some(f);
        }
        self
    }

    pub fn details(mut self, details: Vec<ErrorDetail>) -> Failure {
        self.body.details = details;
        self
    }

    pub fn bad_request(error: &str, message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::BAD_REQUEST, error, message)
    }

    pub fn unprocessable(error: &str, message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::UNPROCESSABLE_ENTITY, error, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn forbidden(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn not_found(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn unsupported_media_type(message: impl Into<String>) -> Failure {
        Failure::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            message,
        )
    }

    pub fn conflict(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::CONFLICT, "conflict", message)
    }

    pub fn too_large(limit: usize) -> Failure {
        let mut f = Failure::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_large",
            format!("the request body is larger than this controller accepts ({limit} bytes)"),
        );
        f.close = true;
        f
    }

    pub fn rate_limited(retry_after_s: u64) -> Failure {
        let mut f = Failure::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests from this agent; retry in {retry_after_s} s"),
        );
        f.retry_after_s = Some(retry_after_s);
        f
    }

    /// Too many log-in attempts from one address or for one user name.
    pub fn too_many_logins(retry_after_s: u64) -> Failure {
        let mut f = Failure::new(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!(
                "too many log-in attempts from this address or for this user name; retry in \
                 {retry_after_s} s"
            ),
        );
        f.retry_after_s = Some(retry_after_s);
        f
    }

    /// Every password thread is busy and its queue full.
    pub fn busy() -> Failure {
        let mut f = Failure::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "busy",
            "too many log-ins at once; retry in a moment",
        );
        f.retry_after_s = Some(1);
        f
    }

    pub fn internal(message: impl Into<String>) -> Failure {
        Failure::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", message)
    }

    /// A request body that is not the JSON it should be: 400 for a syntax error, 422 for JSON
    /// that does not fit the schema, with the field path either way.
    pub fn from_json(error: serde_path_to_error::Error<serde_json::Error>, what: &str) -> Failure {
        let path = error.path().to_string();
        let inner = error.into_inner();
        let field = if path == "." { String::new() } else { path };
        let (status, code) = match inner.classify() {
            serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
                (StatusCode::BAD_REQUEST, "malformed_json")
            }
            _ => (StatusCode::UNPROCESSABLE_ENTITY, "invalid_body"),
        };
        let message = if field.is_empty() {
            format!("{what}: {inner}")
        } else {
            format!("{what}: {field}: {inner}")
        };
        Failure::new(status, code, message).field(field)
    }
}

impl From<crate::passwords::Busy> for Failure {
    fn from(_: crate::passwords::Busy) -> Failure {
        Failure::busy()
    }
}

impl From<StoreError> for Failure {
    fn from(e: StoreError) -> Failure {
        match e {
            StoreError::Conflict(m) => Failure::conflict(m),
            StoreError::Closed => {
                let mut f = Failure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "shutting_down",
                    "the controller is shutting down; retry shortly",
                );
                f.retry_after_s = Some(5);
                f
            }
            other => {
                tracing::error!(error = %other, "Storage failed.");
                let mut f = Failure::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "storage_unavailable",
                    "the controller could not reach its database; nothing was stored, retry later",
                );
                f.retry_after_s = Some(5);
                f
            }
        }
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let mut response = (self.status, axum::Json(self.body)).into_response();
        if let Some(s) = self.retry_after_s
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if self.close {
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
        }
        response
    }
}
