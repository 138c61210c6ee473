//! Multi-producer, single-consumer channels, bounded and unbounded (tokio's `mpsc`).
//!
//! Messages from one sender arrive in the order sent; each message is received exactly once
//! or, if the receiver goes away first, dropped with the channel. When every sender is
//! dropped, the receiver drains what is left and then ends (`recv` returns `None`); weak
//! senders ([`WeakSender`], [`WeakUnboundedSender`]) do not count, and can no longer be
//! upgraded once that happened.
//!
//! Synchronous code (a plain thread) can use [`Sender::blocking_send`] and
//! [`Receiver::blocking_recv`] / [`UnboundedReceiver::blocking_recv`], which park the thread
//! until done.
//!
//! # Cost per message
//!
//! Both flavours are lock-free on the message path (see `ring.rs` and `list.rs`):
//!
//! | operation, uncontended | atomic read-modify-writes | lock | allocation |
//! |---|---|---|---|
//! | bounded `send` / `try_send` | 1 CAS | no | no |
//! | bounded `recv` / `try_recv` | 0 (a release store frees the room) | no | no |
//! | bounded `reserve` + `Permit::send` | 1 CAS + 1 CAS | no | no |
//! | unbounded `send` | 1 CAS (+1 `fetch_add` and 1 `swap` per 31 messages) | no | only if no block is spare |
//! | unbounded `recv` / `try_recv` | 0 (+1 `swap` per 31 messages) | no | no |
//!
//! Those CASes are on the channel's state word, which is *biased* to the thread that created
//! the channel: there each of them is a plain load and store instead, until another thread
//! first updates the word and revokes the bias for good (one `membarrier` call on Linux; see
//! `lock_free/biased.rs`). So between two tasks of one runtime a message, and a park and wake,
//! cost no atomic read-modify-write (a sender that waits for room still clones its waker and
//! runs a fence).
//!
//! When the receiver is asleep (the common case between two tasks on one thread), its park
//! is one more CAS (its waker stays registered: no clone), and the send that wakes it pays
//! no more RMWs, only `wake_by_ref` (see `chan.rs`). When senders queue on a full bounded
//! channel, they wait in a FIFO list behind a biased spin lock (slow path only); the
//! sender that starts the queue also pays a `membarrier` call on Linux, so that the receiver
//! needs no fence per message (see `ring.rs`).
//!
//! The claimed-but-not-yet-published window (a sender on another thread between its CAS and
//! its store) is waited out by the receiver: a short spin, then `wake_by_ref` + `Pending`.
//! It cannot occur on one thread. This is the only spin, and it is why the message path is
//! lock-free rather than wait-free (the same trade as crossbeam's and std's channels).
//!
//! # Examples
//!
//! ```
//! use weft_channel::mpsc;
//!
//! futures::executor::block_on(async {
//!     let (tx, mut rx) = mpsc::channel(16);
//!     for id in 0..3 {
//!         let tx = tx.clone();
//!         std::thread::spawn(move || futures::executor::block_on(tx.send(id)).unwrap());
//!     }
//!     drop(tx);
//!     let mut got = Vec::new();
//!     while let Some(id) = rx.recv().await {
//!         got.push(id);
//!     }
//!     got.sort();
//!     assert_eq!(got, [0, 1, 2]);
//! });
//! ```

mod bounded;
mod chan;
pub mod error;
mod list;
mod ring;
mod unbounded;

pub use bounded::{OwnedPermit, Permit, Receiver, SendFuture, Sender, WeakSender};
pub use unbounded::{UnboundedReceiver, UnboundedSender, WeakUnboundedSender};

/// Future of [`Receiver::recv`] and [`UnboundedReceiver::recv`]; `R` is the receiver.
///
/// A named type rather than an `async fn` so that its poll can be inlined into the awaiting
/// task: the common case (a message is there) is a budget check, a load and a store.
///
/// # Examples
///
/// ```
/// use weft_channel::mpsc::{self, Receiver, RecvFuture};
///
/// futures::executor::block_on(async {
///     let (tx, mut rx) = mpsc::channel(1);
///     tx.try_send(5u8).unwrap();
///     let fut: RecvFuture<'_, Receiver<u8>> = rx.recv();
///     assert_eq!(fut.await, Some(5));
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct RecvFuture<'a, R> {
    rx: &'a mut R,
}

impl<R> std::fmt::Debug for RecvFuture<'_, R> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RecvFuture").finish_non_exhaustive()
    }
}

/// Creates a bounded channel with room for `capacity` messages. Works outside any runtime.
///
/// The buffer (`capacity` slots) is allocated here, once, like crossbeam's array channel.
///
/// # Panics
///
/// If `capacity` is 0 or larger than 2²⁶ (67,108,864).
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = weft_channel::mpsc::channel(8);
/// tx.try_send("hello").unwrap();
/// assert_eq!(rx.try_recv(), Ok("hello"));
/// ```
#[track_caller]
pub fn channel<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    assert!(capacity > 0, "mpsc bounded channel requires capacity > 0");
    assert!(
        capacity <= ring::MAX_CAPACITY,
        "mpsc bounded channel capacity too large (max 2^26)"
    );
    bounded::new(capacity)
}

/// Creates an unbounded channel. Works outside any runtime.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = weft_channel::mpsc::unbounded_channel();
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    unbounded::new()
}
