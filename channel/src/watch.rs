//! A single-producer, multi-consumer channel that keeps only the latest value (tokio's
//! `watch`).
//!
//! Receivers [`borrow`](Receiver::borrow) the current value and wait for the next change
//! with [`changed`](Receiver::changed); changes made while a receiver was not looking are
//! coalesced: it sees only the latest value.
//!
//! # Cost and locking
//!
//! The value sits in a `parking_lot::RwLock`; a version counter sits in an atomic beside it.
//! `send` is the write lock (2 RMWs) plus a `fetch_add` of the version plus waking waiters
//! (a lock of the waiters' list, then one swap per receiver that has waited).
//! `borrow` is the read lock (2 RMWs) and holds it while the [`Ref`] lives: keep borrows
//! short, never across an `.await`. `changed` on a value that has already changed is one
//! load.
//!
//! A receiver that must wait in `changed` gets a slot of its own in the channel's list of
//! waiters the first time, and keeps it until it is dropped: later waits store its waker
//! there only when the waker is a different one, and *arm* the slot (one swap), with no
//! lock. A `select!` loop that polls `changed()` beside other work and
//! drops it each time (a server's shutdown signal) pays that, not a registration and a
//! removal per turn. The sender disarms every armed slot and wakes its waker. A slot
//! armed by a `changed()` that was dropped unfinished stays armed until the next send, so
//! its task may be woken once for nothing. The receiver keeps the waker of its last wait
//! (a clone in the slot, one of its own to compare with) until it waits with another or is
//! dropped (tokio's keep none once `changed()` is over): a receiver that outlives the task
//! that last waited on it keeps that task's allocation alive until then.
//!
//! # Examples
//!
//! ```
//! use weft_channel::watch;
//!
//! futures::executor::block_on(async {
//!     let (tx, mut rx) = watch::channel("start");
//!     tx.send("one").unwrap();
//!     tx.send("two").unwrap(); // coalesced: the receiver sees only the latest
//!     rx.changed().await.unwrap();
//!     assert_eq!(*rx.borrow_and_update(), "two");
//! });
//! ```

use std::fmt;
use std::future::poll_fn;
use std::ops::Deref;
use std::pin::pin;
use std::task::{Poll, Waker};
use weft_core::slab::{Key, Slab};
use weft_core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use weft_core::sync::Arc;

use crate::lock_free::{Mutex, RwLock, RwLockReadGuard};

use crate::notify::Notify;
use weft_core::coop;

/// Error types of the watch channel.
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

    /// The sender is gone (and the last value was already seen).
    #[derive(Debug, PartialEq, Eq, Clone, Copy)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}
}

use error::{RecvError, SendError};

/// The sender is gone. In `state`, beside `version << 1`.
const CLOSED: u64 = 1;
const VERSION_ONE: u64 = 2;

struct Shared<T> {
    value: RwLock<T>,
    /// `version << 1 | CLOSED`; the version is bumped after each change of `value`.
    state: AtomicU64,
    /// The slots of the receivers that have waited in `changed` (see the module's docs).
    waiters: Mutex<Slab<Arc<Slot>>>,
    /// The sender waiting in `closed` for the last receiver to go.
    rx_gone: Notify,
    rx_count: AtomicUsize,
    /// Live senders; the last one to go sets `CLOSED`.
    tx_count: AtomicUsize,
}

/// Sends new values to the [`Receiver`]s; clone it for more senders (the channel closes
/// when the last one goes).
pub struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// Observes the latest value; clone it for more observers.
pub struct Receiver<T> {
    shared: Arc<Shared<T>>,
    /// The version this receiver has seen.
    version: u64,
    /// Its slot among the waiters, from its first wait in `changed`.
    wait: Option<Wait>,
}

/// A receiver's place among the channel's waiters.
#[derive(Debug)]
struct Slot {
    /// Set by the receiver before it checks the version and returns `Pending`; cleared by the
    /// sender that wakes it.
    armed: AtomicBool,
    /// The waker of the receiver's last wait (written by the receiver only, read by senders).
    waker: Mutex<Option<Waker>>,
}

/// What a receiver keeps of its slot.
struct Wait {
    slot: Arc<Slot>,
    key: Key,
    /// A copy of the slot's waker, to compare with the next one without the slot's lock.
    waker: Waker,
}

