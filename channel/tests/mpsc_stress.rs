//! N senders × M messages through mpsc, across OS threads and across tasks: every message is
//! received exactly once, in per-sender order.

mod common;

use common::{scale, OrderCheck};
use futures::executor::{block_on, LocalPool};
use futures::task::LocalSpawnExt;
use futures::StreamExt;
use weft_channel::mpsc;

fn threads_bounded(cap: usize) {
    let senders = scale(4, 3);
    let per = scale(20_000, 40);
    let (tx, mut rx) = mpsc::channel::<(usize, usize)>(cap);
    let handles: Vec<_> = (0..senders)
        .map(|s| {
            let tx = tx.clone();
            std::thread::spawn(move || {
                block_on(async {
                    for i in 0..per {
                        // Mix the waiting send with try_send and permits.
                        match i % 3 {
                            0 => tx.send((s, i)).await.unwrap(),
                            1 => tx.reserve().await.unwrap().send((s, i)),
                            _ => {
                                let mut v = (s, i);
                                loop {
                                    match tx.try_send(v) {
                                        Ok(()) => break,
                                        Err(mpsc::error::TrySendError::Full(back)) => {
                                            v = back;
                                            std::thread::yield_now();
                                        }
                                        Err(e) => panic!("{e}"),
                                    }
                                }
                            }
                        }
                    }
                })
            })
        })
        .collect();
    drop(tx);
    let mut check = OrderCheck::new(senders);
    block_on(async {
        while let Some((s, i)) = rx.recv().await {
            check.see(s, i);
        }
    });
    check.assert_complete(per);
    handles.into_iter().for_each(|h| h.join().unwrap());
}

#[test]
fn bounded_threads_capacity_1() {
    threads_bounded(1);
}

#[test]
fn bounded_threads_capacity_7() {
    threads_bounded(7);
}

#[test]
fn bounded_threads_capacity_large() {
    threads_bounded(1024);
}

#[test]
fn unbounded_threads() {
    let senders = scale(4, 3);
    let per = scale(50_000, 100); // > 3 blocks under Miri too
    let (tx, mut rx) = mpsc::unbounded_channel::<(usize, usize)>();
    let handles: Vec<_> = (0..senders)
        .map(|s| {
            let tx = tx.clone();
            std::thread::spawn(move || (0..per).for_each(|i| tx.send((s, i)).unwrap()))
        })
        .collect();
    drop(tx);
    let mut check = OrderCheck::new(senders);
    // Receive with a mix of recv, try_recv and recv_many.
    block_on(async {
        let mut buf = Vec::new();
        loop {
            match rx.try_recv() {
                Ok((s, i)) => check.see(s, i),
                Err(mpsc::error::TryRecvError::Disconnected) => break,
                Err(mpsc::error::TryRecvError::Empty) => {
                    if rx.recv_many(&mut buf, 16).await == 0 {
                        break;
                    }
                    buf.drain(..).for_each(|(s, i)| check.see(s, i));
                }
            }
        }
    });
    check.assert_complete(per);
    handles.into_iter().for_each(|h| h.join().unwrap());
}

#[test]
fn bounded_tasks_one_thread() {
    let senders = scale(8, 3);
    let per = scale(5_000, 30);
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let (tx, rx) = mpsc::channel::<(usize, usize)>(3);
    for s in 0..senders {
        let tx = tx.clone();
        spawner
            .spawn_local(async move {
                for i in 0..per {
                    tx.send((s, i)).await.unwrap();
                }
            })
            .unwrap();
    }
    drop(tx);
    let got = pool.run_until(rx.collect::<Vec<_>>());
    let mut check = OrderCheck::new(senders);
    got.into_iter().for_each(|(s, i)| check.see(s, i));
    check.assert_complete(per);
}

#[test]
fn unbounded_tasks_one_thread() {
    let senders = scale(8, 3);
    let per = scale(5_000, 40);
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let (tx, rx) = mpsc::unbounded_channel::<(usize, usize)>();
    for s in 0..senders {
        let tx = tx.clone();
        spawner
            .spawn_local(async move {
                for i in 0..per {
                    tx.send((s, i)).unwrap();
                    if i % 7 == 0 {
                        common::yield_now().await; // let the others interleave
                    }
                }
            })
            .unwrap();
    }
    drop(tx);
    let got = pool.run_until(rx.collect::<Vec<_>>());
    let mut check = OrderCheck::new(senders);
    got.into_iter().for_each(|(s, i)| check.see(s, i));
    check.assert_complete(per);
}
