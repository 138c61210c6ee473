//! weft-reactor: the [`Driver`] under the weft runtime — mio's poll with the I/O sources
//! registered in it, the wake-up path from other threads, and the runtime's timing wheel —
//! plus the sockets ([`net`]) and signals ([`signal`]) built on it.
//!
//! A runtime built on a [`Driver`] registers the driver's [`Handle`] in its runtime context
//! when it is built, and `block_on` enters that context: a socket created inside finds the
//! handle there ([`Handle::try_current`]), registers its source with the driver, and keeps
//! the handle. The driver's [`Park`](weft_executor::park::Park) waits for events and timers,
//! marks the sources' readiness and wakes their tasks; [`driver`] describes the loop and how
//! each event finds its receiver, `io/scheduled.rs` why no wake-up is lost.
//!
//! | module | what |
//! |---|---|
//! | [`driver`] | [`Driver`], [`Handle`], [`AutoAdvanceGuard`]: the park loop and the dispatch of events |
//! | `io/` | the source table and its tokens, one source's readiness and waiters, the try / wait / retry loop of every operation; [`Interest`], [`Ready`] |
//! | [`net`] | TCP, UDP and Unix sockets, with tokio's I/O traits |
//! | [`signal`] | [`signal::ctrl_c`] and Unix signal streams, delivered as I/O on a socket pair |
//! | `sys/` | the precise (timerfd) timer, one file per platform |
//!
//! ```
//! use std::time::Duration;
//! use weft_executor::Runtime;
//! use weft_reactor::Driver;
//!
//! let driver = Driver::new().unwrap();
//! let rt = Runtime::with_park(driver);
//! rt.block_on(async {
//!     weft_timer::sleep(Duration::from_millis(1)).await;
//!     let listener = weft_reactor::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     assert!(listener.local_addr().unwrap().port() != 0);
//! });
//! ```
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod driver;
mod io;
pub mod net;
pub mod signal;
mod sys;
#[cfg(test)]
mod test_util;

pub use driver::{AutoAdvanceGuard, Driver, Handle};
pub use io::{Interest, Ready};
