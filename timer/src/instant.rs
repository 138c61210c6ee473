//! [`Instant`]: `std::time::Instant` that follows the runtime's (possibly paused) clock.

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

use crate::context;

/// A measurement of a monotonic clock: weft's own, so that it follows a paused clock.
///
/// [`Instant::now`] reads the clock of the weft timer running on this thread: the real clock,
/// or the frozen one after [`pause`](crate::pause) / `start_paused`. Outside a runtime it is
/// `std::time::Instant::now()`. It converts to and from `std::time::Instant` exactly; inside,
/// it is a count of nanoseconds from the first instant the process took (8 bytes, integer
/// arithmetic), so it spans about ±292 years around that. `Instant - Instant` saturates at
/// zero, as `std`'s `duration_since` does today.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, Instant};
///
/// let timer = Timer::new(true); // paused
/// timer.block_on(async {
///     let start = Instant::now();
///     weft_timer::sleep(Duration::from_secs(5)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(5)); // exactly: the clock is paused
///     assert_eq!(Instant::now() - start, Duration::from_secs(5));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant {
    /// Nanoseconds since the process's [`anchor`] (negative: before it). Plain integer
    /// arithmetic keeps timer registration cheap; it spans ±292 years around the anchor.
    ns: i64,
}

/// The `std::time::Instant` that weft instants count from (shared with the crates below the
/// timer, see [`weft_core::time`]).
fn anchor() -> std::time::Instant {
    weft_core::time::anchor()
}

/// `d` in nanoseconds, saturating at `i64::MAX`.
#[inline]
fn nanos(d: Duration) -> i64 {
    // In u64 arithmetic rather than `as_nanos`' u128: the same value, saturated.
    let ns = d
        .as_secs()
        .checked_mul(1_000_000_000)
        .and_then(|s| s.checked_add(u64::from(d.subsec_nanos())));
    ns.and_then(|ns| i64::try_from(ns).ok()).unwrap_or(i64::MAX)
}

impl Instant {
    /// The current time of this thread's weft clock (the real clock outside a runtime).
    ///
    /// # Examples
    ///
    /// ```
    /// let a = weft_timer::Instant::now();
    /// assert!(weft_timer::Instant::now() >= a);
    /// ```
    pub fn now() -> Instant {
        context::now().unwrap_or_else(Instant::real_now)
    }

    /// The real clock, whatever the runtime's clock says.
    #[inline]
    pub(crate) fn real_now() -> Instant {
        // The anchor first: on the process's first reading it is set now, so this reading is
        // never before it (the clock's times stay non-negative, as `weft_core::time` counts).
        let anchor = anchor();
        // One subtraction (saturating: never before the anchor) instead of `from_std`'s
        // second anchor load and signed conversion; this runs on every `Instant::now()`.
        Instant {
            ns: nanos(std::time::Instant::now().saturating_duration_since(anchor)),
        }
    }

    /// Converts a `std::time::Instant`.
    ///
    /// # Examples
    ///
    /// ```
    /// let std = std::time::Instant::now();
    /// assert_eq!(weft_timer::Instant::from_std(std).into_std(), std);
    /// ```
    pub fn from_std(std: std::time::Instant) -> Instant {
        let anchor = anchor();
        let ns = match std.checked_duration_since(anchor) {
            Some(after) => nanos(after),
            None => -nanos(anchor - std),
        };
        Instant { ns }
    }

    /// The `std::time::Instant` this is.
    ///
    /// # Examples
    ///
    /// ```
    /// let now = weft_timer::Instant::now();
    /// let _: std::time::Instant = now.into_std();
    /// ```
    pub fn into_std(self) -> std::time::Instant {
        let anchor = anchor();
        let d = Duration::from_nanos(self.ns.unsigned_abs());
        if self.ns >= 0 {
            anchor.checked_add(d).unwrap_or(anchor)
        } else {
            anchor.checked_sub(d).unwrap_or(anchor)
        }
    }

    /// Nanoseconds since the anchor (for the wheel).
    #[inline]
    pub(crate) fn as_nanos(self) -> i64 {
        self.ns
    }

    /// The instant `ns` nanoseconds after the anchor.
    #[inline]
    pub(crate) fn from_nanos(ns: i64) -> Instant {
        Instant { ns }
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let a = weft_timer::Instant::now();
    /// let b = a + Duration::from_millis(3);
    /// assert_eq!(b.duration_since(a), Duration::from_millis(3));
    /// assert_eq!(a.duration_since(b), Duration::ZERO);
    /// ```
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }

    /// Time from `earlier` to `self`, or `None` if `earlier` is later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let a = weft_timer::Instant::now();
    /// let b = a + Duration::from_millis(3);
    /// assert_eq!(b.checked_duration_since(a), Some(Duration::from_millis(3)));
    /// assert_eq!(a.checked_duration_since(b), None);
    /// ```
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        let d = self.ns.checked_sub(earlier.ns)?;
        u64::try_from(d).ok().map(Duration::from_nanos)
    }

    /// Time from `earlier` to `self`; zero if `earlier` is later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let a = weft_timer::Instant::now();
    /// assert_eq!(a.saturating_duration_since(a + Duration::from_secs(1)), Duration::ZERO);
    /// ```
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.checked_duration_since(earlier).unwrap_or_default()
    }

    /// Time since `self`, by this thread's weft clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let start = weft_timer::Instant::now();
    /// let _spent = start.elapsed();
    /// ```
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// `self + d`, or `None` on overflow.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let now = weft_timer::Instant::now();
    /// assert!(now.checked_add(Duration::from_secs(1)).is_some());
    /// assert!(now.checked_add(Duration::MAX).is_none());
    /// ```
    #[inline]
    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        let d = i64::try_from(d.as_nanos()).ok()?;
        self.ns.checked_add(d).map(Instant::from_nanos)
    }

    /// `self - d`, or `None` on underflow.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let now = weft_timer::Instant::now();
    /// assert!(now.checked_sub(Duration::MAX).is_none());
    /// ```
    pub fn checked_sub(&self, d: Duration) -> Option<Instant> {
        let d = i64::try_from(d.as_nanos()).ok()?;
        self.ns.checked_sub(d).map(Instant::from_nanos)
    }

    /// About 30 years from now: the deadline of `sleep(Duration::MAX)` and the like.
    pub(crate) fn far_future() -> Instant {
        Instant::now() + Duration::from_secs(86_400 * 365 * 30)
    }

    /// `self + d`, or [`Instant::far_future`] on overflow.
    pub(crate) fn add_or_far(self, d: Duration) -> Instant {
        self.checked_add(d).unwrap_or_else(Instant::far_future)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(std: std::time::Instant) -> Instant {
        Instant::from_std(std)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(i: Instant) -> std::time::Instant {
        i.into_std()
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// On overflow (past about 292 years from the process's start), as
    /// `std::time::Instant` panics on overflow (see [`Instant::checked_add`]).
    #[inline]
    fn add(self, d: Duration) -> Instant {
        self.checked_add(d)
            .expect("overflow when adding a duration to an instant")
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        *self = *self + d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// On underflow (before about 292 years before the process's start), as
    /// `std::time::Instant` panics on underflow (see [`Instant::checked_sub`]).
    fn sub(self, d: Duration) -> Instant {
        self.checked_sub(d)
            .expect("overflow when subtracting a duration from an instant")
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        *self = *self - d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturates at zero, like [`Instant::duration_since`].
    fn sub(self, earlier: Instant) -> Duration {
        self.saturating_duration_since(earlier)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.into_std().fmt(f)
    }
}
