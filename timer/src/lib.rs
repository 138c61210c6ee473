//! weft-timer: time for the weft runtime — a hierarchical timing wheel, [`sleep`],
//! [`timeout`] / [`wait_for`], [`interval`], and a clock that tests can pause.
//!
//! ```
//! use std::time::Duration;
//! use weft_timer::{driver::Timer, interval, sleep, wait_for, Instant};
//!
//! // The weft runtime creates and drives the timer; here we drive it by hand, paused.
//! Timer::new(true).block_on(async {
//!     let start = Instant::now();
//!     sleep(Duration::from_millis(20)).await;
//!     let slow = wait_for(Duration::from_secs(1), sleep(Duration::from_secs(60))).await;
//!     assert!(slow.is_err());
//!     let mut ticks = interval(Duration::from_millis(100));
//!     ticks.tick().await;
//!     ticks.tick().await;
//!     // A paused clock jumps straight to each deadline.
//!     assert_eq!(start.elapsed(), Duration::from_millis(1120));
//! });
//! ```
//!
//! # Layout
//!
//! | file | part |
//! |---|---|
//! | `wheel/mod.rs` | the wheel: levels, the ready heap, insert / cancel / reset / process |
//! | `wheel/level.rs` | one level: 64 slot heads, the occupied bitmap, the bit math |
//! | `entry/mod.rs` | the entry, stored in a [`weft_core::slab::Slab`] with generation-checked keys |
//! | `entry/wakers.rs` | the entries' wakers, one refcounted slot per task, shared |
//! | `driver.rs` | [`driver::Timer`]: what the runtime's driver owns and calls |
//! | `context.rs` | the thread's current timer, found in the runtime's context |
//! | `clock.rs` | the pausable clock |
//! | `pause.rs` | [`pause`], [`resume`], [`advance`] |
//! | `instant.rs` | [`Instant`] |
//! | `sleep.rs`, `timeout.rs`, `interval.rs` | the futures |
//! | `block_on.rs` | [`driver::Timer::block_on`], a one-future driver for tests |
//!
//! # The wheel
//!
//! One tick is 1 ms. Seven levels of 64 slots: level `l` has slots of `64^l` ms, so level 0
//! spans 64 ms, level 1 4.1 s, level 2 4.4 min, level 3 4.7 h, level 4 12.4 days, level 5
//! 2.2 years and level 6 about 139 years (beyond that the top level is used as a ring; an
//! entry cascades once more and never fires early). Each slot is a doubly linked list threaded
//! through a slab, so insert and cancel are O(1) with no `unsafe` (cancel, the common case for
//! timeouts, is an unlink and a free; a timer armed by the task that armed the previous one
//! shares its waker, so it costs no atomic reference count either). Entries keep their exact
//! deadline in nanoseconds: the wheel fires exactly those due by `now`, in deadline order
//! (ties: insertion order), and reports the exact next deadline, so the driver parks until
//! the real deadline rather than the rounded-up tick. See `wheel/mod.rs` for the details.
//!
//! # Runtimes and threads
//!
//! Each runtime owns one [`driver::Timer`], registered in the runtime's context
//! ([`driver::Timer::register`]), which is current on its thread while it runs. A [`Sleep`]
//! holds plain data (deadline, the timer's id, a key),
//! so it is `Send + Sync`; it talks to the timer that is current where it is polled or
//! dropped, and only if that is the one it registered with.
#![forbid(unsafe_code)]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod block_on;
mod clock;
mod context;
pub mod driver;
mod entry;
pub mod error;
mod instant;
mod interval;
mod pause;
mod sleep;
mod timeout;
mod wheel;

pub use error::Elapsed;
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use pause::{advance, pause, resume};
pub use sleep::{sleep, sleep_until, Sleep};
pub use timeout::{timeout, timeout_at, wait_for, Timeout};
