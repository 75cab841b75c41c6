//! Validating *everything* before the first request (SPEC §4): URLs and schemes, destination
//! safety, duplicate destinations, checksum syntax, headers, and an empty input. Entries arrive
//! one at a time from `input`; the result is a `Plan` or every `Diagnostic` at once. No
//! network, no printing, no files created.

mod claims;

use crate::checksum::Checksum;
use crate::error::Diagnostic;
use crate::input::{FileSpec, Located};
use crate::paths;
pub use crate::policy::RetryOverride;
use crate::secret::Secret;
use claims::{Claims, Clash};
use reqwest::header::{HeaderName, HeaderValue};
use std::hash::Hasher;
use std::path::PathBuf;
use std::sync::Arc;

/// Priority of entries that do not set one (lower runs earlier).
pub const DEFAULT_PRIORITY: i64 = 100;

/// Index of a file in its `Plan`.
pub type FileId = u32;

/// One file to download, fully validated. Compact (48 bytes plus one string), since a run
/// may hold millions: the URL is kept as its validated text, and what a plain URL-list entry
/// never has lives in one optional box.
///
/// Built only by [`PlanBuilder`] (or [`Plan::from_urls`]), which validates every field: its
/// path never leaves the download directory, its URLs parse and are http(s).
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
struct FileExtra {
    /// Failover URLs (validated, normalised), tried in order after `url`.
    mirrors: Vec<Box<str>>,
    checksum: Option<Checksum>,
    /// Per-file request headers; values are secrets.
    headers: Vec<(HeaderName, Secret<HeaderValue>)>,
    group: Option<Box<str>>,
    /// Overrides of the run's retry policy for this file.
    retry: Option<RetryOverride>,
    /// The name was given by the input (`filename`, aria2's `out=`, `-o`), so no server may
    /// change it.
    named: bool,
}

impl FileExtra {
    fn is_empty(&self) -> bool {
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
    fn new(url: String, path: &str, priority: i64, extra: Option<Box<FileExtra>>) -> FileConfig {
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

/// Everything to download, in input order. Built only by [`PlanBuilder`] or
/// [`Plan::from_urls`], so every file in it was validated.
///
/// ```compile_fail
/// // The fields are private: no plan skips validation.
/// let plan = dl::Plan { dir: "downloads".into(), files: Vec::new() };
/// ```
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The download directory; every `FileConfig::path` is relative to it.
    dir: PathBuf,
    files: Vec<FileConfig>,
}

impl Plan {
    /// The download directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.dir
    }

    /// The files, in input order; a file's index is its `FileId`.
    pub fn files(&self) -> &[FileConfig] {
        &self.files
    }

    /// The file with this id.
    ///
    /// # Panics
    /// When `id` is not an id of this plan (every event of a run over it carries one).
    pub fn file(&self, id: FileId) -> &FileConfig {
        &self.files[id as usize]
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// A plan for plain URLs, named from their paths, validated like any input.
    ///
    /// ```
    /// let plan = dl::Plan::from_urls("downloads", ["http://127.0.0.1:8080/a.bin"]).unwrap();
    /// assert_eq!(plan.file(0).path(), "a.bin");
    /// assert!(dl::Plan::from_urls("d", ["ftp://example.com/x"]).is_err());
    /// ```
    pub fn from_urls<I, S>(dir: impl Into<PathBuf>, urls: I) -> Result<Plan, Vec<Diagnostic>>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut builder = PlanBuilder::new(PlanOptions {
            dir: dir.into(),
            ..PlanOptions::default()
        });
        for url in urls {
            let url = url.as_ref();
            builder.push(Located {
                source: Arc::from(crate::secret::redact_str(url)),
                line: 0,
                value: FileSpec {
                    url: url.to_string(),
                    ..FileSpec::default()
                },
            });
        }
        builder.finish()
    }

    /// The absolute (or `--dir`-relative) destination of a file.
    pub fn destination(&self, file: &FileConfig) -> PathBuf {
        paths::under(&self.dir, file.path())
    }
}

/// How to build a plan.
#[derive(Debug, Clone, Default)]
pub struct PlanOptions {
    pub dir: PathBuf,
    /// An input with no entries is fine (otherwise it is an error).
    pub allow_empty: bool,
    /// Keep only slice K of N (1-based), chosen by a stable hash of the destination path.
    pub shard: Option<(u32, u32)>,
    /// `-o`: the destination of the one file of the input, relative to `dir` (it may name a
    /// subdirectory). An input with more than one entry is then an error.
    pub output: Option<String>,
}

/// Collects entries and diagnostics; `finish` gives the plan or every problem.
pub struct PlanBuilder {
    options: PlanOptions,
    files: Vec<FileConfig>,
    diags: Vec<Diagnostic>,
    /// The destinations taken, for the clash checks.
    claims: Claims,
    /// The source of each run of files: (the first file's id, the source).
    origins: Vec<(FileId, Arc<str>)>,
    /// The line of each file in its source (0 = none).
    lines: Vec<u32>,
    entries_seen: usize,
    /// `-o`, validated and cut into (subdirectory, name).
    output: Option<(String, String)>,
}

/// FNV-1a of `parts` as one string (the bytes `str::hash` feeds a hasher): stable across
/// runs and machines (`--shard` depends on that), and `base` + `suffix` needs no allocation.
fn stable_hash(parts: &[&str]) -> u64 {
    let mut hasher = fnv::FnvHasher::default();
    for part in parts {
        hasher.write(part.as_bytes());
    }
    hasher.write_u8(0xff);
    hasher.finish()
}

/// `-o PATH` cut into its subdirectory and file name, each checked like a manifest's
/// `subdir` and `filename`: it stays inside `--dir`.
fn split_output(output: &str) -> Result<(String, String), String> {
    let (subdir, name) = match output.rsplit_once('/') {
        Some((subdir, name)) => (subdir, name),
        None => ("", output),
    };
    paths::check_filename(name).map_err(|e| format!("-o {output:?}: {e}"))?;
    let subdir = if subdir.is_empty() {
        if output.starts_with('/') {
            return Err(format!(
                "-o {output:?} is absolute; it must be relative to --dir"
            ));
        }
        String::new()
    } else {
        paths::check_subdir(subdir).map_err(|e| format!("-o {output:?}: {e}"))?
    };
    Ok((subdir, name.to_string()))
}

fn parse_url(text: &str, what: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(text.trim()).map_err(|e| {
        format!(
            "{what} {:?} is not a valid URL: {e}",
            crate::secret::redact_str(text)
        )
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(format!(
                "{what} has unsupported scheme {other:?} (only http and https)"
            ));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("{what} has no host"));
    }
    Ok(url)
}

fn parse_headers(
    headers: &[(String, String)],
) -> Result<Vec<(HeaderName, Secret<HeaderValue>)>, String> {
    headers
        .iter()
        .map(|(name, value)| {
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("header name {name:?} is not valid"))?;
            let value = HeaderValue::from_str(value).map_err(|_| {
                format!("header {name}: value contains characters not allowed in a header")
            })?;
            Ok((name, Secret::new(value)))
        })
        .collect()
}

