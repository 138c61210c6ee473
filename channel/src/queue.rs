//! asyncio's queues: [`Queue`] (FIFO), [`PriorityQueue`] (smallest first) and [`LifoQueue`].
//!
//! All three are [`BaseQueue`] with a different ordering [`Discipline`]. A queue is a cheap
//! handle: clone it to share it (or share a `&` reference); every method takes `&self`.
//!
//! As in asyncio, `maxsize == 0` means unbounded; `put` waits while the queue is full and
//! `get` while it is empty; every `put` counts one unfinished task, which `task_done`
//! finishes, and `join` waits until none is left.
//!
//! # Cost and locking
//!
//! The items, the counters and the waiting tasks sit behind one lock: each operation is one
//! lock and unlock (2 atomic RMWs uncontended, none on the thread that made the queue until
//! another thread uses it: the lock's word is biased, see the crate docs), and no allocation
//! once the buffer has grown. Under contention from other threads the lock spins briefly, then
//! yields the thread. Wakers are woken after the lock is released. For a lock-free hand-off
//! between tasks use [`mpsc`](crate::mpsc).
//!
//! # Examples
//!
//! ```
//! use weft_channel::Queue;
//!
//! futures::executor::block_on(async {
//!     let q = Queue::new(0);
//!     let worker = {
//!         let q = q.clone();
//!         async move {
//!             let mut total = 0;
//!             for _ in 0..3 {
//!                 total += q.get().await;
//!                 q.task_done();
//!             }
//!             total
//!         }
//!     };
//!     for i in 1..=3 {
//!         q.put(i).await;
//!     }
//!     let (total, ()) = futures::join!(worker, q.join());
//!     assert_eq!(total, 6);
//! });
//! ```

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::lock_free::BiasedLock;
use crate::waiters::{Key, WaitList, WakeList};
use weft_core::ready_budget;

mod sealed {
    pub trait Sealed {}
}

/// The order in which a [`BaseQueue`] hands out its items. Implemented by [`Fifo`],
/// [`Lifo`] and [`LowestFirst`]; sealed.
pub trait Discipline<T>: sealed::Sealed + Default {
    #[doc(hidden)]
    fn push(&mut self, item: T);
    #[doc(hidden)]
    fn pop(&mut self) -> Option<T>;
    #[doc(hidden)]
    fn len(&self) -> usize;
    #[doc(hidden)]
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// First in, first out (asyncio's `Queue`).
#[derive(Debug)]
pub struct Fifo<T>(VecDeque<T>);
/// Last in, first out (asyncio's `LifoQueue`).
#[derive(Debug)]
pub struct Lifo<T>(Vec<T>);
/// Smallest first, by `Ord` (asyncio's `PriorityQueue`); equal items in no set order.
#[derive(Debug)]
pub struct LowestFirst<T: Ord>(BinaryHeap<Reverse<T>>);

impl<T> Default for Fifo<T> {
    fn default() -> Self {
        Fifo(VecDeque::new())
    }
}
impl<T> Default for Lifo<T> {
    fn default() -> Self {
        Lifo(Vec::new())
    }
}
impl<T: Ord> Default for LowestFirst<T> {
    fn default() -> Self {
        LowestFirst(BinaryHeap::new())
    }
}
impl<T> sealed::Sealed for Fifo<T> {}
impl<T> sealed::Sealed for Lifo<T> {}
impl<T: Ord> sealed::Sealed for LowestFirst<T> {}

impl<T> Discipline<T> for Fifo<T> {
    fn push(&mut self, item: T) {
        self.0.push_back(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop_front()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T> Discipline<T> for Lifo<T> {
    fn push(&mut self, item: T) {
        self.0.push(item);
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop()
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

impl<T: Ord> Discipline<T> for LowestFirst<T> {
    fn push(&mut self, item: T) {
        self.0.push(Reverse(item));
    }
    fn pop(&mut self) -> Option<T> {
        self.0.pop().map(|Reverse(item)| item)
    }
    fn len(&self) -> usize {
        self.0.len()
    }
}

/// asyncio's `Queue`: first in, first out.
pub type Queue<T> = BaseQueue<T, Fifo<T>>;
/// asyncio's `PriorityQueue`: the smallest item (by `Ord`) first. Wrap items in
/// `std::cmp::Reverse` for largest first, or use `(priority, item)` tuples.
pub type PriorityQueue<T> = BaseQueue<T, LowestFirst<T>>;
/// asyncio's `LifoQueue`: last in, first out.
pub type LifoQueue<T> = BaseQueue<T, Lifo<T>>;

/// Error from `put_nowait`: the queue is full. The item is given back.
#[derive(PartialEq, Eq, Clone, Copy)]
pub struct QueueFull<T>(pub T);

impl<T> fmt::Debug for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("QueueFull").finish_non_exhaustive()
    }
}

impl<T> fmt::Display for QueueFull<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue full")
    }
}

impl<T> std::error::Error for QueueFull<T> {}

/// Error from `get_nowait`: the queue is empty.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
pub struct QueueEmpty;

impl fmt::Display for QueueEmpty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("queue empty")
    }
}

