//! oneshot: send, receive, close and drop in every order and across threads.

mod common;

use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};

use common::{scale, Tracked};
use futures::executor::block_on;
use futures::task::noop_waker_ref;
use futures::FutureExt;
use weft_channel::oneshot::{self, error::TryRecvError};

#[test]
fn send_then_receive() {
    let (tx, rx) = oneshot::channel();
    tx.send(5).unwrap();
    assert_eq!(block_on(rx), Ok(5));
}

#[test]
fn sender_dropped() {
    let (tx, rx) = oneshot::channel::<u8>();
    drop(tx);
    assert!(block_on(rx).is_err());
}

#[test]
fn send_fails_after_receiver_gone_or_closed() {
    let (tx, rx) = oneshot::channel();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));

    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert_eq!(tx.send(2), Err(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn value_sent_before_close_is_received() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(3).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(3));
}

#[test]
fn closed_wakes_on_receiver_drop() {
    let (mut tx, rx) = oneshot::channel::<u8>();
    let mut cx = Context::from_waker(noop_waker_ref());
    {
        let mut closed = Box::pin(tx.closed());
        assert!(closed.poll_unpin(&mut cx).is_pending());
        drop(rx);
        assert_eq!(closed.poll_unpin(&mut cx), Poll::Ready(()));
    }
    assert!(tx.is_closed());
}

#[test]
fn receiver_pending_then_woken_from_thread() {
    for _ in 0..scale(500, 10) {
        let (tx, rx) = oneshot::channel();
        let t = std::thread::spawn(move || tx.send(7).unwrap());
        assert_eq!(block_on(rx), Ok(7));
        t.join().unwrap();
    }
}

#[test]
fn concurrent_drops_drop_the_value_once() {
    for i in 0..scale(2000, 20) {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = oneshot::channel::<Tracked>();
        let value = Tracked::new(i, &drops);
        let a = std::thread::spawn(move || drop(tx.send(value)));
        let b = std::thread::spawn(move || {
            if i % 2 == 0 {
                drop(block_on(rx));
            } else {
                drop(rx);
            }
        });
        a.join().unwrap();
        b.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
    }
}

#[test]
fn sender_closed_races_receiver_drop() {
    for _ in 0..scale(1000, 10) {
        let (mut tx, rx) = oneshot::channel::<u8>();
        let t = std::thread::spawn(move || drop(rx));
        block_on(tx.closed());
        t.join().unwrap();
        assert_eq!(tx.send(1), Err(1));
    }
}

/// A waker that counts its wakes.
struct CountWake(AtomicUsize);

impl std::task::Wake for CountWake {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn send_races_a_receiver_that_keeps_changing_its_waker() {
    // Every poll brings a new waker, so the receiver takes its slot back and registers again
    // while the other thread sends (and claims the waker to wake it): the value arrives once,
    // and a poll that returns Pending always left a waker that the send then wakes.
    for i in 0..scale(300, 6) {
        let (tx, mut rx) = oneshot::channel::<usize>();
        let t = std::thread::spawn(move || tx.send(i).unwrap());
        let mut last = None;
        let got = loop {
            let counter = Arc::new(CountWake(AtomicUsize::new(0)));
            let waker = std::task::Waker::from(counter.clone());
            match std::pin::Pin::new(&mut rx).poll(&mut Context::from_waker(&waker)) {
                Poll::Ready(v) => break v,
                Poll::Pending => last = Some(counter),
            }
            std::hint::spin_loop();
        };
        assert_eq!(got, Ok(i));
        t.join().unwrap();
        if let Some(counter) = last {
            // The last Pending registered this waker; either the send woke it, or the value
            // was there at the next poll (which replaced it) - in both cases at most once.
            assert!(counter.0.load(SeqCst) <= 1);
        }
    }
}

#[test]
fn close_races_a_sender_that_keeps_changing_its_waker() {
    for _ in 0..scale(300, 6) {
        let (mut tx, mut rx) = oneshot::channel::<u8>();
        let t = std::thread::spawn(move || {
            rx.close();
            rx
        });
        loop {
            let counter = Arc::new(CountWake(AtomicUsize::new(0)));
            let waker = std::task::Waker::from(counter);
            if tx.poll_closed(&mut Context::from_waker(&waker)).is_ready() {
                break;
            }
            std::hint::spin_loop();
        }
        let mut rx = t.join().unwrap();
        assert_eq!(tx.send(1), Err(1));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    }
}

#[test]
fn a_waiting_receiver_is_woken_once_by_send_and_by_sender_drop() {
    for send in [true, false] {
        let (tx, mut rx) = oneshot::channel::<u8>();
        let counter = Arc::new(CountWake(AtomicUsize::new(0)));
        let waker = std::task::Waker::from(counter.clone());
        let mut cx = Context::from_waker(&waker);
        assert!(std::pin::Pin::new(&mut rx).poll(&mut cx).is_pending());
        if send {
            tx.send(9).unwrap();
        } else {
            drop(tx);
        }
        assert_eq!(counter.0.load(SeqCst), 1);
        match std::pin::Pin::new(&mut rx).poll(&mut cx) {
            Poll::Ready(Ok(v)) => assert!(send && v == 9),
            Poll::Ready(Err(_)) => assert!(!send),
            Poll::Pending => panic!("woken but not ready"),
        }
    }
}
