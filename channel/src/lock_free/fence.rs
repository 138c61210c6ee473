//! Asymmetric fences: a free one for a hot path, a costly one for the rare path it pairs with.
//!
//! The bounded `mpsc` channel has a store-buffering pair. After each message the receiver
//! stores how many messages it has taken (the capacity it freed), then loads the state word
//! to see whether a sender waits for that room. A sender about to wait sets `TX_WAITING` in
//! the state word, then loads the receiver's count again. Without a full fence on *both*
//! sides, each may miss the other's write, and the sender sleeps while there is room.
//!
//! A full fence costs as much as the atomic read-modify-write it would replace (~10 ns here),
//! and the receiver pays it on every message while a sender waits only when the channel is
//! full. So the fence is made asymmetric, as with folly's `asymmetricLightBarrier`: on Linux
//! the waiting sender calls `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)`, which runs a full
//! barrier on every CPU executing one of this process's threads, and the receiver's side is a
//! compiler fence only. Whichever way the two race, the barrier falls between the receiver's
//! store and its load, or before the store: so either the receiver sees `TX_WAITING` or the
//! sender's second load sees the store.
//!
//! Where `membarrier` is missing (another OS, an old kernel, a seccomp filter, or Miri) both
//! sides use `fence(SeqCst)`: correct everywhere, and the receiver pays the fence.
//!
//! # The same-thread skip
//!
//! A `membarrier` call costs ~0.2-2 us. When the sender and the receiver take turns on one
//! thread (a small channel between two tasks of one runtime), a sender starts waiting about
//! once per message and would pay that each time, although a store and a load of the same
//! thread are already in program order. So the light side records which thread it runs on
//! (`light_start`, before its store); when that changes it stores the new thread and then runs
//! a full fence. The heavy side, after its store, runs a full fence and reads that record: if
//! it names the heavy side's own thread, the barrier is skipped. Why that is enough:
//!
//! * If the light side's latest operations ran on this thread, they are sequenced with ours:
//!   each is wholly before or wholly after this point, and needs no barrier.
//! * If the light side runs elsewhere, say on thread B, then B recorded itself, and ran a full
//!   fence after that record, before any store and load it pairs with ours. Our record read
//!   and its later state load then form a store-buffering pair with full fences on both
//!   sides: since our read missed B's record, B's load sees our store.
//!
//! A thread is named by the address of a thread-local. A dead thread's address may be reused
//! by a new one; that is harmless, as only the thread doing the reading must match, and the
//! light side records itself again on any thread whose name differs from the record.
//!
//! # The loom model of `membarrier`
//!
//! loom cannot run a fence on another thread. What the protocols assume of
//! `membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)` is what Linux documents: when it returns,
//! every other thread of the process has run a full memory barrier at some point of its
//! program between the call's start and its return (or was not running, and the context
//! switch was one). The light side relies on that barrier only at its compiler fence, between
//! its store and its load; wherever the barrier really falls (before the store, between, or
//! after the load), the outcome the protocols exclude, both sides missing the other's store,
//! stays excluded. So under `cfg(weft_loom)` the model places it exactly there: the light
//! side is `fence(SeqCst)` (the barrier `membarrier` runs on that thread) and the heavy side
//! is its caller's own `fence(SeqCst)`, with `membarrier` taken as present so that the
//! same-thread skip's branches run too. The real system call is exercised by
//! `scripts/stress-membarrier.sh`.

use weft_core::sync::atomic::{
    compiler_fence, fence, AtomicUsize, Ordering::Relaxed, Ordering::SeqCst,
};

/// A pair of fences chosen once, when a channel is created. Both sides of the channel use the
/// same pair (it lives in the channel), so a light side is only ever paired with a real
/// process-wide heavy side.
pub(crate) struct AsymFence {
    /// `membarrier` works: `light` is a compiler fence and `heavy` the system call.
    membarrier: bool,
    /// The thread the light side last ran on (see the same-thread skip); 0 before it ran.
    light_thread: AtomicUsize,
}

pub(crate) use weft_core::sync::thread::name as thread_name;

/// Whether `membarrier` works in this process: then [`process_barrier`] is that system call,
/// and a compiler fence is enough on the light side of a pair.
pub(crate) fn membarrier_available() -> bool {
    sys::available()
}

/// The heavy side of an asymmetric pair whose light side is a compiler fence: a full fence on
/// every thread of the process (where `membarrier` is missing, only on this one, and the
/// light side must then be `fence(SeqCst)` too).
pub(crate) fn process_barrier() {
    fence(SeqCst);
    if sys::available() {
        sys::barrier();
        fence(SeqCst);
    }
}

