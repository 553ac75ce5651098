//! Canonical JSON: one text per value, whatever the order a `HashMap` or a
//! struct gives its entries in.
//!
//! Object keys are sorted, scalars are written by serde_json, so the text of
//! a value equals the text of the same value read back from a file as a
//! `serde_json::Value`. The serializer also tells whether serde_json would
//! read the text back as the same value: non-finite floats, maps with keys
//! that are not strings or integers, integers beyond 64 bits and
//! `Some(None)` would not.

use std::borrow::Cow;
use std::fmt::Display;
use std::ops::Range;

use serde::Serialize;
use serde::ser;

/// A value's canonical JSON text.
pub(crate) struct Canonical {
    pub(crate) text: String,
    /// Whether `serde_json` reads `text` back as the same value.
    pub(crate) faithful: bool,
}

/// Why a value could not be written: its `Serialize` impl failed.
#[derive(Debug)]
pub(crate) struct CanonicalError(String);

impl Display for CanonicalError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for CanonicalError {}

impl ser::Error for CanonicalError {
    fn custom<T: Display>(message: T) -> Self {
        CanonicalError(message.to_string())
    }
}

type Result<T = ()> = std::result::Result<T, CanonicalError>;

pub(crate) fn to_canonical<T: ?Sized + Serialize>(value: &T) -> Result<Canonical> {
    let mut out = Vec::with_capacity(64);
    let mut faithful = true;
    write_value(value, &mut out, &mut faithful)?;
    Ok(Canonical { text: into_string(out), faithful })
}

/// The canonical text of a JSON value: sorted keys, serde_json's scalars.
pub fn canonical_json(value: &serde_json::Value) -> String {
    // A `Value` always serializes: its keys are strings, its numbers finite.
    to_canonical(value).map(|canonical| canonical.text).unwrap_or_default()
}

/// Appends the canonical text of `value` to `out`.
pub(crate) fn write_value<T: ?Sized + Serialize>(value: &T, out: &mut Vec<u8>, faithful: &mut bool) -> Result {
    value.serialize(Writer { out, faithful })
}

fn into_string(bytes: Vec<u8>) -> String {
    // Only serde_json's output and ASCII punctuation went in: always UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|error| String::from_utf8_lossy(error.as_bytes()).into_owned())
}

/// Writes a scalar the way serde_json does.
fn json_scalar<T: ?Sized + Serialize>(out: &mut Vec<u8>, value: &T) -> Result {
    serde_json::to_writer(out, value).map_err(|error| CanonicalError(error.to_string()))
}

struct Writer<'a> {
    out: &'a mut Vec<u8>,
    faithful: &'a mut bool,
}

impl Writer<'_> {
    fn float(self, value: f64, write: impl FnOnce(&mut Vec<u8>) -> Result) -> Result {
        if value.is_finite() {
            write(self.out)
        } else {
            *self.faithful = false;
            let text = if value.is_nan() {
                "NaN"
            } else if value > 0.0 {
                "inf"
            } else {
                "-inf"
            };
            json_scalar(self.out, text)
        }
    }

    fn wide_int(self, value: impl Serialize, fits: bool) -> Result {
        *self.faithful &= fits;
        json_scalar(self.out, &value)
    }

    /// `{"variant":` before a variant's content; the caller closes the brace.
    fn open_variant(&mut self, variant: &str) -> Result {
        self.out.push(b'{');
        json_scalar(self.out, variant)?;
        self.out.push(b':');
        Ok(())
    }
}

impl<'a> ser::Serializer for Writer<'a> {
    type Ok = ();
    type Error = CanonicalError;
    type SerializeSeq = Seq<'a>;
    type SerializeTuple = Seq<'a>;
    type SerializeTupleStruct = Seq<'a>;
    type SerializeTupleVariant = Seq<'a>;
    type SerializeMap = Map<'a>;
    type SerializeStruct = Map<'a>;
    type SerializeStructVariant = Map<'a>;

