//! The cooperative budget, received from the executor as a plain function pointer (this
//! crate cannot depend on the executor).

use std::sync::OnceLock;
use std::task::{Context, Poll};

/// The executor's budget check (`weft_executor::coop::poll_proceed`).
type Hook = fn(&mut Context<'_>) -> Poll<()>;

static HOOK: OnceLock<Hook> = OnceLock::new();

/// Installs the cooperative-budget check that timer futures call before doing their work.
///
/// The runtime installs `weft_executor::coop::poll_proceed` here once; when it returns
/// `Pending` (the task's budget is spent; the hook has already woken the task), a
/// [`Sleep`](crate::Sleep) or [`Interval`](crate::Interval) returns `Pending` too. Without a
/// hook, timer futures are never forced to yield. The hook is process-wide and set once: the
/// first call wins and later calls are ignored.
///
/// # Examples
///
/// ```
/// use std::task::{Context, Poll};
///
/// fn unlimited(_: &mut Context<'_>) -> Poll<()> {
///     Poll::Ready(())
/// }
/// weft_timer::driver::set_budget_hook(unlimited);
/// ```
pub fn set_budget_hook(hook: fn(&mut Context<'_>) -> Poll<()>) {
    let _ = HOOK.set(hook);
}

/// Consumes one unit of the current task's budget, if a hook is installed.
#[inline]
pub(crate) fn poll_budget(cx: &mut Context<'_>) -> Poll<()> {
    match HOOK.get() {
        Some(hook) => hook(cx),
        None => Poll::Ready(()),
    }
}
