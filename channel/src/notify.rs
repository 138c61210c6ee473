//! [`Notify`]: wake one task or all of them, without data.
//!
//! # Ground rules
//!
//! `state` packs the number of `notify_waiters` calls so far (the *generation*, bits 2..) and
//! one of three states (bits 0..2):
//!
//! ```text
//!   EMPTY ──notify_one──▶ NOTIFIED ──a Notified consumes it──▶ EMPTY
//!     │                                                         ▲
//!     └──a Notified registers──▶ WAITING ──last waiter leaves───┘
//! ```
//!
//! * `WAITING` is set and cleared only with the `waiters` lock held, and `WAITING` ⇔ the list
//!   has linked entries whenever the lock is free. So while `WAITING` and the lock is held,
//!   nobody else changes `state`.
//! * Without waiters, `notify_one`, `notify_waiters` and consuming a permit are a single CAS
//!   on `state` each, with no lock.
//! * A waiter that is served is *detached* from the list with its kind of notification written
//!   into its entry; its future reads that and removes the entry. A served waiter whose future
//!   is dropped before it saw a `notify_one` passes that notification on.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use weft_core::sync::atomic::{AtomicUsize, Ordering::SeqCst};

use crate::lock_free::{Mutex, MutexGuard};

use crate::waiters::{Key, WaitList, WakeList};

/// No permit stored and nobody waiting.
const EMPTY: usize = 0;
/// At least one `Notified` is in the waiter list. Only changed under the lock.
const WAITING: usize = 1;
/// A `notify_one` permit is stored for the next `Notified` (never together with waiters).
const NOTIFIED: usize = 2;
const STATE_MASK: usize = 3;
/// One `notify_waiters` call, in the generation bits.
const GEN_ONE: usize = 4;

fn generation(state: usize) -> usize {
    state & !STATE_MASK
}

/// How a waiter was served.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Served {
    /// By `notify_one` (`Front`) or `notify_last` (`Back`).
    One(End),
    All,
}

#[derive(Debug)]
struct Waiter {
    waker: Option<Waker>,
    served: Option<Served>,
}

