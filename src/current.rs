//! asyncio's `current_task` and `all_tasks`.

use weft_executor::metrics::TaskSnapshot;

/// The task being polled: its id, name, state (`Running`), priority and spawn location
/// (asyncio's `current_task()`). `None` outside a task, including in the future passed to
/// [`run`](crate::run), which is not a task.
///
/// It walks the runtime's task list; for the id alone, [`task::id`](crate::task::id) is
/// cheaper.
///
/// # Examples
///
/// ```
/// weft::run(async {
///     assert!(weft::current_task().is_none()); // the main future is not a task
///     let h = weft::task::Builder::new()
///         .name("worker")
///         .spawn(async { weft::current_task().unwrap() });
///     let me = h.await.unwrap();
///     assert_eq!(me.name.as_deref(), Some("worker"));
///     assert_eq!(me.state, weft::task::TaskState::Running);
/// });
/// ```
pub fn current_task() -> Option<TaskSnapshot> {
    let id = weft_executor::try_task_id()?;
    weft_executor::all_tasks().into_iter().find(|t| t.id == id)
}

/// Every unfinished task of the current runtime, with its id, name, state, priority and
/// spawn location (asyncio's `all_tasks()`, weft's task dump).
///
/// # Panics
///
/// If no weft runtime is running on this thread.
///
/// # Examples
///
/// ```
/// use weft::task::TaskState;
///
/// weft::run(async {
///     let h = weft::task::Builder::new()
///         .name("idle")
///         .spawn(std::future::pending::<()>());
///     weft::yield_now().await;
///     let tasks = weft::all_tasks();
///     assert_eq!(tasks.len(), 1);
///     assert_eq!(tasks[0].id, h.id());
///     assert_eq!(tasks[0].name.as_deref(), Some("idle"));
///     assert_eq!(tasks[0].state, TaskState::Suspended);
///     h.cancel();
/// });
/// ```
#[track_caller]
pub fn all_tasks() -> Vec<TaskSnapshot> {
    weft_executor::all_tasks()
}

/// The current runtime's task dump: a readable table of every unfinished task (id, name,
/// state, polls, poll time, time since its last wake, spawn location), as
/// [`Runtime::dump`](crate::Runtime::dump) renders it.
///
/// # Panics
///
/// If no weft runtime is running on this thread.
///
/// # Examples
///
/// ```
/// weft::run(async {
///     let h = weft::task::Builder::new()
///         .name("idle")
///         .spawn(std::future::pending::<()>());
///     weft::yield_now().await;
///     let table = weft::dump();
///     assert!(table.contains("idle") && table.contains("suspended"), "{table}");
///     h.cancel();
/// });
/// ```
#[track_caller]
pub fn dump() -> String {
    weft_executor::dump()
}

/// The current runtime's metrics, as [`Runtime::metrics`](crate::Runtime::metrics) reads
/// them (counters are zero unless the runtime was built with `Builder::metrics(true)`).
///
/// # Panics
///
/// If no weft runtime is running on this thread.
///
/// # Examples
///
/// ```
/// let rt = weft::Builder::new().metrics(true).build().unwrap();
/// rt.block_on(async {
///     weft::spawn(async { weft::yield_now().await }).await.unwrap();
///     let m = weft::runtime_metrics();
///     assert_eq!((m.tasks_spawned, m.polls, m.local_wakes), (1, 2, 1));
/// });
/// ```
#[track_caller]
pub fn runtime_metrics() -> crate::metrics::RuntimeMetrics {
    weft_executor::runtime_metrics()
}
