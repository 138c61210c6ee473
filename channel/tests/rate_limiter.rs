//! RateLimiter: the long-run rate and the burst, on a paused runtime clock (no real sleeps).

mod common;

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use common::scale;
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;
use weft_channel::RateLimiter;
use weft_timer::driver::Timer;

/// Moves the paused clock forward by `d` and fires the sleeps that became due.
fn advance(timer: &Timer, d: Duration) {
    timer.advance_to(timer.now() + d);
    timer.process();
}

/// Jumps the paused clock to the next sleep's deadline and fires it (as an idle paused
/// runtime does). `next_deadline` may be a lower bound for far deadlines: jump again until
/// something fires.
fn advance_to_next(timer: &Timer) {
    while let Some(next) = timer.next_deadline() {
        timer.advance_to(next);
        if timer.process() > 0 {
            return;
        }
    }
    panic!("no sleep to wake");
}

#[test]
fn burst_then_rate() {
    let timer = Timer::new(true);
    timer.enter(|| {
        let limiter = RateLimiter::new(50.0, 5);
        assert_eq!(
            (0..10).filter(|_| limiter.try_acquire()).count(),
            5,
            "the burst"
        );
        advance(&timer, Duration::from_millis(19));
        assert!(!limiter.try_acquire());
        advance(&timer, Duration::from_millis(1));
        assert!(limiter.try_acquire(), "one token per 20 ms");
        assert!(!limiter.try_acquire());
        // Idle for long: the bucket refills to the burst, not beyond.
        advance(&timer, Duration::from_secs(10));
        assert_eq!((0..10).filter(|_| limiter.try_acquire()).count(), 5);
    });
}

#[test]
fn long_run_rate_with_waiting_tasks() {
    let rate = 200.0; // 5 ms per token
    let burst = 10;
    let secs = scale(20, 1) as u64;
    let timer = Timer::new(true);
    timer.enter(|| {
        let limiter = Arc::new(RateLimiter::new(rate, burst));
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
        // Step the clock 3 ms at a time (not aligned with the token interval on purpose).
        let end = timer.now() + Duration::from_secs(secs);
        while timer.now() < end {
            pool.run_until_stalled();
            advance(&timer, Duration::from_millis(3));
        }
        pool.run_until_stalled();
        let expected = rate as u64 * secs + burst as u64;
        let got = acquired.get();
        assert!(
            got.abs_diff(expected) <= 1,
            "got {got}, expected {expected}"
        );
    });
}

#[test]
fn waiters_are_served_in_order_and_cancel_safe() {
    let timer = Timer::new(true);
    timer.enter(|| {
        let limiter = Arc::new(RateLimiter::new(1.0, 1));
        assert!(limiter.try_acquire());
        let order = Rc::new(RefCell::new(Vec::new()));
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
            advance_to_next(&timer);
            pool.run_until_stalled();
            assert_eq!(order.borrow().len(), expected_len);
        }
        assert_eq!(*order.borrow(), [0, 1, 2]);
    });
}

#[test]
// Off a runtime, sleeps are fired by a helper thread that lives for the process, which Miri
// reports as a leaked thread.
#[cfg_attr(miri, ignore)]
fn off_a_runtime_it_uses_real_time() {
    let limiter = RateLimiter::new(1000.0, 1);
    assert!(limiter.try_acquire());
    let start = std::time::Instant::now();
    futures::executor::block_on(limiter.acquire()); // the next token, 1 ms later
    assert!(start.elapsed() >= Duration::from_millis(1));
}
