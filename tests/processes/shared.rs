//! The shared tier on a real redis-server: two "machines" (two processes
//! with two empty data dirs) share one Redis, and Redis fails in the ways
//! it does in a team's life, without breaking the program.

use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime};

use redis::Commands;

use crate::redis_server::RedisServer;
use crate::{DataDir, Probed};

/// The probe of `data`, sharing `redis`.
fn probe(data: &DataDir, url: &str, args: &[&str]) -> Command {
    let mut command = data.probe(args);
    command.env("CACHEOW_REDIS_URL", url).env("CACHEOW_REDIS_BUDGET_MS", "50");
    command
}

fn run(data: &DataDir, url: &str, args: &[&str]) -> Probed {
    Probed::from(probe(data, url, args).output().expect("the probe runs"))
}

fn outcome_ids(data: &DataDir, function_id: &str) -> Vec<String> {
    data.outcome_files(function_id)
        .iter()
        .map(|path| path.file_stem().and_then(|stem| stem.to_str()).expect("a file name").to_owned())
        .collect()
}

/// The ids of the function's outcomes recorded between the two times, by
/// their files, a margin of 100 ms kept on each side.
fn recorded_between(data: &DataDir, function_id: &str, from: SystemTime, to: SystemTime) -> Vec<String> {
    let margin = Duration::from_millis(100);
    let (from, to) = (from + margin, to - margin);
    data.outcome_files(function_id)
        .iter()
        .filter_map(|path| {
            let file: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
            let at = humantime::parse_rfc3339(file["recorded_at"].as_str()?).ok()?;
            (from <= at && at <= to).then(|| file["id"].as_str().map(str::to_owned)).flatten()
        })
        .collect()
}

fn key(function_id: &str, rest: &str) -> String {
    format!("cacheow:{{{function_id}}}:{rest}")
}

#[test]
fn a_call_recorded_on_one_machine_is_a_shared_hit_on_another() {
    let redis = RedisServer::start();
    let (first, second) = (DataDir::new(), DataDir::new());
    let recorded = run(&first, &redis.url(), &["square", "3", "square", "4", "fetch", "5", "ran"]);
    assert_eq!(recorded.value("ran"), "3");

    let args = [
        "mode", "square", "cache", "mode", "fetch", "cache", "square", "3", "status", "square", "4", "fetch", "5",
        "status", "ran",
    ];
    let replayed = run(&second, &redis.url(), &args);
    assert_eq!(replayed.value("ran"), "0", "no real call on the second machine");
    assert_eq!((replayed.value("square(3)"), replayed.value("square(4)")), ("9".into(), "16".into()));
    assert_eq!(replayed.value("fetch(5)"), "user-5", "an async function too");
    assert_eq!(replayed.values("status"), ["Some(SharedHit)", "Some(SharedHit)"]);
    assert!(replayed.warnings().is_empty(), "{}", replayed.stderr);

    // Kept in the second data dir: replayed from there, Redis emptied.
    let square = first.id("square");
    assert_eq!(outcome_ids(&second, &square), outcome_ids(&first, &square), "the same ids on both machines");
    // Pulled outcomes are never pushed back as recordings of the second machine.
    let counts: Vec<u64> = redis.connection().hvals(key(&square, "counts")).expect("HVALS");
    assert_eq!(counts, [1, 1], "one recording each, on the first machine");
    // Each shared outcome carries the hash of the body that recorded it.
    let mut connection = redis.connection();
    let shared: String = connection.get(key(&square, &format!("o:{}", outcome_ids(&first, &square)[0]))).expect("GET");
    let shared: serde_json::Value = serde_json::from_str(&shared).expect("JSON");
    let body_hash = shared["body_hash"].as_str().unwrap_or_default();
    assert!(body_hash.len() == 16 && body_hash.bytes().all(|b| b.is_ascii_hexdigit()), "{shared}");
    let _: () = redis::cmd("FLUSHALL").query(&mut redis.connection()).expect("FLUSHALL");
    let local = run(&second, &redis.url(), &["mode", "square", "cache", "square", "3", "status", "ran"]);
    assert_eq!((local.value("status"), local.value("ran")), ("Some(Hit)".into(), "0".into()));
}

