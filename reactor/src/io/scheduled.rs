//! The state of one registered source: its readiness and who waits on it.
//!
//! # Ground rules
//!
//! * A `ScheduledIo` lives on its runtime's thread (it is reached through an `Rc`). The
//!   driver sets readiness bits from events (`set_ready`); the socket's operations clear a
//!   direction's bit when, and only when, the operation returns `WouldBlock` (`clear`).
//! * Each direction's `RefCell<Waiters>` is borrowed for a few instructions at a time and
//!   never while a waker is woken or dropped: wakers are taken out first, the borrow
//!   released, then woken (a wake or a waker's drop may run arbitrary code).
//!
//! # Why no wake-up is lost
//!
//! The runtime is single-threaded: the driver dispatches events only inside `park`, which
//! never runs during the poll of a task, and wakers are only ever registered during a poll.
//! So between an operation's `WouldBlock` (which clears the bit) and the registration of the
//! waker that follows it in the same poll, no event can be dispatched. Any data that arrives
//! after the `WouldBlock` makes the kernel report a new edge, which the next `park` turns
//! into `set_ready` + a wake of every waker registered for that direction. An event that
//! was already queued before the operation only causes a spurious wake, never a lost one.
//!
//! # Why there is no busy loop
//!
//! A waiter is woken only by an event for its direction (or by the driver shutting down),
//! and a woken operation that finds nothing to do gets `WouldBlock`, clears the bit and
//! sleeps again until the next edge. Readiness is never re-armed by the waiting side.

use std::cell::{Cell, RefCell};
use std::task::{Context, Poll, Waker};

use super::slab::Slab;

/// A direction of I/O on a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Reading, receiving, accepting.
    Read,
    /// Writing, sending, finishing a connect.
    Write,
}

impl Direction {
    /// This direction's readiness bit.
    const fn bit(self) -> u8 {
        match self {
            Direction::Read => READ,
            Direction::Write => WRITE,
        }
    }

    /// This direction's "closed or failed" bit.
    const fn closed_bit(self) -> u8 {
        match self {
            Direction::Read => READ_CLOSED,
            Direction::Write => WRITE_CLOSED,
        }
    }
}

/// Readiness bit: a read may succeed. Set by readable, read-closed and error events; cleared
/// by a read-side operation that returns `WouldBlock`.
pub(crate) const READ: u8 = 0b01;
/// Readiness bit: a write may succeed. Set by writable, write-closed and error events;
/// cleared by a write-side operation that returns `WouldBlock`.
pub(crate) const WRITE: u8 = 0b10;
/// The read side hung up or failed. Set with `READ`; unlike `READ` it survives a partial
/// read (see `clear_after_partial`), because the kernel reports that edge only once.
pub(crate) const READ_CLOSED: u8 = 0b100;
/// The write side hung up or failed; the counterpart of `READ_CLOSED`.
pub(crate) const WRITE_CLOSED: u8 = 0b1000;

/// The readiness bits an event carries.
pub(crate) fn ready_from_event(event: &mio::event::Event) -> u8 {
    let mut ready = 0;
    // An error or a hang-up wakes both sides: the next operation reports it.
    if event.is_readable() || event.is_read_closed() || event.is_error() {
        ready |= READ;
    }
    if event.is_read_closed() || event.is_error() {
        ready |= READ_CLOSED;
    }
    if event.is_writable() || event.is_write_closed() || event.is_error() {
        ready |= WRITE;
    }
    if event.is_write_closed() || event.is_error() {
        ready |= WRITE_CLOSED;
    }
    ready
}

/// Who waits on one direction.
#[derive(Debug, Default)]
struct Waiters {
    /// The waker of the last `poll_*` call on this direction (`AsyncRead::poll_read`,
    /// `poll_accept`, ...). As with tokio's `poll_*` methods, only the most recent caller is
    /// remembered: two tasks must not `poll_read` the same stream concurrently.
    poll: Option<Waker>,
    /// The wakers of the readiness futures (behind the `async fn`s taking `&self`, which
    /// several tasks may await at once). Each future owns its key and removes its entry when
    /// dropped; `None` means not waiting (new, or already woken).
    futures: Slab<Option<Waker>>,
}

impl Waiters {
    /// Takes every waker out, leaving the future entries in place (their keys stay valid).
    fn take_all(&mut self, out: &mut Vec<Waker>) {
        out.extend(self.poll.take());
        if !self.futures.is_empty() {
            out.extend(self.futures.iter_mut().filter_map(Option::take));
        }
    }
}

/// Stores `waker` in `slot` unless the same waker is already there. Returns the replaced
/// waker, for the caller to drop after the borrow ends.
fn store(slot: &mut Option<Waker>, waker: &Waker) -> Option<Waker> {
    match slot {
        Some(w) if w.will_wake(waker) => None,
        _ => slot.replace(waker.clone()),
    }
}

/// Readiness and waiters of one registered source.
#[derive(Debug)]
pub(crate) struct ScheduledIo {
    readiness: Cell<u8>,
    reader: RefCell<Waiters>,
    writer: RefCell<Waiters>,
}

impl ScheduledIo {
    /// A source with the given initial readiness. Sockets that are usable at once (accepted,
    /// bound, adopted) start fully ready, so their first operation is simply tried; a socket
    /// still connecting starts with nothing, and waits for the driver's first event.
    pub(crate) fn new(readiness: u8) -> ScheduledIo {
        ScheduledIo {
            readiness: Cell::new(readiness),
            reader: RefCell::default(),
            writer: RefCell::default(),
        }
    }

