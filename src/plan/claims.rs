//! Which destinations clash, checked as each entry arrives: the same path twice, a path that
//! is another's `.part` sibling, and a file where another entry needs a directory. The tables
//! hold file ids, not paths (4 and 8 bytes an entry): a path is compared through the file
//! that claimed it, so every match is exact and ten million entries stay cheap.

use super::{FileConfig, FileId, stable_hash};
use crate::paths;
use hashbrown::HashTable;

/// Destinations claimed so far, and the directories they need.
#[derive(Default)]
pub(super) struct Claims {
    /// Every accepted file, by the hash of its path.
    files: HashTable<FileId>,
    /// Every directory an accepted file needs, by the hash of its path: the first file that
    /// needs it, and the length of the directory's path (a prefix of that file's path).
    dirs: HashTable<(FileId, u32)>,
}

/// Why a destination cannot be claimed, naming the file it clashes with.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Clash {
    /// The same path as this file.
    Same(FileId),
    /// The path is this file's temporary sibling with this suffix, or the other way round.
    Sibling(&'static str, FileId),
    /// A parent directory of the path is this file.
    ParentIsFile(String, FileId),
    /// The path is a directory this file needs.
    NeededAsDirectory(FileId),
}

/// Whether `text` is the concatenation of `parts`.
fn is_concat(text: &str, parts: &[&str]) -> bool {
    let mut rest = text;
    for part in parts {
        match rest.strip_prefix(part) {
            Some(r) => rest = r,
            None => return false,
        }
    }
    rest.is_empty()
}

impl Claims {
    /// The file whose destination is `parts` joined.
    fn file(&self, files: &[FileConfig], parts: &[&str]) -> Option<FileId> {
        self.files
            .find(stable_hash(parts), |&id| {
                is_concat(files[id as usize].path(), parts)
            })
            .copied()
    }

    /// Whether `path` is free for a new file: not taken, not a `.part` sibling of a taken
    /// path, not under a taken path, not a directory a taken path needs.
    pub(super) fn check(&self, files: &[FileConfig], path: &str) -> Result<(), Clash> {
        if let Some(other) = self.file(files, &[path]) {
            return Err(Clash::Same(other));
        }
        for suffix in paths::SIBLING_SUFFIXES {
            let sibling = match path.strip_suffix(suffix) {
                Some(base) => self.file(files, &[base]),
                None => self.file(files, &[path, suffix]),
            };
            if let Some(other) = sibling {
                return Err(Clash::Sibling(suffix, other));
            }
        }
        let mut prefix = path;
        while let Some((parent, _)) = prefix.rsplit_once('/') {
            if let Some(other) = self.file(files, &[parent]) {
                return Err(Clash::ParentIsFile(parent.to_string(), other));
            }
            prefix = parent;
        }
        let user = self.dirs.find(stable_hash(&[path]), |&(id, len)| {
            files[id as usize].path().get(..len as usize) == Some(path)
        });
        match user {
            Some(&(other, _)) => Err(Clash::NeededAsDirectory(other)),
            None => Ok(()),
        }
    }

    /// Claims the destination of the last file of `files` (checked by `check`), and the
    /// directories it needs.
    pub(super) fn claim(&mut self, files: &[FileConfig]) {
        let id = FileId::try_from(files.len() - 1).expect("fewer than 2^32 files");
        let path = files[id as usize].path();
        let path_of = |&id: &FileId| stable_hash(&[files[id as usize].path()]);
        self.files.insert_unique(stable_hash(&[path]), id, path_of);
        let dir_of =
            |&(id, len): &(FileId, u32)| stable_hash(&[&files[id as usize].path()[..len as usize]]);
        let mut prefix = path;
        while let Some((parent, _)) = prefix.rsplit_once('/') {
            let hash = stable_hash(&[parent]);
            let known = self.dirs.find(hash, |&(user, len)| {
                files[user as usize].path().get(..len as usize) == Some(parent)
            });
            if known.is_some() {
                break; // and so are its parents
            }
            let len = u32::try_from(parent.len()).expect("a path is under 4 GiB");
            self.dirs.insert_unique(hash, (id, len), dir_of);
            prefix = parent;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Claims `paths` in order, each checked first; the clash of each (None = claimed).
    fn claim_all(paths: &[&str]) -> Vec<Option<Clash>> {
        let (mut claims, mut files) = (Claims::default(), Vec::new());
        paths
            .iter()
            .map(|path| {
                let clash = claims.check(&files, path).err();
                if clash.is_none() {
                    let url = format!("http://h/{path}");
                    files.push(FileConfig::new(url, path, 0, None));
                    claims.claim(&files);
                }
                clash
            })
            .collect()
    }

    #[test]
    fn clashes_are_exact_and_name_the_earlier_file() {
        let got = claim_all(&[
            "a/b/c",
            "a/bc",
            "a/b",
            "a",
            "a/b/c/d",
            "a/b/c",
            "a/b/c.part",
            "x.part.meta",
            "x",
            "a/b/d",
        ]);
        assert_eq!(
            got,
            [
                None,
                None,
                Some(Clash::NeededAsDirectory(0)),
                Some(Clash::NeededAsDirectory(0)),
                Some(Clash::ParentIsFile("a/b/c".into(), 0)),
                Some(Clash::Same(0)),
                Some(Clash::Sibling(".part", 0)),
                None,
                Some(Clash::Sibling(".part.meta", 2)),
                None,
            ]
        );
    }

    #[test]
    fn many_paths_in_many_directories_do_not_clash() {
        let paths: Vec<String> = (0..20_000).map(|i| format!("d{}/f{i}", i % 97)).collect();
        let paths: Vec<&str> = paths.iter().map(String::as_str).collect();
        assert!(claim_all(&paths).iter().all(Option::is_none));
    }
}
