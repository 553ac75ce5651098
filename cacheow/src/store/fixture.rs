//! Outcome files as test fixtures hold them: the data dir's format, without
//! what changes from one recording to the next (times, durations), with the
//! order of the calls that gave each outcome; and the folders they live in.
//! For cacheow-test, and for `cacheow export` and `import`.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use crate::model::ids;
use crate::model::outcome::{Flags, Outcome, Recorded};
use crate::store::files::{self, Style};

/// One outcome of a fixture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureOutcome {
    /// The function's path.
    pub function: String,
    /// The function's id.
    pub function_id: String,
    /// The arguments, as canonical JSON.
    pub args: String,
    /// What the call gave.
    pub outcome: Recorded,
    /// The calls with these arguments, in the test's order, that gave it.
    pub calls: Vec<u32>,
    /// Whether only calls made inside another decorated call gave it: a
    /// replay of that call does not make them again.
    pub nested: bool,
}

impl FixtureOutcome {
    /// The id of the outcome, from its content: its file name.
    pub fn id(&self) -> String {
        ids::id_hex(Outcome::id_of(&self.args, &self.outcome, Flags::default()))
    }

    /// The text of its file, `<id>.json`: the content's [`id`](Self::id),
    /// or the name of a file written by hand.
    pub fn render(&self, id: &str) -> Result<String, String> {
        let id = ids::parse_id(id).ok_or_else(|| format!("`{id}` is not an outcome id"))?;
        let outcome = Outcome::new(id, self.args.as_str(), self.outcome.clone(), Flags::default(), 0, Duration::ZERO);
        files::render(
            &self.function,
            &self.function_id,
            &outcome,
            Style::Fixture { calls: &self.calls, nested: self.nested },
        )
    }

    /// Reads the file of the outcome `id`; the error names what is wrong.
    ///
    /// `function` is what the file says when it says nothing: a file written
    /// by hand may leave `function` and `calls` out.
    pub fn parse(function: &str, function_id: &str, id: &str, text: &str) -> Result<FixtureOutcome, String> {
        let id = ids::parse_id(id).ok_or_else(|| format!("`{id}` is not an outcome id"))?;
        let parsed = files::parse(id, text)?;
        Ok(FixtureOutcome {
            function: parsed.function.unwrap_or_else(|| function.to_owned()),
            function_id: function_id.to_owned(),
            args: parsed.outcome.args.to_string(),
            outcome: parsed.outcome.recorded,
            calls: parsed.calls,
            nested: parsed.nested,
        })
    }
}

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

/// `fetch_user-0123456789abcdef`: the directory of a function's fixtures,
/// named by the function, for people, and its id, for cacheow.
pub fn function_dir_name(function: &str, function_id: &str) -> String {
    let name = function.rsplit("::").next().unwrap_or(function);
    let name: String = name.chars().map(|c| if c.is_alphanumeric() || c == '_' { c } else { '_' }).collect();
    format!("{name}-{function_id}")
}

/// The function id in the name of a function's fixture directory.
pub fn function_id_of_dir(name: &str) -> Option<&str> {
    name.rsplit_once('-').map(|(_, id)| id).filter(|id| ids::is_id(id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::outcome::{OutcomeKind, Payload};

    #[test]
    fn fixture_files_round_trip_byte_for_byte() {
        for nested in [false, true] {
            round_trips(nested);
        }
        assert_eq!(function_dir_name("suite::<A as B>::fetch", "0123456789abcdef"), "fetch-0123456789abcdef");
        assert_eq!(function_id_of_dir("fetch-0123456789abcdef"), Some("0123456789abcdef"));
        assert_eq!(function_id_of_dir("fetch-01234"), None);
    }

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

    fn round_trips(nested: bool) {
        let fixture = FixtureOutcome {
            function: "suite::fetch".to_owned(),
            function_id: "0123456789abcdef".to_owned(),
            args: r#"{"id":7}"#.to_owned(),
            outcome: Recorded::new(OutcomeKind::Return, Payload::Json(r#"{"name":"Ann"}"#.into())),
            calls: vec![0, 1],
            nested,
        };
        let text = fixture.render(&fixture.id()).unwrap_or_default();
        // A top-level outcome's file says nothing of nesting: as before.
        assert_eq!(text.contains("\"nested\": true"), nested, "{text}");
        let read = FixtureOutcome::parse("suite::fetch", "0123456789abcdef", &fixture.id(), &text);
        assert_eq!(read.as_ref(), Ok(&fixture));
        assert_eq!(read.and_then(|read| read.render(&fixture.id())), Ok(text));
    }
}