/// Creates a watch channel holding `init`. Works outside any runtime.
///
/// # Examples
///
/// ```
/// let (_tx, rx) = weft_channel::watch::channel(5);
/// assert_eq!(*rx.borrow(), 5);
/// ```
pub fn channel<T>(init: T) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        value: RwLock::new(init),
        state: AtomicU64::new(0),
        waiters: Mutex::new(Slab::new()),
        rx_gone: Notify::new(),
        rx_count: AtomicUsize::new(1),
        tx_count: AtomicUsize::new(1),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver {
            shared,
            version: 0,
            wait: None,
        },
    )
}

/// A borrow of the current value; holds the value's read lock while it lives.
pub struct Ref<'a, T> {
    guard: RwLockReadGuard<'a, T>,
    has_changed: bool,
}

impl<T> Ref<'_, T> {
    /// Whether this value had not been marked seen by the receiver when it was borrowed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::watch::channel(0);
    /// tx.send(1).unwrap();
    /// assert!(rx.borrow_and_update().has_changed());
    /// assert!(!rx.borrow().has_changed());
    /// ```
    pub fn has_changed(&self) -> bool {
        self.has_changed
    }
}

impl<T> Deref for Ref<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T: fmt::Debug> fmt::Debug for Ref<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

fn version(state: u64) -> u64 {
    state >> 1
}

impl<T> Receiver<T> {
    /// Borrows the current value without marking it seen.
    ///
    /// Holds a read lock: the sender blocks (its thread, not just its task) until the `Ref`
    /// is dropped. Do not keep it across an `.await`.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow(), 2);
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        let has_changed = version(self.shared.state.load(Acquire)) != self.version;
        Ref { guard, has_changed }
    }

    /// Borrows the current value and marks it seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::watch::channel(1);
    /// tx.send(2).unwrap();
    /// assert_eq!(*rx.borrow_and_update(), 2);
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn borrow_and_update(&mut self) -> Ref<'_, T> {
        let guard = self.shared.value.read();
        // Under the read lock the version cannot move (the sender bumps it while writing).
        let current = version(self.shared.state.load(Acquire));
        let has_changed = current != self.version;
        self.version = current;
        Ref { guard, has_changed }
    }

    /// Whether a value not yet seen is there.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::watch::channel(1);
    /// assert!(!rx.has_changed().unwrap());
    /// tx.send(2).unwrap();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn has_changed(&self) -> Result<bool, RecvError> {
        let state = self.shared.state.load(Acquire);
        if state & CLOSED != 0 {
            return Err(RecvError(()));
        }
        Ok(version(state) != self.version)
    }

    /// Marks the current value seen.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::watch::channel(1);
    /// tx.send(2).unwrap();
    /// rx.mark_unchanged();
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn mark_unchanged(&mut self) {
        self.version = version(self.shared.state.load(Acquire));
    }

    /// Marks the current value unseen: the next `changed` returns at once.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, mut rx) = weft_channel::watch::channel(1);
    /// rx.mark_changed();
    /// assert!(rx.has_changed().unwrap());
    /// ```
    pub fn mark_changed(&mut self) {
        self.version = self.version.wrapping_sub(1);
    }

    /// Waits for a value not yet seen, and marks it seen.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender is gone and no unseen value is left.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: the version is marked seen only when the future completes.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, mut rx) = weft_channel::watch::channel(0);
    ///     std::thread::spawn(move || tx.send(1).unwrap());
    ///     rx.changed().await.unwrap();
    ///     assert_eq!(*rx.borrow(), 1);
    /// });
    /// ```
    pub async fn changed(&mut self) -> Result<(), RecvError> {
        changed(&self.shared, &mut self.version, &mut self.wait).await
    }

    /// Waits until the value satisfies `f` (checking the current value first), marks it seen
    /// and returns a borrow of it.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender is gone before the condition holds.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, mut rx) = weft_channel::watch::channel(0);
    ///     std::thread::spawn(move || (1..=5).for_each(|i| tx.send(i).unwrap()));
    ///     assert_eq!(*rx.wait_for(|v| *v == 5).await.unwrap(), 5);
    /// });
    /// ```
    pub async fn wait_for(
        &mut self,
        mut f: impl FnMut(&T) -> bool,
    ) -> Result<Ref<'_, T>, RecvError> {
        // Spends the budget even when `f` holds at once, so a loop on it yields in turn.
        poll_fn(coop::poll_proceed).await;
        let (shared, seen, wait) = (&*self.shared, &mut self.version, &mut self.wait);
        loop {
            {
                let guard = shared.value.read();
                // Under the read lock the version cannot move.
                let current = version(shared.state.load(Acquire));
                if f(&guard) {
                    let has_changed = current != *seen;
                    *seen = current;
                    return Ok(Ref { guard, has_changed });
                }
            }
            changed(shared, seen, wait).await?;
        }
    }

    /// Whether every sender is gone (the value can no longer change).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::watch::channel(0);
    /// assert!(!rx.is_closed());
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.shared.state.load(Acquire) & CLOSED != 0
    }

    /// Whether both receivers watch the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = weft_channel::watch::channel(0);
    /// assert!(rx.same_channel(&rx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.shared, &other.shared)
    }
}

