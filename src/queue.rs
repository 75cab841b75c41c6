//! The priority queue: lower priority number first, ties in input order. Shared by the
//! workers; knows nothing about HTTP or rendering.

use crate::plan::{FileId, Plan};
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Mutex;

/// Files waiting for a worker. 16 bytes per waiting file.
#[derive(Debug, Default)]
pub struct PriorityQueue {
    heap: Mutex<BinaryHeap<Reverse<(i64, FileId)>>>,
}

impl PriorityQueue {
    /// Every file of the plan, waiting.
    pub fn from_plan(plan: &Plan) -> Self {
        // FileIds are input positions, so (priority, id) orders ties by input order.
        let items: Vec<_> = plan
            .files()
            .iter()
            .enumerate()
            .map(|(id, f)| Reverse((f.priority(), id as FileId)))
            .collect();
        PriorityQueue {
            heap: Mutex::new(BinaryHeap::from(items)),
        }
    }

    /// The next file to start, if any.
    pub fn pop(&self) -> Option<FileId> {
        self.lock().pop().map(|Reverse((_, id))| id)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BinaryHeap<Reverse<(i64, FileId)>>> {
        // The heap holds plain integers, so a panic elsewhere cannot leave it inconsistent.
        self.heap
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::input::{FileSpec, Located};
    use crate::plan::{PlanBuilder, PlanOptions};

    #[test]
    fn lower_priority_first_then_input_order() {
        let mut builder = PlanBuilder::new(PlanOptions::default());
        for (i, prio) in [5, 1, 5, -3, 1, 100].into_iter().enumerate() {
            builder.push(Located {
                source: "m.toml".into(),
                line: i as u32 + 1,
                value: FileSpec {
                    url: format!("http://h/f{i}"),
                    priority: Some(prio),
                    ..FileSpec::default()
                },
            });
        }
        let plan = builder.finish().unwrap();
        let q = PriorityQueue::from_plan(&plan);
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(order, [3, 1, 4, 0, 2, 5]);
    }
}
