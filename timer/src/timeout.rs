//! [`timeout`] / [`wait_for`]: a future with a deadline.

use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use crate::{context, Elapsed, Instant, Sleep};

/// Runs `future` for at most `duration`: `Ok(output)`, or `Err(Elapsed)` if the time ran out
/// first (the future is then dropped when the `Timeout` is).
///
/// The future is polled before the deadline is checked, so one that is ready when time runs
/// out still yields `Ok`.
///
/// # Panics
///
/// If no weft runtime (timer) is running on this thread.
///
/// # Cancel safety
///
/// As cancel safe as `future`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, sleep, timeout};
///
/// Timer::new(true).block_on(async {
///     let fast = timeout(Duration::from_secs(1), async { 7 }).await;
///     assert_eq!(fast, Ok(7));
///     let slow = timeout(Duration::from_secs(1), sleep(Duration::from_secs(5))).await;
///     assert!(slow.is_err());
/// });
/// ```
#[track_caller]
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    let now = context::expect("time::timeout", |timer| timer.clock.now());
    Timeout::new(future.into_future(), Sleep::new(now.add_or_far(duration)))
}

/// asyncio's name for [`timeout`]: `wait_for(d, fut).await` is `Result<T, Elapsed>`.
///
/// # Panics
///
/// If no weft runtime (timer) is running on this thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, wait_for};
///
/// Timer::new(true).block_on(async {
///     let never = std::future::pending::<()>();
///     assert!(wait_for(Duration::from_secs(3600), never).await.is_err()); // instant: paused
/// });
/// ```
#[track_caller]
pub fn wait_for<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    timeout(duration, future)
}

/// Like [`timeout`], with a deadline instead of a duration.
///
/// # Panics
///
/// If no weft runtime (timer) is running on this thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, timeout_at, Instant};
///
/// Timer::new(true).block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(5);
///     assert_eq!(timeout_at(deadline, async { "done" }).await, Ok("done"));
/// });
/// ```
#[track_caller]
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    context::expect("time::timeout_at", |_| ());
    Timeout::new(future.into_future(), Sleep::new(deadline))
}

pin_project_lite::pin_project! {
    /// Future returned by [`timeout`], [`wait_for`] and [`timeout_at`].
    ///
    /// Its deadline check does not consume the task's cooperative budget (the wrapped future
    /// does, if it uses weft resources), so a timeout still fires when the budget is spent.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, timeout};
    ///
    /// Timer::new(true).block_on(async {
    ///     let t = timeout(Duration::from_secs(1), async { 1 });
    ///     assert_eq!(t.await, Ok(1));
    /// });
    /// ```
    #[must_use = "futures do nothing unless you `.await` or poll them"]
    #[derive(Debug)]
    pub struct Timeout<F> {
        #[pin]
        value: F,
        delay: Sleep,
    }
}

impl<F> Timeout<F> {
    fn new(value: F, delay: Sleep) -> Timeout<F> {
        Timeout { value, delay }
    }

    /// The deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, timeout, Instant};
    ///
    /// Timer::new(true).block_on(async {
    ///     let t = timeout(Duration::from_secs(1), async {});
    ///     assert_eq!(t.deadline(), Instant::now() + Duration::from_secs(1));
    /// });
    /// ```
    pub fn deadline(&self) -> Instant {
        self.delay.deadline()
    }

    /// The wrapped future.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, timeout};
    ///
    /// Timer::new(true).block_on(async {
    ///     let t = timeout(Duration::from_secs(1), std::future::ready(3));
    ///     let _inner: &std::future::Ready<i32> = t.get_ref();
    /// });
    /// ```
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The wrapped future, mutably.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, timeout};
    ///
    /// Timer::new(true).block_on(async {
    ///     let mut t = timeout(Duration::from_secs(1), std::future::ready(3));
    ///     let _inner: &mut std::future::Ready<i32> = t.get_mut();
    /// });
    /// ```
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// The wrapped future, giving up the deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, timeout};
    ///
    /// Timer::new(true).block_on(async {
    ///     let t = timeout(Duration::from_secs(1), async { 5 });
    ///     assert_eq!(t.into_inner().await, 5);
    /// });
    /// ```
    pub fn into_inner(self) -> F {
        self.value
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.value.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match this.delay.poll_sleep(cx, false) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed::new())),
            Poll::Pending => Poll::Pending,
        }
    }
}
