//! The handles of an unbounded channel: [`UnboundedSender`], [`WeakUnboundedSender`] and
//! [`UnboundedReceiver`].

use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::{pin, Pin};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed};
use std::task::{Context, Poll};
use weft_core::sync::Arc;

use futures_core::Stream;

use super::chan;
use super::error::{SendError, TryRecvError};
use super::list::List;
use super::RecvFuture;

/// Sends into an unbounded channel; clone it for more producers. Sending never waits.
pub struct UnboundedSender<T> {
    chan: Arc<List<T>>,
}

/// An unbounded sender that does not keep the channel open:
/// [`upgrade`](WeakUnboundedSender::upgrade) it to send.
///
/// Created by [`UnboundedSender::downgrade`]. As for [`WeakSender`](super::WeakSender): when
/// every [`UnboundedSender`] is dropped the receiver drains what is left and ends, weak senders
/// or not, and from then on `upgrade` returns `None`.
pub struct WeakUnboundedSender<T> {
    chan: Arc<List<T>>,
}

/// Receives from an unbounded channel; also a [`Stream`].
pub struct UnboundedReceiver<T> {
    chan: Arc<List<T>>,
}

pub(super) fn new<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let chan = Arc::new(List::new());
    (
        UnboundedSender { chan: chan.clone() },
        UnboundedReceiver { chan },
    )
}

impl<T> UnboundedSender<T> {
    /// Sends `value` without waiting.
    ///
    /// One CAS per message (plus, once every 31 messages, installing the next block of slots,
    /// which reuses the block the receiver last finished).
    ///
    /// # Errors
    ///
    /// [`SendError`] with the value if the receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.chan.push(value).map_err(SendError)
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
    ///     let (tx, rx) = weft_channel::mpsc::unbounded_channel::<u8>();
    ///     drop(rx);
    ///     tx.closed().await;
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

    /// Whether the receiver is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::mpsc::unbounded_channel::<u8>();
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_rx_closed()
    }

    /// Whether both senders feed the same channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::unbounded_channel::<u8>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// A [`WeakUnboundedSender`] for this channel, which does not keep it open.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// assert!(weak.upgrade().is_some());
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// assert!(rx.try_recv().is_err()); // the channel ended, though `weak` lives
    /// ```
    pub fn downgrade(&self) -> WeakUnboundedSender<T> {
        self.chan.weak_count.fetch_add(1, Relaxed);
        WeakUnboundedSender {
            chan: self.chan.clone(),
        }
    }

    /// Number of [`UnboundedSender`]s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::unbounded_channel::<u8>();
    /// let tx2 = tx.clone();
    /// assert_eq!(tx.strong_count(), 2);
    /// drop(tx2);
    /// assert_eq!(tx.strong_count(), 1);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.tx_count.load(Acquire)
    }

    /// Number of [`WeakUnboundedSender`]s of this channel.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// assert_eq!(tx.weak_count(), 1);
    /// drop(weak);
    /// assert_eq!(tx.weak_count(), 0);
    /// ```
    pub fn weak_count(&self) -> usize {
        self.chan.weak_count.load(Acquire)
    }
}

impl<T> WeakUnboundedSender<T> {
    /// An [`UnboundedSender`] for the channel, or `None` if every `UnboundedSender` is gone
    /// (the channel is closed for sending; it is never reopened).
    ///
    /// Succeeds even if the receiver is gone, as [`UnboundedSender::clone`] would: sends then
    /// fail.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::mpsc::unbounded_channel();
    /// let weak = tx.downgrade();
    /// weak.upgrade().unwrap().send(1).unwrap();
    /// drop(tx);
    /// assert!(weak.upgrade().is_none());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn upgrade(&self) -> Option<UnboundedSender<T>> {
        chan::try_upgrade(&self.chan.tx_count).then(|| UnboundedSender {
            chan: self.chan.clone(),
        })
    }

    /// Number of [`UnboundedSender`]s of this channel: 0 once it is closed for sending.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// assert_eq!(weak.strong_count(), 1);
    /// drop(tx);
    /// assert_eq!(weak.strong_count(), 0);
    /// ```
    pub fn strong_count(&self) -> usize {
        self.chan.tx_count.load(Acquire)
    }

    /// Number of [`WeakUnboundedSender`]s of this channel, this one included.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, _rx) = weft_channel::mpsc::unbounded_channel::<u8>();
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

