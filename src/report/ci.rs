//! `--report FORMAT:PATH`: the summary also written as a file a CI system shows by itself —
//! JUnit XML for test-report views, Markdown for a job summary page. Written for every run
//! that got past the command line (failed, interrupted or rejected ones too), after the run
//! and before the summary on stdout, since a file never blocks while stdout may. A report
//! that cannot be written is said on stderr; it never changes the exit code the run earned.

use super::{junit, markdown, notice};
use crate::error::Diagnostic;
use crate::tracker::SummaryView;
use std::io::Write;
use std::path::PathBuf;

/// A report's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportFormat {
    /// JUnit XML: one `<testsuite name="dl">`, one `<testcase>` per file. Replaces the file.
    Junit,
    /// A Markdown table of failures and totals. Appended to the file, as GitHub Actions
    /// expects of `$GITHUB_STEP_SUMMARY` (and as several steps writing one file need).
    Markdown,
}

impl ReportFormat {
    pub fn name(self) -> &'static str {
        match self {
            ReportFormat::Junit => "junit",
            ReportFormat::Markdown => "markdown",
        }
    }
}

/// One `--report FORMAT:PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportTarget {
    pub format: ReportFormat,
    pub path: PathBuf,
}

impl ReportTarget {
    /// Parses `junit:PATH` or `markdown:PATH` (the format's case is ignored; PATH may hold
    /// colons). An unknown format or an empty path is refused.
    pub fn parse(text: &str) -> Result<ReportTarget, String> {
        let (format, path) = text
            .split_once(':')
            .ok_or_else(|| format!("{text:?} is not FORMAT:PATH (junit:PATH or markdown:PATH)"))?;
        let format = match format.to_ascii_lowercase().as_str() {
            "junit" => ReportFormat::Junit,
            "markdown" | "md" => ReportFormat::Markdown,
            _ => {
                return Err(format!(
                    "{format:?} is not a report format (junit, markdown)"
                ));
            }
        };
        if path.is_empty() {
            return Err(format!("{text:?} names no file after the colon"));
        }
        Ok(ReportTarget {
            format,
            path: PathBuf::from(path),
        })
    }
}

/// What a report describes: a run, or the problems that stopped it before it started.
#[derive(Clone, Copy)]
pub enum ReportSource<'a> {
    Run(&'a SummaryView<'a>),
    Rejected(&'a [Diagnostic]),
}

/// Writes every report asked for; says on stderr which could not be written.
pub fn write_reports(targets: &[ReportTarget], source: ReportSource<'_>) {
    for target in targets {
        if let Err(e) = write_report(target, source) {
            notice(&format!(
                "dl: error: cannot write the {} report {}: {e}",
                target.format.name(),
                super::sanitize(&target.path.display().to_string())
            ));
        }
    }
}

fn write_report(target: &ReportTarget, source: ReportSource<'_>) -> std::io::Result<()> {
    if let Some(parent) = target.path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    let mut options = std::fs::OpenOptions::new();
    match target.format {
        ReportFormat::Junit => options.write(true).create(true).truncate(true),
        ReportFormat::Markdown => options.append(true).create(true),
    };
    let file = options.open(&target.path)?;
    // Appended after earlier text: a blank line keeps the two apart as Markdown blocks.
    let separate = target.format == ReportFormat::Markdown && file.metadata()?.len() > 0;
    let mut out = std::io::BufWriter::new(file);
    if separate {
        out.write_all(b"\n")?;
    }
    match (target.format, source) {
        (ReportFormat::Junit, ReportSource::Run(s)) => junit::write_run(&mut out, s)?,
        (ReportFormat::Junit, ReportSource::Rejected(d)) => junit::write_rejected(&mut out, d)?,
        (ReportFormat::Markdown, ReportSource::Run(s)) => markdown::write_run(&mut out, s)?,
        (ReportFormat::Markdown, ReportSource::Rejected(d)) => {
            markdown::write_rejected(&mut out, d)?
        }
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_or_say_why_not() {
        let t = ReportTarget::parse("junit:out/r.xml").unwrap();
        assert_eq!(
            (t.format, t.path),
            (ReportFormat::Junit, "out/r.xml".into())
        );
        let t = ReportTarget::parse("Markdown:C:/x.md").unwrap();
        assert_eq!(
            (t.format, t.path),
            (ReportFormat::Markdown, "C:/x.md".into())
        );
        for bad in ["xml:out", "junit:", "junit", ":x", ""] {
            assert!(ReportTarget::parse(bad).is_err(), "{bad}");
        }
    }
}
