//! [`yield_now`]: give the other tasks a turn.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields once: returns `Pending` after waking its task, so the task goes to the back of the
/// run queue and the tasks that were ready before it run first (asyncio's `sleep(0)`,
/// tokio's `task::yield_now`).
///
/// # Examples
///
/// ```
/// use std::future::Future;
/// use std::task::{Context, Poll};
///
/// let waker = futures::task::noop_waker();
/// let mut cx = Context::from_waker(&waker);
/// let mut y = weft_core::yield_now();
/// assert_eq!(std::pin::Pin::new(&mut y).poll(&mut cx), Poll::Pending);
/// assert_eq!(std::pin::Pin::new(&mut y).poll(&mut cx), Poll::Ready(()));
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// Future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}
