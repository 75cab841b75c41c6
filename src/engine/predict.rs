//! What a run would do with each file, from what is on disk alone (`--dry-run`): the same
//! decisions the worker makes before its first request, without making one. Files a server
//! would name (`--content-disposition`, a redirect) are predicted under their planned name.

use super::config::EngineConfig;
use super::store::{self, Local};
use crate::checksum;
use crate::plan::{FileId, Plan};
use crate::policy::OnExist;
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
    match std::fs::symlink_metadata(&dest) {
        Ok(meta) if !meta.is_file() && !meta.is_symlink() => Prediction {
            action: PlannedAction::Fail,
            bytes: 0,
        },
        Ok(meta) => {
            let verified = file.checksum().map(|expected| {
                store::open_existing(&dest)
                    .and_then(|f| checksum::hash_file(f, Some(expected), false))
                    .is_ok_and(|digests| digests.verify(Some(expected)).is_ok())
            });
            let action = match (config.on_exist, verified) {
                (OnExist::Skip | OnExist::Update, Some(true)) => PlannedAction::Skip,
                (OnExist::Skip, None) => PlannedAction::Skip,
                (OnExist::Skip, Some(false)) | (OnExist::Fail, _) => PlannedAction::Fail,
                (OnExist::Update, None) => PlannedAction::Update,
                (OnExist::Update, Some(false)) | (OnExist::Overwrite | OnExist::Rename, _) => {
                    return resume_or(plan, id, config, download);
                }
            };
            Prediction {
                action,
                bytes: meta.len(),
            }
        }
        Err(_) => resume_or(plan, id, config, download),
    }
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
