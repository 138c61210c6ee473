//! [`Semaphore`]: a fair (FIFO) counting semaphore; also the core of `Mutex` and `RwLock`.
//!
//! # Ground rules
//!
//! `state` = `permits << 2 | CLOSED | WAITERS`.
//!
//! * `WAITERS` is set and cleared only with the `waiters` lock held; whenever the lock is free,
//!   `WAITERS` ⇔ the list has linked entries.
//! * While `WAITERS` is set, `permits` in `state` is 0: a waiter that queues takes every
//!   available permit into its entry, and releases go to the queue. So nobody can *barge*
//!   past a queued waiter: the fast paths see `WAITERS` and go to the lock. That is what makes
//!   the semaphore fair, and why a large `acquire_many` cannot be starved by small ones.
//! * Uncontended (`WAITERS` clear) `acquire` and `release` are one CAS each, with no lock.
//!   The state word is biased (`lock_free/biased.rs`): the first thread to update it makes those
//!   CASes with a plain load and store until another thread updates it.
//! * A waiter is served by being *detached* from the list with `Granted` (or `Closed`) written
//!   into its entry; its future removes the entry. A future dropped while queued or after
//!   being granted gives back the permits it holds, which serves the next waiters.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{Ordering, Ordering::AcqRel, Ordering::Acquire};
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::lock_free::{BiasedLock, BiasedLockGuard, BiasedWord};
use crate::waiters::{Key, WaitList, WakeList};
use weft_core::ready_budget;

/// The queue holds at least one waiter. Only changed under the lock.
const WAITERS: usize = 1;
/// `close` was called: acquires fail. Set once, under the lock.
const CLOSED: usize = 2;
const PERMIT_SHIFT: u32 = 2;
const ONE_PERMIT: usize = 1 << PERMIT_SHIFT;

fn permits(state: usize) -> usize {
    state >> PERMIT_SHIFT
}

/// The state word: a [`BiasedWord`] (claimed by the first thread to update it, as `new` is a
/// `const fn`), seen as a `usize`.
#[derive(Debug)]
struct State(BiasedWord);

impl State {
    weft_core::const_fn_unless_loom! {
        const fn new(state: usize) -> Self {
            State(BiasedWord::unclaimed(state as u64))
        }
    }

    #[inline(always)]
    fn load(&self, order: Ordering) -> usize {
        self.0.load(order) as usize
    }

    #[inline(always)]
    fn compare_exchange_weak(
        &self,
        current: usize,
        new: usize,
        success: Ordering,
        failure: Ordering,
    ) -> Result<usize, usize> {
        match (self.0).compare_exchange_weak(current as u64, new as u64, success, failure) {
            Ok(v) => Ok(v as usize),
            Err(v) => Err(v as usize),
        }
    }
}

/// Where a queued acquire stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Queued,
    /// All `needed` permits are assigned to the waiter.
    Granted,
    /// The semaphore was closed; the waiter holds nothing.
    Closed,
}

#[derive(Debug)]
struct Waiter {
    needed: usize,
    assigned: usize,
    outcome: Outcome,
    waker: Option<Waker>,
}

/// Error from [`Semaphore::acquire`] and friends: the semaphore has been closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AcquireError(());

impl fmt::Display for AcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("semaphore closed")
    }
}

impl std::error::Error for AcquireError {}

/// Error from [`Semaphore::try_acquire`] and friends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TryAcquireError {
    /// The semaphore has been closed.
    Closed,
    /// Not enough permits are available now (or other tasks are queued first).
    NoPermits,
}

impl fmt::Display for TryAcquireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryAcquireError::Closed => f.write_str("semaphore closed"),
            TryAcquireError::NoPermits => f.write_str("no permits available"),
        }
    }
}

impl std::error::Error for TryAcquireError {}

