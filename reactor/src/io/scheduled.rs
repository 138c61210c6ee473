//! The state of one registered source: its readiness and who waits on it.
//!
//! # Ground rules
//!
//! * A `ScheduledIo` lives on its runtime's thread (it is reached through an `Rc`). The
//!   driver sets readiness bits from events (`set_ready`); the socket's operations clear a
//!   direction's bits when, and only when, the operation returns `WouldBlock` (`clear`), or
//!   moved fewer bytes than asked (`clear_after_partial`, the ready bit only).
//! * The `RefCell<Waiters>` is borrowed for a few instructions at a time and never while a
//!   waker is woken or dropped: wakers are taken out first, the borrow released, then woken
//!   (a wake or a waker's drop may run arbitrary code).
//!
//! # Why no wake-up is lost
//!
//! The runtime is single-threaded: the driver dispatches events only inside `park`, which
//! never runs during the poll of a task, and wakers are only ever registered during a poll.
//! So between an operation's `WouldBlock` (which clears the bits) and the registration of the
//! waker that follows it in the same poll, no event can be dispatched. Any data that arrives
//! after the `WouldBlock` makes the kernel report a new edge, which the next `park` turns
//! into `set_ready` + a wake of every waker registered for that direction. An event that
//! was already queued before the operation only causes a spurious wake, never a lost one.
//!
//! The same holds for the readiness futures behind `ready(interest)`: each registers with
//! the mask of readiness bits that satisfies its interest (`Interest::mask`), and
//! `set_ready` wakes every future whose mask meets the event's bits. A bit is cleared only
//! by an operation on this thread that got `WouldBlock` (or moved fewer bytes than asked,
//! see `clear_after_partial`), so a future that found its mask empty and registered sees
//! every later edge that could satisfy it. The bits `clear` removes are exactly the ones
//! that operation proved stale: its own direction's, plus `ERROR`, because a socket with a
//! pending error reports it instead of `WouldBlock`.
//!
//! # Why there is no busy loop
//!
//! A waiter is woken only by an event for its direction (or by the driver shutting down),
//! and a woken operation that finds nothing to do gets `WouldBlock`, clears the bit and
//! sleeps again until the next edge. Readiness is never re-armed by the waiting side.

use std::cell::{Cell, RefCell};
use std::task::{Context, Poll, Waker};

#[cfg(any(target_os = "linux", target_os = "android"))]
use super::interest::PRIORITY;
use super::interest::{ERROR, READABLE, READ_CLOSED, WRITABLE, WRITE_CLOSED};
use weft_core::slab::{Key, Slab};

/// A direction of I/O on a source.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Direction {
    /// Reading, receiving, accepting.
    Read,
    /// Writing, sending, finishing a connect.
    Write,
}

impl Direction {
    /// The readiness bits that let an operation in this direction proceed: ready, or hung
    /// up (the operation then reports end-of-file or the error).
    pub(crate) const fn mask(self) -> u8 {
        match self {
            Direction::Read => READABLE | READ_CLOSED,
            Direction::Write => WRITABLE | WRITE_CLOSED,
        }
    }

    /// This direction's readiness bit, without its hang-up.
    const fn bit(self) -> u8 {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }
}

