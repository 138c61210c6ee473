//! What the loom models share: a `model` that reports how many executions loom explored,
//! and a value that counts its drops.

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;

/// Runs `f` under `loom::model` (bounded by `LOOM_MAX_PREEMPTIONS` and friends) and prints
/// the number of executions explored (`--nocapture` shows it; `scripts/loom.sh` collects it).
pub fn model<F: Fn() + Send + Sync + 'static>(name: &str, f: F) {
    let runs = Arc::new(AtomicUsize::new(0));
    let counter = runs.clone();
    loom::model(move || {
        counter.fetch_add(1, Relaxed);
        f()
    });
    eprintln!("loom model {name}: {} executions", runs.load(Relaxed));
}

/// A value that counts its drops in a shared counter (bookkeeping outside the model: a std
/// atomic, read after every modelled thread was joined).
#[derive(Debug)]
#[allow(dead_code)]
pub struct Counted(pub Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Relaxed);
    }
}

/// A fresh drop counter.
#[allow(dead_code)] // not every model counts drops
pub fn drops() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// How many times the values of `counter` were dropped.
#[allow(dead_code)]
pub fn dropped(counter: &Arc<AtomicUsize>) -> usize {
    counter.load(Relaxed)
}
