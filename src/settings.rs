//! Turning the parsed command line into `Settings`: the one place where every option gets its
//! value. Key by key, the first level that sets it wins: the command line, the environment
//! (`DL_DIR`, `DL_WORKERS`, `DL_PROGRESS`, `DL_RETRIES`), the config file (its `[profile.NAME]`
//! table, then its top level), the built-in defaults. Config discovery is in `locate`, the file
//! format in `file`. Nothing here touches the network or the download directory.

mod file;
mod locate;

pub use file::ConfigFile;

use locate::read_config;

use crate::cli::{FetchArgs, MAX_CONNECTIONS, MAX_SPLIT};
use crate::engine::EngineConfig;
use crate::plan::PlanOptions;
use crate::policy::OnExist;
use crate::report::ProgressMode;
use crate::secret::Secret;
use crate::units::{parse_duration, parse_rate, parse_size};
use reqwest::header::{HeaderName, HeaderValue};
use std::ffi::OsString;
use std::path::PathBuf;
use std::time::Duration;

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

/// The keys a config file (top level or `[profile.NAME]`) may hold: the long option names of
/// every setting, plus `headers` (a table, merged under `-H`). Per-run choices (`--json`,
/// `--dry-run`, `--shard`, `--allow-empty`, `-q`/`-v`, the SOURCEs) stay on the command line:
/// they are flags without a `--no-` form, so a file could set them but nothing could undo them.
pub const CONFIG_KEYS: [&str; 18] = [
    "dir",
    "workers",
    "progress",
    "on-exist",
    "user-agent",
    "headers",
    "max-size",
    "connect-timeout",
    "read-timeout",
    "min-speed",
    "min-speed-time",
    "max-per-host",
    "split",
    "limit-rate",
    "retries",
    "retry-delay",
    "max-retry-delay",
    "max-retry-after",
];

/// The environment variables that set an option, as (variable, config key). `DL_CONFIG` and
/// `DL_PROFILE` choose the config file and profile.
pub const ENV_VARS: [(&str, &str); 4] = [
    ("DL_DIR", "dir"),
    ("DL_WORKERS", "workers"),
    ("DL_PROGRESS", "progress"),
    ("DL_RETRIES", "retries"),
];

