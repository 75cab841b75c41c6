//! What to do after a failed attempt, decided in one pure function: try again after a delay,
//! move on to the next mirror at once, or give up with the file's final error. Backoff is
//! exponential with jitter, `Retry-After` is a floor (and past `--max-retry-after` a reason to
//! give up), and the transient/permanent split is `FailureKind::is_transient`. No I/O.

use super::failure::Failure;
use crate::error::{FailureKind, FileError};
use crate::policy::RetryPolicy;
use std::time::Duration;

/// What the worker does next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Next {
    /// Wait `delay`, then try the next URL (mirrors take turns). `throttle_host`: the host
    /// said it is overloaded (429, 503), so every request to it waits, not only this file's.
    Retry {
        delay: Duration,
        throttle_host: bool,
    },
    /// This URL will not work (e.g. a 404 on the primary): try the next mirror now.
    Mirror,
    /// Give up: the file fails with `error` after `attempts` requests.
    Fail { error: FileError, attempts: u32 },
}

/// Everything the decision depends on besides the failure itself.
#[derive(Debug, Clone, Copy)]
pub(super) struct Budget {
    pub policy: RetryPolicy,
    /// A `Retry-After` longer than this fails the file instead of waiting.
    pub max_retry_after: Duration,
    /// URLs of the file: the primary and its mirrors.
    pub urls: usize,
    /// The run is stopping now: nothing is retried.
    pub stopping: bool,
}

/// Decides what follows the failure of attempt number `attempt` (1-based).
pub(super) fn decide(failure: &Failure, attempt: u32, budget: Budget) -> Next {
    let kind = failure.error.kind;
    let max_attempts = budget.policy.retries.saturating_add(1);
    let more_allowed = attempt < max_attempts && !budget.stopping;
    let untried_mirror = (attempt as usize) < budget.urls;
    if !kind.is_transient()
        && untried_mirror
        && more_allowed
        && matches!(
            kind,
            FailureKind::HttpStatus(_) | FailureKind::Redirect | FailureKind::Tls
        )
    {
        return Next::Mirror;
    }
    let too_long = failure
        .retry_after
        .filter(|wait| *wait > budget.max_retry_after);
    if !kind.is_transient() || !more_allowed || too_long.is_some() {
        return give_up(failure, attempt, too_long, budget.max_retry_after);
    }
    Next::Retry {
        delay: backoff(&budget.policy, attempt, failure.retry_after),
        throttle_host: matches!(failure.http_status, Some(429 | 503)),
    }
}

/// The final error: the failure's own, saying how many requests were made, or that the
/// server asked to wait longer than allowed.
fn give_up(failure: &Failure, attempt: u32, too_long: Option<Duration>, ceiling: Duration) -> Next {
    let error = &failure.error;
    // A host given up by the breaker refused this attempt before its request.
    let attempts = if error.kind == FailureKind::HostUnavailable {
        attempt - 1
    } else {
        attempt
    };
    let error = match too_long {
        Some(wait) => FileError::new(
            error.kind,
            format!(
                "{}: the server asks to wait {} before retrying (Retry-After), more than --max-retry-after {}",
                error.message,
                humantime::format_duration(wait),
                humantime::format_duration(ceiling)
            ),
        ),
        None if attempts > 1 => FileError::new(
            error.kind,
            format!("{} after {attempts} attempts", error.message),
        ),
        None => error.clone(),
    };
    Next::Fail { error, attempts }
}

