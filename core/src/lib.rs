//! weft-core: what every weft crate shares.
//!
//! * [`context`]: the per-thread runtime context — the id of the runtime running on this
//!   thread, its clock and its drivers' handles — entered once per `block_on` with
//!   [`RuntimeContext::enter`](context::RuntimeContext::enter);
//! * [`coop`]: the cooperative budget, spent by every resource future;
//! * [`time`]: the current runtime's clock, for crates below the timer;
//! * [`slab`]: storage with generation-checked keys, used wherever weft keeps a table;
//! * [`block_cache`]: freed heap blocks kept by size, for task and oneshot blocks;
//! * `sync` (hidden): the atomics, cells and threads of weft's lock-free protocols, std's
//!   normally and loom's under `--cfg weft_loom` (see `RELIABILITY.md`);
//! * [`block_on`], [`yield_now`], [`panic_message`]: one of each for the whole workspace.
//!
//! It depends on nothing, so a runtime-agnostic crate (weft's channels) can spend weft's
//! budget and read weft's clock without pulling in a runtime, and works unchanged elsewhere.
//!
//! ```
//! use weft_core::context::{self, RuntimeContext};
//!
//! let cx = RuntimeContext::new();
//! assert!(!context::in_runtime());
//! cx.enter(|| {
//!     assert!(context::in_runtime());
//!     assert!(weft_core::coop::has_budget_remaining());
//! });
//! ```
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod block_cache;
mod block_on;
pub mod context;
pub mod coop;
pub mod slab;
pub mod sync;
pub mod time;
mod yield_now;

pub use block_on::{block_on, block_on_with, Woken};
pub use yield_now::{yield_now, YieldNow};

use std::any::Any;

/// The message of a panic payload, if it is a string (what `panic!` with a message makes).
///
/// # Examples
///
/// ```
/// let payload = std::panic::catch_unwind(|| panic!("boom {}", 1)).unwrap_err();
/// assert_eq!(weft_core::panic_message(&*payload), Some("boom 1"));
/// let payload = std::panic::catch_unwind(|| std::panic::panic_any(5)).unwrap_err();
/// assert_eq!(weft_core::panic_message(&*payload), None);
/// ```
pub fn panic_message(payload: &(dyn Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}
