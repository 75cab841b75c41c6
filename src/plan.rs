//! Validating *everything* before the first request (SPEC §4): URLs and schemes, destination
//! safety, duplicate destinations, checksum syntax, headers, and an empty input. Entries arrive
//! one at a time from `input`; the result is a `Plan` or every `Diagnostic` at once. No
//! network, no printing, no files created.

mod claims;
mod file;

use crate::checksum::Checksum;
use crate::error::Diagnostic;
use crate::input::{FileSpec, Located};
use crate::paths;
pub use crate::policy::RetryOverride;
use crate::secret::Secret;
use claims::{Claims, Clash};
pub use file::FileConfig;
use file::FileExtra;
use reqwest::header::{HeaderName, HeaderValue};
use std::hash::Hasher;
use std::path::PathBuf;
use std::sync::Arc;

/// Priority of entries that do not set one (lower runs earlier).
pub const DEFAULT_PRIORITY: i64 = 100;

/// Index of a file in its `Plan`.
pub type FileId = u32;

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
mod tests;
