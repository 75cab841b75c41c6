//! What a failed attempt reports: the typed error plus what the retry decision and the host
//! state need (status, `Retry-After`, whether a connection was made, whether every other file
//! would fail the same way). A leaf of the engine: the network, the store and the attempt all
//! build these, and the worker reads them.

use crate::error::{FailureKind, FileError};
use std::path::Path;
use std::time::Duration;

/// Why an attempt did not produce a whole file.
#[derive(Debug)]
pub(super) enum AttemptError {
    Failed(Failure),
    Cancelled,
    /// Another `dl` holds the lock of the file's `.part`: it is downloading the same file
    /// into the same directory. Nothing was changed; the worker waits for it.
    Busy,
    /// The server named the file, and a file of that name is already there and stays
    /// (`--on-exist skip`): nothing to download.
    Kept {
        landed: std::path::PathBuf,
        bytes: u64,
        sha256: Option<String>,
        reason: crate::summary::SkipReason,
    },
}

/// A failed attempt.
#[derive(Debug)]
pub(super) struct Failure {
    pub error: FileError,
    pub http_status: Option<u16>,
    pub retry_after: Option<Duration>,
    /// No connection could be made (what the circuit breaker counts).
    pub connect: bool,
    /// A local write failed in a way every other file would hit too (disk full, read-only).
    pub stops_run: bool,
}

impl From<FileError> for Failure {
    fn from(error: FileError) -> Self {
        Failure {
            error,
            http_status: None,
            retry_after: None,
            connect: false,
            stops_run: false,
        }
    }
}

impl From<FileError> for AttemptError {
    fn from(error: FileError) -> Self {
        AttemptError::Failed(error.into())
    }
}

impl From<Failure> for AttemptError {
    fn from(failure: Failure) -> Self {
        AttemptError::Failed(failure)
    }
}

impl AttemptError {
    /// The same failure, marked with the status of the response it happened in.
    pub(super) fn with_status(self, http_status: u16) -> AttemptError {
        match self {
            AttemptError::Failed(f) => AttemptError::Failed(Failure {
                http_status: Some(http_status),
                ..f
            }),
            other => other,
        }
    }
}

pub(super) fn failed(kind: FailureKind, message: impl Into<String>) -> AttemptError {
    FileError::new(kind, message).into()
}

/// A local I/O error on `path`; marked `stops_run` when every other file would hit it too.
pub(super) fn io_error(path: &Path, action: &str, e: std::io::Error) -> AttemptError {
    let mut failure = Failure::from(FileError::new(
        FailureKind::Io,
        format!("cannot {action} {}: {e}", path.display()),
    ));
    failure.stops_run = fails_every_file(&e);
    AttemptError::Failed(failure)
}

/// A local write failure every other file would hit too (disk full, quota, read-only file
/// system): the run starts no more files.
pub(super) fn fails_every_file(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{QuotaExceeded, ReadOnlyFilesystem, StorageFull};
    matches!(e.kind(), StorageFull | QuotaExceeded | ReadOnlyFilesystem)
}
