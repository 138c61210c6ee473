//! The blocking pool: results, panics, many jobs, and a bounded thread count.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};

use common::runtime_with;
use common::scaled;
use weft_executor::spawn_blocking;
use weft_executor::Runtime;

#[test]
fn returns_the_result() {
    let rt = Runtime::new();
    let v = rt.block_on(async { spawn_blocking(|| 6 * 7).await.unwrap() });
    assert_eq!(v, 42);
}

#[test]
fn a_panic_comes_back_as_join_error() {
    let rt = Runtime::new();
    rt.block_on(async {
        let err = spawn_blocking(|| -> u8 { panic!("blocking boom") })
            .await
            .unwrap_err();
        assert!(err.is_panic());
        assert_eq!(err.to_string(), "task panicked: blocking boom");
        // The pool still works.
        assert_eq!(spawn_blocking(|| 1).await.unwrap(), 1);
    });
}

#[test]
fn many_jobs_on_few_threads() {
    let rt = runtime_with(|cfg| {
        cfg.max_blocking_threads = 4;
    });
    let n = scaled(2000);
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    let sum = rt.block_on(async move {
        let handles: Vec<_> = (0..n)
            .map(|i| {
                let c = c.clone();
                spawn_blocking(move || {
                    c.fetch_add(1, Ordering::SeqCst);
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for h in handles {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, (0..n).sum::<usize>());
    assert_eq!(count.load(Ordering::SeqCst), n);
    assert!(rt.blocking_threads() <= 4);
}

#[test]
fn jobs_run_in_parallel_up_to_the_limit() {
    // Three jobs that each wait for the other two: only possible on three threads at once.
    let rt = Runtime::new();
    let barrier = Arc::new(Barrier::new(3));
    rt.block_on(async move {
        let hs: Vec<_> = (0..3)
            .map(|_| {
                let b = barrier.clone();
                spawn_blocking(move || {
                    b.wait();
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    assert!(rt.blocking_threads() >= 1);
}
