//! `--split N`: one large file over at most N connections. The file is cut into pieces, one
//! per connection, written in place with positional writes; a connection that finishes takes
//! a piece nobody has taken (a resumed download can have more holes than connections), else
//! half of the largest piece still in progress (work stealing), so one slow connection never
//! decides the finish time. Every request after the first carries `If-Range`, and a piece is
//! only accepted from a 206 that names the same version. Each of those requests goes on a
//! connection of its own, closed with its response (a piece cut short by stealing leaves the
//! rest of its body unread): no pool stands between the pieces and their sockets, so there
//! are never more sockets than requests, and each request holds a slot of the host's cap.
//! The resume metadata records which ranges are done, so a split download resumes after a
//! crash like a single one.

use super::body::{Destination, Meter, read_body};
use super::negotiate::same_version;
use super::pieces::{MIN_PIECE, Piece, done_ranges, holes, plan_pieces, worth_splitting};
use super::{Fetched, hash_prefix, reserve_failed};
use crate::engine::context::Ctx;
use crate::engine::failure::{AttemptError, failed, io_error};
use crate::engine::net::headers::{accepts_ranges, parse_content_range};
use crate::engine::net::{Connection, let_connection_return, send_range};
use crate::engine::store::{self, BATCH_BYTES, Meta, OpenError, WRITE_MAX, write_all_at};
use crate::error::FailureKind;
use crate::plan::{FileConfig, FileId};
use bytes::Bytes;
use reqwest::StatusCode;
use reqwest::header::CONTENT_RANGE;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Resume metadata is rewritten this often while a split download runs.
const META_EVERY: Duration = Duration::from_secs(1);

/// Whether a fresh 200 response may be split: the server takes ranges, the length is known
/// and large enough, and a validator keeps the pieces of one version.
pub(in crate::engine) fn eligible(
    response: &reqwest::Response,
    total: Option<u64>,
    meta: Option<&Meta>,
) -> bool {
    accepts_ranges(response.headers())
        && total.is_some_and(worth_splitting)
        && meta.is_some_and(|m| m.if_range().is_some())
}

/// Bytes received for one piece, handed to the writer thread.
struct WriteJob {
    slot: usize,
    at: u64,
    chunks: Vec<Bytes>,
}

type Pieces = Arc<Mutex<Vec<Piece>>>;

struct Shared<'a> {
    ctx: &'a Ctx,
    file: &'a FileConfig,
    url: &'a url::Url,
    part: &'a Path,
    meta: Meta,
    total: u64,
    done_before: Vec<[u64; 2]>,
    pieces: Pieces,
    /// Taken (closed) once every connection is done, which ends the writer thread.
    writes: Mutex<Option<tokio::sync::mpsc::Sender<WriteJob>>>,
    /// The file's bytes, as every connection's body loop counts them.
    meter: Meter,
}

/// The writer thread: positional writes (in blocks of `sink::WRITE_MAX`), then the piece's
/// `written` mark moves (so resume metadata never claims bytes that are not on disk).
fn write_loop(
    out: std::fs::File,
    pieces: Pieces,
    mut jobs: tokio::sync::mpsc::Receiver<WriteJob>,
) -> std::io::Result<std::fs::File> {
    while let Some(job) = jobs.blocking_recv() {
        let at = write_all_at(&out, &job.chunks, job.at, WRITE_MAX)?;
        let mut pieces = pieces.lock().unwrap_or_else(|p| p.into_inner());
        pieces[job.slot].written = at;
    }
    Ok(out)
}

