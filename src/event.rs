//! The typed event stream from the workers. The tracker, the renderers and the NDJSON writer
//! only observe it; nothing here behaves.

use crate::error::FileError;
use crate::plan::FileId;
use crate::summary::SkipReason;
use serde::{Serialize, Serializer};
use std::time::Duration;

/// Something that happened to one file (or, for `Stopping`, to the run).
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The file is waiting for a worker.
    Queued { id: FileId },
    /// A worker took the file and is making its first request.
    Started { id: FileId },
    /// Bytes of the current attempt so far (`total` when the server announced a length).
    Progress {
        id: FileId,
        bytes: u64,
        total: Option<u64>,
    },
    /// An attempt failed transiently; attempt `attempt` of `max_attempts` starts after `delay`.
    Retry {
        id: FileId,
        attempt: u32,
        max_attempts: u32,
        #[serde(rename = "delay_ms", serialize_with = "millis")]
        delay: Duration,
        reason: String,
    },
    /// The file is complete and verified under its final name.
    Completed {
        id: FileId,
        bytes: u64,
        attempts: u32,
        http_status: u16,
        /// Hex sha256, when it was computed (`EngineConfig::sha256`).
        sha256: Option<String>,
        /// Set when the final name differs from the planned one (`--on-exist rename`).
        #[serde(skip_serializing_if = "Option::is_none")]
        renamed_to: Option<String>,
    },
    /// The file was already there and was left alone.
    Skipped {
        id: FileId,
        bytes: u64,
        /// Set when the existing file was verified against the manifest checksum.
        sha256: Option<String>,
        reason: SkipReason,
        /// Requests made (1 when the server was asked whether the file changed).
        attempts: u32,
        /// The status of that request (`304`).
        http_status: Option<u16>,
    },
    /// The file failed; nothing was left under its final name.
    Failed {
        id: FileId,
        #[serde(serialize_with = "file_error")]
        error: FileError,
        attempts: u32,
        http_status: Option<u16>,
    },
    /// The file was not finished: the run was stopped (its `.part` is kept), or, with
    /// `error` (`group_failed`), another member of its group failed before it started.
    Cancelled {
        id: FileId,
        #[serde(
            skip_serializing_if = "Option::is_none",
            serialize_with = "opt_file_error"
        )]
        error: Option<FileError>,
    },
    /// The run is stopping: `now` is false for "start nothing new", true for "stop now".
    Stopping { now: bool, cause: StopCause },
}

/// Why a run stops early.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StopCause {
    /// SIGINT (Ctrl-C).
    Interrupt,
    /// SIGTERM.
    Terminate,
    /// A local write failed in a way every file would hit (disk full, read-only file system).
    WriteError,
}

impl Event {
    /// The file the event is about (`None` for run-level events).
    pub fn file(&self) -> Option<FileId> {
        match *self {
            Event::Queued { id }
            | Event::Started { id }
            | Event::Progress { id, .. }
            | Event::Retry { id, .. }
            | Event::Completed { id, .. }
            | Event::Skipped { id, .. }
            | Event::Failed { id, .. }
            | Event::Cancelled { id, .. } => Some(id),
            Event::Stopping { .. } => None,
        }
    }
}

fn millis<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(d.as_millis() as u64)
}

fn file_error<S: Serializer>(e: &FileError, s: S) -> Result<S::Ok, S::Error> {
    crate::summary::ErrorReport::from(e).serialize(s)
}

fn opt_file_error<S: Serializer>(e: &Option<FileError>, s: S) -> Result<S::Ok, S::Error> {
    e.as_ref()
        .map(crate::summary::ErrorReport::from)
        .serialize(s)
}

/// Where the engine sends events.
pub type EventSender = tokio::sync::mpsc::UnboundedSender<Event>;
