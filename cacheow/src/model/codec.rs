//! How return values and errors become outcomes and come back.
//!
//! `#[cacheow]` picks a [`Codec`] for the return type at compile time with
//! autoref specialisation: `(&&&&&Tag::<R>::new()).codec()` resolves to the
//! first of these impls that applies, most specific first:
//!
//! 1. `Result<T, std::io::Error>` / `Result<T, anyhow::Error>`: the error
//!    replays with its kind (or chain) and message;
//! 2. `Result<T, E>` with a serde `E`: `Err` is an error outcome;
//! 3. any other `Result`: a compile error about its `Ok` or `Err` type;
//! 4. any serde value;
//! 5. anything else: a compile error that says what to derive.

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::model::canonical::to_canonical;
use crate::model::outcome::{OutcomeKind, Payload, Recorded};

/// Why a value could not be recorded or replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodecError(pub(crate) String);

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// How to record and replay values of type `R`.
pub struct Codec<R> {
    pub(crate) encode: fn(&R) -> Result<Recorded, CodecError>,
    pub(crate) decode: fn(OutcomeKind, Source<'_>) -> Result<R, CodecError>,
    /// Whether an outcome decodes as an `R`, for checks made without one.
    pub(crate) check: fn(OutcomeKind, &Payload) -> Result<(), CodecError>,
}

impl<R> Clone for Codec<R> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<R> Copy for Codec<R> {}

/// A type cacheow can record as a value and replay.
#[diagnostic::on_unimplemented(
    message = "cacheow cannot record the return type `{Self}`",
    label = "this type must implement `serde::Serialize` and `serde::de::DeserializeOwned`",
    note = "derive `serde::Serialize` and `serde::Deserialize` for it (errors of a `Result` may also be \
            `std::io::Error`, `Box<dyn Error + Send + Sync>`, or `anyhow::Error` with the `anyhow` feature \
            of cacheow)"
)]
pub trait Recordable: Serialize + DeserializeOwned {}

impl<T: Serialize + DeserializeOwned> Recordable for T {}

/// Marks the return type whose codec is being picked.
pub struct Tag<R>(PhantomData<fn() -> R>);

impl<R> Tag<R> {
    /// The tag of `R`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Tag(PhantomData)
    }
}

/// Picks `IoErrors` for `Result<T, std::io::Error>`.
pub trait ViaIoResult<R> {
    /// The codec of `R`.
    fn codec(&self) -> Codec<R>;
}

impl<T: Recordable> ViaIoResult<Result<T, std::io::Error>> for &&&&Tag<Result<T, std::io::Error>> {
    fn codec(&self) -> Codec<Result<T, std::io::Error>> {
        result_codec::<T, std::io::Error, IoErrors>()
    }
}

/// Picks `AnyhowErrors` for `Result<T, anyhow::Error>`.
pub trait ViaAnyhowResult<R> {
    /// The codec of `R`.
    fn codec(&self) -> Codec<R>;
}

#[cfg(feature = "anyhow")]
impl<T: Recordable> ViaAnyhowResult<Result<T, anyhow::Error>> for &&&&Tag<Result<T, anyhow::Error>> {
    fn codec(&self) -> Codec<Result<T, anyhow::Error>> {
        result_codec::<T, anyhow::Error, AnyhowErrors>()
    }
}

/// Picks `BoxedErrors` for `Result<T, Box<dyn Error + Send + Sync>>`.
pub trait ViaBoxedResult<R> {
    /// The codec of `R`.
    fn codec(&self) -> Codec<R>;
}

impl<T: Recordable> ViaBoxedResult<Result<T, BoxedError>> for &&&&Tag<Result<T, BoxedError>> {
    fn codec(&self) -> Codec<Result<T, BoxedError>> {
        result_codec::<T, BoxedError, BoxedErrors>()
    }
}

/// Picks `SerdeErrors` for `Result<T, E>`.
pub trait ViaSerdeResult<R> {
    /// The codec of `R`.
    fn codec(&self) -> Codec<R>;
}

impl<T: Recordable, E: Recordable> ViaSerdeResult<Result<T, E>> for &&&Tag<Result<T, E>> {
    fn codec(&self) -> Codec<Result<T, E>> {
        result_codec::<T, E, SerdeErrors>()
    }
}

