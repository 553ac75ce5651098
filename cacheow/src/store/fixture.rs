//! Outcome files as test fixtures hold them: the data dir's format, without
//! what changes from one recording to the next (times, durations), with the
//! order of the calls that gave each outcome; and the folders they live in.
//! For cacheow-test, and for `cacheow export` and `import`.

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
