//! The typed event stream from the workers. The tracker, the renderers and the NDJSON writer
//! only observe it; nothing here behaves.

use crate::error::FileError;
use crate::plan::FileId;
use crate::summary::SkipReason;
use serde::{Serialize, Serializer};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, WeakUnboundedSender};

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
        /// Set when the file kept is not at the planned path: it is under the name the
        /// server gave (`--content-disposition`, a redirect).
        #[serde(skip_serializing_if = "Option::is_none")]
        renamed_to: Option<String>,
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

/// Events sent but not yet received above which workers wait before starting another file.
/// Sending never waits (a transfer must not stall on a slow observer); starting a file does,
/// so a run of millions of files that fail at once cannot pile up millions of events.
const BACKLOG: usize = 4096;

/// The event stream of one run: the engine's end and the observers' end.
pub fn channel() -> (EventSender, EventReceiver) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let backlog = Arc::new(Backlog::default());
    (
        EventSender {
            tx,
            backlog: backlog.clone(),
        },
        EventReceiver { rx, backlog },
    )
}

/// How many events are in flight, and a wake-up for senders waiting for room.
#[derive(Debug, Default)]
struct Backlog {
    queued: AtomicUsize,
    /// Set when the receiver is gone: nothing will drain, so nobody waits.
    closed: AtomicBool,
    room: Notify,
}

impl Backlog {
    fn received(&self, n: usize) {
        let before = self.queued.fetch_sub(n, Ordering::AcqRel);
        if before > BACKLOG && before - n <= BACKLOG {
            self.room.notify_waiters();
        }
    }
}

/// Where the engine sends events.
#[derive(Debug, Clone)]
pub struct EventSender {
    tx: UnboundedSender<Event>,
    backlog: Arc<Backlog>,
}

impl EventSender {
    /// Sends without waiting; an event nobody listens to any more is dropped.
    pub fn send(&self, event: Event) {
        self.backlog.queued.fetch_add(1, Ordering::AcqRel);
        if self.tx.send(event).is_err() {
            self.backlog.received(1);
        }
    }

    /// Waits while the observers are more than a few thousand events behind.
    pub async fn room(&self) {
        let backlog = &*self.backlog;
        loop {
            let room = backlog.room.notified();
            tokio::pin!(room);
            // Registered before the check, so a drain between the check and the wait wakes it.
            room.as_mut().enable();
            if backlog.queued.load(Ordering::Acquire) <= BACKLOG
                || backlog.closed.load(Ordering::Acquire)
            {
                return;
            }
            room.await;
        }
    }

    /// A sender that does not keep the stream open (for the signal listener).
    pub fn downgrade(&self) -> WeakEventSender {
        WeakEventSender {
            tx: self.tx.downgrade(),
            backlog: self.backlog.clone(),
        }
    }
}

/// An [`EventSender`] that does not keep the stream open.
#[derive(Debug, Clone)]
pub struct WeakEventSender {
    tx: WeakUnboundedSender<Event>,
    backlog: Arc<Backlog>,
}

impl WeakEventSender {
    /// Sends when the stream is still open.
    pub fn send(&self, event: Event) {
        if let Some(tx) = self.tx.upgrade() {
            EventSender {
                tx,
                backlog: self.backlog.clone(),
            }
            .send(event);
        }
    }
}

/// Where observers receive events. It must be read while the run goes on: workers wait for
/// it when it falls behind.
#[derive(Debug)]
pub struct EventReceiver {
    rx: UnboundedReceiver<Event>,
    backlog: Arc<Backlog>,
}

impl EventReceiver {
    /// The next event; `None` once every sender is gone and every event was received.
    pub async fn recv(&mut self) -> Option<Event> {
        let event = self.rx.recv().await;
        if event.is_some() {
            self.backlog.received(1);
        }
        event
    }

    /// Up to `limit` events appended to `buffer`, waiting for at least one; 0 once every
    /// sender is gone. Cancel safe, like `UnboundedReceiver::recv_many`.
    pub async fn recv_many(&mut self, buffer: &mut Vec<Event>, limit: usize) -> usize {
        let n = self.rx.recv_many(buffer, limit).await;
        self.backlog.received(n);
        n
    }
}

impl Drop for EventReceiver {
    fn drop(&mut self) {
        self.backlog.closed.store(true, Ordering::Release);
        self.backlog.room.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn senders_wait_for_room_only_while_observers_lag() {
        let (tx, mut rx) = channel();
        let lagging = Duration::from_millis(50);
        for id in 0..BACKLOG as FileId {
            tx.send(Event::Queued { id });
        }
        tx.room().await; // at the limit, not over it
        tx.send(Event::Queued { id: 0 });
        assert!(tokio::time::timeout(lagging, tx.room()).await.is_err());
        let waiting = tokio::spawn({
            let tx = tx.clone();
            async move { tx.room().await }
        });
        let mut batch = Vec::new();
        assert_eq!(rx.recv_many(&mut batch, 1).await, 1);
        tokio::time::timeout(Duration::from_secs(5), waiting)
            .await
            .expect("a drained backlog wakes the waiting sender")
            .unwrap();

        tx.send(Event::Queued { id: 1 });
        assert!(tokio::time::timeout(lagging, tx.room()).await.is_err());
        drop(rx);
        tokio::time::timeout(Duration::from_secs(5), tx.room())
            .await
            .expect("nobody waits for a receiver that is gone");
    }
}