/// Why the settings could not be resolved; shown as `dl: error: ...`, exit 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A problem at a line of a config file (syntax, unknown key, bad value).
    #[error("{file}:{line}: {message}")]
    At {
        file: String,
        line: usize,
        message: String,
    },
    /// The config file named by `--config` or `$DL_CONFIG` (or an existing default one) cannot
    /// be read.
    #[error("cannot read the config file {file} (from {origin})")]
    Read {
        file: String,
        origin: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A `DL_*` variable with a bad value.
    #[error("environment variable {var}: {message}")]
    Env { var: &'static str, message: String },
    /// `--profile` (or `DL_PROFILE`) names no profile of the file, or there is no file.
    #[error("{0}")]
    Profile(String),
}

/// The settings given at one level (command line, environment, config file, profile);
/// `None` means "not set here". `Some(None)` in a limit means "set to off".
#[derive(Debug, Clone, Default)]
struct Layer {
    dir: Option<PathBuf>,
    workers: Option<u32>,
    progress: Option<ProgressMode>,
    on_exist: Option<OnExist>,
    user_agent: Option<String>,
    headers: Vec<(HeaderName, Secret<HeaderValue>)>,
    max_size: Option<Option<u64>>,
    connect_timeout: Option<Duration>,
    read_timeout: Option<Duration>,
    min_speed: Option<Option<u64>>,
    min_speed_time: Option<Duration>,
    max_per_host: Option<u32>,
    split: Option<u32>,
    limit_rate: Option<Option<u64>>,
    retries: Option<u32>,
    retry_delay: Option<Duration>,
    max_retry_delay: Option<Duration>,
    max_retry_after: Option<Duration>,
}

impl Layer {
    /// Sets `key` (a config key other than `headers`) from its text, as written in a file or
    /// an environment variable. `Err(None)` means the key is unknown.
    fn set(&mut self, key: &str, text: &str) -> Result<(), Option<String>> {
        match key {
            "dir" => self.dir = Some(PathBuf::from(text)),
            "workers" => self.workers = Some(count(text, 1, MAX_CONNECTIONS)?),
            "progress" => self.progress = Some(choice(text)?),
            "on-exist" => self.on_exist = Some(choice(text)?),
            "user-agent" => self.user_agent = Some(text.to_string()),
            "max-size" => self.max_size = Some(limit(text, parse_size)?),
            "connect-timeout" => self.connect_timeout = Some(parse_duration(text)?),
            "read-timeout" => self.read_timeout = Some(parse_duration(text)?),
            "min-speed" => self.min_speed = Some(limit(text, parse_rate)?),
            "min-speed-time" => self.min_speed_time = Some(parse_duration(text)?),
            "max-per-host" => self.max_per_host = Some(count(text, 1, MAX_CONNECTIONS)?),
            "split" => self.split = Some(count(text, 1, MAX_SPLIT)?),
            "limit-rate" => self.limit_rate = Some(limit(text, parse_rate)?),
            "retries" => self.retries = Some(count(text, 0, u32::MAX)?),
            "retry-delay" => self.retry_delay = Some(parse_duration(text)?),
            "max-retry-delay" => self.max_retry_delay = Some(parse_duration(text)?),
            "max-retry-after" => self.max_retry_after = Some(parse_duration(text)?),
            _ => return Err(None),
        }
        Ok(())
    }

    /// `self` over `below`, key by key; headers merge by name, `self`'s winning.
    fn over(self, below: Layer) -> Layer {
        let mut headers: Vec<_> = below
            .headers
            .into_iter()
            .filter(|(name, _)| !self.headers.iter().any(|(mine, _)| mine == name))
            .collect();
        headers.extend(self.headers);
        Layer {
            dir: self.dir.or(below.dir),
            workers: self.workers.or(below.workers),
            progress: self.progress.or(below.progress),
            on_exist: self.on_exist.or(below.on_exist),
            user_agent: self.user_agent.or(below.user_agent),
            headers,
            max_size: self.max_size.or(below.max_size),
            connect_timeout: self.connect_timeout.or(below.connect_timeout),
            read_timeout: self.read_timeout.or(below.read_timeout),
            min_speed: self.min_speed.or(below.min_speed),
            min_speed_time: self.min_speed_time.or(below.min_speed_time),
            max_per_host: self.max_per_host.or(below.max_per_host),
            split: self.split.or(below.split),
            limit_rate: self.limit_rate.or(below.limit_rate),
            retries: self.retries.or(below.retries),
            retry_delay: self.retry_delay.or(below.retry_delay),
            max_retry_delay: self.max_retry_delay.or(below.max_retry_delay),
            max_retry_after: self.max_retry_after.or(below.max_retry_after),
        }
    }

    /// What the command line sets. `-q` without `--progress` means no progress.
    fn from_args(args: &FetchArgs) -> Layer {
        let quiet = (args.quiet > 0).then_some(ProgressMode::None);
        Layer {
            dir: args.dir.clone(),
            workers: args.workers,
            progress: args.progress.or(quiet),
            on_exist: args.on_exist,
            user_agent: args.user_agent.clone(),
            headers: args
                .headers
                .iter()
                .map(|h| (h.name.clone(), h.value.clone()))
                .collect(),
            max_size: args.max_size.map(|l| l.0),
            connect_timeout: args.connect_timeout,
            read_timeout: args.read_timeout,
            min_speed: args.min_speed.map(|l| l.0),
            min_speed_time: args.min_speed_time,
            max_per_host: args.max_per_host,
            split: args.split,
            limit_rate: args.limit_rate.map(|l| l.0),
            retries: args.retries,
            retry_delay: args.retry_delay,
            max_retry_delay: args.max_retry_delay,
            max_retry_after: args.max_retry_after,
        }
    }

    /// What the `DL_*` variables of [`ENV_VARS`] set; an empty variable counts as unset.
    fn from_env(env: &Env) -> Result<Layer, ConfigError> {
        let mut layer = Layer::default();
        for (var, key) in ENV_VARS {
            let Some(value) = env.get(var) else { continue };
            if key == "dir" {
                layer.dir = Some(PathBuf::from(value));
                continue;
            }
            let bad = |message: String| ConfigError::Env { var, message };
            let text = value
                .to_str()
                .ok_or_else(|| bad(format!("{value:?} is not valid UTF-8")))?;
            layer
                .set(key, text)
                .map_err(|e| bad(e.unwrap_or_default()))?;
        }
        Ok(layer)
    }

    /// Built-in defaults under everything this layer sets.
    fn resolve(self, args: &FetchArgs, stderr_is_terminal: bool) -> Settings {
        let mut engine = EngineConfig::default();
        put(&mut engine.workers, self.workers.map(|n| n as usize));
        put(&mut engine.on_exist, self.on_exist);
        put(&mut engine.user_agent, self.user_agent);
        engine.headers = self.headers;
        put(&mut engine.max_size, self.max_size);
        put(&mut engine.connect_timeout, self.connect_timeout);
        put(&mut engine.read_timeout, self.read_timeout);
        put(&mut engine.min_speed, self.min_speed);
        put(&mut engine.min_speed_time, self.min_speed_time);
        put(
            &mut engine.max_per_host,
            self.max_per_host.map(|n| n as usize),
        );
        put(&mut engine.split, self.split);
        put(&mut engine.limit_rate, self.limit_rate);
        put(&mut engine.retry.retries, self.retries);
        put(&mut engine.retry.base, self.retry_delay);
        put(&mut engine.retry.max, self.max_retry_delay);
        put(&mut engine.max_retry_after, self.max_retry_after);
        let progress = self
            .progress
            .unwrap_or_default()
            .resolve(stderr_is_terminal);
        // A sha256 of every file costs 0.5 s of CPU per GiB: worth it only when something
        // shows it (the JSON summary or NDJSON events).
        engine.sha256 = args.json || progress == ProgressMode::Ndjson;
        Settings {
            sources: args.sources.clone(),
            plan: PlanOptions {
                dir: self.dir.unwrap_or_else(|| PathBuf::from(".")),
                allow_empty: args.allow_empty,
                shard: args.shard,
            },
            engine,
            progress,
            json: args.json,
            dry_run: args.dry_run,
        }
    }
}

fn put<T>(slot: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *slot = value;
    }
}

