//! What the bounded and unbounded cores share: the receive protocol and the receiver's waker.
//!
//! Each core keeps, in its state word, a bit and a small counter for the receiver:
//! `RX_WAITING` (the receiver sleeps; its waker is in the [`RxWaker`] cell) and `WAKERS` (how
//! many senders are reading that cell right now). The receive protocol is *try, register, try
//! again*:
//!
//! 1. `try_pop`: take the message at the head if it is published.
//! 2. Otherwise `park`: store the waker (only if it changed) and CAS `RX_WAITING` into the
//!    state word, but only if the state shows no claimed-but-unread position. A sender's claim
//!    CAS reads `RX_WAITING` in the same RMW that claims its slot and clears it, so either the
//!    sender sees the bit and wakes us, or our CAS sees its claim and we go back to 1. No
//!    wakeup can be lost, and a sender that finds no waiter pays nothing extra.
//! 3. A position claimed but not yet published (`Busy`: a sender on another thread between
//!    its CAS and its store) is waited out by spinning briefly, then by waking ourselves and
//!    returning `Pending`. So are senders still reading our waker, but only when the waker
//!    must be *replaced* (another task now receives). On one thread neither is ever observed:
//!    a send runs to completion without an `.await`.
//!
//! # The waker cell
//!
//! The cell is written only by the receiver, in `park`, and only while `RX_WAITING` is clear,
//! `WAKERS` is 0 and every claimed position has been received; then no sender reads it or
//! can start to (only the receiver sets `RX_WAITING`). Two kinds of sender read it:
//!
//! * A sender whose **claim** CAS cleared `RX_WAITING` reads it (`wake_by_ref`) *before* it
//!   publishes the position it claimed (the slot's `full` flag, a release store). The
//!   receiver cannot get past that position without seeing `full` (acquire), and `park` only
//!   writes the cell once every claimed position is received, so the read happens before any
//!   write: no counter is needed, and a message to a sleeping receiver costs the sender one
//!   RMW, its claim. The woken receiver may find the position still unpublished (`Busy`) for
//!   the few instructions between the wake and the store.
//! * The rare **notify** paths (the last sender gone, a permit given back) claim nothing: their
//!   CAS turns `RX_WAITING` into a `WAKERS` increment, and they decrement `WAKERS` (release)
//!   once done; `park` waits for `WAKERS` to be 0 before it replaces the waker.
//!
//! Concurrent readers are fine: they only call `wake_by_ref`. The receiver keeps its waker
//! registered between messages and re-parks with an unchanged waker at once, even while an
//! earlier notifier is still inside `wake_by_ref`: a parked receive costs no waker clone, no
//! drop and no spin.

use std::task::{Context, Poll, Waker};
use weft_core::sync::atomic::{AtomicUsize, Ordering::AcqRel, Ordering::Acquire};
use weft_core::sync::atomic::{Ordering::Relaxed, Ordering::Release};
use weft_core::sync::UnsafeCell;

use crate::lock_free::{Backoff, BiasedWord};
use weft_core::ready_budget;

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

/// Result of trying to park.
pub(super) enum Park {
    /// `RX_WAITING` is set: a sender will wake the registered waker.
    Parked,
    /// The state changed (a claim arrived): try to pop again.
    Retry,
    /// Nothing is claimed and nothing will be.
    Closed,
    /// Senders still read the waker cell, which must be replaced: try again shortly.
    Busy,
}

/// Where the receiver's bits sit in a core's state word.
#[derive(Clone, Copy)]
pub(super) struct RxBits {
    /// The receiver sleeps; its waker is registered.
    pub(super) rx_waiting: u64,
    /// One unit of the `WAKERS` counter.
    pub(super) waker_one: u64,
    /// The whole `WAKERS` counter field.
    pub(super) waker_mask: u64,
}

impl RxBits {
    /// What a sender's claim does to the state: it clears `RX_WAITING` (the claimer then
    /// wakes the receiver before publishing, see [`RxWaker::wake_claimed`]).
    pub(super) fn claim(self, next: u64) -> u64 {
        next & !self.rx_waiting
    }

    /// What a notify does to the state: `RX_WAITING` becomes one more reader in `WAKERS`.
    fn notify(self, next: u64) -> u64 {
        if next & self.rx_waiting != 0 {
            (next & !self.rx_waiting) + self.waker_one
        } else {
            next
        }
    }
}

/// The receiver's waker, guarded by `RX_WAITING` and `WAKERS` (see the module docs).
pub(super) struct RxWaker {
    cell: UnsafeCell<Option<Waker>>,
}

// SAFETY: the cell is accessed per the protocol in the module docs: written by the receiver
// only while no sender reads it or can start to; read by senders only; `Waker: Send + Sync`.
unsafe impl Send for RxWaker {}
// SAFETY: as above.
unsafe impl Sync for RxWaker {}

