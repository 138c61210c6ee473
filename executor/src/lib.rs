//! weft-executor: the single-threaded task queue under weft.
//!
//! Tasks are stackless futures, one heap allocation each (header, future and output in one
//! block). A wake on the runtime's own thread pushes onto a plain queue; a wake from another
//! thread goes through a mutex-protected queue and unparks the driver. The executor knows
//! nothing of I/O or time: it sleeps through the [`park::Park`] trait, which the reactor
//! implements.
//!
//! ```
//! use weft_executor::{spawn, yield_now, Runtime};
//!
//! let rt = Runtime::new();
//! let out = rt.block_on(async {
//!     let a = spawn(async {
//!         yield_now().await;
//!         "a"
//!     });
//!     let b = spawn(async { "b" });
//!     (a.await.unwrap(), b.await.unwrap())
//! });
//! assert_eq!(out, ("a", "b"));
//! ```
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod blocking;
pub mod coop;
mod observe;
mod owned;
pub mod park;
mod queue;
mod remote;
mod runtime;
pub mod task;

pub use runtime::{in_runtime, metrics, Builder, Runtime};

/// Runtime metrics and observation types.
pub mod metrics {
    pub use crate::observe::histogram::Histogram;
    pub use crate::observe::{Hook, RuntimeMetrics, TaskInfo, UnhandledPanic};
}
pub use task::{spawn, yield_now, JoinError, JoinHandle};
