//! Integration tests for the `dl` binary: one test binary, modules by area (STYLE §5).
//! Every test runs `dl` as a process against servers on 127.0.0.1 only.

mod support;

mod checks;
mod checksum;
mod cli_usage;
mod compressed;
mod config;
mod exit_codes;
mod fetch;
mod generated;
mod groups;
mod input;
mod json_summary;
mod library;
mod manifest;
mod names;
mod netrc;
mod on_exist;
mod poisoned;
mod progress;
mod proxy;
mod reports;
mod resume;
mod retry;
mod safety;
mod signals;
mod split;
mod tls;
mod two_runs;
mod update;
mod validation;
