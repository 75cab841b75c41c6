//! Folding the event stream into per-file state and totals, and producing the `RunSummary`.
//! Pure: no I/O, so it is tested by feeding it events.

use crate::error::FileError;
use crate::event::Event;
use crate::plan::Plan;
use crate::summary::{
    ErrorReport, FileReport, FileStatus, GroupReport, GroupTally, RunSummary, SCHEMA, SkipReason,
    Stats,
};
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Waiting,
    Active,
    Done(FileStatus),
}

/// What is known about one file; small, since a run may have a million.
#[derive(Debug, Default)]
struct FileState {
    state: State,
    bytes: u64,
    attempts: u32,
    http_status: Option<u16>,
    sha256: Option<Box<str>>,
    error: Option<Box<FileError>>,
    renamed_to: Option<Box<str>>,
    reason: Option<SkipReason>,
    /// Milliseconds from the start of the run to the file's start and to its end (0 = not
    /// yet): the time a CI report shows for it. u32 keeps a file's state small and lasts
    /// 49 days.
    started_ms: u32,
    ended_ms: u32,
}

/// Per-file state and running totals of a run.
#[derive(Debug)]
pub struct Tracker {
    files: Vec<FileState>,
    started: Instant,
    active: usize,
    done: usize,
    bytes_done: u64,
}

impl Tracker {
    pub fn new(files: usize) -> Self {
        let mut states = Vec::new();
        states.resize_with(files, FileState::default);
        Tracker {
            files: states,
            started: Instant::now(),
            active: 0,
            done: 0,
            bytes_done: 0,
        }
    }

    /// Files currently downloading.
    pub fn active(&self) -> usize {
        self.active
    }

    /// Files that reached a final state.
    pub fn done(&self) -> usize {
        self.done
    }

    /// Bytes of completed files so far.
    pub fn bytes_done(&self) -> u64 {
        self.bytes_done
    }

    pub fn apply(&mut self, event: &Event) {
        let Some(id) = event.file() else { return };
        let Some(file) = self.files.get_mut(id as usize) else {
            return;
        };
        if let State::Done(_) = file.state {
            return; // a final state is final
        }
        let status = match event {
            Event::Queued { .. } | Event::Retry { .. } | Event::Stopping { .. } => None,
            // The bytes in the `.part` as last reported: what a cancelled file keeps for the
            // next run (progress comes every 0.1 s, so the `.part` may hold a little more).
            Event::Progress { bytes, .. } => {
                file.bytes = *bytes;
                None
            }
            Event::Started { .. } => {
                file.started_ms = ms_since(self.started);
                file.state = State::Active;
                self.active += 1;
                None
            }
            Event::Completed {
                bytes,
                attempts,
                http_status,
                sha256,
                renamed_to,
                ..
            } => {
                file.bytes = *bytes;
                file.attempts = *attempts;
                file.http_status = Some(*http_status);
                file.sha256 = sha256.as_deref().map(Into::into);
                file.renamed_to = renamed_to.as_deref().map(Into::into);
                self.bytes_done += bytes;
                Some(FileStatus::Completed)
            }
            Event::Skipped {
                bytes,
                sha256,
                reason,
                attempts,
                http_status,
                ..
            } => {
                file.bytes = *bytes;
                file.sha256 = sha256.as_deref().map(Into::into);
                file.reason = Some(*reason);
                file.attempts = *attempts;
                file.http_status = *http_status;
                Some(FileStatus::Skipped)
            }
            Event::Failed {
                error,
                attempts,
                http_status,
                ..
            } => {
                // A failed file's size is documented as 0, whatever it got before failing.
                file.bytes = 0;
                file.attempts = *attempts;
                file.http_status = *http_status;
                file.error = Some(Box::new(error.clone()));
                Some(FileStatus::Failed)
            }
            Event::Cancelled { error, .. } => {
                file.error = error.clone().map(Box::new);
                Some(FileStatus::Cancelled)
            }
        };
        if let Some(status) = status {
            if file.state == State::Active {
                self.active -= 1;
            }
            file.state = State::Done(status);
            file.ended_ms = ms_since(self.started);
            self.done += 1;
        }
    }

    /// A file's final status. A file with no final event (which the engine never allows) is
    /// reported as failed rather than silently dropped.
    fn status(state: &FileState) -> FileStatus {
        match state.state {
            State::Done(status) => status,
            State::Waiting | State::Active => FileStatus::Failed,
        }
    }

    /// The totals, with the time elapsed until now.
    pub fn stats(&self) -> Stats {
        let mut stats = Stats {
            total: self.files.len() as u64,
            completed: 0,
            skipped: 0,
            failed: 0,
            cancelled: 0,
            bytes: self.bytes_done,
            elapsed_secs: self.started.elapsed().as_secs_f64(),
        };
        for state in &self.files {
            match Self::status(state) {
                FileStatus::Completed => stats.completed += 1,
                FileStatus::Skipped => stats.skipped += 1,
                FileStatus::Failed => stats.failed += 1,
                FileStatus::Cancelled => stats.cancelled += 1,
            }
        }
        stats
    }

