//! The reporter: the one task that receives the event stream while a run is active. It
//! feeds the tracker and drives the single renderer chosen from `--progress` and the TTY
//! check; at the end it hands back the `RunSummary`. It makes no download decisions.
//! Progress goes to stderr; only `table`/`json` write stdout, once, after the run.
#![allow(clippy::print_stderr, clippy::print_stdout)]

mod bars;
mod ci;
mod failures;
mod json;
mod junit;
mod layout;
mod markdown;
mod ndjson;
mod plain;
mod table;

pub use ci::{ReportFormat, ReportSource, ReportTarget, write_reports};
pub use failures::print_failures;
pub use json::print_json;
pub use table::print_table;

pub use crate::sanitize::sanitize;

use crate::error::Diagnostic;
use crate::event::EventReceiver;
use crate::plan::Plan;
use crate::tracker::Tracker;
use std::borrow::Cow;
use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// Plain and NDJSON lines reach stderr at most this long after their event: one write per
/// interval, not one per file (50,000 small files were 50,000 writes to a log).
const FLUSH_WITHIN: Duration = Duration::from_millis(100);

/// How progress is shown on stderr (`--progress`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProgressMode {
    /// Bars when stderr is a terminal, plain lines otherwise.
    #[default]
    Auto,
    /// Live bars: one per active file plus an overall bar.
    Bars,
    /// One line per finished file.
    Plain,
    /// One JSON event per line.
    Ndjson,
    /// Nothing.
    None,
}

impl ProgressMode {
    /// Resolves `auto` against the terminal: decided once, passed down as data.
    pub fn resolve(self, stderr_is_terminal: bool) -> ProgressMode {
        match self {
            ProgressMode::Auto if stderr_is_terminal => ProgressMode::Bars,
            ProgressMode::Auto => ProgressMode::Plain,
            other => other,
        }
    }

    pub fn resolve_for_stderr(self) -> ProgressMode {
        self.resolve(std::io::stderr().is_terminal())
    }
}

enum Renderer {
    Bars(Box<bars::Bars>),
    Plain(plain::Plain),
    Ndjson(ndjson::Ndjson),
    None,
}

/// Receives events, keeps the tracker, renders; returns the summary when the stream ends.
pub struct Reporter {
    plan: Arc<Plan>,
    tracker: Tracker,
    renderer: Renderer,
}

impl Reporter {
    /// `mode` must already be resolved (not `auto`).
    pub fn new(plan: Arc<Plan>, mode: ProgressMode, workers: usize) -> Self {
        let renderer = match mode {
            ProgressMode::Bars => Renderer::Bars(Box::new(bars::Bars::new(workers))),
            ProgressMode::Plain | ProgressMode::Auto => Renderer::Plain(plain::Plain::default()),
            ProgressMode::Ndjson => Renderer::Ndjson(ndjson::Ndjson::default()),
            ProgressMode::None => Renderer::None,
        };
        Reporter {
            tracker: Tracker::new(plan.len()),
            plan,
            renderer,
        }
    }

    /// Consumes the event stream; returns the tracker holding every file's outcome.
    pub async fn run(mut self, mut events: EventReceiver) -> Tracker {
        let mut batch = Vec::with_capacity(512);
        // While lines wait in the buffer: when they must reach stderr.
        let mut due: Option<Instant> = None;
        loop {
            let received = match due {
                None => events.recv_many(&mut batch, 512).await,
                // `recv_many` is cancel safe: a timeout loses no event.
                Some(at) => {
                    match tokio::time::timeout_at(at, events.recv_many(&mut batch, 512)).await {
                        Ok(received) => received,
                        Err(_) => {
                            self.flush();
                            due = None;
                            continue;
                        }
                    }
                }
            };
            if received == 0 {
                break;
            }
            for event in batch.drain(..) {
                self.tracker.apply(&event);
                match &mut self.renderer {
                    Renderer::Bars(r) => r.on_event(&event, &self.plan, &self.tracker),
                    Renderer::Plain(r) => r.on_event(&event, &self.plan),
                    Renderer::Ndjson(r) => r.on_event(&event, &self.plan),
                    Renderer::None => {}
                }
            }
            if matches!(self.renderer, Renderer::Plain(_) | Renderer::Ndjson(_)) {
                let now = Instant::now();
                match due {
                    Some(at) if now >= at => {
                        self.flush();
                        due = None;
                    }
                    Some(_) => {}
                    None => due = Some(now + FLUSH_WITHIN),
                }
            }
        }
        self.flush();
        if let Renderer::Bars(r) = &mut self.renderer {
            r.finish();
        }
        self.tracker
    }

