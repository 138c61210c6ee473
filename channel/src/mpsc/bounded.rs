//! The handles of a bounded channel: [`Sender`], [`WeakSender`], [`Receiver`], [`Permit`],
//! [`OwnedPermit`].

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::task::{ready, Context, Poll};
use weft_core::sync::Arc;

use futures_core::Stream;

use super::chan;
use super::error::{SendError, SendTimeoutError, TryRecvError, TrySendError};
use super::ring::{Reserve, Ring};
use super::RecvFuture;
use weft_core::coop;
use weft_core::ready_budget;

/// Sends into a bounded channel; clone it for more producers.
///
/// Created by [`channel`](super::channel). When every `Sender` is dropped, the receiver
/// drains what is left and then ends.
pub struct Sender<T> {
    chan: Arc<Ring<T>>,
}

/// A sender that does not keep the channel open: [`upgrade`](WeakSender::upgrade) it to send.
///
/// Created by [`Sender::downgrade`]. Weak senders do not count as senders: when every
/// [`Sender`] is dropped the receiver drains what is left and ends, weak senders or not, and
/// from then on `upgrade` returns `None`. Useful to let a task send to a channel it must not
/// keep alive (a channel owned by the task that receives from it, say).
pub struct WeakSender<T> {
    chan: Arc<Ring<T>>,
}

/// Receives from a bounded channel. There is exactly one per channel.
///
/// Also a [`Stream`] of the messages, which ends when every sender is gone and the buffer is
/// drained.
pub struct Receiver<T> {
    chan: Arc<Ring<T>>,
}

/// Future of [`Sender::send`]: resolves once the message is in the channel (or the receiver
/// is gone, which gives the message back in the [`SendError`]).
///
/// A named type rather than an `async fn` so that its poll can be inlined into the awaiting
/// task: the common case (room now) is a budget check and one CAS.
///
/// # Examples
///
/// ```
/// futures::executor::block_on(async {
///     let (tx, mut rx) = weft_channel::mpsc::channel(1);
///     let fut: weft_channel::mpsc::SendFuture<'_, u8> = tx.send(3);
///     fut.await.unwrap();
///     assert_eq!(rx.recv().await, Some(3));
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct SendFuture<'a, T> {
    chan: &'a Ring<T>,
    /// The message, until it is sent or given back.
    value: Option<T>,
    /// Waiting for room (after the first poll found the channel full).
    reserve: Option<Reserve<'a, T>>,
}

// The message is never pinned (it moves into the channel), and `Reserve` is `Unpin`.
impl<T> Unpin for SendFuture<'_, T> {}

impl<T> Future for SendFuture<'_, T> {
    type Output = Result<(), SendError<T>>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        if this.reserve.is_none() {
            ready_budget!(cx);
            let value = this
                .value
                .take()
                .expect("`SendFuture` polled after completion");
            match this.chan.try_send(value) {
                Ok(()) => return Poll::Ready(Ok(())),
                Err(TrySendError::Closed(v)) => return Poll::Ready(Err(SendError(v))),
                Err(TrySendError::Full(v)) => {
                    this.value = Some(v);
                    this.reserve = Some(Reserve::new(this.chan));
                }
            }
        }
        this.poll_reserve(cx)
    }
}

impl<T> SendFuture<'_, T> {
    /// The channel was full: wait for room in the senders' queue, then send.
    #[inline(never)]
    fn poll_reserve(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), SendError<T>>> {
        let reserve = self.reserve.as_mut().expect("reserve set before waiting");
        let res = ready!(Pin::new(reserve).poll(cx));
        let value = self
            .value
            .take()
            .expect("`SendFuture` polled after completion");
        Poll::Ready(match res {
            Ok(()) => {
                self.chan.send_reserved(value);
                Ok(())
            }
            Err(()) => Err(SendError(value)),
        })
    }
}

impl<T> fmt::Debug for SendFuture<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SendFuture")
            .field("waiting", &self.reserve.is_some())
            .finish_non_exhaustive()
    }
}

impl<T> Future for RecvFuture<'_, Receiver<T>> {
    type Output = Option<T>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // SAFETY: `&mut Receiver` held by the future: the only receiver.
        unsafe { chan::poll_recv(&*self.get_mut().rx.chan, cx) }
    }
}

pub(super) fn new<T>(cap: usize) -> (Sender<T>, Receiver<T>) {
    let chan = Arc::new(Ring::new(cap));
    (Sender { chan: chan.clone() }, Receiver { chan })
}

