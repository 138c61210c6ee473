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

/// The receiver frees room with a plain store while, on another thread, a sender finds the
/// channel full and starts to wait: the two must not miss each other. Each round both threads
/// are released together and skew their start by a different few spins, so the receive lands
/// at every point of the sender's check-then-queue window; after its receive the receiver
/// *stops receiving* until the sender's send has completed, so a missed hand-off would leave
/// the sender asleep with room free and the round would never end (the bounded wait below
/// turns that into a failure instead of a hang).
#[test]
fn bounded_sender_starting_to_wait_sees_room_freed_concurrently() {
    use std::sync::atomic::{AtomicUsize, Ordering::*};
    use std::sync::{mpsc as std_mpsc, Arc};
    use std::time::Duration;

    fn spin(n: usize) {
        for _ in 0..n {
            std::hint::spin_loop();
        }
    }

    let rounds = scale(20_000, 30);
    let (tx, mut rx) = mpsc::channel::<usize>(1);
    let (done_tx, done_rx) = std_mpsc::channel::<usize>();
    let go = Arc::new(AtomicUsize::new(usize::MAX));
    let sender = std::thread::spawn({
        let go = go.clone();
        move || {
            block_on(async {
                tx.send(0).await.unwrap();
                for i in 0..rounds {
                    while go.load(Acquire) != i {
                        std::hint::spin_loop();
                    }
                    spin(i % 64);
                    // Full until the receiver takes message `i`, which it does right now.
                    tx.send(i + 1).await.unwrap();
                    done_tx.send(i + 1).unwrap();
                }
            })
        }
    });
    block_on(async {
        for i in 0..=rounds {
            if i < rounds {
                go.store(i, Release);
                spin((i / 64) % 64);
            }
            assert_eq!(rx.recv().await, Some(i));
            if i < rounds {
                let sent = done_rx
                    .recv_timeout(Duration::from_secs(5))
                    .expect("a sender slept with room free (lost hand-off)");
                assert_eq!(sent, i + 1);
            }
        }
    });
    sender.join().unwrap();
}

/// A channel's state word is biased to the thread that made it (updated there with plain
/// stores) until another thread's first update revokes that. Each round makes a new channel
/// whose owner sends, receives and parks while a second thread starts sending, so the
/// revocation lands at different points of the owner's updates: every message must still
/// arrive exactly once, in per-sender order.
macro_rules! owner_races_revocation {
    ($make:expr, $send:ident, $try_send:ident) => {{
        let rounds = scale(300, 3);
        let per = scale(100, 10);
        for _ in 0..rounds {
            let (tx, mut rx) = $make;
            let other = {
                let tx = tx.clone();
                std::thread::spawn(move || {
                    block_on(async {
                        for i in 0..per {
                            $send!(tx, (1, i));
                        }
                    })
                })
            };
            let mut check = OrderCheck::new(2);
            let mut sent = 0;
            let mut got = 0;
            // The owner alternates sends and receives until its own messages are out...
            while sent < per {
                if $try_send!(tx, (0, sent)) {
                    sent += 1;
                }
                if let Ok((s, i)) = rx.try_recv() {
                    check.see(s, i);
                    got += 1;
                }
            }
            drop(tx);
            // ...then receives the rest, parking when the other thread is behind.
            block_on(async {
                while let Some((s, i)) = rx.recv().await {
                    check.see(s, i);
                    got += 1;
                }
            });
            assert_eq!(got, 2 * per);
            check.assert_complete(per);
            other.join().unwrap();
        }
    }};
}

macro_rules! send_bounded {
    ($tx:ident, $v:expr) => {
        $tx.send($v).await.unwrap()
    };
}

macro_rules! send_unbounded {
    ($tx:ident, $v:expr) => {
        $tx.send($v).unwrap()
    };
}

macro_rules! try_send_bounded {
    ($tx:ident, $v:expr) => {
        $tx.try_send($v).is_ok()
    };
}

macro_rules! try_send_unbounded {
    ($tx:ident, $v:expr) => {{
        $tx.send($v).unwrap();
        true
    }};
}

#[test]
fn bounded_owner_races_revocation() {
    owner_races_revocation!(
        mpsc::channel::<(usize, usize)>(4),
        send_bounded,
        try_send_bounded
    );
}

#[test]
fn unbounded_owner_races_revocation() {
    owner_races_revocation!(
        mpsc::unbounded_channel::<(usize, usize)>(),
        send_unbounded,
        try_send_unbounded
    );
}
