//! Reading one config file: TOML text → the settings of its top level and of each
//! `[profile.NAME]` table. Every problem is located at `FILE:LINE` and names its key. Pure:
//! the caller reads the file; `${VAR}` in header values and a leading `~` in `dir` are expanded
//! only for the tables actually used.

use super::{CONFIG_KEYS, ConfigError, Layer};
use crate::secret::Secret;
use reqwest::header::{HeaderName, HeaderValue};
use std::collections::BTreeMap;
use std::path::Path;
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue};

/// Why `key`, a long option (or near enough), is not a config key.
fn command_line_only(key: &str) -> Option<String> {
    Some(match key {
        "json"
        | "dry-run"
        | "shard"
        | "allow-empty"
        | "quiet"
        | "verbose"
        | "location-trusted"
        | "content-disposition"
        | "compressed" => {
            format!("--{key} is chosen per run, on the command line")
        }
        "report" => "--report files are chosen per run, on the command line".to_string(),
        "config" => "a config file cannot name another one".to_string(),
        "output" => "-o names the one file of a run's input; it is not a setting".to_string(),
        "no-netrc" => {
            "--no-netrc undoes netrc for one run; in a file, write netrc = false".to_string()
        }
        "insecure" | "k" => {
            "--insecure is chosen per run, on the command line: a file must not turn off \
             certificate checks for every run"
                .to_string()
        }
        "header" => "extra headers go in a table: headers = { Name = \"value\" }".to_string(),
        "profile" => "profiles cannot be nested".to_string(),
        "source" | "sources" => "SOURCEs are given on the command line".to_string(),
        _ => return None,
    })
}

/// A parsed config file.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    name: String,
    top: Table,
    profiles: BTreeMap<String, Table>,
}

/// The settings of one table, before expansion.
#[derive(Debug, Clone, Default)]
struct Table {
    values: Layer,
    headers: Vec<RawHeader>,
}

#[derive(Debug, Clone)]
struct RawHeader {
    name: HeaderName,
    value: Secret<String>,
    /// Byte offset of the value while parsing, then its line.
    line: usize,
}

/// Problems found while reading, as (byte offset, message).
type Problems = Vec<(usize, String)>;

impl ConfigFile {
    /// Parses `text`; `name` is how the file is shown in messages. Every table is checked,
    /// including profiles that will not be used; the first problem (by line) is returned.
    pub fn parse(name: &str, text: &str) -> Result<ConfigFile, ConfigError> {
        let at = |offset: usize, message: String| ConfigError::At {
            file: name.to_string(),
            line: line_of(text, offset),
            message,
        };
        let root = DeTable::parse(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            at(offset, format!("invalid TOML: {}", e.message().trim_end()))
        })?;
        let mut file = ConfigFile {
            name: name.to_string(),
            top: Table::default(),
            profiles: BTreeMap::new(),
        };
        let mut problems = Problems::new();
        for (key, value) in root.get_ref() {
            if key.get_ref() == "profile" {
                file.read_profiles(value, &mut problems);
            } else {
                file.top.entry(key, value, "", &mut problems);
            }
        }
        if let Some((offset, message)) = problems.into_iter().min_by_key(|(offset, _)| *offset) {
            return Err(at(offset, message));
        }
        for table in std::iter::once(&mut file.top).chain(file.profiles.values_mut()) {
            for header in &mut table.headers {
                header.line = line_of(text, header.line);
            }
        }
        Ok(file)
    }

    fn read_profiles(&mut self, value: &Spanned<DeValue>, problems: &mut Problems) {
        let DeValue::Table(profiles) = value.get_ref() else {
            let message = "profile: write each profile as a table, [profile.NAME]";
            return problems.push((value.span().start, message.to_string()));
        };
        for (name, table) in profiles {
            let DeValue::Table(entries) = table.get_ref() else {
                let message = format!(
                    "profile.{0}: a profile is a table: write [profile.{0}]",
                    name.get_ref()
                );
                problems.push((name.span().start, message));
                continue;
            };
            let context = format!(" in [profile.{}]", name.get_ref());
            let mut profile = Table::default();
            for (key, value) in entries {
                profile.entry(key, value, &context, problems);
            }
            self.profiles.insert(name.get_ref().to_string(), profile);
        }
    }

    /// How the file is shown in messages.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The names of its `[profile.NAME]` tables, sorted.
    pub fn profile_names(&self) -> impl Iterator<Item = &str> {
        self.profiles.keys().map(String::as_str)
    }

    /// The settings of the top level, with `profile` over it: its name, and how it was asked
    /// for (`--profile ci`, `DL_PROFILE=ci`) for messages.
    pub(super) fn layer(
        &self,
        profile: Option<(&str, &str)>,
        home: Option<&Path>,
    ) -> Result<Layer, ConfigError> {
        let top = self.top.expand(&self.name, home)?;
        let Some((name, asked)) = profile else {
            return Ok(top);
        };
        let Some(table) = self.profiles.get(name) else {
            let known = if self.profiles.is_empty() {
                "it has no [profile.NAME] tables".to_string()
            } else {
                format!(
                    "known profiles: {}",
                    self.profiles.keys().cloned().collect::<Vec<_>>().join(", ")
                )
            };
            return Err(ConfigError::Profile(format!(
                "{asked}: there is no [profile.{name}] in {}; {known}",
                self.name
            )));
        };
        Ok(table.expand(&self.name, home)?.over(top))
    }
}

