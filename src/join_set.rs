//! tokio's `JoinSet`: a set of tasks, joined in the order they finish.

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::Stream;
use futures_util::stream::FuturesUnordered;
use weft_executor::task::{AbortHandle, TaskId};
use weft_executor::TaskBuilder as Builder;
use weft_executor::{JoinError, JoinHandle};

/// A set of tasks, joined in the order they finish (tokio's `JoinSet`).
///
/// Unlike [`TaskGroup`](crate::TaskGroup), a failing task does not cancel the others: each
/// task's result, `Ok(T)` or a [`JoinError`], comes out of
/// [`join_next`](JoinSet::join_next). Dropping the set cancels every task still in it.
///
/// # Examples
///
/// ```
/// use weft::JoinSet;
///
/// weft::run(async {
///     let mut set = JoinSet::new();
///     for i in 0..3u32 {
///         set.spawn(async move {
///             for _ in 0..(3 - i) {
///                 weft::yield_now().await;
///             }
///             i
///         });
///     }
///     let mut order = Vec::new();
///     while let Some(res) = set.join_next().await {
///         order.push(res.unwrap());
///     }
///     assert_eq!(order, [2, 1, 0]); // the task with the fewest yields finishes first
/// });
/// ```
pub struct JoinSet<T> {
    tasks: FuturesUnordered<IdHandle<T>>,
}

/// A `JoinHandle` whose output carries the task's id.
struct IdHandle<T>(JoinHandle<T>);

impl<T> Future for IdHandle<T> {
    type Output = (TaskId, Result<T, JoinError>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let id = self.0.id();
        Pin::new(&mut self.0).poll(cx).map(|res| (id, res))
    }
}

impl<T> JoinSet<T> {
    /// An empty set.
    pub fn new() -> JoinSet<T> {
        JoinSet {
            tasks: FuturesUnordered::new(),
        }
    }

    /// The number of tasks in the set (finished or not) whose result was not yet taken.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    /// Whether the set holds no task.
    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Waits for the next task of the set to finish and returns its result, or `None` if the
    /// set is empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel-safe: if the future is dropped before it completes, no result is lost.
    pub async fn join_next(&mut self) -> Option<Result<T, JoinError>> {
        self.join_next_with_id().await.map(|(_, res)| res)
    }

    /// Like [`join_next`](JoinSet::join_next), with the id of the task.
    ///
    /// # Examples
    ///
    /// ```
    /// weft::run(async {
    ///     let mut set = weft::JoinSet::new();
    ///     let abort = set.spawn(std::future::pending::<()>());
    ///     abort.cancel();
    ///     let (id, res) = set.join_next_with_id().await.unwrap();
    ///     assert_eq!(id, abort.id());
    ///     assert!(res.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub async fn join_next_with_id(&mut self) -> Option<(TaskId, Result<T, JoinError>)> {
        poll_fn(|cx| self.poll_join_next_with_id(cx)).await
    }

    /// Polls for the next finished task: `Ready(None)` if the set is empty, `Pending` (and
    /// `cx` woken later) if no task has finished yet.
    pub fn poll_join_next_with_id(
        &mut self,
        cx: &mut Context<'_>,
    ) -> Poll<Option<(TaskId, Result<T, JoinError>)>> {
        Pin::new(&mut self.tasks).poll_next(cx)
    }

    /// Polls for the next finished task's result (see
    /// [`poll_join_next_with_id`](JoinSet::poll_join_next_with_id)).
    pub fn poll_join_next(&mut self, cx: &mut Context<'_>) -> Poll<Option<Result<T, JoinError>>> {
        self.poll_join_next_with_id(cx)
            .map(|o| o.map(|(_, res)| res))
    }

    /// Waits for every task and returns their outputs in the order they finished (tokio's
    /// `join_all`).
    ///
    /// # Panics
    ///
    /// If a task panicked (its panic resumes here, after the other tasks are cancelled), or
    /// was cancelled.
    ///
    /// # Examples
    ///
    /// ```
    /// weft::run(async {
    ///     let set: weft::JoinSet<u8> = (1..=3u8).map(|i| async move { i }).collect();
    ///     let mut out = set.join_all().await;
    ///     out.sort();
    ///     assert_eq!(out, [1, 2, 3]);
    /// });
    /// ```
    pub async fn join_all(mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len());
        while let Some(res) = self.join_next().await {
            match res {
                Ok(v) => out.push(v),
                Err(e) => match e.try_into_panic() {
                    Ok(panic) => {
                        self.cancel_all();
                        std::panic::resume_unwind(panic);
                    }
                    Err(e) => panic!("a task of the JoinSet failed: {e}"),
                },
            }
        }
        out
    }

    /// The result of a task that has already finished, without waiting; `None` if none has.
    ///
    /// # Examples
    ///
    /// ```
    /// weft::run(async {
    ///     let mut set = weft::JoinSet::new();
    ///     set.spawn(async { 7 });
    ///     assert!(set.try_join_next().is_none()); // not run yet
    ///     weft::yield_now().await;
    ///     assert_eq!(set.try_join_next().unwrap().unwrap(), 7);
    /// });
    /// ```
    pub fn try_join_next(&mut self) -> Option<Result<T, JoinError>> {
        let waker = futures_util::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        // Not async, so it cannot yield: it looks at the handles without spending the
        // task's budget (as tokio's).
        let next =
            weft_executor::coop::unconstrained(poll_fn(|cx| self.poll_join_next_with_id(cx)));
        match std::pin::pin!(next).poll(&mut cx) {
            Poll::Ready(Some((_, res))) => Some(res),
            Poll::Ready(None) | Poll::Pending => None,
        }
    }

    /// Cancels every task of the set. Their results (`Err(JoinError::Cancelled)` for those
    /// that had not finished) still come out of `join_next`.
    pub fn cancel_all(&mut self) {
        for t in self.tasks.iter() {
            t.0.cancel();
        }
    }

    /// tokio's name for [`cancel_all`](JoinSet::cancel_all).
    pub fn abort_all(&mut self) {
        self.cancel_all()
    }

    /// Cancels every task and waits until the set is empty, dropping their results.
    ///
    /// # Examples
    ///
    /// ```
    /// weft::run(async {
    ///     let mut set = weft::JoinSet::new();
    ///     set.spawn(std::future::pending::<()>());
    ///     set.shutdown().await;
    ///     assert!(set.is_empty());
    /// });
    /// ```
    pub async fn shutdown(&mut self) {
        self.cancel_all();
        while self.join_next().await.is_some() {}
    }

    /// Removes every task from the set without cancelling them: they run on, detached.
    pub fn detach_all(&mut self) {
        self.tasks.clear();
    }
}

