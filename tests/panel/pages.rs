//! The HTML pages and their forms, as a browser without scripts uses them.

use std::sync::atomic::{AtomicU32, Ordering::SeqCst};

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use cacheow::{Mode, cacheow, handle};

use super::{Answer, get, panel, request, send};

/// The form token in a page.
fn form_token(page: &str) -> String {
    let marker = "name=\"form_token\" value=\"";
    let start = page.find(marker).map(|at| at + marker.len()).expect("a form token");
    page[start..].chars().take_while(|c| *c != '"').collect()
}

/// Posts a form of the page at `page_path`, with its token.
async fn submit(panel: &axum::Router, page_path: &str, action: &str, fields: &[(&str, &str)]) -> Answer {
    let token = form_token(&send(panel, get(page_path)).await.text());
    let mut body: Vec<String> = vec![format!("form_token={token}")];
    body.extend(fields.iter().map(|(name, value)| format!("{name}={}", encode(value))));
    let request = request(Method::POST, action)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::ORIGIN, "http://127.0.0.1:8765")
        .body(Body::from(body.join("&")))
        .expect("a request");
    send(panel, request).await
}

fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|byte| match byte {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (byte as char).to_string(),
            _ => format!("%{byte:02X}"),
        })
        .collect()
}

fn location(answer: &Answer) -> &str {
    answer.headers.get(header::LOCATION).and_then(|value| value.to_str().ok()).unwrap_or_default()
}

#[cacheow]
fn shown(n: u32) -> u32 {
    n + 1
}

#[tokio::test]
async fn the_index_lists_functions_with_their_counts_and_stale_marker() {
    let panel = panel();
    shown(1);
    handle!(shown).set_mode(Mode::Cache).expect("set_mode");
    shown(1);
    panel.flush();
    let page = send(&panel, get("/")).await;
    assert_eq!(page.status, StatusCode::OK);
    assert_eq!(page.headers.get(header::CONTENT_TYPE).map(|v| v.as_bytes()), Some(&b"text/html; charset=utf-8"[..]));
    let html = page.text();
    let row = html.split("<tr>").find(|row| row.contains(handle!(shown).id())).expect("a row for shown");
    assert!(row.contains(">shown</a>") && row.contains("panel::pages") && row.contains("mode-cache"), "{row}");
    let numbers: Vec<&str> =
        row.split("<td class=\"num\">").skip(1).filter_map(|cell| cell.split('<').next()).collect();
    assert_eq!(numbers, ["2", "1", "0", "0"], "calls, hits, misses, mocks");
    assert!(!row.contains("stale"));

    let db = rusqlite::Connection::open(panel.data_dir().join("cacheow.db")).expect("db");
    db.execute("UPDATE functions SET stale = 1 WHERE id = ?1", [handle!(shown).id()]).expect("marked");
    let html = send(&panel, get("/")).await.text();
    let row = html.split("<tr>").find(|row| row.contains(handle!(shown).id())).expect("a row for shown");
    assert!(row.contains("stale"), "{row}");
    db.execute("UPDATE functions SET stale = 0 WHERE id = ?1", [handle!(shown).id()]).expect("unmarked");
}

static DRIVEN_RAN: AtomicU32 = AtomicU32::new(0);

#[cacheow]
fn driven(n: u32) -> String {
    DRIVEN_RAN.fetch_add(1, SeqCst);
    format!("real {n}")
}

