//! [`Backoff`]: waiting for another thread to finish a handful of instructions.

/// Exponential backoff for the few places where a thread must wait for another thread to
/// finish a handful of instructions (a sender between claiming a slot and publishing it).
///
/// On one thread these windows can never be observed: there is no `.await` inside them.
pub(crate) struct Backoff {
    step: u32,
}

impl Backoff {
    const SPIN_LIMIT: u32 = 6;

    pub(crate) fn new() -> Self {
        Backoff { step: 0 }
    }

    /// Spins briefly, then yields the thread to the OS scheduler (the other thread may have
    /// been preempted inside its window).
    pub(crate) fn snooze(&mut self) {
        if self.step <= Self::SPIN_LIMIT {
            for _ in 0..1u32 << self.step {
                weft_core::sync::hint::spin_loop();
            }
            self.step += 1;
        } else {
            weft_core::sync::thread::yield_now();
        }
    }

    /// Whether spinning has gone on long enough that the caller should rather yield to its
    /// executor (wake itself and return `Pending`).
    pub(crate) fn is_completed(&self) -> bool {
        self.step > Self::SPIN_LIMIT
    }
}
