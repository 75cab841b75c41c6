//! Building the reqwest client: rustls with the trusted roots of `trust`, the proxy routes
//! of `proxy` (reqwest's own reading of the environment is replaced by them), HTTP/2
//! offered by ALPN, timeouts, user agent, pool size. It follows no redirect itself (`request` does, hop
//! by hop). No retry policy here.

use super::proxy::Router;
use super::trust::Roots;
use crate::engine::config::EngineConfig;
use crate::error::Error;
use std::time::Duration;

/// The client for whole files: keep-alive connections, pooled and reused from file to file.
/// HTTP/2 is offered by ALPN unless `http1` (see `Net::new` for when).
pub(super) fn build(
    config: &EngineConfig,
    roots: &Roots,
    router: &Router,
    http1: bool,
) -> Result<reqwest::Client, Error> {
    let builder = builder(config, roots, router)?;
    let builder = if http1 { builder.http1_only() } else { builder };
    builder
        // Idle connections beyond what one host may use at once would never be reused, only
        // hold descriptors.
        .pool_max_idle_per_host(config.workers.min(config.max_per_host).max(1))
        .pool_idle_timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| Error::Client(e.to_string()))
}

/// The client for the pieces of a split download: every request on a connection of its own,
/// closed when its body ends or is dropped. A pool would open more sockets than requests: a
/// request that finds no idle connection starts a connect, and when a connection comes back
/// before that connect is done, the request takes it and the connect still completes, into
/// the pool. Pieces are big, so one handshake each costs nothing measurable; and with a
/// connection each they gain nothing from HTTP/2, whose frames cost more CPU per byte
/// (`docs/performance.md`): they use HTTP/1.1.
pub(super) fn build_unpooled(
    config: &EngineConfig,
    roots: &Roots,
    router: &Router,
) -> Result<reqwest::Client, Error> {
    builder(config, roots, router)?
        .http1_only()
        .pool_max_idle_per_host(0)
        .build()
        .map_err(|e| Error::Client(e.to_string()))
}

fn builder(
    config: &EngineConfig,
    roots: &Roots,
    router: &Router,
) -> Result<reqwest::ClientBuilder, Error> {
    let builder = reqwest::Client::builder()
        .proxy(router.clone().into_reqwest())
        .user_agent(config.user_agent.clone())
        .connect_timeout(config.connect_timeout)
        // Redirects are followed by `request`, which decides what each hop may carry.
        .redirect(reqwest::redirect::Policy::none())
        // `--compressed` asks for gzip, br and zstd and decodes them; without it nothing is
        // asked for and a body is stored exactly as served, whatever its encoding.
        .gzip(config.compressed)
        .brotli(config.compressed)
        .zstd(config.compressed)
        .tcp_nodelay(true);
    roots.apply(builder)
}
