//! `Interval`: the first tick, the schedule, each missed-tick behaviour, and resets.

use std::time::Duration;

use weft_timer::driver::Timer;
use weft_timer::{advance, interval, interval_at, Instant, MissedTickBehavior};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn first_tick_at_once_then_every_period() {
    Timer::new(true).block_on(async {
        let start = Instant::now();
        let mut iv = interval(ms(10));
        for i in 0..5 {
            assert_eq!(iv.tick().await, start + ms(10 * i));
            assert_eq!(Instant::now(), start + ms(10 * i));
        }
    });
}

#[test]
fn first_tick_at_once_on_a_real_clock() {
    Timer::new(false).block_on(async {
        let mut iv = interval(Duration::from_secs(3600));
        let t = std::time::Instant::now();
        iv.tick().await;
        assert!(t.elapsed() < Duration::from_secs(1));
    });
}

#[test]
fn interval_at_starts_later() {
    Timer::new(true).block_on(async {
        let start = Instant::now() + ms(100);
        let mut iv = interval_at(start, ms(10));
        assert_eq!(iv.tick().await, start);
        assert_eq!(Instant::now(), start);
    });
}

/// Takes the first tick, then stalls 35 ms: ticks due at 10, 20 and 30 are missed.
async fn missed(behavior: MissedTickBehavior) -> (Instant, Vec<(Duration, Duration)>) {
    let start = Instant::now();
    let mut iv = interval(ms(10));
    iv.set_missed_tick_behavior(behavior);
    iv.tick().await;
    advance(ms(35)).await;
    let mut seen = Vec::new();
    for _ in 0..5 {
        let due = iv.tick().await;
        // (when it was due, when it was taken)
        seen.push((due - start, start.elapsed()));
    }
    (start, seen)
}

#[test]
fn burst_catches_up() {
    let (_, seen) = Timer::new(true).block_on(missed(MissedTickBehavior::Burst));
    assert_eq!(
        seen,
        [
            (ms(10), ms(35)),
            (ms(20), ms(35)),
            (ms(30), ms(35)),
            (ms(40), ms(40)),
            (ms(50), ms(50)),
        ]
    );
}

#[test]
fn delay_shifts_the_schedule() {
    let (_, seen) = Timer::new(true).block_on(missed(MissedTickBehavior::Delay));
    assert_eq!(
        seen,
        [
            (ms(10), ms(35)),
            (ms(45), ms(45)),
            (ms(55), ms(55)),
            (ms(65), ms(65)),
            (ms(75), ms(75)),
        ]
    );
}

#[test]
fn skip_resumes_on_the_schedule() {
    let (_, seen) = Timer::new(true).block_on(missed(MissedTickBehavior::Skip));
    assert_eq!(
        seen,
        [
            (ms(10), ms(35)),
            (ms(40), ms(40)),
            (ms(50), ms(50)),
            (ms(60), ms(60)),
            (ms(70), ms(70)),
        ]
    );
}

#[test]
fn small_lateness_is_not_a_miss() {
    Timer::new(true).block_on(async {
        let start = Instant::now();
        let mut iv = interval(ms(10));
        iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
        iv.tick().await;
        advance(ms(13)).await; // 3 ms late: under the 5 ms slack
        assert_eq!(iv.tick().await, start + ms(10));
        assert_eq!(iv.tick().await, start + ms(20), "schedule kept");
    });
}

#[test]
fn resets() {
    let timer = Timer::new(true);
    timer.block_on(async {
        let start = Instant::now();
        let mut iv = interval(ms(100));
        iv.tick().await;
        advance(ms(30)).await;
        iv.reset();
        assert_eq!(iv.tick().await, start + ms(130));
        assert_eq!(iv.tick().await, start + ms(230));

        iv.reset_immediately();
        assert_eq!(iv.tick().await, start + ms(230));
        assert_eq!(iv.tick().await, start + ms(330));

        iv.reset_at(start + ms(1000));
        assert_eq!(iv.tick().await, start + ms(1000));
        assert_eq!(iv.tick().await, start + ms(1100));
        assert_eq!(iv.period(), ms(100));
    });
    // The interval is dropped: nothing left behind.
    assert_eq!(timer.len(), 0);
}

#[test]
fn reset_while_registered_moves_the_entry() {
    let timer = Timer::new(true);
    timer.block_on(async {
        let start = Instant::now();
        let mut iv = interval(ms(100));
        iv.tick().await;
        // Register the next tick, then move it earlier.
        let pending = futures::poll!(std::pin::pin!(iv.tick()));
        assert!(pending.is_pending());
        assert_eq!(timer.len(), 1);
        iv.reset_at(start + ms(5));
        assert_eq!(timer.len(), 1, "moved, not duplicated");
        assert_eq!(iv.tick().await, start + ms(5));
    });
}

#[test]
#[should_panic(expected = "interval period must be non-zero")]
fn zero_period_panics() {
    Timer::new(true).block_on(async {
        let _ = interval(Duration::ZERO);
    });
}

#[test]
#[should_panic(expected = "no weft runtime (timer) is running")]
fn interval_outside_runtime_panics() {
    let _ = interval(ms(1));
}
