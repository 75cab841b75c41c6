//! One attempt: a GET (with `Range` + `If-Range` when a `.part` can be resumed), the answer
//! checked, the body streamed into `NAME.part` while it is hashed (a resumed prefix is hashed
//! from disk first), its length checked against what the server announced. It neither
//! decides to retry nor renames onto the final name; it says what happened.

use super::Ctx;
use super::hosts::{HostOutcome, host_key};
use super::resume::{self, Local, Meta};
use super::sink::Sink;
use crate::checksum::{Digests, Hashers};
use crate::error::{FailureKind, FileError};
use crate::event::Event;
use crate::plan::{FileConfig, FileId};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_RANGE, ETAG, IF_RANGE, LAST_MODIFIED, RANGE, RETRY_AFTER};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

/// Progress events are sent at most this often per file: enough for smooth bars, cheap
/// enough to cost nothing measurable.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// A file whose bytes are all in its `.part`, hashed.
pub(super) struct Fetched {
    /// Length of the whole file.
    pub bytes: u64,
    pub digests: Digests,
    pub http_status: u16,
    /// Resume metadata sits beside the part (to be removed once the file is in place).
    pub has_meta: bool,
    /// A small body still in memory: not written yet (the file thread stores it).
    pub body: Option<Vec<bytes::Bytes>>,
}

/// Why an attempt did not produce a whole file.
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
    /// A local write failed in a way every other file would hit too (disk full, read-only).
    pub stops_run: bool,
}

impl From<FileError> for AttemptError {
    fn from(error: FileError) -> Self {
        AttemptError::Failed(Failure {
            error,
            http_status: None,
            retry_after: None,
            connect: false,
            stops_run: false,
        })
    }
}

pub(super) fn failed(kind: FailureKind, message: impl Into<String>) -> AttemptError {
    FileError::new(kind, message).into()
}

/// Runs `work` holding a connection slot to `url`'s host (waiting for one as the cap, a
/// shared backoff or the circuit breaker require), then tells the host whether a connection
/// could be made.
pub(super) async fn with_host_slot<T>(
    ctx: &Ctx,
    url: &url::Url,
    work: impl std::future::Future<Output = Result<T, AttemptError>>,
) -> Result<T, AttemptError> {
    let permit = ctx.hosts.acquire(&host_key(url)).await?;
    let result = work.await;
    permit.finish(match &result {
        Err(AttemptError::Failed(f)) if f.connect => {
            HostOutcome::ConnectFailed(f.error.message.to_string())
        }
        _ => HostOutcome::Connected,
    });
    result
}

