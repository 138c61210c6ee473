//! asyncio's `TaskGroup`: tasks that live and fail together.
//!
//! # Ground rules
//!
//! The group's tasks and the group itself share one `Rc<RefCell<Inner>>`, on the runtime's
//! thread. Each member task holds a `Member` future; the group holds one `AbortHandle` per
//! unfinished member.
//!
//! * A borrow of `Inner` is never held while user code can run: cancelling a member drops its
//!   future at once (and so runs `Member`'s drop, which borrows `Inner` again), so the abort
//!   handles are moved out of `Inner` first and cancelled after the borrow ends. Wakers are
//!   woken the same way.
//! * `live` counts the `Member` futures that exist. A `Member` decrements it exactly once, in
//!   its drop, whether it finished, failed or was cancelled. The group is done when it is 0.
//! * `aborting` is set by the first failure (or by dropping the group) and never cleared:
//!   from then on every member is cancelled, and new members are cancelled as they come.

use std::any::Any;
use std::cell::RefCell;
use std::fmt;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

use pin_project_lite::pin_project;
use weft_core::slab::{Key, Slab};
use weft_executor::task::{AbortHandle, TaskId};
use weft_executor::JoinHandle;
use weft_executor::TaskBuilder as Builder;

/// A group of tasks that fail together (asyncio's `TaskGroup`, tokio's `JoinSet` with
/// fail-fast).
///
/// Each task's future gives a `Result<T, E>`. [`wait`](TaskGroup::wait) waits for every task.
/// The first task that fails (returns `Err` or panics) cancels all the others at once, and
/// `wait` then returns a [`GroupError`] that lists every failure that happened (asyncio's
/// `ExceptionGroup`): none is dropped. A task that is cancelled is not a failure.
///
/// Dropping the group (or the future of `wait`, for example because the task awaiting it was
/// cancelled) cancels the tasks that have not finished.
///
/// # Examples
///
/// ```
/// use weft::TaskGroup;
///
/// weft::run(async {
///     let mut tg = TaskGroup::new();
///     let a = tg.create_task(async { Ok::<_, String>(1) });
///     let b = tg.create_task(async {
///         weft::yield_now().await;
///         Ok(2)
///     });
///     tg.wait().await.unwrap();
///     assert_eq!(a.await.unwrap() + b.await.unwrap(), 3);
/// });
/// ```
///
/// A failure cancels the rest:
///
/// ```
/// use weft::TaskGroup;
///
/// weft::run(async {
///     let mut tg = TaskGroup::new();
///     let slow = tg.create_task(async {
///         std::future::pending::<()>().await;
///         Ok(())
///     });
///     tg.spawn(async { Err::<(), _>("disk full") });
///     let err = tg.wait().await.unwrap_err();
///     assert_eq!(err.errors().collect::<Vec<_>>(), [&"disk full"]);
///     assert!(slow.await.unwrap_err().is_cancelled());
/// });
/// ```
pub struct TaskGroup<E> {
    inner: Rc<RefCell<Inner<E>>>,
}

struct Inner<E> {
    /// One slot per member future that exists; its key is `Member::key`.
    slots: Slab<Slot>,
    /// Number of member futures that exist.
    live: usize,
    /// Set by the first failure, or by dropping the group. Never cleared.
    aborting: bool,
    /// Every failure, in the order they happened.
    failures: Vec<TaskFailure<E>>,
    /// The waker of whoever awaits `wait()`.
    waiter: Option<Waker>,
}

#[derive(Default)]
struct Slot {
    /// The member's task id, once spawned.
    id: Option<TaskId>,
    /// Cancels the member. `None` before the spawn, and after the group took it to abort.
    abort: Option<AbortHandle>,
}

impl<E> Inner<E> {
    fn insert(&mut self) -> Key {
        self.live += 1;
        self.slots.insert(Slot::default())
    }

    /// Frees `key`'s slot; returns the member's id.
    fn remove(&mut self, key: Key) -> Option<TaskId> {
        self.live -= 1;
        // The `AbortHandle` drops here: it only frees memory, it runs no user code.
        self.slots.remove(key).and_then(|slot| slot.id)
    }

