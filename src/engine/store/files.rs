//! The file threads: small bodies (up to `sink::INLINE_MAX`, received whole and verified in
//! memory) are stored under their final name here while the async thread goes on with the
//! network. Creating and naming a small file costs more CPU than receiving it; on these
//! threads it overlaps with the next downloads instead of adding to them. There are two, so
//! that one file's calls can run while another's wait in the file system (ext4 serialises
//! the changes to one directory, not the writes or the inode work around them).
//!
//! Where the file system can (Linux `O_TMPFILE`), the body is written to a file with no name
//! in the destination's directory, which is then linked under its final name: like
//! `NAME.part` + rename, nothing incomplete ever has the final name, but with one directory
//! change instead of three. Elsewhere, or when a
//! stale `NAME.part` is there to be replaced, it goes through `NAME.part`.

use super::place::{Staged, place};
use super::sys::{Open, create_anonymous, is_busy, open_locked};
use crate::engine::failure::fails_every_file;
use crate::error::{FailureKind, FileError};
use crate::policy::OnExist;
use bytes::Bytes;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// A finished body to store.
struct Job {
    part: PathBuf,
    dest: PathBuf,
    mode: OnExist,
    body: Vec<Bytes>,
    /// No `NAME.part` is there (so none needs replacing): a file without a name may be used.
    anonymous: bool,
    /// The modification time to give it (the server's Last-Modified).
    modified: Option<SystemTime>,
    done: tokio::sync::oneshot::Sender<Stored>,
}

/// Where the file landed, or why it could not be stored.
pub(in crate::engine) type Stored = Result<PathBuf, StoreError>;

pub(in crate::engine) struct StoreError {
    pub error: FileError,
    /// Every other file would fail the same way (disk full, read-only file system).
    pub stops_run: bool,
    /// Another `dl` holds the lock of `NAME.part`: nothing was written; try again later.
    pub busy: bool,
}

/// File threads taking jobs from one queue: two overlap one file's calls with another's waits
/// in the file system, more gain nothing (`docs/performance.md`, "Small files").
const THREADS: usize = 2;

/// Started on first use; they end when the engine run drops this (and with it the queue).
#[derive(Debug, Default)]
pub(in crate::engine) struct FileThreads {
    jobs: Mutex<Option<crossbeam_channel::Sender<Job>>>,
}

impl FileThreads {
    fn sender(&self) -> io::Result<crossbeam_channel::Sender<Job>> {
        let mut jobs = self.jobs.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(tx) = jobs.as_ref() {
            return Ok(tx.clone());
        }
        let (tx, queue) = crossbeam_channel::unbounded::<Job>();
        let (answers, answered) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..THREADS {
            let (queue, answers) = (queue.clone(), answers.clone());
            std::thread::Builder::new()
                .name("dl-files".into())
                .spawn(move || serve(&queue, &answers))?;
        }
        tokio::spawn(deliver(answered));
        *jobs = Some(tx.clone());
        Ok(tx)
    }

    /// Stores `body` under `dest` (through `part` unless `anonymous` allows a file without a
    /// name) under the on-exist `mode`, last modified at `modified` when given.
    pub(in crate::engine) async fn store(
        &self,
        part: PathBuf,
        dest: PathBuf,
        mode: OnExist,
        body: Vec<Bytes>,
        anonymous: bool,
        modified: Option<SystemTime>,
    ) -> Stored {
        let (done, result) = tokio::sync::oneshot::channel();
        let job = Job {
            part,
            dest,
            mode,
            body,
            anonymous,
            modified,
            done,
        };
        let unavailable = |e: String| {
            StoreError::from(FileError::new(
                FailureKind::Io,
                format!("cannot store the download: {e}"),
            ))
        };
        let tx = self.sender().map_err(|e| unavailable(e.to_string()))?;
        tx.send(job).map_err(|e| unavailable(e.to_string()))?;
        result.await.map_err(|e| unavailable(e.to_string()))?
    }
}

/// A stored job's answer, on its way to the task waiting for it.
type Answer = (tokio::sync::oneshot::Sender<Stored>, Stored);

/// Takes jobs until the queue is dropped. A job wakes one waiting thread, or none when both
/// are busy (the first to finish takes it), with no lock passed between the threads.
fn serve(
    queue: &crossbeam_channel::Receiver<Job>,
    answers: &tokio::sync::mpsc::UnboundedSender<Answer>,
) {
    while let Ok(job) = queue.recv() {
        let stored = store(&job);
        let _ = answers.send((job.done, stored));
    }
}

/// Hands the file threads' answers to the tasks waiting for them, on the async thread. Waking
/// a task from another thread wakes the runtime (a write to its eventfd, and its thread out of
/// `epoll_wait`); answers sent while this task has not yet taken the last ones cost none of
/// that, and reach their tasks from here as local wake-ups.
async fn deliver(mut answered: tokio::sync::mpsc::UnboundedReceiver<Answer>) {
    while let Some((done, stored)) = answered.recv().await {
        let _ = done.send(stored);
    }
}

