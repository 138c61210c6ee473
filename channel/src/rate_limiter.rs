//! [`RateLimiter`]: a token bucket (rate and burst), fair among waiting tasks.
//!
//! Implemented as GCRA, the "virtual scheduling" form of a token bucket: one number, the
//! *theoretical arrival time* `tat`, replaces the token count. A request at time `t` conforms
//! if `t ≥ tat − (burst − 1)·T` (with `T = 1 / rate`), and then `tat = max(tat, t) + T`. That is
//! exactly a bucket of `burst` tokens refilled at `rate` tokens per second, with no rounding
//! drift over time.

use std::fmt;
use std::time::Duration;

use weft_core::time;

use crate::mutex::Mutex;

/// A token-bucket rate limiter: `rate` tokens per second, up to `burst` at once.
///
/// [`acquire`](RateLimiter::acquire) waits for a token; waiting tasks are served in FIFO
/// order. Time is the clock of the runtime the limiter is used on ([`weft_core::time`]):
/// weft's timer, paused in tests if the runtime's clock is; real time off weft.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_channel::RateLimiter;
///
/// // A runtime whose clock is paused: time moves only when told to.
/// weft_timer::driver::Timer::new(true).block_on(async {
///     let limiter = RateLimiter::new(10.0, 2);
///     assert!(limiter.try_acquire()); // the burst
///     assert!(limiter.try_acquire());
///     assert!(!limiter.try_acquire());
///     weft_timer::advance(Duration::from_millis(100)).await; // one token per 100 ms
///     assert!(limiter.try_acquire());
/// });
/// ```
pub struct RateLimiter {
    /// Time between tokens.
    interval: Duration,
    /// `(burst − 1) · interval`: how far ahead of real time `tat` may run.
    tolerance: Duration,
    /// The theoretical arrival time, as a time of [`weft_core::time`]; the async mutex also
    /// queues the waiters (FIFO).
    tat: Mutex<Duration>,
}

impl fmt::Debug for RateLimiter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimiter")
            .field("interval", &self.interval)
            .field("tolerance", &self.tolerance)
            .finish_non_exhaustive()
    }
}

impl RateLimiter {
    /// A limiter of `rate` tokens per second and bursts of up to `burst`. It starts full
    /// (`burst` tokens available).
    ///
    /// # Panics
    ///
    /// If `rate` is not a positive finite number, or `burst` is 0.
    ///
    /// # Examples
    ///
    /// ```
    /// let limiter = weft_channel::RateLimiter::new(100.0, 5);
    /// assert!(limiter.try_acquire());
    /// ```
    #[track_caller]
    pub fn new(rate: f64, burst: u32) -> Self {
        assert!(
            rate.is_finite() && rate > 0.0,
            "rate must be a positive finite number"
        );
        assert!(burst > 0, "burst must be at least 1");
        let interval = Duration::from_secs_f64(1.0 / rate);
        RateLimiter {
            interval,
            tolerance: interval * (burst - 1),
            tat: Mutex::new(Duration::ZERO),
        }
    }

    /// When a request could conform, given `tat`.
    fn allowed_at(&self, tat: Duration) -> Duration {
        tat.saturating_sub(self.tolerance)
    }

    /// Takes a token if one is available now and no task is waiting for one.
    ///
    /// # Examples
    ///
    /// See [`RateLimiter`].
    pub fn try_acquire(&self) -> bool {
        let Ok(mut tat) = self.tat.try_lock() else {
            return false;
        };
        let now = time::now();
        if now < self.allowed_at(*tat) {
            return false;
        }
        *tat = (*tat).max(now) + self.interval;
        true
    }

    /// Waits for a token and takes it. Waiting tasks are served in order.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `acquire` takes no token and leaves the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_channel::RateLimiter;
    ///
    /// weft_timer::driver::Timer::new(true).block_on(async {
    ///     let limiter = RateLimiter::new(1.0, 1);
    ///     let start = weft_timer::Instant::now();
    ///     limiter.acquire().await; // the first token is there
    ///     limiter.acquire().await; // the paused clock jumps to the next one
    ///     assert_eq!(start.elapsed(), Duration::from_secs(1));
    /// });
    /// ```
    pub async fn acquire(&self) {
        let mut tat = self.tat.lock().await;
        loop {
            let now = time::now();
            let at = self.allowed_at(*tat);
            if now >= at {
                *tat = (*tat).max(now) + self.interval;
                return;
            }
            time::sleep_until(at).await;
        }
    }

    /// The time between two tokens (`1 / rate`).
    ///
    /// # Examples
    ///
    /// ```
    /// let l = weft_channel::RateLimiter::new(4.0, 1);
    /// assert_eq!(l.interval(), std::time::Duration::from_millis(250));
    /// ```
    pub fn interval(&self) -> Duration {
        self.interval
    }
}