    /// Starts aborting: takes every abort handle, for the caller to cancel once the borrow
    /// is released.
    fn abort(&mut self) -> Vec<AbortHandle> {
        self.aborting = true;
        self.slots
            .iter_mut()
            .filter_map(|(_, s)| s.abort.take())
            .collect()
    }
}

/// Cancels the tasks of `handles`. Runs their futures' drops: call with no borrow held.
fn cancel_all(handles: Vec<AbortHandle>) {
    for h in &handles {
        h.cancel();
    }
}

impl<E> TaskGroup<E> {
    /// An empty group.
    pub fn new() -> TaskGroup<E> {
        TaskGroup {
            inner: Rc::new(RefCell::new(Inner {
                slots: Slab::new(),
                live: 0,
                aborting: false,
                failures: Vec::new(),
                waiter: None,
            })),
        }
    }

    /// The number of tasks of the group that have not finished.
    pub fn len(&self) -> usize {
        self.inner.borrow().live
    }

    /// Whether every task of the group has finished (or none was created).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether a task failed (or the group was told to stop): the unfinished tasks are
    /// being cancelled, and new ones are cancelled as they are created.
    pub fn is_aborting(&self) -> bool {
        self.inner.borrow().aborting
    }

    /// Waits for every task of the group; `Ok(())` if none failed, else every failure.
    ///
    /// # Errors
    ///
    /// A [`GroupError`] with each `Err` and each panic of the group's tasks, in the order
    /// they happened.
    ///
    /// # Cancel safety
    ///
    /// Dropping the future before it completes drops the group, which cancels its unfinished
    /// tasks (asyncio: cancelling the task inside `async with TaskGroup()` cancels the group).
    pub fn wait(self) -> GroupWait<E> {
        GroupWait { group: Some(self) }
    }
}

