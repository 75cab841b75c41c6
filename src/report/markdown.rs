//! `--report markdown:PATH`: a compact Markdown summary for a CI job page
//! (`$GITHUB_STEP_SUMMARY`): a heading with the verdict, the totals as a one-row table, and a
//! row per failed or cancelled file (at most [`MAX_ROWS`]). Cells are sanitised and escaped,
//! so a file name can neither break the table nor inject HTML.

use super::{Size, sanitize};
use crate::error::Diagnostic;
use crate::summary::{FileStatus, Stats};
use crate::tracker::SummaryView;
use std::io::{self, Write};

/// Problem rows at most: GitHub caps a step summary at 1 MiB, and the JSON summary lists
/// every file anyway.
pub const MAX_ROWS: usize = 50;

pub(super) fn write_run(out: &mut impl Write, summary: &SummaryView<'_>) -> io::Result<()> {
    let st = &summary.stats;
    let verdict = if summary.ok {
        "all files done"
    } else if st.failed > 0 {
        "some files failed"
    } else {
        "stopped before every file was done"
    };
    writeln!(out, "### dl: {verdict}\n")?;
    write_totals(out, st)?;
    let problems = |s| matches!(s, FileStatus::Failed | FileStatus::Cancelled);
    let mut rows = summary.files_where(problems).peekable();
    if rows.peek().is_none() {
        return Ok(());
    }
    writeln!(out, "\n| status | file | error |\n|---|---|---|")?;
    for f in rows.by_ref().take(MAX_ROWS) {
        let error = match (&f.error, f.status) {
            (Some(e), FileStatus::Cancelled) if f.bytes > 0 => {
                format!("{}: {} kept for resume", e.kind, Size(f.bytes))
            }
            (Some(e), FileStatus::Cancelled) => e.kind.clone(),
            (Some(e), _) => format!("{}: {}", e.kind, e.message),
            (None, _) => String::new(),
        };
        writeln!(
            out,
            "| {} | {} | {} |",
            f.status.as_str(),
            cell(&f.path),
            cell(&error)
        )?;
    }
    let left_out = (st.failed + st.cancelled).saturating_sub(MAX_ROWS as u64);
    if left_out > 0 {
        writeln!(
            out,
            "\n{left_out} more failed or cancelled files are not listed (`--json` lists every file)."
        )?;
    }
    Ok(())
}

/// A run rejected before it started: every problem, where it was found.
pub(super) fn write_rejected(out: &mut impl Write, diags: &[Diagnostic]) -> io::Result<()> {
    writeln!(
        out,
        "### dl: nothing was downloaded ({} problem{} in the input or settings)\n",
        diags.len(),
        if diags.len() == 1 { "" } else { "s" }
    )?;
    writeln!(out, "| source | line | problem |\n|---|---:|---|")?;
    for d in diags.iter().take(MAX_ROWS) {
        let line = if d.line == 0 {
            String::new()
        } else {
            d.line.to_string()
        };
        writeln!(
            out,
            "| {} | {line} | {} |",
            cell(&d.source),
            cell(&d.message)
        )?;
    }
    if diags.len() > MAX_ROWS {
        writeln!(out, "\n{} more problems on stderr.", diags.len() - MAX_ROWS)?;
    }
    Ok(())
}

fn write_totals(out: &mut impl Write, st: &Stats) -> io::Result<()> {
    writeln!(
        out,
        "| files | completed | skipped | failed | cancelled | downloaded | time |\n\
         |---:|---:|---:|---:|---:|---:|---:|"
    )?;
    writeln!(
        out,
        "| {} | {} | {} | {} | {} | {} | {:.2}s |",
        st.total,
        st.completed,
        st.skipped,
        st.failed,
        st.cancelled,
        Size(st.bytes),
        st.elapsed_secs
    )
}

/// `text` as one table cell: control characters shown escaped (so no line break ends the
/// row), Markdown punctuation backslash-escaped, and `<`, `>`, `&` as entities (GitHub
/// renders HTML inside Markdown).
pub(super) fn cell(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in sanitize(text).chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '|' | '\\' | '`' | '*' | '_' | '[' | ']' | '#' | '~' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_the_table_or_inject_html() {
        assert_eq!(cell("a|b\nc"), "a\\|b\\\\nc");
        assert_eq!(cell("<img src=x>&"), "&lt;img src=x&gt;&amp;");
        assert_eq!(cell("dir/*_x_*"), "dir/\\*\\_x\\_\\*");
    }
}
