//! The wakers of registered timers, shared between the timers of one task.
//!
//! Cloning and dropping a `Waker` are atomic reference-count operations in most executors
//! (weft's included), and they would be most of the cost of registering a timer. So entries
//! do not own wakers: they hold an index into this table, whose slots own one `Waker` each
//! and count their entries with a plain integer. A new registration reuses the most recently
//! used slot when that waker [`will_wake`](std::task::Waker::will_wake) the same task (a task
//! arming many timers in one poll: `join_all` of timeouts, a select loop, a batch), and
//! otherwise clones the waker into a fresh slot, as an owning design would.
//!
//! When several timers sharing a slot fire in the same [`Wheel::process`] round, their task
//! is woken once.
//!
//! [`Wheel::process`]: crate::wheel::Wheel::process

use std::task::Waker;

use weft_core::slab::{Slab, NIL};

/// One shared waker. The slot is freed when `refs` reaches 0.
#[derive(Debug)]
struct Slot {
    waker: Waker,
    /// Entries using this slot.
    refs: u32,
    /// The last process round in which this waker was handed out to be woken.
    woken: u64,
}

/// A table of refcounted wakers (see the module docs). Entries hold a slot's bare index: a
/// slot is vacated only when the last entry using it lets go, so the index stays valid.
#[derive(Debug)]
pub(crate) struct Wakers {
    slots: Slab<Slot>,
    /// The slot the last registration used (`NIL`: none).
    last: u32,
}

impl Wakers {
    pub(crate) fn new() -> Wakers {
        Wakers {
            slots: Slab::new(),
            last: NIL,
        }
    }

    /// A reference to a slot holding `waker` (or one that wakes the same task).
    #[inline]
    pub(crate) fn acquire(&mut self, waker: &Waker) -> u32 {
        if self.last != NIL {
            // `last` is NIL or a slot in use (`release` forgets it when it frees it).
            let slot = self.slots.at_mut(self.last);
            if slot.waker.will_wake(waker) {
                slot.refs += 1;
                return self.last;
            }
        }
        self.acquire_new(waker)
    }

    #[cold]
    #[inline(never)]
    fn acquire_new(&mut self, waker: &Waker) -> u32 {
        let key = self.slots.insert(Slot {
            waker: waker.clone(),
            refs: 1,
            woken: 0,
        });
        self.last = key.index();
        key.index()
    }

    /// Whether slot `index` (`NIL`: none; else a slot in use, held by the caller's entry)
    /// would wake the same task as `waker`.
    #[inline]
    pub(crate) fn will_wake(&self, index: u32, waker: &Waker) -> bool {
        index != NIL && self.slots.at(index).waker.will_wake(waker)
    }

    /// Drops one reference to slot `index` (`NIL`: nothing). Returns the waker if that was
    /// the last one, for the caller to drop once it released the wheel.
    #[inline]
    pub(crate) fn release(&mut self, index: u32) -> Option<Waker> {
        if index == NIL {
            return None;
        }
        let slot = self.slots.at_mut(index);
        slot.refs -= 1;
        if slot.refs > 0 {
            return None;
        }
        if self.last == index {
            self.last = NIL;
        }
        Some(self.slots.remove_at(index).waker)
    }

    /// An entry using slot `index` (`NIL`: none) fired in process round `round`: drops its
    /// reference. Returns what to do once the wheel is released: wake the task (the first
    /// time in this round), or just drop the waker (its last reference went, the task already
    /// woken).
    #[inline]
    pub(crate) fn fire(&mut self, index: u32, round: u64) -> Fired {
        if index == NIL {
            return Fired::Nothing;
        }
        let slot = self.slots.at_mut(index);
        let first = slot.woken != round;
        slot.woken = round;
        if slot.refs > 1 {
            slot.refs -= 1;
            // Other entries still hold the slot: wake through a clone, once per round.
            return if first {
                Fired::Wake(slot.waker.clone())
            } else {
                Fired::Nothing
            };
        }
        match (first, self.release(index)) {
            (true, Some(w)) => Fired::Wake(w),
            (false, Some(w)) => Fired::Drop(w),
            (_, None) => Fired::Nothing,
        }
    }
}

/// What to do with a fired entry's waker (see [`Wakers::fire`]).
#[derive(Debug)]
pub(crate) enum Fired {
    Wake(Waker),
    Drop(Waker),
    Nothing,
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn shares_one_clone_per_task() {
        if cfg!(miri) {
            // Miri gives each use of a waker vtable its own address, so `will_wake` (best
            // effort by contract) is false for clones there, and nothing is shared.
            return;
        }
        let a = Arc::new(Count(AtomicUsize::new(0)));
        let b = Arc::new(Count(AtomicUsize::new(0)));
        let (wa, wb) = (Waker::from(a.clone()), Waker::from(b.clone()));
        let mut t = Wakers::new();
        let i1 = t.acquire(&wa);
        let i2 = t.acquire(&wa);
        assert_eq!(i1, i2);
        assert_eq!(Arc::strong_count(&a), 3, "ours, wa, one shared clone");
        let j = t.acquire(&wb);
        assert_ne!(i1, j);
        assert!(t.will_wake(i1, &wa) && !t.will_wake(i1, &wb));

        // Two entries of task a fire in round 1: one wake.
        let Fired::Wake(w) = t.fire(i1, 1) else {
            panic!("first fire wakes")
        };
        w.wake();
        assert!(
            matches!(t.fire(i2, 1), Fired::Drop(_)),
            "last ref, already woken"
        );
        assert_eq!(a.0.load(Ordering::Relaxed), 1);
        assert_eq!(Arc::strong_count(&a), 2);
        assert!(t.release(j).is_some());
        // The freed slots are reused.
        let k = t.acquire(&wa);
        assert!(k == i1 || k == j);
    }
}