/// A counting semaphore: fair (first come, first served), with RAII permits.
///
/// Uncontended, acquiring and releasing are one CAS each, with no lock and no allocation;
/// on the first thread to use the semaphore, until another thread does, not even that (a plain
/// load and store, see the crate docs). Tasks that must wait queue in FIFO order; while any
/// task waits, new arrivals queue behind it even if enough permits are free for them, so a
/// large [`acquire_many`](Self::acquire_many) is never starved.
///
/// # Examples
///
/// ```
/// use weft_channel::Semaphore;
///
/// futures::executor::block_on(async {
///     let sem = Semaphore::new(2);
///     let a = sem.acquire().await.unwrap();
///     let _b = sem.acquire().await.unwrap();
///     assert!(sem.try_acquire().is_err());
///     drop(a); // permits go back when the guard drops
///     assert_eq!(sem.available_permits(), 1);
/// });
/// ```
#[derive(Debug)]
pub struct Semaphore {
    state: State,
    waiters: BiasedLock<WaitList<Waiter>>,
}

impl Semaphore {
    /// The largest number of permits a semaphore can hold.
    pub const MAX_PERMITS: usize = usize::MAX >> 3;

    weft_core::const_fn_unless_loom! {
    /// Creates a semaphore with `permits` permits. Usable in a `static`.
    ///
    /// # Panics
    ///
    /// If `permits` exceeds [`MAX_PERMITS`](Self::MAX_PERMITS).
    ///
    /// # Examples
    ///
    /// ```
    /// static LIMIT: weft_channel::Semaphore = weft_channel::Semaphore::new(8);
    /// assert_eq!(LIMIT.available_permits(), 8);
    /// ```
    #[track_caller]
    pub const fn new(permits: usize) -> Semaphore {
        assert!(
            permits <= Self::MAX_PERMITS,
            "a semaphore may not have more than MAX_PERMITS permits"
        );
        Semaphore {
            state: State::new(permits << PERMIT_SHIFT),
            waiters: BiasedLock::unclaimed(WaitList::new()),
        }
    }
    }

    weft_core::const_fn_unless_loom! {
    /// [`new`](Self::new) under tokio's name for use in a `static`.
    ///
    /// # Panics
    ///
    /// As [`new`](Self::new).
    ///
    /// # Examples
    ///
    /// ```
    /// static LIMIT: weft_channel::Semaphore = weft_channel::Semaphore::const_new(2);
    /// assert_eq!(LIMIT.available_permits(), 2);
    /// ```
    #[track_caller]
    pub const fn const_new(permits: usize) -> Semaphore {
        Semaphore::new(permits)
    }
    }

