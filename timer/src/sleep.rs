//! [`Sleep`]: a future that completes at a deadline.

use std::future::Future;
use std::pin::Pin;
use std::task::{ready, Context, Poll};
use std::time::Duration;

use crate::context;
use crate::driver::{Registration, SleepPoll};
use crate::Instant;

/// Waits until `duration` has passed (asyncio's `sleep`).
///
/// The deadline is taken now, from the runtime's clock; a `duration` too large to represent
/// means about 30 years. The timer has 1 ms slots but keeps the exact deadline: the sleep
/// never completes early, and the driver wakes at the exact deadline.
///
/// # Panics
///
/// If no weft runtime (timer) is running on this thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, sleep, Instant};
///
/// Timer::new(true).block_on(async {
///     let start = Instant::now();
///     sleep(Duration::from_millis(100)).await;
///     assert!(start.elapsed() >= Duration::from_millis(100));
/// });
/// ```
#[track_caller]
pub fn sleep(duration: Duration) -> Sleep {
    let now = context::expect("time::sleep", |timer| timer.clock.now());
    Sleep::new(now.add_or_far(duration))
}

/// Waits until `deadline`. A deadline in the past completes at once (or on the runtime's
/// next turn).
///
/// # Panics
///
/// If no weft runtime (timer) is running on this thread.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, sleep_until, Instant};
///
/// Timer::new(true).block_on(async {
///     let deadline = Instant::now() + Duration::from_secs(2);
///     sleep_until(deadline).await;
///     assert_eq!(Instant::now(), deadline); // the paused clock jumped exactly there
/// });
/// ```
#[track_caller]
pub fn sleep_until(deadline: Instant) -> Sleep {
    context::expect("time::sleep_until", |_| ());
    Sleep::new(deadline)
}

/// Future returned by [`sleep`] and [`sleep_until`].
///
/// It holds plain data only: its deadline, and once polled, the id of the timer it
/// registered with and a generation-checked key to its entry. So it is `Send + Sync + Unpin`,
/// and:
///
/// * dropping it cancels its entry (O(1)) when dropped on the thread of that timer while the
///   timer is current; dropped elsewhere (another thread, after its runtime ended) it leaves
///   the entry, which later fires harmlessly (a spurious wake of a task that may be gone)
///   or goes away with its runtime;
/// * polled under a different weft timer (another runtime), it registers anew there;
/// * polled where no weft timer is running, it panics.
///
/// # Cancel safety
///
/// Dropping a `Sleep` before it completes is the normal way to cancel it.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_timer::{driver::Timer, sleep, Instant};
///
/// Timer::new(true).block_on(async {
///     let mut s = std::pin::pin!(sleep(Duration::from_secs(10)));
///     s.as_mut().reset(Instant::now() + Duration::from_secs(1));
///     s.await;
/// });
/// ```
#[must_use = "futures do nothing unless you `.await` or poll them"]
#[derive(Debug)]
pub struct Sleep {
    deadline: Instant,
    link: Link,
}

/// A `Sleep`'s state, packed in 16 bytes so a `Sleep` is 24: not registered (`timer` 0),
/// registered (a timer id, which is never `DONE`, and the entry's key), or completed since
/// the last reset (`timer == DONE`).
#[derive(Clone, Copy, Debug)]
struct Link {
    timer: u32,
    index: u32,
    stamp: u64,
}

/// `Link::timer` of a completed sleep (timer ids stop short of it).
const DONE: u32 = u32::MAX;

impl Link {
    const UNREGISTERED: Link = Link {
        timer: 0,
        index: 0,
        stamp: 0,
    };
    const DONE: Link = Link {
        timer: DONE,
        index: 0,
        stamp: 0,
    };

    fn is_done(self) -> bool {
        self.timer == DONE
    }

    fn registration(self) -> Option<Registration> {
        if self.timer == DONE {
            return None;
        }
        Registration::from_parts(self.timer, self.index, self.stamp)
    }

