//! The worker pool: starts N workers over the priority queue, honours the cancellation
//! phases, and reports everything as events. Once started it never fails as a whole: each
//! file ends in exactly one final event (completed, skipped, failed or cancelled).

mod client;
mod dirs;
mod files;
mod hosts;
mod open;
mod rate;
mod request;
mod resume;
mod retry;
mod sink;
mod speed;
mod split;
mod transfer;
mod verify;
mod worker;

pub use crate::policy::{OnExist, RetryPolicy};

use crate::error::Error;
use crate::event::{Event, EventSender};
use crate::plan::{FileId, Plan};
use crate::queue::PriorityQueue;
use crate::secret::Secret;
use crate::summary::RunSummary;
use crate::tracker::Tracker;
use reqwest::header::{HeaderName, HeaderValue};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How the engine downloads; the run-wide part of the settings.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Files downloaded at once.
    pub workers: usize,
    pub on_exist: OnExist,
    pub user_agent: String,
    /// Extra headers for every request (a file's own headers win over these).
    pub headers: Vec<(HeaderName, Secret<HeaderValue>)>,
    /// Refuse files larger than this many bytes.
    pub max_size: Option<u64>,
    pub retry: RetryPolicy,
    pub connect_timeout: Duration,
    /// Longest silence while waiting for response headers or body bytes.
    pub read_timeout: Duration,
    /// A `Retry-After` longer than this fails the file instead of waiting.
    pub max_retry_after: Duration,
    /// An attempt averaging under this many bytes/s over `min_speed_time` is abandoned.
    pub min_speed: Option<u64>,
    pub min_speed_time: Duration,
    /// Connections to one host at once, across all files.
    pub max_per_host: usize,
    /// Connections for one large file (when the server supports Range).
    pub split: u32,
    /// Overall bandwidth cap in bytes/s, shared by all transfers.
    pub limit_rate: Option<u64>,
    /// Compute the sha256 of every file (for the summary). Costs about 0.5 s of CPU per GiB;
    /// off, it is still computed when a file's expected checksum is sha256.
    pub sha256: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            workers: 8,
            on_exist: OnExist::Skip,
            user_agent: concat!("dl/", env!("CARGO_PKG_VERSION")).to_string(),
            headers: Vec::new(),
            max_size: None,
            retry: RetryPolicy::default(),
            connect_timeout: Duration::from_secs(15),
            read_timeout: Duration::from_secs(30),
            max_retry_after: Duration::from_secs(300),
            min_speed: None,
            min_speed_time: Duration::from_secs(30),
            max_per_host: 8,
            split: 1,
            limit_rate: None,
            sha256: true,
        }
    }
}

/// Descriptors kept aside for the runtime, stdio, DNS look-ups and idle pooled connections.
const RESERVED_DESCRIPTORS: u64 = 64;

/// A local write failure every other file would hit too (disk full, quota, read-only file
/// system): the run starts no more files.
fn fails_every_file(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::{QuotaExceeded, ReadOnlyFilesystem, StorageFull};
    matches!(e.kind(), StorageFull | QuotaExceeded | ReadOnlyFilesystem)
}

/// The soft limit on open files, where the platform has one.
fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Lowers the number of workers when the open-file limit cannot serve them all (each worker
/// holds a file and up to `split` connections): files then wait for a worker instead of
/// failing with "too many open files".
fn fit_descriptors(config: &mut EngineConfig, limit: Option<u64>) {
    let Some(limit) = limit else { return };
    let per_worker = 1 + u64::from(config.split.max(1));
    let fits = (limit.saturating_sub(RESERVED_DESCRIPTORS) / per_worker).max(1) as usize;
    if config.workers > fits {
        tracing::warn!(
            "the open-file limit is {limit} (ulimit -n): using {fits} workers instead of {}",
            config.workers
        );
        config.workers = fits;
    }
}

/// Cancellation phases (SPEC §7), ordered: each only ever moves forward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Phase {
    Running,
    /// Start nothing new; running files finish.
    Draining,
    /// Stop now; `.part` files are kept.
    Abort,
}

/// A handle to move a run to a later phase; cheap to clone.
#[derive(Debug, Clone)]
pub struct Cancel {
    tx: Arc<watch::Sender<Phase>>,
}

impl Default for Cancel {
    fn default() -> Self {
        Cancel {
            tx: Arc::new(watch::channel(Phase::Running).0),
        }
    }
}

impl Cancel {
    pub fn phase(&self) -> Phase {
        *self.tx.borrow()
    }
    /// Moves to `phase` if it is later than the current one; returns whether it moved.
    pub fn advance(&self, phase: Phase) -> bool {
        self.tx.send_if_modified(|p| {
            let later = phase > *p;
            if later {
                *p = phase;
            }
            later
        })
    }
    /// Resolves once the run is told to stop now.
    pub async fn aborted(&self) {
        let mut rx = self.tx.subscribe();
        // The sender lives as long as `self`, so this only ends by reaching Abort.
        let _ = rx.wait_for(|p| *p == Phase::Abort).await;
    }
}