    /// Waits for a permit, blocking the calling thread: [`acquire`](Self::acquire) for
    /// synchronous code.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Panics
    ///
    /// If called on a thread that runs an async runtime (see
    /// [`in_runtime`](weft_core::context::in_runtime)).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_channel::Semaphore::new(1);
    /// let permit = sem.blocking_acquire().unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// # drop(permit);
    /// ```
    #[track_caller]
    pub fn blocking_acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        weft_core::block_on("blocking_acquire", self.acquire())
    }

    /// Waits for `n` permits, blocking the calling thread (see
    /// [`blocking_acquire`](Self::blocking_acquire)).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Panics
    ///
    /// As [`blocking_acquire`](Self::blocking_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_channel::Semaphore::new(3);
    /// let permit = sem.blocking_acquire_many(2).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    #[track_caller]
    pub fn blocking_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        weft_core::block_on("blocking_acquire_many", self.acquire_many(n))
    }

    /// Waits for a permit owning an `Arc` of the semaphore, blocking the calling thread (see
    /// [`blocking_acquire`](Self::blocking_acquire)).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Panics
    ///
    /// As [`blocking_acquire`](Self::blocking_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = std::sync::Arc::new(weft_channel::Semaphore::new(1));
    /// let permit = sem.clone().blocking_acquire_owned().unwrap();
    /// assert_eq!(sem.available_permits(), 0);
    /// # drop(permit);
    /// ```
    #[track_caller]
    pub fn blocking_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        weft_core::block_on("blocking_acquire_owned", self.acquire_owned())
    }

    /// Waits for `n` permits owning an `Arc` of the semaphore, blocking the calling thread
    /// (see [`blocking_acquire`](Self::blocking_acquire)).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Panics
    ///
    /// As [`blocking_acquire`](Self::blocking_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = std::sync::Arc::new(weft_channel::Semaphore::new(2));
    /// let permit = sem.clone().blocking_acquire_many_owned(2).unwrap();
    /// assert_eq!(permit.num_permits(), 2);
    /// ```
    #[track_caller]
    pub fn blocking_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        weft_core::block_on("blocking_acquire_many_owned", self.acquire_many_owned(n))
    }

    /// Permits available right now (0 while tasks are queued).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weft_channel::Semaphore::new(3).available_permits(), 3);
    /// ```
    pub fn available_permits(&self) -> usize {
        permits(self.state.load(Acquire))
    }

    /// Whether [`close`](Self::close) has been called.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_channel::Semaphore::new(1);
    /// sem.close();
    /// assert!(sem.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.state.load(Acquire) & CLOSED != 0
    }

    /// Adds `n` permits, serving queued tasks first (in order).
    ///
    /// # Panics
    ///
    /// If the total would exceed [`MAX_PERMITS`](Self::MAX_PERMITS).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_channel::Semaphore::new(0);
    /// sem.add_permits(2);
    /// assert_eq!(sem.available_permits(), 2);
    /// ```
    #[track_caller]
    pub fn add_permits(&self, n: usize) {
        self.release(n);
    }

    /// Removes up to `n` available permits for good; returns how many were removed.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_channel::Semaphore::new(5);
    /// assert_eq!(sem.forget_permits(3), 3);
    /// assert_eq!(sem.forget_permits(3), 2);
    /// ```
    pub fn forget_permits(&self, n: usize) -> usize {
        let mut state = self.state.load(Acquire);
        loop {
            let take = n.min(permits(state));
            let next = state - take * ONE_PERMIT;
            match self
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
            {
                Ok(_) => return take,
                Err(actual) => state = actual,
            }
        }
    }

    /// Closes the semaphore: queued and future acquires fail with [`AcquireError`]. Permits
    /// already handed out stay valid and may still be released.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::{Semaphore, TryAcquireError};
    /// let sem = Semaphore::new(1);
    /// sem.close();
    /// assert_eq!(sem.try_acquire().unwrap_err(), TryAcquireError::Closed);
    /// ```
    pub fn close(&self) {
        let mut wakers = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            let mut returned = 0;
            while let Some(w) = waiters.detach_front() {
                returned += std::mem::take(&mut w.assigned);
                w.outcome = Outcome::Closed;
                wakers.push_opt(w.waker.take());
            }
            // Under the lock with WAITERS set nobody else changes `state`; without it, only
            // CAS loops do, so an atomic update is right either way.
            self.update(|s| ((s & !WAITERS) | CLOSED) + returned * ONE_PERMIT);
        }
        wakers.wake_all();
    }

    /// Atomically replaces the state with `f(state)`.
    fn update(&self, f: impl Fn(usize) -> usize) {
        let mut state = self.state.load(Acquire);
        while let Err(actual) = self
            .state
            .compare_exchange_weak(state, f(state), AcqRel, Acquire)
        {
            state = actual;
        }
    }

    /// The lock-free attempt: takes `n` permits if nobody is queued and enough are free.
    fn try_acquire_fast(&self, n: usize) -> Result<(), TryAcquireError> {
        let mut state = self.state.load(Acquire);
        loop {
            if state & CLOSED != 0 {
                return Err(TryAcquireError::Closed);
            }
            if state & WAITERS != 0 || permits(state) < n {
                return Err(TryAcquireError::NoPermits);
            }
            match self
                .state
                .compare_exchange_weak(state, state - n * ONE_PERMIT, AcqRel, Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => state = actual,
            }
        }
    }

    /// Gives back `n` permits: one CAS if nobody waits, else serves the queue.
    #[track_caller]
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut state = self.state.load(Acquire);
        while state & WAITERS == 0 {
            assert!(
                permits(state) + n <= Self::MAX_PERMITS,
                "a semaphore may not have more than MAX_PERMITS permits"
            );
            match self
                .state
                .compare_exchange_weak(state, state + n * ONE_PERMIT, AcqRel, Acquire)
            {
                Ok(_) => return,
                Err(actual) => state = actual,
            }
        }
        self.release_slow(n);
    }

    #[cold]
    fn release_slow(&self, n: usize) {
        let mut wakers = WakeList::new();
        {
            let mut waiters = self.waiters.lock();
            self.release_locked(&mut waiters, n, &mut wakers);
        }
        wakers.wake_all();
    }

    /// With the lock held: hands `n` permits to the queue in order, the rest to `state`.
    fn release_locked(&self, waiters: &mut WaitList<Waiter>, mut n: usize, wakers: &mut WakeList) {
        while n > 0 {
            let Some((_, w)) = waiters.front_mut() else {
                break;
            };
            let give = n.min(w.needed - w.assigned);
            w.assigned += give;
            n -= give;
            if w.assigned < w.needed {
                break;
            }
            let w = waiters.detach_front().expect("front vanished");
            w.outcome = Outcome::Granted;
            wakers.push_opt(w.waker.take());
        }
        let empty = waiters.is_empty();
        self.update(|s| {
            let s = if empty { s & !WAITERS } else { s };
            s + n * ONE_PERMIT
        });
    }

    /// Tries to acquire a permit without waiting.
    ///
    /// # Errors
    ///
    /// [`TryAcquireError::NoPermits`] if none is free or tasks are queued first;
    /// [`TryAcquireError::Closed`] after [`close`](Self::close).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_channel::Semaphore::new(1);
    /// let p = sem.try_acquire().unwrap();
    /// assert!(sem.try_acquire().is_err());
    /// drop(p);
    /// ```
    pub fn try_acquire(&self) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_many(1)
    }

    /// Tries to acquire `n` permits without waiting. See [`try_acquire`](Self::try_acquire).
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_channel::Semaphore::new(3);
    /// assert_eq!(sem.try_acquire_many(2).unwrap().num_permits(), 2);
    /// ```
    pub fn try_acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, TryAcquireError> {
        self.try_acquire_fast(n as usize)?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// Waits for a permit.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe, and fair: a dropped `acquire` leaves the queue, and gives any permits
    /// already assigned to it to the next waiters.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let sem = weft_channel::Semaphore::new(1);
    ///     let _permit = sem.acquire().await.unwrap();
    /// });
    /// ```
    pub async fn acquire(&self) -> Result<SemaphorePermit<'_>, AcquireError> {
        self.acquire_many(1).await
    }

    /// Waits for `n` permits, all at once. See [`acquire`](Self::acquire).
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Self::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let sem = weft_channel::Semaphore::new(4);
    ///     assert_eq!(sem.acquire_many(3).await.unwrap().num_permits(), 3);
    /// });
    /// ```
    pub async fn acquire_many(&self, n: u32) -> Result<SemaphorePermit<'_>, AcquireError> {
        AcquireFut::new(self, n as usize).await?;
        Ok(SemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// Like [`acquire`](Self::acquire), for an `Arc<Semaphore>`: the permit owns a clone.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Self::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// futures::executor::block_on(async {
    ///     let sem = Arc::new(weft_channel::Semaphore::new(1));
    ///     let permit = sem.clone().acquire_owned().await.unwrap();
    ///     std::thread::spawn(move || drop(permit)).join().unwrap();
    ///     assert_eq!(sem.available_permits(), 1);
    /// });
    /// ```
    pub async fn acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, AcquireError> {
        self.acquire_many_owned(1).await
    }

    /// Like [`acquire_many`](Self::acquire_many), for an `Arc<Semaphore>`.
    ///
    /// # Errors
    ///
    /// [`AcquireError`] if the semaphore is closed.
    ///
    /// # Cancel safety
    ///
    /// As [`acquire`](Self::acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// futures::executor::block_on(async {
    ///     let sem = Arc::new(weft_channel::Semaphore::new(2));
    ///     assert_eq!(sem.acquire_many_owned(2).await.unwrap().num_permits(), 2);
    /// });
    /// ```
    pub async fn acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, AcquireError> {
        AcquireFut::new(&self, n as usize).await?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }

    /// Like [`try_acquire`](Self::try_acquire), for an `Arc<Semaphore>`.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(weft_channel::Semaphore::new(1));
    /// let _p = sem.clone().try_acquire_owned().unwrap();
    /// ```
    pub fn try_acquire_owned(self: Arc<Self>) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_many_owned(1)
    }

    /// Like [`try_acquire_many`](Self::try_acquire_many), for an `Arc<Semaphore>`.
    ///
    /// # Errors
    ///
    /// As [`try_acquire`](Self::try_acquire).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(weft_channel::Semaphore::new(2));
    /// assert_eq!(sem.try_acquire_many_owned(2).unwrap().num_permits(), 2);
    /// ```
    pub fn try_acquire_many_owned(
        self: Arc<Self>,
        n: u32,
    ) -> Result<OwnedSemaphorePermit, TryAcquireError> {
        self.try_acquire_fast(n as usize)?;
        Ok(OwnedSemaphorePermit {
            sem: self,
            permits: n as usize,
        })
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    Init,
    Waiting(Key),
    Done,
}

