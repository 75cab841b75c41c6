//! Folding the event stream into per-file state and totals, and producing the `RunSummary`.
//! Pure: no I/O, so it is tested by feeding it events.

use crate::error::FileError;
use crate::event::Event;
use crate::plan::Plan;
use crate::summary::{
    ErrorReport, FileReport, FileStatus, GroupReport, GroupTally, RunSummary, SCHEMA, SkipReason,
    Stats,
};
use std::collections::HashMap;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Waiting,
    Active,
    Done(FileStatus),
}

/// What is known about one file: 40 bytes, since a run may have ten million. What most
/// files lack lives in one optional box, and an error is an index into the run's distinct
/// errors (a host that is down fails thousands of files with one error).
#[derive(Debug, Default)]
struct FileState {
    bytes: u64,
    /// Milliseconds from the start of the run to the file's start and to its end (0 = not
    /// yet): the time a CI report shows for it. u32 lasts 49 days.
    started_ms: u32,
    ended_ms: u32,
    attempts: u32,
    /// 1 + the index of the file's error in `Tracker::errors`; 0 = none.
    error: u32,
    names: Option<Box<Names>>,
    /// 0 = no HTTP status.
    http_status: u16,
    state: State,
    reason: Option<SkipReason>,
}

/// The hash and the final name of a file, when it has either.
#[derive(Debug, Default)]
struct Names {
    sha256: Option<Box<str>>,
    renamed_to: Option<Box<str>>,
}

impl FileState {
    fn set_names(&mut self, sha256: Option<&str>, renamed_to: Option<&str>) {
        self.names = (sha256.is_some() || renamed_to.is_some()).then(|| {
            Box::new(Names {
                sha256: sha256.map(Into::into),
                renamed_to: renamed_to.map(Into::into),
            })
        });
    }

    fn sha256(&self) -> Option<&str> {
        self.names.as_ref().and_then(|n| n.sha256.as_deref())
    }

    fn renamed_to(&self) -> Option<&str> {
        self.names.as_ref().and_then(|n| n.renamed_to.as_deref())
    }
}

/// Per-file state and running totals of a run.
#[derive(Debug)]
pub struct Tracker {
    files: Vec<FileState>,
    /// Every distinct error of the run, once; files refer to them by index.
    errors: Vec<FileError>,
    error_ids: HashMap<FileError, u32>,
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
            errors: Vec::new(),
            error_ids: HashMap::new(),
            started: Instant::now(),
            active: 0,
            done: 0,
            bytes_done: 0,
        }
    }

    /// The `FileState::error` of `error`: its index + 1, stored once per distinct error.
    fn intern(&mut self, error: &FileError) -> u32 {
        if let Some(&id) = self.error_ids.get(error) {
            return id;
        }
        self.errors.push(error.clone());
        let id = u32::try_from(self.errors.len()).expect("fewer distinct errors than files");
        self.error_ids.insert(error.clone(), id);
        id
    }

    fn error(&self, state: &FileState) -> Option<&FileError> {
        (state.error > 0).then(|| &self.errors[state.error as usize - 1])
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
        match self.files.get(id as usize) {
            None => return,
            Some(file) if matches!(file.state, State::Done(_)) => return, // final is final
            Some(_) => {}
        }
        let error = match event {
            Event::Failed { error, .. }
            | Event::Cancelled {
                error: Some(error), ..
            } => self.intern(error),
            _ => 0,
        };
        let file = &mut self.files[id as usize];
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
                file.http_status = *http_status;
                file.set_names(sha256.as_deref(), renamed_to.as_deref());
                self.bytes_done += bytes;
                Some(FileStatus::Completed)
            }
            Event::Skipped {
                bytes,
                sha256,
                reason,
                attempts,
                http_status,
                renamed_to,
                ..
            } => {
                file.bytes = *bytes;
                file.set_names(sha256.as_deref(), renamed_to.as_deref());
                file.reason = Some(*reason);
                file.attempts = *attempts;
                file.http_status = http_status.unwrap_or(0);
                Some(FileStatus::Skipped)
            }
            Event::Failed {
                attempts,
                http_status,
                ..
            } => {
                // A failed file's size is documented as 0, whatever it got before failing.
                file.bytes = 0;
                file.attempts = *attempts;
                file.http_status = http_status.unwrap_or(0);
                file.error = error;
                Some(FileStatus::Failed)
            }
            Event::Cancelled { .. } => {
                file.error = error;
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
        let error = match (status, self.error(state)) {
            (_, Some(error)) => Some(ErrorReport::from(error)),
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
            path: state.renamed_to().unwrap_or(config.path()).to_string(),
            status,
            bytes: state.bytes,
            attempts: state.attempts,
            http_status: (state.http_status > 0).then_some(state.http_status),
            sha256: state.sha256().map(str::to_string),
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
