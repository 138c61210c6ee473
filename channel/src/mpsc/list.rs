//! The unbounded core: a linked list of blocks of slots (here be dragons).
//!
//! The layout follows crossbeam-channel's `list` flavour, with the receiver's wake-up bit
//! folded into the tail word so that a send stays a single CAS.
//!
//! # The state word
//!
//! `state = index << SHIFT | WAKERS | TX_GONE | RX_WAITING | RX_CLOSED` (`WAKERS`: a 4-bit
//! count of notifiers reading the receiver's waker, see `chan.rs`), where `index` counts
//! positions: each block has `LAP` of them, the last of which (`offset == BLOCK_CAP`) is not a
//! slot but a marker meaning "the next block is being installed".
//!
//! # Per message
//!
//! * send: **one CAS** on `state` (`index+1`, clearing `RX_WAITING`), a plain write of the
//!   value, a wake of the receiver if the CAS saw `RX_WAITING`, and a release store of the
//!   slot's `full` flag. Once per block (every 31 messages) the sender that takes the block's last
//!   slot also installs the next block: a `fetch_add` to skip the marker and a `swap` to take
//!   a recycled block (an allocation only if none is spare).
//! * receive: an acquire load of the slot's `full` flag and a read: **no RMW at all**. Once
//!   per block the receiver recycles the finished block into `spare` (one `swap`).
//!
//! The state word is a [`BiasedWord`]: on the thread that created the channel, until another
//! thread updates it, its CAS and `fetch_*`s are plain loads and stores (see
//! `lock_free/biased.rs`); the protocol is the same either way.
//!
//! # Ground rules
//!
//! * A slot is written only by the sender whose CAS claimed its position, and read only by the
//!   receiver after it saw `full`.
//! * A sender dereferences `tail_block` only after its CAS succeeded with the index it read
//!   *before* loading `tail_block`; indices only grow (61 bits never wrap in practice), so a
//!   successful CAS proves the block was the tail block for that index. The installer stores
//!   `tail_block` before its `fetch_add` moves the index past the marker.
//! * The installer links `block.next` before publishing its own (last) slot of `block`; so the
//!   receiver, having read that slot, finds `next` set, and no sender touches `block` again:
//!   the receiver may recycle it.
//! * `rx` (head position and block) is touched only by the receiver, or by `Drop`.

use std::mem::MaybeUninit;
use std::ptr;
use std::task::Waker;
use weft_core::sync::atomic::{AtomicBool, AtomicPtr, AtomicUsize, Ordering::*};
use weft_core::sync::UnsafeCell;

use super::chan::{Park, Pop, RxBits, RxCore, RxWaker};
use crate::lock_free::{Backoff, BiasedWord};
use crate::notify::Notify;

const RX_CLOSED: u64 = 1 << 0;
const RX_WAITING: u64 = 1 << 1;
const TX_GONE: u64 = 1 << 2;
/// `RX_WAITING` and the 4-bit `WAKERS` counter of notifiers (bits 3..7), see `chan.rs`.
const RX_BITS: RxBits = RxBits {
    rx_waiting: RX_WAITING,
    waker_one: 1 << 3,
    waker_mask: 0xf << 3,
};
const SHIFT: u32 = 7;
/// Slots per block.
const BLOCK_CAP: usize = 31;
/// Positions per block: the slots plus the marker.
const LAP: usize = 32;

fn index(state: u64) -> u64 {
    state >> SHIFT
}

fn offset(index: u64) -> usize {
    (index % LAP as u64) as usize
}

struct Slot<T> {
    full: AtomicBool,
    value: UnsafeCell<MaybeUninit<T>>,
}

struct Block<T> {
    next: AtomicPtr<Block<T>>,
    slots: [Slot<T>; BLOCK_CAP],
}

impl<T> Block<T> {
    fn alloc() -> *mut Block<T> {
        Box::into_raw(Box::new(Block {
            next: AtomicPtr::new(ptr::null_mut()),
            slots: std::array::from_fn(|_| Slot {
                full: AtomicBool::new(false),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            }),
        }))
    }
}

/// The receiver's position.
struct RxPos<T> {
    index: u64,
    block: *mut Block<T>,
}

/// The shared part of an unbounded channel.
pub(crate) struct List<T> {
    state: BiasedWord,
    tail_block: AtomicPtr<Block<T>>,
    /// One finished block kept for reuse, so steady traffic does not allocate.
    spare: AtomicPtr<Block<T>>,
    rx: UnsafeCell<RxPos<T>>,
    rx_waker: RxWaker,
    /// Live `UnboundedSender`s. The last one to go sets `TX_GONE`; never goes back up
    /// from 0 (see `chan::try_upgrade`).
    pub(crate) tx_count: AtomicUsize,
    /// Live `WeakUnboundedSender`s. Only reported (`weak_count`).
    pub(crate) weak_count: AtomicUsize,
    pub(crate) closed_notify: Notify,
}

