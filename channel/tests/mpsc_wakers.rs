//! The receiver's waker: replaced when another task receives, woken by reference otherwise,
//! and every kind of wake-up reaches the current waker.

mod common;

use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll};

use common::counter;

#[test]
fn replaced_waker_is_the_one_woken() {
    let (tx, mut rx) = weft_channel::mpsc::channel::<u8>(4);
    let (a, wa) = counter();
    let (b, wb) = counter();
    assert!(rx.poll_recv(&mut Context::from_waker(&wa)).is_pending());
    assert!(rx.poll_recv(&mut Context::from_waker(&wb)).is_pending());
    tx.try_send(1).unwrap();
    assert_eq!((a.0.load(SeqCst), b.0.load(SeqCst)), (0, 1));
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&wb)),
        Poll::Ready(Some(1))
    );
    // Parked again with the same waker: the next send wakes it again.
    assert!(rx.poll_recv(&mut Context::from_waker(&wb)).is_pending());
    tx.try_send(2).unwrap();
    assert_eq!(b.0.load(SeqCst), 2);
}

#[test]
fn unbounded_waker_replaced_and_senders_gone_wakes() {
    let (tx, mut rx) = weft_channel::mpsc::unbounded_channel::<u8>();
    let (a, wa) = counter();
    let (b, wb) = counter();
    assert!(rx.poll_recv(&mut Context::from_waker(&wa)).is_pending());
    assert!(rx.poll_recv(&mut Context::from_waker(&wb)).is_pending());
    drop(tx);
    assert_eq!((a.0.load(SeqCst), b.0.load(SeqCst)), (0, 1));
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&wb)),
        Poll::Ready(None)
    );
}

#[test]
fn permit_dropped_after_close_wakes_receiver() {
    let (tx, mut rx) = weft_channel::mpsc::channel::<u8>(1);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    let (a, wa) = counter();
    assert!(rx.poll_recv(&mut Context::from_waker(&wa)).is_pending());
    drop(permit);
    assert_eq!(a.0.load(SeqCst), 1);
    assert_eq!(
        rx.poll_recv(&mut Context::from_waker(&wa)),
        Poll::Ready(None)
    );
}

#[test]
fn receiver_moves_between_threads() {
    // The receiver is polled from a different thread (and waker) each round.
    let rounds = if cfg!(miri) { 5 } else { 300 };
    let (tx, mut rx) = weft_channel::mpsc::channel::<usize>(1);
    let sender = std::thread::spawn(move || {
        for i in 0..rounds {
            futures::executor::block_on(tx.send(i)).unwrap();
        }
    });
    for i in 0..rounds {
        rx = std::thread::spawn(move || {
            assert_eq!(futures::executor::block_on(rx.recv()), Some(i));
            rx
        })
        .join()
        .unwrap();
    }
    sender.join().unwrap();
}
