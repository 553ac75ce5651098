//! Another process for the benchmark of mode changes: reads lines
//! `<function id> <mode>` on stdin, sets each mode in the data dir of
//! `CACHEOW_DATA_DIR`, and answers `set` once it is committed.
#![allow(clippy::print_stdout)]

use std::io::{BufRead, Write};

fn main() {
    let manager = cacheow::manager().expect("run with CACHEOW_ENABLE=1");
    let mut stdout = std::io::stdout();
    for line in std::io::stdin().lock().lines().map_while(Result::ok) {
        let Some((id, mode)) = line.split_once(' ') else { continue };
        let mode: cacheow::Mode = mode.parse().expect("a mode");
        manager.db().set_mode(id, mode).expect("the mode is set");
        let _ = writeln!(stdout, "set");
        let _ = stdout.flush();
    }
}