/// A whole number in `min..=max`.
fn count(text: &str, min: u32, max: u32) -> Result<u32, String> {
    let range = if max == u32::MAX {
        format!("{min} or more")
    } else {
        format!("from {min} to {max}")
    };
    match text.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("{text:?} is not a whole number {range}")),
    }
}

/// One of a clap value enum's names (`auto`, `plain`, ...).
fn choice<T: clap::ValueEnum>(text: &str) -> Result<T, String> {
    T::from_str(text.trim(), true).map_err(|_| {
        let names: Vec<_> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        format!("{text:?} is not one of {}", names.join(", "))
    })
}

/// `off` (or `none`), else a value `parse` accepts.
fn limit(text: &str, parse: fn(&str) -> Result<u64, String>) -> Result<Option<u64>, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "off" | "none" => Ok(None),
        _ => parse(text)
            .map(Some)
            .map_err(|e| format!("{e} (or \"off\")")),
    }
}

/// The process environment as seen by settings; an empty variable counts as unset.
struct Env<'a>(&'a dyn Fn(&str) -> Option<OsString>);

impl Env<'_> {
    fn get(&self, name: &str) -> Option<OsString> {
        (self.0)(name).filter(|v| !v.is_empty())
    }
    fn home(&self) -> Option<PathBuf> {
        self.get("HOME").map(PathBuf::from)
    }
}

impl Settings {
    /// Resolves the options of `dl fetch` against the process environment and the config
    /// file; `stderr_is_terminal` decides `--progress auto`.
    pub fn from_fetch(args: &FetchArgs, stderr_is_terminal: bool) -> Result<Settings, ConfigError> {
        Settings::resolve(args, &|name| std::env::var_os(name), stderr_is_terminal)
    }

    /// [`Settings::from_fetch`] with the environment given as a lookup function.
    pub fn resolve(
        args: &FetchArgs,
        env: &dyn Fn(&str) -> Option<OsString>,
        stderr_is_terminal: bool,
    ) -> Result<Settings, ConfigError> {
        let env = Env(env);
        // The profile's name, and how it was asked for (for messages).
        let profile = match (&args.profile, env.get("DL_PROFILE")) {
            (Some(name), _) => Some((name.clone(), format!("--profile {name}"))),
            (None, Some(name)) => {
                let name = name.to_string_lossy().into_owned();
                Some((name.clone(), format!("DL_PROFILE={name}")))
            }
            (None, None) => None,
        };
        let file_layer = match (read_config(args.config.as_deref(), &env)?, profile) {
            (Ok(file), profile) => {
                tracing::debug!(file = file.name(), profile = ?profile, "config file");
                let profile = profile
                    .as_ref()
                    .map(|(name, asked)| (name.as_str(), asked.as_str()));
                file.layer(profile, env.home().as_deref())?
            }
            (Err(looked), Some((name, asked))) => {
                return Err(ConfigError::Profile(format!(
                    "{asked}: no config file was found to hold [profile.{name}] ({looked}); \
                     write one there, or name one with --config FILE or DL_CONFIG"
                )));
            }
            (Err(_), None) => Layer::default(),
        };
        let merged = Layer::from_args(args)
            .over(Layer::from_env(&env)?)
            .over(file_layer);
        Ok(merged.resolve(args, stderr_is_terminal))
    }
}

#[cfg(test)]
mod tests;
