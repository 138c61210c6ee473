//! loom models of the mpsc channels (`channel/src/mpsc/`): the bounded ring (claim, the
//! receiver's park and wake, a sender parked on a full channel and the asymmetric fence that
//! wakes it, close, the receiver's drop, the senders' drop) and the unbounded list.
//! `RUSTFLAGS="--cfg weft_loom" cargo test -p weft-channel --test loom_mpsc --release`.
#![cfg(weft_loom)]

mod loom_support;

use loom::thread;
use loom_support::{block_on, dropped, drops, model, Counted};
use weft_channel::mpsc;

/// A sender on another thread fills a channel of one slot and parks for room; the receiver
/// parks for messages. Both wake: all messages arrive in order, then `None`.
#[test]
fn bounded_full_channel_parks_and_wakes_both_sides() {
    model(
        "mpsc bounded_full_channel_parks_and_wakes_both_sides",
        || {
            let (tx, mut rx) = mpsc::channel::<u32>(1);
            let t = thread::spawn(move || {
                block_on(async {
                    tx.send(1).await.unwrap();
                    tx.send(2).await.unwrap();
                })
            });
            assert_eq!(block_on(rx.recv()), Some(1));
            assert_eq!(block_on(rx.recv()), Some(2));
            assert_eq!(block_on(rx.recv()), None);
            t.join().unwrap();
        },
    );
}

/// Two senders race to claim slots; both messages arrive, the channel ends with the last
/// sender's drop.
#[test]
fn bounded_two_senders_claim() {
    model("mpsc bounded_two_senders_claim", || {
        let (tx, mut rx) = mpsc::channel::<u32>(2);
        let tx2 = tx.clone();
        let t = thread::spawn(move || block_on(tx2.send(2)).unwrap());
        block_on(tx.send(1)).unwrap();
        drop(tx);
        let mut got = [block_on(rx.recv()), block_on(rx.recv())];
        got.sort();
        assert_eq!(got, [Some(1), Some(2)]);
        assert_eq!(block_on(rx.recv()), None);
        t.join().unwrap();
    });
}

/// The receiver's drop races a send: every message is dropped exactly once, whether the
/// receiver's drop or the refused send drops it.
#[test]
fn bounded_receiver_drop_vs_send() {
    model("mpsc bounded_receiver_drop_vs_send", || {
        let d = drops();
        let (tx, rx) = mpsc::channel(1);
        let v = Counted(d.clone());
        let t = thread::spawn(move || {
            let _ = tx.try_send(v);
        });
        drop(rx);
        t.join().unwrap();
        assert_eq!(dropped(&d), 1);
    });
}

/// `close` races a send: what got in is received, then `None`; a refused message comes back.
#[test]
fn bounded_close_vs_send() {
    model("mpsc bounded_close_vs_send", || {
        let (tx, mut rx) = mpsc::channel::<u32>(1);
        let t = thread::spawn(move || tx.try_send(5).is_ok());
        rx.close();
        let got = block_on(rx.recv());
        let sent = t.join().unwrap();
        assert_eq!(got, sent.then_some(5));
        assert_eq!(block_on(rx.recv()), None);
    });
}

/// Unbounded: two senders on two threads and a parked receiver; everything arrives once, then
/// `None` when the senders are gone.
#[test]
fn unbounded_senders_and_parked_receiver() {
    model("mpsc unbounded_senders_and_parked_receiver", || {
        let (tx, mut rx) = mpsc::unbounded_channel::<u32>();
        let tx2 = tx.clone();
        let t = thread::spawn(move || tx2.send(2).unwrap());
        tx.send(1).unwrap();
        drop(tx);
        let mut got = [block_on(rx.recv()), block_on(rx.recv())];
        got.sort();
        assert_eq!(got, [Some(1), Some(2)]);
        assert_eq!(block_on(rx.recv()), None);
        t.join().unwrap();
    });
}

/// Unbounded: the receiver's drop races a send; the message is dropped exactly once.
#[test]
fn unbounded_receiver_drop_vs_send() {
    model("mpsc unbounded_receiver_drop_vs_send", || {
        let d = drops();
        let (tx, rx) = mpsc::unbounded_channel();
        let v = Counted(d.clone());
        let t = thread::spawn(move || {
            let _ = tx.send(v);
        });
        drop(rx);
        t.join().unwrap();
        assert_eq!(dropped(&d), 1);
    });
}
