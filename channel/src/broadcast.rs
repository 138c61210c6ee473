//! A multi-producer, multi-consumer broadcast channel: every receiver sees every value
//! (tokio's `broadcast`).
//!
//! The channel keeps the last `capacity` values (rounded up to a power of two) in a ring.
//! A receiver that falls more than that far behind gets [`RecvError::Lagged`](error::RecvError)
//! with the number of values it missed, and continues from the oldest value still kept.
//!
//! # Cost and locking
//!
//! This one is not lock-free. Each slot of the ring has a `parking_lot::Mutex`; the write
//! position, the receiver count and the waiting receivers sit behind one more.
//!
//! * `send`: the tail mutex and the slot's mutex (4 atomic RMWs uncontended), then every
//!   waiting receiver is woken after both are released.
//! * `recv` of a value that is there: the slot's mutex (2 atomic RMWs), and a `T::clone`.
//! * `recv` with nothing new: also the tail mutex, to register the waker.
//!
//! Each value counts the receivers that have yet to see it; the last one to see it drops it
//! from the ring (so [`Sender::len`] is the number of values some receiver has not seen), and
//! a receiver that is dropped counts as having seen the values it had left.
//!
//! The clone runs under the slot's mutex, except for the last receiver of a value, which takes
//! it out and clones it with no lock held. A receiver moves past a value before cloning it, so
//! a `Clone` that panics loses that value for that receiver, and nothing else. Wakers are
//! woken or dropped, and overwritten values dropped, with no lock held: a waker whose drop
//! sends on the same channel does not deadlock.
//!
//! # Examples
//!
//! ```
//! use weft_channel::broadcast;
//!
//! futures::executor::block_on(async {
//!     let (tx, mut rx1) = broadcast::channel(16);
//!     let mut rx2 = tx.subscribe();
//!     tx.send(10).unwrap();
//!     assert_eq!(rx1.recv().await, Ok(10));
//!     assert_eq!(rx2.recv().await, Ok(10));
//! });
//! ```

use std::fmt;
use std::future::poll_fn;
use std::pin::pin;
use std::task::{Context, Poll, Waker};
use weft_core::sync::atomic::{
    AtomicUsize, Ordering::AcqRel, Ordering::Acquire, Ordering::Relaxed,
};
use weft_core::sync::Arc;

use crate::lock_free::{Mutex, MutexGuard};

use weft_core::ready_budget;

use crate::notify::Notify;
use crate::waiters::{Key, WaitList, WakeList};

/// Error types of the broadcast channel.
pub mod error {
    use std::fmt;

    /// No receiver is alive: the value is given back.
    #[derive(PartialEq, Eq, Clone, Copy)]
    pub struct SendError<T>(pub T);

    impl<T> fmt::Debug for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("SendError").finish_non_exhaustive()
        }
    }

    impl<T> fmt::Display for SendError<T> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl<T> std::error::Error for SendError<T> {}

    /// Error from [`Receiver::recv`](super::Receiver::recv).
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub enum RecvError {
        /// Every sender is gone and every value has been received.
        Closed,
        /// The receiver fell behind: this many values were overwritten before it read them.
        /// The next receive returns the oldest value still kept.
        Lagged(u64),
    }

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                RecvError::Closed => f.write_str("channel closed"),
                RecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl std::error::Error for RecvError {}

    /// Error from [`Receiver::try_recv`](super::Receiver::try_recv).
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub enum TryRecvError {
        /// No new value now.
        Empty,
        /// Every sender is gone and every value has been received.
        Closed,
        /// As [`RecvError::Lagged`].
        Lagged(u64),
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
                TryRecvError::Lagged(n) => write!(f, "channel lagged by {n}"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, SendError, TryRecvError};

struct Slot<T> {
    /// Position of the value in `val`; `index - capacity` before the first write.
    pos: u64,
    /// Receivers that have yet to see the value; the last one drops it.
    rem: usize,
    val: Option<T>,
}

struct Tail {
    /// Position of the next value to send.
    pos: u64,
    rx_cnt: usize,
    closed: bool,
    /// Receivers waiting for `pos` to move; all are woken (and unlinked) by each send.
    waiters: WaitList<Waker>,
}

struct Shared<T> {
    buffer: Box<[Mutex<Slot<T>>]>,
    mask: u64,
    tail: Mutex<Tail>,
    /// Live `Sender`s; the channel closes when the last one goes (never back up from 0).
    num_tx: AtomicUsize,
    /// Live `WeakSender`s (only reported).
    num_weak: AtomicUsize,
    /// Notified when the last receiver goes, for `Sender::closed`.
    rx_gone: Notify,
}

/// Sends values to every [`Receiver`]; cloneable.
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// A sender that does not keep the channel open: [`upgrade`](WeakSender::upgrade) it to send.
///
/// Created by [`Sender::downgrade`]. When every [`Sender`] is gone, the receivers see
/// `Closed` and `upgrade` returns `None`, weak senders or not.
pub struct WeakSender<T> {
    shared: Arc<Shared<T>>,
}

/// Receives every value sent after it subscribed.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// Position of the next value to receive.
    next: u64,
    /// Our entry in `tail.waiters`, if registered.
    waiter: Option<Key>,
}

