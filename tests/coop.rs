//! The cooperative budget across the crates, on a real runtime: channel sends and receives
//! and lock acquisitions take from the task's budget (weft shares its budget counter with the
//! channel crate), so a task that never finds anything to wait for still lets others run.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

type Busy = Pin<Box<dyn Future<Output = u32>>>;

/// Runs `busy` (which never waits on its own and counts its operations until `flag` is set)
/// beside a task that sets `flag`, with a budget of 8 operations per poll; returns the count:
/// 9 when the budget works (8 in the first poll; the 9th yields, and completes once the other
/// task has run).
fn ops_before_the_other_task_runs(busy: fn(Rc<Cell<bool>>) -> Busy) -> u32 {
    let rt = weft::Builder::new().budget(8).build().unwrap();
    rt.block_on(async {
        let flag = Rc::new(Cell::new(false));
        let busy = weft::spawn(busy(flag.clone()));
        let other = weft::spawn(async move { flag.set(true) });
        let ops = busy.await.unwrap();
        other.await.unwrap();
        ops
    })
}

#[test]
fn a_producer_whose_channel_has_room_yields() {
    let ops = ops_before_the_other_task_runs(|flag| {
        Box::pin(async move {
            let (tx, _rx) = weft::sync::mpsc::channel(1_000);
            let mut ops = 0;
            while !flag.get() {
                assert!(ops < 100, "the producer never yielded");
                tx.send(ops).await.unwrap();
                ops += 1;
            }
            ops
        })
    });
    assert_eq!(ops, 9);
}

#[test]
fn a_consumer_with_messages_ready_yields() {
    let ops = ops_before_the_other_task_runs(|flag| {
        Box::pin(async move {
            let (tx, mut rx) = weft::sync::mpsc::unbounded_channel();
            for i in 0..1_000 {
                tx.send(i).unwrap();
            }
            let mut ops = 0;
            while !flag.get() {
                assert!(ops < 100, "the consumer never yielded");
                rx.recv().await.unwrap();
                ops += 1;
            }
            ops
        })
    });
    assert_eq!(ops, 9);
}

#[test]
fn a_task_whose_lock_is_free_yields() {
    let ops = ops_before_the_other_task_runs(|flag| {
        Box::pin(async move {
            let mutex = weft::sync::Mutex::new(0u32);
            let mut ops = 0;
            while !flag.get() {
                assert!(ops < 100, "the locking task never yielded");
                *mutex.lock().await += 1;
                ops += 1;
            }
            ops
        })
    });
    assert_eq!(ops, 9);
}

#[test]
fn a_main_future_that_only_yields_still_lets_the_driver_run() {
    // The main future wakes itself at every poll (yield_now) and no task is ready: the
    // runtime must still poll its driver now and then, or the timer that ends the loop
    // never fires. A real 1 ms timer; the loop is bounded by it, not by a count.
    weft::run(async {
        let done = Rc::new(Cell::new(false));
        let d = done.clone();
        let timer = weft::spawn(async move {
            weft::sleep(std::time::Duration::from_millis(1)).await;
            d.set(true);
        });
        while !done.get() {
            weft::yield_now().await;
        }
        timer.await.unwrap();
    });
}
