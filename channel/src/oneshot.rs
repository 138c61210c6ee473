//! A one-shot channel: one value, from one sender to one receiver (tokio's `oneshot`).
//!
//! # How it is built (here be dragons)
//!
//! One heap block holds the value, the two wakers and a state word. There is no `Arc`: the
//! state word doubles as the reference count, through the `TX_ALIVE` / `RX_ALIVE` bits. A
//! side clears its `*_ALIVE` bit in its last write to the block; the side that sees the other
//! one's bit already clear frees the block.
//!
//! ```text
//!  receiver waits: store waker ─▶ CAS +RX_TASK_SET
//!  Sender::send:   write value ─▶ receiver waiting?
//!                    no:  CAS +VALUE_SENT −TX_ALIVE
//!                    yes: CAS −RX_TASK_SET +TX_BUSY ─▶ take the waker ─▶
//!                         store +VALUE_SENT −TX_ALIVE −TX_BUSY ─▶ wake it
//!  receiver done:  load; VALUE_SENT (so −TX_ALIVE): take the value, free the block
//! ```
//!
//! So a round trip through a waiting receiver costs two read-modify-writes (the receiver's
//! registration and the sender's claim of its waker), plus the block's allocation: the
//! sender's last write is a plain store, and the receiver, which finds the sender gone, frees
//! the block without one.
//!
//! # Ground rules
//!
//! * `value`: written by the sender before it sets `VALUE_SENT`; after that only the receiver
//!   touches it. If the sender finds the receiver closed or gone, it does not set
//!   `VALUE_SENT` and takes the value back.
//! * `rx_waker`: read and written by the receiver only while `RX_TASK_SET` is clear (only the
//!   receiver sets it; to look at the waker it registered before, it first takes the slot back
//!   with a CAS); taken by the sender only after its CAS cleared `RX_TASK_SET` and set
//!   `TX_BUSY`.
//! * `tx_waker`: the same with the roles swapped: touched by the sender only while
//!   `TX_TASK_SET` is clear; taken by the receiver only after its CAS cleared `TX_TASK_SET`
//!   and set `RX_BUSY` (with `CLOSED`).
//! * While `TX_BUSY` is set, the receiver changes nothing in the state word (it waits: the
//!   sender is a few instructions from its store), so the sender ends with a plain store;
//!   likewise the sender while `RX_BUSY` is set. Every other change is a CAS, which fails on
//!   a state the other side changed, so no update is lost.
//! * Clearing `TX_ALIVE` is the sender's last access to the block, and clearing `RX_ALIVE`
//!   the receiver's. `VALUE_SENT` is set in the same write that clears `TX_ALIVE`.
//! * Whoever clears its `*_ALIVE` bit and saw the other one already clear frees the block;
//!   a receiver that sees `TX_ALIVE` clear is alone with the block and frees it without a
//!   write (which drops whatever value and wakers are still in it).

use std::alloc::Layout;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::task::{Context, Poll, Waker};
use weft_core::sync::atomic::{
    AtomicUsize, Ordering::AcqRel, Ordering::Acquire, Ordering::Release,
};
use weft_core::sync::UnsafeCell;

use crate::block_cache;
use weft_core::ready_budget;

/// The receiver's waker is in `rx_waker`. Set by the receiver; cleared by the receiver (to
/// replace the waker) or by the sender (taking it, with `TX_BUSY`).
const RX_TASK_SET: usize = 1 << 0;
/// The value is in `value` and belongs to the receiver. Set by the sender with `TX_ALIVE`
/// cleared; never cleared.
const VALUE_SENT: usize = 1 << 1;
/// The receiver was closed or dropped: no value will be accepted. Never cleared.
const CLOSED: usize = 1 << 2;
/// The sender's waker (for `closed()`) is in `tx_waker`. Set by the sender; cleared by the
/// sender (to replace the waker) or by the receiver (taking it, with `RX_BUSY`).
const TX_TASK_SET: usize = 1 << 3;
/// The sender still uses the block. Cleared in its last write.
const TX_ALIVE: usize = 1 << 5;
/// The receiver still uses the block. Cleared in its last write.
const RX_ALIVE: usize = 1 << 6;
/// The sender is taking the receiver's waker; set from its CAS to its closing store. The
/// receiver writes nothing to the state meanwhile.
const TX_BUSY: usize = 1 << 7;
/// The receiver is taking the sender's waker (closing); set from its CAS to its store. The
/// sender writes nothing to the state meanwhile.
const RX_BUSY: usize = 1 << 8;

