//! The runtime check: `blocking_*` called on a thread that runs a runtime panics instead of
//! blocking it. The check is process-wide and the first one installed wins, so this file (its
//! own test binary) installs one: a thread-local flag standing for "this thread runs a
//! runtime", which each test sets on its own thread.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use weft_channel::{broadcast, coop, mpsc, oneshot};

thread_local! {
    static IN_RUNTIME: Cell<bool> = const { Cell::new(false) };
}

fn check() -> bool {
    IN_RUNTIME.with(Cell::get)
}

/// Installs the check and marks this thread as running a runtime.
fn enter_runtime() {
    coop::set_runtime_check(check);
    assert!(coop::has_runtime_check());
    IN_RUNTIME.with(|f| f.set(true));
}

const RECV_MSG: &str = "Cannot block the current thread from within a runtime: `blocking_recv` \
                        called from inside a weft runtime would block the runtime's thread (use \
                        `.await` instead)";

#[test]
#[should_panic(
    expected = "Cannot block the current thread from within a runtime: `blocking_send` called from inside a weft runtime would block the runtime's thread (use `.await` instead)"
)]
fn mpsc_blocking_send_panics() {
    enter_runtime();
    let (tx, _rx) = mpsc::channel(1);
    let _ = tx.blocking_send(1);
}

#[test]
#[should_panic(
    expected = "Cannot block the current thread from within a runtime: `blocking_recv` called from inside a weft runtime would block the runtime's thread (use `.await` instead)"
)]
fn mpsc_blocking_recv_panics() {
    enter_runtime();
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(1).unwrap(); // even with a value ready: the call itself is the bug
    let _ = rx.blocking_recv();
}

#[test]
#[should_panic(expected = "`blocking_recv` called from inside a weft runtime")]
fn unbounded_blocking_recv_panics() {
    enter_runtime();
    let (_tx, mut rx) = mpsc::unbounded_channel::<u8>();
    let _ = rx.blocking_recv();
}

#[test]
#[should_panic(expected = "`blocking_recv` called from inside a weft runtime")]
fn oneshot_blocking_recv_panics() {
    enter_runtime();
    let (_tx, rx) = oneshot::channel::<u8>();
    let _ = rx.blocking_recv();
}

#[test]
#[should_panic(expected = "`blocking_recv` called from inside a weft runtime")]
fn broadcast_blocking_recv_panics() {
    enter_runtime();
    let (_tx, mut rx) = broadcast::channel::<u8>(1);
    let _ = rx.blocking_recv();
}

#[test]
fn the_check_is_asked_per_thread_and_nothing_is_consumed() {
    enter_runtime();
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    let err = catch_unwind(AssertUnwindSafe(|| rx.blocking_recv())).unwrap_err();
    assert_eq!(
        err.downcast_ref::<String>().map(String::as_str),
        Some(RECV_MSG)
    );
    // A thread that runs no runtime (the check says `false` there) blocks as usual, and the
    // message refused above is still in the channel.
    let (tx, mut rx) = std::thread::spawn(move || {
        assert!(!check());
        assert_eq!(rx.blocking_recv(), Some(1));
        tx.blocking_send(2).unwrap();
        (tx, rx)
    })
    .join()
    .unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
    drop(tx);
}
