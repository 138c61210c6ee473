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

/// Runs a future to completion on this loom thread, parking between polls until its waker is
/// woken. Unlike `loom::future::block_on`, whose park may return spuriously (and so polls
/// again without a wake), this one wakes only on a wake: a lost wake is a deadlock, which loom
/// reports.
pub fn block_on<F: std::future::Future>(f: F) -> F::Output {
    use loom::sync::{Condvar, Mutex};
    use std::task::{Context, Poll, Wake, Waker};

    struct Signal {
        woken: Mutex<bool>,
        cv: Condvar,
    }

    impl Wake for Signal {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }

        fn wake_by_ref(self: &Arc<Self>) {
            *self.woken.lock().unwrap() = true;
            self.cv.notify_one();
        }
    }

    let signal = Arc::new(Signal {
        woken: Mutex::new(false),
        cv: Condvar::new(),
    });
    let waker = Waker::from(signal.clone());
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        let mut woken = signal.woken.lock().unwrap();
        while !*woken {
            woken = signal.cv.wait(woken).unwrap();
        }
        *woken = false;
    }
}
