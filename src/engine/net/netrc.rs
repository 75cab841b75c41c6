//! Reading netrc files (`--netrc`, `--netrc-file`) into [`Netrc`] credentials, and choosing
//! the credentials one request may carry. The format is curl's: whitespace-separated tokens,
//! across lines as well as within them: `machine NAME`, `default`, then `login L`,
//! `password P`, `account A` (ignored); `macdef NAME` starts a macro, skipped from the next
//! line up to a blank one; where a keyword is expected, `#` starts a comment to the end of
//! the line. A token may be quoted, `"like this"`, with `\"`, `\\`, `\n`, `\r` and `\t`
//! escapes inside. Messages name the line, never a token's text (it may be a password).

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

/// One token and the line it is on (from 1).
struct Token {
    text: String,
    line: usize,
    quoted: bool,
}

/// Reads tokens one at a time, so that the parser can skip what is not made of tokens (a
/// comment's rest of line, a macro's body).
struct Lexer<'a> {
    lines: Vec<&'a str>,
    /// The current line's index, and the byte offset reached in it.
    line: usize,
    pos: usize,
}

impl<'a> Lexer<'a> {
    fn new(text: &'a str) -> Lexer<'a> {
        Lexer {
            lines: text.lines().collect(),
            line: 0,
            pos: 0,
        }
    }

    /// The next token, or `None` at the end of the text.
    fn next(&mut self) -> Result<Option<Token>, NetrcError> {
        loop {
            let Some(&text) = self.lines.get(self.line) else {
                return Ok(None);
            };
            let rest = &text[self.pos..];
            let start = rest.len() - rest.trim_start().len();
            if start == rest.len() {
                self.skip_line();
                continue;
            }
            self.pos += start;
            let line = self.line + 1;
            let mut chars = text[self.pos..].char_indices().peekable();
            let mut token = String::new();
            let quoted = text[self.pos..].starts_with('"');
            let mut end = None;
            if quoted {
                chars.next();
                while let Some((at, c)) = chars.next() {
                    match c {
                        '"' => {
                            end = Some(at + 1);
                            break;
                        }
                        '\\' => match chars.next() {
                            Some((_, 'n')) => token.push('\n'),
                            Some((_, 'r')) => token.push('\r'),
                            Some((_, 't')) => token.push('\t'),
                            Some((_, other)) => token.push(other),
                            None => break,
                        },
                        c => token.push(c),
                    }
                }
                if end.is_none() {
                    return Err(syntax(line, "a quoted word is not closed on its line"));
                }
            } else {
                for (at, c) in chars {
                    if c.is_whitespace() {
                        end = Some(at);
                        break;
                    }
                    token.push(c);
                }
            }
            self.pos += end.unwrap_or(text.len() - self.pos);
            return Ok(Some(Token {
                text: token,
                line,
                quoted,
            }));
        }
    }

    /// Skips the rest of the current line.
    fn skip_line(&mut self) {
        self.line += 1;
        self.pos = 0;
    }

    /// Skips a macro's body: the lines after the current one, up to and including the first
    /// blank one.
    fn skip_macro(&mut self) {
        self.skip_line();
        while let Some(&text) = self.lines.get(self.line) {
            self.skip_line();
            if text.trim().is_empty() {
                break;
            }
        }
    }
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

impl Entry {
    fn new(machine: Option<String>, line: usize) -> Entry {
        Entry {
            machine,
            line,
            login: None,
            password: None,
        }
    }

    /// Adds the entry to `netrc`. One without `login` is left out (nothing to send); one
    /// without `password` sends an empty one. Only the first `default` counts, as only the
    /// first entry for a machine does.
    fn finish(self, netrc: &mut Netrc) {
        let Some(login) = self.login else {
            tracing::debug!("the netrc entry at line {} has no login: unused", self.line);
            return;
        };
        let login = NetrcLogin {
            login,
            password: Secret::new(self.password.unwrap_or_default()),
        };
        match self.machine {
            Some(name) => netrc.machines.push((name.to_ascii_lowercase(), login)),
            None => {
                netrc.default.get_or_insert(login);
            }
        }
    }
}

/// Parses the text of a netrc file.
pub(super) fn parse(text: &str) -> Result<Netrc, NetrcError> {
    let mut netrc = Netrc::default();
    let mut entry: Option<Entry> = None;
    let mut lexer = Lexer::new(text);
    while let Some(token) = lexer.next()? {
        let line = token.line;
        let mut value = |what: &str| match lexer.next()? {
            Some(t) => Ok(t.text),
            None => Err(syntax(line, &format!("{what} needs a value after it"))),
        };
        match token.text.as_str() {
            // Where a keyword is expected, `#` starts a comment (a value may start with `#`).
            word if word.starts_with('#') && !token.quoted => lexer.skip_line(),
            "machine" => {
                let name = value("machine")?;
                if let Some(done) = entry.replace(Entry::new(Some(name), line)) {
                    done.finish(&mut netrc);
                }
            }
            "default" => {
                if let Some(done) = entry.replace(Entry::new(None, line)) {
                    done.finish(&mut netrc);
                }
            }
            "macdef" => {
                value("macdef")?;
                lexer.skip_macro();
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
    if let Some(done) = entry {
        done.finish(&mut netrc);
    }
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
                    machine files.test login me password #p1 # mine\n\
                    machine\n  OTHER.test\n  login \"two words\"\n  password \"q\\\"x\"\n\
                    macdef init\ncd /pub\nmachine evil.test login no password no\n\n\
                    default login anon password \"\"\n";
        let netrc = parse(text).unwrap();
        assert_eq!(login(&netrc, "files.test"), pair("me", "#p1"));
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
            ("machine a\nmacdef m \"x\n\"unclosed\n\n\"open", 5),
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
