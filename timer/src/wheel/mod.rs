//! The hierarchical timing wheel.
//!
//! # Layout
//!
//! ```text
//!  tick = 1 ms.   elapsed = the tick the wheel has processed up to.
//!
//!  level 6  [ 64 slots × 64^6 ms (~2.2 years) ]  covers 2^42 ms ≈ 139 years, then rings
//!  level 5  [ 64 slots × 64^5 ms (~12.4 days) ]
//!  level 4  [ 64 slots × 64^4 ms (~4.7 hours) ]
//!  level 3  [ 64 slots × 64^3 ms (~4.4 minutes) ]
//!  level 2  [ 64 slots × 4096 ms ]
//!  level 1  [ 64 slots × 64 ms ]
//!  level 0  [ 64 slots × 1 ms ]
//!  ready    a binary heap of the entries due in tick `elapsed` or earlier, by (deadline, stamp)
//!  slab     every entry (exact deadline in ns, waker index, list links), keyed by index+stamp
//!  wakers   the entries' wakers, one refcounted slot per task (see `entry::wakers`)
//! ```
//!
//! Each slot is a doubly linked list threaded through the slab by index, so **insert** (push
//! on a list head) and **cancel** (unlink, free the slab slot) are O(1); a cancelled entry
//! that already moved to the ready heap is dropped lazily (its heap item goes stale). An
//! entry due at tick `t > elapsed` lives on the level of the highest 6-bit group in which `t`
//! and `elapsed` differ ([`level::level_for`]); when the wheel reaches the start of a slot on
//! level `l > 0`, the slot's entries cascade to lower levels; when it reaches a level-0 slot,
//! they move to the ready heap. Entries due at or before `elapsed` (deadlines in the past)
//! go straight to the ready heap and fire on the next [`Wheel::process`].
//!
//! The wheel keeps exact deadlines (ns since the timer's origin): [`Wheel::process`] fires
//! exactly the entries whose deadline is `<= now`, in deadline order, never one
//! early (ties: insertion order, a reset counting as a new insertion), and
//! [`Wheel::next_deadline`] is exact while the next entry is in the ready heap or
//! on level 0 (within 64 ms), a lower bound (the start of its slot) when it is further out:
//! waking there cascades it, after which the bound is exact.

pub(crate) mod level;
#[cfg(test)]
mod tests;

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::task::Waker;

use crate::entry::wakers::{Fired, Wakers};
use crate::entry::{Entry, Loc};
use level::{level_for, slot_for, Level, NUM_LEVELS};
use weft_core::slab::{Key, Slab, NIL};

/// Nanoseconds per tick.
pub(crate) const NS_PER_TICK: u64 = 1_000_000;

/// An entry waiting in the ready heap. Ordered by (`when`, `stamp`): deadline order, ties in
/// insertion order (stamps grow with each insert and reset).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct ReadyItem {
    when: u64,
    stamp: u64,
    index: u32,
}

/// Wakers collected by [`Wheel::process`], to be used once the wheel is released.
#[derive(Debug, Default)]
pub(crate) struct Expired {
    /// One per task to wake.
    pub(crate) wake: Vec<Waker>,
    /// Last references to drop (their tasks are already in `wake`).
    pub(crate) drop: Vec<Waker>,
    /// The keys that fired, in order (for the tests' model of the wheel).
    #[cfg(test)]
    pub(crate) fired: Vec<Key>,
}

/// The wheel. All times are in ns since the owning timer's origin.
#[derive(Debug)]
pub(crate) struct Wheel {
    slab: Slab<Entry>,
    wakers: Wakers,
    levels: [Level; NUM_LEVELS],
    ready: BinaryHeap<Reverse<ReadyItem>>,
    /// The tick processed up to. Invariant: every entry linked in a slot is due after it, and
    /// every entry in `ready` is due in it or before.
    elapsed: u64,
    /// The `now` of the last [`Wheel::process`] (monotonic).
    now: u64,
    /// Counts [`Wheel::process`] calls, so a task is woken once per call.
    round: u64,
}

impl Wheel {
    pub(crate) fn new() -> Wheel {
        Wheel {
            slab: Slab::new(),
            wakers: Wakers::new(),
            levels: std::array::from_fn(Level::new),
            ready: BinaryHeap::new(),
            elapsed: 0,
            now: 0,
            round: 0,
        }
    }

    /// Live entries.
    pub(crate) fn len(&self) -> usize {
        self.slab.len()
    }

    /// The time of the last [`Wheel::process`].
    pub(crate) fn now(&self) -> u64 {
        self.now
    }

    /// Adds a timer due at `when`, to wake `waker`. O(1) (O(log n) if already due: into the
    /// ready heap).
    #[inline]
    pub(crate) fn insert(&mut self, when: u64, waker: Option<&Waker>) -> Key {
        let waker = waker.map_or(NIL, |w| self.wakers.acquire(w));
        let key = self.slab.insert(Entry {
            when,
            waker,
            prev: NIL,
            next: NIL,
            loc: Loc::Ready,
        });
        self.place(key.index());
        key
    }

    /// Cancels `key`: `Some(waker)` (if its last reference went: to be dropped by the caller
    /// once it released the wheel), `None` if the entry already fired or was cancelled. O(1).
    #[inline]
    pub(crate) fn remove(&mut self, key: Key) -> Option<Option<Waker>> {
        if !self.slab.contains(key) {
            return None;
        }
        self.unlink(key.index());
        let entry = self.slab.remove_at(key.index());
        Some(self.wakers.release(entry.waker))
    }

