//! One file's life: the on-exist policy, the attempt loop with retries and mirror failover,
//! verification, and placing the result. Every path ends in exactly one final event.

use super::attempt::{self, Answer};
use super::cancel::Phase;
use super::context::Ctx;
use super::failure::{AttemptError, Failure};
use super::retry::{self, Budget, Next};
use super::store::{self, Existing, Staged};
use crate::error::{FailureKind, FileError};
use crate::event::{Event, StopCause};
use crate::paths;
use crate::plan::FileId;
use crate::policy::{OnExist, RetryOverride};
use crate::summary::SkipReason;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

/// Downloads one file and emits its events, ending in exactly one final event.
pub(super) async fn run_file(ctx: &Ctx, id: FileId) {
    let file = ctx.plan.file(id);
    if let Some(error) = ctx.groups.refusal(file) {
        ctx.emit(Event::Cancelled {
            id,
            error: Some(error),
        });
        return;
    }
    let final_event = life(ctx, id).await;
    if let Event::Failed { error, .. } = &final_event {
        ctx.groups.member_failed(file, error);
    }
    ctx.emit(final_event);
}

async fn life(ctx: &Ctx, id: FileId) -> Event {
    let file = ctx.plan.file(id);
    let dest = ctx.plan.destination(file);
    let mode = ctx.config.on_exist;
    if let Err(e) = ctx.dirs.ensure(ctx.plan.dir(), &dest) {
        let parent = dest.parent().unwrap_or(&dest);
        let error = FileError::new(
            FailureKind::Io,
            format!("cannot create directory {}: {e}", parent.display()),
        );
        return failed(id, error, 0, None);
    }
    // With `--on-exist update`: the existing file's length and modification time.
    let mut current = None;
    if ctx.dirs.may_exist(&dest) {
        let checksum = file.checksum();
        match store::check_existing(&dest, mode, checksum, ctx.config.sha256).await {
            Existing::Download => {}
            Existing::Update { bytes, since } => current = Some((bytes, since)),
            Existing::Skip {
                bytes,
                sha256,
                reason,
            } => {
                return Event::Skipped {
                    id,
                    bytes,
                    sha256,
                    reason,
                    attempts: 0,
                    http_status: None,
                    renamed_to: None,
                };
            }
            Existing::Fail(error) => return failed(id, error, 0, None),
        }
    }
    let part = paths::part_path(&dest);
    if let Err(e) = store::check_temporaries(&part, |p| ctx.dirs.may_exist(p)) {
        return failed(id, FileError::new(FailureKind::Io, e.to_string()), 0, None);
    }
    ctx.emit(Event::Started { id });
    let since = current.map(|(_, since)| since);
    let (mut fetched, attempts) = match attempts(ctx, id, &part, since).await {
        Ok((Answer::Fetched(fetched), attempts)) => (fetched, attempts),
        Ok((Answer::NotModified { http_status }, attempts)) => {
            // The server has nothing newer: the file stays exactly as it was. A `.part` here
            // could not be resumed (the request was a fresh one) and has no more use.
            if attempts > 1 || ctx.dirs.may_exist(&part) {
                store::remove_part_if_free(&part);
            }
            return Event::Skipped {
                id,
                bytes: current.map_or(0, |(bytes, _)| bytes),
                sha256: None,
                reason: SkipReason::Unchanged,
                attempts,
                http_status: Some(http_status),
                renamed_to: None,
            };
        }
        Err(event) => {
            if let Event::Failed {
                error, attempts, ..
            } = &event
                && (*attempts > 0 || ctx.dirs.may_exist(&part))
            {
                // A later run resumes a `.part` only with its metadata, and only when the
                // failure was not about the content itself (gone, wrong, too large).
                let resumable = error.kind.retryable() || error.kind == FailureKind::Io;
                if !resumable || !store::meta_path(&part).exists() {
                    store::remove_part_if_free(&part);
                }
            }
            return event;
        }
    };
    if let Err(mismatch) = fetched.digests.verify(file.checksum()) {
        if fetched.lock.is_some() {
            store::remove_part(&part);
        } else {
            // A body kept in memory left no part of this run's.
            store::remove_part_if_free(&part);
        }
        return failed(
            id,
            FileError::new(FailureKind::Checksum, mismatch),
            attempts,
            Some(fetched.http_status),
        );
    }
    if fetched.has_meta {
        // The bytes are final: resume metadata has no more use.
        store::forget(&part).await;
    }
    // The planned destination, or the one a name from the server settled on.
    let target = fetched.dest.take().unwrap_or_else(|| dest.clone());
    // The `.part` is this run's (open and locked until placed), not another `dl`'s: a body
    // kept in memory is stored by a file thread, which cleans up after itself.
    let holds_part = fetched.lock.is_some();
    let placed = match fetched.body.take() {
        Some(body) => {
            // No `.part` to replace: none was there, and no earlier attempt made one.
            let anonymous = attempts == 1 && !ctx.dirs.may_exist(&part);
            let mut first_wait = true;
            loop {
                let stored = ctx
                    .files
                    .store(
                        part.clone(),
                        target.clone(),
                        mode,
                        body.clone(),
                        anonymous,
                        fetched.last_modified,
                    )
                    .await;
                match stored {
                    Err(e) if e.busy => {
                        if let Some(found) = wait_for_other_run(ctx, id, &part, first_wait).await {
                            return found;
                        }
                        first_wait = false;
                    }
                    other => {
                        break other.map_err(|e| {
                            if e.stops_run {
                                stop_run(ctx);
                            }
                            e.error
                        });
                    }
                }
            }
        }
        None => place_part(&part, &target, mode, fetched.last_modified).await,
    };
    match placed {
        Ok(landed) => Event::Completed {
            id,
            bytes: fetched.bytes,
            attempts,
            http_status: fetched.http_status,
            sha256: fetched.digests.sha256_hex(),
            renamed_to: renamed_to(ctx.plan.dir(), &dest, &landed),
        },
        // Under `skip`, a file that appeared under the name while this one was fetched (most
        // likely another `dl` fetching the same file) is kept, as it would have been had it
        // been there first; this run's copy is dropped.
        Err(error) if error.kind == FailureKind::Exists && mode == OnExist::Skip => {
            if holds_part {
                store::remove_part(&part);
            }
            let bytes = std::fs::metadata(&target).map_or(0, |m| m.len());
            Event::Skipped {
                id,
                bytes,
                sha256: None,
                reason: SkipReason::Exists,
                attempts,
                http_status: Some(fetched.http_status),
                renamed_to: renamed_to(ctx.plan.dir(), &dest, &target),
            }
        }
        Err(error) => {
            if holds_part {
                store::remove_part(&part);
            }
            failed(id, error, attempts, Some(fetched.http_status))
        }
    }
}