/// Error types of the oneshot channel.
pub mod error {
    use std::fmt;

    /// The sender was dropped without sending (or the receiver was closed first).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}

    /// Error from [`Receiver::try_recv`](super::Receiver::try_recv).
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No value yet; the sender is still alive.
        Empty,
        /// No value will come: the sender was dropped, the receiver was closed, or the value
        /// has already been taken.
        Closed,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, TryRecvError};

struct Inner<T> {
    state: AtomicUsize,
    value: UnsafeCell<Option<T>>,
    rx_waker: UnsafeCell<Option<Waker>>,
    tx_waker: UnsafeCell<Option<Waker>>,
}

/// Creates a one-shot channel. Works outside any runtime.
///
/// # Examples
///
/// ```
/// use weft_channel::oneshot;
///
/// futures::executor::block_on(async {
///     let (tx, rx) = oneshot::channel();
///     std::thread::spawn(move || tx.send(42).unwrap());
///     assert_eq!(rx.await, Ok(42));
/// });
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let ptr = block_cache::allocate(Layout::new::<Inner<T>>()).cast::<Inner<T>>();
    // SAFETY: a fresh (or reused, unused) block with room and alignment for an `Inner<T>`.
    unsafe {
        ptr.as_ptr().write(Inner {
            state: AtomicUsize::new(TX_ALIVE | RX_ALIVE),
            value: UnsafeCell::new(None),
            rx_waker: UnsafeCell::new(None),
            tx_waker: UnsafeCell::new(None),
        })
    };
    (
        Sender {
            inner: Some(ptr),
            _marker: PhantomData,
        },
        Receiver {
            inner: Some(ptr),
            _marker: PhantomData,
        },
    )
}

/// Sends the value of a [`channel`]. Consumed by [`send`](Sender::send).
pub struct Sender<T> {
    /// `None` once the sender has let go of the block.
    inner: Option<NonNull<Inner<T>>>,
    _marker: PhantomData<T>,
}

/// Receives the value of a [`channel`]: `.await` it (or use [`try_recv`](Receiver::try_recv)).
#[must_use = "futures do nothing unless awaited"]
pub struct Receiver<T> {
    /// `None` once the receiver has let go of the block (after a result was returned).
    inner: Option<NonNull<Inner<T>>>,
    _marker: PhantomData<T>,
}

// The handles hold a pointer, never a `T` inline: moving them is fine whatever `T` is.
impl<T> Unpin for Sender<T> {}
impl<T> Unpin for Receiver<T> {}

// SAFETY: the handles move a `T` between threads (so `T: Send`); the block is shared with the
// ground rules above, every access to the cells being ordered by the state word.
unsafe impl<T: Send> Send for Sender<T> {}
// SAFETY: `&Sender` only reads the state word (`is_closed`).
unsafe impl<T: Send> Sync for Sender<T> {}
// SAFETY: as for `Sender`.
unsafe impl<T: Send> Send for Receiver<T> {}
// SAFETY: `&Receiver` only reads the state word.
unsafe impl<T: Send> Sync for Receiver<T> {}

/// Loads the state once the other side is not busy (`busy`: `TX_BUSY` for the receiver,
/// `RX_BUSY` for the sender). A busy side is a few instructions from its closing store, so
/// this spins briefly, then yields the thread in case that side was preempted.
#[inline]
fn load_idle(state: &AtomicUsize, busy: usize) -> usize {
    let s = state.load(Acquire);
    if s & busy == 0 {
        s
    } else {
        wait_idle(state, busy)
    }
}

#[cold]
#[inline(never)]
fn wait_idle(state: &AtomicUsize, busy: usize) -> usize {
    let mut spins = 0u32;
    loop {
        let s = state.load(Acquire);
        if s & busy == 0 {
            return s;
        }
        if spins < 64 {
            spins += 1;
            weft_core::sync::hint::spin_loop();
        } else {
            weft_core::sync::thread::yield_now();
        }
    }
}

