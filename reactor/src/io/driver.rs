//! The I/O half of a runtime's driver: the table of registered sources, the dispatch of
//! events to them, and the thread's current I/O handle.
//!
//! # Ground rules
//!
//! * An [`IoDriver`] and its [`Handle`]s (`Rc`s of one `Inner`) live on the runtime's thread.
//!   The driver owns the `mio::Poll`; `Inner` holds a clone of its `mio::Registry`, so
//!   sources can register and deregister between polls.
//! * `Inner::sources` is borrowed mutably only for one insert, removal or lookup, never while
//!   a waker is woken or dropped (a wake, or a waker's drop, may run arbitrary code, which may
//!   create or drop sockets).
//! * The current handle is the one in the runtime context entered on this thread
//!   ([`weft_core::context`]), where the driver registered it: runtimes on other threads, and
//!   nested runtimes, never see each other's handle.
//!
//! # Tokens
//!
//! A source's `mio::Token` is its slot in the table plus a generation (in the high half), so
//! an event that names a slot freed and reused since can never reach the new occupant. The
//! generation is never 0 nor all ones: tokens are never `0` and never among the top
//! `2^(usize::BITS / 2)` values, where the driver keeps its own (`WAKER_TOKEN`,
//! `TIMER_TOKEN`).

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::rc::Rc;
use std::task::Waker;

use super::interest::Ready;
#[cfg(test)]
use super::interest::READABLE;
use super::scheduled::{ready_from_event, ScheduledIo};

/// Bits of a token holding the slot index; the generation takes the rest.
const INDEX_BITS: u32 = usize::BITS / 2;
const INDEX_MASK: usize = (1 << INDEX_BITS) - 1;
/// Largest generation: one less than all ones, so that no token is `usize::MAX`.
const MAX_GEN: usize = (usize::MAX >> INDEX_BITS) - 1;

/// One slot of the source table.
#[derive(Debug)]
struct Slot {
    /// Generation of the current (or next) occupant; starts at 1, so no token is `0`.
    gen: usize,
    io: Option<Rc<ScheduledIo>>,
}

#[derive(Debug, Default)]
struct Sources {
    slots: Vec<Slot>,
    free: Vec<usize>,
}

pub(crate) struct Inner {
    registry: mio::Registry,
    sources: RefCell<Sources>,
    /// Set when the `IoDriver` is dropped: its `mio::Poll` is gone and no event will come.
    shutdown: Cell<bool>,
}

/// A cheap handle to a runtime's I/O driver (`Rc`), kept by every registered source.
#[derive(Clone)]
pub(crate) struct Handle {
    inner: Rc<Inner>,
}

/// The I/O part of a runtime's driver. The driver owns one beside its `mio::Poll`; the
/// runtime makes it current (`crate::Handle::enter`) while it runs; the driver hands every
/// event that is not for one of its own tokens to [`IoDriver::dispatch`].
pub(crate) struct IoDriver {
    handle: Handle,
    /// Reused buffer of wakers to wake after a dispatch.
    wake_buf: RefCell<Vec<Waker>>,
}

impl IoDriver {
    /// An I/O driver registering sources with `registry` (a clone of the driver's
    /// `mio::Poll` registry).
    pub(crate) fn new(registry: mio::Registry) -> IoDriver {
        IoDriver {
            handle: Handle {
                inner: Rc::new(Inner {
                    registry,
                    sources: RefCell::default(),
                    shutdown: Cell::new(false),
                }),
            },
            wake_buf: RefCell::default(),
        }
    }

    /// A handle to this driver; [`Handle::enter`] makes it current.
    pub(crate) fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Marks the source that `event` names ready and wakes its waiters for the directions
    /// the event reports. Events for tokens that are not (or no longer) registered are
    /// ignored.
    pub(crate) fn dispatch(&self, event: &mio::event::Event) {
        let Some(io) = self.handle.inner.lookup(event.token()) else {
            return;
        };
        // Take the buffer out so a wake that re-enters `dispatch` (it cannot today: wakes
        // only queue tasks) would find an empty one rather than a borrowed one.
        let mut wakers = std::mem::take(&mut *self.wake_buf.borrow_mut());
        io.set_ready(ready_from_event(event), &mut wakers);
        drop(io);
        for waker in wakers.drain(..) {
            waker.wake();
        }
        *self.wake_buf.borrow_mut() = wakers;
    }

    /// The number of registered sources.
    pub(crate) fn len(&self) -> usize {
        let sources = self.handle.inner.sources.borrow();
        sources.slots.len() - sources.free.len()
    }
}

impl Drop for IoDriver {
    /// No event will come any more: wake everything still waiting, so that its next poll
    /// reports the shutdown as an error instead of waiting forever.
    fn drop(&mut self) {
        let inner = &self.handle.inner;
        inner.shutdown.set(true);
        let live: Vec<Rc<ScheduledIo>> = inner
            .sources
            .borrow()
            .slots
            .iter()
            .filter_map(|s| s.io.clone())
            .collect();
        let mut wakers = Vec::new();
        for io in &live {
            // Every bit: every waiter, whatever its interest, is woken.
            io.set_ready(Ready::ALL.bits(), &mut wakers);
        }
        drop(live);
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl fmt::Debug for IoDriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IoDriver")
            .field("sources", &self.len())
            .finish()
    }
}