#[tokio::test]
async fn forms_switch_mode_set_latency_add_outcomes_and_weights() {
    let panel = panel();
    let f = handle!(driven);
    driven(1);
    panel.flush();
    let page = format!("/ui/functions/{}", f.id());
    let html = send(&panel, get(&page)).await.text();
    for part in ["fn driven(n: u32) -&gt; String", "Recent calls", "<svg", "Mock weights", "Add a manual outcome"] {
        assert!(html.contains(part), "the page shows {part}");
    }

    let answer = submit(&panel, &page, &format!("{page}/mode"), &[("mode", "mock")]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(location(&answer), format!("{page}?notice=mode#mode"));
    assert_eq!(f.mode(), Mode::Mock);
    assert!(send(&panel, get(location(&answer))).await.text().contains("Mode set."));

    let answer = submit(&panel, &page, &format!("{page}/latency"), &[("latency_ms", "1.5")]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert_eq!(f.latency(), std::time::Duration::from_micros(1500));

    let manual = [("outcome_type", "return"), ("value", "\"from the panel\""), ("args", "")];
    let answer = submit(&panel, &page, &format!("{page}/outcomes/manual"), &manual).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    let manual_id =
        f.outcomes().expect("outcomes").into_iter().find(|o| o.value_preview.contains("panel")).expect("added").id;

    let weights = [
        ("entry-0-outcome_id", manual_id.as_str()),
        ("entry-0-weight", "3"),
        ("entry-0-enabled", "on"),
        ("entry-0-ignore_args", "on"),
    ];
    let answer = submit(&panel, &page, &format!("{page}/mock-outcomes"), &weights).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER, "{}", answer.text());
    let entries = f.mock_outcomes().expect("entries");
    assert_eq!(entries.len(), 1);
    assert_eq!(
        (entries[0].outcome_id.as_str(), entries[0].weight, entries[0].ignore_args),
        (manual_id.as_str(), 3.0, true)
    );
    assert_eq!(driven(99), "from the panel");
    assert_eq!(DRIVEN_RAN.load(SeqCst), 1);

    // The editor lists the entry; removing it leaves mock mode unweighted.
    let html = send(&panel, get(&page)).await.text();
    assert!(html.contains(&format!("name=\"entry-0-outcome_id\" value=\"{manual_id}\"")), "listed");
    let remove = [
        ("entry-0-outcome_id", manual_id.as_str()),
        ("entry-0-weight", "3"),
        ("entry-0-remove", "on"),
        ("entry-1-outcome_id", ""),
    ];
    submit(&panel, &page, &format!("{page}/mock-outcomes"), &remove).await;
    assert!(f.mock_outcomes().expect("entries").is_empty());
    f.set_mode(Mode::Default).expect("set_mode");
}

#[cacheow]
fn typed(n: u32) -> String {
    n.to_string()
}

#[tokio::test]
async fn a_bad_form_shows_the_error_and_keeps_what_was_typed() {
    let panel = panel();
    let f = handle!(typed);
    typed(2);
    panel.flush();
    let page = format!("/ui/functions/{}", f.id());
    let before = f.outcomes().expect("outcomes").len();
    let manual = [("outcome_type", "return"), ("value", "{\"name\": Ann}")];
    let answer = submit(&panel, &page, &format!("{page}/outcomes/manual"), &manual).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let html = answer.text();
    assert!(html.contains("value is not JSON"), "the error is shown");
    assert!(html.contains("{&quot;name&quot;: Ann}"), "what was typed is kept: {html}");
    assert_eq!(f.outcomes().expect("outcomes").len(), before);

    let answer = submit(&panel, &page, &format!("{page}/latency"), &[("latency_ms", "-5")]).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.text().contains("latency_ms must be from 0"));
    let answer =
        submit(&panel, &page, &format!("{page}/mock-outcomes"), &[("entry-0-outcome_id", "0123456789abcdef")]).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let answer = submit(&panel, &page, &format!("{page}/outcomes/delete"), &[]).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "deleting all needs the box ticked");
    assert_eq!(f.outcomes().expect("outcomes").len(), before);
}

#[cacheow]
fn viewed(n: u32) -> Vec<u32> {
    vec![n]
}

