//! Spawning onto a runtime from another thread: [`Spawner`] (a `Send` handle to a runtime)
//! and [`RemoteJoinHandle`] (a `Send` handle to the task's output).
//!
//! A spawn from afar boxes the future in a [`Carried`] wrapper and pushes it on the runtime's
//! remote queue (`remote.rs`), beside the wakes, and unparks its driver. The owner drains the
//! queue between ticks and spawns each wrapper as an ordinary local task: from then on the
//! task lives and runs on the owner's thread only, like any other.
//!
//! # The shared slot
//!
//! The wrapper and the handle meet in one `Arc<Slot>` behind a `parking_lot` mutex:
//!
//! * the wrapper stores the task's waker in it on each poll (so that an abort can wake the
//!   task), and its output (or the panic it caught) when the future ends;
//! * a wrapper dropped before its future ended (the runtime shut down, or the handle aborted
//!   it) stores `JoinError::Cancelled`;
//! * the handle stores its awaiter's waker, which the wrapper wakes once the output is in,
//!   after releasing the lock; the awaiter may live on any thread, inside any runtime or none.
//!
//! Only tasks spawned this way pay for the lock; local spawns and wakes never see it.

use std::fmt;
use std::future::Future;
use std::panic::{catch_unwind, AssertUnwindSafe, Location};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use crate::remote::{Inbox, RemoteSpawn};
use crate::scheduler::expect_current;
use crate::task::JoinError;

/// A `Send` handle to a runtime that takes tasks from any thread.
///
/// The futures it takes must be `Send` (they travel to the runtime's thread), and run there
/// like any task spawned on that runtime. Get one with [`Runtime::spawner`] or, inside a
/// runtime, [`spawner`].
///
/// [`Runtime::spawner`]: crate::Runtime::spawner
///
/// # Examples
///
/// ```
/// use weft_executor::Runtime;
///
/// let rt = Runtime::new();
/// let spawner = rt.spawner();
/// // From another thread: the task runs on `rt`'s thread when it next runs.
/// let handle = std::thread::spawn(move || spawner.spawn(async { 6 * 7 })).join().unwrap();
/// let on = rt.block_on(async move { handle.await.unwrap() });
/// assert_eq!(on, 42);
/// ```
#[derive(Clone)]
pub struct Spawner {
    inbox: Arc<Inbox>,
}

impl Spawner {
    pub(crate) fn new(inbox: Arc<Inbox>) -> Spawner {
        Spawner { inbox }
    }

    /// The id of the runtime this spawner sends to.
    pub fn runtime_id(&self) -> u64 {
        self.inbox.id
    }

    /// Whether the runtime has shut down: a spawn now resolves at once to
    /// [`JoinError::Cancelled`].
    pub fn is_closed(&self) -> bool {
        self.inbox.is_closed()
    }

    /// Sends `fut` to the runtime's thread to run as a task there, and returns a handle to
    /// its output that can be awaited anywhere. The task starts at the runtime's next turn
    /// (or its next `block_on`); if the runtime has shut down, the handle resolves to
    /// [`JoinError::Cancelled`].
    #[track_caller]
    pub fn spawn<F>(&self, fut: F) -> RemoteJoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let slot = Arc::new(Slot {
            state: Mutex::new(State {
                output: None,
                task: None,
                awaiter: None,
                abort: false,
            }),
        });
        let carried = Carried {
            fut: Some(Box::pin(fut)),
            slot: slot.clone(),
        };
        let spawn = RemoteSpawn {
            fut: Box::pin(carried),
            location: Location::caller(),
        };
        // A runtime that is gone gives the spawn back; dropping it cancels the handle.
        drop(self.inbox.push_spawn(spawn));
        RemoteJoinHandle { slot }
    }
}

impl fmt::Debug for Spawner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Spawner")
            .field("runtime", &self.inbox.id)
            .finish()
    }
}

/// The [`Spawner`] of the runtime running on this thread.
///
/// # Panics
///
/// If no weft runtime is running on this thread.
///
/// # Examples
///
/// ```
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     let spawner = weft_executor::spawner();
///     let out = std::thread::spawn(move || spawner.spawn(async { "hi" })).join().unwrap();
///     assert_eq!(out.await.unwrap(), "hi");
/// });
/// ```
#[track_caller]
pub fn spawner() -> Spawner {
    expect_current("spawner", |s| Spawner::new(s.inbox.clone()))
}

struct Slot<T> {
    state: Mutex<State<T>>,
}

struct State<T> {
    /// The task's result, once it ended; taken by the handle.
    output: Option<Result<T, JoinError>>,
    /// The task's waker, to wake it for an abort.
    task: Option<Waker>,
    /// The handle's awaiter.
    awaiter: Option<Waker>,
    /// The handle asked for the task to be cancelled.
    abort: bool,
}

impl<T> Slot<T> {
    /// Stores the task's result and wakes the awaiter (after the lock is released).
    fn complete(&self, out: Result<T, JoinError>) {
        let awaiter = {
            let mut st = self.state.lock();
            st.output = Some(out);
            st.task = None;
            st.awaiter.take()
        };
        if let Some(w) = awaiter {
            w.wake();
        }
    }
}

/// The task a [`Spawner`] sends: the user's future, and where its output goes.
struct Carried<F: Future> {
    /// `None` once it ended (its output is in the slot). Boxed, so the wrapper is `Unpin`:
    /// one more allocation per spawn from afar, none on any local path.
    fut: Option<Pin<Box<F>>>,
    slot: Arc<Slot<F::Output>>,
}

