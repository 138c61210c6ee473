//! The real `membarrier` path across threads, which loom cannot run (it models the barrier
//! as a fence; see `channel/src/lock_free/fence.rs`). Ignored in the default test run (it
//! takes tens of seconds); `scripts/stress-membarrier.sh` runs it in release.
//!
//! * A bounded channel between two threads, small enough that the sender parks often: every
//!   park of the sender is the heavy side of the asymmetric fence (`membarrier`), every
//!   message the receiver takes its light side (a compiler fence). A lost wake hangs the test
//!   (the script bounds it with `timeout`); a reordered or lost message fails the checks.
//! * Biased words revoked while their owner updates them: each revocation is one
//!   `membarrier`; a lost update fails the final count.
//!
//! Random delays (a spin of random length now and then, on both sides) move the threads'
//! relative timing around.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread;

use weft_channel::{mpsc, Semaphore};

/// A small xorshift generator: deterministic per seed, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Now and then (one call in 256), spins for up to ~2^10 iterations.
    fn maybe_delay(&mut self) {
        let r = self.next();
        if r & 0xff == 0 {
            for _ in 0..(r >> 54) {
                std::hint::spin_loop();
            }
        }
    }
}

fn messages() -> u64 {
    std::env::var("WEFT_STRESS_MESSAGES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000_000)
}

/// ≥ 10^7 messages through a bounded channel of 4 between two threads.
#[test]
#[ignore = "long: run by scripts/stress-membarrier.sh"]
fn bounded_channel_across_threads() {
    assert!(
        weft_channel::prepare_fences() || !cfg!(target_os = "linux"),
        "membarrier is unavailable here: this test would not exercise it"
    );
    let n = messages();
    let (tx, mut rx) = mpsc::channel::<u64>(4);
    let sender = thread::spawn(move || {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for i in 0..n {
            rng.maybe_delay();
            tx.blocking_send(i).expect("the receiver is alive");
        }
    });
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut expected = 0;
    while let Some(v) = rx.blocking_recv() {
        assert_eq!(v, expected, "a message was lost or reordered");
        expected += 1;
        rng.maybe_delay();
    }
    sender.join().unwrap();
    assert_eq!(expected, n);
    eprintln!("stress: {n} messages through a bounded(4) channel between two threads");
}

/// Semaphores (biased words) made on one thread and updated by it while another thread
/// starts updating them: each revocation runs `membarrier`; no update may be lost.
#[test]
#[ignore = "long: run by scripts/stress-membarrier.sh"]
fn biased_words_revoked_while_updated() {
    let rounds = 20_000u64;
    let per_side = 250u64; // acquire + release pairs per thread per round
    let ops = Arc::new(AtomicU64::new(0));
    for round in 0..rounds {
        let sem = Arc::new(Semaphore::new(1_000_000));
        let other = {
            let (sem, ops) = (sem.clone(), ops.clone());
            thread::spawn(move || {
                let mut rng = Rng(round.wrapping_mul(0x9e37_79b9) | 1);
                for _ in 0..per_side {
                    rng.maybe_delay();
                    sem.try_acquire_many(3).expect("permits").forget();
                }
                ops.fetch_add(per_side, Relaxed);
            })
        };
        let mut rng = Rng(round | 1);
        for _ in 0..per_side {
            rng.maybe_delay();
            sem.try_acquire_many(1).expect("permits").forget();
        }
        ops.fetch_add(per_side, Relaxed);
        other.join().unwrap();
        assert_eq!(
            sem.available_permits() as u64,
            1_000_000 - per_side * 4,
            "an update was lost in round {round}"
        );
    }
    eprintln!(
        "stress: {rounds} revocations, {} updates racing them",
        ops.load(Relaxed)
    );
}
