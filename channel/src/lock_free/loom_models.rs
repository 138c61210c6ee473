//! loom models of the biased word and the asymmetric fence: `scripts/loom.sh` (or
//! `RUSTFLAGS="--cfg weft_loom" cargo test -p weft-channel --lib --release loom`).
//!
//! `membarrier` is modelled as `fence.rs` says ("The loom model of `membarrier`"): a full
//! fence on the light side at the point its compiler fence stands, and the heavy side's own
//! full fence. Each model's mutant (`scripts/mutants/`) removes one of the two and must fail.

use super::{AsymFence, BiasedLock, BiasedWord};
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release, SeqCst};

/// `loom::model`, printing how many executions it explored.
fn model(name: &str, f: impl Fn() + Send + Sync + 'static) {
    model_bounded(name, None, f);
}

/// As [`model`], with the preemption bound capped at `cap` (for a model whose three
/// spin-waiting threads exceed loom's branch limit beyond it).
fn model_bounded(name: &str, cap: Option<usize>, f: impl Fn() + Send + Sync + 'static) {
    let runs = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = runs.clone();
    let mut builder = loom::model::Builder::new();
    if let Some(cap) = cap {
        builder.preemption_bound = Some(builder.preemption_bound.map_or(cap, |b| b.min(cap)));
    }
    builder.check(move || {
        counter.fetch_add(1, Relaxed);
        f()
    });
    eprintln!("loom model {name}: {} executions", runs.load(Relaxed));
}

/// The owner's updates race one revocation: every update lands exactly once, and the revoker
/// sees every plain update the owner made before it.
#[test]
fn owner_updates_race_a_revocation() {
    model("biased owner_updates_race_a_revocation", || {
        let w = Arc::new(BiasedWord::new(0));
        let other = {
            let w = w.clone();
            thread::spawn(move || w.fetch_add(10, AcqRel))
        };
        w.fetch_add(1, AcqRel);
        w.fetch_add(1, AcqRel);
        let seen = other.join().unwrap();
        assert!(
            seen == 0 || seen == 1 || seen == 2,
            "the revoker saw {seen}"
        );
        assert_eq!(w.load(Acquire), 12, "an update was lost");
    });
}

/// Two threads revoke at once while the owner updates: one revokes, the other waits for
/// `SHARED`; no update is lost. Three threads of which two spin-wait: beyond 2 preemptions
/// an execution exceeds loom's branch limit, so the bound is capped at 2 here.
#[test]
fn two_revokers() {
    model_bounded("biased two_revokers", Some(2), || {
        let w = Arc::new(BiasedWord::new(0));
        let revokers: Vec<_> = [10, 100]
            .into_iter()
            .map(|n| {
                let w = w.clone();
                thread::spawn(move || {
                    w.fetch_add(n, AcqRel);
                })
            })
            .collect();
        w.fetch_add(1, AcqRel);
        for r in revokers {
            r.join().unwrap();
        }
        assert_eq!(w.load(Acquire), 111, "an update was lost");
    });
}

/// The biased lock excludes across the revocation: the data it guards (a loom cell) is never
/// touched by two holders, and the owner's plain unlock publishes its writes.
#[test]
fn biased_lock_excludes_across_the_revocation() {
    model("biased biased_lock_excludes_across_the_revocation", || {
        let lock = Arc::new(BiasedLock::new(0usize));
        let other = {
            let lock = lock.clone();
            thread::spawn(move || *lock.lock() += 10)
        };
        *lock.lock() += 1;
        other.join().unwrap();
        assert_eq!(*lock.lock(), 11);
    });
}

/// The asymmetric fence's store-buffering pair (the bounded mpsc's park/wake handshake): the
/// light side stores then loads, the heavy side stores then loads; at least one sees the
/// other's store. The light side runs on the heavy side's thread first, then moves, so the
/// same-thread skip is taken and then must not be.
#[test]
fn asym_fence_store_buffering() {
    model("biased asym_fence_store_buffering", || {
        let f = Arc::new(AsymFence::new());
        let light_flag = Arc::new(AtomicBool::new(false));
        let heavy_flag = Arc::new(AtomicBool::new(false));
        // The light side first runs here: `heavy` on this thread may skip the barrier.
        f.light_start();
        let light = {
            let (f, light_flag, heavy_flag) = (f.clone(), light_flag.clone(), heavy_flag.clone());
            thread::spawn(move || {
                f.light_start();
                light_flag.store(true, Relaxed);
                f.light();
                heavy_flag.load(Relaxed)
            })
        };
        heavy_flag.store(true, Relaxed);
        f.heavy();
        let heavy_saw = light_flag.load(Relaxed);
        let light_saw = light.join().unwrap();
        assert!(
            heavy_saw || light_saw,
            "both sides missed the other's store"
        );
    });
}

/// The biased word from a lock's point of view: many short updates from the owner while a
/// second thread counts with CAS loops (the path `no_update_is_lost_while_revoking` stresses
/// with real threads).
#[test]
fn cas_loops_race_the_owner() {
    model("biased cas_loops_race_the_owner", || {
        let w = Arc::new(BiasedWord::new(0));
        let done = Arc::new(AtomicUsize::new(0));
        let other = {
            let (w, done) = (w.clone(), done.clone());
            thread::spawn(move || {
                let mut v = w.load(Relaxed);
                while let Err(actual) = w.compare_exchange_weak(v, v + 1, AcqRel, Relaxed) {
                    v = actual;
                }
                done.store(1, Release);
            })
        };
        let mut v = w.load(Relaxed);
        while let Err(actual) = w.compare_exchange_weak(v, v + 1, AcqRel, Relaxed) {
            v = actual;
        }
        other.join().unwrap();
        assert_eq!(done.load(SeqCst), 1);
        assert_eq!(w.load(Acquire), 2, "an update was lost");
    });
}
