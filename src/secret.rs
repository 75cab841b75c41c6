//! Keeping credentials out of output and logs: a `Secret` wrapper whose `Debug`/`Display` print
//! a placeholder, and URL redaction (passwords are replaced before a URL is shown anywhere).

use std::fmt;

/// A value that must never be printed: `Debug` and `Display` show `***`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret<T>(T);

impl<T> Secret<T> {
    pub fn new(value: T) -> Self {
        Secret(value)
    }
    /// The real value, for the one place that needs it (building the request).
    pub fn expose(&self) -> &T {
        &self.0
    }
}

impl<T> fmt::Debug for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl<T> fmt::Display for Secret<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// The URL as it may be shown: a password, if any, becomes `***`.
pub fn redact_url(url: &url::Url) -> String {
    if url.password().is_some() {
        let mut shown = url.clone();
        // Setting a password only fails for URLs that cannot have one, and this one has one.
        let _ = shown.set_password(Some("***"));
        shown.to_string()
    } else {
        url.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted() {
        let url = url::Url::parse("https://me:hunter2@example.com/a?b=c").unwrap();
        assert_eq!(redact_url(&url), "https://me:***@example.com/a?b=c");
        let plain = url::Url::parse("https://example.com/a").unwrap();
        assert_eq!(redact_url(&plain), "https://example.com/a");
        assert_eq!(format!("{:?}", Secret::new("token")), "***");
    }
}

/// Redacts the password of something that may or may not parse as a URL (a raw argument).
pub fn redact_str(text: &str) -> String {
    let Some(scheme_end) = text.find("://") else {
        return text.to_string();
    };
    let authority_start = scheme_end + 3;
    let authority_len = text[authority_start..]
        .find(['/', '?', '#'])
        .unwrap_or(text.len() - authority_start);
    let authority = &text[authority_start..authority_start + authority_len];
    match authority.rfind('@') {
        Some(at) if authority[..at].contains(':') => {
            let colon = authority[..at].find(':').unwrap_or(at);
            format!(
                "{}{}:***{}",
                &text[..authority_start],
                &authority[..colon],
                &text[authority_start + at..]
            )
        }
        _ => text.to_string(),
    }
}

#[cfg(test)]
mod redact_str_tests {
    #[test]
    fn raw_arguments_are_redacted() {
        assert_eq!(super::redact_str("ftp://u:p@h/x"), "ftp://u:***@h/x");
        assert_eq!(super::redact_str("http://h/a:b@c"), "http://h/a:b@c");
        assert_eq!(super::redact_str("not a url"), "not a url");
        assert_eq!(super::redact_str("http://u@h/"), "http://u@h/");
    }
}
