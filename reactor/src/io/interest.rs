//! [`Interest`] and [`Ready`]: what a task waits for on a socket, and what the driver saw.
//!
//! tokio keeps its own types of these names behind its `net` feature, which would compile
//! tokio's reactor; weft defines them with the same constants, methods and operators, so
//! code written against `tokio::io::{Interest, Ready}` compiles against `weft::io`'s.
//!
//! Both are bit sets over one layout, shared with the readiness word of `ScheduledIo`:
//!
//! | bit | `Ready` | set by an event that is |
//! |---|---|---|
//! | `READABLE` | a read may succeed | readable, or an error (see below) |
//! | `WRITABLE` | a write may succeed | writable, or an error |
//! | `READ_CLOSED` | the read side hung up | read-closed |
//! | `WRITE_CLOSED` | the write side hung up | write-closed |
//! | `PRIORITY` | urgent data (Linux `EPOLLPRI`) | priority |
//! | `ERROR` | the socket has a pending error | error |
//!
//! An error event also marks `READABLE` and `WRITABLE`, so that a task waiting in either
//! direction is woken and its next operation reports the error (tokio wakes only the
//! directions the kernel named; for a UDP socket hit by an ICMP error that is none).

use std::fmt;
use std::ops;

/// Readiness bit: a read may succeed.
pub(crate) const READABLE: u8 = 0b00_0001;
/// Readiness bit: a write may succeed.
pub(crate) const WRITABLE: u8 = 0b00_0010;
/// Readiness bit: the read side hung up or failed.
pub(crate) const READ_CLOSED: u8 = 0b00_0100;
/// Readiness bit: the write side hung up or failed.
pub(crate) const WRITE_CLOSED: u8 = 0b00_1000;
/// Readiness bit: urgent (out-of-band) data is queued.
pub(crate) const PRIORITY: u8 = 0b01_0000;
/// Readiness bit: the socket has a pending error.
pub(crate) const ERROR: u8 = 0b10_0000;
const ALL: u8 = READABLE | WRITABLE | READ_CLOSED | WRITE_CLOSED | PRIORITY | ERROR;

/// What to wait for on a socket: readable, writable, priority (Linux) or error, or a
/// combination made with `|`. Tokio's `tokio::io::Interest`, for weft's sockets' `ready` and
/// `try_io`.
///
/// # Examples
///
/// ```
/// use weft_reactor::Interest;
///
/// let both = Interest::READABLE | Interest::WRITABLE;
/// assert!(both.is_readable() && both.is_writable());
/// assert_eq!(both.remove(Interest::WRITABLE), Some(Interest::READABLE));
/// assert_eq!(Interest::READABLE.remove(Interest::READABLE), None);
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Interest(u8);

impl Interest {
    /// Interest in reading (and in the read side hanging up).
    pub const READABLE: Interest = Interest(READABLE);
    /// Interest in writing (and in the write side hanging up).
    pub const WRITABLE: Interest = Interest(WRITABLE);
    /// Interest in urgent data (`EPOLLPRI`). weft's sockets are not registered for it, as
    /// tokio's are not: waiting only for it waits until the read side closes.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const PRIORITY: Interest = Interest(PRIORITY);
    /// Interest in error events. The kernel reports them whatever the interest.
    pub const ERROR: Interest = Interest(ERROR);

    /// Whether the interest includes reading.
    pub const fn is_readable(self) -> bool {
        self.0 & READABLE != 0
    }

    /// Whether the interest includes writing.
    pub const fn is_writable(self) -> bool {
        self.0 & WRITABLE != 0
    }

    /// Whether the interest includes urgent data.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const fn is_priority(self) -> bool {
        self.0 & PRIORITY != 0
    }

    /// Whether the interest includes errors.
    pub const fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }

    /// Both interests (the same as `self | other`).
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub const fn add(self, other: Interest) -> Interest {
        Interest(self.0 | other.0)
    }

    /// `self` without `other`, or `None` if nothing is left.
    #[must_use = "this returns the result of the operation, without modifying the original"]
    pub fn remove(self, other: Interest) -> Option<Interest> {
        match self.0 & !other.0 {
            0 => None,
            left => Some(Interest(left)),
        }
    }

    /// The readiness bits that satisfy this interest: a hang-up satisfies reading (and
    /// priority) or writing, as the next operation reports it.
    pub(crate) const fn mask(self) -> u8 {
        let mut mask = 0;
        if self.0 & READABLE != 0 {
            mask |= READABLE | READ_CLOSED;
        }
        if self.0 & WRITABLE != 0 {
            mask |= WRITABLE | WRITE_CLOSED;
        }
        if self.0 & PRIORITY != 0 {
            mask |= PRIORITY | READ_CLOSED;
        }
        if self.0 & ERROR != 0 {
            mask |= ERROR;
        }
        mask
    }
}

impl ops::BitOr for Interest {
    type Output = Interest;

    fn bitor(self, other: Interest) -> Interest {
        self.add(other)
    }
}

impl ops::BitOrAssign for Interest {
    fn bitor_assign(&mut self, other: Interest) {
        *self = self.add(other);
    }
}