/// The innermost cause of a reqwest error, which says what actually happened
/// ("connection refused", "connection reset by peer"); never includes the URL.
pub(super) fn cause(e: &reqwest::Error) -> String {
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
    let mut failure = if e.is_redirect() {
        failed(FailureKind::Redirect, cause(&e))
    } else if e.is_timeout() {
        failed(FailureKind::Timeout, format!("timed out: {}", cause(&e)))
    } else if e.is_connect() {
        failed(
            FailureKind::Network,
            format!("cannot connect: {}", cause(&e)),
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

pub(super) fn io_error(path: &Path, action: &str, e: std::io::Error) -> AttemptError {
    use std::io::ErrorKind::{QuotaExceeded, ReadOnlyFilesystem, StorageFull};
    let stops_run = matches!(e.kind(), StorageFull | QuotaExceeded | ReadOnlyFilesystem);
    let mut failure = failed(
        FailureKind::Io,
        format!("cannot {action} {}: {e}", path.display()),
    );
    if let AttemptError::Failed(f) = &mut failure {
        f.stops_run = stops_run;
    }
    failure
}

/// Runs one attempt for `file` from `url`, writing to `part`: waits for a connection slot to
/// the host, fetches, and tells the host state whether a connection could be made.
/// `look` is false when the part and its metadata are known not to exist (no need to ask the
/// file system).
pub(super) async fn attempt(
    ctx: &Ctx,
    id: FileId,
    file: &FileConfig,
    url: &url::Url,
    part: &Path,
    look: bool,
) -> Result<Fetched, AttemptError> {
    let run = with_host_slot(ctx, url, fetch(ctx, id, file, url, part, look));
    tokio::select! {
        result = run => result,
        () = ctx.cancel.aborted() => Err(AttemptError::Cancelled),
    }
}

/// Where the body of this attempt goes.
#[allow(clippy::large_enum_variant)] // one short-lived value per attempt
enum Body {
    /// Stream `response` into the part from byte `start`; `meta` describes the resource.
    Stream {
        response: reqwest::Response,
        start: u64,
        total: Option<u64>,
        fresh_meta: Option<Meta>,
    },
    /// The part already holds the whole resource (a 416 that confirmed it).
    Complete { len: u64, http_status: u16 },
}

async fn fetch(
    ctx: &Ctx,
    id: FileId,
    file: &FileConfig,
    url: &url::Url,
    part: &Path,
    look: bool,
) -> Result<Fetched, AttemptError> {
    // A few metadata calls on the page cache: cheaper inline than handed to a thread.
    let local = if look {
        resume::inspect(part, url)
    } else {
        Local::Fresh { warning: None }
    };
    let body = match local {
        Local::Fresh { warning } => {
            if let Some(w) = warning {
                tracing::warn!("{w}");
            }
            fresh(ctx, file, url).await?
        }
        Local::Resume { offset, meta } => resumed(ctx, file, url, part, offset, meta).await?,
        Local::Ranges { meta } => match resumed_ranges(ctx, file, url, part, meta).await? {
            Ok((first, meta)) => {
                return super::split::download(ctx, id, file, url, part, Some(first), meta).await;
            }
            Err(body) => body,
        },
    };
    match body {
        Body::Complete { len, http_status } => {
            let hashers = hash_prefix(ctx, part, len, file).await?;
            Ok(Fetched {
                bytes: len,
                digests: hashers.finish(),
                http_status,
                has_meta: true,
                body: None,
            })
        }
        Body::Stream {
            response,
            start: 0,
            total,
            fresh_meta: Some(meta),
        } if ctx.config.split > 1 && super::split::eligible(&response, total, Some(&meta)) => {
            super::split::download(ctx, id, file, url, part, Some((response, 0)), meta).await
        }
        Body::Stream {
            response,
            start,
            total,
            fresh_meta,
        } => {
            if ctx.config.split > 1
                && start == 0
                && total.is_none_or(|t| t >= 2 * super::split::MIN_PIECE)
            {
                ctx.say_once_no_split(url);
            }
            let http_status = response.status().as_u16();
            let has_meta = start > 0 || fresh_meta.is_some();
            if let Some(meta) = fresh_meta {
                let meta_file = resume::meta_path(part);
                meta.store(&meta_file)
                    .map_err(|e| io_error(&meta_file, "write", e))?;
            }
            stream_body(ctx, id, file, response, part, start, total)
                .await
                .map(|(bytes, digests, body)| Fetched {
                    bytes,
                    digests,
                    http_status,
                    has_meta,
                    body,
                })
                .map_err(|e| with_status(e, http_status))
        }
    }
}

fn with_status(e: AttemptError, http_status: u16) -> AttemptError {
    match e {
        AttemptError::Failed(f) => AttemptError::Failed(Failure {
            http_status: Some(http_status),
            ..f
        }),
        other => other,
    }
}

/// A request for the whole resource.
async fn fresh(ctx: &Ctx, file: &FileConfig, url: &url::Url) -> Result<Body, AttemptError> {
    let response = checked(send(ctx, file, url, None).await?)?;
    Ok(stream_from_start(response, url))
}

fn stream_from_start(response: reqwest::Response, url: &url::Url) -> Body {
    let total = response.content_length();
    // Small files are cheaper to restart than to track.
    let fresh_meta = match total {
        Some(len) if len <= resume::RESUME_MIN_BYTES => None,
        _ => Meta::from_response(url, response.headers(), total),
    };
    Body::Stream {
        response,
        start: 0,
        total,
        fresh_meta,
    }
}

/// A request for the rest of a `.part`, guarded by `If-Range`. Anything that does not prove
/// the server continues the very same resource at the very offset restarts from zero.
async fn resumed(
    ctx: &Ctx,
    file: &FileConfig,
    url: &url::Url,
    part: &Path,
    offset: u64,
    meta: Meta,
) -> Result<Body, AttemptError> {
    let response = send(ctx, file, url, Some((offset, &meta))).await?;
    let status = response.status();
    let header = |name| {
        response
            .headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    if status == StatusCode::PARTIAL_CONTENT {
        let range = header(CONTENT_RANGE)
            .as_deref()
            .and_then(resume::parse_content_range);
        // A server may honour Range but ignore If-Range (RFC 9110 allows it): only a 206 that
        // names the very same version may be appended.
        let same_version = same_version(&meta, response.headers());
        match range {
            Some((first, _, total))
                if same_version
                    && first == offset
                    && (meta.total.is_none() || total == meta.total) =>
            {
                tracing::info!("resuming {} at byte {offset}", part.display());
                return Ok(Body::Stream {
                    response,
                    start: offset,
                    total: total.or(meta.total),
                    fresh_meta: None,
                });
            }
            _ => tracing::warn!(
                "{}: the server's answer to the resume (Content-Range {:?}, ETag {:?}) does not continue the same file; starting over",
                part.display(),
                header(CONTENT_RANGE).unwrap_or_default(),
                header(ETAG).unwrap_or_default()
            ),
        }
    } else if status == StatusCode::RANGE_NOT_SATISFIABLE {
        let total = header(CONTENT_RANGE)
            .as_deref()
            .and_then(resume::parse_unsatisfied_range);
        let same = match (
            &meta.etag,
            header(ETAG),
            &meta.last_modified,
            header(LAST_MODIFIED),
        ) {
            (Some(had), Some(now), _, _) => *had == now,
            (None, _, Some(had), Some(now)) => *had == now,
            _ => false,
        };
        if same && total.is_some() && total == meta.total && Some(offset) == meta.total {
            return Ok(Body::Complete {
                len: offset,
                http_status: status.as_u16(),
            });
        }
        tracing::warn!(
            "{}: the server cannot resume it; starting over",
            part.display()
        );
    } else if status.is_success() {
        // Range ignored, or the validator no longer matches: this is the whole new resource.
        tracing::info!(
            "{}: the server sent the whole file; starting over",
            part.display()
        );
        forget_meta(part);
        return Ok(stream_from_start(response, url));
    } else {
        return Err(status_failure(response));
    }
    drop(response);
    forget_meta(part);
    fresh(ctx, file, url).await
}

/// The first request of a resumed split download: the first missing range, guarded by
/// `If-Range`. `Ok` carries the response (and where it starts) to continue the split with;
/// `Err` the body to use instead when the file must start over.
#[allow(clippy::type_complexity)]
async fn resumed_ranges(
    ctx: &Ctx,
    file: &FileConfig,
    url: &url::Url,
    part: &Path,
    meta: Meta,
) -> Result<Result<((reqwest::Response, u64), Meta), Body>, AttemptError> {
    let total = meta.total.unwrap_or(0);
    let from = super::split::first_hole(meta.done.as_deref().unwrap_or_default(), total);
    if from < total {
        let response = send_range(ctx, file, url, from, None, &meta).await?;
        let status = response.status();
        if status == StatusCode::PARTIAL_CONTENT {
            let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
            let range = header(CONTENT_RANGE).and_then(resume::parse_content_range);
            if same_version(&meta, response.headers())
                && range.is_some_and(|(first, _, t)| first == from && t == Some(total))
            {
                tracing::info!("resuming the split download of {}", part.display());
                return Ok(Ok(((response, from), meta)));
            }
        } else if status.is_success() {
            forget_meta(part);
            return Ok(Err(stream_from_start(response, url)));
        } else if status != StatusCode::RANGE_NOT_SATISFIABLE {
            return Err(status_failure(response));
        }
    }
    tracing::warn!(
        "{}: the server cannot continue the split download; starting over",
        part.display()
    );
    forget_meta(part);
    fresh(ctx, file, url).await.map(Err)
}

/// Whether a response names the same version as the saved metadata: equal strong ETags, or
/// (when neither side has one) equal Last-Modified dates. Anything else is "changed".
pub(super) fn same_version(meta: &Meta, headers: &reqwest::header::HeaderMap) -> bool {
    let get = |name| headers.get(name).and_then(|v| v.to_str().ok());
    match (
        &meta.etag,
        get(ETAG),
        &meta.last_modified,
        get(LAST_MODIFIED),
    ) {
        (Some(had), Some(now), _, _) => had == now,
        (None, None, Some(had), Some(now)) => had == now,
        _ => false,
    }
}

/// The part is about to be rewritten from zero: its old metadata no longer describes it.
fn forget_meta(part: &Path) {
    let _ = std::fs::remove_file(resume::meta_path(part));
}

async fn send(
    ctx: &Ctx,
    file: &FileConfig,
    url: &url::Url,
    range: Option<(u64, &Meta)>,
) -> Result<reqwest::Response, AttemptError> {
    match range {
        Some((offset, meta)) => send_range(ctx, file, url, offset, None, meta).await,
        None => send_request(ctx, file, url, None).await,
    }
}

/// A request for bytes `from..=to` (to the end when `to` is `None`) of the version `meta`
/// describes (`If-Range`).
pub(super) async fn send_range(
    ctx: &Ctx,
    file: &FileConfig,
    url: &url::Url,
    from: u64,
    to: Option<u64>,
    meta: &Meta,
) -> Result<reqwest::Response, AttemptError> {
    let range = match to {
        Some(to) => format!("bytes={from}-{to}"),
        None => format!("bytes={from}-"),
    };
    let guarded = meta.if_range().map(|validator| (range, validator));
    send_request(ctx, file, url, guarded).await
}

async fn send_request(
    ctx: &Ctx,
    file: &FileConfig,
    url: &url::Url,
    range: Option<(String, &str)>,
) -> Result<reqwest::Response, AttemptError> {
    let config = &ctx.config;
    let mut request = ctx.client.get(url.clone());
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
            Err(e) if stale < STALE_RESENDS && closed_before_answer(&e) => {
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
fn checked(response: reqwest::Response) -> Result<reqwest::Response, AttemptError> {
    if response.status().is_success() {
        Ok(response)
    } else {
        Err(status_failure(response))
    }
}

fn status_failure(response: reqwest::Response) -> AttemptError {
    let status = response.status();
    if status.is_redirection() {
        // A redirect the client would not follow (no usable Location, or a scheme other than
        // http and https).
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(|l| crate::report::sanitize(&crate::secret::redact_str(l)))
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
        .and_then(|v| super::retry::parse_retry_after(v, SystemTime::now()));
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

fn status_text(status: StatusCode) -> String {
    match status.canonical_reason() {
        Some(reason) => format!("{} {reason}", status.as_u16()),
        None => format!("HTTP status {}", status.as_u16()),
    }
}

/// The hashers this file needs.
fn hashers(ctx: &Ctx, file: &FileConfig) -> Hashers {
    Hashers::new(file.checksum(), ctx.config.sha256)
}

/// Hashes the first `len` bytes of the part (a large read: done on the blocking pool).
pub(super) async fn hash_prefix(
    ctx: &Ctx,
    part: &Path,
    len: u64,
    file: &FileConfig,
) -> Result<Hashers, AttemptError> {
    let (path, fresh): (PathBuf, _) = (part.to_path_buf(), hashers(ctx, file));
    match tokio::task::spawn_blocking(move || crate::checksum::hash_prefix(&path, len, fresh)).await
    {
        Ok(Ok(hashers)) => Ok(hashers),
        Ok(Err(e)) => Err(io_error(part, "read", e)),
        Err(e) => Err(failed(
            FailureKind::Io,
            format!("cannot read {}: {e}", part.display()),
        )),
    }
}

async fn stream_body(
    ctx: &Ctx,
    id: FileId,
    file: &FileConfig,
    mut response: reqwest::Response,
    part: &Path,
    start: u64,
    total: Option<u64>,
) -> Result<(u64, Digests, Option<Vec<bytes::Bytes>>), AttemptError> {
    let config = &ctx.config;
    if let (Some(len), Some(max)) = (total, config.max_size)
        && len > max
    {
        return Err(failed(
            FailureKind::TooLarge,
            format!("{len} bytes is larger than --max-size {max}"),
        ));
    }
    let hashers = if start == 0 {
        hashers(ctx, file)
    } else {
        hash_prefix(ctx, part, start, file).await?
    };
    let expected = total.map(|t| t - start.min(t));
    let mut out =
        Sink::open(part, start, expected, hashers).map_err(|e| io_error(part, "create", e))?;
    let mut written = start;
    let mut last_progress = Instant::now();
    let mut speed = SpeedCheck::new(config.min_speed, config.min_speed_time, start);
    ctx.emit(Event::Progress {
        id,
        bytes: written,
        total,
    });
    let streamed: Result<(), AttemptError> = async {
        loop {
            let silence_limit = tokio::time::Instant::now() + config.read_timeout;
            let deadline = speed
                .next_check()
                .map_or(silence_limit, |c| c.min(silence_limit));
            let chunk = match tokio::time::timeout_at(deadline, response.chunk()).await {
                Err(_) if deadline < silence_limit => {
                    speed.check(written)?;
                    continue;
                }
                Err(_) => {
                    let silence = humantime::format_duration(config.read_timeout);
                    return Err(failed(
                        FailureKind::Timeout,
                        format!("no data for {silence} after {written} bytes"),
                    ));
                }
                Ok(Err(e)) => {
                    let message = format!(
                        "connection lost after {written}{} bytes: {}",
                        of_total(total),
                        cause(&e)
                    );
                    return Err(failed(FailureKind::Network, message));
                }
                Ok(Ok(None)) => return Ok(()),
                Ok(Ok(Some(chunk))) => chunk,
            };
            if let Some(rate) = &ctx.rate {
                rate.take(chunk.len()).await;
            }
            let after = written + chunk.len() as u64;
            if let Some(max) = config.max_size
                && after > max
            {
                return Err(failed(
                    FailureKind::TooLarge,
                    format!("more than --max-size {max} bytes"),
                ));
            }
            if let Some(len) = total
                && after > len
            {
                return Err(failed(
                    FailureKind::InvalidResponse,
                    format!("server sent more than the {len} bytes it announced"),
                ));
            }
            out.write(chunk)
                .await
                .map_err(|e| io_error(part, "write", e))?;
            written = after;
            speed.check(written)?;
            if last_progress.elapsed() >= PROGRESS_EVERY {
                last_progress = Instant::now();
                ctx.emit(Event::Progress {
                    id,
                    bytes: written,
                    total,
                });
            }
        }
    }
    .await;
    // Whatever arrived intact is kept on disk, so the next attempt can continue from it.
    let finished = out.finish().await.map_err(|e| io_error(part, "write", e));
    streamed?;
    let (hashers, body) = finished?;
    if let Some(len) = total
        && written < len
    {
        return Err(failed(
            FailureKind::Network,
            format!("connection closed after {written} of {len} bytes"),
        ));
    }
    ctx.emit(Event::Progress {
        id,
        bytes: written,
        total,
    });
    Ok((written, hashers.finish(), body))
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
    fn new(min: Option<u64>, window: Duration, start: u64) -> Self {
        SpeedCheck {
            min,
            window,
            window_start: tokio::time::Instant::now(),
            window_bytes: start,
        }
    }

    fn next_check(&self) -> Option<tokio::time::Instant> {
        self.min.map(|_| self.window_start + self.window)
    }

    fn check(&mut self, written: u64) -> Result<(), AttemptError> {
        let Some(min) = self.min else { return Ok(()) };
        let elapsed = self.window_start.elapsed();
        if elapsed < self.window {
            return Ok(());
        }
        let rate = (written - self.window_bytes) as f64 / elapsed.as_secs_f64();
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
        self.window_bytes = written;
        Ok(())
    }
}

fn of_total(total: Option<u64>) -> String {
    total.map(|t| format!(" of {t}")).unwrap_or_default()
}
