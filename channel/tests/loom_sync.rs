//! loom models of `Notify`, `Semaphore` (and `Mutex` on it), `watch` and `broadcast`.
//! `RUSTFLAGS="--cfg weft_loom" cargo test -p weft-channel --test loom_sync --release`.
#![cfg(weft_loom)]

mod loom_support;

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll};

use futures::task::noop_waker_ref;

use loom::sync::Arc;
use loom::thread;
use loom_support::{block_on, model};
use weft_channel::{broadcast, watch, Mutex, Notify, Semaphore};

/// Polls `f` once with a waker that does nothing.
fn poll_once<F: Future>(f: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    f.poll(&mut Context::from_waker(noop_waker_ref()))
}

/// `notify_one` from another thread wakes a parked `notified()`.
#[test]
fn notify_one_wakes_a_waiter() {
    model("notify notify_one_wakes_a_waiter", || {
        let n = Arc::new(Notify::new());
        let t = {
            let n = n.clone();
            thread::spawn(move || n.notify_one())
        };
        block_on(n.notified());
        t.join().unwrap();
    });
}

/// `notify_one` races the drop of a registered `Notified`: the notification is not lost (a
/// dropped waiter that was chosen hands it on), so a later `notified()` completes.
#[test]
fn notify_one_vs_dropped_notified() {
    model("notify notify_one_vs_dropped_notified", || {
        let n = Arc::new(Notify::new());
        {
            let mut f = Box::pin(n.notified());
            f.as_mut().enable(); // registered: `notify_one` may choose it
            let t = {
                let n = n.clone();
                thread::spawn(move || n.notify_one())
            };
            if poll_once(f.as_mut()).is_ready() {
                t.join().unwrap();
                return; // it took the notification itself
            }
            drop(f); // races the notification
            t.join().unwrap();
        }
        // Dropped before (or after) being chosen: the permit must still be there.
        assert!(
            poll_once(pin!(n.notified())).is_ready(),
            "notification lost"
        );
    });
}

/// Two tasks on two threads increment under the `Mutex` (a semaphore of one permit): the data
/// (a loom-checked cell) is never touched by both at once, and no increment is lost.
#[test]
fn semaphore_mutex_excludes() {
    model("semaphore semaphore_mutex_excludes", || {
        let m = Arc::new(Mutex::new(0u32));
        let t = {
            let m = m.clone();
            thread::spawn(move || block_on(async { *m.lock().await += 1 }))
        };
        block_on(async { *m.lock().await += 1 });
        t.join().unwrap();
        assert_eq!(*block_on(m.lock()), 2);
    });
}

/// `close` from another thread wakes an `acquire` parked on an empty semaphore with an error.
#[test]
fn semaphore_close_wakes_acquire() {
    model("semaphore semaphore_close_wakes_acquire", || {
        let s = Arc::new(Semaphore::new(0));
        let t = {
            let s = s.clone();
            thread::spawn(move || s.close())
        };
        assert!(block_on(s.acquire()).is_err());
        t.join().unwrap();
    });
}

/// A pending `acquire` is dropped while another thread releases a permit: the permit is not
/// lost with the dropped waiter.
#[test]
fn semaphore_dropped_acquire_keeps_the_permit() {
    model(
        "semaphore semaphore_dropped_acquire_keeps_the_permit",
        || {
            let s = Arc::new(Semaphore::new(0));
            let t = {
                let s = s.clone();
                thread::spawn(move || s.add_permits(1))
            };
            {
                let mut f = pin!(s.acquire());
                if let Poll::Ready(p) = poll_once(f.as_mut()) {
                    drop(p.unwrap()); // it got the permit; dropping the permit gives it back
                }
            }
            t.join().unwrap();
            assert_eq!(s.available_permits(), 1, "a permit was lost");
        },
    );
}

/// A watch sender on another thread that publishes `values` in order, then stays alive until
/// the receiver says (on the returned channel) that it saw the last one: its drop wakes the
/// receiver too, and must not stand in for a missing wake of `send`.
fn publisher(
    tx: watch::Sender<u32>,
    values: &'static [u32],
) -> (loom::sync::mpsc::Sender<()>, thread::JoinHandle<()>) {
    let (seen_tx, seen_rx) = loom::sync::mpsc::channel::<()>();
    let t = thread::spawn(move || {
        for &v in values {
            tx.send(v).unwrap();
        }
        seen_rx.recv().unwrap();
    });
    (seen_tx, t)
}

