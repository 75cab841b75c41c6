//! One response streamed into the file's sink from byte `start`: the whole file, or the
//! rest of a resumed `.part`. A prefix already on disk is hashed first, so the digests cover
//! the whole file.

use super::body::{Destination, End, Meter, read_body};
use super::{hash_prefix, hashers, reserve_failed};
use crate::engine::context::Ctx;
use crate::engine::failure::{AttemptError, failed, io_error};
use crate::engine::store::{OpenError, Sink};
use crate::error::FailureKind;
use crate::plan::{FileConfig, FileId};
use bytes::Bytes;
use std::path::Path;

/// What a streamed body left: its length, the digests, and a small body still in memory.
pub(in crate::engine) struct Streamed {
    pub bytes: u64,
    pub digests: crate::checksum::Digests,
    pub body: Option<Vec<Bytes>>,
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

/// Streams `response` into `part` from byte `start`; `total` is the whole file's length when
/// known.
pub(in crate::engine) async fn download(
    ctx: &Ctx,
    id: FileId,
    file: &FileConfig,
    mut response: reqwest::Response,
    part: &Path,
    start: u64,
    total: Option<u64>,
) -> Result<Streamed, AttemptError> {
    let meter = Meter::new(ctx, id, start, total)?;
    let hashers = if start == 0 {
        hashers(ctx, file)
    } else {
        hash_prefix(ctx, part, start, file).await?
    };
    let expected = total.map(|t| t - start.min(t));
    let sink = Sink::open(part, start, expected, hashers)
        .await
        .map_err(|e| match e {
            OpenError::Create(e) => io_error(part, "create", e),
            OpenError::Reserve { len, error } => reserve_failed(part, len, error, start == 0),
        })?;
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
    let (hashers, body) = finished?;
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
    })
}
