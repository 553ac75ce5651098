//! The outcome files are the truth: what people do to them by hand, as
//! editors and `cp` do, is seen at the next first use, although the index
//! loads from the database while the folder is as it was.

use std::path::{Path, PathBuf};

use crate::DataDir;

/// The outcome file of `square(n)`.
fn file_of(data: &DataDir, n: u64) -> PathBuf {
    let id = data.id("square");
    data.outcome_files(&id)
        .into_iter()
        .find(|path| std::fs::read_to_string(path).is_ok_and(|text| text.contains(&format!("\"n\": {n}\n"))))
        .unwrap_or_else(|| panic!("no outcome file of square({n})"))
}

/// Rewrites a file where it is: same inode, and its folder is unchanged.
fn edit_in_place(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("readable");
    assert!(text.contains(from), "{text}");
    let mut file = std::fs::OpenOptions::new().write(true).truncate(true).open(path).expect("writable");
    std::io::Write::write_all(&mut file, text.replace(from, to).as_bytes()).expect("written");
}

/// Replaces a file as an editor does: a new file renamed over the old one.
fn replace_by_rename(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).expect("readable");
    let saved = path.with_extension("json~");
    std::fs::write(&saved, text.replace(from, to)).expect("written");
    std::fs::rename(&saved, path).expect("renamed");
}

#[test]
fn files_added_deleted_replaced_or_edited_by_hand_replay_as_they_now_are() {
    let data = DataDir::new();
    assert_eq!(data.run(&["square", "3", "square", "4", "square", "5", "ran"]).value("ran"), "3");
    let replayed = data.run(&["mode", "square", "cache", "square", "3", "square", "4", "ran"]);
    assert_eq!((replayed.value("square(3)"), replayed.value("ran")), ("9".to_owned(), "0".to_owned()));

    // In place: the folder is as it was, so the index loads from the rows,
    // and the payload is read from the file at its first replay.
    edit_in_place(&file_of(&data, 3), "\"value\": 9", "\"value\": 10");
    let in_place = data.run(&["mode", "square", "cache", "square", "3", "ran"]);
    assert_eq!((in_place.value("square(3)"), in_place.value("ran")), ("10".to_owned(), "0".to_owned()));

    // Deleted, replaced by rename, and copied in.
    let four = file_of(&data, 4);
    std::fs::remove_file(&four).expect("deleted");
    replace_by_rename(&file_of(&data, 5), "\"value\": 25", "\"value\": 26");
    let copied = four.with_file_name("00000000000000a6.json");
    std::fs::write(&copied, "{\"kind\": \"return\", \"args\": {\"n\": 6}, \"value\": 7}\n").expect("copied in");
    let changed = data.run(&["mode", "square", "cache", "square", "4", "square", "5", "square", "6", "ran"]);
    assert_eq!(changed.value("square(4)"), "16");
    assert_eq!(changed.value("square(5)"), "26", "the replaced file");
    assert_eq!(changed.value("square(6)"), "7", "the copied file");
    assert_eq!(changed.value("ran"), "1", "only square(4), whose file was deleted, ran");
}

#[test]
fn arguments_edited_in_place_are_told_to_need_a_rebuild_and_the_edit_is_kept() {
    let data = DataDir::new();
    data.run(&["square", "3"]);
    let file = file_of(&data, 3);
    edit_in_place(&file, "\"n\": 3\n", "\"n\": 30\n");
    let probed = data.run(&["mode", "square", "cache", "square", "3", "ran", "flush"]);
    assert_eq!((probed.value("square(3)"), probed.value("ran")), ("9".to_owned(), "1".to_owned()));
    let warnings = probed.warnings().join("\n");
    assert!(warnings.contains("edited in place") && warnings.contains("cacheow rebuild-index"), "{}", probed.stderr);
    assert!(std::fs::read_to_string(&file).expect("readable").contains("\"n\": 30\n"), "the edit is kept");
}
