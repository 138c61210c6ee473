//! The user's handles on a task: [`JoinHandle`] (the `HANDLE` local reference) and
//! [`AbortHandle`] (a unit of the atomic count).

use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use weft_core::coop;

use super::error::JoinError;
use super::harness;
use super::raw::{self, Header};
use super::state::flags::*;
use super::state::{TaskId, TaskState};

/// An owned permission to await a task's output, or to cancel it.
///
/// Awaiting gives `Result<T, JoinError>`. Dropping the handle detaches the task: it keeps
/// running and its output is dropped. The handle is `!Send`: it belongs to the runtime's
/// thread, like the task.
///
/// # Examples
///
/// ```
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     let h = weft_executor::spawn(async { 6 * 7 });
///     assert_eq!(h.await.unwrap(), 42);
/// });
/// ```
pub struct JoinHandle<T> {
    raw: NonNull<Header>,
    _marker: PhantomData<(T, *const ())>,
}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    /// `raw` is a live task whose output type is `T`, and its `HANDLE` flag is set for us.
    pub(crate) unsafe fn new(raw: NonNull<Header>) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _marker: PhantomData,
        }
    }

    fn header(&self) -> &Header {
        // SAFETY: the handle's local reference (`HANDLE`) keeps the task alive.
        unsafe { self.raw.as_ref() }
    }

    /// Cancels the task: drops its future now, or right after the current poll if the task
    /// is running (it cancelled itself). The awaiter then sees `JoinError::Cancelled`.
    /// Does nothing to a finished task.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft_executor::Runtime::new();
    /// rt.block_on(async {
    ///     let h = weft_executor::spawn(std::future::pending::<()>());
    ///     h.cancel();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel(&self) {
        // SAFETY: the handle keeps the task alive and we are on its owner thread (`!Send`).
        unsafe { harness::cancel(self.raw) }
    }

    /// tokio's name for [`cancel`](Self::cancel).
    pub fn abort(&self) {
        self.cancel()
    }

    /// Whether the task has finished (completed, panicked or cancelled).
    pub fn is_finished(&self) -> bool {
        self.header().has(COMPLETE)
    }

    /// Whether the task was cancelled (asyncio's `Task.cancelled()`).
    pub fn is_cancelled(&self) -> bool {
        self.header().has(CANCELLED)
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        TaskId(self.header().id)
    }

    /// The task's current state.
    pub fn state(&self) -> TaskState {
        self.header().task_state()
    }

    /// A handle that can cancel the task without owning its output.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = weft_executor::Runtime::new();
    /// rt.block_on(async {
    ///     let h = weft_executor::spawn(std::future::pending::<()>());
    ///     let abort = h.abort_handle();
    ///     abort.cancel();
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn abort_handle(&self) -> AbortHandle {
        // SAFETY: the handle keeps the task alive; the new handle takes its own unit.
        unsafe { raw::inc_ref(self.raw) };
        AbortHandle { raw: self.raw }
    }
}

/// Cancels a task without owning its output (tokio's `AbortHandle`). `!Send`, like the task.
///
/// It holds one unit of the task's reference count, so it stays valid after the task ends.
pub struct AbortHandle {
    raw: NonNull<Header>,
}

impl AbortHandle {
    fn header(&self) -> &Header {
        // SAFETY: our unit of `refs` keeps the block alive.
        unsafe { self.raw.as_ref() }
    }

    /// Cancels the task, as [`JoinHandle::cancel`].
    pub fn cancel(&self) {
        // SAFETY: our unit keeps the header alive; `!Send` keeps us on the owner thread. If
        // the local side is gone the task is `COMPLETE` and `cancel` returns at once.
        unsafe { harness::cancel(self.raw) }
    }

    /// tokio's name for [`cancel`](Self::cancel).
    pub fn abort(&self) {
        self.cancel()
    }

    /// Whether the task has finished.
    pub fn is_finished(&self) -> bool {
        self.header().has(COMPLETE)
    }

    /// The task's id.
    pub fn id(&self) -> TaskId {
        TaskId(self.header().id)
    }
}

impl Drop for AbortHandle {
    fn drop(&mut self) {
        // SAFETY: we own one unit.
        unsafe { raw::drop_ref(self.raw) }
    }
}

impl fmt::Debug for AbortHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AbortHandle")
            .field("id", &self.id())
            .finish()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let header = self.header();
        if !header.has(COMPLETE) {
            header.set(JOIN_INTEREST);
            // SAFETY: owner thread (the handle is `!Send`); nothing else borrows the slot.
            let slot = unsafe { &mut *header.join_waker.get() };
            match slot {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
            return Poll::Pending;
        }
        if coop::poll_proceed(cx).is_pending() {
            return Poll::Pending;
        }
        assert!(
            !header.has(OUTPUT_TAKEN),
            "JoinHandle polled after it returned its output"
        );
        header.set(OUTPUT_TAKEN);
        let mut out = std::mem::MaybeUninit::<Result<T, JoinError>>::uninit();
        // SAFETY: the task is complete and its output type is `T` (the handle's type), and we
        // are on the owner thread.
        if unsafe { (header.vtable.take_output)(self.raw, out.as_mut_ptr().cast()) } {
            // SAFETY: `take_output` wrote the result when it returned `true`.
            Poll::Ready(unsafe { out.assume_init() })
        } else {
            Poll::Ready(Err(JoinError::Cancelled))
        }
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        let header = self.header();
        if header.has(PANICKED) && !header.has(OUTPUT_TAKEN) {
            (header.vtable.unobserved_panic)(header.owner, header.id);
        }
        // SAFETY: owner thread; the waker of a detached handle is never used again.
        drop(unsafe { (*header.join_waker.get()).take() });
        // SAFETY: `HANDLE` is ours; owner thread (`!Send`); live until this call.
        unsafe { harness::drop_local(self.raw, HANDLE) };
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("state", &self.state())
            .finish()
    }
}
