//! How the JSON API's operations are declared: each once, with its route
//! and what the OpenAPI document says of it. The router and the document
//! are both made from the one list in `api`.

use axum::Router;
use axum::routing::{MethodFilter, MethodRouter};

use super::Panel;

/// An HTTP method of the API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Verb {
    Get,
    Post,
    Put,
    Delete,
}

impl Verb {
    /// As the OpenAPI document names it.
    pub(super) fn as_str(self) -> &'static str {
        match self {
            Verb::Get => "get",
            Verb::Post => "post",
            Verb::Put => "put",
            Verb::Delete => "delete",
        }
    }

    fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Delete => MethodFilter::DELETE,
        }
    }
}

/// A query parameter: a whole number with bounds and a default.
pub(super) struct QueryParam {
    pub(super) name: &'static str,
    pub(super) minimum: u64,
    pub(super) maximum: Option<u64>,
    pub(super) default: u64,
}

/// What an operation answers with: a schema of the document, a list of
/// them, or any JSON.
pub(super) enum Answer {
    Schema(&'static str),
    ListOf(&'static str),
    AnyJson,
}

/// One operation of the JSON API.
pub(super) struct Operation {
    pub(super) verb: Verb,
    /// `/api/functions/{function_id}/mode`.
    pub(super) path: &'static str,
    /// Its `operationId`.
    pub(super) id: &'static str,
    pub(super) summary: &'static str,
    pub(super) query: &'static [QueryParam],
    /// The schema of its JSON body, when it takes one.
    pub(super) body: Option<&'static str>,
    pub(super) answer: Answer,
    /// The statuses of its errors, besides those any request may meet.
    pub(super) errors: &'static [&'static str],
    /// Its handler, on the method it is given.
    pub(super) handler: fn(MethodFilter) -> MethodRouter<Panel>,
}

/// The routes of `operations`; two on one path share it.
pub(super) fn router(operations: &[Operation]) -> Router<Panel> {
    operations.iter().fold(Router::new(), |router, operation| {
        router.route(operation.path, (operation.handler)(operation.verb.filter()))
    })
}
