//! A state word that the thread which made it updates without atomic read-modify-writes, until
//! another thread needs to (a *biased* word, after the JVM's biased locking).
//!
//! The `mpsc` cores keep their state in one 64-bit word, and every claim, park and flag change
//! is a read-modify-write on it: a `lock`-prefixed instruction, ~20 cycles here, the largest
//! single cost of a message. Yet the common use is two tasks of one single-threaded runtime,
//! where no other thread ever looks. So the word starts *owned* by the thread that made it,
//! which updates it with a plain load and store; the first time another thread needs to
//! update it, the bias is revoked for good and from then on everybody uses atomic RMWs.
//! `Semaphore` (so `Mutex` and `RwLock`) keeps its state in one too, and [`BiasedLock`], a
//! spin lock on such a word, guards the wait lists of `mpsc`, `Semaphore` and `Queue`.
//!
//! # The protocol
//!
//! `owner` holds the owning thread's name ([`thread_name`]), then `REVOKING`, then `SHARED`;
//! it only ever moves forward. `busy` is written by the owner thread only. A word made by a
//! `const fn` (a semaphore in a `static`) cannot know its thread: it starts `UNCLAIMED`, and
//! the first thread to update it claims it with one CAS of `owner`, or another thread moves it
//! straight to `SHARED` (nobody can be inside a plain update of an unclaimed word).
//!
//! * **The owner, for each update:** it sets `busy`, runs the light fence, and reloads
//!   `owner`. If that still names it, it loads the word, stores the new value (release), and
//!   clears `busy` (release). Otherwise it clears `busy` and revokes, as below.
//! * **Any other thread, before its first update** (and the owner once it saw `REVOKING`):
//!   one thread wins a CAS of `owner` from the name to `REVOKING`; it runs the heavy barrier,
//!   waits for `busy` to be clear (acquire), and stores `SHARED` (release). The others wait
//!   for `SHARED` (acquire). Then they update atomically.
//!
//! Why no update is lost: the owner's store of `busy` and its reload of `owner` on one side,
//! and the revoker's store of `REVOKING` and its load of `busy` on the other, are a
//! store-buffering pair, ordered by the asymmetric fence pair of `fence.rs` (a compiler fence
//! for the owner, `membarrier` for the revoker). So either the owner sees `REVOKING` and makes
//! no plain update, or the revoker sees `busy` and waits for the update to finish; and the
//! update's release of `busy`, the revoker's release of `SHARED` and the other threads'
//! acquire of it carry the owner's last plain store to every atomic RMW that follows. Before
//! `SHARED`, other threads only *load* the word, which is sound against the owner's release
//! stores. The owner's own plain loads see only its own stores: nobody else writes the word
//! while it is biased.
//!
//! Without `membarrier` (another OS, an old kernel) the light side would need a full fence,
//! which costs as much as the RMW it replaces, so words start `SHARED` there. Under Miri,
//! which has no `membarrier`, they start biased and both sides use `fence(SeqCst)`, so the
//! protocol is still exercised.
//!
//! A thread's name is the address of a thread-local, so a new thread may get the name of a dead
//! owner. It then simply continues as the owner: the dead thread's updates happen before the
//! new thread starts, as its thread-local memory is handed over by the allocator or the
//! kernel, which synchronise. The owner must not update a word from a signal handler that
//! interrupted an update of that word (the channels are not async-signal-safe anyway).

use weft_core::sync::atomic::{
    compiler_fence, fence, AtomicBool, AtomicU64, AtomicUsize, Ordering,
};
use weft_core::sync::atomic::{Ordering::Acquire, Ordering::Relaxed, Ordering::Release};
use weft_core::sync::UnsafeCell;

use super::fence::{membarrier_available, process_barrier, thread_name};
use super::Backoff;

/// `owner` once the bias is revoked: every thread updates atomically.
const SHARED: usize = 0;
/// `owner` while a revoker waits for the owner's update in progress to end.
const REVOKING: usize = usize::MAX;
/// `owner` of a word made by [`BiasedWord::unclaimed`] that nobody updated yet.
const UNCLAIMED: usize = usize::MAX - 1;

/// An `AtomicU64` whose read-modify-writes are plain on the thread that created it, until
/// another thread makes one (see the module docs).
pub(crate) struct BiasedWord {
    word: AtomicU64,
    /// The owning thread's name, `UNCLAIMED`, `REVOKING` or `SHARED`.
    owner: AtomicUsize,
    /// The owner is inside an update. Written by the owner thread only.
    busy: AtomicBool,
}

/// Whether words start biased here (see the module docs).
fn bias_supported() -> bool {
    cfg!(miri) || cfg!(weft_loom) || membarrier_available()
}

