//! Fault injection: a panic in each place user code runs, handles and wakers that outlive
//! the runtime on other threads, and a runtime dropped while its tasks hold resources. In
//! each: nothing leaks (every counted value is dropped), nothing is dropped twice (exactly
//! once), and the other tasks are unharmed.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::Arc;
use std::task::{Poll, Wake, Waker};
use std::time::Duration;

/// Counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

fn counter() -> Arc<AtomicUsize> {
    Arc::new(AtomicUsize::new(0))
}

/// Silences the default panic message for the panics these tests cause on purpose.
fn quiet() {
    std::panic::set_hook(Box::new(|_| {}));
}

#[test]
fn panic_in_poll() {
    quiet();
    let d = counter();
    weft::run(async {
        let c = Counted(d.clone());
        let bad = weft::spawn(async move {
            let _c = c;
            panic!("boom in poll");
        });
        let good = weft::spawn(async { 7 });
        assert!(bad.await.unwrap_err().is_panic());
        assert_eq!(good.await.unwrap(), 7);
    });
    assert_eq!(
        d.load(SeqCst),
        1,
        "the panicked future's state is dropped once"
    );
}

/// A future whose drop panics (after it completed, and when cancelled).
struct PanicOnDrop(#[allow(dead_code)] Counted); // counted when dropped

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("boom in drop");
    }
}

#[test]
fn panic_in_the_futures_drop() {
    quiet();
    let d = counter();
    weft::run(async {
        let guard = PanicOnDrop(Counted(d.clone()));
        let done = weft::spawn(async move {
            let _g = guard;
            1
        });
        assert!(
            done.await.unwrap_err().is_panic(),
            "the drop's panic is the result"
        );
        let guard = PanicOnDrop(Counted(d.clone()));
        let cancelled = weft::spawn(async move {
            let _g = guard;
            std::future::pending::<()>().await
        });
        weft::task::yield_now().await;
        cancelled.abort();
        assert!(cancelled.await.is_err());
        assert_eq!(
            weft::spawn(async { 2 }).await.unwrap(),
            2,
            "others unharmed"
        );
    });
    assert_eq!(d.load(SeqCst), 2);
}

