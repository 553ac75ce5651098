//! Error messages of the macro, as constants the tests assert on, and a
//! collector that reports every error of an invocation at once.

use proc_macro2::TokenStream;

pub(crate) const CONST_FN: &str = "#[cacheow] cannot instrument a `const fn`: its outcome is computed at compile time. \
     Remove `const`, or remove #[cacheow]";
pub(crate) const VARIADIC: &str = "#[cacheow] cannot instrument a variadic function";
pub(crate) const IMPL_TRAIT_RETURN: &str = "#[cacheow] cannot record this `impl Trait` return value: it has no \
     concrete type to replay. It records `impl Iterator<Item = T>`, `impl Stream<Item = T>` and \
     `Pin<Box<dyn Stream<Item = T> + Send>>` (with `Send`, `Sync`, `Unpin` and lifetimes besides); otherwise return a \
     concrete type";
pub(crate) const ASYNC_SEQUENCE: &str = "#[cacheow] records the items of an iterator or a stream that a plain `fn` \
     returns: remove `async` (a stream is already asynchronous), or return a collected value such as `Vec<T>`";
pub(crate) const UNKNOWN_OPTION: &str = "unknown #[cacheow] option: the options are `name = \"...\"` (a stable id \
     across renames), `version = N` (a new set of outcomes), `record_panics = false`, `ttl = \"10m\"`, `serve_stale`, \
     `ttl_from = f`, `cache_if = f`, `cache_errors = false`, `validate = f`, `tags(\"...\")`, `key = f`, `redact(\"...\")`, \
     `cleanup = \"30m\"`, `dedupe = false`, `wait = \"30s\"`, `shared = false`, `depends(helper, path = \"file\")`, \
     `on_change = \"rerecord\"` and `verify = \"exact\"`; \
     `#[cacheow(skip)]` goes on a parameter";
pub(crate) const ON_CHANGE_OPTION: &str = "`on_change` takes \"warn\" (the default: replay, and warn once), \
     \"rerecord\" (a miss) or \"ignore\": what cache mode does with an outcome another body of the function recorded";
pub(crate) const VERIFY_OPTION: &str = "`verify` takes \"shape\" (the default: the same JSON structure, values may \
     differ) or \"exact\": `#[cacheow(verify = \"exact\")]`";
pub(crate) const DEPENDS_OPTION: &str = "`depends` takes decorated functions and files of the crate: \
     `#[cacheow(depends(helper_a, helper_b, path = \"prompts/system.txt\"))]`";
pub(crate) const TTL_OPTION: &str = "`ttl` takes a duration in humantime's format: `#[cacheow(ttl = \"10m\")]`";
pub(crate) const WAIT_OPTION: &str = "`wait` takes a duration in humantime's format: `#[cacheow(wait = \"30s\")]`";
pub(crate) const FN_OPTION: &str = "this option takes the path of a function: `#[cacheow(cache_if = worth_keeping)]`";
pub(crate) const CACHE_ERRORS_OPTION: &str = "`cache_errors` takes `true` or `false`";
pub(crate) const SHARED_OPTION: &str =
    "`shared` takes `true` or `false`: `#[cacheow(shared = false)]` keeps the function's outcomes off the shared tier";
pub(crate) const CLEANUP_OPTION: &str = "`cleanup` takes how often to delete expired outcomes, in humantime's format: `#[cacheow(ttl = \"1h\", cleanup = \"30m\")]`";
pub(crate) const CLEANUP_WITHOUT_TTL: &str = "`cleanup` deletes the outcomes older than the function's ttl, so it \
     needs one: add `ttl = \"...\"`";
pub(crate) const REDACT_OPTION: &str =
    "`redact` takes the names of fields, as non-empty strings: `#[cacheow(redact(\"api_key\"))]`";
pub(crate) const TAGS_OPTION: &str = "`tags` takes non-empty strings: `#[cacheow(tags(\"users\", \"billing\"))]`";
pub(crate) const DEDUPE_OPTION: &str = "`dedupe` takes `false` (every call runs), `\"process\"` (the default: \
     threads and tasks of this process wait for a call in flight with the same key) or `\"processes\"` (every \
     process sharing the data dir)";
