//! What the pages' forms send, read into the API's requests, and the
//! notices shown after a form's action.

use std::collections::BTreeMap;

use axum::extract::{Form, FromRequest, Request};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::ErrorPage;
use crate::model::error::Error;
use crate::model::mock::MockOutcome;
use crate::model::mode::Mode;
use crate::panel::Panel;
use crate::panel::access::FORM_TOKEN_FIELD;
use crate::panel::problem::{Loc, Problem};
use crate::panel::requests::{ManualRequest, OutcomeType};

/// A form's fields, in the order they were sent.
#[derive(Debug, Default)]
pub(super) struct Fields(Vec<(String, String)>);

/// The fields of a form this panel served: it carries the form token.
impl FromRequest<Panel> for Fields {
    type Rejection = ErrorPage;

    async fn from_request(request: Request, panel: &Panel) -> Result<Self, ErrorPage> {
        let Form(fields) = Form::<Vec<(String, String)>>::from_request(request, panel)
            .await
            .map_err(|rejection| Problem::new(rejection.status(), rejection.body_text()))?;
        let fields = Fields(fields);
        match fields.get(FORM_TOKEN_FIELD) {
            Some(token) if panel.access.is_form_token(token) => Ok(fields),
            _ => Err(ErrorPage(Problem::new(
                StatusCode::FORBIDDEN,
                "this form was not served by this panel (or by an earlier run of it): reload the page and send it again",
            ))),
        }
    }
}

impl Fields {
    pub(super) fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(key, _)| key == name).map(|(_, value)| value.as_str())
    }

    fn is_on(&self, name: &str) -> bool {
        is_on(self.get(name))
    }

    /// Where in a form a bad value is: `["form", field]`.
    pub(super) fn loc(field: &str) -> Loc {
        vec![json!("form"), json!(field)]
    }

    pub(super) fn mode(&self) -> Result<Mode, Problem> {
        let mode = self.get("mode").unwrap_or_default();
        mode.parse().map_err(|error: Error| invalid("mode", error.to_string()))
    }

    pub(super) fn latency_ms(&self) -> Result<f64, Problem> {
        let text = self.get("latency_ms").unwrap_or_default().trim();
        text.parse().map_err(|_| invalid("latency_ms", format!("`{text}` is not a number of milliseconds")))
    }

    /// The mock weights editor's rows: `entry-<n>-<field>`, one row per
    /// outcome; rows without an outcome or marked for removal are left out.
    pub(super) fn mock_outcomes(&self) -> Result<Vec<MockOutcome>, Problem> {
        let mut rows: BTreeMap<u32, BTreeMap<&str, &str>> = BTreeMap::new();
        for (key, value) in &self.0 {
            let Some((row, field)) = key.strip_prefix("entry-").and_then(|rest| rest.split_once('-')) else { continue };
            let Ok(row) = row.parse() else { continue };
            rows.entry(row).or_default().insert(field, value);
        }
        let mut entries = Vec::new();
        for row in rows.values() {
            let outcome_id = row.get("outcome_id").copied().unwrap_or_default().trim();
            if outcome_id.is_empty() || row.contains_key("remove") {
                continue;
            }
            let weight = row.get("weight").copied().unwrap_or("1").trim();
            let weight: f64 = weight.parse().map_err(|_| {
                invalid("weight", format!("the weight of outcome {outcome_id}, `{weight}`, is not a number"))
            })?;
            let on = |field: &str| is_on(row.get(field).copied());
            entries.push(
                MockOutcome::new(outcome_id).weight(weight).enabled(on("enabled")).ignore_args(on("ignore_args")),
            );
        }
        Ok(entries)
    }

    pub(super) fn manual_outcome(&self) -> Result<ManualRequest, Problem> {
        let outcome_type = match self.get("outcome_type") {
            Some("return") => OutcomeType::Return,
            Some("exception") => OutcomeType::Exception,
            _ => return Err(invalid("outcome_type", "choose `return` or `exception`")),
        };
        let text = |name: &str| self.get(name).map(str::trim).filter(|text| !text.is_empty());
        let json = |name: &str| -> Result<Value, Problem> {
            let Some(text) = text(name) else { return Ok(Value::Null) };
            serde_json::from_str(text).map_err(|error| {
                invalid(name, format!("{name} is not JSON ({error}): write text in quotes, \"like this\""))
            })
        };
        Ok(ManualRequest {
            outcome_type,
            value: json("value")?,
            exception_message: text("exception_message").map(str::to_owned),
            exception_type: text("exception_type").unwrap_or("ValueError").to_owned(),
            is_mock_only: self.is_on("mock_only"),
            args: json("args")?,
        })
    }

    /// The cap on stored outcomes; empty for none.
    pub(super) fn max_outcomes(&self) -> Result<Option<u64>, Problem> {
        let text = self.get("max_outcomes").unwrap_or_default().trim();
        if text.is_empty() {
            return Ok(None);
        }
        let max = text.parse().map_err(|_| invalid("max_outcomes", format!("`{text}` is not a whole number")))?;
        Ok(Some(max))
    }

    /// A destructive action needs its box ticked.
    pub(super) fn confirmed(&self) -> Result<(), Problem> {
        if self.is_on("confirm") { Ok(()) } else { Err(invalid("confirm", "tick the box to confirm")) }
    }
}

