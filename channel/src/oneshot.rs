//! A one-shot channel: one value, from one sender to one receiver (tokio's `oneshot`).
//!
//! # How it is built (here be dragons)
//!
//! One heap block holds the value, the two wakers and a state word. There is no `Arc`: the
//! state word doubles as the reference count, through the `TX_ALIVE` / `RX_ALIVE` bits, so
//! that each side's last operation both does its work and lets go of the block in a single
//! read-modify-write. The side whose RMW clears the last `*_ALIVE` bit frees the block.
//!
//! ```text
//!  Sender::send:  write value ─▶ CAS: +VALUE_SENT +COMPLETE (−TX_ALIVE unless it must wake
//!                                      the receiver, in which case: wake, then −TX_ALIVE)
//!  Receiver poll: load; VALUE_SENT? take value ─▶ −RX_ALIVE
//! ```
//!
//! So a send costs one CAS and a receive one load and one RMW, plus the block's allocation.
//!
//! # Ground rules
//!
//! * `value`: written by the sender before it sets `VALUE_SENT`; after that only the receiver
//!   touches it. If the sender finds `CLOSED`, it does not set `VALUE_SENT` and takes the
//!   value back.
//! * `rx_waker`: written by the receiver only while `RX_TASK_SET` is clear and `COMPLETE` is
//!   not set; read (woken) by the sender when its completing CAS saw `RX_TASK_SET`.
//! * `tx_waker`: written by the sender only while `TX_TASK_SET` is clear and `CLOSED` is not
//!   set; read by the receiver when its closing CAS saw `TX_TASK_SET` without `COMPLETE`.
//! * A side that must wake the other after its final CAS keeps its `*_ALIVE` bit through that
//!   CAS and clears it after waking, so the block cannot be freed under the wake.
//! * Whoever clears the last `*_ALIVE` bit has exclusive access and frees the block (which
//!   drops whatever value and wakers are still in it).

use std::cell::UnsafeCell;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire};
use std::task::{Context, Poll, Waker};

use weft_core::ready_budget;

