//! Where a body's bytes go: the `.part` file and the hashers. A small new body (known length up
//! to `INLINE_MAX`) is kept in memory and stored whole by a file thread (`engine::files`);
//! large or unknown-size bodies go to one writer thread per file, which hashes and writes while
//! the async thread keeps receiving. Chunks travel as reference-counted `Bytes` and are written
//! with positional vectored writes (`write_all_at`, in blocks of `WRITE_MAX`, or of
//! `SMALL_WRITE_MAX` for a body kept in memory): no copy between the socket buffer and the
//! kernel's page cache. The disk space of a body of known length is reserved before its first
//! byte is written (`sys::reserve`). The writer thread also creates the file and reserves its
//! space, while the async thread waits for it without blocking: the async thread never makes a
//! call that changes the file system (`docs/performance.md`).

use super::sys::{Open, open_locked, reserve};
use crate::checksum::Hashers;
use bytes::Bytes;
use std::io::{self, IoSlice};
use std::path::Path;

/// New bodies up to this size are kept in memory until whole (at most this much per worker,
/// less than a writer thread may queue). A body this small is restarted, never resumed
/// (`RESUME_MIN_BYTES`), so a `.part` for it would only cost directory changes.
pub(in crate::engine) const INLINE_MAX: u64 = super::resume::RESUME_MIN_BYTES;

/// Bytes gathered before they are handed to a writer thread: one wake-up per batch, not per
/// network chunk (a GiB arrives in tens of thousands of chunks).
pub(in crate::engine) const BATCH_BYTES: usize = 256 * 1024;

/// Batches in flight to a writer thread before the receiver waits (backpressure: memory stays
/// bounded, about 2 MiB, whatever the file size).
const QUEUE: usize = 8;

pub(in crate::engine) enum Sink {
    /// A small new body, kept in memory until it is whole (then stored by a file thread).
    Memory {
        chunks: Vec<Bytes>,
        hashers: Box<Hashers>,
    },
    Thread {
        batch: Vec<Bytes>,
        batch_len: usize,
        tx: tokio::sync::mpsc::Sender<Vec<Bytes>>,
        /// `None` once awaited: the writer refused a batch and that write returned its error.
        writer: Option<Writer>,
    },
}

/// The writer thread: its hashers, and the part (whose lock is held until it is placed).
type Writer = tokio::task::JoinHandle<io::Result<(Hashers, std::fs::File)>>;

/// Most bytes one write call stores; each call ends at or before the next multiple of this
/// offset in the file. Small aligned writes keep the page cache from handing out large folios,
/// which cost far more to fault in on a VM whose balloon returns free memory to the host (see
/// `docs/performance.md`, "Write size").
pub(in crate::engine) const WRITE_MAX: usize = 32 << 10;

/// The same limit for a body kept in memory (up to `INLINE_MAX`): one page a call. Single-page
/// folios come from pages the kernel has just recycled, where larger ones may come from memory
/// a VM has handed back to its host and fault in page by page; for a large body the extra calls
/// cost more than they save (`docs/performance.md`, "Write size").
pub(in crate::engine) const SMALL_WRITE_MAX: usize = 4 << 10;

/// Writes every byte of `chunks` to `file` from offset `at`, in blocks of `block` bytes
/// (`WRITE_MAX` or `SMALL_WRITE_MAX`; `pwritev`: the file's cursor neither used nor moved).
/// Returns the offset after the last byte.
pub(in crate::engine) fn write_all_at(
    file: &std::fs::File,
    chunks: &[Bytes],
    at: u64,
    block: usize,
) -> io::Result<u64> {
    write_blocks(chunks, at, block as u64, |slices, at| {
        rustix::io::pwritev(file, slices, at).map_err(io::Error::from)
    })
}

