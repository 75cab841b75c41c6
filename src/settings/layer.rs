//! Every option a config file can set, declared once in the `options!` table below: its key,
//! its `Layer` field and type, how its text parses (a file value or a `DL_*` variable), where
//! the command line holds it, and where it lands in `Settings`. From that table come
//! `CONFIG_KEYS`, `ENV_VARS`, the `Layer` struct and its `set`, `over`, `from_args` and `land`,
//! so adding an option is one row here plus its clap field in `cli`.

use super::{ConfigError, Env, Settings};
use crate::cli::{FetchArgs, MAX_CONNECTIONS, MAX_SPLIT};
use crate::engine::{ProxyChoice, ProxyUrl};
use crate::policy::OnExist;
use crate::report::ProgressMode;
use crate::secret::Secret;
use crate::units::{
    Limit, parse_duration, parse_nonzero_duration, parse_rate_limit, parse_size_limit,
};
use reqwest::header::{HeaderName, HeaderValue};
use std::path::PathBuf;
use std::time::Duration;

/// Extra request headers, in order; later ones of the same name replace earlier ones.
pub(super) type Headers = Vec<(HeaderName, Secret<HeaderValue>)>;

/// `$a` over `$b`: the row's own merge, else the first that is set.
macro_rules! merge {
    ($a:expr, $b:expr) => {
        $a.or($b)
    };
    ($a:expr, $b:expr, $merge:expr) => {
        $merge($a, $b)
    };
}

/// Expands the table: one row per option,
/// `"key" field: Type = parse, |args| value on the command line => place in Settings`
/// (no place for a shorthand, which `Layer::spread` turns into the keys it stands for),
/// then optionally `, merge f` (how a level merges over the one below, else the first set
/// wins) and `, env "VAR"` (the variable that sets it).
macro_rules! options {
    ($(
        $key:literal $field:ident: $ty:ty = $parse:expr, $cli:expr $(=> $($place:ident).+)?
        $(, merge $merge:expr)? $(, env $var:literal)?;
    )*) => {
        /// The keys a config file (top level or `[profile.NAME]`) may hold: the long option
        /// names of every setting, with `headers` (a table, merged under `-H`) for `--header`.
        /// Per-run choices (`--json`, `--dry-run`, `--shard`, `--allow-empty`, `-q`/`-v`, the
        /// SOURCEs) stay on the command line: they are flags without a `--no-` form, so a file
        /// could set them but nothing could undo them.
        pub const CONFIG_KEYS: [&str; [$($key),*].len()] = [$($key),*];

        /// The environment variables that set an option, as (variable, config key).
        /// `DL_CONFIG` and `DL_PROFILE` choose the config file and profile.
        pub const ENV_VARS: &[(&str, &str)] = &[$($(($var, $key),)?)*];

        /// The settings given at one level (command line, environment, config file, profile);
        /// `None` means "not set here".
        #[derive(Debug, Clone, Default)]
        pub(super) struct Layer {
            $(pub(super) $field: Option<$ty>,)*
        }

        impl Layer {
            /// Sets `key` from its text, as written in a file or an environment variable.
            /// `Err(None)` means the key is unknown.
            pub(super) fn set(&mut self, key: &str, text: &str) -> Result<(), Option<String>> {
                match key {
                    $($key => {
                        let parse: fn(&str) -> Result<$ty, String> = $parse;
                        self.$field = Some(parse(text)?);
                    })*
                    _ => return Err(None),
                }
                Ok(())
            }

            /// `self` over `below`, key by key, each level's shorthands spread first.
            pub(super) fn over(self, below: Layer) -> Layer {
                let (mine, below) = (self.spread(), below.spread());
                Layer {
                    $($field: merge!(mine.$field, below.$field $(, $merge)?),)*
                }
            }

            /// What the command line sets.
            pub(super) fn from_args(args: &FetchArgs) -> Layer {
                Layer {
                    $($field: {
                        let given: fn(&FetchArgs) -> Option<$ty> = $cli;
                        given(args)
                    },)*
                }
            }

            /// Writes every value this layer sets into its place in `settings`.
            fn land(self, settings: &mut Settings) {
                $($(if let Some(value) = self.$field {
                    settings.$($place).+ = Land::land(value);
                })?)*
            }
        }
    };
}

