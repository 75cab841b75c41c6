//! Destination directories: each is created once per run, and listed once when first used, so
//! that checking whether `NAME`, `NAME.part` or `NAME.part.meta` exists costs no system call for
//! names that were not there. On a fresh run into an empty directory that removes three failing
//! lookups per file (each of which allocates and frees a kernel dentry). The listing is a
//! snapshot: a file that appears later is still caught by the no-clobber rename.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

#[derive(Debug, Default)]
pub(super) struct Dirs {
    /// Directory → the names it held when first used.
    listed: Mutex<HashMap<PathBuf, HashSet<OsString>>>,
}

impl Dirs {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<PathBuf, HashSet<OsString>>> {
        self.listed.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes sure `dir` exists; the first time, notes what is in it.
    pub(super) fn ensure(&self, dir: &Path) -> io::Result<()> {
        let mut listed = self.lock();
        if listed.contains_key(dir) {
            return Ok(());
        }
        let names = match std::fs::read_dir(dir) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.file_name()))
                .collect(),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                std::fs::create_dir_all(dir)?;
                HashSet::new()
            }
            Err(e) => return Err(e),
        };
        listed.insert(dir.to_path_buf(), names);
        Ok(())
    }

    /// False only when `path`'s directory was listed and did not hold its name: then there is
    /// no need to look. (Names this run creates are looked up for real: see the callers.)
    pub(super) fn may_exist(&self, path: &Path) -> bool {
        let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
            return true;
        };
        self.lock()
            .get(dir)
            .is_none_or(|names| names.contains(name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_once_and_answers_from_the_listing() {
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("sub");
        let dirs = Dirs::default();
        assert!(
            dirs.may_exist(&dir.join("x")),
            "unknown directory: must look"
        );
        dirs.ensure(&dir).unwrap();
        assert!(dir.is_dir());
        assert!(!dirs.may_exist(&dir.join("x")));

        std::fs::write(root.path().join("had"), "").unwrap();
        dirs.ensure(root.path()).unwrap();
        assert!(dirs.may_exist(&root.path().join("had")));
        assert!(dirs.may_exist(&root.path().join("sub")));
        assert!(!dirs.may_exist(&root.path().join("none")));
    }
}