/// Hands `write` the bytes of `chunks` from offset `at` on, a block at a time: at most
/// `block` bytes that never cross a multiple of `block`. A short write is continued where it
/// stopped; an interrupted one is repeated.
fn write_blocks(
    chunks: &[Bytes],
    mut at: u64,
    block: u64,
    mut write: impl FnMut(&[IoSlice<'_>], u64) -> io::Result<usize>,
) -> io::Result<u64> {
    // The next byte to write: chunks[index][skip].
    let (mut index, mut skip) = (0, 0);
    let mut slices = Vec::new();
    loop {
        while chunks.get(index).is_some_and(|c| c.len() == skip) {
            (index, skip) = (index + 1, 0);
        }
        if index == chunks.len() {
            return Ok(at);
        }
        let mut room = (block - at % block) as usize;
        slices.clear();
        let (mut i, mut s) = (index, skip);
        while room > 0 && i < chunks.len() {
            let rest = &chunks[i][s..];
            let take = rest.len().min(room);
            slices.push(IoSlice::new(&rest[..take]));
            room -= take;
            (i, s) = if take == rest.len() {
                (i + 1, 0)
            } else {
                (i, s + take)
            };
        }
        let mut written = match write(&slices, at) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        at += written as u64;
        while written > 0 {
            let left = chunks[index].len() - skip;
            if written < left {
                skip += written;
                break;
            }
            written -= left;
            (index, skip) = (index + 1, 0);
        }
    }
}

/// Opens `part` for writing at `start`: created (truncated) for a fresh download, cut back to
/// exactly `start` bytes for a resumed one.
fn open_at(part: &Path, start: u64) -> io::Result<std::fs::File> {
    if start == 0 {
        return open_locked(part, Open::Create);
    }
    let file = open_locked(part, Open::Write)?;
    file.set_len(start)?;
    Ok(file)
}

/// Why a sink could not be opened.
#[derive(Debug)]
pub(in crate::engine) enum OpenError {
    /// The part file could not be created, or cut back for a resume.
    Create(io::Error),
    /// The disk has no room for the `len` bytes still to come (or the file system no place
    /// for a file that large): this file cannot be stored, though a smaller one may be.
    Reserve { len: u64, error: io::Error },
}

impl Sink {
    /// A sink for a body of `expected` bytes (when known) written to `part` from `start`.
    /// Returns once the part is open and its space reserved, so that a file the disk cannot
    /// hold fails before its body is fetched.
    pub(in crate::engine) async fn open(
        part: &Path,
        start: u64,
        expected: Option<u64>,
        hashers: Hashers,
    ) -> Result<Sink, OpenError> {
        if start == 0 && expected.is_some_and(|len| len <= INLINE_MAX) {
            return Ok(Sink::Memory {
                chunks: Vec::new(),
                hashers: Box::new(hashers),
            });
        }
        let part = part.to_path_buf();
        Sink::start(
            move || open_reserved(&part, start, expected),
            start,
            hashers,
        )
        .await
    }

    /// A writer thread that writes from `start` into the file `open` gives it (opened on that
    /// thread); returns once it is open.
    async fn start(
        open: impl FnOnce() -> Result<std::fs::File, OpenError> + Send + 'static,
        start: u64,
        hashers: Hashers,
    ) -> Result<Sink, OpenError> {
        let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
        let (opened_tx, opened) = tokio::sync::oneshot::channel();
        let writer = tokio::task::spawn_blocking(move || {
            let file = match open() {
                Ok(file) => file,
                Err(e) => {
                    let _ = opened_tx.send(Err(e));
                    return Err(stopped_early());
                }
            };
            // If the attempt was dropped meanwhile, so was the sender: the loop ends at once.
            let _ = opened_tx.send(Ok(()));
            write_loop(file, start, hashers, rx)
        });
        match opened.await {
            Ok(Ok(())) => Ok(Sink::Thread {
                batch: Vec::new(),
                batch_len: 0,
                tx,
                writer: Some(writer),
            }),
            Ok(Err(e)) => Err(e),
            // The writer panicked before it said.
            Err(_) => Err(OpenError::Create(stopped(Some(writer)).await)),
        }
    }

    pub(in crate::engine) async fn write(&mut self, chunk: Bytes) -> io::Result<()> {
        match self {
            Sink::Memory { chunks, hashers } => {
                hashers.update(&chunk);
                chunks.push(chunk);
                Ok(())
            }
            Sink::Thread {
                batch,
                batch_len,
                tx,
                writer,
            } => {
                *batch_len += chunk.len();
                batch.push(chunk);
                if *batch_len < BATCH_BYTES {
                    return Ok(());
                }
                *batch_len = 0;
                send(tx, writer, std::mem::take(batch)).await
            }
        }
    }

    /// Waits until every byte is written and returns the hashers fed with all of them; for a
    /// body kept in memory, the body (not written yet); for a part, the part itself, still
    /// locked: it is to be held until the part is placed.
    pub(in crate::engine) async fn finish(self) -> io::Result<Finished> {
        match self {
            Sink::Memory { chunks, hashers } => Ok(Finished {
                hashers: *hashers,
                body: Some(chunks),
                lock: None,
            }),
            Sink::Thread {
                batch,
                tx,
                mut writer,
                ..
            } => {
                if !batch.is_empty() {
                    send(&tx, &mut writer, batch).await?;
                }
                drop(tx);
                match writer {
                    Some(writer) => {
                        let (hashers, part) = writer.await.map_err(io::Error::other)??;
                        Ok(Finished {
                            hashers,
                            body: None,
                            lock: Some(part),
                        })
                    }
                    None => Err(stopped_early()),
                }
            }
        }
    }
}

/// What a finished sink leaves.
pub(in crate::engine) struct Finished {
    /// Fed with every byte of the body.
    pub hashers: Hashers,
    /// A small body still in memory: not written yet (a file thread stores it).
    pub body: Option<Vec<Bytes>>,
    /// The part, open and locked: another `dl` leaves it alone while this is held.
    pub lock: Option<std::fs::File>,
}

/// Hands a batch to the writer; if the writer has stopped, its result says why (once: a
/// finished task cannot be awaited again).
async fn send(
    tx: &tokio::sync::mpsc::Sender<Vec<Bytes>>,
    writer: &mut Option<Writer>,
    batch: Vec<Bytes>,
) -> io::Result<()> {
    if tx.send(batch).await.is_ok() {
        return Ok(());
    }
    Err(stopped(writer.take()).await)
}

/// Why the writer stopped; `None` when that was already said.
async fn stopped(writer: Option<Writer>) -> io::Error {
    match writer {
        Some(writer) => match writer.await {
            Ok(Err(e)) => e,
            Ok(Ok(_)) => stopped_early(),
            Err(e) => io::Error::other(e),
        },
        None => stopped_early(),
    }
}

fn stopped_early() -> io::Error {
    io::Error::other("the writer stopped early")
}

/// Opens a part for the pieces of a split download to write at their offsets: a file of the
/// full length `total`, its blocks reserved where the file system can (else a sparse file).
/// `fresh`: nothing in it is kept, and it is made anew rather than emptied (on ext4, emptying
/// a file marks it for writeback when closed, which would push the whole download to disk
/// from inside this process). Blocking: run on the blocking pool.
pub(in crate::engine) fn open_for_pieces(
    part: &Path,
    total: u64,
    fresh: bool,
) -> Result<std::fs::File, OpenError> {
    let out = if fresh {
        if super::sys::regular_or_absent(part)
            .map_err(OpenError::Create)?
            .is_some()
        {
            // Only a part nobody else is writing is ours to replace.
            drop(open_locked(part, Open::Write).map_err(OpenError::Create)?);
            std::fs::remove_file(part).map_err(OpenError::Create)?;
        }
        open_locked(part, Open::CreateNew)
    } else {
        open_locked(part, Open::Write)
    }
    .map_err(OpenError::Create)?;
    let reserved =
        reserve(&out, 0, total, false).map_err(|error| OpenError::Reserve { len: total, error })?;
    if !reserved {
        out.set_len(total).map_err(OpenError::Create)?;
    }
    Ok(out)
}

/// The part opened at `start` with the space for `expected` more bytes reserved.
fn open_reserved(
    part: &Path,
    start: u64,
    expected: Option<u64>,
) -> Result<std::fs::File, OpenError> {
    let file = open_at(part, start).map_err(OpenError::Create)?;
    if let Some(len) = expected {
        reserve(&file, start, len, true).map_err(|error| OpenError::Reserve { len, error })?;
    }
    Ok(file)
}

fn write_loop(
    file: std::fs::File,
    mut at: u64,
    mut hashers: Hashers,
    mut rx: tokio::sync::mpsc::Receiver<Vec<Bytes>>,
) -> io::Result<(Hashers, std::fs::File)> {
    while let Some(batch) = rx.blocking_recv() {
        for chunk in &batch {
            hashers.update(chunk);
        }
        at = write_all_at(&file, &batch, at, WRITE_MAX)?;
    }
    Ok((hashers, file))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_stay_inside_one_block_and_go_on_after_short_and_interrupted_ones() {
        for block in [WRITE_MAX, SMALL_WRITE_MAX] {
            check_blocks(block);
        }
    }

    /// `write_blocks` in blocks of `b` bytes, through chunks that straddle them.
    fn check_blocks(b: usize) {
        let body: Vec<u8> = (0..3 * b + 1234).map(|i| (i % 251) as u8).collect();
        // Chunks smaller and larger than a block, and empty ones, at an unaligned offset.
        let cuts = [0, 0, 100, 100 + b + 5, 2 * b + 7, 2 * b + 8, body.len()];
        let chunks: Vec<Bytes> = cuts
            .windows(2)
            .map(|w| Bytes::copy_from_slice(&body[w[0]..w[1]]))
            .collect();
        let start = 3 * b as u64 - 10;
        let mut file = vec![0u8; start as usize];
        let mut calls = Vec::new();
        let (mut short, mut interrupted) = (true, true);
        let end = write_blocks(&chunks, start, b as u64, |slices, at| {
            let len: usize = slices.iter().map(|s| s.len()).sum();
            calls.push((at, len));
            if calls.len() == 2 && std::mem::take(&mut interrupted) {
                return Err(io::ErrorKind::Interrupted.into());
            }
            // The third call stores only part of what it was given.
            let n = if calls.len() == 3 && std::mem::take(&mut short) {
                len / 3
            } else {
                len
            };
            assert_eq!(
                file.len() as u64,
                at,
                "each call goes on where the last stopped"
            );
            let bytes: Vec<u8> = slices.iter().flat_map(|s| s.iter().copied()).collect();
            file.extend_from_slice(&bytes[..n]);
            Ok(n)
        })
        .unwrap();
        assert_eq!(end, start + body.len() as u64);
        assert_eq!(&file[start as usize..], &body[..]);
        assert!(!short && !interrupted);
        for (at, len) in calls {
            let block = at / b as u64;
            assert!(len > 0 && len <= b, "{len}");
            assert_eq!(
                (at + len as u64 - 1) / b as u64,
                block,
                "{at}+{len} crosses a block"
            );
        }
        // Nothing to write: no call at all.
        let nothing = write_blocks(&[Bytes::new()], 7, b as u64, |_, _| unreachable!()).unwrap();
        assert_eq!(nothing, 7);
        let refused = write_blocks(&chunks, 0, b as u64, |_, _| Ok(0)).unwrap_err();
        assert_eq!(refused.kind(), io::ErrorKind::WriteZero);
    }

    #[tokio::test]
    async fn inline_and_threaded_sinks_write_every_byte_in_order() {
        let dir = tempfile::tempdir().unwrap();
        for expected in [Some(10), None] {
            let part = dir.path().join("f.part");
            let mut sink = Sink::open(&part, 0, expected, Hashers::new(None, true))
                .await
                .unwrap();
            for piece in [&b"hello "[..], b"wor", b"ld"] {
                sink.write(Bytes::copy_from_slice(piece)).await.unwrap();
            }
            let super::Finished { hashers, body, .. } = sink.finish().await.unwrap();
            let digests = hashers.finish();
            if let Some(body) = body {
                assert_eq!(expected, Some(10), "only small bodies stay in memory");
                std::fs::write(&part, body.concat()).unwrap();
            }
            assert_eq!(std::fs::read(&part).unwrap(), b"hello world");
            assert_eq!(
                digests.sha256_hex().unwrap(),
                "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9"
            );
            // Resuming cuts back to the offset and appends.
            let mut sink = Sink::open(&part, 5, expected, Hashers::new(None, false))
                .await
                .unwrap();
            sink.write(Bytes::from_static(b"!")).await.unwrap();
            sink.finish().await.unwrap();
            assert_eq!(std::fs::read(&part).unwrap(), b"hello!");
        }
    }

    #[tokio::test]
    async fn a_body_cut_short_leaves_a_part_of_its_bytes_whatever_was_reserved() {
        use std::os::unix::fs::MetadataExt;
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("big.part");
        let announced = 4 * INLINE_MAX;
        for (start, expected) in [(0, announced), (1000, announced - 1000)] {
            let mut sink = Sink::open(&part, start, Some(expected), Hashers::new(None, false))
                .await
                .unwrap_or_else(|e| panic!("{e:?}"));
            sink.write(Bytes::from(vec![7u8; 1000])).await.unwrap();
            sink.finish().await.unwrap();
            let meta = std::fs::metadata(&part).unwrap();
            // What a resume reads back as done: the bytes written, not the space reserved.
            assert_eq!(meta.len(), start + 1000);
            if cfg!(target_os = "linux") {
                assert!(meta.blocks() * 512 >= announced, "{} blocks", meta.blocks());
            }
        }
    }

    #[tokio::test]
    async fn a_part_that_cannot_be_created_or_reserved_fails_the_open() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone").join("f.part");
        let opened = Sink::open(&gone, 0, None, Hashers::new(None, false)).await;
        assert!(
            matches!(opened, Err(OpenError::Create(_))),
            "{:?}",
            opened.err()
        );
        if cfg!(target_os = "linux") {
            // No file system holds this much: the open fails before any byte is fetched.
            let part = dir.path().join("huge.part");
            let len = u64::MAX / 2;
            let opened = Sink::open(&part, 0, Some(len), Hashers::new(None, false)).await;
            assert!(
                matches!(opened, Err(OpenError::Reserve { len: l, .. }) if l == len),
                "{:?}",
                opened.err()
            );
        }
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn a_writer_that_fails_makes_the_write_and_then_the_finish_fail() {
        // `/dev/full` takes the file's place: every write fails with "no space". Once the
        // writer has stopped, a write says why, and finishing says so again: the writer's
        // task is not awaited a second time (tokio panics on that).
        let full = || {
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .map_err(OpenError::Create)
        };
        let mut sink = Sink::start(full, 0, Hashers::new(None, false))
            .await
            .unwrap();
        let mut refused = None;
        for _ in 0..1000 {
            if let Err(e) = sink.write(Bytes::from(vec![1u8; BATCH_BYTES])).await {
                refused = Some(e);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
        let refused = refused.expect("a write fails once the writer has stopped");
        assert_eq!(refused.raw_os_error(), Some(28), "{refused}");
        assert!(sink.finish().await.is_err());
    }
}
