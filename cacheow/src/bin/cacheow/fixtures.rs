//! `cacheow fixtures --unused`: the fixtures no test uses.
//!
//! It runs the test suite in record mode `none` (nothing is called or
//! recorded), with `CACHEOW_FIXTURES_USED` naming a file where every test
//! notes the fixtures it uses, then lists the fixture files and test
//! directories nobody noted: those of renamed or deleted tests, and
//! outcomes tests no longer ask for.
#![allow(clippy::print_stderr)] // a command line reports to its user

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use cacheow::admin::fixture_function_id;

/// `cacheow fixtures`.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// List the fixtures no test uses (after running the tests to see).
    #[arg(long, required = true)]
    unused: bool,
    /// The fixtures directory.
    #[arg(long, default_value = "fixtures")]
    dir: PathBuf,
    /// Delete what no test uses.
    #[arg(long)]
    delete: bool,
    /// Exit with status 1 when some fixtures are unused, for CI.
    #[arg(long)]
    check: bool,
    /// The command that runs the tests, after `--` [default: cargo test --workspace].
    #[arg(last = true)]
    command: Vec<String>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    if !args.dir.is_dir() {
        return Err(format!("{} is not a directory: give the fixtures directory with --dir", args.dir.display()));
    }
    let dir = args.dir.canonicalize().map_err(|error| format!("{}: {error}", args.dir.display()))?;
    let used = used_by_tests(&args.command)?;
    // Without a full run, everything would look unused: never act on that.
    if !used.complete {
        return Err("the tests did not all run, so which fixtures they use is not known: fix the test command \
                    (or the tests), then try again"
            .to_owned());
    }
    let unused = unused(&dir, &used.paths);
    if unused.is_empty() {
        say!("every fixture in {} is used", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    say!("{} fixtures in {} are used by no test:", unused.len(), dir.display());
    for path in &unused {
        say!("  {}", path.strip_prefix(&dir).unwrap_or(path).display());
    }
    if args.delete {
        for path in &unused {
            let removed = if path.is_dir() { std::fs::remove_dir_all(path) } else { std::fs::remove_file(path) };
            removed.map_err(|error| format!("cannot delete {}: {error}", path.display()))?;
        }
        say!("deleted them");
    }
    Ok(if args.check && !args.delete { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// What the tests noted: test directories and files.
struct Used {
    paths: BTreeSet<PathBuf>,
    /// Whether the tests ran to the end, noting something.
    complete: bool,
}

/// Runs the tests and returns what they noted.
fn used_by_tests(command: &[String]) -> Result<Used, String> {
    let default = ["cargo", "test", "--workspace"].map(str::to_owned);
    let command = if command.is_empty() { &default[..] } else { command };
    let (program, args) = command.split_first().ok_or("an empty test command")?;
    let log = std::env::temp_dir().join(format!("cacheow-fixtures-used-{}", std::process::id()));
    let _ = std::fs::remove_file(&log);
    eprintln!("running `{}` to see which fixtures the tests use", command.join(" "));
    let status = Command::new(program)
        .args(args)
        .env("CACHEOW_FIXTURES_USED", &log)
        .env("CACHEOW_RECORD", "none")
        .status()
        .map_err(|error| format!("cannot run `{program}`: {error}"))?;
    if !status.success() {
        eprintln!("the tests failed ({status})");
    }
    let noted = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let paths: BTreeSet<PathBuf> = noted
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(_, path)| Path::new(path).canonicalize().unwrap_or_else(|_| PathBuf::from(path)))
        .collect();
    Ok(Used { complete: status.success() && !paths.is_empty(), paths })
}

/// The test directories no test used, whole, and the outcome files no test
/// used in the directories of tests that ran.
fn unused(dir: &Path, used: &BTreeSet<PathBuf>) -> Vec<PathBuf> {
    let mut unused = Vec::new();
    for test_dir in test_dirs(dir) {
        if !used.contains(&test_dir) {
            unused.push(test_dir);
            continue;
        }
        for file in outcome_files(&test_dir) {
            if !used.contains(&file) {
                unused.push(file);
            }
        }
    }
    unused
}

/// Directories holding function directories (`<name>-<16 hex>`).
fn test_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let children: Vec<PathBuf> = subdirs(dir);
    if children.iter().any(|child| is_function_dir(child)) {
        found.push(dir.to_path_buf());
    }
    for child in children.iter().filter(|child| !is_function_dir(child)) {
        found.extend(test_dirs(child));
    }
    found
}

fn outcome_files(test_dir: &Path) -> Vec<PathBuf> {
    subdirs(test_dir)
        .iter()
        .filter(|dir| is_function_dir(dir))
        .flat_map(|dir| std::fs::read_dir(dir).into_iter().flatten().flatten().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "json"))
        .collect()
}

fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

fn is_function_dir(dir: &Path) -> bool {
    dir.file_name().and_then(|name| name.to_str()).and_then(fixture_function_id).is_some()
}
