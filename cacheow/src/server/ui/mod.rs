//! The HTML pages: the list of functions, a function's page and an
//! outcome's page. Forms post to `/ui/...` with the form token and redirect
//! back (post, redirect, get); no script runs, so everything works with the
//! keyboard and without a build step.

mod chart;
mod form;
mod pages;

use axum::Router;
use axum::extract::rejection::{FormRejection, QueryRejection};
use axum::extract::{Form, Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};

use self::form::{Fields, Notice, PageQuery};
use self::pages::{FunctionView, OutcomeView};
use super::Panel;
use super::api::{self, PAGE};
use super::problem::Problem;
use crate::catalog::{self, FunctionRow};

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
        .route(&format!("{FUNCTION}/outcomes/{{outcome_id}}"), get(outcome_page).post(save_outcome))
        .route(&format!("{FUNCTION}/outcomes/{{outcome_id}}/delete"), post(delete_outcome))
}

async fn stylesheet() -> Response {
    ([(header::CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("panel.css")).into_response()
}

async fn index(State(panel): State<Panel>) -> Response {
    match panel.db.read(catalog::functions) {
        Ok(functions) => Html(pages::index(&panel, &functions).into_string()).into_response(),
        Err(error) => error_page(Problem::from(error)),
    }
}

async fn function_page(
    State(panel): State<Panel>,
    Path(function_id): Path<String>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let query = query.map(|Query(query)| query).unwrap_or_default();
    let row = match api::function_row(&panel, &function_id) {
        Ok(row) => row,
        Err(problem) => return error_page(problem),
    };
    let view = FunctionView { offset: query.offset, notice: query.notice(), ..Default::default() };
    render_function(&panel, row, view, StatusCode::OK)
}

fn render_function(panel: &Panel, row: FunctionRow, view: FunctionView, status: StatusCode) -> Response {
    let loaded = panel.db.read(|conn| {
        let (total, outcomes) = catalog::outcomes(conn, &row.id, view.offset, PAGE)?;
        Ok((total, outcomes, catalog::recent_calls(conn, &row.id, PAGE)?))
    });
    let mock_outcomes = panel.db.mock_outcomes(&row.id);
    match (loaded, mock_outcomes) {
        (Ok((total, outcomes, calls)), Ok(mock_outcomes)) => {
            let page = pages::function(panel, &row, &view, total, &outcomes, &calls, &mock_outcomes);
            (status, Html(page.into_string())).into_response()
        }
        (Err(error), _) | (_, Err(error)) => error_page(Problem::from(error)),
    }
}

type FormBody = Result<Form<Vec<(String, String)>>, FormRejection>;

/// Runs a form's action on a function: a redirect to its page with a
/// notice, or its page again with the error and the form as it was sent.
fn act(
    panel: &Panel,
    function_id: &str,
    body: FormBody,
    action: impl FnOnce(&FunctionRow, &Fields) -> Result<Notice, Problem>,
) -> Response {
    let row = match api::function_row(panel, function_id) {
        Ok(row) => row,
        Err(problem) => return error_page(problem),
    };
    let fields = match Fields::checked(panel, body) {
        Ok(fields) => fields,
        Err(problem) => return error_page(problem),
    };
    match action(&row, &fields) {
        Ok(notice) => Redirect::to(&notice.location(&row.id)).into_response(),
        Err(problem) => {
            let status = problem.status;
            let view = FunctionView { error: Some(problem.message()), sent: Some(fields), ..Default::default() };
            render_function(panel, row, view, status)
        }
    }
}

async fn set_mode(State(panel): State<Panel>, Path(function_id): Path<String>, body: FormBody) -> Response {
    act(&panel, &function_id, body, |row, fields| {
        let mode = fields.mode()?;
        panel.db.set_mode(&row.id, mode)?;
        Ok(Notice::Mode)
    })
}

async fn set_latency(State(panel): State<Panel>, Path(function_id): Path<String>, body: FormBody) -> Response {
    act(&panel, &function_id, body, |row, fields| {
        panel.db.set_latency(&row.id, fields.latency()?)?;
        Ok(Notice::Latency)
    })
}

async fn set_mock_outcomes(State(panel): State<Panel>, Path(function_id): Path<String>, body: FormBody) -> Response {
    act(&panel, &function_id, body, |row, fields| {
        api::save_mock_outcomes(&panel, &row.id, fields.mock_outcomes()?)?;
        Ok(Notice::MockOutcomes)
    })
}

async fn add_manual_outcome(State(panel): State<Panel>, Path(function_id): Path<String>, body: FormBody) -> Response {
    act(&panel, &function_id, body, |row, fields| {
        panel.db.add_manual_outcome(&row.id, fields.manual_outcome()?.into_manual())?;
        Ok(Notice::ManualOutcome)
    })
}

async fn delete_outcomes(State(panel): State<Panel>, Path(function_id): Path<String>, body: FormBody) -> Response {
    act(&panel, &function_id, body, |row, fields| {
        fields.confirmed()?;
        let deleted = panel.db.delete_outcomes(&row.id)?;
        Ok(Notice::Deleted { deleted })
    })
}

async fn rebuild_index(State(panel): State<Panel>, Path(function_id): Path<String>, body: FormBody) -> Response {
    act(&panel, &function_id, body, |row, _| {
        let rebuilt = panel.db.rebuild_index(&row.id)?;
        Ok(Notice::Rebuilt { indexed: rebuilt.indexed as u64, corrupt: rebuilt.corrupt.len() as u64 })
    })
}

async fn outcome_page(
    State(panel): State<Panel>,
    Path((function_id, outcome_id)): Path<(String, String)>,
    query: Result<Query<PageQuery>, QueryRejection>,
) -> Response {
    let notice = query.ok().and_then(|Query(query)| query.notice());
    render_outcome(&panel, &function_id, &outcome_id, OutcomeView { notice, ..Default::default() }, StatusCode::OK)
}

fn render_outcome(
    panel: &Panel,
    function_id: &str,
    outcome_id: &str,
    view: OutcomeView,
    status: StatusCode,
) -> Response {
    let loaded =
        api::function_row(panel, function_id).and_then(|row| Ok((panel.db.outcome_text(&row.id, outcome_id)?, row)));
    match loaded {
        Ok((text, row)) => {
            (status, Html(pages::outcome(panel, &row, outcome_id, &text, &view).into_string())).into_response()
        }
        Err(problem) => error_page(problem),
    }
}

async fn save_outcome(
    State(panel): State<Panel>,
    Path((function_id, outcome_id)): Path<(String, String)>,
    body: FormBody,
) -> Response {
    let fields = match Fields::checked(&panel, body) {
        Ok(fields) => fields,
        Err(problem) => return error_page(problem),
    };
    let text = fields.get("text").unwrap_or_default();
    let saved = api::function_row(&panel, &function_id)
        .and_then(|row| Ok(panel.db.replace_outcome(&row.id, &outcome_id, text)?));
    match saved {
        Ok(()) => {
            Redirect::to(&format!("/ui/functions/{function_id}/outcomes/{outcome_id}?notice=saved")).into_response()
        }
        Err(problem) if problem.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let view =
                OutcomeView { error: Some(problem.message()), sent: Some(text.to_owned()), ..Default::default() };
            render_outcome(&panel, &function_id, &outcome_id, view, problem.status)
        }
        Err(problem) => error_page(problem),
    }
}

async fn delete_outcome(
    State(panel): State<Panel>,
    Path((function_id, outcome_id)): Path<(String, String)>,
    body: FormBody,
) -> Response {
    act(&panel, &function_id, body, |row, _| {
        panel.db.delete_outcome(&row.id, &outcome_id)?;
        Ok(Notice::OutcomeDeleted)
    })
}

/// A page for a problem that leaves nothing else to show: an unknown id, a
/// stale form.
fn error_page(problem: Problem) -> Response {
    (problem.status, Html(pages::error(problem.status, &problem.message()).into_string())).into_response()
}
