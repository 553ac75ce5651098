//! The files of a fixture folder of cacheow-test besides what each outcome
//! file holds: which files are outcomes, the body hashes beside them
//! (drift), and the pending changes of a review run. For cacheow-test and
//! the `cacheow fixtures` commands.

use std::collections::BTreeMap;
use std::io;
use std::path::{Path, PathBuf};

use crate::model::ids;
use crate::store::files::write_atomic;
use crate::store::fixture::function_id_of_dir;

/// The file, in a function's fixture folder, that maps each outcome id to
/// the body hash of the function that recorded it. Not `*.json`: every
/// such file of the folder is an outcome.
pub const BODY_HASHES: &str = "body-hashes.txt";

const BODY_HASHES_HEADER: &str = "# cacheow: the body hash of the function that recorded each outcome (drift)\n";

/// The body hashes of a function folder's outcomes, by outcome id; none
/// when the folder has no [`BODY_HASHES`] file. Lines that do not read
/// are left out.
pub fn read_body_hashes(function_dir: &Path) -> BTreeMap<String, String> {
    read_hashes(&function_dir.join(BODY_HASHES))
}

/// The hashes of a [`BODY_HASHES`] or [`PENDING_BODY_HASHES`] file.
pub fn read_hashes(file: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(file).unwrap_or_default();
    text.lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| line.split_once(' '))
        .filter(|(id, hash)| ids::is_id(id) && ids::is_id(hash))
        .map(|(id, hash)| (id.to_owned(), hash.to_owned()))
        .collect()
}

/// The text of a [`BODY_HASHES`] file: a line per outcome, in id order.
pub fn render_body_hashes(hashes: &BTreeMap<String, String>) -> String {
    let mut text = BODY_HASHES_HEADER.to_owned();
    for (id, hash) in hashes {
        text.push_str(&format!("{id} {hash}\n"));
    }
    text
}

/// Appended to an outcome file's name (`<id>.json.pending`): what a review
/// run recorded for it, new or changed, until `cacheow fixtures review`
/// accepts or rejects it. Never replayed: it does not end in `.json`.
pub const PENDING: &str = ".pending";

/// Appended to an outcome file's name (`<id>.json.pending-removal`, empty):
/// a review run no longer gives that outcome.
pub const PENDING_REMOVAL: &str = ".pending-removal";

/// The body hashes of a function folder's pending outcomes, as in
/// [`BODY_HASHES`]: moved there as they are accepted.
pub const PENDING_BODY_HASHES: &str = "body-hashes.txt.pending";

/// Every function folder below `dir` (`<name>-<16 hex>`), in path order.
pub fn function_dirs(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for child in subdirs(dir) {
        let name = child.file_name().map(|name| name.to_string_lossy().into_owned()).unwrap_or_default();
        if function_id_of_dir(&name).is_some() {
            found.push(child);
        } else {
            found.extend(function_dirs(&child));
        }
    }
    found
}

/// The folders in `dir`, in path order.
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    sorted_entries(dir, |path| path.is_dir())
}

/// The outcome files of a function folder (`*.json`), in path order.
pub fn outcome_files(function_dir: &Path) -> Vec<PathBuf> {
    sorted_entries(function_dir, |path| path.extension().is_some_and(|ext| ext == "json"))
}

/// The entries of `dir` that `keep` keeps, in path order; none if it does
/// not read.
pub fn sorted_entries(dir: &Path, keep: impl Fn(&Path) -> bool) -> Vec<PathBuf> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| keep(path))
        .collect();
    paths.sort();
    paths
}

/// Writes a body hashes file if its bytes change, or removes it when it
/// holds none.
pub fn write_hashes(path: &Path, hashes: &BTreeMap<String, String>) -> io::Result<()> {
    if hashes.is_empty() {
        return remove_if_any(path);
    }
    let text = render_body_hashes(hashes);
    if std::fs::read(path).ok().as_deref() == Some(text.as_bytes()) {
        return Ok(());
    }
    write_atomic(path, text.as_bytes())
}

/// `path` with `suffix` appended to its name: `<id>.json.pending`.
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// The outcome file a pending file or mark is for, `<id>.json`; `None`
/// for any other file.
pub fn pending_for(path: &Path) -> Option<(PathBuf, bool)> {
    let name = path.file_name()?.to_str()?;
    let (outcome, added) = match name.strip_suffix(PENDING) {
        Some(outcome) => (outcome, true),
        None => (name.strip_suffix(PENDING_REMOVAL)?, false),
    };
    outcome.ends_with(".json").then(|| (path.with_file_name(outcome), added))
}

/// Deletes a file, if there is one.
pub fn remove_if_any(path: &Path) -> io::Result<()> {
    match std::fs::remove_file(path) {
        Err(error) if error.kind() != io::ErrorKind::NotFound => Err(error),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_hashes_round_trip_and_lines_that_do_not_read_are_left_out() -> std::io::Result<()> {
        let dir = std::env::temp_dir().join(format!("cacheow-body-hashes-{}", std::process::id()));
        std::fs::create_dir_all(&dir)?;
        let hashes: BTreeMap<String, String> =
            [("00000000000000aa", "0123456789abcdef"), ("00000000000000bb", "fedcba9876543210")]
                .map(|(id, hash)| (id.to_owned(), hash.to_owned()))
                .into();
        std::fs::write(dir.join(BODY_HASHES), render_body_hashes(&hashes) + "garbage\n00000000000000cc nothex\n")?;
        let read = read_body_hashes(&dir);
        std::fs::remove_dir_all(&dir)?;
        assert_eq!(read, hashes);
        assert!(!BODY_HASHES.ends_with(".json"));
        Ok(())
    }

    #[test]
    fn pending_files_name_the_outcome_they_are_for() {
        let outcome = Path::new("f-0123456789abcdef/00000000000000aa.json");
        assert_eq!(pending_for(&with_suffix(outcome, PENDING)), Some((outcome.to_path_buf(), true)));
        assert_eq!(pending_for(&with_suffix(outcome, PENDING_REMOVAL)), Some((outcome.to_path_buf(), false)));
        assert_eq!(pending_for(Path::new(PENDING_BODY_HASHES)), None);
        assert_eq!(pending_for(outcome), None);
    }
}
