//! [`Driver`]: what the weft runtime parks in — mio's poll with the I/O sources registered in
//! it, the wake-up path from other threads, and the runtime's timing wheel — and its
//! [`Handle`], which sockets keep to register, deregister and find their readiness.
//!
//! ```text
//! park(timeout):
//!   real clock:   wait = min(timeout, next timer deadline - now)
//!                 arm the precise timer (timerfd) for that deadline, when it is the limit
//!                 mio::Poll::poll(wait)   (returns on I/O, an unpark, the timerfd or wait)
//!                 dispatch the events (below); fire the due timers
//!   paused clock: poll(0); if nothing arrived and timeout != 0: jump the clock to the next
//!                 deadline (bounded by timeout) and fire it; no deadline: poll(timeout)
//!
//! dispatch(event):
//!   tag bit 63 set     -> the source in the table (if still there): mark its readiness,
//!                         wake the reader / writer / readiness futures it satisfies
//!   WAKER_TOKEN (0)    -> an unpark: return to the executor, which drains its remote queue
//!   TIMER_TOKEN (1)    -> the timerfd expired: consume it; the timers fire after the poll
//! ```
//!
//! # Tokens
//!
//! The driver registers every [`mio::Token`] in its poll itself, and no `mio::Registry` is
//! reachable from outside the crate: the I/O sources' tokens carry a tag bit (the top one)
//! and name a slot of the source table with its stamp (`io/sources.rs` draws the layout);
//! the driver's own two, for the waker and the timerfd, are small constants without it. An
//! event therefore never reaches the wrong kind of receiver, and an event for a dropped
//! source does not reach the source that took its slot (`io/sources.rs` has the argument).
//!
//! # Ground rules
//!
//! * The driver and its handles live on the runtime's thread (the timer and the source table
//!   are `!Send`). Only `Wakeup` crosses threads, as the [`Unpark`] handle and inside
//!   [`AutoAdvanceGuard`]s: it writes to mio's waker (an eventfd on Linux), which makes the
//!   current or the next `poll` return, so an unpark is never lost, and counts the guards in
//!   an atomic.
//! * The source table (`Shared::sources`) is borrowed mutably only for one insert or
//!   removal, and immutably by the dispatch only while it marks one source's readiness and
//!   moves its wakers out: never while a waker is woken or dropped (a wake, or a waker's
//!   drop, may run arbitrary code, which may create or drop sockets).
//! * A source stays in the table from its socket's registration to the socket's drop; the
//!   socket deregisters it from the poll first. When the driver is dropped, every source
//!   still registered is marked shut down and all its waiters are woken: their next poll
//!   reports an error instead of waiting for an event that cannot come.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::Duration;

use mio::{Events, Poll, Registry, Token};
use weft_core::slab::Key;
use weft_executor::park::{Park, ParkStats, Unpark};
use weft_timer::driver::Timer;
use weft_timer::Instant;

use crate::io::{ready_from_event, ScheduledIo, Sources, IO_TAG};
use crate::sys::PreciseTimer;

/// The token of the cross-thread waker ([`Park::unparker`]).
const WAKER_TOKEN: Token = Token(0);
/// The token of the precise timer (timerfd) that wakes the poll at exact deadlines.
const TIMER_TOKEN: Token = Token(1);
const _: () = assert!(
    WAKER_TOKEN.0 & IO_TAG == 0 && TIMER_TOKEN.0 & IO_TAG == 0,
    "the driver's own tokens never carry the I/O tag"
);

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
    precise: PreciseTimer,
    /// The deadline the precise timer is armed for (not re-armed for the same one).
    armed: Option<Instant>,
    handle: Handle,
    /// Reused buffer of the wakers one event wakes.
    wake_buf: Vec<Waker>,
    /// What the driver did, for the runtime's metrics.
    stats: ParkStats,
}

