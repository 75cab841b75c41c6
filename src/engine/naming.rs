//! Names a server gives a file. When the input did not name a file, `--content-disposition`
//! lets the server's `Content-Disposition` name it, and a URL whose path names nothing (`/`,
//! `/dir/`) takes the name of the URL its redirects end at. Such a name is sanitised like a
//! name from a URL, stays in the planned file's directory, and never takes the destination of
//! another file of the run: the later file gets the first free `NAME.N.EXT` (the summary says
//! where it landed).

use super::config::EngineConfig;
use super::net::headers::content_disposition_filename;
use crate::paths;
use crate::plan::{FileConfig, FileId, Plan};
use fnv::{FnvHashMap, FnvHashSet};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// The name `response` gives `file`, fetched from `url`; `None` when the input named the file
/// or the server gives no (usable) name.
pub(super) fn server_name(
    config: &EngineConfig,
    file: &FileConfig,
    url: &url::Url,
    response: &reqwest::Response,
) -> Option<String> {
    if file.named_by_input() {
        return None;
    }
    if config.content_disposition {
        let suggested = response
            .headers()
            .get(reqwest::header::CONTENT_DISPOSITION)
            .and_then(|v| std::str::from_utf8(v.as_bytes()).ok())
            .and_then(content_disposition_filename)
            .map(|raw| paths::sanitize_name(&raw))
            .filter(|name| !name.is_empty());
        if suggested.is_some() {
            return suggested;
        }
    }
    if paths::url_name(url).is_none() {
        return paths::url_name(response.url());
    }
    None
}

/// The destinations server-named files of one run took.
#[derive(Debug, Default)]
pub(super) struct Names {
    /// Every planned destination (relative to `--dir`), gathered on first use.
    planned: OnceLock<FnvHashSet<Box<str>>>,
    /// Destinations taken by server names, and by which file.
    taken: Mutex<FnvHashMap<Box<str>, FileId>>,
}

impl Names {
    /// Where file `id` lands when the server names it `name`: beside its planned destination,
    /// under `name` or, when another file of the run has that destination, the first free
    /// `NAME.N.EXT`. Names that would pass for a download's temporary files (`.part`, ...)
    /// get a `_` appended.
    pub(super) fn claim(&self, plan: &Plan, id: FileId, name: &str) -> PathBuf {
        let own = plan.file(id).path();
        let dir = own.rsplit_once('/').map_or("", |(dir, _)| dir);
        let mut name = name.to_string();
        if paths::SIBLING_SUFFIXES.iter().any(|s| name.ends_with(s)) {
            name.push('_');
        }
        let planned = self.planned.get_or_init(|| {
            plan.files()
                .iter()
                .map(|f| Box::<str>::from(f.path()))
                .collect()
        });
        let mut taken = self.taken.lock().unwrap_or_else(|p| p.into_inner());
        let relative = |candidate: &str| -> Box<str> {
            if dir.is_empty() {
                candidate.into()
            } else {
                format!("{dir}/{candidate}").into()
            }
        };
        for n in 0..=10_000u32 {
            let candidate = if n == 0 {
                name.clone()
            } else {
                numbered(&name, n)
            };
            let rel = relative(&candidate);
            let free = (&*rel == own || !planned.contains(&rel))
                && taken.get(&rel).is_none_or(|holder| *holder == id);
            if free {
                taken.insert(rel.clone(), id);
                return plan.dir().join(&*rel);
            }
        }
        plan.destination(plan.file(id))
    }
}

/// `NAME.N.EXT` for `NAME.EXT` (the `--on-exist rename` scheme).
fn numbered(name: &str, n: u32) -> String {
    paths::numbered(Path::new(name), n)
        .to_string_lossy()
        .into_owned()
}
