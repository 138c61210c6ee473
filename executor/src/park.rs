//! How the executor sleeps when it has nothing to run.
//!
//! The executor knows nothing of I/O or time. When its run queue is empty it calls
//! [`Park::park`]; a driver (the reactor's mio loop, or the plain [`ThreadPark`] here) sleeps
//! until there is work, a deadline passes, or another thread calls [`Unpark::unpark`].

use std::sync::Arc;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};
use weft_core::context::RuntimeContext;

/// Something the executor can sleep in.
///
/// # Contract
///
/// * `park(Some(Duration::ZERO))` must not block: it only collects what is ready now (I/O
///   events, expired timers) and wakes the tasks waiting on it.
/// * `park(None)` blocks until some task may have become runnable: an event, a deadline the
///   driver itself knows of, or a call to [`Unpark::unpark`] on the handle from
///   [`Park::unparker`].
/// * An `unpark` that happens before `park` is called is not lost: the next `park` returns at
///   once.
/// * Spurious returns are allowed; the executor re-checks its queues after every return.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use weft_executor::park::{Park, ThreadPark};
///
/// let mut park = ThreadPark::new();
/// park.unparker().unpark();
/// park.park(None); // returns at once: the unpark above was remembered
/// park.park(Some(Duration::ZERO)); // never blocks
/// ```
pub trait Park {
    /// Sleeps for at most `timeout` (`None`: until unparked), then wakes what became ready.
    fn park(&mut self, timeout: Option<Duration>);

    /// A handle that interrupts [`Park::park`] from any thread.
    fn unparker(&self) -> Arc<dyn Unpark>;

    /// What the driver has done so far, for the runtime's metrics.
    fn stats(&self) -> ParkStats {
        ParkStats::default()
    }

    /// Adds the driver's handles (and clock) to the runtime's context, which the runtime
    /// enters while it runs, so that the futures polled there find them. Called once, when
    /// the runtime is built.
    fn register(&self, cx: &mut RuntimeContext) {
        let _ = cx;
    }
}

/// Counters a [`Park`] implementation reports to the runtime's metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParkStats {
    /// I/O events delivered to their sources.
    pub io_events: u64,
    /// Timers that fired.
    pub timers_fired: u64,
}

/// Interrupts a [`Park::park`] from any thread.
pub trait Unpark: Send + Sync + 'static {
    /// Makes the current or the next `park` return.
    fn unpark(&self);
}

/// The default [`Park`]: blocks the thread on a condition variable. No I/O, no timers.
///
/// # Examples
///
/// ```
/// use weft_executor::park::ThreadPark;
/// use weft_executor::Runtime;
///
/// let rt = Runtime::with_park(ThreadPark::new());
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Default)]
pub struct ThreadPark {
    inner: Arc<ThreadUnpark>,
}

#[derive(Debug, Default)]
struct ThreadUnpark {
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl ThreadPark {
    /// Creates a thread parker.
    pub fn new() -> ThreadPark {
        ThreadPark::default()
    }
}

impl Park for ThreadPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let mut notified = self.inner.notified.lock();
        if !*notified {
            match timeout {
                Some(d) if d.is_zero() => {}
                Some(d) => {
                    self.inner.condvar.wait_for(&mut notified, d);
                }
                None => {
                    while !*notified {
                        self.inner.condvar.wait(&mut notified);
                    }
                }
            }
        }
        *notified = false;
    }

    fn unparker(&self) -> Arc<dyn Unpark> {
        self.inner.clone()
    }
}

impl Unpark for ThreadUnpark {
    fn unpark(&self) {
        let mut notified = self.notified.lock();
        if !*notified {
            *notified = true;
            self.condvar.notify_one();
        }
    }
}
