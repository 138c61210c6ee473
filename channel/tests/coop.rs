//! The cooperative budget ([`weft_core::coop`]): receives, bounded sends and acquisitions take
//! one unit each, yield (having woken the task) when it is spent, and consume nothing then.
//! Off a weft task the budget is unconstrained and never taken from.

use std::sync::Arc;
use std::task::{Context, Poll};

use futures::task::noop_waker_ref;
use futures::FutureExt;
use weft_channel::{broadcast, mpsc, oneshot, watch, Mutex, Queue, RwLock, Semaphore};
use weft_core::coop::{self, with_budget};

#[test]
fn spent_budget_makes_receives_pending_without_consuming() {
    let mut cx = Context::from_waker(noop_waker_ref());
    let (tx, mut rx) = mpsc::channel(8);
    let (utx, mut urx) = mpsc::unbounded_channel();
    let (otx, mut orx) = oneshot::channel();
    let (btx, mut brx) = broadcast::channel(8);
    let (wtx, mut wrx) = watch::channel(0);
    let q = Queue::new(0);
    tx.try_send(1).unwrap();
    utx.send(1).unwrap();
    otx.send(1).unwrap();
    btx.send(1).unwrap();
    wtx.send(1).unwrap();
    q.put_nowait(1).unwrap();

    with_budget(Some(0), || {
        assert!(rx.poll_recv(&mut cx).is_pending());
        assert!(urx.poll_recv(&mut cx).is_pending());
        assert!(orx.poll_unpin(&mut cx).is_pending());
        assert!(brx.poll_recv(&mut cx).is_pending());
        assert!(Box::pin(wrx.changed()).poll_unpin(&mut cx).is_pending());
        assert!(Box::pin(q.get()).poll_unpin(&mut cx).is_pending());
    });

    // Nothing was consumed: with budget, everything is still there.
    with_budget(Some(100), || {
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
        assert_eq!(urx.poll_recv(&mut cx), Poll::Ready(Some(1)));
        assert_eq!(orx.poll_unpin(&mut cx), Poll::Ready(Ok(1)));
        assert_eq!(brx.poll_recv(&mut cx), Poll::Ready(Ok(1)));
        assert!(Box::pin(wrx.changed()).poll_unpin(&mut cx).is_ready());
        assert_eq!(Box::pin(q.get()).poll_unpin(&mut cx), Poll::Ready(1));
        assert_eq!(coop::remaining(), Some(94), "one unit each");
    });
}

#[test]
fn a_busy_receiver_yields_every_budget() {
    // A task that always finds a message would never yield; with a budget of 3 it returns
    // Pending (after waking itself) every 3 messages.
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..10 {
        tx.send(i).unwrap();
    }
    let mut cx = Context::from_waker(noop_waker_ref());
    let mut per_poll = Vec::new();
    let mut got = 0;
    while got < 10 {
        // One poll of the task: a fresh budget, then receive until told to yield.
        let this_poll = with_budget(Some(3), || {
            let mut n = 0;
            while got < 10 {
                match rx.poll_recv(&mut cx) {
                    Poll::Ready(Some(_)) => {
                        got += 1;
                        n += 1;
                    }
                    Poll::Ready(None) => unreachable!(),
                    Poll::Pending => break,
                }
            }
            n
        });
        per_poll.push(this_poll);
    }
    assert_eq!(per_poll, [3, 3, 3, 1]);
}

#[test]
fn spent_budget_makes_bounded_sends_pending_without_sending() {
    let mut cx = Context::from_waker(noop_waker_ref());
    let (tx, mut rx) = mpsc::channel(8);
    let q = Queue::new(8);
    let mut send = Box::pin(tx.send(1));
    let mut put = Box::pin(q.put(1));

    with_budget(Some(0), || {
        assert!(send.poll_unpin(&mut cx).is_pending());
        assert!(Box::pin(tx.reserve()).poll_unpin(&mut cx).is_pending());
        assert!(Box::pin(tx.clone().reserve_owned())
            .poll_unpin(&mut cx)
            .is_pending());
        assert!(put.poll_unpin(&mut cx).is_pending());
    });
    // Nothing was sent, and no room was taken.
    assert_eq!(tx.capacity(), 8);
    assert!(rx.try_recv().is_err());
    assert_eq!(q.qsize(), 0);

    // With budget, the same futures go through.
    with_budget(Some(100), || {
        assert_eq!(send.poll_unpin(&mut cx), Poll::Ready(Ok(())));
        assert_eq!(put.poll_unpin(&mut cx), Poll::Ready(()));
    });
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(q.get_nowait().unwrap(), 1);
}