impl RxWaker {
    pub(super) fn new() -> Self {
        RxWaker {
            cell: UnsafeCell::new(None),
        }
    }

    /// Receiver side: registers `waker` and sets `RX_WAITING`, unless `verdict(state)` says
    /// not to park (a claim arrived, or the channel is finished).
    ///
    /// # Safety
    ///
    /// Only the channel's single receiver may call this.
    pub(super) unsafe fn park(
        &self,
        state: &BiasedWord,
        waker: &Waker,
        bits: RxBits,
        verdict: impl Fn(u64) -> Option<Park>,
    ) -> Park {
        let mut s = state.load(Acquire);
        loop {
            if let Some(v) = verdict(s) {
                return v;
            }
            // SAFETY: only we write the cell, and senders only read it.
            let stored = unsafe { &*self.cell.with(|p| p) };
            let same = stored.as_ref().is_some_and(|w| w.will_wake(waker));
            if s & bits.rx_waiting != 0 {
                if same {
                    return Park::Parked;
                }
                // Take the cell back (so no new sender reads it) before replacing the waker.
                match state.compare_exchange_weak(s, s & !bits.rx_waiting, AcqRel, Acquire) {
                    Ok(_) => s &= !bits.rx_waiting,
                    Err(actual) => s = actual,
                }
                continue;
            }
            let wakers = s & bits.waker_mask;
            if !same {
                if wakers != 0 {
                    return Park::Busy; // senders still read the old waker
                }
                // SAFETY: RX_WAITING is clear and WAKERS is 0: no sender reads the cell or can
                // start to (only our CAS below sets RX_WAITING), and only we write it.
                unsafe { *self.cell.with_mut(|p| p) = Some(waker.clone()) };
            }
            if wakers == bits.waker_mask {
                return Park::Busy; // the counter is full: one more claim could not count
            }
            match state.compare_exchange_weak(s, s | bits.rx_waiting, AcqRel, Acquire) {
                Ok(_) => return Park::Parked,
                Err(actual) => s = actual,
            }
        }
    }

    /// Sender side, after its claim CAS cleared `RX_WAITING`: wakes the receiver by
    /// reference. The caller publishes its claimed position only afterwards.
    ///
    /// # Safety
    ///
    /// The caller's claim CAS on the state word cleared `RX_WAITING`, and the position it
    /// claimed is not published yet (see the module docs: the receiver writes the cell only
    /// once it has received that position).
    ///
    /// A waker that panics must not lose the message: its panic is caught and returned, for
    /// the caller to resume once the message is published (`catch_unwind` costs nothing
    /// unless it catches).
    #[must_use = "resume the waker's panic after publishing"]
    pub(super) unsafe fn wake_claimed(&self) -> std::thread::Result<()> {
        // SAFETY: per the caller's contract, the receiver does not write the cell before it
        // sees our position published, which we do after this read.
        match unsafe { &*self.cell.with(|p| p) } {
            Some(w) => std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| w.wake_by_ref())),
            None => Ok(()),
        }
    }

    /// Receiver side, when the receiver is dropped: drops the registered waker at once (a
    /// waker can keep a whole task's memory alive), if no sender can be reading it. That is
    /// when the receiver itself takes `RX_WAITING` back (so no claim cleared it, and none can
    /// start to read) and no notifier counts in `WAKERS`; otherwise the waker stays, and goes
    /// with the channel.
    ///
    /// # Safety
    ///
    /// Only the channel's single receiver may call this.
    pub(super) unsafe fn release(&self, state: &BiasedWord, bits: RxBits) {
        let mut s = state.load(Acquire);
        while s & bits.rx_waiting != 0 {
            match state.compare_exchange_weak(s, s & !bits.rx_waiting, AcqRel, Acquire) {
                Ok(_) => {
                    if s & bits.waker_mask == 0 {
                        // SAFETY: we cleared RX_WAITING ourselves, so no sender's claim did
                        // (none is in `wake_claimed`), and WAKERS is 0 (none is in `wake`);
                        // no sender can start to read the cell now. Only we write it.
                        let waker = unsafe { (*self.cell.with_mut(|p| p)).take() };
                        drop(waker);
                    }
                    return;
                }
                Err(actual) => s = actual,
            }
        }
    }

    /// Notify side, after its CAS turned `RX_WAITING` into a `WAKERS` increment: wakes the
    /// receiver by reference, then decrements `WAKERS`.
    ///
    /// # Safety
    ///
    /// The caller's CAS on `state` cleared `RX_WAITING` and added `bits.waker_one`.
    unsafe fn wake(&self, state: &BiasedWord, bits: RxBits) {
        // SAFETY: per the caller's contract, the receiver does not write the cell until
        // `WAKERS` is back to 0, which needs our decrement below.
        if let Some(w) = unsafe { &*self.cell.with(|p| p) } {
            w.wake_by_ref();
        }
        state.fetch_sub(bits.waker_one, Release);
    }

    /// Wakes the receiver if it sleeps (for the rare paths: senders gone, a permit dropped).
    pub(super) fn notify(&self, state: &BiasedWord, bits: RxBits) {
        let mut s = state.load(Acquire);
        while s & bits.rx_waiting != 0 {
            match state.compare_exchange_weak(s, bits.notify(s), AcqRel, Acquire) {
                // SAFETY: our CAS turned RX_WAITING into a WAKERS increment.
                Ok(_) => return unsafe { self.wake(state, bits) },
                Err(actual) => s = actual,
            }
        }
    }
}