impl PlanBuilder {
    pub fn new(options: PlanOptions) -> Self {
        let mut diags = Vec::new();
        let output = options.output.as_deref().and_then(|o| {
            split_output(o)
                .map_err(|e| diags.push(Diagnostic::new("--output", 0, e)))
                .ok()
        });
        PlanBuilder {
            options,
            output,
            files: Vec::new(),
            diags,
            claims: Claims::default(),
            origins: Vec::new(),
            lines: Vec::new(),
            entries_seen: 0,
        }
    }

    /// Problems found before planning (e.g. by the input readers) join the plan's own.
    pub fn add_diagnostics(&mut self, diags: impl IntoIterator<Item = Diagnostic>) {
        self.diags.extend(diags);
    }

    /// Validates one entry; a valid one joins the plan, problems become diagnostics.
    pub fn push(&mut self, entry: Located<FileSpec>) {
        self.entries_seen += 1;
        let mut problems = Vec::new();
        let spec = &entry.value;
        let url = parse_url(&spec.url, "URL")
            .map_err(|e| problems.push(e))
            .ok();
        let mirrors: Vec<url::Url> = spec
            .mirrors
            .iter()
            .filter_map(|m| parse_url(m, "mirror").map_err(|e| problems.push(e)).ok())
            .collect();
        let named = spec.filename.is_some() || self.output.is_some();
        let (name, subdir) = match &self.output {
            Some((subdir, name)) => (Some(name.clone()), Some(subdir.clone())),
            None => {
                let name = match (&spec.filename, &url) {
                    (Some(name), _) => paths::check_filename(name)
                        .map(|_| name.clone())
                        .map_err(|e| problems.push(e))
                        .ok(),
                    (None, Some(url)) => Some(paths::name_from_url(url)),
                    (None, None) => None,
                };
                let subdir = match &spec.subdir {
                    Some(s) => paths::check_subdir(s).map_err(|e| problems.push(e)).ok(),
                    None => Some(String::new()),
                };
                (name, subdir)
            }
        };
        let checksum = match &spec.checksum {
            Some(c) => Checksum::parse(c)
                .map(Some)
                .map_err(|e| problems.push(e))
                .ok()
                .flatten(),
            None => None,
        };
        let headers = parse_headers(&spec.headers)
            .map_err(|e| problems.push(e))
            .unwrap_or_default();
        let mut duration = |text: &Option<String>, key: &str| {
            text.as_deref().and_then(|t| {
                crate::units::parse_duration(t)
                    .map_err(|e| problems.push(format!("{key}: {e}")))
                    .ok()
            })
        };
        let delay = duration(&spec.retry_delay, "retry_delay");
        let max_delay = duration(&spec.max_retry_delay, "max_retry_delay");
        let retry = (spec.retries.is_some() || delay.is_some() || max_delay.is_some()).then_some(
            RetryOverride {
                retries: spec.retries,
                delay,
                max_delay,
            },
        );
        if !problems.is_empty() {
            self.diags
                .extend(problems.into_iter().map(|p| entry.diagnostic(p)));
            return;
        }
        let (Some(url), Some(name), Some(subdir)) = (url, name, subdir) else {
            return;
        };
        let path: Box<str> = if subdir.is_empty() {
            name.into()
        } else {
            format!("{subdir}/{name}").into()
        };
        if let Err(message) = self.claim(&path) {
            self.diags.push(entry.diagnostic(message));
            return;
        }
        let id = self.files.len() as FileId;
        if self.origins.last().is_none_or(|(_, source)| {
            !(Arc::ptr_eq(source, &entry.source) || *source == entry.source)
        }) {
            self.origins.push((id, entry.source.clone()));
        }
        self.lines.push(entry.line);
        let spec = entry.value;
        let extra = FileExtra {
            mirrors: mirrors
                .into_iter()
                .map(|m| String::from(m).into())
                .collect(),
            checksum,
            headers,
            group: spec.group.map(Into::into),
            retry,
            named,
        };
        self.files.push(FileConfig::new(
            String::from(url),
            &path,
            spec.priority.unwrap_or(DEFAULT_PRIORITY),
            (!extra.is_empty()).then(|| Box::new(extra)),
        ));
        self.claims.claim(&self.files);
    }