// SAFETY: `T`s move from senders to the receiver (`T: Send`); shared cells and blocks are
// accessed per the ground rules above.
unsafe impl<T: Send> Send for List<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for List<T> {}

impl<T> List<T> {
    pub(crate) fn new() -> Self {
        let first = Block::alloc();
        List {
            state: BiasedWord::new(0),
            tail_block: AtomicPtr::new(first),
            spare: AtomicPtr::new(ptr::null_mut()),
            rx: UnsafeCell::new(RxPos {
                index: 0,
                block: first,
            }),
            rx_waker: RxWaker::new(),
            tx_count: AtomicUsize::new(1),
            weak_count: AtomicUsize::new(0),
            closed_notify: Notify::new(),
        }
    }

    /// A block for the next installation: the spare one if any, else a new one.
    fn take_block(&self) -> *mut Block<T> {
        let spare = self.spare.swap(ptr::null_mut(), Acquire);
        if spare.is_null() {
            Block::alloc()
        } else {
            spare
        }
    }

    /// Keeps a finished (all slots empty, `next` null) block for reuse, or frees it.
    fn recycle(&self, block: *mut Block<T>) {
        let old = self.spare.swap(block, AcqRel);
        if !old.is_null() {
            // SAFETY: a block in `spare` is reachable from nowhere else; we just took it out.
            drop(unsafe { Box::from_raw(old) });
        }
    }

    /// Sends `value`; gives it back if the receiver is closed.
    pub(crate) fn push(&self, value: T) -> Result<(), T> {
        let mut backoff = Backoff::new();
        let mut state = self.state.load(Acquire);
        let mut block = self.tail_block.load(Acquire);
        let mut next_block: *mut Block<T> = ptr::null_mut();
        loop {
            if state & RX_CLOSED != 0 {
                if !next_block.is_null() {
                    self.recycle(next_block);
                }
                return Err(value);
            }
            let offset = offset(index(state));
            if offset == BLOCK_CAP {
                // Another sender is installing the next block: a few instructions away.
                backoff.snooze();
                state = self.state.load(Acquire);
                block = self.tail_block.load(Acquire);
                continue;
            }
            if offset + 1 == BLOCK_CAP && next_block.is_null() {
                // Prepare before the CAS, to keep the marker window short.
                next_block = self.take_block();
            }
            let next = state + (1 << SHIFT);
            // A claim clears RX_WAITING; we then wake the receiver (see `chan.rs`).
            let next = RX_BITS.claim(next);
            match self
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
            {
                Ok(_) => {
                    if offset + 1 == BLOCK_CAP {
                        let new = std::mem::replace(&mut next_block, ptr::null_mut());
                        self.tail_block.store(new, Release);
                        self.state.fetch_add(1 << SHIFT, Release);
                        // SAFETY: our CAS claimed a slot of `block` (ground rules), so the
                        // receiver cannot recycle it before we publish that slot below.
                        unsafe { (*block).next.store(new, Release) };
                    }
                    // SAFETY: as above; the slot at `offset` is ours to write.
                    let slot = unsafe { &(*block).slots[offset] };
                    // SAFETY: we claimed this slot; the receiver reads it only after `full`.
                    unsafe { (*slot.value.with_mut(|p| p)).write(value) };
                    let woke = match state & RX_WAITING != 0 {
                        // SAFETY: our claim CAS cleared RX_WAITING, and the slot is
                        // published only below.
                        true => unsafe { self.rx_waker.wake_claimed() },
                        false => Ok(()),
                    };
                    slot.full.store(true, Release);
                    if !next_block.is_null() {
                        self.recycle(next_block);
                    }
                    if let Err(panic) = woke {
                        std::panic::resume_unwind(panic);
                    }
                    return Ok(());
                }
                Err(actual) => {
                    state = actual;
                    block = self.tail_block.load(Acquire);
                }
            }
        }
    }

    pub(crate) fn is_rx_closed(&self) -> bool {
        self.state.load(Acquire) & RX_CLOSED != 0
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Acquire) & (RX_CLOSED | TX_GONE) != 0
    }

    pub(crate) fn close_rx(&self) {
        let prev = self.state.fetch_or(RX_CLOSED, AcqRel);
        if prev & RX_CLOSED == 0 {
            self.closed_notify.notify_waiters();
        }
    }

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
    /// Only the receiver may call this.
    pub(crate) unsafe fn len(&self) -> usize {
        // SAFETY: the caller is the receiver.
        let head = unsafe { (*self.rx.with(|p| p)).index };
        let tail = index(self.state.load(Acquire));
        let positions = tail - head;
        // Discount the markers between the two.
        let markers = tail / LAP as u64 - head / LAP as u64;
        (positions - markers) as usize
    }

    fn nothing_more(state: u64) -> bool {
        state & (TX_GONE | RX_CLOSED) != 0
    }
}

