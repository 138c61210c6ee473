//! The bounded core: a ring of `cap` slots and one 64-bit state word (here be dragons).
//!
//! # The state word
//!
//! ```text
//!  63          36 35               8 7      4    3        2          1          0
//! ┌──────────────┬──────────────────┬─────────┬───────┬──────────┬──────────┬─────────┐
//! │tail (< 2·cap)│ reserved (≤ cap) │ WAKERS  │TX_GONE│TX_WAITING│RX_WAITING│RX_CLOSED│
//! └──────────────┴──────────────────┴─────────┴───────┴──────────┴──────────┴─────────┘
//! ```
//!
//! * `tail` is the next position to claim, counted modulo `2·cap` (slot = `tail mod cap`),
//!   so the receiver can tell "nothing claimed" (`tail == head`) from "all `cap` claimed".
//! * `reserved` is capacity in use: messages claimed and not yet received, plus permits
//!   handed out and not yet used. `reserved ≤ cap` always, hence positions claimed and not
//!   yet received are at most `cap`, and a claimed slot is always free.
//!
//! # Per message
//!
//! * `send`/`try_send` fast path: **one CAS** (`reserved+1`, `tail+1`), then a plain write of
//!   the value and a release store of the slot's `full` flag. If the CAS saw `RX_WAITING`, it
//!   cleared it, and the sender wakes the receiver by reference just before that store (no
//!   further RMW; see `chan.rs`).
//! * receive: an acquire load of the slot's `full` flag, a read, then **one `fetch_sub`** of
//!   `reserved` (which frees the capacity and tells whether senders wait for it).
//! * `reserve` is one CAS (`reserved+1`); sending through the permit is one CAS (`tail+1`).
//!
//! # Ground rules
//!
//! * A slot's value is written only by the sender whose CAS claimed its position, before
//!   it sets `full`; it is read only by the receiver after it saw `full`, which then clears
//!   `full` *before* its `fetch_sub` of `reserved` (release) lets a sender reuse the slot.
//! * `head` is touched only by the receiver (or by `Drop`, which has `&mut`).
//! * `TX_WAITING` is set and cleared only with `send_waiters` locked; while it is set the fast
//!   paths refuse to take capacity (no barging past queued senders), and freed capacity is
//!   handed to the first queued sender (*granted*) instead of returned to `reserved`.
//! * `TX_GONE` is set once, by the last `Sender` to drop; `RX_CLOSED` once, by the receiver.

use std::cell::UnsafeCell;
use std::future::Future;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::*};
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use super::chan::{Park, Pop, RxBits, RxCore, RxWaker};
use super::error::TrySendError;
use crate::notify::Notify;
use crate::util::{Key, WaitList, WakeList};

/// The receiver is closed or dropped: sends fail. Set once.
const RX_CLOSED: u64 = 1 << 0;
/// The receiver sleeps waiting for a message; the next claim turns it into a waker.
const RX_WAITING: u64 = 1 << 1;
/// Senders are queued in `send_waiters`. Only changed under that lock.
const TX_WAITING: u64 = 1 << 2;
/// Every `Sender` is gone. Set once.
const TX_GONE: u64 = 1 << 3;
/// `RX_WAITING` and the 4-bit `WAKERS` counter of notifiers (bits 4..8), see `chan.rs`.
const RX_BITS: RxBits = RxBits {
    rx_waiting: RX_WAITING,
    waker_one: 1 << 4,
    waker_mask: 0xf << 4,
};
const RESERVED_SHIFT: u32 = 8;
const RESERVED_ONE: u64 = 1 << RESERVED_SHIFT;
const RESERVED_MASK: u64 = ((1 << 28) - 1) << RESERVED_SHIFT;
const TAIL_SHIFT: u32 = 36;

/// The largest capacity of a bounded channel (so `reserved` fits 28 bits and `2·cap` 28).
pub(crate) const MAX_CAPACITY: usize = 1 << 26;

fn reserved(state: u64) -> usize {
    ((state & RESERVED_MASK) >> RESERVED_SHIFT) as usize
}

fn tail(state: u64) -> usize {
    (state >> TAIL_SHIFT) as usize
}

/// A claim clears `RX_WAITING`; the claimer wakes the receiver (see `chan.rs`).
fn claim(next: u64) -> u64 {
    RX_BITS.claim(next)
}

fn with_tail(state: u64, tail: usize) -> u64 {
    (state & !(u64::MAX << TAIL_SHIFT)) | ((tail as u64) << TAIL_SHIFT)
}

struct Slot<T> {
    full: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
}

/// A queued sender (see the ground rules).
struct SendWaiter {
    waker: Option<Waker>,
    /// A unit of capacity has been handed to this waiter.
    granted: bool,
}