/// A cheap, cloneable handle to a [`Driver`]: its timer, and the source table every socket
/// registers in (`!Send`, like the runtime). Every socket keeps one.
///
/// # Examples
///
/// ```
/// let driver = weft_reactor::Driver::new().unwrap();
/// let handle = driver.handle();
/// assert_eq!(handle.timer().id(), driver.timer().id());
/// ```
///
/// Sockets register themselves; nothing else can put a source or a token in the driver's
/// poll (which is what keeps every event going to its own receiver):
///
/// ```compile_fail
/// let handle = weft_reactor::Driver::new().unwrap().handle();
/// let _registry: &mio::Registry = handle.registry(); // no such method
/// ```
#[derive(Clone)]
pub struct Handle {
    shared: Rc<Shared>,
}

/// What the driver shares with its handles (see the ground rules in the module docs).
struct Shared {
    /// A clone of the poll's registry, for sources to register and deregister between polls.
    registry: Registry,
    sources: RefCell<Sources>,
    /// Set when the driver is dropped: its poll is gone and no event will come.
    shutdown: Cell<bool>,
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
        let shared = Shared {
            registry: poll.registry().try_clone()?,
            sources: RefCell::default(),
            shutdown: Cell::new(false),
            timer,
            wakeup: Arc::new(Wakeup {
                waker,
                inhibitors: AtomicUsize::new(0),
            }),
        };
        Ok(Driver {
            poll,
            events: Events::with_capacity(EVENTS_CAPACITY),
            precise,
            armed: None,
            handle: Handle {
                shared: Rc::new(shared),
            },
            wake_buf: Vec::new(),
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
        &self.handle.shared.timer
    }

    /// A cloneable handle to the driver.
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
        let shared = &*self.handle.shared;
        if timeout == Some(Duration::ZERO)
            && shared.sources.borrow().len() == 0
            && shared.timer.is_empty()
        {
            // The executor's periodic check while tasks are ready, with nothing to check: no
            // source is registered and no timer can fire, so skip the `epoll_wait` system
            // call and the clock read. An unpark needs no poll either: remote wakes reach
            // the executor through its own queue, and the next real poll drains the eventfd.
            return;
        }
        let mut wait = timeout;
        if wait != Some(Duration::ZERO) {
            if let Some(deadline) = shared.timer.next_deadline() {
                let until = deadline.saturating_duration_since(shared.timer.now());
                if wait.map_or(true, |w| until < w) {
                    wait = Some(until);
                    if !until.is_zero() {
                        self.arm(deadline, until);
                    }
                }
            }
        }
        self.poll(wait);
        self.fire_timers();
    }

    /// Parks on a paused clock: nothing really waits for a timer; when nothing else is ready,
    /// the clock jumps to the next deadline.
    fn park_paused(&mut self, timeout: Option<Duration>) {
        let woken = self.poll(Some(Duration::ZERO));
        if woken || timeout == Some(Duration::ZERO) {
            self.fire_timers();
            return;
        }
        let shared = &*self.handle.shared;
        if shared.wakeup.inhibitors.load(Ordering::Acquire) > 0 {
            // Work in flight elsewhere: wait for it (its guard's drop wakes us), as on a
            // real clock, but with time standing still.
            self.poll(timeout);
            self.fire_timers();
            return;
        }
        match shared.timer.next_deadline() {
            Some(deadline) => {
                let target = match timeout {
                    Some(t) => deadline.min(shared.timer.now().checked_add(t).unwrap_or(deadline)),
                    None => deadline,
                };
                shared.timer.advance_to(target);
            }
            // No timer at all: only I/O or an unpark can wake us.
            None => {
                self.poll(timeout);
            }
        }
        self.fire_timers();
    }

    fn fire_timers(&mut self) {
        self.stats.timers_fired += self.handle.shared.timer.process() as u64;
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
        self.dispatch()
    }

    /// Hands each event of the last poll to its receiver, by its token's kind (see the module
    /// docs). Returns whether anything other than the precise timer arrived.
    fn dispatch(&mut self) -> bool {
        let mut woken = false;
        for event in self.events.iter() {
            let token = event.token();
            if token.0 & IO_TAG != 0 {
                woken = true;
                self.stats.io_events += 1;
                let wakers = &mut self.wake_buf;
                self.handle
                    .set_ready(token, ready_from_event(event), wakers);
                // No borrow is held now: a wake may run any code (even drop or make sockets).
                wakers.drain(..).for_each(Waker::wake);
            } else if token == WAKER_TOKEN {
                // An unpark: the executor will drain its remote queue.
                woken = true;
            } else {
                debug_assert_eq!(token, TIMER_TOKEN);
                self.precise.clear();
                self.armed = None;
            }
        }
        woken
    }
}

