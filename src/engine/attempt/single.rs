//! One response streamed into the file's sink from byte `start`: the whole file, or the
//! rest of a resumed `.part`. A prefix already on disk is hashed first, so the digests cover
//! the whole file.

use super::body::{Destination, End, Meter, read_body};
use super::{hash_prefix, hashers, reserve_failed};
use crate::engine::context::Ctx;
use crate::engine::failure::{AttemptError, failed, io_error};
use crate::engine::store::{self, Finished, Meta, OpenError, Sink};
use crate::error::FailureKind;
use crate::plan::{FileConfig, FileId};
use bytes::Bytes;
use std::path::Path;

/// What a streamed body left: its length, the digests, and a small body still in memory.
pub(in crate::engine) struct Streamed {
    pub bytes: u64,
    pub digests: crate::checksum::Digests,
    pub body: Option<Vec<Bytes>>,
    /// The part, still locked against another `dl` until it is placed.
    pub lock: Option<std::fs::File>,
}

/// The sink as a destination of the body loop: it takes every byte.
struct Whole<'a> {
    sink: Sink,
    part: &'a Path,
}

impl Destination for Whole<'_> {
    fn claim(&mut self, len: usize) -> usize {
        len
    }

    async fn store(&mut self, bytes: Bytes) -> Result<(), AttemptError> {
        self.sink
            .write(bytes)
            .await
            .map_err(|e| io_error(self.part, "write", e))
    }

    fn full(&self) -> bool {
        false
    }
}

/// A part that was there when the attempt began and is gone now was placed or removed by
/// another `dl`: the attempt stops as if the part were busy, and the worker looks again.
fn vanished_part(part: &Path, e: AttemptError) -> AttemptError {
    match &e {
        AttemptError::Failed(f) if f.error.kind == FailureKind::Io && !part.exists() => {
            AttemptError::Busy
        }
        _ => e,
    }
}

/// Streams `response` into `part` from byte `start` of `span` (the whole file's length is its
/// second half, when known). `fresh_meta` is written beside the part once the part is open
/// and locked: never over the metadata of a part another `dl` is writing.
pub(in crate::engine) async fn download(
    ctx: &Ctx,
    id: FileId,
    file: &FileConfig,
    mut response: reqwest::Response,
    part: &Path,
    span: (u64, Option<u64>),
    fresh_meta: Option<Meta>,
) -> Result<Streamed, AttemptError> {
    let (start, total) = span;
    let meter = Meter::new(ctx, id, start, total)?;
    let hashers = if start == 0 {
        hashers(ctx, file)
    } else {
        hash_prefix(ctx, part, start, file)
            .await
            .map_err(|e| vanished_part(part, e))?
    };
    let expected = total.map(|t| t - start.min(t));
    let sink = Sink::open(part, start, expected, hashers)
        .await
        .map_err(|e| match e {
            OpenError::Create(e) if store::is_busy(&e) => AttemptError::Busy,
            // The part this attempt continues lost its name: another `dl` placed or removed it.
            OpenError::Create(e) if start > 0 && e.kind() == std::io::ErrorKind::NotFound => {
                AttemptError::Busy
            }
            OpenError::Create(e) => io_error(part, "create", e),
            OpenError::Reserve { len, error } => reserve_failed(part, len, error, start == 0),
        })?;
    if let Some(meta) = fresh_meta {
        let meta_file = store::meta_path(part);
        meta.store_off_thread(&meta_file)
            .await
            .map_err(|e| io_error(&meta_file, "write", e))?;
    }
    let mut whole = Whole { sink, part };
    let streamed = read_body(ctx, &meter, &mut response, &mut whole).await;
    // Whatever arrived intact is kept on disk, so the next attempt can continue from it.
    let finished = whole
        .sink
        .finish()
        .await
        .map_err(|e| io_error(part, "write", e));
    debug_assert!(!matches!(streamed, Ok(End::Full)), "a sink is never full");
    streamed?;
    let Finished {
        hashers,
        body,
        lock,
    } = finished?;
    let written = meter.received();
    if let Some(len) = total
        && written < len
    {
        return Err(failed(
            FailureKind::Network,
            format!("connection closed after {written} of {len} bytes"),
        ));
    }
    meter.report(ctx);
    Ok(Streamed {
        bytes: written,
        digests: hashers.finish(),
        body,
        lock,
    })
}
