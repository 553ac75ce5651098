//! A URL as cacheow shows it: without its password, which never reaches a
//! log, an error, the panel or the command line.

/// `url` with the password of its user info, if any, replaced by `***`:
/// `rediss://user:pass@host:6380/0` is shown as `rediss://user:***@host:6380/0`;
/// and the `pass=` of its query (a Unix socket's, `redis+unix:///s?pass=...`).
pub(crate) fn without_password(url: &str) -> String {
    let url = user_info_hidden(url);
    match query_password(&url) {
        Some(password) if !password.is_empty() => url.replacen(&format!("pass={password}"), "pass=***", 1),
        _ => url,
    }
}

/// The `pass=` value of `url`'s query, if it has one.
fn query_password(url: &str) -> Option<&str> {
    let query = &url[url.find('?')? + 1..];
    let query = &query[..query.find('#').unwrap_or(query.len())];
    query.split('&').find_map(|pair| pair.strip_prefix("pass="))
}

fn user_info_hidden(url: &str) -> String {
    let Some(scheme_end) = url.find("://").map(|at| at + 3) else { return url.to_owned() };
    let rest = &url[scheme_end..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    // The last `@` of the authority: a password may hold one.
    let Some(at) = rest[..authority_end].rfind('@') else { return url.to_owned() };
    let user_info = &rest[..at];
    let user = match user_info.find(':') {
        Some(colon) => &user_info[..colon],
        // `redis://secret@host`: a password alone, as redis-rs reads it.
        None if !user_info.is_empty() => "",
        None => return url.to_owned(),
    };
    format!("{}{user}:***{}", &url[..scheme_end], &rest[at..])
}

/// `text` (an error a client gave for `url`, say) with the URL's password
/// replaced by `***` wherever it occurs.
#[cfg_attr(not(feature = "redis"), allow(dead_code))]
pub(crate) fn scrub(text: &str, url: &str) -> String {
    let hidden = without_password(url);
    let mut text = text.replace(url, &hidden);
    for password in [password_of(url), query_password(url)].into_iter().flatten() {
        if !password.is_empty() {
            text = text.replace(password, "***");
        }
    }
    text
}

/// The password of `url`'s user info, if it has one.
fn password_of(url: &str) -> Option<&str> {
    let rest = &url[url.find("://")? + 3..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let user_info = &authority[..authority.rfind('@')?];
    Some(user_info.find(':').map_or(user_info, |colon| &user_info[colon + 1..]))
}

#[cfg(test)]
mod tests {
    use super::{scrub, without_password};

    #[test]
    fn a_client_error_loses_the_password() {
        let url = "redis://me:hunter2@host:6379/0";
        assert_eq!(
            scrub("cannot reach redis://me:hunter2@host:6379/0 (hunter2)", url),
            "cannot reach redis://me:***@host:6379/0 (***)"
        );
        assert_eq!(scrub("refused", "redis://host"), "refused");
    }

    #[test]
    fn the_password_is_hidden_and_the_rest_kept() {
        assert_eq!(without_password("redis://127.0.0.1:6379/0"), "redis://127.0.0.1:6379/0");
        assert_eq!(without_password("rediss://user:pass@host:6380/0"), "rediss://user:***@host:6380/0");
        assert_eq!(without_password("redis://:p@ss@host/0"), "redis://:***@host/0");
        assert_eq!(without_password("redis://secret@host"), "redis://:***@host");
        assert_eq!(without_password("not a url"), "not a url");
        assert_eq!(
            without_password("redis+unix:///run/redis.sock?db=1&pass=hunter2"),
            "redis+unix:///run/redis.sock?db=1&pass=***"
        );
        assert_eq!(scrub("bad hunter2", "redis+unix:///s?pass=hunter2"), "bad ***");
    }
}
