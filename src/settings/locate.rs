//! Finding the config file (`--config FILE`, else `$DL_CONFIG`, else
//! `$XDG_CONFIG_HOME/dl/config.toml`, else `~/.config/dl/config.toml`) and reading it. A missing
//! default file is no file; a missing file that was named is an error.

use super::{ConfigError, ConfigFile, Env};
use std::path::{Path, PathBuf};

/// Where the config file comes from, for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    Flag,
    Var,
    Default,
}

impl Origin {
    fn describe(self) -> &'static str {
        match self {
            Origin::Flag => "--config",
            Origin::Var => "DL_CONFIG",
            Origin::Default => "the default location",
        }
    }
}

/// The config file to read and where it came from; or, when there is none, the default
/// locations that were looked at.
fn locate(flag: Option<&Path>, env: &Env) -> Result<(PathBuf, Origin), Vec<String>> {
    if let Some(path) = flag {
        return Ok((path.to_path_buf(), Origin::Flag));
    }
    if let Some(path) = env.get("DL_CONFIG") {
        return Ok((PathBuf::from(path), Origin::Var));
    }
    // XDG: a relative $XDG_CONFIG_HOME is invalid and ignored.
    let xdg = env
        .get("XDG_CONFIG_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute());
    match (xdg, env.home()) {
        (Some(dir), _) => Ok((dir.join("dl").join("config.toml"), Origin::Default)),
        (None, Some(home)) => Ok((
            home.join(".config").join("dl").join("config.toml"),
            Origin::Default,
        )),
        (None, None) => Err(vec![
            "$XDG_CONFIG_HOME and $HOME are both unset".to_string(),
        ]),
    }
}

/// `path` for messages: under `$HOME` it is written `~/...`.
pub(super) fn display_path(path: &Path, home: Option<&Path>) -> String {
    match home.and_then(|h| path.strip_prefix(h).ok()) {
        Some(rest) if path.is_absolute() => format!("~/{}", rest.display()),
        _ => path.display().to_string(),
    }
}

/// Reads and parses the config file, if there is one. A missing default file is no file;
/// a missing file named by `--config` or `$DL_CONFIG` is an error.
pub(super) fn read_config(
    flag: Option<&Path>,
    env: &Env,
) -> Result<Result<ConfigFile, String>, ConfigError> {
    let home = env.home();
    let (path, origin) = match locate(flag, env) {
        Ok(found) => found,
        Err(looked) => return Ok(Err(looked.join("; "))),
    };
    let shown = display_path(&path, home.as_deref());
    match std::fs::read_to_string(&path) {
        Ok(text) => Ok(Ok(ConfigFile::parse(&shown, &text)?)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && origin == Origin::Default => {
            Ok(Err(format!("{shown} does not exist")))
        }
        Err(source) => Err(ConfigError::Read {
            file: shown,
            origin: origin.describe(),
            source,
        }),
    }
}