options! {
    "dir" dir: PathBuf = |t| Ok(PathBuf::from(t)), |a| a.dir.clone() => plan.dir, env "DL_DIR";
    "workers" workers: u32 = |t| count(t, 1, MAX_CONNECTIONS), |a| a.workers
        => engine.workers, env "DL_WORKERS";
    // `-q` without `--progress` means no progress.
    "progress" progress: ProgressMode = choice,
        |a| a.progress.or((a.quiet > 0).then_some(ProgressMode::None))
        => progress, env "DL_PROGRESS";
    "on-exist" on_exist: OnExist = choice, |a| a.on_exist => engine.on_exist;
    "user-agent" user_agent: String = |t| Ok(t.to_string()), |a| a.user_agent.clone()
        => engine.user_agent;
    // A table in a file (read by `file`), `-H` on the command line; no text form.
    "headers" headers: Headers = |_| Err("expected a table of name = \"value\"".to_string()),
        |a| (!a.headers.is_empty())
            .then(|| a.headers.iter().map(|h| (h.name.clone(), h.value.clone())).collect())
        => engine.headers, merge merge_headers;
    // On or off, whatever the levels below say: `--no-netrc` (or `netrc = false`) undoes a
    // file's `netrc` and `netrc-file`; `netrc-file` implies `netrc = true` at its level.
    "netrc" netrc: bool = boolean,
        |a| if a.no_netrc { Some(false) } else { a.netrc.then_some(true) } => netrc;
    "netrc-file" netrc_file: PathBuf = |t| Ok(PathBuf::from(t)), |a| a.netrc_file.clone()
        => netrc_file;
    "max-size" max_size: Limit = parse_size_limit, |a| a.max_size => engine.max_size;
    "connect-timeout" connect_timeout: Duration = parse_nonzero_duration, |a| a.connect_timeout
        => engine.connect_timeout;
    "read-timeout" read_timeout: Duration = parse_nonzero_duration, |a| a.read_timeout
        => engine.read_timeout;
    // Shorthand for the two above (curl's and wget's habit), spread by `Layer::spread`.
    "timeout" timeout: Duration = parse_nonzero_duration, |a| a.timeout;
    "min-speed" min_speed: Limit = parse_rate_limit, |a| a.min_speed => engine.min_speed;
    "min-speed-time" min_speed_time: Duration = parse_nonzero_duration, |a| a.min_speed_time
        => engine.min_speed_time;
    "max-per-host" max_per_host: u32 = |t| count(t, 1, MAX_CONNECTIONS), |a| a.max_per_host
        => engine.max_per_host;
    "split" split: u32 = |t| count(t, 1, MAX_SPLIT), |a| a.split => engine.split;
    "limit-rate" limit_rate: Limit = parse_rate_limit, |a| a.limit_rate => engine.limit_rate;
    "retries" retries: u32 = |t| count(t, 0, u32::MAX), |a| a.retries
        => engine.retry.retries, env "DL_RETRIES";
    "retry-delay" retry_delay: Duration = parse_duration, |a| a.retry_delay
        => engine.retry.base;
    "max-retry-delay" max_retry_delay: Duration = parse_duration, |a| a.max_retry_delay
        => engine.retry.max;
    "max-retry-after" max_retry_after: Duration = parse_duration, |a| a.max_retry_after
        => engine.max_retry_after;
    // One file per level; every level's files are trusted (trust only ever adds up).
    "cacert" cacert: Vec<PathBuf> = |t| Ok(vec![PathBuf::from(t)]),
        |a| (!a.cacert.is_empty()).then(|| a.cacert.clone()) => cacert, merge merge_lists;
    // Over the environment's `*_proxy` variables ("" for no proxy at all).
    "proxy" proxy: ProxyChoice = ProxyUrl::parse_choice, |a| a.proxy.clone()
        => engine.proxy.proxy;
    "noproxy" noproxy: String = |t| Ok(t.to_string()), |a| a.noproxy.clone()
        => engine.proxy.no_proxy;
}

impl Layer {
    /// What the `DL_*` variables of [`ENV_VARS`] set; an empty variable counts as unset.
    pub(super) fn from_env(env: &Env) -> Result<Layer, ConfigError> {
        let mut layer = Layer::default();
        for &(var, key) in ENV_VARS {
            let Some(value) = env.get(var) else { continue };
            // A directory need not be UTF-8.
            if key == "dir" {
                layer.dir = Some(PathBuf::from(value));
                continue;
            }
            let bad = |message: String| ConfigError::Env { var, message };
            let text = value
                .to_str()
                .ok_or_else(|| bad(format!("{value:?} is not valid UTF-8")))?;
            layer
                .set(key, text)
                .map_err(|e| bad(e.unwrap_or_default()))?;
        }
        Ok(layer)
    }

    /// `timeout` stands for `connect-timeout` and `read-timeout` at its own level: each is set
    /// from it unless this level sets it itself. Spread before levels merge, so the command
    /// line's `--timeout` wins over a config file's `connect-timeout`, and `--connect-timeout`
    /// over `--timeout` beside it.
    fn spread(mut self) -> Layer {
        if let Some(timeout) = self.timeout {
            self.connect_timeout.get_or_insert(timeout);
            self.read_timeout.get_or_insert(timeout);
        }
        if self.netrc_file.is_some() {
            self.netrc.get_or_insert(true);
        }
        self
    }

    /// Built-in defaults under everything this layer sets.
    pub(super) fn resolve(self, args: &FetchArgs, stderr_is_terminal: bool) -> Settings {
        let mut settings = Settings::defaults(args);
        let mut layer = self.spread();
        // A netrc file turned off at a higher level than it was named is not read.
        if layer.netrc != Some(true) {
            layer.netrc_file = None;
        }
        layer.land(&mut settings);
        settings.progress = settings.progress.resolve(stderr_is_terminal);
        // A sha256 of every file costs 0.5 s of CPU per GiB: worth it only when something
        // shows it (the JSON summary or NDJSON events).
        settings.engine.sha256 = args.json || settings.progress == ProgressMode::Ndjson;
        settings
    }
}

