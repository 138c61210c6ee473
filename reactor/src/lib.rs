//! weft-reactor: the driver under the weft runtime — mio's poll, the wake-up path from other
//! threads, and the runtime's timing wheel — plus the net types ([`net`]) and signals
//! ([`signal`]). A runtime built on a [`Driver`] makes it current while it runs (the driver
//! registers itself in the runtime's context); sockets register with the current driver.
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

pub use driver::{AutoAdvanceGuard, Driver, Handle};
pub use io::{EnterGuard, Interest, Ready};
