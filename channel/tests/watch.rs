//! watch: latest value, borrow, changed, coalescing.

mod common;

use std::future::Future;

use common::{counter, scale};
use futures::executor::block_on;
use weft_channel::watch;

#[test]
fn changes_coalesce() {
    let (tx, mut rx) = watch::channel(0);
    for i in 1..=10 {
        tx.send(i).unwrap();
    }
    assert!(rx.has_changed().unwrap());
    block_on(rx.changed()).unwrap();
    assert_eq!(*rx.borrow(), 10);
    assert!(!rx.has_changed().unwrap());
    // No new change: `changed` would wait.
    let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
    let mut fut = Box::pin(rx.changed());
    assert!(fut.as_mut().poll(&mut cx).is_pending());
    tx.send(11).unwrap();
    assert!(fut.as_mut().poll(&mut cx).is_ready());
    drop(fut);
    assert_eq!(*rx.borrow_and_update(), 11);
}

#[test]
fn sender_drop_ends_changed_after_last_value() {
    let (tx, mut rx) = watch::channel(1);
    tx.send(2).unwrap();
    drop(tx);
    assert!(block_on(rx.changed()).is_ok()); // the unseen value first
    assert!(block_on(rx.changed()).is_err());
    assert_eq!(*rx.borrow(), 2);
}

#[test]
fn modify_and_closed() {
    let (tx, rx) = watch::channel(vec![1]);
    assert!(!tx.send_if_modified(|_| false));
    tx.send_modify(|v| v.push(2));
    assert_eq!(*rx.borrow(), [1, 2]);
    let rx2 = rx.clone();
    assert_eq!(tx.receiver_count(), 2);
    drop((rx, rx2));
    block_on(tx.closed());
    assert!(tx.send(vec![]).is_err());
    assert_eq!(tx.send_replace(vec![3]), [1, 2]);
}

#[test]
fn observer_thread_sees_monotonic_values_ending_with_last() {
    let count = scale(20_000, 50);
    let (tx, mut rx) = watch::channel(0usize);
    let observer = std::thread::spawn(move || {
        block_on(async {
            let mut last = 0;
            let mut wakeups = 0;
            while rx.changed().await.is_ok() {
                let v = *rx.borrow_and_update();
                assert!(v >= last);
                last = v;
                wakeups += 1;
            }
            (last, wakeups)
        })
    });
    for i in 1..=count {
        tx.send(i).unwrap();
    }
    drop(tx);
    let (last, wakeups) = observer.join().unwrap();
    assert_eq!(last, count);
    assert!(wakeups <= count);
}

#[test]
fn wait_for_condition() {
    let (tx, mut rx) = watch::channel(0);
    let t = std::thread::spawn(move || {
        for i in 1..=scale(100, 5) {
            tx.send(i).unwrap();
        }
    });
    let target = scale(100, 5);
    assert_eq!(*block_on(rx.wait_for(|v| *v == target)).unwrap(), target);
    t.join().unwrap();
}

/// A `select!` loop's pattern: `changed()` polled (pending) and dropped, turn after turn. A
/// send wakes the task that waited last at most once (the slot stays armed after the drop,
/// as the module's docs say), the next send not at all, and a new wait sees the change.
#[test]
fn a_dropped_changed_is_woken_at_most_once() {
    let (tx, mut rx) = watch::channel(0);
    let (count, waker) = counter();
    let mut cx = std::task::Context::from_waker(&waker);
    for _ in 0..100 {
        let mut fut = Box::pin(rx.changed());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
    }
    assert_eq!(count.wakes(), 0);
    tx.send(1).unwrap();
    assert_eq!(count.wakes(), 1, "the last wait's slot was still armed");
    tx.send(2).unwrap();
    assert_eq!(count.wakes(), 1, "disarmed by the first send");
    let mut fut = Box::pin(rx.changed());
    assert!(fut.as_mut().poll(&mut cx).is_ready());
    drop(fut);
    assert_eq!(*rx.borrow(), 2);
}

/// Each receiver that waited holds a slot with a clone of its waker until the receiver is
/// dropped; then the slot and the clone go. Many receivers come and go: nothing is left.
#[test]
fn dropped_receivers_leave_no_waker_behind() {
    let (tx, rx) = watch::channel(0);
    let (count, waker) = counter();
    let mut cx = std::task::Context::from_waker(&waker);
    for _ in 0..scale(1_000, 20) {
        let mut r = rx.clone();
        let mut fut = Box::pin(r.changed());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        drop(fut);
        // The slot's clone, and the receiver's own copy to compare with the next waker.
        assert_eq!(std::sync::Arc::strong_count(&count), 4);
    }
    assert_eq!(std::sync::Arc::strong_count(&count), 2, "ours and `waker`");
    tx.send(1).unwrap();
    assert_eq!(count.wakes(), 0, "no slot of a dropped receiver is woken");
}

/// A receiver moved to another task waits with that task's waker: the send wakes the new
/// waker, not the old one.
#[test]
fn a_wait_with_a_new_waker_wakes_the_new_one() {
    let (tx, mut rx) = watch::channel(0);
    let (old, old_waker) = counter();
    let (new, new_waker) = counter();
    {
        let mut fut = Box::pin(rx.changed());
        let mut cx = std::task::Context::from_waker(&old_waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        let mut cx = std::task::Context::from_waker(&new_waker);
        assert!(fut.as_mut().poll(&mut cx).is_pending());
    }
    tx.send(1).unwrap();
    assert_eq!((old.wakes(), new.wakes()), (0, 1));
}
