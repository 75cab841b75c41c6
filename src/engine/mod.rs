//! The worker pool: starts N workers over the priority queue, honours the cancellation
//! phases, and reports everything as events. Once started it never fails as a whole: each
//! file ends in exactly one final event (completed, skipped, failed or cancelled).
//!
//! The engine's rooms, each importing only the ones listed after it:
//! - `worker`: one file's life (on-exist policy, attempts, verification, placement);
//! - `retry`: the pure decision after a failed attempt (retry, next mirror, give up);
//! - `attempt`: one attempt (negotiate fresh/resume/ranges, the one body loop, split);
//! - `context`: what the workers of one run share;
//! - `groups`: which all-or-nothing groups a member failed;
//! - `naming`: names a server gives a file, and which of them a run has taken;
//! - `predict`: what a run would do with each file (`--dry-run`), from the disk alone;
//! - `net`: the HTTP client (TLS trust, proxies), requests and what answers mean, netrc
//!   credentials, per-host slots, the rate limit;
//! - `store`: everything on disk under `--dir` (every `cfg`'d system call in `store::sys`);
//! - `failure`, `cancel`, `config`: plain data every room reads.

mod attempt;
mod cancel;
mod config;
mod context;
mod failure;
mod groups;
mod naming;
mod net;
mod predict;
mod retry;
mod store;
mod worker;

pub use crate::policy::{OnExist, RetryPolicy};
pub use cancel::{Cancel, Phase};
pub use config::{EngineConfig, Netrc, NetrcLogin, Proxies, ProxyChoice, ProxyUrl, Trust};
pub use net::{NetrcError, read_ca_file, read_netrc};
pub use predict::predict;

use crate::error::Error;
use crate::event::{Event, EventSender};
use crate::plan::{FileId, Plan};
use crate::queue::PriorityQueue;
use context::Ctx;
use std::sync::Arc;
use std::time::Duration;

/// Descriptors kept aside for the runtime, stdio, DNS look-ups and idle pooled connections.
const RESERVED_DESCRIPTORS: u64 = 64;

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

/// Downloads plans. One engine (and its connection pool) can run several plans in turn.
#[derive(Debug, Clone)]
pub struct Engine {
    config: Arc<EngineConfig>,
    clients: net::Clients,
}

impl Engine {
    pub fn new(mut config: EngineConfig) -> Result<Engine, Error> {
        fit_descriptors(&mut config, store::sys::open_file_limit());
        if config.compressed && config.split > 1 {
            tracing::warn!(
                "--split is not used with --compressed: a compressed transfer takes one connection"
            );
        }
        let clients = net::Clients::build(&config)?;
        Ok(Engine {
            config: Arc::new(config),
            clients,
        })
    }

    /// Downloads every file of `plan`, sending events to `events`, until all files reached a
    /// final state or `cancel` stopped the run. Returns when every event has been sent. The
    /// other end of `events` ([`crate::event::channel`]) must be read while the run goes on:
    /// workers start no new file while it is a few thousand events behind.
    pub async fn run(&self, plan: Arc<Plan>, events: EventSender, cancel: Cancel) {
        let queue = Arc::new(PriorityQueue::from_plan(&plan));
        for id in 0..plan.len() {
            if id % 1024 == 0 {
                events.room().await;
            }
            events.send(Event::Queued { id: id as FileId });
        }
        let net = net::Net::new(
            self.config.clone(),
            self.clients.clone(),
            self.breaker_cooldown(),
            plan.len(),
        );
        let ctx = Arc::new(Ctx::new(
            plan.clone(),
            self.config.clone(),
            net,
            events,
            cancel,
        ));
        let mut workers = tokio::task::JoinSet::new();
        for _ in 0..self.config.workers.clamp(1, plan.len().max(1)) {
            let (ctx, queue) = (ctx.clone(), queue.clone());
            workers.spawn(async move {
                loop {
                    // Checked after the wait: a stop that came during it starts nothing new.
                    ctx.events.room().await;
                    if ctx.cancel.phase() != Phase::Running {
                        break;
                    }
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
            ctx.emit(Event::Cancelled { id, error: None });
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
