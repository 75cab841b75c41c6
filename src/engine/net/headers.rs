//! What response headers mean: `Retry-After`, `Content-Range` (satisfied and unsatisfied
//! forms) and `Accept-Ranges`. Pure parsing; callers decide what to do with the answers.

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

#[cfg(test)]
mod tests {
    use super::*;

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
