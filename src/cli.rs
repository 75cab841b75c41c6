//! The command line, as clap derive types only. Options a config file can also set stay
//! `Option` here (their defaults, and the table that declares them, live in `settings`);
//! value parsers for headers and `K/N` live here, those for durations, sizes and limits in
//! `units`, shared with the config file. No I/O.

use crate::engine::{ProxyChoice, ProxyUrl};
use crate::policy::OnExist;
use crate::report::{ProgressMode, ReportTarget};
use crate::secret::Secret;
use crate::units::{
    Limit, parse_duration, parse_nonzero_duration, parse_rate_limit, parse_size_limit,
};
use clap::{Args, Parser, Subcommand};
use reqwest::header::{HeaderName, HeaderValue};
use std::path::PathBuf;
use std::time::Duration;

// The texts after the options: blocks of a `Title:` line and indented lines, separated by a
// blank line. `generate` turns each block into a man page section.

const FETCH_AFTER_HELP: &str = "\
Examples:
  dl fetch urls.txt --workers 8            a URL list, 8 files at a time
  dl fetch manifest.toml --dir downloads   a manifest (names, checksums, priorities)
  dl fetch https://example.com/a.iso       one URL
  cat urls.txt | dl fetch -                a list (or a JSON manifest) on stdin
  dl fetch manifest.toml --dry-run         validate everything and print the plan
  dl fetch manifest.toml --json | jq -r '.files[] | select(.status==\"failed\") | .url'
  dl fetch urls.txt --profile polite       use [profile.polite] from the config file
  DL_WORKERS=2 dl fetch urls.txt           a setting from the environment
  dl fetch big.toml --limit-rate off       undo a config file's limit for one run

In CI:
  dl fetch manifest.toml --profile ci --json > summary.json; code=$?
  jq -r '.files[] | select(.error.retryable) | .url' summary.json   # worth a re-run
  dl fetch manifest.toml --report junit:dl.xml --report markdown:$GITHUB_STEP_SUMMARY
  The summary goes to stdout, progress to stderr; exit code 1 means some files failed.
  Re-running the same command after a failed or cancelled job does only what is left.

Configuration:
  Each setting comes from the command line, else the environment (DL_DIR, DL_WORKERS,
  DL_PROGRESS, DL_RETRIES), else the config file, else the default shown above.
  The config file is --config FILE, else $DL_CONFIG, else $XDG_CONFIG_HOME/dl/config.toml,
  else ~/.config/dl/config.toml. Its keys are the long option names: workers = 4,
  retry-delay = \"2s\", headers = { X-Token = \"${TOKEN}\" }. A [profile.NAME] table,
  chosen with --profile NAME or DL_PROFILE, applies over the top level.
  See config.example.toml in the source for every key.

Exit codes:
  0 all done, 1 some files failed, 2 usage or input error (nothing downloaded),
  130/143 interrupted by SIGINT/SIGTERM (re-run the same command to resume).";