impl<T> Sender<T> {
    /// Sends `value`, waiting for room if the channel is full.
    ///
    /// Uncontended this is one CAS: no lock, no allocation. Each call first takes one unit
    /// of the task's cooperative budget (see [`weft_core::coop`]), so a producer whose
    /// channel always has room still yields to the other tasks on its thread.
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver is gone (dropped or closed).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in tokio's sense: if the future is dropped before it completes, the message
    /// was not sent (and is dropped with the future). Waiting senders are served in FIFO
    /// order; a dropped waiter that had been handed room passes it on.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::mpsc;
    ///
    /// futures::executor::block_on(async {
    ///     let (tx, mut rx) = mpsc::channel(1);
    ///     tx.send(1).await.unwrap();
    ///     let t = std::thread::spawn(move || futures::executor::block_on(tx.send(2)));
    ///     assert_eq!(rx.recv().await, Some(1)); // makes room for 2
    ///     assert_eq!(rx.recv().await, Some(2));
    ///     t.join().unwrap().unwrap();
    /// });
    /// ```
    pub fn send(&self, value: T) -> SendFuture<'_, T> {
        SendFuture {
            chan: &self.chan,
            value: Some(value),
            reserve: None,
        }
    }

    /// Sends `value`, blocking the calling thread until there is room: [`send`](Self::send)
    /// for synchronous code (a plain thread, a blocking-pool task).
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver is gone (dropped or closed).
    ///
    /// # Panics
    ///
    /// If called on a thread that runs a weft runtime
    /// ([`in_runtime`](weft_core::context::in_runtime)): blocking would stall that runtime. Use `.await` there instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(1);
    /// let producer = std::thread::spawn(move || {
    ///     tx.blocking_send(1).unwrap();
    ///     tx.blocking_send(2).unwrap(); // waits until 1 is received
    /// });
    /// futures::executor::block_on(async {
    ///     assert_eq!(rx.recv().await, Some(1));
    ///     assert_eq!(rx.recv().await, Some(2));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// producer.join().unwrap();
    /// ```
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        weft_core::block_on("blocking_send", self.send(value))
    }

    /// Sends `value` if there is room now.
    ///
    /// # Errors
    ///
    /// [`TrySendError::Closed`] if the receiver is gone (whether or not the channel is full);
    /// [`TrySendError::Full`] if there is no room, or other senders are queued for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::mpsc::{self, error::TrySendError};
    /// let (tx, rx) = mpsc::channel(1);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.try_send(2), Err(TrySendError::Full(2)));
    /// drop(rx);
    /// assert_eq!(tx.try_send(3), Err(TrySendError::Closed(3)));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        self.chan.try_send(value)
    }

    /// Waits for room for one message and reserves it: the [`Permit`] then sends without
    /// waiting (and without failing). Dropping the permit gives the room back.
    ///
    /// # Errors
    ///
    /// [`SendError`] if the receiver is gone.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a dropped `reserve` leaves the queue; if room had been handed to it, that
    /// room goes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, mut rx) = weft_channel::mpsc::channel(1);
    ///     let permit = tx.reserve().await.unwrap();
    ///     assert!(tx.try_send(0).is_err()); // the room is taken
    ///     permit.send(7);
    ///     assert_eq!(rx.recv().await, Some(7));
    /// });
    /// ```
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        poll_fn(coop::poll_proceed).await;
        match Reserve::new(&self.chan).await {
            Ok(()) => Ok(Permit { chan: &self.chan }),
            Err(()) => Err(SendError(())),
        }
    }

    /// Waits for room for `n` messages at once and reserves it: the permits come as an
    /// iterator, each sending one message; those not used give their room back when the
    /// iterator is dropped. Waiting senders are served first come first served, so a large
    /// reservation is not overtaken by later small ones.
    ///
    /// # Errors
    ///
    /// [`SendError`] if the receiver is gone, or if `n` is more than the channel's capacity
    /// (it could never be granted).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: room handed to a dropped `reserve_many` goes to the next waiter.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, mut rx) = weft_channel::mpsc::channel(4);
    ///     let permits = tx.reserve_many(3).await.unwrap();
    ///     assert_eq!(tx.capacity(), 1);
    ///     for (i, permit) in permits.enumerate() {
    ///         permit.send(i);
    ///     }
    ///     assert_eq!(rx.recv().await, Some(0));
    ///     assert!(tx.reserve_many(5).await.is_err()); // more than the capacity
    /// });
    /// ```
    pub async fn reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, SendError<()>> {
        poll_fn(coop::poll_proceed).await;
        if n > self.chan.capacity() {
            return Err(SendError(()));
        }
        if n == 0 {
            return match self.chan.is_rx_closed() {
                true => Err(SendError(())),
                false => Ok(PermitIterator {
                    chan: &self.chan,
                    n: 0,
                }),
            };
        }
        match Reserve::many(&self.chan, n).await {
            Ok(()) => Ok(PermitIterator {
                chan: &self.chan,
                n,
            }),
            Err(()) => Err(SendError(())),
        }
    }

    /// Reserves room for `n` messages if there is room for all of them now (see
    /// [`reserve_many`](Self::reserve_many)).
    ///
    /// # Errors
    ///
    /// `Full` if there is not room for `n` now (or never: `n` above the capacity), `Closed`
    /// if the receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::channel::<u8>(2);
    /// let permits = tx.try_reserve_many(2).unwrap();
    /// assert_eq!(permits.len(), 2);
    /// assert!(tx.try_reserve_many(1).is_err());
    /// drop(permits);
    /// assert_eq!(tx.capacity(), 2);
    /// ```
    pub fn try_reserve_many(&self, n: usize) -> Result<PermitIterator<'_, T>, TrySendError<()>> {
        if n > self.chan.capacity() {
            return match self.chan.is_rx_closed() {
                true => Err(TrySendError::Closed(())),
                false => Err(TrySendError::Full(())),
            };
        }
        self.chan.try_reserve_n(n)?;
        Ok(PermitIterator {
            chan: &self.chan,
            n,
        })
    }

    /// Like [`send`](Self::send), giving up after `timeout` without room (measured on the
    /// runtime's clock, [`weft_core::time`]: weft's, paused or not, under weft; real time
    /// elsewhere).
    ///
    /// # Errors
    ///
    /// [`SendTimeoutError::Timeout`] with the value if no room came in time,
    /// [`SendTimeoutError::Closed`] if the receiver is gone.
    ///
    /// # Cancel safety
    ///
    /// As [`send`](Self::send): the value is lost if the future is dropped.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_channel::mpsc::error::SendTimeoutError;
    ///
    /// futures::executor::block_on(async {
    ///     let (tx, _rx) = weft_channel::mpsc::channel(1);
    ///     tx.send_timeout(1, Duration::from_millis(5)).await.unwrap();
    ///     let full = tx.send_timeout(2, Duration::from_millis(5)).await;
    ///     assert_eq!(full, Err(SendTimeoutError::Timeout(2)));
    /// });
    /// ```
    pub async fn send_timeout(
        &self,
        value: T,
        timeout: std::time::Duration,
    ) -> Result<(), SendTimeoutError<T>> {
        let mut send = self.send(value);
        // On the runtime's clock (weft's timer, paused in tests), real time off weft.
        let mut sleep =
            weft_core::time::sleep_until(weft_core::time::now().saturating_add(timeout));
        poll_fn(|cx| {
            if let Poll::Ready(res) = Pin::new(&mut send).poll(cx) {
                return Poll::Ready(res.map_err(|SendError(v)| SendTimeoutError::Closed(v)));
            }
            ready!(sleep.as_mut().poll(cx));
            let value = send.value.take().expect("the value is sent only on Ready");
            Poll::Ready(Err(SendTimeoutError::Timeout(value)))
        })
        .await
    }

    /// Reserves room for one message if there is some now.
    ///
    /// # Errors
    ///
    /// As [`try_send`](Self::try_send), without a value.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::channel::<u8>(1);
    /// let p = tx.try_reserve().unwrap();
    /// assert!(tx.try_reserve().is_err());
    /// drop(p);
    /// assert!(tx.try_reserve().is_ok());
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        self.chan.try_reserve()?;
        Ok(Permit { chan: &self.chan })
    }

    /// Like [`reserve`](Self::reserve), consuming the sender: the permit owns it and gives it
    /// back when used.
    ///
    /// # Errors
    ///
    /// [`SendError`] if the receiver is gone.
    ///
    /// # Cancel safety
    ///
    /// As [`reserve`](Self::reserve) (the sender is dropped with the future).
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, mut rx) = weft_channel::mpsc::channel(1);
    ///     let permit = tx.reserve_owned().await.unwrap();
    ///     let _tx = permit.send(1);
    ///     assert_eq!(rx.recv().await, Some(1));
    /// });
    /// ```
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        poll_fn(coop::poll_proceed).await;
        match Reserve::new(&self.chan).await {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(()) => Err(SendError(())),
        }
    }

    /// Like [`try_reserve`](Self::try_reserve), consuming the sender.
    ///
    /// # Errors
    ///
    /// As [`try_reserve`](Self::try_reserve), giving the sender back.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::channel::<u8>(1);
    /// let permit = tx.try_reserve_owned().unwrap();
    /// let tx = permit.release();
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match self.chan.try_reserve() {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TrySendError::Full(())) => Err(TrySendError::Full(self)),
            Err(TrySendError::Closed(())) => Err(TrySendError::Closed(self)),
        }
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
    ///     let (tx, rx) = weft_channel::mpsc::channel::<u8>(1);
    ///     std::thread::spawn(move || drop(rx));
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub async fn closed(&self) {
        let mut notified = pin!(self.chan.closed_notify.notified());
        if self.is_closed() {
            return;
        }
        notified.as_mut().enable();
        if self.is_closed() {
            return;
        }
        notified.await;
    }

    /// Whether the receiver is gone (a send would fail).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::mpsc::channel::<u8>(1);
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// Room available now.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::channel(4);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(tx.capacity(), 3);
    /// ```
    pub fn capacity(&self) -> usize {
        self.chan.available()
    }

    /// The capacity the channel was created with.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::channel::<u8>(4);
    /// assert_eq!(tx.max_capacity(), 4);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.chan.capacity()
    }

    /// Whether both senders feed the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::channel::<u8>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// A [`WeakSender`] for this channel, which does not keep it open.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// assert!(rx.try_recv().is_err()); // the channel ended, though `weak` lives
    /// ```
    pub fn downgrade(&self) -> WeakSender<T> {
        self.chan.weak_count.fetch_add(1, Relaxed);
        WeakSender {
            chan: self.chan.clone(),
        }
    }

    /// Number of [`Sender`]s of this channel (permits count with the sender they hold).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::channel::<u8>(1);
    /// let tx2 = tx.clone();
    /// assert_eq!(tx.strong_count(), 2);
    /// drop(tx2);
    /// assert_eq!(tx.strong_count(), 1);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.tx_count.load(Acquire)
    }

    /// Number of [`WeakSender`]s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// drop(weak);
    /// assert_eq!(tx.weak_count(), 0);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count.load(Acquire)
    }
}