/// The receiver's half of a core.
pub(super) trait RxCore<T> {
    /// Takes the head message.
    ///
    /// # Safety
    ///
    /// Only the (single) receiver may call this, never concurrently with itself.
    unsafe fn try_pop(&self) -> Pop<T>;

    /// Registers `waker` and sets `RX_WAITING` if nothing is claimed past the head (see the
    /// module docs).
    ///
    /// # Safety
    ///
    /// As for [`try_pop`](Self::try_pop) (it reads the receiver's head).
    unsafe fn park(&self, waker: &Waker) -> Park;
}

/// The receive protocol of the module docs.
///
/// # Safety
///
/// The caller is the channel's single receiver.
#[inline(always)]
pub(super) unsafe fn poll_recv<T, C: RxCore<T>>(core: &C, cx: &mut Context<'_>) -> Poll<Option<T>> {
    ready_budget!(cx);
    // The common case inline (a message is there); the rest out of line.
    // SAFETY: the caller is the single receiver.
    match unsafe { core.try_pop() } {
        Pop::Value(v) => Poll::Ready(Some(v)),
        Pop::Closed => Poll::Ready(None),
        // SAFETY: the caller is the single receiver.
        pop => unsafe { poll_recv_slow(core, cx, pop) },
    }
}

/// [`poll_recv`] once the first `try_pop` found no message: park, or wait out a `Busy` head.
///
/// # Safety
///
/// The caller is the channel's single receiver.
#[inline(never)]
unsafe fn poll_recv_slow<T, C: RxCore<T>>(
    core: &C,
    cx: &mut Context<'_>,
    mut pop: Pop<T>,
) -> Poll<Option<T>> {
    let mut backoff = Backoff::new();
    loop {
        let busy = match pop {
            Pop::Value(v) => return Poll::Ready(Some(v)),
            Pop::Closed => return Poll::Ready(None),
            Pop::Busy => true,
            // SAFETY: the caller is the single receiver.
            Pop::Empty => match unsafe { core.park(cx.waker()) } {
                Park::Parked => return Poll::Pending,
                Park::Closed => return Poll::Ready(None),
                Park::Retry => false,
                Park::Busy => true,
            },
        };
        if busy {
            if backoff.is_completed() {
                // The sender's thread was probably preempted inside its window: let the
                // executor run something else and come back.
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            backoff.snooze();
        }
        // SAFETY: the caller is the single receiver.
        pop = unsafe { core.try_pop() };
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

/// A weak sender's upgrade: adds one to the live-sender count `tx_count`, unless it is 0.
///
/// Once the last sender has gone, its drop has set `TX_GONE` (or is about to) and the receiver
/// may already have ended: 0 is final, so a sender is never brought back to a closed channel.
/// Returns whether the count was incremented (the caller then owns one sender).
pub(super) fn try_upgrade(tx_count: &AtomicUsize) -> bool {
    let mut n = tx_count.load(Relaxed);
    loop {
        if n == 0 {
            return false;
        }
        // Acquire, as `Weak::upgrade`: the new sender sees what the channel's senders did.
        match tx_count.compare_exchange_weak(n, n + 1, Acquire, Relaxed) {
            Ok(_) => return true,
            Err(actual) => n = actual,
        }
    }
}

/// Drops every message the receiver can take now. If a message's `drop` panics, the rest are
/// still dropped (by a guard, during the unwinding) before the panic goes on.
///
/// # Safety
///
/// Only the (single) receiver may call this.
pub(super) unsafe fn drain<T, C: RxCore<T>>(chan: &C) {
    struct Guard<'a, T, C: RxCore<T>>(&'a C, std::marker::PhantomData<T>);
    impl<T, C: RxCore<T>> Drop for Guard<'_, T, C> {
        fn drop(&mut self) {
            // SAFETY: `drain`'s caller is the receiver.
            while let Pop::Value(v) = unsafe { self.0.try_pop() } {
                drop(v);
            }
        }
    }
    let guard = Guard(chan, std::marker::PhantomData);
    // SAFETY: the caller is the receiver.
    while let Pop::Value(v) = unsafe { chan.try_pop() } {
        drop(v);
    }
    drop(guard);
}