/// Downloads the missing ranges of `part` over several connections. `first`, when given, is a
/// response already streaming the resource from byte `first.1` (it serves the piece that
/// starts there).
#[allow(clippy::too_many_arguments)]
pub(in crate::engine) async fn download(
    ctx: &Ctx,
    id: FileId,
    file: &FileConfig,
    url: &url::Url,
    part: &Path,
    first: Option<(reqwest::Response, u64)>,
    mut meta: Meta,
) -> Result<Fetched, AttemptError> {
    let total = meta.total.unwrap_or(0);
    // The date of the version every piece was checked against (its `If-Range`).
    let last_modified = meta
        .last_modified
        .as_deref()
        .and_then(crate::engine::net::headers::parse_date);
    let done_before = meta.done.take().unwrap_or_default();
    let fresh = done_before.is_empty();
    let had: u64 = done_before.iter().map(|[a, b]| b.saturating_sub(*a)).sum();
    let meter = Meter::new(ctx, id, had.min(total), Some(total))?;
    let out = prepare(part, total, fresh).await?;
    let connections = (ctx.config.split as usize)
        .min(ctx.config.max_per_host)
        .max(1);
    let planned = plan_pieces(&holes(&done_before, total), connections);
    let pieces: Pieces = Arc::new(Mutex::new(
        planned
            .iter()
            .enumerate()
            .map(|(i, &[a, b])| Piece {
                start: a,
                written: a,
                next: a,
                end: b,
                owned: i < connections,
            })
            .collect(),
    ));
    let (writes, jobs) = tokio::sync::mpsc::channel(16);
    let writer = tokio::task::spawn_blocking({
        let pieces = pieces.clone();
        move || write_loop(out, pieces, jobs)
    });
    let shared = Shared {
        ctx,
        file,
        url,
        part,
        meta,
        total,
        done_before,
        pieces,
        writes: Mutex::new(Some(writes)),
        meter,
    };
    shared.store_meta().await?;
    let mut first = first;
    let runs = (0..planned.len().min(connections)).map(|slot| {
        let response = match &first {
            Some((_, start)) if *start == planned[slot][0] => first.take().map(|(r, _)| r),
            _ => None,
        };
        shared.connection(slot, response)
    });
    let all = futures_util::future::join_all(runs);
    tokio::pin!(all);
    let results = loop {
        tokio::select! {
            results = &mut all => break results,
            () = tokio::time::sleep(META_EVERY) => shared.store_meta().await?,
        }
    };
    shared
        .writes
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .take();
    let written = writer
        .await
        .unwrap_or_else(|e| Err(std::io::Error::other(e)));
    shared.store_meta().await?;
    // The part stays open, and locked against another `dl`, until it is placed.
    let lock = written.map_err(|e| io_error(part, "write", e))?;
    if let Some(error) = results.into_iter().find_map(Result::err) {
        return Err(error);
    }
    let missing = holes(&shared.done(), total);
    if !missing.is_empty() {
        return Err(failed(
            FailureKind::Network,
            format!("{} ranges were not downloaded", missing.len()),
        ));
    }
    let hashers = hash_prefix(ctx, part, total, file).await?;
    shared.meter.report(ctx);
    Ok(Fetched {
        bytes: total,
        digests: hashers.finish(),
        http_status: StatusCode::PARTIAL_CONTENT.as_u16(),
        has_meta: true,
        body: None,
        dest: None,
        lock: Some(lock),
        last_modified,
    })
}

/// The part opened for the pieces (see `store::open_for_pieces`), on the blocking pool.
async fn prepare(part: &Path, total: u64, fresh: bool) -> Result<std::fs::File, AttemptError> {
    let path = part.to_path_buf();
    let opened = tokio::task::spawn_blocking(move || store::open_for_pieces(&path, total, fresh))
        .await
        .unwrap_or_else(|e| Err(OpenError::Create(std::io::Error::other(e))));
    opened.map_err(|e| match e {
        OpenError::Create(e) if store::is_busy(&e) => AttemptError::Busy,
        OpenError::Create(e) if !fresh && e.kind() == std::io::ErrorKind::NotFound => {
            AttemptError::Busy
        }
        OpenError::Create(e) => io_error(part, "open", e),
        OpenError::Reserve { len, error } => reserve_failed(part, len, error, fresh),
    })
}

