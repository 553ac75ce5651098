//! An HTTP service: a server each test starts on a free port, and a client
//! function whose base URL is not part of the key, so that recordings
//! replay whatever the port.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use cacheow::cacheow;
use cacheow_test::{Record, cacheow_test};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    id: u32,
    name: String,
    roles: Vec<String>,
}

/// A user service on a free local port; counts the requests it answers.
struct Server {
    base: String,
    requests: Arc<AtomicUsize>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").expect("a free port");
        let base = format!("http://{}", listener.local_addr().expect("an address"));
        let requests = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&requests);
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counted.fetch_add(1, Ordering::SeqCst);
                answer(stream);
            }
        });
        Server { base, requests }
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

fn answer(mut stream: TcpStream) {
    // The whole request, to its blank line, before answering.
    let lines: Vec<String> =
        BufReader::new(&stream).lines().map_while(Result::ok).take_while(|line| !line.is_empty()).collect();
    let path = lines.first().and_then(|line| line.split_whitespace().nth(1)).unwrap_or("/");
    let (status, body) = match path.strip_prefix("/users/").and_then(|id| id.parse::<u32>().ok()) {
        Some(id @ 1..=99) => {
            let user = User { id, name: format!("user {id}"), roles: vec!["reader".to_owned()] };
            ("200 OK", serde_json::to_string(&user).unwrap_or_default())
        }
        _ => ("404 Not Found", r#"{"error":"no such user"}"#.to_owned()),
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let _ = stream.write_all(response.as_bytes());
}

/// A GET request, by hand: the status and the body.
fn get(base: &str, path: &str) -> Result<(u16, String), String> {
    let address = base.strip_prefix("http://").ok_or("not an http URL")?;
    let mut stream = TcpStream::connect(address).map_err(|error| error.to_string())?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).map_err(|error| error.to_string())?;
    let mut response = String::new();
    stream.read_to_string(&mut response).map_err(|error| error.to_string())?;
    let (head, body) = response.split_once("\r\n\r\n").ok_or("no body")?;
    let status = head.split_whitespace().nth(1).and_then(|code| code.parse().ok()).ok_or("no status")?;
    Ok((status, body.to_owned()))
}

#[cacheow]
fn fetch_user(#[cacheow(skip)] base: &str, id: u32) -> Result<User, String> {
    match get(base, &format!("/users/{id}"))? {
        (200, body) => serde_json::from_str(&body).map_err(|error| error.to_string()),
        (status, _) => Err(format!("HTTP {status}")),
    }
}

#[cacheow]
async fn fetch_user_async(#[cacheow(skip)] base: String, id: u32) -> Result<User, String> {
    tokio::task::spawn_blocking(move || fetch_user_blocking(&base, id)).await.map_err(|error| error.to_string())?
}

fn fetch_user_blocking(base: &str, id: u32) -> Result<User, String> {
    match get(base, &format!("/users/{id}"))? {
        (200, body) => serde_json::from_str(&body).map_err(|error| error.to_string()),
        (status, _) => Err(format!("HTTP {status}")),
    }
}

/// What the server saw: every call when re-recording, none when replaying;
/// in `once` mode, the calls the fixtures lacked.
fn expect_requests(server: &Server, when_recording: usize) {
    let requests = server.requests();
    match cacheow_test::current().record() {
        Record::None => assert_eq!(requests, 0, "replayed"),
        Record::All => assert_eq!(requests, when_recording, "recorded"),
        // `once` calls what the fixtures lack; `stale`, the calls of functions
        // another body recorded too.
        _ => assert!(requests <= when_recording, "{requests} requests"),
    }
}

#[cacheow_test(snapshot)]
fn fetches_users_and_their_errors() {
    let server = Server::start();
    let ann = fetch_user(&server.base, 7).expect("user 7 exists");
    assert_eq!(ann.name, "user 7");
    assert_eq!(fetch_user(&server.base, 404), Err("HTTP 404".to_owned()));
    expect_requests(&server, 2);
}

#[cacheow_test]
#[tokio::test]
async fn fetches_on_a_current_thread_runtime() {
    let server = Server::start();
    let user = fetch_user_async(server.base.clone(), 3).await.expect("user 3 exists");
    assert_eq!(user.roles, ["reader"]);
    expect_requests(&server, 1);
}

#[cacheow_test]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetches_from_spawned_tasks_on_a_multi_thread_runtime() {
    let server = Server::start();
    let tasks: Vec<_> = (1..=4).map(|id| cacheow_test::spawn(fetch_user_async(server.base.clone(), id))).collect();
    for (id, task) in (1..=4).zip(tasks) {
        let user = task.await.expect("the task ends").expect("the user exists");
        assert_eq!(user.id, id);
    }
    expect_requests(&server, 4);
}
