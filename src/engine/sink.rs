//! Where a body's bytes go: the `.part` file and the hashers. A small new body (known length up
//! to `INLINE_MAX`) is kept in memory and stored whole by the file thread (`engine::files`);
//! large or unknown-size bodies go to one writer thread per file, which hashes and writes while
//! the async thread keeps receiving. Chunks travel as reference-counted `Bytes` and are written with vectored
//! writes: no copy between the socket buffer and the kernel's page cache.

use crate::checksum::Hashers;
use bytes::Bytes;
use std::io::{self, IoSlice, Seek, SeekFrom, Write};
use std::path::Path;

/// New bodies up to this size are kept in memory until whole (at most this much per worker).
pub(super) const INLINE_MAX: u64 = 256 << 10;

/// Bytes gathered before they are handed to a writer thread: one wake-up per batch, not per
/// network chunk (a GiB arrives in tens of thousands of chunks).
const BATCH_BYTES: usize = 256 * 1024;

/// Batches in flight to a writer thread before the receiver waits (backpressure: memory stays
/// bounded, about 2 MiB, whatever the file size).
const QUEUE: usize = 8;

pub(super) enum Sink {
    /// A small new body, kept in memory until it is whole (then stored by the file thread).
    Memory {
        chunks: Vec<Bytes>,
        hashers: Box<Hashers>,
    },
    Thread {
        batch: Vec<Bytes>,
        batch_len: usize,
        tx: tokio::sync::mpsc::Sender<Vec<Bytes>>,
        writer: tokio::task::JoinHandle<io::Result<Hashers>>,
    },
}

/// Opens `part` for writing at `start`: created (truncated) for a fresh download, cut back to
/// exactly `start` bytes and positioned there for a resumed one.
fn open_at(part: &Path, start: u64) -> io::Result<std::fs::File> {
    if start == 0 {
        return std::fs::File::create(part);
    }
    let mut file = std::fs::OpenOptions::new().write(true).open(part)?;
    file.set_len(start)?;
    file.seek(SeekFrom::Start(start))?;
    Ok(file)
}

impl Sink {
    /// A sink for a body of `expected` bytes (when known) written to `part` from `start`.
    pub(super) fn open(
        part: &Path,
        start: u64,
        expected: Option<u64>,
        hashers: Hashers,
    ) -> io::Result<Sink> {
        if start == 0 && expected.is_some_and(|len| len <= INLINE_MAX) {
            return Ok(Sink::Memory {
                chunks: Vec::new(),
                hashers: Box::new(hashers),
            });
        }
        let file = open_at(part, start)?;
        let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
        let writer = tokio::task::spawn_blocking(move || write_loop(file, hashers, rx));
        Ok(Sink::Thread {
            batch: Vec::new(),
            batch_len: 0,
            tx,
            writer,
        })
    }

    pub(super) async fn write(&mut self, chunk: Bytes) -> io::Result<()> {
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

    /// Waits until every byte is written and returns the hashers fed with all of them, and
    /// for a body kept in memory, the body (not written yet).
    pub(super) async fn finish(self) -> io::Result<(Hashers, Option<Vec<Bytes>>)> {
        match self {
            Sink::Memory { chunks, hashers } => Ok((*hashers, Some(chunks))),
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
                Ok((writer.await.map_err(io::Error::other)??, None))
            }
        }
    }
}

/// Hands a batch to the writer; if the writer has stopped, its result says why.
async fn send(
    tx: &tokio::sync::mpsc::Sender<Vec<Bytes>>,
    writer: &mut tokio::task::JoinHandle<io::Result<Hashers>>,
    batch: Vec<Bytes>,
) -> io::Result<()> {
    if tx.send(batch).await.is_ok() {
        return Ok(());
    }
    Err(match writer.await {
        Ok(Err(e)) => e,
        Ok(Ok(_)) => io::Error::other("the writer stopped early"),
        Err(e) => io::Error::other(e),
    })
}

fn write_loop(
    mut file: std::fs::File,
    mut hashers: Hashers,
    mut rx: tokio::sync::mpsc::Receiver<Vec<Bytes>>,
) -> io::Result<Hashers> {
    while let Some(batch) = rx.blocking_recv() {
        for chunk in &batch {
            hashers.update(chunk);
        }
        write_all_vectored(&mut file, &batch)?;
    }
    Ok(hashers)
}

fn write_all_vectored(file: &mut std::fs::File, chunks: &[Bytes]) -> io::Result<()> {
    let mut slices: Vec<IoSlice<'_>> = chunks.iter().map(|c| IoSlice::new(c)).collect();
    let mut rest = &mut slices[..];
    while !rest.is_empty() {
        match file.write_vectored(rest) {
            Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn inline_and_threaded_sinks_write_every_byte_in_order() {
        let dir = tempfile::tempdir().unwrap();
        for expected in [Some(10), None] {
            let part = dir.path().join("f.part");
            let mut sink = Sink::open(&part, 0, expected, Hashers::new(None, true)).unwrap();
            for piece in [&b"hello "[..], b"wor", b"ld"] {
                sink.write(Bytes::copy_from_slice(piece)).await.unwrap();
            }
            let (hashers, body) = sink.finish().await.unwrap();
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
            let mut sink = Sink::open(&part, 5, expected, Hashers::new(None, false)).unwrap();
            sink.write(Bytes::from_static(b"!")).await.unwrap();
            sink.finish().await.unwrap();
            assert_eq!(std::fs::read(&part).unwrap(), b"hello!");
        }
    }
}