/// Future that takes `n` permits from a semaphore (the permits are then the caller's to wrap
/// in a guard). Crate-internal: the public API wraps it in `async fn`s.
#[must_use = "futures do nothing unless awaited"]
#[derive(Debug)]
pub(crate) struct AcquireFut<'a> {
    sem: &'a Semaphore,
    n: usize,
    step: Step,
}

impl<'a> AcquireFut<'a> {
    pub(crate) fn new(sem: &'a Semaphore, n: usize) -> Self {
        AcquireFut {
            sem,
            n,
            step: Step::Init,
        }
    }

    /// Slow path of the first poll: acquire under the lock, or queue.
    fn queue(&mut self, waker: &Waker) -> Poll<Result<(), AcquireError>> {
        let sem = self.sem;
        let mut waiters = sem.waiters.lock();
        let mut state = sem.state.load(Acquire);
        loop {
            if state & CLOSED != 0 {
                return Poll::Ready(Err(AcquireError(())));
            }
            let (next, queued) = if state & WAITERS == 0 && permits(state) >= self.n {
                (state - self.n * ONE_PERMIT, false)
            } else {
                // Take what is free now (0 if others are queued) and queue for the rest.
                (state & !(usize::MAX << PERMIT_SHIFT) | WAITERS, true)
            };
            match sem
                .state
                .compare_exchange_weak(state, next, AcqRel, Acquire)
            {
                Ok(_) if !queued => return Poll::Ready(Ok(())),
                Ok(_) => {
                    let waiter = Waiter {
                        needed: self.n,
                        assigned: permits(state),
                        outcome: Outcome::Queued,
                        waker: Some(waker.clone()),
                    };
                    self.step = Step::Waiting(waiters.push_back(waiter));
                    return Poll::Pending;
                }
                Err(actual) => state = actual,
            }
        }
    }
}