/// Creates a broadcast channel keeping the last `capacity` values (rounded up to a power of
/// two). Works outside any runtime.
///
/// # Panics
///
/// If `capacity` is 0 or larger than `usize::MAX / 2`.
///
/// # Examples
///
/// ```
/// let (tx, mut rx) = weft_channel::broadcast::channel(2);
/// tx.send("hi").unwrap();
/// assert_eq!(rx.try_recv(), Ok("hi"));
/// ```
#[track_caller]
pub fn channel<T: Clone>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let tx = Sender::new(capacity);
    let rx = tx.subscribe();
    (tx, rx)
}

impl<T> Sender<T> {
    /// A sender of a new channel that has no receiver yet ([`subscribe`](Self::subscribe)
    /// makes them); `capacity` as for [`channel`].
    ///
    /// # Panics
    ///
    /// As [`channel`].
    ///
    /// # Examples
    ///
    /// ```
    /// let tx = weft_channel::broadcast::Sender::<u8>::new(8);
    /// assert!(tx.send(1).is_err()); // nobody listens yet
    /// let mut rx = tx.subscribe();
    /// tx.send(2).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(2));
    /// ```
    #[track_caller]
    pub fn new(capacity: usize) -> Sender<T> {
        assert!(capacity > 0, "broadcast channel capacity cannot be zero");
        assert!(
            capacity <= usize::MAX >> 1,
            "broadcast channel capacity too large"
        );
        let cap = capacity.next_power_of_two();
        let buffer = (0..cap)
            .map(|i| {
                Mutex::new(Slot {
                    pos: (i as u64).wrapping_sub(cap as u64),
                    rem: 0,
                    val: None,
                })
            })
            .collect();
        let tail = Tail {
            pos: 0,
            rx_cnt: 0,
            closed: false,
            waiters: WaitList::new(),
        };
        let shared = Arc::new(Shared {
            buffer,
            mask: cap as u64 - 1,
            tail: Mutex::new(tail),
            num_tx: AtomicUsize::new(1),
            num_weak: AtomicUsize::new(0),
            rx_gone: Notify::new(),
        });
        Sender { shared }
    }

    /// Sends `value` to every current receiver; returns how many there are. Overwrites the
    /// oldest value if the ring is full (slow receivers will see `Lagged`).
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if there is no receiver.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::broadcast::channel(4);
    /// assert_eq!(tx.send(1), Ok(1));
    /// drop(rx);
    /// assert!(tx.send(2).is_err());
    /// ```
    pub fn send(&self, value: T) -> Result<usize, SendError<T>> {
        let mut wakers = WakeList::new();
        let (receivers, old) = {
            let mut tail = self.shared.tail.lock();
            if tail.rx_cnt == 0 {
                return Err(SendError(value));
            }
            let pos = tail.pos;
            tail.pos = pos.wrapping_add(1);
            let old = {
                let mut slot = self.shared.buffer[(pos & self.shared.mask) as usize].lock();
                slot.pos = pos;
                slot.rem = tail.rx_cnt;
                slot.val.replace(value)
            };
            while let Some(w) = tail.waiters.pop_front() {
                wakers.push(w);
            }
            (tail.rx_cnt, old)
        };
        wakers.wake_all();
        drop(old);
        Ok(receivers)
    }

