//! What kind of function a decorated one is.

/// What the function is: how it runs, and what it returns.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FunctionKind {
    Sync,
    Async,
    /// Returns an `impl Iterator`: its items are the outcome.
    Iterator,
    /// Returns an `impl Stream` or a boxed one: its items are the outcome.
    Stream,
    /// A handle made by `handle!` for a function no `#[cacheow]` registered,
    /// or a function known only from its outcome files.
    Unregistered,
}

impl FunctionKind {
    const ALL: [FunctionKind; 5] = [
        FunctionKind::Sync,
        FunctionKind::Async,
        FunctionKind::Iterator,
        FunctionKind::Stream,
        FunctionKind::Unregistered,
    ];

    /// `sync`, `async`, `iterator`, `stream` or `unregistered`.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            FunctionKind::Sync => "sync",
            FunctionKind::Async => "async",
            FunctionKind::Iterator => "iterator",
            FunctionKind::Stream => "stream",
            FunctionKind::Unregistered => "unregistered",
        }
    }

    pub(crate) fn parse(text: &str) -> Option<FunctionKind> {
        FunctionKind::ALL.into_iter().find(|kind| kind.as_str() == text)
    }
}
