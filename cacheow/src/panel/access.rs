//! Who may use the panel. It controls what the program returns, so:
//!
//! - it listens on loopback unless `CACHEOW_TOKEN` is set, and then every
//!   request carries the token;
//! - a request for another `Host` is refused (DNS rebinding);
//! - a state-changing request needs a JSON body or the per-process form
//!   token, and one from another origin is refused (cross-site forgery).

use std::collections::HashMap;
use std::net::IpAddr;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use xxhash_rust::xxh3::xxh3_128;

use super::Panel;
use super::problem::Problem;
use crate::model::error::Error;
use crate::model::settings::Settings;

/// The header and form field that carry the form token.
pub(crate) const FORM_TOKEN_FIELD: &str = "form_token";
const FORM_TOKEN_HEADER: &str = "x-cacheow-form-token";
const TOKEN_HEADER: &str = "x-cacheow-token";
const TOKEN_COOKIE: &str = "cacheow_token";

/// The panel's access rules.
#[derive(Debug)]
pub(crate) struct Access {
    /// The configured host, lowercase: a `Host` the panel answers besides
    /// loopback ones.
    host: String,
    /// Any `Host` is answered: the panel listens on every interface, and
    /// every request carries the token.
    any_host: bool,
    token: Option<String>,
    /// Proves that a form was served by this process.
    form_token: String,
}

impl Access {
    /// The rules for these settings; refused when the panel would be
    /// reachable from other machines without a token.
    pub(crate) fn from_settings(settings: &Settings) -> Result<Access, Error> {
        let host = settings.server_host.trim_start_matches('[').trim_end_matches(']').to_ascii_lowercase();
        let token = settings.server_token.clone();
        if !is_loopback(&host) && token.is_none() {
            return Err(not_loopback(settings));
        }
        let any_host = host.parse::<IpAddr>().is_ok_and(|ip| ip.is_unspecified());
        let form_token = format!("{:032x}", rand::random::<u128>());
        Ok(Access { host, any_host, token, form_token })
    }

    /// Whether `token` is this process's form token.
    pub(crate) fn is_form_token(&self, token: &str) -> bool {
        same_secret(token, &self.form_token)
    }

    pub(crate) fn form_token(&self) -> &str {
        &self.form_token
    }

    fn check_host(&self, headers: &HeaderMap) -> Result<(), Problem> {
        let host = headers.get(header::HOST).and_then(|value| value.to_str().ok()).map(strip_port);
        match host {
            Some(host) if self.any_host || is_loopback(&host) || host == self.host => Ok(()),
            _ => Err(Problem::new(
                StatusCode::FORBIDDEN,
                "the Host header names neither a loopback address nor CACHEOW_SERVER_HOST: refused, as a \
                 DNS rebinding attack would be; open the panel at http://127.0.0.1:<port>/",
            )),
        }
    }

    /// Checks the token; `true` when it came in the query, to be kept in a
    /// cookie for the pages that follow.
    fn check_token(&self, request: &Request) -> Result<bool, Problem> {
        let Some(token) = &self.token else { return Ok(false) };
        let headers = request.headers();
        let presented = [bearer(headers), header_text(headers, TOKEN_HEADER), cookie(headers, TOKEN_COOKIE)];
        if presented.into_iter().flatten().any(|given| same_secret(given, token)) {
            return Ok(false);
        }
        let query = Query::<HashMap<String, String>>::try_from_uri(request.uri()).map(|query| query.0);
        if query.is_ok_and(|query| query.get("token").is_some_and(|given| same_secret(given, token))) {
            return Ok(true);
        }
        Err(Problem::new(
            StatusCode::UNAUTHORIZED,
            "this panel needs the token of CACHEOW_TOKEN: send `Authorization: Bearer <token>`, or open \
             /?token=<token> once in the browser",
        ))
    }