impl std::error::Error for QueueEmpty {}

/// A waiting `get`, `put` or `join`.
#[derive(Debug)]
struct Waiter {
    waker: Option<Waker>,
    /// Served: detached from the list, to be acted on by its future.
    notified: bool,
}

impl Waiter {
    fn new(waker: &Waker) -> Self {
        Waiter {
            waker: Some(waker.clone()),
            notified: false,
        }
    }
}

struct State<D> {
    items: D,
    unfinished: usize,
    getters: WaitList<Waiter>,
    putters: WaitList<Waiter>,
    joiners: WaitList<Waiter>,
}

struct Shared<D> {
    maxsize: usize,
    state: BiasedLock<State<D>>,
}

/// Serves the first waiter of `list` (detaches it, marks it notified) and collects its waker.
fn notify_one(list: &mut WaitList<Waiter>, wakers: &mut WakeList) {
    if let Some(w) = list.detach_front() {
        w.notified = true;
        wakers.push_opt(w.waker.take());
    }
}

/// A queue with the ordering `D`; use the aliases [`Queue`], [`PriorityQueue`],
/// [`LifoQueue`]. Clone it to share it.
pub struct BaseQueue<T, D> {
    shared: Arc<Shared<D>>,
    _items: PhantomData<fn(T) -> T>,
}

impl<T, D> Clone for BaseQueue<T, D> {
    fn clone(&self) -> Self {
        BaseQueue {
            shared: self.shared.clone(),
            _items: PhantomData,
        }
    }
}

impl<T, D: Discipline<T>> Default for BaseQueue<T, D> {
    fn default() -> Self {
        Self::new(0)
    }
}

impl<T, D: Discipline<T>> fmt::Debug for BaseQueue<T, D> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Queue")
            .field("maxsize", &self.shared.maxsize)
            .field("qsize", &self.qsize())
            .finish_non_exhaustive()
    }
}

impl<T, D: Discipline<T>> BaseQueue<T, D> {
    /// A queue holding at most `maxsize` items; `0` means unbounded (as asyncio).
    /// Works outside any runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::{LifoQueue, PriorityQueue, Queue};
    /// let q: Queue<u8> = Queue::new(10);
    /// let p: PriorityQueue<u8> = PriorityQueue::new(0);
    /// let l: LifoQueue<u8> = LifoQueue::new(0);
    /// assert_eq!((q.maxsize(), p.maxsize(), l.maxsize()), (10, 0, 0));
    /// ```
    pub fn new(maxsize: usize) -> Self {
        let state = State {
            items: D::default(),
            unfinished: 0,
            getters: WaitList::new(),
            putters: WaitList::new(),
            joiners: WaitList::new(),
        };
        BaseQueue {
            shared: Arc::new(Shared {
                maxsize,
                state: BiasedLock::new(state),
            }),
            _items: PhantomData,
        }
    }

