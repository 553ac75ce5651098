//! The commands that delete outcomes: `clear` (a function's, or a tag's),
//! `delete` (one outcome), `invalidate` (the outcomes of some arguments)
//! and `cleanup-expired` (those past their function's ttl). Each deletes
//! the files, the rows and the mock entries, and says what it deleted.

use std::process::ExitCode;

use crate::data::{Common, open, print_json, resolve, text};

/// `cacheow clear`.
#[derive(clap::Args)]
#[group(id = "what", required = true, multiple = false)]
pub(crate) struct Clear {
    /// The function: its id, its path, or the end of its path.
    #[arg(group = "what")]
    function: Option<String>,
    /// Every function tagged so (`#[cacheow(tags("users"))]`) instead.
    #[arg(long, group = "what")]
    tag: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// `cacheow delete`.
#[derive(clap::Args)]
pub(crate) struct Delete {
    /// The function: its id, its path, or the end of its path.
    function: String,
    /// The outcome's id, as `cacheow show` lists it.
    outcome_id: String,
    #[command(flatten)]
    common: Common,
}

/// `cacheow invalidate`.
#[derive(clap::Args)]
pub(crate) struct Invalidate {
    /// The function: its id, its path, or the end of its path.
    function: String,
    /// The arguments, as JSON, as its outcomes show them: '{"id": 3}'.
    args: String,
    #[command(flatten)]
    common: Common,
}

/// `cacheow cleanup-expired`.
#[derive(clap::Args)]
pub(crate) struct CleanupExpired {
    /// The function; every function with a ttl when left out.
    function: Option<String>,
    #[command(flatten)]
    common: Common,
}

pub(crate) fn clear(args: Clear) -> Result<ExitCode, String> {
    let data = open(&args.common, false)?;
    let (what, deleted) = match (&args.tag, &args.function) {
        (Some(tag), _) => (format!("the functions tagged {tag:?}"), data.clear_tag(tag).map_err(text)? as u64),
        (None, Some(query)) => {
            let function = resolve(&data, query)?;
            (function.path.clone(), data.clear(&function.id).map_err(text)?)
        }
        (None, None) => return Err("name a function, or give --tag".to_owned()),
    };
    deleted_of(&args.common, &what, deleted)
}

pub(crate) fn delete(args: Delete) -> Result<ExitCode, String> {
    let data = open(&args.common, false)?;
    let function = resolve(&data, &args.function)?;
    data.delete_outcome(&function.id, &args.outcome_id).map_err(text)?;
    deleted_of(&args.common, &format!("{} (outcome {})", function.path, args.outcome_id), 1)
}

pub(crate) fn invalidate(args: Invalidate) -> Result<ExitCode, String> {
    let json: serde_json::Value = serde_json::from_str(&args.args).map_err(|error| {
        format!("the arguments must be JSON, as the function's outcomes show them ('{{\"id\": 3}}'): {error}")
    })?;
    let data = open(&args.common, false)?;
    let function = resolve(&data, &args.function)?;
    let deleted = data.invalidate(&function.id, &json).map_err(text)?;
    deleted_of(&args.common, &format!("{} for {}", function.path, args.args), deleted as u64)
}

pub(crate) fn cleanup_expired(args: CleanupExpired) -> Result<ExitCode, String> {
    let data = open(&args.common, false)?;
    let function_id = match &args.function {
        Some(query) => Some(resolve(&data, query)?.id),
        None => None,
    };
    let cleaned = data.cleanup_expired(function_id.as_deref()).map_err(text)?;
    let deleted: usize = cleaned.iter().map(|(_, deleted)| deleted).sum();
    if args.common.json() {
        let by_function: serde_json::Map<String, serde_json::Value> =
            cleaned.into_iter().map(|(id, deleted)| (id, deleted.into())).collect();
        return print_json(&serde_json::json!({ "deleted": deleted, "by_function": by_function }));
    }
    say!("deleted {deleted} expired outcome(s)");
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn deleted_of(common: &Common, what: &str, deleted: u64) -> Result<ExitCode, String> {
    if common.json() {
        return print_json(&serde_json::json!({ "deleted": deleted }));
    }
    say!("deleted {deleted} outcome(s) of {what}");
    Ok(ExitCode::SUCCESS)
}