impl<T: 'static> JoinSet<T> {
    /// Spawns `fut` as a task of the set and returns a handle that can cancel it.
    ///
    /// # Panics
    ///
    /// If no weft runtime is running on this thread.
    #[track_caller]
    pub fn spawn<F>(&mut self, fut: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        self.spawn_with(Builder::new(), fut)
    }

    /// tokio's `spawn_local`: every weft task is local, so this is [`spawn`](JoinSet::spawn).
    ///
    /// # Panics
    ///
    /// If no weft runtime is running on this thread.
    #[track_caller]
    pub fn spawn_local<F>(&mut self, fut: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        if !weft_executor::in_runtime() {
            // tokio's words, so code and tests that expect them match.
            panic!(
                "`spawn_local` called from outside of a `task::LocalSet` or `runtime::LocalRuntime`"
            );
        }
        self.spawn(fut)
    }

    /// Spawns `fut` as a task of the set and of `local` (see
    /// [`LocalSet::spawn_local`](crate::task::LocalSet::spawn_local)).
    ///
    /// # Panics
    ///
    /// If no weft runtime is running on this thread.
    #[track_caller]
    pub fn spawn_local_on<F>(&mut self, fut: F, local: &crate::task::LocalSet) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        let handle = local.spawn_local(fut);
        let abort = handle.abort_handle();
        self.tasks.push(IdHandle(handle));
        abort
    }

    /// Spawns `fut` on the runtime of `handle` as a task of the set (see
    /// [`Handle::spawn`](crate::runtime::Handle::spawn)).
    ///
    /// # Panics
    ///
    /// As [`Handle::spawn`](crate::runtime::Handle::spawn).
    #[track_caller]
    pub fn spawn_on<F>(&mut self, fut: F, handle: &crate::runtime::Handle) -> AbortHandle
    where
        F: Future<Output = T> + Send + 'static,
        T: Send,
    {
        let handle = handle.spawn(fut);
        let abort = handle.abort_handle();
        self.tasks.push(IdHandle(handle));
        abort
    }

    /// Like [`spawn`](JoinSet::spawn), with the options of `builder` (a name, a priority).
    ///
    /// # Panics
    ///
    /// If no weft runtime is running on this thread.
    #[track_caller]
    pub fn spawn_with<F>(&mut self, builder: Builder, fut: F) -> AbortHandle
    where
        F: Future<Output = T> + 'static,
    {
        let handle = builder.spawn(fut);
        let abort = handle.abort_handle();
        self.tasks.push(IdHandle(handle));
        abort
    }
}

impl<T> Default for JoinSet<T> {
    fn default() -> JoinSet<T> {
        JoinSet::new()
    }
}

impl<T> Drop for JoinSet<T> {
    fn drop(&mut self) {
        self.cancel_all();
    }
}

impl<T> fmt::Debug for JoinSet<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinSet").field("len", &self.len()).finish()
    }
}

impl<T: 'static, F: Future<Output = T> + 'static> Extend<F> for JoinSet<T> {
    fn extend<I: IntoIterator<Item = F>>(&mut self, iter: I) {
        for fut in iter {
            self.spawn(fut);
        }
    }
}

impl<T: 'static, F: Future<Output = T> + 'static> FromIterator<F> for JoinSet<T> {
    /// Spawns every future of `iter` into a new set.
    ///
    /// # Panics
    ///
    /// If no weft runtime is running on this thread.
    fn from_iter<I: IntoIterator<Item = F>>(iter: I) -> JoinSet<T> {
        let mut set = JoinSet::new();
        set.extend(iter);
        set
    }
}
