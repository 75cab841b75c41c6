//! Reading netrc files (`--netrc`, `--netrc-file`) into [`Netrc`] credentials, and choosing
//! the credentials one request may carry. The format is curl's: whitespace-separated tokens,
//! across lines as well as within them: `machine NAME`, `default`, then `login L`,
//! `password P`, `account A` (ignored); `macdef NAME` starts a macro, skipped up to the next
//! blank line; a line whose first non-blank character is `#` is a comment. A token may be
//! quoted, `"like this"`, with `\"`, `\\`, `\n`, `\r` and `\t` escapes inside. Messages name
//! the line, never a token's text (it may be a password).

use crate::engine::config::{Netrc, NetrcLogin};
use crate::secret::Secret;
use std::path::Path;

/// Why a netrc file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum NetrcError {
    #[error("cannot read it: {0}")]
    Read(#[source] std::io::Error),
    /// A syntax error at a line (from 1).
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
}

/// Reads and parses the netrc file at `path`.
pub fn read_netrc(path: &Path) -> Result<Netrc, NetrcError> {
    let text = std::fs::read(path).map_err(NetrcError::Read)?;
    parse(&String::from_utf8_lossy(&text))
}

/// One token and the line it starts on.
struct Token {
    text: String,
    line: usize,
}

/// Splits `text` into tokens, skipping comment lines and `macdef` bodies.
fn tokens(text: &str) -> Result<Vec<Token>, NetrcError> {
    let mut out = Vec::new();
    let mut in_macro = false;
    for (index, line_text) in text.lines().enumerate() {
        let line = index + 1;
        if in_macro {
            // A macro body ends at the first empty (or blank) line.
            in_macro = !line_text.trim().is_empty();
            continue;
        }
        if line_text.trim_start().starts_with('#') {
            continue;
        }
        let mut chars = line_text.chars().peekable();
        let before = out.len();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() {
                chars.next();
                continue;
            }
            let mut token = String::new();
            if c == '"' {
                chars.next();
                let mut closed = false;
                while let Some(c) = chars.next() {
                    match c {
                        '"' => {
                            closed = true;
                            break;
                        }
                        '\\' => token.push(match chars.next() {
                            Some('n') => '\n',
                            Some('r') => '\r',
                            Some('t') => '\t',
                            Some(other) => other,
                            None => break,
                        }),
                        c => token.push(c),
                    }
                }
                if !closed {
                    return Err(syntax(line, "a quoted word is not closed on its line"));
                }
            } else {
                while let Some(&c) = chars.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    token.push(c);
                    chars.next();
                }
            }
            out.push(Token { text: token, line });
        }
        // `macdef NAME` on this line: the lines after it, up to a blank one, are its body.
        let words: Vec<_> = out[before..].iter().map(|t| t.text.as_str()).collect();
        if let Some(at) = words.iter().position(|w| *w == "macdef") {
            if at + 1 >= words.len() {
                return Err(syntax(line, "macdef needs a name on its line"));
            }
            out.truncate(before + at);
            in_macro = true;
        }
    }
    Ok(out)
}

fn syntax(line: usize, message: &str) -> NetrcError {
    NetrcError::Syntax {
        line,
        message: message.to_string(),
    }
}

/// An entry being read: which one, and what it has said so far.
struct Entry {
    machine: Option<String>,
    line: usize,
    login: Option<String>,
    password: Option<String>,
}

/// Parses the text of a netrc file. An entry without `login` is kept out (nothing to send);
/// an entry without `password` sends an empty one.
pub(super) fn parse(text: &str) -> Result<Netrc, NetrcError> {
    let mut netrc = Netrc::default();
    let mut entry: Option<Entry> = None;
    let mut iter = tokens(text)?.into_iter();
    let finish = |entry: Option<Entry>, netrc: &mut Netrc| {
        let Some(Entry {
            machine,
            login: Some(login),
            password,
            ..
        }) = entry
        else {
            return;
        };
        let login = NetrcLogin {
            login,
            password: Secret::new(password.unwrap_or_default()),
        };
        match machine {
            Some(name) => netrc.machines.push((name.to_ascii_lowercase(), login)),
            // Only the first `default` counts, as only the first entry for a machine does.
            None => {
                netrc.default.get_or_insert(login);
            }
        }
    };
    while let Some(token) = iter.next() {
        let line = token.line;
        let mut value = |what: &str| {
            iter.next()
                .map(|t| t.text)
                .ok_or_else(|| syntax(line, &format!("{what} needs a value after it")))
        };
        match token.text.as_str() {
            "machine" => {
                let name = value("machine")?;
                finish(entry.take(), &mut netrc);
                entry = Some(Entry {
                    machine: Some(name),
                    line,
                    login: None,
                    password: None,
                });
            }
            "default" => {
                finish(entry.take(), &mut netrc);
                entry = Some(Entry {
                    machine: None,
                    line,
                    login: None,
                    password: None,
                });
            }
            keyword @ ("login" | "password" | "account") => {
                let text = value(keyword)?;
                let Some(current) = entry.as_mut() else {
                    return Err(syntax(
                        line,
                        &format!("{keyword} before any machine or default entry"),
                    ));
                };
                match keyword {
                    "login" => current.login = Some(text),
                    "password" => current.password = Some(text),
                    _ => {}
                }
            }
            _ => {
                return Err(syntax(
                    line,
                    "unexpected word (expected machine, default, login, password, account \
                     or macdef)",
                ));
            }
        }
    }
    if let Some(Entry {
        login: None, line, ..
    }) = &entry
    {
        tracing::debug!("the netrc entry at line {line} has no login: it is not used");
    }
    finish(entry, &mut netrc);
    Ok(netrc)
}

