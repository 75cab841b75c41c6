//! Requests and what their answers mean: building a GET (headers, `Range` + `If-Range`),
//! resending after a stale pooled connection, and turning errors and statuses into typed
//! failures (with `Retry-After`). No body handling, no retry decisions.

use super::Net;
use crate::engine::failure::{AttemptError, Failure, failed};
use crate::error::{FailureKind, FileError};
use crate::plan::FileConfig;
use reqwest::StatusCode;
use reqwest::header::{IF_RANGE, RANGE, RETRY_AFTER};
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
        None => send_request(net, Connection::Pooled, file, url, None).await,
    }
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
    let guarded = if_range.map(|validator| (range, validator));
    send_request(net, connection, file, url, guarded).await
}

async fn send_request(
    net: &Net,
    connection: Connection,
    file: &FileConfig,
    url: &url::Url,
    range: Option<(String, &str)>,
) -> Result<reqwest::Response, AttemptError> {
    let config = &net.config;
    let client = match connection {
        Connection::Pooled => &net.clients.pooled,
        Connection::Own => &net.clients.own,
    };
    let mut request = client.get(url.clone());
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
    if let Some((range, validator)) = range {
        request = request.header(RANGE, range).header(IF_RANGE, validator);
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
