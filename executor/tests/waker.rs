//! Wakes from other threads, wakers on other threads, and wakers that outlive the runtime.
mod common;

use std::future::poll_fn;
use std::sync::mpsc;
use std::task::{Poll, Waker};
use std::thread;

use common::scaled;
use weft_executor::{spawn, yield_now, Runtime};

#[test]
fn wake_from_a_std_thread() {
    let rt = Runtime::new();
    let n = scaled(200);
    rt.block_on(async move {
        for i in 0..n {
            let (tx, rx) = mpsc::channel::<Waker>();
            let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
            let f = flag.clone();
            let t = thread::spawn(move || {
                let w = rx.recv().unwrap();
                f.store(true, std::sync::atomic::Ordering::SeqCst);
                if i % 2 == 0 {
                    w.wake();
                } else {
                    w.wake_by_ref();
                }
            });
            let mut sent = Some(tx);
            let h = spawn(poll_fn(move |cx| {
                if flag.load(std::sync::atomic::Ordering::SeqCst) {
                    return Poll::Ready(i);
                }
                if let Some(tx) = sent.take() {
                    tx.send(cx.waker().clone()).unwrap();
                }
                Poll::Pending
            }));
            assert_eq!(h.await.unwrap(), i);
            t.join().unwrap();
        }
    });
}

#[test]
fn waker_clone_and_drop_on_other_threads() {
    let rt = Runtime::new();
    let threads = if cfg!(miri) { 2 } else { 8 };
    let clones = scaled(10_000);
    rt.block_on(async move {
        let h = spawn(poll_fn(move |cx| {
            let handles: Vec<_> = (0..threads)
                .map(|_| {
                    let w = cx.waker().clone();
                    thread::spawn(move || {
                        let v: Vec<Waker> = (0..clones).map(|_| w.clone()).collect();
                        drop(v);
                        drop(w);
                    })
                })
                .collect();
            for h in handles {
                h.join().unwrap();
            }
            Poll::Ready(())
        }));
        h.await.unwrap();
    });
}

#[test]
fn waker_that_outlives_the_runtime_is_harmless() {
    let (tx, rx) = mpsc::channel::<Waker>();
    {
        let rt = Runtime::new();
        rt.block_on(async {
            let tx = tx.clone();
            drop(spawn(poll_fn(move |cx| {
                tx.send(cx.waker().clone()).unwrap();
                tx.send(cx.waker().clone()).unwrap();
                tx.send(cx.waker().clone()).unwrap();
                Poll::<()>::Pending
            })));
            yield_now().await;
        });
    }
    let a = rx.recv().unwrap();
    let b = rx.recv().unwrap();
    let c = rx.recv().unwrap();
    // Same thread, runtime gone.
    a.wake_by_ref();
    let a2 = a.clone();
    a.wake();
    drop(a2);
    // Another thread, runtime gone.
    thread::spawn(move || {
        b.wake_by_ref();
        let b2 = b.clone();
        b2.wake();
        drop(b);
    })
    .join()
    .unwrap();
    // Inside a different runtime on this thread.
    let rt2 = Runtime::new();
    rt2.block_on(async move {
        c.wake_by_ref();
        yield_now().await;
        c.wake();
    });
}

#[test]
fn several_runtimes_on_parallel_threads() {
    let threads: Vec<_> = (0..4)
        .map(|t| {
            thread::spawn(move || {
                let rt = Runtime::new();
                rt.block_on(async move {
                    let mut total = 0;
                    for i in 0..scaled(1000) {
                        total += spawn(async move { i + t }).await.unwrap();
                    }
                    total
                })
            })
        })
        .collect();
    for (t, h) in threads.into_iter().enumerate() {
        let n = scaled(1000);
        assert_eq!(h.join().unwrap(), (0..n).map(|i| i + t).sum::<usize>());
    }
}

#[test]
fn main_future_woken_from_another_thread() {
    let rt = Runtime::new();
    let (tx, rx) = mpsc::channel::<Waker>();
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d = done.clone();
    let t = thread::spawn(move || {
        let w = rx.recv().unwrap();
        d.store(true, std::sync::atomic::Ordering::SeqCst);
        w.wake();
    });
    let mut tx = Some(tx);
    rt.block_on(poll_fn(|cx| {
        if done.load(std::sync::atomic::Ordering::SeqCst) {
            return Poll::Ready(());
        }
        if let Some(tx) = tx.take() {
            tx.send(cx.waker().clone()).unwrap();
        }
        Poll::Pending
    }));
    t.join().unwrap();
}
