//! The payload of an `items` outcome, the items of an iterator or stream: a
//! JSON array with one object per item, `{"value": ..}` or `{"error": ..}`
//! (`value_ron` and `error_ron` for values JSON cannot hold).

use serde_json::{Map, Value};

use crate::model::canonical::canonical_json;
use crate::model::codec::CodecError;
use crate::model::outcome::{OutcomeKind, Payload, Recorded};

/// The payload of the items, in order.
pub(crate) fn encode(items: &[Recorded]) -> Payload {
    let records: Vec<Value> = items
        .iter()
        .map(|item| {
            let error = item.kind == OutcomeKind::Error;
            let (key, value) = match &item.payload {
                Payload::Json(text) => {
                    (if error { "error" } else { "value" }, serde_json::from_str(text).unwrap_or(Value::Null))
                }
                Payload::Ron(text) => (if error { "error_ron" } else { "value_ron" }, Value::String(text.to_string())),
            };
            Value::Object(Map::from_iter([(key.to_owned(), value)]))
        })
        .collect();
    Payload::Json(canonical_json(&Value::Array(records)).into())
}

/// The items of an `items` payload, each as an outcome of its own.
pub(crate) fn decode(payload: &Payload) -> Result<Vec<(OutcomeKind, Payload)>, CodecError> {
    let bad = |why: &str| CodecError(format!("the items of a sequence must be {why}"));
    let records: Vec<Map<String, Value>> =
        serde_json::from_str(payload.text()).map_err(|_| bad("a JSON array of objects"))?;
    records
        .into_iter()
        .map(|record| {
            let (key, value) = record.into_iter().next().ok_or_else(|| bad("objects with one field"))?;
            let ron =
                |value: Value| value.as_str().map(|text| Payload::Ron(text.into())).ok_or_else(|| bad("RON text"));
            match key.as_str() {
                "value" => Ok((OutcomeKind::Return, Payload::Json(canonical_json(&value).into()))),
                "error" => Ok((OutcomeKind::Error, Payload::Json(canonical_json(&value).into()))),
                "value_ron" => Ok((OutcomeKind::Return, ron(value)?)),
                "error_ron" => Ok((OutcomeKind::Error, ron(value)?)),
                _ => Err(bad("`value`, `error`, `value_ron` or `error_ron`")),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn items_round_trip_with_their_errors() {
        let items = [
            Recorded::new(OutcomeKind::Return, Payload::Json("1".into())),
            Recorded::new(OutcomeKind::Error, Payload::Json("\"boom\"".into())),
            Recorded::new(OutcomeKind::Return, Payload::Ron("NaN".into())),
        ];
        let payload = encode(&items);
        assert_eq!(payload.text(), r#"[{"value":1},{"error":"boom"},{"value_ron":"NaN"}]"#);
        let back: Vec<(OutcomeKind, Payload)> = items.iter().map(|item| (item.kind, item.payload.clone())).collect();
        assert_eq!(decode(&payload), Ok(back));
        assert!(decode(&Payload::Json("[{\"other\":1}]".into())).is_err());
    }
}