#[test]
fn a_busy_sender_yields_every_budget() {
    // A producer whose channel always has room would never yield; with a budget of 4 it
    // returns Pending (after waking itself) every 4 sends.
    let (tx, mut rx) = mpsc::channel(64);
    let mut producer = Box::pin(async move {
        for i in 0..10 {
            tx.send(i).await.unwrap();
        }
    });
    let mut cx = Context::from_waker(noop_waker_ref());
    let mut per_poll = Vec::new();
    let mut sent = 0;
    loop {
        let done = with_budget(Some(4), || producer.poll_unpin(&mut cx).is_ready());
        let mut this_poll = 0;
        while let Ok(v) = rx.try_recv() {
            assert_eq!(v, sent);
            sent += 1;
            this_poll += 1;
        }
        per_poll.push(this_poll);
        if done {
            break;
        }
    }
    assert_eq!(per_poll, [4, 4, 2]);
}

#[test]
fn spent_budget_makes_acquisitions_pending_without_acquiring() {
    let mut cx = Context::from_waker(noop_waker_ref());
    let sem = Arc::new(Semaphore::new(2));
    let mutex = Arc::new(Mutex::new(0));
    let rw = Arc::new(RwLock::new(0));
    let mut lock = Box::pin(mutex.lock());

    with_budget(Some(0), || {
        assert!(Box::pin(sem.acquire()).poll_unpin(&mut cx).is_pending());
        assert!(Box::pin(sem.acquire_many(2))
            .poll_unpin(&mut cx)
            .is_pending());
        assert!(Box::pin(sem.clone().acquire_owned())
            .poll_unpin(&mut cx)
            .is_pending());
        assert!(lock.poll_unpin(&mut cx).is_pending());
        assert!(Box::pin(mutex.clone().lock_owned())
            .poll_unpin(&mut cx)
            .is_pending());
        assert!(Box::pin(rw.read()).poll_unpin(&mut cx).is_pending());
        assert!(Box::pin(rw.write()).poll_unpin(&mut cx).is_pending());
    });
    // Nothing was taken.
    assert_eq!(sem.available_permits(), 2);
    assert!(mutex.try_lock().is_ok());
    assert!(rw.try_write().is_ok());

    // With budget, the same future goes through.
    with_budget(Some(100), || match lock.poll_unpin(&mut cx) {
        Poll::Ready(mut guard) => *guard += 1,
        Poll::Pending => panic!("lock with budget and a free mutex stayed pending"),
    });
    assert_eq!(*mutex.try_lock().unwrap(), 1);
}

#[test]
fn each_operation_takes_one_and_unconstrained_is_never_taken_from() {
    let mut cx = Context::from_waker(noop_waker_ref());
    let (tx, mut rx) = mpsc::channel(8);
    with_budget(Some(10), || {
        assert_eq!(tx.send(1).poll_unpin(&mut cx), Poll::Ready(Ok(())));
        assert_eq!(coop::remaining(), Some(9));
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
        assert_eq!(coop::remaining(), Some(8));
        let m = Mutex::new(0);
        drop(Box::pin(m.lock()).poll_unpin(&mut cx));
        assert_eq!(coop::remaining(), Some(7));
    });
    // Off a weft task: unconstrained, and it stays so.
    for i in 0..100 {
        assert_eq!(tx.send(i).poll_unpin(&mut cx), Poll::Ready(Ok(())));
        assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(i)));
    }
    assert_eq!(coop::remaining(), None);
}

#[test]
fn each_thread_has_its_own_budget() {
    with_budget(Some(3), || {
        let other = std::thread::spawn(|| {
            let mut cx = Context::from_waker(noop_waker_ref());
            let (tx, mut rx) = mpsc::unbounded_channel();
            tx.send(1).unwrap();
            assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
            coop::remaining() // this thread's: unconstrained, untouched
        });
        assert_eq!(other.join().unwrap(), None);
        assert_eq!(coop::remaining(), Some(3));
    });
}
