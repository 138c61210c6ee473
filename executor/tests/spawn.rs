//! Spawning: nested, at scale, names and ids, and the clear panics of misuse.
mod common;

use std::panic::{self, AssertUnwindSafe};

use common::scaled;
use weft_executor::task::TaskState;
use weft_executor::{spawn, yield_now, Runtime};

#[test]
fn spawn_inside_spawn() {
    let rt = Runtime::new();
    let v = rt.block_on(async {
        spawn(async {
            let inner = spawn(async {
                let innermost = spawn(async { 3 });
                innermost.await.unwrap() * 2
            });
            inner.await.unwrap() + 1
        })
        .await
        .unwrap()
    });
    assert_eq!(v, 7);
}

#[test]
fn a_million_tasks() {
    let n = scaled(1_000_000);
    let rt = Runtime::new();
    let sum = rt.block_on(async move {
        let mut handles = Vec::with_capacity(1024);
        let mut sum = 0u64;
        for i in 0..n as u64 {
            handles.push(spawn(async move { i }));
            if handles.len() == 1024 {
                for h in handles.drain(..) {
                    sum += h.await.unwrap();
                }
            }
        }
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    let n = n as u64;
    assert_eq!(sum, n * (n - 1) / 2);
    assert_eq!(rt.alive_tasks(), 0);
}

#[test]
fn detached_tasks_run_to_completion() {
    let rt = Runtime::new();
    let count = std::rc::Rc::new(std::cell::Cell::new(0));
    rt.block_on(async {
        for _ in 0..100 {
            let c = count.clone();
            drop(spawn(async move {
                yield_now().await;
                c.set(c.get() + 1);
            }));
        }
        while count.get() < 100 {
            yield_now().await;
        }
    });
    assert_eq!(rt.alive_tasks(), 0);
}

#[test]
fn task_names_and_ids() {
    let rt = Runtime::new();
    rt.block_on(async {
        assert!(weft_executor::try_task_id().is_none());
        let h = weft_executor::TaskBuilder::new()
            .name("named")
            .spawn(async { (weft_executor::task_id(), weft_executor::task_name()) });
        let id = h.id();
        let (seen, name) = h.await.unwrap();
        assert_eq!(seen, id);
        assert_eq!(name.as_deref(), Some("named"));
        let anon = spawn(async { weft_executor::task_name() });
        assert_eq!(anon.await.unwrap(), None);
        let a = spawn(async {});
        let b = spawn(async {});
        assert_ne!(a.id(), b.id());
    });
}

#[test]
fn task_states_through_a_life() {
    let rt = Runtime::new();
    rt.block_on(async {
        let h = spawn(async {
            yield_now().await;
        });
        assert_eq!(h.state(), TaskState::Scheduled);
        yield_now().await;
        assert_eq!(h.state(), TaskState::Scheduled); // woke itself by yielding
        yield_now().await;
        assert_eq!(h.state(), TaskState::Completed);
        h.await.unwrap();
        let p = spawn(std::future::pending::<()>());
        yield_now().await;
        assert_eq!(p.state(), TaskState::Suspended);
        p.cancel();
        assert_eq!(p.state(), TaskState::Cancelled);
    });
}

#[test]
fn spawn_outside_a_runtime_panics_clearly() {
    let err = panic::catch_unwind(|| drop(spawn(async {}))).unwrap_err();
    let msg = err.downcast_ref::<String>().unwrap();
    assert!(msg.contains("no weft runtime is running"), "{msg}");
}

#[test]
fn nested_block_on_panics_clearly() {
    let rt = Runtime::new();
    let inner = Runtime::new();
    let r = rt.block_on(async {
        panic::catch_unwind(AssertUnwindSafe(|| inner.block_on(async {}))).unwrap_err()
    });
    let msg = r
        .downcast_ref::<&str>()
        .copied()
        .map(String::from)
        .or_else(|| r.downcast_ref::<String>().cloned())
        .unwrap();
    assert!(
        msg.contains("cannot block_on inside a weft runtime"),
        "{msg}"
    );
    // Both runtimes still work.
    assert_eq!(inner.block_on(async { 1 }), 1);
    assert_eq!(rt.block_on(async { 2 }), 2);
}

#[test]
fn runtime_spawn_outside_block_on_runs_at_next_block_on() {
    let rt = Runtime::new();
    let h = rt.spawn(async { 9 });
    assert!(!h.is_finished());
    assert_eq!(rt.block_on(h).unwrap(), 9);
}