    /// The bound given to [`new`](Self::new) (0 = unbounded).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(weft_channel::Queue::<u8>::new(3).maxsize(), 3);
    /// ```
    pub fn maxsize(&self) -> usize {
        self.shared.maxsize
    }

    /// Number of items in the queue.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = weft_channel::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// assert_eq!(q.qsize(), 1);
    /// ```
    pub fn qsize(&self) -> usize {
        self.shared.state.lock().items.len()
    }

    /// Whether the queue holds no item.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(weft_channel::Queue::<u8>::new(0).empty());
    /// ```
    pub fn empty(&self) -> bool {
        self.qsize() == 0
    }

    /// Whether the queue holds `maxsize` items (never true when unbounded).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = weft_channel::Queue::new(1);
    /// q.put_nowait(()).unwrap();
    /// assert!(q.full());
    /// ```
    pub fn full(&self) -> bool {
        let max = self.shared.maxsize;
        max > 0 && self.qsize() >= max
    }

    fn has_room(&self, state: &State<D>) -> bool {
        self.shared.maxsize == 0 || state.items.len() < self.shared.maxsize
    }

    /// Adds `item` with the lock held and serves one waiting getter.
    fn push_locked(state: &mut State<D>, item: T, wakers: &mut WakeList) {
        state.items.push(item);
        state.unfinished += 1;
        notify_one(&mut state.getters, wakers);
    }

    /// Takes an item with the lock held and serves one waiting putter.
    fn pop_locked(state: &mut State<D>, wakers: &mut WakeList) -> Option<T> {
        let item = state.items.pop()?;
        notify_one(&mut state.putters, wakers);
        Some(item)
    }

    /// Puts `item`, waiting while the queue is full.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe in that the item is either in the queue (the future completed) or
    /// dropped with the future; a cancelled put that had been offered room passes it on.
    ///
    /// # Examples
    ///
    /// ```
    /// futures::executor::block_on(async {
    ///     let q = weft_channel::Queue::new(1);
    ///     q.put("a").await;
    ///     assert_eq!(q.get().await, "a");
    /// });
    /// ```
    pub fn put(&self, item: T) -> Put<'_, T, D> {
        Put {
            queue: self,
            item: Some(item),
            key: None,
        }
    }

    /// Puts `item` if there is room now.
    ///
    /// # Errors
    ///
    /// [`QueueFull`] with the item if the queue is full.
    ///
    /// # Examples
    ///
    /// ```
    /// let q = weft_channel::Queue::new(1);
    /// q.put_nowait(1).unwrap();
    /// assert_eq!(q.put_nowait(2).unwrap_err().0, 2);
    /// ```
    pub fn put_nowait(&self, item: T) -> Result<(), QueueFull<T>> {
        let mut wakers = WakeList::new();
        {
            let mut state = self.shared.state.lock();
            if !self.has_room(&state) {
                return Err(QueueFull(item));
            }
            Self::push_locked(&mut state, item, &mut wakers);
        }
        wakers.wake_all();
        Ok(())
    }

    /// Removes and returns an item, waiting while the queue is empty.
    ///
    /// # Cancel safety
    ///
    /// Cancel safe: no item is removed unless the future completes; a cancelled get that had
    /// been woken for an item passes the wake-up on.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::PriorityQueue;
    /// futures::executor::block_on(async {
    ///     let q = PriorityQueue::new(0);
    ///     for x in [3, 1, 2] {
    ///         q.put(x).await;
    ///     }
    ///     assert_eq!(q.get().await, 1);
    /// });
    /// ```
    pub fn get(&self) -> Get<'_, T, D> {
        Get {
            queue: self,
            key: None,
        }
    }

    /// Removes and returns an item if there is one.
    ///
    /// # Errors
    ///
    /// [`QueueEmpty`] if there is none.
    ///
    /// # Examples
    ///
    /// ```
    /// use weft_channel::{LifoQueue, QueueEmpty};
    /// let q = LifoQueue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.put_nowait(2).unwrap();
    /// assert_eq!(q.get_nowait(), Ok(2));
    /// assert_eq!(q.get_nowait(), Ok(1));
    /// assert_eq!(q.get_nowait(), Err(QueueEmpty));
    /// ```
    pub fn get_nowait(&self) -> Result<T, QueueEmpty> {
        let mut wakers = WakeList::new();
        let item = Self::pop_locked(&mut self.shared.state.lock(), &mut wakers);
        wakers.wake_all();
        item.ok_or(QueueEmpty)
    }

    /// Marks one item taken by a `get` as processed. When every item put has been marked,
    /// [`join`](Self::join) returns.
    ///
    /// # Panics
    ///
    /// If called more times than items were put (asyncio raises `ValueError`).
    ///
    /// # Examples
    ///
    /// ```
    /// let q = weft_channel::Queue::new(0);
    /// q.put_nowait(1).unwrap();
    /// q.get_nowait().unwrap();
    /// q.task_done();
    /// futures::executor::block_on(q.join()); // nothing unfinished
    /// ```
    #[track_caller]
    pub fn task_done(&self) {
        let mut wakers = WakeList::new();
        {
            let mut state = self.shared.state.lock();
            if state.unfinished == 0 {
                drop(state);
                panic!("task_done() called too many times");
            }
            state.unfinished -= 1;
            if state.unfinished == 0 {
                while let Some(w) = state.joiners.detach_front() {
                    w.notified = true;
                    wakers.push_opt(w.waker.take());
                }
            }
        }
        wakers.wake_all();
    }

    /// Waits until every item put has been marked done with [`task_done`](Self::task_done).
    ///
    /// # Cancel safety
    ///
    /// Cancel safe.
    ///
    /// # Examples
    ///
    /// See the [module docs](crate::queue).
    pub fn join(&self) -> Join<'_, T, D> {
        Join {
            queue: self,
            key: None,
        }
    }
}

