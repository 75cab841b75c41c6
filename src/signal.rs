//! SIGINT and SIGTERM → cancellation phases (SPEC §7). First SIGINT: start nothing new.
//! Second SIGINT, or SIGTERM: stop now, keep `.part` files. It only moves the phase and sends
//! a `Stopping` event; the reporter says it.

use crate::engine::{Cancel, Phase};
use crate::event::{Event, StopCause};
use crate::exit::SignalState;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use tokio::sync::mpsc::WeakUnboundedSender;

/// What signals were received so far.
#[derive(Debug, Clone, Default)]
pub struct SignalWatch {
    state: Arc<AtomicU8>,
}

const INTERRUPTED: u8 = 1;
const TERMINATED: u8 = 2;

impl SignalWatch {
    pub fn state(&self) -> SignalState {
        match self.state.load(Ordering::SeqCst) {
            0 => SignalState::None,
            INTERRUPTED => SignalState::Interrupted,
            _ => SignalState::Terminated,
        }
    }
}

/// Starts listening. Must be called inside the tokio runtime. The event sender is weak so
/// that listening never keeps the event stream open.
#[cfg(unix)]
pub fn listen(cancel: Cancel, events: WeakUnboundedSender<Event>) -> std::io::Result<SignalWatch> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let watch = SignalWatch::default();
    let state = watch.state.clone();
    tokio::spawn(async move {
        loop {
            let seen = tokio::select! {
                Some(()) = interrupt.recv() => INTERRUPTED,
                Some(()) = terminate.recv() => TERMINATED,
                else => return,
            };
            state.fetch_max(seen, Ordering::SeqCst);
            let phase = if seen == INTERRUPTED && cancel.phase() == Phase::Running {
                Phase::Draining
            } else {
                Phase::Abort
            };
            let cause = if seen == TERMINATED {
                StopCause::Terminate
            } else {
                StopCause::Interrupt
            };
            if cancel.advance(phase)
                && let Some(events) = events.upgrade()
            {
                let _ = events.send(Event::Stopping {
                    now: phase == Phase::Abort,
                    cause,
                });
            }
        }
    });
    Ok(watch)
}

#[cfg(not(unix))]
pub fn listen(cancel: Cancel, events: WeakUnboundedSender<Event>) -> std::io::Result<SignalWatch> {
    let watch = SignalWatch::default();
    let state = watch.state.clone();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            state.fetch_max(INTERRUPTED, Ordering::SeqCst);
            let phase = if cancel.phase() == Phase::Running {
                Phase::Draining
            } else {
                Phase::Abort
            };
            if cancel.advance(phase)
                && let Some(events) = events.upgrade()
            {
                let _ = events.send(Event::Stopping {
                    now: phase == Phase::Abort,
                    cause: StopCause::Interrupt,
                });
            }
        }
    });
    Ok(watch)
}
