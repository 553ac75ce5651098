//! `cacheow`: the command line of cacheow.
//!
//! ```sh
//! cargo install --path cacheow --features cli
//! cacheow serve --data-dir .cacheow
//! cacheow fixtures --unused
//! ```

mod fixtures;
mod serve;

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
    /// Serve the control panel over a data dir.
    Serve(serve::Args),
    /// Work on the fixtures cacheow-test records.
    Fixtures(fixtures::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
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
