//! The [`Clock`] a [`RateLimiter`](crate::RateLimiter) reads and sleeps on.
//!
//! This crate may not depend on weft's timer, so time comes in through a trait object.
//!
//! # For the weft facade
//!
//! Implement [`Clock`] over weft's timer and install it once at start-up:
//!
//! ```ignore
//! struct WeftClock { origin: weft::time::Instant }
//! impl weft_channel::Clock for WeftClock {
//!     fn now(&self) -> Duration { weft::time::Instant::now() - self.origin } // pause-aware
//!     fn sleep_until(&self, deadline: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
//!         Box::pin(weft::time::sleep_until(self.origin + deadline))
//!     }
//! }
//! weft_channel::set_default_clock(Arc::new(WeftClock { origin: weft::time::Instant::now() }));
//! ```
//!
//! Then `RateLimiter::new` uses weft's (pausable) timer. If the sleep future needs a weft
//! runtime, limiters built that way must be awaited on one; [`RateLimiter::with_clock`]
//! picks a clock per limiter instead. Until a clock is installed, [`StdClock`] is used: real
//! time, with one helper thread (started on first use) that fires the sleeps.
//!
//! Tests use [`ManualClock`], which only moves when told to.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant};

use parking_lot::{Condvar, Mutex};

use crate::util::{Key, WaitList, WakeList};

/// A monotonic clock with a way to sleep until a point on it.
///
/// Time is a `Duration` since an origin of the clock's choosing (fixed for its life).
pub trait Clock: Send + Sync + 'static {
    /// The current time, as a duration since the clock's origin. Never goes backwards.
    fn now(&self) -> Duration;

    /// A future that completes once [`now`](Self::now) `>= deadline` (at once if it already
    /// is). Dropping it cancels the sleep.
    fn sleep_until(&self, deadline: Duration)
        -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
}

static DEFAULT_CLOCK: OnceLock<Arc<dyn Clock>> = OnceLock::new();

/// Installs the clock used by [`RateLimiter::new`](crate::RateLimiter::new) (the weft
/// runtime installs its timer here). The first clock installed stays; later calls return
/// `false`.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weft_channel::{set_default_clock, ManualClock};
///
/// assert!(set_default_clock(Arc::new(ManualClock::new())));
/// ```
pub fn set_default_clock(clock: Arc<dyn Clock>) -> bool {
    DEFAULT_CLOCK.set(clock).is_ok()
}

/// The installed default clock, or [`StdClock`].
///
/// # Examples
///
/// ```
/// let clock = weft_channel::default_clock();
/// let t = clock.now();
/// assert!(clock.now() >= t);
/// ```
pub fn default_clock() -> Arc<dyn Clock> {
    // Not `get_or_init`: asking before the runtime installs its clock must not lock in
    // `StdClock` for the rest of the process.
    DEFAULT_CLOCK
        .get()
        .cloned()
        .unwrap_or_else(|| Arc::new(StdClock))
}

/// Real time (`std::time::Instant`); sleeps are fired by one shared helper thread.
///
/// The thread is started on the first sleep that has to wait, and lives for the process.
/// This is a fallback for use outside weft: prefer a runtime's timer.
///
/// # Examples
///
/// ```
/// use weft_channel::{Clock, StdClock};
/// let now = StdClock.now();
/// futures::executor::block_on(StdClock.sleep_until(now)); // already due: returns at once
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct StdClock;

fn std_origin() -> Instant {
    static ORIGIN: OnceLock<Instant> = OnceLock::new();
    *ORIGIN.get_or_init(Instant::now)
}

/// The helper thread's queue of deadlines.
struct Sleeper {
    heap: Mutex<BinaryHeap<Reverse<(Duration, u64, WakerCell)>>>,
    condvar: Condvar,
}

/// A waker in the heap (ordered by the heap key only).
struct WakerCell(Waker);

impl PartialEq for WakerCell {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for WakerCell {}
impl PartialOrd for WakerCell {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for WakerCell {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

fn sleeper() -> &'static Sleeper {
    static SLEEPER: OnceLock<&'static Sleeper> = OnceLock::new();
    SLEEPER.get_or_init(|| {
        let sleeper: &'static Sleeper = Box::leak(Box::new(Sleeper {
            heap: Mutex::new(BinaryHeap::new()),
            condvar: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("weft-channel-clock".into())
            .spawn(move || sleeper_loop(sleeper))
            .expect("failed to spawn the clock thread");
        sleeper
    })
}

fn sleeper_loop(sleeper: &'static Sleeper) {
    let mut heap = sleeper.heap.lock();
    loop {
        let now = StdClock.now();
        let mut due = WakeList::new();
        while heap.peek().is_some_and(|Reverse((d, _, _))| *d <= now) {
            let Reverse((_, _, WakerCell(w))) = heap.pop().expect("peeked");
            due.push(w);
        }
        if !due.is_empty() {
            drop(heap);
            due.wake_all();
            heap = sleeper.heap.lock();
            continue;
        }
        match heap.peek() {
            Some(Reverse((deadline, _, _))) => {
                let wait = deadline.saturating_sub(now);
                sleeper.condvar.wait_for(&mut heap, wait);
            }
            None => sleeper.condvar.wait(&mut heap),
        }
    }
}

struct StdSleep {
    deadline: Duration,
}

impl Future for StdSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if StdClock.now() >= self.deadline {
            return Poll::Ready(());
        }
        static SEQ: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let sleeper = sleeper();
        sleeper
            .heap
            .lock()
            .push(Reverse((self.deadline, seq, WakerCell(cx.waker().clone()))));
        sleeper.condvar.notify_one();
        Poll::Pending
    }
}

