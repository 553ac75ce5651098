//! What a function's page shows of the shared tier: whether its outcomes
//! go to Redis, how many Redis holds, and the connection's state.

use maud::{Markup, html};

use crate::store::shared::TierView;

pub(super) fn tier(view: Option<&TierView>) -> Markup {
    html! {
        section #shared aria-labelledby="shared-title" {
            h2 #shared-title { "Shared tier" }
            @match view {
                None => p.help { "None: CACHEOW_REDIS_URL is not set, so outcomes stay in this data dir." },
                Some(view) => dl.facts {
                    dt { "Redis" } dd { code { (view.url) } " " span.badge { (view.connection) } }
                    dt { "Shared" } dd {
                        @if view.shared { "yes: its outcomes are pushed, and asked for on a miss" }
                        @else { "no: " code { "shared = false" } " keeps them here" }
                    }
                    dt { "In Redis" } dd {
                        @match view.outcomes {
                            Some(outcomes) => { (outcomes) " outcome(s)" }
                            None => "unknown: Redis did not answer",
                        }
                    }
                    dt { "To push" } dd { (view.pending) " outcome(s) recorded here wait for Redis" }
                },
            }
        }
    }
}
