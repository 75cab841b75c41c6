//! The result of a `-q` run (SPEC §2, "quiet success, loud failure"): nothing on stdout, and
//! on stderr one line per failed file (`dl: PATH: KIND: MESSAGE`), so a script's log shows
//! what went wrong and nothing else.

use super::sanitize;
use crate::summary::{FileReport, FileStatus, Stats};
use crate::tracker::SummaryView;
use std::io::Write;

/// Writes the failures of a quiet run on stderr.
pub fn print_failures(summary: &SummaryView<'_>) -> std::io::Result<()> {
    let mut err = std::io::BufWriter::with_capacity(64 * 1024, crate::stdio::Stream::stderr());
    let failed = summary.files_where(|status| status == FileStatus::Failed);
    write_failures(&mut err, failed, &summary.stats)?;
    err.flush()
}

/// One line per failed file, then one line counting the cancelled files (a stopped run can
/// cancel thousands; their names are in `--json`).
fn write_failures(
    out: &mut impl Write,
    failed: impl Iterator<Item = FileReport>,
    stats: &Stats,
) -> std::io::Result<()> {
    for f in failed {
        let (kind, message) = f
            .error
            .as_ref()
            .map_or(("failed", ""), |e| (e.kind.as_str(), e.message.as_str()));
        writeln!(
            out,
            "dl: {}: {kind}: {}",
            sanitize(&f.path),
            sanitize(message)
        )?;
    }
    if stats.cancelled > 0 {
        let n = stats.cancelled;
        let s = if n == 1 { "" } else { "s" };
        writeln!(out, "dl: {n} file{s} cancelled before they were done")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::ErrorReport;

    fn failed(path: &str, message: &str) -> FileReport {
        FileReport {
            url: format!("http://h/{path}"),
            path: path.into(),
            status: FileStatus::Failed,
            bytes: 0,
            attempts: 1,
            http_status: Some(404),
            sha256: None,
            reason: None,
            error: Some(ErrorReport {
                kind: "http_status".into(),
                retryable: false,
                message: message.into(),
            }),
        }
    }

    fn render(files: Vec<FileReport>, cancelled: u64) -> String {
        let stats = Stats {
            total: files.len() as u64 + cancelled,
            completed: 0,
            skipped: 0,
            failed: files.len() as u64,
            cancelled,
            bytes: 0,
            elapsed_secs: 0.0,
        };
        let mut out = Vec::new();
        write_failures(&mut out, files.into_iter(), &stats).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn one_line_per_failed_file() {
        let text = render(
            vec![
                failed("a.bin", "404 Not Found"),
                failed("d/b\u{202e}.bin", "x\ny"),
            ],
            0,
        );
        assert_eq!(
            text,
            "dl: a.bin: http_status: 404 Not Found\n\
             dl: d/b\\u{202e}.bin: http_status: x\\ny\n"
        );
    }

    #[test]
    fn cancelled_files_are_counted_not_listed() {
        assert_eq!(render(vec![], 0), "");
        assert_eq!(
            render(vec![], 3),
            "dl: 3 files cancelled before they were done\n"
        );
    }
}
