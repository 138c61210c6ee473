//! [`Slab`]: values in one `Vec` under stable keys, with generation-checked [`Key`]s. The one
//! table type of the workspace: the timer wheel's entries and shared wakers, the reactor's
//! sources and waiters, the executor's live tasks, the channels' wait lists and the task
//! groups all keep their items here.
//!
//! Insert, lookup and removal are O(1). A removed slot joins a free list and is reused by the
//! next insert; the slab keeps its high-water mark of memory (as the `slab` crate does).
//!
//! # Keys
//!
//! A [`Key`] is a slot's index plus the *stamp* its value was given. Stamps come from one
//! counter per slab, start at 1, only grow and are never reused (2^63 inserts never happen),
//! so a key whose value was removed can never reach a newer value that happens to sit in the
//! same slot: it is simply stale. Stamps also order values by insertion, which the timer
//! wheel uses to break ties; [`Slab::restamp`] gives a value a new, later stamp.
//!
//! Code that keeps its own links between values (the wheel's and the wait lists' doubly
//! linked lists) may address a slot by its bare index ([`Slab::at`], [`Slab::remove_at`]),
//! which it knows to be occupied; such an access to a vacant slot is a bug and panics.
//!
//! # Examples
//!
//! ```
//! use weft_core::slab::Slab;
//!
//! let mut slab = Slab::new();
//! let a = slab.insert("a");
//! let b = slab.insert("b");
//! assert_eq!(slab.remove(a), Some("a"));
//! let c = slab.insert("c");
//! assert_eq!(c.index(), a.index()); // the slot is reused...
//! assert_eq!(slab.get(a), None); // ...but the old key is stale
//! assert_eq!(slab.get(c), Some(&"c"));
//! assert_eq!(slab.len(), 2);
//! # let _ = b;
//! ```

use std::fmt;

/// The index value that means "no slot" (in free lists and in users' links).
pub const NIL: u32 = u32::MAX;

/// Marks a vacant slot's `stamp`; its low 32 bits then hold the next vacant slot. Stamps stay
/// below it, so no key matches a vacant slot.
const VACANT: u64 = 1 << 63;

/// A generation-checked handle to a value in a [`Slab`]: plain data, `Copy + Send + Sync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    index: u32,
    stamp: u64,
}

impl Key {
    /// A key from its parts (as kept packed by a user, see [`Key::index`] and
    /// [`Key::stamp`]). A made-up key is merely stale: it can match only the value it names.
    pub const fn from_parts(index: u32, stamp: u64) -> Key {
        Key { index, stamp }
    }

    /// The slot's index.
    pub const fn index(self) -> u32 {
        self.index
    }

    /// The value's stamp: unique within its slab, larger for later inserts and restamps.
    pub const fn stamp(self) -> u64 {
        self.stamp
    }
}

/// One slot. While occupied, `stamp` is the value's stamp and `value` is `Some`; while
/// vacant, `stamp` is `VACANT | next vacant slot` and `value` is `None` (for a value with a
/// niche, such as the wheel's entries, the `Option` costs no space).
#[derive(Clone)]
struct Slot<T> {
    stamp: u64,
    value: Option<T>,
}

/// Values under stable, generation-checked keys (see the module docs).
#[derive(Clone)]
pub struct Slab<T> {
    slots: Vec<Slot<T>>,
    /// Head of the free list threaded through vacant slots.
    free: u32,
    len: usize,
    /// The next stamp; starts at 1 and only grows.
    next_stamp: u64,
}

impl<T> Default for Slab<T> {
    fn default() -> Slab<T> {
        Slab::new()
    }
}

impl<T> Slab<T> {
    /// An empty slab; allocates nothing.
    pub const fn new() -> Slab<T> {
        Slab {
            slots: Vec::new(),
            free: NIL,
            len: 0,
            next_stamp: 1,
        }
    }

    /// The number of values.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the slab holds no value.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    #[inline]
    fn bump(&mut self) -> u64 {
        let stamp = self.next_stamp;
        debug_assert!(stamp < VACANT, "stamps never reach 2^63");
        self.next_stamp += 1;
        stamp
    }

    /// Stores `value` and returns its key.
    ///
    /// # Panics
    ///
    /// If the slab already holds `u32::MAX - 1` values (the index space is spent).
    #[inline]
    pub fn insert(&mut self, value: T) -> Key {
        self.insert_with(|_| value)
    }

