//! The chart of recent call durations: inline SVG, one bar per call,
//! coloured by what the call did.

use maud::{Markup, html};

use super::format::{millis, time};
use crate::model::event::CallEvent;
use crate::panel::requests::PAGE;
use crate::store::calls::CallRow;

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 120.0;

/// What each colour means, for the legend.
fn meaning(event: CallEvent) -> &'static str {
    match event {
        CallEvent::Recorded => "recorded (called)",
        CallEvent::Hit => "cache hit",
        CallEvent::Miss => "cache miss (called)",
        CallEvent::Mock => "mock",
    }
}

/// Bars of `calls` (newest first), oldest on the left.
pub(super) fn durations(calls: &[CallRow]) -> Markup {
    let longest = calls.iter().map(|call| call.duration_ms).fold(0.0, f64::max);
    // As wide as a full chart's bars, whatever the number of calls.
    let slot = WIDTH / calls.len().max(PAGE as usize) as f64;
    let summary = format!(
        "Durations of the {} most recent calls, oldest first; the longest took {}.",
        calls.len(),
        millis(longest)
    );
    html! {
        figure.chart {
            svg viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(summary) preserveAspectRatio="none" {
                @for (i, call) in calls.iter().rev().enumerate() {
                    @let height = if longest > 0.0 { (call.duration_ms / longest * (HEIGHT - 3.0)).max(3.0) } else { 3.0 };
                    rect class={ "ev-" (call.event.as_str()) } x=(i as f64 * slot + 1.0) y=(HEIGHT - height)
                        width=((slot - 2.0).max(1.0)) height=(height) {
                        title { (call.event.as_str()) " · " (millis(call.duration_ms)) " · " (time(call.at_ms)) }
                    }
                }
            }
            figcaption {
                ul.legend {
                    @for event in CallEvent::ALL {
                        li { span class={ "swatch ev-" (event.as_str()) } aria-hidden="true" {} (meaning(event)) }
                    }
                }
            }
        }
    }
}