/// The owner's side of the fence pair: a compiler fence where `membarrier` is the other side.
#[inline(always)]
fn light() {
    // Under loom, the full fence is where `membarrier` strikes (see `fence.rs`, "The loom
    // model of `membarrier`").
    if cfg!(miri) || cfg!(weft_loom) {
        fence(Ordering::SeqCst);
    } else {
        compiler_fence(Ordering::SeqCst);
    }
}

/// The `fetch_*` methods: the plain update `$local` on the owner thread while biased, else
/// the `AtomicU64` method of the same name.
macro_rules! biased_rmw {
    ($($(#[$doc:meta])* $name:ident($arg:ident) => $local:expr;)*) => {$(
        $(#[$doc])*
        #[inline(always)]
        pub(crate) fn $name(&self, $arg: u64, order: Ordering) -> u64 {
            if self.begin_local() {
                self.local_rmw($local)
            } else {
                self.word.$name($arg, order)
            }
        }
    )*};
}

impl BiasedWord {
    /// A word holding `value`, owned by the calling thread where biasing is supported.
    pub(crate) fn new(value: u64) -> Self {
        let owner = if bias_supported() {
            thread_name()
        } else {
            SHARED
        };
        BiasedWord {
            word: AtomicU64::new(value),
            owner: AtomicUsize::new(owner),
            busy: AtomicBool::new(false),
        }
    }

    weft_core::const_fn_unless_loom! {
    /// A word holding `value`, owned by the first thread to update it (for `const`
    /// constructors).
    pub(crate) const fn unclaimed(value: u64) -> Self {
        BiasedWord {
            word: AtomicU64::new(value),
            owner: AtomicUsize::new(UNCLAIMED),
            busy: AtomicBool::new(false),
        }
    }
    }

    /// Loads the word, as [`AtomicU64::load`] (any thread, biased or not).
    #[inline(always)]
    pub(crate) fn load(&self, order: Ordering) -> u64 {
        self.word.load(order)
    }

    /// Starts an update: `true` if it is to be made with plain accesses (the caller then
    /// calls [`end_local`](Self::end_local)), `false` if atomically (the bias is revoked
    /// first if need be).
    #[inline(always)]
    fn begin_local(&self) -> bool {
        let mut owner = self.owner.load(Acquire);
        if owner == SHARED {
            return false;
        }
        if owner == UNCLAIMED {
            owner = self.claim();
        }
        if owner == thread_name() {
            self.busy.store(true, Relaxed);
            light();
            if self.owner.load(Relaxed) == owner {
                return true;
            }
            self.busy.store(false, Release);
        }
        self.share();
        false
    }

    /// Ends a plain update begun by [`begin_local`](Self::begin_local).
    #[inline(always)]
    fn end_local(&self) {
        self.busy.store(false, Release);
    }

    /// A plain read-modify-write, between `begin_local` and `end_local`: the owner is the
    /// only writer while the word is biased.
    #[inline(always)]
    fn local_rmw(&self, f: impl FnOnce(u64) -> u64) -> u64 {
        let old = self.word.load(Relaxed);
        self.word.store(f(old), Release);
        self.end_local();
        old
    }

    /// First update of an unclaimed word: makes the calling thread its owner where biasing is
    /// supported, else shares it. Returns the owner it leaves.
    #[cold]
    #[inline(never)]
    fn claim(&self) -> usize {
        let to = if bias_supported() {
            thread_name()
        } else {
            SHARED
        };
        match self.owner.compare_exchange(UNCLAIMED, to, Acquire, Acquire) {
            Ok(_) => to,
            Err(actual) => actual,
        }
    }

    /// Revokes the bias (or waits for the thread revoking it), so that every update from now
    /// on is atomic.
    #[cold]
    #[inline(never)]
    fn share(&self) {
        let mut backoff = Backoff::new();
        let mut owner = self.owner.load(Acquire);
        loop {
            match owner {
                SHARED => return,
                UNCLAIMED => {
                    // Nobody can be inside a plain update: share it outright.
                    match self
                        .owner
                        .compare_exchange(UNCLAIMED, SHARED, Acquire, Acquire)
                    {
                        Ok(_) => return,
                        Err(actual) => owner = actual,
                    }
                }
                REVOKING => {
                    backoff.snooze();
                    owner = self.owner.load(Acquire);
                }
                name => match self
                    .owner
                    .compare_exchange(name, REVOKING, Relaxed, Acquire)
                {
                    Ok(_) => break,
                    Err(actual) => owner = actual,
                },
            }
        }
        // Pairs with the owner's light fence between its store of `busy` and its reload of
        // `owner`: from here on, either it saw REVOKING, or we see its `busy`.
        process_barrier();
        let mut backoff = Backoff::new();
        while self.busy.load(Acquire) {
            backoff.snooze(); // the owner is a few instructions from the end of its update
        }
        self.owner.store(SHARED, Release);
    }

    /// As [`AtomicU64::compare_exchange_weak`] (on the owner thread, it never fails
    /// spuriously).
    #[inline(always)]
    pub(crate) fn compare_exchange_weak(
        &self,
        current: u64,
        new: u64,
        success: Ordering,
        failure: Ordering,
    ) -> Result<u64, u64> {
        if !self.begin_local() {
            return self
                .word
                .compare_exchange_weak(current, new, success, failure);
        }
        let actual = self.word.load(Relaxed);
        let result = if actual == current {
            self.word.store(new, Release);
            Ok(actual)
        } else {
            Err(actual)
        };
        self.end_local();
        result
    }

    /// As [`AtomicU64::store`].
    #[inline(always)]
    pub(crate) fn store(&self, value: u64, order: Ordering) {
        if self.begin_local() {
            self.local_rmw(|_| value);
        } else {
            self.word.store(value, order);
        }
    }

    biased_rmw! {
        /// As [`AtomicU64::fetch_or`].
        fetch_or(bits) => |v| v | bits;
        /// As [`AtomicU64::fetch_and`].
        fetch_and(bits) => |v| v & bits;
        /// As [`AtomicU64::fetch_add`] (wrapping).
        fetch_add(n) => |v| v.wrapping_add(n);
        /// As [`AtomicU64::fetch_sub`] (wrapping).
        fetch_sub(n) => |v| v.wrapping_sub(n);
    }

    /// Whether the calling thread would update the word with plain stores (for tests).
    #[cfg(test)]
    pub(crate) fn is_local(&self) -> bool {
        self.owner.load(Relaxed) == thread_name()
    }

    /// Whether the bias is revoked (for tests).
    #[cfg(test)]
    pub(crate) fn is_shared(&self) -> bool {
        self.owner.load(Relaxed) == SHARED
    }
}

impl std::fmt::Debug for BiasedWord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("BiasedWord")
            .field(&self.word.load(Relaxed))
            .finish()
    }
}

