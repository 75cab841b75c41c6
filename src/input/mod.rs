//! Turning each SOURCE on the command line (a URL, a URL list file, a TOML/JSON manifest, or
//! `-` for stdin) into `FileSpec`s tagged with their source and line. Entries are handed to a
//! sink one by one, so a million-line list is never held twice. Only syntax is checked here;
//! `plan` validates meaning. Problems are collected as `Diagnostic`s, never returned early.
//! A UTF-8 byte-order mark at the start of any source is ignored (`lines::skip_bom`).

mod lines;
mod list;
mod manifest;

use crate::error::Diagnostic;
use std::io::{BufRead, Read};
use std::sync::Arc;

/// A value with the place in the input it came from.
#[derive(Debug, Clone)]
pub struct Located<T> {
    /// The source as the user named it (a path, `-`/`<stdin>`, or the URL itself).
    pub source: Arc<str>,
    /// 1-based line; 0 when the source has no lines (a URL argument).
    pub line: u32,
    pub value: T,
}

impl<T> Located<T> {
    pub fn diagnostic(&self, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(&*self.source, self.line, message)
    }
}

/// One requested file, as written in the input (defaults already applied, `${VAR}` expanded).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileSpec {
    pub url: String,
    pub filename: Option<String>,
    pub subdir: Option<String>,
    pub priority: Option<i64>,
    pub checksum: Option<String>,
    pub mirrors: Vec<String>,
    pub headers: Vec<(String, String)>,
    pub group: Option<String>,
    pub retries: Option<u32>,
    /// Durations as written (`500ms`); `plan` parses them.
    pub retry_delay: Option<String>,
    pub max_retry_delay: Option<String>,
}

/// One source to read, as the command line gave it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A SOURCE argument: a URL, a list, a manifest or `-`, told apart by how it is written.
    Arg(String),
    /// An `-i FILE` (wget's input file): always a URL list, whatever its name, so `-i x.json`
    /// is never a manifest and `-i http://...` never a download; `-i -` is a list on stdin.
    InputFile(String),
}

/// What a SOURCE argument is.
#[derive(Debug, PartialEq, Eq)]
enum SourceKind {
    Url,
    Stdin,
    /// `-i -`: a URL list on stdin, never a manifest.
    StdinList,
    TomlManifest,
    JsonManifest,
    List,
}

fn classify(arg: &str) -> SourceKind {
    let lower = arg.to_ascii_lowercase();
    if arg == "-" {
        SourceKind::Stdin
    } else if lower.starts_with("http://") || lower.starts_with("https://") || arg.contains("://") {
        SourceKind::Url
    } else if lower.ends_with(".toml") {
        SourceKind::TomlManifest
    } else if lower.ends_with(".json") {
        SourceKind::JsonManifest
    } else {
        SourceKind::List
    }
}

/// A manifest larger than this is refused without being read: parsing holds several times
/// its size, and a real one (about 200 bytes per file) stays far below it.
pub const MAX_MANIFEST: u64 = 64 << 20;

/// Reads every source, handing each entry to `sink` in input order; problems go to `diags`.
/// `stdin` is read only if a source is `-` (at most once, by a SOURCE or an `-i`).
pub fn read_sources(
    sources: &[Source],
    stdin: &mut dyn Read,
    sink: &mut dyn FnMut(Located<FileSpec>),
    diags: &mut Vec<Diagnostic>,
) {
    let mut stdin_used = false;
    for source in sources {
        let (arg, kind) = match source {
            Source::Arg(arg) => (arg, classify(arg)),
            Source::InputFile(name) if name == "-" => (name, SourceKind::StdinList),
            Source::InputFile(name) => (name, SourceKind::List),
        };
        match kind {
            SourceKind::Url => sink(Located {
                // The URL names its own diagnostics, so its password must not show.
                source: Arc::from(crate::secret::redact_str(arg)),
                line: 0,
                value: FileSpec {
                    url: arg.clone(),
                    ..FileSpec::default()
                },
            }),
            SourceKind::Stdin | SourceKind::StdinList if stdin_used => diags.push(Diagnostic::new(
                "-",
                0,
                "standard input can be read only once",
            )),
            SourceKind::Stdin | SourceKind::StdinList => {
                stdin_used = true;
                read_stdin(stdin, kind == SourceKind::Stdin, sink, diags);
            }
            kind => read_file(arg, kind, sink, diags),
        }
    }
}