impl<E: 'static> TaskGroup<E> {
    /// Spawns `fut` as a task of the group (asyncio's `tg.create_task(coro)`).
    ///
    /// Returns the task's [`JoinHandle`]. Awaiting it gives `Ok(value)` if the future
    /// returned `Ok(value)`. If the task failed, its `Err` or panic goes to the group's
    /// [`GroupError`] and the handle gives `Err(JoinError::Cancelled)`; a task cancelled by
    /// the group (or by its handle) gives `Err(JoinError::Cancelled)` too. The handle may be
    /// dropped: that detaches nothing, the group still owns the task.
    ///
    /// If the group is already aborting (a task failed), the new task is cancelled at once,
    /// before it runs (asyncio raises `RuntimeError` here).
    ///
    /// # Panics
    ///
    /// If no weft runtime is running on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// weft::run(async {
    ///     let mut tg = weft::TaskGroup::<std::io::Error>::new();
    ///     let h = tg.create_task(async { Ok("done") });
    ///     tg.wait().await.unwrap();
    ///     assert_eq!(h.await.unwrap(), "done");
    /// });
    /// ```
    #[track_caller]
    pub fn create_task<F, T>(&mut self, fut: F) -> JoinHandle<T>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        self.create_task_with(Builder::new(), fut)
    }

    /// Spawns `fut` as a task of the group, for its effect only: returns an [`AbortHandle`]
    /// that can cancel it, and its `Ok` value is dropped (tokio's `JoinSet::spawn`). Use
    /// [`create_task`](TaskGroup::create_task) to get the value.
    ///
    /// # Panics
    ///
    /// If no weft runtime is running on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// weft::run(async {
    ///     let mut tg = weft::TaskGroup::new();
    ///     for i in 0..3 {
    ///         tg.spawn(async move { if i < 3 { Ok(()) } else { Err("too big") } });
    ///     }
    ///     assert!(tg.wait().await.is_ok());
    /// });
    /// ```
    #[track_caller]
    pub fn spawn<F, T>(&mut self, fut: F) -> AbortHandle
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        self.create_task_with(Builder::new(), fut).abort_handle()
    }

    /// Like [`create_task`](TaskGroup::create_task), with the options of `builder` (a name,
    /// a priority).
    ///
    /// # Examples
    ///
    /// ```
    /// weft::run(async {
    ///     let mut tg = weft::TaskGroup::<()>::new();
    ///     let h = tg.create_task_with(weft::task::Builder::new().name("fetch"), async {
    ///         Ok(weft::task::name())
    ///     });
    ///     tg.wait().await.unwrap();
    ///     assert_eq!(h.await.unwrap().as_deref(), Some("fetch"));
    /// });
    /// ```
    #[track_caller]
    pub fn create_task_with<F, T>(&mut self, builder: Builder, fut: F) -> JoinHandle<T>
    where
        F: Future<Output = Result<T, E>> + 'static,
        T: 'static,
    {
        let key = self.inner.borrow_mut().insert();
        let member = Member {
            stage: Stage::Running { fut },
            group: self.inner.clone(),
            key,
        };
        // If `spawn` panics (no runtime), `member` is dropped and frees its slot.
        let handle = builder.spawn(member);
        let aborting = {
            let mut inner = self.inner.borrow_mut();
            let aborting = inner.aborting;
            // The member has not run yet (spawning does not poll), so its slot is there.
            if let Some(slot) = inner.slots.get_mut(key) {
                slot.id = Some(handle.id());
                if !aborting {
                    slot.abort = Some(handle.abort_handle());
                }
            }
            aborting
        };
        if aborting {
            // Not running yet: its future is dropped now, with no borrow held.
            handle.cancel();
        }
        handle
    }

    /// Cancels every unfinished task of the group, as a failure would, without recording a
    /// failure. `wait` then returns `Ok(())` unless a task had failed.
    ///
    /// # Examples
    ///
    /// ```
    /// weft::run(async {
    ///     let mut tg = weft::TaskGroup::<()>::new();
    ///     let h = tg.create_task(std::future::pending::<Result<(), ()>>());
    ///     tg.cancel_all();
    ///     assert!(tg.wait().await.is_ok());
    ///     assert!(h.await.unwrap_err().is_cancelled());
    /// });
    /// ```
    pub fn cancel_all(&mut self) {
        let handles = self.inner.borrow_mut().abort();
        cancel_all(handles);
    }
}

impl<E> Default for TaskGroup<E> {
    fn default() -> TaskGroup<E> {
        TaskGroup::new()
    }
}

impl<E> Drop for TaskGroup<E> {
    fn drop(&mut self) {
        let handles = {
            let mut inner = self.inner.borrow_mut();
            inner.waiter = None;
            inner.abort()
        };
        cancel_all(handles);
    }
}

impl<E> fmt::Debug for TaskGroup<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.inner.borrow();
        f.debug_struct("TaskGroup")
            .field("live", &inner.live)
            .field("failures", &inner.failures.len())
            .field("aborting", &inner.aborting)
            .finish()
    }
}

/// Future returned by [`TaskGroup::wait`].
#[must_use = "futures do nothing unless awaited"]
pub struct GroupWait<E> {
    /// `None` once the output was returned.
    group: Option<TaskGroup<E>>,
}

impl<E> Future for GroupWait<E> {
    type Output = Result<(), GroupError<E>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let group = self
            .group
            .as_ref()
            .expect("TaskGroup::wait polled after it completed");
        let failures = {
            let mut inner = group.inner.borrow_mut();
            if inner.live > 0 {
                match &inner.waiter {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => inner.waiter = Some(cx.waker().clone()),
                }
                return Poll::Pending;
            }
            std::mem::take(&mut inner.failures)
        };
        self.group = None;
        if failures.is_empty() {
            Poll::Ready(Ok(()))
        } else {
            Poll::Ready(Err(GroupError { failures }))
        }
    }
}

impl<E> fmt::Debug for GroupWait<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupWait")
            .field("group", &self.group)
            .finish()
    }
}