/// Frees the block, dropping any value and wakers left in it.
///
/// # Safety
///
/// Both alive bits are clear (or the caller is the receiver and saw `TX_ALIVE` clear, and
/// would clear `RX_ALIVE` now): nobody else can reach the block.
unsafe fn free<T>(ptr: NonNull<Inner<T>>) {
    // SAFETY: per the caller's contract nobody else reaches the block; it holds an `Inner<T>`
    // written by `channel`, dropped once here.
    unsafe { std::ptr::drop_in_place(ptr.as_ptr()) };
    // The block is given back only if that drop returned: a value (or waker) whose drop
    // panics leaks it, as `Arc` leaks its allocation then. (A guard that frees it while
    // unwinding costs every sender that may free an unwinding path, and the executor's poll
    // of such a task its inlining: +32 instructions a task in chained spawns.)
    // SAFETY: the block came from `block_cache::allocate` with this layout (in `channel`),
    // and its contents were dropped just above.
    unsafe { block_cache::free(ptr.cast(), Layout::new::<Inner<T>>()) };
}

/// Which side ends a channel by waking the other: the flags of that side's handover.
#[derive(Clone, Copy)]
enum Waking {
    /// The sender, waking a receiver that waits for the value: clears `RX_TASK_SET`, sets
    /// `TX_BUSY`, takes `rx_waker`.
    Receiver,
    /// The receiver, closing and waking a sender that waits in `closed()`: clears
    /// `TX_TASK_SET`, sets `RX_BUSY` and `CLOSED`, takes `tx_waker`.
    Sender,
}

/// One side's end while the other waits: takes the other's waker out under its `*_BUSY`
/// bit, publishes `last` (its final state) with a plain store, then wakes the other side.
/// Returns `false` if the CAS lost a race (reload and retry).
///
/// # Safety
///
/// `ptr` is live; the caller is the sender for `Waking::Receiver` (holding `TX_ALIVE`, with
/// `seen` showing `RX_TASK_SET` and `RX_ALIVE`) or the receiver for `Waking::Sender`
/// (holding `RX_ALIVE`, with `seen` showing `TX_TASK_SET` and `TX_ALIVE`); `last` keeps the
/// other side's alive bit; and the caller does not touch the block after a `true` if `last`
/// clears its own alive bit.
unsafe fn wake_other<T>(ptr: NonNull<Inner<T>>, who: Waking, seen: usize, last: usize) -> bool {
    // SAFETY: the caller holds its alive bit.
    let inner = unsafe { ptr.as_ref() };
    let (busy, slot) = match who {
        Waking::Receiver => ((seen & !RX_TASK_SET) | TX_BUSY, &inner.rx_waker),
        Waking::Sender => ((seen & !TX_TASK_SET) | CLOSED | RX_BUSY, &inner.tx_waker),
    };
    if inner
        .state
        .compare_exchange_weak(seen, busy, AcqRel, Acquire)
        .is_err()
    {
        return false;
    }
    // SAFETY: our CAS cleared the other side's `*_TASK_SET` bit and set our `*_BUSY` bit:
    // the other side does not touch its waker slot (its bit is clear, but our busy bit makes
    // it wait) nor change the state until our store, and it stays alive (it cannot clear its
    // alive bit meanwhile).
    let waker = unsafe { (*slot.with_mut(|p| p)).take() };
    // Nothing changed the state since our CAS (ground rules), so a store is enough. After it
    // the other side may free the block: we own the waker and touch nothing else.
    inner.state.store(last, Release);
    if let Some(waker) = waker {
        waker.wake();
    }
    true
}

