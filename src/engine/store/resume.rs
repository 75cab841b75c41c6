//! Resume state: the metadata kept beside a `.part` file (URL, validators, total length;
//! written atomically), and what can be resumed from it. A resume is
//! only ever attempted with a validator (`If-Range`), so a changed resource restarts from zero
//! instead of being spliced onto old bytes.

use super::sys::{Open, open_regular, regular_or_absent};
use serde::{Deserialize, Serialize};
use std::io;
use std::path::Path;

/// Files at most this large get no metadata: restarting them costs less than the extra file.
pub(in crate::engine) const RESUME_MIN_BYTES: u64 = 1 << 20;

pub(in crate::engine) use crate::paths::meta_path;

/// What is known about the resource whose bytes are in the `.part` file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(in crate::engine) struct Meta {
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
    /// The name the server gave the file (`--content-disposition`, or a redirect), so that a
    /// resumed download lands under the same name even if the rest comes without it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

impl Meta {
    pub const VERSION: u32 = 1;

    /// Validators from a response (a weak ETag is not kept: it cannot guard a range);
    /// `None` when nothing could validate a later resume.
    pub fn new(
        url: &url::Url,
        etag: Option<String>,
        last_modified: Option<String>,
        total: Option<u64>,
    ) -> Option<Meta> {
        let etag = etag.filter(|e| !e.starts_with("W/"));
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
            name: None,
        })
    }

    /// The `If-Range` value: a strong ETag, else the Last-Modified date.
    pub fn if_range(&self) -> Option<&str> {
        self.etag.as_deref().or(self.last_modified.as_deref())
    }

    /// Writes the metadata atomically (temporary file, then rename), so a crash never leaves
    /// it torn.
    pub fn store(&self, meta: &Path) -> io::Result<()> {
        use std::io::Write;
        let tmp = crate::paths::tmp_path(meta);
        let text = serde_json::to_vec(self).map_err(io::Error::other)?;
        // A leftover temporary file is ours to replace; anything else there is refused.
        if regular_or_absent(&tmp)?.is_some() {
            std::fs::remove_file(&tmp)?;
        }
        open_regular(&tmp, Open::CreateNew)?.write_all(&text)?;
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
pub(in crate::engine) async fn forget(part: &Path) {
    let meta = meta_path(part);
    let _ = tokio::task::spawn_blocking(move || std::fs::remove_file(meta)).await;
}

/// Metadata files are small; anything larger is not ours.
const META_MAX_BYTES: u64 = 64 << 10;

/// Reads a metadata file without following a link or blocking on a FIFO, and never more
/// than `META_MAX_BYTES`.
fn read_meta(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let file = open_regular(path, Open::Read)?;
    let mut text = Vec::new();
    file.take(META_MAX_BYTES + 1).read_to_end(&mut text)?;
    if text.len() as u64 > META_MAX_BYTES {
        return Err(io::Error::new(
            io::ErrorKind::InvalidData,
            "larger than any resume metadata",
        ));
    }
    Ok(text)
}

/// Removes `part`'s resume metadata now: the part is about to be rewritten from zero.
pub(in crate::engine) fn forget_now(part: &Path) {
    let _ = std::fs::remove_file(meta_path(part));
}

/// What the files on disk allow for the next request.
#[derive(Debug, PartialEq, Eq)]
pub(in crate::engine) enum Local {
    /// Start from zero (`warning` says why when there was something unusable on disk).
    Fresh { warning: Option<String> },
    /// `offset` bytes of the resource are in the `.part`; ask for the rest.
    Resume { offset: u64, meta: Meta },
    /// A multi-connection download: `meta.done` ranges are in the `.part`; fetch the holes.
    Ranges { meta: Meta },
}

/// Looks at `part` and its metadata and decides whether the download can continue; metadata
/// that cannot serve is removed.
pub(in crate::engine) fn inspect(part: &Path, url: &url::Url) -> Local {
    judge(part, url, true)
}

/// What `inspect` would decide, changing nothing (`--dry-run`).
pub(in crate::engine) fn peek(part: &Path, url: &url::Url) -> Local {
    judge(part, url, false)
}

fn judge(part: &Path, url: &url::Url, forget_stale: bool) -> Local {
    let meta_file = meta_path(part);
    let part_len = match regular_or_absent(part) {
        Ok(m) => m.map(|m| m.len()),
        Err(_) => None,
    };
    let meta_text = read_meta(&meta_file);
    let fresh = |warning: Option<String>| {
        if forget_stale {
            let _ = std::fs::remove_file(&meta_file);
        }
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

#[cfg(test)]
mod tests {
    use super::*;

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
            name: None,
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
