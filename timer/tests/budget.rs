//! The cooperative-budget hook (its own test binary: the hook is process-wide).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use weft_timer::driver::{set_budget_hook, Timer};
use weft_timer::{interval, sleep, timeout};

static CALLS: AtomicUsize = AtomicUsize::new(0);

/// Spent on every other call, as a task whose budget runs out would be.
fn every_other(cx: &mut Context<'_>) -> Poll<()> {
    if CALLS.fetch_add(1, Ordering::Relaxed) % 2 == 0 {
        cx.waker().wake_by_ref();
        Poll::Pending
    } else {
        Poll::Ready(())
    }
}

#[test]
fn timer_futures_consume_the_budget() {
    set_budget_hook(every_other);
    Timer::new(true).block_on(async {
        let before = CALLS.load(Ordering::Relaxed);
        sleep(Duration::from_millis(5)).await;
        let mut iv = interval(Duration::from_millis(5));
        iv.tick().await;
        let used = CALLS.load(Ordering::Relaxed) - before;
        assert!(
            used >= 4,
            "sleep and tick each yield once, then proceed: {used}"
        );

        // A timeout's own deadline check is not budgeted: only the inner future is.
        let before = CALLS.load(Ordering::Relaxed);
        let out = timeout(Duration::from_millis(5), std::future::pending::<()>()).await;
        assert!(out.is_err());
        assert_eq!(CALLS.load(Ordering::Relaxed), before);
    });
}
