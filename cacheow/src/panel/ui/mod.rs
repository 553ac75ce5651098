//! The HTML pages: the list of functions, a function's page and an
//! outcome's page. Forms post to `/ui/...` with the form token and redirect
//! back (post, redirect, get); no script runs, so everything works with the
//! keyboard and without a build step.

mod actions;
mod chart;
mod form;
mod format;
mod pages;
mod policy;
mod shared;

use std::collections::HashMap;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{MethodRouter, get, post};

use self::actions::Action;
use self::form::{Fields, PageQuery};
use self::pages::{FunctionView, OutcomeView};
use super::Panel;
use super::problem::Problem;
use super::requests::{Function, PAGE};
use crate::store::functions::FunctionRow;

const FUNCTION: &str = "/ui/functions/{function_id}";

pub(super) fn routes() -> Router<Panel> {
    let mut router = Router::new()
        .route("/", get(index))
        .route("/assets/panel.css", get(stylesheet))
        .route(FUNCTION, get(function_page))
        .route(&format!("{FUNCTION}/outcomes/{{outcome_id}}"), get(outcome_page).post(save_outcome));
    for (path, action) in actions::FORMS {
        router = router.route(&format!("{FUNCTION}/{path}"), form(*action));
    }
    router
}

/// A problem that leaves nothing else to show, as a page: an unknown id, a
/// stale form.
struct ErrorPage(Problem);

impl IntoResponse for ErrorPage {
    fn into_response(self) -> Response {
        let ErrorPage(problem) = self;
        (problem.status, Html(pages::error(problem.status, &problem.message()).into_string())).into_response()
    }
}

impl<E: Into<Problem>> From<E> for ErrorPage {
    fn from(error: E) -> Self {
        ErrorPage(error.into())
    }
}

/// What a page's path names: its function, and the outcome, for an
/// outcome's page and its forms; an error page otherwise.
struct Target {
    function: FunctionRow,
    outcome_id: Option<String>,
}

impl Target {
    /// The outcome of an outcome's page, which its route always names.
    fn outcome(&self) -> Result<&str, ErrorPage> {
        self.outcome_id.as_deref().ok_or_else(|| ErrorPage(Problem::outcome_not_found()))
    }
}

impl FromRequestParts<Panel> for Target {
    type Rejection = ErrorPage;

    async fn from_request_parts(parts: &mut Parts, panel: &Panel) -> Result<Self, ErrorPage> {
        let Function(function) = Function::from_request_parts(parts, panel).await?;
        let outcome_id = match Path::<HashMap<String, String>>::from_request_parts(parts, panel).await {
            Ok(Path(mut params)) => params.remove("outcome_id"),
            Err(_) => None,
        };
        Ok(Target { function, outcome_id })
    }
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("panel.css")).into_response()
}

/// `/?tag=users`: the functions with that tag.
#[derive(Debug, Default, serde::Deserialize)]
struct IndexQuery {
    tag: Option<String>,
}

async fn index(
    State(panel): State<Panel>,
    query: Result<Query<IndexQuery>, QueryRejection>,
) -> Result<Html<String>, ErrorPage> {
    let tag = query.map(|Query(query)| query.tag).unwrap_or_default().filter(|tag| !tag.is_empty());
    let page = panel
        .blocking(move |panel| {
            let mut functions = panel.runtime.functions()?;
            if let Some(tag) = &tag {
                functions.retain(|function| function.policy.tags.contains(tag));
            }
            Ok(pages::index(&panel, &functions, tag.as_deref()).into_string())
        })
        .await?;
    Ok(Html(page))
}

async fn function_page(
    State(panel): State<Panel>,
    target: Target,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ErrorPage> {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let view = FunctionView { offset: query.offset, notice: query.notice(), ..Default::default() };
    Ok(panel.blocking(move |panel| render_function(&panel, &target.function, view, StatusCode::OK)).await?)
}

fn render_function(
    panel: &Panel,
    function: &FunctionRow,
    view: FunctionView,
    status: StatusCode,
) -> Result<Response, Problem> {
    let recordings =
        panel.runtime.recordings(&function.id, view.offset, PAGE)?.ok_or_else(Problem::function_not_found)?;
    let in_flight = panel.runtime.loaded(&function.id).map_or(0, |state| state.in_flight().len());
    let tier = panel.tier(function);
    let page = pages::function(panel, &FunctionView { in_flight, tier, ..view }, &recordings);
    Ok((status, Html(page.into_string())).into_response())
}

/// A form's route: it runs `action` on the page's function, then redirects
/// to its page with a notice, or shows its page again with the error and
/// the form as it was sent.
fn form(action: Action) -> MethodRouter<Panel> {
    post(move |State(panel): State<Panel>, target: Target, fields: Fields| async move {
        let answer = panel.blocking(move |panel| match action(&panel, &target, &fields) {
            Ok(notice) => Ok(Redirect::to(&notice.location(&target.function.id)).into_response()),
            Err(problem) => {
                let status = problem.status;
                let view = FunctionView { error: Some(problem.message()), sent: Some(fields), ..Default::default() };
                render_function(&panel, &target.function, view, status)
            }
        });
        answer.await.map_err(ErrorPage)
    })
}

async fn outcome_page(
    State(panel): State<Panel>,
    target: Target,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ErrorPage> {
    let notice = query.ok().and_then(|Query(query)| query.notice());
    let view = OutcomeView { notice, ..Default::default() };
    let outcome_id = target.outcome()?.to_owned();
    let page = panel.blocking(move |panel| render_outcome(&panel, &target.function, &outcome_id, view, StatusCode::OK));
    Ok(page.await?)
}

fn render_outcome(
    panel: &Panel,
    function: &FunctionRow,
    outcome_id: &str,
    view: OutcomeView,
    status: StatusCode,
) -> Result<Response, Problem> {
    let text = panel.runtime.outcome_text(&function.id, outcome_id)?;
    Ok((status, Html(pages::outcome(panel, function, outcome_id, &text, &view).into_string())).into_response())
}

/// Saves an edited outcome file; a file that does not read as an outcome
/// shows the page again, with the error and the text as it was sent.
async fn save_outcome(State(panel): State<Panel>, target: Target, fields: Fields) -> Result<Response, ErrorPage> {
    let outcome_id = target.outcome()?.to_owned();
    let answer = panel.blocking(move |panel| {
        let function = &target.function;
        let text = fields.get("text").unwrap_or_default();
        match panel.runtime.replace_outcome(&function.id, &outcome_id, text).map_err(Problem::from) {
            Ok(saved_id) => {
                let location = format!("{}?notice=saved", format::outcome_path(&function.id, &saved_id));
                Ok(Redirect::to(&location).into_response())
            }
            Err(problem) if problem.status == StatusCode::UNPROCESSABLE_ENTITY => {
                let view =
                    OutcomeView { error: Some(problem.message()), sent: Some(text.to_owned()), ..Default::default() };
                render_outcome(&panel, function, &outcome_id, view, problem.status)
            }
            Err(problem) => Err(problem),
        }
    });
    Ok(answer.await?)
}