    fn serialize_bool(self, v: bool) -> Result {
        json_scalar(self.out, &v)
    }
    fn serialize_i8(self, v: i8) -> Result {
        json_scalar(self.out, &v)
    }
    fn serialize_i16(self, v: i16) -> Result {
        json_scalar(self.out, &v)
    }
    fn serialize_i32(self, v: i32) -> Result {
        json_scalar(self.out, &v)
    }
    fn serialize_i64(self, v: i64) -> Result {
        json_scalar(self.out, &v)
    }
    fn serialize_i128(self, v: i128) -> Result {
        self.wide_int(v, i64::try_from(v).is_ok())
    }
    fn serialize_u8(self, v: u8) -> Result {
        json_scalar(self.out, &v)
    }
    fn serialize_u16(self, v: u16) -> Result {
        json_scalar(self.out, &v)
    }
    fn serialize_u32(self, v: u32) -> Result {
        json_scalar(self.out, &v)
    }
    fn serialize_u64(self, v: u64) -> Result {
        json_scalar(self.out, &v)
    }
    fn serialize_u128(self, v: u128) -> Result {
        self.wide_int(v, u64::try_from(v).is_ok())
    }
    fn serialize_f32(self, v: f32) -> Result {
        self.float(f64::from(v), |out| json_scalar(out, &v))
    }
    fn serialize_f64(self, v: f64) -> Result {
        self.float(v, |out| json_scalar(out, &v))
    }
    fn serialize_char(self, v: char) -> Result {
        json_scalar(self.out, &v)
    }
    fn serialize_str(self, v: &str) -> Result {
        json_scalar(self.out, v)
    }
    fn serialize_bytes(self, v: &[u8]) -> Result {
        json_scalar(self.out, v)
    }
    fn serialize_none(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result {
        let start = self.out.len();
        value.serialize(Writer { out: &mut *self.out, faithful: &mut *self.faithful })?;
        // `Some(None)` and `Some(())` write `null`, which reads back as `None`.
        if &self.out[start..] == b"null" {
            *self.faithful = false;
        }
        Ok(())
    }
    fn serialize_unit(self) -> Result {
        self.serialize_none()
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result {
        self.serialize_none()
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result {
        json_scalar(self.out, variant)
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _name: &'static str, value: &T) -> Result {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.open_variant(variant)?;
        value.serialize(Writer { out: &mut *self.out, faithful: &mut *self.faithful })?;
        self.out.push(b'}');
        Ok(())
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Seq<'a>> {
        self.out.push(b'[');
        Ok(Seq { writer: self, first: true, close: b"]" })
    }
    fn serialize_tuple(self, len: usize) -> Result<Seq<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_struct(self, _name: &'static str, len: usize) -> Result<Seq<'a>> {
        self.serialize_seq(Some(len))
    }
    fn serialize_tuple_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        _len: usize,
    ) -> Result<Seq<'a>> {
        self.open_variant(variant)?;
        self.out.push(b'[');
        Ok(Seq { writer: self, first: true, close: b"]}" })
    }
    fn serialize_map(self, len: Option<usize>) -> Result<Map<'a>> {
        Ok(Map::new(self, len.unwrap_or(0), b"}"))
    }
    fn serialize_struct(self, _name: &'static str, len: usize) -> Result<Map<'a>> {
        Ok(Map::new(self, len, b"}"))
    }
    fn serialize_struct_variant(
        mut self,
        _name: &'static str,
        _index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Map<'a>> {
        self.open_variant(variant)?;
        Ok(Map::new(self, len, b"}}"))
    }
}

struct Seq<'a> {
    writer: Writer<'a>,
    first: bool,
    close: &'static [u8],
}

impl Seq<'_> {
    fn element<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        if !std::mem::take(&mut self.first) {
            self.writer.out.push(b',');
        }
        value.serialize(Writer { out: &mut *self.writer.out, faithful: &mut *self.writer.faithful })
    }

    fn finish(self) -> Result {
        self.writer.out.extend_from_slice(self.close);
        Ok(())
    }
}

/// The four sequence-like compounds of serde, all written as JSON arrays.
macro_rules! sequence_impls {
    ($($trait:ident :: $method:ident),*) => {
        $(impl ser::$trait for Seq<'_> {
            type Ok = ();
            type Error = CanonicalError;
            fn $method<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
                self.element(value)
            }
            fn end(self) -> Result {
                self.finish()
            }
        })*
    };
}

sequence_impls!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

/// Collects entries in one buffer, then writes them sorted by key.
struct Map<'a> {
    writer: Writer<'a>,
    /// Each key, with where its value is in `values`.
    keys: Vec<(Cow<'static, str>, Range<usize>)>,
    values: Vec<u8>,
    pending_key: Option<Cow<'static, str>>,
    close: &'static [u8],
}

impl<'a> Map<'a> {
    fn new(writer: Writer<'a>, len: usize, close: &'static [u8]) -> Self {
        Map { writer, keys: Vec::with_capacity(len), values: Vec::new(), pending_key: None, close }
    }

    fn value<T: ?Sized + Serialize>(&mut self, key: Cow<'static, str>, value: &T) -> Result {
        let start = self.values.len();
        write_value(value, &mut self.values, self.writer.faithful)?;
        self.keys.push((key, start..self.values.len()));
        Ok(())
    }

