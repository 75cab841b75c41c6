//! Every platform-specific system call of the engine, each with its portable fallback:
//! opening files under `--dir` without following links or blocking on special files,
//! reserving disk space, renaming without replacing, files without a name (`O_TMPFILE`), the
//! open-file limit. Linux gets the fast paths; macOS the same no-clobber rename and (for
//! files given their full length up front) space reservation through rustix; other systems
//! the portable fallbacks.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;

/// How a file under `--dir` is opened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::engine) enum Open {
    /// For reading.
    Read,
    /// For reading, following a link (a file the user placed under its final name).
    ReadFollowing,
    /// For writing; must exist.
    Write,
    /// For writing; created when missing, emptied when there.
    Create,
    /// For writing; created, and failing if anything already has the name.
    CreateNew,
}

/// Opens `path` as `how` says, refusing to follow a symbolic link at its last component,
/// never blocking on a FIFO, and refusing anything that is not a regular file (a FIFO, a
/// socket, a device, a directory): what a poisoned directory holds is reported, never
/// written through. An emptied file is emptied only once it is known to be regular.
pub(in crate::engine) fn open_regular(path: &Path, how: Open) -> io::Result<File> {
    let file = open_unemptied(path, how)?;
    if how == Open::Create {
        file.set_len(0)?;
    }
    Ok(file)
}

/// Opens `path` as [`open_regular`] does and takes the advisory lock that tells another `dl`
/// the file is being written (`flock`, which the kernel releases when the file is closed or
/// its process dies, however it dies). Another process holding it is an error that
/// [`is_busy`] recognises; nothing was changed then. A file to be emptied (`Create`) is
/// emptied only once locked, and a lock taken on a file that lost its name meanwhile (the
/// other run renamed it into place) is let go and the open tried again. Where the file
/// system has no locks, the file is opened unlocked.
pub(in crate::engine) fn open_locked(path: &Path, how: Open) -> io::Result<File> {
    for _ in 0..3 {
        let file = open_unemptied(path, how)?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => return Err(busy()),
            Err(std::fs::TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => {}
            Err(std::fs::TryLockError::Error(e)) => return Err(e),
        }
        if !still_named(&file, path)? {
            continue;
        }
        if how == Open::Create {
            file.set_len(0)?;
        }
        return Ok(file);
    }
    Err(busy())
}

/// Another `dl` holds the lock of the file.
#[derive(Debug)]
struct Busy;

impl std::fmt::Display for Busy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("another dl is writing it")
    }
}

impl std::error::Error for Busy {}

fn busy() -> io::Error {
    io::Error::new(io::ErrorKind::WouldBlock, Busy)
}

/// Whether `e` says another `dl` holds the file's lock ([`open_locked`]).
pub(in crate::engine) fn is_busy(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Busy>())
}

/// Whether the open `file` is still the one named `path`.
fn still_named(file: &File, path: &Path) -> io::Result<bool> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        let open = file.metadata()?;
        match std::fs::symlink_metadata(path) {
            Ok(named) => Ok(named.dev() == open.dev() && named.ino() == open.ino()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(false),
            Err(e) => Err(e),
        }
    }
    #[cfg(not(unix))]
    {
        let _ = (file, path);
        Ok(true)
    }
}

/// `open_regular` without emptying the file.
fn open_unemptied(path: &Path, how: Open) -> io::Result<File> {
    let mut options = OpenOptions::new();
    match how {
        Open::Read | Open::ReadFollowing => options.read(true),
        Open::Write => options.write(true),
        Open::Create => options.write(true).create(true),
        Open::CreateNew => options.write(true).create_new(true),
    };
    #[cfg(unix)]
    {
        use rustix::fs::OFlags;
        use std::os::unix::fs::OpenOptionsExt;
        let mut flags = OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
        if how == Open::ReadFollowing {
            flags.remove(OFlags::NOFOLLOW);
        }
        options.custom_flags(flags.bits() as i32);
    }
    let file = options.open(path).map_err(|e| refused(path, e))?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(not_regular(path, &meta.file_type()));
    }
    Ok(file)
}