impl<T> RxCore<T> for List<T> {
    unsafe fn try_pop(&self) -> Pop<T> {
        // SAFETY: the caller is the single receiver: `rx` is ours.
        let rx = unsafe { &mut *self.rx.with_mut(|p| p) };
        let offset = offset(rx.index);
        // SAFETY: the receiver's block stays allocated until the receiver recycles it.
        let block = unsafe { &*rx.block };
        let slot = &block.slots[offset];
        if slot.full.load(Acquire) {
            // SAFETY: `full` (acquire) says the value is written; it is ours to take.
            let value = unsafe { (*slot.value.with_mut(|p| p)).assume_init_read() };
            slot.full.store(false, Relaxed); // ordered before the `recycle` swap (release)
            rx.index += 1;
            if offset + 1 == BLOCK_CAP {
                // The block's last slot: its installer linked `next` before publishing it.
                let next = block.next.load(Acquire);
                debug_assert!(!next.is_null());
                block.next.store(ptr::null_mut(), Relaxed);
                self.recycle(rx.block);
                rx.block = next;
                rx.index += 1; // skip the marker
            }
            return Pop::Value(value);
        }
        let state = self.state.load(Acquire);
        if index(state) != rx.index {
            Pop::Busy
        } else if Self::nothing_more(state) {
            // Without permits, RX_CLOSED with nothing claimed means nothing more will come.
            Pop::Closed
        } else {
            Pop::Empty
        }
    }

    unsafe fn park(&self, waker: &Waker) -> Park {
        // SAFETY: the caller is the single receiver.
        let head = unsafe { (*self.rx.with(|p| p)).index };
        let verdict = |state: u64| {
            if index(state) != head {
                Some(Park::Retry)
            } else if Self::nothing_more(state) {
                Some(Park::Closed)
            } else {
                None
            }
        };
        // SAFETY: the caller is the single receiver.
        unsafe { self.rx_waker.park(&self.state, waker, RX_BITS, verdict) }
    }
}

impl<T> List<T> {
    /// Drops the receiver's registered waker if it can (see `RxWaker::release`).
    ///
    /// # Safety
    ///
    /// Only the receiver may call this.
    pub(crate) unsafe fn release_rx_waker(&self) {
        // SAFETY: the caller is the receiver.
        unsafe { self.rx_waker.release(&self.state, RX_BITS) }
    }
}

impl<T> Drop for List<T> {
    fn drop(&mut self) {
        // Every handle is gone: every claimed slot is published. Unread slots are `full`;
        // everything else is empty. Walk the chain from the receiver's block.
        // SAFETY: `&mut self`: nobody else can reach the cell.
        let mut block = unsafe { (*self.rx.with_mut(|p| p)).block };
        while !block.is_null() {
            // SAFETY: blocks on the chain are owned by the channel, which we have `&mut` to.
            let mut owned = unsafe { Box::from_raw(block) };
            for slot in owned.slots.iter_mut() {
                if slot.full.load(Relaxed) {
                    // SAFETY: a `full` slot holds an initialised value nobody took.
                    unsafe { slot.value.with_mut(|p| (*p).assume_init_drop()) };
                }
            }
            block = owned.next.load(Relaxed);
        }
        let spare = self.spare.load(Relaxed);
        if !spare.is_null() {
            // SAFETY: the spare block is owned by the channel alone.
            drop(unsafe { Box::from_raw(spare) });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crosses_blocks_and_recycles() {
        let list = List::<usize>::new();
        // SAFETY: this test is the only receiver.
        unsafe {
            for i in 0..(BLOCK_CAP * 5) {
                list.push(i).unwrap();
                assert_eq!(list.len(), 1);
                assert!(matches!(list.try_pop(), Pop::Value(v) if v == i));
            }
            for i in 0..(BLOCK_CAP * 3 + 2) {
                list.push(i).unwrap();
            }
            assert_eq!(list.len(), BLOCK_CAP * 3 + 2);
            for i in 0..(BLOCK_CAP * 2) {
                assert!(matches!(list.try_pop(), Pop::Value(v) if v == i));
            }
        }
        assert!(
            !list.spare.load(SeqCst).is_null(),
            "a finished block is kept"
        );
        // The rest is dropped with the list (checked for leaks under Miri).
    }
}