impl Drop for Driver {
    /// No event will come any more: wake everything still waiting, so that its next poll
    /// reports the shutdown as an error instead of waiting forever.
    fn drop(&mut self) {
        let shared = &self.handle.shared;
        shared.shutdown.set(true);
        let live = shared.sources.borrow().all();
        let mut wakers = Vec::new();
        for io in &live {
            // Every bit: every waiter, whatever its interest, is woken.
            io.set_ready(crate::Ready::ALL.bits(), &mut wakers);
        }
        drop(live);
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl Park for Driver {
    fn park(&mut self, timeout: Option<Duration>) {
        if self.handle.shared.timer.is_paused() {
            self.park_paused(timeout);
        } else {
            self.park_real(timeout);
        }
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        self.handle.shared.wakeup.clone()
    }

    fn stats(&self) -> ParkStats {
        self.stats
    }

    fn register(&self, cx: &mut weft_core::context::RuntimeContext) {
        self.handle.shared.timer.register(cx);
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

    /// The runtime's timer.
    ///
    /// # Examples
    ///
    /// ```
    /// let handle = weft_reactor::Driver::new().unwrap().handle();
    /// assert!(handle.timer().is_empty());
    /// ```
    pub fn timer(&self) -> &Timer {
        &self.shared.timer
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
        let wakeup = &self.shared.wakeup;
        wakeup.inhibitors.fetch_add(1, Ordering::AcqRel);
        AutoAdvanceGuard {
            wakeup: wakeup.clone(),
        }
    }

    /// The handle of the runtime running on this thread, for a socket being created.
    ///
    /// # Errors
    ///
    /// When no weft runtime is running on this thread.
    pub(crate) fn current() -> io::Result<Handle> {
        Handle::try_current().ok_or_else(no_runtime)
    }

    /// Whether `self` is the current handle of this thread.
    pub(crate) fn is_current(&self) -> bool {
        weft_core::context::with(|h: &Handle| Rc::ptr_eq(&h.shared, &self.shared)).unwrap_or(false)
    }

    /// Whether the driver is gone (no event will ever come).
    #[inline]
    pub(crate) fn is_shutdown(&self) -> bool {
        self.shared.shutdown.get()
    }

    /// Registers `source` for reading and writing, edge-triggered, with the given initial
    /// readiness. Returns its key (for [`Handle::release`]) and its shared state.
    pub(crate) fn register_source(
        &self,
        source: &mut impl mio::event::Source,
        ready: u8,
    ) -> io::Result<(Key, Rc<ScheduledIo>)> {
        if self.is_shutdown() {
            return Err(shut_down());
        }
        let io = Rc::new(ScheduledIo::new(ready));
        let (key, token) = self.shared.sources.borrow_mut().insert(io.clone())?;
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        if let Err(e) = self.shared.registry.register(source, token, interest) {
            let released = self.release(key);
            drop(released);
            return Err(e);
        }
        Ok((key, io))
    }

    /// Deregisters `source` from the poll (it stays in the table until [`Handle::release`]).
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source) -> io::Result<()> {
        self.shared.registry.deregister(source)
    }

    /// Removes the source under `key` from the table: events still in flight for it find
    /// nothing. Returns its state, for the caller to drop after this returns.
    pub(crate) fn release(&self, key: Key) -> Option<Rc<ScheduledIo>> {
        self.shared.sources.borrow_mut().remove(key)
    }

    /// Marks `ready` on the source `token` names (if it is still registered) and moves the
    /// wakers it satisfies into `out`, for the caller to wake once this returns.
    #[inline]
    fn set_ready(&self, token: Token, ready: u8, out: &mut Vec<Waker>) {
        if let Some(io) = self.shared.sources.borrow().get(token) {
            io.set_ready(ready, out);
        }
    }
}

impl fmt::Debug for Driver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Driver")
            .field("timer", self.timer())
            .field("armed", &self.armed)
            .finish_non_exhaustive()
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
            .field("timer", &self.shared.timer)
            .field("sources", &self.shared.sources.borrow().len())
            .field("shutdown", &self.is_shutdown())
            .finish_non_exhaustive()
    }
}