/// The sender lets go without sending (dropped, or the receiver is closed or gone): wakes a
/// waiting receiver with the error, and frees the block if the receiver is gone.
///
/// # Safety
///
/// `ptr` is live, the caller is the sender, holds `TX_ALIVE` and does not touch the block
/// afterwards; `VALUE_SENT` is not set.
unsafe fn tx_leave<T>(ptr: NonNull<Inner<T>>) {
    // SAFETY: we hold TX_ALIVE.
    let inner = unsafe { ptr.as_ref() };
    let mut state = load_idle(&inner.state, RX_BUSY);
    loop {
        if state & (RX_TASK_SET | RX_ALIVE | CLOSED) == RX_TASK_SET | RX_ALIVE {
            // SAFETY: forwarded; the last state keeps RX_ALIVE, so the receiver frees.
            if unsafe {
                wake_other(
                    ptr,
                    Waking::Receiver,
                    state,
                    state & !(RX_TASK_SET | TX_ALIVE),
                )
            } {
                return;
            }
        } else {
            if let Ok(prev) =
                inner
                    .state
                    .compare_exchange_weak(state, state & !TX_ALIVE, AcqRel, Acquire)
            {
                if prev & RX_ALIVE == 0 {
                    // SAFETY: we cleared the last alive bit.
                    unsafe { free(ptr) };
                }
                return;
            }
        }
        state = load_idle(&inner.state, RX_BUSY);
    }
}

/// The receiver lets go after it has its result, or when dropped: frees the block if the
/// sender is gone, else leaves that to the sender (waking it if it waits in `closed()`).
///
/// # Safety
///
/// `ptr` is live, the caller is the receiver, holds `RX_ALIVE`, does not touch the block
/// afterwards, and has taken the value out if `VALUE_SENT` was set (or lets `free` drop it).
unsafe fn rx_leave<T>(ptr: NonNull<Inner<T>>) {
    // SAFETY: we hold RX_ALIVE.
    let inner = unsafe { ptr.as_ref() };
    let mut state = load_idle(&inner.state, TX_BUSY);
    loop {
        if state & TX_ALIVE == 0 {
            // SAFETY: the sender is gone for good and we are leaving: the block is ours.
            unsafe { free(ptr) };
            return;
        }
        let last = (state | CLOSED) & !(TX_TASK_SET | RX_ALIVE);
        if state & (TX_TASK_SET | CLOSED) == TX_TASK_SET {
            // SAFETY: forwarded; the last state clears RX_ALIVE with TX_ALIVE set: the sender
            // frees.
            if unsafe { wake_other(ptr, Waking::Sender, state, last) } {
                return;
            }
        } else if inner
            .state
            .compare_exchange_weak(state, last | (state & TX_TASK_SET), AcqRel, Acquire)
            .is_ok()
        {
            // TX_ALIVE was set in the state we replaced: the sender frees.
            return;
        }
        state = load_idle(&inner.state, TX_BUSY);
    }
}

impl<T> Sender<T> {
    fn inner(&self) -> &Inner<T> {
        let ptr = self.inner.expect("sender used after send");
        // SAFETY: while `self.inner` is `Some`, we hold TX_ALIVE, so the block is live.
        unsafe { ptr.as_ref() }
    }

