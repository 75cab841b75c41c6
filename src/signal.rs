//! SIGINT and SIGTERM → cancellation phases (SPEC §7). First SIGINT: start nothing new.
//! Second SIGINT, or SIGTERM: stop now, keep `.part` files. It only moves the phase and sends
//! a `Stopping` event; the reporter says it. The signals received are also recorded by the
//! operating system's handler itself, so that code blocked outside the async runtime (a write
//! to a pipe nobody reads, `crate::stdio`) sees them and the exit code is right even when the
//! signal came after the runtime stopped.

use crate::engine::{Cancel, Phase};
use crate::event::{Event, StopCause, WeakEventSender};
use crate::exit::SignalState;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};

/// What signals were received so far.
#[derive(Debug, Clone, Default)]
pub struct SignalWatch {
    state: Arc<AtomicU8>,
}

const INTERRUPTED: u8 = 1;
const TERMINATED: u8 = 2;

/// SIGINT and SIGTERM received by this process since `listen`. Signals are process-wide, so
/// this count is too; an atomic, so the handler that updates it is async-signal-safe.
static RECEIVED: AtomicUsize = AtomicUsize::new(0);

/// How many SIGINT/SIGTERM the process received since `listen`: any at all means the run is
/// ending, and a change while a write waits means the user asked a blocked run to stop.
pub fn received_count() -> usize {
    RECEIVED.load(Ordering::SeqCst)
}

/// Records one signal; runs inside the signal handler, so it only touches atomics.
fn record(state: &AtomicU8, seen: u8) {
    state.fetch_max(seen, Ordering::SeqCst);
    RECEIVED.fetch_add(1, Ordering::SeqCst);
}

/// Adds `record` to the handlers of SIGINT and SIGTERM (tokio's own handler stays: both are
/// in the same `signal-hook-registry`, which calls every action registered for a signal).
#[cfg(unix)]
#[allow(unsafe_code)]
fn record_in_handler(watch: &SignalWatch) -> std::io::Result<()> {
    use rustix::process::Signal;
    for (signal, seen) in [(Signal::INT, INTERRUPTED), (Signal::TERM, TERMINATED)] {
        let state = watch.state.clone();
        // SAFETY: the action only performs lock-free atomic operations: it neither allocates,
        // locks nor calls anything that is not async-signal-safe.
        unsafe {
            signal_hook_registry::register(signal.as_raw(), move || record(&state, seen))?;
        }
    }
    Ok(())
}

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
pub fn listen(cancel: Cancel, events: WeakEventSender) -> std::io::Result<SignalWatch> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt())?;
    let mut terminate = signal(SignalKind::terminate())?;
    let watch = SignalWatch::default();
    record_in_handler(&watch)?;
    tokio::spawn(async move {
        loop {
            let seen = tokio::select! {
                Some(()) = interrupt.recv() => INTERRUPTED,
                Some(()) = terminate.recv() => TERMINATED,
                else => return,
            };
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
            if cancel.advance(phase) {
                events.send(Event::Stopping {
                    now: phase == Phase::Abort,
                    cause,
                });
            }
        }
    });
    Ok(watch)
}

#[cfg(not(unix))]
pub fn listen(cancel: Cancel, events: WeakEventSender) -> std::io::Result<SignalWatch> {
    let watch = SignalWatch::default();
    let state = watch.state.clone();
    tokio::spawn(async move {
        while tokio::signal::ctrl_c().await.is_ok() {
            record(&state, INTERRUPTED);
            let phase = if cancel.phase() == Phase::Running {
                Phase::Draining
            } else {
                Phase::Abort
            };
            if cancel.advance(phase) {
                events.send(Event::Stopping {
                    now: phase == Phase::Abort,
                    cause: StopCause::Interrupt,
                });
            }
        }
    });
    Ok(watch)
}