/// A ticked checkbox.
fn is_on(value: Option<&str>) -> bool {
    value.is_some_and(|value| !value.is_empty())
}

fn invalid(field: &str, message: impl Into<String>) -> Problem {
    Problem::invalid(Fields::loc(field), message)
}

/// What a form did, shown on the page it redirects to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) enum Notice {
    Mode,
    Latency,
    MockOutcomes,
    ManualOutcome,
    Retention,
    Deleted { deleted: u64 },
    OutcomeDeleted,
    Rebuilt { indexed: u64, corrupt: u64 },
}

impl Notice {
    /// The function's page, telling what was done.
    pub(super) fn location(self, function_id: &str) -> String {
        let query = match self {
            Notice::Mode => "notice=mode#mode".to_owned(),
            Notice::Latency => "notice=latency#latency".to_owned(),
            Notice::MockOutcomes => "notice=mock-outcomes#mock-outcomes".to_owned(),
            Notice::ManualOutcome => "notice=manual-outcome#outcomes".to_owned(),
            Notice::Retention => "notice=retention#maintenance".to_owned(),
            Notice::Deleted { deleted } => format!("notice=deleted&count={deleted}#outcomes"),
            Notice::OutcomeDeleted => "notice=outcome-deleted#outcomes".to_owned(),
            Notice::Rebuilt { indexed, corrupt } => {
                format!("notice=rebuilt&count={indexed}&corrupt={corrupt}#outcomes")
            }
        };
        format!("{}?{query}", super::format::function_path(function_id))
    }
}

/// The query of a page: its offset in the outcomes, and the notice of the
/// form that led there. Only known notices are shown: nothing in a URL is
/// echoed into the page.
#[derive(Debug, Default, Deserialize)]
pub(super) struct PageQuery {
    #[serde(default)]
    pub(super) offset: u64,
    notice: Option<String>,
    count: Option<u64>,
    corrupt: Option<u64>,
}

impl PageQuery {
    pub(super) fn notice(&self) -> Option<String> {
        let count = self.count.unwrap_or_default();
        let text = match self.notice.as_deref()? {
            "mode" => "Mode set. Running programs switch within 100 ms.".to_owned(),
            "latency" => "Latency set.".to_owned(),
            "mock-outcomes" => "Mock weights saved.".to_owned(),
            "manual-outcome" => "Manual outcome added.".to_owned(),
            "retention" => "Cap on stored outcomes set.".to_owned(),
            "deleted" => format!("Deleted {count} outcome(s)."),
            "outcome-deleted" => "Outcome deleted.".to_owned(),
            "saved" => "Outcome saved.".to_owned(),
            "rebuilt" => match self.corrupt.unwrap_or_default() {
                0 => format!("Index rebuilt from {count} outcome file(s)."),
                corrupt => format!(
                    "Index rebuilt from {count} outcome file(s); {corrupt} could not be read and are left out: \
                     the panel's log names each file and what is wrong with it."
                ),
            },
            _ => return None,
        };
        Some(text)
    }
}
