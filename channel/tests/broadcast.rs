//! broadcast: every receiver sees every value in order; laggards get `Lagged(n)` and go on.

mod common;

use common::scale;
use futures::executor::block_on;
use weft_channel::broadcast::{self, error::RecvError, error::TryRecvError};

#[test]
fn lag_reports_missed_count_and_continues() {
    let (tx, mut rx) = broadcast::channel(4);
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Lagged(6)));
    let rest: Vec<_> = std::iter::from_fn(|| rx.try_recv().ok()).collect();
    assert_eq!(rest, [6, 7, 8, 9]);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn capacity_rounds_up_to_power_of_two() {
    let (tx, mut rx) = broadcast::channel(3); // keeps 4
    for i in 0..4 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.try_recv(), Ok(0));
}

#[test]
fn closed_only_after_draining() {
    let (tx, mut rx) = broadcast::channel(8);
    tx.send(1).unwrap();
    drop(tx);
    assert_eq!(block_on(rx.recv()), Ok(1));
    assert_eq!(block_on(rx.recv()), Err(RecvError::Closed));
}

#[test]
fn send_needs_a_receiver_and_subscribe_sees_only_later_values() {
    let (tx, rx) = broadcast::channel(8);
    tx.send(1).unwrap();
    let mut late = tx.subscribe();
    drop(rx);
    tx.send(2).unwrap();
    assert_eq!(late.try_recv(), Ok(2));
    drop(late);
    assert_eq!(tx.send(3).unwrap_err().0, 3);
}

#[test]
fn fan_out_across_threads() {
    let receivers = scale(4, 2);
    let count = scale(5_000, 30) as u64;
    // Capacity above the count: nobody may lag, everyone sees everything in order.
    let (tx, rx) = broadcast::channel(count as usize + 1);
    let handles: Vec<_> = (0..receivers)
        .map(|_| {
            let mut rx = rx.resubscribe();
            std::thread::spawn(move || {
                block_on(async {
                    let mut expect = 0;
                    while let Ok(v) = rx.recv().await {
                        assert_eq!(v, expect);
                        expect += 1;
                    }
                    expect
                })
            })
        })
        .collect();
    drop(rx);
    let sender = std::thread::spawn(move || {
        (0..count).for_each(|i| {
            let _ = tx.send(i);
        })
    });
    sender.join().unwrap();
    for h in handles {
        assert_eq!(h.join().unwrap(), count);
    }
}

#[test]
fn lagging_receivers_across_threads_stay_consistent() {
    let count = scale(20_000, 50) as u64;
    let (tx, rx) = broadcast::channel(2);
    let handles: Vec<_> = (0..2)
        .map(|_| {
            let mut rx = rx.resubscribe();
            std::thread::spawn(move || {
                block_on(async {
                    let (mut last, mut seen, mut missed) = (None::<u64>, 0u64, 0u64);
                    loop {
                        match rx.recv().await {
                            Ok(v) => {
                                if let Some(l) = last {
                                    assert!(v > l, "values go forward");
                                }
                                last = Some(v);
                                seen += 1;
                            }
                            Err(RecvError::Lagged(n)) => missed += n,
                            Err(RecvError::Closed) => return (seen, missed, last),
                        }
                    }
                })
            })
        })
        .collect();
    drop(rx);
    (0..count).for_each(|i| {
        let _ = tx.send(i);
    });
    drop(tx);
    for h in handles {
        let (seen, missed, last) = h.join().unwrap();
        assert_eq!(last, Some(count - 1), "the last value is always seen");
        assert_eq!(
            seen + missed,
            count,
            "each value is either seen or counted as missed"
        );
    }
}
