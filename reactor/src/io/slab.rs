//! A minimal slab: a `Vec` of entries with a free list, so that keys stay stable and insert
//! and remove are O(1). Used for the waiters of one direction of a source.

/// One slot: a value, or a link in the free list.
#[derive(Debug)]
enum Entry<T> {
    Occupied(T),
    /// Vacant; holds the index of the next vacant slot (`usize::MAX`: none).
    Vacant(usize),
}

/// Values under stable `usize` keys.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    entries: Vec<Entry<T>>,
    /// Head of the free list (`usize::MAX`: empty).
    free: usize,
    len: usize,
}

impl<T> Default for Slab<T> {
    fn default() -> Slab<T> {
        Slab {
            entries: Vec::new(),
            free: usize::MAX,
            len: 0,
        }
    }
}

impl<T> Slab<T> {
    /// Stores `value` and returns its key.
    pub(crate) fn insert(&mut self, value: T) -> usize {
        self.len += 1;
        if self.free == usize::MAX {
            self.entries.push(Entry::Occupied(value));
            return self.entries.len() - 1;
        }
        let key = self.free;
        match std::mem::replace(&mut self.entries[key], Entry::Occupied(value)) {
            Entry::Vacant(next) => self.free = next,
            Entry::Occupied(_) => unreachable!("the free list points at an occupied slot"),
        }
        key
    }

    /// Removes and returns the value under `key`, if there is one.
    pub(crate) fn remove(&mut self, key: usize) -> Option<T> {
        let entry = self.entries.get_mut(key)?;
        if matches!(entry, Entry::Vacant(_)) {
            return None;
        }
        let Entry::Occupied(value) = std::mem::replace(entry, Entry::Vacant(self.free)) else {
            unreachable!()
        };
        self.free = key;
        self.len -= 1;
        Some(value)
    }

    pub(crate) fn get_mut(&mut self, key: usize) -> Option<&mut T> {
        match self.entries.get_mut(key)? {
            Entry::Occupied(value) => Some(value),
            Entry::Vacant(_) => None,
        }
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The occupied values, in key order.
    pub(crate) fn iter_mut(&mut self) -> impl Iterator<Item = &mut T> {
        self.entries.iter_mut().filter_map(|e| match e {
            Entry::Occupied(v) => Some(v),
            Entry::Vacant(_) => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Slab;

    #[test]
    fn keys_are_stable_and_reused() {
        let mut s = Slab::default();
        let a = s.insert('a');
        let b = s.insert('b');
        let c = s.insert('c');
        assert_eq!(s.remove(b), Some('b'));
        assert_eq!(s.remove(b), None);
        assert_eq!(s.get_mut(a), Some(&mut 'a'));
        assert_eq!(s.get_mut(c), Some(&mut 'c'));
        let d = s.insert('d');
        assert_eq!(d, b, "a freed key is reused");
        assert_eq!(s.remove(a), Some('a'));
        assert_eq!(s.remove(c), Some('c'));
        assert_eq!(s.remove(d), Some('d'));
        assert!(s.is_empty());
        assert_eq!(s.remove(99), None);
        let e = s.insert('e');
        assert!(e < 3);
        assert_eq!(s.iter_mut().count(), 1);
    }
}