/// The wait before attempt `failed + 1`, after `failed` failed attempts: exponential
/// (`base · 2^(failed-1)`, capped at `max`) with "equal jitter" (half fixed, half random) so
/// that files failing together do not retry in lockstep; at least `retry_after`.
pub(super) fn backoff(
    policy: &RetryPolicy,
    failed: u32,
    retry_after: Option<Duration>,
) -> Duration {
    let exp = policy
        .base
        .saturating_mul(1u32 << failed.saturating_sub(1).min(30));
    let capped = exp.min(policy.max);
    let half = capped / 2;
    let jitter = half.mul_f64(fastrand::f64());
    let backoff = half + jitter;
    match retry_after {
        Some(floor) if floor > backoff => floor,
        _ => backoff,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: Duration = Duration::from_secs(1);

    fn failure(kind: FailureKind, retry_after: Option<Duration>) -> Failure {
        let mut f = Failure::from(FileError::new(kind, "boom"));
        f.http_status = match kind {
            FailureKind::HttpStatus(code) => Some(code),
            _ => None,
        };
        f.retry_after = retry_after;
        f
    }

    fn budget(retries: u32, urls: usize) -> Budget {
        Budget {
            policy: RetryPolicy {
                retries,
                base: Duration::from_millis(100),
                max: S,
            },
            max_retry_after: 60 * S,
            urls,
            stopping: false,
        }
    }

    /// What `decide` answers, reduced to a word (and the attempts and message of a failure).
    fn word(next: Next) -> String {
        match next {
            Next::Retry {
                throttle_host: true,
                ..
            } => "retry+throttle".into(),
            Next::Retry { .. } => "retry".into(),
            Next::Mirror => "mirror".into(),
            Next::Fail { error, attempts } => format!("fail {attempts}: {}", error.message),
        }
    }

    #[test]
    fn decisions_table() {
        use FailureKind::*;
        let stopping = Budget {
            stopping: true,
            ..budget(5, 1)
        };
        #[rustfmt::skip]
        let cases: &[(Failure, u32, Budget, &str)] = &[
            // Transient failures are retried until the budget is spent.
            (failure(Network, None), 1, budget(5, 1), "retry"),
            (failure(Timeout, None), 5, budget(5, 1), "retry"),
            (failure(Timeout, None), 6, budget(5, 1), "fail 6: boom after 6 attempts"),
            (failure(HttpStatus(500), None), 1, budget(0, 1), "fail 1: boom"),
            // Overloaded hosts hold back every request to them.
            (failure(HttpStatus(503), None), 1, budget(5, 1), "retry+throttle"),
            (failure(HttpStatus(429), None), 2, budget(5, 1), "retry+throttle"),
            (failure(HttpStatus(502), None), 2, budget(5, 1), "retry"),
            // Permanent failures fail at once, unless a mirror is left to try.
            (failure(HttpStatus(404), None), 1, budget(5, 1), "fail 1: boom"),
            (failure(HttpStatus(404), None), 1, budget(5, 2), "mirror"),
            (failure(Redirect, None), 1, budget(5, 3), "mirror"),
            (failure(HttpStatus(404), None), 2, budget(5, 2), "fail 2: boom after 2 attempts"),
            (failure(HttpStatus(404), None), 1, budget(0, 2), "fail 1: boom"),
            (failure(Checksum, None), 1, budget(5, 2), "fail 1: boom"),
            (failure(InvalidResponse, None), 1, budget(5, 1), "fail 1: boom"),
            (failure(TooLarge, None), 1, budget(5, 2), "fail 1: boom"),
            // A host the breaker gave up refused this attempt before its request.
            (failure(HostUnavailable, None), 3, budget(5, 1), "fail 2: boom after 2 attempts"),
            (failure(HostUnavailable, None), 1, budget(5, 1), "fail 0: boom"),
            // Retry-After: waited for up to the ceiling, past it the file fails.
            (failure(HttpStatus(503), Some(30 * S)), 1, budget(5, 1), "retry+throttle"),
            (
                failure(HttpStatus(503), Some(3600 * S)), 1, budget(5, 1),
                "fail 1: boom: the server asks to wait 1h before retrying (Retry-After), more than --max-retry-after 1m",
            ),
            // A run that stops now retries nothing.
            (failure(Network, None), 1, stopping, "fail 1: boom"),
            (failure(HttpStatus(404), None), 1, Budget { urls: 2, ..stopping }, "fail 1: boom"),
        ];
        for (i, (failure, attempt, budget, want)) in cases.iter().enumerate() {
            let got = word(decide(failure, *attempt, *budget));
            assert_eq!(
                &got, want,
                "case {i}: {:?} at attempt {attempt}",
                failure.error.kind
            );
        }
    }

    #[test]
    fn a_retry_waits_at_least_what_the_server_asked() {
        let f = failure(FailureKind::HttpStatus(503), Some(30 * S));
        match decide(&f, 1, budget(5, 1)) {
            Next::Retry { delay, .. } => assert_eq!(delay, 30 * S),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn backoff_grows_is_capped_and_jittered() {
        let p = RetryPolicy {
            retries: 10,
            base: Duration::from_millis(100),
            max: S,
        };
        for _ in 0..100 {
            let d1 = backoff(&p, 1, None);
            assert!(
                d1 >= Duration::from_millis(50) && d1 <= Duration::from_millis(100),
                "{d1:?}"
            );
            let d3 = backoff(&p, 3, None);
            assert!(
                d3 >= Duration::from_millis(200) && d3 <= Duration::from_millis(400),
                "{d3:?}"
            );
            let d20 = backoff(&p, 20, None);
            assert!(d20 >= Duration::from_millis(500) && d20 <= S, "{d20:?}");
        }
        assert_eq!(backoff(&p, 1, Some(7 * S)), 7 * S);
        assert!(backoff(&p, u32::MAX, None) <= S);
        // Absurd settings saturate instead of overflowing.
        let huge = RetryPolicy {
            retries: 1,
            base: Duration::MAX,
            max: Duration::MAX,
        };
        assert!(backoff(&huge, 30, None) >= Duration::MAX / 2);
    }
}
