//! Cancellation phases (SPEC §7) and the handle that moves a run through them. A leaf of the
//! engine: the pool, the workers and each attempt watch the same phase.

use std::sync::Arc;
use tokio::sync::watch;

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
