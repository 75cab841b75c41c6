//! URL list files: one URL per line, blank lines and `#` comments ignored, whitespace trimmed.
//! aria2c input-file option lines are understood too: an indented `out=NAME`, `dir=SUBDIR` or
//! `checksum=ALGO=HEX` line applies to the URL above it.

use super::{FileSpec, Located};
use crate::error::Diagnostic;
use std::io::BufRead;
use std::sync::Arc;

pub(super) fn read(
    source: &Arc<str>,
    mut reader: impl BufRead,
    sink: &mut dyn FnMut(Located<FileSpec>),
    diags: &mut Vec<Diagnostic>,
) {
    let mut pending: Option<Located<FileSpec>> = None;
    let mut buf = Vec::new();
    let mut line_no: u32 = 0;
    loop {
        buf.clear();
        match reader.read_until(b'\n', &mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                diags.push(Diagnostic::new(
                    &**source,
                    line_no + 1,
                    format!("cannot read: {e}"),
                ));
                break;
            }
        }
        line_no += 1;
        let Ok(raw) = std::str::from_utf8(&buf) else {
            diags.push(Diagnostic::new(
                &**source,
                line_no,
                "line is not valid UTF-8",
            ));
            continue;
        };
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let indented = raw.starts_with(' ') || raw.starts_with('\t');
        if indented && let Some((key, value)) = line.split_once('=') {
            match pending.as_mut() {
                Some(entry) => {
                    if let Err(message) = apply_option(&mut entry.value, key.trim(), value.trim()) {
                        diags.push(Diagnostic::new(&**source, line_no, message));
                    }
                }
                None => diags.push(Diagnostic::new(
                    &**source,
                    line_no,
                    format!("option line {line:?} has no URL above it"),
                )),
            }
            continue;
        }
        if let Some(done) = pending.take() {
            sink(done);
        }
        pending = Some(Located {
            source: source.clone(),
            line: line_no,
            value: FileSpec {
                url: line.to_string(),
                ..FileSpec::default()
            },
        });
    }
    if let Some(done) = pending {
        sink(done);
    }
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
