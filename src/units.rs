//! Values people write on the command line, in the environment and in files: durations, sizes,
//! rates and limits that `off` turns off. Pure parsing, and the range checks that go with it:
//! whatever these functions accept, the engine can add to an `Instant` or divide by without
//! overflowing, so an absurd value is a usage error here rather than a panic later.

use std::time::Duration;

/// The longest duration any option or manifest key accepts. Far beyond any sensible timeout or
/// backoff, and far below what overflows an `Instant` on any platform.
pub const MAX_DURATION: Duration = Duration::from_secs(30 * 24 * 60 * 60);

/// `500ms`, `2s`, `1m30s`, or a bare number of seconds (`1.5`); zero allowed, at most
/// [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let too_long = || format!("{text:?} is longer than 30 days");
    let duration = if let Ok(secs) = text.parse::<f64>() {
        if secs > MAX_DURATION.as_secs_f64() {
            return Err(too_long());
        }
        Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("{text:?} is not a valid number of seconds"))?
    } else {
        humantime::parse_duration(text).map_err(|e| match e {
            humantime::DurationError::NumberOverflow => too_long(),
            e => format!("{text:?} is not a duration like 500ms, 2s or 1m: {e}"),
        })?
    };
    if duration > MAX_DURATION {
        return Err(too_long());
    }
    Ok(duration)
}

/// A duration where zero makes no sense (a timeout, a measuring window): more than 0, at most
/// [`MAX_DURATION`].
pub fn parse_nonzero_duration(text: &str) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration.is_zero() {
        return Err(format!("{:?} must be more than 0", text.trim()));
    }
    Ok(duration)
}

/// `1024`, `500K`, `10M`, `1.5G`, `2GiB`: binary units (K = 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size like 500K, 10M or 2G"))?;
    let shift = match unit
        .trim()
        .to_ascii_uppercase()
        .trim_end_matches('B')
        .trim_end_matches('I')
    {
        "" => 0,
        "K" => 10,
        "M" => 20,
        "G" => 30,
        "T" => 40,
        _ => return Err(format!("{text:?} has an unknown unit (use K, M, G or T)")),
    };
    let bytes = number * (1u64 << shift) as f64;
    // `u64::MAX as f64` is 2^64, one more than fits.
    if !bytes.is_finite() || bytes < 0.0 || bytes >= u64::MAX as f64 {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(bytes as u64)
}

/// A transfer rate: a size per second (`500K` = 500 KiB/s), more than 0.
pub fn parse_rate(text: &str) -> Result<u64, String> {
    let size = text.trim().trim_end_matches("/s");
    let bytes = parse_size(size)?;
    if bytes == 0 {
        return Err(format!("{text:?} must be more than 0"));
    }
    Ok(bytes)
}

/// A size or rate limit. `Off` is a value of its own, not a missing one: a command line or a
/// profile that says `off` undoes a limit set below it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Off,
    At(u64),
}

impl Limit {
    /// The limit as the engine takes it: `None` for no limit.
    pub fn bytes(self) -> Option<u64> {
        match self {
            Limit::Off => None,
            Limit::At(n) => Some(n),
        }
    }
}

/// `off` (or `none`), else a size like `10M` of at least one byte: a limit of 0 bytes would
/// refuse every file that is not empty, which nobody means.
pub fn parse_size_limit(text: &str) -> Result<Limit, String> {
    parse_limit(text, |t| match parse_size(t)? {
        0 => Err(format!("{:?} must be more than 0", t.trim())),
        n => Ok(n),
    })
}

/// `off` (or `none`), else a rate like `500K` of more than 0.
pub fn parse_rate_limit(text: &str) -> Result<Limit, String> {
    parse_limit(text, parse_rate)
}

