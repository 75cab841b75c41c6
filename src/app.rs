//! One invocation end to end: command line → settings → plan → engine + reporter → summary →
//! exit status. Special modes (`dl completions`) short-circuit before anything is read. This
//! module wires stages together; each stage's logic lives in its own module.

use crate::cli::{Cli, Command, FetchArgs};
use crate::engine::{Cancel, Engine};
use crate::error::Diagnostic;
use crate::exit::ExitStatus;
use crate::input;
use crate::plan::{Plan, PlanBuilder};
use crate::report::{self, Reporter};
use crate::settings::Settings;
use crate::summary::RunSummary;
use crate::tracker::Tracker;
use anyhow::Context;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

/// Runs one `dl` invocation and returns how it ended. `Err` is a fatal problem before any
/// download started (the caller prints it and exits 2).
pub fn run(cli: Cli) -> anyhow::Result<ExitStatus> {
    match cli.command {
        Command::Completions(args) => {
            let script = crate::generate::completion(args.shell);
            ignore_broken_pipe(crate::stdio::Stream::stdout().write_all(&script))?;
            Ok(ExitStatus::Success)
        }
        Command::Fetch(args) => fetch(&args),
    }
}

/// Why a `dl fetch` stopped before downloading anything.
enum Rejected {
    /// Problems in the input, every one of them; stderr lists them as `SOURCE:LINE: ...`.
    Input(Vec<Diagnostic>),
    /// A fatal problem (config file, environment, the download directory): the caller prints
    /// it as `dl: error: ...`; `diagnostic` is the same problem for the JSON document.
    Fatal {
        error: anyhow::Error,
        diagnostic: Diagnostic,
    },
}

impl Rejected {
    /// Any fatal problem that has no better location: the command as a whole.
    fn fatal(error: anyhow::Error) -> Rejected {
        let diagnostic = Diagnostic::new(COMMAND_LINE, 0, format!("{error:#}"));
        Rejected::Fatal { error, diagnostic }
    }
}

/// The `source` of diagnostics about the invocation itself rather than an input file.
const COMMAND_LINE: &str = "command line";

fn fetch(args: &FetchArgs) -> anyhow::Result<ExitStatus> {
    match fetch_or_reject(args) {
        Ok(status) => Ok(status),
        // Every run with `--json` prints exactly one document (SPEC §5), a rejected one too;
        // `--report` files are written for it as well, so CI shows why nothing ran.
        Err(Rejected::Input(diags)) => {
            report::print_diagnostics(&diags);
            finish_rejected(args, &diags);
            Ok(ExitStatus::Usage)
        }
        Err(Rejected::Fatal { error, diagnostic }) => {
            finish_rejected(args, std::slice::from_ref(&diagnostic));
            Err(error)
        }
    }
}

/// The JSON document and the report files of a run that never started.
fn finish_rejected(args: &FetchArgs, diags: &[Diagnostic]) {
    report::write_reports(&args.reports, report::ReportSource::Rejected(diags));
    if args.json
        && let Err(e) = report::print_json(&RunSummary::rejected(diags))
    {
        report::summary_not_written(&e);
    }
}

fn fetch_or_reject(args: &FetchArgs) -> Result<ExitStatus, Rejected> {
    // The error names the file and line, or the variable, already: no prefix needed.
    let settings = Settings::from_fetch(args, std::io::stderr().is_terminal()).map_err(|e| {
        let diagnostic = e.diagnostic();
        Rejected::Fatal {
            error: e.into(),
            diagnostic,
        }
    })?;
    let plan = build_plan(&settings).map_err(Rejected::Input)?;
    if settings.dry_run {
        let predict = |id| crate::engine::predict(&plan, id, &settings.engine);
        ignore_broken_pipe(report::print_plan(&plan, settings.json, &predict))
            .map_err(Rejected::fatal)?;
        return Ok(ExitStatus::Success);
    }
    raise_open_file_limit();
    std::fs::create_dir_all(plan.dir())
        .with_context(|| {
            format!(
                "cannot create the download directory {}",
                plan.dir().display()
            )
        })
        .map_err(Rejected::fatal)?;
    // One async thread: the work on it is cheap (parsing responses, sending events), and a
    // single thread spares the cross-thread wake-ups that dominated the profile of many-file
    // runs. Large bodies are hashed and written on their own threads (engine::sink).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .map_err(Rejected::fatal)?;
    let plan = Arc::new(plan);
    let (mut tracker, signals) = runtime
        .block_on(download(plan.clone(), &settings))
        .map_err(Rejected::fatal)?;
    measure_kept_parts(&mut tracker, &plan);
    // Reports are built one file at a time while they are written: a million-file run never
    // holds a million of them.
    let summary = tracker.view(&plan);
    // Report files first: they never block, while stdout may be a pipe nobody reads.
    report::write_reports(&args.reports, report::ReportSource::Run(&summary));
    // Files are on disk whatever happens to stdout: a failed write is said on stderr and
    // never turns the code the downloads earned into "nothing was downloaded". The signal
    // state is read after the write, which a signal may have cut short.
    let style = result_style(args, &settings);
    // A quiet run's failures go to stderr itself: if that fails, nothing is left to tell.
    if let Err(e) = report::print_summary(&summary, style)
        && style != report::ResultStyle::Quiet
    {
        report::summary_not_written(&e);
    }
    Ok(ExitStatus::from_stats(&summary.stats, signals.state()))
}

