//! What a run would do with each file, from what is on disk alone (`--dry-run`): the same
//! decisions the worker makes before its first request, without making one. Files a server
//! would name (`--content-disposition`, a redirect) are predicted under their planned name.

use super::config::EngineConfig;
use super::store::{self, Existing, Local};
use crate::plan::{FileId, Plan};
use crate::summary::{PlannedAction, Prediction};

/// What a run with `config` would do with file `id` of `plan`. Reads the destination, its
/// `.part` and resume metadata (and hashes an existing file a checksum asks to verify);
/// writes nothing.
pub fn predict(plan: &Plan, id: FileId, config: &EngineConfig) -> Prediction {
    let file = plan.file(id);
    let dest = plan.destination(file);
    let download = Prediction {
        action: PlannedAction::Download,
        bytes: 0,
    };
    // The worker's own decision (its `tracing` lines for a mismatch aside), then its bytes.
    let action = match store::existing_now(&dest, config.on_exist, file.checksum(), false) {
        Existing::Download => return resume_or(plan, id, config, download),
        Existing::Skip { .. } => PlannedAction::Skip,
        Existing::Update { .. } => PlannedAction::Update,
        Existing::Fail(_) => PlannedAction::Fail,
    };
    let bytes =
        std::fs::symlink_metadata(&dest).map_or(0, |m| if m.is_file() { m.len() } else { 0 });
    Prediction { action, bytes }
}

/// `Resume` with the bytes a `.part` and its metadata would let the run keep, else `or`.
fn resume_or(plan: &Plan, id: FileId, config: &EngineConfig, or: Prediction) -> Prediction {
    if config.compressed {
        return or;
    }
    let file = plan.file(id);
    let part = crate::paths::part_path(&plan.destination(file));
    let Some(url) = file.urls().into_iter().next() else {
        return or;
    };
    let bytes = match store::peek(&part, &url) {
        Local::Resume { offset, .. } => offset,
        Local::Ranges { meta } => meta
            .done
            .iter()
            .flatten()
            .map(|[a, b]| b.saturating_sub(*a))
            .sum(),
        Local::Fresh { .. } => return or,
    };
    Prediction {
        action: PlannedAction::Resume,
        bytes,
    }
}