/// [`Receiver::changed`], on the receiver's fields.
async fn changed<T>(
    shared: &Shared<T>,
    seen: &mut u64,
    wait: &mut Option<Wait>,
) -> Result<(), RecvError> {
    poll_fn(coop::poll_proceed).await;
    poll_fn(|cx| {
        if let Some(done) = news(shared, seen) {
            return Poll::Ready(done);
        }
        let wait = wait.get_or_insert_with(|| shared.register(cx.waker()));
        if !wait.waker.will_wake(cx.waker()) {
            wait.waker = cx.waker().clone();
            *wait.slot.waker.lock() = Some(wait.waker.clone());
        }
        // Armed, then the version checked again. Every write of `armed` is a swap, so they
        // are totally ordered, each reading the one before: either a sender's disarming swap
        // comes after this one and reads it (and wakes the waker stored above), or this one
        // reads a sender's disarming swap, with acquire from its release, and the check
        // below sees that sender's version. The release here publishes the waker.
        wait.slot.armed.swap(true, AcqRel);
        match news(shared, seen) {
            Some(done) => Poll::Ready(done),
            None => Poll::Pending,
        }
    })
    .await
}

/// What `changed` returns now, if anything: `Ok` for a version not seen (marked seen), the
/// error if the channel is closed with nothing new.
fn news<T>(shared: &Shared<T>, seen: &mut u64) -> Option<Result<(), RecvError>> {
    let state = shared.state.load(Acquire);
    if version(state) != *seen {
        *seen = version(state);
        return Some(Ok(()));
    }
    (state & CLOSED != 0).then_some(Err(RecvError(())))
}

impl<T> Shared<T> {
    /// A new slot among the waiters, holding `waker`.
    fn register(&self, waker: &Waker) -> Wait {
        let slot = Arc::new(Slot {
            armed: AtomicBool::new(false),
            waker: Mutex::new(Some(waker.clone())),
        });
        let key = self.waiters.lock().insert(slot.clone());
        Wait {
            slot,
            key,
            waker: waker.clone(),
        }
    }

    /// Wakes every receiver waiting in `changed`; called after each bump of the version
    /// (or the close), which the release of each swap publishes to the receiver that arms
    /// its slot next (see `changed`).
    fn wake_waiters(&self) {
        let wakers: Vec<Waker> = {
            let waiters = self.waiters.lock();
            waiters
                .iter()
                .filter(|(_, slot)| slot.armed.swap(false, AcqRel))
                .filter_map(|(_, slot)| slot.waker.lock().clone())
                .collect()
        };
        // Woken with no lock held: a waker may run anything, a receiver's drop included.
        wakers.into_iter().for_each(Waker::wake);
    }
}

