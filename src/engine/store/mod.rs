//! The store room: everything on disk under `--dir`. Destination directories (created and
//! listed once), the writer thread of a large body, the file threads of small ones, resume
//! metadata beside a `.part`, checking an existing destination, and placing a verified file
//! onto its final name without replacing what the user had. Every `cfg`'d system call is in
//! `sys`. It knows nothing about HTTP.

mod dirs;
mod files;
mod place;
mod resume;
mod sink;
pub(super) mod sys;

pub(super) use dirs::Dirs;
pub(super) use files::FileThreads;
pub(super) use place::{Existing, Staged, check_existing, existing_now, place};
pub(super) use resume::{
    Local, Meta, RESUME_MIN_BYTES, forget, forget_now, inspect, meta_path, peek,
};
pub(super) use sink::{
    BATCH_BYTES, Finished, OpenError, Sink, WRITE_MAX, open_for_pieces, write_all_at,
};
pub(super) use sys::is_busy;

/// Checks the temporary names of a download (`NAME.part`, its metadata and that file's
/// temporary) that `may_exist` says could be there: each must be absent or a regular file.
/// A link, a FIFO or a device planted there fails the file instead of being written through.
pub(super) fn check_temporaries(
    part: &std::path::Path,
    may_exist: impl Fn(&std::path::Path) -> bool,
) -> std::io::Result<()> {
    let meta = meta_path(part);
    for path in [part.to_path_buf(), crate::paths::tmp_path(&meta), meta] {
        if may_exist(&path) {
            sys::regular_or_absent(&path)?;
        }
    }
    Ok(())
}

/// The length of a regular `.part` (`None` when there is none, or it is not a regular file).
pub(super) fn inspect_len(part: &std::path::Path) -> Option<u64> {
    sys::regular_or_absent(part).ok().flatten().map(|m| m.len())
}

/// Whether another `dl` holds the lock of `part` right now.
pub(super) fn part_locked(part: &std::path::Path) -> bool {
    match sys::open_locked(part, sys::Open::Write) {
        Ok(_) => false,
        Err(e) => sys::is_busy(&e),
    }
}

/// Takes the lock of a complete `.part` (see `sys::open_locked`), to hold until it is placed.
pub(super) fn lock_part(part: &std::path::Path) -> std::io::Result<std::fs::File> {
    sys::open_locked(part, sys::Open::Write)
}

/// Opens a `.part` to read back what is in it (no link followed, nothing but a regular file).
pub(super) fn open_part(part: &std::path::Path) -> std::io::Result<std::fs::File> {
    sys::open_regular(part, sys::Open::Read)
}

/// Removes a `.part` and its resume metadata, unless another `dl` is writing it (it holds the
/// part's lock): for a part this run does not hold.
pub(super) fn remove_part_if_free(part: &std::path::Path) {
    if !part_locked(part) {
        remove_part(part);
    }
}

/// Removes a `.part` and its resume metadata (this run's: it holds the lock, or never took
/// one).
pub(super) fn remove_part(part: &std::path::Path) {
    for path in [part.to_path_buf(), meta_path(part)] {
        if let Err(e) = std::fs::remove_file(&path)
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!("cannot remove {}: {e}", path.display());
        }
    }
}