pub(crate) const POLICY_SHAPE: &str = "write this option as `serve_stale`, `tags(\"a\", \"b\")` or `name = value`";
pub(crate) const STALE_WITHOUT_TTL: &str = "`serve_stale` returns an expired outcome while it is refreshed, so it \
     needs an expiry: add `ttl = \"...\"` or `ttl_from = f`";
pub(crate) const STALE_SEQUENCE: &str = "`serve_stale` cannot refresh an iterator or a stream in the background: \
     return a collected value such as `Vec<T>`, or drop `serve_stale`";
pub(crate) const STALE_BORROWED: &str = "`serve_stale` refreshes after the caller has moved on, so every argument \
     must be owned, `Send` and `'static`: take `String`, not `&str`, and a method cannot take `self` by \
     reference. Or drop `serve_stale`";
pub(crate) const CACHE_ERRORS_WITHOUT_RESULT: &str = "`cache_errors` applies to a function that returns a `Result`: \
     this one returns no error to leave unrecorded (a panic is kept out with `record_panics = false`)";
pub(crate) const NAME_OPTION: &str = "`name` takes a non-empty string: `#[cacheow(name = \"fetch_user\")]`";
pub(crate) const VERSION_OPTION: &str = "`version` takes a whole number: `#[cacheow(version = 2)]`";
pub(crate) const RECORD_PANICS_OPTION: &str = "`record_panics` takes `true` or `false`";
pub(crate) const UNKNOWN_PARAM_OPTION: &str = "unknown #[cacheow] option on a parameter: the only one is `#[cacheow(skip)]`, \
     which leaves the parameter out of the cache key";
pub(crate) const SKIP_RECEIVER: &str =
    "`self` is never part of the cache key, so `#[cacheow(skip)]` is not needed on it";

pub(crate) const ABOVE_RSTEST: &str = "put #[cacheow_test] below #[rstest] and its #[case] attributes: rstest copies \
     the attributes below it onto every case, which then each get their own fixtures";
pub(crate) const ASYNC_SHOULD_PANIC: &str = "#[cacheow_test] takes #[should_panic] on a plain test only: in an async \
     test, a missing fixture's panic would pass for the panic it expects. Make the test sync (block on the future \
     inside it), or assert the error it returns";
pub(crate) const ASYNC_WITHOUT_RUNTIME: &str = "an async test needs a runtime: add #[tokio::test] (or another \
     `test` attribute) below #[cacheow_test]";
pub(crate) const RECORD_MODE: &str = "`record` takes \"none\", \"once\" or \"all\"";
pub(crate) const UNKNOWN_TEST_OPTION: &str = "unknown #[cacheow_test] option: the options are `record = \"none\"|\"once\"|\"all\"`, \
     `mock(f, ..)`, `cache(f, ..)`, `default(f, ..)`, `fixtures = \"dir\"`, `redact(\"field\", ..)`, \
     `redact_env(\"VARIABLE\", ..)`, `snapshot`, `save_on_failure` and `strict`";

/// Every error found in one invocation, each with its span.
#[derive(Default)]
pub(crate) struct Errors(Option<syn::Error>);

impl Errors {
    pub(crate) fn push(&mut self, span: impl quote::ToTokens, message: &str) {
        self.push_error(syn::Error::new_spanned(span, message));
    }

    pub(crate) fn push_error(&mut self, error: syn::Error) {
        match &mut self.0 {
            Some(errors) => errors.combine(error),
            None => self.0 = Some(error),
        }
    }

    pub(crate) fn finish(self) -> Result<(), Errors> {
        if self.0.is_some() { Err(self) } else { Ok(()) }
    }

    pub(crate) fn to_compile_error(&self) -> TokenStream {
        self.0.as_ref().map(syn::Error::to_compile_error).unwrap_or_default()
    }

    #[cfg(test)]
    pub(crate) fn messages(&self) -> Vec<String> {
        self.0.iter().flat_map(|error| error.clone().into_iter()).map(|error| error.to_string()).collect()
    }
}

impl From<syn::Error> for Errors {
    fn from(error: syn::Error) -> Self {
        Errors(Some(error))
    }
}
