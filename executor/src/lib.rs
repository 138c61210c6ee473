//! weft-executor: the single-threaded task queue under weft.
//!
//! Tasks are stackless futures, one heap allocation each (header, future and output in one
//! block). A wake on the runtime's own thread pushes onto a plain queue; a wake from another
//! thread goes through a mutex-protected queue and unparks the driver. The executor knows
//! nothing of I/O or time: it sleeps through the [`park::Park`] trait, which the reactor
//! implements, and the driver registers what its futures need in the runtime's context
//! ([`weft_core::context`]), which [`Runtime::block_on`] enters.
//!
//! | file | part |
//! |---|---|
//! | `task/` | the task's room: allocation, flags, the harness, wakers, handles |
//! | `runtime.rs` | [`Runtime`] and the run loop |
//! | `scheduler.rs` | the runtime's state, the thread's current scheduler, what tasks ask of it |
//! | `config.rs` | [`Config`] |
//! | `spawn.rs` | [`spawn`], [`spawn_blocking`], [`TaskBuilder`], the task dump |
//! | `spawner.rs` | [`Spawner`] and [`RemoteJoinHandle`]: spawning from other threads |
//! | `queue.rs`, `owned.rs`, `remote.rs` | the run queue, the owned list, the remote queue and wake table |
//! | `park.rs` | the [`park::Park`] contract and [`park::ThreadPark`] |
//! | `blocking.rs` | the blocking pool |
//! | `observe/` | metrics, hooks, debug mode, the task dump |
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
mod config;
mod observe;
mod owned;
pub mod park;
mod queue;
mod remote;
mod runtime;
mod scheduler;
mod spawn;
mod spawner;
pub mod task;

pub use config::Config;
pub use runtime::Runtime;
pub use spawn::{
    all_tasks, dump, runtime_metrics, spawn, spawn_blocking, task_id, task_name, try_task_id,
    TaskBuilder,
};
pub use spawner::{spawner, RemoteJoinHandle, Spawner};
pub use task::{JoinError, JoinHandle};
pub use weft_core::context::in_runtime;
pub use weft_core::coop;
pub use weft_core::{yield_now, YieldNow};

/// Runtime metrics and observation types.
pub mod metrics {
    pub use crate::observe::histogram::Histogram;
    pub use crate::observe::{Hook, RuntimeMetrics, TaskInfo, TaskSnapshot, UnhandledPanic};
}
