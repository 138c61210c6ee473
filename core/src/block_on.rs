//! One future driven on the calling thread: the `block_on` behind the channels' `blocking_*`
//! methods and the timer's standalone driver.
//!
//! The future is polled with a waker that sets a flag and unparks this thread; between polls
//! the caller's `park` function runs until the flag is set. An `unpark` that comes before the
//! thread parks makes that park return at once, and a spurious return only costs one more
//! check of the flag, so no wake-up is lost.
//!
//! Each thread keeps one such waker for its lifetime, so repeated blocking calls present the
//! same waker, and a channel that kept it registered need not clone a new one. A wake left
//! over from an earlier call costs one extra poll, never a missed one.

use std::future::Future;
use std::pin::pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

use crate::context;

/// Wakes a thread that drives a future in [`block_on`].
struct ThreadWaker {
    thread: Thread,
    woken: AtomicBool,
}

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        // Release: what the waker's caller wrote before waking is visible to the poll that
        // follows the Acquire swap in `Woken::take`.
        if !self.woken.swap(true, Ordering::Release) {
            self.thread.unpark();
        }
    }
}

thread_local! {
    /// This thread's waker, made on first use.
    static WAKER: Arc<ThreadWaker> = Arc::new(ThreadWaker {
        thread: thread::current(),
        woken: AtomicBool::new(false),
    });
}

/// Whether the future driven by [`block_on_with`] was woken since its last poll.
#[derive(Debug)]
pub struct Woken<'a>(&'a AtomicBool);

impl Woken<'_> {
    /// Whether a wake arrived (without consuming it).
    pub fn get(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }

    fn take(&self) -> bool {
        self.0.swap(false, Ordering::Acquire)
    }
}

/// Runs `fut` to completion on this thread, parking the thread while it is pending.
///
/// `what` names the caller, for the panic message.
///
/// # Panics
///
/// If a weft runtime is running on this thread ([`context::in_runtime`]): blocking it would
/// stall every task on it, and deadlock if the value is to come from one of them.
///
/// # Examples
///
/// ```
/// let v = weft_core::block_on("example", async { 6 * 7 });
/// assert_eq!(v, 42);
/// ```
#[track_caller]
pub fn block_on<F: Future>(what: &str, fut: F) -> F::Output {
    if context::in_runtime() {
        panic!(
            "`{what}` called from inside a weft runtime: this would block the runtime's \
             thread (use `.await` instead)"
        );
    }
    block_on_with(fut, |_| thread::park())
}

/// Runs `fut` to completion on this thread; while it is pending and not woken, calls
/// `park(&woken)` again and again. `park` sleeps (with `std::thread::park` or
/// `park_timeout`, which a wake interrupts) or makes progress of its own, such as firing due
/// timers, and returns; it may return early, and should return without sleeping once
/// `woken.get()` is true.
///
/// Unlike [`block_on`], this does not check for a runtime on this thread: it is the driver
/// loop of runtimes of one future (the timer's standalone `block_on`), which check before
/// they enter their own context.
///
/// # Examples
///
/// ```
/// use std::task::Poll;
///
/// let mut polls = 0;
/// let mut parks = 0;
/// let v = weft_core::block_on_with(
///     std::future::poll_fn(|cx| {
///         polls += 1;
///         if polls == 3 {
///             return Poll::Ready("done");
///         }
///         cx.waker().wake_by_ref(); // woken at once: no park needed
///         Poll::Pending
///     }),
///     |_| parks += 1,
/// );
/// assert_eq!((v, polls, parks), ("done", 3, 0));
/// ```
pub fn block_on_with<F: Future>(fut: F, mut park: impl FnMut(&Woken<'_>)) -> F::Output {
    // `try_with` fails only while this thread's locals are being destroyed: use a fresh one.
    let state = WAKER.try_with(Arc::clone).unwrap_or_else(|_| {
        Arc::new(ThreadWaker {
            thread: thread::current(),
            woken: AtomicBool::new(false),
        })
    });
    let woken = Woken(&state.woken);
    let waker = Waker::from(state.clone());
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        while !woken.take() {
            park(&woken);
        }
    }
}
