//! Exit codes (SPEC §5), chosen by one pure function of the summary and the signal state.

use crate::summary::Stats;

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
    pub fn from_stats(stats: &Stats, signal: SignalState) -> ExitStatus {
        match signal {
            SignalState::Terminated => ExitStatus::Terminated,
            SignalState::Interrupted => ExitStatus::Interrupted,
            SignalState::None if stats.failed > 0 || stats.cancelled > 0 => ExitStatus::SomeFailed,
            SignalState::None => ExitStatus::Success,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::Stats;

    fn stats(failed: u64, cancelled: u64) -> Stats {
        Stats {
            total: 3,
            completed: 1,
            skipped: 1,
            failed,
            cancelled,
            bytes: 0,
            elapsed_secs: 0.0,
        }
    }

    #[test]
    fn codes() {
        use SignalState as S;
        assert_eq!(ExitStatus::from_stats(&stats(0, 0), S::None).code(), 0);
        assert_eq!(ExitStatus::from_stats(&stats(1, 0), S::None).code(), 1);
        assert_eq!(ExitStatus::from_stats(&stats(0, 1), S::None).code(), 1);
        assert_eq!(
            ExitStatus::from_stats(&stats(0, 0), S::Interrupted).code(),
            130
        );
        assert_eq!(
            ExitStatus::from_stats(&stats(1, 1), S::Terminated).code(),
            143
        );
        assert_eq!(ExitStatus::Usage.code(), 2);
    }
}