#[cold]
fn no_runtime() -> io::Error {
    io::Error::other(
        "no weft runtime is running on this thread: sockets must be created inside \
         `weft::run(..)` or `Runtime::block_on(..)`",
    )
}

/// The error of an operation on a source whose runtime has shut down.
#[cold]
pub(crate) fn shut_down() -> io::Error {
    io::Error::other("the weft runtime that owns this I/O source has shut down")
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::task::Context;

    use mio::unix::pipe::{Receiver, Sender};

    use super::*;
    use crate::io::Direction;
    use crate::test_util::{counter, Counter};

    /// Registers the reading end of a new pipe (nothing ready yet) and parks a reader on it.
    fn reader(handle: &Handle) -> (Receiver, Sender, Key, Rc<ScheduledIo>, Arc<Counter>) {
        let (peer, mut end) = mio::unix::pipe::new().unwrap();
        let (key, io) = handle.register_source(&mut end, 0).unwrap();
        let (count, waker) = counter();
        let pending = io.poll_ready(&mut Context::from_waker(&waker), Direction::Read);
        assert!(pending.is_pending());
        (end, peer, key, io, count)
    }

    /// Polls until the events of the last poll include `n` I/O events (the loopback socket
    /// reports at once; the bound only keeps a broken test from hanging).
    fn poll_io_events(driver: &mut Driver, n: usize) {
        for _ in 0..100 {
            driver
                .poll
                .poll(&mut driver.events, Some(Duration::from_millis(10)))
                .unwrap();
            let io = driver.events.iter().filter(|e| e.token().0 & IO_TAG != 0);
            if io.count() >= n {
                return;
            }
        }
        panic!("expected {n} I/O events");
    }

    #[test]
    fn an_event_reaches_its_source_only() {
        let mut driver = Driver::new().unwrap();
        let handle = driver.handle();
        let (_a, mut a_peer, _, a_io, a_woken) = reader(&handle);
        let (_b, _b_peer, _, b_io, b_woken) = reader(&handle);
        a_peer.write_all(b"x").unwrap();
        assert!(
            driver.poll(Some(Duration::from_secs(5))),
            "the event wakes the park"
        );
        assert_eq!(a_woken.get(), 1);
        assert!(a_io.is_ready(Direction::Read));
        assert_eq!(b_woken.get(), 0);
        assert!(!b_io.is_ready(Direction::Read));
    }

    #[test]
    fn an_event_for_a_dropped_source_does_not_reach_the_next_one_in_its_slot() {
        let mut driver = Driver::new().unwrap();
        let handle = driver.handle();
        let (mut a, mut a_peer, a_key, _, a_woken) = reader(&handle);
        a_peer.write_all(b"x").unwrap();
        // The event is out of the kernel, waiting for its dispatch...
        poll_io_events(&mut driver, 1);
        // ...when a wake earlier in the batch drops the source (as `PollEvented`'s drop
        // does) and creates another, which takes the freed slot.
        handle.deregister(&mut a).unwrap();
        drop(handle.release(a_key));
        drop(a);
        let (_b, _b_peer, b_key, b_io, b_woken) = reader(&handle);
        assert_eq!(b_key.index(), a_key.index(), "the slot is reused");
        driver.dispatch();
        assert_eq!(a_woken.get(), 0, "its source is gone");
        assert_eq!(b_woken.get(), 0, "not the new occupant");
        assert!(!b_io.is_ready(Direction::Read));
    }

    #[test]
    fn many_sources_registered_and_dropped_get_only_their_own_events() {
        let mut driver = Driver::new().unwrap();
        let handle = driver.handle();
        let rounds = if cfg!(miri) { 4 } else { 20 };
        let per_round: usize = 32;
        for round in 0..rounds {
            let mut sources: Vec<_> = (0..per_round).map(|_| reader(&handle)).collect();
            // Every third source gets data, then the events of the whole round are taken
            // from the kernel; half the sources (with and without data) are dropped and
            // replaced before the dispatch.
            for (_, peer, ..) in sources.iter_mut().step_by(3) {
                peer.write_all(b"x").unwrap();
            }
            poll_io_events(&mut driver, per_round.div_ceil(3));
            let mut fresh = Vec::new();
            for (mut end, _peer, key, _, woken) in sources.drain(per_round / 2..) {
                handle.deregister(&mut end).unwrap();
                drop(handle.release(key));
                assert_eq!(woken.get(), 0);
                fresh.push(reader(&handle));
            }
            driver.dispatch();
            for (i, (.., io, woken)) in sources.iter().enumerate() {
                let sent = i % 3 == 0;
                assert_eq!(woken.get(), sent as usize, "round {round}");
                assert_eq!(io.is_ready(Direction::Read), sent, "round {round}");
            }
            for (.., io, woken) in &fresh {
                assert_eq!(woken.get(), 0, "round {round}");
                assert!(!io.is_ready(Direction::Read), "round {round}");
            }
            for (mut end, _peer, key, ..) in sources.into_iter().chain(fresh) {
                handle.deregister(&mut end).unwrap();
                drop(handle.release(key));
            }
        }
        assert_eq!(handle.shared.sources.borrow().len(), 0);
    }

    #[test]
    fn dropping_the_driver_wakes_every_waiter_and_refuses_new_sources() {
        let driver = Driver::new().unwrap();
        let handle = driver.handle();
        let (_a, _peer, _, io, woken) = reader(&handle);
        drop(driver);
        assert_eq!(woken.get(), 1);
        assert!(handle.is_shutdown() && io.is_ready(Direction::Read));
        let (mut b, _) = mio::net::UnixStream::pair().unwrap();
        assert!(handle.register_source(&mut b, 0).is_err());
    }

    #[test]
    fn current_is_scoped_by_the_context() {
        assert!(Handle::current().is_err());
        let driver = Driver::new().unwrap();
        let mut cx = weft_core::context::RuntimeContext::new();
        driver.register(&mut cx);
        cx.enter(|| {
            assert!(Handle::current().unwrap().is_current());
            assert!(driver.handle().is_current());
        });
        assert!(Handle::current().is_err());
        assert!(!driver.handle().is_current());
    }

    /// The descriptors registered in the epoll instance `epfd` (from `/proc/self/fdinfo`).
    fn registered_fds(epfd: i32) -> Vec<i32> {
        let info = std::fs::read_to_string(format!("/proc/self/fdinfo/{epfd}")).unwrap();
        info.lines()
            .filter_map(|l| l.strip_prefix("tfd:"))
            .map(|l| l.split_whitespace().next().unwrap().parse().unwrap())
            .collect()
    }

    #[test]
    #[cfg_attr(miri, ignore = "reads /proc/self/fdinfo")]
    fn dropping_a_socket_deregisters_it() {
        use crate::net::{TcpListener, UnixStream};
        use std::os::fd::AsRawFd;
        let driver = Driver::new().unwrap();
        let epfd = driver.poll.as_raw_fd();
        let rt = weft_executor::Runtime::with_park(driver);
        rt.block_on(async {
            let before = registered_fds(epfd);
            let (a, b) = UnixStream::pair().unwrap();
            let (fa, fb) = (a.as_raw_fd(), b.as_raw_fd());
            let now = registered_fds(epfd);
            assert!(now.contains(&fa) && now.contains(&fb));
            drop(a);
            let now = registered_fds(epfd);
            assert!(!now.contains(&fa) && now.contains(&fb));
            drop(b);
            assert_eq!(registered_fds(epfd), before);
            // Adopting into std deregisters too.
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let fd = listener.as_raw_fd();
            assert!(registered_fds(epfd).contains(&fd));
            let std = listener.into_std().unwrap();
            assert!(!registered_fds(epfd).contains(&fd));
            let again = TcpListener::from_std(std).unwrap();
            assert!(registered_fds(epfd).contains(&again.as_raw_fd()));
        });
    }
}
