//! The command line, as clap derive types only. Options a config file can also set stay
//! `Option` here (their defaults live in `settings`); parse-level value parsers for durations,
//! sizes, headers and `K/N` live here too. No I/O.

use crate::engine::OnExist;
use crate::report::ProgressMode;
use crate::secret::Secret;
use clap::{Args, Parser, Subcommand};
use reqwest::header::{HeaderName, HeaderValue};
use crate::units::{parse_duration, parse_rate, parse_size};
use std::path::PathBuf;
use std::time::Duration;

const FETCH_EXAMPLES: &str = "\
Examples:
  dl fetch urls.txt --workers 8            a URL list, 8 files at a time
  dl fetch manifest.toml --dir downloads   a manifest (names, checksums, priorities)
  dl fetch https://example.com/a.iso       one URL
  cat urls.txt | dl fetch -                a list (or a JSON manifest) on stdin
  dl fetch manifest.toml --json | jq -r '.files[] | select(.status==\"failed\") | .url'
  dl fetch manifest.toml --progress plain --json > summary.json || echo \"exit $?\"

Exit codes: 0 all done, 1 some files failed, 2 usage or input error (nothing downloaded),
130/143 interrupted by SIGINT/SIGTERM (re-run the same command to resume).";

/// dl: a fast, resumable downloader for people, scripts and CI.
#[derive(Debug, Parser)]
#[command(name = "dl", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Download every file named by the SOURCEs.
    #[command(after_help = FETCH_EXAMPLES)]
    Fetch(FetchArgs),
    /// Print a shell completion script to stdout.
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// URLs, URL list files, manifests (*.toml, *.json), or - for stdin; any mix.
    #[arg(required = true, value_name = "SOURCE")]
    pub sources: Vec<String>,

    /// Download directory, created if missing [default: .]
    #[arg(short, long, value_name = "DIR")]
    pub dir: Option<PathBuf>,

    /// Files downloaded at once [default: 8]
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub workers: Option<u32>,

    /// Print the JSON summary on stdout instead of the table
    #[arg(long)]
    pub json: bool,

    /// How progress is shown on stderr [default: auto]
    #[arg(long, value_enum, value_name = "MODE")]
    pub progress: Option<ProgressMode>,

    /// Less on stderr: errors only, and no progress unless --progress is given
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,

    /// More on stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// When the final file already exists [default: skip]
    #[arg(long, value_enum, value_name = "MODE")]
    pub on_exist: Option<OnExist>,

    /// Extra request header, 'Name: value' (repeatable; values are never printed)
    #[arg(short = 'H', long = "header", value_name = "'K: V'", value_parser = parse_header)]
    pub headers: Vec<HeaderArg>,

    /// User-Agent header [default: dl/VERSION]
    #[arg(long, value_name = "UA")]
    pub user_agent: Option<String>,

    /// Refuse files larger than SIZE (e.g. 500K, 10M, 2G; binary units)
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub max_size: Option<u64>,

    /// Retries after the first attempt for transient errors [default: 5]
    #[arg(long, value_name = "N")]
    pub retries: Option<u32>,

    /// Backoff before the first retry, doubling each time [default: 500ms]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub retry_delay: Option<Duration>,

    /// Longest backoff between two attempts [default: 30s]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub max_retry_delay: Option<Duration>,

    /// Time allowed to connect [default: 15s]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,

    /// Longest silence while waiting for a response or its body [default: 30s]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub read_timeout: Option<Duration>,

    /// Longest Retry-After a server may ask for; a longer one fails the file [default: 5m]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub max_retry_after: Option<Duration>,

    /// Abandon (and retry) an attempt averaging under RATE for --min-speed-time (e.g. 10K)
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub min_speed: Option<u64>,

    /// Window over which --min-speed is measured [default: 30s]
    #[arg(long, value_name = "DUR", value_parser = parse_duration)]
    pub min_speed_time: Option<Duration>,

    /// Connections to one host at once, across all files [default: 8]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub max_per_host: Option<u32>,

    /// Connections for one large file when the server supports Range [default: 1]
    #[arg(short, long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=64))]
    pub split: Option<u32>,

    /// Overall bandwidth cap shared by all transfers (e.g. 500K, 10M per second)
    #[arg(long, value_name = "RATE", value_parser = parse_rate)]
    pub limit_rate: Option<u64>,

    /// Take only the K-th of N deterministic slices of the input (by destination path)
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,

    /// Accept an input with no entries (exit 0 instead of 2)
    #[arg(long)]
    pub allow_empty: bool,

    /// Resolve and validate everything, print the plan, download nothing
    #[arg(long)]
    pub dry_run: bool,
}

impl Cli {
    /// -q/-v as one number: negative is quieter.
    pub fn verbosity(&self) -> i8 {
        match &self.command {
            Command::Fetch(args) => args.verbose.min(3) as i8 - args.quiet.min(1) as i8,
            Command::Completions(_) => 0,
        }
    }
}

/// The clap definition, for generators (completions, man pages) and tests.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

/// An `-H 'Name: value'` header; the value is a secret.
#[derive(Debug, Clone)]
pub struct HeaderArg {
    pub name: HeaderName,
    pub value: Secret<HeaderValue>,
}

fn parse_header(text: &str) -> Result<HeaderArg, String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| "a header is written 'Name: value'".to_string())?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("{:?} is not a valid header name", name.trim()))?;
    let value = HeaderValue::from_str(value.trim())
        .map_err(|_| format!("the value of header {name} has characters not allowed in a header"))?;
    Ok(HeaderArg {
        name,
        value: Secret::new(value),
    })
}

/// `K/N` with 1 ≤ K ≤ N.
pub fn parse_shard(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{text:?} is not a shard like 2/5 (K/N with 1 <= K <= N)");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (u32, u32) = (k.trim().parse().map_err(|_| bad())?, n.trim().parse().map_err(|_| bad())?);
    if k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_definition_is_consistent() {
        command().debug_assert();
    }

    #[test]
    fn values() {
        assert_eq!(parse_shard("2/5"), Ok((2, 5)));
        assert!(parse_shard("0/5").is_err() && parse_shard("6/5").is_err() && parse_shard("x").is_err());
        let h = parse_header("Authorization: Bearer x").unwrap();
        assert_eq!(h.name, "authorization");
        assert_eq!(h.value.expose(), "Bearer x");
        assert!(parse_header("no colon").is_err() && parse_header("bad name: v").is_err());
    }
}
