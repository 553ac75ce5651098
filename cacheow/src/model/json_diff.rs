//! How two JSON values differ, field by field: for the message of a test's
//! miss (most misses are one changed field) and for `cacheow fixtures
//! review`.

use serde_json::Value;

/// How many differences a message lists before it says how many more.
const SHOWN: usize = 8;

/// One field whose value differs: `None` where a side lacks it.
#[derive(Debug, Clone, PartialEq)]
pub struct Difference {
    /// `quantity`, `address.city`, `items[2]`; empty for the whole value.
    pub path: String,
    /// Its value in the first of the two, as recorded.
    pub recorded: Option<Value>,
    /// Its value in the second: as called, or as recorded now.
    pub called: Option<Value>,
}

/// Where `called` differs from `recorded`, leaf by leaf, in key order.
/// Arrays of the same length are compared item by item.
///
/// ```
/// use cacheow::admin::json_diff::differences;
/// let found = differences(&serde_json::json!({"n": 1, "m": 2}), &serde_json::json!({"n": 1, "m": 3}));
/// assert_eq!(found[0].path, "m");
/// ```
pub fn differences(recorded: &Value, called: &Value) -> Vec<Difference> {
    let mut found = Vec::new();
    compare(String::new(), Some(recorded), Some(called), &mut found);
    found
}

fn compare(path: String, recorded: Option<&Value>, called: Option<&Value>, found: &mut Vec<Difference>) {
    match (recorded, called) {
        (Some(Value::Object(recorded)), Some(Value::Object(called))) => {
            let mut keys: Vec<&String> = recorded.keys().chain(called.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let path = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
                compare(path, recorded.get(key), called.get(key), found);
            }
        }
        (Some(Value::Array(recorded)), Some(Value::Array(called))) if recorded.len() == called.len() => {
            for (index, (recorded, called)) in recorded.iter().zip(called).enumerate() {
                compare(format!("{path}[{index}]"), Some(recorded), Some(called), found);
            }
        }
        (recorded, called) if recorded != called => {
            found.push(Difference { path, recorded: recorded.cloned(), called: called.cloned() });
        }
        _ => {}
    }
}

/// The differences, a line each, indented: at most [`SHOWN`] of them.
/// `sides` names the two: `("recorded", "called with")`.
pub fn render(differences: &[Difference], sides: (&str, &str)) -> String {
    let mut lines: Vec<String> = differences.iter().take(SHOWN).map(|difference| line(difference, sides)).collect();
    if differences.len() > SHOWN {
        lines.push(format!("    … and {} more", differences.len() - SHOWN));
    }
    lines.join("\n")
}

fn line(difference: &Difference, (first, second): (&str, &str)) -> String {
    let path = if difference.path.is_empty() { "the whole value" } else { difference.path.as_str() };
    let side = |value: &Option<Value>, with: &str| match value {
        Some(value) => format!("{with} {value}"),
        None => format!("{} without it", with.split(' ').next().unwrap_or(with)),
    };
    format!("    {path}: {}, {}", side(&difference.recorded, first), side(&difference.called, second))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn paths(recorded: Value, called: Value) -> Vec<String> {
        differences(&recorded, &called).into_iter().map(|difference| difference.path).collect()
    }

    #[test]
    fn names_each_field_that_differs_however_deep() {
        assert_eq!(paths(json!({"a": 1, "b": 2}), json!({"a": 1, "b": 3})), ["b"]);
        assert_eq!(
            paths(json!({"at": {"city": "Paris", "zip": 1}}), json!({"at": {"city": "Lyon", "zip": 1}})),
            ["at.city"]
        );
        assert_eq!(paths(json!({"items": [1, 2, 3]}), json!({"items": [1, 5, 3]})), ["items[1]"]);
        assert_eq!(paths(json!({"items": [1, 2]}), json!({"items": [1, 2, 3]})), ["items"]);
        assert_eq!(paths(json!({"a": 1}), json!({"b": 1})), ["a", "b"]);
        assert!(paths(json!({"a": [1, {"b": null}]}), json!({"a": [1, {"b": null}]})).is_empty());
    }

    #[test]
    fn renders_both_sides_and_caps_the_list() {
        let found = differences(&json!({"quantity": 2, "gone": true}), &json!({"quantity": 3}));
        assert_eq!(
            render(&found, ("recorded", "called with")),
            "    gone: recorded true, called without it\n    quantity: recorded 2, called with 3"
        );
        let many = differences(&json!((0..10).collect::<Vec<_>>()), &json!((10..20).collect::<Vec<_>>()));
        let rendered = render(&many, ("recorded", "called with"));
        assert_eq!(rendered.lines().count(), SHOWN + 1);
        assert!(rendered.ends_with("… and 2 more"), "{rendered}");
    }
}
