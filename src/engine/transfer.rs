//! One attempt: a GET, the response checked, the body streamed into `NAME.part` while it is
//! hashed, its length checked against Content-Length. It neither decides to retry nor renames
//! onto the final name; it says what happened.

use super::Ctx;
use super::hosts::{HostOutcome, host_key};
use crate::checksum::{Digests, Hashers};
use crate::error::{FailureKind, FileError};
use crate::event::Event;
use crate::plan::{FileConfig, FileId};
use std::path::Path;
use std::time::{Duration, Instant, SystemTime};
use tokio::io::AsyncWriteExt;

/// Progress events are sent at most this often per file: enough for smooth bars, cheap
/// enough to cost nothing measurable.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Bytes gathered before each write to disk.
const WRITE_BUFFER: usize = 256 * 1024;

/// A body that arrived whole.
pub(super) struct Fetched {
    pub bytes: u64,
    pub digests: Digests,
    pub http_status: u16,
}

/// Why an attempt did not produce a whole body.
pub(super) enum AttemptError {
    Failed(Failure),
    Cancelled,
}

/// A failed attempt, with what the retry logic and the host state need to know.
pub(super) struct Failure {
    pub error: FileError,
    pub http_status: Option<u16>,
    pub retry_after: Option<Duration>,
    /// No connection could be made (what the circuit breaker counts).
    pub connect: bool,
}

fn failed(kind: FailureKind, message: impl Into<String>) -> AttemptError {
    AttemptError::Failed(Failure {
        error: FileError::new(kind, message),
        http_status: None,
        retry_after: None,
        connect: false,
    })
}

/// The innermost cause of a reqwest error, which says what actually happened
/// ("connection refused", "connection reset by peer"); never includes the URL.
fn cause(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        text = inner.to_string();
        source = inner.source();
    }
    crate::report::sanitize(&text)
}

fn request_error(e: reqwest::Error) -> AttemptError {
    let e = e.without_url();
    if e.is_redirect() {
        failed(FailureKind::Redirect, cause(&e))
    } else if e.is_timeout() {
        failed(FailureKind::Timeout, format!("timed out: {}", cause(&e)))
    } else if e.is_connect() {
        let mut failure = failed(FailureKind::Network, format!("cannot connect: {}", cause(&e)));
        if let AttemptError::Failed(f) = &mut failure {
            f.connect = true;
        }
        failure
    } else {
        failed(FailureKind::Network, format!("request failed: {}", cause(&e)))
    }
}

fn io_error(path: &Path, action: &str, e: std::io::Error) -> AttemptError {
    failed(FailureKind::Io, format!("cannot {action} {}: {e}", path.display()))
}

/// Runs one attempt for `file` from `url`, writing to `part`: waits for a connection slot to
/// the host, fetches, and tells the host state whether a connection could be made.
pub(super) async fn attempt(ctx: &Ctx, id: FileId, file: &FileConfig, url: &url::Url, part: &Path) -> Result<Fetched, AttemptError> {
    let host = host_key(url);
    let run = async {
        let permit = ctx.hosts.acquire(&host).await.map_err(|error| {
            AttemptError::Failed(Failure { error, http_status: None, retry_after: None, connect: false })
        })?;
        let result = fetch(ctx, id, file, url, part).await;
        permit.finish(match &result {
            Err(AttemptError::Failed(f)) if f.connect => HostOutcome::ConnectFailed(f.error.message.clone()),
            _ => HostOutcome::Connected,
        });
        result
    };
    tokio::select! {
        result = run => result,
        () = ctx.cancel.aborted() => Err(AttemptError::Cancelled),
    }
}

async fn fetch(ctx: &Ctx, id: FileId, file: &FileConfig, url: &url::Url, part: &Path) -> Result<Fetched, AttemptError> {
    let config = &ctx.config;
    let mut request = ctx.client.get(url.clone());
    for (name, value) in config.headers.iter().filter(|(n, _)| !file.headers.iter().any(|(f, _)| f == n)) {
        request = request.header(name, value.expose());
    }
    for (name, value) in &file.headers {
        request = request.header(name, value.expose());
    }
    let response = tokio::time::timeout(config.read_timeout, request.send())
        .await
        .map_err(|_| {
            failed(FailureKind::Timeout, format!("no response within {}", humantime::format_duration(config.read_timeout)))
        })?
        .map_err(request_error)?;

    let status = response.status();
    if !status.is_success() {
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| super::retry::parse_retry_after(v, SystemTime::now()));
        return Err(AttemptError::Failed(Failure {
            error: FileError::new(FailureKind::HttpStatus(status.as_u16()), status_text(status)),
            http_status: Some(status.as_u16()),
            retry_after,
            connect: false,
        }));
    }
    let http_status = status.as_u16();
    let with_status = |e: AttemptError| match e {
        AttemptError::Failed(f) => AttemptError::Failed(Failure {
            http_status: Some(http_status),
            ..f
        }),
        other => other,
    };
    stream_body(ctx, id, file, response, part).await.map_err(with_status).map(|(bytes, digests)| Fetched {
        bytes,
        digests,
        http_status,
    })
}