/// Checks that whatever has the name `path` (if anything) is a regular file, without
/// following a link: `Ok(None)` when nothing is there.
pub(in crate::engine) fn regular_or_absent(path: &Path) -> io::Result<Option<std::fs::Metadata>> {
    match std::fs::symlink_metadata(path) {
        Ok(meta) if meta.is_file() => Ok(Some(meta)),
        Ok(meta) => Err(not_regular(path, &meta.file_type())),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// What a non-regular file is, in words.
pub(in crate::engine) fn describe(kind: &std::fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if kind.is_fifo() {
            return "a named pipe (FIFO)";
        }
        if kind.is_socket() {
            return "a socket";
        }
        if kind.is_block_device() || kind.is_char_device() {
            return "a device";
        }
    }
    if kind.is_symlink() {
        "a symbolic link"
    } else if kind.is_dir() {
        "a directory"
    } else if kind.is_file() {
        "a regular file"
    } else {
        "not a regular file"
    }
}

fn not_regular(path: &Path, kind: &std::fs::FileType) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        format!(
            "{} is {}; not followed or replaced (remove it to download here)",
            path.display(),
            describe(kind)
        ),
    )
}

/// Turns the errors of a refused open into what was refused: a link (`ELOOP` with
/// `O_NOFOLLOW`) or a FIFO nobody reads (`ENXIO` with `O_NONBLOCK`).
fn refused(path: &Path, e: io::Error) -> io::Error {
    #[cfg(unix)]
    {
        use rustix::io::Errno;
        let refusal = [Errno::LOOP, Errno::MLINK, Errno::NXIO].map(|e| Some(e.raw_os_error()));
        if refusal.contains(&e.raw_os_error())
            && let Ok(meta) = std::fs::symlink_metadata(path)
        {
            return not_regular(path, &meta.file_type());
        }
    }
    let _ = path;
    e
}

/// The soft limit on open files, where the platform has one.
pub(in crate::engine) fn open_file_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(unix))]
    {
        None
    }
}

