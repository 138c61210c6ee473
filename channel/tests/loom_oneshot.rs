//! loom models of the oneshot channel (`channel/src/oneshot.rs`): send against the receiver's
//! wait, drop and close, from another thread. Run by `scripts/loom.sh` (and CI, bounded):
//! `RUSTFLAGS="--cfg weft_loom" cargo test -p weft-channel --test loom_oneshot --release`.
#![cfg(weft_loom)]

mod loom_support;

use loom::thread;
use loom_support::{block_on, dropped, drops, model, Counted};
use weft_channel::oneshot;

/// The value crosses threads into a receiver that parks for it; it is dropped exactly once.
#[test]
fn send_wakes_a_parked_receiver() {
    model("oneshot send_wakes_a_parked_receiver", || {
        let d = drops();
        let (tx, rx) = oneshot::channel();
        let v = Counted(d.clone());
        let t = thread::spawn(move || tx.send(v).is_ok());
        let got = block_on(rx);
        assert!(t.join().unwrap());
        assert!(got.is_ok());
        drop(got);
        assert_eq!(dropped(&d), 1);
    });
}

/// Send against the receiver's drop: the value is dropped exactly once, by whichever side
/// ends up with it, and the block is freed once (a double free crashes the model).
#[test]
fn send_vs_receiver_drop() {
    model("oneshot send_vs_receiver_drop", || {
        let d = drops();
        let (tx, rx) = oneshot::channel();
        let v = Counted(d.clone());
        let t = thread::spawn(move || {
            // A refused value comes back and is dropped here.
            let _ = tx.send(v);
        });
        drop(rx);
        t.join().unwrap();
        assert_eq!(dropped(&d), 1);
    });
}

/// Send against `close`: either the receiver gets the value, or the sender gets it back.
#[test]
fn send_vs_close() {
    model("oneshot send_vs_close", || {
        let (tx, mut rx) = oneshot::channel::<u32>();
        let t = thread::spawn(move || tx.send(7));
        rx.close();
        let sent = t.join().unwrap();
        match rx.try_recv() {
            Ok(v) => assert_eq!((v, sent), (7, Ok(()))),
            Err(_) => assert_eq!(sent, Err(7)),
        }
    });
}

/// The sender's drop wakes a parked receiver with an error.
#[test]
fn sender_drop_wakes_the_receiver() {
    model("oneshot sender_drop_wakes_the_receiver", || {
        let (tx, rx) = oneshot::channel::<u32>();
        let t = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        t.join().unwrap();
    });
}

/// The receiver's drop wakes a sender parked in `closed()`.
#[test]
fn receiver_drop_wakes_closed() {
    model("oneshot receiver_drop_wakes_closed", || {
        let (mut tx, rx) = oneshot::channel::<u32>();
        let t = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert!(tx.is_closed());
        t.join().unwrap();
    });
}