    /// Where file `id` came from: `SOURCE:LINE`, or the source alone when it has no lines.
    fn describe(&self, id: FileId) -> String {
        let run = self.origins.partition_point(|&(first, _)| first <= id) - 1;
        let source = &self.origins[run].1;
        match self.lines[id as usize] {
            0 => source.to_string(),
            line => format!("{source}:{line}"),
        }
    }

    /// Claims a destination for the entry about to join the plan, refusing one that is
    /// already taken, that is the `.part` sibling of another, or that is a file where another
    /// entry needs a directory (either order).
    fn claim(&self, path: &str) -> Result<(), String> {
        self.claims.check(&self.files, path).map_err(|clash| match clash {
            Clash::Same(other) => format!(
                "destination {path:?} is also the destination of {}",
                self.describe(other)
            ),
            Clash::Sibling(suffix, other) => format!(
                "destination {path:?} clashes with the temporary {suffix} file of {}",
                self.describe(other)
            ),
            Clash::ParentIsFile(parent, other) => format!(
                "destination {path:?} needs {parent:?} to be a directory, but it is the file of {}",
                self.describe(other)
            ),
            Clash::NeededAsDirectory(other) => format!(
                "destination {path:?} is a file, but {:?} ({}) needs it to be a directory",
                self.files[other as usize].path(),
                self.describe(other)
            ),
        })
    }

