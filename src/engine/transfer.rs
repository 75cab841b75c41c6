//! One attempt: a GET (with `Range` + `If-Range` when a `.part` can be resumed), the answer
//! checked, the body streamed into `NAME.part` while it is hashed (a resumed prefix is hashed
//! from disk first), its length checked against what the server announced. It neither
//! decides to retry nor renames onto the final name; it says what happened.

use super::Ctx;
use super::hosts::{HostOutcome, host_key};
use super::open::{Body, fresh, resumed, resumed_ranges};
use super::request::cause;
use super::resume::{self, Local};
use super::sink::{OpenError, Sink};
use super::speed::SpeedCheck;
use crate::checksum::{Digests, Hashers};
use crate::error::{FailureKind, FileError};
use crate::event::Event;
use crate::plan::{FileConfig, FileId};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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
    /// A small body still in memory: not written yet (a file thread stores it).
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
    let_connection_return().await;
    permit.finish(match &result {
        Err(AttemptError::Failed(f)) if f.connect => {
            HostOutcome::ConnectFailed(f.error.message.to_string())
        }
        _ => HostOutcome::Connected,
    });
    result
}

/// Lets the tasks already woken run before this one goes on. hyper puts a finished
/// connection back into its pool, and closes one whose body was dropped unread, from a task
/// of its own; a request sent before that task ran would open one more connection beside it
/// (more than `--max-per-host` at once, and a wasted handshake).
pub(super) async fn let_connection_return() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        // Back of the run queue, behind the tasks woken while this one ran.
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await;
}

/// The disk space for the `len` bytes still to come to `part` could not be reserved. Only
/// this file fails: unlike a write that finds the disk full, it says nothing about smaller
/// files. A `fresh` attempt (nothing of the file was on disk before it) leaves nothing behind:
/// its part and resume metadata are removed.
pub(super) fn reserve_failed(
    part: &Path,
    len: u64,
    e: std::io::Error,
    fresh: bool,
) -> AttemptError {
    if fresh {
        let _ = std::fs::remove_file(part);
        let _ = std::fs::remove_file(resume::meta_path(part));
    }
    failed(
        FailureKind::Io,
        format!(
            "cannot reserve {} for {}: {e}",
            indicatif::HumanBytes(len),
            part.display()
        ),
    )
}

pub(super) fn io_error(path: &Path, action: &str, e: std::io::Error) -> AttemptError {
    let stops_run = super::fails_every_file(&e);
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
                meta.store_off_thread(&meta_file)
                    .await
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

/// The hashers this file needs.
fn hashers(ctx: &Ctx, file: &FileConfig) -> Hashers {
    Hashers::new(file.checksum(), ctx.config.sha256)
}

/// Hashes the first `len` bytes of the part (a large read: done on the blocking pool). When
/// no digest is wanted, only the part's length is checked (inline: one metadata call).
pub(super) async fn hash_prefix(
    ctx: &Ctx,
    part: &Path,
    len: u64,
    file: &FileConfig,
) -> Result<Hashers, AttemptError> {
    let (path, fresh): (PathBuf, _) = (part.to_path_buf(), hashers(ctx, file));
    if fresh.is_empty() {
        return crate::checksum::hash_prefix(&path, len, fresh)
            .map_err(|e| io_error(part, "read", e));
    }
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
    let mut out = Sink::open(part, start, expected, hashers)
        .await
        .map_err(|e| match e {
            OpenError::Create(e) => io_error(part, "create", e),
            OpenError::Reserve { len, error } => reserve_failed(part, len, error, start == 0),
        })?;
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

fn of_total(total: Option<u64>) -> String {
    total.map(|t| format!(" of {t}")).unwrap_or_default()
}
