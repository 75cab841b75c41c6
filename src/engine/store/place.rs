//! The last steps of a file: checking an existing destination, and giving a verified file
//! (a `.part`, or a file without a name yet) its modification time and its final name without
//! ever replacing a file the user had (unless asked to).

use super::sys::{Open, describe, link_anonymous, open_regular, rename_no_clobber};
use crate::checksum::{self, Checksum};
use crate::error::{FailureKind, FileError};
use crate::policy::OnExist;
use crate::summary::SkipReason;
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The outcome of looking at an existing destination before downloading.
pub(in crate::engine) enum Existing {
    /// Nothing there (or overwrite/rename was asked for): download.
    Download,
    /// A file is there and is kept; `sha256` when it was verified against a checksum.
    Skip {
        bytes: u64,
        sha256: Option<String>,
        reason: SkipReason,
    },
    /// A file of `bytes` last modified at `since` is there (`--on-exist update`): download
    /// only if the server has a newer one.
    Update { bytes: u64, since: SystemTime },
    /// A file is there and that is a failure.
    Fail(FileError),
}

/// Decides what an existing destination means under `mode`. Hashing a file a checksum asks
/// to verify is done on the blocking pool; every other case is a metadata call, made inline.
pub(in crate::engine) async fn check_existing(
    dest: &Path,
    mode: OnExist,
    expected: Option<&Checksum>,
    sha256: bool,
) -> Existing {
    if expected.is_none() || !matches!(mode, OnExist::Skip | OnExist::Update) {
        return existing_now(dest, mode, expected, sha256);
    }
    let (path, wanted) = (dest.to_path_buf(), expected.cloned());
    tokio::task::spawn_blocking(move || existing_now(&path, mode, wanted.as_ref(), sha256))
        .await
        .unwrap_or_else(|e| {
            Existing::Fail(FileError::new(
                FailureKind::Io,
                format!("cannot verify {}: {e}", dest.display()),
            ))
        })
}

/// [`check_existing`], blocking: what the worker decides before its first request, and what
/// `--dry-run` predicts.
pub(in crate::engine) fn existing_now(
    dest: &Path,
    mode: OnExist,
    expected: Option<&Checksum>,
    sha256: bool,
) -> Existing {
    let meta = match std::fs::symlink_metadata(dest) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Existing::Download,
        Err(e) => {
            return Existing::Fail(FileError::new(
                FailureKind::Io,
                format!("cannot inspect {}: {e}", dest.display()),
            ));
        }
        Ok(meta) => meta,
    };
    if meta.is_dir() {
        return Existing::Fail(FileError::new(
            FailureKind::Exists,
            format!("{} is a directory; not replaced", dest.display()),
        ));
    }
    if !meta.is_file() && !meta.is_symlink() {
        // A FIFO, a socket or a device under the final name: never opened, never replaced.
        return Existing::Fail(FileError::new(
            FailureKind::Io,
            format!(
                "{} is {}; not opened or replaced (remove it to download here)",
                dest.display(),
                describe(&meta.file_type())
            ),
        ));
    }
    match mode {
        OnExist::Overwrite | OnExist::Rename => Existing::Download,
        OnExist::Fail => Existing::Fail(FileError::new(
            FailureKind::Exists,
            format!("{} already exists (--on-exist fail)", dest.display()),
        )),
        OnExist::Skip => match expected {
            None => Existing::Skip {
                bytes: meta.len(),
                sha256: None,
                reason: SkipReason::Exists,
            },
            Some(expected) => verify_existing(dest, meta.len(), expected, sha256, mode),
        },
        OnExist::Update => match expected {
            // A checksum says more than a date: no request needed to know.
            Some(expected) => verify_existing(dest, meta.len(), expected, sha256, mode),
            // The time of the file the name leads to (a link's own time says nothing of it);
            // without one, the server cannot be asked "newer than", so a new copy is fetched.
            None => match std::fs::metadata(dest).and_then(|m| Ok((m.len(), m.modified()?))) {
                Ok((bytes, since)) => Existing::Update { bytes, since },
                Err(_) => Existing::Download,
            },
        },
    }
}

/// Checks an existing file against the manifest checksum (blocking: it reads the file): a
/// match is skipped; a mismatch fails (`skip`) or is downloaded again to replace it
/// (`update`).
fn verify_existing(
    dest: &Path,
    bytes: u64,
    expected: &Checksum,
    sha256: bool,
    mode: OnExist,
) -> Existing {
    let hashed = open_regular(dest, Open::ReadFollowing)
        .and_then(|file| checksum::hash_file(file, Some(expected), sha256));
    match hashed {
        Ok(digests) => match digests.verify(Some(expected)) {
            Ok(()) => Existing::Skip {
                bytes,
                sha256: digests.sha256_hex(),
                reason: SkipReason::Verified,
            },
            Err(mismatch) if mode == OnExist::Update => {
                tracing::info!(
                    "existing {} does not match the manifest ({mismatch}); downloading it again",
                    dest.display()
                );
                Existing::Download
            }
            Err(mismatch) => Existing::Fail(FileError::new(
                FailureKind::Checksum,
                format!(
                    "existing {} does not match the manifest ({mismatch}); left untouched (use --on-exist update or overwrite to replace it)",
                    dest.display()
                ),
            )),
        },
        Err(e) => Existing::Fail(FileError::new(
            FailureKind::Io,
            format!("cannot read {}: {e}", dest.display()),
        )),
    }
}

