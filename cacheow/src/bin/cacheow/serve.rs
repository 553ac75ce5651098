//! `cacheow serve`: the control panel over a data dir while no program runs.
//! Changes made there reach programs that run later, and running ones
//! within 100 ms: they read them from the data dir's database.

use std::path::PathBuf;
use std::process::ExitCode;

use cacheow::{Manager, Settings};

/// `cacheow serve`. Unset options come from the `CACHEOW_*` variables, as in
/// a program; `CACHEOW_TOKEN` is only read from the environment, to keep it
/// out of the process list.
#[derive(clap::Args)]
pub(crate) struct Args {
    /// The data dir [default: $CACHEOW_DATA_DIR, else .cacheow].
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// The port; 0 picks a free one [default: $CACHEOW_SERVER_PORT, else 8765].
    #[arg(long)]
    port: Option<u16>,
    /// The host; anything but loopback needs CACHEOW_TOKEN [default: $CACHEOW_SERVER_HOST, else 127.0.0.1].
    #[arg(long)]
    host: Option<String>,
}

pub(crate) fn run(args: Args) -> Result<ExitCode, String> {
    let mut settings = Settings::from_env();
    if let Some(dir) = args.data_dir {
        settings.data_dir = dir;
    }
    crate::data::check_holds_data(&settings.data_dir)?;
    settings.server_port = args.port.unwrap_or(settings.server_port);
    settings.server_host = args.host.unwrap_or(settings.server_host);
    let data_dir = settings.data_dir.clone();
    Manager::open(settings)
        .serve_panel(|url| say!("cacheow control panel for {}: {url}", data_dir.display()))
        .map_err(|error| error.to_string())?;
    Ok(ExitCode::SUCCESS)
}
