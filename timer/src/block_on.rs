//! [`Timer::block_on`]: a minimal one-future driver, for tests, examples and using the timer
//! without the weft runtime.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use crate::driver::Timer;

/// Unparks the blocked thread.
struct ThreadWaker {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.woken.swap(true, Ordering::AcqRel) {
            self.thread.unpark();
        }
    }
}

impl Timer {
    /// Runs `future` to completion on this thread with this timer entered, driving the timer
    /// itself: when the future is pending, it fires due timers and sleeps (real clock) or
    /// jumps the paused clock to the next deadline. It runs no other tasks: combine futures
    /// with `join`/`select` to run several. The weft runtime does all of this (and I/O) in
    /// its driver; this exists for tests, examples, and standalone use of the timer.
    ///
    /// Timer futures must be created inside (`block_on(async { sleep(d).await })`): `sleep(d)`
    /// needs the timer to be current when it is called.
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
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _enter = self.enter();
        let state = Arc::new(ThreadWaker {
            thread: thread::current(),
            woken: AtomicBool::new(false),
        });
        let waker = Waker::from(state.clone());
        let mut cx = Context::from_waker(&waker);
        let mut future = pin!(future);
        loop {
            if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
                return out;
            }
            // Idle until woken: fire due timers, then sleep or jump the paused clock.
            loop {
                self.process();
                if state.woken.swap(false, Ordering::AcqRel) {
                    break;
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
            }
        }
    }
}
