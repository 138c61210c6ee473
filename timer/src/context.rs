//! The timer of the runtime running on this thread.
//!
//! # Ground rules
//!
//! * `CURRENT` is set only by an [`EnterGuard`] (from [`Timer::enter`]), which restores the
//!   previous value when dropped, so runtimes on different threads, and nested enters on one
//!   thread, never see each other's timer.
//! * `CURRENT` is borrowed mutably only by `enter` and the guard's drop; everything else takes
//!   shared borrows for a few instructions and never runs user code (a wake, a waker's drop)
//!   inside one: such work is handed back to the caller to do after the borrow ends.

use std::cell::RefCell;

use crate::driver::{Inner, Timer};
use crate::Instant;

thread_local! {
    static CURRENT: RefCell<Option<Timer>> = const { RefCell::new(None) };
}

/// Makes a timer the current one on this thread until dropped (see [`Timer::enter`]).
///
/// `!Send`: it must be dropped on the thread that made it.
#[must_use = "the timer is current only while the guard lives"]
#[derive(Debug)]
pub struct EnterGuard {
    prev: Option<Timer>,
}

pub(crate) fn enter(timer: Timer) -> EnterGuard {
    let prev = CURRENT.with(|c| c.replace(Some(timer)));
    EnterGuard { prev }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        // `try_with`: the guard may be dropped while the thread's locals are torn down.
        let _ = CURRENT.try_with(|c| {
            if let Ok(mut c) = c.try_borrow_mut() {
                *c = prev;
            }
        });
    }
}

/// Runs `f` with this thread's current timer; `None` if there is none (or the thread is
/// exiting). `f` must not run user code.
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&Inner) -> R) -> Option<R> {
    CURRENT
        .try_with(|c| match c.try_borrow() {
            Ok(c) => c.as_ref().map(|t| f(&t.inner)),
            Err(_) => None,
        })
        .ok()
        .flatten()
}

/// [`with`], or a panic saying that no weft runtime is running.
#[track_caller]
#[inline]
pub(crate) fn expect<R>(what: &str, f: impl FnOnce(&Inner) -> R) -> R {
    match with(f) {
        Some(r) => r,
        None => no_runtime(what),
    }
}

#[cold]
#[inline(never)]
#[track_caller]
pub(crate) fn no_runtime(what: &str) -> ! {
    panic!(
        "{what} called outside a weft runtime: no weft runtime (timer) is running on this \
         thread (call it from inside `weft::run(..)` or `Runtime::block_on(..)`)"
    )
}

/// A handle to this thread's current timer.
pub(crate) fn current() -> Option<Timer> {
    CURRENT
        .try_with(|c| c.try_borrow().ok().and_then(|c| c.clone()))
        .ok()
        .flatten()
}

/// The current timer's clock, if there is one.
#[inline]
pub(crate) fn now() -> Option<Instant> {
    with(|t| t.clock.now())
}
