//! Auto traits, checked at compile time.

use std::future::Pending;

use weft_timer::{Elapsed, Instant, Interval, MissedTickBehavior, Sleep, Timeout};

fn send_sync<T: Send + Sync>() {}
fn unpin<T: Unpin>() {}

#[test]
fn auto_traits() {
    send_sync::<Sleep>();
    unpin::<Sleep>();
    send_sync::<Timeout<Pending<()>>>();
    unpin::<Timeout<Pending<()>>>();
    send_sync::<Interval>();
    send_sync::<Instant>();
    send_sync::<Elapsed>();
    send_sync::<MissedTickBehavior>();
}
