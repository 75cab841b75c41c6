//! `--min-speed`: abandoning an attempt that trickles too slowly to ever finish.

use super::transfer::{AttemptError, failed};
use crate::error::FailureKind;
use std::time::Duration;

/// `--min-speed`: an attempt whose average over each window of `--min-speed-time` is under
/// the minimum is abandoned (as a timeout, so it is retried).
pub(super) struct SpeedCheck {
    min: Option<u64>,
    window: Duration,
    window_start: tokio::time::Instant,
    window_bytes: u64,
}

impl SpeedCheck {
    pub(super) fn new(min: Option<u64>, window: Duration, start: u64) -> Self {
        SpeedCheck {
            min,
            window,
            window_start: tokio::time::Instant::now(),
            window_bytes: start,
        }
    }

    pub(super) fn next_check(&self) -> Option<tokio::time::Instant> {
        self.min.map(|_| self.window_start + self.window)
    }

    pub(super) fn check(&mut self, written: u64) -> Result<(), AttemptError> {
        let Some(min) = self.min else { return Ok(()) };
        let elapsed = self.window_start.elapsed();
        if elapsed < self.window {
            return Ok(());
        }
        let rate = (written - self.window_bytes) as f64 / elapsed.as_secs_f64();
        if rate < min as f64 {
            return Err(failed(
                FailureKind::Timeout,
                format!(
                    "slower than --min-speed {}/s for {} ({}/s)",
                    indicatif::HumanBytes(min),
                    humantime::format_duration(self.window),
                    indicatif::HumanBytes(rate as u64)
                ),
            ));
        }
        self.window_start = tokio::time::Instant::now();
        self.window_bytes = written;
        Ok(())
    }
}
