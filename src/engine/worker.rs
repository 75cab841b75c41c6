//! One file's life: the on-exist policy, the attempt loop with retries and mirror failover,
//! verification, and placing the result. Every path ends in exactly one final event.

use super::hosts::host_key;
use super::transfer::{self, AttemptError, Failure, Fetched};
use super::verify::{self, Existing};
use super::{Ctx, Phase};
use crate::error::{FailureKind, FileError};
use crate::event::{Event, StopCause};
use crate::paths;
use crate::plan::FileId;
use std::time::Duration;

/// Downloads one file and emits its events, ending in exactly one final event.
pub(super) async fn run_file(ctx: &Ctx, id: FileId) {
    let final_event = life(ctx, id).await;
    ctx.emit(final_event);
}

async fn life(ctx: &Ctx, id: FileId) -> Event {
    let file = &ctx.plan.files[id as usize];
    let dest = ctx.plan.destination(file);
    let mode = ctx.config.on_exist;
    if let Err(e) = ctx.dirs.ensure(&dest) {
        let parent = dest.parent().unwrap_or(&dest);
        let error = FileError::new(
            FailureKind::Io,
            format!("cannot create directory {}: {e}", parent.display()),
        );
        return failed(id, error, 0, None);
    }
    if ctx.dirs.may_exist(&dest) {
        let checksum = file.checksum();
        match verify::check_existing(&dest, mode, checksum, ctx.config.sha256).await {
            Existing::Download => {}
            Existing::Skip { bytes, sha256 } => return Event::Skipped { id, bytes, sha256 },
            Existing::Fail(error) => return failed(id, error, 0, None),
        }
    }
    let part = paths::part_path(&dest);
    ctx.emit(Event::Started { id });
    let (mut fetched, attempts) = match attempts(ctx, id, &part).await {
        Ok(done) => done,
        Err(event) => {
            if let Event::Failed {
                error, attempts, ..
            } = &event
                && (*attempts > 0 || ctx.dirs.may_exist(&part))
            {
                // A later run resumes a `.part` only with its metadata, and only when the
                // failure was not about the content itself (gone, wrong, too large).
                let resumable = error.kind.retryable() || error.kind == FailureKind::Io;
                if !resumable || !super::resume::meta_path(&part).exists() {
                    remove_part(&part);
                }
            }
            return event;
        }
    };
    if let Err(mismatch) = fetched.digests.verify(file.checksum()) {
        remove_part(&part);
        return failed(
            id,
            FileError::new(FailureKind::Checksum, mismatch),
            attempts,
            Some(fetched.http_status),
        );
    }
    if fetched.has_meta {
        // The bytes are final: resume metadata has no more use.
        super::resume::forget(&part).await;
    }
    let placed = match fetched.body.take() {
        Some(body) => ctx
            .files
            .store(
                part.clone(),
                dest.clone(),
                mode,
                body,
                // No `.part` to replace: none was there, and no earlier attempt made one.
                attempts == 1 && !ctx.dirs.may_exist(&part),
            )
            .await
            .map_err(|e| {
                if e.stops_run && ctx.cancel.advance(Phase::Draining) {
                    ctx.emit(Event::Stopping {
                        now: false,
                        cause: StopCause::WriteError,
                    });
                }
                e.error
            }),
        None => place_part(&part, &dest, mode).await,
    };
    match placed {
        Ok(landed) => Event::Completed {
            id,
            bytes: fetched.bytes,
            attempts,
            http_status: fetched.http_status,
            sha256: fetched.digests.sha256_hex(),
            renamed_to: (landed != dest).then(|| relative_to(&ctx.plan.dir, &landed)),
        },
        Err(error) => {
            remove_part(&part);
            failed(id, error, attempts, Some(fetched.http_status))
        }
    }
}

/// Moves a verified `.part` onto `dest` from the blocking pool: a rename changes a directory,
/// tens of microseconds on ext4 during which the async thread would receive nothing.
async fn place_part(
    part: &std::path::Path,
    dest: &std::path::Path,
    mode: super::OnExist,
) -> Result<std::path::PathBuf, FileError> {
    let (part, dest) = (part.to_path_buf(), dest.to_path_buf());
    let shown = dest.clone();
    tokio::task::spawn_blocking(move || verify::place(verify::Staged::Part(&part), &dest, mode))
        .await
        .unwrap_or_else(|e| {
            Err(FileError::new(
                FailureKind::Io,
                format!("cannot move the download onto {}: {e}", shown.display()),
            ))
        })
}

