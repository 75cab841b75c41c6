//! Live bars on a terminal: indicatif's MultiProgress with one bar per active file (bytes,
//! speed, ETA), one per active manifest group instead of its members' (the group's bytes),
//! and an overall bar. The overall bar counts bytes, with an ETA, once the size
//! of every file is known (each started with a length, or finished), and files until then;
//! its rate is the average since the start, its ETA what is left at that rate.
//! Every template is fitted once to the terminal's width (`layout`). Lines for failures and
//! notices are printed above the bars.

use super::layout::{Layout, Layouts, fit};
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
    layouts: Layouts,
    sized: ProgressStyle,
    unsized_: ProgressStyle,
    /// Bytes received, retries included: the rate shown.
    received: u64,
    started: Instant,
    totals: Totals,
    /// The bars of the groups with a member running.
    groups: HashMap<Box<str>, GroupBar>,
    /// Members of each group in the plan, counted on the first grouped file.
    members: Option<HashMap<Box<str>, usize>>,
}

struct FileBar {
    bar: Option<ProgressBar>,
    seen: u64,
    total: Option<u64>,
    /// The file's group: its progress shows on the group's bar.
    group: Option<Box<str>>,
}

/// One bar for the running members of a group: their bytes, and the sizes known so far.
struct GroupBar {
    bar: Option<ProgressBar>,
    name: String,
    running: usize,
    finished: usize,
    members: usize,
    /// Bytes of finished members, and of running ones as last reported.
    done: u64,
    live: u64,
    length: u64,
}

/// What the overall bar measures in bytes: files still without a known size, the sizes known
/// so far (finished files count what they got), and the bytes of them already there.
#[derive(Default)]
struct Totals {
    queued: usize,
    unsized_files: usize,
    length: u64,
    position: u64,
    in_bytes: bool,
}

fn style(layout: &Layout) -> ProgressStyle {
    ProgressStyle::with_template(&layout.template)
        .expect("a valid template (tested in layout)")
        .progress_chars("=> ")
}