impl Shared<'_> {
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Piece>> {
        self.pieces.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn done(&self) -> Vec<[u64; 2]> {
        done_ranges(&self.done_before, &self.lock())
    }

    async fn store_meta(&self) -> Result<(), AttemptError> {
        let mut meta = self.meta.clone();
        meta.done = Some(self.done());
        let path = store::meta_path(self.part);
        meta.store_off_thread(&path)
            .await
            .map_err(|e| io_error(&path, "write", e))
    }

    /// One connection: its piece, then stolen halves of others, until nothing is left. The one
    /// given the attempt's first response works under the attempt's host slot throughout; the
    /// others take a slot for each request.
    async fn connection(
        &self,
        mut slot: usize,
        mut response: Option<reqwest::Response>,
    ) -> Result<(), AttemptError> {
        let attempts_slot = response.is_some();
        loop {
            let piece = self.lock()[slot];
            if piece.next < piece.end {
                match response.take() {
                    Some(r) => self.stream(slot, r).await?,
                    None if attempts_slot => self.fetch_piece(slot, piece).await?,
                    None => {
                        let fetch = self.fetch_piece(slot, piece);
                        self.ctx.net.with_host_slot(self.url, fetch).await?
                    }
                }
                if attempts_slot {
                    // As `with_host_slot` does for the others: the socket of a response cut
                    // short closes before this connection opens its next one.
                    let_connection_return().await;
                }
            }
            match self.steal() {
                Some(new_slot) => slot = new_slot,
                None => return Ok(()),
            }
        }
    }

    /// Takes a piece no connection has taken yet, or else the second half of the largest
    /// piece still in progress, as a new piece.
    fn steal(&self) -> Option<usize> {
        let mut pieces = self.lock();
        if let Some(slot) = pieces.iter().position(|p| !p.owned) {
            pieces[slot].owned = true;
            return Some(slot);
        }
        let (victim, rest) = pieces
            .iter()
            .enumerate()
            .map(|(i, p)| (i, p.end - p.next))
            .max_by_key(|&(_, rest)| rest)?;
        if rest < 2 * MIN_PIECE / 4 {
            return None;
        }
        let mid = pieces[victim].next + rest / 2;
        let end = pieces[victim].end;
        pieces[victim].end = mid;
        pieces.push(Piece {
            start: mid,
            written: mid,
            next: mid,
            end,
            owned: true,
        });
        Some(pieces.len() - 1)
    }

    /// Requests the rest of the piece of `slot` and streams it in.
    async fn fetch_piece(&self, slot: usize, piece: Piece) -> Result<(), AttemptError> {
        let ctx = self.ctx;
        let (from, to) = (piece.next, Some(piece.end - 1));
        let response = send_range(
            &ctx.net,
            Connection::Own,
            self.file,
            self.url,
            from,
            to,
            self.meta.if_range(),
        )
        .await?;
        self.check_piece(&response, piece.next)?;
        self.stream(slot, response).await
    }

    /// Only a 206 for exactly this range of exactly this version may be written.
    fn check_piece(&self, response: &reqwest::Response, from: u64) -> Result<(), AttemptError> {
        let header = |name| response.headers().get(name).and_then(|v| v.to_str().ok());
        let range = header(CONTENT_RANGE).and_then(parse_content_range);
        let same_version = same_version(&self.meta, response.headers());
        let ok = response.status() == StatusCode::PARTIAL_CONTENT
            && same_version
            && range.is_some_and(|(first, _, total)| first == from && total == Some(self.total));
        if ok {
            return Ok(());
        }
        // A changed resource (or a server that stopped taking ranges) is worth another
        // attempt, which starts over: a network-class failure, so it is retried.
        Err(failed(
            FailureKind::Network,
            format!(
                "the server answered a range request with {} (Content-Range {:?}): the file changed or ranges are not supported",
                response.status().as_u16(),
                header(CONTENT_RANGE).unwrap_or("none")
            ),
        ))
    }

    /// Writes the body of `response` into the piece of `slot` until the piece is complete
    /// (it may shrink while streaming, when another connection steals its second half).
    async fn stream(
        &self,
        slot: usize,
        mut response: reqwest::Response,
    ) -> Result<(), AttemptError> {
        let mut dest = PieceDest {
            shared: self,
            slot,
            batch: Vec::new(),
            batch_at: 0,
            batch_len: 0,
        };
        let read = read_body(self.ctx, &self.meter, &mut response, &mut dest).await;
        // Bytes that arrived intact are kept, whatever ended the body.
        let flushed = dest.flush().await;
        read?;
        flushed?;
        let piece = self.lock()[slot];
        if piece.next < piece.end {
            return Err(failed(
                FailureKind::Network,
                format!(
                    "connection closed with {} bytes of its range missing",
                    piece.end - piece.next
                ),
            ));
        }
        Ok(())
    }

    /// Hands bytes to the writer thread (waiting when it is behind: memory stays bounded).
    async fn write(&self, slot: usize, at: u64, chunks: Vec<Bytes>) -> Result<(), AttemptError> {
        let tx = self
            .writes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        match tx {
            Some(tx) if tx.send(WriteJob { slot, at, chunks }).await.is_ok() => Ok(()),
            // The writer stopped on an error; the download's result reports it.
            _ => Err(failed(
                FailureKind::Io,
                format!("cannot write {}", self.part.display()),
            )),
        }
    }
}