impl<T> WeakSender<T> {
    /// A [`Sender`] for the channel, or `None` if every `Sender` is gone (the channel is
    /// closed for sending; it is never reopened).
    ///
    /// Succeeds even if the receiver is gone, as [`Sender::clone`] would: sends then fail.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::mpsc::channel(1);
    /// let weak = tx.downgrade();
    /// weak.upgrade().unwrap().try_send(1).unwrap();
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn upgrade(&self) -> Option<Sender<T>> {
        chan::try_upgrade(&self.chan.tx_count).then(|| Sender {
            chan: self.chan.clone(),
        })
    }

    /// Number of [`Sender`]s of this channel: 0 once it is closed for sending.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert_eq!(weak.strong_count(), 1);
    /// drop(tx);
    /// assert_eq!(weak.strong_count(), 0);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.tx_count.load(Acquire)
    }

    /// Number of [`WeakSender`]s of this channel, this one included.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// let weak2 = weak.clone();
    /// assert_eq!(weak.weak_count(), 2);
    /// drop(weak2);
    /// assert_eq!(weak.weak_count(), 1);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count.load(Acquire)
    }
}

impl<T> Clone for WeakSender<T> {
    fn clone(&self) -> Self {
        self.chan.weak_count.fetch_add(1, Relaxed);
        WeakSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for WeakSender<T> {
    fn drop(&mut self) {
        self.chan.weak_count.fetch_sub(1, Relaxed);
    }
}

impl<T> fmt::Debug for WeakSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakSender")
            .field("max_capacity", &self.chan.capacity())
            .finish_non_exhaustive()
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.chan.tx_count.fetch_add(1, Relaxed);
        Sender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        if self.chan.tx_count.fetch_sub(1, AcqRel) == 1 {
            self.chan.close_tx();
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("max_capacity", &self.chan.capacity())
            .finish_non_exhaustive()
    }
}

/// Room for one message, reserved by [`Sender::reserve`]; dropping it gives the room back.
#[must_use = "dropping the permit gives the room back"]
pub struct Permit<'a, T> {
    chan: &'a Ring<T>,
}