/// `watch`: a sender on another thread publishes twice and leaves; the receiver sees a change,
/// ends on the last value, then gets an error.
#[test]
fn watch_changed_and_close() {
    model("watch watch_changed_and_close", || {
        let (tx, mut rx) = watch::channel(0u32);
        let (seen_tx, t) = publisher(tx, &[1, 2]);
        block_on(rx.changed()).unwrap();
        let mut seen = *rx.borrow_and_update();
        assert!(seen == 1 || seen == 2);
        while seen != 2 {
            block_on(rx.changed()).unwrap();
            seen = *rx.borrow_and_update();
        }
        seen_tx.send(()).unwrap();
        assert!(block_on(rx.changed()).is_err());
        assert_eq!(*rx.borrow(), 2);
        t.join().unwrap();
    });
}

/// `watch`: a receiver's `changed()` is polled with one waker, then waits with another
/// while a sender on another thread publishes: the receiver's slot must wake the second
/// waker (the one it waits with), not the first.
#[test]
fn watch_changed_moves_to_a_new_waker() {
    model("watch watch_changed_moves_to_a_new_waker", || {
        let (tx, mut rx) = watch::channel(0u32);
        let (seen_tx, t) = publisher(tx, &[1]);
        {
            let mut f = pin!(rx.changed());
            // First polled with a waker that does nothing (the slot takes it), then waited on.
            if poll_once(f.as_mut()).is_pending() {
                block_on(f).unwrap();
            }
        }
        assert_eq!(*rx.borrow_and_update(), 1);
        seen_tx.send(()).unwrap();
        t.join().unwrap();
    });
}

/// `watch`: a receiver that has waited before (its slot registered, then disarmed by the
/// send it saw) waits again while a sender on another thread publishes. Arming the slot and
/// publishing race with no lock between them: either the sender's disarming swap reads the
/// slot armed (and wakes it), or the receiver's arming swap reads the sender's disarming and
/// its check after arming sees the new version (the argument in `watch.rs`'s `changed`).
#[test]
fn watch_send_races_a_rearm() {
    model("watch watch_send_races_a_rearm", || {
        let (tx, mut rx) = watch::channel(0u32);
        {
            let mut f = pin!(rx.changed());
            assert!(poll_once(f.as_mut()).is_pending()); // registered and armed
        }
        tx.send(1).unwrap(); // disarms the slot
        assert_eq!(*rx.borrow_and_update(), 1);
        let (seen_tx, t) = publisher(tx, &[2]);
        block_on(rx.changed()).unwrap();
        assert_eq!(*rx.borrow_and_update(), 2);
        seen_tx.send(()).unwrap();
        t.join().unwrap();
    });
}

/// `broadcast`: a sender on another thread sends three values into a channel of two; the
/// receiver parks, gets what it gets in order (or a lag), then `Closed`.
#[test]
fn broadcast_send_vs_lagging_receive_vs_drop() {
    model(
        "broadcast broadcast_send_vs_lagging_receive_vs_drop",
        || {
            let (tx, mut rx) = broadcast::channel::<u32>(2);
            // The sender stays alive until the receiver got the last value, so that its drop
            // (which wakes the receiver too) cannot hide a missing wake of `send`.
            let (seen_tx, seen_rx) = loom::sync::mpsc::channel::<()>();
            let t = thread::spawn(move || {
                for v in 1..=3 {
                    tx.send(v).unwrap();
                }
                seen_rx.recv().unwrap();
            });
            let mut last = 0;
            while last != 3 {
                match block_on(rx.recv()) {
                    Ok(v) => {
                        assert!(v > last, "out of order: {v} after {last}");
                        last = v;
                    }
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => {
                        panic!("closed before the last value")
                    }
                }
            }
            seen_tx.send(()).unwrap();
            assert!(matches!(
                block_on(rx.recv()),
                Err(broadcast::error::RecvError::Closed)
            ));
            t.join().unwrap();
        },
    );
}