    fn flush(&mut self) {
        match &mut self.renderer {
            Renderer::Plain(r) => r.flush(),
            Renderer::Ndjson(r) => r.flush(),
            Renderer::Bars(_) | Renderer::None => {}
        }
    }
}

/// A file's destination, safe to print.
fn shown_path(plan: &Plan, id: crate::plan::FileId) -> Cow<'_, str> {
    sanitize(plan.file(id).path())
}

/// A byte count as people read it, exactly as `indicatif::HumanBytes` writes it ("64 B",
/// "16.00 KiB", "1.00 GiB"), without its floating-point formatting: that was half of what
/// a plain progress line cost (50,000 lines in a run of small files).
pub struct Size(pub u64);

impl std::fmt::Display for Size {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const PREFIXES: [&str; 5] = ["Ki", "Mi", "Gi", "Ti", "Pi"];
        let n = self.0;
        if n < 1024 {
            return write!(f, "{n} B");
        }
        // `HumanBytes` divides `n as f64`: exact below 2^53, rounded above, so leave
        // the (never seen) giant counts to it.
        if n >= 1 << 53 {
            return indicatif::HumanBytes(n).fmt(f);
        }
        // The largest unit not above `n` (below 2^53, at most Pi).
        let mut unit = 0;
        while n >> (10 * (unit + 2)) > 0 {
            unit += 1;
        }
        // Hundredths of the unit, rounded half to even as `{:.2}` rounds an exact value.
        let divisor = 1u64 << (10 * (unit + 1));
        let scaled = u128::from(n) * 100;
        let (mut hundredths, rest) = (scaled / u128::from(divisor), scaled % u128::from(divisor));
        let half = u128::from(divisor / 2);
        if rest > half || (rest == half && hundredths % 2 == 1) {
            hundredths += 1;
        }
        write!(
            f,
            "{}.{:02} {}B",
            hundredths / 100,
            hundredths % 100,
            PREFIXES[unit]
        )
    }
}

/// Prints input problems, one `SOURCE:LINE: message` per line, then a closing line.
pub fn print_diagnostics(diags: &[Diagnostic]) {
    let mut err = std::io::BufWriter::new(crate::stdio::Stream::stderr());
    for d in diags {
        let _ = writeln!(err, "{}", sanitize(&d.to_string()));
    }
    let _ = writeln!(
        err,
        "dl: error: {} problem{} in the input; nothing was downloaded",
        diags.len(),
        if diags.len() == 1 { "" } else { "s" }
    );
    let _ = err.flush();
}

