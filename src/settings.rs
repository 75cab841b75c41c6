//! Turning the parsed command line into `Settings`: the one place where every option gets its
//! value. Key by key, the first level that sets it wins: the command line, the environment
//! (`DL_DIR`, `DL_WORKERS`, `DL_PROGRESS`, `DL_RETRIES`), the config file (its `[profile.NAME]`
//! table, then its top level), the built-in defaults. Each option is declared once, in
//! `layer`'s table; config discovery is in `locate`, the file format in `file`. Nothing here
//! touches the network or the download directory.

mod file;
mod layer;
mod locate;

pub use file::ConfigFile;
pub use layer::{CONFIG_KEYS, ENV_VARS};

use layer::Layer;
use locate::read_config;

use crate::cli::FetchArgs;
use crate::engine::{EngineConfig, NetrcError, Trust, read_ca_file, read_netrc};
use crate::input::Source;
use crate::plan::PlanOptions;
use crate::report::ProgressMode;
use std::ffi::OsString;
use std::path::PathBuf;

/// Everything one `dl fetch` needs, resolved.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The SOURCE arguments, then the `-i` files.
    pub sources: Vec<Source>,
    pub plan: PlanOptions,
    pub engine: EngineConfig,
    /// Already resolved against the terminal (never `auto`).
    pub progress: ProgressMode,
    pub json: bool,
    pub dry_run: bool,
    /// The `--cacert` files (command line and config file); their certificates are loaded
    /// into `engine.trust.extra` while settings are resolved.
    pub cacert: Vec<PathBuf>,
    /// `--netrc` (or `--netrc-file`, or the config file's keys): read a netrc file.
    pub netrc: bool,
    /// `--netrc-file`: read this netrc file (it must be readable); else `$NETRC` or
    /// `~/.netrc`, which may be missing.
    pub netrc_file: Option<PathBuf>,
}

/// Why the settings could not be resolved; shown as `dl: error: ...`, exit 2.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A problem at a line of a config file (syntax, unknown key, bad value).
    #[error("{file}:{line}: {message}")]
    At {
        file: String,
        line: usize,
        message: String,
    },
    /// The config file named by `--config` or `$DL_CONFIG` (or an existing default one) cannot
    /// be read.
    #[error("cannot read the config file {file} (from {origin})")]
    Read {
        file: String,
        origin: &'static str,
        #[source]
        source: std::io::Error,
    },
    /// A `DL_*` variable with a bad value.
    #[error("environment variable {var}: {message}")]
    Env { var: &'static str, message: String },
    /// `--profile` (or `DL_PROFILE`) names no profile of the file, or there is no file.
    #[error("{0}")]
    Profile(String),
    /// A `--cacert` file (or `cacert` key) that cannot be read or holds no usable certificate.
    #[error("--cacert {file}: {message}")]
    Cacert { file: String, message: String },
    /// A netrc file asked for (`--netrc-file`, or the default one with `--netrc`) that exists
    /// but cannot be read.
    #[error("{option} {file}: {message}")]
    Netrc {
        option: &'static str,
        file: String,
        message: String,
    },
}

impl ConfigError {
    /// The problem as a located diagnostic, for the `--json` document and `--report` files:
    /// the file and line, the variable, or `config` for a profile that cannot be found.
    pub fn diagnostic(&self) -> crate::error::Diagnostic {
        use crate::error::Diagnostic;
        match self {
            ConfigError::At {
                file,
                line,
                message,
            } => Diagnostic::new(file, u32::try_from(*line).unwrap_or(u32::MAX), message),
            ConfigError::Read { file, source, .. } => {
                Diagnostic::new(file, 0, format!("{self}: {source}"))
            }
            ConfigError::Env { var, message } => Diagnostic::new(*var, 0, message),
            ConfigError::Profile(message) => Diagnostic::new("config", 0, message),
            ConfigError::Netrc {
                option,
                file,
                message,
            } => Diagnostic::new(*option, 0, format!("{file}: {message}")),
            ConfigError::Cacert { file, message } => {
                Diagnostic::new("--cacert", 0, format!("{file}: {message}"))
            }
        }
    }
}

/// The process environment as seen by settings; an empty variable counts as unset.
struct Env<'a>(&'a dyn Fn(&str) -> Option<OsString>);

impl Env<'_> {
    fn get(&self, name: &str) -> Option<OsString> {
        (self.0)(name).filter(|v| !v.is_empty())
    }
    fn home(&self) -> Option<PathBuf> {
        self.get("HOME").map(PathBuf::from)
    }
}

