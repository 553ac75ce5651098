//! `cacheow`: the command line of cacheow.
//!
//! ```sh
//! cargo install --path cacheow --features cli
//! cacheow list
//! cacheow mode fetch_user mock
//! cacheow serve --data-dir .cacheow
//! cacheow fixtures --unused
//! CACHEOW_REDIS_URL=redis://cache:6379/0 cacheow pull
//! ```

/// `println!` for the commands' output. Output is a report: a reader that
/// went away (`cacheow show f | head -1`) does not stop the work, nor panic.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::say(::std::format_args!($($arg)*))
    };
}

mod data;
mod delete;
mod fixtures;
mod serve;
mod shared;

use std::io::Write as _;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cacheow", version, about = "Manage what cacheow records: data dirs and test fixtures")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the functions of a data dir: mode, counts, stale marker.
    List(data::Common),
    /// Show a function: its outcomes, stats, mock weights and corrupt files.
    Show(data::Show),
    /// Set the mode of a function.
    Mode(data::SetMode),
    /// Rebuild the outcome index of a function, or of every function, from
    /// the outcome files alone.
    RebuildIndex(data::Rebuild),
    /// Delete what the data dir holds of functions that no longer exist.
    Prune(data::Prune),
    /// Delete every outcome of a function, or of the functions with a tag.
    Clear(delete::Clear),
    /// Delete one outcome of a function.
    Delete(delete::Delete),
    /// Delete a function's outcomes for some arguments, given as JSON.
    Invalidate(delete::Invalidate),
    /// Delete the outcomes past their function's ttl.
    CleanupExpired(delete::CleanupExpired),
    /// Write a function's outcomes into a fixture folder of cacheow-test.
    Export(data::Export),
    /// Copy the outcomes of a fixture folder into the data dir.
    Import(data::Import),
    /// Upload a data dir's outcomes to the shared tier (CACHEOW_REDIS_URL).
    Push(shared::Push),
    /// Download what the shared tier holds into the data dir: to seed a CI
    /// runner or a new laptop.
    Pull(shared::Pull),
    /// The shared tier: its status, and deletions for every machine.
    Shared(shared::Shared),
    /// Serve the control panel over a data dir.
    Serve(serve::Args),
    /// Work on the fixtures cacheow-test records.
    Fixtures(fixtures::Args),
}

fn say(line: std::fmt::Arguments<'_>) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::List(common) => data::list(common),
        Command::Show(args) => data::show(args),
        Command::Mode(args) => data::set_mode(args),
        Command::RebuildIndex(args) => data::rebuild(args),
        Command::Prune(args) => data::prune(args),
        Command::Clear(args) => delete::clear(args),
        Command::Delete(args) => delete::delete(args),
        Command::Invalidate(args) => delete::invalidate(args),
        Command::CleanupExpired(args) => delete::cleanup_expired(args),
        Command::Export(args) => data::export(args),
        Command::Import(args) => data::import(args),
        Command::Push(args) => shared::push(args),
        Command::Pull(args) => shared::pull(args),
        Command::Shared(args) => shared::run(args),
        Command::Serve(args) => serve::run(args),
        Command::Fixtures(args) => fixtures::run(args),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            #[allow(clippy::print_stderr)] // a command line reports to its user
            {
                eprintln!("error: {error}");
            }
            ExitCode::from(2)
        }
    }
}
