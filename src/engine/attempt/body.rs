//! The one body loop. Every byte of every response, whether it fills a whole file or one
//! piece of a `--split` download, passes the same checks here, in the same order: the
//! silence limit (`--read-timeout`), `--min-speed` over the file's bytes, `--limit-rate`,
//! `--max-size` and the announced length, then the destination stores it and progress is
//! reported. Where the bytes go is the destination's business; what they must satisfy is
//! decided only here.

use crate::engine::context::Ctx;
use crate::engine::failure::{AttemptError, failed};
use crate::engine::net::{cause, deadline_after};
use crate::error::FailureKind;
use crate::event::Event;
use crate::plan::FileId;
use bytes::Bytes;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Progress events are sent at most this often per file: enough for smooth bars, cheap
/// enough to cost nothing measurable.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// Where a body's bytes go: the file's sink, or one piece of a split download.
pub(in crate::engine) trait Destination {
    /// How many of the next `len` bytes this destination takes: all of them, or what is left
    /// of its range (the rest of the chunk belongs to someone else).
    fn claim(&mut self, len: usize) -> usize;
    /// Stores bytes it claimed.
    async fn store(&mut self, bytes: Bytes) -> Result<(), AttemptError>;
    /// Wants no more bytes.
    fn full(&self) -> bool;
}

/// How a body ended.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::engine) enum End {
    /// The server ended the response.
    Eof,
    /// The destination took all it wanted (the rest of the response is not read).
    Full,
}

/// One file's count of bytes, shared by every connection of an attempt: what `--max-size`,
/// `--min-speed` and the progress events see.
pub(in crate::engine) struct Meter {
    id: FileId,
    /// The file's length, when the server announced it.
    total: Option<u64>,
    /// Bytes of the file accepted so far (including those on disk before the attempt).
    received: AtomicU64,
    speed: Mutex<SpeedCheck>,
    last_progress: Mutex<Instant>,
}

impl Meter {
    /// A meter for file `id` that already has `start` bytes. A file announced larger than
    /// `--max-size` fails here, before its body is read.
    pub(in crate::engine) fn new(
        ctx: &Ctx,
        id: FileId,
        start: u64,
        total: Option<u64>,
    ) -> Result<Meter, AttemptError> {
        if let (Some(len), Some(max)) = (total, ctx.config.max_size)
            && len > max
        {
            return Err(failed(
                FailureKind::TooLarge,
                format!("{len} bytes is larger than --max-size {max}"),
            ));
        }
        let config = &ctx.config;
        let meter = Meter {
            id,
            total,
            received: AtomicU64::new(start),
            speed: Mutex::new(SpeedCheck::new(
                config.min_speed,
                config.min_speed_time,
                start,
            )),
            last_progress: Mutex::new(Instant::now()),
        };
        meter.report(ctx);
        Ok(meter)
    }

    pub(in crate::engine) fn received(&self) -> u64 {
        self.received.load(Ordering::Relaxed)
    }

    /// Sends a progress event now.
    pub(in crate::engine) fn report(&self, ctx: &Ctx) {
        ctx.emit(Event::Progress {
            id: self.id,
            bytes: self.received(),
            total: self.total,
        });
    }

    fn maybe_report(&self, ctx: &Ctx) {
        let mut last = self.last_progress.lock().unwrap_or_else(|p| p.into_inner());
        if last.elapsed() >= PROGRESS_EVERY {
            *last = Instant::now();
            drop(last);
            self.report(ctx);
        }
    }

    fn speed(&self) -> std::sync::MutexGuard<'_, SpeedCheck> {
        self.speed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Counts `len` more bytes, refusing them when they would pass `--max-size` or the
    /// announced length.
    fn admit(&self, ctx: &Ctx, len: usize) -> Result<(), AttemptError> {
        let after = self.received() + len as u64;
        if let Some(max) = ctx.config.max_size
            && after > max
        {
            return Err(failed(
                FailureKind::TooLarge,
                format!("more than --max-size {max} bytes"),
            ));
        }
        if let Some(len) = self.total
            && after > len
        {
            return Err(failed(
                FailureKind::InvalidResponse,
                format!("server sent more than the {len} bytes it announced"),
            ));
        }
        self.received.fetch_add(len as u64, Ordering::Relaxed);
        Ok(())
    }

