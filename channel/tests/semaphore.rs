//! Semaphore: never over-grants under contention; fair; close.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;

use common::scale;
use futures::executor::{block_on, LocalPool};
use futures::task::LocalSpawnExt;
use weft_channel::{Semaphore, TryAcquireError};

#[test]
fn never_over_grants_across_threads() {
    const PERMITS: usize = 5;
    let threads = scale(4, 3);
    let iters = scale(5_000, 25);
    let sem = Arc::new(Semaphore::new(PERMITS));
    let in_use = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (sem, in_use) = (sem.clone(), in_use.clone());
            std::thread::spawn(move || {
                block_on(async {
                    for i in 0..iters {
                        let n = 1 + (i * 7 + t) % 3;
                        let permit = match i % 4 {
                            0 => match sem.try_acquire_many(n as u32) {
                                Ok(p) => p,
                                Err(_) => sem.acquire_many(n as u32).await.unwrap(),
                            },
                            _ => sem.acquire_many(n as u32).await.unwrap(),
                        };
                        let now = in_use.fetch_add(n, SeqCst) + n;
                        assert!(now <= PERMITS, "{now} permits in use");
                        std::hint::spin_loop();
                        in_use.fetch_sub(n, SeqCst);
                        drop(permit);
                    }
                })
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(sem.available_permits(), PERMITS);
}

#[test]
fn owned_permits_across_threads_and_add_permits() {
    let sem = Arc::new(Semaphore::new(0));
    let waiters: Vec<_> = (0..3)
        .map(|_| {
            let sem = sem.clone();
            std::thread::spawn(move || block_on(sem.acquire_owned()).unwrap().forget())
        })
        .collect();
    sem.add_permits(3);
    waiters.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(sem.available_permits(), 0);
}

#[test]
fn fifo_grants() {
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let sem = Arc::new(Semaphore::new(0));
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    for (i, n) in [3u32, 1, 2, 1].into_iter().enumerate() {
        let (sem, order) = (sem.clone(), order.clone());
        spawner
            .spawn_local(async move {
                sem.acquire_many(n).await.unwrap().forget();
                order.lock().unwrap().push(i);
            })
            .unwrap();
    }
    pool.run_until_stalled();
    for _ in 0..7 {
        sem.add_permits(1);
        pool.run_until_stalled();
    }
    // The 3-permit request is first: the small ones behind it wait for it.
    assert_eq!(*order.lock().unwrap(), [0, 1, 2, 3]);
}

#[test]
fn close_fails_waiters_and_acquires() {
    let sem = Arc::new(Semaphore::new(1));
    let p = sem.try_acquire().unwrap();
    let s2 = sem.clone();
    let waiter = std::thread::spawn(move || block_on(s2.acquire()).map(|p| p.forget()));
    sem.close(); // before or after the waiter queued: it fails either way
    assert!(waiter.join().unwrap().is_err());
    assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    drop(p); // still valid
    assert_eq!(sem.available_permits(), 1);
}
