//! A mock task: polls a future or stream by hand with a waker that records its wakes.

use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use futures_core::Stream;

/// Wraps `task` in a [`Spawn`]: a mock task that polls it with a recording waker.
///
/// # Examples
///
/// ```
/// use tokio_test::{assert_ready, task};
///
/// let mut t = task::spawn(async { 7 });
/// assert_eq!(assert_ready!(t.poll()), 7);
/// assert!(!t.is_woken());
/// ```
pub fn spawn<T>(task: T) -> Spawn<T> {
    Spawn {
        task: MockTask::new(),
        future: Box::pin(task),
    }
}

/// A future or stream with the mock task that polls it. See [`spawn`].
#[derive(Debug)]
#[must_use = "a mock task does nothing unless polled"]
pub struct Spawn<T> {
    task: MockTask,
    future: Pin<Box<T>>,
}

/// The waker's side: whether it was woken since the last poll.
#[derive(Debug, Default)]
struct Flag {
    woken: AtomicBool,
}

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.woken.store(true, Ordering::SeqCst);
    }
}

/// A task with a waker that records whether it was woken.
#[derive(Debug)]
struct MockTask {
    flag: Arc<Flag>,
}

impl MockTask {
    fn new() -> MockTask {
        MockTask {
            flag: Arc::new(Flag::default()),
        }
    }

    /// Runs `f` with a context of this task's waker, after clearing the woken flag.
    fn enter<F, R>(&mut self, f: F) -> R
    where
        F: FnOnce(&mut Context<'_>) -> R,
    {
        self.flag.woken.store(false, Ordering::SeqCst);
        let waker = Waker::from(self.flag.clone());
        let mut cx = Context::from_waker(&waker);
        f(&mut cx)
    }
}

impl<T> Spawn<T> {
    /// Whether the task was woken since its last poll.
    pub fn is_woken(&self) -> bool {
        self.task.flag.woken.load(Ordering::SeqCst)
    }

    /// How many references to the task's waker exist, the task's own included (so 1 when
    /// nothing holds a clone of the waker).
    pub fn waker_ref_count(&self) -> usize {
        Arc::strong_count(&self.task.flag)
    }

    /// Calls `f` with the task's context and the pinned inner value (clearing the woken flag
    /// first, as a poll does).
    pub fn enter<F, R>(&mut self, f: F) -> R
    where
        F: FnOnce(&mut Context<'_>, Pin<&mut T>) -> R,
    {
        let fut = self.future.as_mut();
        self.task.enter(|cx| f(cx, fut))
    }
}

impl<T: Unpin> Spawn<T> {
    /// The inner value.
    pub fn into_inner(self) -> T {
        *Pin::into_inner(self.future)
    }
}

impl<T: Future> Spawn<T> {
    /// Polls the future once with the mock task's waker.
    pub fn poll(&mut self) -> Poll<T::Output> {
        let fut = self.future.as_mut();
        self.task.enter(|cx| fut.poll(cx))
    }
}

impl<T: Stream> Spawn<T> {
    /// Polls the stream once with the mock task's waker.
    pub fn poll_next(&mut self) -> Poll<Option<T::Item>> {
        let stream = self.future.as_mut();
        self.task.enter(|cx| stream.poll_next(cx))
    }
}

impl<T> Deref for Spawn<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.future
    }
}

impl<T: Unpin> DerefMut for Spawn<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.future
    }
}

impl<T: Future> Future for Spawn<T> {
    type Output = T::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T::Output> {
        self.future.as_mut().poll(cx)
    }
}

impl<T: Stream> Stream for Spawn<T> {
    type Item = T::Item;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T::Item>> {
        self.future.as_mut().poll_next(cx)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        self.future.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::spawn;
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};

    /// Pending until woken once through the waker it kept.
    #[derive(Default)]
    struct Once {
        waker: Option<Waker>,
        polls: u32,
    }

    impl Future for Once {
        type Output = u32;
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
            self.polls += 1;
            if self.polls == 1 {
                self.waker = Some(cx.waker().clone());
                Poll::Pending
            } else {
                Poll::Ready(self.polls)
            }
        }
    }

    #[test]
    fn records_wakes_and_counts_waker_references() {
        let mut t = spawn(Once::default());
        assert_eq!(t.waker_ref_count(), 1);
        assert!(t.poll().is_pending());
        assert_eq!(t.waker_ref_count(), 2);
        assert!(!t.is_woken());
        t.waker.take().unwrap().wake();
        assert!(t.is_woken());
        assert_eq!(t.waker_ref_count(), 1);
        assert_eq!(t.poll(), Poll::Ready(2));
        assert!(!t.is_woken(), "a poll clears the flag");
    }
}
