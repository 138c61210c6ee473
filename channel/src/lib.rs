//! Channels, asyncio-style queues and async synchronisation primitives for weft.
//!
//! Runtime-agnostic: every type here works on any executor (weft, tokio, `futures`' executors,
//! a plain `block_on`) and across threads; every channel can be created outside a runtime.
//! Names, signatures and error types follow `tokio::sync`, so a port is a change of imports;
//! the queues follow asyncio. The weft facade re-exports this crate as `weft::sync`.
//!
//! | | what | module / type |
//! |---|---|---|
//! | channels | one value | [`oneshot`] |
//! | | many producers, one consumer | [`mpsc`] (bounded and unbounded) |
//! | | every receiver sees every value | [`broadcast`] |
//! | | the latest value | [`watch`] |
//! | asyncio | queues with `task_done` / `join` | [`Queue`], [`PriorityQueue`], [`LifoQueue`] |
//! | sync | fair locks | [`Mutex`], [`RwLock`], [`Semaphore`] |
//! | | signalling | [`Notify`], [`Event`], [`Condvar`], [`Barrier`] |
//! | | pacing | [`RateLimiter`] (on the runtime's clock) |
//!
//! # Cost on one thread
//!
//! Every type is `Send + Sync` when its `T` is, so it must be correct across threads; but the
//! common single-thread case should not pay for more than correctness needs. Atomic
//! read-modify-writes (RMW) per uncontended operation — the budget we count:
//!
//! | operation | RMWs | lock | allocation |
//! |---|---|---|---|
//! | `mpsc` bounded `send`/`try_send` | 1 CAS | no | no |
//! | `mpsc` bounded receive | 0 | no | no |
//! | `mpsc` unbounded `send` | 1 CAS (+2 per 31 messages) | no | no (block reused) |
//! | `mpsc` unbounded receive | 0 (+1 per 31 messages) | no | no |
//! | `mpsc` receiver asleep: park / the send that wakes it | +1 CAS / +0 | no | no |
//! | `oneshot` create / send / receive | 0 / 1 CAS / 0 (+1 CAS to wait) | no | 1 block per channel |
//! | `Mutex` lock / unlock, `RwLock` read or write / release | 1 CAS / 1 CAS | no | no |
//! | `Semaphore` acquire / release | 1 CAS / 1 CAS | no | no |
//! | `Notify::notify_one` / `notify_waiters` with no waiter | 1 CAS | no | no |
//! | `broadcast` send / receive | 4 / 2 | `parking_lot` locks | no |
//! | `watch` send / borrow | 5 (+1 swap per receiver that has waited) / 2 | `parking_lot` `RwLock` | no |
//! | `watch` `changed` that waits: first time / again / the drop of its future | 1 swap + list lock / 1 swap / 0 | list lock the first time | 1 slot per receiver, the first time |
//! | `Queue` put / get | 2 (0 on its own thread, see below) | a biased spin lock | no (after growth) |
//!
//! The RMWs of `mpsc`, `Mutex`, `RwLock`, `Semaphore` and `Queue` above are made only once a
//! second thread has used the value: until then, on the thread that created it (for the
//! semaphore-based locks, the thread that first took them), the state word is updated with
//! a plain load and store (a *biased* word; another thread's first update revokes the bias
//! for good, with one `membarrier` call on Linux; see `lock_free/biased.rs`). So two tasks of one
//! runtime exchange `mpsc` messages, park and wake each other, take and release free locks,
//! and put to and get from a `Queue`, with no atomic read-modify-write (a task that must wait
//! still clones its waker).
//!
//! Waiting (a full channel, a held lock) goes through a FIFO list of waiters behind a lock:
//! for `mpsc`, the semaphore-based locks and `Queue`, a spin-then-yield lock on a biased word
//! (its critical sections are a few list operations), elsewhere a `parking_lot::Mutex`.
//! Wakers are always woken after that lock is released. Every waiting
//! future is cancel safe and documents it.
//!
//! # Cooperative budget
//!
//! Receive-side futures, the bounded senders' `send`, `reserve` and `Queue::put`, and the
//! lock and semaphore acquisitions spend a unit of weft's cooperative budget first
//! ([`weft_core::coop`]), so that on weft a task that always finds a message ready (or room
//! for one, or a free lock) still yields now and then, as in tokio. The budget lives in the
//! thread's runtime context: off weft (another executor, a plain thread) it is unconstrained,
//! and the check is a few inline instructions.
//!
//! # Blocking from synchronous code
//!
//! As in tokio, `mpsc`, `oneshot` and `broadcast` have `blocking_send` / `blocking_recv`
//! methods for threads that run no async runtime: they park the calling thread until done.
//! Called on a thread that runs a weft runtime ([`weft_core::context::in_runtime`]), they
//! panic instead of stalling it.
//!
//! # Examples
//!
//! ```
//! use weft_channel::{mpsc, oneshot};
//!
//! futures::executor::block_on(async {
//!     let (tx, mut rx) = mpsc::channel::<(u32, oneshot::Sender<u32>)>(8);
//!     let server = async move {
//!         while let Some((n, reply)) = rx.recv().await {
//!             let _ = reply.send(n * 2);
//!         }
//!     };
//!     let client = async move {
//!         let (reply_tx, reply_rx) = oneshot::channel();
//!         tx.send((21, reply_tx)).await.unwrap();
//!         reply_rx.await.unwrap()
//!     };
//!     let ((), answer) = futures::join!(server, client);
//!     assert_eq!(answer, 42);
//! });
//! ```
#![deny(unsafe_op_in_unsafe_fn, clippy::undocumented_unsafe_blocks)]
#![warn(missing_docs)]
#![doc(test(attr(deny(warnings))))]

mod barrier;
mod block_cache;
pub mod broadcast;
mod condvar;
mod event;
mod lock_free;
pub mod mpsc;
mod mutex;
mod notify;
pub mod oneshot;
pub mod queue;
mod rate_limiter;
mod rwlock;
mod semaphore;
mod waiters;
pub mod watch;

pub use barrier::{Barrier, BarrierWait, BarrierWaitResult};
pub use condvar::Condvar;
pub use event::Event;
pub use mutex::{Mutex, MutexGuard, OwnedMutexGuard, TryLockError};
pub use notify::{Notified, Notify};
pub use queue::{LifoQueue, PriorityQueue, Queue, QueueEmpty, QueueFull};
pub use rate_limiter::RateLimiter;
pub use rwlock::{
    OwnedRwLockReadGuard, OwnedRwLockWriteGuard, RwLock, RwLockReadGuard, RwLockWriteGuard,
};
pub use semaphore::{
    AcquireError, OwnedSemaphorePermit, Semaphore, SemaphorePermit, TryAcquireError,
};

/// Sets up, now, the process-wide fence that bounded `mpsc` channels and biased state words
/// use (see the crate docs), and returns whether it is `membarrier` (Linux) rather than
/// `fence(SeqCst)`.
///
/// Otherwise this happens at the first bounded channel or the first lock. On Linux it
/// registers the process for `membarrier`, which is quick while the process has one thread
/// but waits for an RCU grace period once it has several (8 ms measured here): a runtime calls
/// this when it is built, usually before it starts any thread. Calling it again is free.
///
/// # Examples
///
/// ```
/// let membarrier = weft_channel::prepare_fences();
/// assert_eq!(weft_channel::prepare_fences(), membarrier);
/// ```
pub fn prepare_fences() -> bool {
    lock_free::membarrier_available()
}