    fn finish(mut self) -> Result {
        self.keys.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let out = self.writer.out;
        out.push(b'{');
        for (i, (key, range)) in self.keys.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json_scalar(out, &**key)?;
            out.push(b':');
            out.extend_from_slice(&self.values[range.clone()]);
        }
        out.extend_from_slice(self.close);
        Ok(())
    }
}

impl ser::SerializeMap for Map<'_> {
    type Ok = ();
    type Error = CanonicalError;
    fn serialize_key<T: ?Sized + Serialize>(&mut self, key: &T) -> Result {
        let key = match key.serialize(KeyWriter { faithful: &mut *self.writer.faithful }) {
            Err(CanonicalError(message)) if message == COMPOUND_KEY => {
                *self.writer.faithful = false;
                let mut out = Vec::new();
                write_value(key, &mut out, &mut true)?;
                into_string(out)
            }
            key => key?,
        };
        self.pending_key = Some(Cow::Owned(key));
        Ok(())
    }
    fn serialize_value<T: ?Sized + Serialize>(&mut self, value: &T) -> Result {
        let key = self.pending_key.take().ok_or_else(|| CanonicalError("map value without a key".to_owned()))?;
        self.value(key, value)
    }
    fn end(self) -> Result {
        self.finish()
    }
}

/// Structs and struct variants, written as JSON objects.
macro_rules! struct_impls {
    ($($trait:ident),*) => {
        $(impl ser::$trait for Map<'_> {
            type Ok = ();
            type Error = CanonicalError;
            fn serialize_field<T: ?Sized + Serialize>(&mut self, key: &'static str, value: &T) -> Result {
                self.value(Cow::Borrowed(key), value)
            }
            fn end(self) -> Result {
                self.finish()
            }
        })*
    };
}

struct_impls!(SerializeStruct, SerializeStructVariant);

/// Turns a map key into the string JSON needs, as serde_json does for
/// strings, integers and unit variants. Any other key is written as its own
/// canonical text, which keeps the key canonical but not faithful.
struct KeyWriter<'a> {
    faithful: &'a mut bool,
}

impl KeyWriter<'_> {
    fn write_as_text<T: ?Sized + Serialize>(self, key: &T) -> Result<String> {
        *self.faithful = false;
        let mut out = Vec::new();
        write_value(key, &mut out, &mut true)?;
        Ok(into_string(out))
    }
}

macro_rules! integer_keys {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method(self, v: $ty) -> Result<String> { Ok(v.to_string()) })*
    };
}

macro_rules! unfaithful_keys {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method(self, v: $ty) -> Result<String> { self.write_as_text(&v) })*
    };
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = String;
    type Error = CanonicalError;
    type SerializeSeq = ser::Impossible<String, CanonicalError>;
    type SerializeTuple = ser::Impossible<String, CanonicalError>;
    type SerializeTupleStruct = ser::Impossible<String, CanonicalError>;
    type SerializeTupleVariant = ser::Impossible<String, CanonicalError>;
    type SerializeMap = ser::Impossible<String, CanonicalError>;
    type SerializeStruct = ser::Impossible<String, CanonicalError>;
    type SerializeStructVariant = ser::Impossible<String, CanonicalError>;

    integer_keys!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64,
        serialize_u8: u8, serialize_u16: u16, serialize_u32: u32, serialize_u64: u64);
    unfaithful_keys!(serialize_bool: bool, serialize_f32: f32, serialize_f64: f64,
        serialize_i128: i128, serialize_u128: u128);

    fn serialize_char(self, v: char) -> Result<String> {
        Ok(v.to_string())
    }
    fn serialize_str(self, v: &str) -> Result<String> {
        Ok(v.to_owned())
    }
    fn serialize_bytes(self, v: &[u8]) -> Result<String> {
        self.write_as_text(v)
    }
    fn serialize_none(self) -> Result<String> {
        self.write_as_text(&())
    }
    fn serialize_some<T: ?Sized + Serialize>(self, value: &T) -> Result<String> {
        self.write_as_text(&Some(value))
    }
    fn serialize_unit(self) -> Result<String> {
        self.write_as_text(&())
    }
    fn serialize_unit_struct(self, _name: &'static str) -> Result<String> {
        self.write_as_text(&())
    }
    fn serialize_unit_variant(self, _name: &'static str, _index: u32, variant: &'static str) -> Result<String> {
        Ok(variant.to_owned())
    }
    fn serialize_newtype_struct<T: ?Sized + Serialize>(self, _name: &'static str, value: &T) -> Result<String> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: ?Sized + Serialize>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<String> {
        self.write_as_text(&Variant { name, index, variant, value })
    }
    fn serialize_seq(self, _len: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(self.compound())
    }
    fn serialize_tuple(self, _len: usize) -> Result<Self::SerializeTuple> {
        Err(self.compound())
    }
    fn serialize_tuple_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeTupleStruct> {
        Err(self.compound())
    }
    fn serialize_tuple_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(self.compound())
    }
    fn serialize_map(self, _len: Option<usize>) -> Result<Self::SerializeMap> {
        Err(self.compound())
    }
    fn serialize_struct(self, _name: &'static str, _len: usize) -> Result<Self::SerializeStruct> {
        Err(self.compound())
    }
    fn serialize_struct_variant(
        self,
        _name: &'static str,
        _index: u32,
        _variant: &'static str,
        _len: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(self.compound())
    }
}

