//! Making untrusted text (server messages, names from URLs and servers) safe to show on a
//! terminal. A leaf: every layer that builds a message from untrusted text may use it.

use std::borrow::Cow;

/// Makes untrusted text (server messages, names) safe to print on a terminal: control
/// characters are shown escaped instead of being interpreted. Text without any is borrowed.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(sanitize("ok"), "ok");
        assert_eq!(sanitize("a\u{1b}[2Jb\n"), "a\\u{1b}[2Jb\\n");
    }
}