const MAIN_AFTER_HELP: &str = "\
Environment:
  DL_CONFIG     the config file (else $XDG_CONFIG_HOME/dl/config.toml, ~/.config/dl/config.toml)
  DL_PROFILE    a [profile.NAME] table of the config file, like --profile
  DL_DIR, DL_WORKERS, DL_PROGRESS, DL_RETRIES   like --dir, --workers, --progress, --retries
  http_proxy, https_proxy, all_proxy, no_proxy (or in capitals)   proxies, unless --proxy
                and --noproxy say otherwise; loopback hosts never go through them
  NETRC         the netrc file --netrc reads (else ~/.netrc)
  SSL_CERT_FILE, SSL_CERT_DIR   more CA certificates to trust (besides the system's)
  RUST_LOG      log filter on stderr (overrides the level -q and -v set)

Exit codes:
  0 all done, 1 some files failed, 2 usage or input error (nothing downloaded),
  130/143 interrupted by SIGINT/SIGTERM (re-run the same command to resume).

See also:
  dl fetch --help       every option, examples, CI use and the config file
  dl completions bash   shell completions (also zsh, fish, powershell, elvish)";

const COMPLETIONS_AFTER_HELP: &str = "\
Examples:
  dl completions bash > ~/.local/share/bash-completion/completions/dl
  dl completions zsh > ~/.zfunc/_dl     # with fpath+=(~/.zfunc) before compinit
  dl completions fish > ~/.config/fish/completions/dl.fish
  dl completions powershell >> $PROFILE";

/// Upper bound of --workers and --max-per-host.
pub const MAX_CONNECTIONS: u32 = 1024;
/// Upper bound of --split.
pub const MAX_SPLIT: u32 = 64;

/// dl: a fast, resumable downloader for people, scripts and CI.
#[derive(Debug, Parser)]
#[command(name = "dl", version, about, propagate_version = true, after_help = MAIN_AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
// Parsed once per process: boxing `FetchArgs` would save nothing that matters.
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Download every file named by the SOURCEs.
    #[command(after_help = FETCH_AFTER_HELP)]
    Fetch(FetchArgs),
    /// Print a shell completion script to stdout.
    #[command(after_help = COMPLETIONS_AFTER_HELP)]
    Completions(CompletionsArgs),
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Aliases are the spellings curl and wget users bring, only where they mean exactly the same
/// (`-P`/`--directory-prefix`, `--output-dir`, `--retry`, `--max-filesize`); near misses such
/// as wget's `--tries` (attempts, not retries) are left to clap's "a similar argument" tip.
#[derive(Debug, Args)]
pub struct FetchArgs {
    /// URLs, URL list files, manifests (*.toml, *.json), or - for stdin; any mix.
    #[arg(required_unless_present = "input_files", value_name = "SOURCE")]
    pub sources: Vec<String>,

    /// A URL list file, whatever its name (- for stdin); repeatable; read after the SOURCEs
    /// (wget's -i)
    #[arg(short = 'i', long = "input-file", value_name = "FILE",
          value_hint = clap::ValueHint::FilePath)]
    pub input_files: Vec<String>,

    /// Download directory, created if missing [default: .] [env: DL_DIR]
    #[arg(short, long, value_name = "DIR", value_hint = clap::ValueHint::DirPath,
          visible_short_alias = 'P', visible_aliases = ["directory-prefix", "output-dir"])]
    pub dir: Option<PathBuf>,

    /// Files downloaded at once, 1-1024 [default: 8] [env: DL_WORKERS]
    #[arg(short, long, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=MAX_CONNECTIONS as i64))]
    pub workers: Option<u32>,

    /// Print the JSON summary on stdout instead of the table
    #[arg(long)]
    pub json: bool,

    /// Also write the summary to PATH as FORMAT: junit (XML test report, replaced) or
    /// markdown (appended, e.g. markdown:$GITHUB_STEP_SUMMARY); repeatable
    #[arg(long = "report", value_name = "FORMAT:PATH", value_parser = parse_report)]
    pub reports: Vec<ReportTarget>,

    /// How progress is shown on stderr [default: auto] [env: DL_PROGRESS]
    #[arg(long, value_enum, value_name = "MODE")]
    pub progress: Option<ProgressMode>,

    /// Quiet success, loud failure: no progress, no table; one stderr line per failed file
    /// (--json still prints its document)
    #[arg(short, long, action = clap::ArgAction::Count, conflicts_with = "verbose")]
    pub quiet: u8,

    /// More on stderr (-v info, -vv debug, -vvv trace); RUST_LOG also works
    #[arg(short, long, action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// When the final file already exists [default: skip]
    #[arg(long, value_enum, value_name = "MODE")]
    pub on_exist: Option<OnExist>,

    /// Name of the file when the input is exactly one URL: a path inside --dir (e.g.
    /// report.pdf or docs/report.pdf)
    #[arg(short = 'o', long, value_name = "NAME")]
    pub output: Option<String>,

    /// Ask for gzip, br or zstd and store the decoded bytes (such files are not resumed or
    /// split); without it, bytes are stored exactly as served
    #[arg(long, help_heading = "Requests")]
    pub compressed: bool,

    /// Name a file the input does not name from the server's Content-Disposition (RFC 6266,
    /// filename* first), sanitised like names from URLs and kept inside --dir
    #[arg(long)]
    pub content_disposition: bool,

    /// Take only the K-th of N deterministic slices of the input (by destination path)
    #[arg(long, value_name = "K/N", value_parser = parse_shard)]
    pub shard: Option<(u32, u32)>,

    /// Accept an input with no entries (exit 0 instead of 2)
    #[arg(long)]
    pub allow_empty: bool,

    /// Resolve and validate everything, print the plan, download nothing
    #[arg(long)]
    pub dry_run: bool,

    /// Accepted for wget habits: resume is always on, so this changes nothing
    #[arg(short = 'c', long = "continue")]
    pub continue_: bool,

    /// Extra request header, 'Name: value' (repeatable; values are never printed)
    #[arg(short = 'H', long = "header", value_name = "'K: V'", value_parser = HEADER_PARSER,
          help_heading = "Requests")]
    pub headers: Vec<HeaderArg>,

    /// Send -H headers, manifest headers and URL credentials to other hosts a redirect leads
    /// to too (by default they go only to the scheme, host and port they were given for)
    #[arg(long, help_heading = "Requests")]
    pub location_trusted: bool,

    /// Send credentials from ~/.netrc ($NETRC if set) to the hosts it has an entry for, when
    /// the URL has none of its own and no -H Authorization is given; never after a redirect to
    /// another host
    #[arg(long, overrides_with = "no_netrc", help_heading = "Requests")]
    pub netrc: bool,

    /// Like --netrc, with the credentials of FILE (which must be readable)
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath,
          help_heading = "Requests")]
    pub netrc_file: Option<PathBuf>,

    /// Read no netrc file, whatever the config file says
    #[arg(long, overrides_with = "netrc", help_heading = "Requests")]
    pub no_netrc: bool,

    /// User-Agent header [default: dl/VERSION]
    #[arg(long, value_name = "UA", help_heading = "Requests")]
    pub user_agent: Option<String>,

    /// Refuse files larger than SIZE (e.g. 500K, 10M, 2G; binary units) [default: off]
    #[arg(long, value_name = "SIZE", value_parser = parse_size_limit, help_heading = "Requests",
          visible_alias = "max-filesize")]
    pub max_size: Option<Limit>,

    /// Time allowed to connect [default: 15s]
    #[arg(long, value_name = "DUR", help_heading = "Requests",
          value_parser = parse_nonzero_duration)]
    pub connect_timeout: Option<Duration>,

    /// Longest silence while waiting for a response or its body [default: 30s]
    #[arg(long, value_name = "DUR", help_heading = "Requests",
          value_parser = parse_nonzero_duration)]
    pub read_timeout: Option<Duration>,

    /// Both --connect-timeout and --read-timeout, except one given itself
    #[arg(long, value_name = "DUR", help_heading = "Requests",
          value_parser = parse_nonzero_duration)]
    pub timeout: Option<Duration>,

    /// Abandon (and retry) an attempt averaging under RATE for --min-speed-time (e.g. 10K)
    /// [default: off]
    #[arg(long, value_name = "RATE", value_parser = parse_rate_limit, help_heading = "Requests")]
    pub min_speed: Option<Limit>,

    /// Window over which --min-speed is measured [default: 30s]
    #[arg(long, value_name = "DUR", help_heading = "Requests",
          value_parser = parse_nonzero_duration)]
    pub min_speed_time: Option<Duration>,

    /// Requests to one host at once (connections, or HTTP/2 streams), across all files,
    /// 1-1024 [default: 8]
    #[arg(long, value_name = "N", help_heading = "Requests",
          value_parser = clap::value_parser!(u32).range(1..=MAX_CONNECTIONS as i64))]
    pub max_per_host: Option<u32>,

    /// Connections for one large file when the server supports Range, 1-64 [default: 1]
    #[arg(short, long, value_name = "N", help_heading = "Requests",
          value_parser = clap::value_parser!(u32).range(1..=MAX_SPLIT as i64))]
    pub split: Option<u32>,

    /// Overall bandwidth cap shared by all transfers (e.g. 500K, 10M per second)
    /// [default: off]
    #[arg(long, value_name = "RATE", value_parser = parse_rate_limit, help_heading = "Requests")]
    pub limit_rate: Option<Limit>,

    /// Retries after the first attempt for transient errors [default: 5] [env: DL_RETRIES]
    #[arg(
        long,
        value_name = "N",
        help_heading = "Retries",
        visible_alias = "retry"
    )]
    pub retries: Option<u32>,

    /// Backoff before the first retry, doubling each time [default: 500ms]
    #[arg(long, value_name = "DUR", value_parser = parse_duration, help_heading = "Retries")]
    pub retry_delay: Option<Duration>,

    /// Longest backoff between two attempts [default: 30s]
    #[arg(long, value_name = "DUR", value_parser = parse_duration, help_heading = "Retries")]
    pub max_retry_delay: Option<Duration>,

    /// Longest Retry-After a server may ask for; a longer one fails the file [default: 5m]
    #[arg(long, value_name = "DUR", value_parser = parse_duration, help_heading = "Retries")]
    pub max_retry_after: Option<Duration>,

    /// Proxy for every request, http:// or https:// (user:password@ for its credentials,
    /// never printed), loopback hosts included; '' for none. Overrides http_proxy,
    /// https_proxy and all_proxy [default: from those variables, except for loopback hosts]
    #[arg(long, value_name = "URL", value_parser = PROXY_PARSER, help_heading = "Proxies")]
    pub proxy: Option<ProxyChoice>,

    /// Hosts that bypass any proxy: comma-separated names (subdomains included), IP addresses
    /// or CIDR blocks, * for all; replaces no_proxy / NO_PROXY
    #[arg(long, value_name = "LIST", help_heading = "Proxies")]
    pub noproxy: Option<String>,

    /// Also trust the CA certificates in this PEM file (repeatable; added to the system's
    /// trust and SSL_CERT_FILE / SSL_CERT_DIR)
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath,
          help_heading = "TLS")]
    pub cacert: Vec<PathBuf>,

    /// Do not verify TLS certificates: any server can pose as any host (warned about on
    /// stderr; command line only)
    #[arg(
        short = 'k',
        long,
        visible_alias = "no-check-certificate",
        help_heading = "TLS"
    )]
    pub insecure: bool,

    /// Config file [default: $DL_CONFIG, else $XDG_CONFIG_HOME/dl/config.toml, else
    /// ~/.config/dl/config.toml]
    #[arg(long, value_name = "FILE", value_hint = clap::ValueHint::FilePath,
          help_heading = "Config file")]
    pub config: Option<PathBuf>,

    /// Use the [profile.NAME] table of the config file over its top level [env: DL_PROFILE]
    #[arg(long, value_name = "NAME", help_heading = "Config file")]
    pub profile: Option<String>,
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

