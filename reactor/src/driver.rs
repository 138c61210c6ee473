//! [`Driver`]: what the weft runtime parks in — mio's poll, the wake-up path from other
//! threads, and the runtime's timing wheel.
//!
//! ```text
//! park(timeout):
//!   real clock:   wait = min(timeout, next timer deadline - now)
//!                 arm the precise timer (timerfd) for that deadline, when it is the limit
//!                 mio::Poll::poll(wait)   (returns on I/O, an unpark, the timerfd or wait)
//!                 dispatch I/O events; fire the due timers
//!   paused clock: poll(0); if nothing arrived and timeout != 0: jump the clock to the next
//!                 deadline (bounded by timeout) and fire it; no deadline: poll(timeout)
//! ```
//!
//! # Tokens
//!
//! [`WAKER_TOKEN`] and [`TIMER_TOKEN`] are reserved; every other [`mio::Token`] belongs to
//! I/O sources registered through [`Driver::registry`] / [`Handle::registry`].
//!
//! # Ground rules
//!
//! The driver lives on its runtime's thread (it holds the `!Send` timer). Only `Wakeup`
//! crosses threads, as the [`Unpark`] handle and inside [`AutoAdvanceGuard`]s: it writes to
//! mio's waker (an eventfd on Linux), which makes the current or the next `poll` return, so
//! an unpark is never lost, and counts the guards in an atomic.

use std::fmt;
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use mio::{Events, Poll, Registry, Token};
use weft_executor::park::{Park, ParkStats, Unpark};
use weft_timer::driver::Timer;
use weft_timer::Instant;

use crate::io::{EnterGuard, IoDriver};
use crate::sys::PreciseTimer;

/// The token of the cross-thread waker ([`Park::unparker`]).
pub const WAKER_TOKEN: Token = Token(usize::MAX);
/// The token of the precise timer (timerfd) that wakes the poll at exact deadlines.
pub const TIMER_TOKEN: Token = Token(usize::MAX - 1);

/// Events taken per `poll`; more wait for the next one.
const EVENTS_CAPACITY: usize = 1024;

/// The runtime's driver: I/O readiness (mio) and time (the weft timer). Implements
/// [`Park`]; give it to `weft_executor::Runtime::with_park`.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_executor::{spawn, Runtime};
/// use weft_reactor::Driver;
/// use weft_timer::{driver::Timer, sleep, Instant};
///
/// // A runtime whose clock starts paused (the builder's `start_paused(true)`).
/// let timer = Timer::new(true);
/// let rt = Runtime::with_park(Driver::with_timer(timer.clone()).unwrap());
/// rt.block_on(async {
///     let start = Instant::now();
///     let a = spawn(async { sleep(Duration::from_secs(3600)).await });
///     a.await.unwrap(); // an idle paused runtime jumps to the deadline: no real waiting
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// });
/// ```
pub struct Driver {
    poll: Poll,
    events: Events,
    wakeup: Arc<Wakeup>,
    timer: Timer,
    precise: PreciseTimer,
    /// The deadline the precise timer is armed for (not re-armed for the same one).
    armed: Option<Instant>,
    handle: Handle,
    /// The registered I/O sources; events for them go to [`IoDriver::dispatch`].
    io: IoDriver,
    /// What the driver did, for the runtime's metrics.
    stats: ParkStats,
}

/// A cheap, cloneable handle to a [`Driver`]'s registry and timer, for the types that
/// register I/O sources (`!Send`, like the runtime).
///
/// # Examples
///
/// ```
/// let driver = weft_reactor::Driver::new().unwrap();
/// let handle = driver.handle();
/// let _registry: &mio::Registry = handle.registry();
/// assert_eq!(handle.timer().id(), driver.timer().id());
/// ```
#[derive(Clone)]
pub struct Handle {
    registry: Rc<Registry>,
    timer: Timer,
    wakeup: Arc<Wakeup>,
}

