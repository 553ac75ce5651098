//! Request bodies, generated: random bytes, random JSON, and valid bodies
//! with a field changed or dropped, to every endpoint that takes one, as
//! JSON and as forms. No answer is a 500 ([`send`] checks it), and a
//! request the panel refuses changes nothing.

use axum::body::Body;
use axum::http::{Method, header};
use cacheow::{cacheow, handle};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;
use serde_json::{Value, json};

use super::{get, panel, request, send};
use crate::arbitrary_json::json_value;

/// Requests sent.
const BODIES: usize = 10_000;

#[cacheow]
fn fuzzed(n: u32) -> String {
    format!("answer {n}")
}

/// What a body is made of.
#[derive(Debug, Clone)]
enum Made {
    Bytes(Vec<u8>),
    Json(Value),
    /// The endpoint's valid body with one field set to `value`, or
    /// dropped.
    Field {
        field: usize,
        value: Option<Value>,
    },
}

#[derive(Debug, Clone)]
struct Case {
    endpoint: usize,
    body: Made,
    as_form: bool,
    content_type: bool,
}

fn case() -> impl Strategy<Value = Case> {
    let body = prop_oneof![
        prop::collection::vec(any::<u8>(), 0..48).prop_map(Made::Bytes),
        json_value().prop_map(Made::Json),
        (any::<usize>(), prop::option::weighted(0.8, json_value()))
            .prop_map(|(field, value)| Made::Field { field, value }),
    ];
    (any::<usize>(), body, prop::bool::weighted(0.3), prop::bool::weighted(0.9))
        .prop_map(|(endpoint, body, as_form, content_type)| Case { endpoint, body, as_form, content_type })
}

/// Each endpoint that takes a body: its path below the function, method,
/// and a valid body.
fn endpoints(outcome_id: &str, outcome_file: &Value) -> Vec<(String, Method, Value)> {
    vec![
        ("mode".to_owned(), Method::PUT, json!({ "mode": "cache" })),
        ("latency".to_owned(), Method::PUT, json!({ "latency_ms": 2.5 })),
        ("retention".to_owned(), Method::PUT, json!({ "max_outcomes": 50 })),
        (
            "mock-outcomes".to_owned(),
            Method::PUT,
            json!({ "entries": [{ "outcome_id": outcome_id, "weight": 2.0, "enabled": true, "ignore_args": true }] }),
        ),
        (
            "outcomes/manual".to_owned(),
            Method::POST,
            json!({ "outcome_type": "return", "value": "by hand", "args": { "n": 3 }, "is_mock_only": false }),
        ),
        (format!("outcomes/{outcome_id}"), Method::PUT, outcome_file.clone()),
    ]
}

fn body_of(case: &Case, valid: &Value) -> Vec<u8> {
    match &case.body {
        Made::Bytes(bytes) => bytes.clone(),
        Made::Json(value) => value.to_string().into_bytes(),
        Made::Field { field, value } => {
            let mut body = valid.as_object().cloned().unwrap_or_default();
            let names: Vec<String> = body.keys().cloned().collect();
            let name = names[field % names.len().max(1)].clone();
            match value {
                Some(value) => body.insert(name, value.clone()),
                None => body.remove(&name),
            };
            if case.as_form {
                // A form's fields are text: the values as a browser sends them.
                let text = |value: &Value| value.as_str().map_or_else(|| value.to_string(), str::to_owned);
                let pairs: Vec<String> = body.iter().map(|(k, v)| format!("{k}={}", percent(&text(v)))).collect();
                return pairs.join("&").into_bytes();
            }
            Value::Object(body).to_string().into_bytes()
        }
    }
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|byte| if byte.is_ascii_alphanumeric() { (byte as char).to_string() } else { format!("%{byte:02X}") })
        .collect()
}

/// Everything a request could change of the function.
fn state(f: &cacheow::Function) -> String {
    format!(
        "{:?} {:?} {:?} {:?} {:?}",
        f.mode(),
        f.latency(),
        f.max_outcomes().expect("max"),
        f.mock_outcomes().expect("mock outcomes"),
        f.outcomes().expect("outcomes"),
    )
}

#[tokio::test]
async fn generated_request_bodies_never_get_a_500_and_refused_ones_change_nothing() {
    let panel = panel();
    let f = handle!(fuzzed);
    fuzzed(1);
    fuzzed(2);
    panel.flush();
    let id = f.id();
    let outcome_id = f.outcomes().expect("outcomes")[0].id.clone();
    let file = send(&panel, get(&format!("/api/functions/{id}/outcomes/{outcome_id}"))).await.json();
    let endpoints = endpoints(&outcome_id, &file);
    let page = send(&panel, get(&format!("/ui/functions/{id}"))).await.text();
    let token = page.split("name=\"form_token\" value=\"").nth(1).and_then(|rest| rest.split('"').next());
    let token = token.expect("a form token").to_owned();

    let mut runner = TestRunner::deterministic();
    let strategy = case();
    let mut before = state(f);
    let (mut refused, mut taken) = (0, 0);
    for _ in 0..BODIES {
        let case = strategy.new_tree(&mut runner).expect("a case").current();
        let (path, method, valid) = &endpoints[case.endpoint % endpoints.len()];
        let mut body = body_of(&case, valid);
        let (uri, method, content_type) = if case.as_form {
            let mut form = format!("form_token={token}&").into_bytes();
            form.append(&mut body);
            body = form;
            (format!("/ui/functions/{id}/{path}"), Method::POST, "application/x-www-form-urlencoded")
        } else {
            (format!("/api/functions/{id}/{path}"), method.clone(), "application/json")
        };
        let mut built = request(method, &uri).header(header::ORIGIN, "http://127.0.0.1:8765");
        if case.content_type {
            built = built.header(header::CONTENT_TYPE, content_type);
        }
        let answer = send(&panel, built.body(Body::from(body)).expect("a request")).await;
        let after = state(f);
        if answer.status.is_client_error() {
            refused += 1;
            assert_eq!(after, before, "{uri} refused with {} changed the state: {case:?}", answer.status);
        } else {
            taken += 1;
        }
        before = after;
    }
    assert!(refused > BODIES / 2 && taken > 100, "{refused} refused, {taken} taken");
}
