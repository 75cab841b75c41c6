//! Plain progress: one line per finished file (and per retry) on stderr, for logs and pipes.

use super::sanitize;
use crate::event::{Event, StopCause};
use crate::plan::Plan;
use indicatif::HumanBytes;
use std::io::Write;

pub(super) struct Plain {
    out: std::io::BufWriter<std::io::Stderr>,
}

impl Default for Plain {
    fn default() -> Self {
        Plain {
            out: std::io::BufWriter::with_capacity(64 * 1024, std::io::stderr()),
        }
    }
}

impl Plain {
    pub(super) fn on_event(&mut self, event: &Event, plan: &Plan) {
        let path = |id: u32| sanitize(&plan.files[id as usize].path);
        let line = match event {
            Event::Queued { .. } | Event::Started { .. } | Event::Progress { .. } => return,
            Event::Retry {
                id,
                attempt,
                max_attempts,
                delay,
                reason,
            } => format!(
                "retry   {}: attempt {attempt}/{max_attempts} in {:.1}s: {}",
                path(*id),
                delay.as_secs_f64(),
                sanitize(reason)
            ),
            Event::Completed {
                id,
                bytes,
                renamed_to,
                ..
            } => match renamed_to {
                Some(to) => format!(
                    "done    {} ({}, saved as {})",
                    path(*id),
                    HumanBytes(*bytes),
                    sanitize(to)
                ),
                None => format!("done    {} ({})", path(*id), HumanBytes(*bytes)),
            },
            Event::Skipped { id, sha256, .. } => {
                let why = if sha256.is_some() {
                    "exists, checksum verified"
                } else {
                    "exists"
                };
                format!("skip    {} ({why})", path(*id))
            }
            Event::Failed { id, error, .. } => {
                format!("FAILED  {}: {}", path(*id), sanitize(&error.message))
            }
            Event::Cancelled { id } => format!("cancel  {}", path(*id)),
            Event::Stopping { now, cause } => stopping_message(*now, *cause).to_string(),
        };
        let _ = writeln!(self.out, "{line}");
    }

    pub(super) fn flush(&mut self) {
        let _ = self.out.flush();
    }
}

/// What a person is told when the run stops early (SPEC §7).
pub(super) fn stopping_message(now: bool, cause: StopCause) -> &'static str {
    match (now, cause) {
        (true, _) => "dl: stopping now; partial downloads are kept as .part files for the next run",
        (false, StopCause::WriteError) => {
            "dl: cannot write to disk; starting no new downloads (free space and re-run the same command to continue)"
        }
        (false, _) => {
            "dl: interrupted: starting no new downloads, letting running ones finish (Ctrl-C again to stop now)"
        }
    }
}
