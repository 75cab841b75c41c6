//! Making untrusted text (server messages, names from URLs and servers) safe to show on a
//! terminal. A leaf: every layer that builds a message from untrusted text may use it.

use std::borrow::Cow;

/// Whether `c` is a bidirectional formatting character: the embeddings and overrides
/// (U+202A–U+202E), the isolates (U+2066–U+2069) and the marks (U+200E, U+200F, U+061C).
/// They reorder the text around them on display, so `evil\u{202e}txt.exe` shows as
/// `evilexe.txt` (CVE-2021-42574, "Trojan Source").
pub fn is_bidi_control(c: char) -> bool {
    matches!(
        c,
        '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
    )
}

/// Whether `c` changes how the text around it is shown rather than showing itself: control
/// characters and bidirectional formatting characters. Such characters are escaped on a
/// terminal and kept out of file names.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() || is_bidi_control(c)
}

/// Makes untrusted text (server messages, names) safe to print on a terminal: control and
/// bidirectional formatting characters are shown escaped (`\u{202e}`) instead of being
/// interpreted. Text without any is borrowed.
pub fn sanitize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(
        text.chars()
            .map(|c| {
                if is_unsafe_char(c) {
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

    #[test]
    fn bidirectional_formatting_characters_are_escaped() {
        assert_eq!(sanitize("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        for c in [
            '\u{202a}', '\u{202e}', '\u{2066}', '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}',
        ] {
            let shown = sanitize(&format!("a{c}b")).into_owned();
            assert_eq!(shown, format!("a{}b", c.escape_default()), "{c:?}");
            assert!(!shown.contains(c));
        }
        // Neighbours of the ranges are ordinary text and stay borrowed.
        for c in [
            '\u{2029}', '\u{202f}', '\u{2065}', '\u{206a}', '\u{200d}', '\u{61b}', 'é',
        ] {
            assert!(
                matches!(sanitize(&format!("a{c}b")), Cow::Borrowed(_)),
                "{c:?}"
            );
        }
    }
}
