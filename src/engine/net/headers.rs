//! What response headers mean: `Retry-After`, `Content-Range` (satisfied and unsatisfied
//! forms), `Accept-Ranges`, `Content-Disposition` and `Last-Modified`; and the HTTP-date a
//! conditional request sends. Pure parsing and formatting; callers decide what to do with
//! the answers.

use std::time::{Duration, SystemTime};

/// Parses a `Retry-After` value: delay-seconds or an HTTP-date (RFC 9110 §10.2.3).
pub(in crate::engine) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(secs) = value.parse::<u64>() {
        return Some(Duration::from_secs(secs));
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(when.duration_since(now).unwrap_or(Duration::ZERO))
}

/// The resource's `Last-Modified` date, when the server sent one that parses.
pub(in crate::engine) fn last_modified(headers: &reqwest::header::HeaderMap) -> Option<SystemTime> {
    let value = headers.get(reqwest::header::LAST_MODIFIED)?.to_str().ok()?;
    parse_date(value)
}

/// An HTTP-date (RFC 9110 §5.6.7, any of its three forms).
pub(in crate::engine) fn parse_date(value: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(value.trim()).ok()
}

/// `when` as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), to the second below it.
/// `None` for a time an HTTP-date cannot name (before 1970 or after 9999): the caller then
/// asks unconditionally.
pub(in crate::engine) fn format_date(when: SystemTime) -> Option<String> {
    let secs = when.duration_since(SystemTime::UNIX_EPOCH).ok()?.as_secs();
    // 9999-12-31T23:59:59Z: httpdate panics past it.
    if secs > 253_402_300_799 {
        return None;
    }
    Some(httpdate::fmt_http_date(
        SystemTime::UNIX_EPOCH + Duration::from_secs(secs),
    ))
}

/// Whether the server says it takes byte ranges (`Accept-Ranges: bytes`).
pub(in crate::engine) fn accepts_ranges(headers: &reqwest::header::HeaderMap) -> bool {
    headers
        .get(reqwest::header::ACCEPT_RANGES)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(',')
                .any(|unit| unit.trim().eq_ignore_ascii_case("bytes"))
        })
}

/// `Content-Range: bytes FIRST-LAST/TOTAL` → (first, last, total). `None` for anything else
/// (including `*` totals and unsatisfied forms), which callers treat as "cannot splice".
pub(in crate::engine) fn parse_content_range(value: &str) -> Option<(u64, u64, Option<u64>)> {
    let rest = value.trim().strip_prefix("bytes")?.trim_start();
    let (range, total) = rest.split_once('/')?;
    let (first, last) = range.split_once('-')?;
    let first: u64 = first.trim().parse().ok()?;
    let last: u64 = last.trim().parse().ok()?;
    let total = match total.trim() {
        "*" => None,
        t => Some(t.parse().ok()?),
    };
    if last < first || total.is_some_and(|t| last >= t) {
        return None;
    }
    Some((first, last, total))
}

/// The total of an unsatisfied-range answer: `Content-Range: bytes */TOTAL`.
pub(in crate::engine) fn parse_unsatisfied_range(value: &str) -> Option<u64> {
    value
        .trim()
        .strip_prefix("bytes")?
        .trim_start()
        .strip_prefix("*/")?
        .trim()
        .parse()
        .ok()
}

/// The file name a `Content-Disposition` value suggests (RFC 6266): `filename*` (RFC 8187:
/// `UTF-8` or `ISO-8859-1`, percent-encoded) first, then `filename` (a token or a quoted
/// string). Raw text: the caller sanitises it like any name from a server.
pub(in crate::engine) fn content_disposition_filename(value: &str) -> Option<String> {
    let params = disposition_params(value);
    let extended = params
        .iter()
        .filter(|(name, _)| name.eq_ignore_ascii_case("filename*"))
        .find_map(|(_, value)| decode_ext_value(value));
    extended.or_else(|| {
        params
            .into_iter()
            .find(|(name, _)| name.eq_ignore_ascii_case("filename"))
            .map(|(_, value)| value)
    })
}

/// The `name=value` parameters after the disposition type, quoted strings unquoted.
fn disposition_params(value: &str) -> Vec<(String, String)> {
    let mut params = Vec::new();
    let mut chars = value.chars().peekable();
    // The disposition type itself.
    for c in chars.by_ref() {
        if c == ';' {
            break;
        }
    }
    loop {
        let name: String = chars.by_ref().take_while(|&c| c != '=').collect();
        let name = name.trim().trim_start_matches(';').trim().to_string();
        if name.is_empty() {
            return params;
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            while let Some(c) = chars.next() {
                match c {
                    '\\' => value.extend(chars.next()),
                    '"' => break,
                    c => value.push(c),
                }
            }
            for c in chars.by_ref() {
                if c == ';' {
                    break;
                }
            }
        } else {
            value = chars.by_ref().take_while(|&c| c != ';').collect();
            value = value.trim().to_string();
        }
        params.push((name, value));
    }
}

