//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

/// `n` normally, a small count under Miri (which is ~1000x slower).
pub fn scale(n: usize, miri: usize) -> usize {
    if cfg!(miri) {
        miri
    } else {
        n
    }
}

/// A value that counts its drops, to check that every message is dropped exactly once.
#[derive(Debug)]
pub struct Tracked {
    pub id: usize,
    drops: Arc<AtomicUsize>,
}

impl Tracked {
    pub fn new(id: usize, drops: &Arc<AtomicUsize>) -> Self {
        Tracked {
            id,
            drops: drops.clone(),
        }
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

/// Checks that messages `(sender, seq)` arrive exactly once each and in per-sender order.
pub struct OrderCheck {
    next: Vec<usize>,
}

impl OrderCheck {
    pub fn new(senders: usize) -> Self {
        OrderCheck {
            next: vec![0; senders],
        }
    }

    #[track_caller]
    pub fn see(&mut self, sender: usize, seq: usize) {
        assert_eq!(
            seq, self.next[sender],
            "sender {sender}: out of order or duplicated"
        );
        self.next[sender] += 1;
    }

    #[track_caller]
    pub fn assert_complete(&self, per_sender: usize) {
        assert!(
            self.next.iter().all(|&n| n == per_sender),
            "missing messages: {:?}",
            self.next
        );
    }
}

/// Yields once to the executor (wakes itself, returns `Pending` once).
#[allow(unused_imports)] // not every test binary yields
pub use weft_core::yield_now;

/// A waker that counts its wakes; its `Arc`'s strong count tells how many clones are alive.
pub struct Counter(pub AtomicUsize);

impl std::task::Wake for Counter {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

impl Counter {
    /// How many times it was woken.
    pub fn wakes(&self) -> usize {
        self.0.load(SeqCst)
    }
}

/// A fresh counting waker, with the counter to read.
pub fn counter() -> (Arc<Counter>, std::task::Waker) {
    let c = Arc::new(Counter(AtomicUsize::new(0)));
    (c.clone(), std::task::Waker::from(c))
}