#[tokio::test]
async fn an_outcome_page_shows_edits_and_deletes_the_payload() {
    let panel = panel();
    let f = handle!(viewed);
    viewed(8);
    panel.flush();
    let id = f.outcomes().expect("outcomes")[0].id.clone();
    let function_page = send(&panel, get(&format!("/ui/functions/{}", f.id()))).await.text();
    let page = format!("/ui/functions/{}/outcomes/{id}", f.id());
    assert!(function_page.contains(&format!("href=\"{page}\"")), "the outcomes link to their page");
    let html = send(&panel, get(&page)).await.text();
    assert!(html.contains("&quot;value&quot;: [\n    8\n  ]"), "the file, pretty: {html}");

    let answer = submit(&panel, &page, &page, &[("text", "{\"kind\": \"return\"}")]).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(answer.text().contains("`value` is missing"));
    let answer =
        submit(&panel, &page, &page, &[("text", "{\"kind\": \"return\", \"args\": {\"n\": 8}, \"value\": [80]}")])
            .await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    f.set_mode(Mode::Cache).expect("set_mode");
    assert_eq!(viewed(8), [80]);

    let answer = submit(&panel, &page, &format!("{page}/delete"), &[]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(f.outcomes().expect("outcomes").is_empty());
    assert_eq!(send(&panel, get(&page)).await.status, StatusCode::NOT_FOUND);
}

#[cacheow]
fn many(n: u32) -> u32 {
    n
}

#[tokio::test]
async fn outcomes_are_paged_on_the_function_page() {
    let panel = panel();
    let f = handle!(many);
    for n in 0..120 {
        many(n);
    }
    panel.flush();
    let page = format!("/ui/functions/{}", f.id());
    let first = send(&panel, get(&page)).await.text();
    assert!(first.contains("1–50 of 120") && first.contains("Page 1 of 3"), "{first}");
    assert!(first.contains(&format!("href=\"{page}?offset=50#outcomes\"")));
    let last = send(&panel, get(&format!("{page}?offset=100"))).await.text();
    assert!(last.contains("101–120 of 120") && last.contains("Page 3 of 3"));
    assert!(!last.contains("Older →"));
    let beyond = send(&panel, get(&format!("{page}?offset={}", u64::MAX))).await;
    assert_eq!(beyond.status, StatusCode::OK, "an offset past the end is an empty page");
    assert!(beyond.text().contains("No outcome on this page"));
    let answer = submit(&panel, &page, &format!("{page}/outcomes/delete"), &[("confirm", "on")]).await;
    assert_eq!(answer.status, StatusCode::SEE_OTHER);
    assert!(send(&panel, get(location(&answer))).await.text().contains("Deleted 120 outcome(s)."));
}

#[cacheow(ttl = "100ms", tags("pages-users", "pages-billing"), wait = "5s")]
fn aging(n: u32) -> u32 {
    n
}

#[cacheow]
fn untagged_page(n: u32) -> u32 {
    n
}

#[tokio::test]
async fn the_function_page_shows_the_policy_ages_and_statuses_and_the_index_filters_by_tag() {
    let panel = panel();
    let f = handle!(aging);
    f.set_mode(Mode::Cache).expect("set_mode");
    aging(1);
    aging(1);
    untagged_page(1);
    std::thread::sleep(std::time::Duration::from_millis(150));
    panel.flush();
    let html = send(&panel, get(&format!("/ui/functions/{}", f.id()))).await.text();
    let policy = html.split("id=\"policy\"").nth(1).and_then(|rest| rest.split("</section>").next()).unwrap_or("");
    for part in ["ttl", "100ms", "pages-users", "href=\"/?tag=pages-billing\"", "5s", "0 call(s) running now"] {
        assert!(policy.contains(part), "no {part:?} in the policy: {policy}");
    }
    let outcomes = html.split("id=\"outcomes\"").nth(1).unwrap_or("");
    assert!(outcomes.contains(">expired<"), "older than its ttl: {outcomes}");
    let calls = html.split("id=\"calls\"").nth(1).and_then(|rest| rest.split("</section>").next()).unwrap_or("");
    assert!(calls.contains(">hit<") && calls.contains(">miss<"), "the statuses of the calls: {calls}");

    let tagged = send(&panel, get("/?tag=pages-users")).await.text();
    assert!(tagged.contains(f.id()) && !tagged.contains(handle!(untagged_page).id()), "{tagged}");
    assert!(tagged.contains("Tagged <strong>pages-users</strong>"));
    let none = send(&panel, get("/?tag=nobody")).await.text();
    assert!(none.contains("No function has this tag."));
    let all = send(&panel, get("/")).await.text();
    assert!(all.contains(handle!(untagged_page).id()));
}

#[cacheow]
fn slow_page(n: u32) -> u32 {
    std::thread::sleep(std::time::Duration::from_millis(500));
    n
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_function_page_counts_the_calls_in_flight() {
    let panel = panel();
    let f = handle!(slow_page);
    f.set_mode(Mode::Cache).expect("set_mode");
    let page = format!("/ui/functions/{}", f.id());
    tokio::task::block_in_place(|| {
        std::thread::scope(|scope| {
            let running = scope.spawn(|| {
                let _bound = panel.manager.bind();
                slow_page(1)
            });
            std::thread::sleep(std::time::Duration::from_millis(150));
            let html = tokio::runtime::Handle::current().block_on(send(&panel, get(&page))).text();
            assert!(html.contains("1 call(s) running now in this process"), "{html}");
            assert_eq!(running.join().ok(), Some(1));
        });
    });
}