/// Future of [`BaseQueue::put`].
#[must_use = "futures do nothing unless awaited"]
pub struct Put<'a, T, D> {
    queue: &'a BaseQueue<T, D>,
    item: Option<T>,
    key: Option<Key>,
}

// The item is only moved, never pinned.
impl<T, D> Unpin for Put<'_, T, D> {}

impl<T, D: Discipline<T>> Future for Put<'_, T, D> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        ready_budget!(cx);
        let queue = this.queue;
        let mut wakers = WakeList::new();
        let res = {
            let mut state = queue.shared.state.lock();
            let mut front = false;
            if let Some(key) = this.key {
                let w = state.putters.get_mut(key).expect("putter vanished");
                if !w.notified {
                    w.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                state.putters.remove(key);
                this.key = None;
                front = true; // served but robbed: keep our turn
            }
            if queue.has_room(&state) {
                let item = this.item.take().expect("`Put` polled after completion");
                BaseQueue::push_locked(&mut state, item, &mut wakers);
                Poll::Ready(())
            } else {
                let w = Waiter::new(cx.waker());
                this.key = Some(if front {
                    state.putters.push_front(w)
                } else {
                    state.putters.push_back(w)
                });
                Poll::Pending
            }
        };
        wakers.wake_all();
        res
    }
}

impl<T, D> Drop for Put<'_, T, D> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let shared = &self.queue.shared;
        let mut wakers = WakeList::new();
        {
            let mut state = shared.state.lock();
            let served = state.putters.remove(key).is_some_and(|w| w.notified);
            if served {
                notify_one(&mut state.putters, &mut wakers); // pass the room on
            }
        }
        wakers.wake_all();
    }
}

/// Future of [`BaseQueue::get`].
#[must_use = "futures do nothing unless awaited"]
pub struct Get<'a, T, D> {
    queue: &'a BaseQueue<T, D>,
    key: Option<Key>,
}