/// Notifies one task or all waiting tasks of an event; the building block of the other
/// primitives (like tokio's `Notify`).
///
/// [`notify_one`](Notify::notify_one) wakes the longest-waiting task, or, if none waits,
/// stores a permit that the next [`notified`](Notify::notified)`().await` consumes at once
/// (at most one permit is stored). [`notify_waiters`](Notify::notify_waiters) wakes every task
/// waiting now, including [`Notified`] futures created before the call but not yet polled, and
/// stores no permit.
///
/// # Examples
///
/// ```
/// use std::sync::Arc;
/// use weft_channel::Notify;
///
/// futures::executor::block_on(async {
///     let notify = Arc::new(Notify::new());
///     let n2 = notify.clone();
///     let waiter = async move { n2.notified().await; "woken" };
///     notify.notify_one(); // stored as a permit: nobody waits yet
///     assert_eq!(waiter.await, "woken");
/// });
/// ```
#[derive(Debug)]
pub struct Notify {
    state: AtomicUsize,
    waiters: Mutex<WaitList<Waiter>>,
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl Notify {
    weft_core::const_fn_unless_loom! {
    /// Creates a `Notify` with no permit and no waiters. Usable in a `static`.
    ///
    /// # Examples
    ///
    /// ```
    /// static NOTIFY: weft_channel::Notify = weft_channel::Notify::new();
    /// NOTIFY.notify_one();
    /// ```
    pub const fn new() -> Notify {
        Notify {
            state: AtomicUsize::new(EMPTY),
            waiters: Mutex::new(WaitList::new()),
        }
    }
    }

    /// Returns a future that completes when this `Notify` is notified.
    ///
    /// The future is registered for `notify_waiters` from the moment it is created; it joins
    /// the `notify_one` queue when first polled (or [`enable`](Notified::enable)d).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: dropping a `Notified` that had been woken by `notify_one` but had not yet
    /// completed passes the notification on to the next waiter (or stores it as the permit).
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::Notify;
    /// let notify = Notify::new();
    /// let fut = notify.notified();
    /// notify.notify_waiters(); // `fut` was created before: it is woken
    /// futures::executor::block_on(fut);
    /// ```
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            generation: generation(self.state.load(SeqCst)),
            step: Step::Init,
        }
    }

    /// Wakes the longest-waiting task, or stores a permit if none waits.
    ///
    /// Costs one CAS when nobody waits.
    ///
    /// # Examples
    ///
    /// ```
    /// let notify = weft_channel::Notify::new();
    /// notify.notify_one();
    /// notify.notify_one(); // permits do not accumulate
    /// futures::executor::block_on(notify.notified()); // consumes the one permit
    /// ```
    pub fn notify_one(&self) {
        self.notify(End::Front);
    }

    /// Wakes the task that started waiting last, or stores a permit if none waits (tokio's
    /// `notify_last`: [`notify_one`](Self::notify_one) from the other end of the queue).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::Future;
    /// use std::pin::pin;
    /// use std::task::{Context, Poll};
    /// use weft_channel::Notify;
    ///
    /// let notify = Notify::new();
    /// let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    /// let mut first = pin!(notify.notified());
    /// let mut last = pin!(notify.notified());
    /// assert!(first.as_mut().poll(&mut cx).is_pending());
    /// assert!(last.as_mut().poll(&mut cx).is_pending());
    /// notify.notify_last();
    /// assert!(first.as_mut().poll(&mut cx).is_pending());
    /// assert_eq!(last.as_mut().poll(&mut cx), Poll::Ready(()));
    /// ```
    pub fn notify_last(&self) {
        self.notify(End::Back);
    }

    fn notify(&self, end: End) {
        let mut state = self.state.load(SeqCst);
        loop {
            match state & STATE_MASK {
                NOTIFIED => return,
                EMPTY => match self
                    .state
                    .compare_exchange(state, state | NOTIFIED, SeqCst, SeqCst)
                {
                    Ok(_) => return,
                    Err(actual) => state = actual,
                },
                _ => return self.notify_slow(end),
            }
        }
    }

    #[cold]
    fn notify_slow(&self, end: End) {
        let served = {
            let mut waiters = self.waiters.lock();
            let state = self.state.load(SeqCst);
            if state & STATE_MASK != WAITING {
                // The last waiter left while we took the lock: retry the fast path.
                drop(waiters);
                return self.notify(end);
            }
            self.serve_one_locked(&mut waiters, state, end)
        };
        // Woken with the lock released.
        if let Some(waker) = served {
            waker.wake();
        }
    }

    /// With the lock held and `state` == WAITING | gen: serves the front (or back) waiter.
    fn serve_one_locked(
        &self,
        waiters: &mut WaitList<Waiter>,
        state: usize,
        end: End,
    ) -> Option<Waker> {
        let waiter = match end {
            End::Front => waiters.detach_front(),
            End::Back => waiters.detach_back(),
        };
        let waiter = waiter.expect("WAITING with an empty list");
        waiter.served = Some(Served::One(end));
        let waker = waiter.waker.take();
        if waiters.is_empty() {
            self.state.store(generation(state) | EMPTY, SeqCst);
        }
        waker
    }

    /// Wakes every task waiting now. Stores no permit.
    ///
    /// Costs one CAS when nobody waits; otherwise takes the lock once.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::Notify;
    /// let notify = Notify::new();
    /// let (a, b) = (notify.notified(), notify.notified());
    /// notify.notify_waiters();
    /// futures::executor::block_on(async { a.await; b.await });
    /// ```
    pub fn notify_waiters(&self) {
        let mut state = self.state.load(SeqCst);
        while state & STATE_MASK != WAITING {
            // Nobody is queued: bumping the generation releases the not-yet-polled futures.
            match self
                .state
                .compare_exchange(state, state.wrapping_add(GEN_ONE), SeqCst, SeqCst)
            {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
        self.notify_waiters_slow();
    }

    #[cold]
    fn notify_waiters_slow(&self) {
        let mut wakers = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            let state = self.state.load(SeqCst);
            if state & STATE_MASK != WAITING {
                drop(waiters);
                return self.notify_waiters();
            }
            // Every linked waiter is served; none can be added meanwhile (we hold the lock).
            while let Some(waiter) = waiters.detach_front() {
                waiter.served = Some(Served::All);
                wakers.push_opt(waiter.waker.take());
            }
            self.state
                .store(generation(state).wrapping_add(GEN_ONE) | EMPTY, SeqCst);
        }
        wakers.wake_all();
    }
}

