//! The last steps of a file: checking an existing destination, and moving a verified `.part`
//! onto its final name without ever replacing a file the user had (unless asked to).

use super::OnExist;
use crate::checksum::{self, Checksum};
use crate::error::{FailureKind, FileError};
use std::io;
use std::path::{Path, PathBuf};

/// The outcome of looking at an existing destination before downloading.
pub(super) enum Existing {
    /// Nothing there (or overwrite/rename was asked for): download.
    Download,
    /// A file is there and is kept; `sha256` when it was verified against a checksum.
    Skip { bytes: u64, sha256: Option<String> },
    /// A file is there and that is a failure.
    Fail(FileError),
}

/// Decides what an existing destination means under `mode`.
pub(super) async fn check_existing(
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
            },
            Some(expected) => verify_existing(dest, meta.len(), expected, sha256).await,
        },
    }
}

async fn verify_existing(dest: &Path, bytes: u64, expected: &Checksum, sha256: bool) -> Existing {
    let path = dest.to_path_buf();
    let wanted = expected.clone();
    let hashed =
        tokio::task::spawn_blocking(move || checksum::hash_file(&path, Some(&wanted), sha256))
            .await;
    match hashed {
        Ok(Ok(digests)) => match digests.verify(Some(expected)) {
            Ok(()) => Existing::Skip {
                bytes,
                sha256: digests.sha256_hex(),
            },
            Err(mismatch) => Existing::Fail(FileError::new(
                FailureKind::Checksum,
                format!(
                    "existing {} does not match the manifest ({mismatch}); left untouched (use --on-exist overwrite to replace it)",
                    dest.display()
                ),
            )),
        },
        Ok(Err(e)) => Existing::Fail(FileError::new(
            FailureKind::Io,
            format!("cannot read {}: {e}", dest.display()),
        )),
        Err(e) => Existing::Fail(FileError::new(
            FailureKind::Io,
            format!("cannot verify {}: {e}", dest.display()),
        )),
    }
}

/// Moves the verified `part` onto `dest` (or, for rename, the first free `NAME.N.EXT`) and
/// returns where it landed. Only `overwrite` may replace an existing file. A rename is one
/// metadata operation: done inline.
pub(super) fn place(part: &Path, dest: &Path, mode: OnExist) -> Result<PathBuf, FileError> {
    let io_fail = |target: &Path, e: io::Error| {
        FileError::new(
            FailureKind::Io,
            format!(
                "cannot rename {} to {}: {e}",
                part.display(),
                target.display()
            ),
        )
    };
    match mode {
        OnExist::Overwrite => std::fs::rename(part, dest)
            .map(|()| dest.to_path_buf())
            .map_err(|e| io_fail(dest, e)),
        OnExist::Skip | OnExist::Fail => match rename_no_clobber(part, dest) {
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
                match rename_no_clobber(part, &target) {
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

/// Renames `from` onto `to` only if `to` does not exist: `renameat2(RENAME_NOREPLACE)` on
/// Linux (one atomic call), else a hard link (atomic about existence) and an unlink; where
/// neither is supported, check-then-rename is the best there is.
fn rename_no_clobber(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use rustix::fs::{CWD, RenameFlags, renameat_with};
        match renameat_with(CWD, from, CWD, to, RenameFlags::NOREPLACE) {
            Ok(()) => return Ok(()),
            Err(rustix::io::Errno::EXIST) => {
                return Err(io::Error::from(io::ErrorKind::AlreadyExists));
            }
            // Not supported by this file system: fall back below.
            Err(
                rustix::io::Errno::INVAL | rustix::io::Errno::NOSYS | rustix::io::Errno::NOTSUP,
            ) => {}
            Err(e) => return Err(e.into()),
        }
    }
    link_no_clobber(from, to)
}

fn link_no_clobber(from: &Path, to: &Path) -> io::Result<()> {
    match std::fs::hard_link(from, to) {
        Ok(()) => std::fs::remove_file(from),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Err(e),
        Err(_) => {
            if std::fs::symlink_metadata(to).is_ok() {
                return Err(io::Error::from(io::ErrorKind::AlreadyExists));
            }
            std::fs::rename(from, to)
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
        assert!(place(&part, &dest, OnExist::Skip).is_err());
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "mine");

        let landed = place(&part, &dest, OnExist::Rename).unwrap();
        assert_eq!(landed, dir.path().join("a.1.txt"));
        std::fs::write(&part, "newer").unwrap();
        assert_eq!(
            place(&part, &dest, OnExist::Rename).unwrap(),
            dir.path().join("a.2.txt")
        );
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "mine");

        std::fs::write(&part, "over").unwrap();
        place(&part, &dest, OnExist::Overwrite).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "over");
        assert!(!part.exists());
    }
}