/// One piece as a destination of the body loop: it takes bytes up to the piece's end (which
/// a steal may move closer) and hands them to the writer thread in batches.
struct PieceDest<'s, 'a> {
    shared: &'s Shared<'a>,
    slot: usize,
    batch: Vec<Bytes>,
    batch_at: u64,
    batch_len: usize,
}

impl PieceDest<'_, '_> {
    async fn flush(&mut self) -> Result<(), AttemptError> {
        if self.batch.is_empty() {
            return Ok(());
        }
        self.batch_len = 0;
        let batch = std::mem::take(&mut self.batch);
        self.shared.write(self.slot, self.batch_at, batch).await
    }
}

impl Destination for PieceDest<'_, '_> {
    fn claim(&mut self, len: usize) -> usize {
        let mut pieces = self.shared.lock();
        let piece = &mut pieces[self.slot];
        let take = (len as u64).min(piece.end - piece.next);
        if self.batch.is_empty() {
            self.batch_at = piece.next;
        }
        piece.next += take;
        take as usize
    }

    async fn store(&mut self, bytes: Bytes) -> Result<(), AttemptError> {
        self.batch_len += bytes.len();
        self.batch.push(bytes);
        if self.batch_len >= BATCH_BYTES || self.full() {
            self.flush().await?;
        }
        Ok(())
    }

    fn full(&self) -> bool {
        let piece = self.shared.lock()[self.slot];
        piece.next >= piece.end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_stores_chunks_longer_than_one_write_in_place_and_marks_them_written() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.part");
        let body: Vec<u8> = (0..3 * WRITE_MAX + 7).map(|i| (i % 251) as u8).collect();
        let (head, tail) = body.split_at(WRITE_MAX + 3);
        let at = 5;
        let pieces: Pieces = Arc::new(Mutex::new(vec![Piece {
            start: at,
            written: at,
            next: at + body.len() as u64,
            end: at + body.len() as u64,
            owned: true,
        }]));
        let (tx, rx) = tokio::sync::mpsc::channel(1);
        let chunks = vec![Bytes::copy_from_slice(head), Bytes::copy_from_slice(tail)];
        tx.try_send(WriteJob {
            slot: 0,
            at,
            chunks,
        })
        .unwrap();
        drop(tx);
        let out = std::fs::File::create(&path).unwrap();
        write_loop(out, pieces.clone(), rx).unwrap();

        let written = std::fs::read(&path).unwrap();
        let (before, stored) = written.split_at(at as usize);
        assert!(
            before.iter().all(|&b| b == 0),
            "nothing written before the piece"
        );
        assert_eq!(stored, &body[..], "every byte in place, nothing after");
        assert_eq!(pieces.lock().unwrap()[0].written, at + body.len() as u64);
    }
}
