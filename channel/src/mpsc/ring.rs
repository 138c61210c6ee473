//! The bounded core: a ring of `cap` slots, one 64-bit state word and the receiver's count
//! (here be dragons).
//!
//! # The state word
//!
//! ```text
//!  63  62  61        36 35               8 7      4    3        2          1          0
//! ┌───┬───┬────────────┬──────────────────┬─────────┬───────┬──────────┬──────────┬─────────┐
//! │ 0 │lap│ tail index │taken (mod 2^28)  │ WAKERS  │TX_GONE│TX_WAITING│RX_WAITING│RX_CLOSED│
//! └───┴───┴────────────┴──────────────────┴─────────┴───────┴──────────┴──────────┴─────────┘
//! ```
//!
//! * `tail` is the next position to claim: a slot index below `cap` (bits 36..=61) and a lap
//!   bit (bit 62) that flips each time the index wraps to 0, so the receiver can tell
//!   "nothing claimed" (`tail == head`) from "all `cap` claimed" (same index, other lap),
//!   and finding a slot is a mask.
//! * `taken` counts units of capacity handed out, modulo 2^28: one per message claimed and
//!   one per permit outstanding (a permit given back subtracts its unit).
//! * `released` (a separate word, written only by the receiver) counts messages received,
//!   modulo 2^28. Capacity in use is `taken − released ≤ cap`, hence positions claimed and
//!   not yet received are at most `cap`, and a claimed slot is always free.
//!
//! # Per message
//!
//! * `send`/`try_send` fast path: loads of `released` and the state, then **one CAS**
//!   (`taken+1`, `tail+1`), a plain write of the value and a release store of the slot's
//!   `full` flag. If the CAS saw `RX_WAITING`, it cleared it, and the sender wakes the
//!   receiver by reference just before that store (no further RMW; see `chan.rs`).
//! * receive: an acquire load of the slot's `full` flag, a read, a release **store** of
//!   `released + 1`, then a load of the state to see whether senders wait for the room.
//!   **No RMW.** The store and that load race with a sender starting to wait (it sets
//!   `TX_WAITING`, then loads `released`): the pair is ordered by an asymmetric fence (see
//!   `lock_free/fence.rs`), free for the receiver and a `membarrier` call for a sender that is
//!   about to sleep, after which it grants itself (or the senders queued before it) whatever
//!   room it finds.
//! * `reserve` is one CAS (`taken+1`); sending through the permit is one CAS (`tail+1`).
//!
//! The state word is a [`BiasedWord`]: on the thread that created the channel, until another
//! thread updates it, each of its CASes and other RMWs is a plain load and store (see
//! `lock_free/biased.rs`). The protocol below does not depend on which: the owner's plain update is
//! atomic with respect to every other thread's, as they revoke the bias before their first.
//!
//! # Ground rules
//!
//! * A slot's value is written only by the sender whose CAS claimed its position, before
//!   it sets `full`; it is read only by the receiver after it saw `full`, which then clears
//!   `full` *before* its release store of `released` lets a sender reuse the slot.
//! * Every increment of `taken` is a CAS made after an acquire load of `released` that
//!   showed the room, so the CAS chain on the state word carries, to every later claimer,
//!   a `released` value that covers its slot.
//! * `released` is loaded *before* the state word: a message counted in `released` was
//!   claimed before that load, so the state loaded after it counts it in `taken` and
//!   `taken − released` never underflows.
//! * `head` and `released` are written only by the receiver (or by `Drop`, which has `&mut`).
//! * `TX_WAITING` is set and cleared only with `send_waiters` locked; while it is set the fast
//!   paths refuse to take capacity (no barging past queued senders), and freed capacity is
//!   handed to the first queued sender (*granted*) instead of left free.
//! * `TX_GONE` is set once, by the last `Sender` to drop; `RX_CLOSED` once, by the receiver.

use std::future::Future;
use std::mem::MaybeUninit;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use weft_core::sync::atomic::{AtomicBool, AtomicUsize, Ordering::*};
use weft_core::sync::UnsafeCell;

use super::chan::{Park, Pop, RxBits, RxCore, RxWaker};
use super::error::TrySendError;
use crate::lock_free::{AsymFence, BiasedLock, BiasedWord};
use crate::notify::Notify;
use crate::waiters::{Key, WaitList, WakeList};

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
const TAKEN_SHIFT: u32 = 8;
/// `taken` and `released` count modulo 2^28.
const COUNT_MASK: usize = (1 << 28) - 1;
const TAKEN_MASK: u64 = (COUNT_MASK as u64) << TAKEN_SHIFT;
const TAIL_SHIFT: u32 = 36;

