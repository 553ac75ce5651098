//! What the panel shows of the shared tier, over a real redis-server: the
//! connection, whether a function is shared, and how many outcomes Redis
//! holds, in its page and its API answer.

use cacheow::{Settings, cacheow, handle};

use super::{get, panel_with, send};
use crate::redis_server::RedisServer;

#[cacheow]
fn shared_page(n: u32) -> u32 {
    n + 1
}

#[cacheow(shared = false)]
fn local_page(n: u32) -> u32 {
    n + 2
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_function_page_shows_the_shared_tier() {
    let redis = RedisServer::start();
    let mut settings = Settings::default();
    settings.redis_url = Some(redis.url());
    let panel = panel_with(settings);
    tokio::task::block_in_place(|| {
        for n in 0..3 {
            shared_page(n);
        }
        local_page(1);
        panel.flush();
    });

    let shared = handle!(shared_page).id();
    let detail = send(&panel, get(&format!("/api/functions/{shared}"))).await.json();
    let tier = &detail["shared"];
    assert_eq!((tier["connection"].as_str(), tier["shared"].as_bool()), (Some("connected"), Some(true)), "{tier}");
    assert_eq!((tier["outcomes"].as_u64(), tier["pending"].as_u64()), (Some(3), Some(0)), "{tier}");
    assert_eq!(tier["url"], redis.url());

    let local = handle!(local_page).id();
    let detail = send(&panel, get(&format!("/api/functions/{local}"))).await.json();
    assert_eq!((detail["shared"]["shared"].as_bool(), detail["shared"]["outcomes"].as_u64()), (Some(false), Some(0)));

    let page = send(&panel, get(&format!("/ui/functions/{shared}"))).await.text();
    assert!(page.contains("Shared tier") && page.contains("connected") && page.contains("3 outcome(s)"), "{page}");
    let page = send(&panel, get(&format!("/ui/functions/{local}"))).await.text();
    assert!(page.contains("shared = false"), "{page}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_shared_tier_the_page_says_so_and_the_api_answers_null() {
    let panel = super::panel();
    tokio::task::block_in_place(|| {
        shared_page(9);
        panel.flush();
    });
    let id = handle!(shared_page).id();
    assert!(send(&panel, get(&format!("/api/functions/{id}"))).await.json()["shared"].is_null());
    let page = send(&panel, get(&format!("/ui/functions/{id}"))).await.text();
    assert!(page.contains("CACHEOW_REDIS_URL is not set"), "{page}");
}
