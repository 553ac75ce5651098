//! Values of every shape record and replay as they were.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering::SeqCst};

use cacheow::{Error, Function, Mode, cacheow, handle};

/// Calls `call` once for real, then once replayed from the cache, and
/// checks the replay equals the original without running the body.
fn replays_as_recorded<T: PartialEq + Debug>(f: &Function, ran: &AtomicU64, call: fn() -> T) -> Result<(), Error> {
    let recorded = call();
    f.set_mode(Mode::Cache)?;
    assert_eq!(call(), recorded, "{}", f.name());
    f.set_mode(Mode::Mock)?;
    assert_eq!(call(), recorded, "{}", f.name());
    assert_eq!(ran.load(SeqCst), 1, "{} ran once", f.name());
    Ok(())
}

macro_rules! value_function {
    ($name:ident, $counter:ident, $ty:ty, $value:expr) => {
        static $counter: AtomicU64 = AtomicU64::new(0);

        #[cacheow]
        fn $name() -> $ty {
            $counter.fetch_add(1, SeqCst);
            $value
        }
    };
}

value_function!(unit, UNIT_RAN, (), ());
value_function!(none, NONE_RAN, Option<String>, None);
value_function!(empty_string, EMPTY_STRING_RAN, String, String::new());
value_function!(empty_vec, EMPTY_VEC_RAN, Vec<u32>, Vec::new());
value_function!(some_none, SOME_NONE_RAN, Option<Option<u8>>, Some(None));
value_function!(wide, WIDE_RAN, (u128, i128), (u128::MAX, i128::MIN));
value_function!(tuple_keys, TUPLE_KEYS_RAN, BTreeMap<(u8, u8), f64>, BTreeMap::from([((1, 2), f64::INFINITY), ((0, 1), -0.5)]));
value_function!(unicode, UNICODE_RAN, String, "naïve \"quoted\" 🦀\n".to_owned());

#[test]
fn empty_values_replay_like_any_other() -> Result<(), Error> {
    replays_as_recorded(handle!(unit), &UNIT_RAN, unit)?;
    replays_as_recorded(handle!(none), &NONE_RAN, none)?;
    replays_as_recorded(handle!(empty_string), &EMPTY_STRING_RAN, empty_string)?;
    replays_as_recorded(handle!(empty_vec), &EMPTY_VEC_RAN, empty_vec)?;
    replays_as_recorded(handle!(unicode), &UNICODE_RAN, unicode)
}

#[test]
fn values_json_cannot_hold_round_trip_through_the_fallback() -> Result<(), Error> {
    replays_as_recorded(handle!(some_none), &SOME_NONE_RAN, some_none)?;
    replays_as_recorded(handle!(wide), &WIDE_RAN, wide)?;
    replays_as_recorded(handle!(tuple_keys), &TUPLE_KEYS_RAN, tuple_keys)?;
    let f = handle!(tuple_keys);
    let outcome = &f.outcomes()?[0];
    let file = std::fs::read_to_string(crate::outcome_file(f, &outcome.id)).map_err(|e| Error::Io {
        action: "read",
        path: "outcome file".into(),
        source: e,
    })?;
    let file: serde_json::Value = serde_json::from_str(&file).unwrap_or_default();
    assert_eq!(file["value_ron"], "{(0,1):-0.5,(1,2):inf}", "{file:#}");
    assert_eq!(file.get("value"), None);
    Ok(())
}

static NAN_RAN: AtomicU64 = AtomicU64::new(0);

#[cacheow]
fn not_a_number() -> f64 {
    NAN_RAN.fetch_add(1, SeqCst);
    f64::NAN
}

#[test]
fn nan_replays_as_nan() -> Result<(), Error> {
    assert!(not_a_number().is_nan());
    handle!(not_a_number).set_mode(Mode::Mock)?;
    assert!(not_a_number().is_nan());
    assert_eq!(NAN_RAN.load(SeqCst), 1);
    Ok(())
}