/// Reserves the disk blocks for `len` bytes at `offset` before they are written. A file the
/// disk cannot hold then fails before its body is fetched, and writing into reserved blocks
/// costs the file system less than allocating them as the data comes
/// (`docs/performance.md`). With `keep_size` the file's length stays that of the bytes written
/// (what a resume reads back); without, it becomes `offset + len`.
///
/// `Ok(false)` where the file system (or platform) cannot reserve: the writes allocate as
/// they go. macOS reserves only without `keep_size` (`F_PREALLOCATE` then a resize).
pub(in crate::engine) fn reserve(
    file: &std::fs::File,
    offset: u64,
    len: u64,
    keep_size: bool,
) -> io::Result<bool> {
    #[cfg(any(target_os = "linux", target_vendor = "apple"))]
    {
        use rustix::fs::{FallocateFlags, fallocate};
        use rustix::io::Errno;
        if len == 0 {
            return Ok(true);
        }
        // macOS reserves only by growing the file (`F_PREALLOCATE`, then a resize).
        #[cfg(target_vendor = "apple")]
        if keep_size {
            return Ok(false);
        }
        #[cfg(target_os = "linux")]
        let flags = if keep_size {
            FallocateFlags::KEEP_SIZE
        } else {
            FallocateFlags::empty()
        };
        #[cfg(target_vendor = "apple")]
        let flags = FallocateFlags::empty();
        match fallocate(file, flags, offset, len) {
            Ok(()) => Ok(true),
            // No reserving on this file system, or no regular file (a device, a pipe).
            Err(Errno::OPNOTSUPP | Errno::NOSYS | Errno::NODEV | Errno::SPIPE) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }
    #[cfg(not(any(target_os = "linux", target_vendor = "apple")))]
    {
        let _ = (file, offset, len, keep_size);
        Ok(false)
    }
}

/// Renames `from` onto `to` only if `to` does not exist: `renameat2(RENAME_NOREPLACE)` on
/// Linux, `renameatx_np(RENAME_EXCL)` on macOS (one atomic call each), else a hard link (atomic about existence) and an unlink; where
/// neither is supported, check-then-rename is the best there is.
pub(super) fn rename_no_clobber(from: &Path, to: &Path) -> io::Result<()> {
    #[cfg(any(target_os = "linux", target_vendor = "apple"))]
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

/// A file without a name in the directory of `beside`, to be written and then placed with
/// `Staged::Anonymous`: nothing to clean up if it never is. `None` where there are no such
/// files (no `O_TMPFILE` on this file system, or no way to link one); the first refusal turns
/// them off for the rest of the process, and `NAME.part` is used instead.
pub(super) fn create_anonymous(beside: &Path) -> io::Result<Option<std::fs::File>> {
    use std::sync::OnceLock;
    use std::sync::atomic::{AtomicBool, Ordering};
    static REFUSED: AtomicBool = AtomicBool::new(false);
    /// Linking one needs `AT_EMPTY_PATH` or `/proc/self/fd` (always allowed for one's own).
    static LINKABLE: OnceLock<bool> = OnceLock::new();
    let linkable =
        *LINKABLE.get_or_init(|| cfg!(target_os = "linux") && Path::new("/proc/self/fd").is_dir());
    if !linkable || REFUSED.load(Ordering::Relaxed) {
        return Ok(None);
    }
    let dir = match beside.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    match open_anonymous(dir) {
        Err(e) if e.kind() == io::ErrorKind::Unsupported => {
            REFUSED.store(true, Ordering::Relaxed);
            Ok(None)
        }
        other => other.map(Some),
    }
}

/// An `O_TMPFILE` in `dir`; `Unsupported` where the file system (or system) has none.
#[cfg(target_os = "linux")]
fn open_anonymous(dir: &Path) -> io::Result<std::fs::File> {
    use rustix::fs::{Mode, OFlags, open};
    use rustix::io::Errno;
    let flags = OFlags::TMPFILE | OFlags::WRONLY | OFlags::CLOEXEC;
    match open(dir, flags, Mode::from_raw_mode(0o666)) {
        Ok(fd) => Ok(std::fs::File::from(fd)),
        // No O_TMPFILE on this file system (EOPNOTSUPP), or a kernel that predates it.
        Err(Errno::OPNOTSUPP | Errno::ISDIR | Errno::INVAL | Errno::NOSYS) => {
            Err(io::ErrorKind::Unsupported.into())
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(not(target_os = "linux"))]
fn open_anonymous(_dir: &Path) -> io::Result<std::fs::File> {
    Err(io::ErrorKind::Unsupported.into())
}

/// Links an `O_TMPFILE` file as `to`; fails with `AlreadyExists` if `to` exists (a link never
/// replaces).
#[cfg(target_os = "linux")]
pub(super) fn link_anonymous(file: &std::fs::File, to: &Path) -> io::Result<()> {
    use rustix::fs::{AtFlags, CWD, linkat};
    use std::sync::atomic::{AtomicBool, Ordering};
    /// `AT_EMPTY_PATH` may need a capability (older kernels); once refused, go through `/proc`.
    static EMPTY_PATH_REFUSED: AtomicBool = AtomicBool::new(false);
    if !EMPTY_PATH_REFUSED.load(Ordering::Relaxed) {
        match linkat(file, "", CWD, to, AtFlags::EMPTY_PATH) {
            Err(rustix::io::Errno::NOENT | rustix::io::Errno::PERM) => {}
            other => return other.map_err(io::Error::from),
        }
    }
    let linked = link_through_proc(file, to);
    if linked.is_ok() {
        EMPTY_PATH_REFUSED.store(true, Ordering::Relaxed);
    }
    linked
}

/// Links an `O_TMPFILE` file as `to` through its `/proc/self/fd` entry: allowed to any
/// process for its own file.
#[cfg(target_os = "linux")]
fn link_through_proc(file: &std::fs::File, to: &Path) -> io::Result<()> {
    use rustix::fs::{AtFlags, CWD, linkat};
    let fd = std::os::fd::AsRawFd::as_raw_fd(file);
    let from = format!("/proc/self/fd/{fd}");
    linkat(CWD, from, CWD, to, AtFlags::SYMLINK_FOLLOW).map_err(io::Error::from)
}

#[cfg(not(target_os = "linux"))]
pub(super) fn link_anonymous(_file: &std::fs::File, _to: &Path) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserving_gives_a_file_its_length_only_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let file = std::fs::File::create(dir.path().join("f")).unwrap();
        let reserved = reserve(&file, 0, 1 << 20, true).unwrap();
        assert_eq!(file.metadata().unwrap().len(), 0);
        assert_eq!(reserve(&file, 0, 1 << 20, false).unwrap(), reserved);
        let len = file.metadata().unwrap().len();
        assert_eq!(len, if reserved { 1 << 20 } else { 0 });
    }

    /// The way in for processes that may not link with `AT_EMPTY_PATH` (older kernels
    /// without the capability): never replaces either.
    #[cfg(target_os = "linux")]
    #[test]
    fn files_without_a_name_link_through_proc() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let dest = dir.path().join("a");
        let Some(mut file) = create_anonymous(&dest).unwrap() else {
            return; // no files without a name here
        };
        file.write_all(b"whole").unwrap();
        link_through_proc(&file, &dest).unwrap();
        assert_eq!(std::fs::read_to_string(&dest).unwrap(), "whole");
        let again = link_through_proc(&file, &dest).unwrap_err();
        assert_eq!(again.kind(), io::ErrorKind::AlreadyExists);
    }
}
