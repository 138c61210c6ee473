//! asyncio queues: exactly-once delivery under contention, ordering, task_done/join.

mod common;

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;

use common::{scale, OrderCheck};
use futures::executor::{block_on, LocalPool};
use futures::task::LocalSpawnExt;
use weft_channel::{LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull};

#[test]
fn fifo_threads_exactly_once_in_order() {
    let producers = scale(4, 3);
    let per = scale(10_000, 30);
    let q = Queue::new(8);
    let handles: Vec<_> = (0..producers)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                block_on(async {
                    for i in 0..per {
                        q.put((p, i)).await;
                    }
                })
            })
        })
        .collect();
    let mut check = OrderCheck::new(producers);
    block_on(async {
        for _ in 0..producers * per {
            let (p, i) = q.get().await;
            check.see(p, i);
            q.task_done();
        }
        q.join().await;
    });
    check.assert_complete(per);
    assert!(q.empty());
    handles.into_iter().for_each(|h| h.join().unwrap());
}

#[test]
fn many_consumers_threads_exactly_once() {
    let producers = scale(3, 2);
    let consumers = scale(3, 2);
    let per = scale(5_000, 20);
    let q: Queue<(usize, usize)> = Queue::new(4);
    let prod: Vec<_> = (0..producers)
        .map(|p| {
            let q = q.clone();
            std::thread::spawn(move || {
                block_on(async {
                    for i in 0..per {
                        q.put((p, i)).await;
                    }
                })
            })
        })
        .collect();
    let cons: Vec<_> = (0..consumers)
        .map(|c| {
            let q = q.clone();
            let share = producers * per / consumers + usize::from(c < producers * per % consumers);
            std::thread::spawn(move || {
                block_on(async {
                    let mut got = Vec::new();
                    for _ in 0..share {
                        got.push(q.get().await);
                        q.task_done();
                    }
                    got
                })
            })
        })
        .collect();
    prod.into_iter().for_each(|h| h.join().unwrap());
    let mut all = HashSet::new();
    for h in cons {
        for item in h.join().unwrap() {
            assert!(all.insert(item), "{item:?} delivered twice");
        }
    }
    assert_eq!(all.len(), producers * per);
    block_on(q.join());
}

#[test]
fn tasks_one_thread_with_join() {
    let mut pool = LocalPool::new();
    let spawner = pool.spawner();
    let q = Queue::new(2);
    let workers = scale(4, 2);
    let items = scale(1000, 20);
    let done = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for _ in 0..workers {
        let (q, done) = (q.clone(), done.clone());
        spawner
            .spawn_local(async move {
                loop {
                    let _item: usize = q.get().await;
                    done.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    q.task_done();
                }
            })
            .unwrap();
    }
    let producer = q.clone();
    pool.run_until(async move {
        for i in 0..items {
            producer.put(i).await;
        }
        producer.join().await;
    });
    assert_eq!(done.load(std::sync::atomic::Ordering::SeqCst), items);
}

#[test]
fn nowait_and_sizes() {
    let q = Queue::new(2);
    assert!(q.empty() && !q.full());
    q.put_nowait(1).unwrap();
    q.put_nowait(2).unwrap();
    assert!(q.full());
    assert_eq!(q.qsize(), 2);
    assert_eq!(q.put_nowait(3), Err(QueueFull(3)));
    assert_eq!(q.get_nowait(), Ok(1));
    assert_eq!(q.get_nowait(), Ok(2));
    assert_eq!(q.get_nowait(), Err(QueueEmpty));
    let unbounded = Queue::new(0);
    for i in 0..100 {
        unbounded.put_nowait(i).unwrap();
    }
    assert!(!unbounded.full());
}

#[test]
fn priority_smallest_first_and_lifo() {
    let p = PriorityQueue::new(0);
    for x in [5, 1, 4, 2, 3] {
        p.put_nowait(x).unwrap();
    }
    let got: Vec<_> = std::iter::from_fn(|| p.get_nowait().ok()).collect();
    assert_eq!(got, [1, 2, 3, 4, 5]);

    let l = LifoQueue::new(0);
    for x in 0..4 {
        l.put_nowait(x).unwrap();
    }
    let got: Vec<_> = std::iter::from_fn(|| l.get_nowait().ok()).collect();
    assert_eq!(got, [3, 2, 1, 0]);
}

#[test]
fn join_waits_for_task_done() {
    let q = Queue::new(0);
    q.put_nowait(1).unwrap();
    let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
    let mut join = Box::pin(q.join());
    assert!(join.as_mut().poll(&mut cx).is_pending());
    q.get_nowait().unwrap();
    assert!(join.as_mut().poll(&mut cx).is_pending(), "got but not done");
    q.task_done();
    assert!(join.as_mut().poll(&mut cx).is_ready());
}
