//! weft: a single-threaded async runtime for Rust, with asyncio's face and tokio's module
//! paths.
//!
//! ```
//! async fn work(name: &str) -> String {
//!     weft::yield_now().await;
//!     format!("{name} done")
//! }
//!
//! weft::run(async {
//!     let a = weft::create_task(work("a"));
//!     let b = weft::create_task(work("b"));
//!     let (a, b) = weft::gather!(a, b).await;
//!     assert_eq!(a.unwrap(), "a done");
//!     assert_eq!(b.unwrap(), "b done");
//! });
//! ```
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

pub mod fs;
mod gather;
pub mod runtime;

use std::future::Future;

pub use gather::{gather, Gather};
pub use runtime::{Builder, Runtime};
pub use weft_executor::{spawn, yield_now, JoinError, JoinHandle};

/// The cooperative budget: how weft keeps one busy task from starving the others (tokio's
/// `task::coop`). Each poll of a task may do a budget of resource operations (channel,
/// timer, I/O); then weft's futures make it yield once.
///
/// ```
/// weft::run(async {
///     // A loop that never waits, still yielding now and then:
///     for _ in 0..1_000 {
///         std::future::poll_fn(weft::coop::poll_proceed).await;
///     }
///     // And one that the budget never stops:
///     weft::coop::unconstrained(async { assert!(weft::coop::has_budget_remaining()) }).await;
/// });
/// ```
pub mod coop {
    pub use weft_core::coop::{has_budget_remaining, poll_proceed, unconstrained, Unconstrained};
}

/// Time: sleeps, timeouts, intervals, and the pausable clock (tokio's `tokio::time`).
///
/// ```
/// use std::time::Duration;
///
/// let rt = weft::Builder::new().start_paused(true).build().unwrap();
/// rt.block_on(async {
///     let slow = weft::sleep(Duration::from_secs(10));
///     let r = weft::time::timeout(Duration::from_secs(1), slow).await;
///     assert!(r.is_err()); // timed out, instantly, on the paused clock
/// });
/// ```
pub mod time {
    pub use std::time::Duration;
    pub use weft_timer::{
        advance, interval, interval_at, pause, resume, sleep, sleep_until, timeout, timeout_at,
        wait_for, Elapsed, Instant, Interval, MissedTickBehavior, Sleep, Timeout,
    };
}

/// Networking: TCP, UDP and Unix sockets, speaking tokio's and futures-io's I/O traits
/// (tokio's `tokio::net`).
pub mod net {
    pub use weft_reactor::net::*;
}

/// Signals delivered through the reactor: `ctrl_c()` and Unix signal streams.
pub mod signal {
    pub use weft_reactor::signal::*;
}

pub mod io;

/// Channels and sync primitives (tokio's `tokio::sync`).
pub mod sync {
    pub use weft_channel::{broadcast, mpsc, oneshot, queue, watch};
    pub use weft_channel::{
        AcquireError, Barrier, BarrierWait, BarrierWaitResult, Condvar, Event, LifoQueue, Mutex,
        MutexGuard, Notified, Notify, OwnedMutexGuard, OwnedRwLockReadGuard, OwnedRwLockWriteGuard,
        OwnedSemaphorePermit, PriorityQueue, Queue, QueueEmpty, QueueFull, RateLimiter, RwLock,
        RwLockReadGuard, RwLockWriteGuard, Semaphore, SemaphorePermit, TryAcquireError,
        TryLockError,
    };
}

pub use weft_channel::{LifoQueue, PriorityQueue, Queue};
pub use weft_timer::{sleep, wait_for};

/// Runtime metrics, hooks' task info, the unhandled-panic policy.
pub mod metrics {
    pub use weft_executor::metrics::*;
}

/// Tasks: spawning with options, handles, ids and names (tokio's `tokio::task`).
pub mod task {
    pub use crate::local::{LocalEnterGuard, LocalSet};
    pub use crate::JoinSet;
    pub use weft_core::coop::{unconstrained, Unconstrained};
    pub use weft_executor::metrics::TaskSnapshot;
    pub use weft_executor::task::{
        AbortHandle, JoinError, JoinHandle, Priority, TaskId, TaskState,
    };
    pub use weft_executor::{
        all_tasks, dump, spawn, spawn_blocking, task_id as id, task_name as name,
        try_task_id as try_id, yield_now, TaskBuilder as Builder, YieldNow,
    };

