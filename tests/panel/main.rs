//! The control panel's router, in process, request by request with
//! `tower::ServiceExt::oneshot`: the JSON API, the pages and their forms,
//! the OpenAPI document, and the access rules.
//!
//! Every test makes the panel over a data dir of its own, which its
//! decorated calls record into: nothing is set in the environment, and
//! tests run at once. No answer may be a 500: [`send`] checks it.

mod api;
#[path = "../support/arbitrary_json.rs"]
mod arbitrary_json;
mod blocking;
mod fuzz;
mod openapi;
mod pages;
#[path = "../support/redis_server.rs"]
mod redis_server;
mod security;
mod shared;

use std::path::Path;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, Method, Request, StatusCode, header};
use cacheow::{Bound, Manager, Settings};
use serde_json::Value;
use tower::ServiceExt;

/// A test's panel: its router over a data dir of its own, which the
/// decorated calls of the test's thread record into while it lives.
struct TestPanel {
    router: Router,
    _bound: Bound,
    manager: Manager,
    /// Kept after the run below the target dir, for a look at what failed.
    data_dir: std::path::PathBuf,
}

impl TestPanel {
    /// Waits until the outcomes recorded so far are in the database the
    /// panel reads.
    fn flush(&self) {
        self.manager.flush();
    }

    fn data_dir(&self) -> &Path {
        &self.data_dir
    }
}

impl std::ops::Deref for TestPanel {
    type Target = Router;

    fn deref(&self) -> &Router {
        &self.router
    }
}

/// The panel with the default settings: loopback, no token.
fn panel() -> TestPanel {
    panel_with(Settings::default())
}

fn panel_with(settings: Settings) -> TestPanel {
    let manager = open(settings);
    let router = manager.panel_router().unwrap_or_else(|error| panic!("{error}"));
    let data_dir = manager.settings().data_dir.clone();
    TestPanel { router, _bound: manager.bind(), manager, data_dir }
}

/// cacheow over a fresh data dir below the target dir.
fn open(mut settings: Settings) -> Manager {
    settings.data_dir = tempfile::Builder::new()
        .prefix("panel-")
        .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
        .expect("a temporary data dir")
        .keep();
    Manager::open(settings)
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