fn status_text(status: reqwest::StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => format!("HTTP status {}", status.as_u16()),
    }
}

async fn stream_body(
    ctx: &Ctx,
    id: FileId,
    file: &FileConfig,
    mut response: reqwest::Response,
    part: &Path,
) -> Result<(u64, Digests), AttemptError> {
    let config = &ctx.config;
    let total = response.content_length();
    if let (Some(len), Some(max)) = (total, config.max_size) {
        if len > max {
            return Err(failed(FailureKind::TooLarge, format!("{len} bytes is larger than --max-size {max}")));
        }
    }
    let out = tokio::fs::File::create(part).await.map_err(|e| io_error(part, "create", e))?;
    let mut out = tokio::io::BufWriter::with_capacity(WRITE_BUFFER, out);
    let mut hashers = Hashers::new(file.checksum.as_ref());
    let mut received: u64 = 0;
    let mut last_progress = Instant::now();
    let mut speed = SpeedCheck::new(config.min_speed, config.min_speed_time);
    ctx.emit(Event::Progress { id, bytes: 0, total });
    loop {
        let silence_limit = tokio::time::Instant::now() + config.read_timeout;
        let deadline = speed.next_check().map_or(silence_limit, |c| c.min(silence_limit));
        let chunk = match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) if deadline < silence_limit => {
                speed.check(received)?;
                continue;
            }
            Err(_) => {
                return Err(failed(
                    FailureKind::Timeout,
                    format!(
                        "no data for {} after {received} bytes",
                        humantime::format_duration(config.read_timeout)
                    ),
                ));
            }
            Ok(Err(e)) => {
                return Err(failed(
                    FailureKind::Network,
                    format!("connection lost after {received}{} bytes: {}", of_total(total), cause(&e)),
                ));
            }
            Ok(Ok(None)) => break,
            Ok(Ok(Some(chunk))) => chunk,
        };
        received += chunk.len() as u64;
        if let Some(max) = config.max_size
            && received > max
        {
            return Err(failed(FailureKind::TooLarge, format!("more than --max-size {max} bytes")));
        }
        if let Some(len) = total
            && received > len
        {
            return Err(failed(
                FailureKind::InvalidResponse,
                format!("server sent more than the {len} bytes it announced"),
            ));
        }
        hashers.update(&chunk);
        out.write_all(&chunk).await.map_err(|e| io_error(part, "write", e))?;
        speed.check(received)?;
        if last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            ctx.emit(Event::Progress { id, bytes: received, total });
        }
    }
    out.flush().await.map_err(|e| io_error(part, "write", e))?;
    if let Some(len) = total
        && received < len
    {
        return Err(failed(
            FailureKind::Network,
            format!("connection closed after {received} of {len} bytes"),
        ));
    }
    ctx.emit(Event::Progress { id, bytes: received, total });
    Ok((received, hashers.finish()))
}

/// `--min-speed`: an attempt whose average over each window of `--min-speed-time` is under
/// the minimum is abandoned (as a timeout, so it is retried).
struct SpeedCheck {
    min: Option<u64>,
    window: Duration,
    window_start: tokio::time::Instant,
    window_bytes: u64,
}

impl SpeedCheck {
    fn new(min: Option<u64>, window: Duration) -> Self {
        SpeedCheck {
            min,
            window,
            window_start: tokio::time::Instant::now(),
            window_bytes: 0,
        }
    }

    fn next_check(&self) -> Option<tokio::time::Instant> {
        self.min.map(|_| self.window_start + self.window)
    }

    fn check(&mut self, received: u64) -> Result<(), AttemptError> {
        let Some(min) = self.min else { return Ok(()) };
        let elapsed = self.window_start.elapsed();
        if elapsed < self.window {
            return Ok(());
        }
        let rate = (received - self.window_bytes) as f64 / elapsed.as_secs_f64();
        if rate < min as f64 {
            return Err(failed(
                FailureKind::Timeout,
                format!(
                    "slower than --min-speed {}/s for {} ({}/s)",
                    indicatif::HumanBytes(min),
                    humantime::format_duration(self.window),
                    indicatif::HumanBytes(rate as u64)
                ),
            ));
        }
        self.window_start = tokio::time::Instant::now();
        self.window_bytes = received;
        Ok(())
    }
}

fn of_total(total: Option<u64>) -> String {
    total.map(|t| format!(" of {t}")).unwrap_or_default()
}