/// A verified file not yet under its final name.
#[derive(Clone, Copy)]
pub(in crate::engine) enum Staged<'a> {
    /// `NAME.part` beside the destination.
    Part(&'a Path),
    /// A file with no name yet, in the destination's directory (`O_TMPFILE`): it becomes
    /// visible only when linked, complete; if it never is, there is nothing to clean up.
    Anonymous(&'a std::fs::File),
}

impl Staged<'_> {
    fn describe(&self) -> String {
        match self {
            Staged::Part(part) => format!("rename {} to", part.display()),
            Staged::Anonymous(_) => "create".to_string(),
        }
    }

    /// Sets the file's modification time. A failure costs only the date (the bytes are
    /// verified), so it is a warning: the next `update` then asks about the download's time.
    fn set_modified(&self, when: SystemTime) {
        let set = match self {
            Staged::Part(part) => {
                open_regular(part, Open::Write).and_then(|file| file.set_modified(when))
            }
            Staged::Anonymous(file) => file.set_modified(when),
        };
        if let Err(e) = set {
            tracing::warn!("cannot set the modification time of {}: {e}", self.name());
        }
    }

    fn name(&self) -> String {
        match self {
            Staged::Part(part) => part.display().to_string(),
            Staged::Anonymous(_) => "a new file".to_string(),
        }
    }

    /// Gives the file the name `to` only if nothing has that name: one atomic call.
    fn put_no_clobber(&self, to: &Path) -> io::Result<()> {
        match self {
            Staged::Part(part) => rename_no_clobber(part, to),
            Staged::Anonymous(file) => link_anonymous(file, to),
        }
    }

    /// Gives the file the name `to`, replacing whatever had it.
    fn put_over(&self, to: &Path) -> io::Result<()> {
        match self {
            Staged::Part(part) => std::fs::rename(part, to),
            Staged::Anonymous(file) => match link_anonymous(file, to) {
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                    // A link cannot replace: name it `NAME.part` (ours to use), then rename.
                    let part = crate::paths::part_path(to);
                    match std::fs::remove_file(&part) {
                        Err(e) if e.kind() != io::ErrorKind::NotFound => return Err(e),
                        _ => {}
                    }
                    link_anonymous(file, &part)?;
                    std::fs::rename(&part, to).inspect_err(|_| {
                        let _ = std::fs::remove_file(&part);
                    })
                }
                other => other,
            },
        }
    }
}

/// Moves the verified file onto `dest` (or, for rename, the first free `NAME.N.EXT`) and
/// returns where it landed. Only `overwrite` and `update` may replace an existing file. The
/// file gets the modification time `modified` (the server's Last-Modified) before it has its
/// name, so the name never shows a file with another time. Blocking (a rename or link changes
/// a directory): called from a file thread or the blocking pool.
pub(in crate::engine) fn place(
    staged: Staged<'_>,
    dest: &Path,
    mode: OnExist,
    modified: Option<SystemTime>,
) -> Result<PathBuf, FileError> {
    if let Some(when) = modified {
        staged.set_modified(when);
    }
    let io_fail = |target: &Path, e: io::Error| {
        FileError::new(
            FailureKind::Io,
            format!("cannot {} {}: {e}", staged.describe(), target.display()),
        )
    };
    match mode {
        OnExist::Overwrite | OnExist::Update => staged
            .put_over(dest)
            .map(|()| dest.to_path_buf())
            .map_err(|e| io_fail(dest, e)),
        OnExist::Skip | OnExist::Fail => match staged.put_no_clobber(dest) {
            Ok(()) => Ok(dest.to_path_buf()),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(FileError::new(
                FailureKind::Exists,
                format!(
                    "{} appeared while downloading; left untouched",
                    dest.display()
                ),
            )),
            Err(e) => Err(io_fail(dest, e)),
        },
        OnExist::Rename => {
            for n in 0..10_000u32 {
                let target = if n == 0 {
                    dest.to_path_buf()
                } else {
                    crate::paths::numbered(dest, n)
                };
                match staged.put_no_clobber(&target) {
                    Ok(()) => return Ok(target),
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                    Err(e) => return Err(io_fail(&target, e)),
                }
            }
            Err(FileError::new(
                FailureKind::Exists,
                format!("no free name left for {}", dest.display()),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placing_never_clobbers_unless_overwrite() {
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a.txt");
        let part = dir.path().join("a.txt.part");
        std::fs::write(&dest, "mine").unwrap();

        std::fs::write(&part, "new").unwrap();
        assert!(place(Staged::Part(&part), &dest, OnExist::Skip, None).is_err());
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "mine");

        let landed = place(Staged::Part(&part), &dest, OnExist::Rename, None).unwrap();
        assert_eq!(landed, dir.path().join("a.1.txt"));
        std::fs::write(&part, "newer").unwrap();
        assert_eq!(
            place(Staged::Part(&part), &dest, OnExist::Rename, None).unwrap(),
            dir.path().join("a.2.txt")
        );
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "mine");

        std::fs::write(&part, "over").unwrap();
        place(Staged::Part(&part), &dest, OnExist::Overwrite, None).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "over");
        assert!(!part.exists());

        // Update replaces too, and the file lands with the date it was given.
        let when = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(784_111_777);
        std::fs::write(&part, "newest").unwrap();
        place(Staged::Part(&part), &dest, OnExist::Update, Some(when)).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "newest");
        assert_eq!(std::fs::metadata(&dest).unwrap().modified().unwrap(), when);
    }
}
