//! `--report junit:PATH`: the run as JUnit XML, the format CI systems (GitLab, Jenkins, Azure
//! Pipelines, GitHub test-report actions) render natively: one `<testsuite name="dl">`, one
//! `<testcase>` per file named by its path, classed by its host; failed files carry a
//! `<failure>` whose `type` is the error kind, skipped and cancelled ones `<skipped/>`. Every
//! text is sanitised (control characters shown escaped) and XML-escaped; URLs and messages
//! are the summary's, whose secrets are already redacted.

use super::sanitize;
use crate::error::Diagnostic;
use crate::summary::{FileReport, FileStatus, Stats};
use crate::tracker::SummaryView;
use std::io::{self, Write};

/// The whole run: the totals as the suite's attributes, then a test case per file, in input
/// order.
pub(super) fn write_run(out: &mut impl Write, summary: &SummaryView<'_>) -> io::Result<()> {
    let st = &summary.stats;
    let attrs = suite_attributes(st.total, st.failed, st.skipped + st.cancelled, st);
    open(out, &attrs)?;
    for (file, secs) in summary.timed_files_where(|_| true) {
        write_case(out, &file, secs)?;
    }
    close(out)
}

/// A run rejected before it started: each problem is a failed test case named by where it
/// was found, so the CI page says why nothing was downloaded.
pub(super) fn write_rejected(out: &mut impl Write, diags: &[Diagnostic]) -> io::Result<()> {
    let n = diags.len() as u64;
    open(out, &suite_attributes(n, n, 0, &Stats::zero(n)))?;
    for d in diags {
        let name = if d.line == 0 {
            d.source.clone()
        } else {
            format!("{}:{}", d.source, d.line)
        };
        writeln!(
            out,
            r#"    <testcase name="{}" classname="dl">"#,
            xml(&name)
        )?;
        writeln!(
            out,
            r#"      <failure type="input" message="{}">nothing was downloaded</failure>"#,
            xml(&d.message)
        )?;
        writeln!(out, "    </testcase>")?;
    }
    close(out)
}

fn suite_attributes(tests: u64, failures: u64, skipped: u64, st: &Stats) -> String {
    format!(
        r#"name="dl" tests="{tests}" failures="{failures}" errors="0" skipped="{skipped}" time="{:.3}""#,
        st.elapsed_secs
    )
}

fn open(out: &mut impl Write, attrs: &str) -> io::Result<()> {
    writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#)?;
    writeln!(out, "<testsuites {attrs}>")?;
    writeln!(out, "  <testsuite {attrs}>")
}

fn close(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "  </testsuite>")?;
    writeln!(out, "</testsuites>")
}

fn write_case(out: &mut impl Write, f: &FileReport, secs: Option<f64>) -> io::Result<()> {
    let time = secs
        .map(|s| format!(r#" time="{s:.3}""#))
        .unwrap_or_default();
    let head = format!(
        r#"    <testcase name="{}" classname="{}"{time}"#,
        xml(&f.path),
        xml(&host(&f.url))
    );
    let (kind, message) = f
        .error
        .as_ref()
        .map_or(("", ""), |e| (e.kind.as_str(), e.message.as_str()));
    match f.status {
        FileStatus::Completed => return writeln!(out, "{head}/>"),
        FileStatus::Failed => {
            writeln!(out, "{head}>")?;
            writeln!(
                out,
                r#"      <failure type="{}" message="{}">{}</failure>"#,
                xml(kind),
                xml(message),
                details(f)
            )?;
        }
        FileStatus::Skipped => {
            writeln!(out, "{head}>")?;
            writeln!(out, r#"      <skipped message="already there"/>"#)?;
        }
        FileStatus::Cancelled => {
            writeln!(out, "{head}>")?;
            let kept = format!("; {} bytes kept for resume", f.bytes);
            let note = format!("{message}{}", if f.bytes > 0 { &kept[..] } else { "" });
            writeln!(out, r#"      <skipped message="{}"/>"#, xml(&note))?;
        }
    }
    writeln!(out, "    </testcase>")
}

/// The body of a `<failure>`: what a person needs to look into it, a fact per line.
fn details(f: &FileReport) -> String {
    let mut lines = vec![format!("url: {}", xml(&f.url))];
    lines.push(format!("attempts: {}", f.attempts));
    if let Some(status) = f.http_status {
        lines.push(format!("http_status: {status}"));
    }
    if let Some(e) = &f.error {
        lines.push(format!("retryable: {}", e.retryable));
    }
    lines.join("\n")
}

/// The host of a URL, or `dl` when it has none.
fn host(url: &str) -> String {
    url::Url::parse(url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_else(|| "dl".to_string())
}

/// `text` made safe for an XML attribute or element: control characters (which XML 1.0
/// cannot hold at all) and bidi overrides shown escaped, then the five markup characters as
/// entities.
pub(super) fn xml(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in sanitize(text).chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_control_characters_are_escaped() {
        assert_eq!(xml(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(xml("x\u{1b}[31m\ny"), "x\\u{1b}[31m\\ny");
        assert_eq!(host("http://u:***@example.com:8/a"), "example.com");
        assert_eq!(host("not a url"), "dl");
    }
}