impl<T> Permit<'_, T> {
    /// Sends `value` in the reserved room: never waits, never fails (if the receiver closed
    /// meanwhile, the message is queued and dropped with the channel).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::mpsc::channel(1);
    /// tx.try_reserve().unwrap().send(5);
    /// assert_eq!(rx.try_recv(), Ok(5));
    /// ```
    pub fn send(self, value: T) {
        let chan = self.chan;
        // The room is used, not given back, even if waking the receiver panics (the message
        // is in the channel by then).
        std::mem::forget(self);
        chan.send_reserved(value);
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.chan.return_unit();
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

/// Room for several messages, reserved by [`Sender::reserve_many`]: an iterator of
/// [`Permit`]s. Dropping it gives back the room of the permits it has not yielded.
#[must_use = "dropping the permits gives the room back"]
pub struct PermitIterator<'a, T> {
    chan: &'a Ring<T>,
    /// Permits not yet yielded.
    n: usize,
}

impl<'a, T> Iterator for PermitIterator<'a, T> {
    type Item = Permit<'a, T>;

    fn next(&mut self) -> Option<Permit<'a, T>> {
        if self.n == 0 {
            return None;
        }
        self.n -= 1;
        Some(Permit { chan: self.chan })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.n, Some(self.n))
    }
}

