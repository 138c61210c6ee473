//! The driver-facing side: [`Timer`], one per runtime.
//!
//! The runtime's driver (weft-reactor's `Driver`) owns a [`Timer`] and, in its park loop:
//!
//! 1. sleeps until [`Timer::next_deadline`] at the latest (the exact deadline, in ns, when it
//!    is within 64 ms; otherwise a lower bound, which is safe: waking there just lets the
//!    wheel cascade);
//! 2. calls [`Timer::process`], which fires the due timers and wakes their tasks;
//! 3. with a paused clock ([`Timer::is_paused`]) and nothing else to do, instead of sleeping,
//!    calls [`Timer::advance_to`]`(next_deadline)` and then [`Timer::process`].
//!
//! The driver registers the timer in the runtime's context ([`Timer::register`]), which the
//! runtime enters while it runs tasks, so that `sleep`, `timeout`, `interval` and
//! [`Instant::now`] find this timer.
//!
//! # Ground rules
//!
//! * A `Timer` (an `Rc`) and its wheel live on one thread. The wheel is borrowed mutably for
//!   one operation at a time and never while user code runs: fired wakers are collected, the
//!   borrow released, then woken; replaced or cancelled wakers are handed back to the caller,
//!   who drops them after the borrow ends (a waker's drop may drop a task, whose future may
//!   drop a `Sleep`, which re-enters the wheel).
//! * [`Sleep`] holds only the timer's id and a generation-checked key, so it
//!   is `Send + Sync` and can never reach another timer's entries.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::num::NonZeroU32;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::task::Waker;
use std::time::Duration;

use weft_core::context::RuntimeContext;
use weft_core::slab::Key;

use crate::clock::PausableClock;
use crate::wheel::{Expired, Wheel, NS_PER_TICK};
use crate::{Instant, Sleep};

/// Timer ids: unique in the process, so a `Sleep` never mistakes another runtime's timer for
/// its own. 32 bits keep a `Sleep` at 32 bytes; a process creating more than 2^32 - 1
/// runtimes gets a panic instead of a reused id.
static NEXT_ID: AtomicU32 = AtomicU32::new(1);

/// The timing wheel and clock of one runtime: a cheap `Rc` handle (`!Send`).
///
/// # Examples
///
/// Drive it by hand (this is what the runtime's driver does):
///
/// ```
/// use std::future::Future;
/// use std::task::Context;
/// use std::time::Duration;
/// use weft_timer::driver::Timer;
///
/// use weft_core::context::RuntimeContext;
///
/// let timer = Timer::new(true); // paused clock
/// let mut cx = RuntimeContext::new();
/// timer.register(&mut cx);
/// cx.enter(|| {
///     let waker = futures::task::noop_waker();
///     let mut task = Context::from_waker(&waker);
///     let mut sleep = weft_timer::sleep(Duration::from_millis(1500));
///     assert!(std::pin::Pin::new(&mut sleep).poll(&mut task).is_pending());
///     assert_eq!(timer.len(), 1);
///
///     // An idle, paused runtime jumps to the next deadline until the sleep fires.
///     while let Some(deadline) = timer.next_deadline() {
///         assert!(deadline <= sleep.deadline());
///         timer.advance_to(deadline);
///         timer.process();
///     }
///     assert_eq!(timer.now(), sleep.deadline());
///     assert!(std::pin::Pin::new(&mut sleep).poll(&mut task).is_ready());
/// });
/// ```
///
/// A timer belongs to its thread:
///
/// ```compile_fail
/// fn send<T: Send>(_: T) {}
/// send(weft_timer::driver::Timer::new(false));
/// ```
#[derive(Clone)]
pub struct Timer {
    pub(crate) inner: Rc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) id: NonZeroU32,
    /// Tick 0 of the wheel (the clock's time at creation); the wheel counts ns from here.
    origin: Instant,
    pub(crate) clock: PausableClock,
    wheel: RefCell<Wheel>,
    /// Reused buffers of fired wakers (taken out while they are woken).
    expired: Cell<Expired>,
}

/// Where a registered `Sleep` is: which timer, which entry (a [`Key`], flattened so that
/// the whole is 16 bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Registration {
    pub(crate) timer: NonZeroU32,
    index: u32,
    stamp: u64,
}

impl Registration {
    fn new(timer: NonZeroU32, key: Key) -> Registration {
        Registration {
            timer,
            index: key.index(),
            stamp: key.stamp(),
        }
    }

    pub(crate) fn key(self) -> Key {
        Key::from_parts(self.index, self.stamp)
    }

    /// The same timer, another entry.
    pub(crate) fn with_key(self, key: Key) -> Registration {
        Registration::new(self.timer, key)
    }

    /// The timer id, entry index and stamp, for a `Sleep` to pack with its other states.
    pub(crate) fn to_parts(self) -> (u32, u32, u64) {
        (self.timer.get(), self.index, self.stamp)
    }

