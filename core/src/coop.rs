//! The cooperative budget.
//!
//! A task that always finds its channel full or its socket ready would never return `Pending`
//! and would starve every other task on the thread. So the executor gives each poll of a task
//! a budget of resource operations (128 by default) with [`with_budget`]; weft's resource
//! futures (timers, channels, I/O, `JoinHandle`) call [`poll_proceed`] before they do their
//! work. Once the budget is spent they return `Pending` once (having woken the task), the task
//! goes to the back of the run queue, and the others get their turn: round-robin between busy
//! tasks.
//!
//! The counter lives in this thread's [context](crate::context), so every crate spends the
//! same budget with a few inline instructions and no hook. Outside a weft task (another
//! executor, a plain thread) it is unconstrained and [`poll_proceed`] always returns `Ready`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::context::with_budget_cell;

/// The counter value that means "unconstrained" (never decremented).
pub(crate) const UNCONSTRAINED: u32 = u32::MAX;

/// Consumes one unit of the current task's budget.
///
/// Returns `Ready(())` when the caller may go on with its operation, or wakes the task and
/// returns `Pending` when the budget is spent: the caller must then return `Pending` itself.
///
/// # Examples
///
/// ```
/// use std::task::{Context, Poll};
/// use weft_core::coop;
///
/// let mut cx = Context::from_waker(futures::task::noop_waker_ref());
/// // Outside a task the budget is unconstrained.
/// assert!(coop::poll_proceed(&mut cx).is_ready());
/// // With a budget of two operations, the third must wait for the next poll.
/// coop::with_budget(Some(2), || {
///     assert!(coop::poll_proceed(&mut cx).is_ready());
///     assert!(coop::poll_proceed(&mut cx).is_ready());
///     assert_eq!(coop::poll_proceed(&mut cx), Poll::Pending);
///     assert!(!coop::has_budget_remaining());
/// });
/// ```
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    with_budget_cell(|budget| {
        let n = budget.get();
        if n == 0 {
            return spent(cx);
        }
        budget.set(n - u32::from(n != UNCONSTRAINED));
        Poll::Ready(())
    })
}

/// The budget is spent: wake the task so it runs again after the others. Out of line, so the
/// common path of [`poll_proceed`] needs no stack frame.
#[cold]
#[inline(never)]
fn spent(cx: &mut Context<'_>) -> Poll<()> {
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// Returns `Pending` from the enclosing `poll` function if the budget is spent.
///
/// # Examples
///
/// ```
/// use std::task::{Context, Poll};
///
/// fn poll_op(cx: &mut Context<'_>) -> Poll<u32> {
///     weft_core::ready_budget!(cx);
///     Poll::Ready(1)
/// }
/// let mut cx = Context::from_waker(futures::task::noop_waker_ref());
/// assert_eq!(poll_op(&mut cx), Poll::Ready(1));
/// ```
#[macro_export]
macro_rules! ready_budget {
    ($cx:expr) => {
        if $crate::coop::poll_proceed($cx).is_pending() {
            return ::std::task::Poll::Pending;
        }
    };
}

/// Whether the current task still has budget left (always true outside a weft task).
///
/// # Examples
///
/// ```
/// assert!(weft_core::coop::has_budget_remaining());
/// ```
#[inline]
pub fn has_budget_remaining() -> bool {
    with_budget_cell(|b| b.get() != 0)
}

/// The operations left to the current task in this poll; `None` when unconstrained (outside
/// a weft task, or under [`unconstrained`]).
///
/// # Examples
///
/// ```
/// use weft_core::coop;
/// assert_eq!(coop::remaining(), None);
/// coop::with_budget(Some(5), || assert_eq!(coop::remaining(), Some(5)));
/// ```
#[inline]
pub fn remaining() -> Option<u32> {
    with_budget_cell(|b| Some(b.get()).filter(|&n| n != UNCONSTRAINED))
}

/// Runs `f` with a fresh budget of `n` operations (`None`: unconstrained), restoring the
/// previous budget afterwards, also if `f` panics. The executor wraps each poll in this.
///
/// # Examples
///
/// ```
/// use weft_core::coop;
/// coop::with_budget(Some(1), || assert!(coop::has_budget_remaining()));
/// ```
#[inline]
pub fn with_budget<R>(n: Option<u32>, f: impl FnOnce() -> R) -> R {
    struct Restore(u32);
    impl Drop for Restore {
        #[inline]
        fn drop(&mut self) {
            with_budget_cell(|b| b.set(self.0));
        }
    }
    let n = n.unwrap_or(UNCONSTRAINED);
    let _restore = Restore(with_budget_cell(|b| b.replace(n)));
    f()
}

/// Polls `fut` with no budget limit: it is never forced to yield by weft's resource futures.
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::task::{Context, Poll};
/// use weft_core::coop;
///
/// let mut cx = Context::from_waker(futures::task::noop_waker_ref());
/// let mut fut = std::pin::pin!(coop::unconstrained(std::future::poll_fn(|cx| {
///     // However many operations: never told to yield.
///     for _ in 0..1_000 {
///         assert!(coop::poll_proceed(cx).is_ready());
///     }
///     Poll::Ready(7)
/// })));
/// coop::with_budget(Some(10), || assert_eq!(fut.as_mut().poll(&mut cx), Poll::Ready(7)));
/// ```
pub fn unconstrained<F: Future>(fut: F) -> Unconstrained<F> {
    Unconstrained { fut }
}

/// Future returned by [`unconstrained`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct Unconstrained<F> {
    fut: F,
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        // SAFETY: structural pinning of the only field: `fut` is never moved out of `self`,
        // and `Unconstrained` has no `Drop` impl and is `Unpin` only when `F` is.
        let fut = unsafe { self.map_unchecked_mut(|s| &mut s.fut) };
        with_budget(None, || fut.poll(cx))
    }
}
