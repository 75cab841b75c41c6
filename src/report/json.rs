//! The `--json` summary on stdout: exactly one JSON document (and the `--dry-run --json` plan).

use crate::plan::{FileConfig, FileId, Plan};
use crate::policy::OnExist;
use crate::summary::Stats;
use serde::Serialize;
use std::io::Write;

/// Writes the summary as one JSON document and a newline.
pub fn print_json(summary: &impl Serialize) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, crate::stdio::Stream::stdout());
    serde_json::to_writer_pretty(&mut out, summary)?;
    out.write_all(b"\n")?;
    out.flush()
}

/// What a run would do with a file (`--dry-run --json`), predicted from the destination
/// alone: the engine decides for real, and `resume` and `update` are not predicted (yet).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The file would be requested.
    Download,
    /// The destination is a file already, `--on-exist skip` leaves it, and no checksum asks
    /// for it to be verified (a verified file can still turn out to need a download).
    Skip,
}

impl Action {
    pub fn predict(plan: &Plan, file: &FileConfig, on_exist: OnExist) -> Action {
        let exists =
            || std::fs::symlink_metadata(plan.destination(file)).is_ok_and(|m| m.is_file());
        if on_exist == OnExist::Skip && file.checksum().is_none() && exists() {
            Action::Skip
        } else {
            Action::Download
        }
    }
}

#[derive(Serialize)]
struct PlannedFile<'a> {
    url: String,
    path: &'a str,
    priority: i64,
    checksum: Option<String>,
    action: Action,
}

/// The plan of a dry run, shaped like a summary (`schema`, `ok`, `stats`, `files`) so a
/// script reads every document the same way; `stats.total` counts the planned files.
#[derive(Serialize)]
struct PlanDoc<'a> {
    schema: u32,
    ok: bool,
    dry_run: bool,
    dir: String,
    stats: Stats,
    files: Vec<PlannedFile<'a>>,
}

/// `--dry-run --json`: the files in the order they would start.
pub(super) fn write_plan(
    out: &mut impl Write,
    plan: &Plan,
    order: &[FileId],
    on_exist: OnExist,
) -> std::io::Result<()> {
    let doc = PlanDoc {
        schema: crate::summary::SCHEMA,
        ok: true,
        dry_run: true,
        dir: plan.dir().display().to_string(),
        stats: Stats::zero(plan.len() as u64),
        files: order
            .iter()
            .map(|&id| {
                let f = &plan.file(id);
                PlannedFile {
                    url: f.shown_url(),
                    path: f.path(),
                    priority: f.priority(),
                    checksum: f.checksum().map(ToString::to_string),
                    action: Action::predict(plan, f, on_exist),
                }
            })
            .collect(),
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
