//! A real `redis-server` of a test's own: a free port on loopback, a temp
//! dir, no persistence, killed when dropped. `scripts/test` installs
//! Debian's `redis-server` when the machine lacks it.
#![allow(dead_code)] // each test binary uses part of it

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

pub(crate) struct RedisServer {
    child: Option<Child>,
    port: u16,
    password: Option<String>,
    dir: TempDir,
}

impl RedisServer {
    /// A server on a free port.
    pub(crate) fn start() -> RedisServer {
        RedisServer::start_with(None)
    }

    /// A server that asks every client for `password`.
    pub(crate) fn with_password(password: &str) -> RedisServer {
        RedisServer::start_with(Some(password.to_owned()))
    }

    /// A port no server listens on, for a server started later.
    pub(crate) fn reserve() -> RedisServer {
        let dir = tempfile::Builder::new().prefix("redis-").tempdir().expect("a temporary dir");
        RedisServer { child: None, port: free_port(), password: None, dir }
    }

    fn start_with(password: Option<String>) -> RedisServer {
        let mut server = RedisServer::reserve();
        server.password = password;
        server.up();
        server
    }

    /// Starts the server on its port, empty.
    pub(crate) fn up(&mut self) {
        assert!(self.child.is_none(), "the server is already up");
        let mut command = Command::new("redis-server");
        command
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self.dir.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        if let Some(password) = &self.password {
            command.args(["--requirepass", password]);
        }
        let child = command.spawn().unwrap_or_else(|error| {
            panic!(
                "cannot start redis-server ({error}): the shared-tier tests need Debian's redis-server package. \
                 `scripts/test` installs it; or run `apt-get install redis-server`"
            )
        });
        self.child = Some(child);
        self.wait_until_it_answers();
    }

    /// Kills the server, as a crash would.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops or resumes the server's process (SIGSTOP, SIGCONT): a server
    /// that takes the connections and answers nothing.
    pub(crate) fn pause(&self, paused: bool) {
        let pid = self.child.as_ref().expect("the server is up").id();
        let signal = if paused { "-STOP" } else { "-CONT" };
        let status = Command::new("kill").args([signal, &pid.to_string()]).status().expect("kill runs");
        assert!(status.success());
    }

    /// `redis://127.0.0.1:<port>/0`, with the password if it has one.
    pub(crate) fn url(&self) -> String {
        match &self.password {
            Some(password) => format!("redis://:{password}@127.0.0.1:{}/0", self.port),
            None => format!("redis://127.0.0.1:{}/0", self.port),
        }
    }

    /// A connection of the test's own.
    pub(crate) fn connection(&self) -> redis::Connection {
        redis::Client::open(self.url()).and_then(|client| client.get_connection()).expect("connects to redis-server")
    }

    fn wait_until_it_answers(&self) {
        let started = Instant::now();
        loop {
            let answered = redis::Client::open(self.url())
                .and_then(|client| client.get_connection_with_timeout(Duration::from_millis(200)))
                .and_then(|mut connection| redis::cmd("PING").query::<String>(&mut connection));
            match answered {
                Ok(_) => return,
                Err(error) if started.elapsed() > Duration::from_secs(10) => {
                    panic!("redis-server on port {} did not answer within 10 s: {error}", self.port)
                }
                Err(_) => std::thread::sleep(Duration::from_millis(20)),
            }
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        // SIGKILL ends a paused server too.
        self.kill();
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|listener| listener.local_addr()).expect("a free port").port()
}