/// An error type cacheow can record.
#[diagnostic::on_unimplemented(
    message = "cacheow cannot record the error type `{Self}`",
    label = "the `Err` type must implement `serde::Serialize` and `serde::de::DeserializeOwned`",
    note = "derive `serde::Serialize` and `serde::Deserialize` for it, or return `std::io::Error`, \
            `Box<dyn Error + Send + Sync>` (or `anyhow::Error`, with the `anyhow` feature of cacheow)"
)]
pub trait RecordableError: Recordable {}

impl<E: Recordable> RecordableError for E {}

/// A `Result` whose `Ok` or `Err` type cannot be recorded: its bounds fail
/// with a message about that type.
pub trait ViaUnsupportedResult<T, E> {
    /// The codec of `Result<T, E>`.
    fn codec(&self) -> Codec<Result<T, E>>
    where
        T: Recordable,
        E: RecordableError;
}

impl<T, E> ViaUnsupportedResult<T, E> for &&Tag<Result<T, E>> {
    fn codec(&self) -> Codec<Result<T, E>>
    where
        T: Recordable,
        E: RecordableError,
    {
        result_codec::<T, E, SerdeErrors>()
    }
}

/// Picks the plain value codec.
pub trait ViaValue<R> {
    /// The codec of `R`.
    fn codec(&self) -> Codec<R>;
}

impl<R: Recordable> ViaValue<R> for &Tag<R> {
    fn codec(&self) -> Codec<R> {
        value_codec()
    }
}

/// The last resort: its bound fails with a message that says what to do.
pub trait ViaUnsupported<R> {
    /// The codec of `R`.
    fn codec(&self) -> Codec<R>
    where
        R: Recordable;
}

impl<R> ViaUnsupported<R> for Tag<R> {
    fn codec(&self) -> Codec<R>
    where
        R: Recordable,
    {
        value_codec()
    }
}

fn value_codec<R: Recordable>() -> Codec<R> {
    Codec {
        encode: |value| Ok(Recorded::new(OutcomeKind::Return, encode_value(value)?)),
        decode: decode_return::<R>,
        check: |kind, payload| decode_return::<R>(kind, payload.into()).map(drop),
    }
}

fn decode_return<R: Recordable>(kind: OutcomeKind, payload: Source<'_>) -> Result<R, CodecError> {
    match kind {
        OutcomeKind::Return => decode_value(payload),
        OutcomeKind::Error => {
            Err(CodecError("an error outcome cannot replay from a function that returns no `Result`".to_owned()))
        }
        other => Err(wrong_kind(other)),
    }
}

fn result_codec<T: Recordable, E, F: ErrorFormat<E>>() -> Codec<Result<T, E>> {
    Codec {
        encode: |result| match result {
            Ok(value) => Ok(Recorded::new(OutcomeKind::Return, encode_value(value)?)),
            Err(error) => Ok(Recorded::new(OutcomeKind::Error, F::encode(error)?).labelled(std::any::type_name::<E>())),
        },
        decode: decode_result::<T, E, F>,
        check: |kind, payload| decode_result::<T, E, F>(kind, payload.into()).map(drop),
    }
}

fn decode_result<T: Recordable, E, F: ErrorFormat<E>>(
    kind: OutcomeKind,
    payload: Source<'_>,
) -> Result<Result<T, E>, CodecError> {
    match kind {
        OutcomeKind::Return => decode_value(payload).map(Ok),
        OutcomeKind::Error => F::decode(payload).map(Err),
        other => Err(wrong_kind(other)),
    }
}

/// An outcome of a kind that no value of the function's type replays from:
/// the items of an iterator for a function that now returns a value, say.
pub(crate) fn wrong_kind(kind: OutcomeKind) -> CodecError {
    CodecError(format!("an outcome of kind `{}` does not fit the function's return type", kind.as_str()))
}

/// Canonical JSON when JSON holds the value faithfully, RON otherwise.
pub(crate) fn encode_value<T: ?Sized + Serialize>(value: &T) -> Result<Payload, CodecError> {
    let canonical = to_canonical(value).map_err(|error| CodecError(error.to_string()))?;
    if canonical.faithful {
        return Ok(Payload::Json(canonical.text.into()));
    }
    ron::to_string(value)
        .map(|text| Payload::Ron(text.into()))
        .map_err(|error| CodecError(format!("the value cannot be written as JSON nor as RON: {error}")))
}