    /// Sends `value`, consuming the sender.
    ///
    /// # Errors
    ///
    /// Gives `value` back if the receiver was dropped or closed.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let ptr = self.inner.take().expect("sender used after send");
        // SAFETY: we held TX_ALIVE (taken out of `self`, so `Drop` will not release it again).
        let inner = unsafe { ptr.as_ref() };
        // SAFETY: `VALUE_SENT` is not set, so only the sender touches `value` (ground rules).
        unsafe { *inner.value.with_mut(|p| p) = Some(value) };
        let mut state = load_idle(&inner.state, RX_BUSY);
        loop {
            if state & (CLOSED | RX_ALIVE) != RX_ALIVE {
                // SAFETY: we never set VALUE_SENT, so the value is still ours.
                let value =
                    unsafe { (*inner.value.with_mut(|p| p)).take() }.expect("value vanished");
                // SAFETY: we hold TX_ALIVE, never set VALUE_SENT, and leave the block.
                unsafe { tx_leave(ptr) };
                return Err(value);
            }
            let last = (state & !(RX_TASK_SET | TX_ALIVE)) | VALUE_SENT;
            if state & RX_TASK_SET != 0 {
                // SAFETY: we hold TX_ALIVE; `state` shows a waiting, alive receiver; we return
                // right after a `true`.
                if unsafe { wake_other(ptr, Waking::Receiver, state, last) } {
                    return Ok(());
                }
            } else if inner
                .state
                .compare_exchange_weak(state, last, AcqRel, Acquire)
                .is_ok()
            {
                // The receiver is alive and not closed: it takes the value and frees.
                return Ok(());
            }
            state = load_idle(&inner.state, RX_BUSY);
        }
    }

    /// Whether the receiver has been dropped or closed (a send would fail).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::oneshot::channel::<u8>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner().state.load(Acquire) & CLOSED != 0
    }

    /// Waits until the receiver is dropped or closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (mut tx, rx) = weft_channel::oneshot::channel::<u8>();
    ///     std::thread::spawn(move || drop(rx));
    ///     tx.closed().await;
    /// });
    /// ```
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }

    /// Polls for the receiver being dropped or closed; registers `cx`'s waker if not.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::Context;
    /// let (mut tx, rx) = weft_channel::oneshot::channel::<u8>();
    /// let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    /// assert!(tx.poll_closed(&mut cx).is_pending());
    /// drop(rx);
    /// assert!(tx.poll_closed(&mut cx).is_ready());
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let inner = self.inner();
        let closed = |s: usize| s & CLOSED != 0;
        // SAFETY: our own slot and flags; we hold TX_ALIVE.
        match unsafe {
            register_waker(
                &inner.state,
                &inner.tx_waker,
                TX_TASK_SET,
                RX_BUSY,
                cx.waker(),
                closed,
            )
        } {
            Some(_) => Poll::Ready(()),
            None => Poll::Pending,
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if let Some(ptr) = self.inner.take() {
            // SAFETY: we hold TX_ALIVE, never sent, and leave the block.
            unsafe { tx_leave(ptr) };
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Sender").finish_non_exhaustive()
    }
}