/// A value parser whose errors never echo the argument: clap's own "invalid value '...'"
/// message would repeat it, and it may be a secret (a header value, a proxy password;
/// SPEC §5).
#[derive(Debug, Clone, Copy)]
struct Quiet<T>(fn(&str) -> Result<T, String>);

/// `-H 'Name: value'`.
const HEADER_PARSER: Quiet<HeaderArg> = Quiet(parse_header);
/// `--proxy URL`.
const PROXY_PARSER: Quiet<ProxyChoice> = Quiet(ProxyUrl::parse_choice);

impl<T: Clone + Send + Sync + 'static> clap::builder::TypedValueParser for Quiet<T> {
    type Value = T;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<T, clap::Error> {
        let parsed = match value.to_str() {
            Some(text) => (self.0)(text),
            None => Err("the value must be valid UTF-8".to_string()),
        };
        parsed.map_err(|message| {
            let name = arg.map(ToString::to_string).unwrap_or_default();
            let message = format!("invalid value for '{name}': {message}\n");
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, message).with_cmd(cmd)
        })
    }
}

fn parse_header(text: &str) -> Result<HeaderArg, String> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| "a header is written 'Name: value'".to_string())?;
    let name = HeaderName::from_bytes(name.trim().as_bytes())
        .map_err(|_| format!("{:?} is not a valid header name", name.trim()))?;
    let value = HeaderValue::from_str(value.trim()).map_err(|_| {
        format!("the value of header {name} has characters not allowed in a header")
    })?;
    Ok(HeaderArg {
        name,
        value: Secret::new(value),
    })
}

/// `--report FORMAT:PATH` (`junit:` or `markdown:`, then a path).
pub fn parse_report(text: &str) -> Result<ReportTarget, String> {
    ReportTarget::parse(text)
}

/// `K/N` with 1 ≤ K ≤ N.
pub fn parse_shard(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("{text:?} is not a shard like 2/5 (K/N with 1 <= K <= N)");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let (k, n): (u32, u32) = (
        k.trim().parse().map_err(|_| bad())?,
        n.trim().parse().map_err(|_| bad())?,
    );
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
        assert!(
            parse_shard("0/5").is_err() && parse_shard("6/5").is_err() && parse_shard("x").is_err()
        );
        let h = parse_header("Authorization: Bearer x").unwrap();
        assert_eq!(h.name, "authorization");
        assert_eq!(h.value.expose(), "Bearer x");
        assert!(parse_header("no colon").is_err() && parse_header("bad name: v").is_err());
    }
}
