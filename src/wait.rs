//! asyncio's waiting primitives: `wait`, `as_completed`, `shield`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::{FusedStream, Stream};
use futures_util::stream::FuturesUnordered;
use weft_executor::task::{TaskId, TaskState};
use weft_executor::{JoinError, JoinHandle};

/// When [`wait`] returns (asyncio's `return_when`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as one task has finished (completed, panicked or was cancelled).
    FirstCompleted,
    /// As soon as one task has panicked, or when all have finished if none panics.
    ///
    /// Only a panic counts as asyncio's "raised an exception": a cancelled task does not
    /// (asyncio excludes cancelled tasks too), and neither does a task that returned an
    /// `Err`. An `Err` is a value, and a `JoinHandle` cannot show its output without giving
    /// it away; for tasks whose `Err` must stop the others, use a
    /// [`TaskGroup`](crate::TaskGroup) or [`try_gather!`](crate::try_gather).
    FirstException,
    /// When every task has finished.
    AllCompleted,
}

/// Waits for the tasks of `handles` until `return_when` holds, and returns them split in
/// two: `(done, pending)` (asyncio's `asyncio.wait`).
///
/// Both lists keep the input order. Awaiting a handle of `done` gives its result at once.
/// Nothing is cancelled: the handles of `pending` still own their tasks. With no handles,
/// it returns two empty lists at once (asyncio raises `ValueError`).
///
/// # Cancel safety
///
/// Dropping the future before it completes drops the handles it holds, which detaches their
/// tasks (they run on, their outputs are lost); it never cancels them.
///
/// # Examples
///
/// ```
/// use weft::ReturnWhen;
///
/// weft::run(async {
///     let quick = weft::spawn(async { "quick" });
///     let stuck = weft::spawn(std::future::pending::<&str>());
///     let (done, pending) = weft::wait([quick, stuck], ReturnWhen::FirstCompleted).await;
///     assert_eq!(done.len(), 1);
///     assert_eq!(pending.len(), 1);
///     for h in done {
///         assert_eq!(h.await.unwrap(), "quick");
///     }
///     for h in pending {
///         h.cancel();
///     }
/// });
/// ```
pub fn wait<T, I>(handles: I, return_when: ReturnWhen) -> Wait<T>
where
    I: IntoIterator<Item = JoinHandle<T>>,
{
    Wait {
        handles: handles.into_iter().collect(),
        return_when,
    }
}

/// Future returned by [`wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct Wait<T> {
    handles: Vec<JoinHandle<T>>,
    return_when: ReturnWhen,
}

impl<T> Unpin for Wait<T> {}

impl<T> Wait<T> {
    /// Whether the condition holds now. Registers `cx` with every unfinished task.
    fn ready(&mut self, cx: &mut Context<'_>) -> bool {
        let mut finished = 0;
        let mut panicked = false;
        for h in &mut self.handles {
            if h.is_finished() {
                finished += 1;
                panicked |= h.state() == TaskState::Panicked;
            } else {
                // An unfinished handle never gives its output: this poll only stores `cx`'s
                // waker in the task, to be woken when it finishes.
                let poll = Pin::new(h).poll(cx);
                debug_assert!(poll.is_pending(), "an unfinished task returned its output");
            }
        }
        finished == self.handles.len()
            || match self.return_when {
                ReturnWhen::FirstCompleted => finished > 0,
                ReturnWhen::FirstException => panicked,
                ReturnWhen::AllCompleted => false,
            }
    }
}

impl<T> Future for Wait<T> {
    type Output = (Vec<JoinHandle<T>>, Vec<JoinHandle<T>>);

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if !self.ready(cx) {
            return Poll::Pending;
        }
        let (done, pending) = std::mem::take(&mut self.handles)
            .into_iter()
            .partition(JoinHandle::is_finished);
        Poll::Ready((done, pending))
    }
}

impl<T> fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("handles", &self.handles)
            .field("return_when", &self.return_when)
            .finish()
    }
}

/// A stream of the outputs of `iter`'s futures in the order they finish (asyncio's
/// `as_completed`; tokio users reach for `FuturesUnordered`).
///
/// Pass `JoinHandle`s to get each task's `Result<T, JoinError>` as the task finishes, or any
/// futures: they are then polled in place (not spawned) by whoever polls the stream.
///
/// # Examples
///
/// ```
/// use futures_util::StreamExt;
///
/// weft::run(async {
///     let tasks = [3, 1, 2].map(|yields| {
///         weft::spawn(async move {
///             for _ in 0..yields {
///                 weft::yield_now().await;
///             }
///             yields
///         })
///     });
///     let mut done = weft::as_completed(tasks);
///     let mut order = Vec::new();
///     while let Some(res) = done.next().await {
///         order.push(res.unwrap());
///     }
///     assert_eq!(order, [1, 2, 3]);
/// });
/// ```
pub fn as_completed<I>(iter: I) -> AsCompleted<I::Item>
where
    I: IntoIterator,
    I::Item: Future,
{
    AsCompleted {
        inner: iter.into_iter().collect(),
    }
}

/// Stream returned by [`as_completed`].
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F> {
    inner: FuturesUnordered<F>,
}

impl<F> AsCompleted<F> {
    /// The number of futures that have not finished.
    pub fn len(&self) -> usize {
        self.inner.len()
    }

    /// Whether every future has finished.
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }
}

impl<F: Future> Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        Pin::new(&mut self.inner).poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.inner.len(), Some(self.inner.len()))
    }
}

impl<F: Future> FusedStream for AsCompleted<F> {
    fn is_terminated(&self) -> bool {
        self.inner.is_terminated()
    }
}

impl<F> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("len", &self.inner.len())
            .finish()
    }
}

/// Awaits a task without the power to cancel it (asyncio's `shield`).
///
/// Dropping the returned future, or cancelling the task that awaits it, leaves the task
/// running. In weft this is true of a bare `JoinHandle` too (dropping it detaches its task);
/// `shield` says so in the code, and gives no `cancel` method to call by mistake. To shield
/// a plain future, spawn it first: `shield(weft::spawn(fut))`.
///
/// # Examples
///
/// ```
/// use std::{cell::Cell, rc::Rc};
///
/// weft::run(async {
///     let saved = Rc::new(Cell::new(false));
///     let s = saved.clone();
///     let task = weft::spawn(async move {
///         weft::yield_now().await;
///         s.set(true);
///     });
///     let waiter = weft::spawn(weft::shield(task));
///     waiter.cancel(); // the waiter goes, the task stays
///     for _ in 0..3 {
///         weft::yield_now().await;
///     }
///     assert!(saved.get());
/// });
/// ```
pub fn shield<T>(handle: JoinHandle<T>) -> Shield<T> {
    Shield { handle }
}

/// Future returned by [`shield`]: the task's `Result<T, JoinError>`.
#[must_use = "futures do nothing unless awaited"]
pub struct Shield<T> {
    handle: JoinHandle<T>,
}

impl<T> Shield<T> {
    /// The shielded task's id.
    pub fn id(&self) -> TaskId {
        self.handle.id()
    }

    /// Whether the shielded task has finished.
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// The handle back, with its power to cancel.
    pub fn into_inner(self) -> JoinHandle<T> {
        self.handle
    }
}

impl<T> Future for Shield<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.handle).poll(cx)
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield")
            .field("task", &self.handle)
            .finish()
    }
}
