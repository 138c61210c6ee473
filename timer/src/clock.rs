//! The runtime's clock: real, or paused and moved by hand (tests).
//!
//! A paused clock stands still until [`advance`] moves it, or until the driver finds the
//! runtime idle and jumps it to the next timer's deadline (auto-advance), so a test of an
//! hour-long timeout runs in microseconds.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::context;
use crate::Instant;

/// The clock of one timer. Only its own thread touches it (`Cell`s).
///
/// Time reads `base + (real now - unfrozen)` while running, and `base` while paused.
#[derive(Debug)]
pub(crate) struct Clock {
    base: Cell<Instant>,
    /// The real time when the clock last started running; `None` while paused.
    unfrozen: Cell<Option<Instant>>,
    /// Whether it was ever paused: until then it reads the real clock with no arithmetic.
    shifted: Cell<bool>,
}

impl Clock {
    pub(crate) fn new(paused: bool) -> Clock {
        let now = Instant::real_now();
        Clock {
            base: Cell::new(now),
            unfrozen: Cell::new((!paused).then_some(now)),
            shifted: Cell::new(paused),
        }
    }

    #[inline]
    pub(crate) fn now(&self) -> Instant {
        match self.unfrozen.get() {
            None => self.base.get(),
            Some(_) if !self.shifted.get() => Instant::real_now(),
            Some(unfrozen) => {
                let ran = Instant::real_now().as_nanos() - unfrozen.as_nanos();
                Instant::from_nanos(self.base.get().as_nanos().saturating_add(ran))
            }
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.unfrozen.get().is_none()
    }

    #[track_caller]
    pub(crate) fn pause(&self) {
        assert!(!self.is_paused(), "the weft clock is already paused");
        self.base.set(self.now());
        self.unfrozen.set(None);
        self.shifted.set(true);
    }

    #[track_caller]
    pub(crate) fn resume(&self) {
        assert!(self.is_paused(), "the weft clock is not paused");
        self.unfrozen.set(Some(Instant::real_now()));
    }

    /// Moves a paused clock forward to `t` (never backward).
    #[track_caller]
    pub(crate) fn advance_to(&self, t: Instant) {
        assert!(
            self.is_paused(),
            "the weft clock is not paused: time::advance needs time::pause() or start_paused"
        );
        if t > self.base.get() {
            self.base.set(t);
        }
    }
}

/// Pauses the clock of the weft runtime running on this thread.
///
/// From now on [`Instant::now`] stands still; [`advance`] moves it, and a runtime with nothing
/// to do jumps it to the next timer's deadline, so timers fire at once, in order, with
/// `Instant::now()` reading their exact deadlines.
///
/// # Panics
///
/// Outside a weft runtime, or if the clock is already paused.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, Instant};
///
/// Timer::new(false).block_on(async {
///     weft_timer::pause();
///     let t = Instant::now();
///     assert_eq!(Instant::now(), t);
///     weft_timer::sleep(Duration::from_secs(60)).await; // returns at once
///     assert_eq!(t.elapsed(), Duration::from_secs(60));
///     weft_timer::resume();
/// });
/// ```
#[track_caller]
pub fn pause() {
    context::expect("time::pause", |timer| timer.clock.pause());
}

/// Resumes a paused clock: it runs at the real rate again, from where it stood.
///
/// # Panics
///
/// Outside a weft runtime, or if the clock is not paused.
///
/// # Examples
///
/// ```
/// weft_timer::driver::Timer::new(true).block_on(async {
///     weft_timer::resume();
///     weft_timer::pause();
/// });
/// ```
#[track_caller]
pub fn resume() {
    context::expect("time::resume", |timer| timer.clock.resume());
}

/// Moves a paused clock forward by `duration`, fires the timers that became due, and yields
/// once so that the tasks they woke run before this returns.
///
/// Each timer fires once even if `duration` spans several of its periods (an [`Interval`]
/// then sees missed ticks).
///
/// [`Interval`]: crate::Interval
///
/// # Panics
///
/// When polled outside a weft runtime, or if the clock is not paused.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, Instant};
///
/// Timer::new(true).block_on(async {
///     let start = Instant::now();
///     weft_timer::advance(Duration::from_millis(250)).await;
///     assert_eq!(start.elapsed(), Duration::from_millis(250));
/// });
/// ```
pub async fn advance(duration: Duration) {
    context::expect("time::advance", |timer| {
        let target = timer.clock.now().add_or_far(duration);
        timer.clock.advance_to(target);
    });
    // Fire outside the closure: wakers run with no borrow of the timer context held.
    if let Some(timer) = context::current() {
        timer.process();
    }
    YieldOnce(false).await;
}

/// Returns `Pending` once (having woken itself), so that others woken meanwhile run first.
struct YieldOnce(bool);

impl Future for YieldOnce {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            return Poll::Ready(());
        }
        self.0 = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
