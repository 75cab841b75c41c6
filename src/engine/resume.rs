//! Resume state: the metadata kept beside a `.part` file (URL, validators, total length;
//! written atomically), what can be resumed from it, and parsing `Content-Range`. A resume is
//! only ever attempted with a validator (`If-Range`), so a changed resource restarts from zero
//! instead of being spliced onto old bytes.

use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;

/// Files at most this large get no metadata: restarting them costs less than the extra file.
pub(super) const RESUME_MIN_BYTES: u64 = 1 << 20;

pub(super) use crate::paths::meta_path;

/// What is known about the resource whose bytes are in the `.part` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct Meta {
    pub version: u32,
    /// The URL the bytes came from (password redacted).
    pub url: String,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    /// The full length of the resource.
    pub total: Option<u64>,
    /// For a multi-connection download (`--split`): the byte ranges `[start, end)` already in
    /// the `.part` (which is then as long as the whole file). `None`: the `.part` is one
    /// contiguous prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub done: Option<Vec<[u64; 2]>>,
}

impl Meta {
    pub const VERSION: u32 = 1;

    /// Built from a fresh 200 response; `None` when nothing could validate a later resume.
    pub fn from_response(
        url: &url::Url,
        headers: &reqwest::header::HeaderMap,
        total: Option<u64>,
    ) -> Option<Meta> {
        let get = |name| {
            headers
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_string)
        };
        let etag = get(reqwest::header::ETAG).filter(|e| !e.starts_with("W/"));
        let last_modified = get(reqwest::header::LAST_MODIFIED);
        if etag.is_none() && last_modified.is_none() {
            return None;
        }
        Some(Meta {
            version: Meta::VERSION,
            url: crate::secret::redact_url(url),
            etag,
            last_modified,
            total,
            done: None,
        })
    }

    /// The `If-Range` value: a strong ETag, else the Last-Modified date.
    pub fn if_range(&self) -> Option<&str> {
        self.etag.as_deref().or(self.last_modified.as_deref())
    }

    /// Writes the metadata atomically (temporary file, then rename), so a crash never leaves
    /// it torn.
    pub fn store(&self, meta: &Path) -> io::Result<()> {
        let tmp = crate::paths::tmp_path(meta);
        let text = serde_json::to_vec(self).map_err(io::Error::other)?;
        std::fs::write(&tmp, text)?;
        std::fs::rename(&tmp, meta)
    }

    /// `store` on the blocking pool: creating and renaming a file changes a directory (tens
    /// of microseconds on ext4), time in which the async thread would receive nothing.
    pub async fn store_off_thread(&self, meta: &Path) -> io::Result<()> {
        let (this, meta) = (self.clone(), meta.to_path_buf());
        tokio::task::spawn_blocking(move || this.store(&meta))
            .await
            .unwrap_or_else(|e| Err(io::Error::other(e)))
    }
}

/// Removes `part`'s resume metadata (if any) on the blocking pool: its bytes are final.
pub(super) async fn forget(part: &Path) {
    let meta = meta_path(part);
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(meta)).await;
}

/// What the files on disk allow for the next request.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Local {
    /// Start from zero (`warning` says why when there was something unusable on disk).
    Fresh { warning: Option<String> },
    /// `offset` bytes of the resource are in the `.part`; ask for the rest.
    Resume { offset: u64, meta: Meta },
    /// A multi-connection download: `meta.done` ranges are in the `.part`; fetch the holes.
    Ranges { meta: Meta },
}

