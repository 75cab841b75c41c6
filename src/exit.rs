//! Exit codes (SPEC §5), chosen by one pure function of the summary and the signal state.

use crate::summary::RunSummary;

/// Which signal stopped the run, if any.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SignalState {
    #[default]
    None,
    Interrupted,
    Terminated,
}

/// How a `dl` invocation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Every file completed or was skipped as already complete.
    Success,
    /// At least one file failed (or was not finished); the others were still done.
    SomeFailed,
    /// Usage or input error: nothing was downloaded.
    Usage,
    /// Stopped by SIGINT.
    Interrupted,
    /// Stopped by SIGTERM.
    Terminated,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::SomeFailed => 1,
            ExitStatus::Usage => 2,
            ExitStatus::Interrupted => 130,
            ExitStatus::Terminated => 143,
        }
    }

    /// The exit status a finished run earned. A signal wins: the caller asked to stop.
    pub fn from_summary(summary: &RunSummary, signal: SignalState) -> ExitStatus {
        match signal {
            SignalState::Terminated => ExitStatus::Terminated,
            SignalState::Interrupted => ExitStatus::Interrupted,
            SignalState::None if summary.stats.failed > 0 || summary.stats.cancelled > 0 => {
                ExitStatus::SomeFailed
            }
            SignalState::None => ExitStatus::Success,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::{SCHEMA, Stats};

    fn summary(failed: u64, cancelled: u64) -> RunSummary {
        RunSummary {
            schema: SCHEMA,
            ok: failed + cancelled == 0,
            stats: Stats {
                total: 3,
                completed: 1,
                skipped: 1,
                failed,
                cancelled,
                bytes: 0,
                elapsed_secs: 0.0,
            },
            files: Vec::new(),
        }
    }

    #[test]
    fn codes() {
        use SignalState as S;
        assert_eq!(ExitStatus::from_summary(&summary(0, 0), S::None).code(), 0);
        assert_eq!(ExitStatus::from_summary(&summary(1, 0), S::None).code(), 1);
        assert_eq!(ExitStatus::from_summary(&summary(0, 1), S::None).code(), 1);
        assert_eq!(
            ExitStatus::from_summary(&summary(0, 0), S::Interrupted).code(),
            130
        );
        assert_eq!(
            ExitStatus::from_summary(&summary(1, 1), S::Terminated).code(),
            143
        );
        assert_eq!(ExitStatus::Usage.code(), 2);
    }
}
