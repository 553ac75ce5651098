//! The commands that read and change a data dir: `list`, `show`, `mode`,
//! `rebuild-index`, `prune`, `export` and `import`. Text for people by
//! default, `--json` for scripts.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use cacheow::admin::{DataDir, FunctionSummary};
use cacheow::{Mode, Settings};
use serde::Serialize;

/// Where the data is, and how to print.
#[derive(clap::Args)]
pub(crate) struct Common {
    /// The data dir [default: $CACHEOW_DATA_DIR, else .cacheow].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Print JSON, for scripts.
    #[arg(long)]
    json: bool,
}

impl Common {
    /// Whether to print JSON.
    pub(crate) fn json(&self) -> bool {
        self.json
    }
}

/// `cacheow show`.
#[derive(clap::Args)]
pub(crate) struct Show {
    /// The function: its id, its path, or the end of its path when only one
    /// function has it.
    function: String,
    /// How many of the newest outcomes to show.
    #[arg(long, default_value_t = 20)]
    limit: u64,
    #[command(flatten)]
    common: Common,
}

/// `cacheow mode`.
#[derive(clap::Args)]
pub(crate) struct SetMode {
    /// The function: its id, its path, or the end of its path.
    function: String,
    /// The mode.
    #[arg(value_enum)]
    mode: ModeArg,
    #[command(flatten)]
    common: Common,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ModeArg {
    Default,
    Cache,
    Mock,
}

/// `cacheow rebuild-index`.
#[derive(clap::Args)]
pub(crate) struct Rebuild {
    /// The function; every function when left out.
    function: Option<String>,
    #[command(flatten)]
    common: Common,
}

/// `cacheow prune`.
#[derive(clap::Args)]
pub(crate) struct Prune {
    /// Delete the registrations and outcomes of functions marked stale:
    /// those a program no longer has.
    #[arg(long, required = true)]
    stale: bool,
    #[command(flatten)]
    common: Common,
}

/// `cacheow export`.
#[derive(clap::Args)]
pub(crate) struct Export {
    /// The function: its id, its path, or the end of its path.
    function: String,
    /// The fixture folder to write into, as a test's folder of cacheow-test.
    dir: PathBuf,
    #[command(flatten)]
    common: Common,
}

/// `cacheow import`.
#[derive(clap::Args)]
pub(crate) struct Import {
    /// A fixture folder: every `<function>-<id>` folder below it is read.
    dir: PathBuf,
    #[command(flatten)]
    common: Common,
}

pub(crate) fn list(common: Common) -> Result<ExitCode, String> {
    let data = open(&common, false)?;
    let functions = data.functions().map_err(text)?;
    if common.json {
        return print_json(&functions);
    }
    if functions.is_empty() {
        say!("no function is registered in {}", data_dir(&common).display());
        return Ok(ExitCode::SUCCESS);
    }
    let width = functions.iter().map(|f| f.path.len()).max().unwrap_or(0).max(8);
    say!(
        "{:width$}  {:7}  {:8}  {:>7}  {:>7}  {:>7}  {:>7}  {:>8}  ID",
        "FUNCTION",
        "MODE",
        "KIND",
        "CALLS",
        "HITS",
        "MISSES",
        "MOCKS",
        "OUTCOMES"
    );
    for f in &functions {
        let stale = if f.stale { "  (stale)" } else { "" };
        say!(
            "{:width$}  {:7}  {:8}  {:>7}  {:>7}  {:>7}  {:>7}  {:>8}  {}{stale}",
            f.path,
            f.mode,
            f.kind,
            f.stats.total_calls,
            f.stats.cache_hits,
            f.stats.cache_misses,
            f.stats.mock_calls,
            f.outcomes,
            f.id
        );
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn show(args: Show) -> Result<ExitCode, String> {
    let data = open(&args.common, false)?;
    let function = resolve(&data, &args.function)?;
    let detail = data.detail(&function.id, args.limit).map_err(text)?;
    if args.common.json {
        return print_json(&detail);
    }
    let f = &detail.function;
    say!("{}  ({}){}", f.path, f.id, if f.stale { "  stale" } else { "" });
    say!("  {}", detail.signature);
    say!("  {} · {} · mode {} · latency {} ms", detail.source, f.kind, f.mode, f.latency_ms);
    let cap = f.max_outcomes.map_or_else(String::new, |max| format!(" (kept: at most {max})"));
    say!("  {} outcomes{cap}", f.outcomes);
    say!(
        "  calls {} · cache hits {} · misses {} · mocks {} · errors {}",
        f.stats.total_calls,
        f.stats.cache_hits,
        f.stats.cache_misses,
        f.stats.mock_calls,
        f.stats.errors
    );
    if !detail.recent_outcomes.is_empty() {
        say!("newest outcomes:");
        for outcome in &detail.recent_outcomes {
            let flags = [
                (outcome.manual, " manual"),
                (outcome.mock_only, " mock-only"),
                (outcome.partial, " partial"),
                (outcome.body_changed, " body-changed"),
            ];
            let flags: String = flags.iter().filter(|(on, _)| *on).map(|(_, name)| *name).collect();
            say!(
                "  {}  {:6}  {} -> {}  x{}  {}{flags}",
                outcome.id,
                outcome.kind,
                outcome.args,
                outcome.value,
                outcome.count,
                outcome.recorded_at
            );
        }
    }
    if !detail.mock_outcomes.is_empty() {
        say!("mock weights (only these replay in mock mode):");
        for entry in &detail.mock_outcomes {
            let any = if entry.ignore_args { "any arguments" } else { "its arguments" };
            let on = if entry.enabled { "" } else { ", disabled" };
            say!("  {}  weight {}  {any}{on}", entry.outcome_id, entry.weight);
        }
    }
    if !detail.corrupt_files.is_empty() {
        say!("corrupt files (left out at the last rebuild):");
        for file in &detail.corrupt_files {
            say!("  {}: {}", file.path.display(), file.error);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn set_mode(args: SetMode) -> Result<ExitCode, String> {
    let data = open(&args.common, false)?;
    let function = resolve(&data, &args.function)?;
    let mode = match args.mode {
        ModeArg::Default => Mode::Default,
        ModeArg::Cache => Mode::Cache,
        ModeArg::Mock => Mode::Mock,
    };
    data.set_mode(&function.id, mode).map_err(text)?;
    if args.common.json {
        return print_json(&serde_json::json!({ "id": function.id, "path": function.path, "mode": mode.as_str() }));
    }
    say!("{} is now in {mode} mode; running programs switch within 100 ms", function.path);
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn rebuild(args: Rebuild) -> Result<ExitCode, String> {
    let data = open(&args.common, false)?;
    // An id of outcome files no program registered here is fine too.
    let id = match args.function.as_deref() {
        Some(query) if data.has_files_of(query) => Some(query.to_owned()),
        Some(query) => Some(resolve(&data, query)?.id),
        None => None,
    };
    let rebuilt = data.rebuild(id.as_deref()).map_err(text)?;
    if args.common.json {
        return print_json(&rebuilt);
    }
    if rebuilt.is_empty() {
        say!("{} holds no outcome files", data_dir(&args.common).display());
    }
    for function in &rebuilt {
        say!("{}: {} outcomes indexed", function.path, function.indexed);
        for file in &function.corrupt {
            say!("  left out {}: {}", file.path.display(), file.error);
        }
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn prune(args: Prune) -> Result<ExitCode, String> {
    debug_assert!(args.stale, "clap requires it");
    let data = open(&args.common, false)?;
    let pruned = data.prune_stale().map_err(text)?;
    if args.common.json {
        return print_json(&pruned);
    }
    match pruned.len() {
        0 => say!("no function is stale"),
        n => say!("pruned {n} stale function(s): {}", pruned.join(", ")),
    }
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn export(args: Export) -> Result<ExitCode, String> {
    let data = open(&args.common, false)?;
    let function = resolve(&data, &args.function)?;
    let written = data.export(&function.id, &args.dir).map_err(text)?;
    if args.common.json {
        return print_json(&written);
    }
    let folder = written.first().and_then(|path| path.parent()).map_or_else(|| args.dir.clone(), Path::to_path_buf);
    say!("exported {} outcome(s) of {} to {}", written.len(), function.path, folder.display());
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn import(args: Import) -> Result<ExitCode, String> {
    if !args.dir.is_dir() {
        return Err(format!("{} is not a directory: give a fixture folder", args.dir.display()));
    }
    let data = open(&args.common, true)?;
    let imported = data.import(&args.dir).map_err(text)?;
    let functions = data.functions().map_err(text)?;
    let path_of = |id: &str| functions.iter().find(|f| f.id == id).map_or_else(|| id.to_owned(), |f| f.path.clone());
    if args.common.json {
        let imported: Vec<_> = imported
            .iter()
            .map(|done| {
                serde_json::json!({ "id": done.function_id, "path": path_of(&done.function_id), "outcomes": done.outcomes })
            })
            .collect();
        return print_json(&imported);
    }
    for done in &imported {
        say!("imported {} outcome(s) of {}", done.outcomes, path_of(&done.function_id));
    }
    Ok(ExitCode::SUCCESS)
}

fn data_dir(common: &Common) -> PathBuf {
    common.data_dir.clone().unwrap_or_else(|| Settings::from_env().data_dir)
}

/// The data dir, which must hold cacheow's data unless `create`.
pub(crate) fn open(common: &Common, create: bool) -> Result<DataDir, String> {
    let dir = data_dir(common);
    if !create {
        check_holds_data(&dir)?;
    }
    DataDir::open(&dir).map_err(text)
}

/// A database, or outcome files (copied in, or left by a deleted database).
pub(crate) fn check_holds_data(dir: &Path) -> Result<(), String> {
    if dir.join("cacheow.db").is_file() || dir.join("functions").is_dir() {
        return Ok(());
    }
    Err(format!(
        "{} holds no cacheow data: run your program once with CACHEOW_ENABLE=1, or point --data-dir at the data \
         dir it records into",
        dir.display()
    ))
}

/// The one function `query` names: an id, a path, or the end of a path.
pub(crate) fn resolve(data: &DataDir, query: &str) -> Result<FunctionSummary, String> {
    let functions = data.functions().map_err(text)?;
    if let Some(exact) = functions.iter().find(|f| f.id == query || f.path == query) {
        return Ok(exact.clone());
    }
    let suffix = format!("::{query}");
    let matching: Vec<&FunctionSummary> =
        functions.iter().filter(|f| f.name == query || f.path.ends_with(&suffix)).collect();
    match matching.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(format!("no function is named `{query}`: `cacheow list` shows them, with their ids")),
        many => {
            let names: Vec<String> = many.iter().map(|f| format!("{} ({})", f.path, f.id)).collect();
            Err(format!(
                "`{query}` names {} functions: {}; give the id or the whole path",
                many.len(),
                names.join(", ")
            ))
        }
    }
}

pub(crate) fn print_json(value: &impl Serialize) -> Result<ExitCode, String> {
    let text = serde_json::to_string_pretty(value).map_err(|error| error.to_string())?;
    say!("{text}");
    Ok(ExitCode::SUCCESS)
}

pub(crate) fn text(error: cacheow::Error) -> String {
    error.to_string()
}
