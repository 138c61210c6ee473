//! A slab with generation-checked keys: the wheel's storage, in safe Rust.
//!
//! Entries live in one `Vec`; a removed slot joins a free list and is reused by the next
//! insert. A [`Key`] is the slot's index plus the *stamp* it was given. Stamps come from one
//! counter per slab, start at 1 and are never reused (a `u64` does not wrap; a vacant slot's
//! stamp field has its top bit set and holds the free list's link), so a key held by a [`Sleep`](crate::Sleep) whose entry has fired can never reach a
//! newer entry that happens to occupy the same slot: it is simply stale. Stamps also order
//! entries (the wheel's tie-break), which is why [`Slab::restamp`] exists.
//!
//! The slab keeps its high-water mark of memory (as the `slab` crate and tokio's I/O slab
//! do): freed slots are reused, never returned.

/// Index value meaning "no slot" in the free list and the wheel's links.
pub(crate) const NIL: u32 = u32::MAX;

/// A generation-checked handle to a slab entry: plain data, `Copy + Send + Sync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub(crate) index: u32,
    pub(crate) stamp: u64,
}

/// Marks a vacant slot's `stamp`; its low 32 bits then hold the next vacant slot. Stamps
/// stay below it (2^63 inserts never happen), so no key matches a vacant slot.
const VACANT: u64 = 1 << 63;

/// One slot: 8 bytes plus the value (32 with the wheel's entry).
#[derive(Clone, Copy, Debug)]
struct Slot<T> {
    /// The stamp while occupied; `VACANT | next vacant slot` while vacant.
    stamp: u64,
    /// Stale while vacant.
    value: T,
}

/// Storage with O(1) insert, lookup and remove, for `Copy` values.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    /// Head of the free list threaded through vacant slots.
    free: u32,
    len: usize,
    /// The next stamp; starts at 1 and only grows.
    next_stamp: u64,
}

impl<T: Copy> Slab<T> {
    pub(crate) fn new() -> Slab<T> {
        Slab {
            slots: Vec::new(),
            free: NIL,
            len: 0,
            next_stamp: 1,
        }
    }

    /// The number of occupied slots.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn bump(&mut self) -> u64 {
        let stamp = self.next_stamp;
        debug_assert!(stamp < VACANT, "stamps never reach 2^63");
        self.next_stamp += 1;
        stamp
    }

    #[inline]
    pub(crate) fn insert(&mut self, value: T) -> Key {
        let stamp = self.bump();
        self.len += 1;
        let index = self.free;
        if index != NIL {
            let slot = &mut self.slots[index as usize];
            self.free = slot.stamp as u32; // the low half: the next vacant slot
            *slot = Slot { stamp, value };
            return Key { index, stamp };
        }
        let index = u32::try_from(self.slots.len())
            .ok()
            .filter(|&i| i != NIL)
            .expect("more than 2^32 - 1 live timers");
        self.slots.push(Slot { stamp, value });
        Key { index, stamp }
    }

    /// Whether `key` names a live entry.
    #[inline]
    pub(crate) fn contains(&self, key: Key) -> bool {
        self.stamp_at(key.index) == key.stamp
    }

    /// The entry `key` names, unless it was removed (or restamped) since.
    #[inline]
    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.slots.get_mut(key.index as usize) {
            Some(slot) if slot.stamp == key.stamp => Some(&mut slot.value),
            _ => None,
        }
    }

    /// The stamp of slot `index`; a value no key holds (0, or one with `VACANT` set) if it is
    /// vacant or out of range.
    #[inline]
    pub(crate) fn stamp_at(&self, index: u32) -> u64 {
        self.slots.get(index as usize).map_or(0, |s| s.stamp)
    }

    /// The key of the occupied slot `index`.
    #[cfg(test)]
    pub(crate) fn key_at(&self, index: u32) -> Key {
        let stamp = self.slots[index as usize].stamp;
        debug_assert!(stamp & VACANT == 0, "slab index {index} is vacant");
        Key { index, stamp }
    }

    /// Gives the occupied slot `index` a new stamp (so older keys to it go stale).
    pub(crate) fn restamp(&mut self, index: u32) -> Key {
        let stamp = self.bump();
        let slot = &mut self.slots[index as usize];
        debug_assert!(slot.stamp & VACANT == 0, "slab index {index} is vacant");
        slot.stamp = stamp;
        Key { index, stamp }
    }

    /// The slot `index`, which the caller knows to be occupied (it is linked in a list).
    #[inline]
    pub(crate) fn at(&self, index: u32) -> &T {
        let slot = &self.slots[index as usize];
        debug_assert!(slot.stamp & VACANT == 0, "slab index {index} is vacant");
        &slot.value
    }

    /// Mutable [`Slab::at`].
    #[inline]
    pub(crate) fn at_mut(&mut self, index: u32) -> &mut T {
        let slot = &mut self.slots[index as usize];
        debug_assert!(slot.stamp & VACANT == 0, "slab index {index} is vacant");
        &mut slot.value
    }

    /// Removes the occupied slot `index`.
    #[inline]
    pub(crate) fn remove_at(&mut self, index: u32) -> T {
        let slot = &mut self.slots[index as usize];
        debug_assert!(slot.stamp & VACANT == 0, "slab index {index} is vacant");
        slot.stamp = VACANT | u64::from(self.free);
        self.free = index;
        self.len -= 1;
        slot.value
    }

    /// Removes the entry `key` names; `None` if it is stale.
    #[cfg(test)]
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        self.contains(key).then(|| self.remove_at(key.index))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stale_keys_stay_stale_after_reuse() {
        let mut slab = Slab::new();
        let a = slab.insert("a");
        assert_eq!(slab.remove(a), Some("a"));
        let b = slab.insert("b");
        assert_eq!(a.index, b.index, "the slot is reused");
        assert!(!slab.contains(a));
        assert_eq!(slab.get_mut(a), None);
        assert_eq!(slab.remove(a), None);
        assert_eq!(slab.get_mut(b).copied(), Some("b"));
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn a_wheel_slot_is_32_bytes() {
        assert_eq!(std::mem::size_of::<Slot<crate::entry::Entry>>(), 32);
    }

    #[test]
    fn restamp_makes_old_keys_stale() {
        let mut slab = Slab::new();
        let a = slab.insert(1);
        let a2 = slab.restamp(a.index);
        assert!(a2.stamp > a.stamp);
        assert!(!slab.contains(a));
        assert!(slab.contains(a2));
        assert_eq!(slab.key_at(a.index), a2);
    }

    #[test]
    fn keys_of_a_refilled_slab_stay_stale() {
        let n = if cfg!(miri) { 50 } else { 5000 };
        let mut slab = Slab::new();
        let keys: Vec<_> = (0..n).map(|i| slab.insert(i)).collect();
        for k in &keys {
            slab.remove(*k);
        }
        assert_eq!(slab.len(), 0);
        let fresh: Vec<_> = (0..n).map(|i| slab.insert(i)).collect();
        for k in &keys {
            assert!(!slab.contains(*k));
        }
        assert!(fresh.iter().all(|k| slab.contains(*k)));
        assert_eq!(
            slab.stamp_at(u32::MAX - 1),
            0,
            "out of range reads as vacant"
        );
    }
}