impl<T> Clone for WeakUnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.weak_count.fetch_add(1, Relaxed);
        WeakUnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for WeakUnboundedSender<T> {
    fn drop(&mut self) {
        self.chan.weak_count.fetch_sub(1, Relaxed);
    }
}

impl<T> fmt::Debug for WeakUnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WeakUnboundedSender")
            .finish_non_exhaustive()
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        self.chan.tx_count.fetch_add(1, Relaxed);
        UnboundedSender {
            chan: self.chan.clone(),
        }
    }
}

impl<T> Drop for UnboundedSender<T> {
    fn drop(&mut self) {
        if self.chan.tx_count.fetch_sub(1, AcqRel) == 1 {
            self.chan.close_tx();
        }
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender").finish_non_exhaustive()
    }
}

impl<T> Future for RecvFuture<'_, UnboundedReceiver<T>> {
    type Output = Option<T>;

    #[inline(always)]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        // SAFETY: `&mut UnboundedReceiver` held by the future: the only receiver.
        unsafe { chan::poll_recv(&*self.get_mut().rx.chan, cx) }
    }
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next message; `None` once every sender is gone (or the receiver was
    /// closed) and the buffer is drained.
    ///
    /// Uncontended this is one acquire load: no read-modify-write, no lock, no allocation.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: if the future is dropped before it completes, no message was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, mut rx) = weft_channel::mpsc::unbounded_channel();
    ///     tx.send(1).unwrap();
    ///     drop(tx);
    ///     assert_eq!(rx.recv().await, Some(1));
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
    /// let (tx, mut rx) = weft_channel::mpsc::unbounded_channel();
    /// let consumer = std::thread::spawn(move || {
    ///     let mut sum = 0;
    ///     while let Some(v) = rx.blocking_recv() {
    ///         sum += v;
    ///     }
    ///     sum
    /// });
    /// for i in 1..=4 {
    ///     tx.send(i).unwrap();
    /// }
    /// drop(tx);
    /// assert_eq!(consumer.join().unwrap(), 10);
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
    /// let (tx, mut rx) = weft_channel::mpsc::unbounded_channel();
    /// let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    /// assert!(rx.poll_recv(&mut cx).is_pending());
    /// tx.send(1).unwrap();
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
    /// let (tx, mut rx) = mpsc::unbounded_channel::<u8>();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
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
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let (tx, mut rx) = weft_channel::mpsc::unbounded_channel();
    ///     for i in 0..3 {
    ///         tx.send(i).unwrap();
    ///     }
    ///     let mut buf = Vec::new();
    ///     assert_eq!(rx.recv_many(&mut buf, 10).await, 3);
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
    /// let (tx, mut rx) = weft_channel::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
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

    /// Closes the channel for senders; messages already sent can still be received.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, mut rx) = weft_channel::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// rx.close();
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.chan.close_rx();
    }

    /// Whether no more messages can be sent; some may still be waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::mpsc::unbounded_channel::<u8>();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.chan.is_closed()
    }

    /// Number of messages waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// let (tx, rx) = weft_channel::mpsc::unbounded_channel();
    /// tx.send(()).unwrap();
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
    /// let (_tx, rx) = weft_channel::mpsc::unbounded_channel::<u8>();
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
    /// let (tx, rx) = weft_channel::mpsc::unbounded_channel::<u8>();
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
    /// let (tx, rx) = weft_channel::mpsc::unbounded_channel::<u8>();
    /// let weak = tx.downgrade();
    /// assert_eq!(rx.sender_weak_count(), 1);
    /// drop(weak);
    /// assert_eq!(rx.sender_weak_count(), 0);
    /// ```
    pub fn sender_weak_count(&self) -> usize {
        self.chan.weak_count.load(Acquire)
    }
}

impl<T> Stream for UnboundedReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().poll_recv(cx)
    }
}

impl<T> Drop for UnboundedReceiver<T> {
    fn drop(&mut self) {
        self.chan.close_rx();
        // SAFETY: we are the only receiver (`&mut self`).
        unsafe { self.chan.release_rx_waker() };
        // Drop what is buffered now; anything still in flight is dropped with the channel.
        // SAFETY: we are the only receiver (`&mut self`).
        unsafe { chan::drain(&*self.chan) };
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver")
            .field("len", &self.len())
            .finish_non_exhaustive()
    }
}
