//! The network room: the HTTP clients (TLS trust, proxies), requests and what their answers
//! mean, netrc credentials, the per-host connection slots (cap, shared backoff, circuit
//! breaker) and the shared rate limit. It never touches the disk, except to read the files
//! it is asked to (CA certificates, netrc) before a run.

mod client;
pub(super) mod headers;
mod hosts;
mod netrc;
mod proxy;
mod rate;
mod request;
mod trust;

pub(super) use hosts::host_key;
pub use netrc::{NetrcError, read_netrc};
pub(super) use rate::RateLimit;
pub(super) use request::{
    Connection, cause, checked, send, send_if_modified_since, send_range, status_failure,
    status_text,
};
pub use trust::read_ca_file;

use super::config::EngineConfig;
use super::failure::{self, AttemptError};
use crate::error::{Error, FailureKind};
use hosts::{HostOutcome, Hosts};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// The clients of one engine, reused from run to run. Those that speak TLS are built by the
/// first request that needs them: their trust means reading and parsing the whole system
/// certificate store, which a run of plain-HTTP URLs never needs.
#[derive(Debug, Clone)]
pub(super) struct Clients {
    /// For requests that need no TLS: an http URL, directly or through an http proxy. They
    /// trust no certificate at all.
    plain: ClientSet,
    /// For the others: built with the trusted roots on first use (or why they could not be).
    tls: Arc<OnceLock<Result<ClientSet, String>>>,
    router: proxy::Router,
}

/// One client per way of using connections, all with the same trust.
#[derive(Debug, Clone)]
struct ClientSet {
    /// Keep-alive connections, pooled and reused from file to file; HTTP/2 where offered.
    pooled: reqwest::Client,
    /// The same, HTTP/1.1 only: for runs with no more files than workers.
    pooled_http1: reqwest::Client,
    /// One connection per request: the pieces of split downloads.
    own: reqwest::Client,
}

impl ClientSet {
    fn build(
        config: &EngineConfig,
        roots: &trust::Roots,
        router: &proxy::Router,
    ) -> Result<ClientSet, Error> {
        Ok(ClientSet {
            pooled: client::build(config, roots, router, false)?,
            pooled_http1: client::build(config, roots, router, true)?,
            own: client::build_unpooled(config, roots, router)?,
        })
    }
}

impl Clients {
    pub fn build(config: &EngineConfig) -> Result<Clients, Error> {
        if config.trust.insecure {
            tracing::warn!(
                "TLS certificates are not verified (--insecure): any server can pose as any host"
            );
        }
        let router = proxy::Router::new(&config.proxy, &|name| std::env::var_os(name));
        tracing::debug!(proxies = ?router, "proxy routes");
        Ok(Clients {
            plain: ClientSet::build(config, &trust::Roots::none(), &router)?,
            tls: Arc::default(),
            router,
        })
    }

    /// The clients for a request to `url`: the TLS ones when the URL is https or goes
    /// through an https proxy.
    fn for_url(&self, config: &EngineConfig, url: &url::Url) -> Result<&ClientSet, AttemptError> {
        let tls = url.scheme() == "https"
            || self
                .router
                .route(url)
                .is_some_and(|proxy| proxy.scheme() == "https");
        if !tls {
            return Ok(&self.plain);
        }
        self.tls
            .get_or_init(|| {
                let roots = trust::Roots::load(&config.trust);
                ClientSet::build(config, &roots, &self.router).map_err(|e| e.to_string())
            })
            .as_ref()
            .map_err(|e| failure::failed(FailureKind::Tls, e.clone()))
    }
}

/// The network side of one run.
pub(super) struct Net {
    config: Arc<EngineConfig>,
    clients: Clients,
    hosts: Arc<Hosts>,
    /// `--limit-rate`, shared by every transfer.
    pub rate: Option<RateLimit>,
    /// Pooled requests use HTTP/1.1 only.
    http1: bool,
}

impl Net {
    /// The network side of a run of `files` files. HTTP/2 pays when more requests than
    /// connections are in flight (it multiplexes them); with no more files than workers,
    /// each file has a connection of its own, and HTTP/1.1 moves a large body with less CPU
    /// per byte (`docs/performance.md`), so pooled requests use it.
    pub fn new(
        config: Arc<EngineConfig>,
        clients: Clients,
        breaker_cooldown: Duration,
        files: usize,
    ) -> Net {
        Net {
            hosts: Arc::new(Hosts::new(config.max_per_host, breaker_cooldown)),
            rate: config.limit_rate.map(RateLimit::new),
            http1: files <= config.workers,
            config,
            clients,
        }
    }

    /// The client for a request to `url` using `connection`.
    fn client(
        &self,
        connection: Connection,
        url: &url::Url,
    ) -> Result<&reqwest::Client, AttemptError> {
        let set = self.clients.for_url(&self.config, url)?;
        Ok(match connection {
            Connection::Pooled if self.http1 => &set.pooled_http1,
            Connection::Pooled => &set.pooled,
            Connection::Own => &set.own,
        })
    }

    /// Holds back every request to `url`'s host for `delay` (it said it is overloaded).
    pub fn throttle(&self, url: &url::Url, delay: Duration) {
        self.hosts.throttle(&host_key(url), delay);
    }

    /// Runs `work` holding a connection slot to `url`'s host (waiting for one as the cap, a
    /// shared backoff or the circuit breaker require), then tells the host whether a
    /// connection could be made.
    pub async fn with_host_slot<T>(
        &self,
        url: &url::Url,
        work: impl std::future::Future<Output = Result<T, AttemptError>>,
    ) -> Result<T, AttemptError> {
        let permit = self.hosts.acquire(&host_key(url)).await?;
        let result = work.await;
        let_connection_return().await;
        permit.finish(match &result {
            Err(AttemptError::Failed(f)) if f.connect => {
                HostOutcome::ConnectFailed(f.error.message.to_string())
            }
            _ => HostOutcome::Connected,
        });
        result
    }
}

/// Lets the tasks already woken run before this one goes on. hyper puts a finished
/// connection back into its pool, and closes one whose body was dropped unread, from a task
/// of its own; a request sent before that task ran would open one more connection beside it
/// (more than `--max-per-host` at once, and a wasted handshake).
pub(super) async fn let_connection_return() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            return std::task::Poll::Ready(());
        }
        yielded = true;
        // Back of the run queue, behind the tasks woken while this one ran.
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    })
    .await;
}

/// `now + wait`, or a moment so far ahead that it never comes when the sum overflows (a
/// deadline no setting can make panic).
pub(super) fn deadline_after(wait: Duration) -> tokio::time::Instant {
    let now = tokio::time::Instant::now();
    now.checked_add(wait)
        .unwrap_or_else(|| now + Duration::from_secs(86_400 * 365 * 30))
}