/// What other threads may touch.
struct Wakeup {
    /// Wakes the driver's poll (the [`Unpark`] path).
    waker: mio::Waker,
    /// Live [`AutoAdvanceGuard`]s: while non-zero, a paused clock does not jump.
    inhibitors: AtomicUsize,
}

/// Keeps a paused clock from jumping ahead while work the driver cannot see is in flight,
/// such as a job on the blocking pool (`to_thread`): its result may arrive before the next
/// timer deadline, so the idle runtime must wait for it instead of advancing time. `Send`:
/// create it on the runtime's thread, drop it wherever the work finishes (dropping it wakes
/// the driver).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_executor::Runtime;
/// use weft_reactor::Driver;
/// use weft_timer::{driver::Timer, timeout, Instant};
///
/// let timer = Timer::new(true);
/// let driver = Driver::with_timer(timer.clone()).unwrap();
/// let handle = driver.handle();
/// let rt = Runtime::with_park(driver);
/// rt.block_on(async {
///     let (tx, rx) = futures::channel::oneshot::channel();
///     let guard = handle.inhibit_auto_advance();
///     std::thread::spawn(move || {
///         let _guard = guard; // released when the work is done
///         tx.send(42).unwrap();
///     });
///     // Without the guard, the paused clock would jump 10 s and time this out.
///     let start = Instant::now();
///     assert_eq!(timeout(Duration::from_secs(10), rx).await, Ok(Ok(42)));
///     assert!(start.elapsed() < Duration::from_secs(10));
/// });
/// ```
#[must_use = "auto-advance is inhibited only while the guard lives"]
pub struct AutoAdvanceGuard {
    wakeup: Arc<Wakeup>,
}

impl Driver {
    /// A driver with a new timer whose clock runs.
    ///
    /// # Errors
    ///
    /// If the OS refuses a poll instance, an eventfd or a timerfd (out of descriptors).
    ///
    /// # Examples
    ///
    /// ```
    /// let driver = weft_reactor::Driver::new().unwrap();
    /// assert!(!driver.timer().is_paused());
    /// ```
    pub fn new() -> io::Result<Driver> {
        Driver::with_timer(Timer::new(false))
    }

    /// A driver for `timer`: use `Timer::new(true)` for a runtime that starts paused. Keep a
    /// clone of the timer to [`enter`](Timer::enter) it while the runtime runs.
    ///
    /// # Errors
    ///
    /// If the OS refuses a poll instance, an eventfd or a timerfd (out of descriptors).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_timer::driver::Timer;
    /// let driver = weft_reactor::Driver::with_timer(Timer::new(true)).unwrap();
    /// assert!(driver.timer().is_paused());
    /// ```
    pub fn with_timer(timer: Timer) -> io::Result<Driver> {
        let poll = Poll::new()?;
        let waker = mio::Waker::new(poll.registry(), WAKER_TOKEN)?;
        let precise = PreciseTimer::new()?;
        precise.register(poll.registry(), TIMER_TOKEN)?;
        let wakeup = Arc::new(Wakeup {
            waker,
            inhibitors: AtomicUsize::new(0),
        });
        let io = IoDriver::new(poll.registry().try_clone()?);
        let handle = Handle {
            registry: Rc::new(poll.registry().try_clone()?),
            timer: timer.clone(),
            wakeup: wakeup.clone(),
        };
        Ok(Driver {
            poll,
            events: Events::with_capacity(EVENTS_CAPACITY),
            wakeup,
            timer,
            precise,
            armed: None,
            handle,
            io,
            stats: ParkStats::default(),
        })
    }

    /// The runtime's timer.
    ///
    /// # Examples
    ///
    /// ```
    /// let driver = weft_reactor::Driver::new().unwrap();
    /// assert!(driver.timer().is_empty());
    /// ```
    pub fn timer(&self) -> &Timer {
        &self.timer
    }

    /// Where I/O sources are registered (with any token but the two reserved ones).
    ///
    /// # Examples
    ///
    /// ```
    /// let driver = weft_reactor::Driver::new().unwrap();
    /// let _registry: &mio::Registry = driver.registry();
    /// ```
    pub fn registry(&self) -> &Registry {
        self.poll.registry()
    }

