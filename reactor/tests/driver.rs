//! The driver under the weft executor: timers on a paused and a real clock, unparks, budget.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::time::Duration;

use weft_executor::park::Park;
use weft_executor::{spawn, Runtime};
use weft_reactor::Driver;
use weft_timer::driver::Timer;
use weft_timer::{
    advance, interval, sleep, sleep_until, timeout, wait_for, Instant, MissedTickBehavior,
};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// What the facade does: a runtime on the driver (whose context holds the timer).
fn run<F: Future>(paused: bool, fut: F) -> F::Output {
    let rt = Runtime::with_park(Driver::with_timer(Timer::new(paused)).unwrap());
    rt.block_on(fut)
}

#[test]
fn one_hour_timeout_in_well_under_a_second() {
    let real = std::time::Instant::now();
    run(true, async {
        let start = Instant::now();
        let out = spawn(async {
            wait_for(Duration::from_secs(3600), std::future::pending::<()>()).await
        })
        .await
        .unwrap();
        assert!(out.is_err());
        assert_eq!(start.elapsed(), Duration::from_secs(3600));
    });
    assert!(real.elapsed() < ms(500), "{:?}", real.elapsed());
}

#[test]
fn paused_tasks_wake_in_deadline_order_at_exact_times() {
    let log = Rc::new(RefCell::new(Vec::new()));
    run(true, {
        let log = log.clone();
        async move {
            let start = Instant::now();
            let mut handles = Vec::new();
            for d in [300, 100, 200, 100, 5000] {
                let log = log.clone();
                handles.push(spawn(async move {
                    sleep(ms(d)).await;
                    log.borrow_mut().push((d, start.elapsed()));
                }));
            }
            for h in handles {
                h.await.unwrap();
            }
        }
    });
    let log = log.borrow();
    assert_eq!(
        *log,
        [
            (100, ms(100)),
            (100, ms(100)),
            (200, ms(200)),
            (300, ms(300)),
            (5000, ms(5000))
        ]
    );
}

#[test]
fn paused_timeout_both_outcomes() {
    run(true, async {
        let ok = timeout(ms(50), async {
            sleep(ms(10)).await;
            1
        })
        .await;
        assert_eq!(ok, Ok(1));
        let err = timeout(ms(50), sleep(ms(60))).await;
        assert!(err.is_err());
    });
}

#[test]
fn paused_interval_behaviours() {
    for (behavior, expected) in [
        (MissedTickBehavior::Burst, [10, 20, 30, 40]),
        (MissedTickBehavior::Delay, [10, 45, 55, 65]),
        (MissedTickBehavior::Skip, [10, 40, 50, 60]),
    ] {
        let got = run(true, async move {
            let start = Instant::now();
            let mut iv = interval(ms(10));
            iv.set_missed_tick_behavior(behavior);
            iv.tick().await;
            advance(ms(35)).await;
            let mut got = Vec::new();
            for _ in 0..4 {
                got.push((iv.tick().await - start).as_millis() as u64);
            }
            got
        });
        assert_eq!(got, expected, "{behavior:?}");
    }
}

#[test]
fn paused_sleep_reset() {
    run(true, async {
        let start = Instant::now();
        let mut s = std::pin::pin!(sleep(ms(100)));
        let pending = futures::poll!(s.as_mut());
        assert!(pending.is_pending());
        s.as_mut().reset(start + ms(40));
        s.await;
        assert_eq!(start.elapsed(), ms(40));
    });
}

#[test]
fn cancelled_sleeps_leave_no_entries() {
    let timer = Timer::new(true);
    let rt = Runtime::with_park(Driver::with_timer(timer.clone()).unwrap());
    rt.block_on(async {
        for _ in 0..100 {
            let r = timeout(Duration::from_secs(30), async { 5 }).await;
            assert_eq!(r, Ok(5));
        }
        let h = spawn(sleep(Duration::from_secs(60)));
        weft_executor::yield_now().await;
        assert_eq!(timer.len(), 1);
        h.cancel();
        weft_executor::yield_now().await;
        assert_eq!(timer.len(), 0);
    });
}

#[test]
fn real_clock_sleeps_are_never_early_and_barely_late() {
    run(false, async {
        let mut worst = Duration::ZERO;
        for d in [1u64, 2, 3] {
            let start = Instant::now();
            let deadline = start + Duration::from_micros(d * 700);
            sleep_until(deadline).await;
            let now = Instant::now();
            assert!(now >= deadline);
            worst = worst.max(now - deadline);
        }
        // Loose: a loaded shared machine can be slow; the precise bound is the bench's job.
        assert!(worst < ms(50), "{worst:?}");
    });
}