fn parse_limit(text: &str, parse: impl Fn(&str) -> Result<u64, String>) -> Result<Limit, String> {
    match text.trim().to_ascii_lowercase().as_str() {
        "off" | "none" => Ok(Limit::Off),
        _ => parse(text)
            .map(Limit::At)
            .map_err(|e| format!("{e} (or \"off\")")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values() {
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_duration("1m30s"), Ok(Duration::from_secs(90)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1").is_err());
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("500K"), Ok(500 * 1024));
        assert_eq!(parse_size("1.5M"), Ok(1536 * 1024));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("10mb"), Ok(10 << 20));
        assert!(parse_size("10X").is_err() && parse_size("").is_err());
        assert_eq!(parse_rate("500K"), Ok(500 * 1024));
        assert_eq!(parse_rate("1M/s"), Ok(1 << 20));
        assert!(parse_rate("0").is_err());
        assert_eq!(parse_rate_limit("off"), Ok(Limit::Off));
        assert_eq!(parse_size_limit("10M"), Ok(Limit::At(10 << 20)));
        assert!(parse_rate_limit("0").is_err() && parse_size_limit("lots").is_err());
    }

    /// Each case: the text, and `Ok(seconds)` or a piece of the message.
    fn check<T: PartialEq + std::fmt::Debug>(
        parse: fn(&str) -> Result<T, String>,
        cases: &[(&str, Result<T, &str>)],
    ) {
        for (text, want) in cases {
            match (parse(text), want) {
                (Ok(got), Ok(want)) => assert_eq!(&got, want, "{text:?}"),
                (Err(got), Err(want)) => assert!(got.contains(want), "{text:?}: {got}"),
                (got, want) => panic!("{text:?}: got {got:?}, want {want:?}"),
            }
        }
    }

    const LONG: &str = "is longer than 30 days";

    #[test]
    fn durations_are_at_most_30_days() {
        let secs = Duration::from_secs;
        check(
            parse_duration,
            &[
                ("0", Ok(Duration::ZERO)),
                ("0s", Ok(Duration::ZERO)),
                ("30days", Ok(MAX_DURATION)),
                ("2592000", Ok(MAX_DURATION)),
                ("720h", Ok(secs(720 * 3600))),
                ("2592001", Err(LONG)),
                ("30days 1s", Err(LONG)),
                ("31d", Err(LONG)),
                ("1y", Err(LONG)),
                ("18446744073709551615s", Err(LONG)),
                ("18446744073709551616s", Err(LONG)),
                ("99999999999999999999999999h", Err(LONG)),
                ("1e300", Err(LONG)),
                ("inf", Err(LONG)),
                ("NaN", Err("not a valid number of seconds")),
                ("-0.5", Err("not a valid number of seconds")),
                ("", Err("not a duration")),
            ],
        );
    }

    #[test]
    fn timeouts_and_windows_are_more_than_0() {
        check(
            parse_nonzero_duration,
            &[
                ("1ms", Ok(Duration::from_millis(1))),
                ("30days", Ok(MAX_DURATION)),
                ("0", Err("\"0\" must be more than 0")),
                (" 0s ", Err("\"0s\" must be more than 0")),
                ("0.0000000001", Err("must be more than 0")),
                ("18446744073709551615s", Err(LONG)),
            ],
        );
    }

    #[test]
    fn limits_are_off_or_more_than_0() {
        let at = |n| Ok(Limit::At(n));
        check(
            parse_size_limit,
            &[
                ("off", Ok(Limit::Off)),
                ("None", Ok(Limit::Off)),
                ("1", at(1)),
                ("16E", Err("unknown unit")),
                ("16777216T", Err("out of range")),
                ("16777215T", at(16_777_215 << 40)),
                ("0", Err("\"0\" must be more than 0 (or \"off\")")),
                ("0.1", Err("must be more than 0")),
                ("-1", Err("is not a size")),
            ],
        );
        check(
            parse_rate_limit,
            &[
                ("OFF", Ok(Limit::Off)),
                ("1K/s", at(1024)),
                ("0", Err("\"0\" must be more than 0 (or \"off\")")),
                ("0K/s", Err("must be more than 0")),
                ("99999999999T", Err("out of range")),
            ],
        );
        assert_eq!((Limit::Off.bytes(), Limit::At(7).bytes()), (None, Some(7)));
    }
}