impl Future for AcquireFut<'_> {
    type Output = Result<(), AcquireError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        match this.step {
            Step::Init => {
                // As in tokio: a task that always finds the permits free still yields now
                // and then. Out of budget with the permits taken, it queues all the same
                // (and yields): the yield must not cost it its place in the queue.
                if !weft_core::coop::has_budget_remaining() {
                    let state = this.sem.state.load(Acquire);
                    if state & CLOSED != 0 || (state & WAITERS == 0 && permits(state) >= this.n) {
                        // Free now: yield (woken at once) rather than take them.
                        ready_budget!(cx);
                    } else {
                        // Taken: queue, woken when granted (a yield would be woken at once
                        // and give the place away).
                        let res = this.queue(cx.waker());
                        if res.is_ready() {
                            this.step = Step::Done;
                        }
                        return res;
                    }
                }
                ready_budget!(cx);
                let res = match this.sem.try_acquire_fast(this.n) {
                    Ok(()) => Poll::Ready(Ok(())),
                    Err(TryAcquireError::Closed) => Poll::Ready(Err(AcquireError(()))),
                    Err(TryAcquireError::NoPermits) => this.queue(cx.waker()),
                };
                if res.is_ready() {
                    this.step = Step::Done;
                }
                res
            }
            Step::Waiting(key) => {
                let mut waiters = this.sem.waiters.lock();
                let w = waiters.get_mut(key).expect("waiter entry vanished");
                let res = match w.outcome {
                    Outcome::Queued => {
                        match &mut w.waker {
                            Some(old) if old.will_wake(cx.waker()) => {}
                            slot => *slot = Some(cx.waker().clone()),
                        }
                        return Poll::Pending;
                    }
                    Outcome::Granted => Ok(()),
                    Outcome::Closed => Err(AcquireError(())),
                };
                waiters.remove(key);
                this.step = Step::Done;
                Poll::Ready(res)
            }
            Step::Done => panic!("`AcquireFut` polled after completion"),
        }
    }
}