    /// Stores the value `f` makes from the key it will have (for a value that must know its
    /// own place), and returns that key.
    ///
    /// # Panics
    ///
    /// As [`insert`](Self::insert).
    ///
    /// # Examples
    ///
    /// ```
    /// let mut slab = weft_core::slab::Slab::new();
    /// let key = slab.insert_with(|key| key.index() * 10);
    /// assert_eq!(slab.get(key), Some(&(key.index() * 10)));
    /// ```
    #[inline]
    pub fn insert_with(&mut self, f: impl FnOnce(Key) -> T) -> Key {
        let stamp = self.bump();
        let index = self.free;
        if index != NIL {
            let key = Key { index, stamp };
            let value = f(key);
            let slot = &mut self.slots[index as usize];
            // The low half of a vacant slot's stamp: the next vacant slot.
            self.free = slot.stamp as u32;
            slot.stamp = stamp;
            // A vacant slot holds `None`: nothing to drop (and no drop glue to call).
            let vacant = slot.value.replace(value);
            debug_assert!(vacant.is_none());
            std::mem::forget(vacant);
            self.len += 1;
            return key;
        }
        let index = match u32::try_from(self.slots.len()) {
            Ok(i) if i != NIL => i,
            _ => panic!("a weft slab cannot hold more than 2^32 - 1 values"),
        };
        let key = Key { index, stamp };
        let value = f(key);
        self.slots.push(Slot {
            stamp,
            value: Some(value),
        });
        self.len += 1;
        key
    }

    /// Whether `key` names a value of this slab.
    #[inline]
    pub fn contains(&self, key: Key) -> bool {
        self.stamp_at(key.index) == key.stamp
    }

    /// The value `key` names, unless it was removed (or restamped) since.
    #[inline]
    pub fn get(&self, key: Key) -> Option<&T> {
        match self.slots.get(key.index as usize) {
            Some(slot) if slot.stamp == key.stamp => slot.value.as_ref(),
            _ => None,
        }
    }