impl<F: Future> Future for Carried<F> {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        {
            let mut st = this.slot.state.lock();
            if st.abort {
                drop(st);
                this.fut = None; // the future's drop runs here, without the lock
                this.slot.complete(Err(JoinError::Cancelled));
                return Poll::Ready(());
            }
            match &st.task {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => st.task = Some(cx.waker().clone()),
            }
        }
        let Some(fut) = this.fut.as_mut() else {
            return Poll::Ready(());
        };
        let out = match catch_unwind(AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(v)) => Ok(v),
            Err(payload) => Err(JoinError::panic(payload)),
        };
        this.fut = None;
        this.slot.complete(out);
        Poll::Ready(())
    }
}

impl<F: Future> Drop for Carried<F> {
    fn drop(&mut self) {
        if self.fut.is_some() {
            // Dropped before it ended: the runtime shut down, or never took it. The future
            // goes first (its drop is user code, run without the lock), then the handle hears.
            self.fut = None;
            self.slot.complete(Err(JoinError::Cancelled));
        }
    }
}

/// A handle to the output of a task sent to another thread's runtime (see [`Spawner`]).
///
/// Unlike [`JoinHandle`](crate::JoinHandle) it is `Send` (when the output is), and can be
/// awaited on any thread, inside any runtime or none. Awaiting it gives the task's output,
/// [`JoinError::Panic`] if the task panicked, or [`JoinError::Cancelled`] if it was aborted
/// or its runtime shut down first. Dropping it detaches the task.
///
/// # Examples
///
/// ```
/// let rt = weft_executor::Runtime::new();
/// let h = rt.spawner().spawn(std::future::pending::<()>());
/// h.abort();
/// assert!(rt.block_on(h).unwrap_err().is_cancelled());
/// ```
#[must_use = "dropping a RemoteJoinHandle detaches its task"]
pub struct RemoteJoinHandle<T> {
    slot: Arc<Slot<T>>,
}

impl<T> RemoteJoinHandle<T> {
    /// Asks the task to stop: its future is dropped on its runtime's thread at its next
    /// turn, and the handle then resolves to [`JoinError::Cancelled`]. Does nothing to a task
    /// that has ended.
    pub fn abort(&self) {
        let task = {
            let mut st = self.slot.state.lock();
            if st.output.is_some() {
                return;
            }
            st.abort = true;
            st.task.take()
        };
        if let Some(w) = task {
            w.wake();
        }
    }

    /// asyncio's name for [`abort`](Self::abort).
    pub fn cancel(&self) {
        self.abort()
    }

    /// Whether the task has ended (its output is ready to be taken).
    pub fn is_finished(&self) -> bool {
        self.slot.state.lock().output.is_some()
    }
}

impl<T> Unpin for RemoteJoinHandle<T> {}

impl<T> Future for RemoteJoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut st = self.slot.state.lock();
        match st.output.take() {
            Some(out) => Poll::Ready(out),
            None => {
                match &st.awaiter {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => st.awaiter = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}

impl<T> fmt::Debug for RemoteJoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemoteJoinHandle")
            .field("finished", &self.is_finished())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use crate::Runtime;

    fn assert_send<T: Send>(_: &T) {}

    #[test]
    fn spawns_from_another_thread_run_on_the_runtimes_thread() {
        let rt = Runtime::new();
        let spawner = rt.spawner();
        assert_send(&spawner);
        let here = std::thread::current().id();
        let h = std::thread::spawn(move || spawner.spawn(async { std::thread::current().id() }))
            .join()
            .unwrap();
        assert_send(&h);
        assert_eq!(rt.block_on(h).unwrap(), here);
    }

    #[test]
    fn output_is_awaited_from_another_runtime_on_another_thread() {
        let target = Runtime::new();
        let spawner = target.spawner();
        let (tx, rx) = std::sync::mpsc::channel();
        let other = std::thread::spawn(move || {
            let rt = Runtime::new();
            rt.block_on(async move {
                let h = spawner.spawn(async { 5 });
                tx.send(()).unwrap();
                h.await.unwrap()
            })
        });
        rx.recv().unwrap();
        // Run the target until its task is done: the other runtime's awaiter is then woken.
        target.block_on(async { crate::yield_now().await });
        assert_eq!(other.join().unwrap(), 5);
    }

    #[test]
    fn a_panic_comes_back_to_the_handle() {
        let rt = Runtime::new();
        let h = rt.spawner().spawn(async { panic!("boom") });
        let err = rt.block_on(h).unwrap_err();
        assert!(err.is_panic());
    }

    #[test]
    fn shutdown_and_closed_runtimes_cancel() {
        let rt = Runtime::new();
        let spawner = rt.spawner();
        let queued = spawner.spawn(async { 1 });
        drop(rt);
        assert!(spawner.is_closed());
        let late = spawner.spawn(async { 2 });
        let rt2 = Runtime::new();
        assert!(rt2.block_on(queued).unwrap_err().is_cancelled());
        assert!(rt2.block_on(late).unwrap_err().is_cancelled());
    }

    #[test]
    fn a_running_task_is_aborted_from_afar() {
        let rt = Runtime::new();
        let h = rt.spawner().spawn(std::future::pending::<()>());
        rt.block_on(crate::yield_now());
        assert!(!h.is_finished());
        let h = std::thread::spawn(move || {
            h.abort();
            h
        })
        .join()
        .unwrap();
        assert!(rt.block_on(h).unwrap_err().is_cancelled());
    }
}
