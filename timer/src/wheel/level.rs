//! One level of the wheel: 64 slots and a bitmap of the occupied ones.
//!
//! Level `l` has slots of `64^l` ticks (ms) each and so covers `64^(l+1)` ticks. An entry due
//! at tick `when` sits on the level where `when` first differs from the wheel's `elapsed`
//! (the highest differing 6-bit group), in slot `(when >> 6l) & 63`. The top level also takes
//! whatever lies beyond the wheel's range; its slots then act as a ring, which
//! [`Level::next_expiration`] unrolls.

use weft_core::slab::NIL;

/// Bits of tick per level.
pub(crate) const LEVEL_BITS: u32 = 6;
/// Slots per level.
pub(crate) const SLOTS: usize = 1 << LEVEL_BITS;
/// Levels: 64^7 ms = 2^42 ms, about 139 years.
pub(crate) const NUM_LEVELS: usize = 7;

/// Ticks per slot on `level`.
#[inline]
pub(crate) const fn slot_range(level: usize) -> u64 {
    1 << (LEVEL_BITS as usize * level)
}

/// Ticks covered by all of `level`.
#[inline]
pub(crate) const fn level_range(level: usize) -> u64 {
    1 << (LEVEL_BITS as usize * (level + 1))
}

/// The level for an entry due at tick `when` while the wheel is at tick `elapsed` (`when >
/// elapsed`).
#[inline]
pub(crate) fn level_for(elapsed: u64, when: u64) -> usize {
    // The `| 63` keeps level 0 for entries in elapsed's own 64-tick block.
    let masked = (elapsed ^ when) | (SLOTS as u64 - 1);
    let significant = 63 - masked.leading_zeros() as usize;
    // Beyond the top level's range: the top level, used as a ring.
    (significant / LEVEL_BITS as usize).min(NUM_LEVELS - 1)
}

/// The slot of tick `when` on `level`.
#[inline]
pub(crate) fn slot_for(when: u64, level: usize) -> usize {
    ((when >> (LEVEL_BITS as usize * level)) & (SLOTS as u64 - 1)) as usize
}

/// The heads of a level's 64 slot lists (threaded through the slab) and their bitmap.
#[derive(Debug)]
pub(crate) struct Level {
    level: usize,
    /// Bit `s` set iff `heads[s] != NIL`.
    occupied: u64,
    heads: [u32; SLOTS],
}

impl Level {
    pub(crate) fn new(level: usize) -> Level {
        Level {
            level,
            occupied: 0,
            heads: [NIL; SLOTS],
        }
    }

    #[inline]
    pub(crate) fn head(&self, slot: usize) -> u32 {
        self.heads[slot]
    }

    #[inline]
    pub(crate) fn set_head(&mut self, slot: usize, head: u32) {
        self.heads[slot] = head;
        if head == NIL {
            self.occupied &= !(1 << slot);
        } else {
            self.occupied |= 1 << slot;
        }
    }

    /// The first occupied slot after `now` (the wheel's tick) and the tick its span starts
    /// at, in O(1) (a rotate and a count of trailing zeros).
    pub(crate) fn next_expiration(&self, now: u64) -> Option<(usize, u64)> {
        if self.occupied == 0 {
            return None;
        }
        let slot_range = slot_range(self.level);
        let level_range = level_range(self.level);
        let now_slot = (now / slot_range) % SLOTS as u64;
        // Rotate so that bit 0 is the slot after `now`'s; the lowest set bit is then the next
        // occupied one, in ring order. `now`'s own slot comes last: on lower levels it is
        // always empty, on the top level it belongs to the next turn of the ring.
        let after = (now_slot + 1) % SLOTS as u64;
        let zeros = self.occupied.rotate_right(after as u32).trailing_zeros() as u64;
        let slot = (after + zeros) % SLOTS as u64;
        let level_start = now & !(level_range - 1);
        let mut start = level_start + slot * slot_range;
        if start <= now {
            // A slot before `now`'s (or `now`'s own): only on the top level, holding entries
            // beyond the wheel's range, due in the ring's next turn at the earliest.
            debug_assert_eq!(self.level, NUM_LEVELS - 1);
            start += level_range;
        }
        Some((slot as usize, start))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels() {
        assert_eq!(level_for(0, 1), 0);
        assert_eq!(level_for(0, 63), 0);
        assert_eq!(level_for(0, 64), 1);
        assert_eq!(level_for(60, 70), 1);
        assert_eq!(level_for(64, 127), 0);
        assert_eq!(level_for(0, 4095), 1);
        assert_eq!(level_for(0, 4096), 2);
        assert_eq!(
            level_for(0, level_range(NUM_LEVELS - 1) - 1),
            NUM_LEVELS - 1
        );
        assert_eq!(level_for(0, u64::MAX >> 2), NUM_LEVELS - 1);
    }

    #[test]
    fn slots() {
        assert_eq!(slot_for(5, 0), 5);
        assert_eq!(slot_for(64 + 5, 0), 5);
        assert_eq!(slot_for(64 + 5, 1), 1);
        assert_eq!(slot_for(3 * 4096 + 64, 2), 3);
    }

    #[test]
    fn next_expiration_wraps_only_on_top() {
        let mut l = Level::new(1);
        l.set_head(3, 0);
        assert_eq!(l.next_expiration(64), Some((3, 192)));
        l.set_head(3, NIL);
        assert_eq!(l.next_expiration(64), None);

        let top = NUM_LEVELS - 1;
        let mut l = Level::new(top);
        l.set_head(0, 0);
        // `now` in slot 5 of the top level: slot 0 is in the next turn.
        let now = 5 * slot_range(top) + 7;
        assert_eq!(l.next_expiration(now), Some((0, level_range(top))));
    }
}