    /// Moves `key` to a new deadline, as a fresh insertion for the tie order: returns the
    /// entry's new key (the old one goes stale), or `None` if the entry is gone.
    pub(crate) fn reset(&mut self, key: Key, when: u64) -> Option<Key> {
        if !self.slab.contains(key) {
            return None;
        }
        self.unlink(key.index());
        self.slab.at_mut(key.index()).when = when;
        let key = self.slab.restamp(key.index());
        self.place(key.index());
        Some(key)
    }

    /// Makes `key`'s entry wake `waker` unless it already wakes the same task. `None` if the
    /// entry is gone (fired); else `Some(a waker to drop)` once the wheel is released.
    #[inline]
    pub(crate) fn update_waker(&mut self, key: Key, waker: &Waker) -> Option<Option<Waker>> {
        let old = self.slab.get_mut(key)?.waker;
        if self.wakers.will_wake(old, waker) {
            return Some(None);
        }
        let new = self.wakers.acquire(waker);
        self.slab.at_mut(key.index()).waker = new;
        Some(self.wakers.release(old))
    }

    /// The earliest deadline, exact if it is within level 0's span or already due, else the
    /// start of its slot (a lower bound). O(levels), plus a walk of one level-0 slot.
    pub(crate) fn next_deadline(&mut self) -> Option<u64> {
        while let Some(&Reverse(top)) = self.ready.peek() {
            if self.is_live(top) {
                // Ready entries are due in tick `elapsed`; every slotted one after it.
                return Some(top.when);
            }
            self.ready.pop();
        }
        let (level, slot, start) = self.next_expiration()?;
        if level > 0 {
            return Some(start.saturating_mul(NS_PER_TICK));
        }
        let mut min = u64::MAX;
        let mut cur = self.levels[0].head(slot);
        while cur != NIL {
            let entry = self.slab.at(cur);
            min = min.min(entry.when);
            cur = entry.next;
        }
        Some(min)
    }

    /// Advances to `now` and fires every entry due at or before it, in (deadline, insertion)
    /// order, filling `out` with the wakers to wake (a task once per shared waker slot) and to
    /// drop. Returns how many fired. Runs no user code: the caller wakes and drops once it
    /// released the wheel.
    pub(crate) fn process(&mut self, now: u64, out: &mut Expired) -> usize {
        self.round += 1;
        // Time never goes backwards for the wheel.
        self.now = self.now.max(now);
        let now = self.now;
        let now_tick = now / NS_PER_TICK;
        while let Some((level, slot, start)) = self.next_expiration() {
            if start > now_tick {
                break;
            }
            self.elapsed = start;
            let mut cur = self.levels[level].head(slot);
            self.levels[level].set_head(slot, NIL);
            while cur != NIL {
                let next = self.slab.at(cur).next;
                // Level 0: due in `start`, to the ready heap. Higher: cascade down.
                self.place(cur);
                cur = next;
            }
        }
        self.elapsed = self.elapsed.max(now_tick);

        let mut fired = 0;
        while let Some(&Reverse(top)) = self.ready.peek() {
            if top.when > now {
                break;
            }
            self.ready.pop();
            if !self.is_live(top) {
                continue;
            }
            let entry = self.slab.remove_at(top.index);
            #[cfg(test)]
            out.fired.push(Key::from_parts(top.index, top.stamp));
            match self.wakers.fire(entry.waker, self.round) {
                Fired::Wake(w) => out.wake.push(w),
                Fired::Drop(w) => out.drop.push(w),
                Fired::Nothing => {}
            }
            fired += 1;
        }
        fired
    }

    /// Whether a heap item still stands for its entry: not cancelled, not reset since (stamps
    /// are never reused).
    #[inline]
    fn is_live(&self, item: ReadyItem) -> bool {
        self.slab.stamp_at(item.index) == item.stamp
    }

    /// Links the (unlinked) entry `index` where its deadline puts it.
    #[inline(always)]
    fn place(&mut self, index: u32) {
        let elapsed = self.elapsed;
        let entry = self.slab.at_mut(index);
        let tick = entry.when / NS_PER_TICK;
        if tick <= elapsed {
            entry.loc = Loc::Ready;
            entry.prev = NIL;
            entry.next = NIL;
            let item = ReadyItem {
                when: entry.when,
                stamp: self.slab.stamp_at(index),
                index,
            };
            self.ready.push(Reverse(item));
            return;
        }
        let level = level_for(elapsed, tick);
        let slot = slot_for(tick, level);
        let head = self.levels[level].head(slot);
        entry.loc = Loc::Slot {
            level: level as u8,
            slot: slot as u8,
        };
        entry.prev = NIL;
        entry.next = head;
        if head != NIL {
            self.slab.at_mut(head).prev = index;
        }
        self.levels[level].set_head(slot, index);
    }

    /// Takes the entry `index` out of its slot list (a ready entry stays in the heap as a
    /// stale item once its stamp changes).
    #[inline(always)]
    fn unlink(&mut self, index: u32) {
        let entry = self.slab.at_mut(index);
        let Loc::Slot { level, slot } = entry.loc else {
            return;
        };
        let (prev, next) = (entry.prev, entry.next);
        if prev == NIL {
            self.levels[level as usize].set_head(slot as usize, next);
        } else {
            self.slab.at_mut(prev).next = next;
        }
        if next != NIL {
            self.slab.at_mut(next).prev = prev;
        }
    }

    /// The level, slot and start tick of the next slot to expire. O(levels).
    fn next_expiration(&self) -> Option<(usize, usize, u64)> {
        let mut best: Option<(usize, usize, u64)> = None;
        for (l, level) in self.levels.iter().enumerate() {
            if let Some((slot, start)) = level.next_expiration(self.elapsed) {
                if best.map_or(true, |(_, _, b)| start < b) {
                    best = Some((l, slot, start));
                }
            }
        }
        best
    }
}