pin_project! {
    #[project = StageProj]
    enum Stage<F> {
        Running { #[pin] fut: F },
        Done,
    }
}

pin_project! {
    /// The future of one member task: runs the user's future, reports its failure to the
    /// group, and tells the group when it is gone.
    struct Member<F, E> {
        #[pin]
        stage: Stage<F>,
        group: Rc<RefCell<Inner<E>>>,
        key: Key,
    }

    impl<F, E> PinnedDrop for Member<F, E> {
        fn drop(this: Pin<&mut Self>) {
            let mut this = this.project();
            // Drop the user's future here (not in the field drop) to catch a panic of its
            // drop: a task that panics while being cancelled has failed, too.
            let panicked = match this.stage.as_mut().project() {
                StageProj::Running { .. } => {
                    let mut stage = this.stage;
                    panic::catch_unwind(AssertUnwindSafe(move || stage.set(Stage::Done))).err()
                }
                StageProj::Done => None,
            };
            let (handles, waiter) = {
                let mut inner = this.group.borrow_mut();
                let id = inner.remove(*this.key);
                let handles = match (panicked, id) {
                    (Some(payload), Some(id)) => {
                        inner.failures.push(TaskFailure::Panic(id, payload));
                        inner.abort()
                    }
                    _ => Vec::new(),
                };
                let waiter = if inner.live == 0 { inner.waiter.take() } else { None };
                (handles, waiter)
            };
            cancel_all(handles);
            if let Some(w) = waiter {
                w.wake();
            }
        }
    }
}

impl<F, T, E> Future for Member<F, E>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut this = self.project();
        let StageProj::Running { fut } = this.stage.as_mut().project() else {
            // Only reachable after a failure, while the task waits for its own cancellation.
            return Poll::Pending;
        };
        let failure = match panic::catch_unwind(AssertUnwindSafe(|| fut.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(Ok(v))) => return Poll::Ready(v),
            Ok(Poll::Ready(Err(e))) => FailureKind::Error(e),
            Err(payload) => FailureKind::Panic(payload),
        };
        // The task failed. Drop its future now, then report, then cancel every member,
        // this one included: it is running, so the executor drops it (and with it this
        // `Member`) as soon as this poll returns `Pending`, and its handle sees `Cancelled`.
        // (If its abort handle is no longer in the group, an earlier abort took it and has
        // already cancelled it: either way the task ends after this poll.)
        let id = weft_executor::task_id();
        let drop_panic =
            panic::catch_unwind(AssertUnwindSafe(|| this.stage.as_mut().set(Stage::Done)));
        let handles = {
            let mut inner = this.group.borrow_mut();
            inner.failures.push(match failure {
                FailureKind::Error(e) => TaskFailure::Error(id, e),
                FailureKind::Panic(p) => TaskFailure::Panic(id, p),
            });
            if let Err(p) = drop_panic {
                inner.failures.push(TaskFailure::Panic(id, p));
            }
            inner.abort()
        };
        cancel_all(handles);
        Poll::Pending
    }
}

enum FailureKind<E> {
    Error(E),
    Panic(Box<dyn Any + Send + 'static>),
}

/// How one task of a [`TaskGroup`] failed.
///
/// # Examples
///
/// ```
/// use weft::TaskFailure;
///
/// weft::run(async {
///     let mut tg = weft::TaskGroup::<&str>::new();
///     let h = tg.create_task(async { panic!("oops") as Result<(), &str> });
///     let id = h.id();
///     let err = tg.wait().await.unwrap_err();
///     match &err.failures()[0] {
///         TaskFailure::Panic(task, _) => assert_eq!(*task, id),
///         TaskFailure::Error(..) => unreachable!(),
///     }
///     assert_eq!(err.failures()[0].panic_message(), Some("oops"));
/// });
/// ```
pub enum TaskFailure<E> {
    /// The task's future returned this `Err`.
    Error(TaskId, E),
    /// The task panicked (while running, or while its future was dropped); the payload is
    /// the panic's, to re-raise with `std::panic::resume_unwind`.
    Panic(TaskId, Box<dyn Any + Send + 'static>),
}

impl<E> TaskFailure<E> {
    /// The id of the task that failed.
    pub fn id(&self) -> TaskId {
        match self {
            TaskFailure::Error(id, _) | TaskFailure::Panic(id, _) => *id,
        }
    }

