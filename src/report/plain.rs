//! Plain progress: one line per finished file (and per retry) on stderr, for logs and pipes.

use super::{Size, sanitize, shown_path};
use crate::event::{Event, StopCause};
use crate::plan::Plan;
use crate::summary::SkipReason;
use std::io::Write;

pub(super) struct Plain {
    out: std::io::BufWriter<crate::stdio::Stream>,
}

impl Default for Plain {
    fn default() -> Self {
        Plain {
            out: std::io::BufWriter::with_capacity(64 * 1024, crate::stdio::Stream::stderr()),
        }
    }
}

impl Plain {
    pub(super) fn on_event(&mut self, event: &Event, plan: &Plan) {
        let path = |id| shown_path(plan, id);
        let out = &mut self.out;
        // Written straight into the buffer: a line per file is most of a plain run's output.
        let _ = match event {
            Event::Queued { .. } | Event::Started { .. } | Event::Progress { .. } => return,
            Event::Retry {
                id,
                attempt,
                max_attempts,
                delay,
                reason,
            } => writeln!(
                out,
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
                Some(to) => writeln!(
                    out,
                    "done    {} ({}, saved as {})",
                    path(*id),
                    Size(*bytes),
                    sanitize(to)
                ),
                None => writeln!(out, "done    {} ({})", path(*id), Size(*bytes)),
            },
            Event::Skipped {
                id,
                reason,
                renamed_to,
                ..
            } => {
                let why = match reason {
                    SkipReason::Exists => "exists",
                    SkipReason::Verified => "exists, checksum verified",
                    SkipReason::Unchanged => "unchanged on the server",
                };
                match renamed_to {
                    Some(to) => writeln!(out, "skip    {} ({why} as {})", path(*id), sanitize(to)),
                    None => writeln!(out, "skip    {} ({why})", path(*id)),
                }
            }
            Event::Failed { id, error, .. } => {
                writeln!(out, "FAILED  {}: {}", path(*id), sanitize(&error.message))
            }
            Event::Cancelled { id, .. } => writeln!(out, "cancel  {}", path(*id)),
            Event::Stopping { now, cause } => writeln!(out, "{}", stopping_message(*now, *cause)),
        };
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
