//! The HTML pages: the list of functions, a function's page and an
//! outcome's page. Forms post to `/ui/...` with the form token and redirect
//! back (post, redirect, get); no script runs, so everything works with the
//! keyboard and without a build step.

mod chart;
mod form;
mod pages;

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequestParts, Query, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use self::form::{Fields, Notice, PageQuery};
use self::pages::{FunctionView, OutcomeView, Recordings};
use super::Panel;
use super::problem::Problem;
use super::requests::{self, Function, OutcomeId, PAGE};
use crate::db::FunctionRow;

pub(super) fn routes() -> Router<Panel> {
    const FUNCTION: &str = "/ui/functions/{function_id}";
    Router::new()
        .route("/", get(index))
        .route("/assets/panel.css", get(stylesheet))
        .route(FUNCTION, get(function_page))
        .route(&format!("{FUNCTION}/mode"), post(set_mode))
        .route(&format!("{FUNCTION}/latency"), post(set_latency))
        .route(&format!("{FUNCTION}/mock-outcomes"), post(set_mock_outcomes))
        .route(&format!("{FUNCTION}/outcomes/manual"), post(add_manual_outcome))
        .route(&format!("{FUNCTION}/outcomes/delete"), post(delete_outcomes))
        .route(&format!("{FUNCTION}/rebuild-index"), post(rebuild_index))
        .route(&format!("{FUNCTION}/retention"), post(set_retention))
        .route(&format!("{FUNCTION}/outcomes/{{outcome_id}}"), get(outcome_page).post(save_outcome))
        .route(&format!("{FUNCTION}/outcomes/{{outcome_id}}/delete"), post(delete_outcome))
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

/// The function of a page's path; an error page otherwise.
struct PageFunction(FunctionRow);

impl FromRequestParts<Panel> for PageFunction {
    type Rejection = ErrorPage;

    async fn from_request_parts(parts: &mut Parts, panel: &Panel) -> Result<Self, ErrorPage> {
        let Function(row) = Function::from_request_parts(parts, panel).await?;
        Ok(PageFunction(row))
    }
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("panel.css")).into_response()
}

async fn index(State(panel): State<Panel>) -> Result<Html<String>, ErrorPage> {
    Ok(Html(pages::index(&panel, &panel.db.functions()?).into_string()))
}