/// clap refused the command line (or was asked for `--help` or `--version`): prints what
/// clap says and returns the exit code. A refused `dl fetch ... --json` also prints the
/// one JSON document (SPEC §5). clap fails before any option is known, so `--json` is looked
/// for among the raw arguments (before a `--`); an option's value spelled `--json` counts
/// too, which at worst prints a document nobody asked for on a run that did nothing.
pub fn parse_failed(error: &clap::Error, raw_args: impl IntoIterator<Item = OsString>) -> u8 {
    let _ = error.print();
    let json = raw_args
        .into_iter()
        .skip(1)
        .take_while(|a| a != "--")
        .any(|a| a == "--json");
    if error.use_stderr() && json {
        // clap's first paragraph is the problem; tips and usage follow a blank line.
        let text = error.render().to_string();
        let problem = text.split("\n\n").next().unwrap_or_default();
        let problem = problem.strip_prefix("error: ").unwrap_or(problem);
        let message = problem.split_whitespace().collect::<Vec<_>>().join(" ");
        let diag = Diagnostic::new(COMMAND_LINE, 0, message);
        if let Err(e) = report::print_json(&RunSummary::rejected(&[diag])) {
            report::summary_not_written(&e);
        }
    }
    u8::try_from(error.exit_code()).unwrap_or(ExitStatus::Usage.code())
}

/// A cancelled file is reported with what its `.part` keeps for the next run: the bytes
/// last reported, or fewer when some of them never reached the disk. Only files that got
/// bytes are looked at: at most one per worker.
fn measure_kept_parts(tracker: &mut Tracker, plan: &Plan) {
    let on_disk: Vec<(usize, u64)> = tracker
        .cancelled_with_bytes()
        .map(|(id, _)| {
            let part = crate::paths::part_path(&plan.destination(&plan.files()[id]));
            (id, std::fs::metadata(part).map_or(0, |m| m.len()))
        })
        .collect();
    for (id, bytes) in on_disk {
        tracker.kept_at_most(id, bytes);
    }
}

/// `--json` prints its document whatever else is asked; `-q` otherwise leaves stdout empty
/// and says only what failed (SPEC §2).
fn result_style(args: &FetchArgs, settings: &Settings) -> report::ResultStyle {
    if settings.json {
        report::ResultStyle::Json
    } else if args.quiet > 0 {
        report::ResultStyle::Quiet
    } else {
        report::ResultStyle::Table
    }
}

/// Many files at once need many descriptors: use all the hard limit allows (as most servers
/// and downloaders do). The engine fits its workers to whatever limit remains.
fn raise_open_file_limit() {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, getrlimit, setrlimit};
        let limit = getrlimit(Resource::Nofile);
        // An unlimited hard limit still has the kernel's ceiling (nr_open): ask for plenty.
        let target = limit.maximum.unwrap_or(1 << 20);
        if limit.current.is_some_and(|current| current < target) {
            let raised = rustix::process::Rlimit {
                current: Some(target),
                maximum: limit.maximum,
            };
            if let Err(e) = setrlimit(Resource::Nofile, raised) {
                tracing::debug!("cannot raise the open-file limit: {e}");
            }
        }
    }
}

/// Reads every source and validates every entry; all problems at once.
fn build_plan(settings: &Settings) -> Result<Plan, Vec<Diagnostic>> {
    let mut builder = PlanBuilder::new(settings.plan.clone());
    let mut diags = Vec::new();
    input::read_sources(
        &settings.sources,
        &mut std::io::stdin(),
        &mut |entry| builder.push(entry),
        &mut diags,
    );
    builder.add_diagnostics(diags);
    builder.finish()
}

async fn download(
    plan: Arc<Plan>,
    settings: &Settings,
) -> anyhow::Result<(Tracker, crate::signal::SignalWatch)> {
    let engine = Engine::new(settings.engine.clone())?;
    let (events, received) = crate::event::channel();
    let cancel = Cancel::default();
    let signals = crate::signal::listen(cancel.clone(), events.downgrade())
        .context("cannot listen for signals")?;
    let reporter = Reporter::new(plan.clone(), settings.progress, settings.engine.workers);
    let ((), tracker) = tokio::join!(engine.run(plan, events, cancel), reporter.run(received));
    Ok((tracker, signals))
}

/// A reader that closed stdout (`dl ... | head`) is not an error: the exit code stays the
/// one the downloads earned.
fn ignore_broken_pipe(result: std::io::Result<()>) -> anyhow::Result<()> {
    match result {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.context("cannot write to stdout"),
    }
}