impl Drop for AcquireFut<'_> {
    fn drop(&mut self) {
        let Step::Waiting(key) = self.step else {
            return;
        };
        let sem = self.sem;
        let mut wakers = WakeList::new();
        {
            let mut waiters: BiasedLockGuard<'_, WaitList<Waiter>> = sem.waiters.lock();
            let w = waiters.remove(key).expect("waiter entry vanished");
            // Queued: give back what was assigned so far; Granted: all of it (we will never
            // use it). Either way the next waiters are served. Closed: nothing is held.
            sem.release_locked(&mut waiters, w.assigned, &mut wakers);
        }
        wakers.wake_all();
    }
}

/// Permits from a [`Semaphore`], given back when dropped.
#[must_use = "dropping the permit releases it at once"]
#[derive(Debug)]
pub struct SemaphorePermit<'a> {
    sem: &'a Semaphore,
    permits: usize,
}

impl SemaphorePermit<'_> {
    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_channel::Semaphore::new(2);
    /// assert_eq!(sem.try_acquire().unwrap().num_permits(), 1);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits come from.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_channel::Semaphore::new(1);
    /// let permit = sem.try_acquire().unwrap();
    /// assert!(std::ptr::eq(permit.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Semaphore {
        self.sem
    }

    /// Moves `n` of the permits into a new permit, or `None` if this holds fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_channel::Semaphore::new(3);
    /// let mut a = sem.try_acquire_many(3).unwrap();
    /// let b = a.split(1).unwrap();
    /// assert_eq!((a.num_permits(), b.num_permits()), (2, 1));
    /// assert!(a.split(3).is_none());
    /// ```
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(SemaphorePermit {
            sem: self.sem,
            permits: n,
        })
    }

    /// Drops the permit without giving it back: the semaphore shrinks for good.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_channel::Semaphore::new(2);
    /// sem.try_acquire().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Moves the permits of `other` (from the same semaphore) into `self`.
    ///
    /// # Panics
    ///
    /// If `other` comes from a different semaphore.
    ///
    /// # Examples
    ///
    /// ```
    /// let sem = weft_channel::Semaphore::new(2);
    /// let mut a = sem.try_acquire().unwrap();
    /// a.merge(sem.try_acquire().unwrap());
    /// assert_eq!(a.num_permits(), 2);
    /// ```
    #[track_caller]
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            std::ptr::eq(self.sem, other.sem),
            "merging permits from different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }
}

impl Drop for SemaphorePermit<'_> {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

/// Permits from an `Arc<Semaphore>`, given back when dropped.
#[must_use = "dropping the permit releases it at once"]
#[derive(Debug)]
pub struct OwnedSemaphorePermit {
    sem: Arc<Semaphore>,
    permits: usize,
}

impl OwnedSemaphorePermit {
    /// How many permits this holds.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(weft_channel::Semaphore::new(1));
    /// assert_eq!(sem.try_acquire_owned().unwrap().num_permits(), 1);
    /// ```
    pub fn num_permits(&self) -> usize {
        self.permits
    }

