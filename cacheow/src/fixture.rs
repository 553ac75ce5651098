//! Outcome files as test fixtures hold them: the data dir's format, without
//! what changes from one recording to the next (times, durations), with the
//! order of the calls that gave each outcome. For cacheow-test.

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::time::Duration;

use crate::files::{self, Style};
use crate::ids;
use crate::outcome::{Flags, Outcome};
use crate::scope::Recorded;

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
}

impl FixtureOutcome {
    /// The id of the outcome, from its content: its file name.
    pub fn id(&self) -> String {
        ids::id_hex(self.numeric_id())
    }

    fn numeric_id(&self) -> u64 {
        self.flags().outcome_id(self.outcome.kind, &self.args, &self.outcome.payload)
    }

    fn flags(&self) -> Flags {
        Flags { partial: self.outcome.partial, ..Flags::default() }
    }

    /// The text of its file, `<id>.json`: the content's [`id`](Self::id),
    /// or the name of a file written by hand.
    pub fn render(&self, id: &str) -> Result<String, String> {
        let id = ids::parse_id(id).ok_or_else(|| format!("`{id}` is not an outcome id"))?;
        let outcome = Outcome {
            id,
            kind: self.outcome.kind,
            arg_key: ids::arg_key(&self.args),
            args: self.args.as_str().into(),
            payload: self.outcome.payload.clone(),
            error_type: self.outcome.error_type.as_deref().map(Into::into),
            flags: self.flags(),
            recorded_at_ms: 0,
            duration: Duration::ZERO,
            count: AtomicU64::new(1),
            last_seen_ms: AtomicI64::new(0),
        };
        files::render(&self.function, &self.function_id, &outcome, Style::Fixture { calls: &self.calls })
    }

    /// Reads the file of the outcome `id`; the error names what is wrong.
    ///
    /// `function` is what the file says when it says nothing: a file written
    /// by hand may leave `function` and `calls` out.
    pub fn parse(function: &str, function_id: &str, id: &str, text: &str) -> Result<FixtureOutcome, String> {
        let id = ids::parse_id(id).ok_or_else(|| format!("`{id}` is not an outcome id"))?;
        let (outcome, calls) = files::parse_file(id, text)?;
        let named = serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|file| file["function"].as_str().map(str::to_owned));
        Ok(FixtureOutcome {
            function: named.unwrap_or_else(|| function.to_owned()),
            function_id: function_id.to_owned(),
            args: outcome.args.to_string(),
            outcome: Recorded {
                kind: outcome.kind,
                payload: outcome.payload,
                error_type: outcome.error_type.map(|label| label.to_string()),
                partial: outcome.flags.partial,
            },
            calls,
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

/// The canonical JSON text of a value: sorted keys, serde_json's scalars.
pub fn canonical_json(value: &serde_json::Value) -> String {
    crate::canonical::to_canonical(value).map(|canonical| canonical.text).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OutcomeKind;
    use crate::outcome::Payload;

    #[test]
    fn fixture_files_round_trip_byte_for_byte() {
        let fixture = FixtureOutcome {
            function: "suite::fetch".to_owned(),
            function_id: "0123456789abcdef".to_owned(),
            args: r#"{"id":7}"#.to_owned(),
            outcome: Recorded {
                kind: OutcomeKind::Return,
                payload: Payload::Json(r#"{"name":"Ann"}"#.into()),
                error_type: None,
                partial: false,
            },
            calls: vec![0, 1],
        };
        let text = fixture.render(&fixture.id()).unwrap_or_default();
        let read = FixtureOutcome::parse("suite::fetch", "0123456789abcdef", &fixture.id(), &text);
        assert_eq!(read.as_ref(), Ok(&fixture));
        assert_eq!(read.and_then(|read| read.render(&fixture.id())), Ok(text));
        assert_eq!(function_dir_name("suite::<A as B>::fetch", "0123456789abcdef"), "fetch-0123456789abcdef");
        assert_eq!(function_id_of_dir("fetch-0123456789abcdef"), Some("0123456789abcdef"));
        assert_eq!(function_id_of_dir("fetch-01234"), None);
    }
}