/// Prints the plan of `--dry-run` on stdout: a line per file in the order they would start,
/// with what the run would do with it (`predict`), and the files counted by action; or one
/// JSON document.
pub fn print_plan(
    plan: &Plan,
    as_json: bool,
    predict: &dyn Fn(crate::plan::FileId) -> crate::summary::Prediction,
) -> std::io::Result<()> {
    use crate::summary::PlannedAction;
    let queue = crate::queue::PriorityQueue::from_plan(plan);
    let order: Vec<_> = std::iter::from_fn(|| queue.pop()).collect();
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, crate::stdio::Stream::stdout());
    if as_json {
        json::write_plan(&mut out, plan, &order, predict)?;
        return out.flush();
    }
    let actions = [
        PlannedAction::Download,
        PlannedAction::Resume,
        PlannedAction::Update,
        PlannedAction::Skip,
        PlannedAction::Fail,
    ];
    let (mut counts, mut on_disk) = ([0usize; 5], [0u64; 5]);
    for id in &order {
        let f = &plan.file(*id);
        let predicted = predict(*id);
        let slot = actions
            .iter()
            .position(|a| *a == predicted.action)
            .unwrap_or(0);
        counts[slot] += 1;
        on_disk[slot] += predicted.bytes;
        let checksum = f.checksum().map(|c| format!("  {c}")).unwrap_or_default();
        writeln!(
            out,
            "{:<8} {:>5}  {}  <-  {}{checksum}",
            predicted.action.as_str(),
            f.priority(),
            sanitize(f.path()),
            f.shown_url()
        )?;
    }
    let counted: Vec<String> = actions
        .iter()
        .enumerate()
        .filter(|&(i, _)| counts[i] > 0)
        .map(|(i, action)| match action {
            PlannedAction::Resume => format!("{} resume ({} on disk)", counts[i], Size(on_disk[i])),
            _ => format!("{} {}", counts[i], action.as_str()),
        })
        .collect();
    writeln!(
        out,
        "{} file(s) into {}: {}",
        plan.len(),
        plan.dir().display(),
        if counted.is_empty() {
            "nothing to do".to_string()
        } else {
            counted.join(", ")
        }
    )?;
    out.flush()
}

/// How the result of a run is shown once it is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResultStyle {
    /// The table on stdout.
    Table,
    /// The JSON document on stdout (`--json`, also with `-q`).
    Json,
    /// `-q`: nothing on stdout, each failed file on stderr.
    Quiet,
}

/// Writes the final result: the JSON document or the table on stdout, or with `-q` only the
/// failures on stderr.
pub fn print_summary(
    summary: &crate::tracker::SummaryView<'_>,
    style: ResultStyle,
) -> std::io::Result<()> {
    match style {
        ResultStyle::Json => print_json(summary),
        ResultStyle::Table => print_table(summary),
        ResultStyle::Quiet => print_failures(summary),
    }
}

/// Says on stderr why the summary could not be written. Silent when the reader closed the
/// pipe (it wanted no more) or a signal stopped the run while nobody read stdout: neither
/// is news to whoever caused it.
pub fn summary_not_written(e: &std::io::Error) {
    if e.kind() == std::io::ErrorKind::BrokenPipe || crate::stdio::is_stopped(e) {
        return;
    }
    notice(&format!(
        "dl: error: cannot write the summary to stdout: {e}"
    ));
}

/// Writes a line on stderr through the bars when they are active, so nothing tears them.
pub fn notice(text: &str) {
    crate::logging::write_stderr(format!("{text}\n").as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_resolves_once() {
        assert_eq!(ProgressMode::Auto.resolve(true), ProgressMode::Bars);
        assert_eq!(ProgressMode::Auto.resolve(false), ProgressMode::Plain);
        assert_eq!(ProgressMode::Ndjson.resolve(true), ProgressMode::Ndjson);
    }

    #[test]
    fn sizes_read_exactly_as_indicatif_writes_them() {
        let check = |n: u64| {
            assert_eq!(
                Size(n).to_string(),
                indicatif::HumanBytes(n).to_string(),
                "{n} bytes"
            );
        };
        // Every count below 1 MiB and around each larger unit's edge, the rounding ties of
        // each unit, then a sweep of larger counts.
        for n in 0..(1 << 20) + 4096 {
            check(n);
        }
        for unit in 2..=6 {
            let edge = 1u64 << (10 * unit);
            for n in edge - 2048..edge + 2048 {
                check(n);
            }
        }
        // Exact halves of a hundredth (j * 12.5 hundredths for odd j) in every unit.
        for unit in 1..=5 {
            for j in (1..20_000u64).step_by(2) {
                check(j << (10 * unit - 3));
            }
        }
        let mut n = 1u64;
        while n < u64::MAX / 2 {
            for m in [n, n + 1, n + 7, n + n / 2] {
                check(m);
            }
            n += n / 4 + 1;
        }
        check(u64::MAX);
        check(1 << 53);
        check((1 << 53) - 1);
    }
}