/// Looks at `part` and its metadata and decides whether the download can continue.
pub(super) fn inspect(part: &Path, url: &url::Url) -> Local {
    let meta_file = meta_path(part);
    let part_len = match std::fs::metadata(part) {
        Ok(m) => Some(m.len()),
        Err(_) => None,
    };
    let meta_text = std::fs::read(&meta_file);
    let fresh = |warning: Option<String>| {
        let _ = std::fs::remove_file(&meta_file);
        Local::Fresh { warning }
    };
    match (part_len, meta_text) {
        (None, Err(_)) => Local::Fresh { warning: None },
        (None, Ok(_)) => fresh(Some(
            "resume metadata without a .part file; starting over".into(),
        )),
        (Some(len), Err(_)) if len > RESUME_MIN_BYTES => Local::Fresh {
            warning: Some(format!(
                "{} has no resume metadata; starting over",
                part.display()
            )),
        },
        (Some(_), Err(_)) => Local::Fresh { warning: None },
        (Some(len), Ok(text)) => match serde_json::from_slice::<Meta>(&text) {
            Err(e) => fresh(Some(format!(
                "unreadable resume metadata {}: {e}; starting over",
                meta_file.display()
            ))),
            Ok(meta)
                if meta.version != Meta::VERSION || meta.url != crate::secret::redact_url(url) =>
            {
                fresh(Some(format!(
                    "{} belongs to another download; starting over",
                    part.display()
                )))
            }
            Ok(meta) if meta.total.is_some_and(|t| len > t) => fresh(Some(format!(
                "{} is longer than the resource; starting over",
                part.display()
            ))),
            Ok(meta) if meta.if_range().is_none() => fresh(None),
            Ok(meta) if meta.done.is_some() => {
                if meta.total == Some(len) {
                    Local::Ranges { meta }
                } else {
                    fresh(Some(format!(
                        "{} does not match its resume metadata; starting over",
                        part.display()
                    )))
                }
            }
            Ok(_) if len == 0 => fresh(None),
            Ok(meta) => Local::Resume { offset: len, meta },
        },
    }
}

/// `Content-Range: bytes FIRST-LAST/TOTAL` → (first, last, total). `None` for anything else
/// (including `*` totals and unsatisfied forms), which callers treat as "cannot splice".
pub(super) fn parse_content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let first: u64 = first.trim().parse().ok()?;
    let last: u64 = last.trim().parse().ok()?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    if last < first || total.is_some_and(|t| last >= t) {
        return None;
    }
    Some((first, last, total))
}

/// The total of an unsatisfied-range answer: `Content-Range: bytes */TOTAL`.
pub(super) fn parse_unsatisfied_range(value: &str) -> Option<u64> {
    value
        .trim()
        .strip_prefix("bytes")?
        .trim_start()
        .strip_prefix("*/")?
        .trim()
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_range_table() {
        type Range = Option<(u64, u64, Option<u64>)>;
        let cases: &[(&str, Range)] = &[
            ("bytes 0-99/100", Some((0, 99, Some(100)))),
            ("bytes 50-99/100", Some((50, 99, Some(100)))),
            ("bytes  50-99/*", Some((50, 99, None))),
            ("bytes 50-100/100", None),
            ("bytes 99-50/100", None),
            ("bytes */100", None),
            ("items 0-1/2", None),
            ("bytes 0-x/2", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_content_range(text), *want, "{text:?}");
        }
        assert_eq!(parse_unsatisfied_range("bytes */1234"), Some(1234));
        assert_eq!(parse_unsatisfied_range("bytes 0-1/2"), None);
    }

    #[test]
    fn local_state_decides_resume_or_restart() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("f.part");
        let url = url::Url::parse("http://h/f").unwrap();
        let meta = Meta {
            version: Meta::VERSION,
            url: "http://h/f".into(),
            etag: Some("\"v1\"".into()),
            last_modified: None,
            total: Some(10),
            done: None,
        };
        assert_eq!(inspect(&part, &url), Local::Fresh { warning: None });

        meta.store(&meta_path(&part)).unwrap();
        assert!(
            matches!(inspect(&part, &url), Local::Fresh { warning: Some(_) }),
            "meta without part"
        );
        assert!(!meta_path(&part).exists(), "stale metadata removed");

        std::fs::write(&part, b"12345").unwrap();
        meta.store(&meta_path(&part)).unwrap();
        assert_eq!(
            inspect(&part, &url),
            Local::Resume {
                offset: 5,
                meta: meta.clone()
            }
        );

        let other = url::Url::parse("http://h/other").unwrap();
        assert!(matches!(
            inspect(&part, &other),
            Local::Fresh { warning: Some(_) }
        ));

        std::fs::write(&part, b"0123456789abc").unwrap();
        meta.store(&meta_path(&part)).unwrap();
        assert!(
            matches!(inspect(&part, &url), Local::Fresh { warning: Some(w) } if w.contains("longer"))
        );

        std::fs::write(&part, b"123").unwrap();
        std::fs::write(meta_path(&part), b"{torn").unwrap();
        assert!(
            matches!(inspect(&part, &url), Local::Fresh { warning: Some(w) } if w.contains("unreadable"))
        );
    }
}