impl Inner {
    fn lookup(&self, token: mio::Token) -> Option<Rc<ScheduledIo>> {
        let (index, gen) = (token.0 & INDEX_MASK, token.0 >> INDEX_BITS);
        let sources = self.sources.borrow();
        let slot = sources.slots.get(index)?;
        if slot.gen != gen {
            return None;
        }
        slot.io.clone()
    }
}

impl Handle {
    /// Registers this handle in a runtime's context, where [`Handle::current`] finds it.
    pub(crate) fn register(&self, cx: &mut weft_core::context::RuntimeContext) {
        cx.insert(Rc::new(self.clone()));
    }

    /// The I/O driver of the runtime running on this thread.
    ///
    /// # Errors
    ///
    /// When no weft runtime is running on this thread.
    pub(crate) fn current() -> io::Result<Handle> {
        weft_core::context::with(Handle::clone).ok_or_else(no_runtime)
    }

    /// Whether `self` is the current handle of this thread.
    pub(crate) fn is_current(&self) -> bool {
        weft_core::context::with(|h: &Handle| Rc::ptr_eq(&h.inner, &self.inner)).unwrap_or(false)
    }

    /// Whether the driver is gone (no event will ever come).
    pub(crate) fn is_shutdown(&self) -> bool {
        self.inner.shutdown.get()
    }

    /// Registers `source` for reading and writing, edge-triggered, with the given initial
    /// readiness. Returns its token and shared state.
    pub(crate) fn register_source(
        &self,
        source: &mut impl mio::event::Source,
        ready: u8,
    ) -> io::Result<(mio::Token, Rc<ScheduledIo>)> {
        if self.is_shutdown() {
            return Err(shut_down());
        }
        let io = Rc::new(ScheduledIo::new(ready));
        let token = {
            let mut sources = self.inner.sources.borrow_mut();
            let index = match sources.free.pop() {
                Some(index) => index,
                None if sources.slots.len() <= INDEX_MASK => {
                    sources.slots.push(Slot { gen: 1, io: None });
                    sources.slots.len() - 1
                }
                None => return Err(io::Error::other("too many registered I/O sources")),
            };
            let slot = &mut sources.slots[index];
            slot.io = Some(io.clone());
            mio::Token(slot.gen << INDEX_BITS | index)
        };
        let interest = mio::Interest::READABLE | mio::Interest::WRITABLE;
        if let Err(e) = self.inner.registry.register(source, token, interest) {
            self.release(token);
            return Err(e);
        }
        Ok((token, io))
    }

    /// Deregisters `source` from the poll (its slot is kept until [`Handle::release`]).
    pub(crate) fn deregister(&self, source: &mut impl mio::event::Source) -> io::Result<()> {
        self.inner.registry.deregister(source)
    }

    /// Frees the slot of `token`, bumping its generation. Returns the state it held, for the
    /// caller to drop after this returns.
    pub(crate) fn release(&self, token: mio::Token) -> Option<Rc<ScheduledIo>> {
        let index = token.0 & INDEX_MASK;
        let mut sources = self.inner.sources.borrow_mut();
        let slot = sources.slots.get_mut(index)?;
        let io = slot.io.take()?;
        slot.gen = if slot.gen >= MAX_GEN { 1 } else { slot.gen + 1 };
        sources.free.push(index);
        Some(io)
    }
}

impl fmt::Debug for Handle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Handle")
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
    use super::*;

    #[test]
    fn tokens_avoid_the_waker_values_and_stale_generations() {
        let poll = mio::Poll::new().unwrap();
        let driver = IoDriver::new(poll.registry().try_clone().unwrap());
        let handle = driver.handle().clone();
        let (mut a, _b) = mio::net::UnixStream::pair().unwrap();
        let (t1, _io) = handle.register_source(&mut a, READABLE).unwrap();
        assert!(t1.0 != 0 && t1.0 != usize::MAX);
        assert!(handle.inner.lookup(t1).is_some());
        handle.deregister(&mut a).unwrap();
        assert!(handle.release(t1).is_some());
        assert!(handle.release(t1).is_none());
        let (t2, _io) = handle.register_source(&mut a, READABLE).unwrap();
        assert_eq!(t1.0 & INDEX_MASK, t2.0 & INDEX_MASK, "the slot is reused");
        assert_ne!(t1, t2, "with a new generation");
        assert!(
            handle.inner.lookup(t1).is_none(),
            "a stale token finds nothing"
        );
        assert_eq!(driver.len(), 1);
    }

    #[test]
    fn current_is_scoped_by_the_context() {
        assert!(Handle::current().is_err());
        let poll = mio::Poll::new().unwrap();
        let driver = IoDriver::new(poll.registry().try_clone().unwrap());
        let mut cx = weft_core::context::RuntimeContext::new();
        driver.handle().register(&mut cx);
        cx.enter(|| {
            assert!(Handle::current().unwrap().is_current());
            assert!(driver.handle().is_current());
        });
        assert!(Handle::current().is_err());
        assert!(!driver.handle().is_current());
    }
}
