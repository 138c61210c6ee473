//! `Sleep`: completion, order, reset, cancellation, and its life across timers and threads.

use std::cell::RefCell;
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use futures::task::noop_waker;
use weft_timer::driver::Timer;
use weft_timer::{sleep, sleep_until, Instant, Sleep};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Polls once with a waker that does nothing.
fn poll_once<F: Future + Unpin>(f: &mut F) -> Poll<F::Output> {
    let waker = noop_waker();
    Pin::new(f).poll(&mut Context::from_waker(&waker))
}

#[test]
fn completes_at_exact_deadline() {
    Timer::new(true).block_on(async {
        let start = Instant::now();
        sleep(ms(1500)).await;
        assert_eq!(start.elapsed(), ms(1500));
        sleep(Duration::from_nanos(1)).await;
        assert_eq!(start.elapsed(), ms(1500) + Duration::from_nanos(1));
    });
}

#[test]
fn zero_and_past_deadlines_complete() {
    let timer = Timer::new(true);
    timer.block_on(async {
        sleep(Duration::ZERO).await;
        let past = Instant::now();
        weft_timer::advance(ms(10)).await;
        sleep_until(past).await;
        assert_eq!(past.elapsed(), ms(10));
    });
    assert_eq!(timer.len(), 0);
}

#[test]
fn huge_durations_do_not_overflow() {
    let timer = Timer::new(true);
    timer.enter(|| {
        let mut s = sleep(Duration::MAX);
        assert!(poll_once(&mut s).is_pending());
        assert!(s.deadline() > Instant::now() + Duration::from_secs(86_400 * 365 * 20));
        timer.advance_to(Instant::now() + Duration::from_secs(86_400 * 365 * 10));
        timer.process();
        assert!(poll_once(&mut s).is_pending());
    })
}

#[test]
fn concurrent_sleeps_complete_in_deadline_order() {
    let order = Rc::new(RefCell::new(Vec::new()));
    Timer::new(true).block_on(async {
        let start = Instant::now();
        let mk = |n: u64| {
            let order = order.clone();
            async move {
                sleep(ms(n)).await;
                order.borrow_mut().push((n, start.elapsed()));
            }
        };
        futures::join!(mk(30), mk(10), mk(20), mk(10), mk(1000));
    });
    let order = order.borrow();
    let got: Vec<u64> = order.iter().map(|&(n, _)| n).collect();
    assert_eq!(got, [10, 10, 20, 30, 1000]);
    for &(n, at) in order.iter() {
        assert_eq!(at, ms(n), "each wakes at its own deadline");
    }
}

#[test]
fn reset_later_earlier_and_after_completion() {
    let timer = Timer::new(true);
    timer.block_on(async {
        let start = Instant::now();
        let mut s = pin!(sleep(ms(100)));
        assert!(poll_once(&mut s).is_pending());
        s.as_mut().reset(start + ms(300));
        s.as_mut().await;
        assert_eq!(start.elapsed(), ms(300));
        assert!(s.is_elapsed());

        s.as_mut().reset(start + ms(1000));
        assert!(!s.is_elapsed());
        assert!(poll_once(&mut s).is_pending());
        s.as_mut().reset(start + ms(500)); // earlier, while registered
        s.as_mut().await;
        assert_eq!(start.elapsed(), ms(500));
    });
    assert_eq!(timer.len(), 0);
}

#[test]
fn drop_removes_entry() {
    let timer = Timer::new(true);
    timer.enter(|| {
        let mut a = sleep(ms(10));
        let mut b = sleep(Duration::from_secs(3600));
        assert_eq!(timer.len(), 0, "registration happens on first poll");
        assert!(poll_once(&mut a).is_pending());
        assert!(poll_once(&mut b).is_pending());
        assert!(
            poll_once(&mut b).is_pending(),
            "a second poll does not register twice"
        );
        assert_eq!(timer.len(), 2);
        drop(b);
        assert_eq!(timer.len(), 1);
        drop(a);
        assert_eq!(timer.len(), 0);
        assert_eq!(timer.next_deadline(), None);
    })
}

#[test]
fn a_million_outstanding_sleeps() {
    let n: u64 = if cfg!(miri) { 300 } else { 1_000_000 };
    let timer = Timer::new(true);
    timer.enter(|| {
        let base = Instant::now();
        // Deadlines spread over 10 s.
        let mut sleeps: Vec<Sleep> = (0..n)
            .map(|i| sleep_until(base + Duration::from_micros(10 + i * 10_000_000 / n)))
            .collect();
        for s in &mut sleeps {
            assert!(poll_once(s).is_pending());
        }
        assert_eq!(timer.len() as u64, n);
        // Drop every other one, then the rest.
        let mut i = 0;
        sleeps.retain(|_| {
            i += 1;
            i % 2 == 0
        });
        assert_eq!(timer.len() as u64, n / 2);
        drop(sleeps);
        assert_eq!(timer.len(), 0);
        assert_eq!(timer.next_deadline(), None);
    })
}

#[test]
#[should_panic(expected = "no weft runtime (timer) is running")]
fn sleep_outside_runtime_panics() {
    drop(sleep(ms(1)));
}

