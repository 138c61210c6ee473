//! Behaviour weft shares with tokio where it used to differ (issue 15), through the facade:
//! each test states one promise.

use std::cell::RefCell;
use std::future::{poll_fn, ready, Future};
use std::pin::pin;
use std::rc::Rc;
use std::sync::Arc;
use std::task::Poll;
use std::time::Duration;

use weft::sync::{watch, Mutex};
use weft::time::Instant;

#[weft::test]
async fn join_starts_each_poll_one_branch_further() {
    let order = RefCell::new(Vec::new());
    let branch = |i: u8| {
        let order = &order;
        let mut polls = 0;
        poll_fn(move |cx| {
            order.borrow_mut().push(i);
            polls += 1;
            if polls == 3 {
                return Poll::Ready(());
            }
            cx.waker().wake_by_ref();
            Poll::Pending
        })
    };
    weft::join!(branch(0), branch(1), branch(2));
    assert_eq!(*order.borrow(), [0, 1, 2, 1, 2, 0, 2, 0, 1]);
    order.borrow_mut().clear();
    weft::join!(biased; branch(0), branch(1), branch(2));
    assert_eq!(*order.borrow(), [0, 1, 2, 0, 1, 2, 0, 1, 2]);
}

#[test]
fn join_and_select_futures_are_no_larger_than_tokios() {
    use std::mem::size_of_val;
    macro_rules! both {
        ($($body:tt)*) => {{
            let weft_fut = async { use weft as rt; $($body)* };
            let tokio_fut = async { use tokio as rt; $($body)* };
            (size_of_val(&weft_fut), size_of_val(&tokio_fut))
        }};
    }
    let sizes = [
        both!(rt::join!(ready(0i32))),
        both!(rt::join!(ready(0i32), ready(0i32))),
        both!(rt::join!(biased; ready(0i32), ready(0i32))),
        both!(rt::try_join!(
            ready(Ok::<_, ()>(0i32)),
            ready(Ok::<_, ()>(0i32))
        )),
        both!(rt::select! { _ = ready(0i32) => {} }),
        both!(rt::select! { _ = ready(0i32) => {}, _ = ready(0i32) => {} }),
        both!(rt::select! { _ = ready(0) => {}, _ = ready(0) => {}, _ = ready(0) => {} }),
    ];
    for (i, (weft, tokio)) in sizes.into_iter().enumerate() {
        assert!(weft <= tokio, "case {i}: weft {weft} bytes, tokio {tokio}");
    }
}

#[weft::test]
async fn select_yields_when_the_budget_is_spent() {
    // Once the budget is spent, a select! with an always-ready branch yields instead of
    // taking it, so a loop on it lets other tasks run.
    let ran = Rc::new(RefCell::new(false));
    let r = ran.clone();
    weft::spawn(async move { *r.borrow_mut() = true });
    let mut rounds = 0u32;
    while !*ran.borrow() {
        weft::select! {
            biased;
            _ = weft::task::coop::consume_budget() => rounds += 1,
            _ = ready(()) => rounds += 1,
        }
        assert!(rounds < 100_000, "select! never yielded");
    }
}

#[weft::test(start_paused = true)]
async fn sleep_reset_to_the_past_fires_at_once() {
    let start = Instant::now();
    let mut sleep = pin!(weft::sleep(Duration::from_secs(10)));
    assert!(!sleep.is_elapsed(), "not elapsed before its deadline");
    assert!(futures::poll!(sleep.as_mut()).is_pending());
    sleep.as_mut().reset(start); // the past (or now)
    assert!(sleep.is_elapsed());
    assert!(futures::poll!(sleep.as_mut()).is_ready());
    assert_eq!(Instant::now(), start, "no time passed");

    let due = weft::time::sleep_until(start);
    assert!(!due.is_elapsed(), "false before the first poll, as tokio's");

    let mut iv = weft::time::interval(Duration::from_secs(5));
    iv.tick().await;
    iv.reset_immediately();
    assert!(futures::poll!(pin!(iv.tick())).is_ready());
}