/// Moves a verified `.part` onto `dest` from the blocking pool: a rename changes a directory,
/// time in which the async thread would receive nothing.
async fn place_part(
    part: &Path,
    dest: &Path,
    mode: OnExist,
    modified: Option<SystemTime>,
) -> Result<PathBuf, FileError> {
    let (part, dest) = (part.to_path_buf(), dest.to_path_buf());
    let shown = dest.clone();
    tokio::task::spawn_blocking(move || store::place(Staged::Part(&part), &dest, mode, modified))
        .await
        .unwrap_or_else(|e| {
            Err(FileError::new(
                FailureKind::Io,
                format!("cannot move the download onto {}: {e}", shown.display()),
            ))
        })
}

/// Attempts until one succeeds, a permanent failure, the retry budget is spent, or the run
/// is stopped; `retry::decide` says what follows each failure. Mirrors take turns, each
/// attempt moving to the next URL. `since` asks each fresh attempt for a version newer than
/// that time only.
async fn attempts(
    ctx: &Ctx,
    id: FileId,
    part: &Path,
    since: Option<SystemTime>,
) -> Result<(Answer, u32), Event> {
    let file = ctx.plan.file(id);
    let policy = RetryOverride::apply(file.retry(), ctx.config.retry);
    let max_attempts = policy.retries.saturating_add(1);
    let urls = file.urls();
    let mut attempt: u32 = 1;
    // Another `dl` was found writing this file, and this one waited for it.
    let mut waited = false;
    loop {
        let url = &urls[(attempt as usize - 1) % urls.len()];
        // What the directory listing says holds for the first attempt only: later ones (and
        // one after waiting for another run) look at what was left.
        let look = attempt > 1
            || waited
            || ctx.dirs.may_exist(part)
            || ctx.dirs.may_exist(&store::meta_path(part));
        let request = attempt::Request {
            id,
            file,
            url,
            part,
            since,
        };
        let failure = match attempt::attempt(ctx, request, look).await {
            Ok(answer) => return Ok((answer, attempt)),
            Err(AttemptError::Cancelled) => return Err(Event::Cancelled { id, error: None }),
            Err(AttemptError::Busy) => {
                // Waiting is not an attempt: the same one goes again once the other run let go.
                if let Some(found) = wait_for_other_run(ctx, id, part, !waited).await {
                    return Err(found);
                }
                waited = true;
                continue;
            }
            Err(AttemptError::Kept {
                landed,
                bytes,
                sha256,
                reason,
            }) => {
                tracing::info!(
                    "{} is already there (the server's name for {}); kept",
                    landed.display(),
                    file.path()
                );
                let planned = ctx.plan.destination(file);
                return Err(Event::Skipped {
                    id,
                    bytes,
                    sha256,
                    reason,
                    attempts: attempt,
                    http_status: None,
                    renamed_to: renamed_to(ctx.plan.dir(), &planned, &landed),
                });
            }
            Err(AttemptError::Failed(failure)) => failure,
        };
        if failure.stops_run {
            stop_run(ctx);
        }
        let budget = Budget {
            policy,
            max_retry_after: ctx.config.max_retry_after,
            urls: urls.len(),
            stopping: ctx.cancel.phase() == Phase::Abort,
        };
        let delay = match retry::decide(&failure, attempt, budget) {
            Next::Fail { error, attempts } => {
                return Err(failed(id, error, attempts, failure.http_status));
            }
            Next::Mirror => Duration::ZERO,
            Next::Retry {
                delay,
                throttle_host,
            } => {
                if throttle_host {
                    ctx.net.throttle(url, delay);
                }
                delay
            }
        };
        attempt += 1;
        let Failure { error, .. } = failure;
        ctx.emit(Event::Retry {
            id,
            attempt,
            max_attempts,
            delay,
            reason: error.message.to_string(),
        });
        if !delay.is_zero() {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = ctx.cancel.aborted() => return Err(Event::Cancelled { id, error: None }),
            }
        }
    }
}

