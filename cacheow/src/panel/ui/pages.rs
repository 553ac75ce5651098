//! The pages' markup. maud escapes every value put in it: a recorded
//! `<script>` shows as text.

use axum::http::StatusCode;
use maud::{DOCTYPE, Markup, html};

use super::chart;
use super::form::Fields;
use super::format::{function_path, millis, time};
use super::{policy, shared};
use crate::model::mock::MockOutcome;
use crate::model::mode::Mode;
use crate::model::outcome::preview;
use crate::model::time::now_millis;
use crate::panel::Panel;
use crate::panel::access::FORM_TOKEN_FIELD;
use crate::panel::requests::PAGE;
use crate::store::Recordings;
use crate::store::calls::CallRow;
use crate::store::files::CorruptFile;
use crate::store::functions::FunctionRow;
use crate::store::outcomes::OutcomeRow;
use crate::store::shared::TierView;

/// What a function's page shows besides the function.
#[derive(Debug, Default)]
pub(super) struct FunctionView {
    /// Where the page of outcomes starts.
    pub(super) offset: u64,
    pub(super) notice: Option<String>,
    pub(super) error: Option<String>,
    /// The form that failed, to fill it in again.
    pub(super) sent: Option<Fields>,
    /// Its calls running now, in this process.
    pub(super) in_flight: usize,
    /// The shared tier, when one is set.
    pub(super) tier: Option<TierView>,
}

/// What an outcome's page shows besides the outcome.
#[derive(Debug, Default)]
pub(super) struct OutcomeView {
    pub(super) notice: Option<String>,
    pub(super) error: Option<String>,
    /// The text that failed to save, to edit it again.
    pub(super) sent: Option<String>,
}

fn layout(panel: &Panel, title: &str, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · cacheow" }
                link rel="stylesheet" href="/assets/panel.css";
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.top {
                    a.brand href="/" { "cacheow" }
                    span.data-dir title="The data dir this panel shows" { (panel.runtime.data_dir().display()) }
                }
                main #main { (body) }
            }
        }
    }
}

fn messages(notice: Option<&str>, error: Option<&str>) -> Markup {
    html! {
        @if let Some(notice) = notice { p.notice role="status" { (notice) } }
        @if let Some(error) = error { p.error role="alert" { (error) } }
    }
}

fn form_token(panel: &Panel) -> Markup {
    html! { input type="hidden" name=(FORM_TOKEN_FIELD) value=(panel.access.form_token()); }
}

pub(super) fn index(panel: &Panel, functions: &[FunctionRow], tag: Option<&str>) -> Markup {
    layout(
        panel,
        "Functions",
        html! {
            h1 { "Functions" }
            @if let Some(tag) = tag {
                p.notice role="status" { "Tagged " strong { (tag) } ". " a href="/" { "Show every function" } }
            }
            @if functions.is_empty() && tag.is_some() {
                p.empty { "No function has this tag." }
            } @else if functions.is_empty() {
                p.empty {
                    "No function is registered yet: run your program with " code { "CACHEOW_ENABLE=1" }
                    " and call a " code { "#[cacheow]" } " function."
                }
            } @else {
                table.functions {
                    caption { (functions.len()) " decorated function(s). Modes switch running programs within 100 ms." }
                    thead { tr {
                        th scope="col" { "Function" } th scope="col" { "Module" } th scope="col" { "Kind" }
                        th scope="col" { "Mode" } th.num scope="col" { "Calls" } th.num scope="col" { "Hits" }
                        th.num scope="col" { "Misses" } th.num scope="col" { "Mocks" } th scope="col" { "Tags" }
                    } }
                    tbody {
                        @for function in functions {
                            tr {
                                th scope="row" {
                                    a href={ "/ui/functions/" (function.id) } { (function.name) }
                                    @if function.stale { " " (stale_badge()) }
                                }
                                td { code { (function.module_path) } }
                                td { (function.kind.as_str()) }
                                td { (mode_badge(function.mode)) }
                                td.num { (function.totals.counts.total_calls) }
                                td.num { (function.totals.counts.cache_hits) }
                                td.num { (function.totals.counts.cache_misses) }
                                td.num { (function.totals.counts.mock_calls) }
                                td { @for tag in &function.policy.tags { a.badge href={ "/?tag=" (tag) } { (tag) } " " } }
                            }
                        }
                    }
                }
            }
        },
    )
}