    /// A new receiver, which will see the values sent from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::broadcast::channel::<u8>(4);
    /// let _rx2 = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        subscribe(&self.shared)
    }

    /// Number of live receivers.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::broadcast::channel::<u8>(4);
    /// drop(rx);
    /// assert_eq!(tx.receiver_count(), 0);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.tail.lock().rx_cnt
    }

    /// Number of values in the ring that some receiver has not seen yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx1) = weft_channel::broadcast::channel(4);
    /// let mut rx2 = tx.subscribe();
    /// tx.send(1).unwrap();
    /// tx.send(2).unwrap();
    /// assert_eq!(tx.len(), 2);
    /// rx1.try_recv().unwrap();
    /// assert_eq!(tx.len(), 2); // rx2 has seen neither
    /// rx2.try_recv().unwrap();
    /// assert_eq!(tx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let tail = self.shared.tail.lock();
        let cap = self.shared.mask + 1;
        // Receivers read in order, so the values not yet seen by all are a suffix of the
        // ring: search for where it starts, from the oldest position kept.
        let oldest = tail.pos.saturating_sub(cap);
        let (mut lo, mut hi) = (oldest, tail.pos);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let slot = self.shared.buffer[(mid & self.shared.mask) as usize].lock();
            if slot.pos == mid && slot.rem > 0 {
                hi = mid;
            } else {
                lo = mid + 1;
            }
        }
        (tail.pos - lo) as usize
    }

    /// Whether every receiver has seen every value in the ring.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::broadcast::channel::<u8>(4);
    /// assert!(tx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until there is no receiver (at once if there is none now).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, rx) = weft_channel::broadcast::channel::<u8>(4);
    ///     std::thread::spawn(move || drop(rx));
    ///     tx.closed().await;
    ///     assert_eq!(tx.receiver_count(), 0);
    /// });
    /// ```
    pub async fn closed(&self) {
        loop {
            let mut notified = pin!(self.shared.rx_gone.notified());
            notified.as_mut().enable();
            if self.receiver_count() == 0 {
                return;
            }
            notified.await;
        }
    }

    /// Whether both senders feed the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::broadcast::channel::<u8>(4);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }

    /// A [`WeakSender`] for this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::broadcast::channel::<u8>(4);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        self.shared.num_weak.fetch_add(1, Relaxed);
        WeakSender {
            shared: self.shared.clone(),
        }
    }

    /// Number of live [`Sender`]s.
    pub fn strong_count(&self) -> usize {
        self.shared.num_tx.load(Acquire)
    }

    /// Number of live [`WeakSender`]s.
    pub fn weak_count(&self) -> usize {
        self.shared.num_weak.load(Acquire)
    }
}

impl<T> WeakSender<T> {
    /// A [`Sender`], if one is still alive.
    pub fn upgrade(&self) -> Option<Sender<T>> {
        let mut n = self.shared.num_tx.load(Relaxed);
        loop {
            if n == 0 {
                return None;
            }
            match self
                .shared
                .num_tx
                .compare_exchange_weak(n, n + 1, AcqRel, Relaxed)
            {
                Ok(_) => {
                    return Some(Sender {
                        shared: self.shared.clone(),
                    })
                }
                Err(actual) => n = actual,
            }
        }
    }

    /// Number of live [`Sender`]s.
    pub fn strong_count(&self) -> usize {
        self.shared.num_tx.load(Acquire)
    }

    /// Number of live [`WeakSender`]s.
    pub fn weak_count(&self) -> usize {
        self.shared.num_weak.load(Acquire)
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        self.shared.num_weak.fetch_add(1, Relaxed);
        WeakSender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.shared.num_weak.fetch_sub(1, AcqRel);
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::WeakSender")
            .finish_non_exhaustive()
    }
}

