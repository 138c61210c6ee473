//! The cooperative budget.
//!
//! A task that always finds its channel full or its socket ready would never return `Pending`
//! and would starve every other task on the thread. So each poll of a task gets a budget of
//! resource operations (128 by default, see the runtime builder). weft's own resource futures
//! (timers, channels, I/O) call [`poll_proceed`] before they do their work; once the budget is
//! spent they return `Pending` once (after waking the task), the task goes to the back of the
//! run queue, and the others get their turn. In effect: round-robin between busy tasks.
//!
//! Outside a weft task (another executor, a plain thread) the budget is unconstrained and
//! [`poll_proceed`] always returns `Ready`. Crates that cannot depend on the executor (the
//! timer and channel crates) receive [`poll_proceed`] as a plain `fn` pointer from the runtime.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

/// The budget value that means "unconstrained" (never decremented).
const UNCONSTRAINED: u32 = u32::MAX;

thread_local! {
    /// Remaining operations for the task being polled; `UNCONSTRAINED` outside a task. A plain
    /// `u32` rather than an `Option`: [`poll_proceed`] runs once per channel or I/O operation,
    /// so it is a load, two compares and a store.
    static BUDGET: Cell<u32> = const { Cell::new(UNCONSTRAINED) };
}

/// Consumes one unit of the current task's budget.
///
/// Returns `Ready(())` when the caller may go on with its operation, or wakes the task and
/// returns `Pending` when the budget is spent: the caller must then return `Pending` itself.
///
/// # Examples
///
/// ```
/// use std::future::poll_fn;
/// use weft_executor::coop;
///
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     // Outside a spawned task the budget is unconstrained.
///     poll_fn(|cx| coop::poll_proceed(cx)).await;
/// });
/// ```
#[inline]
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let n = BUDGET.get();
    if n == 0 {
        return spent(cx);
    }
    BUDGET.set(n - u32::from(n != UNCONSTRAINED));
    Poll::Ready(())
}

/// The budget is spent: wake the task so it runs again after the others. Out of line, so the
/// common path of [`poll_proceed`] needs no stack frame.
#[cold]
#[inline(never)]
fn spent(cx: &mut Context<'_>) -> Poll<()> {
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// This thread's budget counter, for crates that cannot depend on the executor but want to
/// take from the budget inline rather than through a function call (weft installs it with
/// `weft_channel::coop::set_budget_cell`).
///
/// The counter holds the operations left for the task being polled: `0` means spent and
/// `u32::MAX` unconstrained (outside a task, or under [`unconstrained`]). [`poll_proceed`]
/// is exactly: if it is `0`, wake the task and return `Pending`; otherwise take one, unless it
/// is `u32::MAX`. The counter must only be used on the thread that asked for it. It is a
/// thread-local with no destructor, so with native thread-locals (every tier-1 target) it
/// lives exactly as long as the thread; where std falls back to OS thread-local keys, it is
/// freed during thread teardown, after which a future must not be polled on that thread.
///
/// # Examples
///
/// ```
/// use weft_executor::coop;
///
/// let cell = coop::budget_cell();
/// // SAFETY: on the thread that asked for it, which is still alive.
/// assert_eq!(unsafe { cell.as_ref() }.get(), u32::MAX); // outside a task: unconstrained
/// ```
pub fn budget_cell() -> NonNull<Cell<u32>> {
    BUDGET.with(|b| NonNull::from(b))
}

/// Whether the current task still has budget left (always true outside a weft task).
///
/// # Examples
///
/// ```
/// assert!(weft_executor::coop::has_budget_remaining());
/// ```
pub fn has_budget_remaining() -> bool {
    BUDGET.with(|b| b.get() != 0)
}

/// Runs `f` with a fresh budget of `n` operations (`None` or `Some(u32::MAX)`: unconstrained),
/// restoring the previous one afterwards.
pub(crate) fn with_budget<R>(n: Option<u32>, f: impl FnOnce() -> R) -> R {
    struct Restore(u32);
    impl Drop for Restore {
        fn drop(&mut self) {
            BUDGET.with(|b| b.set(self.0));
        }
    }
    let n = n.unwrap_or(UNCONSTRAINED);
    let _restore = Restore(BUDGET.with(|b| b.replace(n)));
    f()
}

/// Polls `fut` with no budget limit: it is never forced to yield by weft's resource futures.
///
/// # Examples
///
/// ```
/// use weft_executor::coop;
///
/// let rt = weft_executor::Runtime::new();
/// assert_eq!(rt.block_on(coop::unconstrained(async { 7 })), 7);
/// ```
pub fn unconstrained<F: Future>(fut: F) -> Unconstrained<F> {
    Unconstrained { fut }
}

pin_project_lite::pin_project! {
    /// Future returned by [`unconstrained`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Unconstrained<F> {
        #[pin]
        fut: F,
    }
}

impl<F: Future> Future for Unconstrained<F> {
    type Output = F::Output;
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let fut = self.project().fut;
        with_budget(None, || fut.poll(cx))
    }
}