    /// A cloneable handle to the registry and timer.
    ///
    /// # Examples
    ///
    /// ```
    /// let driver = weft_reactor::Driver::new().unwrap();
    /// let _handle = driver.handle();
    /// ```
    pub fn handle(&self) -> Handle {
        self.handle.clone()
    }

    /// Parks on the real clock: until `timeout`, the next timer deadline, an event or an
    /// unpark, whichever comes first.
    fn park_real(&mut self, timeout: Option<Duration>) {
        if timeout == Some(Duration::ZERO) && self.io.len() == 0 && self.timer.is_empty() {
            // The executor's periodic check while tasks are ready, with nothing to check: no
            // source is registered and no timer can fire, so skip the `epoll_wait` system
            // call and the clock read. An unpark needs no poll either: remote wakes reach
            // the executor through its own queue, and the next real poll drains the eventfd.
            return;
        }
        let mut wait = timeout;
        if wait != Some(Duration::ZERO) {
            if let Some(deadline) = self.timer.next_deadline() {
                let until = deadline.saturating_duration_since(self.timer.now());
                if wait.map_or(true, |w| until < w) {
                    wait = Some(until);
                    if !until.is_zero() {
                        self.arm(deadline, until);
                    }
                }
            }
        }
        self.poll(wait);
        self.stats.timers_fired += self.timer.process() as u64;
    }

    /// Parks on a paused clock: nothing really waits for a timer; when nothing else is ready,
    /// the clock jumps to the next deadline.
    fn park_paused(&mut self, timeout: Option<Duration>) {
        let woken = self.poll(Some(Duration::ZERO));
        if woken || timeout == Some(Duration::ZERO) {
            self.stats.timers_fired += self.timer.process() as u64;
            return;
        }
        if self.wakeup.inhibitors.load(Ordering::Acquire) > 0 {
            // Work in flight elsewhere: wait for it (its guard's drop wakes us), as on a
            // real clock, but with time standing still.
            self.poll(timeout);
            self.stats.timers_fired += self.timer.process() as u64;
            return;
        }
        match self.timer.next_deadline() {
            Some(deadline) => {
                let target = match timeout {
                    Some(t) => deadline.min(self.timer.now().checked_add(t).unwrap_or(deadline)),
                    None => deadline,
                };
                self.timer.advance_to(target);
            }
            // No timer at all: only I/O or an unpark can wake us.
            None => {
                self.poll(timeout);
            }
        }
        self.stats.timers_fired += self.timer.process() as u64;
    }

    /// Arms the precise timer for `deadline` (`until` from now), unless it already is.
    fn arm(&mut self, deadline: Instant, until: Duration) {
        if self.armed == Some(deadline) {
            return;
        }
        // On failure (no timerfd here), the poll timeout alone bounds the wait, rounded up
        // to whole milliseconds by mio: late by under 1 ms, never early.
        self.armed = self.precise.arm(until).ok().map(|()| deadline);
    }

    /// Polls once and dispatches the events. Returns whether anything other than the
    /// precise timer arrived (an unpark or I/O).
    fn poll(&mut self, wait: Option<Duration>) -> bool {
        // mio rounds a sub-millisecond `wait` up to 1 ms (never down to a busy zero); the
        // precise timer, when armed, ends the wait at the exact deadline before that.
        match self.poll.poll(&mut self.events, wait) {
            Ok(()) => {}
            // A signal: return early; the executor re-checks and parks again.
            Err(e) if e.kind() == io::ErrorKind::Interrupted => return true,
            Err(e) => panic!("weft driver: polling for I/O events failed: {e}"),
        }
        let mut woken = false;
        for event in self.events.iter() {
            match event.token() {
                // An unpark: the executor will drain its remote queue.
                WAKER_TOKEN => woken = true,
                TIMER_TOKEN => {
                    self.precise.clear();
                    self.armed = None;
                }
                _ => {
                    woken = true;
                    self.stats.io_events += 1;
                    self.io.dispatch(event);
                }
            }
        }
        woken
    }
}

