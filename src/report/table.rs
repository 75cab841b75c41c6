//! The human summary on stdout: a row per file that needs attention (every row for small
//! runs), then the totals.

use super::{Size, sanitize};
use crate::summary::{FileReport, FileStatus, GroupReport, Stats};
use crate::tracker::SummaryView;
use std::io::Write;

/// Runs with at most this many files list every file; larger ones list only the files that
/// failed or were cancelled (the JSON summary always has all of them).
pub const LIST_ALL_UP_TO: usize = 20;

/// Problem rows shown at most; the JSON summary lists every file.
pub const MAX_PROBLEM_ROWS: usize = 100;

pub fn print_table(summary: &SummaryView<'_>) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, crate::stdio::Stream::stdout());
    let files = summary.files_where(|status| listed(status, &summary.stats));
    write_table(&mut out, files, &summary.stats)?;
    write_groups(&mut out, &summary.groups)?;
    out.flush()
}

/// One line per group, after the totals: its status, members done of all (by outcome, the
/// outcomes that happened), and its bytes.
fn write_groups(out: &mut impl Write, groups: &[GroupReport]) -> std::io::Result<()> {
    for g in groups {
        let outcomes: Vec<String> = [
            (g.completed, "completed"),
            (g.skipped, "skipped"),
            (g.failed, "failed"),
            (g.cancelled, "cancelled"),
        ]
        .into_iter()
        .filter(|&(n, _)| n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        writeln!(
            out,
            "group {}: {}, {} of {} done ({}), {}",
            sanitize(&g.name),
            g.status.as_str(),
            g.completed + g.skipped,
            g.total,
            outcomes.join(", "),
            Size(g.bytes)
        )?;
    }
    Ok(())
}

/// Whether a file with this status has a row: all of them in a small run, else only those
/// that need attention.
fn listed(status: FileStatus, stats: &Stats) -> bool {
    stats.total as usize <= LIST_ALL_UP_TO
        || matches!(status, FileStatus::Failed | FileStatus::Cancelled)
}

/// Writes the rows of `files` (those `listed` chose), then the totals. Reports past the
/// shown rows are never built: `stats` counts the problems left out (a run of a million
/// failures shows 100).
fn write_table(
    out: &mut impl Write,
    files: impl Iterator<Item = FileReport>,
    stats: &Stats,
) -> std::io::Result<()> {
    let list_all = stats.total as usize <= LIST_ALL_UP_TO;
    let rows: Vec<FileReport> = files.take(MAX_PROBLEM_ROWS).collect();
    let problems_left_out = if list_all {
        0
    } else {
        ((stats.failed + stats.cancelled) as usize).saturating_sub(rows.len())
    };
    if !rows.is_empty() {
        let path_width = rows
            .iter()
            .map(|f| f.path.chars().count())
            .max()
            .unwrap_or(4)
            .clamp(4, 60);
        writeln!(
            out,
            "{:<9}  {:>10}  {:<path_width$}  NOTE",
            "STATUS", "SIZE", "PATH"
        )?;
        for f in &rows {
            let note = match (&f.error, f.status) {
                (Some(e), _) => format!("{}: {}", e.kind, sanitize(&e.message)),
                (None, FileStatus::Completed) if f.attempts > 1 => {
                    format!("after {} attempts", f.attempts)
                }
                _ => String::new(),
            };
            let size = Size(f.bytes).to_string();
            writeln!(
                out,
                "{:<9}  {size:>10}  {:<path_width$}  {note}",
                f.status.as_str(),
                sanitize(&f.path)
            )?;
        }
    }
    if problems_left_out > 0 {
        writeln!(
            out,
            "({problems_left_out} more failed or cancelled files not listed; --json lists every file)"
        )?;
    }
    let fine = (stats.completed + stats.skipped) as usize;
    if !list_all && fine > 0 {
        writeln!(
            out,
            "({fine} completed or skipped files not listed; --json lists every file)"
        )?;
    }
    let s = stats;
    let rate = if s.elapsed_secs > 0.0 {
        (s.bytes as f64 / s.elapsed_secs) as u64
    } else {
        0
    };
    writeln!(
        out,
        "{} file{}: {} completed, {} skipped, {} failed, {} cancelled; {} in {:.2}s ({}/s)",
        s.total,
        if s.total == 1 { "" } else { "s" },
        s.completed,
        s.skipped,
        s.failed,
        s.cancelled,
        Size(s.bytes),
        s.elapsed_secs,
        Size(rate)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::ErrorReport;

    fn file(path: &str, status: FileStatus) -> FileReport {
        FileReport {
            url: format!("http://h/{path}"),
            path: path.into(),
            status,
            bytes: 2048,
            attempts: 1,
            http_status: Some(200),
            sha256: None,
            reason: None,
            error: (status == FileStatus::Failed).then(|| ErrorReport {
                kind: "http_status".into(),
                retryable: false,
                message: "404 Not Found".into(),
            }),
        }
    }

    fn render(files: Vec<FileReport>) -> String {
        let count = |status| files.iter().filter(|f| f.status == status).count() as u64;
        let stats = Stats {
            total: files.len() as u64,
            completed: count(FileStatus::Completed),
            skipped: count(FileStatus::Skipped),
            failed: count(FileStatus::Failed),
            cancelled: count(FileStatus::Cancelled),
            bytes: 4096,
            elapsed_secs: 2.0,
        };
        let mut out = Vec::new();
        let files = files.into_iter().filter(|f| listed(f.status, &stats));
        write_table(&mut out, files, &stats).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn small_runs_list_every_file() {
        let text = render(vec![
            file("a.bin", FileStatus::Completed),
            file("b.bin", FileStatus::Failed),
        ]);
        assert!(text.contains("completed    2.00 KiB  a.bin"), "{text}");
        assert!(text.contains("http_status: 404 Not Found"), "{text}");
        assert!(text.ends_with("2 files: 1 completed, 0 skipped, 1 failed, 0 cancelled; 4.00 KiB in 2.00s (2.00 KiB/s)\n"), "{text}");
    }

    #[test]
    fn problem_rows_are_capped() {
        let mut files: Vec<_> = (0..150)
            .map(|i| file(&format!("bad{i}"), FileStatus::Failed))
            .collect();
        files.push(file("ok", FileStatus::Completed));
        let text = render(files);
        assert!(
            text.contains("(50 more failed or cancelled files not listed"),
            "{text}"
        );
        assert_eq!(text.lines().count(), 1 + MAX_PROBLEM_ROWS + 3, "{text}");
    }

    #[test]
    fn large_runs_list_only_problems() {
        let mut files: Vec<_> = (0..30)
            .map(|i| file(&format!("f{i}"), FileStatus::Completed))
            .collect();
        files.push(file("bad", FileStatus::Failed));
        let text = render(files);
        assert_eq!(text.lines().count(), 4, "{text}");
        assert!(
            text.contains("(30 completed or skipped files not listed"),
            "{text}"
        );
    }
}
