//! The clock's controls, for tests: [`pause`], [`resume`], [`advance`].

use std::time::Duration;

use crate::context;

/// Pauses the clock of the weft runtime running on this thread.
///
/// From now on [`Instant::now`](crate::Instant::now) stands still; [`advance`] moves it, and a runtime with nothing
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
    // Fire the due timers (with no borrow of the wheel held while their wakers run), then let
    // the tasks they woke run before this returns.
    context::with(|timer| timer.process());
    weft_core::yield_now().await;
}
