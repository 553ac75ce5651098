//! Error answers: `{"detail": ...}` with the status the Python cacheow (a
//! FastAPI app) gives, so that scripts written against it read them alike.

use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::model::error::Error;
use crate::model::report;

/// An error answer of the panel.
#[derive(Debug)]
pub(crate) struct Problem {
    pub(crate) status: StatusCode,
    pub(crate) detail: Value,
}

/// Where in a request a bad value is, as FastAPI's `loc`: `["body", "mode"]`.
pub(crate) type Loc = Vec<Value>;

impl Problem {
    pub(crate) fn new(status: StatusCode, detail: impl Into<String>) -> Problem {
        Problem { status, detail: Value::String(detail.into()) }
    }

    pub(crate) fn function_not_found() -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "Function not found")
    }

    pub(crate) fn outcome_not_found() -> Problem {
        Problem::new(StatusCode::NOT_FOUND, "Outcome not found")
    }

    /// 500: a bug of cacheow's (a panic) while answering.
    pub(crate) fn panicked() -> Problem {
        Problem::new(StatusCode::INTERNAL_SERVER_ERROR, "cacheow's control panel failed (a panic); please report it")
    }

    /// 422: a bad value at `loc`, as FastAPI's validation errors.
    pub(crate) fn invalid(loc: Loc, message: impl Into<String>) -> Problem {
        let detail = json!([{ "loc": loc, "msg": message.into(), "type": "value_error" }]);
        Problem { status: StatusCode::UNPROCESSABLE_ENTITY, detail }
    }

    /// The detail as one line of text, for a page.
    pub(crate) fn message(&self) -> String {
        match &self.detail {
            Value::String(text) => text.clone(),
            Value::Array(errors) => {
                errors.iter().filter_map(|error| error.get("msg")?.as_str()).collect::<Vec<_>>().join("; ")
            }
            other => other.to_string(),
        }
    }

    /// The problem of an error of the runtime, met while answering.
    pub(crate) fn from_error(error: Error, loc: impl FnOnce() -> Loc) -> Problem {
        match error {
            Error::InvalidId { .. } | Error::UnknownFunction { .. } => Problem::function_not_found(),
            Error::UnknownOutcome { .. } => Problem::outcome_not_found(),
            Error::InvalidMode(_)
            | Error::InvalidWeight { .. }
            | Error::InvalidLatency { .. }
            | Error::InvalidRetention
            | Error::InvalidOutcome { .. } => Problem::invalid(loc(), error.to_string()),
            // Not the request's fault, and not the client's business: the
            // details (paths, SQL) go to the log.
            _ => {
                report::warn(format_args!("cacheow's control panel could not answer: {error}"));
                Problem::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "cacheow's storage failed; the warning in the log of the process serving the panel says why",
                )
            }
        }
    }

    /// The problem of a body that could not be read.
    pub(crate) fn from_rejection(rejection: &BytesRejection) -> Problem {
        let status = rejection.status();
        if status == StatusCode::PAYLOAD_TOO_LARGE {
            let limit = super::BODY_LIMIT / (1024 * 1024);
            return Problem::new(status, format!("the request body is larger than the panel's limit of {limit} MiB"));
        }
        Problem::new(status, rejection.body_text())
    }
}

impl From<Error> for Problem {
    fn from(error: Error) -> Problem {
        Problem::from_error(error, || vec![json!("body")])
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        (self.status, Json(json!({ "detail": self.detail }))).into_response()
    }
}

pub(crate) async fn no_route() -> Problem {
    Problem::new(StatusCode::NOT_FOUND, "Not Found")
}

pub(crate) async fn no_method() -> Problem {
    Problem::new(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed")
}
