//! Waiting: the FIFO list of waiters every blocking primitive keeps behind its lock
//! ([`WaitList`]), and the wakers collected under that lock to be woken once it is released
//! ([`WakeList`]). Never wake a waker with the lock held: a waker may run arbitrary code.

mod wait_list;

pub(crate) use wait_list::WaitList;
pub(crate) use weft_core::slab::Key;

use std::mem::MaybeUninit;
use std::task::Waker;

/// Wakers collected under a lock, to be woken after it is released.
///
/// Holds up to [`WakeList::CAP`] inline so that waking a handful of waiters does not allocate;
/// more spill into a `Vec`. The inline slots start uninitialised: making a list and dropping
/// an empty one touches none of them (most lists hold zero or one waker).
pub(crate) struct WakeList {
    /// `wakers[woken..len]` are initialised and not yet woken.
    wakers: [MaybeUninit<Waker>; WakeList::CAP],
    len: usize,
    woken: usize,
    spill: Vec<Waker>,
}

impl WakeList {
    /// Inline capacity: large enough for typical fan-out, small enough for the stack.
    pub(crate) const CAP: usize = 32;

    pub(crate) fn new() -> Self {
        WakeList {
            wakers: [const { MaybeUninit::uninit() }; WakeList::CAP],
            len: 0,
            woken: 0,
            spill: Vec::new(),
        }
    }

    /// Stores a waker to be woken later.
    pub(crate) fn push(&mut self, waker: Waker) {
        if self.len < Self::CAP {
            self.wakers[self.len].write(waker);
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

    /// Whether nothing is waiting to be woken.
    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.woken == self.len && self.spill.is_empty()
    }

    /// Wakes everything collected. Call with no lock held: a waker may run arbitrary code.
    /// If one panics, the rest are woken when the list is dropped.
    pub(crate) fn wake_all(&mut self) {
        while self.woken < self.len {
            let i = self.woken;
            // Count it woken first: if `wake` panics, the unwinding drop goes on from the
            // next one and never reads this slot again.
            self.woken += 1;
            // SAFETY: `i` is in `woken..len` (before the increment): initialised by `push`,
            // and read exactly once, here.
            let waker = unsafe { self.wakers[i].assume_init_read() };
            waker.wake();
        }
        self.len = 0;
        self.woken = 0;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
    use std::sync::Arc;
    use std::task::Wake;

    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Relaxed);
        }
    }

    /// Every waker pushed is woken exactly once, inline or spilled, by `wake_all` or by the
    /// drop; the list can be reused after `wake_all`.
    #[test]
    fn wakes_each_once_inline_and_spilled() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(count.clone());
        let mut list = WakeList::new();
        assert!(list.is_empty());
        for _ in 0..WakeList::CAP + 5 {
            list.push(waker.clone());
        }
        assert!(!list.is_empty());
        list.wake_all();
        assert_eq!(count.0.load(Relaxed), WakeList::CAP + 5);
        assert!(list.is_empty());
        list.push_opt(Some(waker.clone()));
        list.push_opt(None);
        drop(list); // woken by the drop
        assert_eq!(count.0.load(Relaxed), WakeList::CAP + 6);
        // Only our handle is left: every clone in the list was consumed once.
        assert_eq!(Arc::strong_count(&count), 2);
    }
}
