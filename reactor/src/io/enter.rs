//! [`EnterGuard`]: a driver made current on this thread.

use std::fmt;

use super::driver::IoEnterGuard;

/// Keeps a runtime's driver current on this thread: its timer (found by `sleep`, `timeout`,
/// ...) and its I/O (where new sockets register). From [`Handle::enter`](crate::Handle::enter);
/// dropping it restores what was current before. `!Send`: drop it where it was made.
#[must_use = "the driver is current only while the guard lives"]
pub struct EnterGuard {
    _io: IoEnterGuard,
    _timer: weft_timer::driver::EnterGuard,
}

impl EnterGuard {
    pub(crate) fn new(timer: weft_timer::driver::EnterGuard, io: IoEnterGuard) -> EnterGuard {
        EnterGuard {
            _io: io,
            _timer: timer,
        }
    }
}

impl fmt::Debug for EnterGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnterGuard").finish_non_exhaustive()
    }
}
