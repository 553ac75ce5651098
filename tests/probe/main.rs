//! A program with decorated functions, driven from its arguments, that the
//! tests run as a child process: `cacheow-probe square 3 mode square cache square 3`.
//!
//! Each command prints one line on stdout; warnings go to stderr.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use cacheow::{Function, Mode, cacheow};

/// Calls that really ran the body of a decorated function.
static RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn square(n: u64) -> u64 {
    RAN.fetch_add(1, Ordering::SeqCst);
    n * n
}

#[cacheow]
async fn fetch(n: u64) -> String {
    RAN.fetch_add(1, Ordering::SeqCst);
    tokio::task::yield_now().await;
    format!("user-{n}")
}

#[cacheow]
fn fail(n: u64) -> std::io::Result<u64> {
    RAN.fetch_add(1, Ordering::SeqCst);
    if n % 2 == 1 { Err(std::io::Error::new(std::io::ErrorKind::NotFound, format!("no user {n}"))) } else { Ok(n) }
}

/// Served stale once 1.5 s old, refreshed in 300 ms: its value is when it
/// ran, in milliseconds.
#[cacheow(ttl = "1500ms", serve_stale)]
fn stale(n: u64) -> u128 {
    RAN.fetch_add(1, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(300));
    unix_micros() / 1000 + u128::from(n)
}

fn case_blind(name: &str) -> String {
    name.to_lowercase()
}

/// Keyed by its name without case: `Ann` and `ANN` are one entry.
#[cacheow(key = case_blind)]
fn greet(name: String) -> String {
    RAN.fetch_add(1, Ordering::SeqCst);
    format!("hello {name}")
}

/// Shared by every process of the data dir while it runs: `n` is also how
/// many milliseconds it takes. It says when it starts, on stdout.
#[cacheow(dedupe = "processes", wait = "20s")]
fn shared(n: u64) -> String {
    RAN.fetch_add(1, Ordering::SeqCst);
    println!("running shared({n})");
    let _ = std::io::stdout().flush();
    std::thread::sleep(Duration::from_millis(n));
    format!("{n} by {}", std::process::id())
}

fn function(name: &str) -> &'static Function {
    match name {
        "shared" => cacheow::handle!(shared),
        "greet" => cacheow::handle!(greet),
        "stale" => cacheow::handle!(stale),
        "square" => cacheow::handle!(square),
        "fetch" => cacheow::handle!(fetch),
        "fail" => cacheow::handle!(fail),
        other => panic!("unknown function {other}"),
    }
}

/// What runs when its thread ends.
type AtExit = Option<OnDrop<Box<dyn FnMut()>>>;

thread_local! {
    static AT_EXIT: std::cell::RefCell<AtExit> = const { std::cell::RefCell::new(None) };
}

/// Runs its closure when dropped.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

fn unix_micros() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_micros()).unwrap_or(0)
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    // `bare`: a program that installs no `tracing` subscriber (until its
    // `subscribe` command), as most small programs.
    if args.first().is_some_and(|first| first == "bare") {
        args.remove(0);
    } else {
        subscribe();
    }
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    run(&mut args.iter().map(String::as_str), &runtime);
}

/// Forks: the child calls `square` on `n` new arguments, sets a mode and
/// flushes, says what it got, and exits; the parent says how it ended.
#[allow(unsafe_code)]
fn forked(n: u64) -> String {
    // SAFETY: the child only runs this program's code, on this thread,
    // and ends with `exit`; the C library makes malloc usable in it.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        let sum: u64 = (1_000_000..1_000_000 + n).map(square).sum();
        let set = cacheow::handle!(square).set_mode(Mode::Mock);
        let enabled = cacheow::manager().is_some();
        if let Some(manager) = cacheow::manager() {
            manager.flush();
        }
        println!("child = sum {sum}, set_mode {set:?}, enabled {enabled}, ran {}", RAN.load(Ordering::SeqCst));
        let _ = std::io::stdout().flush();
        std::process::exit(0);
    }
    let mut status = 0;
    // SAFETY: waits for the child just forked.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    format!("child exited = {}", libc::WEXITSTATUS(status))
}