/// The shared part of a bounded channel.
pub(crate) struct Ring<T> {
    state: AtomicU64,
    cap: usize,
    slots: Box<[Slot<T>]>,
    /// The receiver's next position, in `[0, 2·cap)`. Receiver only.
    head: UnsafeCell<usize>,
    rx_waker: RxWaker,
    send_waiters: Mutex<WaitList<SendWaiter>>,
    /// Live `Sender`s (permits borrow or own a `Sender`, so they count too). The last one to
    /// go sets `TX_GONE`; never goes back up from 0 (see `chan::try_upgrade`).
    pub(crate) tx_count: AtomicUsize,
    /// Live `WeakSender`s. Only reported (`weak_count`): they keep the memory, not the channel.
    pub(crate) weak_count: AtomicUsize,
    /// Notified when the receiver closes, for `Sender::closed`.
    pub(crate) closed_notify: Notify,
}

// SAFETY: values of type `T` move from sender threads to the receiver's thread (`T: Send`);
// every shared cell is accessed per the ground rules, ordered by the state word and the slots'
// `full` flags.
unsafe impl<T: Send> Send for Ring<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for Ring<T> {}

impl<T> Ring<T> {
    pub(crate) fn new(cap: usize) -> Self {
        let slots = (0..cap)
            .map(|_| Slot {
                full: AtomicBool::new(false),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            })
            .collect();
        Ring {
            state: AtomicU64::new(0),
            cap,
            slots,
            head: UnsafeCell::new(0),
            rx_waker: RxWaker::new(),
            send_waiters: Mutex::new(WaitList::new()),
            tx_count: AtomicUsize::new(1),
            weak_count: AtomicUsize::new(0),
            closed_notify: Notify::new(),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// Next position after `pos`, modulo `2·cap`.
    fn next_pos(&self, pos: usize) -> usize {
        if pos + 1 == 2 * self.cap {
            0
        } else {
            pos + 1
        }
    }

    fn slot(&self, pos: usize) -> &Slot<T> {
        &self.slots[if pos >= self.cap { pos - self.cap } else { pos }]
    }

    pub(crate) fn is_rx_closed(&self) -> bool {
        self.state.load(Acquire) & RX_CLOSED != 0
    }

    /// Free capacity now.
    pub(crate) fn available(&self) -> usize {
        self.cap - reserved(self.state.load(Acquire))
    }

    /// Fast path of `try_send`/`send`: claim capacity and a position in one CAS.
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let mut state = self.state.load(Acquire);
        loop {
            if state & RX_CLOSED != 0 {
                return Err(TrySendError::Closed(value));
            }
            if state & TX_WAITING != 0 || reserved(state) == self.cap {
                return Err(TrySendError::Full(value));
            }
            let next = claim(with_tail(state + RESERVED_ONE, self.next_pos(tail(state))));
            match self
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
            {
                Ok(_) => {
                    self.write(tail(state), value, state & RX_WAITING != 0);
                    return Ok(());
                }
                Err(actual) => state = actual,
            }
        }
    }

    /// Takes one unit of capacity (a permit) without a position.
    pub(crate) fn try_reserve(&self) -> Result<(), TrySendError<()>> {
        let mut state = self.state.load(Acquire);
        loop {
            if state & RX_CLOSED != 0 {
                return Err(TrySendError::Closed(()));
            }
            if state & TX_WAITING != 0 || reserved(state) == self.cap {
                return Err(TrySendError::Full(()));
            }
            match self
                .state
                .compare_exchange_weak(state, state + RESERVED_ONE, AcqRel, Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => state = actual,
            }
        }
    }

    /// Sends with capacity already held (a permit): claims a position. Never fails; after
    /// the receiver closed, the message is still queued (and received or dropped with it).
    pub(crate) fn send_reserved(&self, value: T) {
        let mut state = self.state.load(Acquire);
        loop {
            let next = claim(with_tail(state, self.next_pos(tail(state))));
            match self
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
            {
                Ok(_) => return self.write(tail(state), value, state & RX_WAITING != 0),
                Err(actual) => state = actual,
            }
        }
    }

    /// Publishes `value` at the position our CAS claimed.
    fn write(&self, pos: usize, value: T, wake_rx: bool) {
        let slot = self.slot(pos);
        // SAFETY: our CAS claimed `pos`, and `reserved ≤ cap` means the receiver has finished
        // with this slot (it cleared `full` before the `fetch_sub` we synchronised with).
        unsafe { (*slot.value.get()).write(value) };
        if wake_rx {
            // SAFETY: our claim CAS cleared RX_WAITING, and `pos` is published only below.
            unsafe { self.rx_waker.wake_claimed() };
        }
        slot.full.store(true, Release);
    }

    /// Returns one unit of capacity: from the receiver after a message, or from an unused
    /// permit or a cancelled granted sender (`from_rx == false`).
    pub(crate) fn release_unit(&self, from_rx: bool) {
        let prev = self.state.fetch_sub(RESERVED_ONE, AcqRel);
        if prev & TX_WAITING != 0 {
            self.grant_slow();
        }
        if !from_rx && prev & RX_WAITING != 0 {
            // A closed receiver waits for outstanding permits before it ends.
            self.rx_waker.notify(&self.state, RX_BITS);
        }
    }

    /// Hands the unit just freed to the first queued sender, if any is still queued.
    #[cold]
    fn grant_slow(&self) {
        let waker = {
            let mut waiters = self.send_waiters.lock();
            let state = self.state.load(Acquire);
            if state & TX_WAITING == 0 {
                return; // the queue emptied meanwhile: the unit stays free
            }
            if state & RX_CLOSED != 0 {
                return; // the queued senders are failing (`close_rx` woke them): keep it free
            }
            // Take the unit back for the waiter. TX_WAITING keeps the fast paths off it.
            self.state.fetch_add(RESERVED_ONE, AcqRel);
            let waiter = waiters.detach_front().expect("TX_WAITING with no waiter");
            waiter.granted = true;
            let waker = waiter.waker.take();
            if waiters.is_empty() {
                self.state.fetch_and(!TX_WAITING, AcqRel);
            }
            waker
        };
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Closes the receiving side: sends fail from now on; queued senders are woken to fail.
    pub(crate) fn close_rx(&self) {
        let prev = self.state.fetch_or(RX_CLOSED, AcqRel);
        if prev & RX_CLOSED != 0 {
            return;
        }
        let mut wakers = WakeList::new();
        self.send_waiters
            .lock()
            .for_each_mut(|w| wakers.push_opt(w.waker.take()));
        wakers.wake_all();
        self.closed_notify.notify_waiters();
    }

    /// Called by the last `Sender` to go.
    pub(crate) fn close_tx(&self) {
        let prev = self.state.fetch_or(TX_GONE, AcqRel);
        if prev & RX_WAITING != 0 {
            self.rx_waker.notify(&self.state, RX_BITS);
        }
    }

    /// Messages claimed and not yet received.
    ///
    /// # Safety
    ///
    /// Only the receiver may call this (it reads `head`).
    pub(crate) unsafe fn len(&self) -> usize {
        // SAFETY: the caller is the receiver.
        let head = unsafe { *self.head.get() };
        let tail = tail(self.state.load(Acquire));
        (tail + 2 * self.cap - head) % (2 * self.cap)
    }

    /// Whether the receiver will see no more messages once it has drained the buffer.
    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Acquire) & (RX_CLOSED | TX_GONE) != 0
    }
}