/// A list or manifest file. A manifest is refused unread when it is larger than
/// [`MAX_MANIFEST`], and read at most that far when its size is not known in advance.
fn read_file(
    arg: &str,
    kind: SourceKind,
    sink: &mut dyn FnMut(Located<FileSpec>),
    diags: &mut Vec<Diagnostic>,
) {
    let name: Arc<str> = Arc::from(arg);
    let file = match std::fs::File::open(arg) {
        Ok(file) => file,
        Err(e) => return diags.push(Diagnostic::new(arg, 0, open_error(arg, &e))),
    };
    let too_large =
        kind != SourceKind::List && file.metadata().is_ok_and(|m| m.len() > MAX_MANIFEST);
    let reader = match lines::skip_bom(file) {
        Ok(reader) => reader,
        Err(e) => return diags.push(Diagnostic::new(arg, 0, format!("cannot read: {e}"))),
    };
    if kind == SourceKind::List {
        return list::read(&name, std::io::BufReader::new(reader), sink, diags);
    }
    let text = if too_large {
        Err(manifest_too_large())
    } else {
        read_manifest_text(reader).map_err(|e| format!("cannot read: {e}"))
    };
    match text {
        Err(message) => diags.push(Diagnostic::new(arg, 0, message)),
        Ok(text) if kind == SourceKind::TomlManifest => {
            manifest::read_toml(&name, &text, sink, diags)
        }
        Ok(text) => manifest::read_json(&name, &text, sink, diags),
    }
}

/// Standard input: when `detect`, a JSON manifest if its first non-blank character opens one,
/// else a URL list. At most [`lines::MAX_LINE`] bytes of leading blanks are looked through;
/// past them the input is read as a list, so the peek stays bounded too.
fn read_stdin(
    stdin: &mut dyn Read,
    detect: bool,
    sink: &mut dyn FnMut(Located<FileSpec>),
    diags: &mut Vec<Diagnostic>,
) {
    let name: Arc<str> = Arc::from("<stdin>");
    let stdin = match lines::skip_bom(stdin) {
        Ok(stdin) => stdin,
        Err(e) => {
            let message = format!("cannot read standard input: {e}");
            return diags.push(Diagnostic::new(&*name, 0, message));
        }
    };
    let mut reader = std::io::BufReader::new(stdin);
    if !detect {
        return list::read(&name, reader, sink, diags);
    }
    let mut blanks = Vec::new();
    let first = loop {
        let chunk = match reader.fill_buf() {
            Ok(chunk) => chunk,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                let message = format!("cannot read standard input: {e}");
                return diags.push(Diagnostic::new(&*name, 0, message));
            }
        };
        let blank = chunk.iter().take_while(|b| b.is_ascii_whitespace()).count();
        let first = chunk.get(blank).copied();
        blanks.extend_from_slice(&chunk[..blank]);
        reader.consume(blank);
        if first.is_some() || blank == 0 || blanks.len() > lines::MAX_LINE {
            break first;
        }
    };
    let rest = std::io::Cursor::new(blanks).chain(reader);
    if matches!(first, Some(b'{' | b'[')) {
        match read_manifest_text(rest) {
            Ok(text) => manifest::read_json(&name, &text, sink, diags),
            Err(e) => {
                let message = format!("cannot read standard input: {e}");
                diags.push(Diagnostic::new(&*name, 0, message));
            }
        }
    } else {
        list::read(&name, rest, sink, diags);
    }
}

