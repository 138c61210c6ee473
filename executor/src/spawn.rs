//! The public task functions: spawn on the runtime running on this thread, and look at it.

use std::future::Future;
use std::panic::Location;
use std::sync::Arc;

use crate::observe::{dump, RuntimeMetrics, TaskSnapshot};
use crate::scheduler::{expect_current, with_current};
use crate::task::{JoinHandle, Priority, TaskId};

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
    expect_current("spawn", |s| s.spawn(fut, None, Priority::Normal, location))
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
///     let h = weft_executor::spawn_blocking(|| std::thread::current().name().map(String::from));
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
    expect_current("spawn_blocking", |s| s.spawn_blocking(f, location))
}

/// The id of the task being polled.
///
/// # Panics
///
/// Outside a task (see [`try_task_id`]).
#[track_caller]
pub fn task_id() -> TaskId {
    try_task_id().expect("weft::task::id() called outside a task")
}

/// The id of the task being polled, or `None` outside a task.
///
/// # Examples
///
/// ```
/// assert_eq!(weft_executor::try_task_id(), None);
/// ```
pub fn try_task_id() -> Option<TaskId> {
    with_current(|s| s.current.get().id()).flatten()
}

/// The name of the task being polled, if it has one (see [`TaskBuilder::name`]).
///
/// # Examples
///
/// ```
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     let h = weft_executor::TaskBuilder::new()
///         .name("worker-1")
///         .spawn(async { weft_executor::task_name() });
///     assert_eq!(h.await.unwrap().as_deref(), Some("worker-1"));
/// });
/// ```
pub fn task_name() -> Option<Arc<str>> {
    with_current(|s| {
        let slot = s.current.get().slot()?;
        s.owned.borrow().get(slot)?.name().cloned()
    })
    .flatten()
}

/// Options for a task: name, priority.
///
/// # Examples
///
/// ```
/// use weft_executor::{task::Priority, TaskBuilder};
///
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     let h = TaskBuilder::new().name("io").priority(Priority::High).spawn(async { 1 });
///     assert_eq!(h.await.unwrap(), 1);
/// });
/// ```
#[derive(Clone, Debug, Default)]
#[must_use = "a TaskBuilder does nothing until .spawn() is called"]
pub struct TaskBuilder {
    name: Option<Arc<str>>,
    priority: Priority,
}

impl TaskBuilder {
    /// A builder with no name and normal priority.
    pub fn new() -> TaskBuilder {
        TaskBuilder::default()
    }

    /// Names the task (shown in the task dump and by [`task_name`]).
    pub fn name(mut self, name: impl Into<Arc<str>>) -> TaskBuilder {
        self.name = Some(name.into());
        self
    }

    /// Sets the task's priority.
    pub fn priority(mut self, priority: Priority) -> TaskBuilder {
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
        expect_current("spawn", |s| {
            s.spawn(fut, self.name, self.priority, location)
        })
    }
}

/// A snapshot of every unfinished task of the current runtime, in owned-list order.
///
/// # Panics
///
/// If no weft runtime is running on this thread.
///
/// # Examples
///
/// ```
/// use weft_executor::task::TaskState;
///
/// let rt = weft_executor::Runtime::new();
/// rt.block_on(async {
///     let h = weft_executor::TaskBuilder::new().name("idle").spawn(std::future::pending::<()>());
///     weft_executor::yield_now().await;
///     let tasks = weft_executor::all_tasks();
///     assert_eq!(tasks.len(), 1);
///     assert_eq!(tasks[0].name.as_deref(), Some("idle"));
///     assert_eq!(tasks[0].state, TaskState::Suspended);
///     h.cancel();
/// });
/// ```
#[track_caller]
pub fn all_tasks() -> Vec<TaskSnapshot> {
    expect_current("all_tasks", |s| s.snapshot())
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
///     let h = weft_executor::TaskBuilder::new()
///         .name("sleeper")
///         .spawn(std::future::pending::<()>());
///     weft_executor::yield_now().await;
///     let dump = weft_executor::dump();
///     assert!(dump.contains("sleeper"));
///     assert!(dump.contains("suspended"));
///     h.cancel();
/// });
/// ```
#[track_caller]
pub fn dump() -> String {
    expect_current("dump", |s| dump::render(&s.snapshot()))
}

/// The metrics of the runtime running on this thread (see [`Runtime::metrics`]; tokio's is
/// `Handle::current().metrics()`).
///
/// [`Runtime::metrics`]: crate::Runtime::metrics
///
/// # Panics
///
/// If no weft runtime is running on this thread.
///
/// # Examples
///
/// ```
/// let mut config = weft_executor::Config::default();
/// config.metrics = true;
/// let rt = weft_executor::Runtime::with_config(weft_executor::park::ThreadPark::new(), config);
/// rt.block_on(async {
///     weft_executor::spawn(async {}).await.unwrap();
///     let m = weft_executor::runtime_metrics();
///     assert_eq!((m.tasks_spawned, m.tasks_completed, m.polls), (1, 1, 1));
/// });
/// ```
#[track_caller]
pub fn runtime_metrics() -> RuntimeMetrics {
    expect_current("metrics", |s| s.metrics())
}
