//! Error types. `Error` is fatal for a whole run (usage, input diagnostics, config, I/O before
//! the first request); `FailureKind` is the typed reason one file failed, which never stops the
//! others. The documented `error.kind` strings live in one match: [`FailureKind::kind`].

use std::fmt;

/// A fatal error: the run does not start (or stops before the first request).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Input or plan problems, all of them, each with its `SOURCE:LINE`.
    #[error("{} problem(s) in the input; nothing was downloaded", .0.len())]
    Input(Vec<Diagnostic>),
    /// Building the HTTP client failed.
    #[error("cannot set up the HTTP client: {0}")]
    Client(String),
    /// A local I/O problem before any download started.
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
}

/// One problem found in the input, located at `SOURCE:LINE` (line 0 = the source as a whole).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub source: String,
    pub line: u32,
    pub message: String,
}

impl Diagnostic {
    pub fn new(source: impl Into<String>, line: u32, message: impl Into<String>) -> Self {
        Diagnostic {
            source: source.into(),
            line,
            message: message.into(),
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.source, self.message)
        } else {
            write!(f, "{}:{}: {}", self.source, self.line, self.message)
        }
    }
}

/// Why one file failed. `kind()` gives the documented JSON `error.kind` string.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The server answered with a status that is not a success (the code is kept).
    HttpStatus(u16),
    /// Connecting failed, the connection was reset, or the body ended early.
    Network,
    /// No answer or no body bytes within the timeout, or slower than `--min-speed`.
    Timeout,
    /// The content does not match the expected checksum.
    Checksum,
    /// Larger than `--max-size`.
    TooLarge,
    /// A local file-system problem (disk full, permissions, ...).
    Io,
    /// The server's answer makes no sense (more bytes than announced, bad headers, ...).
    InvalidResponse,
    /// The destination already exists and `--on-exist fail` was asked for.
    Exists,
    /// Too many redirects, or a redirect loop.
    Redirect,
    /// The host stayed unreachable: the circuit breaker gave up on it.
    HostUnavailable,
    /// The TLS handshake failed: most often a certificate the client does not trust.
    /// Retrying cannot fix it; `--cacert` or `-k` can.
    Tls,
    /// A file of a group that was not started because another member failed for good.
    GroupFailed,
}

impl FailureKind {
    /// The documented `error.kind` string (README "JSON summary").
    pub fn kind(self) -> &'static str {
        match self {
            FailureKind::HttpStatus(_) => "http_status",
            FailureKind::Network => "network",
            FailureKind::Timeout => "timeout",
            FailureKind::Checksum => "checksum",
            FailureKind::TooLarge => "too_large",
            FailureKind::Io => "io",
            FailureKind::InvalidResponse => "invalid_response",
            FailureKind::Exists => "exists",
            FailureKind::Redirect => "redirect",
            FailureKind::HostUnavailable => "host_unavailable",
            FailureKind::Tls => "tls",
            FailureKind::GroupFailed => "group_failed",
        }
    }

    /// Whether another attempt could succeed (SPEC §4): connect errors, resets, timeouts,
    /// truncated bodies, 408, 429 and 5xx except 501/505. Everything else is permanent.
    pub fn is_transient(self) -> bool {
        match self {
            FailureKind::HttpStatus(code) => {
                code == 408
                    || code == 429
                    || ((500..600).contains(&code) && code != 501 && code != 505)
            }
            FailureKind::Network | FailureKind::Timeout => true,
            FailureKind::Checksum
            | FailureKind::TooLarge
            | FailureKind::Io
            | FailureKind::InvalidResponse
            | FailureKind::Exists
            | FailureKind::Redirect
            | FailureKind::HostUnavailable
            | FailureKind::Tls
            | FailureKind::GroupFailed => false,
        }
    }

    /// Whether re-running the same command later could help (the JSON `retryable`): the
    /// transient kinds, and a host that was down during this run.
    pub fn retryable(self) -> bool {
        self.is_transient()
            || matches!(
                self,
                FailureKind::HostUnavailable | FailureKind::GroupFailed
            )
    }
}

/// One file's failure: a typed kind plus a human message that names what went wrong. The
/// message is shared: many files failing for one reason (a host that is down) hold one copy.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FileError {
    pub kind: FailureKind,
    pub message: std::sync::Arc<str>,
}

impl FileError {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        FileError {
            kind,
            message: message.into().into(),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

#[cfg(test)]
mod tests {
    use super::FailureKind::*;

    #[test]
    fn transient_statuses_follow_the_spec() {
        for code in [408, 429, 500, 502, 503, 504, 599] {
            assert!(HttpStatus(code).is_transient(), "{code}");
        }
        for code in [400, 401, 403, 404, 410, 416, 501, 505] {
            assert!(!HttpStatus(code).is_transient(), "{code}");
        }
        assert!(Network.is_transient() && Timeout.is_transient());
        assert!(!Checksum.is_transient() && !TooLarge.is_transient() && !Io.is_transient());
        assert!(!Tls.is_transient() && !Tls.retryable());
    }
}
