//! Notify, Event, Barrier, Condvar.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Context, Poll};

use common::scale;
use futures::executor::block_on;
use futures::task::noop_waker_ref;
use futures::FutureExt;
use weft_channel::{Barrier, Condvar, Event, Mutex, Notify};

fn cx() -> Context<'static> {
    Context::from_waker(noop_waker_ref())
}

#[test]
fn notify_one_across_threads_is_never_lost() {
    for _ in 0..scale(500, 10) {
        let notify = Arc::new(Notify::new());
        let n2 = notify.clone();
        let t = std::thread::spawn(move || n2.notify_one());
        block_on(notify.notified()); // either the permit or the wake
        t.join().unwrap();
    }
}

#[test]
fn notify_waiters_wakes_all_registered() {
    let notify = Notify::new();
    let mut futs: Vec<_> = (0..5).map(|_| Box::pin(notify.notified())).collect();
    for f in futs.iter_mut().take(3) {
        assert!(f.poll_unpin(&mut cx()).is_pending());
    }
    notify.notify_waiters();
    for f in &mut futs {
        assert_eq!(f.poll_unpin(&mut cx()), Poll::Ready(()));
    }
    assert!(
        Box::pin(notify.notified())
            .poll_unpin(&mut cx())
            .is_pending(),
        "no permit stored"
    );
}

#[test]
fn event_set_clear_wait() {
    let event = Arc::new(Event::new());
    let mut wait = Box::pin(event.wait());
    assert!(wait.poll_unpin(&mut cx()).is_pending());
    event.set();
    event.clear(); // as asyncio: a waiter woken by set returns even if cleared since
    assert_eq!(wait.poll_unpin(&mut cx()), Poll::Ready(()));
    assert!(!event.is_set());
    let waiters: Vec<_> = (0..scale(4, 2))
        .map(|_| {
            let e = event.clone();
            std::thread::spawn(move || block_on(e.wait()))
        })
        .collect();
    event.set();
    waiters.into_iter().for_each(|h| h.join().unwrap());
}

#[test]
fn barrier_rounds_with_one_leader_each() {
    let n = scale(4, 3);
    let rounds = scale(50, 3);
    let barrier = Arc::new(Barrier::new(n));
    let leaders = Arc::new(AtomicUsize::new(0));
    let handles: Vec<_> = (0..n)
        .map(|_| {
            let (b, l) = (barrier.clone(), leaders.clone());
            std::thread::spawn(move || {
                for _ in 0..rounds {
                    if block_on(b.wait()).is_leader() {
                        l.fetch_add(1, SeqCst);
                    }
                }
            })
        })
        .collect();
    handles.into_iter().for_each(|h| h.join().unwrap());
    assert_eq!(leaders.load(SeqCst), rounds);
}

#[test]
fn barrier_cancelled_wait_withdraws() {
    let b = Barrier::new(2);
    let mut first = Box::pin(b.wait());
    assert!(first.poll_unpin(&mut cx()).is_pending());
    drop(first);
    let mut second = Box::pin(b.wait());
    assert!(
        second.poll_unpin(&mut cx()).is_pending(),
        "the cancelled arrival does not count"
    );
    let mut third = Box::pin(b.wait());
    assert!(matches!(third.poll_unpin(&mut cx()), Poll::Ready(r) if r.is_leader()));
    assert!(matches!(second.poll_unpin(&mut cx()), Poll::Ready(r) if !r.is_leader()));
}

#[test]
fn condvar_producer_consumer() {
    let pair = Arc::new((Mutex::new(Vec::new()), Condvar::new()));
    let items = scale(1000, 10);
    let p2 = pair.clone();
    let producer = std::thread::spawn(move || {
        block_on(async {
            for i in 0..items {
                p2.0.lock().await.push(i);
                p2.1.notify_one();
            }
        })
    });
    let got = block_on(async {
        let (lock, cvar) = &*pair;
        let mut got = Vec::new();
        let mut guard = lock.lock().await;
        while got.len() < items {
            if guard.is_empty() {
                guard = cvar.wait(guard).await;
            } else {
                got.append(&mut guard);
            }
        }
        got
    });
    producer.join().unwrap();
    assert_eq!(got, (0..items).collect::<Vec<_>>());
}