    /// Whether the task panicked.
    pub fn is_panic(&self) -> bool {
        matches!(self, TaskFailure::Panic(..))
    }

    /// The error, if the task returned one.
    pub fn as_error(&self) -> Option<&E> {
        match self {
            TaskFailure::Error(_, e) => Some(e),
            TaskFailure::Panic(..) => None,
        }
    }

    /// The error, if the task returned one (and not panicked).
    pub fn into_error(self) -> Option<E> {
        match self {
            TaskFailure::Error(_, e) => Some(e),
            TaskFailure::Panic(..) => None,
        }
    }

    /// The panic's message, if the task panicked with a string.
    pub fn panic_message(&self) -> Option<&str> {
        match self {
            TaskFailure::Panic(_, p) => weft_core::panic_message(&**p),
            TaskFailure::Error(..) => None,
        }
    }
}

impl<E: fmt::Debug> fmt::Debug for TaskFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskFailure::Error(id, e) => f.debug_tuple("Error").field(id).field(e).finish(),
            TaskFailure::Panic(id, p) => match weft_core::panic_message(&**p) {
                Some(m) => f.debug_tuple("Panic").field(id).field(&m).finish(),
                None => f.debug_tuple("Panic").field(id).field(&"..").finish(),
            },
        }
    }
}

impl<E: fmt::Display> fmt::Display for TaskFailure<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TaskFailure::Error(id, e) => write!(f, "task {id} failed: {e}"),
            TaskFailure::Panic(id, p) => match weft_core::panic_message(&**p) {
                Some(m) => write!(f, "task {id} panicked: {m}"),
                None => write!(f, "task {id} panicked"),
            },
        }
    }
}

/// Every failure of a [`TaskGroup`]'s tasks (asyncio's `ExceptionGroup`). Never empty.
///
/// # Examples
///
/// ```
/// weft::run(async {
///     let mut tg = weft::TaskGroup::new();
///     tg.spawn(async { Err::<(), _>(std::fmt::Error) });
///     let err = tg.wait().await.unwrap_err();
///     assert_eq!(err.failures().len(), 1);
///     assert!(err.to_string().starts_with("1 task of the group failed: task "));
/// });
/// ```
pub struct GroupError<E> {
    failures: Vec<TaskFailure<E>>,
}

impl<E> GroupError<E> {
    /// Every failure, in the order they happened. The first is the one that made the group
    /// cancel the others.
    pub fn failures(&self) -> &[TaskFailure<E>] {
        &self.failures
    }

    /// Every failure, in the order they happened.
    pub fn into_failures(self) -> Vec<TaskFailure<E>> {
        self.failures
    }

    /// The errors the tasks returned (the panics left out), in order.
    pub fn errors(&self) -> impl Iterator<Item = &E> {
        self.failures.iter().filter_map(TaskFailure::as_error)
    }

    /// Whether a task panicked.
    pub fn has_panic(&self) -> bool {
        self.failures.iter().any(TaskFailure::is_panic)
    }

    /// The first failure: the one that made the group cancel the others.
    pub fn first(&self) -> &TaskFailure<E> {
        &self.failures[0]
    }
}

impl<E: fmt::Debug> fmt::Debug for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GroupError")
            .field("failures", &self.failures)
            .finish()
    }
}

impl<E: fmt::Display> fmt::Display for GroupError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.failures.len();
        let s = if n == 1 { "" } else { "s" };
        write!(f, "{n} task{s} of the group failed")?;
        for (i, failure) in self.failures.iter().enumerate() {
            let sep = if i == 0 { ": " } else { "; " };
            write!(f, "{sep}{failure}")?;
        }
        Ok(())
    }
}

impl<E: std::error::Error + 'static> std::error::Error for GroupError<E> {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.errors().next().map(|e| e as _)
    }
}