/// The largest capacity of a bounded channel (so a slot index and its lap bit fit the 28 bits
/// above `taken`).
pub(crate) const MAX_CAPACITY: usize = 1 << 26;
/// The lap bit of a position (see the state word); below it, the slot index.
const LAP: usize = MAX_CAPACITY;
const INDEX_MASK: usize = LAP - 1;

fn taken(state: u64) -> usize {
    ((state & TAKEN_MASK) >> TAKEN_SHIFT) as usize
}

/// `state` with `taken` replaced (modulo 2^28).
fn with_taken(state: u64, taken: usize) -> u64 {
    (state & !TAKEN_MASK) | (((taken & COUNT_MASK) as u64) << TAKEN_SHIFT)
}

/// `state` with one more unit of capacity taken.
fn take_unit(state: u64) -> u64 {
    take_units(state, 1)
}

/// `state` with `n` more units of capacity taken.
fn take_units(state: u64, n: usize) -> u64 {
    with_taken(state, taken(state) + n)
}

/// Capacity in use: `taken − released`, modulo 2^28 (see the ground rules for why it is in
/// `0..=cap` when `released` was loaded first).
fn in_use(state: u64, released: usize) -> usize {
    taken(state).wrapping_sub(released) & COUNT_MASK
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
///
/// A waiter wants `need` units (one for `send` and `reserve`, `n` for `reserve_many(n)`).
/// Units are handed only to the front waiter, one at a time, until it has all it needs; only
/// then is it detached and woken. So a waiter holding part of its units is always at the
/// front, and waiters never hold part of the capacity each while waiting for the rest.
struct SendWaiter {
    waker: Option<Waker>,
    /// Units of capacity wanted.
    need: usize,
    /// Units of capacity handed to this waiter so far (`granted == need`: done).
    granted: usize,
}

/// The shared part of a bounded channel.
pub(crate) struct Ring<T> {
    state: BiasedWord,
    cap: usize,
    slots: Box<[Slot<T>]>,
    /// The receiver's next position (slot index and lap bit, as `tail`). Receiver only.
    head: UnsafeCell<usize>,
    /// Messages received, modulo 2^28. Stored (release) only by the receiver.
    released: AtomicUsize,
    /// Orders the receiver's store of `released` before its check for waiting senders.
    fence: AsymFence,
    rx_waker: RxWaker,
    send_waiters: BiasedLock<WaitList<SendWaiter>>,
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
            state: BiasedWord::new(0),
            cap,
            slots,
            head: UnsafeCell::new(0),
            released: AtomicUsize::new(0),
            fence: AsymFence::new(),
            rx_waker: RxWaker::new(),
            send_waiters: BiasedLock::new(WaitList::new()),
            tx_count: AtomicUsize::new(1),
            weak_count: AtomicUsize::new(0),
            closed_notify: Notify::new(),
        }
    }

    pub(crate) fn capacity(&self) -> usize {
        self.cap
    }

    /// Next position after `pos`: the next index, or index 0 of the next lap.
    #[inline]
    fn next_pos(&self, pos: usize) -> usize {
        if pos & INDEX_MASK == self.cap - 1 {
            (pos & LAP) ^ LAP
        } else {
            pos + 1
        }
    }

    #[inline]
    fn slot(&self, pos: usize) -> &Slot<T> {
        let index = pos & INDEX_MASK;
        debug_assert!(index < self.cap);
        // SAFETY: positions are made only by `next_pos` from 0, whose index stays below `cap`
        // (the length of `slots`).
        unsafe { self.slots.get_unchecked(index) }
    }

    /// `pos` counted in `[0, 2·cap)`, for distances between positions.
    fn linear(&self, pos: usize) -> usize {
        (pos & INDEX_MASK) + if pos & LAP != 0 { self.cap } else { 0 }
    }

    pub(crate) fn is_rx_closed(&self) -> bool {
        self.state.load(Acquire) & RX_CLOSED != 0
    }

    /// Capacity in use as a sender sees it: `released` first (see the ground rules).
    #[inline]
    fn load_in_use(&self) -> (u64, usize) {
        let released = self.released.load(Acquire);
        let state = self.state.load(Acquire);
        (state, in_use(state, released))
    }

    /// Free capacity now.
    pub(crate) fn available(&self) -> usize {
        self.cap.saturating_sub(self.load_in_use().1)
    }

    /// Fast path of `try_send`/`send`: claim capacity and a position in one CAS.
    #[inline(always)]
    pub(crate) fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        let (mut state, mut used) = self.load_in_use();
        loop {
            if state & RX_CLOSED != 0 {
                return Err(TrySendError::Closed(value));
            }
            if state & TX_WAITING != 0 || used >= self.cap {
                return Err(TrySendError::Full(value));
            }
            let next = claim(with_tail(take_unit(state), self.next_pos(tail(state))));
            match self
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
            {
                Ok(_) => {
                    self.write(tail(state), value, state & RX_WAITING != 0);
                    return Ok(());
                }
                Err(_) => (state, used) = self.load_in_use(),
            }
        }
    }

    /// Takes one unit of capacity (a permit) without a position.
    pub(crate) fn try_reserve(&self) -> Result<(), TrySendError<()>> {
        self.try_reserve_n(1)
    }

    /// Takes `n` units of capacity at once, or none.
    pub(crate) fn try_reserve_n(&self, n: usize) -> Result<(), TrySendError<()>> {
        loop {
            let (state, used) = self.load_in_use();
            if state & RX_CLOSED != 0 {
                return Err(TrySendError::Closed(()));
            }
            if n == 0 {
                return Ok(());
            }
            if state & TX_WAITING != 0 || n > self.cap - used.min(self.cap) {
                return Err(TrySendError::Full(()));
            }
            let next = take_units(state, n);
            if self
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
                .is_ok()
            {
                return Ok(());
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
    #[inline]
    fn write(&self, pos: usize, value: T, wake_rx: bool) {
        let slot = self.slot(pos);
        // SAFETY: our CAS claimed `pos`, and `taken − released ≤ cap` for a `released` our
        // CAS chain synchronised with: the receiver has finished with this slot (it cleared
        // `full` before storing that `released`).
        unsafe { (*slot.value.with_mut(|p| p)).write(value) };
        let woke = match wake_rx {
            // SAFETY: our claim CAS cleared RX_WAITING, and `pos` is published only below.
            true => unsafe { self.rx_waker.wake_claimed() },
            false => Ok(()),
        };
        slot.full.store(true, Release);
        if let Err(panic) = woke {
            std::panic::resume_unwind(panic);
        }
    }

    /// Drops the receiver's registered waker if it can (see `RxWaker::release`).
    ///
    /// # Safety
    ///
    /// Only the receiver may call this.
    pub(crate) unsafe fn release_rx_waker(&self) {
        // SAFETY: the caller is the receiver.
        unsafe { self.rx_waker.release(&self.state, RX_BITS) }
    }

    /// The receiver's side of a message received: frees its unit of capacity with a plain
    /// store, then hands it to a queued sender if one waits.
    #[inline]
    fn rx_release(&self) {
        // Lets a sender on this same thread skip the barrier when it starts waiting.
        self.fence.light_start();
        let released = self.released.load(Relaxed); // only we store it
        self.released
            .store(released.wrapping_add(1) & COUNT_MASK, Release);
        // Pairs with the heavy fence of a sender that set TX_WAITING and will then reload
        // `released` (see `lock_free/fence.rs`): one of us sees the other's write.
        self.fence.light();
        if self.state.load(Relaxed) & TX_WAITING != 0 {
            self.grant_slow();
        }
    }

    /// Gives back one unit of capacity from the sending side: an unused permit, or a
    /// cancelled or failed sender that had been granted one.
    pub(crate) fn return_unit(&self) {
        self.return_units(1);
    }

    /// Gives back `n` units of capacity from the sending side (see `return_unit`).
    pub(crate) fn return_units(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut state = self.state.load(Acquire);
        let next = loop {
            let next = with_taken(state, taken(state).wrapping_sub(n));
            match self
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
            {
                Ok(_) => break next,
                Err(actual) => state = actual,
            }
        };
        if state & TX_WAITING != 0 {
            self.grant_slow();
        }
        // A closed receiver waits for the outstanding permits before it ends: wake it when
        // the last one comes back (it sleeps, so `released` is its last store, and the CAS
        // above read a state written after it).
        if state & RX_WAITING != 0
            && (state & RX_CLOSED == 0 || in_use(next, self.released.load(Acquire)) == 0)
        {
            self.rx_waker.notify(&self.state, RX_BITS);
        }
    }

    /// Hands free capacity to queued senders, first come first served.
    #[cold]
    fn grant_slow(&self) {
        let mut wakers = WakeList::new();
        self.grant_locked(&mut self.send_waiters.lock(), &mut wakers);
        wakers.wake_all();
    }

    /// With `send_waiters` locked: while senders are queued and capacity is free, takes a
    /// unit for the first queued sender; a sender that has all it needs is detached from the
    /// queue and its waker collected.
    fn grant_locked(&self, waiters: &mut WaitList<SendWaiter>, wakers: &mut WakeList) {
        loop {
            let (state, used) = self.load_in_use();
            if state & TX_WAITING == 0 || state & RX_CLOSED != 0 || used >= self.cap {
                // Nobody queued; or the queued senders are failing (`close_rx` woke them);
                // or no room: the unit stays where it is.
                return;
            }
            // TX_WAITING keeps the fast paths off the unit we take.
            let next = take_unit(state);
            if self
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
                .is_err()
            {
                continue;
            }
            let (_, front) = waiters.front_mut().expect("TX_WAITING with no waiter");
            front.granted += 1;
            if front.granted < front.need {
                continue;
            }
            let waiter = waiters.detach_front().expect("the front waiter is there");
            wakers.push_opt(waiter.waker.take());
            if waiters.is_empty() {
                self.state.fetch_and(!TX_WAITING, AcqRel);
                return;
            }
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
        let head = unsafe { *self.head.with(|p| p) };
        let tail = tail(self.state.load(Acquire));
        (self.linear(tail) + 2 * self.cap - self.linear(head)) % (2 * self.cap)
    }

    /// Capacity in use as the receiver sees it (exact: it wrote `released`, and every message
    /// it received was claimed before `state` was loaded).
    fn rx_in_use(&self, state: u64) -> usize {
        in_use(state, self.released.load(Relaxed))
    }

    /// Whether the receiver will see no more messages once it has drained the buffer.
    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Acquire) & (RX_CLOSED | TX_GONE) != 0
    }
}

impl<T> RxCore<T> for Ring<T> {
    #[inline]
    unsafe fn try_pop(&self) -> Pop<T> {
        // SAFETY: the caller is the single receiver: nobody else touches `head`.
        let head = unsafe { &mut *self.head.with_mut(|p| p) };
        let slot = self.slot(*head);
        if slot.full.load(Acquire) {
            // SAFETY: `full` (acquire) says the claiming sender wrote the value; it is ours.
            let value = unsafe { (*slot.value.with_mut(|p| p)).assume_init_read() };
            slot.full.store(false, Relaxed); // ordered before the release in `rx_release`
            *head = self.next_pos(*head);
            self.rx_release();
            return Pop::Value(value);
        }
        let state = self.state.load(Acquire);
        if tail(state) != *head {
            Pop::Busy
        } else if state & TX_GONE != 0 || (state & RX_CLOSED != 0 && self.rx_in_use(state) == 0) {
            Pop::Closed
        } else {
            Pop::Empty
        }
    }

    unsafe fn park(&self, waker: &Waker) -> Park {
        // SAFETY: the caller is the single receiver.
        let head = unsafe { *self.head.with(|p| p) };
        let verdict = |state: u64| {
            if tail(state) != head {
                Some(Park::Retry)
            } else if state & TX_GONE != 0 || (state & RX_CLOSED != 0 && self.rx_in_use(state) == 0)
            {
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
            if slot.full.load(Relaxed) {
                // SAFETY: `full` means an initialised value nobody took; we have `&mut self`.
                unsafe { slot.value.with_mut(|p| (*p).assume_init_drop()) };
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

/// Waits for units of capacity (FIFO among waiting senders): one, or `n` for
/// `reserve_many`.
pub(crate) struct Reserve<'a, T> {
    ring: &'a Ring<T>,
    need: usize,
    step: Step,
}

impl<'a, T> Reserve<'a, T> {
    pub(crate) fn new(ring: &'a Ring<T>) -> Self {
        Reserve::many(ring, 1)
    }

    /// Waits for `need` units at once; `need` is at most the capacity and not 0.
    pub(crate) fn many(ring: &'a Ring<T>, need: usize) -> Self {
        debug_assert!(need >= 1 && need <= ring.cap);
        Reserve {
            ring,
            need,
            step: Step::Init,
        }
    }

    /// Slow path of the first poll: take capacity under the lock, or queue.
    fn queue(&mut self, waker: &Waker) -> Poll<Result<(), ()>> {
        let ring = self.ring;
        let mut waiters = ring.send_waiters.lock();
        let set_waiting = loop {
            let (state, used) = ring.load_in_use();
            if state & RX_CLOSED != 0 {
                return Poll::Ready(Err(()));
            }
            if state & TX_WAITING != 0 {
                break false; // queue behind the senders already waiting
            }
            let free = self.need <= ring.cap - used.min(ring.cap);
            let next = if free {
                take_units(state, self.need)
            } else {
                state | TX_WAITING
            };
            match ring
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
            {
                Ok(_) if free => return Poll::Ready(Ok(())),
                Ok(_) => break true,
                Err(_) => {}
            }
        };
        let key = waiters.push_back(SendWaiter {
            waker: None,
            need: self.need,
            granted: 0,
        });
        let mut wakers = WakeList::new();
        if set_waiting {
            // We set TX_WAITING after seeing the channel full; the receiver frees room with a
            // plain store and then checks TX_WAITING. The heavy side of the fence pair makes
            // sure that it saw our bit or we see its store below: room freed in between is
            // granted here, to the queue in order (which may be us).
            ring.fence.heavy();
            ring.grant_locked(&mut waiters, &mut wakers);
        }
        let waiter = waiters.get_mut(key).expect("send waiter vanished");
        let res = if waiter.granted == waiter.need {
            waiters.remove(key);
            Poll::Ready(Ok(()))
        } else {
            waiter.waker = Some(waker.clone());
            self.step = Step::Waiting(key);
            Poll::Pending
        };
        drop(waiters);
        wakers.wake_all();
        res
    }
}

impl<T> Future for Reserve<'_, T> {
    /// `Err(())`: the receiver is closed.
    type Output = Result<(), ()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let res = match this.step {
            Step::Init => match this.ring.try_reserve_n(this.need) {
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
                    let granted = waiters.remove(key).map_or(0, |w| w.granted);
                    if waiters.is_empty() {
                        ring.state.fetch_and(!TX_WAITING, AcqRel);
                    }
                    drop(waiters);
                    ring.return_units(granted);
                    Poll::Ready(Err(()))
                } else if waiter.granted == waiter.need {
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
    #[inline]
    fn drop(&mut self) {
        // Inline, as every `send` drops one: only a queued waiter has anything to undo.
        if let Step::Waiting(key) = self.step {
            self.leave_queue(key);
        }
    }
}

impl<T> Reserve<'_, T> {
    /// Drop of a queued waiter: leave the queue, passing on room handed to us.
    #[cold]
    #[inline(never)]
    fn leave_queue(&mut self, key: Key) {
        let ring = self.ring;
        let granted = {
            let mut waiters = ring.send_waiters.lock();
            let waiter = waiters.remove(key).expect("send waiter vanished");
            if waiter.granted < waiter.need && waiters.is_empty() {
                ring.state.fetch_and(!TX_WAITING, AcqRel);
            }
            waiter.granted
        };
        // Capacity was handed to us and will never be used: pass it on.
        ring.return_units(granted);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_packing() {
        let s = with_tail(with_taken(RX_WAITING, 5), 77);
        assert_eq!(tail(s), 77);
        assert_eq!(taken(s), 5);
        assert_eq!(s & RX_WAITING, RX_WAITING);
        let max = with_tail(with_taken(0, COUNT_MASK), 2 * MAX_CAPACITY - 1);
        assert_eq!(taken(max), COUNT_MASK);
        assert_eq!(tail(max), 2 * MAX_CAPACITY - 1);
        // `taken` wraps within its field, and `in_use` across the wrap.
        let wrapped = with_taken(max, taken(max) + 1);
        assert_eq!(taken(wrapped), 0);
        assert_eq!(tail(wrapped), 2 * MAX_CAPACITY - 1);
        assert_eq!(in_use(with_taken(0, 3), COUNT_MASK - 1), 5);
    }

    #[test]
    fn positions_wrap_with_a_lap_bit() {
        let ring = Ring::<u32>::new(3);
        let mut pos = 0;
        let seen: Vec<usize> = (0..7)
            .map(|_| {
                pos = ring.next_pos(pos);
                pos
            })
            .collect();
        assert_eq!(seen, [1, 2, LAP, LAP + 1, LAP + 2, 0, 1]);
        assert_eq!(ring.linear(LAP + 2), 5);
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
            // Full (same index as the head, the other lap), at every offset.
            for round in 0..4u32 {
                for i in 0..3 {
                    ring.try_send(round * 10 + i).unwrap();
                }
                assert_eq!(ring.len(), 3);
                assert!(matches!(ring.try_send(99), Err(TrySendError::Full(99))));
                for i in 0..3 {
                    assert!(matches!(ring.try_pop(), Pop::Value(v) if v == round * 10 + i));
                }
                ring.try_send(7).unwrap(); // shift the offset by one each round
                assert!(matches!(ring.try_pop(), Pop::Value(7)));
            }
        }
        assert_eq!(ring.load_in_use().1, 0);
    }
}
