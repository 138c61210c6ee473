//! Timer futures spend the task's cooperative budget ([`weft_core::coop`]).

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;
use std::time::Duration;

use weft_core::coop;
use weft_timer::driver::Timer;
use weft_timer::{interval, sleep, timeout};

#[test]
fn due_timer_futures_yield_when_the_budget_is_spent() {
    Timer::new(true).block_on(async {
        let mut due = pin!(sleep(Duration::ZERO));
        let mut ticks = interval(Duration::from_millis(5));
        poll_fn(|cx| {
            coop::with_budget(Some(1), || {
                assert!(coop::poll_proceed(cx).is_ready(), "the only unit, spent");
                assert!(due.as_mut().poll(cx).is_pending(), "a due sleep yields");
                assert!(ticks.poll_tick(cx).is_pending(), "a due tick yields");
            });
            Poll::Ready(())
        })
        .await;
        // With a budget again, both are ready.
        due.await;
        ticks.tick().await;
    });
}

#[test]
fn a_timeouts_own_deadline_check_is_not_budgeted() {
    Timer::new(true).block_on(async {
        let mut t = pin!(timeout(Duration::ZERO, std::future::pending::<()>()));
        poll_fn(|cx| {
            coop::with_budget(Some(1), || {
                assert!(coop::poll_proceed(cx).is_ready());
                // Only the inner future would be budgeted; `pending` never asks.
                assert!(matches!(t.as_mut().poll(cx), Poll::Ready(Err(_))));
            });
            Poll::Ready(())
        })
        .await;
    });
}
