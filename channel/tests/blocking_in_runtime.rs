//! `blocking_*` called on a thread that runs a weft runtime (its context entered, see
//! [`weft_core::context`]) panics instead of blocking it.

use std::panic::{catch_unwind, AssertUnwindSafe};

use weft_channel::{broadcast, mpsc, oneshot};
use weft_core::context::{self, RuntimeContext};

/// Runs `f` as if inside a weft runtime on this thread: its context is entered.
fn in_runtime<R>(f: impl FnOnce() -> R) -> R {
    RuntimeContext::new().enter(f)
}

const RECV_MSG: &str = "`blocking_recv` called from inside a weft runtime: this would block the \
                        runtime's thread (use `.await` instead)";

#[test]
#[should_panic(
    expected = "`blocking_send` called from inside a weft runtime: this would block the runtime's thread (use `.await` instead)"
)]
fn mpsc_blocking_send_panics() {
    in_runtime(|| {
        let (tx, _rx) = mpsc::channel(1);
        let _ = tx.blocking_send(1);
    })
}

#[test]
#[should_panic(
    expected = "`blocking_recv` called from inside a weft runtime: this would block the runtime's thread (use `.await` instead)"
)]
fn mpsc_blocking_recv_panics() {
    in_runtime(|| {
        let (tx, mut rx) = mpsc::channel(1);
        tx.try_send(1).unwrap(); // even with a value ready: the call itself is the bug
        let _ = rx.blocking_recv();
    })
}

#[test]
#[should_panic(expected = "`blocking_recv` called from inside a weft runtime")]
fn unbounded_blocking_recv_panics() {
    in_runtime(|| {
        let (_tx, mut rx) = mpsc::unbounded_channel::<u8>();
        let _ = rx.blocking_recv();
    })
}

#[test]
#[should_panic(expected = "`blocking_recv` called from inside a weft runtime")]
fn oneshot_blocking_recv_panics() {
    in_runtime(|| {
        let (_tx, rx) = oneshot::channel::<u8>();
        let _ = rx.blocking_recv();
    })
}

#[test]
#[should_panic(expected = "`blocking_recv` called from inside a weft runtime")]
fn broadcast_blocking_recv_panics() {
    in_runtime(|| {
        let (_tx, mut rx) = broadcast::channel::<u8>(1);
        let _ = rx.blocking_recv();
    })
}

#[test]
fn the_check_is_asked_per_thread_and_nothing_is_consumed() {
    in_runtime(|| {
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
            assert!(!context::in_runtime());
            assert_eq!(rx.blocking_recv(), Some(1));
            tx.blocking_send(2).unwrap();
            (tx, rx)
        })
        .join()
        .unwrap();
        assert_eq!(rx.try_recv(), Ok(2));
        drop(tx);
    })
}