/// Stores one job: in a file without a name, linked, where allowed and possible; else
/// through `NAME.part`.
fn store(job: &Job) -> Stored {
    if job.anonymous {
        match create_anonymous(&job.dest) {
            Ok(Some(file)) => {
                write_body(&file, &job.body).map_err(|e| write_error(&job.dest, e))?;
                return place(Staged::Anonymous(&file), &job.dest, job.mode, job.modified)
                    .map_err(StoreError::from);
            }
            Ok(None) => {}
            Err(e) => return Err(write_error(&job.dest, e)),
        }
    }
    // Held until the part has its final name: another `dl` leaves it alone meanwhile.
    let locked = open_locked(&job.part, Open::Create).map_err(|e| write_error(&job.part, e))?;
    write_body(&locked, &job.body).map_err(|e| {
        let _ = std::fs::remove_file(&job.part);
        write_error(&job.part, e)
    })?;
    place(Staged::Part(&job.part), &job.dest, job.mode, job.modified).map_err(|error| {
        let _ = std::fs::remove_file(&job.part);
        StoreError::from(error)
    })
}

/// Placing a written file failed: that file's problem (a name taken, a rename refused), not
/// one every other file would share.
impl From<FileError> for StoreError {
    fn from(error: FileError) -> Self {
        StoreError {
            error,
            stops_run: false,
            busy: false,
        }
    }
}

fn write_error(path: &Path, e: io::Error) -> StoreError {
    StoreError {
        stops_run: fails_every_file(&e),
        busy: is_busy(&e),
        error: FileError::new(
            FailureKind::Io,
            format!("cannot write {}: {e}", path.display()),
        ),
    }
}

fn write_body(file: &std::fs::File, body: &[Bytes]) -> io::Result<()> {
    use super::sink::{SMALL_WRITE_MAX, write_all_at};
    write_all_at(file, body, 0, SMALL_WRITE_MAX).map(drop)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn job(dir: &Path, name: &str, body: &str, mode: OnExist, anonymous: bool) -> Job {
        let dest = dir.join(name);
        Job {
            part: crate::paths::part_path(&dest),
            dest,
            mode,
            body: vec![Bytes::copy_from_slice(body.as_bytes())],
            anonymous,
            modified: None,
            done: tokio::sync::oneshot::channel().0,
        }
    }

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn bodies_land_whole_under_their_name_with_every_on_exist_mode() {
        for anonymous in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let dir = dir.path();
            let stored = store(&job(dir, "a.txt", "one", OnExist::Skip, anonymous));
            assert_eq!(stored.ok(), Some(dir.join("a.txt")));

            // Appeared meanwhile: never replaced, and nothing left behind.
            let again = store(&job(dir, "a.txt", "two", OnExist::Skip, anonymous));
            assert_eq!(again.err().unwrap().error.kind, FailureKind::Exists);
            let failed = store(&job(dir, "a.txt", "two", OnExist::Fail, anonymous));
            assert_eq!(failed.err().unwrap().error.kind, FailureKind::Exists);
            assert_eq!(std::fs::read_to_string(dir.join("a.txt")).unwrap(), "one");

            let renamed = store(&job(dir, "a.txt", "three", OnExist::Rename, anonymous));
            assert_eq!(renamed.ok(), Some(dir.join("a.1.txt")));
            assert_eq!(
                std::fs::read_to_string(dir.join("a.1.txt")).unwrap(),
                "three"
            );

            // A stale `.part` from elsewhere does not stop an overwrite, and is not left.
            std::fs::write(dir.join("a.txt.part"), "stale").unwrap();
            let over = store(&job(dir, "a.txt", "four", OnExist::Overwrite, anonymous));
            assert_eq!(over.ok(), Some(dir.join("a.txt")));
            assert_eq!(std::fs::read_to_string(dir.join("a.txt")).unwrap(), "four");
            assert_eq!(names(dir), ["a.1.txt", "a.txt"]);
        }
    }

    #[test]
    fn a_stored_body_has_the_modification_time_it_was_given() {
        let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(784_111_777);
        for anonymous in [true, false] {
            let dir = tempfile::tempdir().unwrap();
            let mut job = job(dir.path(), "a.txt", "one", OnExist::Update, anonymous);
            job.modified = Some(when);
            let path = store(&job).ok().unwrap();
            assert_eq!(std::fs::metadata(path).unwrap().modified().unwrap(), when);
        }
    }

    #[tokio::test]
    async fn bodies_stored_at_once_all_land_whole_under_their_names() {
        let dir = tempfile::tempdir().unwrap();
        let threads = FileThreads::default();
        let stores = (0..64).map(|i| {
            let dest = dir.path().join(format!("f{i}"));
            let body = vec![Bytes::from(format!("body {i} ").repeat(i + 1))];
            threads.store(
                crate::paths::part_path(&dest),
                dest,
                OnExist::Fail,
                body,
                i % 2 == 0,
                None,
            )
        });
        for (i, stored) in futures_util::future::join_all(stores)
            .await
            .into_iter()
            .enumerate()
        {
            let path = stored.ok().unwrap();
            let expected = format!("body {i} ").repeat(i + 1);
            assert_eq!(std::fs::read_to_string(path).unwrap(), expected);
        }
        assert_eq!(names(dir.path()).len(), 64, "no part left behind");
    }

    #[test]
    fn a_missing_directory_is_an_io_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let gone = dir.path().join("gone");
        for anonymous in [true, false] {
            let stored = store(&job(&gone, "a.txt", "x", OnExist::Skip, anonymous));
            let error = stored.err().unwrap().error;
            assert_eq!(error.kind, FailureKind::Io);
            assert!(error.message.contains("a.txt"), "{}", error.message);
        }
    }
}