/// A payload as a replay decodes it: its text and, for one kept in memory,
/// its JSON parsed once, which later replays decode from without parsing.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    pub(crate) payload: &'a Payload,
    pub(crate) parsed: Option<&'a serde_json::Value>,
}

impl<'a> From<&'a Payload> for Source<'a> {
    fn from(payload: &'a Payload) -> Self {
        Source { payload, parsed: None }
    }
}

pub(crate) fn decode_value<T: DeserializeOwned>(source: Source<'_>) -> Result<T, CodecError> {
    // The parsed JSON holds some values less exactly than the text (an
    // integer past 64 bits): what it cannot give, the text may.
    if let Some(value) = source.parsed.and_then(|parsed| T::deserialize(parsed).ok()) {
        return Ok(value);
    }
    match source.payload {
        Payload::Json(text) => serde_json::from_str(text).map_err(|error| CodecError(error.to_string())),
        Payload::Ron(text) => ron::from_str(text).map_err(|error| CodecError(error.to_string())),
    }
}

/// How the errors of a `Result` are written and read back.
trait ErrorFormat<E> {
    /// Writes the error.
    fn encode(error: &E) -> Result<Payload, CodecError>;
    /// Reads the error back.
    fn decode(payload: Source<'_>) -> Result<E, CodecError>;
}

/// Errors that are serde values.
struct SerdeErrors;

impl<E: Recordable> ErrorFormat<E> for SerdeErrors {
    fn encode(error: &E) -> Result<Payload, CodecError> {
        encode_value(error)
    }
    fn decode(payload: Source<'_>) -> Result<E, CodecError> {
        decode_value(payload)
    }
}

/// `std::io::Error`, replayed with its kind and message.
struct IoErrors;

/// An error as recorded, or as a message alone: a manual outcome's.
#[derive(serde::Deserialize)]
#[serde(untagged)]
enum ErrorText<T> {
    Record(T),
    Message(String),
}

#[derive(serde::Serialize, serde::Deserialize)]
struct IoErrorRecord {
    kind: String,
    message: String,
}

impl ErrorFormat<std::io::Error> for IoErrors {
    fn encode(error: &std::io::Error) -> Result<Payload, CodecError> {
        encode_value(&IoErrorRecord { kind: format!("{:?}", error.kind()), message: error.to_string() })
    }
    fn decode(payload: Source<'_>) -> Result<std::io::Error, CodecError> {
        let record = match decode_value(payload)? {
            ErrorText::Record(record) => record,
            ErrorText::Message(message) => IoErrorRecord { kind: "Other".to_owned(), message },
        };
        Ok(std::io::Error::new(io_error_kind(&record.kind), record.message))
    }
}

fn io_error_kind(name: &str) -> std::io::ErrorKind {
    use std::io::ErrorKind::*;
    macro_rules! kinds {
        ($($kind:ident),* $(,)?) => {
            match name {
                $(stringify!($kind) => $kind,)*
                _ => Other,
            }
        };
    }
    kinds!(
        NotFound,
        PermissionDenied,
        ConnectionRefused,
        ConnectionReset,
        HostUnreachable,
        NetworkUnreachable,
        ConnectionAborted,
        NotConnected,
        AddrInUse,
        AddrNotAvailable,
        NetworkDown,
        BrokenPipe,
        AlreadyExists,
        WouldBlock,
        NotADirectory,
        IsADirectory,
        DirectoryNotEmpty,
        ReadOnlyFilesystem,
        StaleNetworkFileHandle,
        InvalidInput,
        InvalidData,
        TimedOut,
        WriteZero,
        StorageFull,
        NotSeekable,
        QuotaExceeded,
        FileTooLarge,
        ResourceBusy,
        ExecutableFileBusy,
        Deadlock,
        CrossesDevices,
        TooManyLinks,
        InvalidFilename,
        ArgumentListTooLong,
        Interrupted,
        Unsupported,
        UnexpectedEof,
        OutOfMemory,
    )
}

/// The boxed error most Rust applications return.
type BoxedError = Box<dyn std::error::Error + Send + Sync>;

/// `Box<dyn Error + Send + Sync>`, replayed as an error whose `Display` is
/// the recorded message and whose `source()` chain is the recorded one.
struct BoxedErrors;

impl ErrorFormat<BoxedError> for BoxedErrors {
    fn encode(error: &BoxedError) -> Result<Payload, CodecError> {
        let mut chain = vec![error.to_string()];
        let mut source = error.source();
        while let Some(cause) = source {
            chain.push(cause.to_string());
            source = cause.source();
        }
        encode_value(&chain)
    }
    fn decode(payload: Source<'_>) -> Result<BoxedError, CodecError> {
        let chain = match decode_value(payload)? {
            ErrorText::Record(chain) => chain,
            ErrorText::Message(message) => vec![message],
        };
        let replayed = chain
            .into_iter()
            .rev()
            .fold(None, |source, message| Some(ReplayedError { message, source: source.map(Box::new) }));
        Ok(Box::new(replayed.unwrap_or(ReplayedError { message: String::new(), source: None })))
    }
}

/// A replayed `Box<dyn Error>`: its message, and the error that caused it.
#[derive(Debug)]
struct ReplayedError {
    message: String,
    source: Option<Box<ReplayedError>>,
}

impl std::fmt::Display for ReplayedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ReplayedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|source| source as &(dyn std::error::Error + 'static))
    }
}