/// Removes a `.part` and its resume metadata.
fn remove_part(part: &std::path::Path) {
    for path in [part.to_path_buf(), super::resume::meta_path(part)] {
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot remove {}: {e}", path.display());
        }
    }
}

/// Attempts until one succeeds, a permanent failure, the retry budget is spent, or the run
/// is stopped. Mirrors are tried in turn, each attempt moving to the next URL.
async fn attempts(ctx: &Ctx, id: FileId, part: &std::path::Path) -> Result<(Fetched, u32), Event> {
    let file = &ctx.plan.files[id as usize];
    let policy = crate::plan::RetryOverride::apply(file.retry(), ctx.config.retry);
    let max_attempts = policy.retries.saturating_add(1);
    let urls = file.urls();
    let mut attempt: u32 = 1;
    loop {
        let url = &urls[(attempt as usize - 1) % urls.len()];
        // What the directory listing says holds for the first attempt only: later ones look
        // at what earlier attempts left.
        let look = attempt > 1
            || ctx.dirs.may_exist(part)
            || ctx.dirs.may_exist(&super::resume::meta_path(part));
        let Failure {
            error,
            http_status,
            retry_after,
            stops_run,
            ..
        } = match transfer::attempt(ctx, id, file, url, part, look).await {
            Ok(fetched) => return Ok((fetched, attempt)),
            Err(AttemptError::Cancelled) => return Err(Event::Cancelled { id }),
            Err(AttemptError::Failed(failure)) => failure,
        };
        if stops_run && ctx.cancel.advance(Phase::Draining) {
            // Every other file would fail the same way: start no more of them.
            ctx.emit(Event::Stopping {
                now: false,
                cause: StopCause::WriteError,
            });
        }
        let too_long = retry_after.filter(|wait| *wait > ctx.config.max_retry_after);
        let untried_mirror = (attempt as usize) < urls.len();
        if !error.kind.is_transient()
            && untried_mirror
            && attempt < max_attempts
            && matches!(
                error.kind,
                FailureKind::HttpStatus(_) | FailureKind::Redirect
            )
        {
            // This URL will not work (e.g. 404 on the primary): move on to the next mirror now.
            attempt += 1;
            ctx.emit(Event::Retry {
                id,
                attempt,
                max_attempts,
                delay: Duration::ZERO,
                reason: error.message.to_string(),
            });
            continue;
        }
        if !error.kind.is_transient()
            || attempt >= max_attempts
            || too_long.is_some()
            || ctx.cancel.phase() == Phase::Abort
        {
            let requests = if error.kind == FailureKind::HostUnavailable {
                attempt - 1 // the host was given up before this attempt's request
            } else {
                attempt
            };
            let error = match too_long {
                Some(wait) => FileError::new(
                    error.kind,
                    format!(
                        "{}: the server asks to wait {} before retrying (Retry-After), more than --max-retry-after {}",
                        error.message,
                        humantime::format_duration(wait),
                        humantime::format_duration(ctx.config.max_retry_after)
                    ),
                ),
                None if requests > 1 => FileError::new(
                    error.kind,
                    format!("{} after {requests} attempts", error.message),
                ),
                None => error,
            };
            return Err(failed(id, error, requests, http_status));
        }
        let delay = policy.delay(attempt, retry_after);
        if matches!(http_status, Some(429 | 503)) {
            // The host is overloaded: every request to it waits, not only this file's.
            ctx.hosts.throttle(&host_key(url), delay);
        }
        attempt += 1;
        ctx.emit(Event::Retry {
            id,
            attempt,
            max_attempts,
            delay,
            reason: error.message.to_string(),
        });
        tokio::select! {
            () = tokio::time::sleep(delay) => {}
            () = ctx.cancel.aborted() => return Err(Event::Cancelled { id }),
        }
    }
}

fn failed(id: FileId, error: FileError, attempts: u32, http_status: Option<u16>) -> Event {
    Event::Failed {
        id,
        error,
        attempts,
        http_status,
    }
}

fn relative_to(dir: &std::path::Path, landed: &std::path::Path) -> String {
    let rel = landed.strip_prefix(dir).unwrap_or(landed);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}