    /// Answers the browser that opened `?token=`: the token goes into a
    /// cookie, and out of the address bar and the history.
    fn log_in(&self, request: &Request) -> Response {
        let query: Vec<&str> = request
            .uri()
            .query()
            .unwrap_or_default()
            .split('&')
            .filter(|pair| !pair.is_empty() && !pair.starts_with("token="))
            .collect();
        let path = request.uri().path();
        let location = if query.is_empty() { path.to_owned() } else { format!("{path}?{}", query.join("&")) };
        let mut response = Redirect::to(&location).into_response();
        let cookie =
            format!("{TOKEN_COOKIE}={}; HttpOnly; SameSite=Strict; Path=/", self.token.as_deref().unwrap_or_default());
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().insert(header::SET_COOKIE, value);
        }
        response
    }

    /// A state-changing request must come from this panel's pages or from a
    /// script, never from another site.
    fn check_origin(&self, request: &Request) -> Result<(), Problem> {
        let headers = request.headers();
        let forbidden = |detail: &str| Err(Problem::new(StatusCode::FORBIDDEN, detail));
        if header_text(headers, "sec-fetch-site") == Some("cross-site") {
            return forbidden("a request from another site cannot change the panel's state");
        }
        if let Some(origin) = headers.get(header::ORIGIN) {
            let host = header_text(headers, header::HOST.as_str()).unwrap_or_default();
            let own = origin.to_str().is_ok_and(|origin| origin.eq_ignore_ascii_case(&format!("http://{host}")));
            if !own {
                return forbidden("a request from another origin cannot change the panel's state");
            }
        }
        let content_type = header_text(headers, header::CONTENT_TYPE.as_str())
            .map(|value| value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
        let form_token = header_text(headers, FORM_TOKEN_HEADER).is_some_and(|token| self.is_form_token(token));
        let allowed = match content_type.as_deref() {
            Some("application/json") => true,
            // The page's handler checks the form token in the body.
            Some("application/x-www-form-urlencoded") => request.uri().path().starts_with("/ui/") || form_token,
            Some(_) => form_token,
            // No body: a script's `POST .../rebuild-index`, a `DELETE`. A
            // browser always sends `Origin` with these, checked above.
            None => form_token || (!has_body(headers) && !headers.contains_key(header::ORIGIN)),
        };
        if allowed {
            Ok(())
        } else {
            forbidden(
                "a request that changes state needs `Content-Type: application/json` (or the panel's form token): \
                 this keeps other sites from sending it",
            )
        }
    }
}

/// The refusal to serve a host other machines may reach, without a token.
pub(crate) fn not_loopback(settings: &Settings) -> Error {
    let reason = format!(
        "`{}` is not a loopback address, and anyone who reaches the panel controls what the program returns: set \
         CACHEOW_TOKEN to a secret (every request must then carry it), or serve 127.0.0.1",
        settings.server_host
    );
    unavailable(settings, reason)
}

/// The panel cannot serve the address of these settings, for `reason`.
pub(crate) fn unavailable(settings: &Settings, reason: String) -> Error {
    Error::PanelUnavailable { address: format!("{}:{}", settings.server_host, settings.server_port), reason }
}

/// The panel's guard, in front of every route.
pub(crate) async fn guard(State(panel): State<Panel>, request: Request, next: Next) -> Response {
    let access = &panel.access;
    let checked =
        access.check_host(request.headers()).and_then(|()| access.check_token(&request)).and_then(|from_query| {
            if changes_state(request.method()) {
                access.check_origin(&request)?;
            }
            Ok(from_query)
        });
    let mut response = match checked {
        Ok(true) if request.method() == Method::GET => access.log_in(&request),
        Ok(_) => next.run(request).await,
        Err(problem) => {
            let unauthorized = problem.status == StatusCode::UNAUTHORIZED;
            let mut response = problem.into_response();
            if unauthorized {
                response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            response
        }
    };
    secure_headers(response.headers_mut());
    response
}

fn secure_headers(headers: &mut HeaderMap) {
    // Not `no-referrer`: with it, Chromium posts the panel's own forms with
    // `Origin: null`, which the origin check refuses.
    let set = [
        (header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in set {
        headers.insert(name, HeaderValue::from_static(value));
    }
}

/// No script, no third-party anything, forms only to the panel itself.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; style-src 'self'; img-src 'self' data:; \
     form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn has_body(headers: &HeaderMap) -> bool {
    let length = header_text(headers, header::CONTENT_LENGTH.as_str()).map(str::trim);
    headers.contains_key(header::TRANSFER_ENCODING) || length.is_some_and(|length| length != "0")
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    header_text(headers, header::AUTHORIZATION.as_str())?.strip_prefix("Bearer ").map(str::trim)
}

fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| pair.trim().strip_prefix(name)?.strip_prefix('='))
}

/// `host` of `host:port`, `::1` of `[::1]:port`, lowercase.
fn strip_port(host: &str) -> String {
    let host = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _port)| name),
    };
    host.to_ascii_lowercase()
}

fn is_loopback(host: &str) -> bool {
    host == "localhost" || host.ends_with(".localhost") || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// Compares secrets in time independent of where, and whether, they
/// differ: their digests have one length whatever theirs.
fn same_secret(given: &str, expected: &str) -> bool {
    let (given, expected) = (xxh3_128(given.as_bytes()).to_le_bytes(), xxh3_128(expected.as_bytes()).to_le_bytes());
    given.iter().zip(expected).fold(0, |acc, (a, b)| acc | (a ^ b)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_lose_their_ports() {
        assert_eq!(strip_port("127.0.0.1:8765"), "127.0.0.1");
        assert_eq!(strip_port("[::1]:8765"), "::1");
        assert_eq!(strip_port("LocalHost"), "localhost");
        assert!(is_loopback("::1") && is_loopback("127.0.0.2") && is_loopback("app.localhost"));
        assert!(!is_loopback("evil.com") && !is_loopback("localhost.evil.com") && !is_loopback("0.0.0.0"));
    }

    #[test]
    fn secrets_compare_whole() {
        assert!(same_secret("abc", "abc"));
        assert!(!same_secret("abd", "abc") && !same_secret("ab", "abc") && !same_secret("", "abc"));
    }
}
