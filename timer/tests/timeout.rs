//! `timeout` / `wait_for` / `timeout_at`: both outcomes, on a paused clock.

use std::time::Duration;

use weft_timer::driver::Timer;
use weft_timer::{sleep, timeout, timeout_at, wait_for, Elapsed, Instant};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn completes_before_the_deadline() {
    let timer = Timer::new(true);
    timer.block_on(async {
        let start = Instant::now();
        let out = timeout(ms(100), async {
            sleep(ms(40)).await;
            "done"
        })
        .await;
        assert_eq!(out, Ok("done"));
        assert_eq!(start.elapsed(), ms(40));
    });
    assert_eq!(
        timer.len(),
        0,
        "the deadline's entry is cancelled with the Timeout"
    );
}

#[test]
fn elapses() {
    let timer = Timer::new(true);
    timer.block_on(async {
        let start = Instant::now();
        let out = timeout(ms(100), sleep(ms(400))).await;
        assert_eq!(out, Err(Elapsed::clone(&out.unwrap_err())));
        assert_eq!(start.elapsed(), ms(100));
    });
    assert_eq!(
        timer.len(),
        0,
        "the inner sleep's entry is cancelled when dropped"
    );
}

#[test]
fn ready_future_wins_a_tie() {
    Timer::new(true).block_on(async {
        let out = timeout(Duration::ZERO, async { 1 }).await;
        assert_eq!(out, Ok(1));
    });
}

#[test]
fn one_hour_timeout_runs_in_well_under_a_second() {
    let real = std::time::Instant::now();
    Timer::new(true).block_on(async {
        let start = Instant::now();
        let out = wait_for(Duration::from_secs(3600), std::future::pending::<()>()).await;
        assert!(out.is_err());
        assert_eq!(start.elapsed(), Duration::from_secs(3600));
    });
    assert!(
        real.elapsed() < Duration::from_millis(500),
        "{:?}",
        real.elapsed()
    );
}

#[test]
fn timeout_at_deadline() {
    Timer::new(true).block_on(async {
        let deadline = Instant::now() + ms(250);
        let t = timeout_at(deadline, std::future::pending::<()>());
        assert_eq!(t.deadline(), deadline);
        assert!(t.await.is_err());
        assert_eq!(Instant::now(), deadline);
    });
}

#[test]
fn elapsed_is_an_error() {
    fn assert_error<E: std::error::Error + Send + Sync + 'static>() {}
    assert_error::<Elapsed>();
    let err = Timer::new(true)
        .block_on(async { timeout(ms(1), std::future::pending::<()>()).await })
        .unwrap_err();
    assert_eq!(err.to_string(), "deadline has elapsed");
    assert_eq!(format!("{err:?}"), "Elapsed(())");
    let io: std::io::Error = err.into();
    assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
}

#[test]
#[should_panic(expected = "no weft runtime (timer) is running")]
fn timeout_outside_runtime_panics() {
    drop(timeout(ms(1), async {}));
}