impl<T> ExactSizeIterator for PermitIterator<'_, T> {}

impl<T> std::iter::FusedIterator for PermitIterator<'_, T> {}

impl<T> Drop for PermitIterator<'_, T> {
    fn drop(&mut self) {
        self.chan.return_units(self.n);
    }
}

impl<T> fmt::Debug for PermitIterator<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PermitIterator")
            .field("permits", &self.n)
            .finish_non_exhaustive()
    }
}

/// Room for one message, owning its [`Sender`] (from [`Sender::reserve_owned`]).
#[must_use = "dropping the permit gives the room back"]
pub struct OwnedPermit<T> {
    sender: Option<Sender<T>>,
}

impl<T> OwnedPermit<T> {
    /// Sends `value` in the reserved room and gives the sender back.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::mpsc::channel(1);
    /// let tx = tx.try_reserve_owned().unwrap().send(1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// # drop(tx);
    /// ```
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.sender.take().expect("permit already used");
        sender.chan.send_reserved(value);
        sender
    }

    /// Gives the room back without sending, and the sender with it.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::channel::<u8>(1);
    /// let tx = tx.try_reserve_owned().unwrap().release();
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect("permit already used");
        sender.chan.return_unit();
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = self.sender.take() {
            sender.chan.return_unit();
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}