impl<T> Receiver<T> {
    /// Takes the value if it has been sent, without waiting.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if the sender is alive and has not sent yet;
    /// [`TryRecvError::Closed`] if no value will come, or it was already taken.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::oneshot::{self, error::TryRecvError};
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let Some(ptr) = self.inner else {
            return Err(TryRecvError::Closed);
        };
        // SAFETY: we hold RX_ALIVE.
        let state = unsafe { ptr.as_ref() }.state.load(Acquire);
        if !finished(state) {
            // A busy sender has not published its value yet: still empty.
            return Err(TryRecvError::Empty);
        }
        self.finish(state).map_err(|_| TryRecvError::Closed)
    }

    /// Waits for the value, blocking the calling thread: `.await` for synchronous code.
    ///
    /// # Errors
    ///
    /// [`RecvError`] if the sender was dropped without sending (or the receiver was closed
    /// before the value was sent).
    ///
    /// # Panics
    ///
    /// If called on a thread that runs a weft runtime
    /// ([`in_runtime`](weft_core::context::in_runtime)): blocking would stall that runtime. Use `.await` there instead. Also if the receiver
    /// has already returned its result (as when polled after completion).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::oneshot::channel();
    /// let worker = std::thread::spawn(move || rx.blocking_recv());
    /// futures::executor::block_on(async move { tx.send("done").unwrap() });
    /// assert_eq!(worker.join().unwrap(), Ok("done"));
    /// ```
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        weft_core::block_on("blocking_recv", self)
    }

    /// With `state` showing an outcome: takes the value (if sent) and lets go of the block.
    fn finish(&mut self, state: usize) -> Result<T, RecvError> {
        let ptr = self.inner.take().expect("receiver finished twice");
        let value = if state & VALUE_SENT != 0 {
            // SAFETY: VALUE_SENT was observed with Acquire: the value is ours.
            unsafe { (*ptr.as_ref().value.with_mut(|p| p)).take() }
        } else {
            None
        };
        if state & TX_ALIVE == 0 {
            // SAFETY: the sender is gone for good (its last write cleared TX_ALIVE, which we
            // observed with Acquire), and we let go: the block is ours alone.
            unsafe { free(ptr) };
        } else {
            // SAFETY: we held RX_ALIVE (taken out of `self`) and do not touch the block again.
            unsafe { rx_leave(ptr) };
        }
        value.ok_or(RecvError(()))
    }

    /// Closes the receiver: the sender's `send` will fail, but a value sent before this call
    /// can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// assert!(rx.try_recv().is_err());
    /// ```
    pub fn close(&mut self) {
        let Some(ptr) = self.inner else { return };
        // SAFETY: we hold RX_ALIVE.
        let inner = unsafe { ptr.as_ref() };
        let mut state = load_idle(&inner.state, TX_BUSY);
        loop {
            if state & CLOSED != 0 {
                return;
            }
            if state & (TX_TASK_SET | TX_ALIVE) == TX_TASK_SET | TX_ALIVE {
                let last = (state | CLOSED) & !TX_TASK_SET;
                // SAFETY: we hold RX_ALIVE and keep it (`last` has it).
                if unsafe { wake_other(ptr, Waking::Sender, state, last) } {
                    return;
                }
            } else if inner
                .state
                .compare_exchange_weak(state, state | CLOSED, AcqRel, Acquire)
                .is_ok()
            {
                return;
            }
            state = load_idle(&inner.state, TX_BUSY);
        }
    }

    /// Whether the receiver is finished: a value or an error has been returned.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::oneshot::channel();
    /// tx.send(()).unwrap();
    /// assert!(!rx.is_terminated());
    /// rx.try_recv().unwrap();
    /// assert!(rx.is_terminated());
    /// ```
    pub fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }

    /// Whether there is no value to receive now: none was sent yet, it was already taken, or
    /// none will come (tokio's `Receiver::is_empty`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::oneshot::channel();
    /// assert!(rx.is_empty());
    /// tx.send(5).unwrap();
    /// assert!(!rx.is_empty());
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        let Some(ptr) = self.inner else {
            return true;
        };
        // SAFETY: we hold RX_ALIVE.
        let state = unsafe { ptr.as_ref() }.state.load(Acquire);
        state & VALUE_SENT == 0
    }

    /// Registers the waker (the receiver side of the ground rules); returns the state seen
    /// last if it shows an outcome.
    fn register(&mut self, ptr: NonNull<Inner<T>>, waker: &Waker) -> Option<usize> {
        // SAFETY: we hold RX_ALIVE.
        let inner = unsafe { ptr.as_ref() };
        // SAFETY: our own slot and flags; we hold RX_ALIVE.
        unsafe {
            register_waker(
                &inner.state,
                &inner.rx_waker,
                RX_TASK_SET,
                TX_BUSY,
                waker,
                finished,
            )
        }
    }
}

/// One side registers `waker` in its slot (`rx_waker` under `RX_TASK_SET` for the receiver,
/// `tx_waker` under `TX_TASK_SET` for the sender), unless `done(state)` shows there is
/// nothing to wait for: then returns that state.
///
/// A waker registered before is taken back first (a CAS clearing `task_bit`): while the bit
/// is set the other side may take the waker out at any moment, so the slot is only looked at
/// (to keep a waker that would wake the same task) once the bit is clear again. The first
/// registration, and the common one, finds the bit clear and makes a single CAS.
///
/// # Safety
/// `slot` is the caller's side's slot in the block of `state`, `task_bit` its side's bit and
/// `other_busy` the other side's busy bit, and the caller holds its alive bit.
unsafe fn register_waker(
    state: &AtomicUsize,
    slot: &UnsafeCell<Option<Waker>>,
    task_bit: usize,
    other_busy: usize,
    waker: &Waker,
    done: impl Fn(usize) -> bool,
) -> Option<usize> {
    let mut s = load_idle(state, other_busy);
    loop {
        if done(s) {
            return Some(s);
        }
        if s & task_bit == 0 {
            break;
        }
        if state
            .compare_exchange_weak(s, s & !task_bit, AcqRel, Acquire)
            .is_ok()
        {
            break;
        }
        s = load_idle(state, other_busy);
    }
    // SAFETY: `task_bit` is clear and only we set it: the other side does not touch the slot
    // (it takes the waker only after a CAS that clears `task_bit`).
    let slot = unsafe { &mut *slot.with_mut(|p| p) };
    if !slot.as_ref().is_some_and(|w| w.will_wake(waker)) {
        *slot = Some(waker.clone());
    }
    let mut s = load_idle(state, other_busy);
    loop {
        if done(s) {
            return Some(s);
        }
        match state.compare_exchange_weak(s, s | task_bit, AcqRel, Acquire) {
            Ok(_) => return None,
            Err(_) => s = load_idle(state, other_busy),
        }
    }
}