impl Table {
    /// Reads one `key = value`; `context` says which table it is in, for messages.
    fn entry(
        &mut self,
        key: &Spanned<DeString>,
        value: &Spanned<DeValue>,
        context: &str,
        problems: &mut Problems,
    ) {
        let name = key.get_ref().as_ref();
        if name == "headers" {
            return self.read_headers(value, problems);
        }
        if !CONFIG_KEYS.contains(&name) {
            return problems.push((key.span().start, unknown_key(name, context)));
        }
        if name == "cacert"
            && let DeValue::Array(items) = value.get_ref()
        {
            return self.read_paths(items, problems);
        }
        let text = match value.get_ref() {
            DeValue::String(s) => s.to_string(),
            DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix())
                .map_or_else(|_| i.as_str().to_string(), |n| n.to_string()),
            DeValue::Float(f) => f.as_str().to_string(),
            DeValue::Boolean(b) => b.to_string(),
            other => {
                let message = format!(
                    "{name}: expected a string or a number, found {}",
                    article(other.type_str())
                );
                return problems.push((value.span().start, message));
            }
        };
        if let Err(message) = self.values.set(name, &text) {
            problems.push((
                value.span().start,
                format!("{name}: {}", message.unwrap_or_default()),
            ));
        }
    }

    /// `cacert = ["a.pem", "b.pem"]`: several files (one is `cacert = "a.pem"`).
    fn read_paths(&mut self, items: &toml::de::DeArray, problems: &mut Problems) {
        let mut files = Vec::new();
        for item in items {
            let DeValue::String(path) = item.get_ref() else {
                let message = format!(
                    "cacert: expected a file name, found {}",
                    article(item.get_ref().type_str())
                );
                return problems.push((item.span().start, message));
            };
            files.push(std::path::PathBuf::from(path.as_ref()));
        }
        self.values.cacert = Some(files);
    }

    fn read_headers(&mut self, value: &Spanned<DeValue>, problems: &mut Problems) {
        let DeValue::Table(headers) = value.get_ref() else {
            let message =
                "headers: expected a table, like headers = { \"X-Token\" = \"${TOKEN}\" }";
            return problems.push((value.span().start, message.to_string()));
        };
        for (name, value) in headers {
            let Ok(header) = HeaderName::from_bytes(name.get_ref().as_bytes()) else {
                let message = format!("headers: {:?} is not a valid header name", name.get_ref());
                problems.push((name.span().start, message));
                continue;
            };
            let DeValue::String(text) = value.get_ref() else {
                let message = format!(
                    "headers.{header}: expected a string, found {}",
                    article(value.get_ref().type_str())
                );
                problems.push((value.span().start, message));
                continue;
            };
            self.headers.retain(|h| h.name != header);
            self.headers.push(RawHeader {
                name: header,
                value: Secret::new(text.to_string()),
                line: value.span().start,
            });
        }
    }

    /// The layer this table sets: `~` in `dir`, `netrc-file` and `cacert` and `${VAR}` in
    /// header values expanded.
    fn expand(&self, file: &str, home: Option<&Path>) -> Result<Layer, ConfigError> {
        let mut layer = self.values.clone();
        if let (Some(dir), Some(home)) = (&layer.dir, home)
            && let Ok(rest) = dir.strip_prefix("~")
        {
            layer.dir = Some(home.join(rest));
        }
        if let (Some(file), Some(home)) = (&layer.netrc_file, home)
            && let Ok(rest) = file.strip_prefix("~")
        {
            layer.netrc_file = Some(home.join(rest));
        }
        if let (Some(files), Some(home)) = (&mut layer.cacert, home) {
            for path in files {
                if let Ok(rest) = path.strip_prefix("~") {
                    *path = home.join(rest);
                }
            }
        }
        for header in &self.headers {
            let value = crate::input::expand_env(header.value.expose())
                .and_then(|v| {
                    HeaderValue::from_str(&v)
                        .map_err(|_| "the value has characters not allowed in a header".to_string())
                })
                .map_err(|e| ConfigError::At {
                    file: file.to_string(),
                    line: header.line,
                    message: format!("headers.{}: {e}", header.name),
                })?;
            layer
                .headers
                .get_or_insert_default()
                .push((header.name.clone(), Secret::new(value)));
        }
        Ok(layer)
    }
}

/// `unknown key "wokers" (did you mean "workers"?)`, or why a long option is no key.
fn unknown_key(name: &str, context: &str) -> String {
    let mut message = format!("unknown key {name:?}{context}");
    let normalised = name.replace('_', "-").to_ascii_lowercase();
    if let Some(why) = command_line_only(&normalised) {
        message.push_str(&format!(": {why}"));
    } else if let Some(best) = CONFIG_KEYS
        .iter()
        .map(|k| (edit_distance(&normalised, k), k))
        .filter(|(d, _)| *d <= 2)
        .min()
    {
        message.push_str(&format!(" (did you mean {:?}?)", best.1));
    }
    message
}

fn article(type_name: &str) -> String {
    let vowel = type_name.starts_with(['a', 'e', 'i', 'o', 'u']);
    format!("{} {type_name}", if vowel { "an" } else { "a" })
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let next = (row[j + 1] + 1)
                .min(row[j] + 1)
                .min(diagonal + usize::from(ca != *cb));
            diagonal = row[j + 1];
            row[j + 1] = next;
        }
    }
    row[b.len()]
}

/// The 1-based line of byte `offset` in `text`.
fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}
