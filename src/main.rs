//! The `dl` binary: logging, argument parsing, and the exit code. Everything else is in the
//! library (`dl::app`).
#![allow(clippy::print_stderr)]

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    keep_freed_buffers();
    let cli = match dl::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => return ExitCode::from(dl::app::parse_failed(&e, std::env::args_os())),
    };
    dl::logging::init(cli.verbosity());
    match dl::app::run(cli) {
        Ok(status) => ExitCode::from(status.code()),
        Err(e) => {
            eprintln!("dl: error: {e:#}");
            ExitCode::from(dl::exit::ExitStatus::Usage.code())
        }
    }
}

/// Received bytes arrive in buffers of a few hundred KiB that are freed once written; glibc's
/// defaults give them back to the kernel at once, and every next buffer faults in fresh pages.
/// Kept, they are reused, at the same peak memory (`docs/performance.md`).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[allow(unsafe_code)]
fn keep_freed_buffers() {
    // SAFETY: `mallopt` only sets two allocator parameters, to values in their documented
    // ranges, before any other thread exists. Should glibc refuse one (it returns 0), its
    // default stays: slower, never wrong.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 64 << 20);
    }
}