impl<T> Clone for Receiver<T> {
    fn clone(&self) -> Self {
        self.shared.rx_count.fetch_add(1, Relaxed);
        Receiver {
            shared: self.shared.clone(),
            version: self.version,
            wait: None,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(wait) = self.wait.take() {
            let slot = self.shared.waiters.lock().remove(wait.key);
            // Dropped (with its waker) after the list's lock is released.
            drop(slot);
        }
        if self.shared.rx_count.fetch_sub(1, AcqRel) == 1 {
            self.shared.rx_gone.notify_waiters();
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Receiver")
            .field("version", &self.version)
            .finish_non_exhaustive()
    }
}

impl<T> Sender<T> {
    /// A sender of a new channel holding `init`, with no receiver yet
    /// ([`subscribe`](Self::subscribe) makes them).
    ///
    /// # Examples
    ///
    /// ```
    /// let tx = weft_channel::watch::Sender::new(1);
    /// let rx = tx.subscribe();
    /// assert_eq!(*rx.borrow(), 1);
    /// ```
    pub fn new(init: T) -> Sender<T> {
        let (tx, rx) = channel(init);
        drop(rx);
        tx
    }

    /// Replaces the value and notifies the receivers.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if no receiver is alive (the value is not stored).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::watch::channel(0);
    /// tx.send(1).unwrap();
    /// drop(rx);
    /// assert!(tx.send(2).is_err());
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.shared.rx_count.load(Acquire) == 0 {
            return Err(SendError(value));
        }
        drop(self.send_replace(value));
        Ok(())
    }

    /// Replaces the value whether or not a receiver is alive; returns the old value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::watch::channel(1);
    /// assert_eq!(tx.send_replace(2), 1);
    /// ```
    pub fn send_replace(&self, value: T) -> T {
        let old = {
            let mut slot = self.shared.value.write();
            let old = std::mem::replace(&mut *slot, value);
            self.shared.state.fetch_add(VERSION_ONE, Release);
            old
        };
        self.shared.wake_waiters();
        old
    }

    /// Modifies the value in place and notifies the receivers.
    ///
    /// `f` runs under the value's write lock: keep it short, and do not touch this channel
    /// from it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::watch::channel(vec![1]);
    /// tx.send_modify(|v| v.push(2));
    /// assert_eq!(*rx.borrow(), [1, 2]);
    /// ```
    pub fn send_modify(&self, f: impl FnOnce(&mut T)) {
        self.send_if_modified(|v| {
            f(v);
            true
        });
    }

    /// Modifies the value in place; notifies the receivers only if `f` returns `true`.
    ///
    /// `f` runs under the value's write lock, as for [`send_modify`](Self::send_modify).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::watch::channel(1);
    /// assert!(!tx.send_if_modified(|_| false));
    /// assert!(!rx.has_changed().unwrap());
    /// ```
    pub fn send_if_modified(&self, f: impl FnOnce(&mut T) -> bool) -> bool {
        let modified = {
            let mut slot = self.shared.value.write();
            let modified = f(&mut slot);
            if modified {
                self.shared.state.fetch_add(VERSION_ONE, Release);
            }
            modified
        };
        if modified {
            self.shared.wake_waiters();
        }
        modified
    }

    /// Borrows the current value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::watch::channel(3);
    /// assert_eq!(*tx.borrow(), 3);
    /// ```
    pub fn borrow(&self) -> Ref<'_, T> {
        Ref {
            guard: self.shared.value.read(),
            has_changed: false,
        }
    }

    /// A new receiver, which has seen the current value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::watch::channel(0);
    /// drop(rx);
    /// let rx = tx.subscribe();
    /// assert_eq!(tx.receiver_count(), 1);
    /// # drop(rx);
    /// ```
    pub fn subscribe(&self) -> Receiver<T> {
        self.shared.rx_count.fetch_add(1, Relaxed);
        let version = version(self.shared.state.load(Acquire));
        Receiver {
            shared: self.shared.clone(),
            version,
            wait: None,
        }
    }

    /// Number of live receivers.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::watch::channel(0);
    /// let _rx2 = rx.clone();
    /// assert_eq!(tx.receiver_count(), 2);
    /// ```
    pub fn receiver_count(&self) -> usize {
        self.shared.rx_count.load(Acquire)
    }

    /// Whether every receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::watch::channel(0);
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.receiver_count() == 0
    }

    /// Waits until every receiver is gone.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, rx) = weft_channel::watch::channel(0);
    ///     std::thread::spawn(move || drop(rx));
    ///     tx.closed().await;
    /// });
    /// ```
    pub async fn closed(&self) {
        // Spends the budget even when closed already, so a loop on it yields in turn.
        poll_fn(coop::poll_proceed).await;
        loop {
            let notified = pin!(self.shared.rx_gone.notified());
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.tx_count.fetch_add(1, Relaxed);
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.shared.tx_count.fetch_sub(1, AcqRel) != 1 {
            return;
        }
        self.shared.state.fetch_or(CLOSED, AcqRel);
        self.shared.wake_waiters();
    }
}

impl<T: fmt::Debug> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("watch::Sender").finish_non_exhaustive()
    }
}
