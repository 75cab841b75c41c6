//! The `--json` summary on stdout: exactly one JSON document (and the `--dry-run --json` plan).

use crate::plan::{FileId, Plan};
use serde::Serialize;
use std::io::Write;

/// Writes the summary as one JSON document and a newline.
pub fn print_json(summary: &impl Serialize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, crate::stdio::Stream::stdout());
    serde_json::to_writer_pretty(&mut out, summary)?;
    out.write_all(b"\n")?;
    out.flush()
}

#[derive(Serialize)]
struct PlannedFile<'a> {
    url: String,
    path: &'a str,
    priority: i64,
    checksum: Option<String>,
}

#[derive(Serialize)]
struct PlanDoc<'a> {
    schema: u32,
    dry_run: bool,
    dir: String,
    files: Vec<PlannedFile<'a>>,
}

/// `--dry-run --json`: the files in the order they would start.
pub(super) fn write_plan(
    out: &mut impl Write,
    plan: &Plan,
    order: &[FileId],
) -> std::io::Result<()> {
    let doc = PlanDoc {
        schema: crate::summary::SCHEMA,
        dry_run: true,
        dir: plan.dir().display().to_string(),
        files: order
            .iter()
            .map(|&id| {
                let f = &plan.file(id);
                PlannedFile {
                    url: f.shown_url(),
                    path: f.path(),
                    priority: f.priority(),
                    checksum: f.checksum().map(ToString::to_string),
                }
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