impl Settings {
    /// The built-in defaults, with the per-run choices of `args` (which no other level sets).
    fn defaults(args: &FetchArgs) -> Settings {
        Settings {
            // SOURCEs first, then the `-i` files: clap keeps the two apart, so their relative
            // order on the command line is not known here.
            sources: (args.sources.iter().cloned().map(Source::Arg))
                .chain(args.input_files.iter().cloned().map(Source::InputFile))
                .collect(),
            plan: PlanOptions {
                dir: PathBuf::from("."),
                allow_empty: args.allow_empty,
                shard: args.shard,
                output: args.output.clone(),
            },
            engine: EngineConfig {
                location_trusted: args.location_trusted,
                content_disposition: args.content_disposition,
                compressed: args.compressed,
                trust: Trust {
                    insecure: args.insecure,
                    ..Trust::default()
                },
                ..EngineConfig::default()
            },
            progress: ProgressMode::default(),
            json: args.json,
            dry_run: args.dry_run,
            cacert: Vec::new(),
            netrc: false,
            netrc_file: None,
        }
    }

    /// Resolves the options of `dl fetch` against the process environment and the config
    /// file; `stderr_is_terminal` decides `--progress auto`.
    pub fn from_fetch(args: &FetchArgs, stderr_is_terminal: bool) -> Result<Settings, ConfigError> {
        Settings::resolve(args, &|name| std::env::var_os(name), stderr_is_terminal)
    }

    /// [`Settings::from_fetch`] with the environment given as a lookup function.
    pub fn resolve(
        args: &FetchArgs,
        env: &dyn Fn(&str) -> Option<OsString>,
        stderr_is_terminal: bool,
    ) -> Result<Settings, ConfigError> {
        let env = Env(env);
        // The profile's name, and how it was asked for (for messages).
        let profile = match (&args.profile, env.get("DL_PROFILE")) {
            (Some(name), _) => Some((name.clone(), format!("--profile {name}"))),
            (None, Some(name)) => {
                let name = name.to_string_lossy().into_owned();
                Some((name.clone(), format!("DL_PROFILE={name}")))
            }
            (None, None) => None,
        };
        let file_layer = match (read_config(args.config.as_deref(), &env)?, profile) {
            (Ok(file), profile) => {
                tracing::debug!(file = file.name(), profile = ?profile, "config file");
                let profile = profile
                    .as_ref()
                    .map(|(name, asked)| (name.as_str(), asked.as_str()));
                file.layer(profile, env.home().as_deref())?
            }
            (Err(looked), Some((name, asked))) => {
                return Err(ConfigError::Profile(format!(
                    "{asked}: no config file was found to hold [profile.{name}] ({looked}); \
                     write one there, or name one with --config FILE or DL_CONFIG"
                )));
            }
            (Err(_), None) => Layer::default(),
        };
        let merged = Layer::from_args(args)
            .over(Layer::from_env(&env)?)
            .over(file_layer);
        let mut settings = merged.resolve(args, stderr_is_terminal);
        settings.load_cacerts()?;
        settings.load_netrc(&env)?;
        Ok(settings)
    }

    /// Reads the netrc file asked for, before any request: `--netrc-file FILE` (or the
    /// config file's `netrc-file`) must be readable; with `--netrc` alone, `$NETRC` or else
    /// `~/.netrc` may be missing (a warning). A syntax error is a usage error at FILE:LINE.
    fn load_netrc(&mut self, env: &Env) -> Result<(), ConfigError> {
        let (path, option) = match (self.netrc, &self.netrc_file) {
            (false, _) => return Ok(()),
            (true, Some(file)) => (file.clone(), "--netrc-file"),
            (true, None) => match (env.get("NETRC"), env.home()) {
                (Some(path), _) => (PathBuf::from(path), "--netrc"),
                (None, Some(home)) => (home.join(".netrc"), "--netrc"),
                (None, None) => {
                    tracing::warn!("--netrc: neither NETRC nor HOME is set: no netrc file read");
                    return Ok(());
                }
            },
        };
        let file = path.display().to_string();
        match read_netrc(&path) {
            Ok(netrc) => {
                tracing::info!("{option}: credentials from {file}");
                self.engine.netrc = Some(netrc);
                Ok(())
            }
            Err(NetrcError::Read(e))
                if option == "--netrc" && e.kind() == std::io::ErrorKind::NotFound =>
            {
                tracing::warn!("--netrc: {file} does not exist: no credentials are read");
                Ok(())
            }
            Err(NetrcError::Read(e)) => Err(ConfigError::Netrc {
                option,
                file,
                message: format!("cannot read it: {e}"),
            }),
            Err(NetrcError::Syntax { line, message }) => Err(ConfigError::At {
                file,
                line,
                message: format!("netrc: {message}"),
            }),
        }
    }

    /// Reads every `--cacert` file into the trust, before any request: a file that is missing
    /// or holds no usable certificate is a usage error naming it.
    fn load_cacerts(&mut self) -> Result<(), ConfigError> {
        for file in &self.cacert {
            let certs = read_ca_file(file).map_err(|message| ConfigError::Cacert {
                file: file.display().to_string(),
                message,
            })?;
            self.engine.trust.extra.extend(certs);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
