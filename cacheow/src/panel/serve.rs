//! The panel on a port: started with the program on a thread of its own,
//! with its own single-threaded runtime, so that it works whether or not
//! the program uses tokio and never slows a call; or served on the current
//! thread by `cacheow serve`.

use std::net::{IpAddr, SocketAddr, TcpListener, ToSocketAddrs};
use std::sync::Arc;

use axum::Router;

use super::access::{self, Access, unavailable};
use super::{Panel, routes_of};
use crate::model::error::Error;
use crate::model::report;
use crate::model::settings::Settings;
use crate::runtime::Runtime;

/// Starts the panel on its own thread; its address, or `None` after a
/// warning when it cannot listen (a dev tool never breaks the program).
pub(crate) fn start(runtime: Arc<Runtime>, settings: &Settings) -> Option<SocketAddr> {
    let (listener, access) = match listen(settings) {
        Ok(bound) => bound,
        Err(error) => {
            report::warn(format_args!("{error}"));
            return None;
        }
    };
    let address = listener.local_addr().ok()?;
    let router = routes_of(Panel { runtime, access: Arc::new(access) });
    let spawned = std::thread::Builder::new().name("cacheow-panel".to_owned()).spawn(move || {
        if let Err(error) = run(listener, router) {
            report::warn(format_args!("cacheow's control panel stopped: {error}"));
        }
    });
    if let Err(error) = spawned {
        report::warn(format_args!("cacheow's control panel could not start a thread: {error}"));
        return None;
    }
    report::info(format_args!("cacheow control panel: {}", url(address)));
    Some(address)
}

/// Serves the panel on the current thread until the process ends: `cacheow
/// serve`. Unlike [`start`], failing to listen is an error.
pub(crate) fn serve(runtime: Arc<Runtime>, settings: &Settings, on_listen: impl FnOnce(&str)) -> Result<(), Error> {
    let (listener, access) = listen(settings)?;
    let address = listener.local_addr().map_err(|error| unavailable(settings, error.to_string()))?;
    on_listen(&url(address));
    let router = routes_of(Panel { runtime, access: Arc::new(access) });
    run(listener, router).map_err(|error| unavailable(settings, error.to_string()))
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