/// Headers merge by name, `mine` winning over `below`.
fn merge_headers(mine: Option<Headers>, below: Option<Headers>) -> Option<Headers> {
    match (mine, below) {
        (Some(mine), Some(below)) => {
            let mut headers: Headers = below
                .into_iter()
                .filter(|(name, _)| !mine.iter().any(|(m, _)| m == name))
                .collect();
            headers.extend(mine);
            Some(headers)
        }
        (mine, below) => mine.or(below),
    }
}

/// Lists add up: `below`'s entries, then `mine`.
fn merge_lists<T>(mine: Option<Vec<T>>, below: Option<Vec<T>>) -> Option<Vec<T>> {
    match (mine, below) {
        (Some(mine), Some(mut below)) => {
            below.extend(mine);
            Some(below)
        }
        (mine, below) => mine.or(below),
    }
}

/// How a layer's value becomes the type of its place in `Settings`.
trait Land<T> {
    fn land(self) -> T;
}

impl<T> Land<T> for T {
    fn land(self) -> T {
        self
    }
}

impl<T> Land<Option<T>> for T {
    fn land(self) -> Option<T> {
        Some(self)
    }
}

impl Land<usize> for u32 {
    fn land(self) -> usize {
        self as usize
    }
}

impl Land<Option<u64>> for Limit {
    fn land(self) -> Option<u64> {
        self.bytes()
    }
}

/// A whole number in `min..=max`.
fn count(text: &str, min: u32, max: u32) -> Result<u32, String> {
    let range = if max == u32::MAX {
        format!("{min} or more")
    } else {
        format!("from {min} to {max}")
    };
    match text.trim().parse::<u32>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(format!("{text:?} is not a whole number {range}")),
    }
}

/// `true` or `false` (a TOML boolean).
fn boolean(text: &str) -> Result<bool, String> {
    match text.trim() {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(format!("{text:?} is not true or false")),
    }
}

/// One of a clap value enum's names (`auto`, `plain`, ...).
fn choice<T: clap::ValueEnum>(text: &str) -> Result<T, String> {
    T::from_str(text.trim(), true).map_err(|_| {
        let names: Vec<_> = T::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        format!("{text:?} is not one of {}", names.join(", "))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cli::Cli;
    use clap::Parser;

    /// The command line and a file (or variable) must accept and refuse the same values: clap's
    /// parser is named on the `FetchArgs` field, the file's in the `options!` row.
    #[test]
    fn command_line_and_file_agree_on_every_value() {
        let probes = "0 1 8 64 65 1024 1025 -1 1.5 off 10M 0K 1s 0s 30d 31d \
                      18446744073709551615s plain rename x";
        for key in CONFIG_KEYS.iter().filter(|k| **k != "headers") {
            for probe in probes.split_whitespace() {
                let flag = format!("--{key}={probe}");
                let cli = Cli::try_parse_from(["dl", "fetch", "http://127.0.0.1/a", &flag]);
                let file = Layer::default().set(key, probe);
                assert_eq!(cli.is_ok(), file.is_ok(), "{flag}: {file:?}");
            }
        }
    }

    #[test]
    fn absurd_values_are_refused_with_the_limit_they_break() {
        let long = "is longer than 30 days";
        let zero = "must be more than 0";
        for (key, text, message) in [
            ("read-timeout", "0", zero),
            ("connect-timeout", "0", zero),
            ("timeout", "0s", zero),
            ("timeout", "31d", long),
            ("min-speed-time", "0ms", zero),
            ("retry-delay", "18446744073709551615s", long),
            ("read-timeout", "1e300", long),
            ("max-retry-after", "31d", long),
            ("max-retry-delay", "1y", long),
            ("max-size", "0", "must be more than 0 (or \"off\")"),
            ("min-speed", "0K", "must be more than 0 (or \"off\")"),
            ("limit-rate", "0", "must be more than 0 (or \"off\")"),
        ] {
            let e = Layer::default().set(key, text).expect_err(key);
            assert_eq!(e, Some(format!("{text:?} {message}")), "{key} = {text}");
        }
        for (key, text) in [("retry-delay", "0"), ("max-retry-delay", "0s")] {
            assert_eq!(Layer::default().set(key, text), Ok(()), "{key} = {text}");
        }
    }

    #[test]
    fn environment_variables_set_config_keys() {
        let vars: Vec<_> = ENV_VARS.iter().map(|(var, _)| *var).collect();
        assert_eq!(vars, ["DL_DIR", "DL_WORKERS", "DL_PROGRESS", "DL_RETRIES"]);
        for (var, key) in ENV_VARS {
            assert!(CONFIG_KEYS.contains(key), "{var} sets {key}");
        }
    }
}
