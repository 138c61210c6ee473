//! Dropping the runtime drops every unfinished future exactly once.
mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use common::DropCounter;
use weft_executor::{spawn, yield_now, Runtime};

#[test]
fn shutdown_drops_each_unfinished_future_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::new();
    let mut handles = Vec::new();
    rt.block_on(async {
        for _ in 0..10 {
            let d = DropCounter(drops.clone());
            handles.push(spawn(async move {
                let _d = d;
                std::future::pending::<()>().await
            }));
        }
        // Some never polled at all.
        for _ in 0..5 {
            let d = DropCounter(drops.clone());
            drop(spawn(async move {
                let _d = d;
            }));
        }
        yield_now().await;
    });
    // The five short tasks completed and dropped their counters.
    assert_eq!(drops.load(Ordering::SeqCst), 5);
    // Unpolled ones, detached.
    for _ in 0..3 {
        let d = DropCounter(drops.clone());
        drop(rt.spawn(async move {
            let _d = d;
        }));
    }
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 18);
    // Handles that outlive the runtime see a cancellation.
    for h in handles {
        assert!(h.is_cancelled());
        let r = futures::executor::block_on(h);
        assert!(r.unwrap_err().is_cancelled());
    }
}

#[test]
fn tasks_spawned_during_shutdown_are_dropped_too() {
    struct SpawnOnDrop(Arc<AtomicUsize>, u32);
    impl Drop for SpawnOnDrop {
        fn drop(&mut self) {
            self.0.fetch_add(1, Ordering::SeqCst);
            if self.1 > 0 {
                let inner = SpawnOnDrop(self.0.clone(), self.1 - 1);
                drop(spawn(async move {
                    let _i = inner;
                    std::future::pending::<()>().await
                }));
            }
        }
    }
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::new();
    let d = SpawnOnDrop(drops.clone(), 3);
    drop(rt.spawn(async move {
        let _d = d;
        std::future::pending::<()>().await
    }));
    rt.block_on(yield_now());
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 4);
}

#[test]
fn outputs_nobody_took_are_dropped() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::new();
    let d = drops.clone();
    let h = rt.spawn(async move { DropCounter(d) });
    rt.block_on(yield_now());
    assert!(h.is_finished());
    assert_eq!(drops.load(Ordering::SeqCst), 0);
    drop(h);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}