/// A spin lock on a [`BiasedWord`], for the short critical sections of wait lists: on the
/// thread that made it, until another thread takes it, locking and unlocking are plain loads
/// and stores. Under contention it spins briefly, then yields the thread (the holder may have
/// been preempted); critical sections never wait for anything.
pub(crate) struct BiasedLock<T> {
    /// 0: free; 1: held.
    word: BiasedWord,
    value: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&mut T` to one holder at a time (the word's acquire CAS and
// release store order the holders), so sharing the lock moves `T` between threads.
unsafe impl<T: Send> Send for BiasedLock<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Sync for BiasedLock<T> {}

impl<T> BiasedLock<T> {
    pub(crate) fn new(value: T) -> Self {
        BiasedLock {
            word: BiasedWord::new(0),
            value: UnsafeCell::new(value),
        }
    }

    weft_core::const_fn_unless_loom! {
    /// A lock owned by the first thread that takes it (for `const` constructors).
    pub(crate) const fn unclaimed(value: T) -> Self {
        BiasedLock {
            word: BiasedWord::unclaimed(0),
            value: UnsafeCell::new(value),
        }
    }
    }

    /// Takes the lock, spinning (then yielding) while another thread holds it.
    #[inline]
    pub(crate) fn lock(&self) -> BiasedLockGuard<'_, T> {
        if self
            .word
            .compare_exchange_weak(0, 1, Acquire, Relaxed)
            .is_err()
        {
            self.lock_contended();
        }
        BiasedLockGuard { lock: self }
    }

    #[cold]
    #[inline(never)]
    fn lock_contended(&self) {
        let mut backoff = Backoff::new();
        loop {
            if self.word.load(Relaxed) == 0
                && self
                    .word
                    .compare_exchange_weak(0, 1, Acquire, Relaxed)
                    .is_ok()
            {
                return;
            }
            backoff.snooze();
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for BiasedLock<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BiasedLock")
            .field("held", &(self.word.load(Relaxed) != 0))
            .finish_non_exhaustive()
    }
}

/// Holds a [`BiasedLock`]; unlocks on drop (also on unwind).
pub(crate) struct BiasedLockGuard<'a, T> {
    lock: &'a BiasedLock<T>,
}

impl<T> std::ops::Deref for BiasedLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: we hold the lock: nobody else accesses the value.
        unsafe { &*self.lock.value.with(|p| p) }
    }
}

impl<T> std::ops::DerefMut for BiasedLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: we hold the lock: nobody else accesses the value.
        unsafe { &mut *self.lock.value.with_mut(|p| p) }
    }
}

impl<T> Drop for BiasedLockGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        self.lock.word.store(0, Release);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn owner_updates_like_an_atomic() {
        let w = BiasedWord::new(0b100);
        assert_eq!(w.is_local(), bias_supported());
        assert_eq!(w.fetch_or(0b1, Relaxed), 0b100);
        assert_eq!(w.fetch_and(!0b100, Relaxed), 0b101);
        assert_eq!(w.fetch_add(4, Relaxed), 0b1);
        assert_eq!(w.fetch_sub(1, Relaxed), 5);
        assert_eq!(w.compare_exchange_weak(3, 9, Relaxed, Relaxed), Err(4));
        assert_eq!(w.compare_exchange_weak(4, 9, Relaxed, Relaxed), Ok(4));
        assert_eq!(w.load(Relaxed), 9);
        assert_eq!(w.is_local(), bias_supported()); // the owner never revokes itself
    }

    #[test]
    fn another_thread_revokes_for_good() {
        let w = Arc::new(BiasedWord::new(1));
        w.fetch_add(1, Relaxed);
        let w2 = Arc::clone(&w);
        std::thread::spawn(move || {
            assert!(!w2.is_local());
            assert_eq!(w2.fetch_add(10, Relaxed), 2);
        })
        .join()
        .unwrap();
        assert!(w.is_shared());
        assert!(!w.is_local());
        assert_eq!(w.fetch_add(100, Relaxed), 12);
        assert_eq!(w.load(Relaxed), 112);
    }

    #[test]
    #[cfg(not(weft_loom))] // a `static` needs the `const` constructor
    fn an_unclaimed_word_goes_to_its_first_updater() {
        static W: BiasedWord = BiasedWord::unclaimed(5);
        assert!(!W.is_local());
        assert_eq!(W.load(Relaxed), 5); // loads claim nothing
        std::thread::spawn(|| {
            assert_eq!(W.fetch_add(1, Relaxed), 5);
            assert_eq!(W.is_local(), bias_supported());
        })
        .join()
        .unwrap();
        assert!(!W.is_local());
        assert_eq!(W.fetch_add(1, Relaxed), 6); // revokes the other thread's claim
        assert!(W.is_shared());
        assert_eq!(W.load(Relaxed), 7);
    }

    /// Mutual exclusion across threads, while the first thread's bias is revoked.
    #[test]
    fn the_lock_excludes_across_threads() {
        let (threads, iters) = if cfg!(miri) { (2, 20) } else { (3, 5_000) };
        let lock = Arc::new(BiasedLock::new((0usize, false)));
        {
            let mut g = lock.lock(); // this thread owns the word
            g.0 += 1;
        }
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                let lock = Arc::clone(&lock);
                std::thread::spawn(move || {
                    for _ in 0..iters {
                        let mut g = lock.lock();
                        assert!(!g.1, "two holders at once");
                        g.1 = true;
                        g.0 += 1;
                        std::hint::spin_loop();
                        g.1 = false;
                    }
                })
            })
            .collect();
        handles.into_iter().for_each(|h| h.join().unwrap());
        assert_eq!(lock.lock().0, 1 + threads * iters);
    }

    /// The owner keeps updating while other threads start to: every update lands exactly
    /// once, whichever way the revocation races with the owner's updates.
    #[test]
    fn no_update_is_lost_while_revoking() {
        use std::sync::atomic::AtomicUsize;
        let (rounds, per_thread) = if cfg!(miri) { (2, 10) } else { (300, 200) };
        let increment = |w: &BiasedWord| {
            let mut v = w.load(Relaxed);
            while let Err(actual) = w.compare_exchange_weak(v, v + 1, Ordering::AcqRel, Relaxed) {
                v = actual;
            }
        };
        for _ in 0..rounds {
            let w = Arc::new(BiasedWord::new(0));
            let finished = Arc::new(AtomicUsize::new(0));
            let others: Vec<_> = (0..2)
                .map(|_| {
                    let (w, finished) = (Arc::clone(&w), Arc::clone(&finished));
                    std::thread::spawn(move || {
                        (0..per_thread).for_each(|_| increment(&w));
                        finished.fetch_add(1, Release);
                    })
                })
                .collect();
            // The owner updates until both others are done, so that their revocation lands
            // somewhere among its updates.
            let mut mine = 0;
            while finished.load(Acquire) < 2 {
                if mine % 2 == 0 {
                    w.fetch_add(1, Ordering::AcqRel);
                } else {
                    increment(&w);
                }
                mine += 1;
            }
            for t in others {
                t.join().unwrap();
            }
            assert_eq!(w.load(Relaxed), mine + 2 * per_thread);
        }
    }
}
