//! RateLimiter: the long-run rate and the burst, on a manual clock (no real sleeps).

mod common;

use std::cell::Cell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use common::scale;
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use weft_channel::{Clock, ManualClock, RateLimiter};

#[test]
fn burst_then_rate() {
    let clock = ManualClock::new();
    let limiter = RateLimiter::with_clock(50.0, 5, Arc::new(clock.clone()));
    assert_eq!(
        (0..10).filter(|_| limiter.try_acquire()).count(),
        5,
        "the burst"
    );
    clock.advance(Duration::from_millis(19));
    assert!(!limiter.try_acquire());
    clock.advance(Duration::from_millis(1));
    assert!(limiter.try_acquire(), "one token per 20 ms");
    assert!(!limiter.try_acquire());
    // Idle for long: the bucket refills to the burst, not beyond.
    clock.advance(Duration::from_secs(10));
    assert_eq!((0..10).filter(|_| limiter.try_acquire()).count(), 5);
}

#[test]
fn long_run_rate_with_waiting_tasks() {
    let rate = 200.0; // 5 ms per token
    let burst = 10;
    let secs = scale(20, 1) as u64;
    let clock = ManualClock::new();
    let limiter = Arc::new(RateLimiter::with_clock(
        rate,
        burst,
        Arc::new(clock.clone()),
    ));
    let acquired = Rc::new(Cell::new(0u64));
    let mut pool = LocalPool::new();
    for _ in 0..4 {
        let (limiter, acquired) = (limiter.clone(), acquired.clone());
        pool.spawner()
            .spawn_local(async move {
                loop {
                    limiter.acquire().await;
                    acquired.set(acquired.get() + 1);
                }
            })
            .unwrap();
    }
    // Step the clock 1 ms at a time (not aligned with the token interval on purpose: 3 ms).
    let end = Duration::from_secs(secs);
    while clock.now() < end {
        pool.run_until_stalled();
        clock.advance(Duration::from_millis(3));
    }
    pool.run_until_stalled();
    let expected = rate as u64 * secs + burst as u64;
    let got = acquired.get();
    assert!(
        got.abs_diff(expected) <= 1,
        "got {got}, expected {expected}"
    );
}

#[test]
fn waiters_are_served_in_order_and_cancel_safe() {
    let clock = ManualClock::new();
    let limiter = Arc::new(RateLimiter::with_clock(1.0, 1, Arc::new(clock.clone())));
    assert!(limiter.try_acquire());
    let order = Rc::new(std::cell::RefCell::new(Vec::new()));
    let mut pool = LocalPool::new();
    for i in 0..3 {
        let (limiter, order) = (limiter.clone(), order.clone());
        pool.spawner()
            .spawn_local(async move {
                limiter.acquire().await;
                order.borrow_mut().push(i);
            })
            .unwrap();
    }
    // A cancelled acquire takes no token.
    {
        let mut cancelled = Box::pin(limiter.acquire());
        let mut cx = std::task::Context::from_waker(futures::task::noop_waker_ref());
        assert!(std::future::Future::poll(cancelled.as_mut(), &mut cx).is_pending());
    }
    pool.run_until_stalled();
    assert!(!limiter.try_acquire(), "tasks are waiting: no barging");
    for expected_len in 1..=3 {
        assert!(clock.advance_to_next());
        pool.run_until_stalled();
        assert_eq!(order.borrow().len(), expected_len);
    }
    assert_eq!(*order.borrow(), [0, 1, 2]);
}

#[test]
fn std_clock_is_monotonic_and_past_deadlines_are_ready() {
    let clock = weft_channel::StdClock;
    let a = clock.now();
    let b = clock.now();
    assert!(b >= a);
    futures::executor::block_on(clock.sleep_until(a));
}
