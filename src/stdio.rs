//! stdout and stderr as writers that a signal can stop (SPEC §7). A write to a pipe nobody
//! reads blocks for ever, and the async runtime's signal handling cannot run behind it, so
//! everything `dl` writes to stdout and stderr goes through [`Stream`]: it waits for room in
//! short slices, looks at the signals the process received (`crate::signal`), and gives up on
//! an unread stream instead of hanging. It writes bytes as given and formats nothing.

use std::io::{self, Write};
#[cfg(unix)]
use std::sync::atomic::{AtomicBool, Ordering};
#[cfg(unix)]
use std::time::{Duration, Instant};

/// Once a signal asked the run to end, a stream that stays full this long is given up: a
/// reader that is still reading drains a pipe well within it, and a first SIGINT that let the
/// running files finish does not leave the summary waiting for ever on a pipe nobody reads.
#[cfg(unix)]
const GRACE: Duration = Duration::from_secs(1);

/// How often a blocked write looks at the signals.
#[cfg(unix)]
const SLICE: Duration = Duration::from_millis(50);

/// At most this much per write to a stream that can block: a pipe that polls writable has a
/// free page, so a write of up to `PIPE_BUF` bytes returns without waiting.
#[cfg(unix)]
const CHUNK: usize = 4096;

/// Whether each stream (stdout, stderr) was given up: from then on it is written only when it
/// has room at once, so a stopping run never waits on it again.
#[cfg(unix)]
static GAVE_UP: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];

/// The error of a write given up because a signal stopped the run while nobody read the
/// stream.
#[derive(Debug, thiserror::Error)]
#[error("stopped by a signal while the output was not being read")]
pub struct Stopped;

/// Whether `e` is [`Stopped`].
pub fn is_stopped(e: &io::Error) -> bool {
    e.get_ref().is_some_and(|inner| inner.is::<Stopped>())
}

#[derive(Debug, Clone, Copy)]
enum Which {
    Stdout = 0,
    Stderr = 1,
}

/// An unbuffered writer to stdout or stderr that a signal can stop (wrap it in a
/// `BufWriter`).
#[derive(Debug)]
pub struct Stream {
    which: Which,
    /// Pipes, sockets and terminals can block; files and devices such as /dev/null cannot and
    /// are written in large pieces without polling.
    may_block: bool,
}

impl Stream {
    pub fn stdout() -> Stream {
        Stream::new(Which::Stdout)
    }

    pub fn stderr() -> Stream {
        Stream::new(Which::Stderr)
    }

    fn new(which: Which) -> Stream {
        Stream {
            which,
            may_block: may_block(which),
        }
    }

    #[cfg(unix)]
    fn gave_up(&self) -> &'static AtomicBool {
        &GAVE_UP[self.which as usize]
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if !self.may_block {
            return raw_write(self.which, buf);
        }
        self.wait_for_room()?;
        #[cfg(unix)]
        let buf = &buf[..buf.len().min(CHUNK)];
        raw_write(self.which, buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

#[cfg(unix)]
fn fd(which: Which) -> std::os::fd::BorrowedFd<'static> {
    match which {
        Which::Stdout => rustix::stdio::stdout(),
        Which::Stderr => rustix::stdio::stderr(),
    }
}

#[cfg(unix)]
fn may_block(which: Which) -> bool {
    use rustix::fs::FileType;
    use std::io::IsTerminal;
    let blocking_kind = rustix::fs::fstat(fd(which)).map(|st| FileType::from_raw_mode(st.st_mode));
    matches!(blocking_kind, Ok(FileType::Fifo | FileType::Socket)) || fd(which).is_terminal()
}

#[cfg(not(unix))]
fn may_block(_: Which) -> bool {
    false
}

/// Writes straight to the descriptor: `std`'s stdout buffer would hold bytes back and write
/// them later without asking whether there is room.
#[cfg(unix)]
fn raw_write(which: Which, buf: &[u8]) -> io::Result<usize> {
    loop {
        match rustix::io::write(fd(which), buf) {
            Err(rustix::io::Errno::INTR) => {}
            other => return other.map_err(io::Error::from),
        }
    }
}

#[cfg(not(unix))]
fn raw_write(which: Which, buf: &[u8]) -> io::Result<usize> {
    match which {
        Which::Stdout => io::stdout().write(buf),
        Which::Stderr => io::stderr().write(buf),
    }
}

impl Stream {
    /// Waits until the stream takes a write. Gives up ([`Stopped`]) when a signal arrives
    /// while it waits, or when a signal came earlier and the stream stayed full for
    /// [`GRACE`]; a stream given up once is never waited for again.
    #[cfg(unix)]
    fn wait_for_room(&self) -> io::Result<()> {
        let signals_before = crate::signal::received_count();
        let mut full_since: Option<Instant> = None;
        loop {
            let patient = !self.gave_up().load(Ordering::SeqCst);
            if writable(self.which, if patient { SLICE } else { Duration::ZERO })? {
                return Ok(());
            }
            let since = *full_since.get_or_insert_with(Instant::now);
            let stop = !patient
                || crate::signal::received_count() != signals_before
                || (signals_before > 0 && since.elapsed() >= GRACE);
            if stop {
                self.gave_up().store(true, Ordering::SeqCst);
                return Err(io::Error::other(Stopped));
            }
        }
    }

    #[cfg(not(unix))]
    fn wait_for_room(&self) -> io::Result<()> {
        Ok(())
    }
}

/// Whether a write would not block now, waiting at most `wait`. An error condition (the reader
/// closed the pipe) counts as writable: the write then reports it.
#[cfg(unix)]
fn writable(which: Which, wait: Duration) -> io::Result<bool> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let fd = fd(which);
    let mut fds = [PollFd::from_borrowed_fd(fd, PollFlags::OUT)];
    let timeout = Timespec::try_from(wait).unwrap_or_default();
    match poll(&mut fds, Some(&timeout)) {
        Ok(_) => Ok(!fds[0].revents().is_empty()),
        Err(rustix::io::Errno::INTR) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;

    #[test]
    fn stopped_is_recognised_through_io_error() {
        assert!(is_stopped(&io::Error::other(Stopped)));
        assert!(!is_stopped(&io::Error::from(io::ErrorKind::BrokenPipe)));
    }
}
