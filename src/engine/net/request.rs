//! Requests and what their answers mean: building a GET (headers, credentials from the URL
//! or netrc, `Range` + `If-Range`, `If-Modified-Since`),
//! resending after a stale pooled connection, and turning errors and statuses into typed
//! failures (with `Retry-After`). No body handling, no retry decisions.

use super::Net;
use crate::engine::failure::{AttemptError, Failure, failed};
use crate::error::{FailureKind, FileError};
use crate::plan::FileConfig;
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, HeaderName, IF_MODIFIED_SINCE, IF_RANGE, RANGE, RETRY_AFTER};
use std::time::SystemTime;

/// The innermost cause of a reqwest error, which says what actually happened
/// ("connection refused", "connection reset by peer"); never includes the URL.
pub(in crate::engine) fn cause(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text = inner.to_string();
        source = inner.source();
    }
    crate::sanitize::sanitize(&text).into_owned()
}

pub(in crate::engine) fn request_error(e: reqwest::Error) -> AttemptError {
    let e = e.without_url();
    if let Some(tls) = super::trust::tls_error(&e) {
        // A certificate (or handshake) the client refuses is refused again on every attempt:
        // the file fails at once, and the host's breaker does not count it as down.
        return failed(FailureKind::Tls, super::trust::tls_message(tls));
    }
    let mut failure = if e.is_redirect() {
        failed(FailureKind::Redirect, cause(&e))
    } else if e.is_timeout() {
        failed(FailureKind::Timeout, format!("timed out: {}", cause(&e)))
    } else if e.is_connect() {
        failed(
            FailureKind::Network,
            format!("cannot connect: {}", cause(&e)),
        )
    } else if malformed_answer(&e) {
        // The server's head can never be read (too large, conflicting lengths, no HTTP at
        // all): asking again gets the same answer.
        failed(
            FailureKind::InvalidResponse,
            format!("malformed response: {}", cause(&e)),
        )
    } else {
        failed(
            FailureKind::Network,
            format!("request failed: {}", cause(&e)),
        )
    };
    if let AttemptError::Failed(f) = &mut failure {
        f.connect = e.is_connect();
    }
    failure
}

/// Whether hyper could not parse the response head (a protocol error, not a network one).
fn malformed_answer(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        if let Some(hyper_error) = inner.downcast_ref::<hyper::Error>() {
            return hyper_error.is_parse();
        }
        source = inner.source();
    }
    false
}

/// Which connection a request goes on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::engine) enum Connection {
    /// A pooled keep-alive connection, reused from request to request.
    Pooled,
    /// A connection of its own, closed with its response: the pieces of a split download,
    /// so that their sockets never outnumber their requests.
    Own,
}

pub(in crate::engine) async fn send(
    net: &Net,
    file: &FileConfig,
    url: &url::Url,
    range: Option<(u64, Option<&str>)>,
) -> Result<reqwest::Response, AttemptError> {
    match range {
        Some((offset, if_range)) => {
            send_range(net, Connection::Pooled, file, url, offset, None, if_range).await
        }
        None => send_request(net, Connection::Pooled, file, url, &[]).await,
    }
}

/// A request for the whole resource only if it changed after `since` (an HTTP-date, sent as
/// given): a `304 Not Modified` answer says the copy of that date is current.
pub(in crate::engine) async fn send_if_modified_since(
    net: &Net,
    file: &FileConfig,
    url: &url::Url,
    since: &str,
) -> Result<reqwest::Response, AttemptError> {
    let condition = [(IF_MODIFIED_SINCE, since.to_string())];
    send_request(net, Connection::Pooled, file, url, &condition).await
}

/// A request for bytes `from..=to` (to the end when `to` is `None`) of the version the
/// validator `if_range` names (an ETag or a date); without one, no range is asked for.
pub(in crate::engine) async fn send_range(
    net: &Net,
    connection: Connection,
    file: &FileConfig,
    url: &url::Url,
    from: u64,
    to: Option<u64>,
    if_range: Option<&str>,
) -> Result<reqwest::Response, AttemptError> {
    let range = match to {
        Some(to) => format!("bytes={from}-{to}"),
        None => format!("bytes={from}-"),
    };
    let guarded = match if_range {
        Some(validator) => vec![(RANGE, range), (IF_RANGE, validator.to_string())],
        None => Vec::new(),
    };
    send_request(net, connection, file, url, &guarded).await
}

