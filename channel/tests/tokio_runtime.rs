//! The channels driven by tokio's runtimes (current_thread and multi_thread): proof that
//! they are runtime-agnostic.

mod common;

use std::sync::Arc;

use common::{scale, OrderCheck};
use weft_channel::{broadcast, mpsc, oneshot, watch, Mutex, Queue, Semaphore};

fn current_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn multi_thread() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .unwrap()
}

async fn mpsc_workload(senders: usize, per: usize) {
    let (tx, mut rx) = mpsc::channel::<(usize, usize)>(4);
    let (utx, mut urx) = mpsc::unbounded_channel::<(usize, usize)>();
    for s in 0..senders {
        let (tx, utx) = (tx.clone(), utx.clone());
        tokio::spawn(async move {
            for i in 0..per {
                tx.send((s, i)).await.unwrap();
                utx.send((s, i)).unwrap();
            }
        });
    }
    drop((tx, utx));
    let unbounded = tokio::spawn(async move {
        let mut check = OrderCheck::new(senders);
        while let Some((s, i)) = urx.recv().await {
            check.see(s, i);
        }
        check.assert_complete(per);
    });
    let mut check = OrderCheck::new(senders);
    while let Some((s, i)) = rx.recv().await {
        check.see(s, i);
    }
    check.assert_complete(per);
    unbounded.await.unwrap();
}

async fn oneshot_and_sync_workload(tasks: usize) {
    let mutex = Arc::new(Mutex::new(0));
    let sem = Arc::new(Semaphore::new(2));
    let queue = Queue::new(2);
    let (wtx, mut wrx) = watch::channel(0);
    let (btx, mut brx) = broadcast::channel(tasks * 2);
    let mut replies = Vec::new();
    for i in 0..tasks {
        let (otx, orx) = oneshot::channel();
        let (mutex, sem, queue, btx) = (mutex.clone(), sem.clone(), queue.clone(), btx.clone());
        tokio::spawn(async move {
            let _permit = sem.acquire().await.unwrap();
            *mutex.lock().await += 1;
            queue.put(i).await;
            btx.send(i).unwrap();
            otx.send(i * 2).unwrap();
        });
        replies.push(orx);
    }
    drop(btx);
    let mut sum = 0;
    for _ in 0..tasks {
        sum += queue.get().await;
        queue.task_done();
    }
    queue.join().await;
    for (i, rx) in replies.into_iter().enumerate() {
        assert_eq!(rx.await.unwrap(), i * 2);
    }
    let mut seen = 0;
    while brx.recv().await.is_ok() {
        seen += 1;
    }
    assert_eq!(seen, tasks);
    assert_eq!(sum, (0..tasks).sum::<usize>());
    assert_eq!(*mutex.lock().await, tasks);
    tokio::spawn(async move { wtx.send(5).unwrap() });
    wrx.changed().await.unwrap();
    assert_eq!(*wrx.borrow(), 5);
}

#[test]
fn tokio_current_thread() {
    let rt = current_thread();
    rt.block_on(mpsc_workload(scale(4, 2), scale(2_000, 10)));
    rt.block_on(oneshot_and_sync_workload(scale(50, 4)));
}

#[test]
fn tokio_multi_thread() {
    let rt = multi_thread();
    rt.block_on(mpsc_workload(scale(4, 2), scale(2_000, 10)));
    rt.block_on(oneshot_and_sync_workload(scale(50, 4)));
}
