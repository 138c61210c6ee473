//! Small internal helpers shared by the primitives.

mod fence;
mod wait_list;

pub(crate) use fence::AsymFence;
pub(crate) use wait_list::{Key, WaitList};

use std::task::Waker;

/// Wakers collected under a lock, to be woken after it is released.
///
/// Holds up to [`WakeList::CAP`] inline so that waking a handful of waiters does not allocate;
/// more spill into a `Vec`.
pub(crate) struct WakeList {
    wakers: [Option<Waker>; WakeList::CAP],
    len: usize,
    spill: Vec<Waker>,
}

impl WakeList {
    /// Inline capacity: large enough for typical fan-out, small enough for the stack.
    pub(crate) const CAP: usize = 32;

    pub(crate) fn new() -> Self {
        WakeList {
            wakers: std::array::from_fn(|_| None),
            len: 0,
            spill: Vec::new(),
        }
    }

    /// Stores a waker to be woken later.
    pub(crate) fn push(&mut self, waker: Waker) {
        if self.len < Self::CAP {
            self.wakers[self.len] = Some(waker);
            self.len += 1;
        } else {
            self.spill.push(waker);
        }
    }

    /// Stores a waker if there is one.
    pub(crate) fn push_opt(&mut self, waker: Option<Waker>) {
        if let Some(w) = waker {
            self.push(w);
        }
    }

    /// Whether nothing has been collected.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0 && self.spill.is_empty()
    }

    /// Wakes everything collected. Call with no lock held: a waker may run arbitrary code.
    pub(crate) fn wake_all(&mut self) {
        let len = std::mem::replace(&mut self.len, 0);
        for slot in &mut self.wakers[..len] {
            if let Some(w) = slot.take() {
                w.wake();
            }
        }
        for w in std::mem::take(&mut self.spill) {
            w.wake();
        }
    }
}

impl Drop for WakeList {
    fn drop(&mut self) {
        // Wakers collected but never woken (a panic on the way) are woken here rather than
        // lost, so no waiter sleeps forever.
        self.wake_all();
    }
}

/// Exponential backoff for the few places where a thread must wait for another thread to
/// finish a handful of instructions (a sender between claiming a slot and publishing it).
///
/// On one thread these windows can never be observed: there is no `.await` inside them.
pub(crate) struct Backoff {
    step: u32,
}

impl Backoff {
    const SPIN_LIMIT: u32 = 6;

    pub(crate) fn new() -> Self {
        Backoff { step: 0 }
    }

    /// Spins briefly, then yields the thread to the OS scheduler (the other thread may have
    /// been preempted inside its window).
    pub(crate) fn snooze(&mut self) {
        if self.step <= Self::SPIN_LIMIT {
            for _ in 0..1u32 << self.step {
                std::hint::spin_loop();
            }
            self.step += 1;
        } else {
            std::thread::yield_now();
        }
    }

    /// Whether spinning has gone on long enough that the caller should rather yield to its
    /// executor (wake itself and return `Pending`).
    pub(crate) fn is_completed(&self) -> bool {
        self.step > Self::SPIN_LIMIT
    }
}