async fn function_page(
    State(panel): State<Panel>,
    PageFunction(row): PageFunction,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ErrorPage> {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let view = FunctionView { offset: query.offset, notice: query.notice(), ..Default::default() };
    render_function(&panel, row, view, StatusCode::OK)
}

fn render_function(
    panel: &Panel,
    row: FunctionRow,
    view: FunctionView,
    status: StatusCode,
) -> Result<Response, ErrorPage> {
    let (total, outcomes) = panel.db.outcomes_page(&row.id, view.offset, PAGE)?;
    let recorded = Recordings {
        total,
        outcomes,
        calls: panel.db.recent_calls(&row.id, PAGE)?,
        mock_outcomes: panel.db.mock_outcomes(&row.id)?,
        corrupt: panel.db.corrupt_files(&row.id)?,
    };
    let page = pages::function(panel, &row, &view, &recorded);
    Ok((status, Html(page.into_string())).into_response())
}

/// Runs a form's action on a function: a redirect to its page with a
/// notice, or its page again with the error and the form as it was sent.
fn act(
    panel: &Panel,
    row: FunctionRow,
    fields: Fields,
    action: impl FnOnce(&FunctionRow, &Fields) -> Result<Notice, Problem>,
) -> Result<Response, ErrorPage> {
    match action(&row, &fields) {
        Ok(notice) => Ok(Redirect::to(&notice.location(&row.id)).into_response()),
        Err(problem) => {
            let status = problem.status;
            let view = FunctionView { error: Some(problem.message()), sent: Some(fields), ..Default::default() };
            render_function(panel, row, view, status)
        }
    }
}

async fn set_mode(
    State(panel): State<Panel>,
    PageFunction(row): PageFunction,
    fields: Fields,
) -> Result<Response, ErrorPage> {
    act(&panel, row, fields, |row, fields| {
        panel.db.set_mode(&row.id, fields.mode()?)?;
        Ok(Notice::Mode)
    })
}

async fn set_latency(
    State(panel): State<Panel>,
    PageFunction(row): PageFunction,
    fields: Fields,
) -> Result<Response, ErrorPage> {
    act(&panel, row, fields, |row, fields| {
        panel.db.set_latency(&row.id, fields.latency()?)?;
        Ok(Notice::Latency)
    })
}

async fn set_mock_outcomes(
    State(panel): State<Panel>,
    PageFunction(row): PageFunction,
    fields: Fields,
) -> Result<Response, ErrorPage> {
    act(&panel, row, fields, |row, fields| {
        requests::set_mock_outcomes(&panel, &row.id, fields.mock_outcomes()?)?;
        Ok(Notice::MockOutcomes)
    })
}

async fn add_manual_outcome(
    State(panel): State<Panel>,
    PageFunction(row): PageFunction,
    fields: Fields,
) -> Result<Response, ErrorPage> {
    act(&panel, row, fields, |row, fields| {
        panel.db.add_manual_outcome(&row.id, fields.manual_outcome()?.into_manual())?;
        Ok(Notice::ManualOutcome)
    })
}

async fn delete_outcomes(
    State(panel): State<Panel>,
    PageFunction(row): PageFunction,
    fields: Fields,
) -> Result<Response, ErrorPage> {
    act(&panel, row, fields, |row, fields| {
        fields.confirmed()?;
        let deleted = panel.db.delete_outcomes(&row.id)?;
        Ok(Notice::Deleted { deleted })
    })
}

async fn rebuild_index(
    State(panel): State<Panel>,
    PageFunction(row): PageFunction,
    fields: Fields,
) -> Result<Response, ErrorPage> {
    act(&panel, row, fields, |row, _| {
        let rebuilt = panel.db.rebuild_index(&row.id)?;
        Ok(Notice::Rebuilt { indexed: rebuilt.indexed as u64, corrupt: rebuilt.corrupt.len() as u64 })
    })
}

async fn set_retention(
    State(panel): State<Panel>,
    PageFunction(row): PageFunction,
    fields: Fields,
) -> Result<Response, ErrorPage> {
    act(&panel, row, fields, |row, fields| {
        panel.db.set_max_outcomes(&row.id, fields.max_outcomes()?)?;
        Ok(Notice::Retention)
    })
}

async fn outcome_page(
    State(panel): State<Panel>,
    PageFunction(row): PageFunction,
    OutcomeId(outcome_id): OutcomeId,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Result<Response, ErrorPage> {
    let notice = query.ok().and_then(|Query(query)| query.notice());
    render_outcome(&panel, &row, &outcome_id, OutcomeView { notice, ..Default::default() }, StatusCode::OK)
}

fn render_outcome(
    panel: &Panel,
    row: &FunctionRow,
    outcome_id: &str,
    view: OutcomeView,
    status: StatusCode,
) -> Result<Response, ErrorPage> {
    let text = panel.db.outcome_text(&row.id, outcome_id)?;
    Ok((status, Html(pages::outcome(panel, row, outcome_id, &text, &view).into_string())).into_response())
}

async fn save_outcome(
    State(panel): State<Panel>,
    PageFunction(row): PageFunction,
    OutcomeId(outcome_id): OutcomeId,
    fields: Fields,
) -> Result<Response, ErrorPage> {
    let text = fields.get("text").unwrap_or_default();
    match panel.db.replace_outcome(&row.id, &outcome_id, text).map_err(Problem::from) {
        Ok(()) => {
            Ok(Redirect::to(&format!("/ui/functions/{}/outcomes/{outcome_id}?notice=saved", row.id)).into_response())
        }
        Err(problem) if problem.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let view =
                OutcomeView { error: Some(problem.message()), sent: Some(text.to_owned()), ..Default::default() };
            render_outcome(&panel, &row, &outcome_id, view, problem.status)
        }
        Err(problem) => Err(ErrorPage(problem)),
    }
}

async fn delete_outcome(
    State(panel): State<Panel>,
    PageFunction(row): PageFunction,
    OutcomeId(outcome_id): OutcomeId,
    fields: Fields,
) -> Result<Response, ErrorPage> {
    act(&panel, row, fields, |row, _| {
        panel.db.delete_outcome(&row.id, &outcome_id)?;
        Ok(Notice::OutcomeDeleted)
    })
}
