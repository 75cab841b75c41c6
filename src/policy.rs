//! The user's policies as plain data: what to do with an existing file, how patiently to
//! retry. A leaf module: the command line, the plan and the engine all read these types, and
//! none of them owns them.

use std::time::Duration;

/// What to do when the destination already exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnExist {
    /// Leave it and report the file as skipped (verified against the checksum when one is
    /// given; without one, any file under the name counts as done).
    #[default]
    Skip,
    /// Replace it, atomically, once the new file is complete and verified.
    Overwrite,
    /// Replace it only when the server has a newer one (If-Modified-Since the file's
    /// modification time), or when it does not match the checksum.
    Update,
    /// Keep it and save the new file as NAME.1.EXT (the first free number).
    Rename,
    /// Leave it and report the file as failed.
    Fail,
}

/// How many times and how patiently to retry transient failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt.
    pub retries: u32,
    /// Backoff before the first retry; doubles each time.
    pub base: Duration,
    /// Longest backoff between two attempts (a `Retry-After` may ask for more).
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 5,
            base: Duration::from_millis(500),
            max: Duration::from_secs(30),
        }
    }
}

/// Per-file retry settings; `None` fields use the run's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RetryOverride {
    pub retries: Option<u32>,
    pub delay: Option<Duration>,
    pub max_delay: Option<Duration>,
}

impl RetryOverride {
    /// The run's policy with this file's overrides applied.
    pub fn apply(overrides: Option<&RetryOverride>, run: RetryPolicy) -> RetryPolicy {
        match overrides {
            None => run,
            Some(o) => RetryPolicy {
                retries: o.retries.unwrap_or(run.retries),
                base: o.delay.unwrap_or(run.base),
                max: o.max_delay.unwrap_or(run.max),
            },
        }
    }
}