    fn registered(reg: Option<Registration>) -> Link {
        reg.map_or(Link::UNREGISTERED, |reg| {
            let (timer, index, stamp) = reg.to_parts();
            Link {
                timer,
                index,
                stamp,
            }
        })
    }
}

/// `Sleep` must stay `Send + Sync + Unpin`, as tokio's is `Send + Sync` (hyper's `Timer`
/// trait needs it), and small: 24 bytes (100,000 sleeps are 2.4 MB to stream through).
const _: () = {
    const fn assert_send_sync_unpin<T: Send + Sync + Unpin>() {}
    assert_send_sync_unpin::<Sleep>();
    assert!(std::mem::size_of::<Sleep>() <= 24);
};

impl Sleep {
    pub(crate) fn new(deadline: Instant) -> Sleep {
        Sleep {
            deadline,
            link: Link::UNREGISTERED,
        }
    }

    /// The deadline.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, sleep_until, Instant};
    ///
    /// Timer::new(true).block_on(async {
    ///     let at = Instant::now() + Duration::from_secs(1);
    ///     assert_eq!(sleep_until(at).deadline(), at);
    /// });
    /// ```
    pub fn deadline(&self) -> Instant {
        self.deadline
    }

    /// Whether the deadline has passed (the sleep completed, or will on its next poll).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, sleep};
    ///
    /// Timer::new(true).block_on(async {
    ///     let s = sleep(Duration::from_secs(1));
    ///     assert!(!s.is_elapsed());
    ///     weft_timer::advance(Duration::from_secs(1)).await;
    ///     assert!(s.is_elapsed());
    /// });
    /// ```
    pub fn is_elapsed(&self) -> bool {
        self.link.is_done() || self.deadline <= Instant::now()
    }

    /// Moves the deadline (earlier or later), keeping the registration: the sleep will
    /// complete at `deadline` even if it had completed before.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, sleep, Instant};
    ///
    /// Timer::new(true).block_on(async {
    ///     let start = Instant::now();
    ///     let mut s = std::pin::pin!(sleep(Duration::from_millis(10)));
    ///     s.as_mut().await;
    ///     s.as_mut().reset(Instant::now() + Duration::from_millis(20));
    ///     s.as_mut().await;
    ///     assert_eq!(start.elapsed(), Duration::from_millis(30));
    /// });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        self.get_mut().reset_to(deadline);
    }

    pub(crate) fn reset_to(&mut self, deadline: Instant) {
        self.deadline = deadline;
        let reg = self.link.registration();
        self.link = Link::UNREGISTERED;
        if let Some(reg) = reg {
            let moved = context::with(|t| {
                if t.id == reg.timer {
                    t.reset(reg.key(), deadline)
                } else {
                    None
                }
            });
            // If it fired already, or is out of reach (another thread or runtime): register
            // afresh on the next poll.
            self.link = Link::registered(moved.flatten().map(|key| reg.with_key(key)));
        }
    }

    /// Polls, consuming one unit of the task's cooperative budget if `budget`.
    pub(crate) fn poll_sleep(&mut self, cx: &mut Context<'_>, budget: bool) -> Poll<()> {
        if self.link.is_done() {
            return Poll::Ready(());
        }
        if budget {
            ready!(weft_core::coop::poll_proceed(cx));
        }
        let reg = self.link.registration();
        let outcome = context::with(|t| t.poll_sleep(self.deadline, reg, cx.waker()));
        match outcome {
            None => context::no_runtime("polling a weft Sleep"),
            Some(SleepPoll::Ready) => {
                self.link = Link::DONE;
                Poll::Ready(())
            }
            Some(SleepPoll::Pending { reg, old }) => {
                self.link = Link::registered(Some(reg));
                // The replaced waker is dropped here, with no borrow of the timer held.
                drop(old);
                Poll::Pending
            }
        }
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().poll_sleep(cx, true)
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(reg) = self.link.registration() {
            let waker = context::with(|t| (t.id == reg.timer).then(|| t.cancel(reg.key())))
                .flatten()
                .flatten();
            // Dropped outside the timer's borrow: it may be the last reference to a task.
            drop(waker);
        }
    }
}