    /// Mutable [`Slab::get`].
    #[inline]
    pub fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        match self.slots.get_mut(key.index as usize) {
            Some(slot) if slot.stamp == key.stamp => slot.value.as_mut(),
            _ => None,
        }
    }

    /// Removes and returns the value `key` names; `None` if the key is stale.
    #[inline]
    pub fn remove(&mut self, key: Key) -> Option<T> {
        let free = self.free;
        let slot = self.slots.get_mut(key.index as usize)?;
        if slot.stamp != key.stamp {
            return None;
        }
        // Occupied: a key's stamp never has the vacant mark.
        let value = slot.value.take()?;
        slot.stamp = VACANT | u64::from(free);
        self.free = key.index;
        self.len -= 1;
        Some(value)
    }

    /// The stamp of slot `index`; a value no key holds (0, or one with the vacant mark) if the
    /// slot is vacant or out of range.
    #[inline]
    pub fn stamp_at(&self, index: u32) -> u64 {
        self.slots.get(index as usize).map_or(0, |s| s.stamp)
    }

    /// The key of slot `index`, if it is occupied.
    #[inline]
    pub fn key_at(&self, index: u32) -> Option<Key> {
        let stamp = self.stamp_at(index);
        (stamp != 0 && stamp & VACANT == 0).then_some(Key { index, stamp })
    }

    /// Gives the value in slot `index` a new, later stamp, so that older keys to it go stale.
    ///
    /// # Panics
    ///
    /// If the slot is vacant (a bug in the caller's own links).
    pub fn restamp(&mut self, index: u32) -> Key {
        let stamp = self.bump();
        let slot = &mut self.slots[index as usize];
        assert!(
            slot.value.is_some(),
            "weft slab: restamp of vacant slot {index}"
        );
        slot.stamp = stamp;
        Key { index, stamp }
    }

    /// The value in slot `index`, which the caller knows to be occupied (it keeps its own
    /// links to it).
    ///
    /// # Panics
    ///
    /// If the slot is vacant or out of range (a bug in the caller's own links).
    #[inline(always)]
    #[track_caller]
    pub fn at(&self, index: u32) -> &T {
        match self
            .slots
            .get(index as usize)
            .and_then(|s| s.value.as_ref())
        {
            Some(v) => v,
            None => vacant(index),
        }
    }

    /// Mutable [`Slab::at`].
    ///
    /// # Panics
    ///
    /// As [`Slab::at`].
    #[inline(always)]
    #[track_caller]
    pub fn at_mut(&mut self, index: u32) -> &mut T {
        match self
            .slots
            .get_mut(index as usize)
            .and_then(|s| s.value.as_mut())
        {
            Some(v) => v,
            None => vacant(index),
        }
    }

    /// Removes the value in slot `index`, which the caller knows to be occupied.
    ///
    /// # Panics
    ///
    /// As [`Slab::at`].
    #[inline]
    #[track_caller]
    pub fn remove_at(&mut self, index: u32) -> T {
        let free = self.free;
        let Some(slot) = self.slots.get_mut(index as usize) else {
            vacant(index)
        };
        let Some(value) = slot.value.take() else {
            vacant(index)
        };
        slot.stamp = VACANT | u64::from(free);
        self.free = index;
        self.len -= 1;
        value
    }

    /// The values with their keys, in slot order.
    pub fn iter(&self) -> impl Iterator<Item = (Key, &T)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| {
            let value = s.value.as_ref()?;
            Some((
                Key {
                    index: i as u32,
                    stamp: s.stamp,
                },
                value,
            ))
        })
    }

    /// The values, mutably, with their keys, in slot order.
    pub fn iter_mut(&mut self) -> impl Iterator<Item = (Key, &mut T)> {
        self.slots.iter_mut().enumerate().filter_map(|(i, s)| {
            let value = s.value.as_mut()?;
            Some((
                Key {
                    index: i as u32,
                    stamp: s.stamp,
                },
                value,
            ))
        })
    }

    /// Removes every value (keeping the memory for reuse) and returns them, in slot order.
    pub fn drain(&mut self) -> Vec<T> {
        let mut out = Vec::with_capacity(self.len);
        for index in 0..self.slots.len() as u32 {
            if self.slots[index as usize].value.is_some() {
                out.push(self.remove_at(index));
            }
        }
        out
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn vacant(index: u32) -> ! {
    panic!("weft slab: slot {index} is vacant (a link to a removed value)")
}

impl<T: fmt::Debug> fmt::Debug for Slab<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
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
        assert_eq!(slab.get(b).copied(), Some("b"));
        assert_eq!(slab.len(), 1);
    }

    #[test]
    fn restamp_makes_old_keys_stale_and_orders_later() {
        let mut slab = Slab::new();
        let a = slab.insert(1);
        let b = slab.insert(2);
        let a2 = slab.restamp(a.index);
        assert!(a2.stamp > b.stamp);
        assert!(!slab.contains(a));
        assert!(slab.contains(a2));
        assert_eq!(slab.key_at(a.index), Some(a2));
    }

    #[test]
    fn keys_of_a_refilled_slab_stay_stale() {
        let n = if cfg!(miri) { 50 } else { 5000 };
        let mut slab = Slab::new();
        let keys: Vec<_> = (0..n).map(|i| slab.insert(i)).collect();
        for k in &keys {
            slab.remove(*k);
        }
        assert!(slab.is_empty());
        let fresh: Vec<_> = (0..n).map(|i| slab.insert(i)).collect();
        assert!(keys.iter().all(|k| !slab.contains(*k)));
        assert!(fresh.iter().all(|k| slab.contains(*k)));
        assert_eq!(
            slab.stamp_at(u32::MAX - 1),
            0,
            "out of range reads as vacant"
        );
        assert_eq!(slab.key_at(u32::MAX - 1), None);
    }

    #[test]
    fn iteration_drain_and_bare_indices() {
        let mut slab = Slab::new();
        let keys: Vec<_> = (0..4).map(|i| slab.insert(i * 10)).collect();
        slab.remove(keys[1]);
        assert_eq!(
            slab.iter().map(|(_, v)| *v).collect::<Vec<_>>(),
            [0, 20, 30]
        );
        *slab.at_mut(keys[2].index()) += 1;
        assert_eq!(*slab.at(keys[2].index()), 21);
        for (_, v) in slab.iter_mut() {
            *v += 1;
        }
        assert_eq!(slab.remove_at(keys[0].index()), 1);
        assert_eq!(slab.drain(), [22, 31]);
        assert!(slab.is_empty());
        // Freed slots are reused, newest first.
        let k = slab.insert(7);
        assert!(k.index() < 4);
    }

    #[test]
    #[should_panic(expected = "is vacant")]
    fn a_bare_index_to_a_vacant_slot_is_a_bug() {
        let mut slab = Slab::new();
        let k = slab.insert(());
        slab.remove(k);
        slab.at(k.index());
    }

    #[test]
    fn values_are_dropped_on_removal() {
        use std::rc::Rc;
        let rc = Rc::new(());
        let mut slab = Slab::new();
        let k = slab.insert(rc.clone());
        assert_eq!(Rc::strong_count(&rc), 2);
        slab.remove(k);
        assert_eq!(Rc::strong_count(&rc), 1);
        slab.insert(rc.clone());
        drop(slab);
        assert_eq!(Rc::strong_count(&rc), 1);
    }
}
