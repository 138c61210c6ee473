//! The `block_on` behind the `blocking_*` methods: drives one future on the calling thread.
//!
//! The future is polled with a waker that unparks this thread; between polls the thread
//! parks. `std::thread::park` may return spuriously and a stale waker (from an earlier call)
//! may unpark us: both cost one extra poll, never a lost wakeup, because an `unpark` that
//! comes before the `park` makes that `park` return at once.
//!
//! Each thread keeps one such waker for its lifetime, so repeated blocking calls on a
//! channel present the same waker and the channel keeps it registered (no clone per call).

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

/// Wakes a thread parked in [`block_on`].
struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

fn thread_waker() -> Waker {
    Waker::from(Arc::new(ThreadWaker(thread::current())))
}

thread_local! {
    /// This thread's waker, made on first use.
    static WAKER: Waker = thread_waker();
}

/// Runs `fut` to completion on this thread, parking it while the future is pending.
///
/// `what` names the public method, for the panic message.
///
/// # Panics
///
/// If the runtime check installed with [`coop::set_runtime_check`](crate::coop::set_runtime_check)
/// says this thread runs an async runtime: blocking it would stall every task on it (and
/// deadlock if the value is to come from one of them).
#[track_caller]
pub(crate) fn block_on<F: Future>(what: &str, fut: F) -> F::Output {
    if crate::coop::in_runtime() {
        // The first sentence is tokio's, so that code (and tests) expecting it match.
        panic!(
            "Cannot block the current thread from within a runtime: `{what}` called from \
             inside a weft runtime would block the runtime's thread (use `.await` instead)"
        );
    }
    // `try_with` fails only while this thread's locals are being destroyed.
    let waker = WAKER
        .try_with(Waker::clone)
        .unwrap_or_else(|_| thread_waker());
    let mut cx = Context::from_waker(&waker);
    let mut fut = pin!(fut);
    loop {
        if let Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}
