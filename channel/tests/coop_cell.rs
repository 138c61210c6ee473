//! The budget counter shared with `set_budget_cell` (how weft installs its budget): futures
//! check it inline, take one per operation, never take from "unconstrained", and yield when
//! it is spent. The counter is process-global, so this file installs one and every test here
//! runs with it.

use std::cell::Cell;
use std::ptr::NonNull;
use std::task::{Context, Poll};

use futures::task::noop_waker_ref;
use futures::FutureExt;
use weft_channel::{coop, mpsc, Mutex, Queue};

const UNCONSTRAINED: u32 = u32::MAX;

thread_local! {
    static BUDGET: Cell<u32> = const { Cell::new(UNCONSTRAINED) };
    static FETCHES: Cell<u32> = const { Cell::new(0) };
}

fn budget_cell() -> NonNull<Cell<u32>> {
    FETCHES.with(|f| f.set(f.get() + 1));
    BUDGET.with(|b| NonNull::from(b))
}

fn install() {
    // SAFETY: a destructor-free thread-local: valid while its thread runs, used only there.
    unsafe { coop::set_budget_cell(budget_cell) };
    assert!(coop::has_budget_hook());
}

fn budget() -> u32 {
    BUDGET.with(Cell::get)
}

fn set_budget(n: u32) {
    BUDGET.with(|b| b.set(n));
}

#[test]
fn each_operation_takes_one_and_unconstrained_is_never_taken_from() {
    install();
    let mut cx = Context::from_waker(noop_waker_ref());
    let (tx, mut rx) = mpsc::channel(8);
    set_budget(10);
    assert_eq!(tx.send(1).poll_unpin(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(budget(), 9);
    assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
    assert_eq!(budget(), 8);
    let m = Mutex::new(0);
    drop(Box::pin(m.lock()).poll_unpin(&mut cx));
    assert_eq!(budget(), 7);

    set_budget(UNCONSTRAINED);
    for i in 0..100 {
        assert_eq!(tx.send(i).poll_unpin(&mut cx), Poll::Ready(Ok(())));
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(i)));
    }
    assert_eq!(budget(), UNCONSTRAINED);
    // Fetched once for this thread, not per operation.
    assert_eq!(FETCHES.with(Cell::get), 1);
}

#[test]
fn spent_counter_makes_operations_pending_without_consuming() {
    install();
    let mut cx = Context::from_waker(noop_waker_ref());
    let (tx, mut rx) = mpsc::channel(8);
    let q = Queue::new(0);
    tx.try_send(1).unwrap();
    q.put_nowait(1).unwrap();

    set_budget(0);
    assert!(rx.poll_recv(&mut cx).is_pending());
    assert!(Box::pin(q.get()).poll_unpin(&mut cx).is_pending());
    let mut send = Box::pin(tx.send(2));
    assert!(send.poll_unpin(&mut cx).is_pending());
    assert_eq!(budget(), 0);
    assert_eq!(tx.capacity(), 7); // only the message sent before

    set_budget(5);
    assert_eq!(send.poll_unpin(&mut cx), Poll::Ready(Ok(())));
    assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
    assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(2)));
    assert_eq!(Box::pin(q.get()).poll_unpin(&mut cx), Poll::Ready(1));
    assert_eq!(budget(), 1);
    set_budget(UNCONSTRAINED);
}

#[test]
fn each_thread_has_its_own_counter() {
    install();
    set_budget(3);
    let other = std::thread::spawn(|| {
        let mut cx = Context::from_waker(noop_waker_ref());
        let (tx, mut rx) = mpsc::unbounded_channel();
        tx.send(1).unwrap();
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
        budget() // this thread's: unconstrained, untouched
    });
    assert_eq!(other.join().unwrap(), UNCONSTRAINED);
    assert_eq!(budget(), 3);
    set_budget(UNCONSTRAINED);
}
