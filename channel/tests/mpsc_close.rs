//! mpsc close and drop in every order: nothing lost, nothing delivered twice, every value
//! dropped exactly once, every waiter woken.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};

use common::{scale, Tracked};
use futures::executor::block_on;
use futures::task::noop_waker_ref;
use futures::FutureExt;
use weft_channel::mpsc::{self, error::SendError, error::TryRecvError, error::TrySendError};

fn cx() -> Context<'static> {
    Context::from_waker(noop_waker_ref())
}

#[test]
fn senders_dropped_receiver_drains_then_ends() {
    let (tx, mut rx) = mpsc::channel(4);
    let tx2 = tx.clone();
    tx.try_send(1).unwrap();
    tx2.try_send(2).unwrap();
    drop(tx);
    assert!(!rx.is_closed());
    drop(tx2);
    assert!(rx.is_closed());
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    assert_eq!(block_on(rx.recv()), None);

    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(block_on(rx.recv()), Some(1));
    assert_eq!(block_on(rx.recv()), None);
}

#[test]
fn closed_whenever_receiver_gone_full_or_not() {
    let (tx, rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    assert_eq!(tx.try_send(1), Err(TrySendError::Full(1)));
    drop(rx);
    assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    assert_eq!(block_on(tx.send(3)), Err(SendError(3)));
    assert!(block_on(tx.reserve()).is_err());

    let (tx, rx) = mpsc::unbounded_channel();
    drop(rx);
    assert_eq!(tx.send(4), Err(SendError(4)));
}

#[test]
fn every_value_dropped_once_in_every_drop_order() {
    // (buffered count, receiver first?, receive some?) across both flavours.
    for buffered in [0usize, 1, 3, 40] {
        for rx_first in [false, true] {
            for receive in [0usize, 1, 2] {
                let drops = Arc::new(AtomicUsize::new(0));
                let (tx, mut rx) = mpsc::channel::<Tracked>(64);
                let (utx, mut urx) = mpsc::unbounded_channel::<Tracked>();
                for i in 0..buffered {
                    tx.try_send(Tracked::new(i, &drops)).unwrap();
                    utx.send(Tracked::new(i, &drops)).unwrap();
                }
                for _ in 0..receive.min(buffered) {
                    drop(rx.try_recv().unwrap());
                    drop(urx.try_recv().unwrap());
                }
                if rx_first {
                    drop((rx, urx));
                    assert!(tx.try_send(Tracked::new(99, &drops)).is_err());
                    drop((tx, utx));
                } else {
                    drop((tx, utx));
                    drop((rx, urx));
                }
                let expected = 2 * buffered + usize::from(rx_first);
                assert_eq!(
                    drops.load(SeqCst),
                    expected,
                    "{buffered} {rx_first} {receive}"
                );
            }
        }
    }
}

#[test]
fn receiver_close_drains_and_fails_senders() {
    let (tx, mut rx) = mpsc::channel(4);
    tx.try_send(1).unwrap();
    let permit = tx.try_reserve().unwrap();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(tx.try_send(2), Err(TrySendError::Closed(2)));
    assert_eq!(rx.try_recv(), Ok(1));
    // An outstanding permit may still send: the receiver waits for it.
    let mut recv = Box::pin(rx.recv());
    assert!(recv.poll_unpin(&mut cx()).is_pending());
    permit.send(3);
    assert_eq!(recv.poll_unpin(&mut cx()), Poll::Ready(Some(3)));
    drop(recv);
    assert_eq!(block_on(rx.recv()), None);

    // A permit dropped unused after close lets the receiver end.
    let (tx, mut rx) = mpsc::channel::<u8>(4);
    let permit = tx.try_reserve().unwrap();
    rx.close();
    let mut recv = Box::pin(rx.recv());
    assert!(recv.poll_unpin(&mut cx()).is_pending());
    drop(permit);
    assert_eq!(recv.poll_unpin(&mut cx()), Poll::Ready(None));
}

#[test]
fn close_wakes_waiting_senders_and_closed_futures() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut send = Box::pin(tx.send(1));
    let mut closed = Box::pin(tx.closed());
    assert!(send.poll_unpin(&mut cx()).is_pending());
    assert!(closed.poll_unpin(&mut cx()).is_pending());
    rx.close();
    assert_eq!(send.poll_unpin(&mut cx()), Poll::Ready(Err(SendError(1))));
    assert_eq!(closed.poll_unpin(&mut cx()), Poll::Ready(()));
    assert_eq!(rx.try_recv(), Ok(0));
}

#[test]
fn cancelled_waiting_send_passes_the_room_on() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut first = Box::pin(tx.send(1));
    let mut second = Box::pin(tx.send(2));
    assert!(first.poll_unpin(&mut cx()).is_pending());
    assert!(second.poll_unpin(&mut cx()).is_pending());
    // A later try_send may not barge past the queued senders.
    assert_eq!(rx.try_recv(), Ok(0)); // room goes to `first`
    assert_eq!(tx.try_send(9), Err(TrySendError::Full(9)));
    drop(first); // ... which passes it to `second`
    assert_eq!(second.poll_unpin(&mut cx()), Poll::Ready(Ok(())));
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert_eq!(tx.capacity(), 1);
}

#[test]
fn senders_are_served_fifo() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut sends: Vec<_> = (1..=5).map(|i| Some(Box::pin(tx.send(i)))).collect();
    for s in sends.iter_mut().flatten() {
        assert!(s.poll_unpin(&mut cx()).is_pending());
    }
    for expect in 0..5 {
        assert_eq!(rx.try_recv(), Ok(expect));
        // Poll in reverse order: only the next in line may complete.
        for (i, slot) in sends.iter_mut().enumerate().rev() {
            if let Some(s) = slot {
                if s.poll_unpin(&mut cx()).is_ready() {
                    assert_eq!(i, expect, "sender {i} overtook");
                    *slot = None;
                }
            }
        }
    }
    assert_eq!(rx.try_recv(), Ok(5));
}

#[test]
fn drop_races_across_threads() {
    // Receiver and senders dropped concurrently: values are dropped exactly once.
    for round in 0..scale(200, 4) {
        let drops = Arc::new(AtomicUsize::new(0));
        let sent = Arc::new(AtomicUsize::new(0));
        let (tx, mut rx) = mpsc::channel::<Tracked>(2);
        let (utx, urx) = mpsc::unbounded_channel::<Tracked>();
        let senders: Vec<_> = (0..2)
            .map(|_| {
                let (tx, utx, drops, sent) = (tx.clone(), utx.clone(), drops.clone(), sent.clone());
                std::thread::spawn(move || {
                    for i in 0..20 {
                        if block_on(tx.send(Tracked::new(i, &drops))).is_ok() {
                            sent.fetch_add(1, SeqCst);
                        }
                        if utx.send(Tracked::new(i, &drops)).is_ok() {
                            sent.fetch_add(1, SeqCst);
                        }
                    }
                })
            })
            .collect();
        drop((tx, utx));
        let receiver = std::thread::spawn(move || {
            for _ in 0..round % 7 {
                drop(rx.try_recv());
            }
            drop((rx, urx));
        });
        receiver.join().unwrap();
        senders.into_iter().for_each(|h| h.join().unwrap());
        // 80 values created; those refused were dropped by `send`'s error, the rest by the
        // receiver or the channel.
        assert_eq!(drops.load(SeqCst), 80);
    }
}