fn subscribe<T>(shared: &Arc<Shared<T>>) -> Receiver<T> {
    let mut tail = shared.tail.lock();
    tail.rx_cnt += 1;
    Receiver {
        shared: shared.clone(),
        next: tail.pos,
        waiter: None,
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.num_tx.fetch_add(1, Relaxed);
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.num_tx.fetch_sub(1, AcqRel) != 1 {
            return;
        }
        let mut wakers = WakeList::new();
        {
            let mut tail = self.shared.tail.lock();
            tail.closed = true;
            while let Some(w) = tail.waiters.pop_front() {
                wakers.push(w);
            }
        }
        wakers.wake_all();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Sender").finish_non_exhaustive()
    }
}

/// What one look at the ring found.
enum Look<T> {
    Value(T),
    Empty,
    Closed,
    Lagged(u64),
}

impl<T: Clone> Receiver<T> {
    /// Receives the next value.
    ///
    /// # Errors
    ///
    /// [`RecvError::Lagged`] if values were overwritten before this receiver read them (it
    /// then continues with the oldest value kept); [`RecvError::Closed`] once every sender is
    /// gone and every value received.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: no value is consumed unless the future completes.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::broadcast::{self, error::RecvError};
    ///
    /// futures::executor::block_on(async {
    ///     let (tx, mut rx) = broadcast::channel(2);
    ///     for i in 0..5 {
    ///         tx.send(i).unwrap();
    ///     }
    ///     assert_eq!(rx.recv().await, Err(RecvError::Lagged(3)));
    ///     assert_eq!(rx.recv().await, Ok(3));
    ///     assert_eq!(rx.recv().await, Ok(4));
    ///     drop(tx);
    ///     assert_eq!(rx.recv().await, Err(RecvError::Closed));
    /// });
    /// ```
    pub async fn recv(&mut self) -> Result<T, RecvError> {
        poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// Receives the next value, blocking the calling thread until there is one:
    /// [`recv`](Self::recv) for synchronous code.
    ///
    /// # Errors
    ///
    /// As [`recv`](Self::recv): [`RecvError::Lagged`] if this receiver fell behind,
    /// [`RecvError::Closed`] once every sender is gone and every value received.
    ///
    /// # Panics
    ///
    /// If called on a thread that runs a weft runtime
    /// ([`in_runtime`](weft_core::context::in_runtime)): blocking would stall that runtime. Use `.await` there instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::broadcast::{self, error::RecvError};
    ///
    /// let (tx, mut rx) = broadcast::channel(4);
    /// let listener = std::thread::spawn(move || {
    ///     let mut got = Vec::new();
    ///     loop {
    ///         match rx.blocking_recv() {
    ///             Ok(v) => got.push(v),
    ///             Err(RecvError::Closed) => return got,
    ///             Err(RecvError::Lagged(_)) => unreachable!("4 values fit"),
    ///         }
    ///     }
    /// });
    /// for i in 0..4 {
    ///     tx.send(i).unwrap();
    /// }
    /// drop(tx);
    /// assert_eq!(listener.join().unwrap(), [0, 1, 2, 3]);
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Result<T, RecvError> {
        weft_core::block_on("blocking_recv", self.recv())
    }

    /// Polls for the next value; see [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll};
    /// let (tx, mut rx) = weft_channel::broadcast::channel(2);
    /// let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    /// assert!(rx.poll_recv(&mut cx).is_pending());
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Ok(1)));
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Result<T, RecvError>> {
        ready_budget!(cx);
        match self.look(Some(cx.waker())) {
            Look::Value(v) => Poll::Ready(Ok(v)),
            Look::Closed => Poll::Ready(Err(RecvError::Closed)),
            Look::Lagged(n) => Poll::Ready(Err(RecvError::Lagged(n))),
            Look::Empty => Poll::Pending,
        }
    }

    /// Receives the next value if there is one now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if there is none; otherwise as [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::broadcast::{self, error::TryRecvError};
    /// let (tx, mut rx) = broadcast::channel::<u8>(2);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        match self.look(None) {
            Look::Value(v) => Ok(v),
            Look::Empty => Err(TryRecvError::Empty),
            Look::Closed => Err(TryRecvError::Closed),
            Look::Lagged(n) => Err(TryRecvError::Lagged(n)),
        }
    }

    fn look(&mut self, waker: Option<&Waker>) -> Look<T> {
        let shared = &*self.shared;
        let cap = shared.mask + 1;
        let slot_lock = &shared.buffer[(self.next & shared.mask) as usize];
        {
            let slot = slot_lock.lock();
            if slot.pos == self.next {
                // The fast path: only the slot's mutex.
                return Look::Value(take(&mut self.next, slot));
            }
        }
        let mut tail = shared.tail.lock();
        let slot = slot_lock.lock();
        if slot.pos == self.next {
            drop(tail);
            return Look::Value(take(&mut self.next, slot));
        }
        if slot.pos.wrapping_add(cap) == self.next {
            // Our position has not been written yet.
            drop(slot);
            if tail.closed {
                return Look::Closed;
            }
            let mut old = None;
            if let Some(waker) = waker {
                match self.waiter.and_then(|k| tail.waiters.get_mut(k)) {
                    Some(w) if w.will_wake(waker) => {}
                    // The old waker is dropped below, with no lock held.
                    Some(w) => old = Some(std::mem::replace(w, waker.clone())),
                    None => self.waiter = Some(tail.waiters.push_back(waker.clone())),
                }
            }
            drop(tail);
            drop(old);
            return Look::Empty;
        }
        // Overwritten: skip to the oldest value kept.
        let oldest = tail.pos.wrapping_sub(cap);
        let missed = oldest.wrapping_sub(self.next);
        self.next = oldest;
        Look::Lagged(missed)
    }
}

