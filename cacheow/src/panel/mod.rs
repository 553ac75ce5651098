//! The control panel: a local web server over a runtime's data dir, with a
//! JSON API that answers as the Python cacheow's does, and server-rendered
//! pages.
//!
//! [`router`] builds its routes from a runtime and settings, with no global
//! and no environment; [`serve`](serve::serve) and [`start`](serve::start)
//! bind a port for it.

mod access;
mod api;
mod openapi;
mod problem;
mod requests;
mod routes;
mod serve;
mod ui;

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;

pub(crate) use serve::{serve, start, url};

use crate::model::error::Error;
use crate::model::settings::Settings;
use crate::runtime::Runtime;
use crate::store::functions::FunctionRow;
use crate::store::shared::TierView;

/// The largest request body the panel reads: an outcome's payload, edited.
const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// What every handler of the panel shares.
#[derive(Clone)]
struct Panel {
    runtime: Arc<Runtime>,
    access: Arc<access::Access>,
}

impl Panel {
    /// The shared tier, as a function's page and its API answer show it.
    /// It waits for Redis to count: call it on the blocking pool.
    fn tier(&self, function: &FunctionRow) -> Option<TierView> {
        let shared = function.policy.shared != Some(false);
        self.runtime.shared().map(|tier| tier.view(&function.id, shared))
    }

    /// Runs `work` on tokio's blocking pool, off the panel's one runtime
    /// thread: a request that waits for the database or the disk (another
    /// process's transaction, a rebuild of many files) stalls no other.
    async fn blocking<T: Send + 'static>(
        &self,
        work: impl FnOnce(Panel) -> Result<T, problem::Problem> + Send + 'static,
    ) -> Result<T, problem::Problem> {
        let panel = self.clone();
        tokio::task::spawn_blocking(move || work(panel)).await.unwrap_or_else(|_| Err(problem::Problem::panicked()))
    }
}

/// The panel's routes over `runtime`, guarded by the access rules of
/// `settings`; refused for a host other machines reach without a token.
pub(crate) fn router(runtime: Arc<Runtime>, settings: &Settings) -> Result<Router, Error> {
    Ok(routes_of(Panel { runtime, access: Arc::new(access::Access::from_settings(settings)?) }))
}

fn routes_of(panel: Panel) -> Router {
    Router::new()
        .merge(api::routes())
        .merge(ui::routes())
        .fallback(problem::no_route)
        .method_not_allowed_fallback(problem::no_method)
        .layer(axum::middleware::from_fn_with_state(panel.clone(), access::guard))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(panel)
}