/// Which end of the queue `notify_one`/`notify_last` serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    Front,
    Back,
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Init,
    Waiting(Key),
    Done,
}

/// Future returned by [`Notify::notified`].
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub struct Notified<'a> {
    notify: &'a Notify,
    /// `notify_waiters` generation when created.
    generation: usize,
    step: Step,
}

impl Notified<'_> {
    /// Registers this future in the waiter queue without waiting, so that a later
    /// `notify_one` or `notify_waiters` is not missed. Returns `true` if it is already
    /// notified (awaiting it will complete at once).
    ///
    /// Used for the "register, check the condition, then wait" pattern.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::pin::pin;
    /// use weft_channel::Notify;
    ///
    /// let notify = Notify::new();
    /// let mut fut = pin!(notify.notified());
    /// assert!(!fut.as_mut().enable());
    /// notify.notify_one(); // reaches the enabled future, not a stored permit
    /// futures::executor::block_on(fut);
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        let this = self.get_mut();
        match this.step {
            Step::Init => this.register(None).is_ready(),
            Step::Waiting(key) => {
                let waiters = this.notify.waiters.lock();
                let served = waiters_served(waiters, key);
                served.is_some()
            }
            Step::Done => true,
        }
    }

    /// First registration: takes a permit, notices a `notify_waiters` since creation, or
    /// joins the queue with `waker`.
    fn register(&mut self, waker: Option<&Waker>) -> Poll<()> {
        let notify = self.notify;
        let mut state = notify.state.load(SeqCst);
        // Fast path, no lock: a stored permit or a generation change.
        loop {
            if generation(state) != self.generation {
                self.step = Step::Done;
                return Poll::Ready(());
            }
            if state & STATE_MASK != NOTIFIED {
                break;
            }
            match notify
                .state
                .compare_exchange(state, generation(state) | EMPTY, SeqCst, SeqCst)
            {
                Ok(_) => {
                    self.step = Step::Done;
                    return Poll::Ready(());
                }
                Err(actual) => state = actual,
            }
        }
        let mut waiters = notify.waiters.lock();
        let mut state = notify.state.load(SeqCst);
        loop {
            if generation(state) != self.generation {
                self.step = Step::Done;
                return Poll::Ready(());
            }
            let next = match state & STATE_MASK {
                NOTIFIED => generation(state) | EMPTY,
                EMPTY => generation(state) | WAITING,
                _ => break,
            };
            match notify.state.compare_exchange(state, next, SeqCst, SeqCst) {
                Ok(_) if next & STATE_MASK == EMPTY => {
                    self.step = Step::Done;
                    return Poll::Ready(());
                }
                Ok(_) => break,
                Err(actual) => state = actual,
            }
        }
        let key = waiters.push_back(Waiter {
            waker: waker.cloned(),
            served: None,
        });
        self.step = Step::Waiting(key);
        Poll::Pending
    }
}

