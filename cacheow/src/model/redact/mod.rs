//! Secrets never reach the disk: named fields and secret values are
//! replaced, in arguments and in outcomes, in JSON and in RON, in map keys
//! and in values of any kind, before anything is written: the data dir's
//! outcomes (`#[cacheow(redact("api_key"))]`) and cacheow-test's fixtures.

mod ron;

use crate::model::canonical::canonical_json;
use crate::model::outcome::Payload;
use serde_json::Value;

/// What replaces a secret.
pub const REDACTED: &str = "[redacted]";

/// The fields and values to keep off the disk.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redaction {
    /// Object keys (argument names too) whose values are replaced.
    fields: Vec<String>,
    /// Strings replaced wherever they occur.
    values: Vec<String>,
}

impl Redaction {
    /// The fields named so: their values are replaced, at any depth.
    pub fn of_fields<'a>(fields: impl IntoIterator<Item = &'a str>) -> Redaction {
        Redaction { fields: fields.into_iter().map(str::to_owned).collect(), values: Vec::new() }
    }

    /// Replaces the values of object keys (argument names too) named `field`.
    pub fn add_field(&mut self, field: impl Into<String>) {
        self.fields.push(field.into());
    }

    /// Replaces `value` wherever it occurs in a string.
    pub fn add_value(&mut self, value: impl Into<String>) {
        let value = value.into();
        // An empty secret would replace every string.
        if !value.is_empty() && !self.values.contains(&value) {
            self.values.push(value);
        }
    }

    /// The names of the fields it replaces.
    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.fields.iter().map(String::as_str)
    }

    /// Whether it replaces nothing.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.values.is_empty()
    }

    /// The canonical JSON text `json`, redacted.
    pub fn json(&self, json: &str) -> String {
        if self.is_empty() {
            return json.to_owned();
        }
        match serde_json::from_str::<Value>(json) {
            Ok(mut value) => {
                self.redact(&mut value);
                canonical_json(&value)
            }
            Err(_) => self.text(json),
        }
    }

    /// A payload, redacted in its encoding.
    pub fn payload(&self, payload: &Payload) -> Payload {
        match payload {
            _ if self.is_empty() => payload.clone(),
            Payload::Json(json) => Payload::Json(self.json(json).into()),
            Payload::Ron(text) => Payload::Ron(ron::redact(text, &self.rules()).into()),
        }
    }

    fn rules(&self) -> ron::Rules<'_> {
        ron::Rules { fields: &self.fields, values: &self.values }
    }

    fn redact(&self, value: &mut Value) {
        match value {
            Value::Object(map) => {
                // Keys may hold a secret too (a map keyed by tokens).
                let entries = std::mem::take(map);
                for (key, mut field) in entries {
                    if self.fields.iter().any(|name| name.eq_ignore_ascii_case(&key)) {
                        field = Value::String(REDACTED.to_owned());
                    } else {
                        self.redact(&mut field);
                    }
                    map.insert(self.text(&key), field);
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|item| self.redact(item)),
            Value::String(text) => *text = self.text(text),
            // A number or a boolean that is a secret, as a PIN is.
            Value::Number(_) | Value::Bool(_) => {
                let text = value.to_string();
                if self.values.contains(&text) {
                    *value = Value::String(REDACTED.to_owned());
                }
            }
            Value::Null => {}
        }
    }

    fn text(&self, text: &str) -> String {
        self.values.iter().fold(text.to_owned(), |text, secret| text.replace(secret.as_str(), REDACTED))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_and_values_are_replaced_at_any_depth() {
        let mut redaction = Redaction::default();
        redaction.add_field("api_key");
        redaction.add_value("s3cr3t");
        redaction.add_value("");
        let args = r#"{"api_key":"k-1","query":{"auth":"Bearer s3cr3t","n":[1,"s3cr3t"]}}"#;
        assert_eq!(
            redaction.json(args),
            r#"{"api_key":"[redacted]","query":{"auth":"Bearer [redacted]","n":[1,"[redacted]"]}}"#
        );
        assert_eq!(
            redaction.payload(&Payload::Ron("(token: \"s3cr3t\")".into())),
            Payload::Ron("(token: \"[redacted]\")".into())
        );
        redaction.add_value("9876");
        assert_eq!(
            redaction.json(r#"{"s3cr3t":1,"pin":9876,"rows":[{"api_key":{"id":3}}]}"#),
            r#"{"[redacted]":1,"pin":"[redacted]","rows":[{"api_key":"[redacted]"}]}"#
        );
        assert_eq!(Redaction::default().json(args), args);
    }
}
