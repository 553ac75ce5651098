//! A child process: the probe program of these tests, whose path differs
//! from one machine to the next and so is not part of the key.

use std::path::Path;
use std::process::Command;

use cacheow::cacheow;
use cacheow_test::cacheow_test;

#[cacheow]
fn run_program(#[cacheow(skip)] program: &Path, args: Vec<String>) -> Result<String, String> {
    let output =
        Command::new(program).args(&args).env_remove("CACHEOW_ENABLE").output().map_err(|error| error.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).into_owned())
    } else {
        Err(format!("{}: {}", output.status, String::from_utf8_lossy(&output.stderr)))
    }
}

#[cacheow_test]
fn runs_a_child_process() {
    let program = Path::new(env!("CARGO_BIN_EXE_cacheow-probe"));
    let args = ["square", "12", "square", "13"].map(str::to_owned).to_vec();
    assert_eq!(run_program(program, args), Ok("square(12) = 144\nsquare(13) = 169\n".to_owned()));
}
