//! `FileConfig`: one validated file of a plan, kept compact because a run may hold millions.

use crate::checksum::Checksum;
use crate::policy::RetryOverride;
use crate::secret::Secret;
use reqwest::header::{HeaderName, HeaderValue};

/// One file to download, fully validated. Compact (48 bytes plus one string), since a run
/// may hold millions: the URL is kept as its validated text, and what a plain URL-list entry
/// never has lives in one optional box.
///
/// Built only by [`PlanBuilder`](super::PlanBuilder) (or
/// [`Plan::from_urls`](super::Plan::from_urls)), which validates every field: its path never
/// leaves the download directory, its URLs parse and are http(s).
#[derive(Debug, Clone)]
pub struct FileConfig {
    /// The URL, as the `url` crate normalised it when validating, then the destination when
    /// the URL does not end with it: one allocation per file, none for the destination of a
    /// URL named after its last segment (the common case of a URL list).
    text: Box<str>,
    /// `text[..url_end]` is the URL.
    url_end: u32,
    /// `text[path.0..path.1]` is the destination relative to the download directory,
    /// `/`-separated.
    path: (u32, u32),
    priority: i64,
    /// Manifest extras: mirrors, checksum, headers, group, retry settings.
    extra: Option<Box<FileExtra>>,
}

/// The parts of a file's configuration that only manifests set.
#[derive(Debug, Clone, Default)]
pub(super) struct FileExtra {
    /// Failover URLs (validated, normalised), tried in order after `url`.
    pub(super) mirrors: Vec<Box<str>>,
    pub(super) checksum: Option<Checksum>,
    /// Per-file request headers; values are secrets.
    pub(super) headers: Vec<(HeaderName, Secret<HeaderValue>)>,
    pub(super) group: Option<Box<str>>,
    /// Overrides of the run's retry policy for this file.
    pub(super) retry: Option<RetryOverride>,
    /// The name was given by the input (`filename`, aria2's `out=`, `-o`), so no server may
    /// change it.
    pub(super) named: bool,
}

impl FileExtra {
    pub(super) fn is_empty(&self) -> bool {
        self.mirrors.is_empty()
            && self.checksum.is_none()
            && self.headers.is_empty()
            && self.group.is_none()
            && self.retry.is_none()
            && !self.named
    }
}

/// A URL the plan validated: parsing its normalised text again cannot fail.
fn reparse(text: &str) -> url::Url {
    url::Url::parse(text).expect("the plan only keeps URLs that parsed")
}

impl FileConfig {
    /// The URL, as validated and normalised (it may hold a password: see `shown_url`).
    pub fn url(&self) -> &str {
        &self.text[..self.url_end as usize]
    }

    /// The destination relative to the download directory, `/`-separated; never absolute,
    /// never with a `..` component.
    pub fn path(&self) -> &str {
        &self.text[self.path.0 as usize..self.path.1 as usize]
    }

    /// A file of `url` saved under `path` (both validated by the caller).
    pub(super) fn new(
        url: String,
        path: &str,
        priority: i64,
        extra: Option<Box<FileExtra>>,
    ) -> FileConfig {
        let url_end = url.len();
        let (text, start) = if url.ends_with(path) {
            (url, url_end - path.len())
        } else {
            (url + path, url_end)
        };
        let end = text.len();
        let offset = |n: usize| u32::try_from(n).expect("an entry's text is under 4 GiB");
        FileConfig {
            text: text.into_boxed_str(),
            url_end: offset(url_end),
            path: (offset(start), offset(end)),
            priority,
            extra,
        }
    }

    /// Lower runs earlier.
    pub fn priority(&self) -> i64 {
        self.priority
    }

    /// The URL as it may be shown (a password becomes `***`).
    pub fn shown_url(&self) -> String {
        crate::secret::redact_str(self.url())
    }

    /// The URL, then the mirrors, parsed.
    pub fn urls(&self) -> Vec<url::Url> {
        std::iter::once(self.url())
            .chain(
                self.extra
                    .iter()
                    .flat_map(|e| e.mirrors.iter().map(|m| &**m)),
            )
            .map(reparse)
            .collect()
    }

    pub fn checksum(&self) -> Option<&Checksum> {
        self.extra.as_ref().and_then(|e| e.checksum.as_ref())
    }

    pub fn headers(&self) -> &[(HeaderName, Secret<HeaderValue>)] {
        self.extra.as_ref().map_or(&[], |e| &e.headers)
    }

    pub fn group(&self) -> Option<&str> {
        self.extra.as_ref().and_then(|e| e.group.as_deref())
    }

    /// Whether the input named the file (manifest `filename`, aria2's `out=`, `-o`): then
    /// its name is final; otherwise it came from the URL, and a server may name it
    /// (`--content-disposition`, or a redirect when the URL's path has no name).
    pub fn named_by_input(&self) -> bool {
        self.extra.as_ref().is_some_and(|e| e.named)
    }

    pub fn retry(&self) -> Option<&RetryOverride> {
        self.extra.as_ref().and_then(|e| e.retry.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_keeps_its_url_and_destination_in_one_text() {
        let named = FileConfig::new("http://h/d/a.bin".into(), "a.bin", 1, None);
        assert_eq!((named.url(), named.path()), ("http://h/d/a.bin", "a.bin"));
        assert_eq!(named.text.len(), "http://h/d/a.bin".len(), "no second copy");
        let other = FileConfig::new("http://h/get?id=1".into(), "sub/x.bin", 1, None);
        assert_eq!(
            (other.url(), other.path()),
            ("http://h/get?id=1", "sub/x.bin")
        );
    }

    #[test]
    fn a_file_config_stays_small() {
        assert!(std::mem::size_of::<FileConfig>() <= 48);
    }
}