impl<T, D: Discipline<T>> Future for Get<'_, T, D> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let this = self.get_mut();
        ready_budget!(cx);
        let mut wakers = WakeList::new();
        let res = {
            let mut state = this.queue.shared.state.lock();
            let mut front = false;
            if let Some(key) = this.key {
                let w = state.getters.get_mut(key).expect("getter vanished");
                if !w.notified {
                    w.waker = Some(cx.waker().clone());
                    return Poll::Pending;
                }
                state.getters.remove(key);
                this.key = None;
                front = true;
            }
            match BaseQueue::pop_locked(&mut state, &mut wakers) {
                Some(item) => Poll::Ready(item),
                None => {
                    let w = Waiter::new(cx.waker());
                    this.key = Some(if front {
                        state.getters.push_front(w)
                    } else {
                        state.getters.push_back(w)
                    });
                    Poll::Pending
                }
            }
        };
        wakers.wake_all();
        res
    }
}

impl<T, D> Drop for Get<'_, T, D> {
    fn drop(&mut self) {
        let Some(key) = self.key else { return };
        let shared = &self.queue.shared;
        let mut wakers = WakeList::new();
        {
            let mut state = shared.state.lock();
            let served = state.getters.remove(key).is_some_and(|w| w.notified);
            if served {
                notify_one(&mut state.getters, &mut wakers); // pass the item on
            }
        }
        wakers.wake_all();
    }
}

/// Future of [`BaseQueue::join`].
#[must_use = "futures do nothing unless awaited"]
pub struct Join<'a, T, D> {
    queue: &'a BaseQueue<T, D>,
    key: Option<Key>,
}

impl<T, D: Discipline<T>> Future for Join<'_, T, D> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        let mut state = this.queue.shared.state.lock();
        if let Some(key) = this.key {
            let w = state.joiners.get_mut(key).expect("joiner vanished");
            if w.notified {
                state.joiners.remove(key);
                this.key = None;
                return Poll::Ready(());
            }
            w.waker = Some(cx.waker().clone());
            return Poll::Pending;
        }
        if state.unfinished == 0 {
            return Poll::Ready(());
        }
        this.key = Some(state.joiners.push_back(Waiter::new(cx.waker())));
        Poll::Pending
    }
}

impl<T, D> Drop for Join<'_, T, D> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.queue.shared.state.lock().joiners.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures::task::noop_waker_ref;

    fn poll<F: Future + Unpin>(fut: &mut F) -> Poll<F::Output> {
        Pin::new(fut).poll(&mut Context::from_waker(noop_waker_ref()))
    }

    #[test]
    fn robbed_getter_keeps_its_turn() {
        let q = Queue::new(0);
        let mut a = q.get();
        let mut b = q.get();
        assert!(poll(&mut a).is_pending());
        assert!(poll(&mut b).is_pending());
        q.put_nowait(1).unwrap(); // serves `a`
        assert_eq!(q.get_nowait(), Ok(1)); // ... but someone else takes the item
        assert!(poll(&mut a).is_pending()); // `a` goes back to the front
        q.put_nowait(2).unwrap();
        assert!(poll(&mut b).is_pending());
        assert_eq!(poll(&mut a), Poll::Ready(2));
    }

    #[test]
    fn cancelled_served_getter_passes_on() {
        let q = Queue::new(0);
        let mut a = q.get();
        let mut b = q.get();
        assert!(poll(&mut a).is_pending());
        assert!(poll(&mut b).is_pending());
        q.put_nowait(7).unwrap();
        drop(a);
        assert_eq!(poll(&mut b), Poll::Ready(7));
    }

    #[test]
    fn bounded_put_waits_and_passes_on() {
        let q = Queue::new(1);
        q.put_nowait(0).unwrap();
        let mut p1 = q.put(1);
        let mut p2 = q.put(2);
        assert!(poll(&mut p1).is_pending());
        assert!(poll(&mut p2).is_pending());
        assert_eq!(q.get_nowait(), Ok(0)); // serves p1
        drop(p1); // passes the room to p2
        assert_eq!(poll(&mut p2), Poll::Ready(()));
        assert_eq!(q.get_nowait(), Ok(2));
    }

    #[test]
    #[should_panic(expected = "too many times")]
    fn task_done_too_often() {
        Queue::<u8>::new(0).task_done();
    }
}