    /// The semaphore the permits come from.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(weft_channel::Semaphore::new(1));
    /// let p = sem.clone().try_acquire_owned().unwrap();
    /// assert!(Arc::ptr_eq(p.semaphore(), &sem));
    /// ```
    pub fn semaphore(&self) -> &Arc<Semaphore> {
        &self.sem
    }

    /// Moves `n` of the permits into a new permit, or `None` if this holds fewer than `n`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(weft_channel::Semaphore::new(2));
    /// let mut a = sem.try_acquire_many_owned(2).unwrap();
    /// let b = a.split(1).unwrap();
    /// assert_eq!((a.num_permits(), b.num_permits()), (1, 1));
    /// ```
    pub fn split(&mut self, n: usize) -> Option<Self> {
        self.permits = self.permits.checked_sub(n)?;
        Some(OwnedSemaphorePermit {
            sem: self.sem.clone(),
            permits: n,
        })
    }

    /// Drops the permit without giving it back.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(weft_channel::Semaphore::new(1));
    /// sem.clone().try_acquire_owned().unwrap().forget();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn forget(mut self) {
        self.permits = 0;
    }

    /// Moves the permits of `other` (from the same semaphore) into `self`.
    ///
    /// # Panics
    ///
    /// If `other` comes from a different semaphore.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::sync::Arc;
    /// let sem = Arc::new(weft_channel::Semaphore::new(2));
    /// let mut a = sem.clone().try_acquire_owned().unwrap();
    /// a.merge(sem.clone().try_acquire_owned().unwrap());
    /// assert_eq!(a.num_permits(), 2);
    /// ```
    #[track_caller]
    pub fn merge(&mut self, mut other: Self) {
        assert!(
            Arc::ptr_eq(&self.sem, &other.sem),
            "merging permits from different semaphores"
        );
        self.permits += std::mem::take(&mut other.permits);
    }
}

impl Drop for OwnedSemaphorePermit {
    fn drop(&mut self) {
        self.sem.release(self.permits);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker_ref;
    use std::pin::pin;

    fn poll<F: Future>(fut: Pin<&mut F>) -> Poll<F::Output> {
        fut.poll(&mut Context::from_waker(noop_waker_ref()))
    }

    #[test]
    fn big_request_is_not_starved() {
        let sem = Semaphore::new(1);
        let held = sem.try_acquire().unwrap();
        let mut big = pin!(AcquireFut::new(&sem, 2));
        assert!(poll(big.as_mut()).is_pending());
        // A small request arriving later queues behind, though a permit will be free.
        let mut small = pin!(AcquireFut::new(&sem, 1));
        assert!(poll(small.as_mut()).is_pending());
        drop(held);
        assert!(poll(small.as_mut()).is_pending());
        sem.add_permits(1);
        assert_eq!(poll(big.as_mut()), Poll::Ready(Ok(())));
        assert!(poll(small.as_mut()).is_pending());
        sem.release(2);
        assert_eq!(poll(small.as_mut()), Poll::Ready(Ok(())));
        assert_eq!(sem.available_permits(), 1);
    }

    #[test]
    fn cancelled_waiter_passes_its_permits_on() {
        let sem = Semaphore::new(0);
        let mut a = Box::pin(AcquireFut::new(&sem, 2));
        let mut b = pin!(AcquireFut::new(&sem, 1));
        assert!(poll(a.as_mut()).is_pending());
        assert!(poll(b.as_mut()).is_pending());
        sem.add_permits(1); // assigned to `a`, which still needs one more
        drop(a);
        assert_eq!(poll(b.as_mut()), Poll::Ready(Ok(())));
        assert_eq!(sem.state.load(Acquire), 0, "no waiters, no permits");
    }

    #[test]
    fn close_wakes_and_returns_assigned() {
        let sem = Semaphore::new(1);
        let mut a = pin!(AcquireFut::new(&sem, 3));
        assert!(poll(a.as_mut()).is_pending());
        assert_eq!(sem.available_permits(), 0);
        sem.close();
        assert_eq!(poll(a.as_mut()), Poll::Ready(Err(AcquireError(()))));
        assert_eq!(sem.available_permits(), 1);
    }
}