    /// The cancelled files that reported bytes, as (id, bytes): those whose `.part` may
    /// hold data.
    pub fn cancelled_with_bytes(&self) -> impl Iterator<Item = (usize, u64)> + '_ {
        self.files.iter().enumerate().filter_map(|(id, f)| {
            (f.state == State::Done(FileStatus::Cancelled) && f.bytes > 0).then_some((id, f.bytes))
        })
    }

    /// Lowers what cancelled file `id` is said to keep to `on_disk` when that is less:
    /// progress counts bytes received, some of which may still have been in a buffer, not
    /// in the `.part`, when the run stopped.
    pub fn kept_at_most(&mut self, id: usize, on_disk: u64) {
        if let Some(f) = self.files.get_mut(id)
            && f.state == State::Done(FileStatus::Cancelled)
        {
            f.bytes = f.bytes.min(on_disk);
        }
    }

    /// Seconds file `id` took from its start to its end, when it started and ended (a file
    /// skipped or cancelled before it started has none).
    pub fn file_secs(&self, id: usize) -> Option<f64> {
        let state = &self.files[id];
        (state.started_ms > 0 && state.ended_ms >= state.started_ms)
            .then(|| f64::from(state.ended_ms - state.started_ms) / 1000.0)
    }

    /// The report of file `id` (built on demand: a run of a million files never holds a
    /// million reports at once).
    pub fn file_report(&self, plan: &Plan, id: usize) -> FileReport {
        let (state, config) = (&self.files[id], &plan.files()[id]);
        let status = Self::status(state);
        let error = match (status, &state.error) {
            (_, Some(error)) => Some(ErrorReport::from(&**error)),
            (FileStatus::Cancelled, None) => Some(ErrorReport {
                kind: "cancelled".into(),
                retryable: true,
                message: "the run was stopped before this file finished".into(),
            }),
            (FileStatus::Failed, None) => Some(ErrorReport {
                kind: "internal".into(),
                retryable: true,
                message: "no outcome was recorded for this file (a bug in dl)".into(),
            }),
            _ => None,
        };
        FileReport {
            url: config.shown_url(),
            path: state
                .renamed_to
                .as_deref()
                .unwrap_or(config.path())
                .to_string(),
            status,
            bytes: state.bytes,
            attempts: state.attempts,
            http_status: state.http_status,
            sha256: state.sha256.as_deref().map(str::to_string),
            error,
            reason: state.reason,
        }
    }

    /// The summary as a borrowed view that serialises exactly like [`RunSummary`], building
    /// each file's report only while it is written.
    pub fn view<'a>(&'a self, plan: &'a Plan) -> SummaryView<'a> {
        let stats = self.stats();
        SummaryView {
            ok: stats.failed == 0 && stats.cancelled == 0,
            stats,
            groups: self.groups(plan),
            tracker: self,
            plan,
        }
    }

    /// Each group's report (none when the plan has no groups).
    pub fn groups(&self, plan: &Plan) -> Vec<GroupReport> {
        let mut tally = GroupTally::default();
        for (id, file) in plan.files().iter().enumerate() {
            if let Some(group) = file.group() {
                let state = &self.files[id];
                tally.add(group, Self::status(state), state.bytes);
            }
        }
        tally.finish()
    }

    /// The whole summary, owned.
    pub fn summary(&self, plan: &Plan) -> RunSummary {
        let view = self.view(plan);
        RunSummary {
            schema: SCHEMA,
            ok: view.ok,
            files: view.files().collect(),
            groups: view.groups.clone(),
            stats: view.stats,
            diagnostics: None,
        }
    }
}

/// Milliseconds since `start`, at least 1 (0 means "not yet").
fn ms_since(start: Instant) -> u32 {
    u32::try_from(start.elapsed().as_millis())
        .unwrap_or(u32::MAX)
        .max(1)
}

/// A run's summary without owning its files' reports: what the CLI prints from.
pub struct SummaryView<'a> {
    pub ok: bool,
    pub stats: Stats,
    /// Each group's report, in order of first appearance (empty without groups).
    pub groups: Vec<GroupReport>,
    tracker: &'a Tracker,
    plan: &'a Plan,
}

impl SummaryView<'_> {
    /// Every file's report, in input order, built one at a time.
    pub fn files(&self) -> impl Iterator<Item = FileReport> + '_ {
        self.files_where(|_| true)
    }

    /// The reports of the files whose final status `keep` accepts, in input order; the
    /// others' reports are never built.
    pub fn files_where<'s>(
        &'s self,
        keep: impl Fn(FileStatus) -> bool + 's,
    ) -> impl Iterator<Item = FileReport> + 's {
        (0..self.plan.len())
            .filter(move |&id| keep(Tracker::status(&self.tracker.files[id])))
            .map(|id| self.tracker.file_report(self.plan, id))
    }

    /// Like [`SummaryView::files_where`], each report with the seconds the file took when
    /// known.
    pub fn timed_files_where<'s>(
        &'s self,
        keep: impl Fn(FileStatus) -> bool + 's,
    ) -> impl Iterator<Item = (FileReport, Option<f64>)> + 's {
        (0..self.plan.len())
            .filter(move |&id| keep(Tracker::status(&self.tracker.files[id])))
            .map(|id| {
                let report = self.tracker.file_report(self.plan, id);
                (report, self.tracker.file_secs(id))
            })
    }
}

impl serde::Serialize for SummaryView<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        struct Files<'v, 'a>(&'v SummaryView<'a>);
        impl serde::Serialize for Files<'_, '_> {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.collect_seq(self.0.files())
            }
        }
        // Field for field what `RunSummary` derives.
        let mut s = serializer.serialize_struct("RunSummary", 4)?;
        s.serialize_field("schema", &SCHEMA)?;
        s.serialize_field("ok", &self.ok)?;
        s.serialize_field("stats", &self.stats)?;
        s.serialize_field("files", &Files(self))?;
        if !self.groups.is_empty() {
            s.serialize_field("groups", &self.groups)?;
        }
        s.end()
    }
}

#[cfg(test)]
mod tests;
