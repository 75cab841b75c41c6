//! Destination directories: each is created once per run, and listed once when first used, so
//! that checking whether `NAME`, `NAME.part` or `NAME.part.meta` exists costs no system call for
//! names that were not there. On a fresh run into an empty directory that removes three failing
//! lookups per file (each of which allocates and frees a kernel dentry). The listing is a
//! snapshot: a file that appears later is still caught by the no-clobber rename.

use fnv::{FnvHashMap, FnvHashSet};
use std::io;
use std::path::{Path, is_separator};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub(in crate::engine) struct Dirs {
    /// Directory → the names it held when first used, both as bytes: the directory as the
    /// callers' paths spell it up to their last separator (see `split`). Hashed with FNV and
    /// cut by hand, because `Path` hashes and splits component by component, and this is asked
    /// four or five times per file.
    listed: Mutex<FnvHashMap<Vec<u8>, FnvHashSet<Vec<u8>>>>,
}

/// `path` cut at its last separator: its directory's bytes and its name's. `None` for a path
/// without one.
fn split(path: &Path) -> Option<(&[u8], &[u8])> {
    let bytes = path.as_os_str().as_encoded_bytes();
    let cut = bytes.iter().rposition(|&b| is_separator(char::from(b)))?;
    Some((&bytes[..cut], &bytes[cut + 1..]))
}

impl Dirs {
    fn lock(&self) -> std::sync::MutexGuard<'_, FnvHashMap<Vec<u8>, FnvHashSet<Vec<u8>>>> {
        self.listed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes sure the directory of `path` exists; the first time, notes what is in it. Every
    /// directory between `root` (the download directory, the user's choice) and `path` is
    /// created or checked one at a time without following a link: a symbolic link planted
    /// where a subdirectory belongs is refused, never written through.
    pub(in crate::engine) fn ensure(&self, root: &Path, path: &Path) -> io::Result<()> {
        let Some((key, _)) = split(path) else {
            return Ok(());
        };
        let mut listed = self.lock();
        if listed.contains_key(key) {
            return Ok(());
        }
        let dir = path.parent().unwrap_or(Path::new("/"));
        walk(root, dir)?;
        let names = std::fs::read_dir(dir)?
            .filter_map(|e| e.ok().map(|e| e.file_name().into_encoded_bytes()))
            .collect();
        listed.insert(key.to_vec(), names);
        Ok(())
    }

    /// False only when `path`'s directory was listed and did not hold its name: then there is
    /// no need to look. (Names this run creates are looked up for real: see the callers.)
    pub(in crate::engine) fn may_exist(&self, path: &Path) -> bool {
        let Some((dir, name)) = split(path) else {
            return true;
        };
        self.lock()
            .get(dir)
            .is_none_or(|names| names.contains(name))
    }
}

/// Creates or checks each directory from `root` down to `dir` (which lies under it), one
/// component at a time and without following links. `root` itself is created if missing.
fn walk(root: &Path, dir: &Path) -> io::Result<()> {
    let rel = dir.strip_prefix(root).map_err(|_| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{} is not inside {}", dir.display(), root.display()),
        )
    })?;
    if !root.is_dir() {
        std::fs::create_dir_all(root)?;
    }
    let mut at = root.to_path_buf();
    for part in rel.components() {
        at.push(part);
        match std::fs::symlink_metadata(&at) {
            Ok(meta) if meta.is_dir() => continue,
            Ok(meta) => {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "{} is {}, not a directory; not followed",
                        at.display(),
                        super::sys::describe(&meta.file_type())
                    ),
                ));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => match std::fs::create_dir(&at) {
                Err(e) if e.kind() != io::ErrorKind::AlreadyExists => return Err(e),
                // Made by us, or by someone else meanwhile: checked again at the next turn.
                _ => {
                    let meta = std::fs::symlink_metadata(&at)?;
                    if !meta.is_dir() {
                        return Err(io::Error::new(
                            io::ErrorKind::InvalidInput,
                            format!("{} is not a directory", at.display()),
                        ));
                    }
                }
            },
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn lists_once_and_answers_from_the_listing() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("sub");
        let dirs = Dirs::default();
        assert!(
            dirs.may_exist(&dir.join("x")),
            "unknown directory: must look"
        );
        dirs.ensure(root.path(), &dir.join("x")).unwrap();
        assert!(dir.is_dir());
        assert!(!dirs.may_exist(&dir.join("x")));

        std::fs::write(root.path().join("had"), "").unwrap();
        dirs.ensure(root.path(), &root.path().join("had")).unwrap();
        assert!(dirs.may_exist(&root.path().join("had")));
        assert!(dirs.may_exist(&root.path().join("sub")));
        assert!(!dirs.may_exist(&root.path().join("none")));

        // However a directory is spelt, the same spelling gets the same answer; another
        // spelling of it was not listed, so its names are looked up for real.
        let doubled = |name: &str| PathBuf::from(format!("{}//{name}", root.path().display()));
        let fresh = Dirs::default();
        fresh.ensure(root.path(), &doubled("had")).unwrap();
        assert!(fresh.may_exist(&doubled("had")));
        assert!(!fresh.may_exist(&doubled("none")));
        assert!(fresh.may_exist(&root.path().join("none")));
    }
}
