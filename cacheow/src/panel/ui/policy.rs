//! What the pages show of a function's cache policy: its ttl, tags, dedupe
//! and wait, the calls in flight now, and each outcome's age against the
//! ttl.

use std::time::Duration;

use maud::{Markup, html};

use super::format::time;
use crate::model::policy::StoredPolicy;
use crate::store::outcomes::OutcomeRow;

/// The policy of a function, as its program last registered it, and the
/// calls of it in flight in this process.
pub(super) fn facts(policy: &StoredPolicy, in_flight: usize) -> Markup {
    html! {
        section #policy aria-labelledby="policy-title" {
            h2 #policy-title { "Cache policy" }
            dl.facts {
                dt { "ttl" } dd { (policy.ttl().map_or_else(|| "none: outcomes never expire".to_owned(), span)) }
                @if policy.serve_stale { dt { "Expired" } dd { "served at once, and refreshed in the background" } }
                @if !policy.cache_errors { dt { "Errors" } dd { "returned, never recorded" } }
                dt { "Tags" } dd {
                    @if policy.tags.is_empty() { "none" }
                    @for tag in &policy.tags { a.badge href={ "/?tag=" (tag) } { (tag) } " " }
                }
                dt { "Dedupe" } dd { (policy.dedupe) }
                dt { "Wait" } dd { (span(Duration::from_millis(policy.wait_ms))) }
                dt { "In flight" } dd { (in_flight) " call(s) running now in this process" }
            }
        }
    }
}

/// When an outcome was last recorded, and how old that is; `expired` past
/// the ttl.
pub(super) fn last_recorded(outcome: &OutcomeRow, ttl: Option<Duration>, now_ms: i64) -> Markup {
    let last_ms = outcome.last_recorded_ms.max(outcome.recorded_at_ms);
    let age = Duration::from_millis(u64::try_from(now_ms.saturating_sub(last_ms)).unwrap_or(0));
    let expired = ttl.is_some_and(|ttl| age > ttl);
    html! {
        (time(last_ms)) " " span.help { "(" (span(age)) " ago)" }
        @if expired { " " span.badge.expired title="Older than the ttl: a cache-mode call records it again" { "expired" } }
    }
}

/// `1h 30m`, `250ms`: to the millisecond.
fn span(duration: Duration) -> String {
    humantime::format_duration(Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)))
        .to_string()
}
