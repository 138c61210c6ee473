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
