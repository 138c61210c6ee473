//! Weak mpsc senders: they upgrade while a strong sender lives, never after, never keep the
//! receiver from ending, and count right — also when an upgrade races the last drop.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Barrier};

use common::{scale, Tracked};
use futures::executor::block_on;
use weft_channel::mpsc::{self, error::TryRecvError};

#[test]
fn bounded_upgrade_only_while_a_sender_lives() {
    let (tx, mut rx) = mpsc::channel(4);
    let weak = tx.downgrade();
    let up = weak.upgrade().expect("a strong sender lives");
    assert!(up.same_channel(&tx));
    up.try_send(1).unwrap();
    drop(up);
    assert_eq!(rx.try_recv(), Ok(1));
    drop(tx);
    assert!(weak.upgrade().is_none());
    assert!(weak.upgrade().is_none(), "0 is final");
    assert_eq!(weak.strong_count(), 0);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn unbounded_upgrade_only_while_a_sender_lives() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let weak = tx.downgrade();
    let up = weak.upgrade().expect("a strong sender lives");
    assert!(up.same_channel(&tx));
    up.send(1).unwrap();
    drop(up);
    assert_eq!(rx.try_recv(), Ok(1));
    drop(tx);
    assert!(weak.upgrade().is_none());
    assert!(weak.upgrade().is_none(), "0 is final");
    assert_eq!(weak.strong_count(), 0);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn receiver_drains_and_ends_while_only_weak_senders_remain() {
    let (tx, mut rx) = mpsc::channel(4);
    let (utx, mut urx) = mpsc::unbounded_channel();
    let weak = tx.downgrade();
    let uweak = utx.downgrade();
    let _weak2 = weak.clone();
    let _uweak2 = uweak.clone();
    tx.try_send(1).unwrap();
    tx.try_send(2).unwrap();
    utx.send(1).unwrap();
    drop((tx, utx));
    assert!(rx.is_closed());
    assert!(urx.is_closed());
    block_on(async {
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(urx.recv().await, Some(1));
        assert_eq!(urx.recv().await, None);
    });
    assert!(weak.upgrade().is_none());
    assert!(uweak.upgrade().is_none());
}

#[test]
fn a_parked_receiver_wakes_when_the_last_strong_sender_drops() {
    let (tx, mut rx) = mpsc::channel::<u8>(1);
    let (utx, mut urx) = mpsc::unbounded_channel::<u8>();
    let weak = tx.downgrade();
    let uweak = utx.downgrade();
    let receiver =
        std::thread::spawn(move || block_on(async { (rx.recv().await, urx.recv().await) }));
    drop((tx, utx));
    assert_eq!(receiver.join().unwrap(), (None, None));
    drop((weak, uweak));
}

#[test]
fn counts() {
    let (tx, _rx) = mpsc::channel::<u8>(1);
    assert_eq!((tx.strong_count(), tx.weak_count()), (1, 0));
    let tx2 = tx.clone();
    let w1 = tx.downgrade();
    let w2 = w1.clone();
    let w3 = tx2.downgrade();
    assert_eq!((tx.strong_count(), tx.weak_count()), (2, 3));
    assert_eq!((w1.strong_count(), w1.weak_count()), (2, 3));
    let permit = tx2.try_reserve_owned().unwrap(); // holds its sender: still 2
    assert_eq!(w2.strong_count(), 2);
    let up = w3.upgrade().unwrap();
    assert_eq!((up.strong_count(), up.weak_count()), (3, 3));
    drop((up, w3));
    assert_eq!((tx.strong_count(), tx.weak_count()), (2, 2));
    drop(permit);
    drop(tx);
    assert_eq!((w1.strong_count(), w1.weak_count()), (0, 2));
    drop(w2);
    assert_eq!((w1.strong_count(), w1.weak_count()), (0, 1));

    let (tx, _rx) = mpsc::unbounded_channel::<u8>();
    assert_eq!((tx.strong_count(), tx.weak_count()), (1, 0));
    let w1 = tx.downgrade();
    let w2 = w1.clone();
    let tx2 = w2.upgrade().unwrap();
    assert_eq!((tx.strong_count(), tx.weak_count()), (2, 2));
    assert_eq!((w1.strong_count(), w1.weak_count()), (2, 2));
    drop((tx, tx2, w2));
    assert_eq!((w1.strong_count(), w1.weak_count()), (0, 1));
}

#[test]
fn upgrade_works_after_the_receiver_is_gone_but_sends_fail() {
    let (tx, rx) = mpsc::channel(1);
    let weak = tx.downgrade();
    drop(rx);
    let up = weak
        .upgrade()
        .expect("senders live: upgrade as clone would");
    assert!(up.try_send(1).is_err());
    assert!(up.is_closed());

    let (utx, urx) = mpsc::unbounded_channel();
    let uweak = utx.downgrade();
    drop(urx);
    assert!(uweak.upgrade().unwrap().send(1).is_err());
}

#[test]
fn weak_senders_do_not_hold_values() {
    // Values buffered when the receiver goes are dropped then or with the channel, once the
    // last handle (a weak sender, here) goes; exactly once either way.
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::channel(4);
    let (utx, urx) = mpsc::unbounded_channel();
    let weak = tx.downgrade();
    let uweak = utx.downgrade();
    for i in 0..3 {
        tx.try_send(Tracked::new(i, &drops)).unwrap();
        utx.send(Tracked::new(i, &drops)).unwrap();
    }
    drop((tx, utx, rx, urx));
    drop((weak, uweak));
    assert_eq!(drops.load(SeqCst), 6);
}

#[test]
fn debug_output() {
    let (tx, _rx) = mpsc::channel::<u8>(3);
    let (utx, _urx) = mpsc::unbounded_channel::<u8>();
    let weak = format!("{:?}", tx.downgrade());
    assert!(weak.starts_with("WeakSender"), "{weak}");
    assert!(weak.contains("max_capacity: 3"), "{weak}");
    let uweak = format!("{:?}", utx.downgrade());
    assert!(uweak.starts_with("WeakUnboundedSender"), "{uweak}");
}

/// Upgrades race the drop of the last strong sender on another thread. Whenever an upgrade
/// succeeds, the channel must not be closed for as long as the upgraded sender lives (no
/// resurrection of a channel whose senders were all gone), and what it sends is received.
#[test]
fn upgrade_racing_the_last_drop_never_revives_a_closed_channel() {
    let rounds = scale(300, 4);
    let upgraders = 2;
    for round in 0..rounds {
        let (tx, mut rx) = mpsc::channel::<usize>(upgraders * 4);
        let (utx, mut urx) = mpsc::unbounded_channel::<usize>();
        let weak = tx.downgrade();
        let uweak = utx.downgrade();
        let start = Barrier::new(upgraders + 1);
        let sent = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..upgraders {
                let (weak, uweak, start, sent) = (weak.clone(), uweak.clone(), &start, &sent);
                let (rx, urx) = (&rx, &urx);
                s.spawn(move || {
                    start.wait();
                    for _ in 0..4 {
                        if let Some(up) = weak.upgrade() {
                            assert!(up.strong_count() >= 1);
                            assert!(!rx.is_closed(), "round {round}: revived a closed channel");
                            up.try_send(round).unwrap();
                            sent.fetch_add(1, SeqCst);
                        }
                        if let Some(up) = uweak.upgrade() {
                            assert!(!urx.is_closed(), "round {round}: revived a closed channel");
                            up.send(round).unwrap();
                        }
                    }
                });
            }
            start.wait();
            drop((tx, utx));
        });
        // Every strong sender is gone now: closed for good, and everything sent is received.
        assert!(weak.upgrade().is_none());
        assert!(uweak.upgrade().is_none());
        assert_eq!(weak.strong_count(), 0);
        assert_eq!(weak.weak_count(), 1);
        let mut got = 0;
        while let Ok(v) = rx.try_recv() {
            assert_eq!(v, round);
            got += 1;
        }
        assert_eq!(got, sent.load(SeqCst));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        while urx.try_recv().is_ok() {}
        assert_eq!(urx.try_recv(), Err(TryRecvError::Disconnected));
    }
}
