//! The file thread: small bodies (up to `sink::INLINE_MAX`, received whole in memory) are
//! written to their `.part` and moved onto their final name here, one after another, while
//! the async thread goes on with the network. Creating, writing and renaming a small file
//! costs more CPU than receiving it; on this thread it overlaps with the next downloads
//! instead of adding to them.

use super::OnExist;
use super::verify;
use crate::error::{FailureKind, FileError};
use bytes::Bytes;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::mpsc;

/// A finished body to store.
struct Job {
    part: PathBuf,
    dest: PathBuf,
    mode: OnExist,
    body: Vec<Bytes>,
    done: tokio::sync::oneshot::Sender<Stored>,
}

/// Where the file landed, or why it could not be stored.
pub(super) type Stored = Result<PathBuf, StoreError>;

pub(super) struct StoreError {
    pub error: FileError,
    /// Every other file would fail the same way (disk full, read-only file system).
    pub stops_run: bool,
}

/// Started on first use; ends when the engine run drops it.
#[derive(Debug, Default)]
pub(super) struct FileThread {
    jobs: Mutex<Option<mpsc::Sender<Job>>>,
}

impl FileThread {
    fn sender(&self) -> io::Result<mpsc::Sender<Job>> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = jobs.as_ref() {
            return Ok(tx.clone());
        }
        let (tx, rx) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("dl-files".into())
            .spawn(move || {
                for job in rx {
                    let stored = store(&job);
                    let _ = job.done.send(stored);
                }
            })?;
        *jobs = Some(tx.clone());
        Ok(tx)
    }

    /// Writes `body` to `part`, then moves it onto `dest` under the on-exist `mode`.
    pub(super) async fn store(
        &self,
        part: PathBuf,
        dest: PathBuf,
        mode: OnExist,
        body: Vec<Bytes>,
    ) -> Stored {
        let (done, result) = tokio::sync::oneshot::channel();
        let job = Job {
            part,
            dest,
            mode,
            body,
            done,
        };
        let unavailable = |e: String| StoreError {
            error: FileError::new(FailureKind::Io, format!("cannot store the download: {e}")),
            stops_run: false,
        };
        let tx = self.sender().map_err(|e| unavailable(e.to_string()))?;
        tx.send(job).map_err(|e| unavailable(e.to_string()))?;
        result.await.map_err(|e| unavailable(e.to_string()))?
    }
}

fn store(job: &Job) -> Stored {
    write_part(job).map_err(|e| {
        use std::io::ErrorKind::{QuotaExceeded, ReadOnlyFilesystem, StorageFull};
        let _ = std::fs::remove_file(&job.part);
        StoreError {
            stops_run: matches!(e.kind(), StorageFull | QuotaExceeded | ReadOnlyFilesystem),
            error: FileError::new(
                FailureKind::Io,
                format!("cannot write {}: {e}", job.part.display()),
            ),
        }
    })?;
    verify::place(&job.part, &job.dest, job.mode).map_err(|error| {
        let _ = std::fs::remove_file(&job.part);
        StoreError {
            error,
            stops_run: false,
        }
    })
}

fn write_part(job: &Job) -> io::Result<()> {
    let mut file = std::fs::File::create(&job.part)?;
    for chunk in &job.body {
        file.write_all(chunk)?;
    }
    Ok(())
}