/// The receiver's waker is in `rx_waker`. Set and cleared by the receiver.
const RX_TASK_SET: usize = 1 << 0;
/// The value is in `value` and belongs to the receiver. Set by the sender, never cleared.
const VALUE_SENT: usize = 1 << 1;
/// The receiver was closed or dropped: no value will be accepted. Never cleared.
const CLOSED: usize = 1 << 2;
/// The sender's waker (for `closed()`) is in `tx_waker`. Set and cleared by the sender.
const TX_TASK_SET: usize = 1 << 3;
/// The sender has finished: it sent (with `VALUE_SENT`) or was dropped. Never cleared.
const COMPLETE: usize = 1 << 4;
/// The sender still references the block.
const TX_ALIVE: usize = 1 << 5;
/// The receiver still references the block.
const RX_ALIVE: usize = 1 << 6;

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
    let inner = Box::new(Inner {
        state: AtomicUsize::new(TX_ALIVE | RX_ALIVE),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    let ptr = NonNull::from(Box::leak(inner));
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

/// Applies `f` to the state word in a CAS loop; returns the previous state.
fn update(state: &AtomicUsize, f: impl Fn(usize) -> usize) -> usize {
    let mut cur = state.load(Acquire);
    loop {
        match state.compare_exchange_weak(cur, f(cur), AcqRel, Acquire) {
            Ok(prev) => return prev,
            Err(actual) => cur = actual,
        }
    }
}

/// Clears `alive` (`TX_ALIVE` or `RX_ALIVE`); frees the block if that was the last one.
///
/// # Safety
///
/// `ptr` is a live block on which the caller's side still holds `alive`; the caller does not
/// touch the block afterwards.
unsafe fn release<T>(ptr: NonNull<Inner<T>>, alive: usize) {
    // SAFETY: the caller holds `alive`, so the block is not freed yet.
    let prev = unsafe { ptr.as_ref() }.state.fetch_and(!alive, AcqRel);
    if prev & (TX_ALIVE | RX_ALIVE) == alive {
        // SAFETY: our RMW cleared the last alive bit (and acquired the other side's release),
        // so we have exclusive access; the block came from `Box::leak` in `channel`.
        unsafe { free(ptr) }
    }
}

/// Frees the block, dropping any value and wakers left in it.
///
/// # Safety
///
/// Both alive bits are clear and the caller cleared the last one: nobody else can reach the
/// block.
unsafe fn free<T>(ptr: NonNull<Inner<T>>) {
    // SAFETY: per the caller's contract, and the block was allocated by `Box` in `channel`.
    drop(unsafe { Box::from_raw(ptr.as_ptr()) });
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
        unsafe { *inner.value.get() = Some(value) };
        let mut state = inner.state.load(Acquire);
        loop {
            if state & CLOSED != 0 {
                // SAFETY: we never set VALUE_SENT, so the value is still ours.
                let value = unsafe { (*inner.value.get()).take() }.expect("value vanished");
                update(&inner.state, |s| s | COMPLETE);
                // SAFETY: we hold TX_ALIVE and do not touch the block afterwards.
                unsafe { release(ptr, TX_ALIVE) };
                return Err(value);
            }
            let wake = state & RX_TASK_SET != 0;
            let mut next = state | VALUE_SENT | COMPLETE;
            if !wake {
                next &= !TX_ALIVE; // not CLOSED, so the receiver is alive: it frees the block
            }
            match inner
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
            {
                Ok(_) if !wake => return Ok(()),
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        // SAFETY: our CAS saw RX_TASK_SET and set COMPLETE: the receiver no longer writes
        // `rx_waker`, and we still hold TX_ALIVE.
        if let Some(waker) = unsafe { &*inner.rx_waker.get() } {
            waker.wake_by_ref();
        }
        // SAFETY: we hold TX_ALIVE and do not touch the block afterwards.
        unsafe { release(ptr, TX_ALIVE) };
        Ok(())
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
        let mut state = inner.state.load(Acquire);
        if state & CLOSED != 0 {
            return Poll::Ready(());
        }
        if state & TX_TASK_SET != 0 {
            // SAFETY: TX_TASK_SET is set: the receiver may only read `tx_waker`.
            let same = unsafe { &*inner.tx_waker.get() }
                .as_ref()
                .is_some_and(|w| w.will_wake(cx.waker()));
            if same {
                return Poll::Pending;
            }
            // Take the slot back before replacing the waker.
            loop {
                if state & CLOSED != 0 {
                    return Poll::Ready(());
                }
                match inner.state.compare_exchange_weak(
                    state,
                    state & !TX_TASK_SET,
                    AcqRel,
                    Acquire,
                ) {
                    Ok(_) => break,
                    Err(actual) => state = actual,
                }
            }
        }
        // SAFETY: TX_TASK_SET is clear and we are the sender: nobody else touches `tx_waker`.
        unsafe { *inner.tx_waker.get() = Some(cx.waker().clone()) };
        let prev = update(&inner.state, |s| {
            if s & CLOSED != 0 {
                s
            } else {
                s | TX_TASK_SET
            }
        });
        if prev & CLOSED != 0 {
            return Poll::Ready(());
        }
        Poll::Pending
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(ptr) = self.inner.take() else { return };
        // SAFETY: we hold TX_ALIVE.
        let inner = unsafe { ptr.as_ref() };
        let mut state = inner.state.load(Acquire);
        loop {
            let wake = state & RX_TASK_SET != 0;
            let mut next = state | COMPLETE;
            if !wake {
                next &= !TX_ALIVE;
            }
            match inner
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
            {
                Ok(prev) if !wake => {
                    if prev & RX_ALIVE == 0 {
                        // SAFETY: we cleared the last alive bit.
                        unsafe { free(ptr) };
                    }
                    return;
                }
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        // SAFETY: as in `send`: COMPLETE is set with RX_TASK_SET, and we hold TX_ALIVE.
        if let Some(waker) = unsafe { &*inner.rx_waker.get() } {
            waker.wake_by_ref();
        }
        // SAFETY: we hold TX_ALIVE and do not touch the block afterwards.
        unsafe { release(ptr, TX_ALIVE) };
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
        if state & (VALUE_SENT | CLOSED | COMPLETE) == 0 {
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
            unsafe { (*ptr.as_ref().value.get()).take() }
        } else {
            None
        };
        // SAFETY: we held RX_ALIVE (taken out of `self`) and do not touch the block again.
        unsafe { release(ptr, RX_ALIVE) };
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
        let prev = update(&inner.state, |s| s | CLOSED);
        if prev & (TX_TASK_SET | COMPLETE | CLOSED) == TX_TASK_SET {
            // SAFETY: our CAS set CLOSED and saw TX_TASK_SET: the sender no longer writes
            // `tx_waker`; we hold RX_ALIVE.
            if let Some(waker) = unsafe { &*inner.tx_waker.get() } {
                waker.wake_by_ref();
            }
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

    /// Registers the waker (the receiver side of the ground rules); returns the state seen
    /// last if it shows an outcome.
    fn register(&mut self, ptr: NonNull<Inner<T>>, waker: &Waker) -> Option<usize> {
        // SAFETY: we hold RX_ALIVE.
        let inner = unsafe { ptr.as_ref() };
        let done = |s: usize| s & (VALUE_SENT | CLOSED | COMPLETE) != 0;
        let mut state = inner.state.load(Acquire);
        if done(state) {
            return Some(state);
        }
        if state & RX_TASK_SET != 0 {
            // SAFETY: RX_TASK_SET is set and COMPLETE is not: the sender may only read it.
            let same = unsafe { &*inner.rx_waker.get() }
                .as_ref()
                .is_some_and(|w| w.will_wake(waker));
            if same {
                return None;
            }
            loop {
                if done(state) {
                    return Some(state);
                }
                match inner.state.compare_exchange_weak(
                    state,
                    state & !RX_TASK_SET,
                    AcqRel,
                    Acquire,
                ) {
                    Ok(_) => break,
                    Err(actual) => state = actual,
                }
            }
        }
        // SAFETY: RX_TASK_SET is clear and COMPLETE is not set: only we touch `rx_waker`.
        unsafe { *inner.rx_waker.get() = Some(waker.clone()) };
        let prev = update(&inner.state, |s| if done(s) { s } else { s | RX_TASK_SET });
        done(prev).then_some(prev)
    }
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
        let Some(ptr) = self.inner.take() else { return };
        // SAFETY: we hold RX_ALIVE.
        let inner = unsafe { ptr.as_ref() };
        let mut state = inner.state.load(Acquire);
        // A value sent and never received is ours to drop; do it after letting go.
        // SAFETY: VALUE_SENT observed with Acquire: the value belongs to the receiver.
        let _value = (state & VALUE_SENT != 0).then(|| unsafe { (*inner.value.get()).take() });
        loop {
            let wake = state & (TX_TASK_SET | COMPLETE) == TX_TASK_SET;
            let mut next = state | CLOSED;
            if !wake {
                next &= !RX_ALIVE;
            }
            match inner
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
            {
                Ok(prev) if !wake => {
                    if prev & TX_ALIVE == 0 {
                        // SAFETY: we cleared the last alive bit.
                        unsafe { free(ptr) };
                    }
                    return;
                }
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        // SAFETY: our CAS set CLOSED and saw TX_TASK_SET without COMPLETE: the sender no longer
        // writes `tx_waker`; we still hold RX_ALIVE.
        if let Some(waker) = unsafe { &*inner.tx_waker.get() } {
            waker.wake_by_ref();
        }
        // SAFETY: we hold RX_ALIVE and do not touch the block afterwards.
        unsafe { release(ptr, RX_ALIVE) };
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
