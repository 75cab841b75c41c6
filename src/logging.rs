//! Diagnostics on stderr through tracing-subscriber: `-q`/`-v` pick the level, `RUST_LOG`
//! overrides it. While bars are active, every line goes through the bars' suspend so it never
//! tears a bar.
#![allow(clippy::print_stderr)]

use indicatif::MultiProgress;
use std::io::Write;
use std::sync::Mutex;

static BARS: Mutex<Option<MultiProgress>> = Mutex::new(None);

/// Routes stderr lines through `bars` while they are shown (`None` when they are gone).
pub fn set_bars(bars: Option<MultiProgress>) {
    *BARS.lock().unwrap_or_else(|p| p.into_inner()) = bars;
}

/// Writes bytes to stderr, above the bars if they are active; gives up on a stderr nobody
/// reads once a signal stops the run (`crate::stdio`).
pub fn write_stderr(bytes: &[u8]) {
    let bars = BARS.lock().unwrap_or_else(|p| p.into_inner()).clone();
    match bars {
        Some(multi) => multi.suspend(|| {
            let _ = crate::stdio::Stream::stderr().write_all(bytes);
        }),
        None => {
            let _ = crate::stdio::Stream::stderr().write_all(bytes);
        }
    }
}

/// Collects one formatted log record and writes it in one piece when dropped.
struct Record(Vec<u8>);

impl Write for Record {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for Record {
    fn drop(&mut self) {
        write_stderr(&self.0);
    }
}

/// The default filter for a verbosity: -q errors only, default warnings, -v info, -vv debug,
/// -vvv trace (the last two include the HTTP stack's own logs).
fn default_filter(verbosity: i8) -> &'static str {
    match verbosity {
        i8::MIN..=-1 => "error",
        0 => "warn",
        1 => "dl=info,warn",
        2 => "dl=debug,info",
        _ => "trace",
    }
}

/// Installs the subscriber. Call once, before anything logs.
pub fn init(verbosity: i8) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_filter(verbosity)));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .without_time()
        .with_target(verbosity >= 2)
        .with_ansi(false)
        .with_writer(|| Record(Vec::new()))
        .try_init();
}