/// Sends a GET for `url` and follows its redirects (up to `MAX_REDIRECTS`, http and https
/// only, never a URL twice). The user's headers and the URL's credentials go only to the
/// origin (scheme, host, port) of `url`: a hop to another origin gets none of them unless
/// `--location-trusted` was given. The `conditions` (`Range` + `If-Range`, or
/// `If-Modified-Since`) go with every hop.
async fn send_request(
    net: &Net,
    connection: Connection,
    file: &FileConfig,
    url: &url::Url,
    conditions: &[(HeaderName, String)],
) -> Result<reqwest::Response, AttemptError> {
    // A request that is not redirected allocates nothing here.
    let mut at = std::borrow::Cow::Borrowed(url);
    let mut hops: Vec<url::Url> = Vec::new();
    loop {
        let trusted = net.config.location_trusted || same_origin(&at, url);
        let hop = Hop {
            at: &at,
            original: url,
            trusted,
        };
        let response = send_once(net, connection, file, hop, conditions).await?;
        let Some(next) = redirect_target(&response, &at)? else {
            return Ok(response);
        };
        drop(response);
        if hops.len() >= MAX_REDIRECTS {
            return Err(failed(
                FailureKind::Redirect,
                format!("too many redirects (more than {MAX_REDIRECTS})"),
            ));
        }
        if std::iter::once(url)
            .chain(&hops)
            .any(|seen| same_resource(seen, &next))
        {
            return Err(failed(
                FailureKind::Redirect,
                format!(
                    "redirect loop: {} was already visited",
                    crate::secret::redact_url(&next)
                ),
            ));
        }
        if !same_origin(&next, url) && !net.config.location_trusted {
            tracing::debug!(
                "redirected to another origin: user headers and credentials are not sent there"
            );
        }
        hops.push(next.clone());
        at = std::borrow::Cow::Owned(next);
    }
}

/// Redirects followed before a file fails with `error.kind = "redirect"`.
const MAX_REDIRECTS: usize = 10;

/// Whether two http(s) URLs have the same origin (scheme, host, port), as `Url::origin`
/// compares them, without its allocations.
fn same_origin(a: &url::Url, b: &url::Url) -> bool {
    a.scheme() == b.scheme()
        && a.host() == b.host()
        && a.port_or_known_default() == b.port_or_known_default()
}

/// Whether two URLs name the same resource (credentials aside).
fn same_resource(a: &url::Url, b: &url::Url) -> bool {
    let bare = |u: &url::Url| {
        let mut u = u.clone();
        let _ = u.set_username("");
        let _ = u.set_password(None);
        u
    };
    bare(a) == bare(b)
}

/// Where a redirect response points, resolved against `at`; `None` when the response is not
/// a redirect to follow (then it is the answer, and a 3xx without a usable `Location` fails
/// as a refused redirect).
fn redirect_target(
    response: &reqwest::Response,
    at: &url::Url,
) -> Result<Option<url::Url>, AttemptError> {
    let status = response.status().as_u16();
    if !matches!(status, 301 | 302 | 303 | 307 | 308) {
        return Ok(None);
    }
    let Some(location) = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
    else {
        return Ok(None);
    };
    let Ok(next) = at.join(location.trim()) else {
        return Ok(None);
    };
    if !matches!(next.scheme(), "http" | "https") {
        return Err(failed(
            FailureKind::Redirect,
            format!(
                "redirect to an unsupported scheme {:?} refused",
                crate::sanitize::sanitize(next.scheme())
            ),
        ));
    }
    Ok(Some(next))
}

/// One request of a chain of redirects.
#[derive(Clone, Copy)]
struct Hop<'a> {
    at: &'a url::Url,
    /// The URL the chain started from: its credentials are the user's.
    original: &'a url::Url,
    /// The user's headers and credentials may go to `at`.
    trusted: bool,
}

