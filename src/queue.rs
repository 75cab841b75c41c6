//! The priority queue: lower priority number first, ties in input order. Shared by the
//! workers; knows nothing about HTTP or rendering.

use crate::plan::{FileId, Plan};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Files waiting for a worker, in the order they start: sorted once (a stable sort, so ties
/// keep input order), then taken from the front. 4 bytes per file, and none at all when
/// every file has the same priority (a URL list): input order is then the order.
#[derive(Debug, Default)]
pub struct PriorityQueue {
    /// `None`: input order.
    order: Option<Vec<FileId>>,
    len: usize,
    next: AtomicUsize,
}

impl PriorityQueue {
    /// Every file of the plan, waiting.
    pub fn from_plan(plan: &Plan) -> Self {
        let files = plan.files();
        let uniform = files.windows(2).all(|w| w[0].priority() == w[1].priority());
        let order = (!uniform).then(|| {
            let mut ids: Vec<FileId> = (0..files.len() as FileId).collect();
            ids.sort_by_key(|&id| files[id as usize].priority());
            ids
        });
        PriorityQueue {
            order,
            len: files.len(),
            next: AtomicUsize::new(0),
        }
    }

    /// The next file to start, if any.
    pub fn pop(&self) -> Option<FileId> {
        let i = self
            .next
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |i| {
                (i < self.len).then_some(i + 1)
            })
            .ok()?;
        Some(match &self.order {
            Some(order) => order[i],
            None => i as FileId,
        })
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