impl<T> RxCore<T> for Ring<T> {
    unsafe fn try_pop(&self) -> Pop<T> {
        // SAFETY: the caller is the single receiver: nobody else touches `head`.
        let head = unsafe { &mut *self.head.get() };
        let slot = self.slot(*head);
        if slot.full.load(Acquire) {
            // SAFETY: `full` (acquire) says the claiming sender wrote the value; it is ours.
            let value = unsafe { (*slot.value.get()).assume_init_read() };
            slot.full.store(false, Relaxed); // ordered before the release in `release_unit`
            *head = self.next_pos(*head);
            self.release_unit(true);
            return Pop::Value(value);
        }
        let state = self.state.load(Acquire);
        if tail(state) != *head {
            Pop::Busy
        } else if state & TX_GONE != 0 || (state & RX_CLOSED != 0 && reserved(state) == 0) {
            Pop::Closed
        } else {
            Pop::Empty
        }
    }

    unsafe fn park(&self, waker: &Waker) -> Park {
        // SAFETY: the caller is the single receiver.
        let head = unsafe { *self.head.get() };
        let verdict = |state: u64| {
            if tail(state) != head {
                Some(Park::Retry)
            } else if state & TX_GONE != 0 || (state & RX_CLOSED != 0 && reserved(state) == 0) {
                Some(Park::Closed)
            } else {
                None
            }
        };
        // SAFETY: the caller is the single receiver.
        unsafe { self.rx_waker.park(&self.state, waker, RX_BITS, verdict) }
    }
}