impl Bars {
    pub(super) fn new(workers: usize) -> Self {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr_with_hz(10));
        let (rows, columns) = terminal_size().unwrap_or((24, 80));
        let layouts = Layouts::for_width(columns);
        let overall = multi.add(ProgressBar::new(0));
        overall.set_style(style(&layouts.overall_files));
        overall.enable_steady_tick(Duration::from_millis(200));
        crate::logging::set_bars(Some(multi.clone()));
        Bars {
            multi,
            overall,
            files: HashMap::new(),
            max_bars: workers.min(rows.saturating_sub(4).max(1)),
            sized: style(&layouts.file_sized),
            unsized_: style(&layouts.file_unsized),
            layouts,
            received: 0,
            started: Instant::now(),
            totals: Totals::default(),
            groups: HashMap::new(),
            members: None,
        }
    }

    pub(super) fn on_event(&mut self, event: &Event, plan: &Plan, tracker: &Tracker) {
        let name = |id| shown_path(plan, id).into_owned();
        match event {
            Event::Queued { .. } => {
                self.overall.inc_length(1);
                self.totals.queued += 1;
                self.totals.unsized_files += 1;
            }
            Event::Started { id } => {
                let group = plan.file(*id).group().map(Box::<str>::from);
                self.start_file(*id, name(*id), group, plan);
            }
            Event::Progress { id, bytes, total } => self.progress(*id, *bytes, *total),
            Event::Retry {
                id,
                attempt,
                max_attempts,
                delay,
                reason,
            } => {
                let text = format!(
                    "{} retry {attempt}/{max_attempts} in {:.1}s: {}",
                    name(*id),
                    delay.as_secs_f64(),
                    sanitize(reason)
                );
                self.retry(*id, &text);
            }
            Event::Completed { id, bytes, .. } => self.finish_file(*id, Some(*bytes)),
            Event::Skipped { id, .. } | Event::Cancelled { id, .. } => self.finish_file(*id, None),
            Event::Failed { id, error, .. } => {
                self.finish_file(*id, None);
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
        self.update_overall(tracker, plan.len());
    }

    /// Bars shown now, of files and of groups.
    fn shown(&self) -> usize {
        self.files.values().filter(|f| f.bar.is_some()).count()
            + self.groups.values().filter(|g| g.bar.is_some()).count()
    }

    fn new_bar(&self, message: &str) -> Option<ProgressBar> {
        (self.shown() < self.max_bars).then(|| {
            let bar = self.multi.insert_before(&self.overall, ProgressBar::new(0));
            bar.set_style(self.unsized_.clone());
            bar.set_message(fit(message, self.layouts.file_unsized.msg_width));
            bar
        })
    }

    fn start_file(&mut self, id: FileId, name: String, group: Option<Box<str>>, plan: &Plan) {
        let bar = match &group {
            None => self.new_bar(&name),
            Some(group) => {
                self.start_member(group, plan);
                None
            }
        };
        self.files.insert(
            id,
            FileBar {
                bar,
                seen: 0,
                total: None,
                group,
            },
        );
    }

    /// A member of `group` started: the group's bar shows it (made when none is running).
    fn start_member(&mut self, group: &str, plan: &Plan) {
        if !self.groups.contains_key(group) {
            let members = self
                .members
                .get_or_insert_with(|| {
                    let mut counts = HashMap::new();
                    for f in plan.files() {
                        if let Some(g) = f.group() {
                            *counts.entry(Box::<str>::from(g)).or_insert(0) += 1;
                        }
                    }
                    counts
                })
                .get(group)
                .copied()
                .unwrap_or(1);
            let name = format!("group {}", sanitize(group));
            let bar = self.new_bar(&name);
            let entry = GroupBar {
                bar,
                name,
                running: 0,
                finished: 0,
                members,
                done: 0,
                live: 0,
                length: 0,
            };
            self.groups.insert(group.into(), entry);
        }
        if let Some(g) = self.groups.get_mut(group) {
            g.running += 1;
        }
        self.draw_group(group);
    }

    /// Redraws a group's bar: its bytes against the sizes known, and members done of all.
    fn draw_group(&self, group: &str) {
        let Some(g) = self.groups.get(group) else {
            return;
        };
        let Some(bar) = &g.bar else { return };
        if g.length > 0 && bar.length() != Some(g.length) {
            bar.set_style(self.sized.clone());
            bar.set_length(g.length);
        }
        bar.set_position((g.done + g.live).min(g.length.max(g.done + g.live)));
        let text = format!("{} {}/{}", g.name, g.finished, g.members);
        bar.set_message(fit(&text, self.layouts.file_sized.msg_width));
    }

    fn progress(&mut self, id: FileId, bytes: u64, total: Option<u64>) {
        let Some(file) = self.files.get_mut(&id) else {
            return;
        };
        let previous = file.seen;
        // A retry restarts the count: only growth is new data.
        self.received += bytes.saturating_sub(previous);
        self.totals.position = (self.totals.position + bytes).saturating_sub(previous);
        file.seen = bytes;
        let newly_sized = match total {
            Some(total) if file.total.is_none() => {
                file.total = Some(total);
                self.totals.length += total;
                self.totals.unsized_files = self.totals.unsized_files.saturating_sub(1);
                total
            }
            _ => 0,
        };
        if let Some(group) = file.group.clone() {
            if let Some(g) = self.groups.get_mut(&group) {
                g.live = (g.live + bytes).saturating_sub(previous);
                g.length += newly_sized;
            }
            self.draw_group(&group);
            return;
        }
        if let Some(bar) = &file.bar {
            if let Some(total) = total
                && bar.length() != Some(total)
            {
                bar.set_length(total);
                bar.set_style(self.sized.clone());
                // The sized layout may give the name less room than the unsized one.
                let message = bar.message();
                bar.set_message(fit(message.trim_end(), self.layouts.file_sized.msg_width));
            }
            bar.set_position(bytes);
        }
    }

    fn retry(&mut self, id: FileId, text: &str) {
        let width = self.layouts.file_sized.msg_width;
        if let Some(file) = self.files.get_mut(&id) {
            self.totals.position = self.totals.position.saturating_sub(file.seen);
            if let Some(g) = file.group.as_deref().and_then(|g| self.groups.get_mut(g)) {
                g.live = g.live.saturating_sub(file.seen);
            }
            file.seen = 0;
            if let Some(bar) = &file.bar {
                bar.set_message(fit(text, width));
                bar.set_position(0);
            }
        }
    }

    /// A file reached its end: its bar goes, and the overall length counts what it got
    /// (`completed`, else what it had when it stopped) instead of what it announced.
    fn finish_file(&mut self, id: FileId, completed: Option<u64>) {
        let Some(file) = self.files.remove(&id) else {
            // Skipped or cancelled before it started: it will never have a size.
            self.totals.unsized_files = self.totals.unsized_files.saturating_sub(1);
            return;
        };
        let got = completed.unwrap_or(file.seen);
        let t = &mut self.totals;
        match file.total {
            Some(total) => t.length = t.length.saturating_sub(total) + got,
            None => {
                t.unsized_files = t.unsized_files.saturating_sub(1);
                t.length += got;
            }
        }
        t.position = t.position.saturating_sub(file.seen) + got;
        if let Some(bar) = file.bar {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
        if let Some(group) = file.group {
            self.finish_member(&group, file.seen, file.total, got);
        }
    }

    /// A member of `group` ended with `got` bytes: the group's bar counts it, and goes when
    /// no member is running any more.
    fn finish_member(&mut self, group: &str, seen: u64, total: Option<u64>, got: u64) {
        let Some(g) = self.groups.get_mut(group) else {
            return;
        };
        g.running = g.running.saturating_sub(1);
        g.finished += 1;
        g.live = g.live.saturating_sub(seen);
        g.done += got;
        g.length = g.length.saturating_sub(total.unwrap_or(0)) + got;
        if g.running > 0 {
            self.draw_group(group);
            return;
        }
        if let Some(g) = self.groups.remove(group)
            && let Some(bar) = g.bar
        {
            bar.finish_and_clear();
            self.multi.remove(&bar);
        }
    }

    fn update_overall(&mut self, tracker: &Tracker, files: usize) {
        let rate = self.received as f64 / self.started.elapsed().as_secs_f64().max(0.001);
        let t = &mut self.totals;
        if !t.in_bytes && t.queued == files && t.unsized_files == 0 && t.length > 0 {
            // Once in bytes it stays so: sizes only become known, never unknown.
            t.in_bytes = true;
            self.overall.set_style(style(&self.layouts.overall_bytes));
            self.overall.set_length(t.length);
            self.overall.set_position(t.position.min(t.length));
        }
        if t.in_bytes {
            self.overall.set_length(t.length);
            self.overall.set_position(t.position.min(t.length));
            let left = t.length.saturating_sub(t.position);
            let eta = (rate >= 1.0).then(|| Duration::from_secs_f64(left as f64 / rate));
            let (rate, eta) = (
                HumanBytes(rate as u64),
                eta.map_or_else(|| "-".to_string(), short_duration),
            );
            // The most that fits: the ETA matters most, then the rate.
            let width = self.layouts.overall_bytes.msg_width;
            let text = [
                format!("{rate}/s  eta {eta}  {} active", tracker.active()),
                format!("{rate}/s  eta {eta}"),
                format!("eta {eta}"),
            ]
            .into_iter()
            .find(|text| text.chars().count() <= width)
            .unwrap_or_else(|| format!("eta {eta}"));
            self.overall.set_message(fit(&text, width));
        } else {
            self.overall.set_position(tracker.done() as u64);
            let text = format!(
                "{} active  {}  {}/s",
                tracker.active(),
                HumanBytes(self.received),
                HumanBytes(rate as u64)
            );
            self.overall
                .set_message(fit(&text, self.layouts.overall_files.msg_width));
        }
    }

    pub(super) fn finish(&mut self) {
        for (_, file) in self.files.drain() {
            if let Some(bar) = file.bar {
                bar.finish_and_clear();
            }
        }
        for (_, group) in self.groups.drain() {
            if let Some(bar) = group.bar {
                bar.finish_and_clear();
            }
        }
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
        crate::logging::set_bars(None);
    }
}

/// A duration as a bar shows it: `42s`, `3m07s`, `2h05m`.
fn short_duration(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}

/// Rows and columns of the terminal on stderr, when they can be known.
fn terminal_size() -> Option<(usize, usize)> {
    console::Term::stderr()
        .size_checked()
        .map(|(rows, columns)| (usize::from(rows), usize::from(columns)))
}
