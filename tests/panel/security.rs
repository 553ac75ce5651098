//! The access rules: loopback or a token, no DNS rebinding, no cross-site
//! requests, and nothing in a request that reaches the disk or the code.

use axum::body::Body;
use axum::http::{Method, StatusCode, header};
use cacheow::{Mode, Settings, cacheow, handle};
use serde_json::json;

use super::{get, panel, panel_with, post, request, send};

#[cacheow]
fn secured(n: u32) -> u32 {
    n
}

fn mode_path() -> String {
    format!("/api/functions/{}/mode", handle!(secured).id())
}

#[tokio::test]
async fn hosts_other_than_loopback_are_refused() {
    let panel = panel();
    for host in ["127.0.0.1:8765", "localhost:8765", "LOCALHOST", "[::1]:8765", "app.localhost:8765"] {
        let answer = send(
            &panel,
            request(Method::GET, "/api/health").header(header::HOST, host).body(Body::empty()).expect("a request"),
        )
        .await;
        assert_eq!(answer.status, StatusCode::OK, "{host}");
    }
    for host in ["evil.example:8765", "127.0.0.1.evil.example", "localhost.evil.example", "0.0.0.0:8765"] {
        let request =
            axum::http::Request::builder().uri("/api/functions").header(header::HOST, host).body(Body::empty());
        let answer = send(&panel, request.expect("a request")).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{host}");
        assert!(answer.detail().contains("DNS rebinding"), "{}", answer.detail());
    }
    let no_host = axum::http::Request::builder().uri("/").body(Body::empty()).expect("a request");
    assert_eq!(send(&panel, no_host).await.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn cross_site_and_non_json_writes_are_refused() {
    let panel = panel();
    secured(1);
    panel.flush();
    let body = json!({ "mode": "mock" }).to_string();
    let refused = [
        // A form on another site: a simple request, no preflight.
        request(Method::POST, &mode_path()).header(header::CONTENT_TYPE, "text/plain").body(Body::from(body.clone())),
        request(Method::POST, &mode_path())
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from("mode=mock")),
        // JSON, but from a page of another origin.
        request(Method::POST, &mode_path())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ORIGIN, "http://evil.example")
            .body(Body::from(body.clone())),
        request(Method::POST, &mode_path())
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ORIGIN, "http://localhost:3000")
            .body(Body::from(body.clone())),
        request(Method::POST, &mode_path())
            .header(header::CONTENT_TYPE, "application/json")
            .header("sec-fetch-site", "cross-site")
            .body(Body::from(body.clone())),
        // A bodyless POST from a browser always carries an Origin.
        request(Method::POST, &format!("/api/functions/{}/rebuild-index", handle!(secured).id()))
            .header(header::ORIGIN, "http://evil.example")
            .body(Body::empty()),
        request(Method::DELETE, &format!("/api/functions/{}/outcomes", handle!(secured).id()))
            .header(header::ORIGIN, "null")
            .body(Body::empty()),
    ];
    for request in refused {
        let request = request.expect("a request");
        let what = format!("{:?}", request.headers());
        let answer = send(&panel, request).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{what}: {}", answer.text());
    }
    assert_eq!(handle!(secured).mode(), Mode::Default, "nothing changed");
    assert!(!handle!(secured).outcomes().expect("outcomes").is_empty(), "nothing deleted");
    assert!(
        send(&panel, get("/api/health")).await.headers.get(header::ACCESS_CONTROL_ALLOW_ORIGIN).is_none(),
        "no CORS"
    );

    let same_origin = request(Method::POST, &mode_path())
        .header(header::CONTENT_TYPE, "application/json; charset=utf-8")
        .header(header::ORIGIN, "http://127.0.0.1:8765")
        .body(Body::from(body))
        .expect("a request");
    assert_eq!(send(&panel, same_origin).await.status, StatusCode::OK);
    assert_eq!(handle!(secured).mode(), Mode::Mock);
    handle!(secured).set_mode(Mode::Default).expect("set_mode");
}

#[test]
fn a_host_other_machines_reach_needs_a_token() {
    let mut settings = Settings::default();
    settings.server_host = "0.0.0.0".to_owned();
    let error = super::open(settings.clone()).panel_router().expect_err("no token");
    assert!(error.to_string().contains("set CACHEOW_TOKEN"), "{error}");
    settings.server_host = "192.168.1.20".to_owned();
    assert!(super::open(settings).panel_router().is_err());
}

