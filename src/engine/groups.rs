//! All-or-nothing groups (SPEC §3): once a member of a group fails for good, the members that
//! have not started are not started. Members already running finish, and what they finish
//! stays on disk, so a re-run completes only what is missing.

use crate::error::{FailureKind, FileError};
use crate::plan::FileConfig;
use fnv::FnvHashMap;
use std::sync::Mutex;

/// The groups of a run that a member failed, each with the error its other members get.
#[derive(Debug, Default)]
pub(super) struct Groups {
    failed: Mutex<FnvHashMap<Box<str>, FileError>>,
}

impl Groups {
    fn lock(&self) -> std::sync::MutexGuard<'_, FnvHashMap<Box<str>, FileError>> {
        self.failed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Why `file` must not start: its group failed. `None` for ungrouped files and groups
    /// that have not failed.
    pub(super) fn refusal(&self, file: &FileConfig) -> Option<FileError> {
        let group = file.group()?;
        self.lock().get(group).cloned()
    }

    /// `file` failed for good: the members of its group that have not started never will.
    pub(super) fn member_failed(&self, file: &FileConfig, error: &FileError) {
        let Some(group) = file.group() else { return };
        self.lock().entry(group.into()).or_insert_with(|| {
            FileError::new(
                FailureKind::GroupFailed,
                format!(
                    "not started: {} of group {group} failed ({}: {})",
                    file.path(),
                    error.kind.kind(),
                    error.message
                ),
            )
        });
    }
}
