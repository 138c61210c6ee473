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
mod runtime;

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

/// I/O traits and helpers: tokio's `tokio::io`, and [`Interest`](io::Interest) /
/// [`Ready`](io::Ready) for the sockets' readiness.
///
/// The traits are tokio's own (`AsyncRead` with `ReadBuf`, `AsyncWrite`, ...), taken from the
/// tokio crate with its runtime features off, so tokio-util's codecs, tokio-rustls and
/// hyper-util's `TokioIo` run on weft's sockets unchanged. The helpers are tokio's too:
/// `AsyncReadExt::read_buf`, `AsyncBufReadExt::lines`, `BufReader`, `BufWriter`, `copy`,
/// `split`, `duplex`, ...
///
/// weft's sockets also implement futures-io's traits, for smol's ecosystem: those traits,
/// futures-util's extension traits and helpers are in [`io::futures`].
///
/// # Examples
///
/// ```
/// use weft::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
/// use weft::net::{TcpListener, TcpStream};
///
/// weft::run(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let mut client = TcpStream::connect(listener.local_addr()?).await?;
///     let (server, _) = listener.accept().await?;
///     client.write_all(b"one\ntwo\n").await?;
///     client.shutdown().await?; // tokio's name: the write side only
///     let mut lines = BufReader::new(server).lines();
///     assert_eq!(lines.next_line().await?.as_deref(), Some("one"));
///     assert_eq!(lines.next_line().await?.as_deref(), Some("two"));
///     assert_eq!(lines.next_line().await?, None);
///     Ok::<_, std::io::Error>(())
/// })
/// .unwrap();
/// ```
pub mod io {
    pub use std::io::{Error, ErrorKind, Result, SeekFrom};
    pub use tokio::io::{
        copy, copy_bidirectional, copy_bidirectional_with_sizes, copy_buf, duplex, empty, join,
        repeat, simplex, sink, split, AsyncBufRead, AsyncBufReadExt, AsyncRead, AsyncReadExt,
        AsyncSeek, AsyncSeekExt, AsyncWrite, AsyncWriteExt, BufReader, BufStream, BufWriter, Chain,
        DuplexStream, Empty, Join, Lines, ReadBuf, ReadHalf, Repeat, SimplexStream, Sink, Split,
        Take, WriteHalf,
    };
    pub use weft_reactor::{Interest, Ready};

    /// futures-io's traits and futures-util's extension traits and helpers, for code of
    /// smol's ecosystem: weft's sockets implement these traits too.
    ///
    /// Import the extension traits from here *or* from `weft::io`, not both in one scope:
    /// both name their methods `read`, `write_all`, ...
    ///
    /// ```
    /// use weft::io::futures::{AsyncReadExt, AsyncWriteExt};
    /// use weft::net::UnixStream;
    ///
    /// weft::run(async {
    ///     let (mut a, mut b) = UnixStream::pair()?;
    ///     a.write_all(b"smol").await?;
    ///     a.close().await?; // futures-io's name for shutting down the write side
    ///     let mut got = String::new();
    ///     b.read_to_string(&mut got).await?;
    ///     assert_eq!(got, "smol");
    ///     Ok::<_, std::io::Error>(())
    /// })
    /// .unwrap();
    /// ```
    pub mod futures {
        pub use futures_util::io::*;
    }
}

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
    pub use futures_util::future::{maybe_done, try_maybe_done};
    pub use std::future::poll_fn;
}

// Structured concurrency (asyncio's TaskGroup, wait, as_completed, shield), JoinSet, and
// the macros.
mod current;
mod join_set;
mod select;
mod task_group;
mod wait;

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
pub use weft_macros::select;
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
    pub use crate::select::random_start;
}

// Adapters for other crates' runtime traits.
#[cfg(feature = "hyper")]
pub mod compat;