#[tokio::test]
async fn with_a_token_every_request_carries_it() {
    let mut settings = Settings::default();
    settings.server_host = "0.0.0.0".to_owned();
    settings.server_token = Some("s3cret-t0ken".to_owned());
    let panel = panel_with(settings);
    let from = |host: &str| request(Method::GET, "/api/functions").header(header::HOST, host);

    let missing = send(&panel, from("10.0.0.5:8765").body(Body::empty()).expect("a request")).await;
    assert_eq!(missing.status, StatusCode::UNAUTHORIZED);
    assert!(missing.detail().contains("Authorization: Bearer"), "{}", missing.detail());
    assert_eq!(missing.headers.get(header::WWW_AUTHENTICATE).map(|v| v.as_bytes()), Some(&b"Bearer"[..]));
    let wrong = from("10.0.0.5:8765").header(header::AUTHORIZATION, "Bearer s3cret-t0kem");
    assert_eq!(send(&panel, wrong.body(Body::empty()).expect("a request")).await.status, StatusCode::UNAUTHORIZED);

    let bearer = from("10.0.0.5:8765").header(header::AUTHORIZATION, "Bearer s3cret-t0ken");
    assert_eq!(send(&panel, bearer.body(Body::empty()).expect("a request")).await.status, StatusCode::OK);
    let header = from("10.0.0.5:8765").header("x-cacheow-token", "s3cret-t0ken");
    assert_eq!(send(&panel, header.body(Body::empty()).expect("a request")).await.status, StatusCode::OK);

    // A browser opens `/?token=...` once; a cookie carries it from then on,
    // and the address bar and history lose it.
    let first = request(Method::GET, "/api/functions?token=s3cret-t0ken&x=1").header(header::HOST, "10.0.0.5:8765");
    let first = send(&panel, first.body(Body::empty()).expect("a request")).await;
    assert_eq!(first.status, StatusCode::SEE_OTHER);
    assert_eq!(first.headers.get(header::LOCATION).map(|v| v.as_bytes()), Some(&b"/api/functions?x=1"[..]));
    let cookie = first.headers.get(header::SET_COOKIE).and_then(|value| value.to_str().ok()).unwrap_or_default();
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "{cookie}");
    let pair = cookie.split(';').next().unwrap_or_default();
    let next = from("10.0.0.5:8765").header(header::COOKIE, format!("theme=dark; {pair}"));
    assert_eq!(send(&panel, next.body(Body::empty()).expect("a request")).await.status, StatusCode::OK);
}

#[cacheow]
fn shouting(text: String) -> String {
    text
}

#[tokio::test]
async fn recorded_values_show_as_text() {
    let panel = panel();
    shouting("<script>alert(1)</script>".to_owned());
    panel.flush();
    let page = send(&panel, get(&format!("/ui/functions/{}", handle!(shouting).id()))).await;
    assert_eq!(page.status, StatusCode::OK);
    let html = page.text();
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "escaped in the outcomes");
    assert!(!html.contains("<script"), "no script element, recorded or of the panel's own");
    let policy =
        page.headers.get(header::CONTENT_SECURITY_POLICY).and_then(|value| value.to_str().ok()).unwrap_or_default();
    assert!(policy.contains("default-src 'none'") && policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(page.headers.get(header::X_CONTENT_TYPE_OPTIONS).map(|v| v.as_bytes()), Some(&b"nosniff"[..]));
}

#[tokio::test]
async fn posts_without_the_form_token_change_nothing() {
    let panel = panel();
    secured(2);
    panel.flush();
    let form = |token: &str| {
        request(Method::POST, &format!("/ui/functions/{}/mode", handle!(secured).id()))
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(format!("form_token={token}&mode=cache")))
            .expect("a request")
    };
    for token in ["", "0123456789abcdef0123456789abcdef"] {
        let answer = send(&panel, form(token)).await;
        assert_eq!(answer.status, StatusCode::FORBIDDEN, "{token:?}");
        assert!(answer.text().contains("reload the page"), "{}", answer.text());
    }
    assert_eq!(handle!(secured).mode(), Mode::Default);
    let json_post = post(&format!("/ui/functions/{}/mode", handle!(secured).id()), &json!({ "mode": "cache" }));
    assert_ne!(send(&panel, json_post).await.status, StatusCode::OK);
    assert_eq!(handle!(secured).mode(), Mode::Default);
}
