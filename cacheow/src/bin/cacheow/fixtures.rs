//! `cacheow fixtures --unused`: the fixtures no test uses.
//!
//! It runs the test suite in record mode `none` (nothing is called or
//! recorded), with `CACHEOW_FIXTURES_USED` naming a file where every test
//! notes the fixtures it uses. In the folders of tests that ran, it lists
//! the outcome files nobody noted: outcomes tests no longer ask for. The
//! folders of tests that did not run are listed apart, and never deleted.
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
    /// Delete the outcome files no test that ran uses. The folders of tests
    /// that did not run are always kept.
    #[arg(long)]
    delete: bool,
    /// Exit with status 1 when tests that ran leave fixtures unused, for CI.
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
    let command = test_command(&args.command);
    let used = used_by_tests(&command)?;
    let found = Findings::of(&dir, &used);
    report_not_run(&dir, &found.not_run, &command);
    if found.unused.is_empty() {
        say!("every fixture of the tests that ran is used ({})", dir.display());
        return Ok(ExitCode::SUCCESS);
    }
    let files = count(found.unused.len(), "outcome file", "outcome files");
    let are = if found.unused.len() == 1 { "is" } else { "are" };
    say!("{files} in {} {are} used by no test that ran:", dir.display());
    for path in &found.unused {
        say!("  {}", path.strip_prefix(&dir).unwrap_or(path).display());
    }
    if args.delete {
        delete(&found.unused)?;
        say!("deleted them");
    }
    Ok(if args.check && !args.delete { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The command that runs the tests.
fn test_command(given: &[String]) -> Vec<String> {
    if given.is_empty() { ["cargo", "test", "--workspace"].map(str::to_owned).to_vec() } else { given.to_vec() }
}

/// What the tests noted: test directories and files.
struct Used {
    paths: BTreeSet<PathBuf>,
}

/// Runs the tests and returns what they noted. Only a run where every test
/// passed counts: a failed test may not have reached every fixture it uses.
fn used_by_tests(command: &[String]) -> Result<Used, String> {
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
    let noted = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    if !status.success() {
        return Err(format!(
            "a test failed (`{}` exited with {status}), and a failed test may not have used every fixture it needs: \
             nothing was listed nor deleted. Fix the test (its output is above), then try again",
            command.join(" ")
        ));
    }
    let paths: BTreeSet<PathBuf> = noted
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .map(|(_, path)| Path::new(path).canonicalize().unwrap_or_else(|_| PathBuf::from(path)))
        .collect();
    if paths.is_empty() {
        return Err(format!(
            "`{}` passed, but no #[cacheow_test] test of it ran, so which fixtures are used is not known: give the \
             command that runs them after `--`",
            command.join(" ")
        ));
    }
    Ok(Used { paths })
}

/// What a run of the tests tells about the fixtures.
struct Findings {
    /// Outcome files no test used, in the folders of tests that ran.
    unused: Vec<PathBuf>,
    /// Test folders no test of the run touched: never deleted, since the
    /// run cannot tell an `#[ignore]`d test or one behind a feature from a
    /// deleted one.
    not_run: Vec<PathBuf>,
}

impl Findings {
    fn of(dir: &Path, used: &Used) -> Self {
        let (ran, not_run): (Vec<PathBuf>, Vec<PathBuf>) =
            test_dirs(dir).into_iter().partition(|test_dir| used.paths.contains(test_dir));
        let unused = ran.iter().flat_map(|test_dir| outcome_files(test_dir)).filter(|file| !used.paths.contains(file));
        Self { unused: unused.collect(), not_run }
    }
}

fn report_not_run(dir: &Path, not_run: &[PathBuf], command: &[String]) {
    if not_run.is_empty() {
        return;
    }
    say!(
        "In {}, {} not run by `{}` ({}), so they are kept: #[ignore]d tests, tests behind features it did not \
         enable, or tests that were renamed or deleted. Run those tests too (`-- --include-ignored`, `--features`) \
         to check them, or delete the folders of deleted tests by hand:",
        dir.display(),
        count(not_run.len(), "test folder was", "test folders were"),
        command.join(" "),
        features_of(command),
    );
    for path in not_run {
        say!("  {} (not run)", path.strip_prefix(dir).unwrap_or(path).display());
    }
}

/// `1 file`, `2 files`.
fn count(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The cargo features a test command enables, as words.
fn features_of(command: &[String]) -> String {
    let program = command.first().map(Path::new).and_then(Path::file_stem);
    if program.is_none_or(|program| program != "cargo") {
        return "the features its binaries were built with".to_owned();
    }
    let mut features = Vec::new();
    let mut args = command.iter().take_while(|arg| *arg != "--");
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--all-features" => return "all features".to_owned(),
            "--no-default-features" => features.push("no default features".to_owned()),
            "--features" | "-F" => features.extend(args.next().map(|list| format!("features {list}"))),
            _ => {
                let list = arg.strip_prefix("--features=").or_else(|| arg.strip_prefix("-F"));
                features.extend(list.map(|list| format!("features {list}")));
            }
        }
    }
    if features.is_empty() { "default features".to_owned() } else { features.join(", ") }
}

/// Deletes unused outcome files, then the function folders they emptied.
fn delete(files: &[PathBuf]) -> Result<(), String> {
    for file in files {
        std::fs::remove_file(file).map_err(|error| format!("cannot delete {}: {error}", file.display()))?;
        if let Some(folder) = file.parent() {
            // Fails, as it should, while the folder holds anything.
            let _ = std::fs::remove_dir(folder);
        }
    }
    Ok(())
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

#[cfg(test)]
mod tests {
    use super::features_of;

    fn words(command: &str) -> String {
        features_of(&command.split(' ').map(str::to_owned).collect::<Vec<_>>())
    }

    #[test]
    fn the_features_a_command_enables_are_named() {
        assert_eq!(words("cargo test --workspace"), "default features");
        assert_eq!(words("cargo test --features redis,cli -- --include-ignored"), "features redis,cli");
        assert_eq!(words("cargo test --no-default-features -Fcli"), "no default features, features cli");
        assert_eq!(words("cargo test --features=a --all-features"), "all features");
        assert_eq!(words("cargo test -- --features x"), "default features", "after -- the arguments are the tests'");
        assert_eq!(words("target/debug/deps/cli-0123 --features x"), "the features its binaries were built with");
    }
}
