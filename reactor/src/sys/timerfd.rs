//! Linux: a `timerfd` on `CLOCK_MONOTONIC` (the clock of `std::time::Instant`).

use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::ptr;
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Interest, Registry, Token};

#[derive(Debug)]
pub(crate) struct PreciseTimer {
    fd: File,
}

impl PreciseTimer {
    pub(crate) fn new() -> io::Result<PreciseTimer> {
        // SAFETY: a plain syscall taking no pointers.
        let raw = unsafe {
            libc::timerfd_create(
                libc::CLOCK_MONOTONIC,
                libc::TFD_NONBLOCK | libc::TFD_CLOEXEC,
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` was just returned by timerfd_create: an open descriptor that nothing
        // else owns, so `OwnedFd` may take it (and close it once).
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        Ok(PreciseTimer { fd: File::from(fd) })
    }

    pub(crate) fn register(&self, registry: &Registry, token: Token) -> io::Result<()> {
        registry.register(
            &mut SourceFd(&self.fd.as_raw_fd()),
            token,
            Interest::READABLE,
        )
    }

    pub(crate) fn arm(&self, after: Duration) -> io::Result<()> {
        // An all-zero `it_value` would disarm it: ask for at least 1 ns.
        let after = after.max(Duration::from_nanos(1));
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        let spec = libc::itimerspec {
            it_interval: zero,
            it_value: libc::timespec {
                tv_sec: libc::time_t::try_from(after.as_secs()).unwrap_or(libc::time_t::MAX),
                tv_nsec: after.subsec_nanos() as libc::c_long,
            },
        };
        // SAFETY: `fd` is an open timerfd; `spec` is a valid `itimerspec` that outlives the
        // call; the old-value pointer may be null.
        let rc = unsafe { libc::timerfd_settime(self.fd.as_raw_fd(), 0, &spec, ptr::null_mut()) };
        if rc < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(())
    }

    pub(crate) fn clear(&self) {
        // The expiry count (8 bytes); WouldBlock if there was none. Nothing to do on error.
        let mut count = [0u8; 8];
        let _ = (&self.fd).read(&mut count);
    }
}
