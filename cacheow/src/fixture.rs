//! Outcome files as test fixtures hold them: the data dir's format, without
//! what changes from one recording to the next (times, durations), with the
//! order of the calls that gave each outcome. For cacheow-test.

use std::sync::atomic::{AtomicI64, AtomicU64};
use std::time::Duration;

use crate::files::{self, Style};
use crate::ids;
use crate::outcome::Outcome;
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
        let payload = &self.outcome.payload;
        ids::outcome_id(&[self.outcome.kind.as_str(), &self.args, payload.encoding(), payload.text()])
    }

    /// The text of its file.
    pub fn render(&self) -> Result<String, String> {
        let outcome = Outcome {
            id: self.numeric_id(),
            kind: self.outcome.kind,
            arg_key: ids::arg_key(&self.args),
            args: self.args.as_str().into(),
            payload: self.outcome.payload.clone(),
            error_type: self.outcome.error_type.as_deref().map(Into::into),
            recorded_at_ms: 0,
            duration: Duration::ZERO,
            count: AtomicU64::new(1),
            last_seen_ms: AtomicI64::new(0),
        };
        files::render(&self.function, &self.function_id, &outcome, Style::Fixture { calls: &self.calls })
    }

    /// Reads the file of the outcome `id`; the error names what is wrong.
    pub fn parse(function: &str, function_id: &str, id: &str, text: &str) -> Result<FixtureOutcome, String> {
        let id = ids::parse_id(id).ok_or_else(|| format!("`{id}` is not an outcome id"))?;
        let (outcome, calls) = files::parse_file(id, text)?;
        Ok(FixtureOutcome {
            function: function.to_owned(),
            function_id: function_id.to_owned(),
            args: outcome.args.to_string(),
            outcome: Recorded {
                kind: outcome.kind,
                payload: outcome.payload,
                error_type: outcome.error_type.map(|label| label.to_string()),
            },
            calls,
        })
    }
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
            },
            calls: vec![0, 1],
        };
        let text = fixture.render().unwrap_or_default();
        let read = FixtureOutcome::parse("suite::fetch", "0123456789abcdef", &fixture.id(), &text);
        assert_eq!(read.as_ref(), Ok(&fixture));
        assert_eq!(read.and_then(|read| read.render()), Ok(text));
    }
}
