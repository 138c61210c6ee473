//! What the bounded and unbounded cores share: the receive protocol and the sender count.
//!
//! Each core keeps a state word with a `RX_WAITING` bit. The receive protocol is
//! *try, register, try again*:
//!
//! 1. `try_pop`: take the message at the head if it is published.
//! 2. Otherwise register the waker in `rx_waker` and CAS `RX_WAITING` into the state word,
//!    but only if the state shows no claimed-but-unread position (`park`). A sender's claim
//!    CAS reads (and clears) `RX_WAITING` in the same RMW that claims its slot, so either the
//!    sender sees the bit and wakes us after publishing, or our CAS sees its claim and we go
//!    back to 1. No wakeup can be lost, and a sender that finds no waiter pays nothing extra.
//! 3. A position claimed but not yet published (`Busy`: a sender on another thread between
//!    its CAS and its store) is waited out by spinning briefly, then by waking ourselves and
//!    returning `Pending`. On one thread this state is never observed: there is no `.await`
//!    between a sender's claim and its publish.

use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;

use crate::coop::ready_budget;
use crate::util::Backoff;

/// Result of one attempt to take the head message.
pub(super) enum Pop<T> {
    Value(T),
    /// Nothing claimed; senders may still send.
    Empty,
    /// Nothing claimed and nothing ever will be.
    Closed,
    /// The head position is claimed by a sender that has not published yet.
    Busy,
}

/// Result of trying to set `RX_WAITING`.
pub(super) enum Park {
    /// `RX_WAITING` is set: a sender will wake `rx_waker`.
    Parked,
    /// The state changed (a claim arrived): try to pop again.
    Retry,
    /// Nothing is claimed and nothing will be.
    Closed,
}

/// The receiver's half of a core.
pub(super) trait RxCore<T> {
    /// Takes the head message.
    ///
    /// # Safety
    ///
    /// Only the (single) receiver may call this, never concurrently with itself.
    unsafe fn try_pop(&self) -> Pop<T>;

    /// Sets `RX_WAITING` if nothing is claimed past the head (see the module docs).
    ///
    /// # Safety
    ///
    /// As for [`try_pop`](Self::try_pop) (it reads the receiver's head).
    unsafe fn park(&self) -> Park;

    fn rx_waker(&self) -> &AtomicWaker;
}

/// The receive protocol of the module docs.
///
/// # Safety
///
/// The caller is the channel's single receiver.
pub(super) unsafe fn poll_recv<T, C: RxCore<T>>(core: &C, cx: &mut Context<'_>) -> Poll<Option<T>> {
    ready_budget!(cx);
    let mut backoff = Backoff::new();
    loop {
        // SAFETY: the caller is the single receiver.
        match unsafe { core.try_pop() } {
            Pop::Value(v) => return Poll::Ready(Some(v)),
            Pop::Closed => return Poll::Ready(None),
            Pop::Busy => {
                if backoff.is_completed() {
                    // The sender's thread was probably preempted inside its window: let the
                    // executor run something else and come back.
                    cx.waker().wake_by_ref();
                    return Poll::Pending;
                }
                backoff.snooze();
                continue;
            }
            Pop::Empty => {}
        }
        core.rx_waker().register(cx.waker());
        // SAFETY: the caller is the single receiver.
        match unsafe { core.park() } {
            Park::Parked => return Poll::Pending,
            Park::Closed => return Poll::Ready(None),
            Park::Retry => continue,
        }
    }
}

/// Non-blocking receive: waits out a `Busy` head (a few instructions of another thread), so
/// that a message whose `send` has returned is always seen.
///
/// # Safety
///
/// The caller is the channel's single receiver.
pub(super) unsafe fn try_recv<T, C: RxCore<T>>(core: &C) -> Result<T, super::error::TryRecvError> {
    let mut backoff = Backoff::new();
    loop {
        // SAFETY: the caller is the single receiver.
        match unsafe { core.try_pop() } {
            Pop::Value(v) => return Ok(v),
            Pop::Empty => return Err(super::error::TryRecvError::Empty),
            Pop::Closed => return Err(super::error::TryRecvError::Disconnected),
            Pop::Busy => backoff.snooze(),
        }
    }
}

/// Receives up to `limit` messages into `buf`, waiting only for the first.
///
/// # Safety
///
/// The caller is the channel's single receiver.
pub(super) unsafe fn poll_recv_many<T, C: RxCore<T>>(
    core: &C,
    cx: &mut Context<'_>,
    buf: &mut Vec<T>,
    limit: usize,
) -> Poll<usize> {
    if limit == 0 {
        return Poll::Ready(0);
    }
    // SAFETY: the caller is the single receiver.
    let first = match unsafe { poll_recv(core, cx) } {
        Poll::Ready(Some(v)) => v,
        Poll::Ready(None) => return Poll::Ready(0),
        Poll::Pending => return Poll::Pending,
    };
    buf.push(first);
    let mut n = 1;
    while n < limit {
        // SAFETY: the caller is the single receiver.
        match unsafe { core.try_pop() } {
            Pop::Value(v) => {
                buf.push(v);
                n += 1;
            }
            Pop::Empty | Pop::Closed | Pop::Busy => break,
        }
    }
    Poll::Ready(n)
}
