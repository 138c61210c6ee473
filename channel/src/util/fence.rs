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

use std::sync::atomic::{compiler_fence, fence, Ordering::SeqCst};

/// A pair of fences chosen once, when a channel is created. Both sides of the channel use the
/// same pair (it lives in the channel), so a light side is only ever paired with a real
/// process-wide heavy side.
#[derive(Clone, Copy)]
pub(crate) struct AsymFence {
    /// `membarrier` works: `light` is a compiler fence and `heavy` the system call.
    membarrier: bool,
}

impl AsymFence {
    pub(crate) fn new() -> Self {
        AsymFence {
            membarrier: sys::available(),
        }
    }

    /// The hot side: orders the caller's earlier store before its later load, provided the
    /// other side uses [`heavy`](Self::heavy).
    #[inline]
    pub(crate) fn light(self) {
        if self.membarrier {
            compiler_fence(SeqCst);
        } else {
            fence(SeqCst);
        }
    }

    /// The rare side: a full fence on every thread of the process.
    pub(crate) fn heavy(self) {
        fence(SeqCst);
        if self.membarrier {
            sys::barrier();
            fence(SeqCst);
        }
    }
}

#[cfg(all(target_os = "linux", not(miri)))]
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

#[cfg(not(all(target_os = "linux", not(miri))))]
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
        f.light();
        f.heavy();
        f.heavy();
        // Miri has no `membarrier`: the fallback must be chosen there.
        if cfg!(miri) {
            assert!(!f.membarrier);
        }
    }
}