#[weft::test]
async fn a_lock_waiter_out_of_budget_keeps_its_place() {
    let m = Arc::new(Mutex::new(()));
    let guard = m.clone().lock_owned().await;
    let mut a = pin!(async {
        while futures::FutureExt::now_or_never(weft::task::coop::consume_budget()).is_some() {}
        m.clone().lock_owned().await
    });
    assert!(futures::poll!(a.as_mut()).is_pending()); // queued, out of budget
    let mut b = pin!(m.clone().lock_owned());
    assert!(futures::poll!(b.as_mut()).is_pending());
    drop(guard);
    assert!(futures::poll!(b.as_mut()).is_pending(), "b queued after a");
    drop(a.await);
    drop(b.await);
}

#[weft::test]
async fn watch_wait_for_and_closed_spend_the_budget() {
    let (tx, mut rx) = watch::channel(1);
    let other = Rc::new(RefCell::new(false));
    let o = other.clone();
    weft::spawn(async move { *o.borrow_mut() = true });
    let mut rounds = 0u32;
    while !*other.borrow() {
        drop(rx.wait_for(|v| *v == 1).await.unwrap());
        rounds += 1;
        assert!(rounds < 100_000, "wait_for never yielded");
    }
    let rx2 = rx.clone();
    drop((rx, rx2));
    *other.borrow_mut() = false;
    let o = other.clone();
    weft::spawn(async move { *o.borrow_mut() = true });
    while !*other.borrow() {
        tx.closed().await;
    }
}

#[test]
fn block_on_runs_tasks_woken_between_block_ons() {
    let rt = weft::Runtime::new().unwrap();
    let (tx, mut rx) = weft::sync::mpsc::unbounded_channel::<u8>();
    let got = Rc::new(RefCell::new(Vec::new()));
    let g = got.clone();
    rt.spawn(async move {
        while let Some(v) = rx.recv().await {
            g.borrow_mut().push(v);
        }
    });
    rt.block_on(weft::yield_now());
    tx.send(1).unwrap(); // outside any block_on
    rt.block_on(weft::yield_now());
    assert_eq!(*got.borrow(), [1]);
}

#[weft::test]
async fn try_join_next_does_not_spend_the_budget() {
    let mut set = weft::JoinSet::new();
    for i in 0..1000 {
        set.spawn(async move { i });
    }
    for _ in 0..100 {
        weft::yield_now().await; // every task runs (61 between two turns of this one)
    }
    let mut n = 0;
    while set.try_join_next().is_some() {
        n += 1;
    }
    assert_eq!(n, 1000);
}

#[test]
fn the_runtime_is_current_while_its_tasks_drop() {
    struct AskOnDrop(Rc<RefCell<Option<bool>>>);
    impl Future for AskOnDrop {
        type Output = ();
        fn poll(self: std::pin::Pin<&mut Self>, _: &mut std::task::Context<'_>) -> Poll<()> {
            Poll::Pending
        }
    }
    impl Drop for AskOnDrop {
        fn drop(&mut self) {
            *self.0.borrow_mut() = Some(weft::runtime::Handle::try_current().is_ok());
        }
    }
    let seen = Rc::new(RefCell::new(None));
    let rt = weft::Runtime::new().unwrap();
    rt.spawn(AskOnDrop(seen.clone()));
    drop(rt);
    assert_eq!(*seen.borrow(), Some(true));
}

// On the real clock: on a paused one, a task that never goes idle keeps time still.
#[weft::test]
async fn a_loop_on_io_empty_yields_to_a_timeout() {
    use weft::io::AsyncReadExt;
    let spin = async {
        let mut buf = [0u8; 1];
        loop {
            let _ = weft::io::empty().read(&mut buf).await;
        }
    };
    assert!(weft::time::timeout(Duration::from_millis(1), spin)
        .await
        .is_err());
}