/// The netrc credentials a request for `at`, reached from `original`, may carry: only for
/// `original`'s host (a redirect to another host gets none, whatever netrc holds for it),
/// and only when the user gave no credentials of their own (`user_auth`: URL credentials or
/// an `Authorization` header).
pub(super) fn credentials_for<'a>(
    netrc: Option<&'a Netrc>,
    original: &url::Url,
    at: &url::Url,
    user_auth: bool,
) -> Option<&'a NetrcLogin> {
    let netrc = netrc?;
    if user_auth || !at.username().is_empty() || at.password().is_some() {
        return None;
    }
    let host = at.host_str()?;
    if original.host_str() != Some(host) {
        return None;
    }
    netrc.lookup(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn login(netrc: &Netrc, host: &str) -> Option<(String, String)> {
        netrc
            .lookup(host)
            .map(|l| (l.login.clone(), l.password.expose().clone()))
    }

    fn pair(login: &str, password: &str) -> Option<(String, String)> {
        Some((login.into(), password.into()))
    }

    #[test]
    fn machines_default_macros_and_quotes() {
        let text = "# a comment\n\
                    machine files.test login me password p1\n\
                    machine\n  OTHER.test\n  login \"two words\"\n  password \"q\\\"x\"\n\
                    macdef init\ncd /pub\nmachine evil.test login no password no\n\n\
                    default login anon password \"\"\n";
        let netrc = parse(text).unwrap();
        assert_eq!(login(&netrc, "files.test"), pair("me", "p1"));
        assert_eq!(login(&netrc, "other.test"), pair("two words", "q\"x"));
        assert_eq!(login(&netrc, "evil.test"), pair("anon", ""));
        assert_eq!(login(&netrc, "elsewhere"), pair("anon", ""));
        assert_eq!(netrc.machines.len(), 2, "the macro's body is skipped");
    }

    #[test]
    fn the_first_entry_for_a_host_wins_and_no_default_means_nothing() {
        let netrc = parse("machine h login a password 1 machine h login b password 2").unwrap();
        assert_eq!(login(&netrc, "h"), pair("a", "1"));
        assert_eq!(login(&netrc, "x"), None);
    }

    #[test]
    fn errors_name_the_line_and_never_the_word() {
        for (text, line) in [
            ("machine a login x\npassword", 2),
            ("login x", 1),
            ("machine a\nlogin x\nsecretword", 3),
            ("machine a password \"open", 1),
            ("macdef", 1),
        ] {
            match parse(text) {
                Err(NetrcError::Syntax { line: got, message }) => {
                    assert_eq!(got, line, "{text:?}: {message}");
                    assert!(!message.contains("secretword") && !message.contains("open"));
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
    }

    #[test]
    fn credentials_go_only_to_the_original_host_without_its_own() {
        let netrc = parse("machine a.test login u password p\ndefault login d password q").unwrap();
        let url = |s: &str| url::Url::parse(s).unwrap();
        let a = url("http://a.test/f");
        let got = |at: &str, user: bool| {
            credentials_for(Some(&netrc), &a, &url(at), user).map(|l| l.login.clone())
        };
        assert_eq!(got("http://a.test/f", false), Some("u".into()));
        assert_eq!(got("https://a.test:8443/g", false), Some("u".into()));
        assert_eq!(got("http://b.test/f", false), None, "another host");
        assert_eq!(got("http://a.test/f", true), None, "the user's own");
        assert_eq!(got("http://x:y@a.test/f", false), None);
        let b = url("http://b.test/f");
        let default = credentials_for(Some(&netrc), &b, &b, false).map(|l| l.login.clone());
        assert_eq!(default, Some("d".into()));
    }
}