/// A full disk, as far as this process can tell: no file grows past
/// `bytes` (`RLIMIT_FSIZE`). The signal the kernel sends on such a write
/// is ignored, so that the write fails with `EFBIG` instead.
#[allow(unsafe_code)]
fn limit_file_size(bytes: u64) {
    let limit = libc::rlimit { rlim_cur: bytes, rlim_max: libc::RLIM_INFINITY };
    // SAFETY: plain system calls on valid arguments, before any thread of
    // this program writes a file.
    unsafe {
        libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
        assert_eq!(libc::setrlimit(libc::RLIMIT_FSIZE, &limit), 0, "setrlimit");
    }
}

/// Installs a `tracing` subscriber that writes to stderr.
fn subscribe() {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
}

/// Runs the commands `args` holds, printing a line for each.
fn run(args: &mut dyn Iterator<Item = &str>, runtime: &tokio::runtime::Runtime) {
    while let Some(command) = args.next() {
        let mut next = || args.next().unwrap_or_else(|| panic!("`{command}` needs more arguments"));
        let line = match command {
            "square" => {
                let n = next().parse().expect("a number");
                format!("square({n}) = {}", square(n))
            }
            "shared" => {
                let n = next().parse().expect("a number");
                let value = shared(n);
                format!("shared({n}) = {value} {:?}", cacheow::last_status())
            }
            "greet" => {
                let name = next();
                format!("greet({name}) = {}", greet(name.to_owned()))
            }
            "stale" => {
                let n = next().parse().expect("a number");
                let value = stale(n);
                format!("stale({n}) = {value} {:?}", cacheow::last_status())
            }
            "fetch" => {
                let n = next().parse().expect("a number");
                format!("fetch({n}) = {}", runtime.block_on(fetch(n)))
            }
            "fail" => {
                let n = next().parse().expect("a number");
                match fail(n) {
                    Ok(value) => format!("fail({n}) = Ok({value})"),
                    Err(error) => format!("fail({n}) = Err({:?}: {error})", error.kind()),
                }
            }
            "square-while-unwinding" => {
                // The first call, from a `Drop` run by a panic: cacheow sets
                // up its panic hook on first use, which it cannot do then.
                let n = next().parse().expect("a number");
                let squared = std::cell::Cell::new(0);
                let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    let _on_drop = OnDrop(|| squared.set(square(n)));
                    panic!("unwinding on purpose");
                }));
                assert!(unwound.is_err());
                format!("square({n}) while unwinding = {}", squared.get())
            }
            "square-in-thread-exit" => {
                // Calls made from a thread-local's destructor, as the thread
                // that owns it ends: in the mode the function is in.
                let n: u64 = next().parse().expect("a number");
                let squared = std::thread::spawn(move || {
                    let (sender, receiver) = std::sync::mpsc::channel();
                    AT_EXIT.with(|slot| {
                        *slot.borrow_mut() = Some(OnDrop(Box::new(move || {
                            let _ = sender.send(square(n));
                        })))
                    });
                    // cacheow's own thread-locals, set up after that one,
                    // are gone before it is.
                    square(n);
                    receiver
                })
                .join()
                .expect("the thread ends")
                .recv()
                .expect("its destructor ran");
                format!("square({n}) at thread exit = {squared}")
            }
            "fork" => {
                // A child that records more new outcomes than the queue of
                // old held, changes a mode and flushes; the parent waits.
                let n: u64 = next().parse().expect("a number");
                forked(n)
            }
            "quick-start" => {
                // The README's quick start, which must run with cacheow off.
                fn quick_start() -> Result<(), cacheow::Error> {
                    square(3);
                    cacheow::handle!(square).set_mode(Mode::Cache)?;
                    square(3);
                    Ok(())
                }
                format!("quick start = {:?}", quick_start())
            }
            "file-size-limit" => {
                let bytes: u64 = next().parse().expect("a number");
                limit_file_size(bytes);
                format!("file-size-limit = {bytes}")
            }
            "square-range" => {
                let (from, to): (u64, u64) = (next().parse().expect("a number"), next().parse().expect("a number"));
                let sum: u64 = (from..to).map(square).sum();
                format!("square-range({from}, {to}) = {sum}")
            }
            "timed-squares" => {
                // One call every `pause` ms for `from..to`: the slowest call,
                // in microseconds. Each result is checked.
                let (from, to): (u64, u64) = (next().parse().expect("a number"), next().parse().expect("a number"));
                let pause = Duration::from_millis(next().parse().expect("milliseconds"));
                let mut slowest = Duration::ZERO;
                for n in from..to {
                    let started = Instant::now();
                    assert_eq!(square(n), n * n, "square({n})");
                    slowest = slowest.max(started.elapsed());
                    std::thread::sleep(pause);
                }
                format!("slowest = {}", slowest.as_micros())
            }
            "status" => format!("status = {:?}", cacheow::last_status()),
            "record-burst" => {
                // `count` new outcomes, saying every 1,000 how many it made;
                // then it waits to be killed.
                let count: u64 = next().parse().expect("a number");
                for n in 1..=count {
                    square(n);
                    if n % 1000 == 0 {
                        println!("recorded {n} at {}us", unix_micros());
                        let _ = std::io::stdout().flush();
                    }
                }
                loop {
                    std::thread::park();
                }
            }
            "mode" => {
                let (name, mode) = (next(), next());
                function(name).set_mode(mode.parse().expect("a mode")).expect("set_mode");
                format!("mode {name} = {mode} at {}us", unix_micros())
            }
            "cap" => {
                let (name, max) = (next(), next().parse().expect("a number of outcomes"));
                function(name).set_max_outcomes(Some(max)).expect("set_max_outcomes");
                format!("cap {name} = {max}")
            }
            "latency" => {
                let (name, ms) = (next(), next().parse().expect("milliseconds"));
                function(name).set_latency(Duration::from_millis(ms)).expect("set_latency");
                format!("latency {name} = {ms}")
            }
            "wait-mode" => {
                // Polls until another process's change arrives.
                let (name, mode, timeout) = (next(), next().parse::<Mode>().expect("a mode"), next());
                let timeout = Duration::from_millis(timeout.parse().expect("milliseconds"));
                let started = Instant::now();
                while function(name).mode() != mode && started.elapsed() < timeout {
                    std::thread::sleep(Duration::from_millis(1));
                }
                format!("wait-mode {name} = {} at {}us", function(name).mode(), unix_micros())
            }
            "ran" => format!("ran = {}", RAN.load(Ordering::SeqCst)),
            "id" => {
                let name = next();
                format!("id {name} = {}", function(name).id())
            }
            "stats" => {
                let name = next();
                format!("stats {name} = {:?}", function(name).stats().expect("stats"))
            }
            "outcomes" => {
                let name = next();
                format!("outcomes {name} = {}", function(name).outcomes().expect("outcomes").len())
            }
            "enabled" => format!("enabled = {}", cacheow::manager().is_some()),
            "settings" => {
                let settings = cacheow::manager().expect("cacheow is on").settings();
                format!("settings = {}:{} {}", settings.server_host, settings.server_port, settings.data_dir.display())
            }
            "threads" => {
                let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
                let threads = status.lines().find_map(|line| line.strip_prefix("Threads:")).unwrap_or("?").trim();
                format!("threads = {threads}")
            }
            "flush" => {
                cacheow::manager().expect("cacheow is on").flush();
                "flushed".to_owned()
            }
            "ready" => "ready".to_owned(),
            "subscribe" => {
                subscribe();
                "subscribed".to_owned()
            }
            "panel" => {
                let url = cacheow::manager().expect("cacheow is on").panel_url();
                format!("panel = {}", url.as_deref().unwrap_or("none"))
            }
            "serve" => {
                // What `cacheow serve` runs, until the test kills it.
                cacheow::Manager::open(cacheow::Settings::from_env())
                    .serve_panel(|url| {
                        println!("serving = {url}");
                        let _ = std::io::stdout().flush();
                    })
                    .expect("the panel serves");
                "served".to_owned()
            }
            "interactive" => {
                // Then runs the commands of each line of stdin, until it ends.
                println!("interactive");
                let _ = std::io::stdout().flush();
                for line in std::io::stdin().lines().map_while(Result::ok) {
                    run(&mut line.split_whitespace(), runtime);
                }
                "end".to_owned()
            }
            "sleep" => {
                let ms = next().parse().expect("milliseconds");
                std::thread::sleep(Duration::from_millis(ms));
                format!("slept {ms}")
            }
            other => panic!("unknown command {other}"),
        };
        println!("{line}");
        let _ = std::io::stdout().flush();
    }
}