/// One request for `hop.at`, with the user's headers and the original URL's credentials
/// only when the hop is trusted; resent at once after a stale pooled connection.
async fn send_once(
    net: &Net,
    connection: Connection,
    file: &FileConfig,
    hop: Hop<'_>,
    conditions: &[(HeaderName, String)],
) -> Result<reqwest::Response, AttemptError> {
    let config = &net.config;
    let client = net.client(connection, hop.at)?;
    let mut target = hop.at.clone();
    if hop.trusted && target.username().is_empty() && !hop.original.username().is_empty() {
        let _ = target.set_username(hop.original.username());
        let _ = target.set_password(hop.original.password());
    }
    let user_auth = !hop.original.username().is_empty()
        || hop.original.password().is_some()
        || config
            .headers
            .iter()
            .chain(file.headers())
            .any(|(name, _)| name == AUTHORIZATION);
    let netrc =
        super::netrc::credentials_for(config.netrc.as_ref(), hop.original, hop.at, user_auth);
    let mut request = client.get(target);
    if let Some(login) = netrc {
        tracing::debug!(
            "sending the netrc credentials for {}",
            hop.at.host_str().unwrap_or("")
        );
        request = request.basic_auth(&login.login, Some(login.password.expose()));
    }
    if hop.trusted {
        for (name, value) in config
            .headers
            .iter()
            .filter(|(n, _)| !file.headers().iter().any(|(f, _)| f == n))
        {
            request = request.header(name, value.expose());
        }
        for (name, value) in file.headers() {
            request = request.header(name, value.expose());
        }
    }
    for (name, value) in conditions {
        request = request.header(name, value.as_str());
    }
    let mut stale = 0;
    loop {
        let attempt = request
            .try_clone()
            .expect("a GET without a body can be cloned");
        let sent = tokio::time::timeout(config.read_timeout, attempt.send())
            .await
            .map_err(|_| {
                failed(
                    FailureKind::Timeout,
                    format!(
                        "no response within {}",
                        humantime::format_duration(config.read_timeout)
                    ),
                )
            })?;
        match sent {
            // A pooled keep-alive connection the server had just closed: nothing was wrong
            // with the request, so it goes again at once, on another connection, without
            // costing the file an attempt.
            Err(e)
                if connection == Connection::Pooled
                    && stale < STALE_RESENDS
                    && closed_before_answer(&e) =>
            {
                stale += 1;
                tracing::debug!(
                    "resending after a stale keep-alive connection: {}",
                    cause(&e)
                );
            }
            other => return other.map_err(request_error),
        }
    }
}

/// How many times a request is resent after meeting a stale pooled connection.
const STALE_RESENDS: u32 = 3;

/// Whether the connection closed before any part of an answer arrived (hyper's "incomplete
/// message" on a reused connection).
fn closed_before_answer(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        if let Some(hyper_error) = inner.downcast_ref::<hyper::Error>() {
            return hyper_error.is_incomplete_message();
        }
        source = inner.source();
    }
    false
}

/// A success status passes; anything else is the attempt's failure (with Retry-After).
pub(in crate::engine) fn checked(
    response: reqwest::Response,
) -> Result<reqwest::Response, AttemptError> {
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(status_failure(response))
    }
}

pub(in crate::engine) fn status_failure(response: reqwest::Response) -> AttemptError {
    let status = response.status();
    if status.is_redirection() {
        // A redirect the client would not follow (no usable Location, or a scheme other than
        // http and https).
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|l| crate::sanitize::sanitize(&crate::secret::redact_str(l)).into_owned())
            .unwrap_or_else(|| "nowhere".into());
        return AttemptError::Failed(Failure {
            error: FileError::new(
                FailureKind::Redirect,
                format!("{}: redirect to {location} refused", status_text(status)),
            ),
            http_status: Some(status.as_u16()),
            retry_after: None,
            connect: false,
            stops_run: false,
        });
    }
    let retry_after = response
        .headers()
        .get(RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| super::headers::parse_retry_after(v, SystemTime::now()));
    AttemptError::Failed(Failure {
        error: FileError::new(
            FailureKind::HttpStatus(status.as_u16()),
            status_text(status),
        ),
        http_status: Some(status.as_u16()),
        retry_after,
        connect: false,
        stops_run: false,
    })
}

pub(in crate::engine) fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => format!("HTTP status {}", status.as_u16()),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn same_origin_agrees_with_url_origin() {
        let cases = [
            ("http://h/a", "http://h:80/b"),
            ("http://h/", "https://h/"),
            ("http://h/", "http://H/"),
            ("http://h:8080/", "http://h/"),
            ("https://u:p@h/", "https://h:443/x"),
            ("http://[::1]/", "http://[::1]:80/"),
            ("http://1.2.3.4/", "http://1.2.3.5/"),
            ("http://h./", "http://h/"),
        ];
        for (a, b) in cases {
            let (a, b) = (url::Url::parse(a).unwrap(), url::Url::parse(b).unwrap());
            assert_eq!(
                super::same_origin(&a, &b),
                a.origin() == b.origin(),
                "{a} {b}"
            );
        }
    }
}
