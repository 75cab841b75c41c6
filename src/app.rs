//! One invocation end to end: command line → settings → plan → engine + reporter → summary →
//! exit status. Special modes (`dl completions`) short-circuit before anything is read. This
//! module wires stages together; each stage's logic lives in its own module.

use crate::cli::{Cli, Command, FetchArgs};
use crate::engine::{Cancel, Engine};
use crate::exit::ExitStatus;
use crate::input;
use crate::plan::{Plan, PlanBuilder};
use crate::report::{self, Reporter};
use crate::settings::Settings;
use crate::tracker::Tracker;
use anyhow::Context;
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

fn fetch(args: &FetchArgs) -> anyhow::Result<ExitStatus> {
    // The error names the file and line, or the variable, already: no prefix needed.
    let settings = Settings::from_fetch(args, std::io::stderr().is_terminal())?;
    let plan = match build_plan(&settings) {
        Ok(plan) => plan,
        Err(diags) => {
            report::print_diagnostics(&diags);
            return Ok(ExitStatus::Usage);
        }
    };
    if settings.dry_run {
        ignore_broken_pipe(report::print_plan(&plan, settings.json))?;
        return Ok(ExitStatus::Success);
    }
    raise_open_file_limit();
    std::fs::create_dir_all(plan.dir()).with_context(|| {
        format!(
            "cannot create the download directory {}",
            plan.dir().display()
        )
    })?;
    // One async thread: the work on it is cheap (parsing responses, sending events), and a
    // single thread spares the cross-thread wake-ups that dominated the profile of many-file
    // runs. Large bodies are hashed and written on their own threads (engine::sink).
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let plan = Arc::new(plan);
    let (tracker, signals) = runtime.block_on(download(plan.clone(), &settings))?;
    // Reports are built one file at a time while they are written: a million-file run never
    // holds a million of them.
    let summary = tracker.view(&plan);
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
fn build_plan(settings: &Settings) -> Result<Plan, Vec<crate::error::Diagnostic>> {
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
    let (events, received) = tokio::sync::mpsc::unbounded_channel();
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