// ============================================================================================
// I/O DISPATCH POINT. The net types (reactor/src/io/…) register their sources with the
// driver's `IoDriver` (through the thread's current handle, set by `Handle::enter`) under
// tokens other than `WAKER_TOKEN` and `TIMER_TOKEN`; `Driver::poll` hands each event for such
// a token to `IoDriver::dispatch`, which sets the source's readiness and wakes its reader
// and/or writer.
// ============================================================================================

impl Park for Driver {
    fn park(&mut self, timeout: Option<Duration>) {
        if self.timer.is_paused() {
            self.park_paused(timeout);
        } else {
            self.park_real(timeout);
        }
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        self.wakeup.clone()
    }

    fn stats(&self) -> ParkStats {
        self.stats
    }

    fn register(&self, cx: &mut weft_core::context::RuntimeContext) {
        self.timer.register(cx);
        self.io.handle().register(cx);
        cx.insert(Rc::new(self.handle.clone()));
    }
}

impl Unpark for Wakeup {
    fn unpark(&self) {
        // Fails only if the eventfd is gone (the driver was dropped): nobody to wake then.
        let _ = self.waker.wake();
    }
}

impl Drop for AutoAdvanceGuard {
    fn drop(&mut self) {
        self.wakeup.inhibitors.fetch_sub(1, Ordering::Release);
        // The driver may be blocked waiting for this: let it re-check.
        self.wakeup.unpark();
    }
}

impl fmt::Debug for AutoAdvanceGuard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AutoAdvanceGuard").finish_non_exhaustive()
    }
}

impl Handle {
    /// The handle of the driver of the weft runtime running on this thread, if any.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weft_reactor::Handle::try_current().is_none());
    /// let rt = weft_executor::Runtime::with_park(weft_reactor::Driver::new().unwrap());
    /// rt.block_on(async { assert!(weft_reactor::Handle::try_current().is_some()) });
    /// ```
    pub fn try_current() -> Option<Handle> {
        weft_core::context::with(Handle::clone)
    }

    /// Where I/O sources are registered.
    ///
    /// # Examples
    ///
    /// ```
    /// let handle = weft_reactor::Driver::new().unwrap().handle();
    /// let _registry: &mio::Registry = handle.registry();
    /// ```
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The runtime's timer.
    ///
    /// # Examples
    ///
    /// ```
    /// let handle = weft_reactor::Driver::new().unwrap().handle();
    /// assert!(handle.timer().is_empty());
    /// ```
    pub fn timer(&self) -> &Timer {
        &self.timer
    }

    /// Stops a paused clock from auto-advancing until the guard is dropped (see
    /// [`AutoAdvanceGuard`]). No effect on a running clock.
    ///
    /// # Examples
    ///
    /// ```
    /// let handle = weft_reactor::Driver::new().unwrap().handle();
    /// let guard = handle.inhibit_auto_advance();
    /// std::thread::spawn(move || drop(guard)).join().unwrap();
    /// ```
    pub fn inhibit_auto_advance(&self) -> AutoAdvanceGuard {
        self.wakeup.inhibitors.fetch_add(1, Ordering::AcqRel);
        AutoAdvanceGuard {
            wakeup: self.wakeup.clone(),
        }
    }

    /// Nothing left to do: the runtime's `block_on` enters its driver's context itself. Kept
    /// (with its guard, which does nothing) for code written against the earlier API.
    ///
    /// # Examples
    ///
    /// ```
    /// let handle = weft_reactor::Driver::new().unwrap().handle();
    /// let _enter = handle.enter(); // harmless, not needed
    /// ```
    pub fn enter(&self) -> EnterGuard {
        EnterGuard::new()
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("timer", &self.timer)
            .field("armed", &self.armed)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("timer", &self.timer)
            .finish_non_exhaustive()
    }
}