    fn of_total(&self) -> String {
        self.total.map(|t| format!(" of {t}")).unwrap_or_default()
    }
}

/// Reads `response` into `dest` through every check, until the response ends or `dest` is
/// full.
pub(in crate::engine) async fn read_body(
    ctx: &Ctx,
    meter: &Meter,
    response: &mut reqwest::Response,
    dest: &mut impl Destination,
) -> Result<End, AttemptError> {
    let read_timeout = ctx.config.read_timeout;
    loop {
        if dest.full() {
            return Ok(End::Full);
        }
        let silence_limit = deadline_after(read_timeout);
        let speed_check = meter.speed().next_check();
        let deadline = speed_check.map_or(silence_limit, |c| c.min(silence_limit));
        let chunk = match tokio::time::timeout_at(deadline, response.chunk()).await {
            Err(_) if deadline < silence_limit => {
                meter.speed().check(meter.received())?;
                continue;
            }
            Err(_) => {
                let silence = humantime::format_duration(read_timeout);
                return Err(failed(
                    FailureKind::Timeout,
                    format!("no data for {silence} after {} bytes", meter.received()),
                ));
            }
            Ok(Err(e)) if corrupt_encoding(&e) => {
                let message = format!(
                    "the compressed body cannot be decoded after {} bytes: {}",
                    meter.received(),
                    cause(&e)
                );
                return Err(failed(FailureKind::InvalidResponse, message));
            }
            Ok(Err(e)) => {
                let message = format!(
                    "connection lost after {}{} bytes: {}",
                    meter.received(),
                    meter.of_total(),
                    cause(&e)
                );
                return Err(failed(FailureKind::Network, message));
            }
            Ok(Ok(None)) => return Ok(End::Eof),
            Ok(Ok(Some(chunk))) => chunk,
        };
        if let Some(rate) = &ctx.net.rate {
            rate.take(chunk.len()).await;
        }
        let take = dest.claim(chunk.len());
        meter.admit(ctx, take)?;
        let bytes = if take == chunk.len() {
            chunk
        } else {
            chunk.slice(..take)
        };
        dest.store(bytes).await?;
        meter.speed().check(meter.received())?;
        meter.maybe_report(ctx);
    }
}

/// Whether a body error is the decoder refusing the data (`--compressed`: a corrupt stream,
/// which another attempt would get again) rather than the connection failing. Connection
/// errors come from hyper; a stream cut short reads as an unexpected end, and is retried.
fn corrupt_encoding(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(inner) = source {
        if inner.is::<hyper::Error>() {
            return false;
        }
        if let Some(io) = inner.downcast_ref::<std::io::Error>() {
            return !matches!(
                io.kind(),
                std::io::ErrorKind::UnexpectedEof
                    | std::io::ErrorKind::ConnectionReset
                    | std::io::ErrorKind::ConnectionAborted
                    | std::io::ErrorKind::BrokenPipe
                    | std::io::ErrorKind::TimedOut
            ) && io.get_ref().is_none_or(|inner| !inner.is::<hyper::Error>());
        }
        source = inner.source();
    }
    false
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
        self.min.and(self.window_start.checked_add(self.window))
    }

    fn check(&mut self, received: u64) -> Result<(), AttemptError> {
        let Some(min) = self.min else { return Ok(()) };
        let elapsed = self.window_start.elapsed();
        if elapsed < self.window || elapsed.is_zero() {
            return Ok(());
        }
        let rate = received.saturating_sub(self.window_bytes) as f64 / elapsed.as_secs_f64();
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