impl KeyWriter<'_> {
    /// Compound keys cannot be streamed into a string: `Map` writes them
    /// whole when it sees this error.
    fn compound(self) -> CanonicalError {
        CanonicalError(COMPOUND_KEY.to_owned())
    }
}

const COMPOUND_KEY: &str = "\u{0}compound map key";

/// Re-serializes a newtype variant key as a value.
struct Variant<'a, T: ?Sized> {
    name: &'static str,
    index: u32,
    variant: &'static str,
    value: &'a T,
}

impl<T: ?Sized + Serialize> Serialize for Variant<'_, T> {
    fn serialize<S: ser::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_newtype_variant(self.name, self.index, self.variant, self.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, HashMap};

    fn canonical<T: Serialize>(value: &T) -> (String, bool) {
        let Canonical { text, faithful } = to_canonical(value).unwrap_or_else(|e| panic!("{e}"));
        (text, faithful)
    }

    #[derive(Serialize)]
    struct User {
        name: &'static str,
        age: u32,
        tags: Vec<&'static str>,
    }

    #[derive(Serialize)]
    enum Shape {
        Dot,
        Circle(f64),
        Line(u8, u8),
        Rect { w: u8, h: u8 },
    }

    #[test]
    fn hash_maps_give_one_text_whatever_their_order() {
        let texts: Vec<String> = (0..20)
            .map(|i| {
                // Inserted in a different order each time, into maps that
                // each iterate in their own random order.
                let mut map = HashMap::new();
                for k in (0..30).map(|k| (k * 7 + i) % 30) {
                    map.insert(format!("key{k}"), k);
                }
                canonical(&map).0
            })
            .collect();
        assert!(texts.windows(2).all(|w| w[0] == w[1]));
        assert!(texts[0].starts_with(r#"{"key0":0,"key1":1,"key10":10,"#), "{}", texts[0]);
    }

    #[test]
    fn structs_and_maps_sort_keys_like_serde_json_values() {
        let user = User { name: "Ann", age: 30, tags: vec!["a", "b"] };
        let (text, faithful) = canonical(&user);
        assert_eq!(text, r#"{"age":30,"name":"Ann","tags":["a","b"]}"#);
        assert!(faithful);
        // The same value read back from a file gives the same text.
        let value: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        assert_eq!(canonical(&value).0, text);
    }

    #[test]
    fn enums_are_externally_tagged() {
        let shapes = [Shape::Dot, Shape::Circle(1.5), Shape::Line(1, 2), Shape::Rect { w: 3, h: 4 }];
        assert_eq!(canonical(&shapes).0, r#"["Dot",{"Circle":1.5},{"Line":[1,2]},{"Rect":{"h":4,"w":3}}]"#);
    }

    #[test]
    fn scalars_match_serde_json() {
        let value = (1u8, -2i64, 0.1f32, 1e300f64, 'x', "q\"\n", (), Some(3), None::<u8>);
        let (text, faithful) = canonical(&value);
        assert_eq!(text, serde_json::to_string(&value).unwrap_or_default());
        assert!(faithful);
    }

    #[test]
    fn flags_what_json_cannot_hold() {
        assert!(!canonical(&f64::NAN).1);
        assert!(!canonical(&vec![f64::INFINITY]).1);
        assert!(!canonical(&Some(None::<u8>)).1);
        assert!(!canonical(&u128::MAX).1);
        assert!(canonical(&u128::from(u64::MAX)).1);
        let mut tuple_keys = BTreeMap::new();
        tuple_keys.insert((1, 2), "a");
        let (text, faithful) = canonical(&tuple_keys);
        assert_eq!(text, r#"{"[1,2]":"a"}"#);
        assert!(!faithful);
        let mut int_keys = BTreeMap::new();
        int_keys.insert(10u32, "a");
        int_keys.insert(9u32, "b");
        assert_eq!(canonical(&int_keys), (r#"{"10":"a","9":"b"}"#.to_owned(), true));
    }
}