impl AsymFence {
    pub(crate) fn new() -> Self {
        AsymFence {
            membarrier: cfg!(weft_loom) || sys::available(),
            light_thread: AtomicUsize::new(0),
        }
    }

    /// The hot side, before its store: records the thread it runs on (see the module docs).
    #[inline]
    pub(crate) fn light_start(&self) {
        let me = thread_name();
        if self.light_thread.load(Relaxed) != me {
            self.light_moved(me);
        }
    }

    #[cold]
    #[inline(never)]
    fn light_moved(&self, me: usize) {
        self.light_thread.store(me, Relaxed);
        fence(SeqCst);
    }

    /// The hot side, between its store and its load: orders them, provided the other side
    /// uses [`heavy`](Self::heavy) and this side called [`light_start`](Self::light_start)
    /// before its store.
    #[inline]
    pub(crate) fn light(&self) {
        if cfg!(weft_loom) {
            fence(SeqCst); // where `membarrier` strikes (see "The loom model")
        } else if self.membarrier {
            compiler_fence(SeqCst);
        } else {
            fence(SeqCst);
        }
    }

    /// The rare side, between its store and its load: a full fence on every thread of the
    /// process, or only on this one when the light side last ran here.
    pub(crate) fn heavy(&self) {
        fence(SeqCst);
        if self.membarrier && self.light_thread.load(Relaxed) != thread_name() {
            sys::barrier();
            fence(SeqCst);
        }
    }

    /// Whether `heavy` would call the system call now (for tests).
    #[cfg(test)]
    fn would_barrier(&self) -> bool {
        self.membarrier && self.light_thread.load(Relaxed) != thread_name()
    }
}

#[cfg(all(target_os = "linux", not(miri), not(weft_loom)))]
mod sys {
    use std::sync::OnceLock;

    // From <linux/membarrier.h>.
    const MEMBARRIER_CMD_PRIVATE_EXPEDITED: libc::c_int = 1 << 3;
    const MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED: libc::c_int = 1 << 4;

    fn membarrier(cmd: libc::c_int) -> bool {
        // SAFETY: `membarrier` takes (cmd, flags, cpu_id) by value and touches no memory of
        // ours; an unknown or refused command only returns -1.
        unsafe {
            libc::syscall(
                libc::SYS_membarrier,
                cmd,
                0 as libc::c_uint,
                0 as libc::c_int,
            ) == 0
        }
    }

    /// Registers the process for expedited barriers once, and checks that one works.
    pub(super) fn available() -> bool {
        static AVAILABLE: OnceLock<bool> = OnceLock::new();
        *AVAILABLE.get_or_init(|| {
            membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)
                && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)
        })
    }

    /// A full barrier on every CPU running a thread of this process.
    pub(super) fn barrier() {
        if membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED) {
            return;
        }
        // Registration is per address space and survives until `exec`; a child made by
        // `fork` without `exec` may need it again.
        if membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED)
            && membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED)
        {
            return;
        }
        // Receivers rely on this barrier; going on without it could strand a sender with
        // room free. The kernel accepted the command for this process before, so this is
        // not a state a caller can reach by input.
        panic!(
            "membarrier stopped working after it was registered: {}",
            std::io::Error::last_os_error()
        );
    }
}

#[cfg(not(all(target_os = "linux", not(miri), not(weft_loom))))]
mod sys {
    pub(super) fn available() -> bool {
        false
    }

    pub(super) fn barrier() {}
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `heavy` panics if the system call fails after registration; here it must not, twice
    /// (the second call takes the registered fast path).
    #[test]
    fn both_sides_run() {
        let f = AsymFence::new();
        f.light_start();
        f.light();
        f.heavy();
        f.heavy();
        // Miri has no `membarrier`: the fallback must be chosen there.
        if cfg!(miri) {
            assert!(!f.membarrier);
        }
    }

    /// The barrier is skipped only while the light side last ran on the heavy side's thread.
    #[test]
    fn same_thread_skips_the_barrier() {
        let f = AsymFence::new();
        assert_eq!(f.would_barrier(), f.membarrier); // the light side never ran
        f.light_start();
        assert!(!f.would_barrier());
        std::thread::scope(|s| {
            s.spawn(|| {
                assert_eq!(f.would_barrier(), f.membarrier); // it ran on another thread
                f.light_start();
                assert!(!f.would_barrier());
            });
        });
        assert_eq!(f.would_barrier(), f.membarrier); // it moved away from this thread
        f.heavy();
    }
}
