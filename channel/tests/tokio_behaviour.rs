//! Behaviour weft's channels share with tokio's where they used to differ (issue 15): each
//! test states one promise.

use std::panic::{self, AssertUnwindSafe};
use std::pin::pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures::task::noop_waker_ref;
use weft_channel::{broadcast, mpsc};

/// Counts wakes; its `Arc`'s strong count tells how many wakers are alive.
#[derive(Default)]
struct Count(AtomicUsize);

impl Wake for Count {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn broadcast_waker_that_sends_in_its_drop_does_not_deadlock() {
    struct SendOnDrop(broadcast::Sender<u8>);
    impl Wake for SendOnDrop {
        fn wake(self: Arc<Self>) {}
    }
    impl Drop for SendOnDrop {
        fn drop(&mut self) {
            let _ = self.0.send(1);
        }
    }
    let (tx, mut rx) = broadcast::channel(4);
    let waker = Waker::from(Arc::new(SendOnDrop(tx.clone())));
    assert!(rx.poll_recv(&mut Context::from_waker(&waker)).is_pending());
    drop(waker);
    // Replacing the stored waker drops the last reference to it, which sends on the
    // channel: after this poll, not during it (no lock is held by then).
    let cx = &mut Context::from_waker(noop_waker_ref());
    assert!(rx.poll_recv(cx).is_pending());
    assert_eq!(rx.poll_recv(cx), Poll::Ready(Ok(1)));
}

#[test]
fn broadcast_panicking_clone_skips_that_value_only() {
    #[derive(Debug, PartialEq)]
    struct V(u8);
    impl Clone for V {
        fn clone(&self) -> V {
            assert_ne!(self.0, 0, "clone of 0");
            V(self.0)
        }
    }
    let (tx, mut rx) = broadcast::channel(4);
    tx.send(V(0)).unwrap();
    tx.send(V(1)).unwrap();
    assert!(panic::catch_unwind(AssertUnwindSafe(|| rx.try_recv())).is_err());
    assert_eq!(rx.try_recv(), Ok(V(1)));
}

#[test]
fn broadcast_values_go_when_every_receiver_has_them_or_is_gone() {
    let value = Arc::new(());
    let (tx, mut rx1) = broadcast::channel(4);
    let rx2 = tx.subscribe();
    tx.send(value.clone()).unwrap();
    assert_eq!(tx.len(), 1);
    rx1.try_recv().unwrap();
    assert_eq!(tx.len(), 1, "rx2 has not seen it");
    assert_eq!(Arc::strong_count(&value), 2);
    drop(rx2);
    assert_eq!(tx.len(), 0);
    assert_eq!(
        Arc::strong_count(&value),
        1,
        "the last receiver's drop drops it"
    );
}

#[test]
fn broadcast_receiver_len_counts_lagged_values() {
    let (tx, rx) = broadcast::channel(2);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 5); // more than the capacity: three were lost
}

#[test]
fn broadcast_closed_waits_for_the_last_receiver() {
    let tx = broadcast::Sender::<u8>::new(2);
    assert!(futures::executor::block_on(futures::future::poll_fn(
        |cx| { Poll::Ready(pin!(tx.closed()).poll(cx).is_ready()) }
    )));
    let rx = tx.subscribe();
    let mut closed = pin!(tx.closed());
    let count = Arc::new(Count::default());
    let waker = Waker::from(count.clone());
    assert!(closed
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(rx);
    assert_eq!(count.0.load(SeqCst), 1);
    assert!(closed.poll(&mut Context::from_waker(&waker)).is_ready());
}

use std::future::Future;

#[test]
fn mpsc_drop_that_panics_does_not_leak_the_rest() {
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct D(bool);
    impl Drop for D {
        fn drop(&mut self) {
            DROPS.fetch_add(1, SeqCst);
            assert!(!self.0, "drop panics");
        }
    }
    let (tx, rx) = mpsc::unbounded_channel();
    tx.send(D(true)).unwrap();
    tx.send(D(false)).unwrap();
    tx.send(D(false)).unwrap();
    assert!(panic::catch_unwind(AssertUnwindSafe(move || drop(rx))).is_err());
    assert_eq!(DROPS.load(SeqCst), 3);
    let (tx, rx) = mpsc::channel(4);
    tx.try_send(D(true)).unwrap();
    tx.try_send(D(false)).unwrap();
    assert!(panic::catch_unwind(AssertUnwindSafe(move || drop(rx))).is_err());
    assert_eq!(DROPS.load(SeqCst), 5);
}

#[test]
fn mpsc_dropped_receiver_drops_its_waker() {
    let count = Arc::new(Count::default());
    let waker = Waker::from(count.clone());
    let (_tx, mut rx) = mpsc::channel::<()>(1);
    assert!(rx.poll_recv(&mut Context::from_waker(&waker)).is_pending());
    assert_eq!(Arc::strong_count(&count), 3);
    drop(rx);
    assert_eq!(Arc::strong_count(&count), 2);
    let (_tx, mut rx) = mpsc::unbounded_channel::<()>();
    assert!(rx.poll_recv(&mut Context::from_waker(&waker)).is_pending());
    drop(rx);
    assert_eq!(Arc::strong_count(&count), 2);
}

#[test]
fn mpsc_panicking_receiver_waker_keeps_the_message() {
    struct Panics;
    impl Wake for Panics {
        fn wake(self: Arc<Self>) {
            panic!("waker panics");
        }
    }
    let (tx, mut rx) = mpsc::channel(1);
    let waker = Waker::from(Arc::new(Panics));
    assert!(rx.poll_recv(&mut Context::from_waker(&waker)).is_pending());
    let permit = tx.try_reserve().unwrap();
    assert!(panic::catch_unwind(AssertUnwindSafe(|| permit.send(7))).is_err());
    assert_eq!(tx.capacity(), 0);
    assert_eq!(rx.try_recv(), Ok(7));
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn mpsc_reserve_many_holds_its_place_and_gives_back_on_close() {
    let (tx, mut rx) = mpsc::channel::<()>(2);
    let one = tx.try_reserve().unwrap();
    let mut many = pin!(tx.reserve_many(2));
    let cx = &mut Context::from_waker(noop_waker_ref());
    assert!(many.as_mut().poll(cx).is_pending()); // got the free unit, waits for one more
    assert!(
        tx.try_reserve().is_err(),
        "no barging past the queued reservation"
    );
    rx.close();
    let count = Arc::new(Count::default());
    let waker = Waker::from(count.clone());
    let mut recv = pin!(rx.recv());
    assert!(recv
        .as_mut()
        .poll(&mut Context::from_waker(&waker))
        .is_pending());
    drop(one);
    assert_eq!(
        count.0.load(SeqCst),
        0,
        "a unit is still held by the reservation"
    );
    assert!(matches!(many.as_mut().poll(cx), Poll::Ready(Err(_))));
    assert_eq!(
        count.0.load(SeqCst),
        1,
        "its unit came back: the channel is idle"
    );
    assert_eq!(
        recv.poll(&mut Context::from_waker(&waker)),
        Poll::Ready(None)
    );
}
