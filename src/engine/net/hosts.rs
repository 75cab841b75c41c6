//! Per-host politeness shared by every file of a run: a cap on connections to one host, a
//! shared backoff when a host says 429/503 (every request to it waits, not only the file that
//! got the answer), and a circuit breaker that stops spending retries on a host that is down.
//!
//! Breaker: after `BREAKER_THRESHOLD` consecutive connection failures the host is *open*: no
//! requests for a cooldown, then one probe. If the probe connects, the host is closed again;
//! if it fails too, the host is *down* and its remaining files fail at once with
//! `host_unavailable` instead of each spending its full retry budget.

use crate::error::{FailureKind, FileError};
use std::collections::HashMap;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

/// Consecutive connection failures that open the breaker.
pub(in crate::engine) const BREAKER_THRESHOLD: u32 = 3;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Breaker {
    Closed,
    Open { until: Instant },
    Probing,
    Down,
}

#[derive(Debug)]
struct HostState {
    /// The connection cap: one permit per connection, handed out first come, first served
    /// (a release wakes one waiter, not all of them).
    slots: Arc<Semaphore>,
    blocked_until: Option<Instant>,
    connect_failures: u32,
    breaker: Breaker,
    last_error: String,
    /// Set when the host is given up: one shared error for all its remaining files.
    down: Option<FileError>,
    changed: Arc<Notify>,
}

impl HostState {
    fn new(max_per_host: usize) -> Self {
        HostState {
            slots: Arc::new(Semaphore::new(max_per_host)),
            blocked_until: None,
            connect_failures: 0,
            breaker: Breaker::Closed,
            last_error: String::new(),
            down: None,
            changed: Arc::new(Notify::new()),
        }
    }
}

/// How an attempt with a permit went, as far as the host is concerned.
pub(in crate::engine) enum HostOutcome {
    /// A connection was made (whatever the response).
    Connected,
    /// No connection could be made (refused, unreachable, connect timeout).
    ConnectFailed(String),
}

/// The hosts of a run.
#[derive(Debug)]
pub(in crate::engine) struct Hosts {
    max_per_host: usize,
    cooldown: Duration,
    states: Mutex<HashMap<String, HostState>>,
}

/// `host:port` of a URL: what the cap, the backoff and the breaker are kept for.
pub(in crate::engine) fn host_key(url: &url::Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or(""),
        url.port_or_known_default().unwrap_or(0)
    )
}

enum Wait {
    Until(Instant),
    Notified,
}

enum Admit {
    Down(FileError),
    /// Wait for the breaker to change.
    Again,
    /// Start over (a backoff began meanwhile).
    Retry,
    Go {
        probe: bool,
    },
}

enum Gate {
    Down(FileError),
    Wait(Wait, Arc<Notify>),
    Open(Arc<Semaphore>, Arc<Notify>),
}

/// Sleeps until `wait` is over or the host's state changes.
async fn wait_for(wait: Wait, changed: Arc<Notify>) {
    let mut notified = pin!(changed.notified());
    notified.as_mut().enable();
    match wait {
        Wait::Until(t) => {
            tokio::select! {
                () = tokio::time::sleep_until(t) => {}
                () = notified => {}
            }
        }
        Wait::Notified => notified.await,
    }
}

