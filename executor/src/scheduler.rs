//! The scheduler: one runtime's state (run queue, owned tasks, remote queue, driver), how a
//! thread finds the scheduler running on it, and what tasks ask of it ([`Schedule`]). The
//! loop that drives it is `runtime.rs`.
//!
//! # Ground rules
//!
//! * A `Scheduler` is reached through the `Runtime` that owns it (an `Rc`), or through this
//!   thread's `CURRENT` pointer, which [`Scheduler::enter`] sets only while `block_on` or the
//!   shutdown runs on the owner thread, inside the runtime's entered context.
//! * Its `RefCell`s are borrowed for a few instructions at a time and never across a call
//!   that can run user code (a poll, a wake, a hook, the drop of a future, waker, token or
//!   output).
//! * It holds tasks only as tokens of the harness (`task/harness.rs`): no pointer, no flag.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::Location;
use std::ptr::{self, NonNull};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::Waker;
use std::time::Instant;

use crate::blocking::{self, BlockingPool};
use crate::config::Config;
use crate::observe::Observer;
use crate::owned::Owned;
use crate::park::Park;
use crate::queue::RunQueue;
use crate::remote::{self, Inbox};
use crate::task::cache::BlockCache;
use crate::task::harness::{Completed, Notified, Owner, Received, RemoteTask, Schedule};
use crate::task::{new_task, JoinHandle, Priority, TaskId};

thread_local! {
    /// The scheduler running on this thread, or null (see the ground rules).
    static CURRENT: Cell<*const Scheduler> = const { Cell::new(ptr::null()) };
}

/// Task ids are handed out to runtimes in blocks, so a spawn does no atomic operation. A
/// process-wide counter of ids, not state: ids are unique, runtimes independent.
static NEXT_TASK_ID_BLOCK: AtomicU64 = AtomicU64::new(1);
const TASK_ID_BLOCK: u64 = 1024;

/// The task being polled: its id (0: none, task ids start at 1) and its owned-list slot.
#[derive(Clone, Copy)]
pub(crate) struct CurrentTask {
    id: u64,
    slot: u32,
}

impl CurrentTask {
    pub(crate) const NONE: CurrentTask = CurrentTask { id: 0, slot: 0 };

    pub(crate) fn new(id: TaskId, slot: Option<u32>) -> CurrentTask {
        CurrentTask {
            id: id.0,
            slot: slot.unwrap_or(u32::MAX),
        }
    }

    pub(crate) fn id(self) -> Option<TaskId> {
        (self.id != 0).then_some(TaskId(self.id))
    }

    pub(crate) fn slot(self) -> Option<u32> {
        (self.id != 0 && self.slot != u32::MAX).then_some(self.slot)
    }
}

pub(crate) struct Scheduler {
    /// The runtime's identity and context.
    pub(crate) owner: Owner,
    pub(crate) queue: RefCell<RunQueue>,
    pub(crate) owned: RefCell<Owned>,
    pub(crate) park: RefCell<Box<dyn Park>>,
    /// What other threads reach: the remote queue, the main future's wake flag, the unparker.
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) main_waker: Waker,
    pub(crate) config: Config,
    pub(crate) observer: Observer,
    pub(crate) current: Cell<CurrentTask>,
    /// Next task id, and the end of the block it comes from.
    ids: Cell<(u64, u64)>,
    /// Started on first use.
    blocking: RefCell<Option<Arc<BlockingPool>>>,
    /// Set when a task panicked under `UnhandledPanic::ShutdownRuntime`.
    pub(crate) panicked: Cell<Option<TaskId>>,
    /// When the driver was last polled (see `Scheduler::on_budget_spent`).
    pub(crate) last_park: Cell<Instant>,
    /// Blocks of tasks that ended here, for the next spawns (see `task/cache.rs`).
    blocks: RefCell<BlockCache>,
}

impl Scheduler {
    pub(crate) fn new(owner: Owner, park: Box<dyn Park>, config: Config) -> Scheduler {
        let inbox = Inbox::new(owner.id(), park.unparker());
        remote::register(&inbox);
        Scheduler {
            main_waker: Inbox::main_waker(&inbox),
            owner,
            queue: RefCell::new(RunQueue::new(config.shuffle_seed)),
            owned: RefCell::new(Owned::default()),
            park: RefCell::new(park),
            inbox,
            observer: Observer::new(&config),
            config,
            current: Cell::new(CurrentTask::NONE),
            ids: Cell::new((0, 0)),
            blocking: RefCell::new(None),
            panicked: Cell::new(None),
            last_park: Cell::new(Instant::now()),
            blocks: RefCell::new(BlockCache::new()),
        }
    }

    fn next_task_id(&self) -> TaskId {
        let (next, end) = self.ids.get();
        if next < end {
            self.ids.set((next + 1, end));
            return TaskId(next);
        }
        let start = NEXT_TASK_ID_BLOCK.fetch_add(TASK_ID_BLOCK, Ordering::Relaxed);
        self.ids.set((start + 1, start + TASK_ID_BLOCK));
        TaskId(start)
    }

