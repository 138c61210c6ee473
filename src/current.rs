//! asyncio's `current_task` and `all_tasks`.

use weft_executor::task::{self, TaskSnapshot};

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
    let id = task::try_id()?;
    task::all_tasks().into_iter().find(|t| t.id == id)
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
    task::all_tasks()
}
