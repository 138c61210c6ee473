//! `TaskGroup`: every task waited for, the first failure cancels the rest, every failure is
//! reported, and dropping the group (or its waiter) cancels what is left.

use std::cell::Cell;
use std::future::pending;
use std::rc::Rc;

use weft::task::TaskState;
use weft::{yield_now, TaskFailure, TaskGroup};

/// Counts its drops.
struct DropCounter(Rc<Cell<usize>>);

impl Drop for DropCounter {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

/// Panics when dropped.
struct PanicOnDrop;

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("drop failed");
    }
}

async fn yields(n: usize) {
    for _ in 0..n {
        yield_now().await;
    }
}

#[test]
fn all_succeed() {
    weft::run(async {
        let mut tg = TaskGroup::<String>::new();
        assert!(tg.is_empty());
        let hs: Vec<_> = (0..5)
            .map(|i| {
                tg.create_task(async move {
                    yields(5 - i).await;
                    Ok(i * 10)
                })
            })
            .collect();
        assert_eq!(tg.len(), 5);
        tg.wait().await.unwrap();
        let outs = weft::gather(hs).await;
        let outs: Vec<_> = outs.into_iter().map(Result::unwrap).collect();
        assert_eq!(outs, [0, 10, 20, 30, 40]);
    });
}

#[test]
fn empty_group_waits_for_nothing() {
    weft::run(async {
        assert!(TaskGroup::<()>::new().wait().await.is_ok());
    });
}

#[test]
fn error_cancels_the_others() {
    let drops = Rc::new(Cell::new(0));
    let d = drops.clone();
    weft::run(async move {
        let mut tg = TaskGroup::new();
        let c = DropCounter(d.clone());
        let stuck = tg.create_task(async move {
            let _c = c;
            pending::<Result<(), &str>>().await
        });
        let done = tg.create_task(async { Ok(7) });
        let bad = tg.create_task(async {
            yields(2).await;
            Err::<(), _>("bad")
        });
        let bad_id = bad.id();
        let err = tg.wait().await.unwrap_err();
        assert_eq!(err.failures().len(), 1);
        assert_eq!(err.first().id(), bad_id);
        assert_eq!(err.errors().copied().collect::<Vec<_>>(), ["bad"]);
        assert!(!err.has_panic());
        assert_eq!(d.get(), 1, "the stuck task's future was dropped");
        assert!(stuck.await.unwrap_err().is_cancelled());
        assert_eq!(
            done.await.unwrap(),
            7,
            "a task that finished keeps its output"
        );
        // The failed task's error went to the group; its handle sees a cancellation.
        assert!(bad.is_cancelled());
        assert!(bad.await.unwrap_err().is_cancelled());
    });
    assert_eq!(drops.get(), 1);
}

