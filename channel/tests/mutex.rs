//! Mutex and RwLock: FIFO fairness, mutual exclusion under contention, cancellation.

mod common;

use std::sync::Arc;
use std::task::Context;

use common::scale;
use futures::executor::{block_on, LocalPool};
use futures::task::{noop_waker_ref, LocalSpawnExt};
use futures::FutureExt;
use weft_channel::{Mutex, RwLock};

#[test]
fn lock_is_granted_in_fifo_order() {
    let n = scale(32, 8);
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let mutex = Arc::new(Mutex::new(Vec::new()));
    let held = mutex.clone().try_lock_owned().unwrap();
    for i in 0..n {
        let m = mutex.clone();
        spawner
            .spawn_local(async move { m.lock().await.push(i) })
            .unwrap();
    }
    pool.run_until_stalled(); // every task is queued, in spawn order
                              // Tasks that come later may not overtake the queue, even when the lock is briefly free.
    assert!(mutex.try_lock().is_err());
    drop(held);
    pool.run_until_stalled();
    let order = block_on(mutex.lock()).clone();
    assert_eq!(order, (0..n).collect::<Vec<_>>());
}

#[test]
fn requeued_tasks_keep_round_robin_order() {
    // Each task takes the lock 3 times; with a fair lock they interleave 0,1,2,0,1,2,...
    let tasks = 4;
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let mutex = Arc::new(Mutex::new(Vec::new()));
    let held = mutex.clone().try_lock_owned().unwrap();
    for t in 0..tasks {
        let m = mutex.clone();
        spawner
            .spawn_local(async move {
                for _ in 0..3 {
                    m.lock().await.push(t);
                }
            })
            .unwrap();
    }
    pool.run_until_stalled();
    drop(held);
    pool.run();
    let order = mutex.try_lock().unwrap().clone();
    let expected: Vec<_> = (0..3).flat_map(|_| 0..tasks).collect();
    assert_eq!(order, expected);
}

#[test]
fn cancelled_lock_passes_it_on() {
    let m = Mutex::new(0);
    let mut cx = Context::from_waker(noop_waker_ref());
    let guard = m.try_lock().unwrap();
    let mut a = Box::pin(m.lock());
    let mut b = Box::pin(m.lock());
    assert!(a.poll_unpin(&mut cx).is_pending());
    assert!(b.poll_unpin(&mut cx).is_pending());
    drop(guard); // handed to `a`
    drop(a); // `a` never used it: handed to `b`
    let mut g = match b.poll_unpin(&mut cx) {
        std::task::Poll::Ready(g) => g,
        std::task::Poll::Pending => panic!("lock not passed on"),
    };
    *g += 1;
    drop(g);
    drop(b);
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn mutual_exclusion_across_threads() {
    let threads = scale(4, 3);
    let iters = scale(5_000, 30);
    let m = Arc::new(Mutex::new((0usize, false)));
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let m = m.clone();
            std::thread::spawn(move || {
                block_on(async {
                    for _ in 0..iters {
                        let mut g = m.lock().await;
                        assert!(!g.1, "two holders at once");
                        g.1 = true;
                        g.0 += 1;
                        std::hint::spin_loop();
                        g.1 = false;
                    }
                })
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(block_on(m.lock()).0, threads * iters);
}

/// A lock's state word is biased to the first thread that takes it (updated there with plain
/// stores) until another thread's first update revokes that. Each round takes a new mutex on
/// this thread while a second thread starts taking it, so the revocation lands at different
/// points of this thread's updates: exclusion holds and no increment is lost.
#[test]
fn exclusion_holds_while_the_bias_is_revoked() {
    use std::sync::atomic::{AtomicBool, Ordering::*};
    let rounds = scale(300, 3);
    let iters = scale(200, 10);
    for _ in 0..rounds {
        let m = Arc::new(Mutex::new((0usize, false)));
        let done = Arc::new(AtomicBool::new(false));
        let critical = |g: &mut (usize, bool)| {
            assert!(!g.1, "two holders at once");
            g.1 = true;
            g.0 += 1;
            g.1 = false;
        };
        let mut mine = 0;
        critical(&mut block_on(m.lock())); // this thread claims the word
        mine += 1;
        let other = {
            let (m, done) = (m.clone(), done.clone());
            std::thread::spawn(move || {
                block_on(async {
                    for _ in 0..iters {
                        critical(&mut *m.lock().await);
                    }
                });
                done.store(true, Release);
            })
        };
        while !done.load(Acquire) {
            critical(&mut block_on(m.lock()));
            mine += 1;
        }
        other.join().unwrap();
        assert_eq!(block_on(m.lock()).0, mine + iters);
    }
}

#[test]
fn rwlock_readers_share_writers_exclude() {
    let threads = scale(4, 3);
    let iters = scale(3_000, 20);
    let lock = Arc::new(RwLock::new(0usize));
    let readers = Arc::new(std::sync::atomic::AtomicIsize::new(0));
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let (lock, readers) = (lock.clone(), readers.clone());
            std::thread::spawn(move || {
                block_on(async {
                    for i in 0..iters {
                        if (i + t) % 4 == 0 {
                            let mut w = lock.write().await;
                            assert_eq!(readers.load(std::sync::atomic::Ordering::SeqCst), 0);
                            *w += 1;
                        } else {
                            let r = lock.read().await;
                            readers.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                            let _ = *r;
                            readers.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
                        }
                    }
                })
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    let writes: usize = (0..threads)
        .map(|t| (0..iters).filter(|i| (i + t) % 4 == 0).count())
        .sum();
    assert_eq!(*block_on(lock.read()), writes);
}

#[test]
fn queued_writer_blocks_later_readers() {
    let lock = RwLock::new(0);
    let mut cx = Context::from_waker(noop_waker_ref());
    let r1 = lock.try_read().unwrap();
    let mut w = Box::pin(lock.write());
    assert!(w.poll_unpin(&mut cx).is_pending());
    assert!(
        lock.try_read().is_err(),
        "a reader may not overtake a queued writer"
    );
    drop(r1);
    assert!(w.poll_unpin(&mut cx).is_ready());
}