/// Whether `state` shows the receiver's outcome: a value, its own close, or the sender gone.
/// (A sender that is `TX_BUSY` still holds `TX_ALIVE`: not yet.)
#[inline]
fn finished(state: usize) -> bool {
    state & (VALUE_SENT | CLOSED) != 0 || state & TX_ALIVE == 0
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    /// # Cancel safety
    ///
    /// Cancel safe: a value that arrives after the receiver is dropped is dropped with the
    /// channel, never lost to a live receiver.
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        ready_budget!(cx);
        let ptr = this
            .inner
            .expect("oneshot::Receiver polled after completion");
        match this.register(ptr, cx.waker()) {
            Some(state) => Poll::Ready(this.finish(state)),
            None => Poll::Pending,
        }
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        if let Some(ptr) = self.inner.take() {
            // A value sent and never received is dropped by `free`, with the block: the
            // receiver owns it once VALUE_SENT is set, and VALUE_SENT comes with TX_ALIVE
            // clear, so whoever frees is then us.
            // SAFETY: we hold RX_ALIVE and leave the block.
            unsafe { rx_leave(ptr) };
        }
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("oneshot::Receiver").finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker_ref;
    use std::sync::Arc;

    #[test]
    fn value_dropped_exactly_once_in_every_order() {
        // (send?, drop receiver first?, receive?)
        for case in 0..8u8 {
            let counter = Arc::new(());
            let (tx, mut rx) = channel::<Arc<()>>();
            let send = case & 1 != 0;
            let rx_first = case & 2 != 0;
            let receive = case & 4 != 0;
            if rx_first {
                drop(rx);
                if send {
                    assert!(tx.send(counter.clone()).is_err());
                }
            } else {
                if send {
                    tx.send(counter.clone()).unwrap();
                } else {
                    drop(tx);
                }
                if receive {
                    let res = rx.try_recv();
                    assert_eq!(res.is_ok(), send);
                }
                drop(rx);
            }
            assert_eq!(Arc::strong_count(&counter), 1, "case {case}");
        }
    }

    #[test]
    // The block of a value whose drop panics is leaked (as `Arc` leaks then): Miri would
    // report that leak.
    #[cfg_attr(miri, ignore)]
    fn a_value_whose_drop_panics_is_dropped_once_and_the_channel_still_works() {
        struct Bomb(Arc<std::sync::atomic::AtomicUsize>);
        impl Drop for Bomb {
            fn drop(&mut self) {
                self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                panic!("bomb");
            }
        }
        let drops = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (tx, rx) = channel();
        assert!(tx.send(Bomb(drops.clone())).is_ok());
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(rx)));
        assert!(r.is_err(), "the value's panic reaches the receiver's drop");
        assert_eq!(drops.load(std::sync::atomic::Ordering::SeqCst), 1);
        let (tx, mut rx) = channel();
        tx.send(5).unwrap();
        assert_eq!(rx.try_recv(), Ok(5));
    }

    #[test]
    fn waker_replaced() {
        let (tx, mut rx) = channel::<u8>();
        let mut cx = Context::from_waker(noop_waker_ref());
        assert!(Pin::new(&mut rx).poll(&mut cx).is_pending());
        let flag = Arc::new(std::sync::atomic::AtomicBool::new(false));
        struct Flag(Arc<std::sync::atomic::AtomicBool>);
        impl std::task::Wake for Flag {
            fn wake(self: Arc<Self>) {
                self.0.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        }
        let waker = Waker::from(Arc::new(Flag(flag.clone())));
        assert!(Pin::new(&mut rx)
            .poll(&mut Context::from_waker(&waker))
            .is_pending());
        tx.send(3).unwrap();
        assert!(flag.load(std::sync::atomic::Ordering::SeqCst));
        assert_eq!(Pin::new(&mut rx).poll(&mut cx), Poll::Ready(Ok(3)));
    }
}