impl Hosts {
    pub(in crate::engine) fn new(max_per_host: usize, cooldown: Duration) -> Self {
        Hosts {
            max_per_host: max_per_host.max(1),
            cooldown,
            states: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, HostState>> {
        self.states.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `host`'s state, created on first use (its key is allocated only then: this is asked
    /// several times per file).
    fn state<'a>(
        &self,
        states: &'a mut HashMap<String, HostState>,
        host: &str,
    ) -> &'a mut HostState {
        if !states.contains_key(host) {
            states.insert(host.to_string(), HostState::new(self.max_per_host));
        }
        states.get_mut(host).expect("inserted above")
    }

    /// Waits until a connection to `host` may be opened: under the cap, past any shared
    /// backoff, and not held back by the breaker. Fails at once when the host is down.
    pub(in crate::engine) async fn acquire(
        self: &Arc<Self>,
        host: &str,
    ) -> Result<HostPermit, FileError> {
        loop {
            let (slots, changed) = match self.gate(host) {
                Gate::Down(error) => return Err(error),
                Gate::Wait(wait, changed) => {
                    wait_for(wait, changed).await;
                    continue;
                }
                Gate::Open(slots, changed) => (slots, changed),
            };
            let Ok(slot) = slots.acquire_owned().await else {
                continue;
            };
            // The state may have changed while this request waited for a slot.
            match self.admit(host) {
                Admit::Down(error) => return Err(error),
                Admit::Again => {
                    drop(slot);
                    wait_for(Wait::Notified, changed).await;
                }
                Admit::Retry => drop(slot),
                Admit::Go { probe } => {
                    return Ok(HostPermit {
                        hosts: self.clone(),
                        host: host.to_string(),
                        probe,
                        reported: false,
                        _slot: slot,
                    });
                }
            }
        }
    }

    /// With a slot in hand: go (perhaps as the breaker's probe), or wait some more.
    fn admit(&self, host: &str) -> Admit {
        let mut states = self.lock();
        let st = self.state(&mut states, host);
        let now = Instant::now();
        let probe = match st.breaker {
            Breaker::Closed => false,
            Breaker::Open { until } if now >= until => {
                st.breaker = Breaker::Probing;
                true
            }
            Breaker::Down => return Admit::Down(host_down(host, st)),
            Breaker::Open { .. } | Breaker::Probing => return Admit::Again,
        };
        if st.blocked_until.is_some_and(|t| now < t) {
            if probe {
                st.breaker = Breaker::Open { until: now };
            }
            return Admit::Retry;
        }
        Admit::Go { probe }
    }

    /// What holds a request to `host` back right now, before it queues for a slot.
    fn gate(&self, host: &str) -> Gate {
        let mut states = self.lock();
        let st = self.state(&mut states, host);
        let now = Instant::now();
        let changed = st.changed.clone();
        match st.breaker {
            Breaker::Down => Gate::Down(host_down(host, st)),
            Breaker::Open { until } if now < until => Gate::Wait(Wait::Until(until), changed),
            Breaker::Probing => Gate::Wait(Wait::Notified, changed),
            Breaker::Open { .. } | Breaker::Closed => match st.blocked_until {
                Some(t) if now < t => Gate::Wait(Wait::Until(t), changed),
                _ => Gate::Open(st.slots.clone(), changed),
            },
        }
    }

    /// Holds back every request to `host` for `delay` (after a 429 or 503).
    pub(in crate::engine) fn throttle(&self, host: &str, delay: Duration) {
        let mut states = self.lock();
        let st = self.state(&mut states, host);
        let until = super::deadline_after(delay);
        if st.blocked_until.is_none_or(|t| t < until) {
            st.blocked_until = Some(until);
        }
    }

    fn release(&self, host: &str, probe: bool, outcome: Option<HostOutcome>) {
        let mut states = self.lock();
        let Some(st) = states.get_mut(host) else {
            return;
        };
        let breaker_before = st.breaker;
        match outcome {
            Some(HostOutcome::Connected) => {
                st.connect_failures = 0;
                if probe || st.breaker != Breaker::Down {
                    st.breaker = Breaker::Closed;
                }
            }
            Some(HostOutcome::ConnectFailed(error)) => {
                st.connect_failures += 1;
                st.last_error = error;
                if probe {
                    st.breaker = Breaker::Down;
                } else if st.breaker == Breaker::Closed && st.connect_failures >= BREAKER_THRESHOLD
                {
                    st.breaker = Breaker::Open {
                        until: super::deadline_after(self.cooldown),
                    };
                }
            }
            // Cancelled mid-probe: let another request probe.
            None if probe => {
                st.breaker = Breaker::Open {
                    until: Instant::now(),
                }
            }
            None => {}
        }
        // Slots are handed over by the semaphore; the others only need to hear about the
        // breaker changing.
        if st.breaker != breaker_before {
            st.changed.notify_waiters();
        }
    }
}

fn host_down(host: &str, st: &mut HostState) -> FileError {
    st.down
        .get_or_insert_with(|| {
            FileError::new(
                FailureKind::HostUnavailable,
                format!(
                    "host {host} is unreachable ({} connection failures in a row, last: {}); its remaining files were not tried",
                    st.connect_failures, st.last_error
                ),
            )
        })
        .clone()
}

/// A connection slot to one host; released on drop.
pub(in crate::engine) struct HostPermit {
    hosts: Arc<Hosts>,
    host: String,
    probe: bool,
    reported: bool,
    /// Released after `Hosts::release` has updated the state (fields drop after `drop`).
    _slot: OwnedSemaphorePermit,
}

impl HostPermit {
    /// Releases the slot and tells the host state how the attempt went.
    pub(in crate::engine) fn finish(mut self, outcome: HostOutcome) {
        self.reported = true;
        self.hosts.release(&self.host, self.probe, Some(outcome));
    }
}

impl Drop for HostPermit {
    fn drop(&mut self) {
        if !self.reported {
            self.hosts.release(&self.host, self.probe, None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn cap_backoff_and_breaker() {
        let hosts = Arc::new(Hosts::new(2, Duration::from_secs(1)));
        let a = hosts.acquire("h:80").await.unwrap();
        let b = hosts.acquire("h:80").await.unwrap();
        // At the cap: a third waits until one is released.
        let third = tokio::spawn({
            let hosts = hosts.clone();
            async move {
                hosts
                    .acquire("h:80")
                    .await
                    .map(|p| p.finish(HostOutcome::Connected))
            }
        });
        tokio::task::yield_now().await;
        assert!(!third.is_finished());
        a.finish(HostOutcome::Connected);
        third.await.unwrap().unwrap();
        b.finish(HostOutcome::Connected);

        // Shared backoff holds back everyone for the delay.
        hosts.throttle("h:80", Duration::from_secs(5));
        let start = Instant::now();
        hosts
            .acquire("h:80")
            .await
            .unwrap()
            .finish(HostOutcome::Connected);
        assert!(start.elapsed() >= Duration::from_secs(5));

        // Breaker: three connection failures open it; a failed probe marks the host down.
        for _ in 0..BREAKER_THRESHOLD {
            hosts
                .acquire("d:80")
                .await
                .unwrap()
                .finish(HostOutcome::ConnectFailed("refused".into()));
        }
        let start = Instant::now();
        let probe = hosts.acquire("d:80").await.unwrap();
        assert!(
            start.elapsed() >= Duration::from_secs(1),
            "waited for the cooldown"
        );
        probe.finish(HostOutcome::ConnectFailed("refused".into()));
        let err = hosts.acquire("d:80").await.err().unwrap();
        assert_eq!(err.kind, FailureKind::HostUnavailable);
        assert!(err.message.contains("refused"));
        // Other hosts are not affected.
        hosts
            .acquire("other:80")
            .await
            .unwrap()
            .finish(HostOutcome::Connected);
    }

    #[tokio::test(start_paused = true)]
    async fn a_successful_probe_closes_the_breaker() {
        let hosts = Arc::new(Hosts::new(4, Duration::from_millis(10)));
        for _ in 0..BREAKER_THRESHOLD {
            hosts
                .acquire("h:1")
                .await
                .unwrap()
                .finish(HostOutcome::ConnectFailed("x".into()));
        }
        hosts
            .acquire("h:1")
            .await
            .unwrap()
            .finish(HostOutcome::Connected);
        hosts
            .acquire("h:1")
            .await
            .unwrap()
            .finish(HostOutcome::ConnectFailed("x".into()));
        hosts
            .acquire("h:1")
            .await
            .unwrap()
            .finish(HostOutcome::Connected);
    }
}
