//! The `dl` binary: logging, argument parsing, and the exit code. Everything else is in the
//! library (`dl::app`).
#![allow(clippy::print_stderr)]

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = dl::cli::Cli::parse();
    dl::logging::init(cli.verbosity());
    match dl::app::run(cli) {
        Ok(status) => ExitCode::from(status.code()),
        Err(e) => {
            eprintln!("dl: error: {e:#}");
            ExitCode::from(dl::exit::ExitStatus::Usage.code())
        }
    }
}