/// How often a file another `dl` is downloading is looked at again.
const OTHER_RUN_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// Another `dl` holds the lock of `part`: waits a moment, then reports what it left. `None`
/// when this run should try again (the other let go without finishing the file, or is still
/// at it); the final event when it finished the file (`skipped`: it is there now), the file
/// there does not match its checksum, or this run is stopped.
async fn wait_for_other_run(ctx: &Ctx, id: FileId, part: &Path, first: bool) -> Option<Event> {
    let file = ctx.plan.file(id);
    if first {
        tracing::warn!(
            "{}: another dl is downloading it into the same directory; waiting for it",
            crate::sanitize::sanitize(file.path())
        );
    }
    tokio::select! {
        () = tokio::time::sleep(OTHER_RUN_POLL) => {}
        () = ctx.cancel.aborted() => return Some(Event::Cancelled { id, error: None }),
    }
    if store::part_locked(part) || ctx.config.on_exist != OnExist::Skip {
        // Still at it; or under another policy, this run decides afresh once it may.
        return None;
    }
    let dest = ctx.plan.destination(file);
    match store::check_existing(&dest, OnExist::Skip, file.checksum(), ctx.config.sha256).await {
        // The other run finished it.
        Existing::Skip { bytes, sha256, .. } => Some(Event::Skipped {
            id,
            bytes,
            sha256,
            reason: SkipReason::Exists,
            attempts: 0,
            http_status: None,
            renamed_to: None,
        }),
        Existing::Fail(error) => Some(failed(id, error, 0, None)),
        // It let go without finishing: this run goes on from what it left.
        _ => None,
    }
}

/// A local failure every other file would share (disk full, read-only): start no more files.
fn stop_run(ctx: &Ctx) {
    if ctx.cancel.advance(Phase::Draining) {
        ctx.emit(Event::Stopping {
            now: false,
            cause: StopCause::WriteError,
        });
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

/// Where a file is, relative to `dir` and `/`-separated, when that is not where it was
/// planned: what the events report as `renamed_to`.
fn renamed_to(dir: &Path, planned: &Path, landed: &Path) -> Option<String> {
    if landed == planned {
        return None;
    }
    let rel = landed.strip_prefix(dir).unwrap_or(landed);
    let parts: Vec<_> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect();
    Some(parts.join("/"))
}