/// The readiness bits an event carries (see `interest.rs` for the table).
pub(crate) fn ready_from_event(event: &mio::event::Event) -> u8 {
    let mut ready = 0;
    // An error wakes both directions: the next operation reports it.
    if event.is_readable() || event.is_error() {
        ready |= READABLE;
    }
    if event.is_writable() || event.is_error() {
        ready |= WRITABLE;
    }
    if event.is_read_closed() {
        ready |= READ_CLOSED;
    }
    if event.is_write_closed() {
        ready |= WRITE_CLOSED;
    }
    if event.is_error() {
        ready |= ERROR;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    if event.is_priority() {
        ready |= PRIORITY;
    }
    ready
}

/// A readiness future's entry: the bits that satisfy it, and its waker while it waits.
#[derive(Debug)]
struct Waiter {
    mask: u8,
    /// `None` means not waiting (new, or already woken).
    waker: Option<Waker>,
}

/// Who waits on a source.
#[derive(Debug, Default)]
struct Waiters {
    /// The waker of the last `poll_*` call reading (`AsyncRead::poll_read`, `poll_accept`,
    /// `poll_read_ready`, ...). As with tokio's `poll_*` methods, only the most recent caller
    /// is remembered: two tasks must not `poll_read` the same stream concurrently.
    reader: Option<Waker>,
    /// The same for writing.
    writer: Option<Waker>,
    /// The readiness futures (behind the `async fn`s taking `&self`, which several tasks may
    /// await at once). Each future owns its key and removes its entry when dropped.
    futures: Slab<Waiter>,
}

impl Waiters {
    fn poll_slot(&mut self, dir: Direction) -> &mut Option<Waker> {
        match dir {
            Direction::Read => &mut self.reader,
            Direction::Write => &mut self.writer,
        }
    }

    /// Takes out the wakers of every waiter that `ready` satisfies, leaving the future
    /// entries in place (their keys stay valid).
    fn take_ready(&mut self, ready: u8, out: &mut Vec<Waker>) {
        for dir in [Direction::Read, Direction::Write] {
            if ready & dir.mask() != 0 {
                out.extend(self.poll_slot(dir).take());
            }
        }
        if !self.futures.is_empty() {
            out.extend(
                self.futures
                    .iter_mut()
                    .map(|(_, w)| w)
                    .filter(|w| w.mask & ready != 0)
                    .filter_map(|w| w.waker.take()),
            );
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
    /// Bits of `interest.rs`: `READABLE`, `WRITABLE`, `READ_CLOSED`, ...
    readiness: Cell<u8>,
    waiters: RefCell<Waiters>,
}

impl ScheduledIo {
    /// A source with the given initial readiness. Sockets that are usable at once (accepted,
    /// bound, adopted) start readable and writable, so their first operation is simply
    /// tried; a socket still connecting starts with nothing, and waits for the driver's first
    /// event.
    pub(crate) fn new(readiness: u8) -> ScheduledIo {
        ScheduledIo {
            readiness: Cell::new(readiness),
            waiters: RefCell::default(),
        }
    }

    /// Whether `dir` is marked ready.
    #[inline]
    pub(crate) fn is_ready(&self, dir: Direction) -> bool {
        self.readiness.get() & dir.mask() != 0
    }

    /// The readiness bits among `mask` that are set.
    #[inline]
    pub(crate) fn ready_bits(&self, mask: u8) -> u8 {
        self.readiness.get() & mask
    }

    /// Clears the bits of `mask`, and `ERROR`. Call this exactly when an operation that
    /// `mask` let through returned `WouldBlock` (a socket with a pending error reports the
    /// error instead, so `ERROR` is stale too). A hang-up bit in `mask` is cleared as well:
    /// the kernel just said the operation would wait, so keeping it would make every later
    /// wait return at once (a busy loop).
    #[inline]
    pub(crate) fn clear(&self, mask: u8) {
        self.readiness.set(self.readiness.get() & !(mask | ERROR));
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

    /// Marks `ready` (bits) and moves the wakers of the waiters it satisfies into `out`. The
    /// caller wakes them after this returns (no borrow is held then).
    pub(crate) fn set_ready(&self, ready: u8, out: &mut Vec<Waker>) {
        self.readiness.set(self.readiness.get() | ready);
        self.waiters.borrow_mut().take_ready(ready, out);
    }

    /// `Ready` if `dir` is ready; otherwise remembers `cx`'s waker in the direction's `poll_*`
    /// slot and returns `Pending`.
    #[inline]
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<()> {
        if self.is_ready(dir) {
            return Poll::Ready(());
        }
        let old = store(self.waiters.borrow_mut().poll_slot(dir), cx.waker());
        drop(old);
        Poll::Pending
    }

    /// For a readiness future owning the waiter `key` (allocated on first use): the set bits
    /// of `mask` if any, else remembers `cx`'s waker and returns `Pending`.
    pub(crate) fn poll_waiter(
        &self,
        cx: &mut Context<'_>,
        mask: u8,
        key: &mut Option<Key>,
    ) -> Poll<u8> {
        let ready = self.ready_bits(mask);
        if ready != 0 {
            return Poll::Ready(ready);
        }
        let mut waiters = self.waiters.borrow_mut();
        let old = match *key {
            Some(k) => match waiters.futures.get_mut(k) {
                Some(w) => store(&mut w.waker, cx.waker()),
                // Only the future owning `k` removes its entry, on drop.
                None => unreachable!("a waiter key outlived its entry"),
            },
            None => {
                let waker = Some(cx.waker().clone());
                *key = Some(waiters.futures.insert(Waiter { mask, waker }));
                None
            }
        };
        drop(waiters);
        drop(old);
        Poll::Pending
    }

    /// Forgets the waiter `key` (a readiness future was dropped).
    pub(crate) fn remove_waiter(&self, key: Key) {
        let old = self.waiters.borrow_mut().futures.remove(key);
        drop(old);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_util::counter;

    fn fire(io: &ScheduledIo, ready: u8) {
        let mut out = Vec::new();
        io.set_ready(ready, &mut out);
        out.into_iter().for_each(Waker::wake);
    }

    const READ: u8 = READABLE | READ_CLOSED;

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
        fire(&io, WRITABLE);
        assert_eq!(r.get(), 0);
        assert_eq!(w.get(), 1);
        assert!(io.is_ready(Direction::Write) && !io.is_ready(Direction::Read));
        fire(&io, READABLE);
        assert_eq!(r.get(), 1);
        // Each waker is woken once per registration, not per event.
        fire(&io, READABLE | WRITABLE);
        assert_eq!(r.get(), 1);
        assert_eq!(w.get(), 1);
    }

    #[test]
    fn every_future_waiter_is_woken_and_removed_ones_are_not() {
        let io = ScheduledIo::new(0);
        let (a, aw) = counter();
        let (b, bw) = counter();
        let (mut ka, mut kb) = (None, None);
        let _ = io.poll_waiter(&mut Context::from_waker(&aw), READ, &mut ka);
        let _ = io.poll_waiter(&mut Context::from_waker(&bw), READ, &mut kb);
        assert_ne!(ka, kb);
        io.remove_waiter(kb.unwrap());
        fire(&io, READABLE);
        assert_eq!(a.get(), 1);
        assert_eq!(b.get(), 0);
        // Ready now: the waiter completes without registering again.
        assert_eq!(
            io.poll_waiter(&mut Context::from_waker(&aw), READ, &mut ka),
            Poll::Ready(READABLE)
        );
    }

    #[test]
    fn a_future_waiter_is_woken_only_by_bits_of_its_mask() {
        let io = ScheduledIo::new(0);
        let (e, ew) = counter();
        let (rw_, rww) = counter();
        let (mut ke, mut krw) = (None, None);
        let cx = |w| Context::from_waker(w);
        assert!(io.poll_waiter(&mut cx(&ew), ERROR, &mut ke).is_pending());
        let both = READ | WRITABLE | WRITE_CLOSED;
        assert!(io.poll_waiter(&mut cx(&rww), both, &mut krw).is_pending());
        fire(&io, WRITABLE);
        assert_eq!(e.get(), 0);
        assert_eq!(rw_.get(), 1);
        assert_eq!(
            io.poll_waiter(&mut cx(&rww), both, &mut krw),
            Poll::Ready(WRITABLE)
        );
        // The error waiter still waits, and the hang-up of the read side alone is not it.
        assert!(io.poll_waiter(&mut cx(&ew), ERROR, &mut ke).is_pending());
        fire(&io, READ_CLOSED);
        assert_eq!(e.get(), 0);
        fire(&io, ERROR | READABLE | WRITABLE);
        assert_eq!(e.get(), 1);
        assert_eq!(
            io.poll_waiter(&mut cx(&ew), ERROR, &mut ke),
            Poll::Ready(ERROR)
        );
    }

    #[test]
    fn cleared_only_on_request() {
        let io = ScheduledIo::new(READABLE | WRITABLE);
        assert!(io.is_ready(Direction::Read));
        io.clear(Direction::Read.mask());
        assert!(!io.is_ready(Direction::Read));
        assert!(io.is_ready(Direction::Write));
    }

    #[test]
    fn a_partial_read_keeps_the_hang_up_and_a_would_block_clears_the_error() {
        let io = ScheduledIo::new(0);
        fire(&io, READABLE | READ_CLOSED | ERROR | WRITABLE);
        io.clear_after_partial(Direction::Read);
        assert_eq!(io.ready_bits(READ), READ_CLOSED);
        assert!(io.is_ready(Direction::Read));
        io.clear(Direction::Write.mask());
        assert_eq!(io.ready_bits(0xff), READ_CLOSED);
    }
}
