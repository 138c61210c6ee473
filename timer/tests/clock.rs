//! The pausable clock and `Instant`.

use std::collections::HashSet;
use std::time::Duration;

use weft_timer::driver::Timer;
use weft_timer::{advance, pause, resume, sleep, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn paused_clock_stands_still_and_advances_exactly() {
    let timer = Timer::new(true);
    timer.block_on(async {
        let t0 = Instant::now();
        assert_eq!(Instant::now(), t0);
        advance(ms(1234)).await;
        assert_eq!(Instant::now(), t0 + ms(1234));
        assert_eq!(t0.elapsed(), ms(1234));
    });
    assert!(timer.is_paused());
}

#[test]
fn advance_fires_due_timers_and_lets_them_run() {
    Timer::new(true).block_on(async {
        let start = Instant::now();
        let woke = std::cell::Cell::new(None);
        let sleeper = async {
            sleep(ms(10)).await;
            woke.set(Some(start.elapsed()));
        };
        let driver = async {
            advance(ms(4)).await;
            assert_eq!(woke.get(), None);
            advance(ms(20)).await;
            // Fired during the advance: it ran, and saw the advanced clock.
            assert_eq!(woke.get(), Some(ms(24)));
        };
        futures::join!(sleeper, driver);
    });
}

#[test]
fn auto_advance_jumps_to_each_deadline() {
    Timer::new(true).block_on(async {
        let start = Instant::now();
        let a = async {
            sleep(Duration::from_secs(3)).await;
            start.elapsed()
        };
        let b = async {
            sleep(Duration::from_secs(1)).await;
            start.elapsed()
        };
        assert_eq!(
            futures::join!(a, b),
            (Duration::from_secs(3), Duration::from_secs(1))
        );
    });
}

#[test]
fn pause_and_resume_at_runtime() {
    Timer::new(false).block_on(async {
        pause();
        let t = Instant::now();
        advance(Duration::from_secs(60)).await;
        assert_eq!(t.elapsed(), Duration::from_secs(60));
        resume();
        // Runs again from where it stood.
        let after = Instant::now();
        assert!(after >= t + Duration::from_secs(60));
        sleep(ms(1)).await;
        assert!(after.elapsed() >= ms(1));
    });
}

#[test]
fn start_paused_timer_is_paused() {
    let timer = Timer::new(true);
    assert!(timer.is_paused());
    assert_eq!(timer.now(), timer.now());
    let t = timer.now() + ms(5);
    timer.advance_to(t);
    assert_eq!(timer.now(), t);
    timer.advance_to(t - ms(1)); // never backwards
    assert_eq!(timer.now(), t);
}

#[test]
#[should_panic(expected = "already paused")]
fn pause_twice_panics() {
    Timer::new(true).block_on(async { pause() });
}

#[test]
#[should_panic(expected = "not paused")]
fn advance_unpaused_panics() {
    Timer::new(false).block_on(advance(ms(1)));
}

#[test]
#[should_panic(expected = "no weft runtime (timer) is running")]
fn pause_outside_runtime_panics() {
    pause();
}

#[test]
fn instant_outside_runtime_is_the_real_clock() {
    let a = Instant::now();
    let s = std::time::Instant::now();
    let b = Instant::now();
    assert!(a.into_std() <= s && s <= b.into_std());
}

#[test]
fn instant_arithmetic() {
    let a = Instant::now();
    let b = a + ms(10);
    assert_eq!(b - a, ms(10));
    assert_eq!(a - b, Duration::ZERO, "saturates");
    assert_eq!(b.duration_since(a), ms(10));
    assert_eq!(a.checked_duration_since(b), None);
    assert_eq!(b.checked_duration_since(a), Some(ms(10)));
    assert_eq!(a.saturating_duration_since(b), Duration::ZERO);
    assert_eq!(b - ms(10), a);
    let mut c = a;
    c += ms(3);
    c -= ms(1);
    assert_eq!(c, a + ms(2));
    assert!(a < b);
    assert!(b > a);
    assert_eq!(a.checked_add(Duration::MAX), None);
    assert_eq!(Instant::from_std(a.into_std()), a);
    let std: std::time::Instant = a.into();
    assert_eq!(Instant::from(std), a);
    let set: HashSet<Instant> = [a, a, b].into_iter().collect();
    assert_eq!(set.len(), 2);
    assert!(!format!("{a:?}").is_empty());
}

#[test]
fn runtimes_on_threads_do_not_see_each_other() {
    let threads: Vec<_> = (0..4)
        .map(|i| {
            std::thread::spawn(move || {
                let timer = Timer::new(true);
                timer.block_on(async move {
                    let start = Instant::now();
                    sleep(Duration::from_secs(i + 1)).await;
                    assert_eq!(start.elapsed(), Duration::from_secs(i + 1));
                });
                timer.len()
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), 0);
    }
}

#[test]
fn nested_enter_restores_previous() {
    let a = Timer::new(true);
    let b = Timer::new(true);
    a.enter(|| {
        let ta = Instant::now();
        {
            b.enter(|| {
                b.advance_to(b.now() + Duration::from_secs(5));
                assert_eq!(Instant::now(), b.now());
            })
        }
        assert_eq!(Instant::now(), ta, "a's clock again");
    })
}
