//! What a failed Redis command means for the shared tier: credentials
//! refused, no answer (down, slow, restarting), or a command refused; each
//! noted in the connection's state and warned of once, without the
//! password.

use redis::{ErrorKind, RedisError};

use crate::model::report::warn_once;
use crate::model::secret_url::{scrub, without_password};
use crate::store::shared::{Connection, Counters};

/// Notes what went wrong with the server at `url`; each cause is warned
/// of once.
pub(crate) fn note(counters: &Counters, url: &str, error: &RedisError) {
    let detail = scrub(&error.to_string(), url);
    let url = without_password(url);
    if is_refusal(error) {
        counters.set_connection(Connection::Refused);
        warn_once(
            "redis-auth",
            format_args!(
                "cacheow: Redis at {url} refused the credentials ({detail}): check the user and password in \
                 CACHEOW_REDIS_URL. Calls go on with the data dir alone"
            ),
        );
    } else if is_connection(error) {
        counters.set_connection(Connection::Down);
        warn_once(
            "redis-down",
            format_args!(
                "cacheow cannot reach Redis at {url} ({detail}): calls go on with the data dir alone, and what \
                 is recorded meanwhile is pushed once it is back"
            ),
        );
    } else {
        let kind = error.code().map_or_else(|| format!("{:?}", error.kind()), str::to_owned);
        warn_once(format!("redis-error:{kind}"), format_args!("cacheow: Redis at {url}: {detail}"));
    }
}

/// Whether Redis refused the URL's credentials. A command the user may
/// not run (`NOPERM`) is a refused command, not refused credentials.
pub(crate) fn is_refusal(error: &RedisError) -> bool {
    error.kind() == ErrorKind::AuthenticationFailed || matches!(error.code(), Some("WRONGPASS" | "NOAUTH"))
}

/// Whether the command had no answer: Redis is down, slow, or restarting.
pub(crate) fn is_connection(error: &RedisError) -> bool {
    is_refusal(error)
        || error.is_io_error()
        || error.is_timeout()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || matches!(error.code(), Some("LOADING" | "BUSY"))
}
