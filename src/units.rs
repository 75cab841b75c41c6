//! Values people write on the command line, in the environment and in files: durations, sizes,
//! rates and limits that `off` turns off. Pure parsing.

use std::time::Duration;

/// `500ms`, `2s`, `1m30s`, or a bare number of seconds (`1.5`).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    if let Ok(secs) = text.parse::<f64>() {
        return Duration::try_from_secs_f64(secs)
            .map_err(|_| format!("{text:?} is not a valid number of seconds"));
    }
    humantime::parse_duration(text)
        .map_err(|e| format!("{text:?} is not a duration like 500ms, 2s or 1m: {e}"))
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
    if !bytes.is_finite() || bytes < 0.0 || bytes > u64::MAX as f64 {
        return Err(format!("{text:?} is out of range"));
    }
    Ok(bytes as u64)
}

/// A transfer rate: a size per second (`500K` = 500 KiB/s).
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

/// `off` (or `none`), else a size like `10M`.
pub fn parse_size_limit(text: &str) -> Result<Limit, String> {
    parse_limit(text, parse_size)
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
}
