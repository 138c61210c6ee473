//! The hook into an executor's cooperative budget.
//!
//! A task whose channel always has a message ready would never return `Pending` and would
//! starve the other tasks on its thread. weft gives each task a budget of operations per poll;
//! this crate cannot depend on weft, so the runtime installs its budget function here with
//! [`set_budget_hook`]. These futures call the hook before doing their work, and return
//! `Pending` if the hook does:
//!
//! * every receive: `mpsc` `recv`, `oneshot` receivers, `broadcast` `recv`, `watch`
//!   `changed`, `Queue::get`;
//! * every waiting send: bounded `mpsc` `send`, `reserve` and `reserve_owned`, `Queue::put`;
//! * every acquisition: `Semaphore` `acquire*`, `Mutex` `lock*`, `RwLock` `read*` / `write*`.
//!
//! As in tokio, a producer whose channel always has room, or a task whose lock is always
//! free, yields too. The hook is expected to wake the task before returning `Pending`
//! (weft's `poll_proceed` does), so the task is polled again soon.
//!
//! With no hook installed (another executor, a plain thread) the check is one atomic load.
//!
//! An executor can instead share its per-thread budget counter with [`set_budget_cell`]
//! (weft does): the check is then a few inline instructions on that counter, with no call.
//!
//! A second hook, installed with [`set_runtime_check`], tells whether the current thread runs
//! an async runtime. The `blocking_*` methods (`mpsc` `blocking_send` and `blocking_recv`,
//! `oneshot` and `broadcast` `blocking_recv`) ask it first and panic if it says yes: blocking
//! that thread would stall every task on it, and deadlock if the value is to come from one of
//! them. With no check installed, they block wherever they are called.
//!
//! # Examples
//!
//! ```
//! use std::task::{Context, Poll};
//!
//! // What the weft runtime does at start-up, with its own budget function.
//! fn always_ready(_cx: &mut Context<'_>) -> Poll<()> {
//!     Poll::Ready(())
//! }
//! weft_channel::coop::set_budget_hook(always_ready);
//! ```

use std::cell::Cell;
use std::ptr::NonNull;
use std::sync::OnceLock;
use std::task::{Context, Poll};

