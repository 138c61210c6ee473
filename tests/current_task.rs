//! `current_task` and `all_tasks`: id, name and state of each task.

use std::future::pending;

use weft::task::{Builder, TaskState};

#[test]
fn current_task_inside_and_outside_tasks() {
    weft::run(async {
        assert!(weft::current_task().is_none(), "the main future is no task");
        let h = Builder::new()
            .name("me")
            .spawn(async { weft::current_task().unwrap() });
        let id = h.id();
        let me = h.await.unwrap();
        assert_eq!(me.id, id);
        assert_eq!(me.name.as_deref(), Some("me"));
        assert_eq!(me.state, TaskState::Running);
        let anon = weft::spawn(async { weft::current_task().unwrap().name })
            .await
            .unwrap();
        assert!(anon.is_none());
    });
}

#[test]
fn current_task_outside_a_runtime() {
    assert!(weft::current_task().is_none());
}

#[test]
fn all_tasks_lists_every_unfinished_task() {
    weft::run(async {
        assert!(weft::all_tasks().is_empty());
        let a = Builder::new().name("a").spawn(pending::<()>());
        let b = weft::spawn(pending::<()>());
        let tasks = weft::all_tasks();
        assert_eq!(tasks.len(), 2);
        assert_eq!(tasks[0].id, a.id());
        assert_eq!(tasks[0].state, TaskState::Scheduled);
        weft::yield_now().await;
        let tasks = weft::all_tasks();
        assert!(tasks.iter().all(|t| t.state == TaskState::Suspended));
        let names: Vec<_> = tasks.iter().map(|t| t.name.as_deref()).collect();
        assert_eq!(names, [Some("a"), None]);
        a.cancel();
        let tasks = weft::all_tasks();
        assert_eq!(tasks.len(), 1);
        assert_eq!(tasks[0].id, b.id());
        b.cancel();
    });
}
