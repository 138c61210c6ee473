//! The timer of the runtime running on this thread: found in the runtime's context
//! ([`weft_core::context`]), where the runtime's driver registered it
//! ([`Timer::register`](crate::driver::Timer::register)).
//!
//! # Ground rules
//!
//! A reference to the current timer is lent to a closure only ([`with`]); the context keeps
//! the timer alive for as long as the runtime's context is entered, which outlasts the
//! closure. Inside, the wheel (a `RefCell`) is borrowed for one operation at a time, never
//! while a waker is woken or dropped.

use crate::driver::Inner;
use crate::Instant;

/// Runs `f` with this thread's current timer; `None` if no weft runtime with a timer runs
/// here.
#[inline]
pub(crate) fn with<R>(f: impl FnOnce(&Inner) -> R) -> Option<R> {
    weft_core::context::with(f)
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

/// The current timer's clock, if there is one.
#[inline]
pub(crate) fn now() -> Option<Instant> {
    with(|t| t.clock.now())
}