impl fmt::Debug for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (READABLE, "READABLE"),
            (WRITABLE, "WRITABLE"),
            (PRIORITY, "PRIORITY"),
            (ERROR, "ERROR"),
        ];
        let mut sep = "";
        for (bit, name) in names {
            if self.0 & bit != 0 {
                write!(f, "{sep}{name}")?;
                sep = " | ";
            }
        }
        Ok(())
    }
}

/// What the driver saw on a socket: the answer of `ready(interest)`. Tokio's
/// `tokio::io::Ready`.
///
/// # Examples
///
/// ```
/// use weft_reactor::Ready;
///
/// let r = Ready::READABLE | Ready::READ_CLOSED;
/// assert!(r.is_readable() && r.is_read_closed() && !r.is_writable());
/// assert!(Ready::READ_CLOSED.is_readable()); // a hang-up counts as readable
/// assert_eq!(r - Ready::READ_CLOSED, Ready::READABLE);
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Ready(u8);

impl Ready {
    /// Nothing.
    pub const EMPTY: Ready = Ready(0);
    /// Readable.
    pub const READABLE: Ready = Ready(READABLE);
    /// Writable.
    pub const WRITABLE: Ready = Ready(WRITABLE);
    /// The read side hung up.
    pub const READ_CLOSED: Ready = Ready(READ_CLOSED);
    /// The write side hung up.
    pub const WRITE_CLOSED: Ready = Ready(WRITE_CLOSED);
    /// Urgent data is queued.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub const PRIORITY: Ready = Ready(PRIORITY);
    /// The socket has a pending error.
    pub const ERROR: Ready = Ready(ERROR);
    /// Every readiness.
    pub const ALL: Ready = Ready(ALL);

    /// The set of the bits in `bits` (readiness word bits).
    pub(crate) const fn from_bits(bits: u8) -> Ready {
        Ready(bits & ALL)
    }

    /// The readiness word bits of this set.
    pub(crate) const fn bits(self) -> u8 {
        self.0
    }

    /// Whether nothing is set.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Readable, or the read side hung up (a read would not wait).
    pub fn is_readable(self) -> bool {
        self.0 & (READABLE | READ_CLOSED) != 0
    }

    /// Writable, or the write side hung up (a write would not wait).
    pub fn is_writable(self) -> bool {
        self.0 & (WRITABLE | WRITE_CLOSED) != 0
    }

    /// The read side hung up.
    pub fn is_read_closed(self) -> bool {
        self.0 & READ_CLOSED != 0
    }

    /// The write side hung up.
    pub fn is_write_closed(self) -> bool {
        self.0 & WRITE_CLOSED != 0
    }

    /// Urgent data is queued.
    #[cfg(any(target_os = "linux", target_os = "android"))]
    pub fn is_priority(self) -> bool {
        self.0 & PRIORITY != 0
    }

    /// The socket has a pending error.
    pub fn is_error(self) -> bool {
        self.0 & ERROR != 0
    }
}

impl ops::BitOr for Ready {
    type Output = Ready;

    fn bitor(self, other: Ready) -> Ready {
        Ready(self.0 | other.0)
    }
}

impl ops::BitOrAssign for Ready {
    fn bitor_assign(&mut self, other: Ready) {
        self.0 |= other.0;
    }
}

impl ops::BitAnd for Ready {
    type Output = Ready;

    fn bitand(self, other: Ready) -> Ready {
        Ready(self.0 & other.0)
    }
}

impl ops::Sub for Ready {
    type Output = Ready;

    fn sub(self, other: Ready) -> Ready {
        Ready(self.0 & !other.0)
    }
}

impl fmt::Debug for Ready {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Ready");
        s.field("is_readable", &self.is_readable())
            .field("is_writable", &self.is_writable())
            .field("is_read_closed", &self.is_read_closed())
            .field("is_write_closed", &self.is_write_closed())
            .field("is_error", &self.is_error());
        #[cfg(any(target_os = "linux", target_os = "android"))]
        s.field("is_priority", &self.is_priority());
        s.finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interest_masks_include_the_hang_ups() {
        assert_eq!(Interest::READABLE.mask(), READABLE | READ_CLOSED);
        assert_eq!(Interest::WRITABLE.mask(), WRITABLE | WRITE_CLOSED);
        assert_eq!(Interest::ERROR.mask(), ERROR);
        assert_eq!(
            (Interest::READABLE | Interest::ERROR).mask(),
            READABLE | READ_CLOSED | ERROR
        );
        assert_eq!(
            format!("{:?}", Interest::READABLE | Interest::ERROR),
            "READABLE | ERROR"
        );
    }

    #[test]
    fn ready_set_operations() {
        let r = Ready::READABLE | Ready::WRITE_CLOSED;
        assert!(r.is_readable() && r.is_writable() && r.is_write_closed());
        assert!(!r.is_read_closed() && !r.is_error());
        assert_eq!(r & Ready::READABLE, Ready::READABLE);
        assert!((r - r).is_empty());
        assert_eq!(Ready::from_bits(0xff), Ready::ALL);
    }
}