fn mode_badge(mode: Mode) -> Markup {
    html! { span class={ "badge mode-" (mode.as_str()) } { (mode.as_str()) } }
}

fn stale_badge() -> Markup {
    html! {
        span.badge.stale title="The program that registered it no longer has it: renamed, moved or deleted" { "stale" }
    }
}

pub(super) fn function(panel: &Panel, view: &FunctionView, recordings: &Recordings) -> Markup {
    let Recordings { function, outcomes, calls, mock_outcomes, corrupt } = recordings;
    let base = function_path(&function.id);
    layout(
        panel,
        &function.name,
        html! {
            nav.crumbs aria-label="Breadcrumb" { a href="/" { "Functions" } " / " (function.name) }
            h1 { (function.name) " " (mode_badge(function.mode)) @if function.stale { " " (stale_badge()) } }
            pre.signature { code { (function.signature) } }
            dl.facts {
                dt { "Path" } dd { code { (function.qualified_name) } }
                dt { "Id" } dd { code { (function.id) } }
                dt { "Kind" } dd { (function.kind.as_str()) }
                dt { "Source" } dd { code { (function.source) } }
            }
            (messages(view.notice.as_deref(), view.error.as_deref()))
            div.columns {
                (mode_form(panel, &base, function.mode))
                (latency_form(panel, &base, function.latency_ms()))
                (stats(function))
            }
            (policy::facts(&function.policy, view.in_flight))
            (shared::tier(view.tier.as_ref()))
            (recent_calls(calls))
            (outcome_table(&base, function, view.offset, outcomes, mock_outcomes, corrupt))
            (mock_form(panel, &base, outcomes, mock_outcomes))
            (manual_form(panel, &base, view.sent.as_ref()))
            (maintenance(panel, &base, function.max_outcomes))
        },
    )
}

fn mode_form(panel: &Panel, base: &str, current: Mode) -> Markup {
    let modes = [
        (Mode::Default, "call the function, record every outcome"),
        (Mode::Cache, "replay the outcome recorded for the same arguments; call on a miss"),
        (Mode::Mock, "never call it: replay recorded outcomes, weighted"),
    ];
    html! {
        section #mode aria-labelledby="mode-title" {
            h2 #mode-title { "Mode" }
            form method="post" action={ (base) "/mode" } {
                (form_token(panel))
                fieldset {
                    legend.visually-hidden { "Mode" }
                    @for (mode, help) in modes {
                        label.choice {
                            input type="radio" name="mode" value=(mode.as_str()) checked[mode == current];
                            strong { (mode.as_str()) } span.help { " — " (help) }
                        }
                    }
                }
                button type="submit" { "Set mode" }
            }
        }
    }
}

fn latency_form(panel: &Panel, base: &str, latency_ms: f64) -> Markup {
    html! {
        section #latency aria-labelledby="latency-title" {
            h2 #latency-title { "Latency" }
            form method="post" action={ (base) "/latency" } {
                (form_token(panel))
                label for="latency_ms" { "Added to each replay in cache and mock mode, in milliseconds" }
                div.inline {
                    input #latency_ms type="number" name="latency_ms" min="0" max="3600000" step="any"
                        value=(latency_ms) required;
                    button type="submit" { "Set latency" }
                }
            }
        }
    }
}

fn stats(function: &FunctionRow) -> Markup {
    let totals = &function.totals;
    let stats = &totals.counts;
    html! {
        section #stats aria-labelledby="stats-title" {
            h2 #stats-title { "Stats" }
            dl.stats {
                dt { "Calls" } dd { (stats.total_calls) }
                dt { "Cache hits" } dd { (stats.cache_hits) }
                dt { "Cache misses" } dd { (stats.cache_misses) }
                dt { "Mock calls" } dd { (stats.mock_calls) }
                dt { "Errors" } dd { (stats.errors) }
                dt { "Average duration" } dd { (millis(totals.average_duration_ms())) }
                dt { "Last called" } dd { (totals.last_call_ms.map_or_else(|| "never".to_owned(), time)) }
            }
        }
    }
}

