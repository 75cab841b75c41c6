//! The JSON summary, schema 1 (SPEC §5), as plain serde structs. This is the contract that
//! scripts read: change a field incompatibly and `SCHEMA` must be bumped.

use crate::error::{Diagnostic, FileError};
use serde::{Deserialize, Serialize};

/// The schema version written into every summary.
pub const SCHEMA: u32 = 1;

/// The result of a run: what `--json` prints and what the library returns.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunSummary {
    /// Schema version; bumped on any incompatible change.
    pub schema: u32,
    /// True when every file completed or was skipped (no failures, nothing cancelled).
    pub ok: bool,
    /// Counts over all files.
    pub stats: Stats,
    /// One entry per file, in input order.
    pub files: Vec<FileReport>,
    /// One entry per manifest group, in order of first appearance; absent when the input
    /// has no groups.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupReport>,
    /// Why the run did not start: every input, usage or configuration problem (the same ones
    /// stderr lists). Present only on such runs, which have zero stats and no files.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diagnostics: Option<Vec<DiagnosticReport>>,
}

impl RunSummary {
    /// The summary of a run that stopped before any download: `ok` false, zero stats, no
    /// files, and the problems that stopped it.
    pub fn rejected(diagnostics: &[Diagnostic]) -> RunSummary {
        RunSummary {
            schema: SCHEMA,
            ok: false,
            stats: Stats::zero(0),
            files: Vec::new(),
            groups: Vec::new(),
            diagnostics: Some(diagnostics.iter().map(DiagnosticReport::from).collect()),
        }
    }
}

/// A problem that stopped the run before it started, located where it was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiagnosticReport {
    /// Where: a source as given (`urls.txt`, `-`, a URL), a config file, an environment
    /// variable, or `command line`.
    pub source: String,
    /// The 1-based line in `source`; `null` when the problem is about the source as a whole.
    pub line: Option<u32>,
    /// What is wrong, for people (secrets never appear in it).
    pub message: String,
}

impl From<&Diagnostic> for DiagnosticReport {
    fn from(d: &Diagnostic) -> Self {
        DiagnosticReport {
            source: d.source.clone(),
            line: (d.line > 0).then_some(d.line),
            message: d.message.clone(),
        }
    }
}

/// Totals of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    /// Files in the plan.
    pub total: u64,
    /// Files downloaded and verified in this run.
    pub completed: u64,
    /// Files already present and left alone.
    pub skipped: u64,
    /// Files that failed.
    pub failed: u64,
    /// Files not finished because the run was stopped.
    pub cancelled: u64,
    /// Bytes of the files completed in this run.
    pub bytes: u64,
    /// Wall-clock seconds from the start of the run to the summary.
    pub elapsed_secs: f64,
}

impl Stats {
    /// `total` files, none of them done, no time spent: a run that did not start, or a plan.
    pub fn zero(total: u64) -> Stats {
        Stats {
            total,
            completed: 0,
            skipped: 0,
            failed: 0,
            cancelled: 0,
            bytes: 0,
            elapsed_secs: 0.0,
        }
    }
}

/// An all-or-nothing group of files (manifest `group`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupReport {
    /// The group's name, as the manifest gives it.
    pub name: String,
    /// `completed` when every member completed or was skipped; `failed` when a member failed
    /// (the members it kept from starting are `cancelled` with `group_failed`); `cancelled`
    /// when the run stopped before every member finished.
    pub status: FileStatus,
    /// Members in the plan.
    pub total: u64,
    pub completed: u64,
    pub skipped: u64,
    pub failed: u64,
    pub cancelled: u64,
    /// Bytes of the members downloaded or already there.
    pub bytes: u64,
}

impl GroupReport {
    fn new(name: &str) -> GroupReport {
        GroupReport {
            name: name.to_string(),
            status: FileStatus::Completed,
            total: 0,
            completed: 0,
            skipped: 0,
            failed: 0,
            cancelled: 0,
            bytes: 0,
        }
    }

    /// Counts one member that ended `status` with `bytes`.
    fn count(&mut self, status: FileStatus, bytes: u64) {
        self.total += 1;
        match status {
            FileStatus::Completed => self.completed += 1,
            FileStatus::Skipped => self.skipped += 1,
            FileStatus::Failed => self.failed += 1,
            FileStatus::Cancelled => self.cancelled += 1,
        }
        if matches!(status, FileStatus::Completed | FileStatus::Skipped) {
            self.bytes += bytes;
        }
        self.status = if self.failed > 0 {
            FileStatus::Failed
        } else if self.cancelled > 0 {
            FileStatus::Cancelled
        } else {
            FileStatus::Completed
        };
    }
}