#[test]
fn park_zero_does_not_block_and_unpark_is_remembered() {
    let mut driver = Driver::new().unwrap();
    let t = std::time::Instant::now();
    driver.park(Some(Duration::ZERO));
    driver.unparker().unpark();
    driver.park(None); // returns at once: remembered
    assert!(t.elapsed() < Duration::from_secs(5));
}

/// With no source and no timer, a zero-timeout park skips its poll; an unpark that came
/// before it must still end the next blocking park.
#[test]
fn unpark_survives_a_skipped_zero_park() {
    let mut driver = Driver::new().unwrap();
    driver.unparker().unpark();
    driver.park(Some(Duration::ZERO)); // nothing registered: no poll
    driver.park(None); // the unpark is still pending: returns at once
}

#[test]
fn unpark_from_another_thread_interrupts_park() {
    let mut driver = Driver::new().unwrap();
    let unparker = driver.unparker();
    let other = std::thread::spawn(move || unparker.unpark());
    driver.park(None); // no timers: only the unpark ends this
    other.join().unwrap();
}

#[test]
fn paused_with_no_timer_blocks_until_unparked() {
    let mut driver = Driver::with_timer(Timer::new(true)).unwrap();
    let unparker = driver.unparker();
    let before = driver.timer().now();
    let other = std::thread::spawn(move || unparker.unpark());
    driver.park(None);
    other.join().unwrap();
    assert_eq!(
        driver.timer().now(),
        before,
        "no deadline: the clock did not move"
    );
}

#[test]
fn paused_park_with_timeout_jumps_at_most_the_timeout() {
    let timer = Timer::new(true);
    let mut driver = Driver::with_timer(timer.clone()).unwrap();
    timer.enter(|| {
        let start = timer.now();
        let mut s = sleep(Duration::from_secs(10));
        let waker = futures::task::noop_waker();
        let mut cx = std::task::Context::from_waker(&waker);
        assert!(std::pin::Pin::new(&mut s).poll(&mut cx).is_pending());
        driver.park(Some(Duration::ZERO));
        assert_eq!(timer.now(), start, "park(0) never advances");
        driver.park(Some(Duration::from_secs(2)));
        assert!(timer.now() - start <= Duration::from_secs(2));
        while !timer.is_empty() {
            driver.park(None);
        }
        assert_eq!(timer.now(), start + Duration::from_secs(10));
    });
}

#[test]
fn busy_sleep_loop_yields_to_others() {
    // `sleep(ZERO)` completes at once; the budget hook still makes the loop yield.
    let other_ran = Rc::new(Cell::new(false));
    let seen = run(true, {
        let other_ran = other_ran.clone();
        async move {
            let flag = other_ran.clone();
            let busy = spawn(async move {
                for i in 0..1000 {
                    sleep(Duration::ZERO).await;
                    if flag.get() {
                        return Some(i);
                    }
                }
                None
            });
            drop(spawn(async move { other_ran.set(true) }));
            busy.await.unwrap()
        }
    });
    assert!(other_ran.get());
    let seen = seen.expect("the other task ran while the loop was busy");
    assert!(seen < 1000);
}

#[test]
fn auto_advance_waits_for_inhibiting_work() {
    let timer = Timer::new(true);
    let driver = Driver::with_timer(timer.clone()).unwrap();
    let handle = driver.handle();
    let rt = Runtime::with_park(driver);
    rt.block_on(async {
        let start = Instant::now();
        let (tx, rx) = futures::channel::oneshot::channel();
        let guard = handle.inhibit_auto_advance();
        let worker = std::thread::spawn(move || {
            // Finishes at some real time; the paused clock must not run ahead meanwhile.
            let _guard = guard;
            tx.send(7).unwrap();
        });
        let out = timeout(Duration::from_secs(5), rx).await;
        assert_eq!(out, Ok(Ok(7)));
        assert_eq!(start.elapsed(), Duration::ZERO, "time stood still");
        worker.join().unwrap();
        // Released: auto-advance works again.
        sleep(Duration::from_secs(5)).await;
        assert_eq!(start.elapsed(), Duration::from_secs(5));
    });
}
