//! `blocking_send` / `blocking_recv`: a plain thread on one side, an async task (on `futures`'
//! `block_on`) on the other. No weft runtime runs in this test binary, so the blocking
//! methods also work inside a foreign executor's task.

mod common;

use common::{scale, yield_now};
use futures::executor::block_on;
use weft_channel::mpsc::{self, error::SendError};
use weft_channel::{broadcast, oneshot};

#[test]
fn no_weft_runtime_here() {
    assert!(!weft_core::context::in_runtime());
}

#[test]
fn bounded_blocking_send_waits_for_room() {
    let n = scale(1000, 20);
    let (tx, mut rx) = mpsc::channel(1);
    let (done_tx, mut done_rx) = oneshot::channel();
    let producer = std::thread::spawn(move || {
        for i in 0..n {
            tx.blocking_send(i).unwrap();
        }
        // Sent only when the last value is in the channel, i.e. after the receiver took n - 1.
        done_tx.send(()).unwrap();
    });
    block_on(async {
        for i in 0..n {
            if i + 1 < n {
                // With capacity 1, the producer cannot have sent value n - 1 yet.
                assert!(done_rx.try_recv().is_err(), "finished before room at {i}");
            }
            if i % 2 == 0 {
                yield_now().await; // let the producer find the channel full now and then
            }
            assert_eq!(rx.recv().await, Some(i));
        }
        assert_eq!(rx.recv().await, None);
        assert_eq!((&mut done_rx).await, Ok(()));
    });
    producer.join().unwrap();
}

#[test]
fn bounded_blocking_recv_from_async_sender() {
    let n = scale(1000, 20);
    let (tx, mut rx) = mpsc::channel(1);
    let consumer = std::thread::spawn(move || {
        let mut got = Vec::new();
        while let Some(v) = rx.blocking_recv() {
            got.push(v);
        }
        got
    });
    block_on(async {
        for i in 0..n {
            tx.send(i).await.unwrap();
        }
    });
    drop(tx);
    assert_eq!(consumer.join().unwrap(), (0..n).collect::<Vec<_>>());
}

#[test]
fn blocking_on_both_sides_of_a_bounded_channel() {
    let n = scale(1000, 20);
    let (tx, mut rx) = mpsc::channel(1);
    let producer = std::thread::spawn(move || {
        for i in 0..n {
            tx.blocking_send(i).unwrap();
        }
    });
    for i in 0..n {
        assert_eq!(rx.blocking_recv(), Some(i));
    }
    assert_eq!(rx.blocking_recv(), None);
    producer.join().unwrap();
}

#[test]
fn blocking_send_fails_when_receiver_gone() {
    let (tx, rx) = mpsc::channel(1);
    tx.try_send(0).unwrap(); // full: the next send must wait, then fail
    let sender = std::thread::spawn(move || tx.blocking_send(1));
    drop(rx);
    assert_eq!(sender.join().unwrap(), Err(SendError(1)));
}

#[test]
fn unbounded_blocking_recv_from_async_sender() {
    let n = scale(1000, 40); // more than one block of 31 under Miri too
    let (tx, mut rx) = mpsc::unbounded_channel();
    let consumer = std::thread::spawn(move || {
        let mut got = Vec::new();
        while let Some(v) = rx.blocking_recv() {
            got.push(v);
        }
        got
    });
    block_on(async {
        for i in 0..n {
            tx.send(i).unwrap();
            if i % 8 == 0 {
                yield_now().await;
            }
        }
    });
    drop(tx);
    assert_eq!(consumer.join().unwrap(), (0..n).collect::<Vec<_>>());
}

#[test]
fn unbounded_blocking_recv_ends_when_senders_gone() {
    let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    let consumer = std::thread::spawn(move || rx.blocking_recv());
    drop(tx);
    assert_eq!(consumer.join().unwrap(), None);
}

#[test]
fn oneshot_blocking_recv_from_async_sender() {
    let rounds = scale(100, 5);
    for i in 0..rounds {
        let (tx, rx) = oneshot::channel();
        let receiver = std::thread::spawn(move || rx.blocking_recv());
        block_on(async move {
            yield_now().await;
            tx.send(i).unwrap();
        });
        assert_eq!(receiver.join().unwrap(), Ok(i));
    }
}

#[test]
fn oneshot_blocking_recv_sender_dropped() {
    let (tx, rx) = oneshot::channel::<u8>();
    let receiver = std::thread::spawn(move || rx.blocking_recv());
    drop(tx);
    assert!(receiver.join().unwrap().is_err());
}

#[test]
fn broadcast_blocking_recv_from_async_sender() {
    let n = scale(200, 10);
    let (tx, rx) = broadcast::channel(256);
    let listeners: Vec<_> = (0..2)
        .map(|_| {
            let mut rx = rx.resubscribe();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                loop {
                    match rx.blocking_recv() {
                        Ok(v) => got.push(v),
                        Err(broadcast::error::RecvError::Closed) => return got,
                        Err(e) => panic!("{e}"),
                    }
                }
            })
        })
        .collect();
    drop(rx);
    block_on(async {
        for i in 0..n {
            tx.send(i).unwrap();
            yield_now().await;
        }
    });
    drop(tx);
    for l in listeners {
        assert_eq!(l.join().unwrap(), (0..n).collect::<Vec<_>>());
    }
}

#[test]
fn broadcast_blocking_recv_reports_lag() {
    let (tx, mut rx) = broadcast::channel(2);
    for i in 0..5 {
        tx.send(i).unwrap();
    }
    assert_eq!(
        rx.blocking_recv(),
        Err(broadcast::error::RecvError::Lagged(3))
    );
    assert_eq!(rx.blocking_recv(), Ok(3));
    assert_eq!(rx.blocking_recv(), Ok(4));
}

#[test]
fn blocking_calls_inside_a_foreign_executor_do_not_panic() {
    // `futures`' executor is not a weft runtime and installs no check: with the values ready,
    // blocking inside its task returns at once.
    block_on(async {
        let (tx, mut rx) = mpsc::channel(1);
        tx.blocking_send(1).unwrap();
        assert_eq!(rx.blocking_recv(), Some(1));

        let (utx, mut urx) = mpsc::unbounded_channel();
        utx.send(2).unwrap();
        assert_eq!(urx.blocking_recv(), Some(2));

        let (otx, orx) = oneshot::channel();
        otx.send(3).unwrap();
        assert_eq!(orx.blocking_recv(), Ok(3));

        let (btx, mut brx) = broadcast::channel(1);
        btx.send(4).unwrap();
        assert_eq!(brx.blocking_recv(), Ok(4));
    });
}

#[test]
fn blocking_recv_inside_a_foreign_executor_waits_for_another_thread() {
    let (tx, mut rx) = mpsc::channel(1);
    let producer = std::thread::spawn(move || block_on(tx.send(7)).unwrap());
    let got = block_on(async { rx.blocking_recv() });
    assert_eq!(got, Some(7));
    producer.join().unwrap();
}
