//! The control panel: a local web server over a data dir, with a JSON API
//! that answers as the Python cacheow's does and server-rendered pages.
//!
//! It runs on its own thread and its own single-threaded runtime, so it
//! works whether or not the program uses tokio, and it never slows a call.

mod access;
mod api;
mod openapi;
mod problem;
mod requests;
mod ui;

use std::net::{IpAddr, SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;

pub(crate) use access::Access;

use crate::db::Db;
use crate::{Error, Settings};

/// The largest request body the panel reads: an outcome's payload, edited.
const BODY_LIMIT: usize = 4 * 1024 * 1024;

/// What every handler of the panel shares.
#[derive(Clone)]
struct Panel {
    db: &'static Db,
    access: Arc<Access>,
}

/// The panel's routes over `db`, guarded by `access`.
pub(crate) fn router(db: &'static Db, access: Access) -> Router {
    let panel = Panel { db, access: Arc::new(access) };
    Router::new()
        .merge(api::routes())
        .merge(ui::routes())
        .route("/api/openapi.json", axum::routing::get(openapi::document))
        .fallback(problem::no_route)
        .method_not_allowed_fallback(problem::no_method)
        .layer(axum::middleware::from_fn_with_state(panel.clone(), access::guard))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .with_state(panel)
}

/// Starts the panel on its own thread; its address, or `None` after a
/// warning when it cannot listen (a dev tool never breaks the program).
pub(crate) fn start(db: &'static Db, settings: &Settings) -> Option<SocketAddr> {
    let (listener, access) = match listen(settings) {
        Ok(bound) => bound,
        Err(error) => {
            tracing::warn!("{error}");
            return None;
        }
    };
    let address = listener.local_addr().ok()?;
    let router = router(db, access);
    let spawned = std::thread::Builder::new().name("cacheow-panel".to_owned()).spawn(move || {
        if let Err(error) = run(listener, router) {
            tracing::warn!("cacheow's control panel stopped: {error}");
        }
    });
    if let Err(error) = spawned {
        tracing::warn!("cacheow's control panel could not start a thread: {error}");
        return None;
    }
    tracing::info!("cacheow control panel: {}", url(address));
    Some(address)
}

/// Serves the panel on the current thread until the process ends: `cacheow
/// serve`. Unlike [`start`], failing to listen is an error.
pub(crate) fn serve(db: &'static Db, settings: &Settings, on_listen: impl FnOnce(&str)) -> Result<(), Error> {
    let (listener, access) = listen(settings)?;
    let address = listener.local_addr().map_err(|error| unavailable(settings, error.to_string()))?;
    on_listen(&url(address));
    run(listener, router(db, access)).map_err(|error| unavailable(settings, error.to_string()))
}

/// The panel's URL at `address`.
pub(crate) fn url(address: SocketAddr) -> String {
    format!("http://{address}/")
}

/// Checks the settings and listens on their address.
fn listen(settings: &Settings) -> Result<(TcpListener, Access), Error> {
    let access = Access::from_settings(settings)?;
    let host = settings.server_host.trim_start_matches('[').trim_end_matches(']');
    // An address needs no lookup, which could block the program's first call.
    let address = match host.parse::<IpAddr>() {
        Ok(ip) => Some(SocketAddr::new(ip, settings.server_port)),
        Err(_) => (host, settings.server_port).to_socket_addrs().ok().and_then(|mut addresses| addresses.next()),
    };
    let address = address.ok_or_else(|| {
        unavailable(settings, "the host does not resolve: set CACHEOW_SERVER_HOST to an address".to_owned())
    })?;
    // What counts is where the name leads, not how it reads.
    if !address.ip().is_loopback() && settings.server_token.is_none() {
        return Err(access::not_loopback(settings));
    }
    let listener = TcpListener::bind(address).map_err(|error| {
        let reason = if error.kind() == std::io::ErrorKind::AddrInUse {
            "the port is taken, maybe by another program using cacheow, whose panel shows the same data dir; \
             set CACHEOW_SERVER_PORT to another port (0 picks a free one), or CACHEOW_START_SERVER=0"
                .to_owned()
        } else {
            error.to_string()
        };
        unavailable(settings, reason)
    })?;
    Ok((listener, access))
}

fn run(listener: TcpListener, router: Router) -> std::io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_current_thread().enable_io().build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::from_std(listener)?;
        axum::serve(listener, router).await
    })
}

pub(crate) fn unavailable(settings: &Settings, reason: String) -> Error {
    Error::PanelUnavailable { address: format!("{}:{}", settings.server_host, settings.server_port), reason }
}
