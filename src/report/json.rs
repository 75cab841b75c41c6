//! The `--json` summary on stdout: exactly one JSON document (and the `--dry-run --json` plan).

use crate::plan::{FileId, Plan};
use crate::summary::{PlannedAction, Prediction, Stats};
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
    action: PlannedAction,
    /// Bytes already on disk: the `.part` a `resume` keeps, or the file a `skip` or
    /// `update` finds.
    on_disk: u64,
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
    files: PlannedFiles<'a>,
}

/// The planned files, each built only while it is written: a plan of millions is never
/// held twice.
struct PlannedFiles<'a> {
    plan: &'a Plan,
    order: &'a [FileId],
    predict: &'a dyn Fn(FileId) -> Prediction,
}

impl Serialize for PlannedFiles<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.order.iter().map(|&id| {
            let f = self.plan.file(id);
            let predicted = (self.predict)(id);
            PlannedFile {
                url: f.shown_url(),
                path: f.path(),
                priority: f.priority(),
                checksum: f.checksum().map(ToString::to_string),
                action: predicted.action,
                on_disk: predicted.bytes,
            }
        }))
    }
}

/// `--dry-run --json`: the files in the order they would start.
pub(super) fn write_plan(
    out: &mut impl Write,
    plan: &Plan,
    order: &[FileId],
    predict: &dyn Fn(FileId) -> Prediction,
) -> std::io::Result<()> {
    let doc = PlanDoc {
        schema: crate::summary::SCHEMA,
        ok: true,
        dry_run: true,
        dir: plan.dir().display().to_string(),
        stats: Stats::zero(plan.len() as u64),
        files: PlannedFiles {
            plan,
            order,
            predict,
        },
    };
    serde_json::to_writer_pretty(&mut *out, &doc)?;
    out.write_all(b"\n")
}
