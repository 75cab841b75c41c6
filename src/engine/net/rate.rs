//! `--limit-rate`: one token bucket shared by every transfer of the run. Each received chunk
//! takes its size in tokens; a transfer that overdraws waits for the deficit to refill. The
//! bucket holds at most 50 ms of tokens, so the rate stays smooth instead of bursting.

use std::sync::Mutex;
use std::time::Duration;
use tokio::time::Instant;

#[derive(Debug)]
pub(in crate::engine) struct RateLimit {
    rate: f64,
    burst: f64,
    bucket: Mutex<(f64, Instant)>,
}

impl RateLimit {
    pub(super) fn new(bytes_per_sec: u64) -> Self {
        let rate = bytes_per_sec.max(1) as f64;
        let burst = (rate * 0.05).max(16.0 * 1024.0);
        RateLimit {
            rate,
            burst,
            bucket: Mutex::new((burst, Instant::now())),
        }
    }

    /// Accounts for `bytes` just received and waits as long as the rate requires.
    pub(in crate::engine) async fn take(&self, bytes: usize) {
        let wait = {
            let mut bucket = self.bucket.lock().unwrap_or_else(|p| p.into_inner());
            let now = Instant::now();
            let (tokens, last) = *bucket;
            let refilled =
                (tokens + now.duration_since(last).as_secs_f64() * self.rate).min(self.burst);
            let left = refilled - bytes as f64;
            *bucket = (left, now);
            if left < 0.0 {
                Duration::from_secs_f64(-left / self.rate)
            } else {
                Duration::ZERO
            }
        };
        if !wait.is_zero() {
            tokio::time::sleep(wait).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn holds_the_average_rate_across_takers() {
        let limit = std::sync::Arc::new(RateLimit::new(100_000));
        let start = Instant::now();
        let mut tasks = Vec::new();
        for _ in 0..2 {
            let limit = limit.clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..50 {
                    limit.take(2_000).await;
                }
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        // 200 kB at 100 kB/s, less the initial burst of 16 KiB.
        let secs = start.elapsed().as_secs_f64();
        assert!((1.7..2.2).contains(&secs), "{secs}");
    }
}
