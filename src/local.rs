//! tokio's `LocalSet`: in weft every task is local to its thread already, so a `LocalSet` is
//! a group of tasks on the current runtime that can be awaited as a whole.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use weft_executor::JoinHandle;

/// Tasks that stay on this thread (tokio's `task::LocalSet`).
///
/// Every weft task already stays on the thread that spawned it, so this is only a group:
/// [`spawn_local`](LocalSet::spawn_local) spawns on the current runtime, and awaiting the set
/// waits until every task spawned through it has finished. [`run_until`](LocalSet::run_until)
/// and [`block_on`](LocalSet::block_on) run a future as tokio's do.
///
/// One difference: tokio lets a `LocalSet` take tasks before any runtime runs and starts them
/// when the set is driven; weft's spawns at once, so `spawn_local` must be called on a thread
/// that runs a weft runtime.
///
/// # Examples
///
/// ```
/// use weft::task::LocalSet;
///
/// weft::run(async {
///     let local = LocalSet::new();
///     let rc = std::rc::Rc::new(5); // !Send is fine
///     let h = local.spawn_local(async move { *rc + 1 });
///     local.run_until(async { assert_eq!(h.await.unwrap(), 6) }).await;
///     local.await; // every task of the set has finished
/// });
/// ```
#[derive(Default)]
pub struct LocalSet {
    group: Rc<Group>,
}

/// The count of unfinished tasks of a set, and the waker of whoever awaits the set.
#[derive(Default)]
struct Group {
    live: Cell<usize>,
    waiter: RefCell<Option<Waker>>,
}

/// Held by each task of a set; the last to drop wakes the set's awaiter.
struct Member(Rc<Group>);

impl Drop for Member {
    fn drop(&mut self) {
        let live = self.0.live.get() - 1;
        self.0.live.set(live);
        if live == 0 {
            let waker = self.0.waiter.borrow_mut().take();
            if let Some(w) = waker {
                w.wake();
            }
        }
    }
}

impl LocalSet {
    /// An empty set.
    pub fn new() -> LocalSet {
        LocalSet::default()
    }

    /// Spawns `fut` on the current runtime as a task of this set.
    ///
    /// # Panics
    ///
    /// If no weft runtime runs on this thread.
    #[track_caller]
    pub fn spawn_local<F>(&self, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        if !weft_executor::in_runtime() {
            panic!(
                "`LocalSet::spawn_local` called outside a weft runtime: weft spawns the task at \
                 once, on the runtime of this thread (call it inside `block_on` or `run_until`)"
            );
        }
        self.group.live.set(self.group.live.get() + 1);
        let member = Member(self.group.clone());
        crate::spawn(async move {
            let _member = member;
            fut.await
        })
    }

    /// Runs `fut` to completion; the set's tasks run meanwhile (as every task does).
    pub async fn run_until<F: Future>(&self, fut: F) -> F::Output {
        fut.await
    }

    /// Runs `fut` on `rt`, with the set's tasks.
    ///
    /// # Panics
    ///
    /// As [`Runtime::block_on`](crate::Runtime::block_on).
    #[track_caller]
    pub fn block_on<F: Future>(&self, rt: &crate::Runtime, fut: F) -> F::Output {
        rt.block_on(fut)
    }

    /// Enters the set's context: a no-op guard in weft (every task is local already).
    pub fn enter(&self) -> LocalEnterGuard {
        LocalEnterGuard(())
    }
}

/// Guard of [`LocalSet::enter`].
#[derive(Debug)]
#[must_use = "the guard does nothing unless held"]
pub struct LocalEnterGuard(());

impl Future for LocalSet {
    type Output = ();

    /// Ready once every task spawned through the set has finished.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.group.live.get() == 0 {
            return Poll::Ready(());
        }
        *self.group.waiter.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl fmt::Debug for LocalSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalSet")
            .field("live", &self.group.live.get())
            .finish()
    }
}
