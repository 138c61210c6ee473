//! The clock of the runtime running on this thread, for crates that cannot depend on the timer.
//!
//! Time is a `Duration` since the process's [`anchor`]: the first `std::time::Instant` any
//! weft crate took. The timer's `Instant` counts from the same anchor, so a time read here and
//! one read there agree, and a value kept across runtimes (a rate limiter's schedule) stays
//! meaningful.
//!
//! While a runtime is entered, [`now`] and [`sleep_until`] use its [`Clock`] (the timer, which
//! may be paused). Elsewhere they use real time, and sleeps are fired by one helper thread,
//! started on the first sleep that has to wait.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Condvar, Mutex, OnceLock};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::context;

/// A runtime's clock, as the crates below the timer see it.
pub trait Clock: 'static {
    /// The current time, as a duration since [`anchor`]. Never goes backwards.
    fn now(&self) -> Duration;

    /// A future that completes once [`now`](Self::now) `>= deadline` (at once if it already
    /// is). Dropping it cancels the sleep.
    fn sleep_until(&self, deadline: Duration)
        -> Pin<Box<dyn Future<Output = ()> + Send + 'static>>;
}

/// The instant weft's time counts from: the first one a weft crate took in this process.
///
/// # Examples
///
/// ```
/// let a = weft_core::time::anchor();
/// assert_eq!(weft_core::time::anchor(), a);
/// ```
pub fn anchor() -> std::time::Instant {
    // Set once and never changed: a fixed point of the process's monotonic clock, not state.
    static ANCHOR: OnceLock<std::time::Instant> = OnceLock::new();
    *ANCHOR.get_or_init(std::time::Instant::now)
}

/// Real time since the [`anchor`].
fn real_now() -> Duration {
    anchor().elapsed()
}

/// The current runtime's time (paused or not), or real time off a runtime, since [`anchor`].
///
/// # Examples
///
/// ```
/// let t = weft_core::time::now();
/// assert!(weft_core::time::now() >= t);
/// ```
pub fn now() -> Duration {
    context::with_clock(|c| c.now()).unwrap_or_else(real_now)
}

/// A future that completes once [`now`] reaches `deadline`: on the current runtime's clock, or
/// on real time (fired by a helper thread) off a runtime.
///
/// # Examples
///
/// ```
/// let now = weft_core::time::now();
/// futures::executor::block_on(weft_core::time::sleep_until(now)); // already due
/// ```
pub fn sleep_until(deadline: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
    context::with_clock(|c| c.sleep_until(deadline))
        .unwrap_or_else(|| Box::pin(RealSleep { deadline }))
}

/// A sleep on real time, fired by the helper thread.
struct RealSleep {
    deadline: Duration,
}

impl Future for RealSleep {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if real_now() >= self.deadline {
            return Poll::Ready(());
        }
        sleeper().push(self.deadline, cx.waker().clone());
        Poll::Pending
    }
}

/// The helper thread's queue: deadlines and the wakers to wake at them. A woken sleep that is
/// not yet due (a spurious poll) registers again, so the queue may hold stale wakers; waking
/// one is harmless.
struct Sleeper {
    queue: Mutex<Vec<(Duration, Waker)>>,
    condvar: Condvar,
}

impl Sleeper {
    fn push(&self, deadline: Duration, waker: Waker) {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        queue.push((deadline, waker));
        drop(queue);
        self.condvar.notify_one();
    }

    fn run(&self) -> ! {
        let mut queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
        loop {
            let now = real_now();
            let mut due = Vec::new();
            let mut i = 0;
            while i < queue.len() {
                if queue[i].0 <= now {
                    due.push(queue.swap_remove(i).1);
                } else {
                    i += 1;
                }
            }
            if !due.is_empty() {
                // Wake with the lock released: a waker may run arbitrary code.
                drop(queue);
                due.into_iter().for_each(Waker::wake);
                queue = self.queue.lock().unwrap_or_else(|e| e.into_inner());
                continue;
            }
            let next = queue.iter().map(|(d, _)| *d).min();
            queue = match next {
                Some(deadline) => {
                    let wait = deadline.saturating_sub(now);
                    self.condvar
                        .wait_timeout(queue, wait)
                        .unwrap_or_else(|e| e.into_inner())
                        .0
                }
                None => self.condvar.wait(queue).unwrap_or_else(|e| e.into_inner()),
            };
        }
    }
}

/// The helper thread, started on first use. It serves sleeps off any runtime (a rate limiter
/// on a plain thread or another executor): a service of the process, holding no runtime's
/// state.
fn sleeper() -> &'static Sleeper {
    static SLEEPER: OnceLock<&'static Sleeper> = OnceLock::new();
    SLEEPER.get_or_init(|| {
        let sleeper: &'static Sleeper = Box::leak(Box::new(Sleeper {
            queue: Mutex::new(Vec::new()),
            condvar: Condvar::new(),
        }));
        std::thread::Builder::new()
            .name("weft-clock".into())
            .spawn(move || sleeper.run())
            .expect("failed to spawn weft's clock thread");
        sleeper
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    // The helper thread lives for the process, which Miri reports as a leaked thread.
    #[cfg_attr(miri, ignore)]
    fn real_sleeps_fire_off_a_runtime() {
        let start = std::time::Instant::now();
        futures::executor::block_on(sleep_until(now() + Duration::from_millis(5)));
        assert!(start.elapsed() >= Duration::from_millis(5));
    }

    #[test]
    fn the_entered_clock_is_used() {
        struct Fixed;
        impl Clock for Fixed {
            fn now(&self) -> Duration {
                Duration::from_secs(42)
            }
            fn sleep_until(&self, _: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
                Box::pin(std::future::pending())
            }
        }
        let mut cx = context::RuntimeContext::new();
        cx.set_clock(Rc::new(Fixed));
        cx.enter(|| {
            assert_eq!(now(), Duration::from_secs(42));
            let waker = futures::task::noop_waker();
            let mut task = Context::from_waker(&waker);
            assert!(sleep_until(Duration::ZERO)
                .as_mut()
                .poll(&mut task)
                .is_pending());
        });
        assert!(now() < Duration::from_secs(42 * 1_000_000));
    }
}
