//! A FIFO list of waiters with O(1) push, pop and removal by key.
//!
//! Every blocking primitive in this crate keeps its waiters in a `WaitList` behind a lock (a
//! `parking_lot::Mutex`, or a [`BiasedLock`](crate::lock_free::BiasedLock) where the
//! primitive's state word is biased). Entries live in a [`Slab`] and are threaded into a
//! doubly linked list by index, so a cancelled future removes itself in O(1) and, once the
//! slab has grown to the peak number of waiters, no push allocates. It is plain safe Rust: a
//! [`Key`] is generation-checked, so a stale key (its entry already popped and the slot
//! reused) is recognised rather than misread.
//!
//! An entry can also be *detached*: taken out of the FIFO order (a notifier has served it) while
//! its slot stays reserved, so its owner can still read what the notifier wrote into it (a
//! granted permit, the kind of notification) and then [`remove`](WaitList::remove) it.

use weft_core::slab::{Key, Slab, NIL};

/// One waiter and its links.
#[derive(Debug)]
struct Node<T> {
    value: T,
    /// Whether the entry is in the FIFO order (as opposed to detached).
    linked: bool,
    /// Previous entry (towards the front).
    prev: u32,
    /// Next entry (towards the back).
    next: u32,
}

/// A FIFO list of waiters, see the module docs.
#[derive(Debug)]
pub(crate) struct WaitList<T> {
    nodes: Slab<Node<T>>,
    head: u32,
    tail: u32,
    /// Number of linked entries.
    len: usize,
}

impl<T> Default for WaitList<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> WaitList<T> {
    /// An empty list; allocates nothing.
    pub(crate) const fn new() -> Self {
        WaitList {
            nodes: Slab::new(),
            head: NIL,
            tail: NIL,
            len: 0,
        }
    }

    /// Number of entries in the FIFO order (detached ones not counted).
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends `value` at the back (the last to be served).
    pub(crate) fn push_back(&mut self, value: T) -> Key {
        let key = self.nodes.insert(Node {
            value,
            linked: true,
            prev: self.tail,
            next: NIL,
        });
        let index = key.index();
        match self.tail {
            NIL => self.head = index,
            tail => self.nodes.at_mut(tail).next = index,
        }
        self.tail = index;
        self.len += 1;
        key
    }

    /// Inserts `value` at the front (the next to be served).
    pub(crate) fn push_front(&mut self, value: T) -> Key {
        let key = self.nodes.insert(Node {
            value,
            linked: true,
            prev: NIL,
            next: self.head,
        });
        let index = key.index();
        match self.head {
            NIL => self.tail = index,
            head => self.nodes.at_mut(head).prev = index,
        }
        self.head = index;
        self.len += 1;
        key
    }

    /// Whether the entry named by `key` is still in the FIFO order (not detached, not removed).
    #[cfg(test)]
    pub(crate) fn is_linked(&self, key: Key) -> bool {
        self.nodes.get(key).is_some_and(|n| n.linked)
    }

    /// The entry named by `key`, linked or detached, if it has not been removed.
    pub(crate) fn get_mut(&mut self, key: Key) -> Option<&mut T> {
        self.nodes.get_mut(key).map(|n| &mut n.value)
    }

    /// Takes the entry at `index` (which must be linked) out of the FIFO order.
    fn unlink(&mut self, index: u32) {
        let node = self.nodes.at_mut(index);
        debug_assert!(node.linked);
        node.linked = false;
        let (prev, next) = (node.prev, node.next);
        match prev {
            NIL => self.head = next,
            p => self.nodes.at_mut(p).next = next,
        }
        match next {
            NIL => self.tail = prev,
            n => self.nodes.at_mut(n).prev = prev,
        }
        self.len -= 1;
    }

    /// Removes the entry named by `key` (linked or detached) and frees its slot; `None` if it
    /// was already removed.
    pub(crate) fn remove(&mut self, key: Key) -> Option<T> {
        if self.nodes.get(key)?.linked {
            self.unlink(key.index());
        }
        self.nodes.remove(key).map(|n| n.value)
    }

    /// Detaches the entry at the front: it leaves the FIFO order but its slot (and key) stay
    /// until its owner calls [`remove`](Self::remove). Returns the entry to be marked.
    pub(crate) fn detach_front(&mut self) -> Option<&mut T> {
        match self.head {
            NIL => None,
            head => {
                self.unlink(head);
                Some(&mut self.nodes.at_mut(head).value)
            }
        }
    }

