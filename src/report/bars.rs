//! Live bars on a terminal: indicatif's MultiProgress with one bar per active file (bytes,
//! speed, ETA) and an overall bar. Lines for failures and notices are printed above them.

use super::{sanitize, shown_path};
use crate::event::Event;
use crate::plan::{FileId, Plan};
use crate::tracker::Tracker;
use indicatif::{HumanBytes, MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub(super) struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    files: HashMap<FileId, FileBar>,
    max_bars: usize,
    sized: ProgressStyle,
    unsized_: ProgressStyle,
    bytes: u64,
    started: Instant,
}

struct FileBar {
    bar: Option<ProgressBar>,
    seen: u64,
}

impl Bars {
    pub(super) fn new(workers: usize) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise:.dim} [{bar:30.cyan/blue}] {pos}/{len} files  {msg}",
            )
            .expect("valid template")
            .progress_chars("=> "),
        );
        overall.enable_steady_tick(Duration::from_millis(200));
        let rows = terminal_rows().unwrap_or(24);
        crate::logging::set_bars(Some(multi.clone()));
        Bars {
            multi,
            overall,
            files: HashMap::new(),
            max_bars: workers.min(rows.saturating_sub(4).max(1)),
            sized: ProgressStyle::with_template(
                "{wide_msg} {bytes:>10}/{total_bytes:<10} [{bar:20}] {bytes_per_sec:>12} {eta:>4}",
            )
            .expect("valid template")
            .progress_chars("=> "),
            unsized_: ProgressStyle::with_template(
                "{wide_msg} {spinner} {bytes:>10} {bytes_per_sec:>12}",
            )
            .expect("valid template"),
            bytes: 0,
            started: Instant::now(),
        }
    }

    pub(super) fn on_event(&mut self, event: &Event, plan: &Plan, tracker: &Tracker) {
        let name = |id| shown_path(plan, id).into_owned();
        match event {
            Event::Queued { .. } => self.overall.inc_length(1),
            Event::Started { id } => {
                let bar = (self.files.values().filter(|f| f.bar.is_some()).count() < self.max_bars)
                    .then(|| {
                        let bar = self.multi.insert_before(&self.overall, ProgressBar::new(0));
                        bar.set_style(self.unsized_.clone());
                        bar.set_message(name(*id));
                        bar
                    });
                self.files.insert(*id, FileBar { bar, seen: 0 });
            }
            Event::Progress { id, bytes, total } => {
                if let Some(file) = self.files.get_mut(id) {
                    // A retry restarts the count: only growth is new data.
                    self.bytes += bytes.saturating_sub(file.seen);
                    file.seen = *bytes;
                    if let Some(bar) = &file.bar {
                        if let Some(total) = total
                            && bar.length() != Some(*total)
                        {
                            bar.set_length(*total);
                            bar.set_style(self.sized.clone());
                        }
                        bar.set_position(*bytes);
                    }
                }
            }
            Event::Retry {
                id,
                attempt,
                max_attempts,
                delay,
                reason,
            } => {
                if let Some(FileBar {
                    bar: Some(bar),
                    seen,
                }) = self.files.get_mut(id)
                {
                    *seen = 0;
                    bar.set_message(format!(
                        "{} retry {attempt}/{max_attempts} in {:.1}s: {}",
                        name(*id),
                        delay.as_secs_f64(),
                        sanitize(reason)
                    ));
                    bar.set_position(0);
                }
            }
            Event::Completed { id, .. } | Event::Skipped { id, .. } | Event::Cancelled { id } => {
                self.finish_file(*id)
            }
            Event::Failed { id, error, .. } => {
                self.finish_file(*id);
                let _ = self.multi.println(format!(
                    "FAILED  {}: {}",
                    name(*id),
                    sanitize(&error.message)
                ));
            }
            Event::Stopping { now, cause } => {
                let _ = self
                    .multi
                    .println(super::plain::stopping_message(*now, *cause));
            }
        }
        let rate = self.bytes as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        self.overall.set_position(tracker.done() as u64);
        self.overall.set_message(format!(
            "{} active  {}  {}/s",
            tracker.active(),
            HumanBytes(self.bytes),
            HumanBytes(rate as u64)
        ));
    }

    fn finish_file(&mut self, id: FileId) {
        if let Some(FileBar { bar: Some(bar), .. }) = self.files.remove(&id) {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }

    pub(super) fn finish(&mut self) {
        for (_, file) in self.files.drain() {
            if let Some(bar) = file.bar {
                bar.finish_and_clear();
            }
        }
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
        crate::logging::set_bars(None);
    }
}

/// Rows of the terminal on stderr, when it can be known.
fn terminal_rows() -> Option<usize> {
    console::Term::stderr()
        .size_checked()
        .map(|(rows, _)| usize::from(rows))
}