/// An RFC 8187 `ext-value`: `charset'language'percent-encoded`.
fn decode_ext_value(value: &str) -> Option<String> {
    let mut parts = value.splitn(3, '\'');
    let charset = parts.next()?.trim();
    let _language = parts.next()?;
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(parts.next()?).collect();
    if charset.eq_ignore_ascii_case("utf-8") {
        String::from_utf8(bytes).ok()
    } else if charset.eq_ignore_ascii_case("iso-8859-1") {
        Some(bytes.into_iter().map(char::from).collect())
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn content_disposition_table() {
        let cases: &[(&str, Option<&str>)] = &[
            ("attachment; filename=report.pdf", Some("report.pdf")),
            (
                "attachment; filename=\"two words.pdf\"",
                Some("two words.pdf"),
            ),
            ("inline; FILENAME=\"a\\\"b.txt\"", Some("a\"b.txt")),
            (
                "attachment; filename=\"fallback.txt\"; filename*=UTF-8''%E2%82%AC%20rates.txt",
                Some("\u{20ac} rates.txt"),
            ),
            (
                "attachment; filename*=iso-8859-1'en'%E9t%E9.txt",
                Some("\u{e9}t\u{e9}.txt"),
            ),
            // An unknown charset falls back to the plain name.
            (
                "attachment; filename*=koi8-r''%C1; filename=plain.txt",
                Some("plain.txt"),
            ),
            (
                "attachment; filename=\"semi;colon.txt\"; size=3",
                Some("semi;colon.txt"),
            ),
            (
                "attachment; filename=../../etc/passwd",
                Some("../../etc/passwd"),
            ),
            ("attachment", None),
            ("attachment; size=12", None),
            ("", None),
        ];
        for (value, want) in cases {
            assert_eq!(
                content_disposition_filename(value).as_deref(),
                *want,
                "{value:?}"
            );
        }
    }

    #[test]
    fn content_range_table() {
        type Range = Option<(u64, u64, Option<u64>)>;
        let cases: &[(&str, Range)] = &[
            ("bytes 0-99/100", Some((0, 99, Some(100)))),
            ("bytes 50-99/100", Some((50, 99, Some(100)))),
            ("bytes  50-99/*", Some((50, 99, None))),
            ("bytes 50-100/100", None),
            ("bytes 99-50/100", None),
            ("bytes */100", None),
            ("items 0-1/2", None),
            ("bytes 0-x/2", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_content_range(text), *want, "{text:?}");
        }
        assert_eq!(parse_unsatisfied_range("bytes */1234"), Some(1234));
        assert_eq!(parse_unsatisfied_range("bytes 0-1/2"), None);
    }

    #[test]
    fn http_dates_round_trip_to_the_second() {
        const LM: &str = "Sun, 06 Nov 1994 08:49:37 GMT";
        let when = parse_date(LM).unwrap();
        assert_eq!(format_date(when).as_deref(), Some(LM));
        // Sub-second precision is dropped, never rounded up past the file's time.
        let later = when + Duration::from_millis(999);
        assert_eq!(format_date(later).as_deref(), Some(LM));
        assert_eq!(
            format_date(SystemTime::UNIX_EPOCH).as_deref(),
            Some("Thu, 01 Jan 1970 00:00:00 GMT")
        );
        assert_eq!(
            format_date(SystemTime::UNIX_EPOCH - Duration::from_secs(1)),
            None
        );
        assert_eq!(
            format_date(SystemTime::UNIX_EPOCH + Duration::from_secs(300_000_000_000)),
            None
        );
        // The obsolete forms parse too (RFC 9110 §5.6.7).
        assert_eq!(parse_date("Sunday, 06-Nov-94 08:49:37 GMT"), Some(when));
        assert_eq!(parse_date("Sun Nov  6 08:49:37 1994"), Some(when));
        assert_eq!(parse_date("yesterday"), None);
        let mut headers = reqwest::header::HeaderMap::new();
        assert_eq!(last_modified(&headers), None);
        headers.insert(reqwest::header::LAST_MODIFIED, LM.parse().unwrap());
        assert_eq!(last_modified(&headers), Some(when));
    }

    #[test]
    fn retry_after_forms() {
        let now = httpdate::parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT").unwrap();
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::from_secs(120))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:50:37 GMT", now),
            Some(Duration::from_secs(60))
        );
        assert_eq!(
            parse_retry_after("Sun, 06 Nov 1994 08:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }
}