impl<T> Drop for Ring<T> {
    fn drop(&mut self) {
        // Every handle is gone, so every claimed position has been published: drop what the
        // receiver did not take.
        for slot in self.slots.iter_mut() {
            if *slot.full.get_mut() {
                // SAFETY: `full` means an initialised value nobody took; we have `&mut self`.
                unsafe { slot.value.get_mut().assume_init_drop() };
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Init,
    Waiting(Key),
    Done,
}

/// Waits for one unit of capacity (FIFO among waiting senders).
pub(crate) struct Reserve<'a, T> {
    ring: &'a Ring<T>,
    step: Step,
}

impl<'a, T> Reserve<'a, T> {
    pub(crate) fn new(ring: &'a Ring<T>) -> Self {
        Reserve {
            ring,
            step: Step::Init,
        }
    }

    /// Slow path of the first poll: take capacity under the lock, or queue.
    fn queue(&mut self, waker: &Waker) -> Poll<Result<(), ()>> {
        let ring = self.ring;
        let mut waiters = ring.send_waiters.lock();
        let mut state = ring.state.load(Acquire);
        loop {
            if state & RX_CLOSED != 0 {
                return Poll::Ready(Err(()));
            }
            let free = state & TX_WAITING == 0 && reserved(state) < ring.cap;
            let next = if free {
                state + RESERVED_ONE
            } else {
                state | TX_WAITING
            };
            match ring
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
            {
                Ok(_) if free => return Poll::Ready(Ok(())),
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        let key = waiters.push_back(SendWaiter {
            waker: Some(waker.clone()),
            granted: false,
        });
        self.step = Step::Waiting(key);
        Poll::Pending
    }
}

impl<T> Future for Reserve<'_, T> {
    /// `Err(())`: the receiver is closed.
    type Output = Result<(), ()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let res = match this.step {
            Step::Init => match this.ring.try_reserve() {
                Ok(()) => Poll::Ready(Ok(())),
                Err(TrySendError::Closed(())) => Poll::Ready(Err(())),
                Err(TrySendError::Full(())) => this.queue(cx.waker()),
            },
            Step::Waiting(key) => {
                let ring = this.ring;
                let mut waiters = ring.send_waiters.lock();
                let waiter = waiters.get_mut(key).expect("send waiter vanished");
                if ring.is_rx_closed() {
                    // Closed: fail, even if room had been handed to us before the close.
                    let granted = waiters.remove(key).is_some_and(|w| w.granted);
                    if waiters.is_empty() {
                        ring.state.fetch_and(!TX_WAITING, AcqRel);
                    }
                    drop(waiters);
                    if granted {
                        ring.release_unit(false);
                    }
                    Poll::Ready(Err(()))
                } else if waiter.granted {
                    waiters.remove(key);
                    Poll::Ready(Ok(()))
                } else {
                    match &mut waiter.waker {
                        Some(w) if w.will_wake(cx.waker()) => {}
                        slot => *slot = Some(cx.waker().clone()),
                    }
                    Poll::Pending
                }
            }
            Step::Done => panic!("`Reserve` polled after completion"),
        };
        if res.is_ready() {
            this.step = Step::Done;
        }
        res
    }
}

impl<T> Drop for Reserve<'_, T> {
    fn drop(&mut self) {
        let Step::Waiting(key) = self.step else {
            return;
        };
        let ring = self.ring;
        let granted = {
            let mut waiters = ring.send_waiters.lock();
            let waiter = waiters.remove(key).expect("send waiter vanished");
            if !waiter.granted && waiters.is_empty() {
                ring.state.fetch_and(!TX_WAITING, AcqRel);
            }
            waiter.granted
        };
        if granted {
            // Capacity was handed to us and will never be used: pass it on.
            ring.release_unit(false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_packing() {
        let s = with_tail((RESERVED_ONE * 5) | RX_WAITING, 77);
        assert_eq!(tail(s), 77);
        assert_eq!(reserved(s), 5);
        assert_eq!(s & RX_WAITING, RX_WAITING);
        let max = with_tail(RESERVED_ONE * MAX_CAPACITY as u64, 2 * MAX_CAPACITY - 1);
        assert_eq!(reserved(max), MAX_CAPACITY);
        assert_eq!(tail(max), 2 * MAX_CAPACITY - 1);
    }

    #[test]
    fn positions_wrap_at_twice_capacity() {
        let ring = Ring::<u32>::new(3);
        // SAFETY: this test is the only receiver.
        unsafe {
            for round in 0..10u32 {
                ring.try_send(round).unwrap();
                ring.try_send(round + 100).unwrap();
                assert_eq!(ring.len(), 2);
                assert!(matches!(ring.try_pop(), Pop::Value(v) if v == round));
                assert!(matches!(ring.try_pop(), Pop::Value(v) if v == round + 100));
                assert!(matches!(ring.try_pop(), Pop::Empty));
            }
        }
        assert_eq!(reserved(ring.state.load(SeqCst)), 0);
    }
}
