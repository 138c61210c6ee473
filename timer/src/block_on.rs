//! [`Timer::block_on`]: a minimal one-future driver, for tests, examples and using the timer
//! without the weft runtime.

use std::future::Future;
use std::thread;

use weft_core::context::RuntimeContext;

use crate::driver::Timer;

impl Timer {
    /// Runs `future` to completion on this thread with this timer current, driving the timer
    /// itself: when the future is pending, it fires due timers and sleeps (real clock) or
    /// jumps the paused clock to the next deadline. It runs no other tasks: combine futures
    /// with `join`/`select` to run several. The weft runtime does all of this (and I/O) in
    /// its driver; this exists for tests, examples, and standalone use of the timer.
    ///
    /// Timer futures must be created inside (`block_on(async { sleep(d).await })`): `sleep(d)`
    /// needs the timer to be current when it is called.
    ///
    /// # Panics
    ///
    /// Inside a weft runtime (it would block the runtime's thread).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_timer::{driver::Timer, sleep, Instant};
    ///
    /// let timer = Timer::new(true); // paused: an hour passes at once
    /// let start = Instant::from_std(std::time::Instant::now());
    /// timer.block_on(async { sleep(Duration::from_secs(3600)).await });
    /// assert!(start.into_std().elapsed() < Duration::from_secs(1));
    ///
    /// let real = Timer::new(false);
    /// let t = std::time::Instant::now();
    /// real.block_on(async { sleep(Duration::from_millis(2)).await });
    /// assert!(t.elapsed() >= Duration::from_millis(2));
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        if weft_core::context::in_runtime() {
            panic!(
                "`Timer::block_on` called from inside a weft runtime: this would block the \
                 runtime's thread (use `.await` instead)"
            );
        }
        let mut cx = RuntimeContext::new();
        self.register(&mut cx);
        let idle = |woken: &weft_core::Woken<'_>| {
            // Fire due timers; if that woke the future, poll it again at once.
            self.process();
            if woken.get() {
                return;
            }
            match self.next_deadline() {
                Some(deadline) if self.is_paused() => self.advance_to(deadline),
                Some(deadline) => {
                    let wait = deadline.saturating_duration_since(self.now());
                    if !wait.is_zero() {
                        thread::park_timeout(wait);
                    }
                }
                None => thread::park(),
            }
        };
        cx.enter(|| weft_core::block_on_with(future, idle))
    }
}
