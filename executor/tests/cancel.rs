//! `JoinHandle::cancel` in every phase of a task's life.
mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::{DropCounter, Gate};
use weft_executor::task::TaskState;
use weft_executor::{spawn, yield_now, JoinHandle, Runtime};

#[test]
fn cancel_before_first_poll() {
    let rt = Runtime::new();
    let drops = Arc::new(AtomicUsize::new(0));
    let polled = Rc::new(Cell::new(false));
    rt.block_on(async {
        let d = DropCounter(drops.clone());
        let p = polled.clone();
        let h = spawn(async move {
            let _d = d;
            p.set(true);
        });
        assert_eq!(h.state(), TaskState::Scheduled);
        h.cancel();
        // Dropped at once, not at the next tick.
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        assert!(h.is_finished());
        assert!(h.is_cancelled());
        assert_eq!(h.state(), TaskState::Cancelled);
        assert!(h.await.unwrap_err().is_cancelled());
    });
    assert!(!polled.get());
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(rt.alive_tasks(), 0);
}

#[test]
fn cancel_while_suspended() {
    let rt = Runtime::new();
    let drops = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let gate = Gate::default();
        let d = DropCounter(drops.clone());
        let g = gate.clone();
        let h = spawn(async move {
            let _d = d;
            g.wait().await;
            unreachable!("the gate never opens");
        });
        yield_now().await;
        assert_eq!(h.state(), TaskState::Suspended);
        assert!(gate.waker().is_some());
        h.cancel();
        assert_eq!(drops.load(Ordering::SeqCst), 1);
        // A wake of the cancelled task does nothing.
        gate.release();
        assert!(h.await.unwrap_err().is_cancelled());
    });
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn cancel_while_running_from_inside_its_own_poll() {
    let rt = Runtime::new();
    let drops = Arc::new(AtomicUsize::new(0));
    let after_cancel = Rc::new(Cell::new(0));
    rt.block_on(async {
        let slot: Rc<Cell<Option<JoinHandle<()>>>> = Rc::new(Cell::new(None));
        let s = slot.clone();
        let d = DropCounter(drops.clone());
        let a = after_cancel.clone();
        let h = spawn(async move {
            let _d = d;
            yield_now().await;
            let me = s.take().expect("handle stored before the second poll");
            me.cancel();
            // Still running this poll: the future is dropped when it returns.
            assert_eq!(me.state(), TaskState::Running);
            assert!(!me.is_finished());
            s.set(Some(me));
            a.set(a.get() + 1);
            yield_now().await;
            a.set(a.get() + 100); // never reached
        });
        slot.set(Some(h));
        for _ in 0..4 {
            yield_now().await;
        }
        let h = slot.take().unwrap();
        assert!(h.is_cancelled());
        assert!(h.await.unwrap_err().is_cancelled());
    });
    assert_eq!(after_cancel.get(), 1);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

#[test]
fn cancel_after_completion_keeps_output() {
    let rt = Runtime::new();
    rt.block_on(async {
        let h = spawn(async { 3 });
        yield_now().await;
        assert!(h.is_finished());
        h.cancel();
        assert!(!h.is_cancelled());
        assert_eq!(h.await.unwrap(), 3);
    });
}

#[test]
fn cancel_from_outside_block_on() {
    let rt = Runtime::new();
    let drops = Arc::new(AtomicUsize::new(0));
    let d = DropCounter(drops.clone());
    let h = rt.spawn(async move {
        let _d = d;
        std::future::pending::<()>().await
    });
    rt.block_on(yield_now());
    assert_eq!(rt.alive_tasks(), 1);
    h.cancel();
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert!(h.is_cancelled());
    // The runtime lets go of its bookkeeping on its next turn.
    rt.block_on(yield_now());
    assert_eq!(rt.alive_tasks(), 0);
    rt.block_on(async move { assert!(h.await.unwrap_err().is_cancelled()) });
}

#[test]
fn cancel_wakes_the_awaiter() {
    let rt = Runtime::new();
    rt.block_on(async {
        let target = spawn(std::future::pending::<u8>());
        let abort = target.abort_handle();
        let awaiter = spawn(async move { target.await.unwrap_err().is_cancelled() });
        yield_now().await; // the awaiter is now suspended on the target
        abort.cancel();
        assert!(awaiter.await.unwrap());
        assert!(abort.is_finished());
    });
}