impl<T> Receiver<T> {
    /// Receives the next message; `None` once every sender is gone (or the receiver was
    /// closed) and the buffer is drained.
    ///
    /// Uncontended this is loads and a release store: no atomic read-modify-write, no lock,
    /// no allocation.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no message was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, mut rx) = weft_channel::mpsc::channel(2);
    ///     tx.send("a").await.unwrap();
    ///     drop(tx);
    ///     assert_eq!(rx.recv().await, Some("a"));
    ///     assert_eq!(rx.recv().await, None);
    /// });
    /// ```
    pub fn recv(&mut self) -> RecvFuture<'_, Self> {
        RecvFuture { rx: self }
    }

    /// Receives the next message, blocking the calling thread until there is one:
    /// [`recv`](Self::recv) for synchronous code. `None` once every sender is gone (or the
    /// receiver was closed) and the buffer is drained.
    ///
    /// # Panics
    ///
    /// If called on a thread that runs a weft runtime
    /// ([`in_runtime`](weft_core::context::in_runtime)): blocking would stall that runtime. Use `.await` there instead.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::mpsc;
    ///
    /// let (tx, mut rx) = mpsc::channel(4);
    /// let consumer = std::thread::spawn(move || {
    ///     let mut got = Vec::new();
    ///     while let Some(v) = rx.blocking_recv() {
    ///         got.push(v);
    ///     }
    ///     got
    /// });
    /// futures::executor::block_on(async {
    ///     for i in 0..3 {
    ///         tx.send(i).await.unwrap();
    ///     }
    /// });
    /// drop(tx);
    /// assert_eq!(consumer.join().unwrap(), [0, 1, 2]);
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        weft_core::block_on("blocking_recv", self.recv())
    }

    /// Polls for the next message; see [`recv`](Self::recv).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll};
    /// let (tx, mut rx) = weft_channel::mpsc::channel(1);
    /// let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    /// assert!(rx.poll_recv(&mut cx).is_pending());
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // SAFETY: `&mut self` on the only receiver.
        unsafe { chan::poll_recv(&*self.chan, cx) }
    }

    /// Receives a message if one is ready now.
    ///
    /// # Errors
    ///
    /// [`TryRecvError::Empty`] if none is; [`TryRecvError::Disconnected`] if none will come.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::mpsc::{self, error::TryRecvError};
    /// let (tx, mut rx) = mpsc::channel(1);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.try_send(1).unwrap();
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        // SAFETY: `&mut self` on the only receiver.
        unsafe { chan::try_recv(&*self.chan) }
    }

    /// Waits for at least one message, then moves up to `limit` ready messages into `buf`.
    /// Returns how many were added: 0 only if `limit` is 0 or the channel is finished.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: nothing is taken unless the future completes.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, mut rx) = weft_channel::mpsc::channel(8);
    ///     for i in 0..5 {
    ///         tx.send(i).await.unwrap();
    ///     }
    ///     let mut buf = Vec::new();
    ///     assert_eq!(rx.recv_many(&mut buf, 3).await, 3);
    ///     assert_eq!(buf, [0, 1, 2]);
    /// });
    /// ```
    pub async fn recv_many(&mut self, buf: &mut Vec<T>, limit: usize) -> usize {
        poll_fn(|cx| self.poll_recv_many(cx, buf, limit)).await
    }

    /// Polls for [`recv_many`](Self::recv_many).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::task::{Context, Poll};
    /// let (tx, mut rx) = weft_channel::mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// let mut buf = Vec::new();
    /// let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    /// assert_eq!(rx.poll_recv_many(&mut cx, &mut buf, 4), Poll::Ready(1));
    /// ```
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        // SAFETY: `&mut self` on the only receiver.
        unsafe { chan::poll_recv_many(&*self.chan, cx, buf, limit) }
    }

    /// Closes the channel for senders (their sends fail from now on) while the messages
    /// already sent, and those of permits already reserved, can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// rx.close();
    /// assert!(tx.try_send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert!(rx.try_recv().is_err());
    /// ```
    pub fn close(&mut self) {
        self.chan.close_rx();
    }

    /// Whether no more messages can be sent (receiver closed, or every sender gone). There
    /// may still be messages to receive.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::mpsc::channel::<u8>(1);
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Number of messages waiting (including ones being written by another thread).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::mpsc::channel(2);
    /// tx.try_send(()).unwrap();
    /// assert_eq!(rx.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        // SAFETY: we are the receiver; `&self` excludes a concurrent `&mut self` receive.
        unsafe { self.chan.len() }
    }

    /// Whether no message is waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = weft_channel::mpsc::channel::<u8>(2);
    /// assert!(rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// How many senders are alive (tokio's `sender_strong_count`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::mpsc::channel::<u8>(1);
    /// let tx2 = tx.clone();
    /// assert_eq!(rx.sender_strong_count(), 2);
    /// drop((tx, tx2));
    /// assert_eq!(rx.sender_strong_count(), 0);
    /// ```
    pub fn sender_strong_count(&self) -> usize {
        self.chan.tx_count.load(Acquire)
    }

    /// How many weak senders are alive (tokio's `sender_weak_count`).
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::mpsc::channel::<u8>(1);
    /// let weak = tx.downgrade();
    /// assert_eq!(rx.sender_weak_count(), 1);
    /// drop(weak);
    /// assert_eq!(rx.sender_weak_count(), 0);
    /// ```
    pub fn sender_weak_count(&self) -> usize {
        self.chan.weak_count.load(Acquire)
    }

    /// The capacity the channel was created with.
    ///
    /// # Examples
    ///
    /// ```
    /// let (_tx, rx) = weft_channel::mpsc::channel::<u8>(3);
    /// assert_eq!(rx.max_capacity(), 3);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.chan.capacity()
    }
}

impl<T> Stream for Receiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.chan.close_rx();
        // SAFETY: we are the only receiver (`&mut self`).
        unsafe { self.chan.release_rx_waker() };
        // Drop what is buffered now; anything still in flight is dropped with the channel.
        // SAFETY: we are the only receiver (`&mut self`).
        unsafe { chan::drain(&*self.chan) };
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}