/// Whether the waiter `key` has been served (it stays in the slab until its owner removes it).
fn waiters_served(mut waiters: MutexGuard<'_, WaitList<Waiter>>, key: Key) -> Option<Served> {
    waiters.get_mut(key).and_then(|w| w.served)
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        match this.step {
            Step::Init => this.register(Some(cx.waker())),
            Step::Waiting(key) => {
                let mut waiters = this.notify.waiters.lock();
                let waiter = waiters.get_mut(key).expect("waiter entry vanished");
                if waiter.served.is_some() {
                    waiters.remove(key);
                    this.step = Step::Done;
                    return Poll::Ready(());
                }
                match &mut waiter.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    slot => *slot = Some(cx.waker().clone()),
                }
                Poll::Pending
            }
            Step::Done => Poll::Ready(()),
        }
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        let Step::Waiting(key) = self.step else {
            return;
        };
        let notify = self.notify;
        // At most one waiter is passed a notification on: its waker, woken after the lock is
        // released. (Not a `WakeList`: this runs each time a `select!` drops a pending
        // `notified()`, and the list's 32-slot set-up and teardown cost more than the rest.)
        let mut pass_on = None;
        {
            let mut waiters = notify.waiters.lock();
            let waiter = waiters.remove(key).expect("waiter entry vanished");
            let state = notify.state.load(SeqCst);
            match waiter.served {
                None => {
                    // Still queued: leave; the last one out clears WAITING.
                    if waiters.is_empty() {
                        notify.state.store(generation(state) | EMPTY, SeqCst);
                    }
                }
                Some(Served::One(end)) => {
                    // We consumed a notify_one (or notify_last) we will never act on: pass
                    // it on, from the same end of the queue.
                    if state & STATE_MASK == WAITING {
                        pass_on = notify.serve_one_locked(&mut waiters, state, end);
                    } else {
                        drop(waiters);
                        notify.notify(end);
                    }
                }
                Some(Served::All) => {}
            }
        }
        if let Some(waker) = pass_on {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker_ref;
    use std::pin::pin;

    fn poll(fut: Pin<&mut Notified<'_>>) -> Poll<()> {
        fut.poll(&mut Context::from_waker(noop_waker_ref()))
    }

    #[test]
    fn permit_is_single() {
        let n = Notify::new();
        n.notify_one();
        n.notify_one();
        assert!(poll(pin!(n.notified())).is_ready());
        assert!(poll(pin!(n.notified())).is_pending());
    }

    #[test]
    fn notify_one_is_fifo() {
        let n = Notify::new();
        let mut a = pin!(n.notified());
        let mut b = pin!(n.notified());
        assert!(poll(a.as_mut()).is_pending());
        assert!(poll(b.as_mut()).is_pending());
        n.notify_one();
        assert!(poll(b.as_mut()).is_pending());
        assert!(poll(a.as_mut()).is_ready());
        n.notify_one();
        assert!(poll(b.as_mut()).is_ready());
        assert_eq!(n.state.load(SeqCst) & STATE_MASK, EMPTY);
    }

    #[test]
    fn dropped_served_waiter_forwards() {
        let n = Notify::new();
        let mut a = Box::pin(n.notified());
        let mut b = pin!(n.notified());
        assert!(poll(a.as_mut()).is_pending());
        assert!(poll(b.as_mut()).is_pending());
        n.notify_one(); // serves a
        drop(a); // a passes it to b
        assert!(poll(b.as_mut()).is_ready());
        // And with nobody left, a forwarded notification becomes the permit.
        let mut c = Box::pin(n.notified());
        assert!(poll(c.as_mut()).is_pending());
        n.notify_one();
        drop(c);
        assert!(poll(pin!(n.notified())).is_ready());
    }

    #[test]
    fn notify_waiters_reaches_unpolled_but_not_later() {
        let n = Notify::new();
        let early = n.notified();
        let mut polled = pin!(n.notified());
        assert!(poll(polled.as_mut()).is_pending());
        n.notify_waiters();
        let late = n.notified();
        assert!(poll(pin!(early)).is_ready());
        assert!(poll(polled).is_ready());
        assert!(poll(pin!(late)).is_pending());
    }
}
