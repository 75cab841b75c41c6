//! One attempt at one file: negotiate what to ask for (the whole file, the rest of a
//! `.part`, the missing ranges of a split download), then stream the answer through the one
//! body loop (`body`) into the whole-file sink (`single`) or into pieces over several
//! connections (`split`). It neither decides to retry nor renames onto the final name; it
//! says what happened: the file fetched, or (to a conditional request) nothing newer.

mod body;
mod negotiate;
mod pieces;
mod single;
mod split;

use crate::checksum::{Digests, Hashers};
use crate::engine::context::Ctx;
use crate::engine::failure::{AttemptError, failed, io_error};
use crate::engine::naming;
use crate::engine::store::{self, Existing, Local};
use crate::error::FailureKind;
use crate::plan::{FileConfig, FileId};
use negotiate::Body;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What an attempt ended with.
pub(in crate::engine) enum Answer {
    Fetched(Fetched),
    /// The server has no version newer than the `since` date asked about (`304`).
    NotModified {
        http_status: u16,
    },
}

/// A file whose bytes are all in its `.part`, hashed.
pub(in crate::engine) struct Fetched {
    /// Length of the whole file.
    pub bytes: u64,
    pub digests: Digests,
    pub http_status: u16,
    /// Resume metadata sits beside the part (to be removed once the file is in place).
    pub has_meta: bool,
    /// A small body still in memory: not written yet (a file thread stores it).
    pub body: Option<Vec<bytes::Bytes>>,
    /// Where the file lands when the server named it (else its planned destination).
    pub dest: Option<PathBuf>,
    /// The part, open and locked against another `dl` until it is placed.
    pub lock: Option<std::fs::File>,
    /// The server's `Last-Modified` for this version: the file's modification time.
    pub last_modified: Option<SystemTime>,
}

/// Runs one attempt (`request`): waits for a connection slot to the host, fetches, and
/// tells the host state whether a connection could be made. `look` is false when the part
/// and its metadata are known not to exist (no need to ask the file system).
pub(in crate::engine) async fn attempt(
    ctx: &Ctx,
    request: Request<'_>,
    look: bool,
) -> Result<Answer, AttemptError> {
    let run = ctx
        .net
        .with_host_slot(request.url, fetch(ctx, request, look));
    tokio::select! {
        result = run => result,
        () = ctx.cancel.aborted() => Err(AttemptError::Cancelled),
    }
}

async fn fetch(ctx: &Ctx, request: Request<'_>, look: bool) -> Result<Answer, AttemptError> {
    let (part, url) = (request.part, request.url);
    // A few metadata calls on the page cache: cheaper inline than handed to a thread.
    let local = match look {
        true if ctx.config.compressed => compressed_restart(part),
        true => store::inspect(part, url),
        false => Local::Fresh { warning: None },
    };
    // The name a server gave in an earlier attempt or run, for bytes that continue it.
    let kept_name = match &local {
        Local::Resume { meta, .. } | Local::Ranges { meta } => meta.name.clone(),
        Local::Fresh { .. } => None,
    };
    receive(ctx, request, local, kept_name).await
}

/// What one attempt asks for: file `id` from `url` (its URL or a mirror), written to `part`.
/// `since` makes a fresh request conditional (If-Modified-Since); the resume of a `.part` is
/// not (its `If-Range` already names the version it continues).
#[derive(Clone, Copy)]
pub(in crate::engine) struct Request<'a> {
    pub id: FileId,
    pub file: &'a FileConfig,
    pub url: &'a url::Url,
    pub part: &'a Path,
    pub since: Option<SystemTime>,
}

/// With `--compressed` nothing is resumed: byte ranges of an encoded body do not compose. A
/// `.part` left by an earlier run restarts from zero, and the user is told.
fn compressed_restart(part: &Path) -> Local {
    let had = store::inspect_len(part).filter(|&len| len > 0);
    store::forget_now(part);
    Local::Fresh {
        warning: had.map(|len| {
            format!(
                "{}: {len} bytes kept from before are not resumed with --compressed (ranges of a \
                 compressed transfer do not compose); starting over",
                part.display()
            )
        }),
    }
}