    /// The inverse of [`Registration::to_parts`]; `None` if `timer` is 0.
    pub(crate) fn from_parts(timer: u32, index: u32, stamp: u64) -> Option<Registration> {
        Some(Registration {
            timer: NonZeroU32::new(timer)?,
            index,
            stamp,
        })
    }
}

/// The outcome of [`Inner::poll_sleep`].
pub(crate) enum SleepPoll {
    Ready,
    /// Registered; `old` is a replaced waker, to be dropped by the caller.
    Pending {
        reg: Registration,
        old: Option<Waker>,
    },
}

impl Timer {
    /// A timer whose clock starts running (`paused == false`) or paused (the runtime
    /// builder's `start_paused(true)`).
    ///
    /// # Examples
    ///
    /// ```
    /// let timer = weft_timer::driver::Timer::new(true);
    /// assert!(timer.is_paused());
    /// ```
    pub fn new(paused: bool) -> Timer {
        let clock = PausableClock::new(paused);
        let origin = clock.now();
        let id = NEXT_ID
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |id| {
                // u32::MAX is kept: a `Sleep` uses it to say "completed".
                id.checked_add(1).filter(|&next| next < u32::MAX)
            })
            .ok()
            .and_then(NonZeroU32::new)
            .expect("more than 2^32 - 1 weft timers created in this process");
        Timer {
            inner: Rc::new(Inner {
                id,
                origin,
                clock,
                wheel: RefCell::new(Wheel::new()),
                expired: Cell::new(Expired::default()),
            }),
        }
    }

    /// Registers this timer in a runtime's context: as the handle `sleep`, `timeout`,
    /// `interval` and [`Instant::now`] find, and as the runtime's clock for the crates below
    /// the timer ([`weft_core::time`]). The runtime's driver calls this once.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_core::context::RuntimeContext;
    ///
    /// let timer = weft_timer::driver::Timer::new(false);
    /// let mut cx = RuntimeContext::new();
    /// timer.register(&mut cx);
    /// cx.enter(|| {
    ///     let _sleep = weft_timer::sleep(std::time::Duration::from_secs(1)); // finds `timer`
    /// });
    /// ```
    pub fn register(&self, cx: &mut RuntimeContext) {
        cx.insert(self.inner.clone());
        cx.set_clock(self.inner.clone());
    }

    /// Makes this timer current on this thread (in a runtime context of its own) while `f`
    /// runs: what a runtime does for its tasks. For tests and standalone use; see also
    /// [`Timer::block_on`].
    ///
    /// # Examples
    ///
    /// ```
    /// let timer = weft_timer::driver::Timer::new(true);
    /// let s = timer.enter(|| weft_timer::sleep(std::time::Duration::from_secs(1)));
    /// assert_eq!(s.deadline(), timer.now() + std::time::Duration::from_secs(1));
    /// ```
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        let mut cx = RuntimeContext::new();
        self.register(&mut cx);
        cx.enter(f)
    }

    /// This timer's process-unique id.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_timer::driver::Timer;
    /// assert_ne!(Timer::new(false).id(), Timer::new(false).id());
    /// ```
    pub fn id(&self) -> u64 {
        u64::from(self.inner.id.get())
    }

    /// The clock's current time.
    ///
    /// # Examples
    ///
    /// ```
    /// let timer = weft_timer::driver::Timer::new(true);
    /// assert_eq!(timer.now(), timer.now()); // paused
    /// ```
    pub fn now(&self) -> Instant {
        self.inner.clock.now()
    }

    /// Whether the clock is paused.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(!weft_timer::driver::Timer::new(false).is_paused());
    /// ```
    pub fn is_paused(&self) -> bool {
        self.inner.clock.is_paused()
    }

    /// Pauses the clock (see [`pause`](crate::pause)).
    ///
    /// # Panics
    /// If it is already paused.
    ///
    /// # Examples
    ///
    /// ```
    /// let timer = weft_timer::driver::Timer::new(false);
    /// timer.pause();
    /// assert!(timer.is_paused());
    /// ```
    #[track_caller]
    pub fn pause(&self) {
        self.inner.clock.pause();
    }

    /// Lets a paused clock run again (see [`resume`](crate::resume)).
    ///
    /// # Panics
    /// If it is not paused.
    ///
    /// # Examples
    ///
    /// ```
    /// let timer = weft_timer::driver::Timer::new(true);
    /// timer.resume();
    /// assert!(!timer.is_paused());
    /// ```
    #[track_caller]
    pub fn resume(&self) {
        self.inner.clock.resume();
    }

    /// Moves a paused clock forward to `t` (no-op if `t` is not later). Fires nothing: call
    /// [`Timer::process`] next.
    ///
    /// # Panics
    /// If the clock is not paused.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// let timer = weft_timer::driver::Timer::new(true);
    /// let t = timer.now() + Duration::from_secs(3);
    /// timer.advance_to(t);
    /// assert_eq!(timer.now(), t);
    /// ```
    #[track_caller]
    pub fn advance_to(&self, t: Instant) {
        self.inner.clock.advance_to(t);
    }

    /// When the next timer is due: its exact deadline if that is within 64 ms of the wheel's
    /// position (or already past), else a lower bound (the start of the wheel slot holding
    /// it). `None` if no timer is registered. O(levels).
    ///
    /// # Examples
    ///
    /// ```
    /// let timer = weft_timer::driver::Timer::new(true);
    /// assert_eq!(timer.next_deadline(), None);
    /// ```
    pub fn next_deadline(&self) -> Option<Instant> {
        let ns = self.inner.wheel.borrow_mut().next_deadline()?;
        Some(self.inner.instant_at(ns))
    }

    /// Fires every timer due by the clock's current time, in deadline order, and wakes their
    /// tasks (after releasing the wheel, so a waker may use the timer). Returns how many
    /// fired.
    ///
    /// # Examples
    ///
    /// ```
    /// let timer = weft_timer::driver::Timer::new(true);
    /// assert_eq!(timer.process(), 0);
    /// ```
    pub fn process(&self) -> usize {
        self.inner.process()
    }

    /// Registered timers (not yet fired or cancelled).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weft_timer::driver::Timer::new(true).len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.inner.wheel.borrow().len()
    }

    /// Whether no timer is registered.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weft_timer::driver::Timer::new(true).is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl fmt::Debug for Timer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Timer");
        d.field("id", &self.inner.id)
            .field("paused", &self.is_paused());
        if let Ok(wheel) = self.inner.wheel.try_borrow() {
            d.field("len", &wheel.len());
        }
        d.finish()
    }
}

