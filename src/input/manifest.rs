//! TOML and JSON manifests (SPEC §3): `[defaults]` plus `[[file]]` entries, or in JSON
//! `{"defaults": {...}, "file": [...]}` or a bare array. Unknown keys are errors. Every entry
//! keeps the line it starts on, and an error inside an entry points at its own line.

use super::{FileSpec, Located, expand_env};
use crate::error::Diagnostic;
use serde::Deserialize;
use serde_json::value::RawValue;
use std::collections::BTreeMap;
use std::sync::Arc;

/// `[defaults]`: applies to every entry unless the entry sets the key itself.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Defaults {
    subdir: Option<String>,
    priority: Option<i64>,
    headers: Option<BTreeMap<String, String>>,
    group: Option<String>,
    retries: Option<u32>,
    retry_delay: Option<String>,
    max_retry_delay: Option<String>,
}

/// One `[[file]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Entry {
    url: String,
    filename: Option<String>,
    subdir: Option<String>,
    priority: Option<i64>,
    checksum: Option<String>,
    mirrors: Option<Vec<String>>,
    headers: Option<BTreeMap<String, String>>,
    group: Option<String>,
    retries: Option<u32>,
    retry_delay: Option<String>,
    max_retry_delay: Option<String>,
}

impl Entry {
    /// Applies the defaults and expands `${VAR}` in header values.
    fn into_spec(self, defaults: &Defaults) -> Result<FileSpec, String> {
        let mut headers: Vec<(String, String)> = Vec::new();
        for (name, value) in defaults
            .headers
            .iter()
            .flatten()
            .chain(self.headers.iter().flatten())
        {
            let value = expand_env(value).map_err(|e| format!("header {name}: {e}"))?;
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
            headers.push((name.clone(), value));
        }
        Ok(FileSpec {
            url: self.url,
            filename: self.filename,
            subdir: self.subdir.or_else(|| defaults.subdir.clone()),
            priority: self.priority.or(defaults.priority),
            checksum: self.checksum,
            mirrors: self.mirrors.unwrap_or_default(),
            headers,
            group: self.group.or_else(|| defaults.group.clone()),
            retries: self.retries.or(defaults.retries),
            retry_delay: self.retry_delay.or_else(|| defaults.retry_delay.clone()),
            max_retry_delay: self
                .max_retry_delay
                .or_else(|| defaults.max_retry_delay.clone()),
        })
    }
}

/// Maps byte offsets to 1-based lines; offsets must be asked for in increasing order.
struct LineCounter<'a> {
    text: &'a str,
    offset: usize,
    line: u32,
}

impl<'a> LineCounter<'a> {
    fn new(text: &'a str) -> Self {
        LineCounter {
            text,
            offset: 0,
            line: 1,
        }
    }
    fn line_at(&mut self, offset: usize) -> u32 {
        let offset = offset.min(self.text.len());
        if offset < self.offset {
            *self = LineCounter::new(self.text);
        }
        self.line += self.text.as_bytes()[self.offset..offset]
            .iter()
            .filter(|&&b| b == b'\n')
            .count() as u32;
        self.offset = offset;
        self.line
    }
}

/// The line of an entry starting at byte `start` where `key = ...` is written, for an error
/// about that key; the search stops at the next table header.
fn line_of_key(text: &str, start: usize, key: &str, first_line: u32) -> u32 {
    let Some(slice) = text.get(start..) else {
        return first_line;
    };
    for (i, line) in slice.lines().enumerate() {
        let t = line.trim_start();
        if i > 0 && t.starts_with('[') {
            break;
        }
        if let Some(rest) = t.strip_prefix(key).map(|r| r.trim_start_matches('"'))
            && rest.trim_start().starts_with('=')
        {
            return first_line + i as u32;
        }
    }
    first_line
}