#[test]
fn the_same_call_recorded_on_two_machines_is_one_outcome_counted_twice() {
    let redis = RedisServer::start();
    let (first, second) = (DataDir::new(), DataDir::new());
    run(&first, &redis.url(), &["square", "6"]);
    run(&second, &redis.url(), &["square", "6"]);
    let square = first.id("square");
    let ids = outcome_ids(&first, &square);
    assert_eq!(ids, outcome_ids(&second, &square));
    let mut connection = redis.connection();
    let members: Vec<String> = connection.smembers(key(&square, "ids")).expect("SMEMBERS");
    assert_eq!(members, ids, "one outcome");
    let count: u64 = connection.hget(key(&square, "counts"), &ids[0]).expect("HGET");
    assert_eq!(count, 2);
    // Local counts stay local: each machine saw it once.
    let local = "SELECT count FROM outcomes WHERE function_id = ?1";
    assert_eq!((first.count(local, &square), second.count(local, &square)), (1, 1));
}

#[test]
fn a_slow_call_on_two_machines_at_once_runs_once() {
    let redis = RedisServer::start();
    let (first, second) = (DataDir::new(), DataDir::new());
    let spawn = |data: &DataDir| {
        probe(data, &redis.url(), &["mode", "shared", "cache", "shared", "300", "status", "ran"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the probe starts")
    };
    let children = [spawn(&first), spawn(&second)];
    let probed: Vec<Probed> =
        children.into_iter().map(|child| Probed::from(child.wait_with_output().expect("the probe ends"))).collect();
    let ran: u64 = probed.iter().map(|probed| probed.value("ran").parse::<u64>().expect("a count")).sum();
    assert_eq!(ran, 1, "{}\n{}", probed[0].stdout, probed[1].stdout);
    // `<value> <status>`.
    let values: Vec<String> = probed.iter().map(|probed| probed.value("shared(300)")).collect();
    let value = |at: usize| values[at].rsplit_once(' ').map(|(value, _)| value.to_owned());
    assert_eq!(value(0), value(1), "both return the one call's value");
    let mut statuses: Vec<String> = probed.iter().map(|probed| probed.value("status")).collect();
    statuses.sort();
    assert_eq!(statuses, ["Some(Miss)", "Some(Waited)"]);
}

/// A program that misses all along, one call every 2 ms for about 3 s
/// (Redis is asked each time), while its Redis is killed for a second and
/// restarted empty.
struct KilledAndRestarted {
    redis: RedisServer,
    data: DataDir,
    probed: Probed,
    killed: SystemTime,
    restarted: SystemTime,
}

impl KilledAndRestarted {
    fn run() -> KilledAndRestarted {
        let mut redis = RedisServer::start();
        let data = DataDir::new();
        let args = ["mode", "square", "cache", "square", "0", "timed-squares", "1", "1500", "2"];
        let child = probe(&data, &redis.url(), &args)
            .args(["sleep", "2500", "flush", "ran"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the probe starts");
        std::thread::sleep(Duration::from_millis(800));
        redis.kill();
        let killed = SystemTime::now();
        std::thread::sleep(Duration::from_millis(1000));
        let restarted = SystemTime::now();
        redis.up();
        let probed = Probed::from(child.wait_with_output().expect("the probe ends"));
        KilledAndRestarted { redis, data, probed, killed, restarted }
    }

    fn slowest(&self) -> u128 {
        self.probed.value("slowest").parse().expect("microseconds")
    }
}

#[test]
fn redis_killed_then_restarted_costs_no_call_more_than_the_budget_and_gets_the_backlog() {
    let run = first_run_within(60_000, |_| KilledAndRestarted::run(), KilledAndRestarted::slowest);
    let slowest = run.slowest();
    let KilledAndRestarted { redis, data, probed, killed, restarted } = run;
    assert!(slowest < 60_000, "the slowest call took {slowest} µs, over the 50 ms budget plus 10 ms");
    assert_eq!(probed.value("ran"), "1500", "every result was right, and every call ran, square(0) included");
    let warnings = probed.warnings();
    assert_eq!(warnings.len(), 1, "one warning: {warnings:#?}");
    assert!(warnings[0].contains("cannot reach Redis at redis://127.0.0.1"), "{}", warnings[0]);
    // What was recorded while Redis was down reached it once it was back:
    // the restarted server holds nothing else from before.
    let square = data.id("square");
    let mut connection = redis.connection();
    let during: Vec<String> = recorded_between(&data, &square, killed, restarted);
    assert!(during.len() > 100, "{} outcomes recorded while Redis was down", during.len());
    for id in &during {
        assert!(connection.sismember::<_, _, bool>(key(&square, "ids"), id).expect("SISMEMBER"), "{id} was not pushed");
    }
}

#[test]
fn a_program_started_with_redis_down_pushes_once_it_is_up() {
    let mut redis = RedisServer::reserve();
    let data = DataDir::new();
    let child = probe(&data, &redis.url(), &["square-range", "0", "50", "sleep", "3000", "flush"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the probe starts");
    std::thread::sleep(Duration::from_millis(500));
    redis.up();
    let probed = Probed::from(child.wait_with_output().expect("the probe ends"));
    assert_eq!(probed.value("square-range(0, 50)"), (0..50u64).map(|n| n * n).sum::<u64>().to_string());
    let square = data.id("square");
    let shared: usize = redis.connection().scard(key(&square, "ids")).expect("SCARD");
    assert_eq!(shared, 50, "{}", probed.stderr);
}

#[test]
fn a_paused_redis_slows_no_hit_and_delays_a_miss_by_the_budget_at_most() {
    let redis = RedisServer::start();
    let data = DataDir::new();
    run(&data, &redis.url(), &["square-range", "0", "200"]);
    redis.pause(true);
    // Hits first (0..200 are recorded), then misses, of arguments new to each run.
    let slowest = |slowest: &u128| *slowest;
    let hits = first_run_within(
        10_000,
        |_| {
            let probed =
                run(&data, &redis.url(), &["mode", "square", "cache", "timed-squares", "0", "200", "0", "ran"]);
            assert_eq!(probed.value("ran"), "0");
            probed.value("slowest").parse().expect("microseconds")
        },
        slowest,
    );
    assert!(hits < 10_000, "a hit took {hits} µs while Redis was paused");
    let misses = first_run_within(
        60_000,
        |run_number| {
            let [warm_up, from, to] =
                [1000 + run_number, 200 + 40 * run_number, 240 + 40 * run_number].map(|n| n.to_string());
            let args = ["mode", "square", "cache", "square", &warm_up, "timed-squares", &from, &to, "0"];
            run(&data, &redis.url(), &args).value("slowest").parse().expect("microseconds")
        },
        slowest,
    );
    assert!(misses < 60_000, "a miss took {misses} µs, over the 50 ms budget plus 10 ms");
    redis.pause(false);
}

/// The first of up to three runs whose slowest call, in microseconds, is
/// under `bound`, else the least slow. The other tests' programs share the
/// 2 cores: one call of a run may lose them for longer than the margin,
/// whereas a call that waits on Redis does in every run.
fn first_run_within<T>(bound: u128, run: impl Fn(u64) -> T, slowest: impl Fn(&T) -> u128) -> T {
    let mut least = run(0);
    for run_number in 1..3 {
        if slowest(&least) < bound {
            break;
        }
        let next = run(run_number);
        if slowest(&next) < slowest(&least) {
            least = next;
        }
    }
    least
}

#[test]
fn values_under_the_prefix_that_cannot_be_replayed_are_ignored_with_a_warning() {
    let redis = RedisServer::start();
    let recorder = DataDir::new();
    run(&recorder, &redis.url(), &["square", "7", "square", "8", "fetch", "9"]);
    let (square, fetch) = (recorder.id("square"), recorder.id("fetch"));
    let mut connection = redis.connection();
    // What a pull reads: the newest outcome of the arguments.
    let newest = |function_id: &str, connection: &mut redis::Connection| -> Vec<String> {
        let pattern = key(function_id, "a:*");
        connection.scan_match(pattern).expect("SCAN").collect::<Result<_, _>>().expect("SCAN")
    };
    let [seven, eight] = <[String; 2]>::try_from(newest(&square, &mut connection)).expect("two arguments");
    let fetch_newest = newest(&fetch, &mut connection);
    let fetched: Vec<u8> = connection.get(&fetch_newest[0]).expect("GET");
    // One does not parse; the other is fetch's outcome, which is a String.
    let own: Vec<u8> = connection.get(&seven).expect("GET");
    // Its head: its id and when it was last recorded, 16 hex digits each.
    let _: () = connection.set(&seven, [&own[..32], b"{not json"].concat()).expect("SET");
    let _: () = connection.set(&eight, &fetched).expect("SET");

    let data = DataDir::new();
    let probed = run(&data, &redis.url(), &["mode", "square", "cache", "square", "7", "square", "8", "ran"]);
    assert_eq!((probed.value("square(7)"), probed.value("square(8)")), ("49".into(), "64".into()));
    assert_eq!(probed.value("ran"), "2", "nothing bad was replayed");
    let warnings = probed.warnings().join("\n");
    assert!(warnings.contains("ignores the value of") && warnings.contains("not a JSON object"), "{warnings}");
    assert!(warnings.contains("belongs to the function"), "{warnings}");

    // Relabelled as square's: the function's return type refuses it.
    let relabelled = String::from_utf8_lossy(&fetched).replace(&fetch, &square);
    for arguments in [&seven, &eight] {
        let _: () = connection.set(arguments, &relabelled).expect("SET");
    }
    let data = DataDir::new();
    let probed = run(&data, &redis.url(), &["mode", "square", "cache", "square", "7", "ran"]);
    assert_eq!((probed.value("square(7)"), probed.value("ran")), ("49".into(), "1".into()));
    assert!(probed.warnings().join("\n").contains("does not fit the return type"), "{}", probed.stderr);
}

#[test]
fn a_wrong_password_gives_one_clear_warning_that_never_shows_it() {
    let redis = RedisServer::with_password("right-one");
    let data = DataDir::new();
    let url = redis.url().replace("right-one", "hunter2-wrong");
    let probed = run(&data, &url, &["mode", "square", "cache", "square", "3", "square", "4", "flush", "ran"]);
    assert_eq!(probed.value("ran"), "2", "the calls ran");
    let warnings = probed.warnings();
    assert_eq!(warnings.len(), 1, "{warnings:#?}");
    assert!(warnings[0].contains("refused the credentials"), "{}", warnings[0]);
    assert!(warnings[0].contains("redis://:***@127.0.0.1"), "names the URL: {}", warnings[0]);
    assert!(!probed.stderr.contains("hunter2") && !probed.stdout.contains("hunter2"), "{}", probed.stderr);
}

#[test]
fn a_ttl_becomes_the_expiry_in_redis() {
    let redis = RedisServer::start();
    let first = DataDir::new();
    // `stale` has a ttl of 1.5 s.
    run(&first, &redis.url(), &["stale", "1"]);
    let stale = first.id("stale");
    let mut connection = redis.connection();
    let id: String = connection.srandmember(key(&stale, "ids")).expect("SRANDMEMBER");
    let ttl: i64 = connection.pttl(key(&stale, &format!("o:{id}"))).expect("PTTL");
    assert!(0 < ttl && ttl <= 1500, "expires in {ttl} ms");
    std::thread::sleep(Duration::from_millis(1600));
    let second = DataDir::new();
    let probed = run(&second, &redis.url(), &["mode", "stale", "cache", "stale", "1", "ran"]);
    assert_eq!(probed.value("ran"), "1", "expired in Redis: it ran");
}