    /// Spawns `fut` on the current runtime (tokio's `spawn_local`: every weft task is local).
    ///
    /// # Panics
    ///
    /// If no weft runtime is running on this thread.
    ///
    /// # Examples
    ///
    /// ```
    /// weft::run(async {
    ///     let rc = std::rc::Rc::new(1);
    ///     assert_eq!(weft::task::spawn_local(async move { *rc }).await.unwrap(), 1);
    /// });
    /// ```
    #[track_caller]
    pub fn spawn_local<F: std::future::Future + 'static>(
        fut: F,
    ) -> weft_executor::JoinHandle<F::Output> {
        crate::spawn(fut)
    }

    /// The cooperative budget (tokio's `task::coop`): weft's own I/O, channel and timer
    /// futures spend one unit per operation and return `Pending` once when it runs out.
    pub mod coop {
        pub use weft_core::coop::{has_budget_remaining, unconstrained, Unconstrained};

        /// Spends one unit of the task's budget, yielding first if it is spent (tokio's
        /// `consume_budget`): call it in a loop that does no other resource operation.
        ///
        /// # Examples
        ///
        /// ```
        /// weft::run(async {
        ///     for _ in 0..1000 {
        ///         weft::task::coop::consume_budget().await; // yields now and then
        ///     }
        /// });
        /// ```
        pub async fn consume_budget() {
            std::future::poll_fn(weft_core::coop::poll_proceed).await
        }
    }
}

/// Runs `fut` to completion on a new runtime on this thread and returns its output
/// (asyncio's `asyncio.run(main())`).
///
/// # Panics
///
/// If the runtime cannot be created, inside another weft runtime, or with `fut`'s panic.
///
/// # Examples
///
/// ```
/// let v = weft::run(async { 40 + 2 });
/// assert_eq!(v, 42);
/// ```
#[track_caller]
pub fn run<F: Future>(fut: F) -> F::Output {
    let rt = Runtime::new().unwrap_or_else(|e| panic!("failed to start the weft runtime: {e}"));
    rt.block_on(fut)
}

/// asyncio's name for [`spawn`]: schedules `fut` as a task on the current runtime.
///
/// # Panics
///
/// If no weft runtime is running on this thread.
///
/// # Examples
///
/// ```
/// weft::run(async {
///     let t = weft::create_task(async { "hi" });
///     assert_eq!(t.await.unwrap(), "hi");
/// });
/// ```
#[track_caller]
pub fn create_task<F: Future + 'static>(fut: F) -> JoinHandle<F::Output> {
    weft_executor::spawn(fut)
}

/// Runs `f` on the blocking pool and awaits its result (asyncio's `to_thread`; the same as
/// [`task::spawn_blocking`]). A panic in `f` comes back as `JoinError::Panic`.
///
/// # Panics
///
/// If no weft runtime is running on this thread.
///
/// # Examples
///
/// ```
/// weft::run(async {
///     let n = weft::to_thread(|| (1..=10u32).product::<u32>()).await.unwrap();
///     assert_eq!(n, 3_628_800);
/// });
/// ```
///
/// On a paused clock (tests), the clock does not jump ahead while `f` runs: a blocking job is
/// work in progress, not idleness.
#[track_caller]
pub fn to_thread<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    // On a paused clock, a guard that keeps it from jumping ahead while `f` runs.
    let inhibit = weft_reactor::Handle::try_current()
        .filter(|h| h.timer().is_paused())
        .map(|h| h.inhibit_auto_advance());
    match inhibit {
        None => task::spawn_blocking(f),
        Some(guard) => {
            // The guard travels with the result and is dropped on this thread once the result
            // is in, so the clock cannot advance between the end of `f` and its wake-up.
            let job = task::spawn_blocking(move || (f(), guard));
            spawn(async move {
                match job.await {
                    Ok((v, _guard)) => v,
                    Err(e) => {
                        std::panic::resume_unwind(e.try_into_panic().unwrap_or_else(|_cancelled| {
                            Box::new("the blocking job was cancelled")
                        }))
                    }
                }
            })
        }
    }
}

#[doc(hidden)]
pub mod __private {
    pub use crate::select::{Biased, Rotate};
    pub use futures_util::future::{maybe_done, try_maybe_done};
    pub use std::future::poll_fn;
}

// Structured concurrency (asyncio's TaskGroup, wait, as_completed, shield), JoinSet, and
// the macros.
mod current;
mod join_set;
mod local;
mod select;
mod task_group;
mod wait;
pub mod workers;

pub use current::{all_tasks, current_task, dump, runtime_metrics};
pub use join_set::JoinSet;
pub use task_group::{GroupError, GroupWait, TaskFailure, TaskGroup};
pub use wait::{as_completed, shield, wait, AsCompleted, ReturnWhen, Shield, Wait};
/// Runs an `async fn main` on a new weft runtime; see the macro's own page.
///
/// A function that is not `async` is refused at compile time:
///
/// ```compile_fail
/// #[weft::main]
/// fn main() {}
/// ```
#[doc(inline)]
pub use weft_macros::main;
#[doc(hidden)]
pub use weft_macros::select as __select;
/// Makes an `async fn` a test on a fresh weft runtime; see the macro's own page.
///
/// A function that is not `async` is refused at compile time:
///
/// ```compile_fail
/// #[weft::test]
/// fn not_async() {}
/// # fn main() {}
/// ```
#[doc(inline)]
pub use weft_macros::test;

/// Support of `weft::select!`; not public API.
#[doc(hidden)]
pub mod __select_private {
    pub use crate::select::{budget_available, random_start};
}

// Adapters for other crates' runtime traits.
#[cfg(feature = "hyper")]
pub mod compat;
