//! The OpenAPI document matches what the server does: every operation it
//! lists is served, and answers with a status it documents.

use axum::http::{Method, StatusCode};
use cacheow::{cacheow, handle};
use serde_json::{Value, json};

use super::{get, json, panel, send};

#[cacheow]
fn documented(n: u32) -> u32 {
    n
}

#[tokio::test]
async fn every_documented_operation_is_served_as_documented() {
    let panel = panel();
    documented(1);
    panel.flush();
    let function_id = handle!(documented).id();
    let outcome_id = handle!(documented).outcomes().expect("outcomes")[0].id.clone();
    let document = send(&panel, get("/api/openapi.json")).await.json();
    assert_eq!(document["openapi"], "3.1.0");
    let paths = document["paths"].as_object().cloned().unwrap_or_default();
    assert_eq!(paths.len(), 16, "{:?}", paths.keys().collect::<Vec<_>>());

    // Served in an order that keeps the outcome until its own tests.
    let mut operations: Vec<(String, Method, Value)> = Vec::new();
    for (path, item) in &paths {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let method: Method = method.to_uppercase().parse().expect("a method");
            operations.push((path.clone(), method, operation.clone()));
        }
    }
    operations.sort_by_key(|(path, method, _)| (*method == Method::DELETE, path.ends_with("/outcomes"), path.clone()));
    assert_eq!(operations.len(), 19);
    for (path, method, operation) in operations {
        let url = path
            .replace("{function_id}", function_id)
            .replace("{outcome_id}", &outcome_id)
            .replace("{tag}", "untagged");
        let body = match operation["operationId"].as_str() {
            Some("setMode") => json!({ "mode": "cache" }),
            Some("setLatency") => json!({ "latency_ms": 5 }),
            Some("setRetention") => json!({ "max_outcomes": 1000 }),
            Some("setMockOutcomes") => json!({ "entries": [] }),
            Some("addManualOutcome") => json!({ "outcome_type": "return", "value": 2 }),
            Some("replaceOutcome") => json!({ "kind": "return", "args": { "n": 1 }, "value": 10 }),
            // Arguments it has no outcome for: the outcome stays for the others.
            Some("invalidate") => json!({ "args": { "n": 999 } }),
            _ => Value::Null,
        };
        let request = if body.is_null() {
            super::request(method.clone(), &url).body(axum::body::Body::empty()).expect("a request")
        } else {
            json(method.clone(), &url, &body)
        };
        let answer = send(&panel, request).await;
        assert_eq!(answer.status, StatusCode::OK, "{method} {url}: {}", answer.text());
        let documented: Vec<&String> =
            operation["responses"].as_object().map(|r| r.keys().collect()).unwrap_or_default();
        assert!(documented.iter().any(|code| *code == "200"), "{method} {path}");
        // Where the schema names its required fields, the answer has them.
        let schema = operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].as_str();
        if let Some(name) = schema.and_then(|reference| reference.rsplit('/').next()) {
            let required = required_fields(&document, name);
            let answer = answer.json();
            for field in required {
                assert!(answer.get(&field).is_some(), "{method} {path}: `{field}` missing in {answer}");
            }
        }
    }
}

/// The required fields of a schema, through `allOf`.
fn required_fields(document: &Value, name: &str) -> Vec<String> {
    let schema = &document["components"]["schemas"][name];
    let mut fields: Vec<String> =
        schema["required"].as_array().into_iter().flatten().filter_map(|f| f.as_str().map(str::to_owned)).collect();
    for part in schema["allOf"].as_array().into_iter().flatten() {
        match part["$ref"].as_str().and_then(|reference| reference.rsplit('/').next()) {
            Some(inner) => fields.extend(required_fields(document, inner)),
            None => fields.extend(
                part["required"].as_array().into_iter().flatten().filter_map(|f| f.as_str().map(str::to_owned)),
            ),
        }
    }
    fields
}