impl Clock for StdClock {
    fn now(&self) -> Duration {
        std_origin().elapsed()
    }

    fn sleep_until(
        &self,
        deadline: Duration,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(StdSleep { deadline })
    }
}

/// A clock that moves only when told to, for deterministic tests.
///
/// [`advance`](ManualClock::advance) moves it forward and wakes the sleeps that became due;
/// [`advance_to_next`](ManualClock::advance_to_next) jumps to the earliest pending deadline
/// (like a paused runtime clock with nothing else to do). Clones share the same time.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_channel::{Clock, ManualClock};
///
/// let clock = ManualClock::new();
/// let mut sleep = clock.sleep_until(Duration::from_secs(5));
/// let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
/// assert!(sleep.as_mut().poll(&mut cx).is_pending());
/// assert_eq!(clock.next_deadline(), Some(Duration::from_secs(5)));
/// clock.advance(Duration::from_secs(5));
/// assert!(sleep.as_mut().poll(&mut cx).is_ready());
/// ```
#[derive(Clone, Default)]
pub struct ManualClock {
    inner: Arc<Mutex<ManualState>>,
}

#[derive(Default)]
struct ManualState {
    now: Duration,
    sleepers: WaitList<(Duration, Option<Waker>)>,
}

impl fmt::Debug for ManualClock {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ManualClock")
            .field("now", &self.inner.lock().now)
            .finish()
    }
}

impl ManualClock {
    /// A clock at time zero.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::{Clock, ManualClock};
    /// assert_eq!(ManualClock::new().now(), std::time::Duration::ZERO);
    /// ```
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by` and wakes the sleeps that are now due.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_channel::{Clock, ManualClock};
    /// let clock = ManualClock::new();
    /// clock.advance(Duration::from_millis(3));
    /// assert_eq!(clock.now(), Duration::from_millis(3));
    /// ```
    pub fn advance(&self, by: Duration) {
        let mut wakers = WakeList::new();
        {
            let mut state = self.inner.lock();
            state.now += by;
            let now = state.now;
            state.sleepers.for_each_mut(|(deadline, waker)| {
                if *deadline <= now {
                    wakers.push_opt(waker.take());
                }
            });
        }
        wakers.wake_all();
    }

    /// The earliest deadline of a pending sleep, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weft_channel::ManualClock::new().next_deadline(), None);
    /// ```
    pub fn next_deadline(&self) -> Option<Duration> {
        let mut state = self.inner.lock();
        let mut min: Option<Duration> = None;
        state
            .sleepers
            .for_each_mut(|(d, _)| min = Some(min.map_or(*d, |m| m.min(*d))));
        min
    }

    /// Jumps to the earliest pending deadline (if it is in the future) and wakes what is
    /// due. Returns `false` if no sleep is pending.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!weft_channel::ManualClock::new().advance_to_next());
    /// ```
    pub fn advance_to_next(&self) -> bool {
        let Some(next) = self.next_deadline() else {
            return false;
        };
        let now = self.inner.lock().now;
        self.advance(next.saturating_sub(now));
        true
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Duration {
        self.inner.lock().now
    }

    fn sleep_until(
        &self,
        deadline: Duration,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(ManualSleep {
            clock: self.inner.clone(),
            deadline,
            key: None,
        })
    }
}

struct ManualSleep {
    clock: Arc<Mutex<ManualState>>,
    deadline: Duration,
    key: Option<Key>,
}

impl Future for ManualSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = this.clock.lock();
        if state.now >= this.deadline {
            if let Some(key) = this.key.take() {
                state.sleepers.remove(key);
            }
            return Poll::Ready(());
        }
        let waker = Some(cx.waker().clone());
        match this.key.and_then(|k| state.sleepers.get_mut(k)) {
            Some(entry) => entry.1 = waker,
            None => this.key = Some(state.sleepers.push_back((this.deadline, waker))),
        }
        Poll::Pending
    }
}

impl Drop for ManualSleep {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.clock.lock().sleepers.remove(key);
        }
    }
}