fn recent_calls(calls: &[CallRow]) -> Markup {
    html! {
        section #calls aria-labelledby="calls-title" {
            h2 #calls-title { "Recent calls" }
            @if calls.is_empty() {
                p.empty { "No call yet." }
            } @else {
                (chart::durations(calls))
                details {
                    summary { "The " (calls.len()) " most recent calls" }
                    table {
                        thead { tr {
                            th scope="col" { "When" } th scope="col" { "Status" } th.num scope="col" { "Duration" }
                            th scope="col" { "Arguments key" } th scope="col" { "Outcome" }
                        } }
                        tbody {
                            @for call in calls {
                                tr {
                                    td { (time(call.at_ms)) }
                                    td { span class={ "event ev-" (call.event.as_str()) } { (call.status().as_str()) } }
                                    td.num { (millis(call.duration_ms)) }
                                    td { code.key { (call.arg_key) } }
                                    td { @if let Some(id) = &call.outcome_id { code { (id) } } }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn outcome_table(
    base: &str,
    function: &FunctionRow,
    offset: u64,
    outcomes: &[OutcomeRow],
    mock: &[MockOutcome],
    corrupt: &[CorruptFile],
) -> Markup {
    let weight = |id: &str| mock.iter().find(|entry| entry.outcome_id == id);
    let configured = !mock.is_empty();
    let (total, ttl, now_ms) = (function.outcomes, function.policy.ttl(), now_millis());
    html! {
        section #outcomes aria-labelledby="outcomes-title" {
            h2 #outcomes-title { "Outcomes " span.count { "(" (total) ")" } }
            @if !corrupt.is_empty() {
                div.error role="alert" {
                    p { (corrupt.len()) " outcome file(s) could not be replayed at the last rebuild; fix or delete them, \
                        then rebuild the index:" }
                    ul { @for file in corrupt { li { code { (file.path.display()) } ": " (file.error) } } }
                }
            }
            @if outcomes.is_empty() {
                p.empty { "No outcome on this page. Call the function in default or cache mode, or add one by hand below." }
            } @else {
                table.outcomes {
                    caption {
                        "Newest first. " (offset.saturating_add(1)) "–" (offset.saturating_add(outcomes.len() as u64)) " of " (total) "."
                        @if configured { " Only outcomes with a mock weight replay in mock mode." }
                    }
                    thead { tr {
                        th scope="col" { "Outcome" } th scope="col" { "Kind" } th scope="col" { "Arguments" }
                        th scope="col" { "Value" } th.num scope="col" { "Count" } th scope="col" { "Recorded" }
                        th scope="col" { "Last recorded" } th scope="col" { "Mock weight" }
                    } }
                    tbody {
                        @for outcome in outcomes {
                            tr {
                                th scope="row" {
                                    a href={ (base) "/outcomes/" (outcome.id) } aria-label={ "Outcome " (outcome.id) } {
                                        code { (outcome.id) }
                                    }
                                    @if outcome.manual { " " span.badge.manual { "manual" } }
                                    @if outcome.mock_only { " " span.badge.mock-only { "mock only" } }
                                    @if outcome.body_changed {
                                        " " span.badge.partial title="Recorded by another body of the function: its code changed since" { "body changed" }
                                    }
                                    @if outcome.partial {
                                        " " span.badge.partial title="The caller stopped early: never a cache hit" { "partial" }
                                    }
                                }
                                td {
                                    span class={ "kind kind-" (outcome.kind.as_str()) } { (outcome.kind.as_str()) }
                                    @if let Some(label) = &outcome.error_type { " " code { (label) } }
                                }
                                td {
                                    @if outcome.answers_any_args() { span.help { "any" } }
                                    @else { code.preview { (preview(&outcome.args, 80)) } }
                                }
                                td { code.preview { (preview(&outcome.value_preview, 120)) } }
                                td.num { (outcome.count) }
                                td { (time(outcome.recorded_at_ms)) }
                                td { (policy::last_recorded(outcome, ttl, now_ms)) }
                                td {
                                    @match weight(&outcome.id) {
                                        Some(entry) if entry.enabled => (entry.weight),
                                        Some(_) => "off",
                                        None if configured => "–",
                                        None => { (outcome.count) " (count)" },
                                    }
                                }
                            }
                        }
                    }
                }
            }
            (pager(base, total, offset))
        }
    }
}

fn pager(base: &str, total: u64, offset: u64) -> Markup {
    let previous = offset.checked_sub(PAGE).or((offset > 0).then_some(0));
    let next = offset.checked_add(PAGE).filter(|next| *next < total);
    html! {
        @if previous.is_some() || next.is_some() {
            nav.pager aria-label="Pages of outcomes" {
                @if let Some(previous) = previous { a href={ (base) "?offset=" (previous) "#outcomes" } { "← Newer" } }
                span { "Page " (offset / PAGE + 1) " of " (total.div_ceil(PAGE)) }
                @if let Some(next) = next { a href={ (base) "?offset=" (next) "#outcomes" } { "Older →" } }
            }
        }
    }
}

fn mock_form(panel: &Panel, base: &str, outcomes: &[OutcomeRow], entries: &[MockOutcome]) -> Markup {
    let new_row = entries.len();
    html! {
        section #mock-outcomes aria-labelledby="mock-title" {
            h2 #mock-title { "Mock weights" }
            p.help {
                "Without weights, mock mode replays every outcome, as often as it was recorded. With weights, it \
                 replays only the outcomes listed here, in proportion to their weights; an outcome bound to its \
                 arguments replays only for those."
            }
            form method="post" action={ (base) "/mock-outcomes" } {
                (form_token(panel))
                table.mock {
                    thead { tr {
                        th scope="col" { "Outcome" } th scope="col" { "Weight" } th scope="col" { "Enabled" }
                        th scope="col" { "Any arguments" } th scope="col" { "Remove" }
                    } }
                    tbody {
                        @for (row, entry) in entries.iter().enumerate() {
                            (mock_row(row, Some(entry), outcomes))
                        }
                        (mock_row(new_row, None, outcomes))
                    }
                }
                button type="submit" { "Save mock weights" }
            }
        }
    }
}

fn mock_row(row: usize, entry: Option<&MockOutcome>, outcomes: &[OutcomeRow]) -> Markup {
    let field = |name: &str| format!("entry-{row}-{name}");
    let label = |name: &str| match entry {
        Some(entry) => format!("{name} of outcome {}", entry.outcome_id),
        None => format!("{name} of the new entry"),
    };
    html! {
        tr {
            td {
                @if let Some(entry) = entry {
                    code { (entry.outcome_id) }
                    input type="hidden" name=(field("outcome_id")) value=(entry.outcome_id);
                } @else {
                    select #new-mock-outcome name=(field("outcome_id")) aria-label="Outcome of the new entry" {
                        option value="" { "Add an outcome of this page…" }
                        @for outcome in outcomes {
                            option value=(outcome.id) {
                                (outcome.id) " · " (outcome.kind.as_str()) " · " (preview(&outcome.value_preview, 40))
                            }
                        }
                    }
                }
            }
            td {
                input type="number" name=(field("weight")) min="0" step="any" aria-label=(label("Weight"))
                    value=(entry.map_or(1.0, |entry| entry.weight));
            }
            td { input type="checkbox" name=(field("enabled")) aria-label=(label("Enabled"))
                checked[entry.is_none_or(|entry| entry.enabled)]; }
            td { input type="checkbox" name=(field("ignore_args")) aria-label=(label("Any arguments"))
                checked[entry.is_none_or(|entry| entry.ignore_args)]; }
            td { @if entry.is_some() { input type="checkbox" name=(field("remove")) aria-label=(label("Remove")); } }
        }
    }
}

fn manual_form(panel: &Panel, base: &str, sent: Option<&Fields>) -> Markup {
    let sent = |name: &str| sent.and_then(|fields| fields.get(name)).unwrap_or_default();
    let exception = sent("outcome_type") == "exception";
    html! {
        section #manual aria-labelledby="manual-title" {
            h2 #manual-title { "Add a manual outcome" }
            form.stacked method="post" action={ (base) "/outcomes/manual" } {
                (form_token(panel))
                fieldset {
                    legend { "Kind" }
                    label.choice { input type="radio" name="outcome_type" value="return" checked[!exception]; "Return a value" }
                    label.choice { input type="radio" name="outcome_type" value="exception" checked[exception]; "Return an error" }
                }
                label for="manual-value" { "Value, as JSON" span.help { " — for an error, the error value; leave it empty to use the message" } }
                textarea #manual-value name="value" rows="4" spellcheck="false" placeholder="{\"name\": \"Ann\"}" { (sent("value")) }
                div.pair {
                    div {
                        label for="manual-exception-type" { "Error type label" }
                        input #manual-exception-type type="text" name="exception_type" placeholder="ValueError" value=(sent("exception_type"));
                    }
                    div {
                        label for="manual-exception-message" { "Error message" }
                        input #manual-exception-message type="text" name="exception_message" value=(sent("exception_message"));
                    }
                }
                label for="manual-args" { "Arguments it answers, as JSON" span.help { " — optional: as the outcomes' arguments show them, to be a cache hit for those" } }
                input #manual-args type="text" name="args" spellcheck="false" placeholder="{\"id\": 7}" value=(sent("args"));
                label.choice { input type="checkbox" name="mock_only" checked[!sent("mock_only").is_empty()]; "Mock only: never a cache hit" }
                button type="submit" { "Add outcome" }
            }
        }
    }
}

fn maintenance(panel: &Panel, base: &str, max_outcomes: Option<u64>) -> Markup {
    html! {
        section #maintenance aria-labelledby="maintenance-title" {
            h2 #maintenance-title { "Maintenance" }
            div.columns {
                form method="post" action={ (base) "/retention" } {
                    (form_token(panel))
                    label for="max_outcomes" { "Keep at most this many outcomes; the oldest go first. Empty: no cap." }
                    div.inline {
                        input #max_outcomes type="number" name="max_outcomes" min="1" step="1"
                            value=[max_outcomes];
                        button type="submit" { "Set cap" }
                    }
                }
                form method="post" action={ (base) "/rebuild-index" } {
                    (form_token(panel))
                    p.help { "Re-read the outcome files, after editing, copying or deleting them by hand." }
                    button type="submit" { "Rebuild index" }
                }
                form method="post" action={ (base) "/outcomes/delete" } {
                    (form_token(panel))
                    p.help { "Delete every recorded outcome of this function, files included." }
                    label.choice { input type="checkbox" name="confirm" required; "I mean it" }
                    button.danger type="submit" { "Delete all outcomes" }
                }
            }
        }
    }
}

pub(super) fn outcome(
    panel: &Panel,
    function: &FunctionRow,
    outcome_id: &str,
    text: &str,
    view: &OutcomeView,
) -> Markup {
    let base = function_path(&function.id);
    let pretty = serde_json::from_str::<serde_json::Value>(text)
        .ok()
        .and_then(|value| serde_json::to_string_pretty(&value).ok())
        .unwrap_or_else(|| text.to_owned());
    layout(
        panel,
        &format!("Outcome {outcome_id}"),
        html! {
            nav.crumbs aria-label="Breadcrumb" {
                a href="/" { "Functions" } " / " a href=(base) { (function.name) } " / " (outcome_id)
            }
            h1 { "Outcome " code { (outcome_id) } }
            (messages(view.notice.as_deref(), view.error.as_deref()))
            section aria-labelledby="file-title" {
                h2 #file-title { "The outcome file" }
                pre.payload { code { (pretty) } }
            }
            section aria-labelledby="edit-title" {
                h2 #edit-title { "Edit" }
                form.stacked method="post" action={ (base) "/outcomes/" (outcome_id) } {
                    (form_token(panel))
                    label for="outcome-text" {
                        "The file, as JSON. " span.help { "It keeps its id; change `value` (or `args`, `kind`, `error_type`)." }
                    }
                    textarea #outcome-text name="text" rows="18" spellcheck="false" { (view.sent.as_deref().unwrap_or(&pretty)) }
                    button type="submit" { "Save outcome" }
                }
            }
            section aria-labelledby="delete-title" {
                h2 #delete-title { "Delete" }
                form method="post" action={ (base) "/outcomes/" (outcome_id) "/delete" } {
                    (form_token(panel))
                    button.danger type="submit" { "Delete this outcome" }
                }
            }
        },
    )
}

pub(super) fn error(status: StatusCode, message: &str) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                title { (status.as_u16()) " · cacheow" }
                link rel="stylesheet" href="/assets/panel.css";
            }
            body {
                main #main {
                    h1 { (status.canonical_reason().unwrap_or("Error")) }
                    p.error role="alert" { (message) }
                    p { a href="/" { "Back to the functions" } }
                }
            }
        }
    }
}