impl Inner {
    /// `t` in ns since the origin (0 if before it).
    #[inline]
    fn to_ns(&self, t: Instant) -> u64 {
        // Saturating: an instant ~292 years out stays the farthest one; before the origin
        // is 0.
        t.as_nanos().saturating_sub(self.origin.as_nanos()).max(0) as u64
    }

    fn instant_at(&self, ns: u64) -> Instant {
        let ns = i128::from(self.origin.as_nanos()) + i128::from(ns);
        Instant::from_nanos(ns.min(i128::from(i64::MAX)) as i64)
    }

    pub(crate) fn process(&self) -> usize {
        let now = self.to_ns(self.clock.now());
        let mut out = self.expired.take();
        let fired = self.wheel.borrow_mut().process(now, &mut out);
        // The wheel is released: a waker may now re-enter the timer.
        out.wake.drain(..).for_each(Waker::wake);
        out.drop.clear();
        self.expired.set(out);
        fired
    }

    /// Polls a sleep due at `deadline`: checks its entry if it is registered here, else
    /// registers it (or finds it already due).
    #[inline]
    pub(crate) fn poll_sleep(
        &self,
        deadline: Instant,
        reg: Option<Registration>,
        waker: &Waker,
    ) -> SleepPoll {
        let mut wheel = self.wheel.borrow_mut();
        if let Some(reg) = reg.filter(|r| r.timer == self.id) {
            // Our entry: alive = still pending (only its own Sleep cancels it), gone = fired.
            return match wheel.update_waker(reg.key(), waker) {
                Some(old) => SleepPoll::Pending { reg, old },
                None => SleepPoll::Ready,
            };
        }
        let when = self.to_ns(deadline);
        if when <= wheel.now() {
            return SleepPoll::Ready;
        }
        // Due within 2 ms of the last turn: worth one clock read to complete at once (the
        // first tick of an interval, a sleep of zero). Later deadlines skip the read.
        if when <= wheel.now().saturating_add(2 * NS_PER_TICK)
            && when <= self.to_ns(self.clock.now())
        {
            return SleepPoll::Ready;
        }
        let key = wheel.insert(when, Some(waker));
        SleepPoll::Pending {
            reg: Registration::new(self.id, key),
            old: None,
        }
    }

    /// Cancels `key`; returns its waker for the caller to drop. Never panics (used in drop).
    #[inline]
    pub(crate) fn cancel(&self, key: Key) -> Option<Waker> {
        let mut wheel = self.wheel.try_borrow_mut().ok()?;
        wheel.remove(key).flatten()
    }

    /// Moves `key` to `deadline`: its new key, or `None` if the entry already fired.
    pub(crate) fn reset(&self, key: Key, deadline: Instant) -> Option<Key> {
        let when = self.to_ns(deadline);
        self.wheel.borrow_mut().reset(key, when)
    }
}

/// The timer as the runtime's clock, for the crates below it (a rate limiter's time).
impl weft_core::time::Clock for Inner {
    fn now(&self) -> Duration {
        // Both count from `weft_core::time::anchor()`.
        Duration::from_nanos(u64::try_from(self.clock.now().as_nanos()).unwrap_or(0))
    }

    fn sleep_until(&self, deadline: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let ns = i64::try_from(deadline.as_nanos()).unwrap_or(i64::MAX);
        Box::pin(Sleep::new(Instant::from_nanos(ns)))
    }
}