    fn waiters(&self, dir: Direction) -> &RefCell<Waiters> {
        match dir {
            Direction::Read => &self.reader,
            Direction::Write => &self.writer,
        }
    }

    /// Whether `dir` is marked ready.
    #[inline]
    pub(crate) fn is_ready(&self, dir: Direction) -> bool {
        self.readiness.get() & (dir.bit() | dir.closed_bit()) != 0
    }

    /// Clears `dir`'s readiness. Call this exactly when an operation returned `WouldBlock`.
    #[inline]
    pub(crate) fn clear(&self, dir: Direction) {
        self.readiness
            .set(self.readiness.get() & !(dir.bit() | dir.closed_bit()));
    }

    /// After a stream read or write that moved fewer bytes than asked (and more than zero),
    /// the socket's buffer was drained (or filled) at that moment: clear `dir`'s readiness so
    /// the next operation waits for the next edge instead of paying a system call for a
    /// `WouldBlock`. Any bytes that arrive later raise a new edge, and events are dispatched
    /// only inside `park`, never between the operation and this call. A hang-up already
    /// reported stays set (`*_CLOSED`): the kernel does not report it again.
    #[inline]
    pub(crate) fn clear_after_partial(&self, dir: Direction) {
        self.readiness.set(self.readiness.get() & !dir.bit());
    }

    /// Marks `ready` (bits) and moves the wakers of those directions into `out`. The caller
    /// wakes them after this returns (no borrow is held then).
    pub(crate) fn set_ready(&self, ready: u8, out: &mut Vec<Waker>) {
        self.readiness.set(self.readiness.get() | ready);
        for dir in [Direction::Read, Direction::Write] {
            if ready & (dir.bit() | dir.closed_bit()) != 0 {
                self.waiters(dir).borrow_mut().take_all(out);
            }
        }
    }

    /// `Ready` if `dir` is ready; otherwise remembers `cx`'s waker in the direction's `poll_*`
    /// slot and returns `Pending`.
    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<()> {
        if self.is_ready(dir) {
            return Poll::Ready(());
        }
        let old = store(&mut self.waiters(dir).borrow_mut().poll, cx.waker());
        drop(old);
        Poll::Pending
    }

    /// Like [`ScheduledIo::poll_ready`], for a readiness future owning the waiter `key`
    /// (allocated on first use).
    pub(crate) fn poll_waiter(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        key: &mut Option<usize>,
    ) -> Poll<()> {
        if self.is_ready(dir) {
            return Poll::Ready(());
        }
        let mut waiters = self.waiters(dir).borrow_mut();
        let old = match *key {
            Some(k) => match waiters.futures.get_mut(k) {
                Some(slot) => store(slot, cx.waker()),
                None => unreachable!("a waiter key outlived its entry"),
            },
            None => {
                *key = Some(waiters.futures.insert(Some(cx.waker().clone())));
                None
            }
        };
        drop(waiters);
        drop(old);
        Poll::Pending
    }

    /// Forgets the waiter `key` (a readiness future was dropped).
    pub(crate) fn remove_waiter(&self, dir: Direction, key: usize) {
        let old = self.waiters(dir).borrow_mut().futures.remove(key);
        drop(old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Counter(AtomicUsize);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counter() -> (Arc<Counter>, Waker) {
        let c = Arc::new(Counter(AtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    fn fire(io: &ScheduledIo, ready: u8) {
        let mut out = Vec::new();
        io.set_ready(ready, &mut out);
        out.into_iter().for_each(Waker::wake);
    }

    #[test]
    fn directions_are_separate() {
        let io = ScheduledIo::new(0);
        let (r, rw) = counter();
        let (w, ww) = counter();
        assert!(io
            .poll_ready(&mut Context::from_waker(&rw), Direction::Read)
            .is_pending());
        assert!(io
            .poll_ready(&mut Context::from_waker(&ww), Direction::Write)
            .is_pending());
        fire(&io, WRITE);
        assert_eq!(r.0.load(Ordering::SeqCst), 0);
        assert_eq!(w.0.load(Ordering::SeqCst), 1);
        assert!(io.is_ready(Direction::Write) && !io.is_ready(Direction::Read));
        fire(&io, READ);
        assert_eq!(r.0.load(Ordering::SeqCst), 1);
        // Each waker is woken once per registration, not per event.
        fire(&io, READ | WRITE);
        assert_eq!(r.0.load(Ordering::SeqCst), 1);
        assert_eq!(w.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn every_future_waiter_is_woken_and_removed_ones_are_not() {
        let io = ScheduledIo::new(0);
        let (a, aw) = counter();
        let (b, bw) = counter();
        let (mut ka, mut kb) = (None, None);
        let _ = io.poll_waiter(&mut Context::from_waker(&aw), Direction::Read, &mut ka);
        let _ = io.poll_waiter(&mut Context::from_waker(&bw), Direction::Read, &mut kb);
        assert_ne!(ka, kb);
        io.remove_waiter(Direction::Read, kb.unwrap());
        fire(&io, READ);
        assert_eq!(a.0.load(Ordering::SeqCst), 1);
        assert_eq!(b.0.load(Ordering::SeqCst), 0);
        // Ready now: the waiter completes without registering again.
        assert!(io
            .poll_waiter(&mut Context::from_waker(&aw), Direction::Read, &mut ka)
            .is_ready());
    }

    #[test]
    fn cleared_only_on_request() {
        let io = ScheduledIo::new(READ | WRITE);
        assert!(io.is_ready(Direction::Read));
        io.clear(Direction::Read);
        assert!(!io.is_ready(Direction::Read));
        assert!(io.is_ready(Direction::Write));
    }
}
