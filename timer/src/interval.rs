//! [`Interval`]: ticks at a fixed period.

use std::future::poll_fn;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use crate::{context, Instant, Sleep};

/// How late a tick may be before it counts as missed (as tokio's): a little lateness is normal
/// and must not shift the schedule under [`MissedTickBehavior::Delay`] or `Skip`.
const MISSED_SLACK: Duration = Duration::from_millis(5);

/// Ticks every `period`, the first tick completing at once.
///
/// # Panics
///
/// If `period` is zero, or if no weft runtime (timer) is running on this thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, interval};
///
/// Timer::new(true).block_on(async {
///     let mut iv = interval(Duration::from_millis(10));
///     let t0 = iv.tick().await; // at once
///     let t1 = iv.tick().await;
///     assert_eq!(t1 - t0, Duration::from_millis(10));
/// });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    let now = context::expect("time::interval", |timer| timer.clock.now());
    interval_at(now, period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
///
/// If `period` is zero, or if no weft runtime (timer) is running on this thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, interval_at, Instant};
///
/// Timer::new(true).block_on(async {
///     let start = Instant::now() + Duration::from_secs(1);
///     let mut iv = interval_at(start, Duration::from_secs(1));
///     assert_eq!(iv.tick().await, start);
/// });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(period > Duration::ZERO, "interval period must be non-zero");
    context::expect("time::interval_at", |_| ());
    Interval {
        delay: Sleep::new(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// What an [`Interval`] does after ticks were missed (the task was busy, or the clock was
/// advanced past several periods).
///
/// A tick counts as missed when it is taken more than 5 ms after it was due.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, interval, MissedTickBehavior};
///
/// Timer::new(true).block_on(async {
///     let mut iv = interval(Duration::from_secs(1));
///     iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
///     assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Skip);
/// });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks at once, one after another, until caught up with the original
    /// schedule (`start + n * period`). The default.
    #[default]
    Burst,
    /// Fire one tick now, then tick every `period` from now: the schedule shifts.
    Delay,
    /// Fire one tick now, then resume on the original schedule's next multiple of `period`.
    Skip,
}

impl MissedTickBehavior {
    /// The next deadline after the tick due at `timeout` was taken at `now`, late.
    fn next_timeout(self, timeout: Instant, now: Instant, period: Duration) -> Instant {
        match self {
            MissedTickBehavior::Burst => timeout.add_or_far(period),
            MissedTickBehavior::Delay => now.add_or_far(period),
            MissedTickBehavior::Skip => {
                let late = (now - timeout).as_nanos() % period.as_nanos();
                // `late < period`, so it fits in a Duration.
                let late = Duration::from_nanos(late as u64);
                now.add_or_far(period - late)
            }
        }
    }
}

/// Ticks at a fixed period: see [`interval`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, interval};
///
/// Timer::new(true).block_on(async {
///     let mut iv = interval(Duration::from_millis(100));
///     for _ in 0..3 {
///         iv.tick().await;
///     }
///     assert_eq!(iv.period(), Duration::from_millis(100));
/// });
/// ```
#[derive(Debug)]
pub struct Interval {
    /// Due at the next tick.
    delay: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick and returns when it was due.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a tick is consumed only when this returns.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, interval, Instant};
    ///
    /// Timer::new(true).block_on(async {
    ///     let start = Instant::now();
    ///     let mut iv = interval(Duration::from_secs(1));
    ///     assert_eq!(iv.tick().await, start);
    ///     assert_eq!(iv.tick().await, start + Duration::from_secs(1));
    /// });
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick (for hand-written futures and streams).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, interval};
    ///
    /// Timer::new(true).block_on(async {
    ///     let mut iv = interval(Duration::from_secs(1));
    ///     poll_fn(|cx| iv.poll_tick(cx)).await;
    /// });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(self.delay.poll_sleep(cx, true));
        let timeout = self.delay.deadline();
        let now = Instant::now();
        let next = if now > timeout.add_or_far(MISSED_SLACK) {
            self.missed_tick_behavior
                .next_timeout(timeout, now, self.period)
        } else {
            timeout.add_or_far(self.period)
        };
        // The sleep just completed, so its entry is gone: this only stores the deadline,
        // registered on the next poll.
        self.delay.reset_to(next);
        Poll::Ready(timeout)
    }

    /// Restarts the schedule: the next tick is one `period` from now.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, interval, Instant};
    ///
    /// Timer::new(true).block_on(async {
    ///     let mut iv = interval(Duration::from_secs(1));
    ///     iv.tick().await;
    ///     weft_timer::advance(Duration::from_millis(300)).await;
    ///     iv.reset();
    ///     let t = iv.tick().await;
    ///     assert_eq!(t, Instant::now());
    /// });
    /// ```
    pub fn reset(&mut self) {
        self.delay.reset_to(Instant::now().add_or_far(self.period));
    }

    /// Makes the next tick complete at once; the schedule continues from there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, interval, Instant};
    ///
    /// Timer::new(true).block_on(async {
    ///     let mut iv = interval(Duration::from_secs(1));
    ///     iv.tick().await;
    ///     iv.reset_immediately();
    ///     let start = Instant::now();
    ///     iv.tick().await;
    ///     assert_eq!(Instant::now(), start);
    /// });
    /// ```
    pub fn reset_immediately(&mut self) {
        self.delay.reset_to(Instant::now());
    }

    /// Moves the next tick to `after` from now; the schedule continues from there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, interval, Instant};
    ///
    /// Timer::new(true).block_on(async {
    ///     let mut iv = interval(Duration::from_secs(1));
    ///     iv.tick().await;
    ///     let start = Instant::now();
    ///     iv.reset_after(Duration::from_millis(20));
    ///     assert_eq!(iv.tick().await, start + Duration::from_millis(20));
    /// });
    /// ```
    pub fn reset_after(&mut self, after: std::time::Duration) {
        self.delay.reset_to(Instant::now().add_or_far(after));
    }

    /// Moves the next tick to `deadline`; the schedule continues from there.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, interval, Instant};
    ///
    /// Timer::new(true).block_on(async {
    ///     let mut iv = interval(Duration::from_secs(1));
    ///     iv.tick().await;
    ///     let at = Instant::now() + Duration::from_millis(10);
    ///     iv.reset_at(at);
    ///     assert_eq!(iv.tick().await, at);
    /// });
    /// ```
    pub fn reset_at(&mut self, deadline: Instant) {
        self.delay.reset_to(deadline);
    }

    /// What happens after missed ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, interval, MissedTickBehavior};
    ///
    /// Timer::new(true).block_on(async {
    ///     let iv = interval(Duration::from_secs(1));
    ///     assert_eq!(iv.missed_tick_behavior(), MissedTickBehavior::Burst);
    /// });
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Sets what happens after missed ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, interval, MissedTickBehavior};
    ///
    /// Timer::new(true).block_on(async {
    ///     let mut iv = interval(Duration::from_secs(1));
    ///     iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
    /// });
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }

    /// The period.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, interval};
    ///
    /// Timer::new(true).block_on(async {
    ///     assert_eq!(interval(Duration::from_secs(2)).period(), Duration::from_secs(2));
    /// });
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }
}