/// The installed budget function, if any. Set once; never changes afterwards.
static HOOK: OnceLock<fn(&mut Context<'_>) -> Poll<()>> = OnceLock::new();

/// Installs the executor's budget function.
///
/// `hook` is called at the start of every poll of a receive-side future (and of a waiting
/// send or an acquisition, see the module docs). It returns `Ready(())` when the task may go
/// on, or — once the task's budget is spent — wakes the task itself and returns `Pending`; the
/// future then returns `Pending` without doing any work.
/// Outside a task of that executor the hook must return `Ready(())`.
///
/// The first hook installed stays for the life of the process; later calls are ignored and
/// return `false` (so two runtimes in one process installing the same function is harmless).
///
/// # Examples
///
/// ```
/// use std::task::{Context, Poll};
/// fn proceed(_cx: &mut Context<'_>) -> Poll<()> {
///     Poll::Ready(())
/// }
/// weft_channel::coop::set_budget_hook(proceed);
/// assert!(weft_channel::coop::has_budget_hook());
/// ```
pub fn set_budget_hook(hook: fn(&mut Context<'_>) -> Poll<()>) -> bool {
    HOOK.set(hook).is_ok()
}

/// Whether a budget hook (or a counter, see [`set_budget_cell`]) has been installed.
///
/// # Examples
///
/// ```
/// // Nothing installed in this doctest's process.
/// assert!(!weft_channel::coop::has_budget_hook());
/// ```
pub fn has_budget_hook() -> bool {
    HOOK.get().is_some() || CELL_FN.get().is_some()
}

/// The installed runtime check, if any. Set once; never changes afterwards.
static RUNTIME_CHECK: OnceLock<fn() -> bool> = OnceLock::new();

/// Installs the executor's "is a runtime running on this thread?" function.
///
/// `check` is called at the start of every `blocking_*` method (such as
/// [`mpsc::Receiver::blocking_recv`](crate::mpsc::Receiver::blocking_recv)); if it returns
/// `true`, the method panics instead of blocking the runtime's thread. It must return `false`
/// on threads that run no runtime of that executor (including its blocking-pool threads, where
/// blocking is the point).
///
/// The first check installed stays for the life of the process; later calls are ignored and
/// return `false` (so two runtimes in one process installing the same function is harmless).
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
///
/// thread_local! {
///     static IN_RUNTIME: Cell<bool> = const { Cell::new(false) };
/// }
/// // What the weft runtime does at start-up, with its own function.
/// fn in_runtime() -> bool {
///     IN_RUNTIME.with(Cell::get)
/// }
/// assert!(weft_channel::coop::set_runtime_check(in_runtime));
/// assert!(weft_channel::coop::has_runtime_check());
///
/// // Not a runtime thread: blocking is fine.
/// let (tx, rx) = weft_channel::oneshot::channel();
/// tx.send(1).unwrap();
/// assert_eq!(rx.blocking_recv(), Ok(1));
/// ```
pub fn set_runtime_check(check: fn() -> bool) -> bool {
    RUNTIME_CHECK.set(check).is_ok()
}

/// Whether a runtime check has been installed.
///
/// # Examples
///
/// ```
/// // Nothing installed in this doctest's process.
/// assert!(!weft_channel::coop::has_runtime_check());
/// ```
pub fn has_runtime_check() -> bool {
    RUNTIME_CHECK.get().is_some()
}

/// Asks the installed runtime check (if any) whether this thread runs a runtime.
#[inline]
pub(crate) fn in_runtime() -> bool {
    RUNTIME_CHECK.get().is_some_and(|check| check())
}

/// The installed budget-counter function, if any. Set once; never changes afterwards.
static CELL_FN: OnceLock<fn() -> NonNull<Cell<u32>>> = OnceLock::new();

thread_local! {
    /// This thread's budget counter, from `CELL_FN`, fetched on first use.
    static CELL: Cell<Option<NonNull<Cell<u32>>>> = const { Cell::new(None) };
}

/// The counter value that means "unconstrained" (see [`set_budget_cell`]).
const UNCONSTRAINED: u32 = u32::MAX;

/// Installs the executor's per-thread budget counter, which this crate's futures then
/// check inline instead of calling a hook (see [`set_budget_hook`] for the semantics).
///
/// `cell` returns the calling thread's counter: the operations left for the task being
/// polled, `0` when spent, `u32::MAX` when unconstrained (outside a task). Before each
/// operation a future here returns `Pending` after waking its task if the counter is `0`,
/// and otherwise takes one from it unless it is `u32::MAX`. It is called once per thread.
///
/// Takes precedence over a hook installed with [`set_budget_hook`]. The first function
/// installed stays for the life of the process; later calls are ignored and return `false`.
///
/// # Safety
///
/// Every pointer `cell` returns must point to a `Cell<u32>` that stays valid as long as the
/// thread that called `cell` runs, and that nothing else uses from another thread (a
/// destructor-free `thread_local!`, such as `weft_executor::coop::budget_cell`'s).
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::ptr::NonNull;
///
/// thread_local! {
///     static BUDGET: Cell<u32> = const { Cell::new(u32::MAX) };
/// }
/// fn budget_cell() -> NonNull<Cell<u32>> {
///     BUDGET.with(|b| NonNull::from(b))
/// }
/// // SAFETY: a destructor-free thread-local: valid for its thread's life, used only there.
/// assert!(unsafe { weft_channel::coop::set_budget_cell(budget_cell) });
/// assert!(weft_channel::coop::has_budget_hook());
/// ```
pub unsafe fn set_budget_cell(cell: fn() -> NonNull<Cell<u32>>) -> bool {
    CELL_FN.set(cell).is_ok()
}

/// Asks the installed counter or hook (if any) whether the current task may proceed.
#[inline(always)]
pub(crate) fn poll_proceed(cx: &mut Context<'_>) -> Poll<()> {
    let Some(cell) = CELL.get() else {
        return poll_proceed_slow(cx);
    };
    // SAFETY: `set_budget_cell`'s contract: this thread's counter, valid while the thread
    // runs and used only on it (we cached it in a thread-local of the same thread).
    let budget = unsafe { cell.as_ref() };
    let n = budget.get();
    if n == 0 {
        return spent(cx);
    }
    budget.set(n - u32::from(n != UNCONSTRAINED));
    Poll::Ready(())
}

/// Whether the current task's budget is spent, without spending or waking (false when only a
/// hook is installed: it cannot be asked without side effects).
pub(crate) fn is_spent() -> bool {
    let cell = match CELL.get() {
        Some(cell) => cell,
        None => match CELL_FN.get() {
            Some(cell_fn) => {
                let cell = cell_fn();
                CELL.set(Some(cell));
                cell
            }
            None => return false,
        },
    };
    // SAFETY: as in `poll_proceed`.
    unsafe { cell.as_ref() }.get() == 0
}

/// No counter cached on this thread yet: fetch it if one is installed, else ask the hook.
#[cold]
#[inline(never)]
fn poll_proceed_slow(cx: &mut Context<'_>) -> Poll<()> {
    if let Some(cell_fn) = CELL_FN.get() {
        CELL.set(Some(cell_fn()));
        return poll_proceed(cx);
    }
    match HOOK.get() {
        Some(hook) => hook(cx),
        None => Poll::Ready(()),
    }
}

/// The budget is spent: wake the task so that it runs again after the others.
#[cold]
#[inline(never)]
fn spent(cx: &mut Context<'_>) -> Poll<()> {
    cx.waker().wake_by_ref();
    Poll::Pending
}

/// Returns `Pending` from the enclosing poll function if the budget is spent.
macro_rules! ready_budget {
    ($cx:expr) => {
        if $crate::coop::poll_proceed($cx).is_pending() {
            return ::std::task::Poll::Pending;
        }
    };
}
pub(crate) use ready_budget;