/// The name in backticks in serde's "unknown field `x`" / "invalid type ... for key `x`".
fn key_in_message(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TomlDoc {
    defaults: Option<toml::Spanned<toml::Table>>,
    file: Option<Vec<toml::Spanned<toml::Table>>>,
}

pub(super) fn read_toml(
    source: &Arc<str>,
    text: &str,
    sink: &mut dyn FnMut(Located<FileSpec>),
    diags: &mut Vec<Diagnostic>,
) {
    let mut lines = LineCounter::new(text);
    let doc: TomlDoc = match toml::from_str(text) {
        Ok(doc) => doc,
        Err(e) => {
            let line = e.span().map_or(0, |s| lines.line_at(s.start));
            diags.push(Diagnostic::new(
                &**source,
                line,
                e.message().trim().to_string(),
            ));
            return;
        }
    };
    let entry_diag = |span: std::ops::Range<usize>, message: String, lines: &mut LineCounter| {
        let first = lines.line_at(span.start);
        let line =
            key_in_message(&message).map_or(first, |k| line_of_key(text, span.start, k, first));
        Diagnostic::new(&**source, line, message)
    };
    let defaults = match doc.defaults {
        None => Defaults::default(),
        Some(spanned) => {
            let span = spanned.span();
            match toml::Value::Table(spanned.into_inner()).try_into::<Defaults>() {
                Ok(d) => d,
                Err(e) => {
                    diags.push(entry_diag(
                        span,
                        format!("[defaults]: {}", e.message().trim()),
                        &mut lines,
                    ));
                    return;
                }
            }
        }
    };
    for spanned in doc.file.unwrap_or_default() {
        let span = spanned.span();
        let parsed = toml::Value::Table(spanned.into_inner())
            .try_into::<Entry>()
            .map_err(|e| e.message().trim().to_string())
            .and_then(|entry| entry.into_spec(&defaults));
        match parsed {
            Ok(spec) => sink(Located {
                source: source.clone(),
                line: lines.line_at(span.start),
                value: spec,
            }),
            Err(message) => diags.push(entry_diag(span, message, &mut lines)),
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDoc<'a> {
    #[serde(borrow)]
    defaults: Option<&'a RawValue>,
    #[serde(borrow)]
    file: Option<Vec<&'a RawValue>>,
}

/// serde_json appends " at line L column C"; the diagnostic carries the line itself.
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rfind(" at line ") {
        Some(cut) => text[..cut].to_string(),
        None => text,
    }
}

pub(super) fn read_json(
    source: &Arc<str>,
    text: &str,
    sink: &mut dyn FnMut(Located<FileSpec>),
    diags: &mut Vec<Diagnostic>,
) {
    let is_array = text.trim_start().starts_with('[');
    let parsed = if is_array {
        serde_json::from_str::<Vec<&RawValue>>(text).map(|file| (None, file))
    } else {
        serde_json::from_str::<JsonDoc>(text)
            .map(|doc| (doc.defaults, doc.file.unwrap_or_default()))
    };
    let (defaults_raw, entries) = match parsed {
        Ok(parts) => parts,
        Err(e) => {
            diags.push(Diagnostic::new(
                &**source,
                e.line() as u32,
                json_message(&e),
            ));
            return;
        }
    };
    let mut lines = LineCounter::new(text);
    // A borrowed RawValue is a slice of `text`, so its position gives the entry's line.
    let mut locate = |raw: &RawValue, e: Option<&serde_json::Error>| {
        let start = lines.line_at(raw.get().as_ptr() as usize - text.as_ptr() as usize);
        start + e.map_or(0, |e| (e.line() as u32).saturating_sub(1))
    };
    let defaults = match defaults_raw {
        None => Defaults::default(),
        Some(raw) => match serde_json::from_str::<Defaults>(raw.get()) {
            Ok(d) => d,
            Err(e) => {
                let line = locate(raw, Some(&e));
                diags.push(Diagnostic::new(
                    &**source,
                    line,
                    format!("defaults: {}", json_message(&e)),
                ));
                return;
            }
        },
    };
    for raw in entries {
        match serde_json::from_str::<Entry>(raw.get()) {
            Err(e) => {
                let line = locate(raw, Some(&e));
                diags.push(Diagnostic::new(&**source, line, json_message(&e)));
            }
            Ok(entry) => {
                let line = locate(raw, None);
                match entry.into_spec(&defaults) {
                    Ok(spec) => sink(Located {
                        source: source.clone(),
                        line,
                        value: spec,
                    }),
                    Err(message) => diags.push(Diagnostic::new(&**source, line, message)),
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Parsed = (Vec<Located<FileSpec>>, Vec<Diagnostic>);

    fn toml(text: &str) -> Parsed {
        let (mut out, mut diags) = (Vec::new(), Vec::new());
        read_toml(&Arc::from("m.toml"), text, &mut |e| out.push(e), &mut diags);
        (out, diags)
    }

    fn json(text: &str) -> Parsed {
        let (mut out, mut diags) = (Vec::new(), Vec::new());
        read_json(&Arc::from("m.json"), text, &mut |e| out.push(e), &mut diags);
        (out, diags)
    }

    #[test]
    fn toml_defaults_and_overrides() {
        let (files, diags) = toml(
            r#"
[defaults]
subdir = "data"
retries = 3
headers = { X-A = "1", X-B = "2" }

[[file]]
url = "http://h/a"

[[file]]
url = "http://h/b"
subdir = "other"
priority = 1
headers = { x-b = "3" }
"#,
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(files[0].line, 7);
        assert_eq!(files[0].value.subdir.as_deref(), Some("data"));
        assert_eq!(files[0].value.retries, Some(3));
        assert_eq!(files[1].line, 10);
        assert_eq!(files[1].value.subdir.as_deref(), Some("other"));
        assert_eq!(files[1].value.priority, Some(1));
        assert_eq!(
            files[1].value.headers,
            [
                ("X-A".to_string(), "1".to_string()),
                ("x-b".to_string(), "3".to_string())
            ]
        );
    }

    #[test]
    fn toml_errors_name_their_lines() {
        let (files, diags) = toml(
            "[[file]]\nurl = \"http://h/a\"\n\n[[file]]\nurl = \"http://h/b\"\nfilenme = \"x\"\n",
        );
        assert_eq!(files.len(), 1);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, 6, "{diags:?}");
        assert!(
            diags[0].message.contains("unknown field `filenme`"),
            "{diags:?}"
        );

        let (_, diags) = toml("[[files]]\nurl = \"x\"\n");
        assert!(
            diags[0].message.contains("unknown field `files`"),
            "{diags:?}"
        );

        let (_, diags) = toml("[[file]]\nurl = \"x\n");
        assert_eq!(diags[0].line, 2, "{diags:?}");

        let (_, diags) = toml(
            "[[file]]\nurl = \"http://h/${DL_SURELY_UNSET_VAR_9}\"\nheaders = { A = \"${DL_SURELY_UNSET_VAR_9}\" }\n",
        );
        assert!(
            diags[0].message.contains("DL_SURELY_UNSET_VAR_9"),
            "{diags:?}"
        );
    }

    #[test]
    fn json_forms_and_lines() {
        let (files, diags) =
            json("[\n {\"url\": \"http://h/a\"},\n {\"url\": \"http://h/b\", \"priority\": 2}\n]");
        assert!(diags.is_empty());
        assert_eq!((files[0].line, files[1].line), (2, 3));
        assert_eq!(files[1].value.priority, Some(2));

        let (files, diags) = json(
            "{\"defaults\": {\"subdir\": \"d\"},\n \"file\": [\n  {\"url\": \"http://h/a\"},\n  {\"url\": \"http://h/b\",\n   \"bogus\": 1}\n ]\n}",
        );
        assert_eq!(files.len(), 1);
        assert_eq!(files[0].value.subdir.as_deref(), Some("d"));
        assert_eq!(diags[0].line, 5, "{diags:?}");
        assert!(
            diags[0].message.contains("unknown field `bogus`"),
            "{diags:?}"
        );

        let (_, diags) = json("{\"files\": []}");
        assert!(
            diags[0].message.contains("unknown field `files`"),
            "{diags:?}"
        );
        let (_, diags) = json("[\n{\"url\": 1}\n]");
        assert_eq!(diags[0].line, 2);
        let (_, diags) = json("[\n{\"url\": \"x\"},\n");
        assert!(diags[0].line >= 2, "{diags:?}");
    }
}