/// Negotiates and receives the body. A name the server gave is settled (claimed, and checked
/// against what is on disk) before any byte of the body is written, so a file kept under it
/// is not fetched.
async fn receive(
    ctx: &Ctx,
    request: Request<'_>,
    local: Local,
    kept_name: Option<String>,
) -> Result<Answer, AttemptError> {
    let Request {
        id,
        file,
        url,
        part,
        since,
    } = request;
    let body = match local {
        Local::Fresh { warning } => {
            if let Some(w) = warning {
                tracing::warn!("{w}");
            }
            negotiate::fresh(ctx, file, url, since).await?
        }
        Local::Resume { offset, meta } => {
            negotiate::resumed(ctx, file, url, part, offset, meta).await?
        }
        Local::Ranges { meta } => {
            match negotiate::resumed_ranges(ctx, file, url, part, meta).await? {
                Ok((first, meta)) => {
                    let dest = settle_name(ctx, id, file, kept_name.as_deref()).await?;
                    let fetched =
                        split::download(ctx, id, file, url, part, Some(first), meta).await?;
                    return Ok(Answer::Fetched(Fetched { dest, ..fetched }));
                }
                Err(body) => body,
            }
        }
    };
    let fetched = match body {
        Body::NotModified => {
            return Ok(Answer::NotModified {
                http_status: reqwest::StatusCode::NOT_MODIFIED.as_u16(),
            });
        }
        Body::Complete {
            len,
            http_status,
            last_modified,
        } => {
            let dest = settle_name(ctx, id, file, kept_name.as_deref()).await?;
            let lock = store::lock_part(part).map_err(|e| match e {
                e if store::is_busy(&e) || e.kind() == std::io::ErrorKind::NotFound => {
                    AttemptError::Busy
                }
                e => io_error(part, "open", e),
            })?;
            let hashers = hash_prefix(ctx, part, len, file).await?;
            Fetched {
                bytes: len,
                digests: hashers.finish(),
                http_status,
                has_meta: true,
                body: None,
                dest,
                last_modified,
                lock: Some(lock),
            }
        }
        Body::Stream {
            response,
            start: 0,
            total,
            fresh_meta: Some(mut meta),
        } if ctx.config.split > 1 && split::eligible(&response, total, Some(&meta)) => {
            let name = naming::server_name(&ctx.config, file, url, &response);
            let dest = settle_name(ctx, id, file, name.as_deref()).await?;
            meta.name = name;
            let first = Some((response, 0));
            let fetched = split::download(ctx, id, file, url, part, first, meta).await?;
            Fetched { dest, ..fetched }
        }
        Body::Stream {
            response,
            start,
            total,
            fresh_meta,
        } => {
            if ctx.config.split > 1
                && start == 0
                && !ctx.config.compressed
                && total.is_none_or(pieces::worth_splitting)
            {
                ctx.say_once_no_split(url);
            }
            let http_status = response.status().as_u16();
            let last_modified = crate::engine::net::headers::last_modified(response.headers());
            let has_meta = start > 0 || fresh_meta.is_some();
            let name = if start == 0 {
                naming::server_name(&ctx.config, file, url, &response)
            } else {
                kept_name
            };
            let dest = settle_name(ctx, id, file, name.as_deref()).await?;
            let fresh_meta = fresh_meta.map(|mut meta| {
                meta.name = name;
                meta
            });
            let streamed =
                single::download(ctx, id, file, response, part, (start, total), fresh_meta)
                    .await
                    .map_err(|e| e.with_status(http_status))?;
            Fetched {
                bytes: streamed.bytes,
                digests: streamed.digests,
                http_status,
                has_meta,
                body: streamed.body,
                dest,
                last_modified,
                lock: streamed.lock,
            }
        }
    };
    Ok(Answer::Fetched(fetched))
}

/// Where the file lands when the server named it `name`: claimed among the run's names, and
/// checked against what is already there under the on-exist policy. `None`: the planned
/// destination. Deciding again for the same file and name gives the same answer.
async fn settle_name(
    ctx: &Ctx,
    id: FileId,
    file: &FileConfig,
    name: Option<&str>,
) -> Result<Option<PathBuf>, AttemptError> {
    let Some(name) = name else { return Ok(None) };
    let planned = ctx.plan.destination(file);
    let dest = ctx.names.claim(&ctx.plan, id, name);
    if dest == planned {
        return Ok(None);
    }
    let config = &ctx.config;
    match store::check_existing(&dest, config.on_exist, file.checksum(), config.sha256).await {
        Existing::Download => Ok(Some(dest)),
        Existing::Skip {
            bytes,
            sha256,
            reason,
        } => Err(AttemptError::Kept {
            landed: dest,
            bytes,
            sha256,
            reason,
        }),
        // The response in hand is the server's current version: it replaces the file.
        Existing::Update { .. } => Ok(Some(dest)),
        Existing::Fail(error) => Err(error.into()),
    }
}

/// The hashers this file needs.
fn hashers(ctx: &Ctx, file: &FileConfig) -> Hashers {
    Hashers::new(file.checksum(), ctx.config.sha256)
}

/// Hashes the first `len` bytes of the part (a large read: done on the blocking pool). When
/// no digest is wanted, only the part's length is checked (inline: one metadata call).
async fn hash_prefix(
    ctx: &Ctx,
    part: &Path,
    len: u64,
    file: &FileConfig,
) -> Result<Hashers, AttemptError> {
    let (path, fresh): (PathBuf, _) = (part.to_path_buf(), hashers(ctx, file));
    let measure_only = fresh.is_empty();
    let hash = move || crate::checksum::hash_prefix(store::open_part(&path)?, len, fresh);
    if measure_only {
        return hash().map_err(|e| io_error(part, "read", e));
    }
    match tokio::task::spawn_blocking(hash).await {
        Ok(Ok(hashers)) => Ok(hashers),
        Ok(Err(e)) => Err(io_error(part, "read", e)),
        Err(e) => Err(failed(
            FailureKind::Io,
            format!("cannot read {}: {e}", part.display()),
        )),
    }
}

/// The disk space for the `len` bytes still to come to `part` could not be reserved. Only
/// this file fails: unlike a write that finds the disk full, it says nothing about smaller
/// files. A `fresh` attempt (nothing of the file was on disk before it) leaves nothing behind:
/// its part and resume metadata are removed.
fn reserve_failed(part: &Path, len: u64, e: std::io::Error, fresh: bool) -> AttemptError {
    if fresh {
        store::remove_part(part);
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