/// `anyhow::Error`, replayed with its chain of messages.
#[cfg(feature = "anyhow")]
struct AnyhowErrors;

#[cfg(feature = "anyhow")]
impl ErrorFormat<anyhow::Error> for AnyhowErrors {
    fn encode(error: &anyhow::Error) -> Result<Payload, CodecError> {
        let chain: Vec<String> = error.chain().map(ToString::to_string).collect();
        encode_value(&chain)
    }
    fn decode(payload: Source<'_>) -> Result<anyhow::Error, CodecError> {
        let chain = match decode_value(payload)? {
            ErrorText::Record(chain) => chain,
            ErrorText::Message(message) => vec![message],
        };
        let mut messages = chain.into_iter().rev();
        let root = messages.next().unwrap_or_default();
        Ok(messages.fold(anyhow::Error::msg(root), |error, context| error.context(context)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn round_trip<R>(codec: Codec<R>, value: &R) -> (Recorded, R) {
        let encoded = (codec.encode)(value).unwrap_or_else(|e| panic!("{e}"));
        let back = (codec.decode)(encoded.kind, (&encoded.payload).into()).unwrap_or_else(|e| panic!("{e}"));
        (encoded, back)
    }

    #[test]
    fn values_json_cannot_hold_round_trip_through_ron() {
        let mut map = BTreeMap::new();
        map.insert((1u8, 2u8), f64::NAN);
        let (encoded, back) = round_trip(value_codec::<BTreeMap<(u8, u8), f64>>(), &map);
        assert!(matches!(encoded.payload, Payload::Ron(_)), "{:?}", encoded.payload);
        assert!(back[&(1, 2)].is_nan());

        let (encoded, back) = round_trip(value_codec::<Option<Option<u8>>>(), &Some(None));
        assert!(matches!(encoded.payload, Payload::Ron(_)));
        assert_eq!(back, Some(None));
    }

    #[test]
    fn a_parsed_payload_decodes_as_its_text_does() {
        let codec = value_codec::<u128>();
        let payload = Payload::Json(u128::MAX.to_string().into());
        // The parsed JSON holds it as a float: the text gives it exactly.
        let parsed: serde_json::Value = serde_json::from_str(payload.text()).unwrap_or_default();
        let source = Source { payload: &payload, parsed: Some(&parsed) };
        assert_eq!((codec.decode)(OutcomeKind::Return, source), Ok(u128::MAX));
        let codec = value_codec::<Vec<String>>();
        let payload = Payload::Json(r#"["a","b"]"#.into());
        let parsed = serde_json::json!(["from", "parsed"]);
        let source = Source { payload: &payload, parsed: Some(&parsed) };
        assert_eq!((codec.decode)(OutcomeKind::Return, source), Ok(vec!["from".to_owned(), "parsed".to_owned()]));
    }

    #[test]
    fn empty_values_round_trip_as_json() {
        let (encoded, ()) = round_trip(value_codec::<()>(), &());
        assert_eq!(encoded.payload, Payload::Json("null".into()));
        let (_, back) = round_trip(value_codec::<Option<String>>(), &None);
        assert_eq!(back, None);
        let (_, back) = round_trip(value_codec::<String>(), &String::new());
        assert_eq!(back, "");
        let (_, back) = round_trip(value_codec::<Vec<u8>>(), &Vec::new());
        assert!(back.is_empty());
    }

    #[test]
    #[allow(clippy::needless_borrow)]
    fn io_errors_keep_kind_and_message() {
        let codec = (&&&&&Tag::<Result<u8, std::io::Error>>::new()).codec();
        let error = std::io::Error::new(std::io::ErrorKind::NotFound, "no such user");
        let (encoded, back) = round_trip(codec, &Err(error));
        assert_eq!(encoded.kind, OutcomeKind::Error);
        assert_eq!(encoded.error_type.as_deref(), Some("std::io::error::Error"));
        let back = back.err().unwrap_or_else(|| std::io::Error::other("was Ok"));
        assert_eq!((back.kind(), back.to_string()), (std::io::ErrorKind::NotFound, "no such user".to_owned()));
        assert_eq!(io_error_kind("StorageFull"), std::io::ErrorKind::StorageFull);
        assert_eq!(io_error_kind("NoSuchKind"), std::io::ErrorKind::Other);
        // A manual outcome gives the message alone.
        let codec = (&&&&&Tag::<Result<u8, std::io::Error>>::new()).codec();
        let back = (codec.decode)(OutcomeKind::Error, (&Payload::Json("\"disk on fire\"".into())).into());
        let back = back.ok().and_then(Result::err).map(|e| (e.kind(), e.to_string()));
        assert_eq!(back, Some((std::io::ErrorKind::Other, "disk on fire".to_owned())));
    }

    #[test]
    #[allow(clippy::needless_borrow)] // the borrows are how the codec is picked
    fn autoref_picks_the_most_specific_codec() {
        #[allow(unused_imports)]
        use crate::model::codec::{
            ViaAnyhowResult as _, ViaBoxedResult as _, ViaIoResult as _, ViaSerdeResult as _, ViaUnsupported as _,
            ViaValue as _,
        };
        let serde_result = (&&&Tag::<Result<u8, String>>::new()).codec();
        let encoded = (serde_result.encode)(&Err("boom".to_owned())).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((encoded.kind, encoded.payload), (OutcomeKind::Error, Payload::Json("\"boom\"".into())));
        let plain = (&&Tag::<u64>::new()).codec();
        let encoded = (plain.encode)(&9).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((encoded.kind, encoded.payload), (OutcomeKind::Return, Payload::Json("9".into())));
    }

    #[test]
    #[allow(clippy::needless_borrow)]
    fn boxed_errors_keep_their_message_and_chain() {
        #[derive(Debug)]
        struct Loading(std::io::Error);
        impl std::fmt::Display for Loading {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("loading user 7")
            }
        }
        impl std::error::Error for Loading {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let codec = (&&&&&Tag::<Result<u8, BoxedError>>::new()).codec();
        let io = std::io::Error::new(std::io::ErrorKind::TimedOut, "the upstream timed out");
        let (recorded, back) = round_trip(codec, &Err(Box::new(Loading(io)) as BoxedError));
        assert_eq!(recorded.kind, OutcomeKind::Error);
        let back = back.err().unwrap_or_else(|| "an error".into());
        assert_eq!(back.to_string(), "loading user 7");
        assert_eq!(back.source().map(ToString::to_string).as_deref(), Some("the upstream timed out"));
        assert!(back.source().and_then(std::error::Error::source).is_none());
    }

    #[cfg(feature = "anyhow")]
    #[test]
    #[allow(clippy::needless_borrow)]
    fn anyhow_errors_keep_their_chain() {
        let codec = (&&&&&Tag::<Result<u8, anyhow::Error>>::new()).codec();
        let error = anyhow::anyhow!("root cause").context("loading user 7");
        let (_, back) = round_trip(codec, &Err(error));
        let back = back.err().map(|e| format!("{e:#}")).unwrap_or_default();
        assert_eq!(back, "loading user 7: root cause");
        let codec = (&&&&&Tag::<Result<u8, anyhow::Error>>::new()).codec();
        let back = (codec.decode)(OutcomeKind::Error, (&Payload::Json("\"quota exceeded\"".into())).into());
        assert_eq!(back.ok().and_then(Result::err).map(|e| e.to_string()), Some("quota exceeded".to_owned()));
    }
}