    pub(crate) fn spawn<F: Future + 'static>(
        &self,
        fut: F,
        name: Option<Arc<str>>,
        priority: Priority,
        location: &'static Location<'static>,
    ) -> JoinHandle<F::Output> {
        let (owned, notified, handle) = new_task::<F, Scheduler>(
            fut,
            &self.owner,
            self.next_task_id(),
            priority,
            &mut self.blocks.borrow_mut(),
        );
        self.owned.borrow_mut().insert(owned, name, location);
        if self.observer.active() {
            self.observer.on_spawn(&notified, &self.owned);
        }
        notified.set_scheduled();
        self.queue.borrow_mut().push(notified);
        handle
    }

    /// A wake, local or remote: counted if observing; queued if it made a queue entry.
    #[inline]
    fn wake(&self, task: Option<Notified>, remote: bool) {
        if self.observer.active() {
            self.observer.on_wake(task.as_ref(), remote, &self.owned);
        }
        if let Some(task) = task {
            self.queue.borrow_mut().push(task);
        }
    }

    /// Accounts for a task's end: it leaves the owned list, its awaiter is woken, and the
    /// runtime lets go of it (which may drop its output: user code, run with no borrow held).
    pub(crate) fn finish(&self, done: Completed) {
        let slot = self.owned.borrow_mut().remove(done.slot());
        if self.observer.active() {
            self.observer.on_terminate(&slot);
        }
        let waker = slot.task.finish(done);
        if let Some(w) = waker {
            w.wake();
        }
    }

    /// Moves the wakes that arrived from elsewhere onto the local queue, and spawns the tasks
    /// that other threads sent. One atomic load when nothing came.
    #[inline]
    pub(crate) fn drain_remote(&self) {
        if self.inbox.pending() {
            self.drain_remote_slow();
        }
    }

    #[cold]
    #[inline(never)]
    fn drain_remote_slow(&self) {
        let (wakes, spawns) = self.inbox.take();
        for entry in wakes {
            match entry.receive(&self.owner) {
                Received::Woken(task) => self.wake(task, true),
                Received::Completed(done) => self.finish(done),
            }
        }
        for s in spawns {
            drop(self.spawn(s.fut, None, Priority::Normal, s.location));
        }
    }

    pub(crate) fn spawn_blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
        location: &'static Location<'static>,
    ) -> JoinHandle<T> {
        let pool = self
            .blocking
            .borrow_mut()
            .get_or_insert_with(|| {
                BlockingPool::new(
                    self.config.max_blocking_threads,
                    self.config.blocking_keep_alive,
                )
            })
            .clone();
        let fut = blocking::run(&pool, f);
        self.spawn(fut, None, Priority::Normal, location)
    }

    /// Live threads of the blocking pool.
    pub(crate) fn blocking_threads(&self) -> usize {
        self.blocking.borrow().as_ref().map_or(0, |p| p.threads())
    }

    /// Lets the blocking pool's threads exit once their queue is empty.
    pub(crate) fn shutdown_blocking(&self) {
        if let Some(pool) = self.blocking.borrow_mut().take() {
            pool.shutdown();
        }
    }
}

// SAFETY: `with_local` calls `f` only with the scheduler that `CURRENT` names, and only if
// its id is `owner`. `CURRENT` is set by `Scheduler::enter` on the thread that owns that
// scheduler (a `Scheduler` is `!Send`, and `enter` borrows it on that thread), and restored
// before `enter` returns, so the thread is the owner's.
unsafe impl Schedule for Scheduler {
    #[inline]
    fn with_local<R>(owner: u64, f: impl FnOnce(&Scheduler) -> R) -> Option<R> {
        with_current(|s| (s.owner.id() == owner).then(|| f(s))).flatten()
    }

    #[inline]
    fn wake_local(&self, task: Option<Notified>) {
        self.wake(task, false);
    }

    fn wake_remote(task: RemoteTask) {
        remote::wake_remote(task);
    }

    fn release(&self, task: Completed) {
        self.finish(task);
    }

    unsafe fn free_block(&self, block: NonNull<u8>, layout: std::alloc::Layout) {
        // SAFETY: forwarded. The cache is borrowed for a few instructions, never across user
        // code, and freeing a block runs none.
        unsafe { self.blocks.borrow_mut().free(block, layout) }
    }

    fn unobserved_panic(&self, task: TaskId) {
        self.observer.unobserved_panic(task);
    }
}

impl Scheduler {
    /// Makes this scheduler current on this thread while `f` runs, then restores the previous
    /// one (also if `f` panics). Entries nest like stack frames.
    pub(crate) fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        struct Restore(*const Scheduler);
        impl Drop for Restore {
            fn drop(&mut self) {
                CURRENT.with(|c| c.set(self.0));
            }
        }
        let _restore = Restore(CURRENT.with(|c| c.replace(self)));
        f()
    }
}

/// Runs `f` with the scheduler running on this thread; `None` outside one.
#[inline]
pub(crate) fn with_current<R>(f: impl FnOnce(&Scheduler) -> R) -> Option<R> {
    let current = CURRENT.with(Cell::get);
    // SAFETY: `CURRENT` is non-null only inside `Scheduler::enter`, which borrows the
    // scheduler for the whole call; `f` runs deeper on the same stack and only borrows it for
    // its own call.
    (!current.is_null()).then(|| f(unsafe { &*current }))
}

/// [`with_current`], or a panic that says no weft runtime is running here.
#[track_caller]
pub(crate) fn expect_current<R>(what: &str, f: impl FnOnce(&Scheduler) -> R) -> R {
    match with_current(f) {
        Some(r) => r,
        None => panic!(
            "{what} called outside a weft runtime: no weft runtime is running on this thread \
             (call it from inside `weft::run(..)` or `Runtime::block_on(..)`)"
        ),
    }
}