    /// The plan, or every problem found.
    pub fn finish(mut self) -> Result<Plan, Vec<Diagnostic>> {
        if self.options.output.is_some() && self.entries_seen > 1 {
            self.diags.push(Diagnostic::new(
                "--output",
                0,
                format!(
                    "-o/--output names the file of exactly one URL, but the input has {} entries",
                    self.entries_seen
                ),
            ));
        }
        if self.diags.is_empty() && self.entries_seen == 0 && !self.options.allow_empty {
            self.diags.push(Diagnostic::new(
                "input",
                0,
                "no files to download: the input has no entries (pass --allow-empty to accept that)",
            ));
        }
        if !self.diags.is_empty() {
            return Err(self.diags);
        }
        let mut files = self.files;
        if let Some((k, n)) = self.options.shard {
            files.retain(|f| stable_hash(&[f.path()]) % u64::from(n) == u64::from(k - 1));
        }
        Ok(Plan {
            dir: self.options.dir,
            files,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn build(entries: &[(&str, FileSpec)]) -> Result<Plan, Vec<Diagnostic>> {
        let mut b = PlanBuilder::new(PlanOptions::default());
        let source: Arc<str> = Arc::from("m.toml");
        for (i, (_, spec)) in entries.iter().enumerate() {
            b.push(Located {
                source: source.clone(),
                line: i as u32 + 1,
                value: spec.clone(),
            });
        }
        b.finish()
    }

    fn url(u: &str) -> FileSpec {
        FileSpec {
            url: u.to_string(),
            ..FileSpec::default()
        }
    }

    #[test]
    fn every_problem_is_reported_with_its_line() {
        let err = build(&[
            ("", url("http://h/a")),
            ("", url("ftp://h/b")),
            ("", url("not a url")),
            ("", url("http://h/a")),
            (
                "",
                FileSpec {
                    filename: Some("../x".into()),
                    ..url("http://h/c")
                },
            ),
            (
                "",
                FileSpec {
                    subdir: Some("/etc".into()),
                    ..url("http://h/d")
                },
            ),
            (
                "",
                FileSpec {
                    checksum: Some("sha256:12".into()),
                    ..url("http://h/e")
                },
            ),
            (
                "",
                FileSpec {
                    headers: vec![("Bad Name".into(), "v".into())],
                    ..url("http://h/f")
                },
            ),
        ])
        .unwrap_err();
        let lines: Vec<u32> = err.iter().map(|d| d.line).collect();
        assert_eq!(lines, [2, 3, 4, 5, 6, 7, 8], "{err:#?}");
        assert!(err[0].message.contains("unsupported scheme \"ftp\""));
        assert!(
            err[2].message.contains("also the destination of m.toml:1"),
            "{}",
            err[2]
        );
    }

    #[test]
    fn part_siblings_and_file_directory_clashes() {
        let err = build(&[("", url("http://h/a")), ("", url("http://h/a.part"))]).unwrap_err();
        assert!(err[0].message.contains(".part"));
        let err = build(&[("", url("http://h/a.part.meta")), ("", url("http://h/a"))]).unwrap_err();
        assert!(err[0].message.contains(".part.meta"), "{err:?}");
        let err = build(&[
            (
                "",
                FileSpec {
                    subdir: Some("x".into()),
                    ..url("http://h/a")
                },
            ),
            ("", url("http://h/x")),
        ])
        .unwrap_err();
        assert!(err[0].message.contains("directory"), "{err:?}");
        let err = build(&[
            ("", url("http://h/x")),
            (
                "",
                FileSpec {
                    subdir: Some("x".into()),
                    ..url("http://h/a")
                },
            ),
        ])
        .unwrap_err();
        assert!(err[0].message.contains("directory"), "{err:?}");
    }

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
    fn empty_input_is_an_error_unless_allowed() {
        assert!(build(&[]).unwrap_err()[0].message.contains("no entries"));
        let ok = PlanBuilder::new(PlanOptions {
            allow_empty: true,
            ..PlanOptions::default()
        })
        .finish();
        assert!(ok.unwrap().files.is_empty());
    }

    #[test]
    fn shards_partition_the_input() {
        let urls: Vec<String> = (0..200).map(|i| format!("http://h/f{i}")).collect();
        let mut seen = Vec::new();
        for k in 1..=3 {
            let mut b = PlanBuilder::new(PlanOptions {
                shard: Some((k, 3)),
                ..PlanOptions::default()
            });
            for u in &urls {
                b.push(Located {
                    source: Arc::from("l"),
                    line: 1,
                    value: url(u),
                });
            }
            let plan = b.finish().unwrap();
            assert!(plan.files.len() > 30, "shard {k} has {}", plan.files.len());
            seen.extend(plan.files.into_iter().map(|f| f.path().to_string()));
        }
        seen.sort();
        seen.dedup();
        assert_eq!(seen.len(), 200);
    }

    #[test]
    fn the_shard_hash_is_fnv1a_of_the_path_and_does_not_depend_on_how_it_is_cut() {
        // FNV-1a 64 of b"docs/a.bin\xff" (what `str::hash` feeds a hasher): machines that
        // split one input with `--shard` must all agree, whatever version each runs.
        assert_eq!(stable_hash(&["docs/a.bin"]), 0x2f8a_5d3a_968c_95d6);
        assert_eq!(stable_hash(&["docs/a", ".bin"]), 0x2f8a_5d3a_968c_95d6);
        let mut std_hasher = fnv::FnvHasher::default();
        std::hash::Hash::hash("docs/a.bin", &mut std_hasher);
        assert_eq!(std_hasher.finish(), 0x2f8a_5d3a_968c_95d6);
    }
}