/// Shared by every worker of one run.
struct Ctx {
    plan: Arc<Plan>,
    config: Arc<EngineConfig>,
    client: reqwest::Client,
    /// One connection per request: the pieces of split downloads.
    piece_client: reqwest::Client,
    events: EventSender,
    cancel: Cancel,
    hosts: Arc<hosts::Hosts>,
    /// `--limit-rate`, shared by every transfer.
    rate: Option<rate::RateLimit>,
    /// Whether "this server takes no ranges: one connection" was already said.
    no_split_said: std::sync::atomic::AtomicBool,
    /// Destination directories: created once, listed once.
    dirs: dirs::Dirs,
    /// Store small bodies beside the network work.
    files: files::FileThreads,
}

impl Ctx {
    fn emit(&self, event: Event) {
        // The receiver only goes away when the caller stopped listening; nothing to do then.
        let _ = self.events.send(event);
    }

    /// `--split` asked for several connections but the server cannot do ranges (or gave no
    /// length or validator): said once per run, then each such file uses one connection.
    fn say_once_no_split(&self, url: &url::Url) {
        if !self
            .no_split_said
            .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            tracing::warn!(
                "{} does not support ranges (or sends no length or validator); downloading with one connection",
                hosts::host_key(url)
            );
        }
    }
}

/// Downloads plans. One engine (and its connection pool) can run several plans in turn.
#[derive(Debug, Clone)]
pub struct Engine {
    config: Arc<EngineConfig>,
    client: reqwest::Client,
    piece_client: reqwest::Client,
}

impl Engine {
    pub fn new(mut config: EngineConfig) -> Result<Engine, Error> {
        fit_descriptors(&mut config, open_file_limit());
        let client = client::build(&config)?;
        let piece_client = client::build_unpooled(&config)?;
        Ok(Engine {
            config: Arc::new(config),
            client,
            piece_client,
        })
    }

    /// Downloads every file of `plan`, sending events to `events`, until all files reached a
    /// final state or `cancel` stopped the run. Returns when every event has been sent.
    pub async fn run(&self, plan: Arc<Plan>, events: EventSender, cancel: Cancel) {
        let queue = Arc::new(PriorityQueue::from_plan(&plan));
        for id in 0..plan.files.len() {
            let _ = events.send(Event::Queued { id: id as FileId });
            if id % 1024 == 1023 {
                // Let the observers keep up: a million queued events must not pile up.
                tokio::task::yield_now().await;
            }
        }
        let ctx = Arc::new(Ctx {
            plan: plan.clone(),
            config: self.config.clone(),
            client: self.client.clone(),
            piece_client: self.piece_client.clone(),
            events,
            cancel,
            hosts: Arc::new(hosts::Hosts::new(
                self.config.max_per_host,
                self.breaker_cooldown(),
            )),
            rate: self.config.limit_rate.map(rate::RateLimit::new),
            no_split_said: Default::default(),
            dirs: Default::default(),
            files: Default::default(),
        });
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.config.workers.clamp(1, plan.files.len().max(1)) {
            let (ctx, queue) = (ctx.clone(), queue.clone());
            workers.spawn(async move {
                while ctx.cancel.phase() == Phase::Running {
                    let Some(id) = queue.pop() else { break };
                    worker::run_file(&ctx, id).await;
                }
            });
        }
        while let Some(joined) = workers.join_next().await {
            if let Err(e) = joined {
                tracing::error!("a download worker stopped unexpectedly: {e}");
            }
        }
        while let Some(id) = queue.pop() {
            ctx.emit(Event::Cancelled { id });
        }
    }

    /// How long a host whose breaker opened gets before it is probed: a few backoff steps.
    fn breaker_cooldown(&self) -> Duration {
        let retry = self.config.retry;
        retry
            .base
            .saturating_mul(4)
            .clamp(retry.base, retry.max.max(retry.base))
    }

    /// Runs `plan` to the end and returns its summary: the simplest way to use `dl` as a
    /// library. `observe` sees every event as it happens (pass `|_| {}` to ignore them).
    pub async fn download(&self, plan: Plan, mut observe: impl FnMut(&Event)) -> RunSummary {
        let plan = Arc::new(plan);
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        let mut tracker = Tracker::new(plan.files.len());
        let run = self.run(plan.clone(), tx, Cancel::default());
        let fold = async {
            while let Some(event) = rx.recv().await {
                tracker.apply(&event);
                observe(&event);
            }
        };
        tokio::join!(run, fold);
        tracker.summary(&plan)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn workers_fit_the_open_file_limit() {
        let mut config = EngineConfig {
            workers: 64,
            ..EngineConfig::default()
        };
        fit_descriptors(&mut config, Some(256));
        assert_eq!(config.workers, 64, "64 files and 64 connections fit in 256");
        let mut config = EngineConfig {
            workers: 64,
            split: 8,
            ..EngineConfig::default()
        };
        fit_descriptors(&mut config, Some(256));
        assert_eq!(config.workers, 21);
        let mut config = EngineConfig {
            workers: 8,
            ..EngineConfig::default()
        };
        fit_descriptors(&mut config, Some(20));
        assert_eq!(config.workers, 1);
        fit_descriptors(&mut config, None);
        assert_eq!(config.workers, 1);
    }
}