/// Folds members into their groups' reports, in order of first appearance.
#[derive(Debug, Default)]
pub struct GroupTally {
    reports: Vec<GroupReport>,
    index: std::collections::HashMap<String, usize>,
}

impl GroupTally {
    /// Counts a member of `group` that ended `status` with `bytes`.
    pub fn add(&mut self, group: &str, status: FileStatus, bytes: u64) {
        let i = match self.index.get(group) {
            Some(&i) => i,
            None => {
                self.reports.push(GroupReport::new(group));
                self.index.insert(group.to_string(), self.reports.len() - 1);
                self.reports.len() - 1
            }
        };
        self.reports[i].count(status, bytes);
    }

    pub fn finish(self) -> Vec<GroupReport> {
        self.reports
    }
}

/// What a run would do with a file (`--dry-run`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PlannedAction {
    /// Request the whole file.
    Download,
    /// Continue a `.part` left by an earlier run.
    Resume,
    /// Leave the file that is there (`--on-exist skip`, or it matches its checksum).
    Skip,
    /// Ask the server whether it has a newer version (`--on-exist update`).
    Update,
    /// Report the file as failed without a request (`--on-exist fail`, a checksum the file
    /// there does not match under `skip`, or something other than a file under its name).
    Fail,
}

impl PlannedAction {
    pub fn as_str(self) -> &'static str {
        match self {
            PlannedAction::Download => "download",
            PlannedAction::Resume => "resume",
            PlannedAction::Skip => "skip",
            PlannedAction::Update => "update",
            PlannedAction::Fail => "fail",
        }
    }
}

/// A predicted action and the bytes it concerns: those already on disk (the `.part` to
/// resume, or the file to skip or update).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prediction {
    pub action: PlannedAction,
    pub bytes: u64,
}

/// A file's final state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileStatus {
    Completed,
    Skipped,
    Failed,
    Cancelled,
}

impl FileStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            FileStatus::Completed => "completed",
            FileStatus::Skipped => "skipped",
            FileStatus::Failed => "failed",
            FileStatus::Cancelled => "cancelled",
        }
    }
}

/// One file's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileReport {
    /// The URL (a password in it is shown as `***`).
    pub url: String,
    /// Where the file is (or would have been), relative to `--dir`, `/`-separated.
    pub path: String,
    pub status: FileStatus,
    /// Size of the file: downloaded (completed) or already there (skipped); for a cancelled
    /// file, the bytes kept in its `.part` for the next run (as last reported); 0 when failed.
    pub bytes: u64,
    /// Requests made for this file in this run (0 when skipped without asking the server).
    pub attempts: u32,
    /// Status of the last HTTP response, if there was one.
    pub http_status: Option<u16>,
    /// Hex sha256 of the file under `path`: always for completed files, for skipped ones
    /// when they were verified against a manifest checksum.
    pub sha256: Option<String>,
    /// Why the file failed or was cancelled; `null` otherwise.
    pub error: Option<ErrorReport>,
    /// Why a skipped file was left alone; `null` for other files. Added within schema 1: a
    /// summary without it reads as `null`.
    #[serde(default)]
    pub reason: Option<SkipReason>,
}

/// Why an existing file was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SkipReason {
    /// A file was under the name (`--on-exist skip`; its content was not checked).
    Exists,
    /// It matches the manifest checksum.
    Verified,
    /// The server answered `304 Not Modified` to `--on-exist update`'s conditional request.
    Unchanged,
}

impl SkipReason {
    pub fn as_str(self) -> &'static str {
        match self {
            SkipReason::Exists => "exists",
            SkipReason::Verified => "verified",
            SkipReason::Unchanged => "unchanged",
        }
    }
}

/// A failure, typed for scripts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ErrorReport {
    /// One of: http_status, network, timeout, checksum, too_large, io, invalid_response,
    /// exists, redirect, host_unavailable, tls, group_failed, cancelled.
    pub kind: String,
    /// Whether re-running the same command could help.
    pub retryable: bool,
    /// What happened, for people.
    pub message: String,
}

impl From<&FileError> for ErrorReport {
    fn from(e: &FileError) -> Self {
        ErrorReport {
            kind: e.kind.kind().to_string(),
            retryable: e.kind.retryable(),
            message: e.message.to_string(),
        }
    }
}
