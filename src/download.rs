//! The library's one call: an engine runs a plan, and its events are folded by the tracker
//! into the run's summary. Data flows engine → events → tracker; this module is the only one
//! that joins the two ends, so neither imports the other.

use crate::engine::{Cancel, Engine};
use crate::event::Event;
use crate::plan::Plan;
use crate::summary::RunSummary;
use crate::tracker::Tracker;
use std::sync::Arc;

impl Engine {
    /// Runs `plan` to the end and returns its summary: the simplest way to use `dl` as a
    /// library. `observe` sees every event as it happens (pass `|_| {}` to ignore them).
    pub async fn download(&self, plan: Plan, mut observe: impl FnMut(&Event)) -> RunSummary {
        let plan = Arc::new(plan);
        let (tx, mut rx) = crate::event::channel();
        let mut tracker = Tracker::new(plan.len());
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