/// Reads a manifest whole, but never more than [`MAX_MANIFEST`] bytes.
fn read_manifest_text(reader: impl Read) -> std::io::Result<String> {
    let mut text = String::new();
    reader.take(MAX_MANIFEST + 1).read_to_string(&mut text)?;
    if text.len() as u64 > MAX_MANIFEST {
        return Err(std::io::Error::other(manifest_too_large()));
    }
    Ok(text)
}

fn manifest_too_large() -> String {
    format!(
        "the manifest is larger than {} MiB, the most dl reads; split it into several manifests",
        MAX_MANIFEST >> 20
    )
}

fn open_error(arg: &str, e: &std::io::Error) -> String {
    let hint =
        if e.kind() == std::io::ErrorKind::NotFound && arg.contains('.') && !arg.contains('/') {
            " (if this is a URL, write it with http:// or https://)"
        } else {
            ""
        };
    format!("cannot open: {e}{hint}")
}

/// Expands `${VAR}` from the environment. An unset variable is an error naming it.
pub fn expand_env(text: &str) -> Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unclosed ${{ in {text:?}"))?;
        let name = &after[..end];
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(format!(
                "${{{name}}} is not a valid environment variable name"
            ));
        }
        match std::env::var(name) {
            Ok(value) => out.push_str(&value),
            Err(_) => return Err(format!("environment variable {name} is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_sources() {
        assert_eq!(classify("https://x/y"), SourceKind::Url);
        assert_eq!(classify("HTTP://x/y"), SourceKind::Url);
        assert_eq!(classify("ftp://x/y"), SourceKind::Url);
        assert_eq!(classify("-"), SourceKind::Stdin);
        assert_eq!(classify("m.TOML"), SourceKind::TomlManifest);
        assert_eq!(classify("m.json"), SourceKind::JsonManifest);
        assert_eq!(classify("urls.txt"), SourceKind::List);
    }

    /// The URLs read from `sources`, and the diagnostics, with `stdin` as standard input.
    fn read(sources: &[Source], stdin: &str) -> (Vec<String>, Vec<String>) {
        let (mut urls, mut diags) = (Vec::new(), Vec::new());
        let sink = &mut |e: Located<FileSpec>| urls.push(e.value.url);
        read_sources(sources, &mut stdin.as_bytes(), sink, &mut diags);
        (urls, diags.iter().map(ToString::to_string).collect())
    }

    #[test]
    fn an_input_file_is_always_a_list() {
        let json = "[{\"url\": \"http://a/1\"}]";
        let (urls, _) = read(&[Source::Arg("-".into())], json);
        assert_eq!(urls, ["http://a/1"]);
        let (urls, _) = read(&[Source::InputFile("-".into())], json);
        assert_eq!(
            urls,
            [json],
            "a list line, which plan then refuses as a URL"
        );
        let (urls, diags) = read(&[Source::InputFile("http://a/2".into())], "");
        assert!(urls.is_empty());
        assert!(diags[0].starts_with("http://a/2: cannot open"), "{diags:?}");
        let twice = [Source::Arg("-".into()), Source::InputFile("-".into())];
        let (_, diags) = read(&twice, "http://a/3\n");
        assert_eq!(diags, ["-: standard input can be read only once"]);
    }

    #[test]
    fn expands_environment() {
        // SAFETY-free: set_var is safe to call in tests that only read this variable.
        let path = std::env::var("PATH").unwrap();
        assert_eq!(expand_env("a ${PATH} b").unwrap(), format!("a {path} b"));
        assert_eq!(expand_env("no vars $HOME").unwrap(), "no vars $HOME");
        assert!(
            expand_env("${DL_SURELY_UNSET_VAR_123}")
                .unwrap_err()
                .contains("DL_SURELY_UNSET_VAR_123")
        );
        assert!(expand_env("${oops").unwrap_err().contains("unclosed"));
        assert!(expand_env("${a-b}").unwrap_err().contains("not a valid"));
    }
}
