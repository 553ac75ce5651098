//! The commands of the shared tier, at `CACHEOW_REDIS_URL`: `push` and
//! `pull` move outcomes between a data dir and Redis; `shared status` says
//! what Redis holds; `shared invalidate|clear|clear-tag` delete there, for
//! every machine (a program's own deletions stay local).

use std::process::ExitCode;

use cacheow::admin::{DataDir, Moved};

use crate::data::{Common, open, print_json, resolve, text};
use crate::delete::deleted_of;

/// `cacheow push`.
#[derive(clap::Args)]
pub(crate) struct Push {
    /// The function; every shared function of the data dir when left out.
    function: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// `cacheow pull`.
#[derive(clap::Args)]
pub(crate) struct Pull {
    /// The function (its id, when the data dir does not know it yet);
    /// every function Redis holds when left out.
    function: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// `cacheow shared`.
#[derive(clap::Args)]
pub(crate) struct Shared {
    #[command(subcommand)]
    command: SharedCommand,
}

#[derive(clap::Subcommand)]
enum SharedCommand {
    /// The URL (without its password), whether Redis answers, and how many
    /// outcomes it holds per function.
    Status(Common),
    /// Delete a function's shared outcomes for some arguments, given as JSON.
    Invalidate {
        /// The function: its id, its path, or the end of its path.
        function: String,
        /// The arguments, as JSON, as its outcomes show them: '{"id": 3}'.
        args: String,
        #[command(flatten)]
        common: Common,
    },
    /// Delete every shared outcome of a function.
    Clear {
        /// The function: its id, its path, or the end of its path.
        function: String,
        #[command(flatten)]
        common: Common,
    },
    /// Delete every shared outcome of the functions with a tag.
    ClearTag {
        /// The tag, as `#[cacheow(tags(...))]` gives it.
        tag: String,
        #[command(flatten)]
        common: Common,
    },
}

pub(crate) fn push(args: Push) -> Result<ExitCode, String> {
    let data = open(&args.common, false)?;
    let function_id = args.function.as_deref().map(|query| function_id(&data, query)).transpose()?;
    let moved = data.push(function_id.as_deref()).map_err(text)?;
    report(&args.common, "pushed", &moved)
}

pub(crate) fn pull(args: Pull) -> Result<ExitCode, String> {
    let data = open(&args.common, true)?;
    let function_id = args.function.as_deref().map(|query| function_id(&data, query)).transpose()?;
    let moved = data.pull(function_id.as_deref()).map_err(text)?;
    report(&args.common, "pulled", &moved)
}

pub(crate) fn run(args: Shared) -> Result<ExitCode, String> {
    match args.command {
        SharedCommand::Status(common) => status(&common),
        SharedCommand::Invalidate { function, args, common } => {
            let json: serde_json::Value = serde_json::from_str(&args).map_err(|error| {
                format!("the arguments must be JSON, as the function's outcomes show them ('{{\"id\": 3}}'): {error}")
            })?;
            let data = open(&common, true)?;
            let deleted = data.shared_invalidate(&function_id(&data, &function)?, &json).map_err(text)?;
            deleted_of(&common, &format!("{function} for {args} in Redis"), deleted as u64)
        }
        SharedCommand::Clear { function, common } => {
            let data = open(&common, true)?;
            let deleted = data.shared_clear(&function_id(&data, &function)?).map_err(text)?;
            deleted_of(&common, &format!("{function} in Redis"), deleted as u64)
        }
        SharedCommand::ClearTag { tag, common } => {
            let data = open(&common, true)?;
            let deleted = data.shared_clear_tag(&tag).map_err(text)?;
            deleted_of(&common, &format!("the functions tagged {tag:?} in Redis"), deleted as u64)
        }
    }
}

fn status(common: &Common) -> Result<ExitCode, String> {
    let data = open(common, true)?;
    let status = data.shared_status().map_err(text)?;
    if common.json() {
        print_json(&status)?;
    } else {
        match &status.error {
            None => say!("{}: reachable", status.url),
            Some(error) => say!("{}: unreachable: {error}", status.url),
        }
        for function in &status.functions {
            say!("{:>8} outcome(s)  {}  {}", function.outcomes, function.id, function.name);
        }
    }
    Ok(if status.reachable { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The id of the function `query` names in the data dir, or `query` itself
/// when it is an id the data dir does not know yet.
fn function_id(data: &DataDir, query: &str) -> Result<String, String> {
    match resolve(data, query) {
        Ok(function) => Ok(function.id),
        Err(_) if query.len() == 16 && query.bytes().all(|b| b.is_ascii_hexdigit()) => Ok(query.to_owned()),
        Err(error) => Err(error),
    }
}

fn report(common: &Common, verb: &str, moved: &[Moved]) -> Result<ExitCode, String> {
    if common.json() {
        return print_json(&moved);
    }
    for function in moved {
        say!("{verb} {} outcome(s) of {}", function.outcomes, function.function_id);
        for problem in &function.problems {
            say!("  left out {problem}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