#[test]
fn panic_is_a_failure() {
    weft::run(async {
        let mut tg = TaskGroup::<String>::new();
        let other = tg.create_task(async {
            yields(100).await;
            Ok(())
        });
        let p = tg.create_task(async {
            yield_now().await;
            panic!("kaboom") as Result<(), String>
        });
        let p_id = p.id();
        let err = tg.wait().await.unwrap_err();
        assert!(err.has_panic());
        assert_eq!(err.failures().len(), 1);
        match err.first() {
            TaskFailure::Panic(id, payload) => {
                assert_eq!(*id, p_id);
                assert_eq!(payload.downcast_ref::<&str>(), Some(&"kaboom"));
            }
            TaskFailure::Error(..) => panic!("expected a panic"),
        }
        assert_eq!(err.first().panic_message(), Some("kaboom"));
        assert_eq!(
            err.to_string(),
            format!("1 task of the group failed: task {p_id} panicked: kaboom")
        );
        assert!(other.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn every_failure_is_reported() {
    // The second failure happens while the first one cancels the others: a task whose
    // future panics when dropped. Neither is lost.
    weft::run(async {
        let mut tg = TaskGroup::new();
        let a = tg.create_task(async {
            let _p = PanicOnDrop;
            pending::<Result<(), String>>().await
        });
        let b = tg.create_task(async {
            yield_now().await;
            Err::<(), _>("first".to_owned())
        });
        let err = tg.wait().await.unwrap_err();
        let failures = err.into_failures();
        assert_eq!(failures.len(), 2, "{failures:?}");
        assert_eq!(failures[0].id(), b.id());
        assert_eq!(failures[0].as_error().map(String::as_str), Some("first"));
        assert_eq!(failures[1].id(), a.id());
        assert_eq!(failures[1].panic_message(), Some("drop failed"));
    });
}

#[test]
fn task_cancelled_by_its_handle_is_not_a_failure() {
    weft::run(async {
        let mut tg = TaskGroup::<()>::new();
        let h = tg.create_task(pending::<Result<(), ()>>());
        let ok = tg.create_task(async {
            yields(3).await;
            Ok(1)
        });
        yield_now().await;
        h.cancel();
        assert!(tg.wait().await.is_ok());
        assert_eq!(ok.await.unwrap(), 1);
        assert!(h.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn task_created_after_a_failure_is_cancelled_at_once() {
    weft::run(async {
        let mut tg = TaskGroup::new();
        tg.spawn(async { Err::<(), _>("no") });
        yield_now().await;
        assert!(tg.is_aborting());
        let ran = Rc::new(Cell::new(false));
        let r = ran.clone();
        let late = tg.create_task(async move {
            r.set(true);
            Ok(())
        });
        assert!(late.is_cancelled());
        let err = tg.wait().await.unwrap_err();
        assert_eq!(err.failures().len(), 1);
        assert!(!ran.get());
    });
}

#[test]
fn dropping_the_group_cancels_its_tasks() {
    let drops = Rc::new(Cell::new(0));
    let d = drops.clone();
    weft::run(async move {
        let mut tg = TaskGroup::<()>::new();
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let c = DropCounter(d.clone());
                tg.create_task(async move {
                    let _c = c;
                    pending::<Result<(), ()>>().await
                })
            })
            .collect();
        yield_now().await;
        assert!(hs.iter().all(|h| h.state() == TaskState::Suspended));
        drop(tg);
        assert_eq!(d.get(), 3);
        for h in hs {
            assert!(h.await.unwrap_err().is_cancelled());
        }
    });
    assert_eq!(drops.get(), 3);
}

#[test]
fn cancelling_the_waiter_cancels_the_group() {
    let drops = Rc::new(Cell::new(0));
    let d = drops.clone();
    weft::run(async move {
        let started = Rc::new(Cell::new(false));
        let s = started.clone();
        let waiter = weft::spawn(async move {
            let mut tg = TaskGroup::<()>::new();
            for _ in 0..2 {
                let c = DropCounter(d.clone());
                tg.spawn(async move {
                    let _c = c;
                    pending::<Result<(), ()>>().await
                });
            }
            s.set(true);
            tg.wait().await
        });
        yields(3).await;
        assert!(started.get());
        assert_eq!(weft::all_tasks().len(), 3);
        waiter.cancel();
        assert!(
            weft::all_tasks().is_empty(),
            "the group's tasks went with it"
        );
        assert!(waiter.await.unwrap_err().is_cancelled());
    });
    assert_eq!(drops.get(), 2);
}

#[test]
fn cancel_all_is_not_a_failure() {
    weft::run(async {
        let mut tg = TaskGroup::<()>::new();
        let h = tg.create_task(pending::<Result<(), ()>>());
        yield_now().await;
        tg.cancel_all();
        assert!(tg.is_aborting());
        assert!(tg.wait().await.is_ok());
        assert!(h.await.unwrap_err().is_cancelled());
    });
}

#[test]
fn runtime_shutdown_with_a_group_inside_a_task() {
    // The task that owns the group is dropped at shutdown, and the group cancels its
    // members from inside that drop.
    let drops = Rc::new(Cell::new(0));
    let rt = weft::Runtime::new().unwrap();
    let d = drops.clone();
    rt.block_on(async move {
        let owner = weft::spawn(async move {
            let mut tg = TaskGroup::<()>::new();
            for _ in 0..3 {
                let c = DropCounter(d.clone());
                tg.spawn(async move {
                    let _c = c;
                    pending::<Result<(), ()>>().await
                });
            }
            tg.wait().await
        });
        yields(2).await;
        drop(owner); // detach: the runtime still owns it
    });
    drop(rt);
    assert_eq!(drops.get(), 3);
}

#[test]
fn group_error_is_an_error() {
    fn takes_error(_: &dyn std::error::Error) {}
    weft::run(async {
        let mut tg = TaskGroup::new();
        tg.spawn(async { Err::<(), _>(std::fmt::Error) });
        let err = tg.wait().await.unwrap_err();
        takes_error(&err);
        assert!(std::error::Error::source(&err).is_some());
        assert!(format!("{err:?}").starts_with("GroupError { failures: [Error("));
    });
}