/// An output whose drop panics, dropped by the runtime (its handle was dropped).
struct PanicOutput(#[allow(dead_code)] Counted); // counted when dropped

impl Drop for PanicOutput {
    fn drop(&mut self) {
        panic!("boom in the output's drop");
    }
}

#[test]
fn panic_in_the_outputs_drop() {
    quiet();
    let d = counter();
    weft::run(async {
        let c = Counted(d.clone());
        drop(weft::spawn(async move { PanicOutput(c) }));
        for _ in 0..3 {
            weft::task::yield_now().await;
        }
        assert_eq!(
            weft::spawn(async { 3 }).await.unwrap(),
            3,
            "others unharmed"
        );
    });
    assert_eq!(d.load(SeqCst), 1);
}

/// A waker whose `wake` panics, woken by a channel on another thread: the panic surfaces on
/// that thread (the sender's call), the value still arrives, and it is dropped once.
#[test]
fn panic_in_a_wakers_wake_on_another_thread() {
    quiet();
    struct Bad;
    impl Wake for Bad {
        fn wake(self: Arc<Self>) {
            panic!("boom in wake");
        }
    }
    let d = counter();
    let (tx, mut rx) = weft::sync::oneshot::channel();
    let waker = Waker::from(Arc::new(Bad));
    let mut cx = std::task::Context::from_waker(&waker);
    assert!(std::pin::Pin::new(&mut rx).poll(&mut cx).is_pending());
    let c = Counted(d.clone());
    let sent = std::thread::spawn(move || tx.send(c).is_ok()).join();
    assert!(
        sent.is_err(),
        "the wake's panic reached the sender's thread"
    );
    assert!(
        rx.try_recv().is_ok(),
        "the value was delivered before the wake"
    );
    assert_eq!(d.load(SeqCst), 1);
}

use std::future::Future;

/// A hook that panics: the panic comes out of `block_on`; the runtime can still be dropped,
/// and drops every task's future once.
#[test]
fn panic_in_a_hook() {
    quiet();
    let d = counter();
    let rt = weft::Builder::new()
        .on_thread_park(|| panic!("boom in on_thread_park"))
        .build()
        .unwrap();
    let c = Counted(d.clone());
    let r = catch_unwind(AssertUnwindSafe(|| {
        rt.block_on(async move {
            let _task = weft::spawn(async move {
                let _c = c;
                std::future::pending::<()>().await
            });
            weft::time::sleep(Duration::from_millis(1)).await; // parks
        })
    }));
    assert!(r.is_err(), "the hook's panic propagates");
    drop(rt);
    assert_eq!(d.load(SeqCst), 1);
}

/// A value whose `Clone` panics on demand, in a broadcast channel of two receivers.
struct Fragile {
    _c: Counted,
    counter: Arc<AtomicUsize>,
    fail: Arc<std::sync::atomic::AtomicBool>,
}

impl Clone for Fragile {
    fn clone(&self) -> Fragile {
        if self.fail.swap(false, SeqCst) {
            panic!("boom in clone");
        }
        Fragile {
            _c: Counted(self.counter.clone()),
            counter: self.counter.clone(),
            fail: self.fail.clone(),
        }
    }
}

#[test]
fn panic_in_a_clone_inside_broadcast() {
    quiet();
    let d = counter();
    let fail = Arc::new(std::sync::atomic::AtomicBool::new(false));
    weft::run(async {
        let (tx, mut rx1) = weft::sync::broadcast::channel(4);
        let mut rx2 = tx.subscribe();
        let v = Fragile {
            _c: Counted(d.clone()),
            counter: d.clone(),
            fail: fail.clone(),
        };
        assert!(tx.send(v).is_ok());
        fail.store(true, SeqCst);
        let r = catch_unwind(AssertUnwindSafe(|| {
            futures::executor::block_on(rx1.recv()).map(|_| ())
        }));
        assert!(r.is_err(), "the clone's panic reaches the receiver");
        let got = rx2
            .recv()
            .await
            .unwrap_or_else(|_| panic!("the other receiver is unharmed"));
        drop(got);
        drop((tx, rx1, rx2));
    });
    // The original (dropped with the channel) and rx2's clone.
    assert_eq!(d.load(SeqCst), 2);
}

/// A `JoinHandle`'s awaiter's waker and a task waker outlive the runtime and are dropped and
/// woken on another thread: nothing happens but the memory being freed.
#[test]
fn waker_and_join_handle_dropped_on_another_thread_after_the_runtime() {
    let d = counter();
    let (wtx, wrx) = std::sync::mpsc::channel::<Waker>();
    {
        let rt = weft::Runtime::new().unwrap();
        let c = Counted(d.clone());
        rt.block_on(async move {
            let h = weft::spawn(std::future::poll_fn(move |cx| {
                let _ = &c;
                wtx.send(cx.waker().clone()).unwrap();
                Poll::<()>::Pending
            }));
            weft::task::yield_now().await;
            drop(h);
        });
        drop(rt);
    }
    assert_eq!(
        d.load(SeqCst),
        1,
        "the runtime's drop dropped the task's future"
    );
    std::thread::spawn(move || {
        let w = wrx.recv().unwrap();
        w.wake_by_ref();
        let w2 = w.clone();
        w.wake();
        drop(w2);
    })
    .join()
    .unwrap();
    assert_eq!(d.load(SeqCst), 1);
}

/// The runtime is dropped while its tasks hold a timer, an I/O registration, channel ends and
/// a blocking job: every task's state is dropped once, the blocking job finishes on its own.
#[test]
fn runtime_dropped_while_tasks_hold_resources() {
    let d = counter();
    let job_done = Arc::new(AtomicUsize::new(0));
    {
        let rt = weft::Runtime::new().unwrap();
        let (d2, jd) = (d.clone(), job_done.clone());
        rt.block_on(async move {
            let c = Counted(d2.clone());
            weft::spawn(async move {
                let _c = c;
                weft::time::sleep(Duration::from_secs(3600)).await;
            });
            let c = Counted(d2.clone());
            let listener = weft::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            weft::spawn(async move {
                let _c = c;
                let _ = listener.accept().await;
            });
            let (tx, mut rx) = weft::sync::mpsc::channel::<Counted>(1);
            tx.send(Counted(d2.clone())).await.unwrap();
            let c = Counted(d2.clone());
            weft::spawn(async move {
                let _c = c;
                let _tx = tx;
                std::future::pending::<()>().await
            });
            let c = Counted(d2.clone());
            weft::spawn(async move {
                let _c = c;
                let _ = rx.recv().await;
                std::future::pending::<()>().await
            });
            let c = Counted(d2.clone());
            drop(weft::task::spawn_blocking(move || {
                std::thread::sleep(Duration::from_millis(50));
                drop(c);
                jd.fetch_add(1, SeqCst);
            }));
            weft::task::yield_now().await;
        });
        drop(rt);
    }
    // Four task states, the message still in the channel (or taken by the receiver), and
    // the blocking job's value: dropped when the job ran, or with the job if it had not
    // started when its handle was dropped (the pool skips a job nobody awaits).
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while d.load(SeqCst) < 6 && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100)); // room for a second, wrong drop
    assert_eq!(
        d.load(SeqCst),
        6,
        "every counted value dropped exactly once"
    );
    assert!(job_done.load(SeqCst) <= 1);
}
