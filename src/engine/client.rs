//! Building the reqwest client: rustls, timeouts, user agent, redirects, pool size. No retry
//! policy here.

use super::EngineConfig;
use crate::error::Error;
use std::time::Duration;

/// Redirects followed before a file fails with `error.kind = "redirect"`.
pub(super) const MAX_REDIRECTS: usize = 10;

pub(super) fn build(config: &EngineConfig) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .user_agent(config.user_agent.clone())
        .connect_timeout(config.connect_timeout)
        // Idle connections beyond one per worker would never be reused, only hold descriptors.
        .pool_max_idle_per_host(config.workers.max(1))
        .pool_idle_timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::limited(MAX_REDIRECTS))
        .tcp_nodelay(true)
        .build()
        .map_err(|e| Error::Client(e.to_string()))
}
