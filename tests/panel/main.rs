//! The control panel's router, in process, request by request with
//! `tower::ServiceExt::oneshot`: the JSON API, the pages and their forms,
//! the OpenAPI document, and the access rules.
//!
//! Every test has functions of its own: they share one data dir and run at
//! once. No answer may be a 500: [`send`] checks it.
#![allow(unsafe_code)] // the environment is set before `main`, on the only thread

mod api;
#[path = "../support/enable.rs"]
mod enable;
mod openapi;
mod pages;
mod security;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt;

/// cacheow reads its settings on first use: set them before anything runs.
#[ctor::ctor(unsafe)]
fn enable_cacheow() {
    // SAFETY: before `main`, on the only thread.
    unsafe { enable::enable_cacheow("panel-") }
}

/// The panel's router with the default settings: loopback, no token.
fn panel() -> Router {
    panel_with(cacheow::Settings::default())
}

fn panel_with(settings: cacheow::Settings) -> Router {
    cacheow::__private::panel_router(&settings).unwrap_or_else(|error| panic!("{error}"))
}

/// A request as a browser or a script on this machine sends it.
fn request(method: Method, path: &str) -> axum::http::request::Builder {
    Request::builder().method(method).uri(path).header(header::HOST, "127.0.0.1:8765")
}

fn get(path: &str) -> Request<Body> {
    request(Method::GET, path).body(Body::empty()).expect("a request")
}

/// A JSON request, as the Python cacheow's clients send them.
fn json(method: Method, path: &str, body: &Value) -> Request<Body> {
    request(method, path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("a request")
}

fn post(path: &str, body: &Value) -> Request<Body> {
    json(Method::POST, path, body)
}

/// What the panel answered.
#[derive(Debug)]
struct Answer {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|error| panic!("not JSON ({error}): {}", String::from_utf8_lossy(&self.body)))
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The `msg` of a validation error, or the `detail` of another error.
    fn detail(&self) -> String {
        let json = self.json();
        match &json["detail"] {
            Value::String(detail) => detail.clone(),
            Value::Array(errors) => errors.iter().filter_map(|error| error["msg"].as_str()).collect(),
            other => panic!("no detail in {json}: {other}"),
        }
    }
}

async fn send(router: &Router, request: Request<Body>) -> Answer {
    let what = format!("{} {}", request.method(), request.uri());
    let response = router.clone().oneshot(request).await.unwrap_or_else(|error| match error {});
    let status = response.status();
    let headers = response.headers().clone();
    let body = axum::body::to_bytes(response.into_body(), usize::MAX).await.expect("a body");
    assert_ne!(status, StatusCode::INTERNAL_SERVER_ERROR, "{what}: {}", String::from_utf8_lossy(&body));
    Answer { status, headers, body }
}

/// Waits until the outcomes recorded so far are in the database the panel
/// reads.
fn flush() {
    cacheow::manager().expect("cacheow is on").flush();
}
