//! [`Barrier`]: `n` tasks wait until all `n` have arrived (tokio's `Barrier`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

use parking_lot::Mutex;

use crate::waiters::{Key, WaitList, WakeList};

#[derive(Debug)]
struct State {
    /// Tasks arrived in the current generation.
    arrived: usize,
    /// Completed rounds; a waiter is released when this moves past its own round.
    generation: u64,
    waiters: WaitList<Option<Waker>>,
}

/// Lets `n` tasks wait for each other; reusable round after round.
///
/// The task whose arrival completes a round is the *leader*
/// ([`BarrierWaitResult::is_leader`]). Arrivals and releases take a `parking_lot` lock (a
/// barrier is not a hot path).
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weft_channel::Barrier;
///
/// let barrier = Arc::new(Barrier::new(3));
/// let handles: Vec<_> = (0..3)
///     .map(|_| {
///         let b = barrier.clone();
///         std::thread::spawn(move || futures::executor::block_on(b.wait()).is_leader())
///     })
///     .collect();
/// let leaders = handles.into_iter().map(|h| h.join().unwrap());
/// assert_eq!(leaders.filter(|is_leader| *is_leader).count(), 1);
/// ```
#[derive(Debug)]
pub struct Barrier {
    n: usize,
    state: Mutex<State>,
}

/// Result of [`Barrier::wait`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarrierWaitResult(bool);

impl BarrierWaitResult {
    /// Whether this task's arrival completed the round (exactly one per round).
    pub fn is_leader(&self) -> bool {
        self.0
    }
}

impl Barrier {
    /// A barrier for `n` tasks. `n == 0` behaves as `n == 1` (every wait returns at once).
    ///
    /// # Examples
    ///
    /// ```
    /// let b = weft_channel::Barrier::new(1);
    /// assert!(futures::executor::block_on(b.wait()).is_leader());
    /// ```
    pub fn new(n: usize) -> Barrier {
        let state = State {
            arrived: 0,
            generation: 0,
            waiters: WaitList::new(),
        };
        Barrier {
            n: n.max(1),
            state: Mutex::new(state),
        }
    }

    /// Arrives and waits for the other tasks of this round.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: a `wait` dropped before its round completes withdraws its arrival, so the
    /// round still needs `n` live waiters.
    ///
    /// # Examples
    ///
    /// See [`Barrier`].
    pub fn wait(&self) -> BarrierWait<'_> {
        BarrierWait {
            barrier: self,
            step: Step::Init,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Init,
    Waiting { key: Key, generation: u64 },
    Done,
}

/// Future returned by [`Barrier::wait`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct BarrierWait<'a> {
    barrier: &'a Barrier,
    step: Step,
}

impl Future for BarrierWait<'_> {
    type Output = BarrierWaitResult;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<BarrierWaitResult> {
        let this = self.get_mut();
        let mut wakers = WakeList::new();
        let res = {
            let mut state = this.barrier.state.lock();
            match this.step {
                Step::Init => {
                    state.arrived += 1;
                    if state.arrived == this.barrier.n {
                        state.arrived = 0;
                        state.generation += 1;
                        while let Some(w) = state.waiters.pop_front() {
                            wakers.push_opt(w);
                        }
                        this.step = Step::Done;
                        Poll::Ready(BarrierWaitResult(true))
                    } else {
                        let key = state.waiters.push_back(Some(cx.waker().clone()));
                        this.step = Step::Waiting {
                            key,
                            generation: state.generation,
                        };
                        Poll::Pending
                    }
                }
                Step::Waiting { key, generation } => {
                    if state.generation != generation {
                        this.step = Step::Done;
                        Poll::Ready(BarrierWaitResult(false))
                    } else {
                        let slot = state.waiters.get_mut(key).expect("barrier waiter vanished");
                        *slot = Some(cx.waker().clone());
                        Poll::Pending
                    }
                }
                Step::Done => panic!("`BarrierWait` polled after completion"),
            }
        };
        wakers.wake_all();
        res
    }
}

impl Drop for BarrierWait<'_> {
    fn drop(&mut self) {
        if let Step::Waiting { key, generation } = self.step {
            let mut state = self.barrier.state.lock();
            if state.generation == generation {
                state.arrived -= 1;
                state.waiters.remove(key);
            }
        }
    }
}