/// Receives the value in `slot`, at position `*next`: moves past it first, so that a `Clone`
/// that panics does not leave the receiver stuck on it.
fn take<T: Clone>(next: &mut u64, mut slot: MutexGuard<'_, Slot<T>>) -> T {
    {
        *next = next.wrapping_add(1);
        slot.rem -= 1;
        if slot.rem > 0 {
            return slot.val.clone().expect("written slot without value");
        }
        // The last receiver of this value takes it out of the ring; it clones it with no
        // lock held, and the original is dropped with no lock held.
        let val = slot.val.take().expect("written slot without value");
        drop(slot);
        val.clone()
    }
}

impl<T> Receiver<T> {
    /// A new receiver for the same channel, starting at the values sent from now on.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::broadcast::channel::<u8>(2);
    /// let _rx2 = rx.resubscribe();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn resubscribe(&self) -> Receiver<T> {
        subscribe(&self.shared)
    }

    /// Number of values sent since this receiver's position: not yet received, or lost to a
    /// lag it has not been told of yet.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::broadcast::channel(4);
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        let tail = self.shared.tail.lock().pos;
        // Not capped at the capacity: after a lag, this counts the values missed too (as
        // tokio's does).
        tail.wrapping_sub(self.next) as usize
    }

    /// Whether there is nothing new to receive.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = weft_channel::broadcast::channel::<u8>(4);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let shared = &*self.shared;
        let mut dropped = Vec::new();
        let (waker, last) = {
            let mut tail = shared.tail.lock();
            // We count as having seen what we had left: values we were the last to see go.
            let mut pos = self.next.max(tail.pos.saturating_sub(shared.mask + 1));
            while pos != tail.pos {
                let mut slot = shared.buffer[(pos & shared.mask) as usize].lock();
                if slot.pos == pos {
                    slot.rem -= 1;
                    if slot.rem == 0 {
                        dropped.extend(slot.val.take());
                    }
                }
                pos = pos.wrapping_add(1);
            }
            tail.rx_cnt -= 1;
            (
                self.waiter.and_then(|key| tail.waiters.remove(key)),
                tail.rx_cnt == 0,
            )
        };
        // With no lock held: a value's or a waker's drop, or a `closed` waiter's wake, may
        // use the channel.
        drop(waker);
        drop(dropped);
        if last {
            shared.rx_gone.notify_waiters();
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("broadcast::Receiver")
            .field("next", &self.next)
            .finish_non_exhaustive()
    }
}
