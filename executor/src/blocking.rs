//! The blocking pool: threads for work that would block the runtime's thread (file I/O, DNS,
//! CPU-heavy calls). asyncio's `to_thread`, tokio's `spawn_blocking`.
//!
//! Each runtime has its own pool, started lazily. Up to `max_threads` threads (512 by
//! default); a thread that has had no work for `keep_alive` (10 s by default) exits. A job's
//! result comes back to the runtime through an ordinary task waker, i.e. the remote queue.

use std::collections::VecDeque;
use std::future::Future;
use std::panic::{self, AssertUnwindSafe};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

type Job = Box<dyn FnOnce() + Send + 'static>;

pub(crate) struct BlockingPool {
    state: Mutex<PoolState>,
    condvar: Condvar,
    max_threads: usize,
    keep_alive: Duration,
    /// Live threads, readable without the lock (metrics).
    threads: AtomicUsize,
}

#[derive(Default)]
struct PoolState {
    queue: VecDeque<Job>,
    threads: usize,
    idle: usize,
    shutdown: bool,
}

impl BlockingPool {
    pub(crate) fn new(max_threads: usize, keep_alive: Duration) -> Arc<BlockingPool> {
        Arc::new(BlockingPool {
            state: Mutex::new(PoolState::default()),
            condvar: Condvar::new(),
            max_threads: max_threads.max(1),
            keep_alive,
            threads: AtomicUsize::new(0),
        })
    }

    pub(crate) fn threads(&self) -> usize {
        self.threads.load(Ordering::Relaxed)
    }

    fn submit(self: &Arc<Self>, job: Job) {
        let mut st = self.state.lock();
        st.queue.push_back(job);
        if st.idle > 0 {
            self.condvar.notify_one();
        } else if st.threads < self.max_threads {
            st.threads += 1;
            self.threads.store(st.threads, Ordering::Relaxed);
            drop(st);
            let pool = self.clone();
            let spawned = thread::Builder::new()
                .name("weft-blocking".into())
                .spawn(move || pool.worker());
            if spawned.is_err() {
                // The OS refused a thread: the job stays queued for a running thread, if any.
                let mut st = self.state.lock();
                st.threads -= 1;
                self.threads.store(st.threads, Ordering::Relaxed);
            }
        }
        // Else: every thread is busy and the pool is full; the job waits in the queue.
    }

    fn worker(self: Arc<Self>) {
        let mut st = self.state.lock();
        loop {
            if let Some(job) = st.queue.pop_front() {
                drop(st);
                job();
                st = self.state.lock();
                continue;
            }
            if st.shutdown {
                break;
            }
            st.idle += 1;
            let timed_out = self.condvar.wait_for(&mut st, self.keep_alive).timed_out();
            st.idle -= 1;
            if timed_out && st.queue.is_empty() {
                break;
            }
        }
        st.threads -= 1;
        self.threads.store(st.threads, Ordering::Relaxed);
    }

    /// Lets the threads exit once the queue is empty.
    pub(crate) fn shutdown(&self) {
        self.state.lock().shutdown = true;
        self.condvar.notify_all();
    }
}

/// The result slot shared by a job and the task awaiting it.
struct Slot<T> {
    result: Mutex<(Option<thread::Result<T>>, Option<Waker>)>,
    /// Set when the awaiting task is gone: a job not started yet is skipped.
    abandoned: AtomicBool,
}

/// Runs `f` on the pool and returns a future of its result (a panic in `f` resumes in the
/// future, so the awaiting task ends as `JoinError::Panic`).
pub(crate) fn run<T: Send + 'static>(
    pool: &Arc<BlockingPool>,
    f: impl FnOnce() -> T + Send + 'static,
) -> BlockingFuture<T> {
    let slot = Arc::new(Slot {
        result: Mutex::new((None, None)),
        abandoned: AtomicBool::new(false),
    });
    let job_slot = slot.clone();
    pool.submit(Box::new(move || {
        if job_slot.abandoned.load(Ordering::Acquire) {
            return;
        }
        let result = panic::catch_unwind(AssertUnwindSafe(f));
        let waker = {
            let mut r = job_slot.result.lock();
            r.0 = Some(result);
            r.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }));
    BlockingFuture { slot }
}

pub(crate) struct BlockingFuture<T> {
    slot: Arc<Slot<T>>,
}

impl<T> Future for BlockingFuture<T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut r = self.slot.result.lock();
        match r.0.take() {
            Some(Ok(v)) => Poll::Ready(v),
            Some(Err(payload)) => {
                drop(r);
                panic::resume_unwind(payload)
            }
            None => {
                match &r.1 {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => r.1 = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
        }
    }
}

impl<T> Drop for BlockingFuture<T> {
    fn drop(&mut self) {
        self.slot.abandoned.store(true, Ordering::Release);
    }
}
