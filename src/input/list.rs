//! URL list files: one URL per line, blank lines and `#` comments ignored, whitespace trimmed.
//! aria2c input-file option lines are understood too: an indented `out=NAME`, `dir=SUBDIR` or
//! `checksum=ALGO=HEX` line applies to the URL above it. Lines are read with bounded memory:
//! one longer than 64 KiB is reported by its line and skipped (`super::lines`).

use super::lines::{Line, Lines};
use super::{FileSpec, Located};
use crate::error::Diagnostic;
use std::io::BufRead;
use std::sync::Arc;

pub(super) fn read(
    source: &Arc<str>,
    reader: impl BufRead,
    sink: &mut dyn FnMut(Located<FileSpec>),
    diags: &mut Vec<Diagnostic>,
) {
    let mut pending: Option<Located<FileSpec>> = None;
    let mut lines = Lines::new(reader);
    let mut line_no: u32 = 0;
    loop {
        let line = match lines.next_line() {
            Ok(None) => break,
            Ok(Some(line)) => line,
            Err(e) => {
                let message = format!("cannot read: {e}");
                diags.push(Diagnostic::new(&**source, line_no + 1, message));
                break;
            }
        };
        line_no += 1;
        let raw = match line {
            Line::Text(bytes) => std::str::from_utf8(bytes).map_err(|_| "line is not valid UTF-8"),
            Line::TooLong => Err(TOO_LONG),
        };
        match raw {
            Ok(raw) => {
                let here = Located {
                    source: source.clone(),
                    line: line_no,
                    value: raw,
                };
                take_line(here, &mut pending, sink, diags);
            }
            Err(message) => diags.push(Diagnostic::new(&**source, line_no, message)),
        }
    }
    if let Some(done) = pending {
        sink(done);
    }
}

/// Said of a line longer than `lines::MAX_LINE`.
const TOO_LONG: &str = "line is longer than 64 KiB";

/// One line of text: a URL starts a new entry (handing the previous one to `sink`), an
/// indented `key=value` line is an option of the entry above.
fn take_line(
    here: Located<&str>,
    pending: &mut Option<Located<FileSpec>>,
    sink: &mut dyn FnMut(Located<FileSpec>),
    diags: &mut Vec<Diagnostic>,
) {
    let raw = here.value;
    let line = raw.trim();
    if line.is_empty() || line.starts_with('#') {
        return;
    }
    let indented = raw.starts_with(' ') || raw.starts_with('\t');
    if indented && let Some((key, value)) = line.split_once('=') {
        let result = match pending.as_mut() {
            Some(entry) => apply_option(&mut entry.value, key.trim(), value.trim()),
            None => Err(format!("option line {line:?} has no URL above it")),
        };
        if let Err(message) = result {
            diags.push(here.diagnostic(message));
        }
        return;
    }
    if let Some(done) = pending.take() {
        sink(done);
    }
    *pending = Some(Located {
        source: here.source,
        line: here.line,
        value: FileSpec {
            url: line.to_string(),
            ..FileSpec::default()
        },
    });
}

/// aria2c's per-URL options that `dl` understands.
fn apply_option(spec: &mut FileSpec, key: &str, value: &str) -> Result<(), String> {
    match key {
        "out" => spec.filename = Some(value.to_string()),
        "dir" => spec.subdir = Some(value.to_string()),
        "checksum" => {
            // aria2 writes `sha-256=HEX`; dl's own form is `sha256:HEX`.
            let normalised = match value.split_once('=') {
                Some((algo, hex)) => format!("{}:{hex}", algo.replace('-', "")),
                None => value.to_string(),
            };
            spec.checksum = Some(normalised);
        }
        _ => {
            return Err(format!(
                "unknown option {key:?} (dl understands out=, dir= and checksum=)"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Vec<Located<FileSpec>>, Vec<Diagnostic>) {
        let mut out = Vec::new();
        let mut diags = Vec::new();
        read(
            &Arc::from("list.txt"),
            text.as_bytes(),
            &mut |e| out.push(e),
            &mut diags,
        );
        (out, diags)
    }

    #[test]
    fn comments_blank_lines_and_whitespace() {
        let (entries, diags) =
            parse("# header\n\n  http://a/1  \r\nhttp://a/2\n   # indented comment\n");
        assert!(diags.is_empty());
        let got: Vec<_> = entries
            .iter()
            .map(|e| (e.line, e.value.url.as_str()))
            .collect();
        assert_eq!(got, [(3, "http://a/1"), (4, "http://a/2")]);
    }

    #[test]
    fn aria2_option_lines() {
        let (entries, diags) = parse(
            "http://a/1\n  out=x.bin\n  dir=sub\n  checksum=sha-256=abcd\nhttp://a/2\n\tbogus=1\n  out=orphan\n",
        );
        assert_eq!(entries[0].value.filename.as_deref(), Some("x.bin"));
        assert_eq!(entries[0].value.subdir.as_deref(), Some("sub"));
        assert_eq!(entries[0].value.checksum.as_deref(), Some("sha256:abcd"));
        assert_eq!(entries[1].value.filename.as_deref(), Some("orphan"));
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, 6);
        let (_, diags) = parse("  out=first\nhttp://a\n");
        assert!(diags[0].message.contains("no URL above it"));
    }

    #[test]
    fn an_over_long_line_is_reported_and_the_next_lines_still_read() {
        let long = "x".repeat(super::super::lines::MAX_LINE + 1);
        let text = format!("http://a/1\nhttp://a/{long}\n  out=lost\nhttp://a/3\n{long}");
        let (entries, diags) = parse(&text);
        let got: Vec<_> = entries.iter().map(|e| e.line).collect();
        // The option line under the long one applies to the entry above it.
        assert_eq!(got, [1, 4]);
        let said: Vec<_> = diags.iter().map(ToString::to_string).collect();
        assert_eq!(
            said,
            [
                "list.txt:2: line is longer than 64 KiB",
                "list.txt:5: line is longer than 64 KiB"
            ]
        );
    }

    #[test]
    fn invalid_utf8_is_reported_with_its_line() {
        let mut diags = Vec::new();
        let mut n = 0;
        read(
            &Arc::from("l"),
            &b"http://a/1\n\xff\xfe\nhttp://a/2\n"[..],
            &mut |_| n += 1,
            &mut diags,
        );
        assert_eq!(n, 2);
        assert_eq!(diags[0].to_string(), "l:2: line is not valid UTF-8");
    }
}
