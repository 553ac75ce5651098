//! The JSON API: the Python cacheow's endpoints and shapes, the outcome
//! management beyond them, and bad input that changes nothing.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU32, Ordering::SeqCst};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, StatusCode};
use cacheow::{Mode, cacheow, handle};
use serde_json::{Value, json};

use super::{get, json, panel, post, request, send};

fn keys(value: &Value) -> BTreeSet<&str> {
    value.as_object().map(|object| object.keys().map(String::as_str).collect()).unwrap_or_default()
}

fn set(keys: &[&'static str]) -> BTreeSet<&'static str> {
    keys.iter().copied().collect()
}

static LISTED_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn listed(n: u32) -> u32 {
    LISTED_RAN.fetch_add(1, SeqCst);
    n * 2
}

#[tokio::test]
async fn lists_and_details_functions_in_the_python_shapes() {
    let panel = panel();
    let id = handle!(listed).id();
    listed(1);
    listed(2);
    handle!(listed).set_mode(Mode::Cache).expect("set_mode");
    listed(1);
    panel.flush();

    let health = send(&panel, get("/api/health")).await;
    assert_eq!((health.status, health.json()), (StatusCode::OK, json!({ "status": "ok" })));

    let functions = send(&panel, get("/api/functions")).await.json();
    let summary = functions.as_array().into_iter().flatten().find(|f| f["id"] == id).expect("listed is listed");
    let python = ["id", "name", "qualname", "module", "source_file", "signature", "kind", "mode", "stats"];
    assert!(keys(summary).is_superset(&set(&python)), "{summary}");
    assert_eq!(summary["name"], "listed");
    assert_eq!(summary["qualname"], "listed");
    assert_eq!(summary["module"], "panel::api");
    assert_eq!(summary["kind"], "sync");
    assert_eq!(summary["mode"], "cache");
    assert_eq!(summary["signature"], "fn listed(n: u32) -> u32");
    assert_eq!(summary["stale"], false);
    let stats = &summary["stats"];
    let python_stats = [
        "total_calls",
        "cache_hits",
        "cache_misses",
        "mock_calls",
        "exceptions",
        "average_duration_ms",
        "last_called_at",
    ];
    assert_eq!(keys(stats), set(&python_stats));
    assert_eq!((stats["total_calls"].as_i64(), stats["cache_hits"].as_i64()), (Some(3), Some(1)));
    assert!(stats["last_called_at"].as_f64().is_some_and(|at| at > 1.7e9), "seconds since the epoch: {stats}");

    let detail = send(&panel, get(&format!("/api/functions/{id}"))).await;
    assert_eq!(detail.status, StatusCode::OK);
    let detail = detail.json();
    let detail_keys = ["latency_ms", "config", "outcomes", "recent_calls", "mock_outcomes"];
    assert!(keys(&detail).is_superset(&set(&detail_keys)), "{detail}");
    assert_eq!((detail["latency_ms"].as_f64(), &detail["config"]), (Some(0.0), &json!({ "max_outcomes": null })));
    assert_eq!(detail["corrupt_files"], json!([]));
    assert_eq!(detail["outcomes_total"], 2);
    let outcome = &detail["outcomes"][0];
    let outcome_keys = ["id", "kind", "preview", "arg_key", "arg_preview", "timestamp", "is_manual", "is_mock_only"];
    assert!(keys(outcome).is_superset(&set(&outcome_keys)), "{outcome}");
    assert_eq!(
        (&outcome["kind"], &outcome["preview"], &outcome["arg_preview"]),
        (&json!("success"), &json!("4"), &json!("{\"n\":2}"))
    );
    let calls = detail["recent_calls"].as_array().cloned().unwrap_or_default();
    let outcomes: Vec<&str> = calls.iter().filter_map(|call| call["outcome"].as_str()).collect();
    assert_eq!(outcomes, ["cache_hit", "default", "default"], "newest first");
    let statuses: Vec<&str> = calls.iter().filter_map(|call| call["status"].as_str()).collect();
    assert_eq!(statuses, ["hit", "recorded", "recorded"], "beside the Python `outcome`");
    assert_eq!(calls[0]["mode"], "cache");
    assert_eq!(LISTED_RAN.load(SeqCst), 2);
}

static SWITCHED_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn switched(n: u32) -> u32 {
    SWITCHED_RAN.fetch_add(1, SeqCst);
    n + 100
}

#[tokio::test]
async fn modes_and_latency_set_over_http_apply_to_the_next_call() {
    let panel = panel();
    let f = handle!(switched);
    assert_eq!(switched(1), 101);
    panel.flush();
    let answer = send(&panel, post(&format!("/api/functions/{}/mode", f.id()), &json!({ "mode": "mock" }))).await;
    assert_eq!((answer.status, answer.json()), (StatusCode::OK, json!({ "status": "ok", "mode": "mock" })));
    assert_eq!(f.mode(), Mode::Mock);
    assert_eq!(switched(7), 101, "mocked: the recorded outcome, for any arguments");
    assert_eq!(SWITCHED_RAN.load(SeqCst), 1);

    let answer = send(&panel, post(&format!("/api/functions/{}/latency", f.id()), &json!({ "latency_ms": 250 }))).await;
    assert_eq!(answer.json(), json!({ "status": "ok", "latency_ms": 250.0 }));
    assert_eq!(f.latency(), Duration::from_millis(250));
}

#[cacheow]
fn guarded(n: u32) -> u32 {
    n
}

#[tokio::test]
async fn bad_input_is_a_422_that_changes_nothing() {
    let panel = panel();
    let f = handle!(guarded);
    guarded(1);
    panel.flush();
    let outcome = f.outcomes().expect("outcomes")[0].id.clone();
    let path = |end: &str| format!("/api/functions/{}/{end}", f.id());
    let bad: Vec<(&str, Value, &str)> = vec![
        ("mode", json!({ "mode": "sideways" }), "unknown mode `sideways`"),
        ("mode", json!({}), "missing field `mode`"),
        ("mode", json!({ "mode": 3 }), "invalid type"),
        ("latency", json!({ "latency_ms": -1 }), "latency_ms must be from 0"),
        ("latency", json!({ "latency_ms": 1e12 }), "latency_ms must be from 0"),
        ("latency", json!({ "latency_ms": "fast" }), "invalid type"),
        ("mock-outcomes", json!({ "entries": [{ "outcome_id": outcome, "weight": 0 }] }), "weight of 0"),
        ("mock-outcomes", json!({ "entries": [{ "outcome_id": outcome, "weight": -2.5 }] }), "weight of -2.5"),
        ("mock-outcomes", json!({ "entries": [{ "outcome_id": "0123456789abcdef" }] }), "has no outcome"),
        ("mock-outcomes", json!({ "entries": [{ "outcome_id": "../../etc/passwd" }] }), "has no outcome"),
        ("outcomes/manual", json!({ "outcome_type": "yield" }), "unknown variant `yield`"),
        ("outcomes/manual", json!({ "value": 1 }), "missing field `outcome_type`"),
    ];
    for (end, body, expected) in bad {
        let answer = send(&panel, post(&path(end), &body)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{end} {body}: {}", answer.text());
        assert!(answer.detail().contains(expected), "{end} {body}: {}", answer.detail());
        assert_eq!(answer.json()["detail"][0]["loc"][0], "body", "FastAPI's shape: {}", answer.text());
    }
    let malformed = request(Method::POST, &path("mode"))
        .header("content-type", "application/json")
        .body(Body::from("{\"mode\": "))
        .expect("a request");
    assert_eq!(send(&panel, malformed).await.status, StatusCode::UNPROCESSABLE_ENTITY);
    let empty = request(Method::POST, &path("latency"))
        .header("content-type", "application/json")
        .body(Body::empty())
        .expect("a request");
    assert!(send(&panel, empty).await.detail().contains("the body is missing"));

    assert_eq!(f.mode(), Mode::Default);
    assert_eq!(f.latency(), Duration::ZERO);
    assert!(f.mock_outcomes().expect("mock outcomes").is_empty());
    let manual = f.outcomes().expect("outcomes").into_iter().filter(|outcome| outcome.args == "null").count();
    assert_eq!(manual, 0, "no manual outcome was added");
}

#[cacheow]
fn looked_up(n: u32) -> u32 {
    n
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let panel = panel();
    looked_up(2);
    panel.flush();
    let known = handle!(looked_up).id();
    let unknown = "0000000000000000";
    let paths = [
        (Method::GET, format!("/api/functions/{unknown}")),
        (Method::GET, "/api/functions/..%2F..%2Fetc".to_owned()),
        (Method::GET, "/api/functions/ABCDEF0123456789".to_owned()),
        (Method::GET, "/api/functions/%FF%FE".to_owned()),
        (Method::GET, format!("/api/functions/{known}/outcomes/%C0%AF")),
        (Method::POST, format!("/api/functions/{unknown}/mode")),
        (Method::POST, format!("/api/functions/{unknown}/latency")),
        (Method::POST, format!("/api/functions/{unknown}/mock-outcomes")),
        (Method::POST, format!("/api/functions/{unknown}/outcomes/manual")),
        (Method::POST, format!("/api/functions/{unknown}/rebuild-index")),
        (Method::GET, format!("/api/functions/{unknown}/outcomes")),
        (Method::DELETE, format!("/api/functions/{unknown}/outcomes")),
        (Method::GET, format!("/api/functions/{known}/outcomes/{unknown}")),
        (Method::GET, format!("/api/functions/{known}/outcomes/..%2F..%2Fcacheow.db")),
        (Method::PUT, format!("/api/functions/{known}/outcomes/{unknown}")),
        (Method::DELETE, format!("/api/functions/{known}/outcomes/{unknown}")),
        (Method::DELETE, format!("/api/functions/{known}/outcomes/..%2F..%2F..%2Fcacheow")),
        (Method::GET, "/api/nothing-here".to_owned()),
    ];
    for (method, path) in paths {
        let body = json!({ "mode": "mock", "latency_ms": 1, "entries": [], "outcome_type": "return", "kind": "return", "value": 1 });
        let answer = send(&panel, json(method.clone(), &path, &body)).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} {path}: {}", answer.text());
        assert!(answer.json()["detail"].is_string(), "{method} {path}");
    }
    assert_eq!(handle!(looked_up).outcomes().expect("outcomes").len(), 1, "nothing deleted");
    let wrong_method = send(&panel, get(&format!("/api/functions/{known}/mode"))).await;
    assert_eq!(wrong_method.status, StatusCode::METHOD_NOT_ALLOWED);
}

#[tokio::test]
async fn bodies_over_the_limit_are_refused() {
    let panel = panel();
    guarded(3);
    panel.flush();
    let huge = json!({ "outcome_type": "return", "value": "x".repeat(5 * 1024 * 1024) });
    let answer = send(&panel, post(&format!("/api/functions/{}/outcomes/manual", handle!(guarded).id()), &huge)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(answer.detail().contains("4 MiB"), "{}", answer.detail());
}

static WEIGHED_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn weighed(city: String) -> String {
    WEIGHED_RAN.fetch_add(1, SeqCst);
    format!("sunny in {city}")
}

#[tokio::test]
async fn manual_outcomes_and_weights_decide_what_mock_mode_replays() {
    let panel = panel();
    let f = handle!(weighed);
    weighed("Oslo".to_owned());
    panel.flush();
    let manual = send(
        &panel,
        post(
            &format!("/api/functions/{}/outcomes/manual", f.id()),
            &json!({ "outcome_type": "return", "value": "hail" }),
        ),
    )
    .await;
    assert_eq!(manual.status, StatusCode::OK);
    let manual_id = manual.json()["outcome_id"].as_str().expect("an outcome id").to_owned();
    assert_eq!(manual.json()["status"], "ok");

    // A manual outcome without arguments is never a cache hit.
    f.set_mode(Mode::Cache).expect("set_mode");
    assert_eq!(weighed("Oslo".to_owned()), "sunny in Oslo");

    let entries = json!({ "entries": [{ "outcome_id": manual_id, "weight": 2.5 }] });
    let answer = send(&panel, post(&format!("/api/functions/{}/mock-outcomes", f.id()), &entries)).await;
    assert_eq!((answer.status, answer.json()), (StatusCode::OK, json!({ "status": "ok" })));
    let detail = send(&panel, get(&format!("/api/functions/{}", f.id()))).await.json();
    assert_eq!(
        detail["mock_outcomes"],
        json!([{ "outcome_id": manual_id, "weight": 2.5, "enabled": true, "ignore_args": true }])
    );
    let listed = detail["outcomes"].as_array().into_iter().flatten().find(|o| o["id"] == manual_id.as_str()).cloned();
    let listed = listed.expect("the manual outcome is listed");
    assert_eq!(
        (&listed["is_manual"], &listed["arg_preview"], &listed["arg_key"]),
        (&json!(true), &json!("(manual)"), &Value::Null)
    );

    f.set_mode(Mode::Mock).expect("set_mode");
    for city in ["Oslo", "Lima", "Rome"] {
        assert_eq!(weighed(city.to_owned()), "hail", "only the weighted outcome replays");
    }
    assert_eq!(WEIGHED_RAN.load(SeqCst), 1);
}

#[cacheow]
fn lookup(id: u32) -> std::io::Result<String> {
    Ok(format!("user {id}"))
}

#[tokio::test]
async fn manual_errors_replay_and_their_type_is_only_a_label() {
    let panel = panel();
    let f = handle!(lookup);
    lookup(1).expect("recorded");
    panel.flush();
    // The Python cacheow imports and calls whatever type it is given.
    let body = json!({
        "outcome_type": "exception",
        "exception_type": "os.system",
        "exception_message": "rm -rf / would have run",
        "is_mock_only": true,
    });
    let answer = send(&panel, post(&format!("/api/functions/{}/outcomes/manual", f.id()), &body)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let manual_id = answer.json()["outcome_id"].as_str().expect("an id").to_owned();
    let entries = json!({ "entries": [{ "outcome_id": manual_id }] });
    send(&panel, post(&format!("/api/functions/{}/mock-outcomes", f.id()), &entries)).await;

    f.set_mode(Mode::Cache).expect("set_mode");
    assert_eq!(lookup(1).expect("a cache hit"), "user 1", "a mock-only outcome is never a cache hit");
    f.set_mode(Mode::Mock).expect("set_mode");
    let error = lookup(1).expect_err("the manual error");
    assert_eq!(error.to_string(), "rm -rf / would have run");

    let file = send(&panel, get(&format!("/api/functions/{}/outcomes/{manual_id}", f.id()))).await.json();
    assert_eq!(
        (&file["kind"], &file["error_type"], &file["mock_only"]),
        (&json!("error"), &json!("os.system"), &json!(true))
    );
}

#[cacheow]
fn paged(n: u32) -> u32 {
    n
}

#[tokio::test]
async fn outcomes_page_newest_first() {
    let panel = panel();
    let f = handle!(paged);
    for n in 0..7 {
        paged(n);
        std::thread::sleep(Duration::from_millis(2));
    }
    panel.flush();
    let page = |query: &str| get(&format!("/api/functions/{}/outcomes{query}", f.id()));
    let all = send(&panel, page("")).await.json();
    assert_eq!((all["total"].as_u64(), all["offset"].as_u64(), all["limit"].as_u64()), (Some(7), Some(0), Some(50)));
    let previews: Vec<&str> =
        all["outcomes"].as_array().into_iter().flatten().filter_map(|o| o["preview"].as_str()).collect();
    assert_eq!(previews, ["6", "5", "4", "3", "2", "1", "0"]);
    let second = send(&panel, page("?offset=2&limit=3")).await.json();
    let previews: Vec<&str> =
        second["outcomes"].as_array().into_iter().flatten().filter_map(|o| o["preview"].as_str()).collect();
    assert_eq!(previews, ["4", "3", "2"]);
    for bad in ["?limit=0", "?limit=501", "?limit=abc", "?offset=-1"] {
        let answer = send(&panel, page(bad)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad}: {}", answer.text());
    }
}

static EDITED_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn edited(n: u32) -> Vec<u32> {
    EDITED_RAN.fetch_add(1, SeqCst);
    vec![n; 2]
}

#[tokio::test]
async fn outcomes_are_read_replaced_after_checking_and_deleted() {
    let panel = panel();
    let f = handle!(edited);
    edited(4);
    edited(5);
    panel.flush();
    let id = f.outcomes().expect("outcomes").into_iter().find(|o| o.args.contains('4')).expect("recorded").id;
    let url = format!("/api/functions/{}/outcomes/{id}", f.id());
    let file = send(&panel, get(&url)).await.json();
    assert_eq!((&file["value"], &file["args"], &file["id"]), (&json!([4, 4]), &json!({ "n": 4 }), &json!(id)));

    let mut broken = file.clone();
    broken.as_object_mut().map(|file| file.remove("value"));
    let answer = send(&panel, json(Method::PUT, &url, &broken)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.detail().contains("`value` is missing"), "{}", answer.detail());
    assert_eq!(send(&panel, get(&url)).await.json(), file, "unchanged");

    let mut changed = file.clone();
    changed["value"] = json!([40, 41]);
    let answer = send(&panel, json(Method::PUT, &url, &changed)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    assert_eq!(answer.json()["value"], json!([40, 41]));
    f.set_mode(Mode::Cache).expect("set_mode");
    assert_eq!(edited(4), [40, 41], "the replaced outcome replays");

    let answer = send(&panel, request(Method::DELETE, &url).body(Body::empty()).expect("a request")).await;
    assert_eq!((answer.status, answer.json()), (StatusCode::OK, json!({ "status": "ok" })));
    assert_eq!(send(&panel, get(&url)).await.status, StatusCode::NOT_FOUND);
    assert_eq!(edited(4), [4, 4], "deleted: a miss that calls again");
    assert_eq!(EDITED_RAN.load(SeqCst), 3);

    let all = format!("/api/functions/{}/outcomes", f.id());
    let answer = send(&panel, request(Method::DELETE, &all).body(Body::empty()).expect("a request")).await;
    assert_eq!(answer.json(), json!({ "status": "ok", "deleted": 2 }));
    assert!(f.outcomes().expect("outcomes").is_empty());
}

#[cacheow]
fn rebuilt(n: u32) -> u32 {
    n * 3
}

#[tokio::test]
async fn rebuild_index_reads_the_files_and_names_the_corrupt_ones() {
    let panel = panel();
    let f = handle!(rebuilt);
    rebuilt(1);
    rebuilt(2);
    panel.flush();
    let dir = panel.data_dir().join("functions").join(f.id()).join("outcomes");
    let mut files: Vec<_> = std::fs::read_dir(&dir).expect("outcomes").flatten().map(|entry| entry.path()).collect();
    files.sort();
    // A copy from elsewhere, and a hand edit gone wrong.
    let copied = std::fs::read_to_string(&files[0])
        .expect("a file")
        .replace("\"n\": 1", "\"n\": 9")
        .replace("\"n\": 2", "\"n\": 9");
    std::fs::write(dir.join("00000000000000aa.json"), copied).expect("a copy");
    let edited: Value = serde_json::from_str(&std::fs::read_to_string(&files[1]).expect("a file")).expect("JSON");
    std::fs::write(&files[1], "{ not json").expect("an edit");

    let rebuild = request(Method::POST, &format!("/api/functions/{}/rebuild-index", f.id()))
        .body(Body::empty())
        .expect("a request");
    let answer = send(&panel, rebuild).await;
    assert_eq!(answer.status, StatusCode::OK, "a script's bodyless POST, as the Python API takes it");
    let answer = answer.json();
    assert_eq!(answer["indexed"], 2);
    let corrupt = answer["corrupt"].as_array().cloned().unwrap_or_default();
    assert_eq!(corrupt.len(), 1);
    assert!(
        corrupt[0]["path"]
            .as_str()
            .is_some_and(|path| path.ends_with(&*files[1].file_name().unwrap_or_default().to_string_lossy()))
    );
    assert!(corrupt[0]["error"].as_str().is_some_and(|error| error.contains("not a JSON object")));
    let ids: BTreeSet<String> = f.outcomes().expect("outcomes").into_iter().map(|o| o.id).collect();
    assert!(ids.contains("00000000000000aa"), "the copied file is indexed: {ids:?}");
    assert_eq!(ids.len(), 2, "the corrupt one is left out: {ids:?}");

    // Recorded again, its file is whole: no longer reported as corrupt.
    let detail = format!("/api/functions/{}", f.id());
    assert_eq!(send(&panel, get(&detail)).await.json()["corrupt_files"].as_array().map(Vec::len), Some(1));
    rebuilt(u32::try_from(edited["args"]["n"].as_u64().expect("n")).expect("small"));
    panel.flush();
    assert_eq!(send(&panel, get(&detail)).await.json()["corrupt_files"], json!([]));
}

static REARGUED_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn reargued(n: u32) -> u32 {
    REARGUED_RAN.fetch_add(1, SeqCst);
    n * 7
}

#[tokio::test]
async fn an_outcome_whose_arguments_are_edited_takes_the_id_of_its_content() {
    let panel = panel();
    let f = handle!(reargued);
    reargued(1);
    panel.flush();
    let old = f.outcomes().expect("outcomes")[0].id.clone();
    let url = |id: &str| format!("/api/functions/{}/outcomes/{id}", f.id());
    let mut file = send(&panel, get(&url(&old))).await.json();

    let mut wrong = file.clone();
    wrong["value"] = json!("seven");
    let answer = send(&panel, json(Method::PUT, &url(&old), &wrong)).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "checked as a manual outcome is");
    assert!(answer.detail().contains("does not fit the function's return type"), "{}", answer.detail());

    file["args"] = json!({ "n": 2 });
    let answer = send(&panel, json(Method::PUT, &url(&old), &file)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.text());
    let new = answer.json()["id"].as_str().expect("an id").to_owned();
    assert_ne!(new, old, "its id follows its content");
    assert_eq!(send(&panel, get(&url(&old))).await.status, StatusCode::NOT_FOUND);
    assert_eq!(send(&panel, get(&url(&new))).await.json()["args"], json!({ "n": 2 }));

    f.set_mode(Mode::Cache).expect("set_mode");
    assert_eq!(reargued(2), 7, "the edited outcome answers its new arguments");
    assert_eq!(reargued(1), 7, "the old ones miss, and call");
    panel.flush();
    assert_eq!(REARGUED_RAN.load(SeqCst), 2);
    assert_eq!(f.outcomes().expect("outcomes").len(), 2, "recorded anew, not counted as the edited one");
}

#[cacheow(tags("panel-users"), ttl = "100ms")]
fn tagged_user(id: u32) -> String {
    format!("user {id}")
}

#[cacheow(tags("panel-users"))]
fn tagged_plan(id: u32) -> String {
    format!("plan {id}")
}

#[tokio::test]
async fn outcomes_are_invalidated_cleaned_up_and_cleared_by_tag() {
    let panel = panel();
    let (user, plan) = (handle!(tagged_user), handle!(tagged_plan));
    for id in 1..=3 {
        tagged_user(id);
        tagged_plan(id);
    }
    panel.flush();
    let invalidate = format!("/api/functions/{}/invalidate", user.id());
    let answer = send(&panel, post(&invalidate, &json!({ "args": { "id": 2 } }))).await;
    assert_eq!(
        (answer.status, answer.json()),
        (StatusCode::OK, json!({ "status": "ok", "deleted": 1 })),
        "{}",
        answer.text()
    );
    let answer = send(&panel, post(&invalidate, &json!({ "arguments": { "id": 2 } }))).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "a body without `args`");
    assert_eq!(user.outcomes().expect("outcomes").len(), 2, "a refused request deletes nothing");

    std::thread::sleep(std::time::Duration::from_millis(150));
    tagged_user(1);
    panel.flush();
    let cleanup = format!("/api/functions/{}/cleanup-expired", user.id());
    let answer = send(&panel, post(&cleanup, &json!({}))).await;
    assert_eq!(answer.json(), json!({ "status": "ok", "deleted": 1 }), "id 3 expired; id 1 was recorded again");
    let cleanup_plan = format!("/api/functions/{}/cleanup-expired", plan.id());
    assert_eq!(
        send(&panel, post(&cleanup_plan, &json!({}))).await.json(),
        json!({ "status": "ok", "deleted": 0 }),
        "no ttl"
    );

    let answer = send(&panel, post("/api/tags/panel-users/clear", &json!({}))).await;
    assert_eq!(answer.json(), json!({ "status": "ok", "deleted": 1 + 3 }));
    assert!(user.outcomes().expect("outcomes").is_empty() && plan.outcomes().expect("outcomes").is_empty());
    assert_eq!(
        send(&panel, post("/api/tags/nobody/clear", &json!({}))).await.json(),
        json!({ "status": "ok", "deleted": 0 })
    );
}

#[cacheow]
fn redrawn(n: u32) -> u32 {
    n + 1
}

#[tokio::test]
async fn an_outcome_another_body_recorded_says_so_in_the_api_and_the_page() {
    let panel = panel();
    let f = handle!(redrawn);
    redrawn(1);
    panel.flush();
    let outcome = |detail: &Value| detail["outcomes"][0]["body_changed"].clone();
    let detail = send(&panel, get(&format!("/api/functions/{}", f.id()))).await.json();
    assert_eq!(outcome(&detail), json!(false), "{detail}");

    // As an older build of the program would have recorded it.
    let file = std::fs::read_dir(f.dir().expect("cacheow is on")).expect("its folder").flatten().next().expect("one");
    let hash = cacheow::__harness::body_hash(f);
    let text = std::fs::read_to_string(file.path()).expect("the outcome file");
    std::fs::write(file.path(), text.replace(hash, "00000000000000aa")).expect("an edit");
    f.rebuild_index().expect("a rebuild");
    let detail = send(&panel, get(&format!("/api/functions/{}", f.id()))).await.json();
    assert_eq!(outcome(&detail), json!(true), "{detail}");
    let page = send(&panel, get(&format!("/ui/functions/{}", f.id()))).await.text();
    assert!(page.contains(">body changed</span>"), "{page}");
}
