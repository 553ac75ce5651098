//! Arbitrary JSON values, for the tests of generated bad input: scalars of
//! every kind (strings among them the words cacheow reads: modes, kinds),
//! and arrays and objects of them, three levels deep.

use proptest::prelude::*;
use serde_json::Value;

pub(crate) fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        prop_oneof![".{0,12}", Just("cache".to_owned()), Just("mock".to_owned()), Just("return".to_owned())]
            .prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|map| Value::Object(map.into_iter().collect())),
        ]
    })
}
