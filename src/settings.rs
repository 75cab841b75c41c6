//! Turning the parsed command line into `Settings`: the one place where every option gets
//! its value (command line, else the built-in default). Nothing here touches the network or
//! the download directory.

use crate::cli::FetchArgs;
use crate::engine::{EngineConfig, RetryPolicy};
use crate::plan::PlanOptions;
use crate::report::ProgressMode;
use std::path::PathBuf;

/// Everything one `dl fetch` needs, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    pub sources: Vec<String>,
    pub plan: PlanOptions,
    pub engine: EngineConfig,
    /// Already resolved against the terminal (never `auto`).
    pub progress: ProgressMode,
    pub json: bool,
    pub dry_run: bool,
}

impl Settings {
    /// Resolves the options of `dl fetch`; `stderr_is_terminal` decides `--progress auto`.
    pub fn from_fetch(args: &FetchArgs, stderr_is_terminal: bool) -> Settings {
        let defaults = EngineConfig::default();
        let retry_defaults = RetryPolicy::default();
        let progress = match (args.progress, args.quiet > 0) {
            (Some(mode), _) => mode,
            (None, true) => ProgressMode::None,
            (None, false) => ProgressMode::Auto,
        };
        Settings {
            sources: args.sources.clone(),
            plan: PlanOptions {
                dir: args.dir.clone().unwrap_or_else(|| PathBuf::from(".")),
                allow_empty: args.allow_empty,
                shard: args.shard,
            },
            engine: EngineConfig {
                workers: args.workers.map_or(defaults.workers, |w| w as usize),
                on_exist: args.on_exist.unwrap_or(defaults.on_exist),
                user_agent: args.user_agent.clone().unwrap_or(defaults.user_agent),
                headers: args.headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect(),
                max_size: args.max_size,
                retry: RetryPolicy {
                    retries: args.retries.unwrap_or(retry_defaults.retries),
                    base: args.retry_delay.unwrap_or(retry_defaults.base),
                    max: args.max_retry_delay.unwrap_or(retry_defaults.max),
                },
                connect_timeout: args.connect_timeout.unwrap_or(defaults.connect_timeout),
                read_timeout: args.read_timeout.unwrap_or(defaults.read_timeout),
                max_retry_after: args.max_retry_after.unwrap_or(defaults.max_retry_after),
                min_speed: args.min_speed,
                min_speed_time: args.min_speed_time.unwrap_or(defaults.min_speed_time),
                max_per_host: args.max_per_host.map_or(defaults.max_per_host, |n| n as usize),
                split: args.split.unwrap_or(defaults.split),
                limit_rate: args.limit_rate,
            },
            progress: progress.resolve(stderr_is_terminal),
            json: args.json,
            dry_run: args.dry_run,
        }
    }
}