    /// The entry at the front, with its key.
    pub(crate) fn front_mut(&mut self) -> Option<(Key, &mut T)> {
        let key = self.nodes.key_at(self.head)?;
        Some((key, &mut self.nodes.at_mut(self.head).value))
    }

    /// Removes and returns the entry at the front.
    pub(crate) fn pop_front(&mut self) -> Option<T> {
        match self.head {
            NIL => None,
            head => {
                self.unlink(head);
                Some(self.nodes.remove_at(head).value)
            }
        }
    }

    /// Calls `f` on every linked entry, front to back.
    pub(crate) fn for_each_mut(&mut self, mut f: impl FnMut(&mut T)) {
        let mut index = self.head;
        while index != NIL {
            let node = self.nodes.at_mut(index);
            f(&mut node.value);
            index = node.next;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::VecDeque;

    #[test]
    fn fifo_and_remove() {
        let mut list = WaitList::new();
        let a = list.push_back('a');
        let b = list.push_back('b');
        let c = list.push_back('c');
        assert_eq!(list.len(), 3);
        assert_eq!(list.remove(b), Some('b'));
        assert_eq!(list.remove(b), None, "a key works once");
        let z = list.push_front('z');
        assert_eq!(list.front_mut().map(|(k, v)| (k, *v)), Some((z, 'z')));
        assert_eq!(list.pop_front(), Some('z'));
        assert!(list.is_linked(a) && list.is_linked(c));
        assert_eq!(list.pop_front(), Some('a'));
        assert_eq!(list.pop_front(), Some('c'));
        assert_eq!(list.pop_front(), None);
        assert!(list.is_empty());
    }

    #[test]
    fn detach_keeps_the_slot() {
        let mut list = WaitList::new();
        let a = list.push_back(1);
        let b = list.push_back(2);
        *list.detach_front().unwrap() += 10;
        assert!(!list.is_linked(a));
        assert_eq!(list.len(), 1);
        let c = list.push_back(3); // must not reuse `a`'s slot
        assert_eq!(list.get_mut(a), Some(&mut 11));
        assert_eq!(list.remove(a), Some(11));
        assert_eq!(list.pop_front(), Some(2));
        assert_eq!(list.pop_front(), Some(3));
        assert!(!list.is_linked(b) && !list.is_linked(c));
    }

    #[test]
    fn stale_key_after_reuse() {
        let mut list = WaitList::new();
        let a = list.push_back(1);
        assert_eq!(list.pop_front(), Some(1));
        let b = list.push_back(2); // reuses the slot of `a`
        assert_ne!(a, b);
        assert_eq!(list.get_mut(a), None);
        assert_eq!(list.get_mut(b), Some(&mut 2));
    }

    #[derive(Debug, Clone)]
    enum Op {
        PushBack,
        PushFront,
        Pop,
        Remove(usize),
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            Just(Op::PushBack),
            Just(Op::PushFront),
            Just(Op::Pop),
            (0usize..64).prop_map(Op::Remove),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig {
            cases: if cfg!(miri) { 4 } else { 256 },
            // No failure file: Miri's isolation forbids the file system.
            failure_persistence: None,
            ..ProptestConfig::default()
        })]
        /// The list behaves like a `VecDeque` with removal by key.
        #[test]
        fn model(ops in proptest::collection::vec(op(), 0..64)) {
            let mut list = WaitList::new();
            let mut model: VecDeque<(Key, u32)> = VecDeque::new();
            let mut keys = Vec::new();
            for (n, op) in ops.into_iter().enumerate() {
                let n = n as u32;
                match op {
                    Op::PushBack => { let k = list.push_back(n); keys.push(k); model.push_back((k, n)); }
                    Op::PushFront => { let k = list.push_front(n); keys.push(k); model.push_front((k, n)); }
                    Op::Pop => prop_assert_eq!(list.pop_front(), model.pop_front().map(|(_, v)| v)),
                    Op::Remove(i) => if let Some(&k) = keys.get(i) {
                        let expect = model.iter().position(|(mk, _)| *mk == k).and_then(|p| model.remove(p));
                        prop_assert_eq!(list.remove(k), expect.map(|(_, v)| v));
                    },
                }
                prop_assert_eq!(list.len(), model.len());
            }
            let mut all = Vec::new();
            list.for_each_mut(|v| all.push(*v));
            prop_assert_eq!(all, model.iter().map(|(_, v)| *v).collect::<Vec<_>>());
        }
    }
}
