//! Tasks: spawning, handles, ids and names.

pub(crate) mod cache;
mod join;
pub(crate) mod raw;
pub(crate) mod state;
mod waker;

use std::fmt;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

pub use join::{AbortHandle, JoinError, JoinHandle};
pub use state::{Priority, TaskState};

use crate::runtime;

/// A task's id, unique among all tasks of the process.
///
/// # Examples
///
/// ```
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     let h = weft_executor::spawn(async { weft_executor::task::id() });
///     let id = h.id();
///     assert_eq!(h.await.unwrap(), id);
/// });
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub(crate) u64);

impl TaskId {
    /// The id as a number.
    pub fn as_u64(self) -> u64 {
        self.0
    }
}

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Spawns `fut` as a new task on the current runtime. The future need not be `Send`.
///
/// # Panics
///
/// If no weft runtime is running on this thread.
///
/// # Examples
///
/// ```
/// use std::rc::Rc;
///
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     let shared = Rc::new(5); // not Send, and that is fine
///     let s = shared.clone();
///     let h = weft_executor::spawn(async move { *s * 2 });
///     assert_eq!(h.await.unwrap(), 10);
/// });
/// ```
#[track_caller]
pub fn spawn<F: Future + 'static>(fut: F) -> JoinHandle<F::Output> {
    let location = Location::caller();
    runtime::expect_current("spawn", |core| {
        core.spawn(fut, None, Priority::Normal, location)
    })
}

/// Runs `f` on the runtime's blocking pool and returns a handle to its result (tokio's
/// `spawn_blocking`, asyncio's `to_thread`). A panic in `f` comes back as
/// `JoinError::Panic`. Cancelling the handle skips `f` if it has not started; a running `f`
/// cannot be interrupted and runs to its end.
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
///     let h = weft_executor::task::spawn_blocking(|| std::thread::current().name().map(String::from));
///     assert_eq!(h.await.unwrap().as_deref(), Some("weft-blocking"));
/// });
/// ```
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let location = Location::caller();
    runtime::expect_current("spawn_blocking", |core| core.spawn_blocking(f, location))
}

/// The id of the task being polled.
///
/// # Panics
///
/// Outside a task (see [`try_id`]).
#[track_caller]
pub fn id() -> TaskId {
    try_id().expect("weft::task::id() called outside a task")
}

/// The id of the task being polled, or `None` outside a task.
pub fn try_id() -> Option<TaskId> {
    runtime::with_current(|core| core.current_task().map(|t| core.task_id(t))).flatten()
}

/// The name of the task being polled, if it has one (see [`Builder::name`]).
///
/// # Examples
///
/// ```
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     let h = weft_executor::task::Builder::new()
///         .name("worker-1")
///         .spawn(async { weft_executor::task::name() });
///     assert_eq!(h.await.unwrap().as_deref(), Some("worker-1"));
/// });
/// ```
pub fn name() -> Option<Arc<str>> {
    runtime::with_current(|core| core.current_task().and_then(|t| core.task_name(t))).flatten()
}

/// Options for a task: name, priority.
///
/// # Examples
///
/// ```
/// use weft_executor::task::{Builder, Priority};
///
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     let h = Builder::new().name("io").priority(Priority::High).spawn(async { 1 });
///     assert_eq!(h.await.unwrap(), 1);
/// });
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a Builder does nothing until .spawn() is called"]
pub struct Builder {
    name: Option<Arc<str>>,
    priority: Priority,
}

impl Builder {
    /// A builder with no name and normal priority.
    pub fn new() -> Builder {
        Builder::default()
    }

    /// Names the task (shown in the task dump and by [`name`]).
    pub fn name(mut self, name: impl Into<Arc<str>>) -> Builder {
        self.name = Some(name.into());
        self
    }

    /// Sets the task's priority.
    pub fn priority(mut self, priority: Priority) -> Builder {
        self.priority = priority;
        self
    }

    /// Spawns `fut` with these options on the current runtime.
    ///
    /// # Panics
    ///
    /// If no weft runtime is running on this thread.
    #[track_caller]
    pub fn spawn<F: Future + 'static>(self, fut: F) -> JoinHandle<F::Output> {
        let location = Location::caller();
        runtime::expect_current("spawn", |core| {
            core.spawn(fut, self.name, self.priority, location)
        })
    }
}

/// Yields once: the task goes to the back of the run queue (asyncio's `sleep(0)`).
///
/// # Examples
///
/// ```
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     weft_executor::yield_now().await;
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// What the runtime knows about one live task (asyncio's `all_tasks`, a row of the task dump).
#[derive(Clone, Debug)]
pub struct TaskSnapshot {
    /// The task's id.
    pub id: TaskId,
    /// Its name, if it was given one.
    pub name: Option<Arc<str>>,
    /// Where it is in its life.
    pub state: TaskState,
    /// Its priority.
    pub priority: Priority,
    /// Where it was spawned.
    pub location: &'static Location<'static>,
    /// How many times it was polled.
    pub polls: u64,
    /// Total time spent in its polls (`None` unless the runtime is in debug mode).
    pub poll_time: Option<Duration>,
    /// Time since it was last woken (`None` unless debug mode, or a sampled wake with metrics
    /// on, stamped it).
    pub since_wake: Option<Duration>,
}

/// A snapshot of every unfinished task of the current runtime, in spawn-slot order.
///
/// # Panics
///
/// If no weft runtime is running on this thread.
///
/// # Examples
///
/// ```
/// use weft_executor::task::{self, TaskState};
///
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     let h = task::Builder::new().name("idle").spawn(std::future::pending::<()>());
///     weft_executor::yield_now().await;
///     let tasks = task::all_tasks();
///     assert_eq!(tasks.len(), 1);
///     assert_eq!(tasks[0].name.as_deref(), Some("idle"));
///     assert_eq!(tasks[0].state, TaskState::Suspended);
///     h.cancel();
/// });
/// ```
#[track_caller]
pub fn all_tasks() -> Vec<TaskSnapshot> {
    runtime::expect_current("all_tasks", |core| core.snapshot())
}

/// The task dump of the current runtime: a readable table of every live task (id, name,
/// state, polls, poll time, time since the last wake, spawn location).
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
///     let h = weft_executor::task::Builder::new()
///         .name("sleeper")
///         .spawn(std::future::pending::<()>());
///     weft_executor::yield_now().await;
///     let dump = weft_executor::task::dump();
///     assert!(dump.contains("sleeper"));
///     assert!(dump.contains("suspended"));
///     h.cancel();
/// });
/// ```
#[track_caller]
pub fn dump() -> String {
    runtime::expect_current("dump", |core| {
        crate::observe::dump::render(&core.snapshot())
    })
}