#[test]
#[should_panic(expected = "no weft runtime (timer) is running")]
fn polling_outside_runtime_panics() {
    let timer = Timer::new(true);
    let mut s = { timer.enter(|| sleep(ms(1))) };
    let _ = poll_once(&mut s);
}

#[test]
fn reregisters_under_another_timer() {
    let a = Timer::new(true);
    let b = Timer::new(true);
    let mut s = {
        a.enter(|| {
            let mut s = sleep(ms(50));
            assert!(poll_once(&mut s).is_pending());
            s
        })
    };
    assert_eq!(a.len(), 1);
    b.block_on(async {
        let start = Instant::now();
        Pin::new(&mut s).await;
        // b's clock started a moment after a's, so the deadline is at most 50 ms away.
        assert!(start.elapsed() <= ms(50));
    });
    assert_eq!(b.len(), 0);
    // a's entry is orphaned, fires harmlessly, and is gone.
    assert_eq!(a.len(), 1);
    a.advance_to(a.now() + ms(50));
    assert_eq!(a.process(), 1);
    assert_eq!(a.len(), 0);
}

#[test]
fn dropped_on_another_thread_leaves_entry_to_fire() {
    let timer = Timer::new(true);
    let s = {
        timer.enter(|| {
            let mut s = sleep(ms(5));
            assert!(poll_once(&mut s).is_pending());
            s
        })
    };
    std::thread::spawn(move || drop(s)).join().unwrap();
    assert_eq!(timer.len(), 1);
    timer.advance_to(timer.now() + ms(5));
    assert_eq!(timer.process(), 1);
    assert_eq!(timer.len(), 0);
}

#[test]
fn dropped_outside_its_timer_context_leaves_entry() {
    let timer = Timer::new(true);
    let s = {
        timer.enter(|| {
            let mut s = sleep(ms(5));
            assert!(poll_once(&mut s).is_pending());
            s
        })
    };
    drop(s);
    assert_eq!(timer.len(), 1);
    timer.advance_to(timer.now() + ms(5));
    assert_eq!(timer.process(), 1);
}

/// A waker that re-enters the timer when woken (registers a new sleep) and when dropped
/// (drops the sleep it owns).
struct Reentrant {
    owned: Mutex<Option<Sleep>>,
}

impl Wake for Reentrant {
    fn wake(self: Arc<Self>) {
        let mut s = sleep(ms(1));
        assert!(poll_once(&mut s).is_pending());
        *self.owned.lock().unwrap() = Some(s);
    }
}

#[test]
fn wakers_run_with_no_borrow_held() {
    let timer = Timer::new(true);
    timer.enter(|| {
        // Woken by `process`: the waker registers another sleep.
        let first = Arc::new(Reentrant {
            owned: Mutex::new(None),
        });
        let waker = Waker::from(first.clone());
        let mut s = sleep(ms(3));
        assert!(Pin::new(&mut s)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        drop(waker);
        timer.advance_to(timer.now() + ms(3));
        assert_eq!(timer.process(), 1);
        assert_eq!(timer.len(), 1, "the waker's own sleep");
        assert!(first.owned.lock().unwrap().is_some());

        // Dropped by a cancel: the waker's drop cancels the sleep it owns.
        let mut inner = sleep(ms(100));
        assert!(poll_once(&mut inner).is_pending());
        let waker = Waker::from(Arc::new(Reentrant {
            owned: Mutex::new(Some(inner)),
        }));
        let mut outer = sleep(ms(100));
        assert!(Pin::new(&mut outer)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        drop(waker); // the entry holds the last reference now
        assert_eq!(timer.len(), 3);
        drop(outer);
        assert_eq!(
            timer.len(),
            1,
            "outer and, through its waker's drop, inner are gone"
        );
        drop(first);
        assert_eq!(timer.len(), 0);
        drop(s);
    })
}

#[test]
fn updates_the_waker_on_repoll() {
    let timer = Timer::new(true);
    timer.enter(|| {
        struct Flag(Mutex<bool>);
        impl Wake for Flag {
            fn wake(self: Arc<Self>) {
                *self.0.lock().unwrap() = true;
            }
        }
        let first = Arc::new(Flag(Mutex::new(false)));
        let second = Arc::new(Flag(Mutex::new(false)));
        let mut s = sleep(ms(1));
        let w1 = Waker::from(first.clone());
        let w2 = Waker::from(second.clone());
        assert!(Pin::new(&mut s)
            .poll(&mut Context::from_waker(&w1))
            .is_pending());
        assert!(Pin::new(&mut s)
            .poll(&mut Context::from_waker(&w2))
            .is_pending());
        timer.advance_to(timer.now() + ms(1));
        timer.process();
        assert!(!*first.0.lock().unwrap());
        assert!(*second.0.lock().unwrap());
        assert!(Pin::new(&mut s)
            .poll(&mut Context::from_waker(&w2))
            .is_ready());
    })
}

#[test]
fn real_clock_never_early() {
    let timer = Timer::new(false);
    timer.block_on(async {
        for d in [0, 1, 2] {
            let start = Instant::now();
            sleep(ms(d)).await;
            assert!(start.elapsed() >= ms(d));
        }
    });
}
